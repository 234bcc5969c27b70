"""The pid file and `aggregator reload`, against real processes and real signals."""

from __future__ import annotations

import os
import posixpath
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.configschema import DEFAULT_DATABASE_URL
from aggregator.pidfile import (
    DEFAULT_PID_FILE,
    PidFileError,
    held,
    read_pid,
    remove_pid,
    signal_daemon,
    write_pid,
)
from tests.test_cli import aggregator

# Stands in for a daemon: "aggregator" on its command line, says "hup" on SIGHUP and exits.
FAKE_DAEMON = """
import signal, sys, time
signal.signal(signal.SIGHUP, lambda *a: (print("hup", flush=True), sys.exit(0)))
print("ready", flush=True)
time.sleep(60)
"""


@pytest.fixture
def fake_daemon() -> Iterator[subprocess.Popen[str]]:
    """A live process that looks like the daemon (its command line names aggregator)."""
    process = subprocess.Popen(
        [sys.executable, "-c", FAKE_DAEMON, "aggregator"], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    yield process
    process.kill()
    process.communicate()


def dead_pid() -> int:
    """The id of a process that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_write_read_remove(tmp_path: Path) -> None:
    path = str(tmp_path / "run" / "aggregator.pid")  # the directory is created
    write_pid(path)
    assert read_pid(path) == os.getpid()
    assert Path(path).read_text(encoding="ascii") == f"{os.getpid()}\n"
    assert os.listdir(tmp_path / "run") == ["aggregator.pid"]  # no temporary file left
    remove_pid(path)
    assert not Path(path).exists()
    remove_pid(path)  # already gone: nothing to do


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "aggregator.pid")
    assert read_pid(path) is None
    with pytest.raises(PidFileError) as caught:
        signal_daemon(path, signal.SIGHUP)
    assert str(caught.value) == f"{path}: no such pid file; is the daemon running?"


def test_live_daemon_blocks_a_second_start_and_gets_the_signal(
    tmp_path: Path, fake_daemon: subprocess.Popen[str]
) -> None:
    path = str(tmp_path / "aggregator.pid")
    write_pid(path, fake_daemon.pid)
    with pytest.raises(PidFileError) as caught:
        write_pid(path)
    assert str(caught.value) == (
        f"{path}: already held by running process {fake_daemon.pid}; is the daemon running?"
    )
    assert read_pid(path) == fake_daemon.pid
    remove_pid(path)  # not ours: left alone
    assert read_pid(path) == fake_daemon.pid
    assert signal_daemon(path, signal.SIGHUP) == fake_daemon.pid
    out, _ = fake_daemon.communicate(timeout=30)
    assert out == "hup\n"


def test_stale_file_is_replaced_and_not_signalled(tmp_path: Path) -> None:
    path = str(tmp_path / "aggregator.pid")
    gone = dead_pid()
    Path(path).write_text(f"{gone}\n", encoding="ascii")
    with pytest.raises(PidFileError) as caught:
        signal_daemon(path, signal.SIGHUP)
    assert str(caught.value) == f"{path}: stale pid file: process {gone} is not running"
    write_pid(path)
    assert read_pid(path) == os.getpid()


def test_an_unrelated_process_with_the_old_number_is_stale(tmp_path: Path) -> None:
    sleep = shutil.which("sleep")
    if sleep is None or not Path("/proc/self/cmdline").exists():
        pytest.skip("needs sleep(1) and /proc")
    other = subprocess.Popen([sleep, "60"])
    try:
        path = str(tmp_path / "aggregator.pid")
        Path(path).write_text(f"{other.pid}\n", encoding="ascii")
        with pytest.raises(PidFileError, match="stale pid file"):
            signal_daemon(path, signal.SIGHUP)
        assert other.poll() is None  # it was not signalled
        write_pid(path)
        assert read_pid(path) == os.getpid()
    finally:
        other.kill()
        other.wait()


def test_garbage_is_not_a_pid_file(tmp_path: Path) -> None:
    path = str(tmp_path / "aggregator.pid")
    Path(path).write_text("hello\n", encoding="ascii")
    with pytest.raises(PidFileError) as caught:
        signal_daemon(path, signal.SIGHUP)
    assert str(caught.value) == f"{path}: not a pid file (expected a process id on one line)"
    with held(path):
        assert read_pid(path) == os.getpid()
    assert not Path(path).exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_no_permission_to_signal(fake_daemon: subprocess.Popen[str]) -> None:
    nobody = pwd.getpwnam("nobody")
    with tempfile.TemporaryDirectory() as folder:  # a place another user can reach
        Path(folder).chmod(0o755)
        path = str(Path(folder) / "aggregator.pid")
        Path(path).write_text(f"{fake_daemon.pid}\n", encoding="ascii")
        expected = f"{path}: not permitted to send SIGHUP to process {fake_daemon.pid} "
        child = os.fork()
        if child == 0:  # as another user, try to signal a process of root's
            status = 1
            try:
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
                signal_daemon(path, signal.SIGHUP)
            except PidFileError as exc:
                status = 0 if str(exc).startswith(expected) else 2
            finally:
                os._exit(status)
        _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert fake_daemon.poll() is None


def test_default_pid_file_sits_beside_the_default_database() -> None:
    database = DEFAULT_DATABASE_URL.removeprefix("sqlite:///")
    assert posixpath.dirname(DEFAULT_PID_FILE) == posixpath.dirname(database)


def test_reload_command_signals_the_daemon(
    tmp_path: Path, fake_daemon: subprocess.Popen[str]
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "aggregator.pid").write_text(f"{fake_daemon.pid}\n", encoding="ascii")
    result = aggregator("reload", cwd=tmp_path)  # the default pid file, under the working dir
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"reload requested: sent SIGHUP to the daemon (pid {fake_daemon.pid})\n"
    assert fake_daemon.communicate(timeout=30)[0] == "hup\n"


def test_reload_command_without_a_daemon_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.pid"
    result = aggregator("reload", "--pid-file", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == f"error: {path}: no such pid file; is the daemon running?\n"


def test_reload_command_reads_the_pid_file_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "env.pid"
    path.write_text(f"{dead_pid()}\n", encoding="ascii")
    env = {**os.environ, "AGGREGATOR_PID_FILE": str(path)}
    result = subprocess.run(
        [sys.executable, "-m", "aggregator", "reload"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {path}: stale pid file: process ")
