"""page_dates: the date forms of Chinese and English pages, read in a zone, returned in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.page_dates import find_date, parse_page_date, zone

NOW = datetime(2024, 3, 10, 4, 0, tzinfo=UTC)  # 2024-03-10 12:00 in Shanghai
SH = "Asia/Shanghai"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "timezone", "expected"),
    [
        ("2022年01月22日", SH, utc(2022, 1, 21, 16)),
        ("2022年1月22日 10:30", SH, utc(2022, 1, 22, 2, 30)),
        ("2022年1月22日10时30分", SH, utc(2022, 1, 22, 2, 30)),
        ("2022-01-22 10:30", SH, utc(2022, 1, 22, 2, 30)),
        ("2022-01-22 10:30:15", SH, utc(2022, 1, 22, 2, 30, 15)),
        ("2022/01/22", SH, utc(2022, 1, 21, 16)),
        ("2022.01.22", SH, utc(2022, 1, 21, 16)),
        ("2022-1-5", SH, utc(2022, 1, 4, 16)),
        ("2022-01-22T10:30:00+08:00", None, utc(2022, 1, 22, 2, 30)),
        ("2022-01-22T10:30:00Z", SH, utc(2022, 1, 22, 10, 30)),
        ("2022-01-22 10:30", None, utc(2022, 1, 22, 10, 30)),  # no zone named: UTC
        ("2022-01-22 10:30", "America/New_York", utc(2022, 1, 22, 15, 30)),
        ("1月22日", SH, utc(2024, 1, 21, 16)),  # this year: not after now
        ("3月10日 11:00", SH, utc(2024, 3, 10, 3)),
        ("3月10日 13:00", SH, utc(2023, 3, 10, 5)),  # an hour ahead of now: last year
        ("12月31日", SH, utc(2023, 12, 30, 16)),
        ("02-29 08:00", SH, utc(2024, 2, 29)),
        ("今天 09:15", SH, utc(2024, 3, 10, 1, 15)),
        ("昨天 14:20", SH, utc(2024, 3, 9, 6, 20)),
        ("前天", SH, utc(2024, 3, 7, 16)),
        ("3小时前", SH, utc(2024, 3, 10, 1)),
        ("5分钟前", SH, utc(2024, 3, 10, 3, 55)),
        ("半小时前", SH, utc(2024, 3, 10, 3, 30)),
        ("2天前", SH, utc(2024, 3, 8, 4)),
        ("刚刚", SH, NOW),
        ("发布时间：2023-11-02 08:00", SH, utc(2023, 11, 2)),
        ("January 22, 2022", None, utc(2022, 1, 22)),
        ("Jan. 22, 2022", None, utc(2022, 1, 22)),
        ("Sept 5, 2023", None, utc(2023, 9, 5)),
        ("22 Jan 2022", None, utc(2022, 1, 22)),
        ("22 January 2022", "Europe/London", utc(2022, 1, 22)),
        ("January 22, 2022 at 3:45 pm", "America/New_York", utc(2022, 1, 22, 20, 45)),
        ("Mon, 06 Sep 2021 16:45:00 +0800", None, utc(2021, 9, 6, 8, 45)),
        ("3 hours ago", None, utc(2024, 3, 10, 1)),
        ("yesterday", SH, utc(2024, 3, 8, 16)),
        ("Published 4 March 2024", None, utc(2024, 3, 4)),
        ("2022-02-30", SH, None),
        ("13月1日", SH, None),
        ("next Tuesday", None, None),
        ("", SH, None),
    ],
)
def test_parse_page_date(text: str, timezone: str | None, expected: datetime | None) -> None:
    found = parse_page_date(text, now=NOW, timezone=timezone)
    assert found == expected
    if found is not None:
        assert found.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Admin - admin 于2022年01月22日发表", utc(2022, 1, 21, 16)),
        ("来源：工业和信息化部 发布时间：2024-01-22 10:30 【打印】", utc(2024, 1, 22, 2, 30)),
        ("阅读 1234 次 2023-05-06 发布日期：2023年05月08日", utc(2023, 5, 7, 16)),
        ("中国工业报 昨天 14:20 阅读量 3千", utc(2024, 3, 9, 6, 20)),
        ("记者 王芳 3小时前", utc(2024, 3, 10, 1)),
        ("By Jane Smith | Posted on February 14, 2024", utc(2024, 2, 14)),
        ("Updated: 2024-02-01T09:30:00-05:00 · 4 min read", utc(2024, 2, 1, 14, 30)),
        ("第2024-5号公告 文号 2024年第3号", None),
        ("no date here, 12345 numbers only", None),
    ],
)
def test_find_date(text: str, expected: datetime | None) -> None:
    assert find_date(text, now=NOW, timezone=SH if "By" not in text else None) == expected


def test_a_zoned_date_keeps_its_zone_whatever_the_source_says() -> None:
    a = parse_page_date("2022-01-22T10:30:00-05:00", now=NOW, timezone=SH)
    assert a == utc(2022, 1, 22, 15, 30)


def test_unknown_zone_names_read_as_utc() -> None:
    assert zone("Mars/Olympus") is UTC
    assert parse_page_date("2022-01-22 10:30", now=NOW, timezone="Mars/Olympus") == utc(
        2022, 1, 22, 10, 30
    )
