"""The next-due decisions: tables of cases, no network, no database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest

from aggregator.models import FeedHints, SourceConfig
from aggregator.schedule import (
    FIRST_FETCH_RATE,
    MAX_BACKOFF,
    MAX_SERVER_DELAY,
    SKIP_SPREAD,
    Cadence,
    Outcome,
    backoff,
    effective_interval,
    entries_per_day,
    first_fetch_times,
    next_fetch_at,
    outside_skipped,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)  # a Thursday (weekday 3)
M = 60
H = 3600
D = 86400
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

AUTO = Cadence(auto=True)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in the week of NOW: January `day`, 2026, UTC."""
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def test_now_is_a_thursday() -> None:
    assert NOW.weekday() == THU


# ---------------------------------------------------------------- rule 1: the interval


@pytest.mark.parametrize(
    ("cadence", "per_day", "seconds"),
    [
        (Cadence(), None, 30 * M),  # the default
        (Cadence(interval=H), None, H),
        (Cadence(interval=H), 1000.0, H),  # a fixed interval ignores the rhythm
        (Cadence(interval=M), None, 5 * M),  # below the default floor: raised to it
        (Cadence(interval=M, min_interval=M), None, M),  # the operator allowed it
        (Cadence(interval=2 * M, min_interval=M), None, 2 * M),
        (Cadence(interval=3 * D), None, 3 * D),  # max_interval bounds only `auto`
        (AUTO, None, 30 * M),  # rhythm unknown: the default
        (AUTO, 24.0, H),  # one new entry an hour: fetch hourly
        (AUTO, 48.0, 30 * M),
        (AUTO, 3.0, 8 * H),
        (AUTO, 1000.0, 5 * M),  # busier than the floor allows
        (Cadence(auto=True, min_interval=M), 1000.0, 86),
        (Cadence(auto=True, min_interval=M), 1e9, M),
        (AUTO, 0.5, D),  # two days per entry: capped at max_interval
        (AUTO, 0.0, D),  # nothing lately: as slow as allowed
        (Cadence(auto=True, max_interval=7 * D), 0.5, 2 * D),
        (Cadence(auto=True, max_interval=7 * D), 0.0, 7 * D),
        (Cadence(auto=True, min_interval=H), None, H),  # the default is below the floor
        (Cadence(auto=True, max_interval=10 * M), None, 10 * M),  # ... or above the cap
        (Cadence(auto=True, min_interval=2 * H, max_interval=H), 100.0, 2 * H),  # floor wins
        (Cadence(interval=M, auto=True), None, 30 * M),  # auto: a stray interval is unused
    ],
)
def test_effective_interval(cadence: Cadence, per_day: float | None, seconds: int) -> None:
    assert effective_interval(cadence, per_day) == seconds


def test_cadence_of_a_source_config() -> None:
    config = SourceConfig(
        "a", "https://a.test/", interval=None, auto_interval=True, min_interval=M, max_interval=H
    )
    assert Cadence.of(config) == Cadence(None, True, M, H)
    assert Cadence.of(SourceConfig("a", "https://a.test/", interval=2 * H)) == Cadence(2 * H)
    assert Cadence.of(None) == Cadence()


# ---------------------------------------------------------------- rule 2 on failure: backoff


@pytest.mark.parametrize(
    ("streak", "expected"),
    [(0, H), (1, H), (2, 2 * H), (3, 4 * H), (5, 16 * H), (6, MAX_BACKOFF), (40, MAX_BACKOFF)],
)
def test_backoff_doubles_and_caps(streak: int, expected: int) -> None:
    assert backoff(H, streak) == expected


def test_backoff_never_shorter_than_a_long_interval() -> None:
    assert backoff(3 * D, 5) == 3 * D


# ---------------------------------------------------------------- all rules together

HOURLY = Cadence(interval=H)


def hints(**kw: object) -> FeedHints:
    return FeedHints(**kw)  # type: ignore[arg-type]


NEXT_CASES: list[tuple[str, Outcome, Cadence, datetime]] = [
    # rule 1 and 2: interval, what the server asks, backoff
    ("default interval", Outcome(ok=True), Cadence(), NOW + timedelta(minutes=30)),
    ("configured interval", Outcome(ok=True), HOURLY, at(1, 13)),
    ("max-age longer than ours", Outcome(ok=True, max_age=2 * H), HOURLY, at(1, 14)),
    ("max-age shorter than ours", Outcome(ok=True, max_age=60), HOURLY, at(1, 13)),
    ("ttl longer than ours", Outcome(ok=True, hints=hints(ttl=180)), HOURLY, at(1, 15)),
    ("ttl shorter than ours", Outcome(ok=True, hints=hints(ttl=5)), HOURLY, at(1, 13)),
    (
        "the longer of max-age and ttl",
        Outcome(ok=True, max_age=2 * H, hints=hints(ttl=180)),
        HOURLY,
        at(1, 15),
    ),
    (
        "absurd max-age is capped",
        Outcome(ok=True, max_age=30 * D),
        HOURLY,
        NOW + timedelta(seconds=MAX_SERVER_DELAY),
    ),
    (
        "absurd ttl is capped",
        Outcome(ok=True, hints=hints(ttl=60 * 24 * 365)),
        HOURLY,
        NOW + timedelta(seconds=MAX_SERVER_DELAY),
    ),
    ("first failure", Outcome(ok=False, error_streak=1), HOURLY, at(1, 13)),
    ("third failure", Outcome(ok=False, error_streak=3), HOURLY, at(1, 16)),
    ("many failures: capped at a day", Outcome(ok=False, error_streak=30), HOURLY, at(2, 12)),
    (
        "a failure ignores ttl and max-age",
        Outcome(ok=False, error_streak=1, max_age=5 * H, hints=hints(ttl=600)),
        HOURLY,
        at(1, 13),
    ),
    (
        "a long interval backs off no less than itself",
        Outcome(ok=False, error_streak=4),
        Cadence(interval=3 * D),
        at(4, 12),
    ),
    ("success after failures: the plain interval", Outcome(ok=True), HOURLY, at(1, 13)),
    # interval: auto
    ("auto, rhythm unknown", Outcome(ok=True), AUTO, NOW + timedelta(minutes=30)),
    ("auto, 24 a day", Outcome(ok=True, hints=hints(entries_per_day=24.0)), AUTO, at(1, 13)),
    ("auto, 2 a day", Outcome(ok=True, hints=hints(entries_per_day=2.0)), AUTO, at(2, 0)),
    ("auto, silent", Outcome(ok=True, hints=hints(entries_per_day=0.0)), AUTO, at(2, 12)),
    (
        "auto, busy, but the ttl asks for longer",
        Outcome(ok=True, hints=hints(entries_per_day=100.0, ttl=120)),
        AUTO,
        at(1, 14),
    ),
    (
        "auto backs off from its own interval",
        Outcome(ok=False, error_streak=2, hints=hints(entries_per_day=24.0)),
        AUTO,
        at(1, 14),
    ),
    # rule 4: Retry-After
    (
        "Retry-After later than the backoff",
        Outcome(ok=False, error_streak=1, retry_after=at(1, 17)),
        HOURLY,
        at(1, 17),
    ),
    (
        "Retry-After earlier than the backoff does not hurry us",
        Outcome(ok=False, error_streak=1, retry_after=NOW + timedelta(minutes=1)),
        HOURLY,
        at(1, 13),
    ),
    (
        "absurd Retry-After is capped",
        Outcome(ok=False, error_streak=1, retry_after=NOW + timedelta(days=365)),
        HOURLY,
        NOW + timedelta(seconds=MAX_SERVER_DELAY),
    ),
    # rule 5: skipHours / skipDays (UTC)
    ("a skipped hour", Outcome(ok=True, hints=hints(skip_hours=(13,))), HOURLY, at(1, 14)),
    (
        "skipped hours in a row",
        Outcome(ok=True, hints=hints(skip_hours=(13, 14, 15))),
        HOURLY,
        at(1, 16),
    ),
    (
        "skipped hours that do not cover the due time",
        Outcome(ok=True, hints=hints(skip_hours=(0, 1, 12, 14))),
        HOURLY,
        at(1, 13),
    ),
    (
        "every hour skipped: the hint is ignored",
        Outcome(ok=True, hints=hints(skip_hours=tuple(range(24)))),
        HOURLY,
        at(1, 13),
    ),
    (
        "hours out of range are ignored",
        Outcome(ok=True, hints=hints(skip_hours=(-1, 24, 99))),
        HOURLY,
        at(1, 13),
    ),
    ("a skipped day", Outcome(ok=True, hints=hints(skip_days=(THU,))), HOURLY, at(2, 0)),
    (
        "skipped days in a row",
        Outcome(ok=True, hints=hints(skip_days=(THU, FRI, SAT))),
        HOURLY,
        at(4, 0),
    ),
    (
        "a skipped day that is not today",
        Outcome(ok=True, hints=hints(skip_days=(SAT, SUN))),
        HOURLY,
        at(1, 13),
    ),
    (
        "every day skipped: the hint is ignored",
        Outcome(ok=True, hints=hints(skip_days=tuple(range(7)))),
        HOURLY,
        at(1, 13),
    ),
    (
        "every day skipped, yet the hours still count",
        Outcome(ok=True, hints=hints(skip_days=tuple(range(7)), skip_hours=(13,))),
        HOURLY,
        at(1, 14),
    ),
    (
        "a skipped day, then the skipped early hours of the next",
        Outcome(ok=True, hints=hints(skip_days=(THU,), skip_hours=(0, 1))),
        HOURLY,
        at(2, 2),
    ),
    (
        "the week wraps: Thursday to Sunday skipped, then the small hours of Monday",
        Outcome(ok=True, hints=hints(skip_days=(THU, FRI, SAT, SUN), skip_hours=tuple(range(8)))),
        HOURLY,
        at(5, 8),
    ),
    (
        "midnight wraps: a skipped 23:00 moves to the next day",
        Outcome(ok=True, hints=hints(skip_hours=(23,))),
        Cadence(interval=11 * H + 30 * M),
        at(2, 0),
    ),
    (
        "midnight wraps into skipped hours of the next day",
        Outcome(ok=True, hints=hints(skip_hours=(23, 0, 1))),
        Cadence(interval=11 * H + 30 * M),
        at(2, 2),
    ),
    (
        "midnight wraps into a skipped day",
        Outcome(ok=True, hints=hints(skip_hours=(23,), skip_days=(FRI,))),
        Cadence(interval=11 * H + 30 * M),
        at(3, 0),
    ),
    (
        "a failure still honours skipped hours",
        Outcome(ok=False, error_streak=1, hints=hints(skip_hours=(13,))),
        HOURLY,
        at(1, 14),
    ),
    (
        "Retry-After into a skipped hour",
        Outcome(ok=False, error_streak=1, retry_after=at(1, 15, 30), hints=hints(skip_hours=(15,))),
        HOURLY,
        at(1, 16),
    ),
    (
        "ttl into a skipped day",
        Outcome(ok=True, hints=hints(ttl=24 * 60, skip_days=(FRI,))),
        HOURLY,
        at(3, 0),
    ),
    (
        "auto rhythm into a skipped hour",
        Outcome(ok=True, hints=hints(entries_per_day=12.0, skip_hours=(14,))),
        AUTO,
        at(1, 15),
    ),
]


@pytest.mark.parametrize(
    ("outcome", "cadence", "due"),
    [case[1:] for case in NEXT_CASES],
    ids=[case[0] for case in NEXT_CASES],
)
def test_next_fetch_without_jitter(outcome: Outcome, cadence: Cadence, due: datetime) -> None:
    assert next_fetch_at(outcome, cadence, now=NOW, jitter=0.0) == due


# ---------------------------------------------------------------- rule 3: jitter


def test_jitter_adds_at_most_a_tenth() -> None:
    late = next_fetch_at(Outcome(ok=True), HOURLY, now=NOW, jitter=0.999)
    assert NOW + timedelta(seconds=H) < late < NOW + timedelta(seconds=1.1 * H)


def test_jitter_spreads_fetches_pushed_past_skipped_hours() -> None:
    outcome = Outcome(ok=True, hints=hints(skip_hours=(13,)))
    due = next_fetch_at(outcome, HOURLY, now=NOW, jitter=0.5)
    assert due == at(1, 14) + timedelta(seconds=SKIP_SPREAD / 2)
    assert due.hour == 14  # still in the first allowed hour


def test_skipping_keeps_a_due_time_that_is_allowed() -> None:
    due = at(1, 13, 17)
    assert outside_skipped(due, hints(skip_hours=(12, 14)), jitter=0.9) == due


def test_skipping_reads_hours_in_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    due = datetime(2026, 1, 1, 21, 30, tzinfo=beijing)  # 13:30 UTC
    assert outside_skipped(due, hints(skip_hours=(13,))) == at(1, 14)


def test_random_hints_never_give_a_skipped_time() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        skip_hours = tuple(rng.sample(range(24), rng.randrange(24)))
        skip_days = tuple(rng.sample(range(7), rng.randrange(7)))
        outcome = Outcome(
            ok=rng.random() < 0.7,
            error_streak=rng.randrange(1, 8),
            max_age=rng.choice([None, 600, 7 * H]),
            hints=hints(skip_hours=skip_hours, skip_days=skip_days),
        )
        cadence = Cadence(interval=rng.choice([5 * M, H, 13 * H, 2 * D]))
        now = NOW + timedelta(minutes=rng.randrange(7 * 24 * 60))
        due = next_fetch_at(outcome, cadence, now=now, jitter=rng.random())
        assert due.hour not in skip_hours and due.weekday() not in skip_days
        earliest = now + timedelta(seconds=effective_interval(cadence))
        assert earliest <= due <= earliest + timedelta(days=8, seconds=MAX_SERVER_DELAY)


# ---------------------------------------------------------------- the feed's rhythm


def ago(**kw: float) -> datetime:
    return NOW - timedelta(**kw)


@pytest.mark.parametrize(
    ("dates", "per_day"),
    [
        ([], None),
        ([ago(hours=1)], None),  # one date says nothing of a rhythm
        ([ago(hours=1), ago(hours=1)], None),  # nor do two equal ones
        ([ago(hours=1), ago(hours=2)], 24.0),  # two in the last two hours
        ([ago(minutes=10), ago(minutes=20)], 48.0),  # a burst counts as at least an hour
        ([ago(days=d + 0.5) for d in range(7)], 7 / 6.5),  # back to the oldest entry
        ([ago(days=d + 0.5) for d in range(20)], 1.0),  # the window: 7 in 7 days
        ([ago(hours=5), ago(days=2), ago(days=6), ago(days=30)], 3 / 7),
        ([ago(days=10), ago(days=40)], 0.0),  # nothing lately
        ([NOW + timedelta(minutes=5), ago(hours=1)], 48.0),  # a future date counts as now
    ],
)
def test_entries_per_day(dates: list[datetime], per_day: float | None) -> None:
    found = entries_per_day(dates, NOW)
    assert found == per_day if per_day is None else found == pytest.approx(per_day)


def test_entries_per_day_takes_any_iterable() -> None:
    assert entries_per_day((ago(hours=h) for h in (1, 2)), NOW) == pytest.approx(24.0)


# ---------------------------------------------------------------- first fetches


def test_few_new_sources_start_within_seconds() -> None:
    times = first_fetch_times([Cadence()] * 17, NOW)
    assert times[0] == NOW
    assert times == sorted(times)
    assert times[-1] - NOW == timedelta(seconds=16 / FIRST_FETCH_RATE)
    gaps = {b - a for a, b in pairwise(times)}
    assert gaps == {timedelta(seconds=1 / FIRST_FETCH_RATE)}


def test_many_new_sources_spread_over_their_interval() -> None:
    minutely = Cadence(interval=M, min_interval=M)
    times = first_fetch_times([minutely] * 1000, NOW)
    assert times[0] == NOW and times[-1] < NOW + timedelta(minutes=1)
    assert times[1] - times[0] == timedelta(seconds=0.06)
    per_second = [sum(1 for t in times if (t - NOW).seconds == s) for s in range(60)]
    assert max(per_second) - min(per_second) <= 1  # even


def test_many_new_sources_start_at_the_first_fetch_rate() -> None:
    times = first_fetch_times([Cadence()] * 1000, NOW)
    assert times[-1] - NOW == timedelta(seconds=999 / FIRST_FETCH_RATE)


def test_each_new_source_is_due_within_its_own_interval() -> None:
    cadences = [Cadence(interval=M, min_interval=M), Cadence(interval=D)] * 500
    for cadence, due in zip(cadences, first_fetch_times(cadences, NOW), strict=True):
        assert NOW <= due < NOW + timedelta(seconds=effective_interval(cadence))


def test_no_new_sources() -> None:
    assert first_fetch_times([], NOW) == []
