"""Continuous dispatch (aggregator/dispatch.py) over a real store and the real Updater.

`store` runs each test on SQLite and (when configured) PostgreSQL; the tests that break the
database from outside (renamed table, held write lock) use `sqlite_store`, SQLite only.

The fetcher is the one swappable edge: here each URL answers when the test opens its gate,
so a test decides which sources are still in flight.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from aggregator.core import Updater, utcnow
from aggregator.dispatch import Dispatcher
from aggregator.logs import JsonFormatter
from aggregator.models import (
    Config,
    FetchRequest,
    FetchResult,
    FetchSettings,
    SourceConfig,
    SourceState,
    UpdateResult,
    WorkerSettings,
)
from aggregator.store import Store
from tests.server import FeedServer
from tests.test_core import config_for, ok, rss


class GatedFetcher:
    """Answers each URL with its canned result once the test opens that URL's gate."""

    def __init__(self, answers: dict[str, FetchResult], gated: set[str] = frozenset()) -> None:
        self.answers = answers
        self.gates = {url: asyncio.Event() for url in gated}
        self.requests: list[str] = []

    async def fetch(self, request: FetchRequest) -> FetchResult:
        self.requests.append(request.url)
        if request.url in self.gates:
            await self.gates[request.url].wait()
        return self.answers[request.url]

    def open(self, url: str) -> None:
        self.gates[url].set()


def url(name: str) -> str:
    return f"https://{name}.test/feed"


def not_modified(name: str) -> FetchResult:
    return FetchResult(url=url(name), status="not_modified", http_status=304)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db.sqlite"


@pytest.fixture
def sqlite_store(db_path: Path) -> Iterator[Store]:
    """A SQLite store with a short busy timeout, for tests that lock it from outside."""
    opened = Store(f"sqlite:///{db_path}", busy_timeout=0.1)
    yield opened
    opened.close()


Body = Callable[[Dispatcher, Updater, list[UpdateResult]], Awaitable[None]]


def run(
    store: Store, fetcher: GatedFetcher, names: tuple[str, ...], body: Body
) -> list[UpdateResult]:
    """Sync `names` into the store, then run `body` in an event loop with a fresh Dispatcher;
    returns the results the dispatcher reported."""
    results: list[UpdateResult] = []
    with Updater(
        config_for(*names), store, fetcher=fetcher, workers=0, rng=random.Random(1)
    ) as updater:
        updater.sync()

        async def main() -> None:
            dispatcher = Dispatcher(updater, on_result=results.append)
            try:
                await body(dispatcher, updater, results)
            finally:
                await dispatcher.drain(0)

        asyncio.run(main())
    return results


async def settle() -> None:
    """Let the tasks started so far run until they wait (on a gate, or are done)."""
    for _ in range(20):
        await asyncio.sleep(0.01)


def test_a_source_in_flight_is_never_started_twice(store: Store) -> None:
    fetcher = GatedFetcher(
        {url("a"): ok(url("a"), rss(("1", "One"))), url("b"): not_modified("b")},
        gated={url("a"), url("b")},
    )

    async def body(dispatcher: Dispatcher, updater: Updater, results: list[UpdateResult]) -> None:
        assert await dispatcher.tick() == 2
        await settle()
        assert await dispatcher.tick() == 0  # both still in flight
        fetcher.open(url("b"))
        await settle()
        b = store.source("b")
        assert b is not None and b.id in dispatcher.busy()  # done, but its state is queued
        assert dispatcher.in_flight == 1
        assert await dispatcher.tick() == 0  # the tick stores b's state before it looks
        fetcher.open(url("a"))
        await settle()
        assert await dispatcher.tick() == 0
        assert dispatcher.busy() == set()

    run(store, fetcher, ("a", "b"), body)
    assert sorted(fetcher.requests) == [url("a"), url("b")]
    a, b = store.source("a"), store.source("b")
    assert a is not None and a.article_count == 1 and a.last_status == "ok"
    assert b is not None and b.last_status == "not_modified"
    assert store.due_now(utcnow()) == []


def test_lag_is_from_due_time_to_fetch_start_and_reaches_the_json_log(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    fetcher = GatedFetcher({url("late"): not_modified("late"), url("new"): not_modified("new")})
    store.sync_sources(config_for("late", "new").sources, utcnow())
    late = store.source("late")
    assert late is not None
    due = utcnow() - timedelta(seconds=90)
    store.save_states([(late.id, SourceState(url("late"), None, None, due, due, "ok", None, 0))])
    caplog.set_level(logging.INFO, logger="aggregator.update")

    async def body(dispatcher: Dispatcher, updater: Updater, results: list[UpdateResult]) -> None:
        assert await dispatcher.tick() == 2
        await settle()

    by_name = {r.source: r for r in run(store, fetcher, ("late", "new"), body)}
    lag = by_name["late"].lag_ms
    assert lag is not None and lag >= 90_000
    assert by_name["new"].lag_ms is None  # never scheduled: no lag to speak of
    [record] = [r for r in caplog.records if r.getMessage().startswith("source=late ")]
    assert f'"lag_ms": {lag}' in JsonFormatter().format(record)


def test_drain_lets_sources_finish_then_cancels_the_rest(store: Store) -> None:
    fetcher = GatedFetcher(
        {url("quick"): ok(url("quick"), rss(("1", "One"))), url("stuck"): not_modified("stuck")},
        gated={url("quick"), url("stuck")},
    )
    cut: list[str] = []

    async def body(dispatcher: Dispatcher, updater: Updater, results: list[UpdateResult]) -> None:
        assert await dispatcher.tick() == 2
        await settle()
        asyncio.get_running_loop().call_later(0.05, fetcher.open, url("quick"))
        cut.extend(await dispatcher.drain(0.5))
        assert await dispatcher.tick() == 0  # drained: starts nothing more

    run(store, fetcher, ("quick", "stuck"), body)
    assert cut == ["stuck"]
    quick, stuck = store.source("quick"), store.source("stuck")
    assert quick is not None and quick.article_count == 1
    assert stuck is not None and stuck.last_fetched_at is None and stuck.last_status is None
    assert [s.name for s in store.due_now(utcnow())] == ["stuck"]


def test_drain_stops_waiting_when_hurried(store: Store) -> None:
    fetcher = GatedFetcher({url("stuck"): not_modified("stuck")}, gated={url("stuck")})
    cut: list[str] = []

    async def body(dispatcher: Dispatcher, updater: Updater, results: list[UpdateResult]) -> None:
        assert await dispatcher.tick() == 1
        await settle()
        hurry = asyncio.Event()
        asyncio.get_running_loop().call_later(0.05, hurry.set)
        cut.extend(await asyncio.wait_for(dispatcher.drain(60, hurry=hurry), timeout=10))

    run(store, fetcher, ("stuck",), body)
    assert cut == ["stuck"]


def test_a_failed_due_query_is_logged_and_the_next_tick_retries(
    sqlite_store: Store, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = sqlite_store
    fetcher = GatedFetcher({url("a"): not_modified("a")})
    other = sqlite3.connect(db_path, isolation_level=None)

    async def body(dispatcher: Dispatcher, updater: Updater, results: list[UpdateResult]) -> None:
        other.execute("ALTER TABLE sources RENAME TO sources_away")
        assert await dispatcher.tick() == 0
        other.execute("ALTER TABLE sources_away RENAME TO sources")
        assert await dispatcher.tick() == 1
        await settle()

    run(store, fetcher, ("a",), body)
    other.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        "tick: claiming due sources: no such table: sources; trying again at the next tick"
    ]
    assert fetcher.requests == [url("a")]


def test_states_that_cannot_be_saved_are_fetched_again_at_the_next_tick(
    sqlite_store: Store, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = sqlite_store
    fetcher = GatedFetcher({url("a"): not_modified("a")})
    holder = sqlite3.connect(db_path, isolation_level=None)

    async def body(dispatcher: Dispatcher, updater: Updater, results: list[UpdateResult]) -> None:
        assert await dispatcher.tick() == 1
        await settle()
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past busy_timeout
        assert await dispatcher.tick() == 0  # the flush failed, and so did the claim
        holder.execute("ROLLBACK")
        assert await dispatcher.tick() == 1  # "a" is due again, its lease still ours: started
        await settle()
        assert await dispatcher.tick() == 0  # stored at last; not due any more

    run(store, fetcher, ("a",), body)
    holder.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        "could not save 1 source states (due again): saving source states: database is locked",
        "tick: claiming due sources: database is locked; trying again at the next tick",
    ]
    assert fetcher.requests == [url("a"), url("a")]
    a = store.source("a")
    assert a is not None and a.last_status == "not_modified"


def test_the_daemons_one_fetcher_follows_a_reload_of_fetch_settings(
    feed_server: FeedServer, store: Store
) -> None:
    names = ("a", "b", "c")
    for name in names:
        feed_server.add(f"/{name}.xml", rss((name, f"{name} news")), delay=0.3)
    sources = tuple(SourceConfig(name=n, url=feed_server.url(f"/{n}.xml")) for n in names)
    config = Config(
        path="test.yaml", database_url="", sources=sources, fetch=FetchSettings(per_host=1)
    )
    peaks: list[int] = []

    async def main(updater: Updater) -> None:
        await updater.start_fetcher()
        try:
            for when in (utcnow(), utcnow() + timedelta(days=2)):  # the second: all due again
                dispatcher = Dispatcher(updater)
                assert await dispatcher.tick(now=when) == 3
                assert await dispatcher.drain(60) == []
                peaks.append(feed_server.peak_in_flight())
                feed_server.reset_counts()
                updater.reconfigure(replace(config, fetch=FetchSettings(per_host=3)))
        finally:
            await updater.stop_fetcher()

    with Updater(config, store, workers=0) as updater:
        updater.sync()
        asyncio.run(main(updater))
    assert peaks == [1, 3]


def test_due_now_lists_never_scheduled_then_soonest_and_skips_what_it_is_told(
    store: Store,
) -> None:
    now = utcnow()
    store.sync_sources(config_for("later", "new", "sooner", "future", "off").sources, now)
    ids = {s.name: s.id for s in store.sources()}

    def state(due: datetime, enabled: bool = True) -> SourceState:
        return SourceState("https://x.test/", None, None, now, due, "ok", None, 0, enabled=enabled)

    store.save_states(
        [
            (ids["later"], state(now - timedelta(minutes=1))),
            (ids["sooner"], state(now - timedelta(minutes=5))),
            (ids["future"], state(now + timedelta(minutes=1))),
            (ids["off"], state(now - timedelta(minutes=9), enabled=False)),
        ]
    )
    assert [s.name for s in store.due_now(now)] == ["new", "sooner", "later"]
    assert [s.name for s in store.due_now(now, skip={ids["sooner"]})] == ["new", "later"]


def test_a_source_in_flight_past_its_lease_keeps_it_renewed(store: Store, db_url: str) -> None:
    """A live worker's long fetch does not lose its source to another worker."""
    fetcher = GatedFetcher({url("slow"): ok(url("slow"), rss(("1", "One")))}, gated={url("slow")})
    config = replace(config_for("slow"), workers=WorkerSettings(lease=1.5))
    other = Store(db_url)
    try:
        with Updater(config, store, fetcher=fetcher, workers=0) as updater:
            updater.sync()

            async def main() -> None:
                dispatcher = Dispatcher(updater, owner="w1")
                try:
                    assert await dispatcher.tick() == 1
                    [first] = store.leases.held()
                    await asyncio.sleep(0.6)  # past a third of the lease: the tick renews
                    assert await dispatcher.tick() == 0
                    [renewed] = store.leases.held()
                    assert renewed.owner == "w1" and renewed.expires > first.expires
                    await asyncio.sleep(first.expires.timestamp() - utcnow().timestamp() + 0.05)
                    assert other.leases.claim_due("w2", utcnow(), 10, 60) == []  # still w1's
                    fetcher.open(url("slow"))
                    await settle()
                finally:
                    await dispatcher.drain(1)

            asyncio.run(main())
    finally:
        other.close()
    slow = store.source("slow")
    assert slow is not None and slow.article_count == 1  # stored by w1, its lease given back
    assert store.leases.held() == []
