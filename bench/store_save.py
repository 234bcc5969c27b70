"""How fast the store writes one update pass: N sources x M new articles, then a 304 pass.

    python bench/store_save.py [--sources 1000] [--articles 50] [--url sqlite:///...]

Prints the time of each pass and per `save_update` call. Without --url it writes a fresh
SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import random
import string
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.models import Article, SourceConfig, SourceState, TopicMatch
from aggregator.store import Store

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def html(rng: random.Random) -> str:
    """An HTML fragment of 1-6 KB."""
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))) for _ in range(60)]
    size = rng.randint(1000, 6000)
    parts: list[str] = []
    while sum(map(len, parts)) < size:
        parts.append("<p>" + " ".join(rng.choices(words, k=30)) + "</p>")
    return "".join(parts)


def batch(rng: random.Random, source: str, count: int) -> list[Article]:
    """`count` new articles of one source."""
    found = []
    for i in range(count):
        content = html(rng)
        found.append(
            Article(
                source=source,
                id=f"https://{source}.example/{i}",
                url=f"https://{source}.example/{i}",
                title=f"Article {i} of {source}",
                summary=content[:300],
                content=content,
                text=content.replace("<p>", "").replace("</p>", "\n"),
                published=NOW - timedelta(minutes=i),
                first_seen=NOW,
                content_hash=f"{rng.getrandbits(128):032x}",
                tags=("news",),
            )
        )
    return found


def state(url: str, status: str = "ok") -> SourceState:
    """A successful (or 304) pass."""
    return SourceState(
        url=url,
        etag='"v1"',
        last_modified=None,
        last_fetched_at=NOW,
        next_fetch_at=NOW + timedelta(minutes=30),
        last_status="not_modified" if status == "not_modified" else "ok",
        last_error=None,
        error_streak=0,
    )


def main() -> None:
    """Run the passes and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        store = Store(url)
        configs = [
            SourceConfig(f"s{i:04}", f"https://s{i:04}.example/feed") for i in range(args.sources)
        ]
        store.sync_sources(configs, NOW)
        due = store.due_sources(NOW)
        rng = random.Random(1)
        batches = {s.id: batch(rng, s.name, args.articles) for s in due}
        size = sum(
            len(a.content) + len(a.summary) + len(a.text) for b in batches.values() for a in b
        )
        matches = {
            s.id: {a.id: [TopicMatch("news", 3.0, ("news",))] for a in batches[s.id][::5]}
            for s in due
        }
        print(f"{args.sources} sources x {args.articles} articles, {size / 1e6:.0f} MB of text")

        started = time.perf_counter()
        for source in due:
            store.save_update(source.id, state(source.url), batches[source.id], matches[source.id])
        report("cold pass (all new)", started, len(due))

        started = time.perf_counter()
        for source in due:
            store.save_update(source.id, state(source.url), batches[source.id], matches[source.id])
        report("same articles again (unchanged)", started, len(due))

        started = time.perf_counter()
        for source in due:
            store.save_update(source.id, state(source.url, "not_modified"), [])
        report("warm pass (all 304)", started, len(due))
        print(store.stats())
        store.close()


def report(what: str, started: float, calls: int) -> None:
    """One line: total seconds and milliseconds per call."""
    elapsed = time.perf_counter() - started
    print(f"{what:34} {elapsed:7.2f} s  {elapsed / calls * 1000:6.2f} ms/source")


if __name__ == "__main__":
    main()
