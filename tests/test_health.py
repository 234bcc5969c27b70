"""Tests for health (pure) and store_health (the queries, on a real database)."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aggregator.health import (
    STATES,
    ArticleCounts,
    HealthSummary,
    SourceHealth,
    assess,
    health_report,
    iso,
    note,
    relative,
    report_json,
)
from aggregator.models import Source
from aggregator.store import Store
from tests.healthdata import EXPECTED, fill_health

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
FETCHED = Source(
    id=1,
    name="src",
    url="https://example.com/feed",
    config_url="https://example.com/feed",
    enabled=True,
    last_fetched_at=NOW - timedelta(minutes=10),
    next_fetch_at=NOW + timedelta(minutes=20),
    last_status="ok",
)


def source(**changes: Any) -> Source:
    return replace(FETCHED, **changes)


# ---------------------------------------------------------------- assess


@pytest.mark.parametrize(
    ("changes", "state", "due", "overdue", "empty"),
    [
        ({}, "ok", False, False, False),
        ({"last_status": "not_modified"}, "ok", False, False, False),
        (
            {"last_fetched_at": None, "next_fetch_at": None, "last_status": None},
            "new",
            True,
            False,
            False,
        ),
        ({"error_streak": 1, "last_status": "error"}, "failing", False, False, False),
        ({"empty_streak": 2}, "ok", False, False, False),
        ({"empty_streak": 3}, "empty", False, False, True),
        ({"next_fetch_at": NOW}, "ok", True, False, False),
        ({"next_fetch_at": NOW - timedelta(seconds=60)}, "ok", True, False, False),
        ({"next_fetch_at": NOW - timedelta(seconds=61)}, "overdue", True, True, False),
        ({"error_streak": 2, "empty_streak": 9}, "failing", False, False, True),
        ({"empty_streak": 3, "next_fetch_at": NOW - timedelta(hours=1)}, "empty", True, True, True),
        ({"enabled": False, "error_streak": 3, "empty_streak": 5}, "disabled", False, False, False),
        (
            {"enabled": False, "next_fetch_at": NOW - timedelta(days=1)},
            "disabled",
            False,
            False,
            False,
        ),
    ],
)
def test_assess_state(
    changes: dict[str, Any], state: str, due: bool, overdue: bool, empty: bool
) -> None:
    row = assess(source(**changes), ArticleCounts(), now=NOW)
    assert (row.state, row.due, row.overdue, row.empty) == (state, due, overdue, empty)


@pytest.mark.parametrize(
    ("empty_streak", "empty_after", "empty"),
    [(0, 1, False), (1, 1, True), (4, 5, False), (5, 5, True), (1, 0, True)],
)
def test_empty_after_is_configurable(empty_streak: int, empty_after: int, empty: bool) -> None:
    row = assess(
        source(empty_streak=empty_streak), ArticleCounts(), now=NOW, empty_after=empty_after
    )
    assert row.empty is empty


def test_overdue_after_is_configurable() -> None:
    late = source(next_fetch_at=NOW - timedelta(minutes=5))
    assert assess(late, ArticleCounts(), now=NOW).overdue
    assert not assess(late, ArticleCounts(), now=NOW, overdue_after=timedelta(minutes=10)).overdue


def test_assess_carries_the_source_and_counts() -> None:
    stored = source(last_error="salvaged", disabled_reason=None, error_streak=0, empty_streak=1)
    row = assess(stored, ArticleCounts(total=9, day=2, week=5), now=NOW)
    assert (row.name, row.url, row.last_status, row.last_error) == (
        "src",
        "https://example.com/feed",
        "ok",
        "salvaged",
    )
    assert (row.articles_total, row.articles_24h, row.articles_7d, row.empty_streak) == (9, 2, 5, 1)
    assert row.last_fetched_at == stored.last_fetched_at
    assert row.next_fetch_at == stored.next_fetch_at


# ---------------------------------------------------------------- summary and order


def test_report_orders_worst_first_and_counts_overlaps() -> None:
    sources = [
        source(id=1, name="b-ok"),
        source(id=2, name="a-ok"),
        source(id=3, name="off", enabled=False, disabled_reason="disabled in config"),
        source(id=4, name="late-failing", error_streak=1, next_fetch_at=NOW - timedelta(hours=1)),
        source(id=5, name="very-failing", error_streak=7),
        source(id=6, name="empty", empty_streak=3),
        source(id=7, name="late", next_fetch_at=NOW - timedelta(hours=1)),
        source(id=8, name="fresh", last_fetched_at=None, next_fetch_at=None, last_status=None),
    ]
    report = health_report(sources, {1: ArticleCounts(3, 1, 2)}, now=NOW)
    assert [r.name for r in report.sources] == [
        "very-failing",
        "late-failing",
        "empty",
        "late",
        "fresh",
        "a-ok",
        "b-ok",
        "off",
    ]
    assert report.summary == HealthSummary(
        sources=8, ok=2, new=1, failing=2, empty=1, overdue=2, due=3, disabled=1, max_error_streak=7
    )
    assert report.sources[-2].articles_24h == 1  # b-ok has id 1
    assert report.sources[0].articles_total == 0  # no counts given: none
    assert STATES[0] == "failing" and STATES[-1] == "disabled"


def test_empty_report() -> None:
    report = health_report([], {}, now=NOW)
    assert report.summary == HealthSummary(0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert report_json(report)["sources"] == []


# ---------------------------------------------------------------- JSON


def test_report_json_names_every_field_and_writes_iso_dates() -> None:
    report = health_report([source(error_streak=2, last_error="HTTP 503")], {}, now=NOW)
    data = report_json(report)
    assert data["generated_at"] == "2024-05-01T12:00:00Z"
    assert (data["empty_after"], data["overdue_after_seconds"]) == (3, 60)
    assert set(data["summary"]) == {f.name for f in fields(HealthSummary)}
    row = data["sources"][0]
    assert set(row) == {f.name for f in fields(SourceHealth)}
    assert row["last_fetched_at"] == "2024-05-01T11:50:00Z"
    assert row["next_fetch_at"] == "2024-05-01T12:20:00Z"
    assert (row["state"], row["error_streak"], row["last_error"]) == ("failing", 2, "HTTP 503")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, None),
        (datetime(2024, 5, 1, 20, 0, 30, 999, tzinfo=UTC), "2024-05-01T20:00:30Z"),
        (datetime(2024, 5, 2, 4, 0, tzinfo=UTC).astimezone(), "2024-05-02T04:00:00Z"),
    ],
)
def test_iso(value: datetime | None, text: str | None) -> None:
    assert iso(value) == text


# ---------------------------------------------------------------- words


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=-30), "now"),
        (timedelta(seconds=59), "now"),
        (timedelta(minutes=-5), "5 min ago"),
        (timedelta(minutes=20), "in 20 min"),
        (timedelta(hours=-3), "3 h ago"),
        (timedelta(hours=47), "in 47 h"),
        (timedelta(days=-9), "9 d ago"),
    ],
)
def test_relative(delta: timedelta, text: str) -> None:
    assert relative(NOW + delta, NOW) == text


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({}, ""),
        ({"last_error": "entries salvaged"}, "entries salvaged"),
        ({"error_streak": 2, "last_error": "HTTP 500"}, "HTTP 500"),
        ({"error_streak": 2}, "2 errors in a row"),
        ({"empty_streak": 4}, "no entries for 4 fetches in a row"),
        ({"enabled": False, "disabled_reason": "gone: 410 Gone"}, "gone: 410 Gone"),
        ({"enabled": False}, "disabled"),
    ],
)
def test_note(changes: dict[str, Any], text: str) -> None:
    assert note(assess(source(**changes), ArticleCounts(), now=NOW)) == text


# ---------------------------------------------------------------- store_health


def test_store_report_reads_every_state_and_counts_by_first_seen(store: Store) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    fill_health(store, now)
    report = store.health.report(now)
    assert {r.name: r.state for r in report.sources} == EXPECTED
    assert [r.name for r in report.sources] == list(EXPECTED)
    rows = {r.name: r for r in report.sources}
    ok = rows["ok-feed"]
    assert (ok.articles_total, ok.articles_24h, ok.articles_7d) == (4, 2, 3)
    assert ok.last_fetched_at == now - timedelta(minutes=10)
    assert rows["failing-feed"].last_error == "HTTP 500 Internal Server Error"
    assert rows["failing-feed"].error_streak == 4
    assert rows["empty-page"].empty_streak == 5
    assert rows["gone-feed"].disabled_reason == "gone: 410 Gone"
    assert rows["off-feed"].disabled_reason == "disabled in config"
    assert report.summary == HealthSummary(
        sources=7, ok=1, new=1, failing=1, empty=1, overdue=1, due=2, disabled=2, max_error_streak=4
    )
    assert store.health.summary(now) == report.summary


def test_store_report_takes_the_thresholds(store: Store) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    fill_health(store, now)
    report = store.health.report(now, empty_after=6, overdue_after=timedelta(hours=3))
    states = {r.name: r.state for r in report.sources}
    assert states["empty-page"] == "ok"
    assert states["overdue-feed"] == "ok"
    later = store.health.summary(now + timedelta(days=1))
    assert later.overdue == 4  # every enabled source with a due time
