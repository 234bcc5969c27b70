"""Our JSON Feed 1.0/1.1 reader, through parse_feed as callers use it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from aggregator.errors import NotAFeedError, ParseError
from aggregator.models import Enclosure
from aggregator.parse import parse_feed

FEEDS = Path(__file__).parent / "data" / "feeds"
URL = "https://feeds.example.com/feed.json"


def feed_of(doc: Any, content_type: str | None = "application/feed+json") -> Any:
    return parse_feed(json.dumps(doc).encode(), url=URL, content_type=content_type)


def test_version_1_0() -> None:
    feed = parse_feed((FEEDS / "jsonfeed10.json").read_bytes(), url=URL)
    assert (feed.format, feed.title, feed.link) == (
        "json10",
        "Supply Chain Notes",
        "https://supplychain.example.com/",
    )
    first, second = feed.entries
    assert first.id == "2022012101"  # a number, coerced to a string
    assert first.title == "Port delays ease slightly"
    assert first.summary == "Waiting times fell for the first time since October."
    assert first.tags == ("logistics", "ports")
    assert first.authors == ("Lin Wei",)  # the feed's 1.0 "author"
    assert first.published == datetime(2022, 1, 21, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    assert second.link == "https://news.example.net/freight-rates"  # external_url
    assert second.content == (
        "Spot rates on the Asia–Europe route are down 8% &lt;month on month&gt;"
        " &amp; still falling."
    )
    assert second.published == datetime(2022, 1, 18, 12, 0)  # no zone: naive
    assert second.updated == datetime(2022, 1, 19, 8, 30, tzinfo=UTC)
    assert second.enclosures == (
        Enclosure(
            url="https://supplychain.example.com/files/rates.csv",
            type="text/csv",
            length=20480,
            title="Rates data",
        ),
    )


def test_version_1_1_authors_and_language() -> None:
    feed = parse_feed((FEEDS / "jsonfeed11.json").read_bytes(), url=URL)
    assert (feed.format, feed.language) == ("json11", "zh-CN")
    meb, hydrogen = feed.entries
    assert meb.authors == ("王芳", "李明")
    assert meb.language == "zh-CN"
    assert hydrogen.authors == ("编辑部",)
    assert hydrogen.language == "en"
    assert hydrogen.content == "The hub now hosts 40 firms.\nMore are expected this year."


def test_invalid_json_is_a_parse_error_with_a_reason() -> None:
    with pytest.raises(ParseError, match=r"invalid JSON: .* at line 1 column \d+") as info:
        parse_feed(b'{"version": "https://jsonfeed.org/version/1.1", "items": [', url=URL)
    assert not isinstance(info.value, NotAFeedError)


@pytest.mark.parametrize("doc", [{"status": "ok", "data": []}, [1, 2, 3]])
def test_json_that_is_not_a_feed(doc: Any) -> None:
    with pytest.raises(NotAFeedError, match=r"not a feed \(got application/json\)"):
        feed_of(doc, content_type="application/json")


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ({"version": "https://jsonfeed.org/version/1.1", "title": "t"}, "no 'items'"),
        ({"version": "https://jsonfeed.org/version/1", "items": {}}, "no 'items'"),
        ({"title": "t", "items": []}, "no 'version'"),
        ({"version": "1.0", "items": []}, "unknown 'version'"),
    ],
)
def test_broken_json_feeds(doc: dict[str, Any], reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as info:
        feed_of(doc)
    assert not isinstance(info.value, NotAFeedError)


def test_items_that_are_not_objects_are_skipped_and_reported() -> None:
    feed = feed_of(
        {"version": "https://jsonfeed.org/version/1.1", "items": [{"id": 1.5}, "x", None]}
    )
    assert [e.id for e in feed.entries] == ["1.5"]
    assert feed.problem == "skipped 2 items that are not JSON objects"


def test_empty_json_feed_is_valid() -> None:
    feed = feed_of({"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": []})
    assert feed.entries == () and feed.problem is None


def test_item_fields_of_the_wrong_type_are_ignored() -> None:
    feed = feed_of(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "items": [
                {
                    "id": True,
                    "title": 7,
                    "tags": "not-a-list",
                    "authors": [{"url": "mailto:desk@example.com"}, "x"],
                    "attachments": [
                        {"title": "no url"},
                        {"url": "https://e.example/a", "size_in_bytes": -1},
                    ],
                    "date_published": "not a date",
                }
            ],
        }
    )
    (entry,) = feed.entries
    assert (entry.id, entry.title, entry.tags, entry.published) == (None, None, (), None)
    assert entry.authors == ("desk@example.com",)
    assert entry.enclosures == (Enclosure(url="https://e.example/a"),)


def test_json_is_recognised_without_a_content_type() -> None:
    body = b'\n  {"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "a"}]}'
    assert parse_feed(body, url=URL).format == "json11"
