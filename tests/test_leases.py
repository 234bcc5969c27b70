"""Leases (aggregator/store_leases.py) on real databases: SQLite, and PostgreSQL when set.

Two `Store` objects on one database stand for two worker processes; the concurrent tests use
one store per thread, each claiming through its own connections, as separate processes do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

import pytest

from aggregator.errors import StorageError
from aggregator.models import Article, Source, SourceConfig, SourceState
from aggregator.store import Store

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LEASE = 60.0
T = TypeVar("T")


@pytest.fixture
def other(db_url: str, store: Store) -> Iterator[Store]:
    """A second store on the same database (another worker), opened after `store`."""
    opened = Store(db_url)
    yield opened
    opened.close()


def config(name: str, **fields: bool) -> SourceConfig:
    return SourceConfig(name=name, url=f"https://{name}.example/feed", **fields)


def article(source: str, id: str) -> Article:
    return Article(
        source=source,
        id=id,
        url=f"https://{source}.example/{id}",
        title=f"Title {id}",
        summary="",
        content=f"<p>Content {id}</p>",
        text=f"Content {id}",
        published=NOW,
        first_seen=NOW,
        content_hash=id,
    )


def state(url: str, last_status: Literal["ok", "error"] = "ok") -> SourceState:
    return SourceState(
        url=url,
        etag=None,
        last_modified=None,
        last_fetched_at=NOW,
        next_fetch_at=NOW + timedelta(minutes=30),
        last_status=last_status,
        last_error=None,
        error_streak=0,
    )


def add(store: Store, *names: str, due: dict[str, timedelta] | None = None) -> dict[str, int]:
    """Sync sources `names`: those in `due` due at NOW + their offset, the rest never
    scheduled (next_fetch_at NULL). Returns name -> id."""
    offsets = due or {}
    scheduled = [name for name in names if name in offsets]
    if scheduled:
        store.sync_sources([config(name) for name in scheduled], NOW)
        store.schedule_new_sources(lambda found: [NOW + offsets[name] for name in found])
    store.sync_sources([config(name) for name in names], NOW)
    return {source.name: source.id for source in store.sources()}


def names(found: list[Source]) -> list[str]:
    return [source.name for source in found]


# ---------------------------------------------------------------- one claimer


def test_claims_never_scheduled_sources_first_then_the_soonest_due(store: Store) -> None:
    past = {"late": -timedelta(minutes=5), "later": -timedelta(minutes=1)}
    add(store, "new", "late", "later", "future", due={**past, "future": timedelta(hours=1)})
    assert names(store.leases.claim_due("w1", NOW, 2, LEASE)) == ["new", "late"]
    assert names(store.leases.claim_due("w2", NOW, 10, LEASE)) == ["later"]
    assert store.leases.claim_due("w3", NOW, 10, LEASE) == []  # "future" is not due
    held = {lease.source: lease for lease in store.leases.held()}
    assert sorted(held) == ["late", "later", "new"]
    assert [held[name].owner for name in ("new", "late", "later")] == ["w1", "w1", "w2"]
    assert {lease.expires for lease in held.values()} == {NOW + timedelta(seconds=LEASE)}


def test_disabled_and_excluded_sources_are_not_claimed(store: Store) -> None:
    ids = add(store, "a", "b", "c", due={"a": timedelta(0), "b": timedelta(0), "c": timedelta(0)})
    store.sync_sources([config("a"), config("b"), config("c", enabled=False)], NOW)
    assert names(store.leases.claim_due("w1", NOW, 10, LEASE, exclude={ids["a"]})) == ["b"]


def test_a_live_lease_keeps_other_workers_off_until_it_expires(store: Store, other: Store) -> None:
    add(store, "a", "b")
    assert names(store.leases.claim_due("w1", NOW, 10, LEASE)) == ["a", "b"]
    almost = NOW + timedelta(seconds=LEASE - 1)
    assert other.leases.claim_due("w2", almost, 10, LEASE) == []
    assert names(store.leases.claim_due("w1", almost, 10, LEASE)) == ["a", "b"]  # its own
    expired = almost + timedelta(seconds=LEASE + 1)
    assert names(other.leases.claim_due("w2", expired, 1, LEASE)) == ["a"]
    assert {(lease.source, lease.owner) for lease in store.leases.held()} == {
        ("a", "w2"),
        ("b", "w1"),
    }


def test_renewing_keeps_a_lease_past_its_first_expiry(store: Store, other: Store) -> None:
    ids = add(store, "a", "b")
    store.leases.claim_due("w1", NOW, 10, LEASE)
    later = NOW + timedelta(seconds=LEASE * 2 / 3)
    assert store.leases.renew("w1", {ids["a"]}, later, LEASE) == 1
    past_first = NOW + timedelta(seconds=LEASE + 1)
    assert names(other.leases.claim_due("w2", past_first, 10, LEASE)) == ["b"]  # not "a"
    # w1 lost "b" to w2: renewing it does nothing, and w2 keeps it
    assert store.leases.renew("w1", set(ids.values()), past_first, LEASE) == 1
    assert {(lease.source, lease.owner) for lease in store.leases.held()} == {
        ("a", "w1"),
        ("b", "w2"),
    }


def test_a_state_write_releases_the_lease_and_a_lost_lease_writes_nothing(
    store: Store, other: Store
) -> None:
    ids = add(store, "a", "b", "c")
    store.leases.claim_due("w1", NOW, 10, LEASE)
    store.save_states([(ids["c"], state("https://c.example/feed"))])  # w1 still holds c
    stolen = NOW + timedelta(seconds=LEASE + 1)  # w1 stalled past its lease; w2 took a and b
    assert names(other.leases.claim_due("w2", stolen, 10, LEASE)) == ["a", "b"]

    with pytest.raises(StorageError) as caught:
        store.save_update(ids["a"], state("https://a.example/feed"), [article("a", "1")])
    assert (
        str(caught.value)
        == "saving source a: not written: its lease is held by w2, which stores it"
    )
    store.save_states([(ids["b"], state("https://b.example/feed", last_status="error"))])
    assert store.articles() == []
    b = store.source("b")
    assert b is not None and b.last_status is None  # w1's late state was dropped

    assert other.save_update(ids["a"], state("https://a.example/feed"), [article("a", "1")]) == (
        1,
        0,
    )
    other.save_states([(ids["b"], state("https://b.example/feed"))])
    assert store.leases.held() == []  # every write gave its lease back
    assert [a.id for a in store.articles()] == ["1"]


def test_a_writer_that_claims_nothing_waits_for_live_leases(store: Store, other: Store) -> None:
    """`aggregator fetch` (no claims) does not overwrite a source a worker is updating."""
    ids = add(store, "a")
    store.leases.claim_due("w1", datetime.now(UTC), 10, LEASE)  # a live lease
    with pytest.raises(StorageError, match="its lease is held by w1"):
        other.save_update(ids["a"], state("https://a.example/feed"), [article("a", "1")])


def test_release_gives_back_only_the_owners_unwritten_leases(store: Store) -> None:
    ids = add(store, "a", "b", "c")
    store.leases.claim_due("w1", NOW, 2, LEASE)
    store.leases.claim_due("w2", NOW, 2, LEASE)
    assert store.leases.release("w1", [ids["c"]]) == 0  # not w1's
    assert store.leases.release("w1") == 2
    assert [(lease.source, lease.owner) for lease in store.leases.held()] == [("c", "w2")]


def test_release_process_gives_back_a_crashed_process_leases(store: Store) -> None:
    from aggregator.store_leases import process_prefix

    add(store, "a", "b", "c")
    store.leases.claim_due(process_prefix(4242) + "x1", NOW, 2, LEASE)
    store.leases.claim_due(process_prefix(42424) + "x2", NOW, 1, LEASE)  # another pid
    assert store.leases.release_process(4242) == 2
    assert [lease.source for lease in store.leases.held()] == ["c"]


# ---------------------------------------------------------------- many claimers at once


def in_threads(count: int, work: Callable[[int], T]) -> list[T]:
    """Run work(0..count-1) in `count` threads started together; their results, in order."""
    start = threading.Barrier(count)
    results: list[T | None] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = work(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return [result for result in results if result is not None]


def test_concurrent_claimers_never_claim_the_same_source(db_url: str, store: Store) -> None:
    add(store, *(f"s{i:03}" for i in range(300)))
    stores = [Store(db_url) for _ in range(4)]
    try:

        def claim_all(index: int) -> list[str]:
            mine: dict[int, str] = {}  # its own leases are free to it: excluded, as in flight
            leases = stores[index].leases
            while found := leases.claim_due(f"w{index}", NOW, 7, LEASE, exclude=set(mine)):
                mine.update((source.id, source.name) for source in found)
            return list(mine.values())

        claimed = in_threads(4, claim_all)
    finally:
        for opened in stores:
            opened.close()
    every = [name for mine in claimed for name in mine]
    assert sorted(every) == [f"s{i:03}" for i in range(300)]  # each once, none left out


def test_workers_starting_together_sync_the_same_new_sources_once(
    db_url: str, store: Store
) -> None:
    configs = [config(f"s{i:03}") for i in range(200)]
    stores = [Store(db_url) for _ in range(4)]
    try:
        in_threads(4, lambda index: stores[index].sync_sources(configs, NOW))
    finally:
        for opened in stores:
            opened.close()
    assert [source.name for source in store.sources()] == [c.name for c in configs]
