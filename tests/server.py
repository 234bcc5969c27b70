"""A real HTTP server on 127.0.0.1 for tests: serve feeds, redirects, errors and slow bodies.

Use the `feed_server` fixture (tests/conftest.py), which gives each test a fresh server:

    def test_something(feed_server: FeedServer) -> None:
        feed_server.add("/feed.xml", RSS_BYTES)                   # 200, ETag + Last-Modified
        feed_server.add("/busy", "", status=429, headers={"Retry-After": "120"})
        feed_server.redirect("/old", "/feed.xml", status=301)     # relative or absolute target
        url = feed_server.url("/feed.xml")                        # "http://127.0.0.1:PORT/feed.xml"
        ...
        assert feed_server.hits("/feed.xml") == 2
        assert feed_server.requests("/feed.xml")[-1]["If-None-Match"] == '"…"'

What a route can do (all keyword arguments of `add`):

- `etag` / `last_modified`: "auto" (default) derives both from the body, a string sends it
  as given, None sends none. A request whose If-None-Match matches (or, without it, whose
  If-Modified-Since is not older) gets 304 Not Modified, for 200 routes.
- `gzip=True` / `br=True`: compress the body when the request's Accept-Encoding allows it.
- `status` and `headers`: any status with any headers (e.g. Retry-After, Cache-Control).
- `delay`: seconds to wait before answering at all (a slow server).
- `chunked=True`: send the body with chunked transfer encoding (no Content-Length), in
  `chunk_size` pieces with `chunk_delay` seconds between them (a dribbling server).
- `content_length`: send this Content-Length instead of the true one (a lying server).

`drop(path)` makes a path close the connection without answering. Unknown paths get 404.
`hits`, `requests` and `peak_in_flight` count what the server saw, per path (the path as
registered; the query string is ignored for unknown paths). The server answers HTTP/1.1 with
keep-alive, one thread per connection, and `close()` ends every connection and thread.
"""

from __future__ import annotations

import contextlib
import gzip as gzip_module
import hashlib
import socket
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import brotli  # type: ignore[import-untyped]

AUTO = "auto"


class Headers(dict[str, str]):
    """Request headers as a dict with case-insensitive lookup (keys are stored lower-case)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__((name.lower(), value) for name, value in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class Route:
    """How the server answers one path."""

    body: bytes = b""
    status: int = 200
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    gzip: bool = False
    br: bool = False
    delay: float = 0.0
    chunked: bool = False
    chunk_size: int = 16 * 1024
    chunk_delay: float = 0.0
    content_length: int | None = None
    drop: bool = False


class FeedServer:
    """A threaded HTTP/1.1 server on a free port of 127.0.0.1; a context manager."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, Route] = {}
        self._hits: dict[str, int] = defaultdict(int)
        self._requests: dict[str, list[dict[str, str]]] = defaultdict(list)
        self._in_flight: dict[str | None, int] = defaultdict(int)
        self._peak: dict[str | None, int] = defaultdict(int)
        self._connections: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self.stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    # ------------------------------------------------------------ configuring

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def add(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str | None = "application/rss+xml; charset=utf-8",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        etag: str | None = AUTO,
        last_modified: str | None = AUTO,
        gzip: bool = False,
        br: bool = False,
        delay: float = 0.0,
        chunked: bool = False,
        chunk_size: int = 16 * 1024,
        chunk_delay: float = 0.0,
        content_length: int | None = None,
    ) -> None:
        """Serve `body` at `path` (replacing any route there); see the module docstring."""
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        digest = hashlib.sha256(data).hexdigest()
        if etag == AUTO:
            etag = f'"{digest[:20]}"'
        if last_modified == AUTO:
            moment = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=int(digest[:6], 16))
            last_modified = format_datetime(moment, usegmt=True)
        route = Route(
            body=data,
            status=status,
            content_type=content_type,
            headers=dict(headers or {}),
            etag=etag,
            last_modified=last_modified,
            gzip=gzip,
            br=br,
            delay=delay,
            chunked=chunked,
            chunk_size=chunk_size,
            chunk_delay=chunk_delay,
            content_length=content_length,
        )
        with self._lock:
            self._routes[path] = route

    def redirect(self, path: str, to: str, status: int = 301) -> None:
        """Answer `path` with a redirect to `to` (sent as given: a path or an absolute URL)."""
        route = Route(status=status, headers={"Location": to})
        with self._lock:
            self._routes[path] = route

    def drop(self, path: str) -> None:
        """Answer `path` by closing the connection without a response."""
        with self._lock:
            self._routes[path] = Route(drop=True)

    # ------------------------------------------------------------ observing

    def hits(self, path: str) -> int:
        """How many requests the server has seen for `path`."""
        with self._lock:
            return self._hits.get(path, 0)

    def requests(self, path: str) -> list[dict[str, str]]:
        """The headers of each request for `path`, oldest first (case-insensitive keys)."""
        with self._lock:
            return list(self._requests.get(path, []))

    def peak_in_flight(self, path: str | None = None) -> int:
        """The most requests (for `path`, or for any path) the server was answering at once."""
        with self._lock:
            return self._peak.get(path, 0)

    def reset_counts(self) -> None:
        """Forget hits, recorded requests and peaks (routes stay)."""
        with self._lock:
            self._hits.clear()
            self._requests.clear()
            self._peak.clear()

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Stop serving, end every open connection and wait for the threads."""
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout=5)
        self._thread.join(timeout=5)

    def __enter__(self) -> FeedServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------ used by the handler

    def _begin(self, target: str, headers: Headers) -> tuple[str, Route | None]:
        path = target.split("?", 1)[0]
        with self._lock:
            route = self._routes.get(target)
            key = target if route is not None else path
            if route is None:
                route = self._routes.get(path)
            self._hits[key] += 1
            self._requests[key].append(headers)
            for name in (key, None):
                self._in_flight[name] += 1
                self._peak[name] = max(self._peak[name], self._in_flight[name])
        return key, route

    def _end(self, key: str) -> None:
        with self._lock:
            self._in_flight[key] -= 1
            self._in_flight[None] -= 1

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
                self._threads.add(threading.current_thread())
            else:
                self._connections.discard(conn)
                self._threads.discard(threading.current_thread())


def refused_url(path: str = "/") -> str:
    """A URL on 127.0.0.1 at a port where nothing listens (a connection there is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a benchmark may open many connections at once
    owner: FeedServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 30  # an idle keep-alive connection ends after this many seconds
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        owner = self.server.owner
        key, route = owner._begin(self.path, Headers(self.headers.items()))
        try:
            self._serve(route, head)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client went away (e.g. it hit its size cap)
        finally:
            owner._end(key)

    def _serve(self, route: Route | None, head: bool) -> None:
        if route is None:
            self._send(404, b"not found\n", {"Content-Type": "text/plain"}, head=head)
            return
        if route.delay and self.server.owner.stopping.wait(route.delay):
            self.close_connection = True
            return
        if route.drop:
            self.close_connection = True
            return
        headers: dict[str, str] = {}
        if route.content_type is not None:
            headers["Content-Type"] = route.content_type
        if route.etag is not None:
            headers["ETag"] = route.etag
        if route.last_modified is not None:
            headers["Last-Modified"] = route.last_modified
        headers.update(route.headers)
        if route.status == 200 and self._not_modified(route):
            headers.pop("Content-Type", None)
            self._send(304, b"", headers, head=True)
            return
        body = route.body
        accepted = {
            part.split(";")[0].strip().lower()
            for part in self.headers.get("Accept-Encoding", "").split(",")
        }
        if route.br and "br" in accepted:
            body = brotli.compress(body)
            headers.update({"Content-Encoding": "br", "Vary": "Accept-Encoding"})
        elif route.gzip and "gzip" in accepted:
            body = gzip_module.compress(body)
            headers.update({"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
        if route.chunked:
            self._send_chunked(route, body, headers, head)
        else:
            self._send(route.status, body, headers, head=head, length=route.content_length)

    def _not_modified(self, route: Route) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            if route.etag is None:
                return False
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or route.etag.removeprefix("W/") in tags
        since = self.headers.get("If-Modified-Since")
        if since is None or route.last_modified is None:
            return False
        try:
            return parsedate_to_datetime(route.last_modified) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False

    def _start(self, status: int, headers: Mapping[str, str]) -> None:
        """The status line and headers; Server and Date unless the route sets its own."""
        self.log_request(status)
        self.send_response_only(status)
        given = {name.lower() for name in headers}
        if "server" not in given:
            self.send_header("Server", self.version_string())
        if "date" not in given:
            self.send_header("Date", self.date_time_string())
        for name, value in headers.items():
            self.send_header(name, value)

    def _send(
        self,
        status: int,
        body: bytes,
        headers: Mapping[str, str],
        *,
        head: bool,
        length: int | None = None,
    ) -> None:
        self._start(status, headers)
        if status != 304 and "content-length" not in {name.lower() for name in headers}:
            self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)
        if length is not None and length != len(body):
            self.close_connection = True

    def _send_chunked(
        self, route: Route, body: bytes, headers: Mapping[str, str], head: bool
    ) -> None:
        self._start(route.status, headers)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if head:
            return
        stopping = self.server.owner.stopping
        for start in range(0, len(body), route.chunk_size):
            if start and route.chunk_delay and stopping.wait(route.chunk_delay):
                self.close_connection = True
                return
            piece = body[start : start + route.chunk_size]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")
