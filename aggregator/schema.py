"""The database schema: table definitions and the column types that carry our values.

Tables: `sources` (config and fetch state), `articles` (one row per source and article id),
`article_topics` (why an article is in a topic), `meta` (schema and data versions), and
`stories`, `story_signatures` and `story_bands` (near-duplicate clusters and their LSH index).
Datetimes are stored as UTC and read back timezone-aware; lists are JSON text. Constraint
names follow a naming convention, which the migrations rely on.

Alembic owns the schema: a change to a table here needs a revision in aggregator/migrations
(`python -m aggregator.migrations "what changed"`; docs/migrations.md), or
tests/test_migrations.py fails.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as UTC on every backend and read back aware UTC.

    SQLite keeps it as naive UTC text (so text order is time order); PostgreSQL as
    `timestamp with time zone`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC (naive ones are taken to be UTC already)."""
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONText(TypeDecorator[Any]):
    """A JSON value stored as text (readable in any SQL shell, the same on every backend)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Serialize to compact JSON, keeping non-ASCII text as is."""
        if value is None:
            return None
        if isinstance(value, list) and not value:
            return "[]"  # the usual case for tags, authors and enclosures; skip the encoder
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        """Parse the stored JSON."""
        if value is None:
            return None
        return json.loads(value)


metadata = MetaData(naming_convention=NAMING_CONVENTION)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String, nullable=False),
    Column("config_url", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("type", String, nullable=False),
    Column("tags", JSONText, nullable=False),
    Column("language", String),
    Column("timezone", String),
    Column("interval", Integer),
    Column("headers", JSONText, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_fetched_at", UTCDateTime),
    Column("next_fetch_at", UTCDateTime),
    Column("last_status", String),
    Column("last_error", Text),
    Column("error_streak", Integer, nullable=False),
    Column("disabled_reason", Text),
    Column("title", Text),
    Column("link", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("empty_streak", Integer, nullable=False, server_default="0"),
    Column("hints", JSONText),
    Column("lease_owner", Text),  # the worker updating it now (see store_leases), or NULL
    Column("lease_expires", UTCDateTime),  # when that claim lapses
    UniqueConstraint("name"),
    Index(None, "next_fetch_at"),
)
Index(  # the claim's walk over due sources (store_leases); disabled ones are left out
    "ix_sources_due",
    sources.c.next_fetch_at,
    postgresql_where=sources.c.enabled,
    sqlite_where=sources.c.enabled,
)

articles = Table(
    "articles",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column(
        "source_id",
        Integer,
        ForeignKey("sources.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("article_id", Text, nullable=False),
    Column("url", Text),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("authors", JSONText, nullable=False),
    Column("tags", JSONText, nullable=False),
    Column("enclosures", JSONText, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("date_is_first_seen", Boolean, nullable=False),
    Column("language", String),
    Column("content_hash", String, nullable=False),
    Column("policy", JSONText),  # policy-document fields (store_rows.policy_value), or NULL
    Column("story_id", Integer),  # its story: the pk of the story's first article (stories.id)
    UniqueConstraint("source_id", "article_id"),
    Index(None, "published"),
    Index(None, "source_id", "published"),
    Index(None, "first_seen", "source_id"),
    Index(None, "story_id"),
)

article_topics = Table(
    "article_topics",
    metadata,
    Column(
        "article_pk",
        Integer,
        ForeignKey("articles.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("topic", String, nullable=False),
    Column("score", Double, nullable=False),
    Column("terms", JSONText, nullable=False),
    PrimaryKeyConstraint("article_pk", "topic"),
    Index(None, "topic", "article_pk"),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", Integer, nullable=False),
)
"""Integer settings: `schema_version` (what releases before migrations check), `data_version`."""

# The search index is DDL of its own (an FTS5 table on SQLite), made after the tables above.
from aggregator.schema_search import install as _install_search  # noqa: E402

_install_search(metadata)

# ---------------------------------------------------------------- stories (see store_stories)

stories = Table(
    "stories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # its first article's pk
    Column("created", UTCDateTime, nullable=False),  # first_seen of its first article
    Column("updated", UTCDateTime, nullable=False),  # first_seen of its newest member
    Column("size", Integer, nullable=False),  # member articles
    Index(None, "updated"),
)
"""Clusters of near-duplicate articles; articles.story_id names each article's story."""

story_sigs = Table(
    "story_signatures",
    metadata,
    Column(
        "article_pk",
        Integer,
        ForeignKey("articles.pk", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("story_id", Integer, nullable=False),
    Column("source_id", Integer, nullable=False),
    Column("signature", LargeBinary, nullable=False),  # fingerprint.signature
)
"""The MinHash signature of each fingerprinted article, for verifying LSH candidates."""

story_bands = Table(
    "story_bands",
    metadata,
    Column("band", BigInteger, nullable=False),  # fingerprint.band_keys
    Column("article_pk", Integer, nullable=False),
    PrimaryKeyConstraint("band", "article_pk"),
    sqlite_with_rowid=False,
)
"""The LSH index: one row per band key of each signature; a join looks keys up, never scans."""
