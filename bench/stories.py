"""Stories: quality on the labelled set, fingerprint cost, and story joins as the archive grows.

    .venv/bin/python bench/stories.py [--sizes 10000,1000000] [--sample 1000]

quality   precision and recall of "same story" on tests/data/dupes/pairs.jsonl: the store's
          decision (a shared band key, then estimated similarity >= threshold) at the default
          threshold, per language, and a sweep of thresholds; the peer: datasketch's MinHash
          (128 permutations, numpy) and MinHashLSH at the same threshold, on the same shingles
cost      fingerprint per article (ours, pure Python) against datasketch's MinHash of the same
          shingles, on generated articles of about 1 KB
join      per size N: a SQLite archive of N generated articles grouped into stories (built
          once, cached as bench/out/stories-N.sqlite), then, on a copy of it, SAMPLE new
          articles (half of them reposts of stored ones) stored in batches of 20 as
          save_update does: ms per article for `join_stories` in its own committed
          transaction (the commit's writes included); database size per 1,000 articles
          (all tables, and the stories' share)
peers     per size: datasketch's MinHashLSH in memory over the same stored signatures (query
          + insert of each new one; the index is built first and not timed); at 10,000 also
          a brute-force scan of every stored signature
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import stories_corpus as corpus  # noqa: E402
from datasketch import LeanMinHash, MinHash, MinHashLSH  # type: ignore[import-untyped]  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from aggregator.fingerprint import (  # noqa: E402
    BINS,
    band_keys,
    shingles,
    signature,
    similarity,
    values_of,
)
from aggregator.models import Article  # noqa: E402
from aggregator.schema import articles, story_sigs  # noqa: E402
from aggregator.store import Store  # noqa: E402
from aggregator.store_stories import DEFAULT_THRESHOLD, join_stories  # noqa: E402

PAIRS = ROOT / "tests" / "data" / "dupes" / "pairs.jsonl"
OUT = ROOT / "bench" / "out"
FEED_BATCH = 20


def decide(a: bytes | None, b: bytes | None, threshold: float) -> bool:
    if a is None or b is None:
        return False
    return bool(set(band_keys(a)) & set(band_keys(b))) and similarity(a, b) >= threshold


def scores(found: list[tuple[bool, bool]]) -> str:
    tp = sum(1 for label, guess in found if label and guess)
    predicted = sum(1 for _, guess in found if guess) or 1
    positives = sum(1 for label, _ in found if label) or 1
    return f"P={tp / predicted:.3f} R={tp / positives:.3f}"


def quality() -> None:
    rows = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]
    sigs = [(row, signature(row["a"]["text"]), signature(row["b"]["text"])) for row in rows]
    same = sum(1 for r in rows if r["same"])
    print(f"labelled set: {len(rows)} pairs ({same} same story, {len(rows) - same} different)")
    for lang in ("zh", "en", None):
        chosen = [s for s in sigs if lang is None or s[0]["lang"] == lang]
        found = [(r["same"], decide(a, b, DEFAULT_THRESHOLD)) for r, a, b in chosen]
        print(f"  threshold {DEFAULT_THRESHOLD} {lang or 'all'}: {scores(found)}")
    sweep = []
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        found = [(r["same"], decide(a, b, threshold)) for r, a, b in sigs]
        sweep.append(f"{threshold}: {scores(found)}")
    print("  sweep  " + " | ".join(sweep))
    misses = [r["id"] + " " + r["kind"] for r, a, b in sigs if r["same"] and not decide(a, b, 0.5)]
    print(f"  missed at the default: {', '.join(misses) or 'none'}")
    peer = []
    for row in rows:
        ma, mb = (_minhash(shingles(row[k]["text"])) for k in ("a", "b"))
        lsh = MinHashLSH(threshold=DEFAULT_THRESHOLD, num_perm=128)
        lsh.insert("a", ma)
        peer.append((row["same"], bool(lsh.query(mb)) and ma.jaccard(mb) >= DEFAULT_THRESHOLD))
    print(f"  peer datasketch MinHash + MinHashLSH (threshold {DEFAULT_THRESHOLD}): {scores(peer)}")


def _minhash(found: set[bytes]) -> Any:
    m = MinHash(num_perm=128)
    m.update_batch(list(found))
    return m


def cost() -> None:
    rng = random.Random(7)
    texts = [corpus.fresh(rng, "zh" if i % 2 else "en")[1] for i in range(2000)]
    for text in texts[:5]:
        signature(text)
    started = time.process_time()
    for text in texts:
        signature(text)
    ours = (time.process_time() - started) / len(texts) * 1000
    found = [shingles(text) for text in texts]
    started = time.process_time()
    for text in texts:
        shingles(text)
    shingling = (time.process_time() - started) / len(texts) * 1000
    started = time.process_time()
    for item in found:
        _minhash(item)
    peer = (time.process_time() - started) / len(texts) * 1000
    size = statistics.mean(map(len, texts))
    print(
        f"fingerprint per article ({size:.0f} characters, CPU time): ours {ours:.3f} ms "
        f"(of which normal form and shingles {shingling:.3f} ms); datasketch MinHash of the "
        f"same shingles {peer:.3f} ms (+ shingles = {peer + shingling:.3f} ms)"
    )


def ingest_cost() -> None:
    """The parse worker's whole job per article, and the fingerprint's share of it."""
    import gen_feeds  # the ingest benchmark's feeds: 1-6 KB HTML bodies, half Chinese

    from aggregator.classify import Classifier
    from aggregator.config import load_config
    from aggregator.models import Source
    from aggregator.process import SourceJob, process

    topics = load_config(str(ROOT / "config" / "aggregator.yaml")).topics
    classifier = Classifier(topics)
    anchor = gen_feeds.default_anchor()
    jobs = []
    for spec in gen_feeds.plan_feeds(20):
        url = f"http://127.0.0.1{spec.path}"
        fetched = corpus_fetch(url, gen_feeds.render_feed(spec, 50, anchor))
        source = Source(id=1, name=spec.name, url=url, config_url=url, enabled=True)
        jobs.append(SourceJob.of(source, None, fetched, anchor))
    process(jobs[0], classifier)
    started = time.process_time()
    done = [process(job, classifier) for job in jobs]
    whole = time.process_time() - started
    texts = [a.text for p in done for a in p.articles]
    started = time.process_time()
    for text in texts:
        signature(text)
    prints = time.process_time() - started
    print(
        f"parse worker per article ({len(texts)} articles of bench/gen_feeds.py, "
        f"{statistics.mean(map(len, texts)):.0f} characters of text): "
        f"{whole / len(texts) * 1000:.3f} ms CPU, of which the fingerprint "
        f"{prints / len(texts) * 1000:.3f} ms ({prints / whole:.0%})"
    )


def corpus_fetch(url: str, body: bytes) -> Any:
    from aggregator.models import FetchResult

    return FetchResult(url=url, status="ok", http_status=200, body=body, content_type="text/xml")


def archive(size: int) -> Path:
    path = OUT / f"stories-{size}.sqlite"
    if not path.exists():
        print(f"building {path.name} ...", flush=True)
        seconds = corpus.build(path, size)
        print(f"  built in {seconds:.0f} s", flush=True)
    return path


def sample(store: Store, count: int) -> list[tuple[Article, bytes]]:
    """`count` new articles, half of them reposts of random stored ones."""
    rng = random.Random(11)
    with store._engine.connect() as conn:
        top = conn.execute(select(func.max(articles.c.pk))).scalar_one()
        picked = [rng.randint(1, top) for _ in range(count // 2)]
        query = select(articles.c.pk, articles.c.text).where(articles.c.pk.in_(picked))
        stored = {row.pk: row.text for row in conn.execute(query)}
    texts = [corpus.repost(rng, stored[pk]) for pk in picked if pk in stored]
    texts += [corpus.fresh(rng, "zh" if i % 2 else "en")[1] for i in range(count - len(texts))]
    rng.shuffle(texts)
    made = []
    for n, text in enumerate(texts):
        when = corpus.NOW + timedelta(days=400, seconds=n)
        article = Article(
            source="bench", id=f"new-{n}", url=f"https://new.example/{n}", title=text[:30],
            summary="", content="", text=text, published=when, first_seen=when,
            content_hash=f"new-{n}",
        )  # fmt: skip
        made.append((article, signature(text) or b""))
    return made


def joins(path: Path, size: int, count: int) -> list[tuple[Article, bytes]]:
    """Join `count` new articles to a working copy of the archive; print ms per article."""
    work = path.with_suffix(".work.sqlite")
    shutil.copyfile(path, work)  # the joins are committed: keep the cached archive as built
    store = Store(f"sqlite:///{work}")
    made = sample(store, count)
    timings: list[float] = []
    cpu = 0.0
    joined = 0
    engine = store._engine
    for start in range(0, len(made), FEED_BATCH):
        chunk = made[start : start + FEED_BATCH]
        source_id = 1 + start // FEED_BATCH % corpus.SOURCES
        with engine.begin() as conn:  # what save_update writes before the join
            last = conn.execute(select(func.max(articles.c.pk))).scalar_one()
            rows = []
            for i, (article, _) in enumerate(chunk):
                item = {"n": 10**8 + start + i, "title": article.title, "text": article.text}
                row = corpus.article_row(item, random.Random(i))
                rows.append({**row, "source_id": source_id, "article_id": article.id})
            conn.execute(insert(articles), rows)
        pks = {a.id: last + 1 + i for i, (a, _) in enumerate(chunk)}
        started, cpu_started = time.perf_counter(), time.process_time()
        with engine.begin() as conn:  # the join, committed
            join_stories(
                conn, source_id, [a for a, _ in chunk], pks, {a.id: s for a, s in chunk},
                DEFAULT_THRESHOLD,
            )  # fmt: skip
        timings.append((time.perf_counter() - started) / len(chunk))
        cpu += time.process_time() - cpu_started
        with engine.connect() as conn:
            joined += conn.execute(
                select(func.count()).where(
                    articles.c.pk > last, articles.c.story_id != articles.c.pk
                )
            ).scalar_one()
    store.close()
    for leftover in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
        leftover.unlink(missing_ok=True)
    mean = statistics.mean(timings) * 1000
    p95 = sorted(timings)[int(len(timings) * 0.95)] * 1000
    print(
        f"  join at {size:,} articles: {mean:.3f} ms per article, commit included (batch p95 "
        f"{p95:.3f} ms; CPU {cpu / len(made) * 1000:.3f} ms), {joined} of {len(made)} joined "
        "a stored story"
    )
    with sqlite3.connect(path) as raw:
        total = path.stat().st_size
        tables = dict(raw.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
    stories_bytes = sum(v for k, v in tables.items() if "stor" in k)
    print(
        f"  database size per 1,000 articles: {total / size * 1000 / 1e6:.2f} MB, of which "
        f"stories {stories_bytes / size * 1000 / 1e6:.3f} MB "
        f"(bands {tables.get('story_bands', 0) / size * 1000 / 1e6:.3f}, signatures "
        f"{tables.get('story_signatures', 0) / size * 1000 / 1e6:.3f}, "
        f"story_id index {tables.get('ix_articles_story_id', 0) / size * 1000 / 1e6:.3f})"
    )
    return made


def peers(path: Path, made: list[tuple[Article, bytes]], *, scan: bool) -> None:
    """datasketch's MinHashLSH over the same signatures; with `scan`, a brute-force scan too."""
    with sqlite3.connect(path) as raw:
        stored = [bytes(sig) for (sig,) in raw.execute(f"SELECT signature FROM {story_sigs.name}")]
    if scan:  # the first 100 of the sample are enough to time it
        started = time.perf_counter()
        for _, sig in made[:100]:
            if sig:
                max((similarity(sig, other) for other in stored), default=0.0)
        scanned = (time.perf_counter() - started) / len(made[:100]) * 1000
        print(f"  peer brute-force scan of every stored signature: {scanned:.2f} ms per article")
    started = time.perf_counter()
    lsh = MinHashLSH(threshold=DEFAULT_THRESHOLD, num_perm=BINS)
    for n, sig in enumerate(stored):
        lsh.insert(
            n,
            LeanMinHash(seed=1, hashvalues=values_of(sig), scheme="legacy"),
            check_duplication=False,
        )
    built = time.perf_counter() - started
    del stored
    started = time.perf_counter()
    found = 0
    for n, (_, sig) in enumerate(made):
        if sig:
            m = LeanMinHash(seed=1, hashvalues=values_of(sig), scheme="legacy")
            found += bool(lsh.query(m))
            lsh.insert(f"new-{n}", m, check_duplication=False)
    peer = (time.perf_counter() - started) / len(made) * 1000
    print(
        f"  peer datasketch MinHashLSH in memory over the same signatures (b={lsh.b}, "
        f"r={lsh.r}; not stored, built in {built:.0f} s): {peer:.3f} ms per article "
        f"(query + insert), {found} of {len(made)} found candidates"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,1000000", help="archive sizes, comma-separated")
    parser.add_argument("--sample", type=int, default=1000, help="new articles joined per size")
    parser.add_argument("--quality-only", action="store_true", help="only the labelled set")
    parser.add_argument(
        "--peer-max",
        type=int,
        default=1_000_000,
        help="run the in-memory peer only at sizes up to this (it is built from every stored "
        "signature first: about 10 minutes at 1,000,000 on a busy machine)",
    )
    args = parser.parse_args()
    quality()
    if args.quality_only:
        return
    cost()
    ingest_cost()
    for size in (int(s) for s in args.sizes.split(",")):
        path = archive(size)
        made = joins(path, size, args.sample)
        if size <= args.peer_max:
            peers(path, made, scan=size <= 100_000)


if __name__ == "__main__":
    main()
