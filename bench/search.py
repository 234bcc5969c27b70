"""Search latency, database size and indexing cost, with the `reader` library as a peer.

    python bench/search.py [--articles 1000000] [--peer-articles 100000] [--runs 100]
                           [--pg-url postgresql+psycopg://...] [--pg-articles 100000]
                           [--skip latency,peer,pg,ingest]

1. build (or reuse, cached in bench/out/) a SQLite database of generated articles
   (bench/search_corpus.py) and report its size per 1,000 articles, the index's share apart
2. time Store.search (ranked hits with snippets, the path the CLI and the web use) for
   common and rare terms in Chinese and English, alone and with each filter (topic,
   source, language, the last 30 days, before a year ago, one week a year ago): p50 / p99
   over --runs searches each, then pooled by class (language x common/rare x filtered)
3. the peer: reader's search (FTS5, its default tokenizer) over the first --peer-articles
   of the same corpus: latency of the same queries, recall against a substring count, and
   database size
4. PostgreSQL (with --pg-url): the same searches over --pg-articles articles
5. ingest: the tokens' cost per article (made on the parse workers) and the writer's extra
   cost per article (save_update with the index rows, against the same without them)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.searchtext import parse_query
from aggregator.store import Store
from aggregator.store_search import SearchFilters
from aggregator.textfold import fold
from bench.search_corpus import (
    OUT,
    RARE_EN,
    RARE_ZH,
    SPAN,
    START,
    article,
    build_sqlite,
)

QUERIES = ("政策", "智能制造", "新能源汽车", RARE_ZH, "manufacturing", '"supply chains"', RARE_EN)
CHINESE = ("政策", "智能制造", "新能源汽车", RARE_ZH)
RARE = (RARE_ZH, RARE_EN)


def samples_of(call: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of `runs` calls, after two warm-up calls, sorted."""
    for _ in range(2):
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return sorted(samples)


def p50_p99(samples: list[float]) -> tuple[float, float]:
    """The median and the 99th percentile of sorted `samples`."""
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    """p50 and p99 in milliseconds of `runs` calls, after two warm-up calls."""
    return p50_p99(samples_of(call, runs))


def query_class(text: str) -> str:
    """The class of a query: "Chinese common", "English rare", and so on."""
    language = "Chinese" if text in CHINESE else "English"
    return f"{language} {'rare' if text in RARE else 'common'}"


def latency_table(store: Store, n: int, runs: int, label: str) -> None:
    """Print p50/p99 for every query, alone and with each filter, then by class."""
    week = START + SPAN / 2
    filters = {
        "none": None,
        "topic=policy": SearchFilters(topic="policy"),
        "source=s0007": SearchFilters(source="s0007"),
        "language=en": SearchFilters(language="en"),
        "since=30d": SearchFilters(since=START + SPAN - timedelta(days=30)),
        "until=1y ago": SearchFilters(until=week),
        "1 week, 1y ago": SearchFilters(since=week, until=week + timedelta(days=7)),
    }
    print(f"\n{label}: search latency over {n:,} articles (ms, {runs} runs each)")
    print(f"{'query':22} {'filter':15} {'hits':>5} {'p50':>8} {'p99':>8}")
    pooled: dict[str, list[float]] = {}
    for text in QUERIES:
        query = parse_query(text)
        for name, chosen in filters.items():
            hits = len(store.search.search(query, chosen))
            found = samples_of(lambda q=query, f=chosen: store.search.search(q, f), runs)
            kind = f"{query_class(text)}, {'no filter' if chosen is None else 'filtered'}"
            pooled.setdefault(kind, []).extend(found)
            p50, p99 = p50_p99(found)
            print(f"{text:22} {name:15} {hits:>5} {p50:8.1f} {p99:8.1f}")
    print(f"\n{label}, by class over {n:,} articles (ms)")
    print(f"{'class':32} {'searches':>8} {'p50':>8} {'p99':>8}")
    for kind, found in sorted(pooled.items()):
        p50, p99 = p50_p99(sorted(found))
        print(f"{kind:32} {len(found):>8} {p50:8.1f} {p99:8.1f}")
    everything = sorted(t for found in pooled.values() for t in found)
    print(f"{'all':32} {len(everything):>8} {p50_p99(everything)[0]:8.1f}"
          f" {p50_p99(everything)[1]:8.1f}")  # fmt: skip


def sqlite_sizes(path: Path, n: int) -> None:
    """The database's size per 1,000 articles, and the search index's part of it."""
    import sqlite3

    total = path.stat().st_size
    db = sqlite3.connect(path)
    try:
        page = db.execute("PRAGMA page_size").fetchone()[0]
        index = (
            db.execute("SELECT count(*) FROM dbstat WHERE name LIKE 'article_search%'").fetchone()[
                0
            ]
            * page
        )
    except sqlite3.Error:  # no dbstat in this SQLite build
        index = None
    matches = {
        q: db.execute(
            "SELECT count(*) FROM article_search WHERE article_search MATCH ?",
            (parse_query(q).fts5(),),
        ).fetchone()[0]
        for q in QUERIES
    }
    db.close()
    print(
        f"\nSQLite database: {total / 1e9:.2f} GB for {n:,} articles,"
        f" {total / n * 1000 / 1e6:.2f} MB per 1,000 articles"
    )
    if index is not None:
        print(
            f"  of which the search index: {index / n * 1000 / 1e6:.2f} MB per 1,000"
            f" ({index / total:.0%})"
        )
    print("  matching articles: " + ", ".join(f"{q} {c:,}" for q, c in matches.items()))


def reader_peer(n: int, runs: int, ours: Store) -> None:
    """reader's search over the first `n` articles: latency and recall of the same queries."""
    from reader import make_reader

    path = OUT / f"reader-search-{n}.sqlite"
    reader = make_reader(str(path))
    if reader.get_entry_counts().total != n:
        reader.close()
        path.unlink(missing_ok=True)
        reader = make_reader(str(path))
        started = time.perf_counter()
        feeds = [f"https://s{i:03}.example/feed" for i in range(100)]
        for url in feeds:
            reader.add_feed(url)
        for pk in range(1, n + 1):
            a = article(pk, n)
            reader.add_entry({
                "feed_url": feeds[pk % 100], "id": str(pk), "title": a.title,
                "summary": a.text, "published": a.published, "updated": a.published,
            })  # fmt: skip
        reader.enable_search()
        reader.update_search()
        print(f"\nreader: {n:,} entries added and indexed in {time.perf_counter() - started:.0f} s")
    print(f"\nreader {reader_version()}: search latency over {n:,} entries (ms, {runs} runs)")
    print(
        f"{'query':22} {'ours p50':>9} {'ours p99':>9} {'reader p50':>11} {'reader p99':>11}"
        f" {'reader/ours p50':>16} {'p99':>6}"
    )
    for text in QUERIES:
        query = parse_query(text)
        o50, o99 = timed(lambda q=query: ours.search.search(q), runs)
        r50, r99 = timed(lambda t=text: list(reader.search_entries(t, limit=20)), runs)
        print(
            f"{text:22} {o50:9.1f} {o99:9.1f} {r50:11.1f} {r99:11.1f}"
            f" {r50 / o50:15.1f}x {r99 / o99:5.1f}x"
        )
    print(f"\nrecall over the same {n:,} articles (articles found / articles containing it)")
    print("(contain: as written; folded: also in Traditional characters, as ours matches)")
    truth = {q: [0, 0] for q in CHINESE}
    for pk in range(1, n + 1):
        a = article(pk, n)
        title, body = fold(a.title), fold(a.text)
        for q in CHINESE:
            truth[q][0] += q in a.title or q in a.text
            truth[q][1] += q in title or q in body
    print(f"{'query':22} {'contain':>8} {'folded':>8} {'ours':>8} {'reader':>8}")
    for q in CHINESE:
        found_reader = sum(1 for _ in reader.search_entries(q))
        found_ours = _count(ours, q)
        print(f"{q:22} {truth[q][0]:8,} {truth[q][1]:8,} {found_ours:8,} {found_reader:8,}")
    reader.close()
    files = [path, path.with_name(path.name + ".search")]  # reader keeps its index apart
    size = sum(f.stat().st_size for f in files if f.exists())
    ours_size = Path(str(ours.search._engine.url.database)).stat().st_size
    print(
        f"\ndatabase per 1,000 articles: ours {ours_size / n * 1000 / 1e6:.2f} MB,"
        f" reader {size / n * 1000 / 1e6:.2f} MB (with its search index)"
    )


def _count(store: Store, text: str) -> int:
    """How many articles our index matches (all of them, not the ranked candidates)."""
    from sqlalchemy import text as sql

    from aggregator.store_engine import transaction

    with transaction(store.search._engine, "counting", write=False) as conn:
        statement = sql("SELECT count(*) FROM article_search WHERE article_search MATCH :q")
        return int(conn.execute(statement, {"q": parse_query(text).fts5()}).scalar_one())


def reader_version() -> str:
    from importlib.metadata import version

    return version("reader")


def main() -> None:
    """Build or reuse the corpus, then print every table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--peer-articles", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--pg-url", default=os.environ.get("AGGREGATOR_BENCH_PG_URL"))
    parser.add_argument("--pg-articles", type=int, default=100_000)
    parser.add_argument("--skip", default="", help="comma-separated: latency,peer,pg,ingest")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"search-{args.articles}.sqlite"
    seconds = build_sqlite(path, args.articles, workers=os.cpu_count() or 2)
    if seconds:
        print(f"built {path.name} in {seconds:.0f} s ({args.articles / seconds:,.0f} articles/s)")
    sqlite_sizes(path, args.articles)
    if "latency" not in skip:
        store = Store(f"sqlite:///{path}")
        latency_table(store, args.articles, args.runs, "SQLite (FTS5)")
        store.close()
    if "peer" not in skip:
        shared = OUT / f"search-{args.peer_articles}.sqlite"
        build_sqlite(shared, args.peer_articles, workers=os.cpu_count() or 2)
        small = Store(f"sqlite:///{shared}")
        reader_peer(args.peer_articles, args.runs, small)
        small.close()
    if args.pg_url and "pg" not in skip:
        from bench.search_pg import build_postgres

        build_postgres(args.pg_url, args.pg_articles)
        pg = Store(args.pg_url)
        latency_table(pg, args.pg_articles, args.runs, "PostgreSQL (tsvector + GIN)")
        pg.close()
    if "ingest" not in skip:
        from bench.search_ingest import ingest_cost

        ingest_cost()


if __name__ == "__main__":
    main()
