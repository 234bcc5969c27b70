"""Tests for metrics: recorded results and store gauges, read back with Prometheus's parser."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families

from aggregator.core import update_due
from aggregator.metrics import CONTENT_TYPE, Metrics
from aggregator.models import Config, SourceConfig, UpdateResult
from aggregator.store import Store
from aggregator.web import create_app
from tests.feeddata import config as site_config
from tests.feeddata import fill_store, item
from tests.healthdata import fill_health
from tests.liveserver import LiveServer
from tests.server import FeedServer

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: bytes | str) -> Samples:
    """Every sample of an exposition, by (name, sorted labels)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


def types(text: bytes) -> dict[str, str]:
    return {f.name: f.type for f in text_string_to_metric_families(text.decode("utf-8"))}


RESULTS = [
    UpdateResult("a", "ok", new=3, updated=1, ms=120, bytes=5000, entries=4, lag_ms=800),
    UpdateResult("b", "ok", new=0, updated=2, ms=40, bytes=1000, entries=2, lag_ms=20_000),
    UpdateResult("c", "not_modified", ms=15),
    UpdateResult("d", "error", ms=3000, reason="HTTP 500", bytes=120),
    UpdateResult("e", "gone", ms=70, reason="410 Gone"),
    UpdateResult("f", "error", ms=45_000, reason="timed out"),
]


# ---------------------------------------------------------------- recorded results


def test_recorded_results_read_back() -> None:
    metrics = Metrics()
    for result in RESULTS:
        metrics.record(result)
    found = samples(metrics.exposition())
    assert value(found, "aggregator_fetches_total", outcome="ok") == 2
    assert value(found, "aggregator_fetches_total", outcome="not_modified") == 1
    assert value(found, "aggregator_fetches_total", outcome="error") == 2
    assert value(found, "aggregator_fetches_total", outcome="gone") == 1
    assert value(found, "aggregator_fetched_bytes_total") == 6120
    assert value(found, "aggregator_articles_total", change="new") == 3
    assert value(found, "aggregator_articles_total", change="updated") == 3
    assert value(found, "aggregator_fetch_duration_seconds_count") == 6
    assert value(found, "aggregator_fetch_duration_seconds_sum") == pytest.approx(48.245)
    assert value(found, "aggregator_fetch_duration_seconds_bucket", le="0.05") == 2
    assert value(found, "aggregator_fetch_duration_seconds_bucket", le="5.0") == 5
    assert value(found, "aggregator_fetch_duration_seconds_bucket", le="+Inf") == 6
    # only the two results that carry a lag are observed
    assert value(found, "aggregator_scheduler_lag_seconds_count") == 2
    assert value(found, "aggregator_scheduler_lag_seconds_sum") == pytest.approx(20.8)
    assert value(found, "aggregator_scheduler_lag_seconds_bucket", le="1.0") == 1
    assert value(found, "aggregator_scheduler_lag_seconds_bucket", le="15.0") == 1
    assert value(found, "aggregator_scheduler_lag_seconds_bucket", le="30.0") == 2


def test_every_metric_has_its_type_and_starts_at_zero() -> None:
    metrics = Metrics()
    text = metrics.exposition()
    assert types(text) == {
        "aggregator_fetches": "counter",
        "aggregator_fetch_duration_seconds": "histogram",
        "aggregator_fetched_bytes": "counter",
        "aggregator_articles": "counter",
        "aggregator_scheduler_lag_seconds": "histogram",
        "aggregator_renders": "counter",
    }
    found = samples(text)
    for outcome in ("ok", "not_modified", "error", "gone"):
        assert value(found, "aggregator_fetches_total", outcome=outcome) == 0
    for fmt in ("rss", "atom", "json", "html", "opml"):
        assert value(found, "aggregator_renders_total", format=fmt) == 0


def test_renders_by_format() -> None:
    metrics = Metrics()
    for kind in ("rss", "rss", "html", "opml"):
        metrics.record_render(kind)
    found = samples(metrics.exposition())
    assert value(found, "aggregator_renders_total", format="rss") == 2
    assert value(found, "aggregator_renders_total", format="html") == 1
    assert value(found, "aggregator_renders_total", format="atom") == 0


def test_each_metrics_keeps_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.record(RESULTS[0])
    assert value(samples(first.exposition()), "aggregator_fetches_total", outcome="ok") == 1
    assert value(samples(second.exposition()), "aggregator_fetches_total", outcome="ok") == 0
    assert "aggregator_fetches" not in prometheus_client.generate_latest().decode()


# ---------------------------------------------------------------- gauges from the store


def test_source_gauges_follow_the_store(store: Store) -> None:
    fill_health(store, datetime.now(UTC))
    text = Metrics(store).exposition()
    assert types(text)["aggregator_sources_overdue"] == "gauge"
    found = samples(text)
    assert value(found, "aggregator_database_up") == 1
    assert value(found, "aggregator_sources") == 7
    assert value(found, "aggregator_sources_due") == 2
    assert value(found, "aggregator_sources_overdue") == 1
    assert value(found, "aggregator_sources_failing") == 1
    assert value(found, "aggregator_sources_empty") == 1
    assert value(found, "aggregator_sources_disabled") == 2
    assert value(found, "aggregator_sources_error_streak_max") == 4
    again = samples(Metrics(store, empty_after=9).exposition())
    assert value(again, "aggregator_sources_empty") == 0


def test_unreadable_database_gives_database_down(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    store = Store(f"sqlite:///{path}")
    fill_health(store, datetime.now(UTC))
    store.close()
    for leftover in tmp_path.glob("broken.db-*"):
        leftover.unlink()
    path.write_bytes(b"this is not a database, it only has the name of one" * 100)
    try:
        found = samples(Metrics(store).exposition())
    finally:
        store.close()
    assert value(found, "aggregator_database_up") == 0
    assert ("aggregator_sources", ()) not in found
    assert value(found, "aggregator_fetches_total", outcome="ok") == 0


# ---------------------------------------------------------------- end to end

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<link>https://example.test/</link><description>d</description>
<item><guid>one</guid><title>One</title><link>https://example.test/1</link></item>
<item><guid>two</guid><title>Two</title><link>https://example.test/2</link></item>
</channel></rss>"""


def test_a_real_pass_is_counted(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.add("/rss.xml", RSS)
    feed_server.add("/broken", "", status=500)
    url = f"sqlite:///{tmp_path / 'pass.db'}"
    settings = Config(
        path="aggregator.yaml",
        database_url=url,
        sources=(
            SourceConfig(name="good", url=feed_server.url("/rss.xml")),
            SourceConfig(name="bad", url=feed_server.url("/broken")),
        ),
    )
    store = Store(url)
    metrics = Metrics(store)
    try:
        update_due(settings, store, on_result=metrics.record)
        update_due(settings, store, everything=True, on_result=metrics.record)
        found = samples(metrics.exposition())
    finally:
        store.close()
    assert value(found, "aggregator_fetches_total", outcome="ok") == 1
    assert value(found, "aggregator_fetches_total", outcome="not_modified") == 1
    assert value(found, "aggregator_fetches_total", outcome="error") == 2
    assert value(found, "aggregator_articles_total", change="new") == 2
    assert value(found, "aggregator_fetched_bytes_total") == len(RSS.encode())
    assert value(found, "aggregator_fetch_duration_seconds_count") == 4
    assert value(found, "aggregator_sources_failing") == 1
    assert value(found, "aggregator_sources") == 2


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """The web app over a small filled store, with metrics of its own."""
    url = f"sqlite:///{tmp_path / 'web.db'}"
    store = Store(url)
    fill_store(store, [item(1), item(2, source="factory-news", topics=("manufacturing",))])
    server = LiveServer(create_app(site_config(url), store, metrics=Metrics(store)))
    yield server
    server.close()
    store.close()


def test_metrics_route_serves_the_text_format(live: LiveServer) -> None:
    assert live.request("/feeds/policy.xml").status == 200
    assert live.request("/feeds/policy.xml").status == 200  # a cache hit: no render
    assert live.request("/feeds/all.atom").status == 200
    assert live.request("/topics/policy").status == 200
    assert live.request("/opml.xml").status == 200
    live.app.state.metrics.record(RESULTS[0])
    reply = live.request("/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"] == CONTENT_TYPE
    assert reply.headers["cache-control"] == "no-store"
    found = samples(reply.body)
    assert value(found, "aggregator_renders_total", format="rss") == 1
    assert value(found, "aggregator_renders_total", format="atom") == 1
    assert value(found, "aggregator_renders_total", format="html") == 1
    assert value(found, "aggregator_renders_total", format="opml") == 1
    assert value(found, "aggregator_renders_total", format="json") == 0
    assert value(found, "aggregator_fetches_total", outcome="ok") == 1
    assert value(found, "aggregator_sources") == 2
    assert value(found, "aggregator_database_up") == 1
    assert live.request("/metrics", method="HEAD").body == b""


def test_create_app_makes_its_own_metrics(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'own.db'}"
    store = Store(url)
    try:
        first = create_app(site_config(url), store)
        second = create_app(site_config(url), store)
        assert isinstance(first.state.metrics, Metrics)
        assert first.state.metrics is not second.state.metrics
        assert value(samples(first.state.metrics.exposition()), "aggregator_database_up") == 1
    finally:
        store.close()
