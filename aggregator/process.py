"""Turning fetched bytes into articles and topic matches, on worker processes.

    bytes ─► parse_feed ─► normalize_feed ─► classify each article ─► Processed

Pure CPU work with no I/O. It runs on a pool of worker processes when a pass has enough
documents to pay for one (parsing is the bulk of a cold pass), inline otherwise. Each worker
compiles the topics once, when it starts.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from aggregator.errors import ParseError
from aggregator.models import Article, FetchResult, Source, SourceConfig, TopicMatch
from aggregator.topicspec import TopicSpec

if TYPE_CHECKING:
    from aggregator.classify import Classifier
    from aggregator.normalize import SourceContext

# The parsing modules (feedparser, lxml, nh3, the topic compiler) load on first use: a pass
# of 304s never needs them.

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
            timezone=config.timezone if config else None,
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
    title: str | None = None
    link: str | None = None
    ttl: int | None = None
    entries: int = 0  # entries in the document, before normalizing drops any
    problem: str | None = None
    error: str | None = None


def process(job: SourceJob, classifier: Classifier) -> Processed:
    """Parse, normalize and classify one document."""
    from aggregator.classify import ArticleText
    from aggregator.normalize import normalize_feed
    from aggregator.parse import parse_feed

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
    return Processed(
        articles=articles,
        matches=matches,
        title=feed.title,
        link=feed.link,
        ttl=feed.ttl,
        entries=len(feed.entries),
        problem=feed.problem,
    )


_worker_classifier: Classifier | None = None


def _init_worker(topics: Sequence[TopicSpec]) -> None:
    from aggregator.classify import Classifier

    global _worker_classifier
    _worker_classifier = Classifier(topics)


def _work(job: SourceJob) -> Processed:
    assert _worker_classifier is not None, "worker not initialized"
    return process(job, _worker_classifier)


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

    def close(self) -> None:
        """Stop the workers."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
