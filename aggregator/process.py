"""Turning fetched bytes into articles and topic matches, on worker processes.

    bytes ─► parse_feed ─► normalize_feed ─► classify each article ─► Processed
                                        └► feed_hints (ttl, skip hours/days, rhythm)
                                        └► search tokens, fingerprint (stories) of each article

Pure CPU work with no I/O. It runs on a pool of worker processes when a pass has enough
documents to pay for one (parsing is the bulk of a cold pass), inline otherwise. Each worker
compiles the topics once, when it starts.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from aggregator.errors import ParseError
from aggregator.models import (
    Article,
    FeedHints,
    FetchResult,
    ParsedFeed,
    Source,
    SourceConfig,
    TopicMatch,
)
from aggregator.schedule import entries_per_day
from aggregator.topicspec import TopicSpec

if TYPE_CHECKING:
    from aggregator.classify import Classifier
    from aggregator.normalize import SourceContext
    from aggregator.searchtext import SearchDoc

# The parsing modules (feedparser, lxml, nh3, the topic compiler) load on first use: a pass
# of 304s never needs them.

J = TypeVar("J")
R = TypeVar("R")

MIN_JOBS_FOR_POOL = 8
"""Below this many sources in a pass, parse inline: starting workers would cost more."""


@dataclass(frozen=True)
class SourceJob:
    """One fetched document to process; from core to a worker."""

    body: bytes
    url: str
    content_type: str | None
    charset: str | None
    context: SourceContext
    source_tags: tuple[str, ...]
    now: datetime

    @classmethod
    def of(
        cls, source: Source, config: SourceConfig | None, fetched: FetchResult, now: datetime
    ) -> SourceJob:
        """The job for `fetched`, the body of `source`."""
        from aggregator.normalize import SourceContext

        url = fetched.final_url or source.url
        context = SourceContext(
            name=source.name,
            url=url,
            timezone=config.zone if config else None,
            language=config.language if config else None,
        )
        return cls(
            body=fetched.body,
            url=url,
            content_type=fetched.content_type,
            charset=fetched.charset,
            context=context,
            source_tags=config.tags if config else (),
            now=now,
        )


@dataclass(frozen=True)
class Processed:
    """What a document yielded; from a worker to core. `error` set means nothing was read."""

    articles: list[Article] = field(default_factory=list)
    matches: dict[str, list[TopicMatch]] = field(default_factory=dict)
    search: dict[str, SearchDoc] = field(default_factory=dict)  # article id -> search tokens
    fingerprints: dict[str, bytes] = field(default_factory=dict)  # article id -> signature
    title: str | None = None
    link: str | None = None
    hints: FeedHints | None = None  # what the document says about its own schedule
    entries: int = 0  # entries in the document, before normalizing drops any
    problem: str | None = None
    error: str | None = None


def process(job: SourceJob, classifier: Classifier) -> Processed:
    """Parse, normalize and classify one document."""
    from aggregator.classify import ArticleText
    from aggregator.fingerprint import signature
    from aggregator.normalize import normalize_feed
    from aggregator.parse import parse_feed
    from aggregator.searchtext import article_doc

    try:
        feed = parse_feed(job.body, url=job.url, content_type=job.content_type, charset=job.charset)
    except ParseError as exc:
        return Processed(error=exc.reason)
    articles = normalize_feed(feed, source=job.context, now=job.now)
    matches: dict[str, list[TopicMatch]] = {}
    for article in articles:
        found = classifier.classify(ArticleText.from_article(article, job.source_tags))
        if found:
            matches[article.id] = found
    search = {article.id: article_doc(article) for article in articles}  # not the writer's job
    # b"" marks a text too short to fingerprint (see fingerprint.MIN_SHINGLES)
    fingerprints = {article.id: signature(article.text) or b"" for article in articles}
    return Processed(
        articles=articles,
        matches=matches,
        search=search,
        fingerprints=fingerprints,
        title=feed.title,
        link=feed.link,
        hints=feed_hints(feed, articles, job.now),
        entries=len(feed.entries),
        problem=feed.problem,
    )


def feed_hints(feed: ParsedFeed, articles: Sequence[Article], now: datetime) -> FeedHints:
    """The document's schedule hints: its <ttl>, <skipHours>, <skipDays>, and its rhythm
    from the dates of its entries (those without a date of their own do not count)."""
    dates = [a.published for a in articles if not a.date_is_first_seen]
    return FeedHints(
        ttl=feed.ttl,
        skip_hours=feed.skip_hours,
        skip_days=feed.skip_days,
        entries_per_day=entries_per_day(dates, now),
    )


_worker_classifier: Classifier | None = None


def _init_worker(topics: Sequence[TopicSpec]) -> None:
    from aggregator.classify import Classifier

    global _worker_classifier
    _worker_classifier = Classifier(topics)


def _work(job: SourceJob) -> Processed:
    assert _worker_classifier is not None, "worker not initialized"
    return process(job, _worker_classifier)


def _call(fn: Callable[[J, Classifier], R], job: J) -> R:
    assert _worker_classifier is not None, "worker not initialized"
    return fn(job, _worker_classifier)


class ProcessPool:
    """Runs `process` on worker processes when a pass is big enough; inline otherwise.

    The main process fetches and stores; parsing (the bulk of a cold pass) goes to
    cpu_count - 1 worker processes (at least one), so every core is busy without a process
    too many: each costs ~60 MiB. At most `2 * workers` documents are on or queued for the
    workers at once, so fetched bodies and parsed results never pile up in memory.
    Small passes (fewer than MIN_JOBS_FOR_POOL documents) parse inline and start nothing.
    """

    def __init__(self, topics: Sequence[TopicSpec], *, workers: int | None = None) -> None:
        self._topics = tuple(topics)
        default = max((os.cpu_count() or 1) - 1, 1)
        self._workers = workers if workers is not None else default
        self._classifier: Classifier | None = None  # for inline work, compiled on first use
        self._executor: ProcessPoolExecutor | None = None
        self._slots = asyncio.Semaphore(2 * self._workers)
        self._thread: ThreadPoolExecutor | None = None  # `call` without workers, see there
        self._thread_classifier: Classifier | None = None

    def prepare(self, jobs: int) -> None:
        """Start the worker processes if a pass of `jobs` documents is worth them."""
        if self._executor is None and self._workers > 0 and jobs >= MIN_JOBS_FOR_POOL:
            # spawn: a fresh interpreter, safe beside the threads this process runs
            self._executor = ProcessPoolExecutor(
                self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self._topics,),
            )

    def _local(self, job: SourceJob) -> Processed:
        if self._classifier is None:
            from aggregator.classify import Classifier

            self._classifier = Classifier(self._topics)
        return process(job, self._classifier)

    async def run(self, job: SourceJob) -> Processed:
        """Process one document, on a worker when the pool is running."""
        if self._executor is None:
            return self._local(job)
        async with self._slots:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, _work, job)

    async def call(self, fn: Callable[[J, Classifier], R], job: J) -> R:
        """Run `fn(job, classifier)` off the event loop (page extraction is too slow to run
        inline): on a worker when the pool is running, else on a thread of its own with a
        classifier of its own. `fn` must be a module-level function (it is pickled)."""
        loop = asyncio.get_running_loop()
        if self._executor is None:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(1, thread_name_prefix="aggregator-pages")
            return await loop.run_in_executor(self._thread, self._threaded, fn, job)
        async with self._slots:
            return await loop.run_in_executor(self._executor, _call, fn, job)

    def _threaded(self, fn: Callable[[J, Classifier], R], job: J) -> R:
        if self._thread_classifier is None:
            from aggregator.classify import Classifier

            self._thread_classifier = Classifier(self._topics)
        return fn(job, self._thread_classifier)

    def close(self) -> None:
        """Stop the workers."""
        if self._thread is not None:
            self._thread.shutdown(wait=True, cancel_futures=True)
            self._thread = None
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
