"""The store's decisions, as pure functions of plain values (no queries here).

    sync:   config + stored source row -> the columns to write (new_source, config_changes,
            mark_removed)
    update: batch + stored (id, hash, dates) -> new rows, changed rows; unchanged ones dropped
            (split_batch)

`store` reads the rows, calls these, and writes what they return.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from aggregator.models import Article, SourceConfig
from aggregator.store_rows import CONFIG_FIELDS, article_values, config_values

REMOVED = "removed from config"
DISABLED_IN_CONFIG = "disabled in config"
CONFIG_REASONS = (REMOVED, DISABLED_IN_CONFIG)
"""Reasons the config gave for disabling a source; any other reason came from a fetch."""


def new_source(config: SourceConfig, now: datetime) -> dict[str, Any]:
    """The `sources` row for a newly configured source: due at once."""
    return {
        "name": config.name,
        "config_url": config.url,
        "url": config.url,
        "enabled": config.enabled,
        "disabled_reason": None if config.enabled else DISABLED_IN_CONFIG,
        **config_values(config),
        "etag": None,
        "last_modified": None,
        "last_fetched_at": None,
        "next_fetch_at": None,
        "last_status": None,
        "last_error": None,
        "error_streak": 0,
        "empty_streak": 0,
        "hints": None,
        "title": None,
        "link": None,
        "created_at": now,
    }


def config_changes(row: Mapping[Any, Any], config: SourceConfig) -> dict[str, Any]:
    """What to write so a stored source follows its config; empty when it already does."""
    wanted = config_values(config)
    changes = {key: wanted[key] for key in CONFIG_FIELDS if row[key] != wanted[key]}
    moved = config.url != row["config_url"]
    if moved:  # a new place to fetch: forget what we knew about the old one
        changes.update(
            config_url=config.url,
            url=config.url,
            etag=None,
            last_modified=None,
            last_status=None,
            last_error=None,
            error_streak=0,
            empty_streak=0,
            hints=None,
            next_fetch_at=None,
        )
    was = (bool(row["enabled"]), row["disabled_reason"])
    state: tuple[bool, str | None]
    if not config.enabled:
        state = (False, DISABLED_IN_CONFIG)
    elif moved or was[1] is None or was[1] in CONFIG_REASONS:
        state = (True, None)
    else:  # disabled by a fetch (e.g. 410 Gone): stays so until its URL changes
        state = was
    if state != was:
        changes.update(enabled=state[0], disabled_reason=state[1])
    return changes


def mark_removed(row: Mapping[Any, Any]) -> dict[str, Any]:
    """What to write to a source no longer configured; a fetch's disabling reason is kept."""
    if row["enabled"] or row["disabled_reason"] == DISABLED_IN_CONFIG:
        return {"enabled": False, "disabled_reason": REMOVED}
    return {}


def unique(batch: Iterable[Article]) -> list[Article]:
    """The batch without repeated ids (the first one wins, as feeds list newest first)."""
    seen: set[str] = set()
    found = []
    for article in batch:
        if article.id not in seen:
            seen.add(article.id)
            found.append(article)
    return found


def split_batch(
    source_id: int, batch: Iterable[Article], stored: Mapping[str, Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Row values of the new and of the changed articles; unchanged ones are dropped.

    `stored` maps the article ids already in the database to their pk, content_hash,
    published, first_seen and date_is_first_seen. A changed article keeps its first_seen;
    one without a date of its own keeps the published date stored before. Changed rows
    carry their key as `_pk`.
    """
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for article in batch:
        old = stored.get(article.id)
        if old is None:
            new.append({"source_id": source_id, **article_values(article)})
        elif old["content_hash"] != article.content_hash:
            values = article_values(article)
            values["first_seen"] = old["first_seen"]
            if article.date_is_first_seen:
                values["published"] = old["published"]
                values["date_is_first_seen"] = bool(old["date_is_first_seen"])
            changed.append({"_pk": old["pk"], **values})
    return new, changed
