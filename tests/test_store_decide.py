"""The store's pure decisions: how a stored source follows its config, what in a batch is new."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aggregator.models import Article, SourceConfig
from aggregator.store_decide import (
    DISABLED_IN_CONFIG,
    REMOVED,
    config_changes,
    mark_removed,
    new_source,
    split_batch,
    unique,
)

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def stored_row(config: SourceConfig, **fields: Any) -> dict[str, Any]:
    row = {**new_source(config, NOW), "id": 1}
    row.update(fields)
    return row


def article(id: str, content_hash: str = "h1", **fields: Any) -> Article:
    values: dict[str, Any] = {
        "source": "a",
        "id": id,
        "url": None,
        "title": id,
        "summary": "",
        "content": "",
        "text": "",
        "published": NOW,
        "first_seen": NOW,
        "content_hash": content_hash,
    }
    values.update(fields)
    return Article(**values)


def test_a_source_as_configured_needs_no_change() -> None:
    config = SourceConfig("a", "https://a.example/feed", tags=("x",), headers=(("A", "b"),))
    assert config_changes(stored_row(config), config) == {}


def test_changed_config_fields_are_written() -> None:
    before = SourceConfig("a", "https://a.example/feed")
    after = SourceConfig("a", "https://a.example/feed", tags=("x",), interval=60, language="zh")
    assert config_changes(stored_row(before), after) == {
        "tags": ["x"],
        "interval": 60,
        "language": "zh",
    }


def test_a_new_url_resets_the_fetch_state_and_lifts_a_fetch_disabling() -> None:
    before = SourceConfig("a", "https://a.example/feed")
    row = stored_row(before, enabled=False, disabled_reason="gone", etag="e", error_streak=2)
    changes = config_changes(row, SourceConfig("a", "https://a.example/v2"))
    assert changes["url"] == changes["config_url"] == "https://a.example/v2"
    assert (changes["etag"], changes["error_streak"], changes["next_fetch_at"]) == (None, 0, None)
    assert (changes["enabled"], changes["disabled_reason"]) == (True, None)


def test_a_fetch_disabling_stays_while_the_url_does() -> None:
    config = SourceConfig("a", "https://a.example/feed")
    assert config_changes(stored_row(config, enabled=False, disabled_reason="gone"), config) == {}


def test_config_disabling_comes_and_goes() -> None:
    on = SourceConfig("a", "https://a.example/feed")
    off = SourceConfig("a", "https://a.example/feed", enabled=False)
    assert config_changes(stored_row(on), off) == {
        "enabled": False,
        "disabled_reason": DISABLED_IN_CONFIG,
    }
    removed = stored_row(on, enabled=False, disabled_reason=REMOVED)
    assert config_changes(removed, on) == {"enabled": True, "disabled_reason": None}


def test_removal_keeps_a_fetch_reason() -> None:
    config = SourceConfig("a", "https://a.example/feed")
    assert mark_removed(stored_row(config)) == {"enabled": False, "disabled_reason": REMOVED}
    assert mark_removed(stored_row(config, enabled=False, disabled_reason="gone")) == {}
    assert mark_removed(stored_row(config, enabled=False, disabled_reason=REMOVED)) == {}


def test_split_batch() -> None:
    later = NOW + timedelta(days=1)
    stored = {
        "same": {
            "pk": 1,
            "content_hash": "h1",
            "published": NOW,
            "first_seen": NOW,
            "date_is_first_seen": False,
        },
        "changed": {
            "pk": 2,
            "content_hash": "h1",
            "published": NOW,
            "first_seen": NOW,
            "date_is_first_seen": True,
        },
    }
    batch = [
        article("same", first_seen=later),
        article("changed", "h2", published=later, first_seen=later, date_is_first_seen=True),
        article("new", published=later, first_seen=later),
    ]
    new, changed = split_batch(7, batch, stored)
    assert [(r["source_id"], r["article_id"], r["first_seen"]) for r in new] == [(7, "new", later)]
    [row] = changed
    assert (row["_pk"], row["content_hash"], row["first_seen"], row["published"]) == (
        2,
        "h2",
        NOW,
        NOW,
    )


def test_unique_keeps_the_first_of_repeated_ids() -> None:
    found = unique([article("1"), article("2"), article("1", "other")])
    assert [(a.id, a.content_hash) for a in found] == [("1", "h1"), ("2", "h1")]
