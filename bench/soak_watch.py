"""Watch a long-running program for the soak benchmark: its CPU and memory, its schedule.

- ``Watched``: start a command in its own process group (output to files), sample every few
  seconds the CPU seconds and RSS/PSS of the process and all its descendants (psutil), the
  CPU seconds of a second process (the feed server) and the whole machine's busy share; stop
  it with SIGTERM (SIGKILL to the group after a deadline) and record how it ended.
- ``DuePoller``: read every feed's next due time from the program's own SQLite database
  every second (read-only; both databases are in WAL mode, so this never blocks a writer)
  and keep each value with the moment it was first seen.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

_groups: set[int] = set()  # process groups started here and still running


def kill_all() -> None:
    """SIGKILL every process group started here that is still running (atexit, signals)."""
    for pgid in list(_groups):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        _groups.discard(pgid)


@dataclass(frozen=True)
class Sample:
    """One sample, ``t`` seconds after the start."""

    t: float
    cpu_s: float  # user + system seconds of the tree so far (processes gone included)
    rss: int  # bytes, sum over the tree
    pss: int  # bytes, sum over the tree, shared pages counted once
    procs: int
    other_cpu_s: float  # CPU seconds of the other watched process (the feed server)
    machine_busy: float  # percent of all CPUs busy since the previous sample


@dataclass
class Ended:
    """How the watched program ended."""

    returncode: int
    stop_s: float  # seconds from SIGTERM to exit
    killed: bool


@dataclass
class Watched:
    """A command started, sampled and stopped; see the module docstring."""

    argv: list[str]
    workdir: Path
    env: dict[str, str] | None = None
    every: float = 2.0
    other_pid: int | None = None
    samples: list[Sample] = field(default_factory=list)
    started: float = 0.0  # Unix time of the start

    def start(self) -> None:
        """Start the command and the sampler."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._out = (self.workdir / "stdout.txt").open("wb")
        self._err = (self.workdir / "stderr.txt").open("wb")
        self.started = time.time()
        self._t0 = time.monotonic()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=self._err,
            cwd=self.workdir,
            env=self.env,
            start_new_session=True,
        )
        _groups.add(self.proc.pid)
        self._cpu: dict[int, float] = {}
        self._stop = threading.Event()
        psutil.cpu_percent(None)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def running(self) -> bool:
        """True while the command has not exited."""
        return self.proc.poll() is None

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def _sample(self) -> None:
        try:
            root = psutil.Process(self.proc.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        rss = pss = 0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                info = p.memory_full_info()
                rss += info.rss
                pss += info.pss
                times = p.cpu_times()
                self._cpu[p.pid] = times.user + times.system
        other = 0.0
        if self.other_pid is not None:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(self.other_pid).cpu_times()
                other = times.user + times.system
        self.samples.append(
            Sample(
                t=time.monotonic() - self._t0,
                cpu_s=sum(self._cpu.values()),
                rss=rss,
                pss=pss,
                procs=len(procs),
                other_cpu_s=other,
                machine_busy=psutil.cpu_percent(None),
            )
        )

    def stop(self, deadline: float = 60.0) -> Ended:
        """SIGTERM the command, wait for it (SIGKILL its group after ``deadline`` s)."""
        self._sample()
        self._stop.set()
        self._thread.join()
        asked = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
        killed = False
        try:
            self.proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            killed = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        stop_s = time.monotonic() - asked
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # workers left behind, if any
        _groups.discard(self.proc.pid)
        self._out.close()
        self._err.close()
        return Ended(self.proc.returncode, round(stop_s, 3), killed)


def parse_stamp(value: object) -> float | None:
    """A stored timestamp (ISO text, naive meaning UTC) as Unix seconds."""
    if value is None:
        return None
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


class DuePoller(threading.Thread):
    """Polls ``sql`` (rows of key, due) every ``every`` seconds; keeps each change."""

    def __init__(self, db: Path, sql: str, every: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.db, self.sql, self.every = db, sql, every
        self.stop_event = threading.Event()
        self.seen: dict[str, list[tuple[float, float | None]]] = {}  # key -> (seen at, due)
        self.errors = 0

    def poll(self) -> None:
        """Read the due times once."""
        if not self.db.exists():
            return
        now = time.time()
        try:
            con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
            try:
                rows = con.execute(self.sql).fetchall()
            finally:
                con.close()
        except sqlite3.Error:
            self.errors += 1
            return
        for key, value in rows:
            due = parse_stamp(value)
            history = self.seen.setdefault(str(key), [])
            if not history or history[-1][1] != due:
                history.append((now, due))

    def run(self) -> None:
        while not self.stop_event.wait(self.every):
            self.poll()
