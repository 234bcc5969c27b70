"""Drive the `reader` library as a daemon for the soak benchmark: scheduled updates in a loop.

Usage: ``python soak_reader.py DB URLS_FILE --interval 1 --workers 16 --tick 1``.

Stages: open a new database and add every URL; set the global update interval
(the ``.reader.update`` tag, in minutes; reader then makes each feed due at the next
multiple of the interval after its last update); until SIGTERM, call
``update_feeds_iter(scheduled=True, workers=N)`` and sleep to the next ``tick`` seconds, the
way reader's docs suggest running scheduled updates often; print one JSON line per pass that
updated anything. A SIGTERM during a pass lets the pass finish, then exits 0.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from pathlib import Path
from types import FrameType

from reader import UpdatedFeed, make_reader

stopping = threading.Event()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    stopping.set()


def main() -> None:
    """Add the feeds, then update what is due every tick until stopped."""
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("urls", type=Path)
    ap.add_argument("--interval", type=int, default=1, help="update interval, minutes")
    ap.add_argument("--workers", type=int, default=16, help="threads that download feeds")
    ap.add_argument("--tick", type=float, default=1.0, help="seconds between checks")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    reader = make_reader(args.db)
    reader.set_tag((), ".reader.update", {"interval": args.interval})
    for url in args.urls.read_text().split():
        reader.add_feed(url, exist_ok=True)
    print(json.dumps({"added_at": time.time()}), flush=True)
    while not stopping.is_set():
        started = time.time()
        counts = {"updated": 0, "not_modified": 0, "errors": 0, "new_entries": 0}
        for result in reader.update_feeds_iter(scheduled=True, workers=args.workers):
            value = result.value
            if value is None:
                counts["not_modified"] += 1
            elif isinstance(value, UpdatedFeed):
                counts["updated"] += 1
                counts["new_entries"] += value.new
            else:
                counts["errors"] += 1
        if any(counts.values()):
            line = {"started": started, "seconds": round(time.time() - started, 3), **counts}
            print(json.dumps(line), flush=True)
        stopping.wait(max(0.0, args.tick - (time.time() - started)))
    reader.close()


if __name__ == "__main__":
    main()
