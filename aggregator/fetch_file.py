"""Fetch a local file (a `file://` URL or a plain path) as a `FetchResult`.

Stages: find the path → stat it (missing, not a file, too large) → compare its mtime with the
stored Last-Modified (unchanged → not_modified) → read it (in a thread when large).
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from aggregator.fetch_headers import format_http_date, human_size, parse_http_date
from aggregator.models import FetchRequest, FetchResult, FetchStatus

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_DIRECT_READ_LIMIT = 256 * 1024  # files up to this size are read on the event loop
_TYPES = {
    ".xml": "application/xml",
    ".rss": "application/xml",
    ".atom": "application/xml",
    ".rdf": "application/xml",
    ".json": "application/json",
    ".html": "text/html",
    ".htm": "text/html",
}


def local_path(url: str) -> str | None:
    """The filesystem path a `file://` URL or plain path names; None for any other URL.

    Raises ValueError for a `file://` URL that names another host.
    """
    match = _SCHEME.match(url)
    if match is None or len(match.group(1)) == 1:  # no scheme (a one-letter one is a drive)
        return os.path.expanduser(url)
    if match.group(1).lower() != "file":
        return None
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"file URL names another host: {parts.netloc}")
    return unquote(parts.path)


def guess_content_type(path: str) -> str | None:
    """A media type from the file extension (feeds are XML or JSON); None when unknown."""
    return _TYPES.get(Path(path).suffix.lower())


async def fetch_file(request: FetchRequest, path: str, max_bytes: int) -> FetchResult:
    """Read the file at `path` for `request`; failures are results, never raised."""
    started = time.perf_counter()

    def done(
        status: FetchStatus,
        *,
        error: str | None = None,
        body: bytes = b"",
        content_type: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        return FetchResult(
            url=request.url,
            status=status,
            body=body,
            content_type=content_type,
            final_url=request.url,
            etag=etag,
            last_modified=last_modified,
            error=error,
            elapsed_ms=int((time.perf_counter() - started) * 1000),
        )

    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return done("error", error=f"no such file: {path}")
    except OSError as exc:
        return done("error", error=f"cannot read {path}: {exc.strerror or exc}")
    if not stat.S_ISREG(info.st_mode):
        return done("error", error=f"not a file: {path}")
    if info.st_size > max_bytes:
        return done("error", error=f"file larger than {human_size(max_bytes)}: {path}")

    last_modified = format_http_date(datetime.fromtimestamp(int(info.st_mtime), UTC))
    stored = parse_http_date(request.last_modified)
    if stored is not None and int(stored.timestamp()) == int(info.st_mtime):
        return done("not_modified", last_modified=request.last_modified, etag=request.etag)

    try:
        if info.st_size <= _DIRECT_READ_LIMIT:
            body = _read(path, max_bytes)
        else:
            body = await asyncio.to_thread(_read, path, max_bytes)
    except FileNotFoundError:
        return done("error", error=f"no such file: {path}")
    except OSError as exc:
        return done("error", error=f"cannot read {path}: {exc.strerror or exc}")
    if len(body) > max_bytes:  # the file grew after stat
        return done("error", error=f"file larger than {human_size(max_bytes)}: {path}")
    return done(
        "ok",
        body=body,
        content_type=guess_content_type(path),
        last_modified=last_modified,
    )


def _read(path: str, max_bytes: int) -> bytes:
    """Up to `max_bytes + 1` bytes of the file (one more than allowed shows it is too large)."""
    with open(path, "rb") as handle:
        return handle.read(max_bytes + 1)
