"""Rows to models and back: how `Source`, `Article` and `TopicMatch` values sit in the tables.

Pure functions of plain values; `store` runs the queries and calls these at the door.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, cast

from aggregator.models import (
    Article,
    Enclosure,
    FeedHints,
    PolicyInfo,
    Source,
    SourceConfig,
    SourceState,
    SourceStatus,
    TopicMatch,
)

CONFIG_FIELDS = ("type", "tags", "language", "timezone", "interval", "headers")
"""Columns of `sources` that follow the config as it is (not the URL, not `enabled`)."""

ARTICLE_FIELDS = (
    "url",
    "title",
    "summary",
    "content",
    "text",
    "authors",
    "tags",
    "enclosures",
    "published",
    "updated",
    "first_seen",
    "date_is_first_seen",
    "language",
    "content_hash",
    "policy",
)
"""Columns of `articles` written from an `Article` (besides the keys)."""


def config_values(config: SourceConfig) -> dict[str, Any]:
    """The `sources` columns a config decides (see CONFIG_FIELDS), as stored."""
    return {
        "type": config.type,
        "tags": list(config.tags),
        "language": config.language,
        "timezone": config.timezone,
        "interval": config.interval,
        "headers": [[key, value] for key, value in config.headers],
    }


STATE_COLUMNS = (
    "url",
    "etag",
    "last_modified",
    "last_fetched_at",
    "next_fetch_at",
    "last_status",
    "last_error",
    "error_streak",
    "enabled",
    "disabled_reason",
    "empty_streak",
)
"""The `sources` columns one pass writes, each named as its `SourceState` field (title, link and
hints are written apart: None keeps the stored value)."""


def state_values(state: SourceState) -> dict[str, Any]:
    """The `sources` columns one pass writes."""
    return {column: getattr(state, column) for column in STATE_COLUMNS}


def source_from_row(row: Mapping[Any, Any]) -> Source:
    """A `sources` row (plus `article_count`) as a Source."""
    return Source(
        id=row["id"],
        name=row["name"],
        url=row["url"],
        config_url=row["config_url"],
        enabled=bool(row["enabled"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_fetched_at=row["last_fetched_at"],
        next_fetch_at=row["next_fetch_at"],
        last_status=cast("SourceStatus | None", row["last_status"]),
        last_error=row["last_error"],
        error_streak=row["error_streak"],
        disabled_reason=row["disabled_reason"],
        title=row["title"],
        link=row["link"],
        article_count=row.get("article_count") or 0,
        empty_streak=row["empty_streak"],
        hints=hints_from_value(row["hints"]),
    )


def hints_value(hints: FeedHints | None) -> dict[str, Any] | None:
    """FeedHints as stored (JSON), or None."""
    if hints is None:
        return None
    return {
        "ttl": hints.ttl,
        "skip_hours": list(hints.skip_hours),
        "skip_days": list(hints.skip_days),
        "entries_per_day": hints.entries_per_day,
    }


def hints_from_value(value: Mapping[str, Any] | None) -> FeedHints | None:
    """Stored FeedHints back, or None."""
    if not value:
        return None
    return FeedHints(
        ttl=value.get("ttl"),
        skip_hours=tuple(value.get("skip_hours") or ()),
        skip_days=tuple(value.get("skip_days") or ()),
        entries_per_day=value.get("entries_per_day"),
    )


def article_values(article: Article) -> dict[str, Any]:
    """The `articles` columns for an Article (see ARTICLE_FIELDS), plus `article_id`."""
    return {
        "article_id": article.id,
        "url": article.url,
        "title": article.title,
        "summary": article.summary,
        "content": article.content,
        "text": article.text,
        "authors": list(article.authors),
        "tags": list(article.tags),
        "enclosures": [_enclosure_value(e) for e in article.enclosures],
        "published": article.published,
        "updated": article.updated,
        "first_seen": article.first_seen,
        "date_is_first_seen": article.date_is_first_seen,
        "language": article.language,
        "content_hash": article.content_hash,
        "policy": policy_value(article.policy),
    }


def article_from_row(row: Mapping[Any, Any], source_name: str) -> Article:
    """An `articles` row as an Article, with its `pk`."""
    published: datetime = row["published"]
    return Article(
        source=source_name,
        id=row["article_id"],
        url=row["url"],
        title=row["title"],
        summary=row["summary"],
        content=row["content"],
        text=row["text"],
        published=published,
        first_seen=row["first_seen"],
        content_hash=row["content_hash"],
        updated=row["updated"],
        date_is_first_seen=bool(row["date_is_first_seen"]),
        authors=tuple(row["authors"]),
        tags=tuple(row["tags"]),
        enclosures=tuple(_enclosure_from_value(e) for e in row["enclosures"]),
        language=row["language"],
        policy=policy_from_value(row["policy"]),
        pk=row["pk"],
    )


def policy_value(policy: PolicyInfo | None) -> dict[str, str] | None:
    """PolicyInfo as stored (JSON with ISO dates, absent fields left out), or None."""
    if policy is None:
        return None
    value = {
        "doc_number": policy.doc_number,
        "issuer": policy.issuer,
        "written": policy.written.isoformat() if policy.written else None,
        "published": policy.published.isoformat() if policy.published else None,
    }
    return {key: item for key, item in value.items() if item is not None}


def policy_from_value(value: Mapping[str, Any] | None) -> PolicyInfo | None:
    """Stored PolicyInfo back, or None."""
    if not value:
        return None
    written, published = value.get("written"), value.get("published")
    return PolicyInfo(
        doc_number=value.get("doc_number"),
        issuer=value.get("issuer"),
        written=date.fromisoformat(written) if written else None,
        published=date.fromisoformat(published) if published else None,
    )


def match_values(pk: int, match: TopicMatch) -> dict[str, Any]:
    """The `article_topics` columns for one match of article `pk`."""
    return {
        "article_pk": pk,
        "topic": match.topic,
        "score": float(match.score),
        "terms": list(match.terms),
    }


def match_from_row(row: Mapping[Any, Any]) -> TopicMatch:
    """An `article_topics` row as a TopicMatch."""
    return TopicMatch(topic=row["topic"], score=row["score"], terms=tuple(row["terms"]))


def _enclosure_value(enclosure: Enclosure) -> dict[str, Any]:
    value: dict[str, Any] = {"url": enclosure.url}
    if enclosure.type is not None:
        value["type"] = enclosure.type
    if enclosure.length is not None:
        value["length"] = enclosure.length
    if enclosure.title is not None:
        value["title"] = enclosure.title
    return value


def _enclosure_from_value(value: Mapping[str, Any]) -> Enclosure:
    return Enclosure(
        url=value["url"],
        type=value.get("type"),
        length=value.get("length"),
        title=value.get("title"),
    )
