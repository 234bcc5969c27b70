"""Run `aggregator` with the stages of its article writes timed, for the soak benchmark.

Usage: ``.venv/bin/python bench/soak.py --ours-cmd ".venv/bin/python bench/soak_stages.py"``
(any `aggregator` arguments follow, as with the installed command).

Stages: wrap the steps `Store.save_update` runs in one transaction (stored keys, article
rows, search index, story joins, topic matches, data version) and the transaction's commit,
plus `Store.save_states` (the batched article-less states), each adding its wall time and
count; run the command line; at exit write ``stages.json`` (totals, counts, and one
``[seconds after start, stage, seconds]`` row per call) in the working folder, which
``soak.py`` reads back (``soak_stats.stages``). Wrapping costs about a microsecond per
call; the writes themselves are the installed code's.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aggregator.store as store_module

OUTPUT = "stages.json"
STEPS = ("stored_keys", "write_articles", "write_index", "join_stories", "replace_matches", "bump")

totals: dict[str, float] = {}
counts: dict[str, int] = {}
calls: list[tuple[float, str, float]] = []
_T0 = time.time()


def _add(stage: str, began: float) -> None:
    spent = time.perf_counter() - began
    totals[stage] = totals.get(stage, 0.0) + spent
    counts[stage] = counts.get(stage, 0) + 1
    calls.append((round(time.time() - _T0, 3), stage, round(spent, 6)))


def timed(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with each call's wall time added to ``stage``."""

    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _add(stage, began)

    return inner


def _timed_transaction(original: Any) -> Any:
    """``transaction`` with the commit (the exit of a body that raised nothing) timed."""

    @contextlib.contextmanager
    def transaction(*args: Any, **kwargs: Any) -> Iterator[Any]:
        manager = original(*args, **kwargs)
        conn = manager.__enter__()
        try:
            yield conn
        except BaseException:
            if not manager.__exit__(*sys.exc_info()):
                raise
        else:
            began = time.perf_counter()
            manager.__exit__(None, None, None)
            _add("commit", began)

    return transaction


def install() -> None:
    """Wrap the write steps where `Store` looks them up."""
    for step in STEPS:
        setattr(store_module, step, timed(step, getattr(store_module, step)))
    store = store_module.Store
    store.save_update = timed("save_update", store.save_update)  # type: ignore[method-assign]
    store.save_states = timed("save_states", store.save_states)  # type: ignore[method-assign]
    store_module.transaction = _timed_transaction(store_module.transaction)


def write(path: Path) -> None:
    """The totals, counts and calls as JSON (nothing when no write was timed)."""
    if not totals:
        return
    data = {"totals": totals, "counts": counts, "calls": calls}
    path.write_text(json.dumps(data))


def main() -> None:
    """Time the writes and run the `aggregator` command line given after this script."""
    from aggregator.cli import main as aggregator_main

    install()
    atexit.register(write, Path(OUTPUT).absolute())
    sys.argv[0] = "aggregator"
    aggregator_main()


if __name__ == "__main__":  # the parse workers import this module too; they only parse
    main()
