"""The lease query alone: how many claims a second several processes get from one PostgreSQL.

Stages:
  1. fill `sources` in a fresh database with `count` enabled sources, every one due, their
     due times spread over the past hour (one INSERT ... SELECT generate_series);
  2. start `processes` claimers at once (spawned processes, each its own Store and
     connection), each calling `Store.leases.claim_due(owner, now, batch, lease)` in a loop
     for `seconds` or until nothing is left to claim (each claim under a new owner id, so
     that no claimer takes back its own earlier leases, as a worker excludes what it has in
     flight), each claimed batch then moved an hour ahead with its lease given back in one
     UPDATE (what the state writes do), so that claimed rows do not pile up at the head of
     the due index as they never would in a running cluster;
  3. check that no source was claimed twice, and return claims/s (transactions) and
     sources claimed/s over all processes.

Nothing is fetched: this is the ceiling the claim itself puts on
the sources a second that a cluster of workers can start.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy
from sqlalchemy import update

from aggregator.schema import sources
from aggregator.store import Store
from aggregator.store_leases import RELEASED

_FILL = """
INSERT INTO sources (name, config_url, url, enabled, type, tags, headers, error_streak,
                     empty_streak, created_at, next_fetch_at)
SELECT 's' || n, 'http://127.0.0.1/' || n, 'http://127.0.0.1/' || n, true, 'feed', '[]', '[]',
       0, 0, now(), now() - mod(n, 3600) * interval '1 second'
  FROM generate_series(1, {count}) AS n
"""


@dataclass(frozen=True)
class ClaimFigures:
    """What `measure` found."""

    processes: int
    batch: int
    sources: int
    seconds: float
    claims: int  # claim transactions that returned at least one source
    claimed: int  # sources claimed in all
    duplicates: int  # sources claimed more than once (must be 0)
    claim_seconds: float  # time spent inside claim_due, summed over the processes

    @property
    def claims_per_s(self) -> float:
        return self.claims / self.seconds

    @property
    def sources_per_s(self) -> float:
        return self.claimed / self.seconds

    @property
    def ms_per_claim(self) -> float:
        return 1000 * self.claim_seconds / max(self.claims, 1)


def fill(url: str, count: int) -> None:
    """Create the schema in the (empty) database at `url` and `count` due sources."""
    Store(url).close()
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(_FILL.format(count=int(count)))
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE sources"
            )
    finally:
        engine.dispose()


def _claimer(
    url: str, index: int, batch: int, seconds: float, start: float, out: multiprocessing.Queue
) -> None:
    store = Store(url)
    engine = sqlalchemy.create_engine(url)
    claims, ids, in_claims = 0, [], 0.0
    try:
        while time.time() < start:
            time.sleep(0.001)
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            owner = f"bench:{index}:{claims}"  # a new owner: its earlier leases are not its own
            now = datetime.now(UTC)
            asked = time.monotonic()
            found = store.leases.claim_due(owner, now, batch, 3600.0)
            in_claims += time.monotonic() - asked
            if not found:
                break
            claims += 1
            claimed = [source.id for source in found]
            ids += claimed
            with engine.begin() as conn:  # done: due again in an hour, the lease given back
                conn.execute(
                    update(sources)
                    .where(sources.c.id.in_(claimed))
                    .values(next_fetch_at=now + timedelta(hours=1), **RELEASED)
                )
        out.put((claims, ids, time.monotonic() - began, in_claims))
    finally:
        engine.dispose()
        store.close()


def measure(url: str, processes: int, batch: int, seconds: float, count: int) -> ClaimFigures:
    """Run the claimers against the sources `fill` made; see the module docstring."""
    context = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = context.Queue()
    start = time.time() + 3.0  # every process up and connected before the first claim
    workers = [
        context.Process(target=_claimer, args=(url, i, batch, seconds, start, out))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=seconds + 120) for _ in workers]
    for worker in workers:
        worker.join(30)
    every = [pk for _, ids, _, _ in results for pk in ids]
    return ClaimFigures(
        processes=processes,
        batch=batch,
        sources=count,
        seconds=max(elapsed for _, _, elapsed, _ in results),
        claims=sum(claims for claims, _, _, _ in results),
        claimed=len(every),
        duplicates=len(every) - len(set(every)),
        claim_seconds=sum(spent for _, _, _, spent in results),
    )
