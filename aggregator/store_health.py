"""The read-only queries behind `aggregator status`, `/status` and the gauges of `/metrics`.

    report(now)    every source (one SELECT) and its article counts (two grouped SELECTs over
                   `articles`), in one transaction, judged by `health.health_report`
    summary(now)   the sources alone, without counting articles: cheap enough for every scrape

Reached as `Store.health`; database errors leave as `StorageError`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, case, func, literal_column, select

from aggregator.health import (
    EMPTY_AFTER,
    OVERDUE_AFTER,
    ArticleCounts,
    HealthReport,
    HealthSummary,
    health_report,
    recent_since,
)
from aggregator.models import Source
from aggregator.schema import articles, sources
from aggregator.store_engine import transaction
from aggregator.store_rows import source_from_row


class HealthQueries:
    """Health reads over one store's engine; each method is one read transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def report(
        self,
        now: datetime,
        *,
        empty_after: int = EMPTY_AFTER,
        overdue_after: timedelta = OVERDUE_AFTER,
    ) -> HealthReport:
        """Every source's health at `now`, with its article counts."""
        with transaction(self._engine, "reading source health", write=False) as conn:
            found = _sources(conn)
            counts = _article_counts(conn, *recent_since(now))
        return health_report(
            found, counts, now=now, empty_after=empty_after, overdue_after=overdue_after
        )

    def summary(
        self,
        now: datetime,
        *,
        empty_after: int = EMPTY_AFTER,
        overdue_after: timedelta = OVERDUE_AFTER,
    ) -> HealthSummary:
        """How many sources are due, overdue, failing, empty, disabled … at `now`."""
        with transaction(self._engine, "reading source health", write=False) as conn:
            found = _sources(conn)
        report = health_report(
            found, {}, now=now, empty_after=empty_after, overdue_after=overdue_after
        )
        return report.summary


def _sources(conn: Connection) -> list[Source]:
    """Every source, without its article count."""
    return [source_from_row(row._mapping) for row in conn.execute(select(sources))]


def _article_counts(conn: Connection, day: datetime, week: datetime) -> dict[int, ArticleCounts]:
    """Source id -> its articles: all, first seen since `day`, first seen since `week`.

    Two grouped queries: the totals come from the (source_id, published) index alone; the
    recent counts read only the articles first seen since `week` where `first_seen` is indexed,
    else every row once. They group by `source_id + 0` so that SQLite does not walk the
    (source_id, published) index instead, which costs a row lookup per article (5x slower).
    """
    totals = select(articles.c.source_id, func.count()).group_by(articles.c.source_id)
    source_id = articles.c.source_id + literal_column("0")
    recent = (
        select(source_id, func.sum(case((articles.c.first_seen >= day, 1), else_=0)), func.count())
        .where(articles.c.first_seen >= week)
        .group_by(source_id)
    )
    found = {
        int(key): (int(in_day or 0), int(in_week)) for key, in_day, in_week in conn.execute(recent)
    }
    return {
        key: ArticleCounts(int(total), *found.get(key, (0, 0)))
        for key, total in conn.execute(totals)
    }
