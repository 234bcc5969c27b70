"""The pure header rules of the fetch part: no network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from aggregator.fetch_headers import (
    format_http_date,
    human_size,
    parse_content_type,
    parse_http_date,
    parse_max_age,
    parse_retry_after,
    seconds,
    status_reason,
)

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, (None, None)),
        ("", (None, None)),
        ("application/rss+xml", ("application/rss+xml", None)),
        ("Text/XML; Charset=GBK", ("text/xml", "GBK")),
        ('application/xml; boundary=x; charset="utf-8"', ("application/xml", "utf-8")),
        ("text/html; charset=", ("text/html", None)),
    ],
)
def test_parse_content_type(header: str | None, expected: tuple[str | None, str | None]) -> None:
    assert parse_content_type(header) == expected


def test_http_dates_round_trip_and_obsolete_forms() -> None:
    moment = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert format_http_date(moment) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == moment
    assert parse_http_date("Sun Nov  6 08:49:37 1994") == moment  # asctime
    assert parse_http_date("Sun, 06 Nov 1994 16:49:37 +0800") == moment
    assert parse_http_date("not a date") is None
    east = timezone(timedelta(hours=8))
    assert format_http_date(moment.astimezone(east)) == "Sun, 06 Nov 1994 08:49:37 GMT"


def test_retry_after() -> None:
    assert parse_retry_after("120", NOW) == NOW + timedelta(seconds=120)
    assert parse_retry_after(" 0 ", NOW) == NOW
    assert parse_retry_after("Sun, 01 Mar 2026 09:00:00 GMT", NOW) == NOW + timedelta(hours=1)
    assert parse_retry_after("-5", NOW) is None
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_max_age_prefers_cache_control() -> None:
    expires = "Sun, 01 Mar 2026 10:00:00 GMT"
    assert parse_max_age("public, max-age=300", expires, None, NOW) == 300
    assert parse_max_age('no-cache, MAX-AGE="60"', None, None, NOW) == 60
    assert parse_max_age("s-maxage=10", None, None, NOW) is None


def test_max_age_from_expires_minus_date_or_now() -> None:
    expires = "Sun, 01 Mar 2026 10:00:00 GMT"
    assert parse_max_age(None, expires, "Sun, 01 Mar 2026 09:00:00 GMT", NOW) == 3600
    assert parse_max_age(None, expires, None, NOW) == 7200
    assert parse_max_age("private", "Sun, 01 Mar 2026 07:00:00 GMT", None, NOW) == 0
    assert parse_max_age(None, "0", None, NOW) is None


def test_status_reason() -> None:
    assert status_reason(404) == "HTTP 404 Not Found"
    assert status_reason(599, "Network Connect Timeout") == "HTTP 599 Network Connect Timeout"
    assert status_reason(599) == "HTTP 599"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (20 * 1024 * 1024, "20 MiB"),
        (1536, "1.5 KiB"),
        (1024, "1 KiB"),
        (900, "900 bytes"),
        (3 << 30, "3 GiB"),
    ],
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


def test_seconds() -> None:
    assert (seconds(30.0), seconds(0.25)) == ("30 s", "0.25 s")
