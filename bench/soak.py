"""Daemon soak benchmark: `aggregator run` against `reader`'s scheduled updates, one run.

Stages:
  1. plan N feeds that each gain an entry every few minutes (seeded) and render every
     version of each (``soak_feeds``);
  2. for each program in turn: start a fresh feed server (``soak_server.py``, its own
     process, N feeds over many ports, every request logged) and the program, due every
     interval; sample its CPU and memory every few seconds and poll its database for each
     feed's due time; after ``--minutes``, SIGTERM it, then stop the server;
  3. from the server's log and the polled due times: lag (request time - due time), double
     and overlapping fetches, gaps; from the program's log: its own ``lag_ms``; from the
     samples: CPU and RSS by thirds of the run after the warm-up;
  4. print the tables, the ours / reader ratios and the checks; optionally write JSON.

Usage: ``.venv/bin/python bench/soak.py [--minutes 10] [--json FILE] [--markdown]``.
Exit status: 0 our checks hold, 1 otherwise, 2 a tool is missing or the config is refused.
"""

from __future__ import annotations

import argparse
import atexit
import importlib.util
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import soak_feeds
import soak_report
import soak_stats
from gen_feeds import default_anchor
from ingest import machine
from nginx import free_port
from programs import REPO_DIR, venv_bin
from soak_watch import DuePoller, Watched, kill_all, parse_stamp

BENCH_DIR = Path(__file__).resolve().parent
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


@dataclass
class Setup:
    """One program ready to run: command, database, how to read its schedule and rows."""

    name: str
    argv: list[str]
    db: Path
    due_sql: str  # rows of (feed key, next due)
    count_sql: str
    describe: str
    keyed_by_url: bool
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))


def setup_ours(folder: Path, args: argparse.Namespace, urls: dict[str, str]) -> Setup:
    """A config with one source per feed, due every interval; `aggregator run` on it."""
    folder.mkdir(parents=True, exist_ok=True)
    db, port = folder / "soak.db", free_port()
    every = f"{args.interval}m"
    extra = "" if args.no_min_interval else f", min_interval: {every}"
    lines = [
        f'database: {{url: "sqlite:///{db}"}}',
        f'server: {{host: 127.0.0.1, port: {port}, base_url: "http://127.0.0.1:{port}"}}',
        f'include: ["{REPO_DIR / "config" / "topics.yaml"}"]',
        "sources:",
    ]
    lines += [
        f'  - {{name: {name}, url: "{url}", interval: {every}{extra}}}'
        for name, url in urls.items()
    ]
    config = folder / "soak.yaml"
    config.write_text("\n".join(lines) + "\n")
    prefix = shlex.split(args.ours_cmd)
    prefix[0] = str(Path(shutil.which(prefix[0]) or prefix[0]).absolute())
    env = dict(os.environ)
    env.pop("AGGREGATOR_CONFIG", None)
    return Setup(
        name="ours",
        argv=[*prefix, "--log-format", "json", "--config", str(config), "run"],
        db=db,
        due_sql="SELECT name, next_fetch_at FROM sources",
        count_sql="SELECT COUNT(*) FROM articles",
        describe=f"aggregator run, interval {every}"
        + ("" if args.no_min_interval else f", min_interval {every}")
        + ", default fetch settings, the shipped topics",
        keyed_by_url=False,
        env=env,
    )


def setup_reader(folder: Path, args: argparse.Namespace, urls: dict[str, str]) -> Setup:
    """soak_reader.py: reader's scheduled updates in a loop, waking every second."""
    from programs import _version

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "reader.sqlite"
    (folder / "urls.txt").write_text("\n".join(urls.values()) + "\n")
    python = venv_bin("python")
    argv = [str(python if python.exists() else Path(sys.executable))]
    argv += [str(BENCH_DIR / "soak_reader.py"), str(db), str(folder / "urls.txt")]
    argv += ["--interval", str(args.interval), "--workers", str(args.reader_workers)]
    return Setup(
        name="reader",
        argv=argv,
        db=db,
        due_sql="SELECT url, update_after FROM feeds",
        count_sql="SELECT COUNT(*) FROM entries",
        describe=f"reader {_version('reader')}, update_feeds_iter(scheduled=True, "
        f"workers={args.reader_workers}) every second, interval {args.interval} min",
        keyed_by_url=True,
    )


def check_config(setup: Setup) -> str | None:
    """Our `check` on the generated config: None when accepted, else its message."""
    argv = [a for a in setup.argv if a not in ("run", "--log-format", "json")] + ["check"]
    res = subprocess.run(argv, capture_output=True, text=True, env=setup.env, timeout=120)
    if res.returncode == 0:
        return None
    return (res.stderr or res.stdout).strip()


def start_server(plan: Path, log_path: Path, hosts: int) -> tuple[subprocess.Popen[str], Any]:
    """The feed server as a child process, and its ready line (ports, start time)."""
    python = venv_bin("python")
    argv = [str(python if python.exists() else Path(sys.executable))]
    argv += [str(BENCH_DIR / "soak_server.py"), str(plan), str(log_path), "--ports", str(hosts)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"the feed server exited at start ({proc.wait()})")
    return proc, json.loads(line)


def stop_server(proc: subprocess.Popen[str]) -> None:
    """SIGTERM the feed server and wait for it to write out its log."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON objects among a file's lines."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append(value)
    return out


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
        fig["logged"] = soak_stats.logged_lags(results, watched.started, args.warmup)
        fig["problems"] = log_problems(watched.workdir / "stderr.txt")
    else:
        passes = [x for x in stdout if "started" in x]
        fig["passes"] = {
            "count": len(passes),
            "seconds": soak_stats.percentiles([p["seconds"] for p in passes]),
            "errors": sum(p["errors"] for p in passes),
        }
        fig["problems"] = {"failed_updates": fig["passes"]["errors"]}
    return fig


def our_results(path: Path) -> list[dict[str, Any]]:
    """Our daemon's per-source result lines, each with its start (Unix seconds)."""
    out = []
    for line in json_lines(path):
        if "source" in line and "status" in line and "ts" in line:
            done = parse_stamp(line["ts"]) or 0.0
            out.append({**line, "start": done - line.get("ms", 0) / 1000})
    return out


def log_problems(path: Path) -> dict[str, int]:
    """Our daemon's log: failed sources, other errors, and lines that are not JSON."""
    lines = path.read_text(errors="replace").splitlines()
    parsed = json_lines(path)
    return {
        "failed_updates": sum(1 for x in parsed if x.get("status") in ("error", "gone")),
        "other_errors": sum(
            1 for x in parsed if "source" not in x and x.get("level") in ("error", "critical")
        ),
        "lines_not_json": sum(1 for line in lines if not line.startswith("{")),
    }


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
