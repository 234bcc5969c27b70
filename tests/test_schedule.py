"""The next-due decision: a table of cases, no network, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aggregator.schedule import (
    MAX_BACKOFF,
    MAX_SERVER_DELAY,
    MIN_INTERVAL,
    Outcome,
    backoff,
    effective_interval,
    first_fetch_at,
    next_fetch_at,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
H = 3600


@pytest.mark.parametrize(
    ("configured", "expected"),
    [(None, 30 * 60), (3600, 3600), (60, MIN_INTERVAL), (MIN_INTERVAL, MIN_INTERVAL)],
)
def test_effective_interval(configured: int | None, expected: int) -> None:
    assert effective_interval(configured) == expected


@pytest.mark.parametrize(
    ("streak", "expected"),
    [(0, H), (1, H), (2, 2 * H), (3, 4 * H), (5, 16 * H), (6, MAX_BACKOFF), (40, MAX_BACKOFF)],
)
def test_backoff_doubles_and_caps(streak: int, expected: int) -> None:
    assert backoff(H, streak) == expected


def test_backoff_never_shorter_than_a_long_interval() -> None:
    assert backoff(3 * 24 * H, 5) == 3 * 24 * H


@pytest.mark.parametrize(
    ("outcome", "interval", "seconds"),
    [
        (Outcome(ok=True), H, H),
        (Outcome(ok=True), None, 30 * 60),
        (Outcome(ok=True, max_age=2 * H), H, 2 * H),  # the server asks for longer
        (Outcome(ok=True, max_age=60), H, H),  # shorter than ours: ours wins
        (Outcome(ok=True, ttl_minutes=180), H, 3 * H),
        (Outcome(ok=True, max_age=30 * 24 * H), H, MAX_SERVER_DELAY),  # capped
        (Outcome(ok=False, error_streak=1), H, H),
        (Outcome(ok=False, error_streak=3), H, 4 * H),
    ],
)
def test_next_fetch_without_jitter(outcome: Outcome, interval: int | None, seconds: int) -> None:
    assert next_fetch_at(outcome, interval=interval, now=NOW, jitter=0.0) == NOW + timedelta(
        seconds=seconds
    )


def test_jitter_adds_at_most_a_tenth() -> None:
    late = next_fetch_at(Outcome(ok=True), interval=H, now=NOW, jitter=0.999)
    assert NOW + timedelta(seconds=H) < late < NOW + timedelta(seconds=1.1 * H)


def test_retry_after_postpones_a_failure() -> None:
    asked = NOW + timedelta(hours=5)
    due = next_fetch_at(
        Outcome(ok=False, error_streak=1, retry_after=asked), interval=H, now=NOW, jitter=0.0
    )
    assert due == asked


def test_retry_after_earlier_than_backoff_does_not_hurry_us() -> None:
    asked = NOW + timedelta(minutes=1)
    due = next_fetch_at(
        Outcome(ok=False, error_streak=1, retry_after=asked), interval=H, now=NOW, jitter=0.0
    )
    assert due == NOW + timedelta(seconds=H)


def test_absurd_retry_after_is_capped() -> None:
    asked = NOW + timedelta(days=365)
    due = next_fetch_at(
        Outcome(ok=False, error_streak=1, retry_after=asked), interval=H, now=NOW, jitter=0.0
    )
    assert due == NOW + timedelta(seconds=MAX_SERVER_DELAY)


def test_first_fetch_is_spread_over_the_interval() -> None:
    assert first_fetch_at(interval=H, now=NOW, spread=0.0) == NOW
    assert first_fetch_at(interval=H, now=NOW, spread=0.5) == NOW + timedelta(seconds=H / 2)
