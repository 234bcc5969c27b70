"""Filter tokens of the search index: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from aggregator.searchtags import (
    MAX_DATE_TOKENS,
    article_tags,
    date_tokens,
    days_of,
    language_token,
)
from aggregator.searchtext import parse_query, tokens


def test_an_article_carries_its_source_language_prefixes_and_date() -> None:
    published = datetime(2024, 5, 12, 23, 59, tzinfo=UTC)
    assert article_tags(7, "zh-Hant-TW", published) == (
        "§s7 §lzh §lzh§hant §lzh§hant§tw §y2024 §m202405 §d20240512"
    )
    assert article_tags(7, None, published) == "§s7 §y2024 §m202405 §d20240512"


@pytest.mark.parametrize(
    ("language", "token"),
    [("zh", "§lzh"), ("ZH_cn", "§lzh§cn"), (" en-GB ", "§len§gb"), ("zh cn", None), ("", None)],
)
def test_a_language_filter_is_one_token_or_none(language: str, token: str | None) -> None:
    assert language_token(language) == token


def _covered(found: list[str]) -> set[date]:
    """Every day the tokens stand for."""
    days: set[date] = set()
    for token in found:
        kind, digits = token[1], token[2:]
        if kind == "d":
            days.add(datetime.strptime(digits, "%Y%m%d").date())
            continue
        first = datetime.strptime(digits + ("01" if kind == "m" else "0101"), "%Y%m%d").date()
        day = first
        while (day.month == first.month or kind == "y") and day.year == first.year:
            days.add(day)
            day += timedelta(days=1)
    return days


@pytest.mark.parametrize(
    ("first", "last", "count"),
    [
        (date(2024, 5, 12), date(2024, 5, 12), 1),
        (date(2024, 5, 1), date(2024, 5, 31), 1),
        (date(2024, 1, 1), date(2024, 12, 31), 1),
        (date(2023, 12, 30), date(2024, 1, 2), 4),
        (date(2023, 3, 15), date(2025, 2, 10), 17 + 9 + 1 + 1 + 10),
        (date(2024, 2, 1), date(2024, 2, 29), 1),  # a leap year's February
    ],
)
def test_dates_are_covered_exactly_by_the_fewest_tokens(
    first: date, last: date, count: int
) -> None:
    found = date_tokens(first, last)
    assert found is not None
    assert len(found) == count
    expected = {first + timedelta(days=n) for n in range((last - first).days + 1)}
    assert _covered(found) == expected


def test_a_cover_of_too_many_tokens_is_left_to_the_exact_check() -> None:
    found = date_tokens(date(1900, 1, 1), date(2024, 5, 12))
    assert found is None
    assert date_tokens(date(2001, 1, 1), date(2024, 5, 12)) is not None
    assert MAX_DATE_TOKENS >= 2 * 30 + 2 * 11 + 3


def test_days_of_a_range_leave_out_its_end() -> None:
    since = datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert days_of(since, datetime(2024, 5, 3, tzinfo=UTC)) == (date(2024, 5, 1), date(2024, 5, 2))
    assert days_of(since, since) is None


@pytest.mark.parametrize("typed", ["§s1", "§lzh", "§y2024 §d20240512", "s1"])
def test_no_query_becomes_a_filter_token(typed: str) -> None:
    query = parse_query(typed)
    assert all("§" not in token for term in query.terms for p in term.phrases for token in p.tokens)
    assert all("§" not in token for token in tokens(typed))
