"""What story joins cost an ingest: `aggregator fetch --all` with and without them, one run.

    .venv/bin/python bench/stories_ingest.py [--feeds 1000] [--entries 50]

The feeds of the ingest benchmark (bench/gen_feeds.py: half Chinese, 1-6 KB bodies made of a
small pool of news sentences, so that many entries share long runs of text, a hard case for
the band lookup) are written to a temporary folder and read as file:// sources, so no HTTP
server is needed. Each program starts from an empty SQLite database:

    with      `aggregator fetch --all`, as shipped
    without   the same command with `store.join_stories` replaced by a no-op (nothing else
              changes: fingerprints are still made on the parse workers)

Prints wall time, entries/s and sources/s of each, the CPU time of its whole process tree
(the parse workers included; on a shared machine a steadier measure than wall time), their
ratios, and the stories made.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from gen_feeds import default_anchor, write_feeds  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
WITHOUT = (
    "import aggregator.store as store; store.join_stories = lambda *args, **kwargs: None; "
    "from aggregator.cli import main; main()"
)


def run(
    name: str, code: str, folder: Path, feeds: Path, specs: list[object]
) -> tuple[float, float]:
    """Time one cold `fetch --all` into a fresh database; returns (wall, CPU) seconds."""
    db = folder / f"{name}.db"
    lines = [
        f'database: {{url: "sqlite:///{db}"}}',
        "fetch: {concurrency: 64, per_host: 1000}",
        "sources:",
    ]
    lines += [
        f'  - {{name: {spec.name}, url: "file://{feeds}{spec.path}"}}'  # type: ignore[attr-defined]
        for spec in specs
    ]
    config = folder / f"{name}.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [str(PYTHON), "-c", code, "--config", str(config), "fetch", "--all"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != 0:
        sys.exit(f"{name}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
    with sqlite3.connect(db) as raw:
        stored = raw.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        grouped = raw.execute("SELECT COUNT(*) FROM articles WHERE story_id IS NOT NULL")
        stories = raw.execute("SELECT COUNT(*), COALESCE(MAX(size), 0) FROM stories").fetchone()
        print(
            f"  {name:<8} {seconds:7.1f} s  {stored / seconds:7.0f} entries/s  "
            f"{len(specs) / seconds:6.1f} sources/s  CPU {cpu:6.1f} s  ({stored} stored, "
            f"{grouped.fetchone()[0]} grouped into {stories[0]} stories, largest {stories[1]})",
            flush=True,
        )
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stories-ingest-") as work:
        folder = Path(work)
        feeds = folder / "feeds"
        specs = write_feeds(feeds, args.feeds, args.entries, default_anchor())
        print(f"{args.feeds} feeds x {args.entries} entries, cold `aggregator fetch --all`:")
        without = run("without", WITHOUT, folder, feeds, list(specs))
        ours = run("with", "from aggregator.cli import main; main()", folder, feeds, list(specs))
        print(f"  with / without: wall {ours[0] / without[0]:.2f}, CPU {ours[1] / without[1]:.2f}")


if __name__ == "__main__":
    main()
