"""Pure helpers for the fetch part: read response headers into plain values.

No I/O and no HTTP library here: each function takes header strings (and `now` where time
matters) and returns our values, so the rules are tested without a network.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """Split a Content-Type header into (lower-case media type, charset parameter or None)."""
    if not value:
        return None, None
    head, _, params = value.partition(";")
    media = head.strip().lower() or None
    charset = None
    for param in params.split(";"):
        name, sep, val = param.partition("=")
        if sep and name.strip().lower() == "charset":
            charset = val.strip().strip("\"'").strip() or None
            break
    return media, charset


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP-date (RFC 9110, or the obsolete forms) as an aware UTC datetime; None if invalid."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000" means UTC with no claim about the local zone
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_http_date(moment: datetime) -> str:
    """An aware datetime as an IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT"."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%a, %d %b %Y %H:%M:%S GMT")


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """Retry-After (delta-seconds or HTTP-date) as an aware UTC moment; None if absent/invalid."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        try:
            return now.astimezone(UTC) + timedelta(seconds=int(text))
        except OverflowError:
            return None
    return parse_http_date(text)


def parse_max_age(
    cache_control: str | None, expires: str | None, date: str | None, now: datetime
) -> int | None:
    """Freshness in seconds: Cache-Control max-age, else Expires minus Date (or now), else None.

    A past Expires gives 0; an unreadable one gives None (it says nothing we can use).
    """
    if cache_control:
        match = _MAX_AGE.search(cache_control)
        if match:
            return int(match.group(1))
    expires_at = parse_http_date(expires)
    if expires_at is None:
        return None
    base = parse_http_date(date) or now.astimezone(UTC)
    return max(0, int((expires_at - base).total_seconds()))


def status_reason(code: int, server_reason: str | None = None) -> str:
    """A one-line reason for an HTTP status, e.g. "HTTP 404 Not Found"."""
    try:
        phrase: str | None = HTTPStatus(code).phrase
    except ValueError:
        phrase = (server_reason or "").strip() or None
    return f"HTTP {code} {phrase}" if phrase else f"HTTP {code}"


def human_size(size: int) -> str:
    """A byte count for people: "20 MiB", "1.5 KiB", "900 bytes"."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            number = f"{size / scale:.1f}".removesuffix(".0")
            return f"{number} {unit}"
    return f"{size} bytes"


def seconds(value: float) -> str:
    """A duration for messages: 30.0 → "30 s", 0.25 → "0.25 s"."""
    return f"{value:g} s"


def one_line(text: str) -> str:
    """Collapse whitespace so a message fits on one line."""
    return " ".join(text.split())
