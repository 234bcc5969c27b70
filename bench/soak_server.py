"""The soak benchmark's feed server: feeds that change over time, every request logged.

Usage: ``python soak_server.py PLAN_JSON LOG_FILE --ports 50``. Run as its own process, so
it never competes with the measured program's event loop.

Stages: read the plan (``soak_feeds.write``); listen on N free ports of 127.0.0.1 (each
port is a separate host to a fetcher's per-host limits); print one JSON line with the ports
and the start time, from which the change times count; answer each feed with the version
current at the request's arrival, with an ETag and Last-Modified per version and 304 to a
matching conditional GET; append one tab-separated line per request to the log; on SIGTERM
stop listening, write out the log and exit 0.

Log columns: arrival (Unix seconds), done, path, status, version, body bytes, requests of
the same path in flight at arrival (this one included; above 1 means two overlapped).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import signal
import socket
import sys
import time
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import IO, Any

from aiohttp import web


@dataclass(frozen=True)
class Feed:
    """One served feed: its change times (seconds after start) and version files."""

    changes: tuple[float, ...]
    files: tuple[str, ...]
    content_type: str

    def version(self, elapsed: float) -> int:
        """The version current ``elapsed`` seconds after the start."""
        return bisect.bisect_right(self.changes, elapsed)


class FeedServer:
    """Answers GETs for the planned feeds; keeps the request log."""

    def __init__(self, plan: dict[str, Any], log: IO[str], started: float) -> None:
        self.feeds = {
            path: Feed(
                tuple(item["changes"]),
                tuple(item["files"]),
                "application/xml" + (f"; charset={item['charset']}" if item["charset"] else ""),
            )
            for path, item in plan.items()
        }
        self.log = log
        self.started = started
        self.in_flight: dict[str, int] = {}

    def validators(self, path: str, feed: Feed, version: int) -> tuple[str, float]:
        """The ETag and Last-Modified time of one version."""
        changed = self.started + feed.changes[version - 1] if version else self.started - 3600
        return f'"{path.rsplit("/", 1)[-1]}-v{version}"', float(int(changed))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.time()
        path = request.path
        feed = self.feeds.get(path)
        if feed is None:
            return web.Response(status=404, text="not found\n")
        in_flight = self.in_flight.get(path, 0) + 1
        self.in_flight[path] = in_flight
        try:
            version = feed.version(arrived - self.started)
            etag, changed = self.validators(path, feed, version)
            headers = {"ETag": etag, "Last-Modified": formatdate(changed, usegmt=True)}
            body = b""
            if _not_modified(request, etag, changed):
                status = 304
            else:
                status = 200
                body = Path(feed.files[version]).read_bytes()
                headers["Content-Type"] = feed.content_type
            response = web.StreamResponse(status=status, headers=headers)
            if status == 200:
                response.content_length = len(body)
            await response.prepare(request)
            if body:
                await response.write(body)
            await response.write_eof()
        finally:
            self.in_flight[path] -= 1
        self.log.write(
            f"{arrived:.6f}\t{time.time():.6f}\t{path}\t{status}\t{version}\t{len(body)}"
            f"\t{in_flight}\n"
        )
        return response


def _not_modified(request: web.Request, etag: str, changed: float) -> bool:
    """True when the request's validators match the current version (RFC 9110 order)."""
    match = request.headers.get("If-None-Match")
    if match is not None:
        return etag in (m.strip().removeprefix("W/") for m in match.split(","))
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        return changed <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False


def _listen(count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(1024)
        s.setblocking(False)
        socks.append(s)
    return socks


async def serve(plan_path: Path, log_path: Path, ports: int) -> None:
    """Serve until SIGTERM/SIGINT."""
    plan = json.loads(plan_path.read_text())
    socks = _listen(ports)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    with log_path.open("w", buffering=1 << 16) as log:
        server = FeedServer(plan, log, time.time())
        app = web.Application()
        app.router.add_get("/{tail:.*}", server.handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        for s in socks:
            await web.SockSite(runner, s).start()
        ready = {"ports": [s.getsockname()[1] for s in socks], "started": server.started}
        print(json.dumps(ready), flush=True)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except TimeoutError:
                log.flush()
        await runner.cleanup()


def main() -> None:
    """Parse the arguments and serve."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("plan", type=Path)
    ap.add_argument("log", type=Path)
    ap.add_argument("--ports", type=int, default=50, help="ports to listen on (hosts)")
    args = ap.parse_args()
    asyncio.run(serve(args.plan, args.log, args.ports))
    sys.exit(0)


if __name__ == "__main__":
    main()
