"""parse_dates.parse_date: RFC 822 and its breakages, ISO 8601 and Chinese forms; aware
datetimes only when the string names a zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from aggregator.parse_dates import parse_date


def tz(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 06 Sep 2021 16:45:00 +0800", datetime(2021, 9, 6, 16, 45, tzinfo=tz(8))),
        ("Mon, 06 Sep 2021 16:45:00 +08:00", datetime(2021, 9, 6, 16, 45, tzinfo=tz(8))),
        ("06 Sep 2021 16:45:00 GMT", datetime(2021, 9, 6, 16, 45, tzinfo=UTC)),
        ("Mon, 6 Sep 2021 16:45 +0800", datetime(2021, 9, 6, 16, 45, tzinfo=tz(8))),
        ("Mon, 06 Sep 21 16:45:00 UT", datetime(2021, 9, 6, 16, 45, tzinfo=UTC)),
        ("Monday, 06-Sep-2021 16:45:00 GMT", datetime(2021, 9, 6, 16, 45, tzinfo=UTC)),
        ("Mon, 06 Sep 2021 16:45:00 EST", datetime(2021, 9, 6, 16, 45, tzinfo=tz(-5))),
        ("Mon, 06 Sep 2021 16:45:00 PDT", datetime(2021, 9, 6, 16, 45, tzinfo=tz(-7))),
        ("Mon, 06 Sep 2021 16:45:00 -0000", datetime(2021, 9, 6, 16, 45, tzinfo=UTC)),
        ("Mon, 06 Sep 2021 16:45:00 GMT+8", datetime(2021, 9, 6, 16, 45, tzinfo=tz(8))),
        ("Mon, 06 Sep 2021 16:45:00 +0800 (CST)", datetime(2021, 9, 6, 16, 45, tzinfo=tz(8))),
        ("Thu, 31 Sep 2021 10:00:00 GMT", None),  # no such day
        ("Tue, 06 September 2021 4:45 PM PDT", datetime(2021, 9, 6, 16, 45, tzinfo=tz(-7))),
        ("Mon Sep  6 16:45:00 2021", datetime(2021, 9, 6, 16, 45)),
        ("September 6, 2021 16:45", datetime(2021, 9, 6, 16, 45)),
        ("2021-09-06T16:45:00+08:00", datetime(2021, 9, 6, 16, 45, tzinfo=tz(8))),
        ("2021-09-06T08:45:00Z", datetime(2021, 9, 6, 8, 45, tzinfo=UTC)),
        ("2021-09-06T16:45:00.25-04:00", datetime(2021, 9, 6, 16, 45, 0, 250000, tzinfo=tz(-4))),
        ("2021-09-06 16:45:00", datetime(2021, 9, 6, 16, 45)),
        ("2021-09-06", datetime(2021, 9, 6)),
        ("2021/9/6 16:45", datetime(2021, 9, 6, 16, 45)),
        ("2021年09月06日 16:45", datetime(2021, 9, 6, 16, 45)),
        ("2021年9月6日", datetime(2021, 9, 6)),
        ("20210906T164500Z", datetime(2021, 9, 6, 16, 45, tzinfo=UTC)),
        ("Mon, 06 Sep 2021 16:45:00 IST", datetime(2021, 9, 6, 16, 45)),  # ambiguous: no zone
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(text: str | None, expected: datetime | None) -> None:
    found = parse_date(text)
    assert found == expected
    if found is not None and expected is not None:
        assert (found.tzinfo is None) == (expected.tzinfo is None)


def test_cst_is_decided_by_the_caller() -> None:
    text = "Wed, 19 Jan 2022 10:00:00 CST"
    assert parse_date(text) == datetime(2022, 1, 19, 10, tzinfo=tz(-6))
    assert parse_date(text, cst_hours=8) == datetime(2022, 1, 19, 10, tzinfo=tz(8))
    assert parse_date("2022-01-19 10:00:00 CST", cst_hours=8) == datetime(
        2022, 1, 19, 10, tzinfo=tz(8)
    )
