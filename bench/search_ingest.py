"""What search indexing adds to ingest, per article (for bench/search.py).

    worker   article_doc(article): the tokens, made on the parse workers
    writer   Store.save_update with the index rows, against the same passes with the index
             write left out (write_index replaced by a no-op in this process only)

Both on generated articles (bench/search_corpus.py), 50 per source per pass, fresh SQLite
files in a temporary folder.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aggregator.store as store_module
from aggregator.models import Article, SourceConfig, SourceState
from aggregator.searchtext import SearchDoc, article_doc
from aggregator.store import Store
from bench.search_corpus import START, article

ARTICLES = 20_000
PER_PASS = 50


def articles(n: int) -> list[Article]:
    """`n` generated articles as the normalizer would hand them over."""
    found = []
    for pk in range(1, n + 1):
        a = article(pk, 1_000_000)
        source = f"s{pk % (n // PER_PASS):04}"
        found.append(
            Article(
                source=source,
                id=f"https://{source}.example/{pk}",
                url=f"https://{source}.example/{pk}",
                title=a.title,
                summary=f"<p>{a.text[:120]}</p>",
                content=f"<p>{a.text}</p>",
                text=a.text,
                published=a.published,
                first_seen=a.published,
                content_hash=f"{pk:032x}",
                language="zh-cn" if a.zh else "en",
            )
        )
    return found


def write_passes(folder: Path, batch: list[Article], docs: dict[str, SearchDoc]) -> float:
    """Seconds to store `batch` in passes of PER_PASS articles per source."""
    store = Store(f"sqlite:///{folder / 'ingest.sqlite'}")
    names = sorted({a.source for a in batch})
    store.sync_sources([SourceConfig(n, f"https://{n}.example/feed") for n in names], START)
    ids = {s.name: s.id for s in store.sources()}
    by_source: dict[str, list[Article]] = {}
    for a in batch:
        by_source.setdefault(a.source, []).append(a)
    state = SourceState(
        url="https://x.example/feed",
        etag=None,
        last_modified=None,
        last_fetched_at=START,
        next_fetch_at=START + timedelta(minutes=30),
        last_status="ok",
        last_error=None,
        error_streak=0,
    )
    started = time.perf_counter()
    for name, found in by_source.items():
        store.save_update(ids[name], state, found, {}, docs)
    seconds = time.perf_counter() - started
    store.close()
    return seconds


def ingest_cost() -> None:
    """Print the worker's and the writer's extra cost per article."""
    batch = articles(ARTICLES)
    started = time.perf_counter()
    docs = {a.id: article_doc(a) for a in batch}
    worker_us = (time.perf_counter() - started) / ARTICLES * 1e6
    original: Callable[..., Any] = store_module.write_index
    timings: dict[str, float] = {}
    for label in ("without index", "with index", "without index ", "with index "):
        with tempfile.TemporaryDirectory() as folder:
            if label.strip() == "without index":
                store_module.write_index = lambda *args, **kwargs: None  # type: ignore[assignment]
            try:
                seconds = write_passes(Path(folder), batch, docs)
            finally:
                store_module.write_index = original  # type: ignore[assignment]
        timings[label.strip()] = min(seconds, timings.get(label.strip(), seconds))
    base = timings["without index"] / ARTICLES * 1e6
    indexed = timings["with index"] / ARTICLES * 1e6
    print(f"\ningest cost of search, {ARTICLES:,} articles, {PER_PASS} per save_update (SQLite)")
    print(f"  worker: tokens            {worker_us:7.0f} µs per article")
    print(f"  writer: without the index {base:7.0f} µs per article")
    print(f"  writer: with the index    {indexed:7.0f} µs per article"
          f"  (+{indexed - base:.0f} µs, +{(indexed - base) / base:.0%})")  # fmt: skip
