"""Daemon soak benchmark: `aggregator run` against `reader`'s scheduled updates, one run.

Stages:
  1. plan N feeds that each gain an entry every few minutes (seeded) and render every
     version of each (``soak_feeds``);
  2. for each program in turn (``soak_programs``): start a fresh feed server
     (``soak_server.py``, its own process, N feeds over many ports, every request logged)
     and the program, due every interval; sample its CPU and memory every few seconds and
     poll its database for each feed's due time (``soak_watch``); after ``--minutes``,
     SIGTERM it, then stop the server;
  3. from the server's log and the polled due times: lag (request time - due time), whole
     run and by thirds of it, double and overlapping fetches, gaps; from the program's log:
     its own ``lag_ms``; from the samples: CPU and RSS by thirds of the run after the
     warm-up; when our program ran under ``soak_stages.py``, where its writes' time went
     (``soak_stats``);
  4. print the tables, the ours / reader ratios and the checks; optionally write JSON
     (``soak_report``).

Usage: ``.venv/bin/python bench/soak.py [--minutes 10] [--json FILE] [--markdown]``; add
``--ours-cmd ".venv/bin/python bench/soak_stages.py"`` to time our writes' stages.
Exit status: 0 our checks hold, 1 otherwise, 2 a tool is missing or the config is refused.
"""

from __future__ import annotations

import argparse
import atexit
import importlib.util
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import soak_feeds
import soak_report
import soak_stats
from gen_feeds import default_anchor
from ingest import machine
from programs import venv_bin
from soak_programs import (
    Setup,
    check_config,
    json_lines,
    log_problems,
    our_results,
    setup_ours,
    setup_reader,
    start_server,
    stop_server,
)
from soak_watch import DuePoller, Watched, kill_all

ALL_PROGRAMS = ("ours", "reader")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10, help="run time of each program")
    ap.add_argument("--feeds", type=int, default=1000, help="number of feeds")
    ap.add_argument("--entries", type=int, default=20, help="entries in each feed")
    ap.add_argument("--interval", type=int, default=1, help="update interval, whole minutes")
    ap.add_argument("--change-minutes", type=float, default=5, help="mean time between changes")
    ap.add_argument("--hosts", type=int, default=50, help="ports the feeds are spread over")
    ap.add_argument(
        "--text",
        choices=soak_feeds.TEXTS,
        default="distinct",
        help="entry texts: redrawn so unrelated entries differ (distinct), or gen_feeds' "
        "sentences as they are (corpus: near-duplicates everywhere)",
    )
    ap.add_argument("--warmup", type=float, default=60, help="seconds left out of 'steady'")
    ap.add_argument("--sample-every", type=float, default=2, help="seconds between samples")
    ap.add_argument("--programs", default=",".join(ALL_PROGRAMS), help="comma-separated subset")
    ap.add_argument("--reader-workers", type=int, default=16, help="reader download threads")
    ap.add_argument(
        "--no-min-interval",
        action="store_true",
        help="leave `min_interval` out of our config (the default 5 min floor then applies)",
    )
    ap.add_argument(
        "--ours-cmd",
        default=str(venv_bin("aggregator")),
        help="the aggregator command (words split like a shell)",
    )
    ap.add_argument("--seed", type=int, default=1, help="seed of the feeds and their changes")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    ap.add_argument("--markdown", action="store_true", help="also print the tables as Markdown")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--workdir", type=Path, help="parent of the work folder (default: temp)")
    args = ap.parse_args(argv)
    args.programs = [p.strip() for p in args.programs.split(",") if p.strip()]
    unknown = set(args.programs) - set(ALL_PROGRAMS)
    if unknown:
        ap.error(f"unknown program(s): {', '.join(sorted(unknown))}")
    if args.minutes <= 0 or args.interval < 1:
        ap.error("--minutes must be positive and --interval at least 1")
    return args


def missing_tools(args: argparse.Namespace) -> list[str]:
    """One line per tool the run needs but cannot find, saying how to install it."""
    problems = []
    for module in ("psutil", "aiohttp"):
        if importlib.util.find_spec(module) is None:
            problems.append(f"{module} is not installed: run `.venv/bin/pip install -e '.[bench]'`")
    if "reader" in args.programs:
        if importlib.util.find_spec("reader") is None:
            problems.append("reader is not installed: run `.venv/bin/pip install -e '.[bench]'`")
        elif importlib.util.find_spec("sgmllib") is None:
            problems.append("reader needs sgmllib: run `.venv/bin/pip install sgmllib3k`")
    if "ours" in args.programs:
        first = shlex.split(args.ours_cmd)[0]
        if shutil.which(first) is None:
            problems.append(f"{first} not found: run `make install` (or pass --ours-cmd)")
    return problems


def run_program(
    name: str, args: argparse.Namespace, work: Path, feeds: list[soak_feeds.SoakFeed], plan: Path
) -> dict[str, Any]:
    """Serve the feeds, run one program for ``--minutes``, and gather its figures."""
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    server, ready = start_server(plan, folder / "requests.tsv", args.hosts)
    try:
        ports = ready["ports"]
        urls = {
            f.name: f"http://127.0.0.1:{ports[i % len(ports)]}{f.spec.path}"
            for i, f in enumerate(feeds)
        }
        setup = (setup_ours if name == "ours" else setup_reader)(folder, args, urls)
        load_before = round(os.getloadavg()[0], 2)
        poller = DuePoller(setup.db, setup.due_sql)
        watched = Watched(
            setup.argv, folder / "run", setup.env, args.sample_every, other_pid=server.pid
        )
        watched.start()
        poller.start()
        log(f"{name}: running for {args.minutes:g} min (pid {watched.proc.pid})")
        seconds = args.minutes * 60
        next_note = 60.0
        while watched.running() and time.time() - watched.started < seconds:
            time.sleep(min(1.0, max(0.0, seconds - (time.time() - watched.started))))
            if time.time() - watched.started >= next_note:
                next_note += 60
                progress(name, watched, folder / "requests.tsv")
        stopped = time.time()
        ended = watched.stop()
        poller.stop_event.set()
        poller.join()
        load_after = round(os.getloadavg()[0], 2)
    finally:
        stop_server(server)
    log(f"{name}: stopped, exit {ended.returncode} after {ended.stop_s} s")
    if stopped - watched.started < seconds - 1:  # it ended by itself: say why
        tail = (watched.workdir / "stderr.txt").read_text(errors="replace").splitlines()[-5:]
        log(f"{name} exited early; the end of its stderr:\n" + "\n".join(tail))
    return figures(name, args, setup, feeds, urls, ready, watched, poller, stopped, ended) | {
        "load_average_before": load_before,
        "load_average_after": load_after,
    }


def figures(
    name: str,
    args: argparse.Namespace,
    setup: Setup,
    feeds: list[soak_feeds.SoakFeed],
    urls: dict[str, str],
    ready: dict[str, Any],
    watched: Watched,
    poller: DuePoller,
    stopped: float,
    ended: Any,
) -> dict[str, Any]:
    """Everything measured of one program."""
    from programs import Program

    interval = args.interval * 60.0
    folder = watched.workdir.parent
    requests = soak_stats.read_log(folder / "requests.tsv")
    names = {f.spec.path: f.name for f in feeds}
    by_url = {u: n for n, u in urls.items()}
    dues = {(by_url.get(k, k) if setup.keyed_by_url else k): v for k, v in poller.seen.items()}
    stdout = json_lines(watched.workdir / "stdout.txt")
    added = next((x["added_at"] for x in stdout if "added_at" in x), watched.started)
    sched = soak_stats.schedule(
        requests,
        names,
        dues,
        started=watched.started,
        stopped=stopped,
        interval=interval,
        warmup=args.warmup,
        added=added,
    )
    counter = Program(name, folder, [], [], setup.db, setup.count_sql, "", False)
    gained = sched["entries_gained"]
    fig: dict[str, Any] = {
        "name": name,
        "describe": setup.describe,
        "command": shlex.join(setup.argv),
        "interval_s": interval,
        "seconds": round(stopped - watched.started, 1),
        "ended": vars(ended),
        "schedule": sched,
        "freshness": soak_stats.freshness(
            requests,
            names,
            {f.name: f.changes for f in feeds},
            served_from=ready["started"],
            started=watched.started,
            stopped=stopped,
            interval=interval,
        ),
        "resources": soak_stats.resources(watched.samples, args.warmup, stopped - watched.started),
        "stored": counter.stored(),
        "expected_stored": sum(args.entries + n for n in gained.values()),
        "due_poll_errors": poller.errors,
    }
    del sched["entries_gained"]
    if name == "ours":
        results = our_results(watched.workdir / "stderr.txt")
        fig["logged"] = soak_stats.logged_lags(results, watched.started, stopped, args.warmup)
        fig["problems"] = log_problems(watched.workdir / "stderr.txt")
        timed = soak_stats.stages(watched.workdir / "stages.json", stopped - watched.started)
        if timed is not None:
            fig["writes"] = timed
    else:
        passes = [x for x in stdout if "started" in x]
        fig["passes"] = {
            "count": len(passes),
            "seconds": soak_stats.percentiles([p["seconds"] for p in passes]),
            "errors": sum(p["errors"] for p in passes),
        }
        fig["problems"] = {"failed_updates": fig["passes"]["errors"]}
    return fig


def progress(name: str, watched: Watched, requests: Path) -> None:
    """A progress line: minutes run, requests so far, the last sample."""
    count = sum(1 for _ in requests.open("rb")) if requests.exists() else 0
    minutes = (time.time() - watched.started) / 60
    last = watched.samples[-1] if watched.samples else None
    extra = f", RSS {last.rss / 2**20:.0f} MiB, CPU {last.cpu_s:.0f} s" if last else ""
    log(f"{name}: {minutes:.0f} min, {count} requests{extra}")


def log(message: str) -> None:
    """A progress line on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    args = parse_args(argv)
    problems = missing_tools(args)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    atexit.register(kill_all)
    parent = args.workdir or Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="soak-bench-", dir=parent))
    try:
        served_for = args.minutes * 60 + 300
        feeds = soak_feeds.plan(args.feeds, served_for, args.change_minutes * 60, args.seed)
        plan = soak_feeds.write(
            work / "www", feeds, args.entries, default_anchor(), args.seed, args.text
        )
        log(f"{args.feeds} feeds, {sum(len(f.changes) for f in feeds)} changes, in {work}")
        if "ours" in args.programs:
            trial = setup_ours(work / "check", args, {f.name: "http://127.0.0.1/" for f in feeds})
            refused = check_config(trial)
            if refused:
                print(f"our config was refused:\n{refused}", file=sys.stderr)
                return 2
        load = os.getloadavg()[0]
        if load > 0.5:
            log(f"warning: load average is {load:.2f} before the run; other work skews timings")
        results = {name: run_program(name, args, work, feeds, plan) for name in args.programs}
        summary = summarize(results, args)
        print(soak_report.render(summary))
        if args.markdown:
            print("\n" + soak_report.render_markdown(summary))
        if args.json:
            soak_report.write_json(summary, args.json)
            log(f"wrote {args.json}")
        return 0 if summary["ok"] else 1
    finally:
        kill_all()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def summarize(results: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The whole run as one JSON-ready dict."""
    found = [c for name, fig in results.items() for c in soak_report.checks(name, fig)]
    return {
        "benchmark": "soak",
        "command": shlex.join(["bench/soak.py", *sys.argv[1:]]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine(),
        "settings": {
            "feeds": args.feeds,
            "entries": args.entries,
            "interval_s": args.interval * 60,
            "minutes": args.minutes,
            "change_minutes": args.change_minutes,
            "hosts": args.hosts,
            "text": args.text,
            "warmup_s": args.warmup,
            "sample_every_s": args.sample_every,
            "reader_workers": args.reader_workers,
            "min_interval": not args.no_min_interval,
            "order": "sequential: each program with its own fresh server and the same feeds",
            "seed": args.seed,
        },
        "programs": results,
        "ratios": soak_report.ratios(results),
        "checks": found,
        "ok": "ours" in results and all(c["ok"] for c in found if c["program"] == "ours"),
    }


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
