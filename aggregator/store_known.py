"""Which of a source's articles are stored already: the read behind page passes.

    hashes(source_id, ids)   article id -> content hash of the ids stored for the source,
                             in one read transaction (IN lists of at most CHUNK ids)

A page pass asks before it fetches article pages, so a re-scrape fetches no page twice.
Reached as `Store.known`; database errors leave as `StorageError`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, select

from aggregator.schema import articles
from aggregator.store_engine import transaction

CHUNK = 500
"""Ids per IN (...) list, well under every backend's parameter limit."""


class KnownArticles:
    """Reads of stored article ids over one store's engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def hashes(self, source_id: int, ids: Sequence[str]) -> dict[str, str]:
        """Article id -> content hash, for those of `ids` the source has stored."""
        found: dict[str, str] = {}
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return found
        with transaction(self._engine, "reading stored article ids", write=False) as conn:
            for start in range(0, len(wanted), CHUNK):
                query = select(articles.c.article_id, articles.c.content_hash).where(
                    articles.c.source_id == source_id,
                    articles.c.article_id.in_(wanted[start : start + CHUNK]),
                )
                found.update((row.article_id, row.content_hash) for row in conn.execute(query))
        return found
