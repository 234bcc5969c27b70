"""The daemon's pid file: written at start, removed at stop, read by `aggregator reload`.

write_pid      refuse when a live daemon holds the file; replace a stale one; atomic
remove_pid     remove the file if it still names this process
read_pid       the process id in the file, or None when there is no file
signal_daemon  send a signal to the live daemon named in the file

A process counts as holding the file only while it runs and, where /proc shows its command
line, that command line mentions "aggregator": after a crash and a reboot the old number may
belong to an unrelated process, which must neither block a start nor receive a signal.
Every failure is a `PidFileError` with a one-line message naming the file.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

from aggregator.errors import AggregatorError

PID_FILE_ENV_VAR = "AGGREGATOR_PID_FILE"
DEFAULT_PID_FILE = "data/aggregator.pid"
"""Beside the default SQLite database (data/aggregator.db), relative to the working directory."""

_MARK = b"aggregator"


class PidFileError(AggregatorError):
    """The pid file at `path` cannot be used; the message is one line naming it."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def read_pid(path: str) -> int | None:
    """The process id written in `path`; None when there is no such file."""
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise PidFileError(path, "is a directory, not a pid file") from None
    except OSError as exc:
        raise PidFileError(path, f"cannot read: {exc.strerror or exc}") from None
    value = text.strip()
    if not value.isascii() or not value.isdigit() or int(value) <= 0:
        raise PidFileError(path, "not a pid file (expected a process id on one line)")
    return int(value)


def is_daemon(pid: int) -> bool:
    """Whether process `pid` runs and (where /proc tells) is an aggregator process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it runs, as another user
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc here (or not readable): trust the process id
    return _MARK in cmdline


def write_pid(path: str, pid: int | None = None) -> None:
    """Write `pid` (default: this process) to `path`, atomically.

    Raises PidFileError when another live daemon holds the file, or it cannot be written.
    A file left by a process that is gone is replaced.
    """
    pid = os.getpid() if pid is None else pid
    target = Path(path)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(f"{pid}\n", encoding="ascii")
        try:
            os.link(temp, target)  # creates the file only if there is none, whole at once
            return
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: check, then replace
            if not target.exists():
                os.replace(temp, target)
                return
        holder = _holder(path)
        if holder is not None and holder != pid:
            raise PidFileError(
                path, f"already held by running process {holder}; is the daemon running?"
            )
        os.replace(temp, target)
    except OSError as exc:
        raise PidFileError(path, f"cannot write: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def _holder(path: str) -> int | None:
    """The live daemon named in `path`; None for a missing, stale or unreadable-as-pid file."""
    try:
        pid = read_pid(path)
    except PidFileError as exc:
        if exc.reason.startswith("not a pid file"):
            return None  # garbage left behind: as good as stale
        raise
    return pid if pid is not None and is_daemon(pid) else None


def remove_pid(path: str, pid: int | None = None) -> None:
    """Remove `path` if it names `pid` (default: this process); anything else is left alone."""
    pid = os.getpid() if pid is None else pid
    try:
        if read_pid(path) == pid:
            Path(path).unlink()
    except (PidFileError, OSError):
        pass


@contextlib.contextmanager
def held(path: str) -> Iterator[None]:
    """Hold the pid file at `path` for the duration of the block."""
    write_pid(path)
    try:
        yield
    finally:
        remove_pid(path)


def signal_daemon(path: str, signum: int) -> int:
    """Send `signum` to the daemon named in `path`; returns its process id.

    Raises PidFileError (one line) when there is no file, the process in it is gone, or this
    user may not signal it.
    """
    pid = read_pid(path)
    if pid is None:
        raise PidFileError(path, "no such pid file; is the daemon running?")
    if not is_daemon(pid):
        raise PidFileError(path, f"stale pid file: process {pid} is not running")
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        raise PidFileError(path, f"stale pid file: process {pid} is not running") from None
    except PermissionError:
        name = signal.Signals(signum).name
        raise PidFileError(
            path, f"not permitted to send {name} to process {pid} (run as the daemon's user)"
        ) from None
    return pid
