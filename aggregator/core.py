"""Update what is due: the one path shared by `aggregator fetch` and the daemon's tick.

sync     configured sources into storage                      (store)
select   sources whose next_fetch_at has come (or the named ones); the daemon selects
         every tick and starts each source on its own (dispatch.Dispatcher)
for each source, concurrently and politely (Updater.update_source):
  fetch      conditional GET, redirects, limits               (fetch)
  process    bytes → ParsedFeed → Articles → TopicMatches     (parse, normalize, classify;
                                                               on worker processes)
             (a page source or a full_text feed: a page pass, which also fetches and
             extracts its new article pages; see pagesource)
  decide     the source's new state and next due time         (outcome.decide_state; pure)
  store      articles + matches + state in one transaction    (store; one writer thread);
             a state without articles is queued and written in batches (flush_states)
  report     one log line and one UpdateResult, with lag_ms (fetch start - due time)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

from aggregator.errors import StorageError
from aggregator.fetch import Fetcher, HttpFetcher
from aggregator.models import (
    Config,
    FetchRequest,
    Source,
    SourceState,
    UpdateResult,
)
from aggregator.outcome import decide_state, log_result
from aggregator.process import ProcessPool, SourceJob
from aggregator.schedule import Cadence, first_fetch_times
from aggregator.store import Store

log = logging.getLogger("aggregator.update")

ResultCallback = Callable[[UpdateResult], None]

STATE_BATCH = 200
"""Article-less source states (304s, failures) written together, in one transaction."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Updater:
    """Runs update passes for one config and store; keeps its worker processes between passes."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        fetcher: Fetcher | None = None,
        workers: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self._fetcher = fetcher
        self._pool = ProcessPool(config.topics, workers=workers)
        self._writer: Executor = ThreadPoolExecutor(1, thread_name_prefix="aggregator-writer")
        self._rng = rng or random.Random()
        self._configs = {s.name: s for s in config.sources}
        self._pending: list[tuple[int, SourceState]] = []
        self._flushing: list[list[tuple[int, SourceState]]] = []  # batches being written
        self._slots: tuple[asyncio.Semaphore, asyncio.AbstractEventLoop] | None = None
        self._own_fetcher: HttpFetcher | None = None  # the daemon's, see start_fetcher
        self._own_settings = config.fetch  # what the started fetcher was opened with
        self._old_fetchers: list[HttpFetcher] = []  # replaced after a reload; closed at stop
        self._workers = workers
        self._retired: list[ProcessPool] = []  # pools of earlier topics, closed when unused
        self._users: dict[ProcessPool, int] = {}  # passes and sources using each pool
        self._settled = asyncio.Event()  # set while no pool of earlier topics is in use
        self._closing: list[threading.Thread] = []  # retired pools being stopped
        self._settled.set()

    def close(self) -> None:
        """Stop the worker processes and the writer thread."""
        for pool in self._retired:
            pool.close()
        self._retired.clear()
        for closing in self._closing:
            closing.join()
        self._pool.close()
        self._writer.shutdown(wait=True)

    def reconfigure(self, config: Config) -> None:
        """Use `config` from now on: its source settings at once, its topics from the next pass.

        When the topics changed, a new worker pool compiles them; the old pool is closed once
        the passes and sources in flight on it are done (they finish on the topics they began
        with, see `wait_retired`).
        """
        if config.topics != self.config.topics:
            self._retired.append(self._pool)
            self._settled.clear()
            self._pool = ProcessPool(config.topics, workers=self._workers)
            self._close_retired()
        self.config = config
        self._configs = {s.name: s for s in config.sources}

    async def wait_retired(self) -> None:
        """Return once nothing is classified with earlier topics (at once when nothing is)."""
        await self._settled.wait()

    @contextlib.contextmanager
    def _using(self, pool: ProcessPool) -> Iterator[None]:
        """Count `pool` in use for the block; a retired pool closes when its last user ends."""
        self._users[pool] = self._users.get(pool, 0) + 1
        try:
            yield
        finally:
            self._users[pool] -= 1
            if not self._users[pool]:
                del self._users[pool]
                self._close_retired()

    def _close_retired(self) -> None:
        for pool in [p for p in self._retired if p not in self._users]:
            self._retired.remove(pool)
            # Stopping started workers takes up to a second: not on the event loop.
            closing = threading.Thread(target=pool.close, name="aggregator-pool-close")
            closing.start()
            self._closing = [t for t in self._closing if t.is_alive()] + [closing]
        if not self._retired:
            self._settled.set()

    def __enter__(self) -> Updater:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sync(self, now: datetime | None = None) -> None:
        """Bring the stored sources in line with the config."""
        self.store.sync_sources(self.config.sources, now or utcnow())

    def spread_first_fetches(self, now: datetime | None = None) -> int:
        """Give never-fetched sources first due times spread out from `now`, so a fresh
        daemon does not fetch them all at once (`first_fetch_times`); returns how many.
        The daemon calls this after `sync` at start and after a reload; a one-off pass
        (`aggregator fetch`) does not, so it fetches new sources at once."""
        start = now or utcnow()

        def first_due(names: list[str]) -> list[datetime]:
            cadences = [Cadence.of(self._configs.get(name)) for name in names]
            return first_fetch_times(cadences, start)

        return self.store.schedule_new_sources(first_due)

    async def start_fetcher(self) -> None:
        """Open one HTTP fetcher for every later update (the daemon's, for its whole life)."""
        if self._fetcher is None and self._own_fetcher is None:
            self._own_settings = self.config.fetch
            self._own_fetcher = await HttpFetcher(self.config.fetch).__aenter__()

    async def _started_fetcher(self) -> HttpFetcher | None:
        """The fetcher from `start_fetcher`; a new one once a reload changed `fetch:`."""
        current = self._own_fetcher
        if current is not None and self._own_settings != self.config.fetch:
            self._old_fetchers.append(current)  # its requests in flight finish on it
            self._own_settings = self.config.fetch
            self._own_fetcher = current = await HttpFetcher(self.config.fetch).__aenter__()
            self._slots = None  # the new `concurrency`, from the next source on
        return current

    async def stop_fetcher(self) -> None:
        """Close the fetcher opened by `start_fetcher`."""
        fetchers = [*self._old_fetchers, *([self._own_fetcher] if self._own_fetcher else [])]
        self._own_fetcher, self._old_fetchers = None, []
        for fetcher in fetchers:
            await fetcher.__aexit__(None, None, None)

    def prepare(self, jobs: int) -> None:
        """Start the parse workers if `jobs` documents at once are worth them."""
        self._pool.prepare(jobs)

    def unsaved_ids(self) -> set[int]:
        """Sources updated but whose state is still queued (or being written) by flush_states."""
        batches = (self._pending, *self._flushing)
        return {source_id for batch in batches for source_id, _ in batch}

    async def update_source(
        self,
        source: Source,
        *,
        fetcher: Fetcher | None = None,
        pool: ProcessPool | None = None,
        now: datetime | None = None,
        on_result: ResultCallback | None = None,
    ) -> UpdateResult:
        """Update one source, the step shared by `update()` and the daemon's dispatch.

        Waits for one of `fetch.concurrency` slots, then fetches, processes, decides and
        stores (an article-less state is queued for `flush_states`), then logs. `fetcher`
        defaults to the injected or started one; `now` to the time the fetch starts.
        """
        fetcher = fetcher or self._fetcher or await self._started_fetcher()
        if fetcher is None:
            raise RuntimeError("Updater.update_source needs a fetcher: call start_fetcher()")
        pool = pool or self._pool
        with self._using(pool):
            async with self._slot():
                result = await self._update_one(fetcher, pool, source, now)
                if len(self._pending) >= STATE_BATCH:
                    await self.flush_states()
        log_result(result)
        if on_result is not None:
            on_result(result)
        return result

    def _slot(self) -> asyncio.Semaphore:
        # At most `concurrency` sources between fetch and store at once, so fetched bodies
        # never pile up in memory waiting for the parse workers. One per event loop.
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[1] is not loop:
            self._slots = (asyncio.Semaphore(self.config.fetch.concurrency), loop)
        return self._slots[0]

    async def update(
        self,
        *,
        names: Sequence[str] | None = None,
        everything: bool = False,
        now: datetime | None = None,
        on_result: ResultCallback | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> list[UpdateResult]:
        """One pass over the due sources (or `names`, or everything); one result per source.

        Each source decides with `now` when given, else with the time its own fetch starts.
        """
        due = self.store.due_sources(now or utcnow(), names=names, everything=everything)
        if on_start is not None:
            on_start(len(due))
        if not due:
            return []
        pool = self._pool  # the whole pass classifies with the topics it began with
        pool.prepare(len(due))
        with self._using(pool):
            fetcher = self._fetcher or await self._started_fetcher()
            if fetcher is not None:
                return await self._run(fetcher, pool, due, now, on_result)
            async with HttpFetcher(self.config.fetch) as fetcher:
                return await self._run(fetcher, pool, due, now, on_result)

    async def _run(
        self,
        fetcher: Fetcher,
        pool: ProcessPool,
        due: Sequence[Source],
        now: datetime | None,
        on_result: ResultCallback | None,
    ) -> list[UpdateResult]:
        updates = (
            self.update_source(source, fetcher=fetcher, pool=pool, now=now, on_result=on_result)
            for source in due
        )
        try:
            return list(await asyncio.gather(*updates))
        finally:
            await self.flush_states()

    async def flush_states(self) -> None:
        """Write the queued article-less states in one transaction (the daemon: every tick).

        On a storage error the batch is logged and dropped: those sources stay due, so the
        next pass or tick fetches them again.
        """
        batch, self._pending = self._pending, []
        if not batch:
            return
        self._flushing.append(batch)  # the one writer thread writes the batches in order
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._writer, self.store.save_states, batch)
        except StorageError as exc:
            log.error("could not save %d source states (due again): %s", len(batch), exc)
        finally:
            self._flushing = [b for b in self._flushing if b is not batch]

    async def _update_one(
        self, fetcher: Fetcher, pool: ProcessPool, source: Source, now: datetime | None
    ) -> UpdateResult:
        started = time.monotonic()
        now = now or utcnow()
        due = source.next_fetch_at
        lag_ms = None if due is None else int((now - due).total_seconds() * 1000)
        config = self._configs.get(source.name)
        request = FetchRequest(
            url=source.url,
            etag=source.etag,
            last_modified=source.last_modified,
            headers=config.headers if config else (),
        )
        fetched = await fetcher.fetch(request)
        processed = None
        pages = None
        if fetched.status == "ok" and config is not None and config.fetches_pages:
            from aggregator.pagesource import page_pass  # lxml, extraction: only when needed

            pages = await page_pass(
                source=source,
                config=config,
                fetched=fetched,
                fetcher=fetcher,
                pool=pool,
                store=self.store,
                now=now,
            )
            processed = pages.processed
        elif fetched.status == "ok":
            job = SourceJob.of(source, config, fetched, now)
            processed = await pool.run(job)
        state, result = decide_state(
            source, config, fetched, processed, now=now, jitter=self._rng.random()
        )
        if pages is not None:
            state, result = pages.apply(state, result)
        articles = processed.articles if processed is not None and not processed.error else []
        matches = processed.matches if processed is not None else {}
        search = processed.search if processed is not None else {}
        fingerprints = processed.fingerprints if processed is not None else {}
        if not articles:
            # Nothing to store but the source's state: batched with others (see flush_states).
            self._pending.append((source.id, state))
            return replace(result, ms=_ms(started), lag_ms=lag_ms)
        loop = asyncio.get_running_loop()
        try:
            new, updated = await loop.run_in_executor(
                self._writer,
                self.store.save_update,
                source.id,
                state,
                articles,
                matches,
                search,
                fingerprints,
            )
        except StorageError as exc:
            return UpdateResult(
                source.name,
                "error",
                ms=_ms(started),
                reason=str(exc),
                bytes=result.bytes,
                lag_ms=lag_ms,
            )
        return replace(result, new=new, updated=updated, ms=_ms(started), lag_ms=lag_ms)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def update_due(
    config: Config,
    store: Store,
    *,
    names: Sequence[str] | None = None,
    everything: bool = False,
    on_result: ResultCallback | None = None,
    on_start: Callable[[int], None] | None = None,
    fetcher: Fetcher | None = None,
) -> list[UpdateResult]:
    """Sync the sources, then run one pass: what `aggregator fetch` calls."""
    with Updater(config, store, fetcher=fetcher) as updater:
        updater.sync()
        return asyncio.run(
            updater.update(
                names=names, everything=everything, on_result=on_result, on_start=on_start
            )
        )
