"""The search index's tables: DDL of their own, run whenever the schema is ensured.

    SQLite      article_search: an FTS5 table (tokenizer `ascii`) of three columns: title and
                body, holding the token strings of `searchtext`, and tags, the filter
                tokens of `searchtags` (source, language, date); rowid = articles.pk
    PostgreSQL  article_search(article_pk, doc tsvector) with a GIN index; the title's
                tokens weigh A, the body's B, the filter tokens D (same DDL: version 2
                changed only what `store_search` writes into `doc`)

`store_migrate` runs `create_search_tables` at every open and after every upgrade, outside
the migrations (`install(metadata)` also hooks it to `metadata.create_all`). When the table
is missing, or was built from tokens of another `TOKENS_VERSION`, it is (re)made empty and
the meta row `search_backfill` records the highest article key still to index; `store_search`
fills it from there downwards.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, MetaData, event, text

TABLE = "article_search"
VERSION_KEY = "search_tokens"
BACKFILL_KEY = "search_backfill"

_SQLITE_CREATE = (
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5(title, body, tags, tokenize='ascii', detail=full)"
)
_POSTGRES_CREATE = (
    f"CREATE TABLE {TABLE} ("
    " article_pk INTEGER PRIMARY KEY REFERENCES articles (pk) ON DELETE CASCADE,"
    " doc TSVECTOR NOT NULL)",
    f"CREATE INDEX ix_{TABLE}_doc ON {TABLE} USING GIN (doc)",
)


def install(metadata: MetaData) -> None:
    """Run `create_search_tables` after every `create_all` of `metadata`."""
    event.listen(metadata, "after_create", create_search_tables)


def create_search_tables(target: Any, connection: Connection, **_: Any) -> None:
    """Make the search table when it is missing or of another token version."""
    from aggregator.searchtext import TOKENS_VERSION  # the tokenizer loads on first use

    del target
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        exists = connection.execute(text(f"SELECT to_regclass('{TABLE}')")).scalar() is not None
    else:
        found = connection.execute(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": TABLE},
        )
        exists = found.first() is not None
    if exists and get_meta(connection, VERSION_KEY) == TOKENS_VERSION:
        return
    if exists:
        connection.execute(text(f"DROP TABLE {TABLE}"))
    for statement in _POSTGRES_CREATE if postgres else (_SQLITE_CREATE,):
        connection.execute(text(statement))
    set_meta(connection, VERSION_KEY, TOKENS_VERSION)
    highest = connection.execute(text("SELECT max(pk) FROM articles")).scalar()
    set_meta(connection, BACKFILL_KEY, int(highest) if highest else None)


def get_meta(connection: Connection, key: str) -> int | None:
    """The integer stored under `key` in `meta`, or None."""
    found = connection.execute(text("SELECT value FROM meta WHERE key = :key"), {"key": key})
    value = found.scalar()
    return None if value is None else int(value)


def set_meta(connection: Connection, key: str, value: int | None) -> None:
    """Store `value` under `key` in `meta` (None removes the key)."""
    connection.execute(text("DELETE FROM meta WHERE key = :key"), {"key": key})
    if value is not None:
        connection.execute(
            text("INSERT INTO meta (key, value) VALUES (:key, :value)"),
            {"key": key, "value": value},
        )
