"""A throwaway nginx serving a folder of static files on 127.0.0.1, for benchmarks.

Stages: pick a free port, write a config into a private prefix folder, start nginx in the
foreground as our child, wait until it accepts connections; on stop, end it and wait.

nginx answers conditional GETs (ETag, Last-Modified -> 304) on its own. The only log is a
one-field status log (the HTTP status of each request), so a benchmark can tell how many
requests were answered 200 and how many 304.
"""

from __future__ import annotations

import collections
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

INSTALL_HINT = "nginx is not installed: run `apt-get update && apt-get install -y nginx`"


def nginx_binary() -> str | None:
    """The path of the nginx executable, or None when it is not installed."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _user_line() -> str:
    """As root, run workers as root too so they can read private temp folders."""
    if os.geteuid() != 0:
        return ""
    return f"user {pwd.getpwuid(0).pw_name} {grp.getgrgid(0).gr_name};"


def render_config(
    prefix: Path, root: Path, port: int, charsets: dict[str, str | None], workers: int
) -> str:
    """The nginx.conf text: static files from ``root``, one charset per sub-folder."""
    locations = "\n".join(
        f"    location /{sub}/ {{ charset {cs}; charset_types *; }}"
        for sub, cs in charsets.items()
        if cs
    )
    temp = "\n".join(
        f"  {kind}_temp_path {prefix / (kind + '_temp')};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{_user_line()}
worker_processes {workers};
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 4096; }}
http {{
  types {{ }}
  default_type application/xml;
  charset off;
  sendfile on;
  tcp_nopush on;
  etag on;
  keepalive_requests 100000;
  keepalive_timeout 60s;
  log_format status_only '$status';
  access_log {prefix / "status.log"} status_only;
{temp}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    server_name localhost;
    root {root};
{locations}
  }}
}}
"""


class Nginx:
    """nginx as a child process serving ``root``; use as a context manager."""

    def __init__(
        self, prefix: Path, root: Path, charsets: dict[str, str | None], workers: int = 1
    ) -> None:
        self.prefix = prefix
        self.root = root
        self.charsets = charsets
        self.workers = workers
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Start nginx and wait until it accepts connections."""
        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError(INSTALL_HINT)
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        conf = self.prefix / "nginx.conf"
        conf.write_text(
            render_config(self.prefix, self.root, self.port, self.charsets, self.workers)
        )
        errlog = str(self.prefix / "error.log")
        cmd = [binary, "-p", str(self.prefix), "-e", errlog, "-c", str(conf), "-g", "daemon off;"]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"nginx exited at start ({self.proc.returncode}): {err.strip()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen on port {self.port} within {timeout} s")

    def stop(self) -> None:
        """End nginx (fast shutdown, then kill) and wait for it."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def take_statuses(self) -> dict[str, int]:
        """HTTP statuses answered since the last call, counted (e.g. {"200": 1000})."""
        log = self.prefix / "status.log"
        if not log.exists():
            return {}
        with log.open("rb") as f:
            f.seek(self._log_offset)
            data = f.read()
        self._log_offset += len(data)
        return dict(collections.Counter(data.decode().split()))

    def __enter__(self) -> Nginx:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
