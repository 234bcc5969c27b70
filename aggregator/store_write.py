"""Statements and row helpers for Store's writes and reads, each run inside the caller's
transaction (see store.Store)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, func, insert, select, update

from aggregator.models import SourceState, TopicMatch
from aggregator.schema import JSONText, article_topics, articles, meta, sources
from aggregator.store_leases import HELD, RELEASED
from aggregator.store_rows import (
    STATE_COLUMNS,
    hints_value,
    match_from_row,
    match_values,
    state_values,
)

_CHUNK = 500  # keys per IN (...) list, well under every backend's parameter limit
ARTICLE_COLUMNS = (*articles.c, sources.c.name.label("source_name"))


def state_row(source_id: int, state: SourceState, lease: dict[str, Any]) -> dict[str, Any]:
    """The parameters of `STATE_UPDATE` for one source (`lease`: Leases.params)."""
    return {
        **lease,
        "_id": source_id,
        **state_values(state),
        "_title": state.title,
        "_link": state.link,
        "_hints": hints_value(state.hints),
    }


STATE_UPDATE = (
    update(sources)
    .where(sources.c.id == bindparam("_id"), HELD)
    .values(
        **RELEASED,
        **{column: bindparam(column) for column in STATE_COLUMNS},
        title=func.coalesce(bindparam("_title"), sources.c.title),
        link=func.coalesce(bindparam("_link"), sources.c.link),
        hints=func.coalesce(bindparam("_hints", type_=JSONText), sources.c.hints),
    )
)
"""Writes one pass's source state (parameters from `state_row`); a None title or link keeps
the stored one. Releases the source's lease, and writes only while the writer holds it (see
store_leases)."""


def update_grouped(conn: Connection, updates: list[dict[str, Any]]) -> None:
    """UPDATE sources by `_id`, one executemany per set of changed columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in updates:
        groups.setdefault(tuple(sorted(values)), []).append(values)
    for rows in groups.values():
        conn.execute(update(sources).where(sources.c.id == bindparam("_id")), rows)


def stored_keys(conn: Connection, source_id: int, ids: list[str]) -> dict[str, Any]:
    """Article id -> (pk, content_hash, dates) of the ids already stored for the source."""
    stored: dict[str, Any] = {}
    columns = (
        articles.c.pk,
        articles.c.article_id,
        articles.c.content_hash,
        articles.c.published,
        articles.c.first_seen,
        articles.c.date_is_first_seen,
    )
    for chunk in chunks(ids):
        query = select(*columns).where(
            articles.c.source_id == source_id, articles.c.article_id.in_(chunk)
        )
        stored.update((row.article_id, row._mapping) for row in conn.execute(query))
    return stored


def write_articles(
    conn: Connection,
    source_id: int,
    new: list[dict[str, Any]],
    changed: list[dict[str, Any]],
    *,
    want_pks: bool,
) -> dict[str, int]:
    """INSERT the new rows and UPDATE the changed; returns article id -> pk when asked."""
    pks = {row["article_id"]: row["_pk"] for row in changed}
    if new:
        conn.execute(insert(articles), new)
    if new and want_pks:
        for chunk in chunks([row["article_id"] for row in new]):
            query = select(articles.c.pk, articles.c.article_id).where(
                articles.c.source_id == source_id, articles.c.article_id.in_(chunk)
            )
            pks.update((row.article_id, row.pk) for row in conn.execute(query))
    if changed:
        conn.execute(update(articles).where(articles.c.pk == bindparam("_pk")), changed)
    return pks


def replace_matches(
    conn: Connection, matches: Mapping[int, Sequence[TopicMatch]], existing: list[int]
) -> None:
    """Delete the matches of the `existing` pks, then insert `matches`."""
    for chunk in chunks(existing):
        conn.execute(delete(article_topics).where(article_topics.c.article_pk.in_(chunk)))
    rows = [match_values(pk, m) for pk, found in matches.items() for m in _unique_topics(found)]
    if rows:
        conn.execute(insert(article_topics), rows)


def _unique_topics(found: Sequence[TopicMatch]) -> list[TopicMatch]:
    best: dict[str, TopicMatch] = {}
    for match in found:
        if match.topic not in best or match.score > best[match.topic].score:
            best[match.topic] = match
    return list(best.values())


def bump(conn: Connection) -> None:
    """Bump the data version (in the caller's transaction)."""
    conn.execute(update(meta).where(meta.c.key == "data_version").values(value=meta.c.value + 1))


def article_query() -> Select[Any]:
    return select(*ARTICLE_COLUMNS).join_from(
        articles, sources, articles.c.source_id == sources.c.id
    )


def chunks(keys: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def topic_matches(conn: Connection, pks: list[int]) -> dict[int, list[TopicMatch]]:
    """Article pk -> its topic matches, best score first, for the given pks."""
    found: dict[int, list[TopicMatch]] = {}
    for chunk in chunks(pks):
        matched = conn.execute(
            select(article_topics)
            .where(article_topics.c.article_pk.in_(chunk))
            .order_by(article_topics.c.score.desc(), article_topics.c.topic)
        )
        for match in matched:
            found.setdefault(match.article_pk, []).append(match_from_row(match._mapping))
    return found
