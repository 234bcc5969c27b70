"""Run one command and measure it: wall time and peak memory of its whole process tree.

Stages: start the command in its own process group (output to files), sample the resident
memory of the process and all its descendants every ``interval`` seconds (psutil) while the
main thread waits for it with ``wait4`` (which also gives the kernel's high-water mark of the
largest single process), kill the group on timeout or when the harness stops.

The peak reported is the larger of: the highest sampled sum over the tree (catches worker
subprocesses) and the kernel's maxrss of the largest single process (catches a spike that
falls between two samples). The sampled sum of PSS (pages shared between the processes,
e.g. after a fork, counted once) is recorded beside it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

_running: set[int] = set()  # process-group ids of children still running


def kill_running() -> None:
    """Kill every command this module started that is still running (for atexit/signals)."""
    for pgid in list(_running):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        _running.discard(pgid)


@dataclass(frozen=True)
class Run:
    """What one command did: exit status, time, memory, output."""

    argv: tuple[str, ...]
    returncode: int
    wall_s: float
    peak_tree_rss: int  # bytes, highest sampled sum over the process tree
    peak_single_rss: int  # bytes, kernel high-water mark of the largest single process
    peak_tree_pss: int  # bytes, highest sampled sum of PSS (shared pages counted once)
    max_procs: int  # most processes seen in the tree at once
    cpu_s: float  # user + system CPU seconds of the tree (wait4, or sampled if larger)
    timeline: tuple[tuple[float, int, int], ...]  # (seconds, RSS of the process, of the rest)
    timed_out: bool
    stdout: str
    stderr: str

    @property
    def peak_rss(self) -> int:
        """The peak resident memory to report, in bytes."""
        return max(self.peak_tree_rss, self.peak_single_rss)


class _Sampler(threading.Thread):
    """Samples the RSS sum of a process and its descendants until stopped."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.stop_event = threading.Event()
        self.started = time.perf_counter()
        self.timeline: list[tuple[float, int, int]] = []
        self.cpu: dict[int, float] = {}  # last CPU seconds seen, per process
        self.peak = 0
        self.peak_pss = 0
        self.max_procs = 0

    def sample(self) -> None:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        total = shared = root_rss = 0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                info = p.memory_full_info()
                total += info.rss
                shared += info.pss
                if p.pid == self.pid:
                    root_rss = info.rss
                times = p.cpu_times()
                self.cpu[p.pid] = times.user + times.system
        self.timeline.append((time.perf_counter() - self.started, root_rss, total - root_rss))
        self.peak = max(self.peak, total)
        self.peak_pss = max(self.peak_pss, shared)
        self.max_procs = max(self.max_procs, len(procs))

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)


def _tail(path: Path, limit: int = 20_000) -> str:
    data = path.read_bytes()
    return data[-limit:].decode("utf-8", errors="replace")


def run_measured(
    argv: list[str],
    *,
    workdir: Path,
    env: dict[str, str] | None = None,
    timeout: float = 1800.0,
    interval: float = 0.05,
) -> Run:
    """Run ``argv`` to the end and measure it; output goes to files in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = workdir / "stdout.txt", workdir / "stderr.txt"
    timed_out = threading.Event()
    with out_path.open("wb") as out, err_path.open("wb") as errf:
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=errf,
            cwd=workdir,
            env=env,
            start_new_session=True,
        )
        _running.add(proc.pid)
        sampler = _Sampler(proc.pid, interval)
        sampler.start()

        def on_timeout() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, on_timeout)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            timer.cancel()
            sampler.stop_event.set()
            sampler.join()
            # Workers the command left behind belong to its group: end them too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            _running.discard(proc.pid)
    return Run(
        argv=tuple(argv),
        returncode=proc.returncode,
        wall_s=wall,
        peak_tree_rss=sampler.peak,
        peak_single_rss=usage.ru_maxrss * 1024,  # Linux reports KiB
        peak_tree_pss=sampler.peak_pss,
        max_procs=sampler.max_procs,
        cpu_s=max(usage.ru_utime + usage.ru_stime, sum(sampler.cpu.values())),
        timeline=tuple(sampler.timeline),
        timed_out=timed_out.is_set(),
        stdout=_tail(out_path),
        stderr=_tail(err_path),
    )
