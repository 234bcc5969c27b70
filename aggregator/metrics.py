"""Prometheus metrics of one process: what its passes fetched and rendered, and source gauges.

    record(result)        per UpdateResult: fetches by outcome, fetch duration, bytes, articles
                          new and updated, scheduler lag (when the result carries one)
    record_render(fmt)    per feed or page rendered by the web app
    exposition()          the text format; the source gauges (due, overdue, failing, empty,
                          disabled) are read from the store at that moment

Each `Metrics` keeps its own registry, so several apps (and tests) in one process never mix
their numbers. Counters are per process and start at zero (no `_created` series). Every
metric is listed in docs/monitoring.md. The only module that uses prometheus_client.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, get_args

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from aggregator.errors import StorageError
from aggregator.health import EMPTY_AFTER, OVERDUE_AFTER, HealthSummary
from aggregator.models import UpdateResult, UpdateStatus

if TYPE_CHECKING:
    from aggregator.store import Store

log = logging.getLogger("aggregator.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The media type of the text exposition format that `exposition()` writes."""

RENDER_FORMATS = ("rss", "atom", "json", "html", "opml")
"""The `format` label values of `aggregator_renders_total`."""

FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
LAG_BUCKETS = (0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0)

disable_created_metrics()  # type: ignore[no-untyped-call]  # no `*_created` series


class Metrics:
    """One process's metrics in a registry of its own; `record` fits `on_result` callbacks."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        empty_after: int = EMPTY_AFTER,
        overdue_after: timedelta = OVERDUE_AFTER,
    ) -> None:
        """Count into a new registry; with `store`, also report its source gauges."""
        self.registry = CollectorRegistry()
        registry = self.registry
        self._fetches = Counter(
            "aggregator_fetches",
            "Source fetches, by outcome (ok, not_modified, error, gone).",
            ["outcome"],
            registry=registry,
        )
        self._duration = Histogram(
            "aggregator_fetch_duration_seconds",
            "Time to fetch and process one source.",
            buckets=FETCH_BUCKETS,
            registry=registry,
        )
        self._bytes = Counter(
            "aggregator_fetched_bytes",
            "Response body bytes received from sources.",
            registry=registry,
        )
        self._articles = Counter(
            "aggregator_articles",
            "Articles stored, by change (new, updated).",
            ["change"],
            registry=registry,
        )
        self._lag = Histogram(
            "aggregator_scheduler_lag_seconds",
            "How late fetches started after their sources were due.",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self._renders = Counter(
            "aggregator_renders",
            "Feeds and pages rendered by the web app (cache misses), by format.",
            ["format"],
            registry=registry,
        )
        for outcome in get_args(UpdateStatus):
            self._fetches.labels(outcome)
        for change in ("new", "updated"):
            self._articles.labels(change)
        for fmt in RENDER_FORMATS:
            self._renders.labels(fmt)
        if store is not None:
            registry.register(SourceGauges(store, empty_after, overdue_after))

    def record(self, result: UpdateResult) -> None:
        """Count one source's pass."""
        self._fetches.labels(result.status).inc()
        self._duration.observe(result.ms / 1000)
        if result.bytes:
            self._bytes.inc(result.bytes)
        if result.new:
            self._articles.labels("new").inc(result.new)
        if result.updated:
            self._articles.labels("updated").inc(result.updated)
        if result.lag_ms is not None:
            self._lag.observe(max(0, result.lag_ms) / 1000)

    def record_render(self, kind: str) -> None:
        """Count one render of a feed or page; `kind` is one of RENDER_FORMATS."""
        self._renders.labels(kind).inc()

    def exposition(self) -> bytes:
        """Every metric in the Prometheus text format (reads the store: a blocking call)."""
        return generate_latest(self.registry)


class SourceGauges:
    """A collector: the store's sources by condition, counted at each scrape."""

    def __init__(self, store: Store, empty_after: int, overdue_after: timedelta) -> None:
        self._store = store
        self._empty_after = empty_after
        self._overdue_after = overdue_after

    def describe(self) -> Iterator[Metric]:
        """The gauges' names, without reading the store."""
        yield from _gauges(None, self._overdue_after, up=None)

    def collect(self) -> Iterator[Metric]:
        """The gauges as the store has them now; only `aggregator_database_up` 0 on failure."""
        try:
            summary = self._store.health.summary(
                datetime.now(UTC), empty_after=self._empty_after, overdue_after=self._overdue_after
            )
        except StorageError as exc:
            log.warning("metrics: cannot read the sources: %s", exc)
            summary = None
        yield from _gauges(summary, self._overdue_after, up=summary is not None)


def _gauges(
    summary: HealthSummary | None, overdue_after: timedelta, *, up: bool | None
) -> Iterator[Metric]:
    """The gauge families, with a sample each where known (`up` None: describing only)."""
    database = GaugeMetricFamily(
        "aggregator_database_up", "1 when the database answered this scrape, else 0."
    )
    if up is not None:
        database.add_metric([], 1 if up else 0)
    yield database
    grace = int(overdue_after.total_seconds())
    gauges = (
        ("aggregator_sources", "Sources in the database.", "sources"),
        ("aggregator_sources_due", "Enabled sources whose due time has come.", "due"),
        (
            "aggregator_sources_overdue",
            f"Enabled sources due for more than {grace} seconds.",
            "overdue",
        ),
        ("aggregator_sources_failing", "Enabled sources whose last fetch failed.", "failing"),
        (
            "aggregator_sources_error_streak_max",
            "The most failed fetches in a row of any enabled source.",
            "max_error_streak",
        ),
        (
            "aggregator_sources_empty",
            "Enabled sources with no entries for several successful fetches in a row.",
            "empty",
        ),
        (
            "aggregator_sources_disabled",
            "Sources disabled (by config, 410, or removal).",
            "disabled",
        ),
    )
    for name, documentation, field in gauges:
        family = GaugeMetricFamily(name, documentation)
        if summary is not None:
            family.add_metric([], getattr(summary, field))
        yield family
