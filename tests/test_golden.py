"""Golden files: each sample feed in tests/data/feeds/ beside the Articles it normalizes to.

For every document `<case>.<ext>` there (a file name with one dot; the other golden files,
such as `<case>.parsed.json`, have two), `<case>.expected.json` holds the Articles that
`parse_feed` then `normalize_feed` make of it, with a fixed `now` and a source derived from
the file name:

    url       https://example.test/feeds/<file name>
    timezone  Asia/Shanghai when the name contains "zh" or "cn", else none
    name      the case name

A document the parser refuses is recorded as {"parse_error": "<exception class>"}.

After a deliberate change, regenerate them and review the diff by eye:

    AGGREGATOR_REGEN_GOLDEN=1 .venv/bin/pytest tests/test_golden.py
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aggregator.errors import ParseError
from aggregator.models import Article
from aggregator.normalize import SourceContext, normalize_feed
from aggregator.parse import parse_feed

FEEDS = Path(__file__).parent / "data" / "feeds"
EXPECTED_SUFFIX = ".expected.json"
REGEN_ENV = "AGGREGATOR_REGEN_GOLDEN"
NOW = datetime(2030, 1, 1, tzinfo=UTC)  # after every sample's dates, so none is clamped


def documents() -> list[Path]:
    """The sample documents, in name order."""
    if not FEEDS.is_dir():
        return []
    return sorted(p for p in FEEDS.iterdir() if p.is_file() and p.name.count(".") == 1)


def case_name(document: Path) -> str:
    """`rss20-basic.xml` → `rss20-basic`."""
    return document.name.partition(".")[0]


def source_for(document: Path) -> SourceContext:
    """The source a sample is read as, derived from its file name."""
    name = document.name.lower()
    zone = "Asia/Shanghai" if "zh" in name or "cn" in name else None
    return SourceContext(
        name=case_name(document), url=f"https://example.test/feeds/{document.name}", timezone=zone
    )


def render(document: Path) -> str:
    """The golden text for one document: its Articles as stable, readable JSON."""
    source = source_for(document)
    try:
        feed = parse_feed(document.read_bytes(), url=source.url)
    except ParseError as exc:
        data: Any = {"parse_error": type(exc).__name__}
    else:
        data = [_article_json(a) for a in normalize_feed(feed, source=source, now=NOW)]
    return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=2) + "\n"


def _article_json(article: Article) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    result: dict[str, Any] = plain(dataclasses.asdict(article))
    return result


def test_every_document_has_its_own_case_name() -> None:
    names = [case_name(d) for d in documents()]
    assert len(names) == len(set(names))


def test_no_golden_file_without_its_document() -> None:
    cases = {case_name(d) for d in documents()}
    orphans = [
        p.name
        for p in (FEEDS.glob(f"*{EXPECTED_SUFFIX}") if FEEDS.is_dir() else [])
        if p.name.removesuffix(EXPECTED_SUFFIX) not in cases
    ]
    assert not orphans


@pytest.mark.parametrize("document", documents(), ids=lambda d: d.name)
def test_golden(document: Path) -> None:
    expected_path = FEEDS / f"{case_name(document)}{EXPECTED_SUFFIX}"
    actual = render(document)
    if os.environ.get(REGEN_ENV) == "1":
        expected_path.write_text(actual, encoding="utf-8")
        pytest.skip(f"regenerated {expected_path.name}")
    if not expected_path.exists():
        pytest.fail(f"{expected_path.name} is missing: run with {REGEN_ENV}=1 and review it")
    assert actual == expected_path.read_text(encoding="utf-8")
