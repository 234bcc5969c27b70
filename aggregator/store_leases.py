"""Leases: which worker is updating which source, so that many processes share one database.

    claim_due(owner, now, limit, lease_seconds, exclude)     one write transaction:
        UPDATE sources SET lease_owner = owner, lease_expires = now + lease_seconds
         WHERE id IN (SELECT id FROM sources
                       WHERE enabled AND next_fetch_at IS NULL AND <free> AND id NOT IN exclude
                       LIMIT n FOR UPDATE SKIP LOCKED)                    never scheduled first
        RETURNING *
        the same again for `next_fetch_at <= now ORDER BY next_fetch_at`, up to what is left
    renew(owner, ids, now, lease_seconds)    while a worker lives, every lease/3 seconds:
        UPDATE sources SET lease_expires = now + lease_seconds
         WHERE lease_owner = owner AND id IN ids                           (its sources in flight)
    state write     store's `_STATE_UPDATE` carries HELD in its WHERE and RELEASED in its SET:
                    the state is written, and the lease given back, only while the writer holds
                    it; a writer that lost its lease writes nothing
    release(owner)  at stop: give back the leases of sources not written (best effort)
    release_process(pid)  at start, when the daemon's pid file names a process that is gone:
                    give back that crashed process's leases at once rather than at expiry

A lease is free when nobody holds it, when it has expired, or when the claimer holds it already
(its own lease, left by a write that failed: the caller excludes what it has in flight). A live
worker renews the leases of its sources in flight, so a long wait for a fetch slot or a long
page pass keeps its sources; only a worker that stops renewing (it died, or lost the database)
loses them, `lease` seconds after its last renewal. Two
steps rather than one `ORDER BY next_fetch_at NULLS FIRST`: PostgreSQL's index keeps NULLs
last, so that order would sort every due row on every claim; each step here walks the partial
index `ix_sources_due` and stops after `limit` rows. On PostgreSQL, FOR UPDATE SKIP LOCKED lets
concurrent claimers pass over each other's rows instead of waiting; a row another claimer
committed meanwhile is re-checked and no longer free. SQLite drops FOR UPDATE and serializes
claimers with BEGIN IMMEDIATE.

Writers that claim nothing (`aggregator fetch`) write a state only while no live lease is held
by anyone else. Times are the callers' clocks: the machines' clocks must agree (NTP) to well
under the lease time.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Text,
    and_,
    bindparam,
    func,
    null,
    or_,
    select,
    update,
)

from aggregator.models import Source
from aggregator.schema import UTCDateTime, sources
from aggregator.store_engine import transaction
from aggregator.store_rows import source_from_row

_OWNER = bindparam("_lease_owner", type_=Text)
_NOW = bindparam("_lease_now", type_=UTCDateTime)

HELD = or_(
    sources.c.lease_owner == _OWNER,
    and_(
        _OWNER.is_(None),
        or_(sources.c.lease_owner.is_(None), sources.c.lease_expires < _NOW),
    ),
)
"""WHERE of a state write: the writer holds the lease (or, claiming nothing, no one else holds
a live one). Its parameters come from `Leases.params`."""

RELEASED: dict[str, Any] = {"lease_owner": null(), "lease_expires": null()}
"""SET of a state write: the lease is given back with the state."""


_SYNC_LOCK = 0x61676753  # "aggS": the advisory lock that one sync at a time holds


def one_sync_at_a_time(conn: Connection) -> None:
    """Make the caller's transaction wait until no other process is syncing sources: workers
    started together on one PostgreSQL would otherwise insert the same new sources at once.
    (SQLite's writers already take turns.)"""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_SYNC_LOCK)))


def lease_owner() -> str:
    """A new owner id for one worker: hostname:pid:random."""
    return f"{process_prefix(os.getpid())}{secrets.token_hex(4)}"


def process_prefix(pid: int) -> str:
    """The start of the owner ids of process `pid` on this host."""
    return f"{socket.gethostname()}:{pid}:"


@dataclass(frozen=True)
class Lease:
    """A source's lease as stored; from the database to tests and operators."""

    source_id: int
    source: str
    owner: str
    expires: datetime


class Leases:
    """Lease queries over one store's engine; reached as `Store.leases`.

    Remembers which owner claimed each source through it, so the store's state write can say
    whose lease it releases. Safe to use from several threads.
    """

    def __init__(self, engine: Engine, names: dict[int, str] | None = None) -> None:
        self._engine = engine
        self._names = {} if names is None else names  # source id -> name, for error messages
        self._held: dict[int, str] = {}  # source id -> owner that claimed it here
        self._lock = threading.Lock()

    def claim_due(
        self,
        owner: str,
        now: datetime,
        limit: int,
        lease_seconds: float,
        exclude: Collection[int] = (),
    ) -> list[Source]:
        """Lease up to `limit` enabled sources due at `now` (never scheduled ones first, then
        the soonest due), except those in `exclude`, to `owner` until now + lease_seconds."""
        if limit <= 0:
            return []
        expires = now + timedelta(seconds=lease_seconds)
        claimed: list[Source] = []
        with transaction(self._engine, "claiming due sources", write=True) as conn:
            for due in (False, True):
                left = limit - len(claimed)
                if left > 0:
                    claimed += _claim(conn, owner, now, expires, left, exclude, due=due)
        with self._lock:
            self._held.update((source.id, owner) for source in claimed)
        self._names.update((source.id, source.name) for source in claimed)
        return sorted(claimed, key=_due_order)

    def renew(self, owner: str, ids: Collection[int], now: datetime, lease_seconds: float) -> int:
        """Extend `owner`'s leases on `ids` to now + lease_seconds; returns how many it still
        held (a lease that lapsed and was taken by another worker is not renewed)."""
        wanted = sorted(ids)
        if not wanted:
            return 0
        expires = now + timedelta(seconds=lease_seconds)
        renewed = 0
        with transaction(self._engine, "renewing leases", write=True) as conn:
            for start in range(0, len(wanted), 500):
                result = conn.execute(
                    update(sources)
                    .where(
                        sources.c.id.in_(wanted[start : start + 500]),
                        sources.c.lease_owner == owner,
                    )
                    .values(lease_expires=expires)
                )
                renewed += max(result.rowcount, 0)
        return renewed

    def release(self, owner: str, ids: Iterable[int] | None = None) -> int:
        """Give back `owner`'s leases on `ids` (None: on every source claimed here for it)
        that are still its own; returns how many were released."""
        with self._lock:
            mine = {pk for pk, who in self._held.items() if who == owner}
        wanted = sorted(mine if ids is None else set(ids))
        if not wanted:
            return 0
        released = 0
        with transaction(self._engine, "releasing leases", write=True) as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                result = conn.execute(
                    update(sources)
                    .where(sources.c.id.in_(chunk), sources.c.lease_owner == owner)
                    .values(**RELEASED)
                )
                released += max(result.rowcount, 0)
        self.written(wanted)
        return released

    def release_process(self, pid: int) -> int:
        """Give back every lease of process `pid` on this host (known to be gone: the daemon
        found its pid file left behind); returns how many."""
        crashed = sources.c.lease_owner.startswith(process_prefix(pid), autoescape=True)
        with transaction(self._engine, "releasing leases of a crashed process", write=True) as c:
            result = c.execute(update(sources).where(crashed).values(**RELEASED))
        return max(result.rowcount, 0)

    def held(self) -> list[Lease]:
        """Every lease in the database (live or expired), by source name."""
        query = (
            select(sources.c.id, sources.c.name, sources.c.lease_owner, sources.c.lease_expires)
            .where(sources.c.lease_owner.is_not(None))
            .order_by(sources.c.name)
        )
        with transaction(self._engine, "reading leases", write=False) as conn:
            return [Lease(*row) for row in conn.execute(query)]

    # ------------------------------------------------------------ for the store's state write

    def params(self, source_id: int) -> dict[str, Any]:
        """The parameters of HELD for a state write of `source_id` made now."""
        with self._lock:
            owner = self._held.get(source_id)
        return {"_lease_owner": owner, "_lease_now": datetime.now(UTC)}

    def written(self, ids: Iterable[int]) -> None:
        """Forget the claims on `ids`: their state was written (or their lease is lost)."""
        with self._lock:
            for pk in ids:
                self._held.pop(pk, None)

    def refusal(self, conn: Connection, source_id: int) -> str:
        """Why a state write of `source_id` matched no row (inside its transaction)."""
        query = select(sources.c.lease_owner).where(sources.c.id == source_id)
        row = conn.execute(query).first()
        if row is None:
            return "no such source"
        self.written([source_id])
        return f"not written: its lease is held by {row.lease_owner}, which stores it"


def _claim(
    conn: Connection,
    owner: str,
    now: datetime,
    expires: datetime,
    limit: int,
    exclude: Collection[int],
    *,
    due: bool,
) -> list[Source]:
    """One claim step: never-scheduled sources (`due` False) or those due by `now`."""
    free = or_(
        sources.c.lease_owner.is_(None),
        sources.c.lease_expires < now,
        sources.c.lease_owner == owner,
    )
    when = sources.c.next_fetch_at <= now if due else sources.c.next_fetch_at.is_(None)
    pick = select(sources.c.id).where(sources.c.enabled, when, free)
    if exclude:
        pick = pick.where(sources.c.id.not_in(list(exclude)))
    if due:
        pick = pick.order_by(sources.c.next_fetch_at)
    pick = pick.limit(limit).with_for_update(skip_locked=True)
    claim = (
        update(sources)
        .where(sources.c.id.in_(pick))
        .values(lease_owner=owner, lease_expires=expires)
        .returning(*sources.c)
    )
    return [source_from_row(row._mapping) for row in conn.execute(claim)]


def _due_order(source: Source) -> tuple[bool, datetime, int]:
    at = source.next_fetch_at
    return (at is not None, at or datetime.min.replace(tzinfo=UTC), source.id)
