"""Full-text search queries: writing the index with the articles, backfilling it, searching it.

    write_index(conn, pks, batch, docs, replaced)    in save_update's transaction: the
                        replaced articles' rows deleted, then every new or changed
                        article's tokens inserted (from the worker, else made here)
    SearchIndex.backfill()   index articles stored before the index existed, newest first,
                        500 per transaction, resumable (meta `search_backfill`)
    SearchIndex.search(query, filters, limit)
        candidates  the newest CANDIDATES matches (by article key) that pass the filters:
                    FTS5 MATCH on SQLite, tsvector @@ tsquery on PostgreSQL
        rank        SQLite: searchtext.rank_scores over the candidates' tokens (title weighs
                    TITLE_WEIGHT); PostgreSQL: ts_rank (title A, body B); best first
        read        the `limit` best as FeedItems with their topics
        snippet     title and text highlighted in Python from the article's own text

Bounding the candidates keeps a common word as fast as a rare one: a word found in a
hundred thousand articles ranks the newest CANDIDATES of them. A rarer word ranks all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select, text

from aggregator.models import Article, FeedItem, TopicMatch
from aggregator.schema import UTCDateTime, article_topics, articles, sources
from aggregator.schema_search import BACKFILL_KEY, TABLE, get_meta, set_meta
from aggregator.searchsnippet import Highlighted, highlight, needles, snippet
from aggregator.searchtext import (
    SearchDoc,
    SearchQuery,
    article_doc,
    plain_summary,
    rank_scores,
    search_doc,
)
from aggregator.store_engine import transaction
from aggregator.store_rows import article_from_row, match_from_row

log = logging.getLogger("aggregator.search")

CANDIDATES = 500
"""Matches ranked per query at most: the newest ones (by article key) that pass the filters."""
TITLE_WEIGHT = 4.0
BACKFILL_BATCH = 500


@dataclass(frozen=True)
class SearchFilters:
    """What a search may be narrowed to; None means any."""

    topic: str | None = None
    source: str | None = None
    language: str | None = None  # a primary subtag ("zh") or a full tag ("zh-cn")
    since: datetime | None = None  # published at or after
    until: datetime | None = None  # published before


@dataclass(frozen=True)
class SearchHit:
    """One search result: the article as feeds show it, its score, its highlighted text."""

    item: FeedItem
    score: float  # higher is better, comparable within one search only
    title: Highlighted
    snippet: Highlighted


# ---------------------------------------------------------------- writing (inside a transaction)


def write_index(
    conn: Connection,
    pks: Mapping[str, int],
    batch: Sequence[Article],
    docs: Mapping[str, SearchDoc] | None,
    replaced: Sequence[int],
) -> None:
    """Index the articles of `batch` keyed in `pks` (article id → pk); `replaced` pks first lose
    their old rows. `docs` (article id → tokens) come from the worker; missing ones are made."""
    rows = []
    for article in batch:
        pk = pks.get(article.id)
        if pk is not None:
            doc = docs.get(article.id) if docs is not None else None
            rows.append(_row(pk, doc or article_doc(article)))
    _write_rows(conn, rows, replaced)


def _row(pk: int, doc: SearchDoc) -> dict[str, Any]:
    return {"pk": pk, "title": doc.title, "body": doc.body}


def _write_rows(conn: Connection, rows: list[dict[str, Any]], replaced: Sequence[int]) -> None:
    if conn.dialect.name == "postgresql":
        if rows:
            conn.execute(_PG_UPSERT, rows)
        return
    if replaced:
        conn.execute(
            text(f"DELETE FROM {TABLE} WHERE rowid = :pk"), [{"pk": pk} for pk in replaced]
        )
    if rows:
        conn.execute(_SQLITE_INSERT, rows)


_SQLITE_INSERT = text(f"INSERT INTO {TABLE} (rowid, title, body) VALUES (:pk, :title, :body)")
_PG_UPSERT = text(
    f"INSERT INTO {TABLE} (article_pk, doc) VALUES (:pk,"
    " setweight(to_tsvector('simple', :title), 'A')"
    " || setweight(to_tsvector('simple', :body), 'B'))"
    " ON CONFLICT (article_pk) DO UPDATE SET doc = EXCLUDED.doc"
)


# ---------------------------------------------------------------- reading


class SearchIndex:
    """Searches a store's articles; `backfill` indexes those stored before the index was."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def pending(self) -> int | None:
        """The highest article key still to backfill, or None when the index is complete."""
        with transaction(self._engine, "reading search index state", write=False) as conn:
            return get_meta(conn, BACKFILL_KEY)

    def backfill(self, batch: int = BACKFILL_BATCH) -> int:
        """Index the articles stored before the index existed; returns how many."""
        pending = self.pending()
        if pending is None:
            return 0
        log.info("search: indexing the stored articles up to key %d (once)", pending)
        done = 0
        while True:
            with transaction(self._engine, "indexing articles for search", write=True) as conn:
                pending = get_meta(conn, BACKFILL_KEY)
                if pending is None:
                    break
                query = (
                    select(articles.c.pk, articles.c.title, articles.c.summary, articles.c.text)
                    .where(articles.c.pk <= pending)
                    .order_by(articles.c.pk.desc())
                    .limit(batch)
                )
                found = conn.execute(query).all()
                rows = [
                    _row(r.pk, search_doc(r.title, plain_summary(r.summary), r.text)) for r in found
                ]
                _write_rows(conn, rows, [r.pk for r in found])
                lowest = found[-1].pk if len(found) == batch else None
                set_meta(conn, BACKFILL_KEY, lowest - 1 if lowest and lowest > 1 else None)
                done += len(found)
        log.info("search: %d articles indexed", done)
        return done

    def search(
        self, query: SearchQuery, filters: SearchFilters | None = None, limit: int = 20
    ) -> list[SearchHit]:
        """The `limit` best matches of `query` that pass `filters`, best first."""
        filters = filters or SearchFilters()
        operation = f"searching for {query.text!r}"
        with transaction(self._engine, operation, write=False) as conn:
            ranked = _ranked(conn, query, filters, limit)
            items = _items(conn, [pk for pk, _ in ranked])
        found = needles(query)
        hits = []
        for pk, score in ranked:
            item = items.get(pk)
            if item is None:  # an index row left by a deleted article (SQLite)
                continue
            article = item.article
            body = article.text or plain_summary(article.summary)
            hits.append(
                SearchHit(item, score, highlight(article.title, found), snippet(body, found))
            )
        return hits


def _ranked(
    conn: Connection, query: SearchQuery, filters: SearchFilters, limit: int
) -> list[tuple[int, float]]:
    """(pk, score) of the best matches, best first."""
    postgres = conn.dialect.name == "postgresql"
    params: dict[str, Any] = {"window": CANDIDATES, "limit": limit}
    joins: list[str] = []
    wheres: list[str] = []
    key = "s.article_pk" if postgres else "s.rowid"
    # SQLite: CROSS JOIN keeps the index first, read newest first, each filter a key lookup
    cross = "JOIN" if postgres else "CROSS JOIN"
    if filters.topic is not None:
        joins.append(f"{cross} article_topics AS t ON t.article_pk = {key} AND t.topic = :topic")
        params["topic"] = filters.topic
    if filters.source or filters.language or filters.since or filters.until:
        joins.append(f"{cross} articles AS a ON a.pk = {key}")
    if filters.source is not None:
        source_id = conn.execute(
            select(sources.c.id).where(sources.c.name == filters.source)
        ).scalar()
        if source_id is None:
            return []
        wheres.append("a.source_id = :source_id")
        params["source_id"] = source_id
    if filters.language is not None:
        wheres.append("(a.language = :language OR a.language LIKE :language_prefix)")
        language = filters.language.strip().lower().replace("_", "-")
        params.update(language=language, language_prefix=f"{language}-%")
    if filters.since is not None:
        wheres.append("a.published >= :since")
        params["since"] = filters.since
    if filters.until is not None:
        wheres.append("a.published < :until")
        params["until"] = filters.until
    where = "".join(f" AND {w}" for w in wheres)
    join = " ".join(joins)
    if postgres:
        params["match"] = query.tsquery()
        sql = (
            "SELECT c.pk, ts_rank(c.doc, to_tsquery('simple', :match)) AS score FROM"
            f" (SELECT {key} AS pk, s.doc FROM {TABLE} AS s {join}"
            f" WHERE s.doc @@ to_tsquery('simple', :match){where}"
            f" ORDER BY {key} DESC LIMIT :window) AS c"
            " ORDER BY score DESC, c.pk DESC LIMIT :limit"
        )
    else:  # FTS5's bm25() counts every match of every phrase first: scored here instead
        params["match"] = query.fts5()
        sql = (
            f"SELECT s.rowid, s.title, s.body FROM {TABLE} AS s {join}"
            f" WHERE {TABLE} MATCH :match{where} ORDER BY s.rowid DESC LIMIT :window"
        )
    statement = text(sql).bindparams(
        *(bindparam(name, type_=UTCDateTime()) for name in ("since", "until") if name in params)
    )
    rows = conn.execute(statement, params).all()
    if not postgres:
        return _scored(query, rows, limit)
    return [(int(row[0]), float(row[1])) for row in rows]


def _scored(query: SearchQuery, rows: Sequence[Any], limit: int) -> list[tuple[int, float]]:
    """The `limit` best of the candidate (pk, title, body) rows, by `rank_scores`."""
    titles = [row[1] for row in rows]
    bodies = [row[2] for row in rows]
    scores = rank_scores(query, titles, bodies, title_weight=TITLE_WEIGHT)
    scored = sorted(zip((int(row[0]) for row in rows), scores, strict=True), key=_best)
    return scored[:limit]


def _best(hit: tuple[int, float]) -> tuple[float, int]:
    return -hit[1], -hit[0]


def _items(conn: Connection, pks: list[int]) -> dict[int, FeedItem]:
    """The articles keyed `pks` as FeedItems with their sources and topics."""
    if not pks:
        return {}
    query = (
        select(
            *articles.c,
            sources.c.name.label("source_name"),
            sources.c.url.label("source_url"),
            sources.c.title.label("source_title"),
            sources.c.link.label("source_link"),
            sources.c.tags.label("source_tags"),
        )
        .join_from(articles, sources, articles.c.source_id == sources.c.id)
        .where(articles.c.pk.in_(pks))
    )
    rows = conn.execute(query).mappings().all()
    topics: dict[int, list[TopicMatch]] = {}
    matched = conn.execute(
        select(article_topics)
        .where(article_topics.c.article_pk.in_(pks))
        .order_by(article_topics.c.score.desc(), article_topics.c.topic)
    )
    for match in matched:
        topics.setdefault(match.article_pk, []).append(match_from_row(match._mapping))
    return {
        row["pk"]: FeedItem(
            article=article_from_row(row, row["source_name"]),
            source_name=row["source_name"],
            source_url=row["source_url"],
            source_title=row["source_title"],
            source_link=row["source_link"],
            source_tags=tuple(row["source_tags"]),
            topics=tuple(topics.get(row["pk"], ())),
        )
        for row in rows
    }
