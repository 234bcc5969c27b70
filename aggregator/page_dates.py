"""Dates as web pages write them, Chinese and English → aware UTC; pure, `now` passed in.

Two functions:

    parse_page_date(value)   the whole string is one date (a meta tag's content, a <time>)
    find_date(text)          the date a page's text gives: first one after a label
                             (发布时间：, 发布日期：, 时间：, Published, Posted on, Updated …),
                             else the first date form found anywhere in `text`

Forms read, each table-tested:

    absolute   2022年01月22日, 2022年1月22日 10:30, 2022年1月22日10时30分,
               2022-01-22 10:30(:00), 2022/01/22, 2022.01.22, ISO 8601 with a zone
               (2022-01-22T10:30:00+08:00), and the English forms `parse_dates` reads
               (January 22, 2022; Jan 22, 2022 10:30 AM; 22 Jan 2022; RFC 822)
    no year    1月22日 (10:30), 01-22 10:30: the latest such date not after `now`
    relative   今天/昨天/前天 (HH:MM), 刚刚, 30秒前, 5分钟前, 半小时前, 3小时前, 2天前,
               yesterday, today, 5 minutes ago, 3 hours ago, 2 days ago

A date without a zone is read in `timezone` (an IANA name; UTC when None or unknown); one
with a zone keeps it. Relative and year-less dates are counted from `now` in that zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregator.parse_dates import parse_date

__all__ = ["find_date", "parse_page_date", "zone"]

_TIME = (
    r"(?:\s*(?:[Tt]\s*)?(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{2})"
    r"(?:\s*[:：分]\s*(?P<S>\d{2}))?(?:\s*[分秒])?)?"
)
_YMD = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)\s*(?:年\s*(?P<m1>\d{1,2})\s*月\s*(?P<d1>\d{1,2})\s*日"
    r"|(?P<sep>[-/.])(?P<m2>\d{1,2})(?P=sep)(?P<d2>\d{1,2})(?!\d))" + _TIME
)
_MD_CHINESE = re.compile(r"(?<![\d年])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日" + _TIME)
_MD_DASH = re.compile(
    r"(?<![\d/.\-])(?P<m>[01]?\d)-(?P<d>[0-3]?\d)\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?![\d\-])"
)
_DAY_WORD = re.compile(
    r"(?P<word>今天|昨天|前天|today|yesterday)(?:\s*(?P<H>\d{1,2})\s*[:：]\s*(?P<M>\d{2}))?",
    re.IGNORECASE,
)
_AGO = re.compile(
    r"(?P<n>\d{1,3}|半)\s*(?P<unit>秒|分钟|小时|个小时|天|日|周)前"
    r"|(?P<en>\d{1,3}|an?)\s+(?P<enunit>second|minute|hour|day|week)s?\s+ago"
    r"|(?P<now>刚刚|just now)",
    re.IGNORECASE,
)
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_MONTH = rf"(?:{_MONTHS}|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
_EN_ZONE = r"(?:\s+(?:UTC|GMT|EST|EDT|CST|CDT|MST|MDT|PST|PDT|BST|CET|CEST|[+-]\d\d:?\d\d))?"
_EN_TIME = rf"(?:,?\s+(?:at\s+)?\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\s*[ap]\.?m\.?)?{_EN_ZONE})?"
_ENGLISH = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d\d"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?:19|20)\d\d){_EN_TIME}",
    re.IGNORECASE,
)
_ISO_ZONED = re.compile(
    r"(?<!\d)(?:19|20)\d\d-\d\d-\d\d[Tt ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:[Zz]|[+-]\d\d:?\d\d)"
)
_LABEL = re.compile(
    r"(?:发布时间|发布日期|发表时间|发表日期|更新时间|日期|时间|發布時間|發布日期|發佈日期|更新時間"
    r"|(?<![A-Za-z])(?:published|posted|updated|date)(?:\s+on)?(?![A-Za-z]))\s*[:：]?\s*",
    re.IGNORECASE,
)
_AT = re.compile(r"\s+at\s+", re.IGNORECASE)

_Reader = Callable[[re.Match[str], datetime, tzinfo], datetime | None]


def parse_page_date(value: str | None, *, now: datetime, timezone: str | None) -> datetime | None:
    """`value` read as one date (a label before it is allowed), as aware UTC; else None."""
    if not value:
        return None
    text = " ".join(value.split())
    label = _LABEL.match(text)
    if label:
        text = text[label.end() :]
    zone_info = zone(timezone)
    for pattern, reader in _READERS:
        m = pattern.fullmatch(text)
        if m:
            return _utc(reader(m, now, zone_info), zone_info)
    return _utc(_english(text), zone_info)


def find_date(text: str | None, *, now: datetime, timezone: str | None) -> datetime | None:
    """The date `text` gives: the first after a label, else the first found; aware UTC."""
    if not text:
        return None
    flat = " ".join(text.split())
    zone_info = zone(timezone)
    for label in _LABEL.finditer(flat):
        found = _first(flat[label.end() : label.end() + 40], now, zone_info, anchored=True)
        if found is not None:
            return found
    return _first(flat, now, zone_info, anchored=False)


@lru_cache(maxsize=64)
def zone(name: str | None) -> tzinfo:
    """The tzinfo of an IANA name; UTC for None or an unknown name."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


# ---------------------------------------------------------------- readers


def _first(text: str, now: datetime, zone_info: tzinfo, *, anchored: bool) -> datetime | None:
    """The earliest date form in `text` (at its very start when `anchored`)."""
    best: tuple[int, datetime] | None = None
    for pattern, reader in _READERS:
        m = pattern.match(text) if anchored else pattern.search(text)
        if m is None or (best is not None and m.start() >= best[0]):
            continue
        found = _utc(reader(m, now, zone_info), zone_info)
        if found is not None:
            best = (m.start(), found)
    return best[1] if best else None


def _iso_zoned(m: re.Match[str], now: datetime, zone_info: tzinfo) -> datetime | None:
    return parse_date(m.group(0))


def _ymd(m: re.Match[str], now: datetime, zone_info: tzinfo) -> datetime | None:
    month = m.group("m1") or m.group("m2")
    day = m.group("d1") or m.group("d2")
    return _build(int(m.group("y")), int(month), int(day), m)


def _month_day(m: re.Match[str], now: datetime, zone_info: tzinfo) -> datetime | None:
    local = now.astimezone(zone_info).replace(tzinfo=None)
    for year in (local.year, local.year - 1, local.year - 2, local.year - 3, local.year - 4):
        found = _build(year, int(m.group("m")), int(m.group("d")), m)
        if found is not None and found <= local:
            return found
    return None


def _day_word(m: re.Match[str], now: datetime, zone_info: tzinfo) -> datetime | None:
    back = {"今天": 0, "today": 0, "昨天": 1, "yesterday": 1, "前天": 2}[m.group("word").lower()]
    day = now.astimezone(zone_info).date() - timedelta(days=back)
    return _build(day.year, day.month, day.day, m)


def _ago(m: re.Match[str], now: datetime, zone_info: tzinfo) -> datetime | None:
    if m.group("now"):
        return now
    if m.group("unit"):
        count = m.group("n")
        unit = {"秒": "second", "分钟": "minute", "小时": "hour", "个小时": "hour", "天": "day"}
        name = unit.get(m.group("unit"), "week" if m.group("unit") == "周" else "day")
    else:
        count = m.group("en").lower()
        name = m.group("enunit").lower()
    amount = 0.5 if count == "半" else 1.0 if count in ("a", "an") else float(count)
    seconds = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}[name]
    return now - timedelta(seconds=amount * seconds)


def _english_match(m: re.Match[str], now: datetime, zone_info: tzinfo) -> datetime | None:
    return _english(m.group(0))


def _english(text: str) -> datetime | None:
    if not text or not any(c.isalpha() for c in text):
        return None
    return parse_date(_AT.sub(" ", text))


def _build(year: int, month: int, day: int, m: re.Match[str]) -> datetime | None:
    groups = m.groupdict()
    hour = int(groups.get("H") or 0)
    minute = int(groups.get("M") or 0)
    second = int(groups.get("S") or 0)
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def _utc(value: datetime | None, zone_info: tzinfo) -> datetime | None:
    if value is None:
        return None
    try:
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone_info)
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


# Order matters only between forms that start at the same place: zoned ISO before the bare
# year-month-day it begins with.
_READERS: tuple[tuple[re.Pattern[str], _Reader], ...] = (
    (_ISO_ZONED, _iso_zoned),
    (_YMD, _ymd),
    (_ENGLISH, _english_match),
    (_MD_CHINESE, _month_day),
    (_MD_DASH, _month_day),
    (_DAY_WORD, _day_word),
    (_AGO, _ago),
)
