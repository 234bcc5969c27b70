"""Fetch: one conditional GET per source, politely; the one home of aiohttp.

Stages of `HttpFetcher.fetch`, in order:

    local file?      file:// URL or plain path → read it (fetch_file), done
    check the URL    http(s) with a host, else error
    build headers    User-Agent, Accept (feeds first), Accept-Encoding,
                     If-None-Match / If-Modified-Since as stored, then the source's own headers
    for each hop     take a per-host slot, then a global slot; GET without following redirects;
                     3xx with Location → next hop (at most 10, no loops, relative resolved)
    read the body    2xx only, in chunks, stopping past max_bytes
    make the result  ok / not_modified / gone / error, with caching hints (max-age,
                     Retry-After) and permanent_url when every hop was 301/308

Expected failures (timeouts, DNS, refused connections, TLS, bad status, size) come back as a
`FetchResult` with status "error" or "gone" and a one-line reason; aiohttp's exceptions are
translated here and never leave this module.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from aggregator.fetch_file import fetch_file, local_path
from aggregator.fetch_headers import (
    human_size,
    one_line,
    parse_content_type,
    parse_max_age,
    parse_retry_after,
    seconds,
    status_reason,
)
from aggregator.models import FetchRequest, FetchResult, FetchSettings, FetchStatus

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
ACCEPT_ENCODING = "gzip, deflate, br"
MAX_REDIRECTS = 10
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})
_MAX_HEADER_LINE = 64 * 1024  # generous: some sites send very long cookies or policies


class Fetcher(Protocol):
    """Anything that turns a FetchRequest into a FetchResult (HttpFetcher, or a test fake)."""

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Make the request; expected failures are results, never raised."""
        ...


class _Failure(Exception):
    """An expected failure inside this module; becomes an "error" result at the door."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Chain:
    """The state of one request's redirect chain, kept for the result (and for errors)."""

    request: FetchRequest
    called: float
    url: URL | None = None
    hops: list[int] = field(default_factory=list)
    started: float | None = None  # when the first hop got its slots

    def final_url(self) -> str:
        return str(self.url) if self.hops and self.url is not None else self.request.url

    def elapsed_ms(self) -> int:
        start = self.started if self.started is not None else self.called
        return int((time.perf_counter() - start) * 1000)


@dataclass(frozen=True)
class _Response:
    """The parts of a final (non-redirect) response we keep, read while the connection was ours."""

    status: int
    reason: str | None
    headers: CIMultiDictProxy[str]
    body: bytes
    received: datetime


class HttpFetcher:
    """Fetches over HTTP(S) with one aiohttp session, and local files; use as `async with`."""

    def __init__(self, settings: FetchSettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._timeout = aiohttp.ClientTimeout(
            total=overall_timeout(settings),
            connect=settings.connect_timeout,
            sock_read=settings.read_timeout,
        )
        self._base_headers: dict[str, str] = {
            "User-Agent": settings.user_agent,
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        }

    async def __aenter__(self) -> HttpFetcher:
        self._slots = asyncio.Semaphore(max(1, self._settings.concurrency))
        self._host_slots = {}
        connector = aiohttp.TCPConnector(
            limit=self._settings.concurrency,
            limit_per_host=0,  # our per-host semaphores decide, keyed by host:port
            ttl_dns_cache=300,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            cookie_jar=aiohttp.DummyCookieJar(),  # sources must not share cookies
            auto_decompress=True,
            max_line_size=_MAX_HEADER_LINE,
            max_field_size=_MAX_HEADER_LINE,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Fetch `request.url` (http, https, file:// or a path); expected failures are results."""
        chain = _Chain(request, time.perf_counter())
        try:
            path = local_path(request.url)
        except ValueError as exc:
            return _error(chain, str(exc))
        if path is not None:
            return await fetch_file(request, path, self._settings.max_bytes)
        try:
            return await self._fetch_http(chain)
        except _Failure as exc:
            return _error(chain, exc.reason)
        except aiohttp.ConnectionTimeoutError:
            return _error(
                chain, f"timed out after {seconds(self._settings.connect_timeout)} (connect)"
            )
        except aiohttp.ServerTimeoutError:
            return _error(chain, f"timed out after {seconds(self._settings.read_timeout)} (read)")
        except TimeoutError:
            return _error(
                chain, f"timed out after {seconds(overall_timeout(self._settings))} (total)"
            )
        except aiohttp.ClientError as exc:
            return _error(chain, _client_error_reason(exc))

    # ------------------------------------------------------------ the chain

    async def _fetch_http(self, chain: _Chain) -> FetchResult:
        """Follow the redirect chain from `chain.request.url` to a final response."""
        if self._session is None:
            raise RuntimeError("HttpFetcher.fetch called outside 'async with HttpFetcher(...)'")
        request = chain.request
        chain.url = _http_url(request.url)
        headers = self._headers_for(request)
        seen = {str(chain.url)}
        while True:
            response = await self._get(chain, headers)
            if response is not None:
                return _result(chain, response)
            # a redirect: _get moved chain.url to the Location
            target = str(chain.url)
            if target in seen:
                raise _Failure(f"redirect loop at {target}")
            if len(chain.hops) > MAX_REDIRECTS:
                raise _Failure(f"too many redirects (more than {MAX_REDIRECTS})")
            seen.add(target)

    async def _get(self, chain: _Chain, headers: CIMultiDict[str]) -> _Response | None:
        """One hop: GET chain.url holding its slots; a redirect moves chain.url, returns None."""
        assert self._session is not None and self._slots is not None and chain.url is not None
        url = chain.url
        async with self._host_slot(url), self._slots:
            if chain.started is None:
                chain.started = time.perf_counter()
            async with self._session.get(url, headers=headers, allow_redirects=False) as resp:
                received = datetime.now(UTC)
                status = resp.status
                if status in REDIRECTS:
                    chain.url = _location(url, status, resp.headers.get("Location"))
                    chain.hops.append(status)
                    return None
                body = await self._read_body(resp) if 200 <= status < 300 else b""
                return _Response(status, resp.reason, resp.headers, body, received)

    async def _read_body(self, resp: aiohttp.ClientResponse) -> bytes:
        """The (decompressed) body, read in chunks; past max_bytes the connection is dropped."""
        limit = self._settings.max_bytes
        declared = resp.content_length
        if declared is not None and declared > limit:
            resp.close()
            raise _Failure(f"response larger than {human_size(limit)}")
        chunks: list[bytes] = []
        size = 0
        while chunk := await resp.content.readany():
            size += len(chunk)
            if size > limit:
                resp.close()
                raise _Failure(f"response larger than {human_size(limit)}")
            chunks.append(chunk)
        return b"".join(chunks)

    def _host_slot(self, url: URL) -> asyncio.Semaphore:
        key = f"{url.host}:{url.port}"
        slot = self._host_slots.get(key)
        if slot is None:
            slot = self._host_slots[key] = asyncio.Semaphore(max(1, self._settings.per_host))
        return slot

    def _headers_for(self, request: FetchRequest) -> CIMultiDict[str]:
        headers = CIMultiDict(self._base_headers)
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        for name, value in request.headers:
            if any(c in name or c in value for c in "\r\n") or not name.strip():
                raise _Failure(f"invalid request header {name!r}")
            headers[name] = value
        return headers


def overall_timeout(settings: FetchSettings) -> float:
    """The cap on one hop, connect to last byte: the connect timeout plus four read timeouts."""
    return settings.connect_timeout + 4 * settings.read_timeout


def _client_error_reason(exc: aiohttp.ClientError) -> str:
    """A one-line reason for an aiohttp error (timeouts are handled before this)."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"cannot resolve host {exc.host}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert = exc.certificate_error
        detail = getattr(cert, "verify_message", None) or str(cert)
        return one_line(f"TLS certificate error for {exc.host}: {detail}")
    if isinstance(exc, aiohttp.ClientSSLError):
        detail = getattr(exc.os_error, "reason", None) or str(exc.os_error)
        return one_line(f"TLS error with {exc.host}: {detail}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return "connection refused"
        detail = exc.os_error.strerror or str(exc.os_error)
        return one_line(f"cannot connect to {exc.host}:{exc.port}: {detail}")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server disconnected without a complete response"
    if isinstance(exc, aiohttp.ClientPayloadError):
        if str(exc).startswith("Response payload is not completed"):
            return "response body ended early"
        return one_line(f"broken response body: {exc}")
    if isinstance(exc, aiohttp.InvalidURL):
        return f"invalid URL {exc.url}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return one_line(f"bad HTTP response: {exc.message}")
    if isinstance(exc, aiohttp.ClientOSError):
        return one_line(f"network error: {exc.strerror or exc}")
    return (
        one_line(f"request failed: {exc}") if str(exc) else f"request failed: {type(exc).__name__}"
    )


def _http_url(raw: str) -> URL:
    try:
        url = URL(raw)
    except (ValueError, TypeError):
        raise _Failure(f"invalid URL {raw}") from None
    if url.scheme not in ("http", "https"):
        raise _Failure(f"unsupported URL scheme {url.scheme!r}" if url.scheme else "invalid URL")
    if not url.host:
        raise _Failure(f"invalid URL {raw} (no host)")
    return url


def _location(base: URL, status: int, location: str | None) -> URL:
    """Where a redirect points, resolved against the URL that answered it."""
    if not location:
        raise _Failure(f"{status_reason(status)} without a Location")
    try:
        target = base.join(URL(location.strip()))
    except (ValueError, TypeError):
        raise _Failure(f"redirect to an invalid URL {location!r}") from None
    if target.scheme not in ("http", "https") or not target.host:
        raise _Failure(f"redirect to an unsupported URL {location!r}")
    return target.with_fragment(None)


def _result(chain: _Chain, response: _Response) -> FetchResult:
    """Turn the final response of a chain into our result."""
    request, status, headers = chain.request, response.status, response.headers
    ok = 200 <= status < 300
    not_modified = status == 304
    permanent = bool(chain.hops) and (ok or not_modified)
    permanent = permanent and all(hop in PERMANENT_REDIRECTS for hop in chain.hops)
    result_status: FetchStatus
    error: str | None = None
    etag, last_modified = headers.get("ETag"), headers.get("Last-Modified")
    if ok:
        result_status = "ok"
    elif not_modified:
        result_status = "not_modified"
        etag = etag or request.etag
        last_modified = last_modified or request.last_modified
    elif status == 410:
        result_status, error = "gone", "410 Gone"
    else:
        result_status, error = "error", status_reason(status, response.reason)
    content_type, charset = parse_content_type(headers.get("Content-Type")) if ok else (None, None)
    retry_after = (
        parse_retry_after(headers.get("Retry-After"), response.received)
        if status in RETRY_AFTER_STATUSES
        else None
    )
    max_age = (
        parse_max_age(
            headers.get("Cache-Control"),
            headers.get("Expires"),
            headers.get("Date"),
            response.received,
        )
        if ok or not_modified
        else None
    )
    return FetchResult(
        url=request.url,
        status=result_status,
        http_status=status,
        body=response.body,
        content_type=content_type,
        charset=charset,
        final_url=chain.final_url(),
        permanent_url=str(chain.url) if permanent else None,
        etag=etag if ok or not_modified else None,
        last_modified=last_modified if ok or not_modified else None,
        retry_after=retry_after,
        max_age=max_age,
        error=error,
        elapsed_ms=chain.elapsed_ms(),
    )


def _error(chain: _Chain, reason: str) -> FetchResult:
    return FetchResult(
        url=chain.request.url,
        status="error",
        final_url=chain.final_url(),
        error=reason,
        elapsed_ms=chain.elapsed_ms(),
    )
