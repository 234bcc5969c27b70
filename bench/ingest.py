"""Ingest benchmark: our `aggregator fetch --all` against `reader` and newsboat, one run.

Stages:
  1. generate N feeds of M entries (seeded: RSS 2.0/Atom/RSS 1.0, half Chinese, some GBK);
  2. check a sample of them parses back (feedparser) with M entries each;
  3. serve them with a private nginx on 127.0.0.1 (ETag/Last-Modified, 304s);
  4. for each program: a cold pass (empty database), then a warm pass (all 304), each timed
     with the peak RSS of its whole process tree; count what it stored;
  5. print the table, the ratios against the targets and the correctness checks;
     optionally write them as JSON (``--out``).

Usage: ``.venv/bin/python bench/ingest.py [--quick] [--feeds N --entries M] [--out FILE]``.
Exit status: 0 all passes ran and our counts are right, 1 otherwise, 2 a tool is missing.
"""

from __future__ import annotations

import argparse
import atexit
import importlib.util
import os
import platform
import shlex
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

import programs
import pyspy
import report
from corpus import ZH_TITLES
from gen_feeds import SUBDIR_CHARSETS, SUBDIR_WRONG, FeedSpec, default_anchor, write_feeds
from nginx import INSTALL_HINT, Nginx, nginx_binary
from procmon import kill_running, run_measured

ALL_PROGRAMS = ("ours", "reader", "newsboat")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feeds", type=int, default=1000, help="number of feeds (N)")
    ap.add_argument("--entries", type=int, default=50, help="entries per feed (M)")
    ap.add_argument("--quick", action="store_true", help="100 feeds x 50 entries")
    ap.add_argument("--seed", type=int, default=1, help="seed of the generated feeds")
    ap.add_argument("--programs", default=",".join(ALL_PROGRAMS), help="comma-separated subset")
    ap.add_argument("--concurrency", type=int, default=64, help="our fetch concurrency")
    ap.add_argument("--reader-workers", type=int, default=16, help="reader update threads")
    ap.add_argument("--newsboat-threads", type=int, default=16, help="newsboat reload-threads")
    ap.add_argument("--nginx-workers", type=int, default=1, help="nginx worker processes")
    ap.add_argument(
        "--ours-cmd",
        default=str(programs.venv_bin("aggregator")),
        help="the aggregator command (words split like a shell)",
    )
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed per pass")
    ap.add_argument("--out", type=Path, help="also write the figures as JSON here")
    ap.add_argument(
        "--profile",
        type=Path,
        help="after the measured passes, profile our cold and warm passes again with py-spy "
        "(stacks to this file and to it with .warm added)",
    )
    ap.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--workdir", type=Path, help="parent of the work folder (default: temp)")
    args = ap.parse_args(argv)
    if args.quick:
        args.feeds, args.entries = 100, 50
    args.programs = [p.strip() for p in args.programs.split(",") if p.strip()]
    unknown = set(args.programs) - set(ALL_PROGRAMS)
    if unknown:
        ap.error(f"unknown program(s): {', '.join(sorted(unknown))}")
    return args


def missing_tools(args: argparse.Namespace) -> list[str]:
    """One line per tool the run needs but cannot find, saying how to install it."""
    problems = []
    if nginx_binary() is None:
        problems.append(INSTALL_HINT)
    if "newsboat" in args.programs and shutil.which("newsboat") is None:
        problems.append("newsboat is not installed: run `apt-get install -y newsboat`")
    if "reader" in args.programs:
        if importlib.util.find_spec("reader") is None:
            problems.append("reader is not installed: run `.venv/bin/pip install reader`")
        elif importlib.util.find_spec("sgmllib") is None:  # its bundled feedparser needs it
            problems.append("reader needs sgmllib: run `.venv/bin/pip install sgmllib3k`")
    if args.profile and pyspy.pyspy_binary() is None:
        problems.append("py-spy is not installed: run `.venv/bin/pip install py-spy`")
    if "ours" in args.programs:
        first = shlex.split(args.ours_cmd)[0]
        if shutil.which(first) is None:
            problems.append(f"{first} not found: run `make install` (or pass --ours-cmd)")
    return problems


def check_feeds(root: Path, specs: list[FeedSpec], entries: int) -> list[str]:
    """Parse one feed of each kind back with feedparser; problems found, if any."""
    import feedparser

    seen: set[tuple[str, str, str]] = set()
    problems = []
    for spec in specs:
        kind = (spec.fmt, spec.encoding, spec.lang)
        if kind in seen:
            continue
        seen.add(kind)
        parsed = feedparser.parse((root / spec.path.lstrip("/")).read_bytes())
        got = len(parsed.entries)
        if got != entries or parsed.get("bozo"):
            problems.append(f"{spec.path}: {got} entries, bozo={parsed.get('bozo_exception')}")
    return problems


def machine() -> dict[str, Any]:
    """What the run happened on."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def run_program(
    prog: programs.Program,
    nginx: Nginx,
    timeout: float,
    entries: int,
    specs: list[FeedSpec],
) -> dict[str, Any]:
    """Cold pass, then warm pass; their figures and what was stored after each.

    A program whose warm pass was not answered 304 throughout gets one more warm pass
    ("warm2"), to show what its conditional GETs cost once it has the validators.
    """
    figures: dict[str, Any] = {"name": prog.name, "describe": prog.describe}
    feeds = len(specs)
    expected = feeds * entries
    gbk_feeds = [
        (s.name, nginx.base_url + s.path, s.subdir == SUBDIR_WRONG)
        for s in specs
        if s.encoding == "gbk"
    ]
    nginx.take_statuses()
    for phase, argv in (("cold", prog.cold), ("warm", prog.warm), ("warm2", prog.warm)):
        warm = figures.get("warm", {})
        if phase == "warm2" and (warm["returncode"] or warm["http_statuses"] == {"304": feeds}):
            break
        log(f"{prog.name}: {phase} pass ...")
        run = run_measured(argv, workdir=prog.folder / phase, env=prog.env, timeout=timeout)
        stored = prog.stored()
        figures[phase] = {
            "command": shlex.join(run.argv),
            "returncode": run.returncode,
            "timed_out": run.timed_out,
            "wall_s": round(run.wall_s, 3),
            "cpu_s": round(run.cpu_s, 3),
            "entries_per_s": round(expected / run.wall_s, 1) if run.wall_s else None,
            "peak_rss_mib": round(run.peak_rss / 2**20, 1),
            "peak_tree_rss_mib": round(run.peak_tree_rss / 2**20, 1),
            "peak_single_rss_mib": round(run.peak_single_rss / 2**20, 1),
            "peak_tree_pss_mib": round(run.peak_tree_pss / 2**20, 1),
            "max_processes": run.max_procs,
            "rss_timeline_mib": timeline(run.timeline),
            "stored_after": stored,
            "http_statuses": nginx.take_statuses(),
        }
        if phase == "cold":
            figures[phase]["gbk_titles"] = programs.decode_check(prog, gbk_feeds, ZH_TITLES)
        if prog.name == "reader":
            figures[phase]["reader_counts"] = programs.reader_counts(run.stdout)
        if prog.name == "newsboat":
            figures[phase]["error_log_lines"] = programs.newsboat_errors(prog)
        status = "ok" if run.returncode == 0 else f"exit {run.returncode}"
        log(f"{prog.name}: {phase} {run.wall_s:.2f} s, {status}, stored {stored}")
        if run.returncode != 0 or run.timed_out:
            figures[phase]["stderr_tail"] = run.stderr[-2000:]
            log("  " + "\n  ".join(run.stderr.rstrip().splitlines()[-3:]))
    return figures


def timeline(samples: tuple[tuple[float, int, int], ...], points: int = 60) -> list[list[float]]:
    """At most ``points`` samples of [seconds, MiB of the process, MiB of its descendants]."""
    step = max(1, len(samples) // points)
    return [
        [round(t, 2), round(own / 2**20, 1), round(rest / 2**20, 1)]
        for t, own, rest in samples[::step]
    ]


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
        for line in problems:
            print(line, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    atexit.register(kill_running)
    parent = args.workdir or Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    if load > 0.5:
        log(f"warning: load average is {load:.2f} before the run; other work skews timings")
    work = Path(tempfile.mkdtemp(prefix="ingest-bench-", dir=parent))
    work.chmod(0o755)  # nginx workers read the feeds from here
    nginx: Nginx | None = None
    try:
        n, m = args.feeds, args.entries
        log(f"generating {n} feeds x {m} entries in {work}")
        started = time.perf_counter()
        specs = write_feeds(work / "www", n, m, default_anchor(), args.seed)
        size = sum(f.stat().st_size for f in (work / "www").rglob("*.xml"))
        log(f"generated {size / 2**20:.1f} MiB in {time.perf_counter() - started:.1f} s")
        bad = check_feeds(work / "www", specs, m)
        if bad:
            print("generated feeds do not parse back:\n" + "\n".join(bad), file=sys.stderr)
            return 1
        nginx = Nginx(work / "nginx", work / "www", SUBDIR_CHARSETS, args.nginx_workers)
        nginx.start()
        atexit.register(nginx.stop)
        log(f"nginx serving on {nginx.base_url}")
        urls = [nginx.base_url + s.path for s in specs]
        results = []
        for name in args.programs:
            prog = make_program(name, args, work / name, specs, urls)
            results.append(run_program(prog, nginx, args.timeout, m, specs))
        summary = report.summarize(results, n, m, specs, machine(), args)
        print(report.render(summary))
        if args.markdown:
            print("\n" + report.render_markdown(summary))
        if args.profile and "ours" in args.programs:
            summary["profile"] = profile_ours(args, work / "ours-profile", specs, urls)
            for phase, text in summary["profile"].items():
                print(f"\nours, {phase} pass, {text}")
        if args.out:
            report.write_json(summary, args.out)
            log(f"wrote {args.out}")
        return 0 if summary["ok"] else 1
    finally:
        if nginx is not None:
            nginx.stop()
        kill_running()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def profile_ours(
    args: argparse.Namespace, folder: Path, specs: list[FeedSpec], urls: list[str]
) -> dict[str, str]:
    """Our cold and warm passes once more, on a fresh database, under py-spy.

    Stacks go to the ``--profile`` file (cold) and the same name with ``.warm`` added;
    returns the folded summary of each.
    """
    prog = make_program("ours", args, folder, specs, urls)
    args.profile.parent.mkdir(parents=True, exist_ok=True)
    out: dict[str, str] = {}
    for phase, argv in (("cold", prog.cold), ("warm", prog.warm)):
        stacks = args.profile.absolute()
        if phase == "warm":
            stacks = stacks.with_name(stacks.name + ".warm")
        log(f"ours: {phase} pass under py-spy, stacks to {stacks}")
        status = pyspy.record(argv, stacks, folder)
        if status != 0:
            log(f"ours: profiled {phase} pass exited {status}")
        if not stacks.exists():
            out[phase] = f"py-spy wrote no stacks (exit {status})"
            continue
        out[phase] = pyspy.render(pyspy.fold(stacks.read_text()))
    return out


def make_program(
    name: str, args: argparse.Namespace, folder: Path, specs: list[FeedSpec], urls: list[str]
) -> programs.Program:
    """Set up one program in its own folder."""
    if name == "ours":
        sources = [(s.name, u) for s, u in zip(specs, urls, strict=True)]
        prefix = shlex.split(args.ours_cmd)
        prefix[0] = str(Path(shutil.which(prefix[0]) or prefix[0]).absolute())
        return programs.ours(folder, sources, prefix, args.concurrency)
    if name == "reader":
        python = programs.venv_bin("python")
        return programs.reader(
            folder, urls, python if python.exists() else Path(sys.executable), args.reader_workers
        )
    return programs.newsboat(folder, urls, args.newsboat_threads)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
