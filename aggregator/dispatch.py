"""Continuous dispatch: the daemon starts each source as soon as it is due.

tick     (every second or so, from the daemon's scheduler)
  renew    every `workers.lease` / 3 seconds: extend the leases of the sources in flight, so
           a live worker keeps them however long they wait or take (Store.leases.renew)
  flush    write the queued article-less states of sources finished since the last tick
  claim    lease due sources not in flight to this dispatcher's owner id, up to
           `workers.claim_batch` in flight (Store.leases.claim_due: one write transaction;
           several processes on one PostgreSQL never claim the same source, see store_leases)
  start    one task per source: Updater.update_source, the step `aggregator fetch` runs too;
           it waits for one of `fetch.concurrency` slots, and the fetcher keeps the per-host
           limit; no tick waits for an earlier source to finish
drain    (at stop) start nothing more; wait for the sources in flight until a deadline;
         cancel the rest; flush the queued states; release the leases still held

A source is in flight from its start until its new state is committed: while its task runs,
and after, while its state waits in the Updater's queue. A tick never starts a source in
flight, so no source is fetched twice at once, nor again before its new due time is stored;
the state write releases the lease. A cancelled source is left as it was before (one
transaction per source) and stays due; its lease is released at stop, or, if the process
dies, lapses after `workers.lease` seconds and another worker claims the source.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from datetime import datetime
from typing import Any

from aggregator.core import ResultCallback, Updater, utcnow
from aggregator.errors import StorageError
from aggregator.models import Source
from aggregator.store_leases import lease_owner

log = logging.getLogger("aggregator.daemon")

RENEWALS_PER_LEASE = 3
"""How many times per `workers.lease` a worker renews the leases of its sources in flight."""


class Dispatcher:
    """Starts due sources on every tick, keeps the set in flight, drains it at stop."""

    def __init__(
        self,
        updater: Updater,
        *,
        on_result: ResultCallback | None = None,
        owner: str | None = None,
    ) -> None:
        self.owner = owner or lease_owner()  # whose leases this dispatcher takes
        self._updater = updater
        self._on_result = on_result
        self._running: dict[int, tuple[str, asyncio.Task[None]]] = {}  # id -> (name, task)
        self._closed = False
        self._renewed = -math.inf  # time.monotonic() of the last renewal

    @property
    def in_flight(self) -> int:
        """How many sources are being updated right now."""
        return len(self._running)

    def close(self) -> None:
        """Start no more sources (a tick already running finishes without starting any)."""
        self._closed = True

    def busy(self) -> set[int]:
        """Ids of the sources in flight: running, or finished with their state not yet stored."""
        return set(self._running) | self._updater.unsaved_ids()

    async def tick(self, now: datetime | None = None) -> int:
        """Flush queued states, then claim and start due sources not in flight (up to
        `workers.claim_batch` in flight); how many started.

        A storage error is logged as one line and the tick ends; the next tick tries again.
        """
        if self._closed:
            return 0
        await self._renew(now or utcnow())
        await self._updater.flush_states()
        # Taken before the query: a source that finishes while the query runs may still look
        # due in the query's snapshot, but it was in flight when the snapshot began.
        skip = self.busy()
        workers = self._updater.config.workers
        room = workers.claim_batch - len(self._running)
        if room <= 0:
            return 0
        leases = self._updater.store.leases
        claim = (self.owner, now or utcnow(), room, workers.lease, skip)
        try:
            due = await asyncio.to_thread(leases.claim_due, *claim)
        except StorageError as exc:
            log.error("tick: %s; trying again at the next tick", exc)
            return 0
        if self._closed:
            await self._release([source.id for source in due])
            return 0
        busy = self.busy()
        fresh = [source for source in due if source.id not in busy]
        if fresh:
            self._updater.prepare(len(self._running) + len(fresh))
        for source in fresh:
            task = asyncio.create_task(self._update(source), name=f"update {source.name}")
            self._running[source.id] = (source.name, task)
        return len(fresh)

    async def _renew(self, now: datetime) -> None:
        """Extend the leases of the sources in flight, once per lease / RENEWALS_PER_LEASE
        seconds; a failure is logged and retried at the next tick."""
        lease = self._updater.config.workers.lease
        started = time.monotonic()
        if started - self._renewed < lease / RENEWALS_PER_LEASE:
            return
        busy = self.busy()
        if busy:
            leases = self._updater.store.leases
            try:
                await asyncio.to_thread(leases.renew, self.owner, busy, now, lease)
            except StorageError as exc:
                log.warning("tick: %s; trying again at the next tick", exc)
                return
        self._renewed = started

    async def _update(self, source: Source) -> None:
        try:
            await self._updater.update_source(source, on_result=self._on_result)
        except Exception:  # a bug: logged with its traceback; the other sources go on
            log.exception("source=%s status=error reason=bug", source.name)
        finally:
            self._running.pop(source.id, None)

    async def drain(self, timeout: float, *, hurry: asyncio.Event | None = None) -> list[str]:
        """Start nothing more; wait up to `timeout` seconds (or until `hurry` is set) for the
        sources in flight, cancel those still running, and flush the queued states.

        Returns the names of the sources cancelled (sorted): they are left as they were and
        are due again at the next start.
        """
        self.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        hurried = asyncio.ensure_future(hurry.wait()) if hurry is not None else None
        try:
            while self._running and loop.time() < deadline and not (hurry and hurry.is_set()):
                waiting: set[asyncio.Future[Any]] = {t for _, t in self._running.values()}
                if hurried is not None:
                    waiting.add(hurried)
                await asyncio.wait(
                    waiting,
                    timeout=deadline - loop.time(),
                    return_when=asyncio.FIRST_COMPLETED,
                )
        finally:
            if hurried is not None:
                hurried.cancel()
        cut = list(self._running.values())
        for _, task in cut:
            task.cancel()
        await asyncio.gather(*(task for _, task in cut), return_exceptions=True)
        await self._updater.flush_states()
        await self._release(None)
        return sorted(name for name, _ in cut)

    async def _release(self, ids: list[int] | None) -> None:
        """Give back this owner's leases on `ids` (None: all it holds); a failure is logged,
        and the leases then lapse on their own."""
        try:
            await asyncio.to_thread(self._updater.store.leases.release, self.owner, ids)
        except StorageError as exc:
            log.warning("%s; the leases lapse after workers.lease seconds", exc)
