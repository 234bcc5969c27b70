"""Databases as releases before migrations left them, with rows in every table.

    version 1   sources, articles, article_topics, meta (the first release)
    version 2   + sources.empty_streak (NOT NULL DEFAULT '0') and sources.hints
    version 5   + sources.lease_owner, lease_expires and the partial index ix_sources_due;
                articles.policy, story_id and two indexes; stories, story_signatures and
                story_bands; the search index (FTS5 on SQLite, tsvector on PostgreSQL),
                still to be filled (meta `search_backfill`)

A frozen copy, independent of schema.py and of the baseline revision: the column types are
what those releases compiled theirs to, and the DDL was checked against databases made by the
releases themselves. `create(conn, version)` makes the tables, `fill(conn, version)` the rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

VERSIONS = (1, 2, 5)

_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
_UTC = sa.DateTime(timezone=True)
_JSON = sa.Text()


def tables(version: int) -> sa.MetaData:
    """The tables of schema `version` (1, 2 or 5), as its release created them."""
    assert version in VERSIONS
    md = sa.MetaData(naming_convention=_NAMING)
    later = version >= 5
    sources = sa.Table(
        "sources",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("config_url", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("type", sa.String, nullable=False),
        sa.Column("tags", _JSON, nullable=False),
        sa.Column("language", sa.String),
        sa.Column("timezone", sa.String),
        sa.Column("interval", sa.Integer),
        sa.Column("headers", _JSON, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("last_fetched_at", _UTC),
        sa.Column("next_fetch_at", _UTC),
        sa.Column("last_status", sa.String),
        sa.Column("last_error", sa.Text),
        sa.Column("error_streak", sa.Integer, nullable=False),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("link", sa.Text),
        sa.Column("created_at", _UTC, nullable=False),
        *(
            [
                sa.Column("empty_streak", sa.Integer, nullable=False, server_default="0"),
                sa.Column("hints", _JSON),
            ]
            if version >= 2
            else []
        ),
        *([sa.Column("lease_owner", sa.Text), sa.Column("lease_expires", _UTC)] if later else []),
        sa.UniqueConstraint("name"),
        sa.Index(None, "next_fetch_at"),
    )
    if later:
        sa.Index(
            "ix_sources_due",
            sources.c.next_fetch_at,
            postgresql_where=sources.c.enabled,
            sqlite_where=sources.c.enabled,
        )
    sa.Table(
        "articles",
        md,
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("article_id", sa.Text, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("authors", _JSON, nullable=False),
        sa.Column("tags", _JSON, nullable=False),
        sa.Column("enclosures", _JSON, nullable=False),
        sa.Column("published", _UTC, nullable=False),
        sa.Column("updated", _UTC),
        sa.Column("first_seen", _UTC, nullable=False),
        sa.Column("date_is_first_seen", sa.Boolean, nullable=False),
        sa.Column("language", sa.String),
        sa.Column("content_hash", sa.String, nullable=False),
        *([sa.Column("policy", _JSON), sa.Column("story_id", sa.Integer)] if later else []),
        sa.UniqueConstraint("source_id", "article_id"),
        sa.Index(None, "published"),
        sa.Index(None, "source_id", "published"),
        *([sa.Index(None, "first_seen", "source_id"), sa.Index(None, "story_id")] if later else []),
    )
    sa.Table(
        "article_topics",
        md,
        sa.Column(
            "article_pk",
            sa.Integer,
            sa.ForeignKey("articles.pk", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("topic", sa.String, nullable=False),
        sa.Column("score", sa.Double, nullable=False),
        sa.Column("terms", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("article_pk", "topic"),
        sa.Index(None, "topic", "article_pk"),
    )
    sa.Table(
        "meta",
        md,
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    if later:
        _story_tables(md)
    return md


def _story_tables(md: sa.MetaData) -> None:
    sa.Table(
        "stories",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("created", _UTC, nullable=False),
        sa.Column("updated", _UTC, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Index(None, "updated"),
    )
    sa.Table(
        "story_signatures",
        md,
        sa.Column(
            "article_pk",
            sa.Integer,
            sa.ForeignKey("articles.pk", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("story_id", sa.Integer, nullable=False),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
    )
    sa.Table(
        "story_bands",
        md,
        sa.Column("band", sa.BigInteger, nullable=False),
        sa.Column("article_pk", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("band", "article_pk"),
        sqlite_with_rowid=False,
    )


_SEARCH_SQLITE = (
    "CREATE VIRTUAL TABLE article_search USING fts5(title, body, tokenize='ascii', detail=full)",
)
_SEARCH_POSTGRES = (
    "CREATE TABLE article_search ("
    " article_pk INTEGER PRIMARY KEY REFERENCES articles (pk) ON DELETE CASCADE,"
    " doc TSVECTOR NOT NULL)",
    "CREATE INDEX ix_article_search_doc ON article_search USING GIN (doc)",
)


def create(conn: sa.Connection, version: int) -> None:
    """Make the tables of schema `version` and its meta rows, as its release did."""
    md = tables(version)
    md.create_all(conn)
    meta = md.tables["meta"]
    conn.execute(meta.insert(), [{"key": "schema_version", "value": version}])
    conn.execute(meta.insert(), [{"key": "data_version", "value": 0}])
    if version >= 5:
        postgres = conn.dialect.name == "postgresql"
        for statement in _SEARCH_POSTGRES if postgres else _SEARCH_SQLITE:
            conn.exec_driver_sql(statement)
        conn.execute(meta.insert(), [{"key": "search_tokens", "value": 1}])


T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def fill(conn: sa.Connection, version: int) -> None:
    """Rows in every table of schema `version`: three sources, six articles (Chinese and
    English), topic matches, and for version 5 a story of two articles with its LSH rows."""
    md = tables(version)
    t = md.tables
    sources = []
    for n, name in enumerate(("gov-policy", "制造业-news", "factory-wire")):
        row: dict[str, Any] = {
            "id": n + 1,
            "name": name,
            "config_url": f"https://example.test/{n}/feed",
            "url": f"https://example.test/{n}/feed.xml",
            "enabled": n != 2,
            "type": "feed",
            "tags": _json(["policy", "政策"] if n == 0 else []),
            "language": "zh" if n == 1 else None,
            "timezone": "Asia/Shanghai" if n == 1 else None,
            "interval": 1800 if n == 0 else None,
            "headers": _json({"User-Agent": "x"} if n == 2 else {}),
            "etag": '"abc"' if n == 0 else None,
            "last_modified": "Mon, 02 Mar 2026 08:00:00 GMT" if n == 0 else None,
            "last_fetched_at": T0 + timedelta(minutes=n),
            "next_fetch_at": T0 + timedelta(hours=1, minutes=n),
            "last_status": ("ok", "not_modified", "error")[n],
            "last_error": "HTTP 500 Internal Server Error" if n == 2 else None,
            "error_streak": 3 if n == 2 else 0,
            "disabled_reason": "removed from config" if n == 2 else None,
            "title": f"Source {n}",
            "link": f"https://example.test/{n}/",
            "created_at": T0 - timedelta(days=30),
        }
        if version >= 2:
            row |= {"empty_streak": n, "hints": _json({"ttl": 60}) if n == 0 else None}
        if version >= 5:
            row |= {
                "lease_owner": "host-a:4242" if n == 0 else None,
                "lease_expires": T0 + timedelta(minutes=5) if n == 0 else None,
            }
        sources.append(row)
    conn.execute(t["sources"].insert(), sources)
    articles = []
    titles = ("国务院印发制造业高质量发展意见", "New battery factory opens", "工厂 automation")
    for k in range(6):
        row = {
            "pk": k + 1,
            "source_id": k % 3 + 1,
            "article_id": f"urn:article:{k}",
            "url": f"https://example.test/a/{k}" if k != 5 else None,
            "title": f"{titles[k % 3]} {k}",
            "summary": f"<p>summary {k} 摘要</p>",
            "content": f"<p>content {k}</p>",
            "text": f"factory text {k} 制造业",
            "authors": _json([{"name": "王伟"}] if k == 0 else []),
            "tags": _json(["economy"] if k % 2 else []),
            "enclosures": _json([]),
            "published": T0 + timedelta(hours=k),
            "updated": T0 + timedelta(hours=k, minutes=30) if k % 2 else None,
            "first_seen": T0 + timedelta(hours=k, minutes=1),
            "date_is_first_seen": k == 4,
            "language": ("zh", "en", None)[k % 3],
            "content_hash": f"hash{k:04d}",
        }
        if version >= 5:
            row |= {
                "policy": _json({"document_number": f"国发〔2026〕{k}号"}) if k == 0 else None,
                "story_id": 1 if k in (0, 3) else None,
            }
        articles.append(row)
    conn.execute(t["articles"].insert(), articles)
    matches = [
        {"article_pk": pk, "topic": topic, "score": score, "terms": _json(terms)}
        for pk, topic, score, terms in (
            (1, "manufacturing", 2.5, ["制造业"]),
            (1, "policy", 1.0, ["国务院"]),
            (2, "manufacturing", 1.25, ["factory", "battery"]),
            (4, "policy", 0.5, []),
        )
    ]
    conn.execute(t["article_topics"].insert(), matches)
    meta = t["meta"]
    conn.execute(sa.update(meta).where(meta.c.key == "data_version").values(value=7))
    if version < 5:
        return
    conn.execute(
        t["stories"].insert(),
        [{"id": 1, "created": T0, "updated": T0 + timedelta(hours=3), "size": 2}],
    )
    conn.execute(
        t["story_signatures"].insert(),
        [
            {"article_pk": pk, "story_id": 1, "source_id": pk % 3, "signature": bytes([pk]) * 16}
            for pk in (1, 4)
        ],
    )
    bands = [(-(2**62), 1), (2**62 + 5, 1), (-(2**62), 4), (17, 4)]
    conn.execute(t["story_bands"].insert(), [{"band": b, "article_pk": pk} for b, pk in bands])
    conn.execute(meta.insert(), [{"key": "search_backfill", "value": 6}])
