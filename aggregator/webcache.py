"""Rendered responses, cached while the data is unchanged, and HTTP conditional requests.

    request ─► fresh()        at most once per `revalidate_seconds`: read the store's data
                              version; a new version drops every cached response
            ─► get(key, build) a cached `Rendered`, else build it once (concurrent requests
                              for the same key wait for the same build) and keep it
            ─► respond()      304 when If-None-Match (or, without it, If-Modified-Since)
                              matches; else the gzip or identity bytes, with ETag,
                              Last-Modified, Vary and Cache-Control

A `Rendered` holds both encodings, so a cache hit compresses nothing and reads nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime

from aggregator.errors import StorageError

log = logging.getLogger("aggregator.web")

MAX_ENTRIES = 1024
MAX_BYTES = 64 * 1024 * 1024
_MIN_GZIP = 256  # bytes; smaller bodies are sent as they are


RawHeaders = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Variant:
    """One encoding of a rendered resource, with its response headers ready to send."""

    body: bytes
    etag: str
    headers: RawHeaders  # for 200
    not_modified_headers: RawHeaders  # for 304


@dataclass(frozen=True)
class Rendered:
    """One rendered resource: its bytes (plain and gzipped) and validators."""

    body: bytes
    gzipped: bytes | None  # None when compressing does not pay
    content_type: str  # with charset
    etag: str  # strong: a hash of `body`, quoted
    last_modified: int  # Unix seconds
    cache_control: str = "no-cache"
    plain: Variant = field(init=False, repr=False, compare=False)
    gzip: Variant | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plain", self._variant(self.body, self.etag, None))
        gzip_variant = None
        if self.gzipped is not None:
            gzip_variant = self._variant(self.gzipped, self.etag[:-1] + '-gzip"', "gzip")
        object.__setattr__(self, "gzip", gzip_variant)

    def _variant(self, body: bytes, etag: str, encoding: str | None) -> Variant:
        common = [
            (b"etag", etag.encode("ascii")),
            (b"last-modified", formatdate(self.last_modified, usegmt=True).encode("ascii")),
            (b"cache-control", self.cache_control.encode("ascii")),
        ]
        if self.gzipped is not None:
            common.append((b"vary", b"Accept-Encoding"))
        headers = [
            *common,
            (b"content-type", self.content_type.encode("ascii")),
            (b"content-length", str(len(body)).encode("ascii")),
        ]
        if encoding:
            headers.append((b"content-encoding", encoding.encode("ascii")))
        return Variant(body, etag, headers, common)

    @property
    def size(self) -> int:
        """Bytes held in memory."""
        return len(self.body) + len(self.gzipped or b"")

    def dated(self, last_modified: int) -> Rendered:
        """The same bytes with another Last-Modified."""
        return Rendered(
            self.body,
            self.gzipped,
            self.content_type,
            self.etag,
            last_modified,
            self.cache_control,
        )


def make_rendered(
    body: bytes, content_type: str, last_modified: int, cache_control: str = "no-cache"
) -> Rendered:
    """A `Rendered` for `body`: its ETag from a hash of the bytes, gzip when it is smaller."""
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= _MIN_GZIP else None
    if gzipped is not None and len(gzipped) >= len(body):
        gzipped = None
    return Rendered(body, gzipped, content_type, etag, last_modified, cache_control)


class ResponseCache:
    """Rendered responses by key, valid while the store's data version is unchanged.

    `renders` counts builds (cache misses), for tests and metrics. `invalidate()` may be
    called from any thread.
    """

    def __init__(
        self, data_version: Callable[[], Awaitable[int]], revalidate_seconds: float
    ) -> None:
        """Check `data_version` at most once per `revalidate_seconds`."""
        self._data_version = data_version
        self._revalidate = revalidate_seconds
        self._entries: OrderedDict[Hashable, Rendered] = OrderedDict()
        self._bytes = 0
        self._pending: dict[Hashable, asyncio.Task[Rendered]] = {}
        self._dates: dict[Hashable, tuple[str, int]] = {}  # key -> (etag, last modified)
        self._aliases: dict[tuple[str, bytes], Hashable] = {}  # (path, query) -> key
        self._version: int | None = None
        self._checked_at = -math.inf
        self._generation = 0
        self._lock = threading.Lock()
        self._check: asyncio.Lock | None = None
        self.renders = 0

    def invalidate(self) -> None:
        """Drop every cached response now and re-read the data version on the next request."""
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self._bytes = 0
            self._checked_at = -math.inf

    def due(self) -> bool:
        """Whether the next request must re-read the data version first."""
        return time.monotonic() - self._checked_at >= self._revalidate

    async def fresh(self) -> None:
        """Re-read the data version if it is time to; drop everything when it changed.

        When the database cannot be read, cached responses stay in use (a miss will fail).
        """
        if not self.due():
            return
        if self._check is None:
            self._check = asyncio.Lock()
        async with self._check:
            if not self.due():
                return
            try:
                version = await self._data_version()
            except StorageError as exc:
                self._checked_at = time.monotonic()  # keep serving what we have; retry later
                log.warning("cannot read the data version, serving cached responses: %s", exc)
                return
            with self._lock:
                if version != self._version:
                    self._version = version
                    self._generation += 1
                    self._entries.clear()
                    self._bytes = 0
                self._checked_at = time.monotonic()

    def peek(self, key: Hashable) -> Rendered | None:
        """The cached response for `key` if there is one and no version check is due."""
        if self.due():
            return None
        return self._hit(key)

    def _hit(self, key: Hashable) -> Rendered | None:
        found = self._entries.get(key)
        if found is not None:
            with contextlib.suppress(KeyError):  # invalidate() may have run in another thread
                self._entries.move_to_end(key)
        return found

    def alias(self, path: str, query: bytes, key: Hashable) -> None:
        """Remember that a request for `path?query` is answered by `key` (see `lookup`)."""
        if len(self._aliases) >= MAX_ENTRIES * 4:
            self._aliases.clear()
        self._aliases[(path, query)] = key

    def lookup(self, path: str, query: bytes) -> Rendered | None:
        """The cached response for a request seen before, if no version check is due."""
        key = self._aliases.get((path, query))
        return None if key is None else self.peek(key)

    async def get(self, key: Hashable, build: Callable[[int], Awaitable[Rendered]]) -> Rendered:
        """The response for `key`: cached, else built once by `build(last_modified)`."""
        await self.fresh()
        found = self._hit(key)
        if found is not None:
            return found
        task = self._pending.get(key)
        if task is None:
            task = asyncio.ensure_future(self._build(key, build))
            self._pending[key] = task
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(task)

    async def _build(self, key: Hashable, build: Callable[[int], Awaitable[Rendered]]) -> Rendered:
        generation = self._generation
        now = int(time.time())
        previous = self._dates.get(key)
        self.renders += 1
        rendered = await build(now)
        if previous is not None:
            etag, modified = previous
            if etag == rendered.etag:  # same bytes as before: they changed no later than then
                rendered = rendered.dated(modified)
            elif modified >= rendered.last_modified:  # changed within the same second
                rendered = rendered.dated(modified + 1)
        self._dates[key] = (rendered.etag, rendered.last_modified)
        with self._lock:
            if generation == self._generation:
                self._store(key, rendered)
        return rendered

    def _store(self, key: Hashable, rendered: Rendered) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        self._entries[key] = rendered
        self._bytes += rendered.size
        while self._entries and (len(self._entries) > MAX_ENTRIES or self._bytes > MAX_BYTES):
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size
        if len(self._dates) > 4 * MAX_ENTRIES:
            self._dates.clear()


# ---------------------------------------------------------------- conditional requests


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding value allows gzip (by name or by `*`, with q > 0)."""
    if not accept_encoding:
        return False
    star: bool | None = None
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        coding = coding.strip()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        allowed = _quality(params) > 0
        if coding != "*":
            return allowed
        star = allowed
    return bool(star)


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def not_modified(
    etag: str, last_modified: int, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """Whether a conditional GET/HEAD gets 304 (RFC 9110: If-None-Match wins when present)."""
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        tags = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
        return etag in tags
    if if_modified_since is not None:
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return last_modified <= since
    return False


def respond(
    rendered: Rendered,
    *,
    accept_encoding: str | None,
    if_none_match: str | None,
    if_modified_since: str | None,
) -> tuple[int, RawHeaders, bytes]:
    """(status, headers, body) for a GET of `rendered`; HEAD sends the same without the body.

    The headers list is shared by every response of `rendered`: do not change it.
    """
    variant = rendered.plain
    if rendered.gzip is not None and accepts_gzip(accept_encoding):
        variant = rendered.gzip
    if not_modified(variant.etag, rendered.last_modified, if_none_match, if_modified_since):
        return 304, variant.not_modified_headers, b""
    return 200, variant.headers, variant.body
