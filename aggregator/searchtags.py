"""Filter tokens: an article's source, language and publication date as search index tokens.

    index:  (source key, language, published) ─► "§s12 §lzh §lzh§cn §y2024 §m202405 §d20240512"
    query:  a filter ─► the tokens every passing article carries
                source    §s<key>
                language  §l<tag, "-" written "§">   (the tag and each shorter prefix are indexed,
                          so "zh" finds zh, zh-cn and zh-tw; "zh-tw" only zh-tw)
                dates     the fewest whole years, months and days (UTC) that cover the range

The index matches a filter together with the words, so a common word narrowed to one source
or one week reads only the articles that pass, newest first, not every match. The dates are
whole days: the search still checks the exact times. "§" is neither a letter nor a digit, so
no word a user types becomes one of these tokens.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

MARK = "§"
_LANGUAGE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_DATE_TOKENS = 100  # a longer cover (decades of whole years) is left to the exact check


def source_token(source_key: int) -> str:
    """The token of the source with key `source_key`."""
    return f"{MARK}s{source_key}"


def language_token(language: str) -> str | None:
    """The token of a language filter ("zh", "zh-cn"), or None when it is not a tag."""
    tag = language.strip().lower().replace("_", "-")
    return f"{MARK}l" + tag.replace("-", MARK) if _LANGUAGE.fullmatch(tag) else None


def _day(day: date) -> str:
    return f"{MARK}d{day:%Y%m%d}"


def _month(day: date) -> str:
    return f"{MARK}m{day:%Y%m}"


def _year(day: date) -> str:
    return f"{MARK}y{day:%Y}"


def article_tags(source_key: int, language: str | None, published: datetime) -> str:
    """The filter tokens of one article, joined by spaces (`published` in UTC)."""
    found = [source_token(source_key)]
    if language:
        parts = language.strip().lower().replace("_", "-").split("-")
        for end in range(1, len(parts) + 1):
            token = language_token("-".join(parts[:end]))
            if token is not None:
                found.append(token)
    day = published.date()
    found += [_year(day), _month(day), _day(day)]
    return " ".join(found)


def date_tokens(first: date, last: date) -> list[str] | None:
    """The fewest year, month and day tokens covering the days first..last (inclusive); None
    when that takes more than MAX_DATE_TOKENS."""
    found: list[str] = []
    day = first
    while day <= last:
        if len(found) == MAX_DATE_TOKENS:
            return None
        year_end = date(day.year, 12, 31)
        if day.month == 1 and day.day == 1 and year_end <= last:
            found.append(_year(day))
            day = year_end + timedelta(days=1)
            continue
        month_end = _next_month(day) - timedelta(days=1)
        if day.day == 1 and month_end <= last:
            found.append(_month(day))
            day = month_end + timedelta(days=1)
            continue
        found.append(_day(day))
        day += timedelta(days=1)
    return found


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def days_of(since: datetime, until: datetime) -> tuple[date, date] | None:
    """The UTC days holding instants in since..until (until excluded), or None when none."""
    if until <= since:
        return None
    return since.date(), (until - timedelta(microseconds=1)).date()
