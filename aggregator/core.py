"""Update what is due: the one path shared by `aggregator fetch` and the daemon's tick.

sync     configured sources into storage                      (store)
select   sources whose next_fetch_at has come (or the named ones)
for each source, concurrently and politely:
  fetch      conditional GET, redirects, limits               (fetch)
  process    bytes → ParsedFeed → Articles → TopicMatches     (parse, normalize, classify;
                                                               on worker processes)
  decide     the source's new state and next due time         (decide_state, schedule; pure)
  store      articles + matches + state in one transaction    (store; one writer thread)
  report     one log line and one UpdateResult
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

from aggregator.errors import StorageError
from aggregator.fetch import Fetcher, HttpFetcher
from aggregator.models import (
    Config,
    FetchRequest,
    FetchResult,
    Source,
    SourceConfig,
    SourceState,
    UpdateResult,
    UpdateStatus,
)
from aggregator.process import Processed, ProcessPool, SourceJob
from aggregator.schedule import Outcome, next_fetch_at
from aggregator.store import Store

log = logging.getLogger("aggregator.update")

ResultCallback = Callable[[UpdateResult], None]

STATE_BATCH = 200
"""Article-less source states (304s, failures) written together, in one transaction."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def decide_state(
    source: Source,
    config: SourceConfig | None,
    fetched: FetchResult,
    processed: Processed | None,
    *,
    now: datetime,
    jitter: float,
) -> tuple[SourceState, UpdateResult]:
    """The source's next state and the pass's result for it, from what fetch and parse said."""
    interval = config.interval if config else None
    moved = fetched.permanent_url if fetched.status in ("ok", "not_modified") else None
    url = moved or source.url
    error = fetched.error
    if fetched.status == "ok" and processed is not None and processed.error:
        error = processed.error
    if fetched.status == "gone":
        state = SourceState(
            url=url,
            etag=source.etag,
            last_modified=source.last_modified,
            last_fetched_at=now,
            next_fetch_at=now,
            last_status="gone",
            last_error=error or "410 Gone",
            error_streak=source.error_streak + 1,
            enabled=False,
            disabled_reason=f"gone: {error or '410 Gone'}",
            title=source.title,
            link=source.link,
        )
        result = UpdateResult(source.name, "gone", reason=state.last_error)
        return state, result
    if error is not None:
        streak = source.error_streak + 1
        outcome = Outcome(ok=False, error_streak=streak, retry_after=fetched.retry_after)
        state = SourceState(
            url=url,
            etag=source.etag,
            last_modified=source.last_modified,
            last_fetched_at=now,
            next_fetch_at=next_fetch_at(outcome, interval=interval, now=now, jitter=jitter),
            last_status="error",
            last_error=error,
            error_streak=streak,
            empty_streak=source.empty_streak,
            title=source.title,
            link=source.link,
        )
        result = UpdateResult(
            source.name, "error", reason=error, moved_to=moved, bytes=len(fetched.body)
        )
        return state, result
    ok = fetched.status == "ok"
    entries = processed.entries if ok and processed is not None else None
    if entries is None:  # 304: nothing new was said about the entries
        empty_streak = source.empty_streak
    else:
        empty_streak = source.empty_streak + 1 if entries == 0 else 0
    problem = processed.problem if processed is not None else None
    ttl = processed.ttl if processed is not None else None
    outcome = Outcome(ok=True, max_age=fetched.max_age, ttl_minutes=ttl)
    state = SourceState(
        url=url,
        etag=fetched.etag if ok else (fetched.etag or source.etag),
        last_modified=fetched.last_modified
        if ok
        else (fetched.last_modified or source.last_modified),
        last_fetched_at=now,
        next_fetch_at=next_fetch_at(outcome, interval=interval, now=now, jitter=jitter),
        last_status="ok" if ok else "not_modified",
        last_error=f"entries salvaged from a malformed document: {problem}" if problem else None,
        error_streak=0,
        empty_streak=empty_streak,
        title=(processed.title if processed is not None and processed.title else source.title),
        link=(processed.link if processed is not None and processed.link else source.link),
    )
    status: UpdateStatus = "ok" if ok else "not_modified"
    result = UpdateResult(
        source.name,
        status,
        reason=state.last_error,
        moved_to=moved,
        bytes=len(fetched.body),
        entries=entries,
    )
    return state, result


def log_result(result: UpdateResult) -> None:
    """One key=value line per source per pass."""
    parts = [f"source={result.source}", f"status={result.status}"]
    if result.status in ("ok", "not_modified"):
        parts += [f"new={result.new}", f"updated={result.updated}"]
    parts.append(f"ms={result.ms}")
    if result.moved_to:
        parts.append(f"moved_to={result.moved_to}")
    if result.reason:
        parts.append(f"reason={quote(result.reason)}")
    level = logging.WARNING if result.status in ("error", "gone") else logging.INFO
    log.log(level, " ".join(parts), extra={"fields": result.__dict__})


def quote(text: str) -> str:
    """A value fit for a key=value log line: quoted when it has spaces or quotes."""
    text = " ".join(text.split())
    if not text or any(c in text for c in ' "='):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


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

    def close(self) -> None:
        """Stop the worker processes and the writer thread."""
        self._pool.close()
        self._writer.shutdown(wait=True)

    def __enter__(self) -> Updater:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sync(self, now: datetime | None = None) -> None:
        """Bring the stored sources in line with the config."""
        self.store.sync_sources(self.config.sources, now or utcnow())

    async def update(
        self,
        *,
        names: Sequence[str] | None = None,
        everything: bool = False,
        now: datetime | None = None,
        on_result: ResultCallback | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> list[UpdateResult]:
        """One pass over the due sources (or `names`, or everything); one result per source."""
        now = now or utcnow()
        due = self.store.due_sources(now, names=names, everything=everything)
        if on_start is not None:
            on_start(len(due))
        if not due:
            return []
        self._pool.prepare(len(due))
        if self._fetcher is not None:
            return await self._run(self._fetcher, due, now, on_result)
        async with HttpFetcher(self.config.fetch) as fetcher:
            return await self._run(fetcher, due, now, on_result)

    async def _run(
        self,
        fetcher: Fetcher,
        due: Sequence[Source],
        now: datetime,
        on_result: ResultCallback | None,
    ) -> list[UpdateResult]:
        # At most `concurrency` sources between fetch and store at once, so fetched bodies
        # never pile up in memory waiting for the parse workers.
        slots = asyncio.Semaphore(self.config.fetch.concurrency)

        async def one(source: Source) -> UpdateResult:
            async with slots:
                result = await self._update_one(fetcher, source, now)
                if len(self._pending) >= STATE_BATCH:
                    await self._flush_states()
            log_result(result)
            if on_result is not None:
                on_result(result)
            return result

        try:
            return list(await asyncio.gather(*(one(s) for s in due)))
        finally:
            await self._flush_states()

    async def _flush_states(self) -> None:
        """Write the buffered article-less states in one transaction."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._writer, self.store.save_states, batch)
        except StorageError as exc:  # the sources stay due and are fetched again next pass
            log.error("could not save %d source states: %s", len(batch), exc)

    async def _update_one(self, fetcher: Fetcher, source: Source, now: datetime) -> UpdateResult:
        started = time.monotonic()
        config = self._configs.get(source.name)
        request = FetchRequest(
            url=source.url,
            etag=source.etag,
            last_modified=source.last_modified,
            headers=config.headers if config else (),
        )
        fetched = await fetcher.fetch(request)
        processed = None
        if fetched.status == "ok":
            job = SourceJob.of(source, config, fetched, now)
            processed = await self._pool.run(job)
        state, result = decide_state(
            source, config, fetched, processed, now=now, jitter=self._rng.random()
        )
        articles = processed.articles if processed is not None and not processed.error else []
        matches = processed.matches if processed is not None else {}
        if not articles:
            # Nothing to store but the source's state: batched with others (see _flush_states).
            self._pending.append((source.id, state))
            return replace(result, ms=_ms(started))
        loop = asyncio.get_running_loop()
        try:
            new, updated = await loop.run_in_executor(
                self._writer, self.store.save_update, source.id, state, articles, matches
            )
        except StorageError as exc:
            return UpdateResult(
                source.name, "error", ms=_ms(started), reason=str(exc), bytes=result.bytes
            )
        return replace(result, new=new, updated=updated, ms=_ms(started))


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
