"""The per-source log line: key=value text, or a JSON object carrying every UpdateResult field."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from aggregator.logs import setup_logging
from aggregator.models import UpdateResult
from aggregator.outcome import log_result
from tests.server import FeedServer

EVERY_FIELD = UpdateResult(
    source="gov",
    status="ok",
    new=3,
    updated=1,
    ms=240,
    reason="entries salvaged: bad <b>",
    moved_to="https://gov.example.cn/new.xml",
    bytes=5120,
    entries=12,
    lag_ms=1500,
)
ENVELOPE = {"ts", "level", "logger", "msg"}


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root and `aggregator` loggers back as they were after the test."""
    root = logging.getLogger()
    ours = logging.getLogger("aggregator")
    handlers, level, our_level = root.handlers[:], root.level, ours.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    ours.setLevel(our_level)


def test_every_field_is_in_the_json_line(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("info", "json")
    log_result(EVERY_FIELD)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert set(data) == ENVELOPE | {f.name for f in fields(UpdateResult)}
    for field in fields(UpdateResult):
        assert data[field.name] == getattr(EVERY_FIELD, field.name), field.name
    assert (data["level"], data["logger"]) == ("info", "aggregator.update")
    assert data["msg"].startswith("source=gov status=ok new=3 updated=1 ms=240")


def test_unset_fields_are_left_out_and_failures_warn(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("info", "json")
    log_result(UpdateResult("gov", "error", ms=12, reason="HTTP 500"))
    data = json.loads(capsys.readouterr().err)
    assert set(data) == ENVELOPE | {"source", "status", "new", "updated", "ms", "reason", "bytes"}
    assert (data["level"], data["status"], data["reason"]) == ("warning", "error", "HTTP 500")


def test_text_format_is_one_key_value_line(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("info", "text")
    log_result(EVERY_FIELD)
    line = capsys.readouterr().err
    assert line.count("\n") == 1
    assert line.split(" ", 2)[1:] == [
        "INFO",
        "source=gov status=ok new=3 updated=1 ms=240 moved_to=https://gov.example.cn/new.xml "
        'reason="entries salvaged: bad <b>"\n',
    ]


RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<link>https://example.test/</link><description>d</description>
<item><guid>one</guid><title>One</title><link>https://example.test/1</link></item>
</channel></rss>"""


def test_fetch_logs_json_lines_one_per_source(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.add("/rss.xml", RSS)
    config = tmp_path / "aggregator.yaml"
    config.write_text(
        f"database:\n  url: sqlite:///{tmp_path / 'agg.db'}\nsources:\n"
        f"  - name: good\n    url: {feed_server.url('/rss.xml')}\n"
        f"  - name: bad\n    url: {feed_server.url('/missing.xml')}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "AGGREGATOR_CONFIG"}
    command = ["-m", "aggregator", "--log-format", "json", "--config", str(config), "fetch"]
    result = subprocess.run(
        [sys.executable, *command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    by_source = {line["source"]: line for line in lines if "source" in line}
    assert set(by_source) == {"good", "bad"}
    names = {f.name for f in fields(UpdateResult)}
    good, bad = by_source["good"], by_source["bad"]
    assert set(good) - ENVELOPE <= names
    assert (good["status"], good["new"], good["entries"]) == ("ok", 1, 1)
    assert good["bytes"] == len(RSS.encode())
    assert isinstance(good["ms"], int)
    assert (bad["status"], bad["level"]) == ("error", "warning")
    assert "404" in bad["reason"]
