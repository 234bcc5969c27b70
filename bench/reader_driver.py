"""Drive the `reader` library for the ingest benchmark: one update pass over a list of feeds.

Usage: ``python reader_driver.py DB URLS_FILE --workers 16 [--add]``.

Stages: open (or create) the database; with ``--add``, add every URL (a cold pass starts
from nothing, like the other programs); update all feeds, due or not
(``update_feeds_iter(scheduled=False, workers=N)``); print one JSON line of counts.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from reader import UpdatedFeed, make_reader


def main() -> None:
    """Run one update pass and print its counts as JSON."""
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("urls", type=Path)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--add", action="store_true", help="add the feeds first (cold pass)")
    args = ap.parse_args()
    urls = [u for u in args.urls.read_text().split() if u]
    reader = make_reader(args.db)
    if args.add:
        for url in urls:
            reader.add_feed(url, exist_ok=True)
    counts = {"new": 0, "modified": 0, "unchanged": 0, "not_modified": 0, "errors": 0}
    samples: list[str] = []
    for result in reader.update_feeds_iter(scheduled=False, workers=args.workers):
        value = result.value
        if value is None:
            counts["not_modified"] += 1
        elif isinstance(value, UpdatedFeed):
            counts["new"] += value.new
            counts["modified"] += value.modified
            counts["unchanged"] += value.unmodified
        else:
            counts["errors"] += 1
            if len(samples) < 5:
                samples.append(f"{result.url}: {value}")
    reader.close()
    print(json.dumps({**counts, "error_samples": samples}))


if __name__ == "__main__":
    main()
