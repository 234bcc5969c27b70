"""The soak benchmark's programs and its feed server: set up, start, stop, read their logs.

- ``setup_ours``: a config with one source per feed, due every interval (``min_interval``
  lowered to match unless ``--no-min-interval``), and ``aggregator run`` on it, logging JSON
  lines; ``check_config`` runs our ``check`` on it first.
- ``setup_reader``: ``soak_reader.py``, reader's scheduled updates in a loop.
- ``start_server`` / ``stop_server``: ``soak_server.py`` as a child process.
- ``our_results`` / ``log_problems``: our daemon's per-source result lines and its errors.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nginx import free_port
from programs import REPO_DIR, _version, venv_bin
from soak_watch import parse_stamp

BENCH_DIR = Path(__file__).resolve().parent


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
    # the program runs in its own folder: a relative script path must still find its file
    prefix[1:] = [str(Path(w).absolute()) if Path(w).is_file() else w for w in prefix[1:]]
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
