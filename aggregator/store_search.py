"""Full-text search queries: writing the index with the articles, backfilling it, searching it.

    write_index(conn, source_id, pks, batch, docs, replaced)
                        in save_update's transaction: the replaced articles' rows deleted,
                        then every new or changed article's tokens inserted (from the
                        worker, else made here) with its filter tokens (searchtags)
    SearchIndex.backfill()   index articles stored before the index existed, newest first,
                        500 per transaction, resumable (meta `search_backfill`)
    SearchIndex.search(query, filters, limit)
        candidates  the newest CANDIDATES matches (by article key) that pass the filters,
                    the words and the filters' tokens matched together (store_searchplan)
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
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, text

from aggregator.models import Article, FeedItem
from aggregator.schema import articles, sources
from aggregator.schema_search import BACKFILL_KEY, TABLE, get_meta, set_meta
from aggregator.searchsnippet import Highlighted, highlight, needles, snippet
from aggregator.searchtags import article_tags
from aggregator.searchtext import SearchDoc, SearchQuery, article_doc, plain_summary, search_doc
from aggregator.store_engine import transaction
from aggregator.store_rows import article_from_row
from aggregator.store_searchplan import CANDIDATES, TITLE_WEIGHT, ranked
from aggregator.store_write import topic_matches

__all__ = ["CANDIDATES", "TITLE_WEIGHT", "SearchFilters", "SearchHit", "SearchIndex"]

log = logging.getLogger("aggregator.search")

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
    source_id: int,
    pks: Mapping[str, int],
    batch: Sequence[Article],
    docs: Mapping[str, SearchDoc] | None,
    replaced: Sequence[int],
) -> None:
    """Index the articles of `batch` (of source `source_id`) keyed in `pks` (article id → pk);
    `replaced` pks first lose their old rows. `docs` (article id → tokens) come from the
    worker; missing ones are made."""
    rows = []
    for article in batch:
        pk = pks.get(article.id)
        if pk is not None:
            doc = docs.get(article.id) if docs is not None else None
            tags = article_tags(source_id, article.language, article.published.astimezone(UTC))
            rows.append(_row(pk, doc or article_doc(article), tags))
    _write_rows(conn, rows, replaced)


def _row(pk: int, doc: SearchDoc, tags: str) -> dict[str, Any]:
    return {"pk": pk, "title": doc.title, "body": doc.body, "tags": tags}


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


_SQLITE_INSERT = text(
    f"INSERT INTO {TABLE} (rowid, title, body, tags) VALUES (:pk, :title, :body, :tags)"
)
_PG_UPSERT = text(
    f"INSERT INTO {TABLE} (article_pk, doc) VALUES (:pk,"
    " setweight(to_tsvector('simple', :title), 'A')"
    " || setweight(to_tsvector('simple', :body), 'B')"
    " || setweight(array_to_tsvector(string_to_array(:tags, ' ')), 'D'))"
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
                columns = ("pk", "source_id", "language", "published", "title", "summary", "text")
                query = (
                    select(*(articles.c[name] for name in columns))
                    .where(articles.c.pk <= pending)
                    .order_by(articles.c.pk.desc())
                    .limit(batch)
                )
                found = conn.execute(query).all()
                rows = [
                    _row(
                        r.pk,
                        search_doc(r.title, plain_summary(r.summary), r.text),
                        article_tags(r.source_id, r.language, r.published),
                    )
                    for r in found
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
            best = ranked(conn, query, filters, limit)
            items = _items(conn, [pk for pk, _ in best])
        found = needles(query)
        hits = []
        for pk, score in best:
            item = items.get(pk)
            if item is None:  # an index row left by a deleted article (SQLite)
                continue
            article = item.article
            body = article.text or plain_summary(article.summary)
            hits.append(
                SearchHit(item, score, highlight(article.title, found), snippet(body, found))
            )
        return hits


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
    topics = topic_matches(conn, list(pks))
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
