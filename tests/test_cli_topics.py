"""Topic and publishing commands, and the daemon, end to end against a local feed server."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import feedparser

from tests.server import FeedServer
from tests.test_cli import RSS, aggregator, write_config


def fetched_config(feed_server: FeedServer, tmp_path: Path) -> Path:
    feed_server.add("/rss.xml", RSS)
    config = write_config(tmp_path, [("factories", feed_server.url("/rss.xml"))])
    assert aggregator("--config", str(config), "fetch", cwd=tmp_path).returncode == 0
    return config


def test_explain_preview_and_reclassify(feed_server: FeedServer, tmp_path: Path) -> None:
    config = fetched_config(feed_server, tmp_path)
    explained = aggregator("--config", str(config), "explain", "factories/f-2", cwd=tmp_path)
    assert explained.returncode == 0, explained.stderr
    assert "国务院印发制造业高质量发展意见" in explained.stdout
    assert "manufacturing (Manufacturing): IN" in explained.stdout
    assert "policy (Policy): IN" in explained.stdout

    preview = aggregator(
        "--config", str(config), "preview", "manufacturing", "--days", "3650", cwd=tmp_path
    )
    assert "2 articles would be in manufacturing" in preview.stdout

    again = aggregator("--config", str(config), "reclassify", cwd=tmp_path)
    assert again.returncode == 0 and "2 articles reclassified" in again.stdout

    missing = aggregator("--config", str(config), "explain", "999", cwd=tmp_path)
    assert missing.returncode == 2 and "no such article: 999" in missing.stderr


def test_publish_writes_feeds_that_parse(feed_server: FeedServer, tmp_path: Path) -> None:
    config = fetched_config(feed_server, tmp_path)
    out = tmp_path / "public"
    result = aggregator("--config", str(config), "publish", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    parsed = feedparser.parse((out / "feeds" / "manufacturing.xml").read_bytes())
    assert not parsed.bozo
    assert {e.title for e in parsed.entries} == {
        "New battery factory opens",
        "国务院印发制造业高质量发展意见",
    }
    assert (out / "index.html").exists() and (out / "opml.xml").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_daemon_fetches_serves_and_stops_cleanly(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.add("/rss.xml", RSS)
    config = write_config(tmp_path, [("factories", feed_server.url("/rss.xml"))])
    port = free_port()
    with config.open("a", encoding="utf-8") as f:
        f.write(f"server:\n  port: {port}\n  base_url: http://127.0.0.1:{port}\n")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "--config", str(config), "run"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        items: list[dict[str, object]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(items) < 2:
            time.sleep(0.3)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/feeds/all.json") as r:
                    items = json.loads(r.read())["items"]
            except OSError:
                continue
        assert len(items) == 2
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, stderr
    assert "source=factories status=ok new=2" in stderr
    assert "daemon stopped" in stderr
