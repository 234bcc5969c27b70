"""When is a source next due? Pure decisions over plain data, with `now` passed in.

`next_fetch_at` applies these rules in order (see docs/fetching.md, "When a source is
fetched"):

    1. interval   the configured one (default 30 min), never below min_interval (default
                  5 min); with `interval: auto`, one day / the feed's entries per day,
                  clamped to [min_interval, max_interval] (the default while unknown)
    2. success    wait max(interval, Cache-Control max-age / Expires, RSS <ttl>); what the
                  server asks is capped at a week
       failure    wait interval × 2^(failures in a row - 1), capped at 24 h (or the interval
                  if longer); a success resets the streak
    3. jitter     the wait grows by 0..10 %, so sources configured alike drift apart
    4. Retry-After  never earlier than the server asked (capped at a week)
    5. skipHours / skipDays  moved on to the first hour the feed does not skip (then spread
                  over its first minutes); a hint that skips every hour or every day is ignored

The stored `next_fetch_at` is the whole schedule: `fetch` and the daemon's tick both select
sources whose time has come, so a restart resumes where it left off. Never-fetched sources
are due at once; a daemon spreads their first fetches with `first_fetch_times`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aggregator.models import (
    DEFAULT_INTERVAL,
    DEFAULT_MAX_INTERVAL,
    DEFAULT_MIN_INTERVAL,
    FeedHints,
    SourceConfig,
)

MAX_BACKOFF = 24 * 3600
"""Longest wait after repeated failures (unless the interval itself is longer)."""

MAX_SERVER_DELAY = 7 * 24 * 3600
"""Longest wait a server may ask of us (Retry-After, max-age, ttl); beyond it we ask anyway."""

JITTER = 0.1
"""Share of the wait added at random (0..JITTER), to spread load."""

SKIP_SPREAD = 10 * 60
"""Seconds over which fetches pushed past skipped hours spread (0..SKIP_SPREAD × jitter)."""

RHYTHM_WINDOW = timedelta(days=7)
"""How far back `entries_per_day` counts a feed's entries."""

FIRST_FETCH_RATE = 5.0
"""Never-fetched sources started per second on a fresh start (unless their interval is
shorter than that takes): 17 start within 4 s, 1,000 at a 1-minute interval within the
minute."""

_DAY = 86400
_NO_HINTS = FeedHints()


@dataclass(frozen=True)
class Cadence:
    """How often the operator lets a source be fetched; from its `SourceConfig`."""

    interval: int | None = None  # seconds; None means DEFAULT_INTERVAL
    auto: bool = False  # `interval: auto`: follow the feed's rhythm
    min_interval: int = DEFAULT_MIN_INTERVAL
    max_interval: int = DEFAULT_MAX_INTERVAL

    @classmethod
    def of(cls, config: SourceConfig | None) -> Cadence:
        """The cadence a source's config sets (the defaults when it has none)."""
        if config is None:
            return cls()
        return cls(
            interval=config.interval,
            auto=config.auto_interval,
            min_interval=config.min_interval,
            max_interval=config.max_interval,
        )


@dataclass(frozen=True)
class Outcome:
    """What the last fetch said that matters for scheduling; from core to `next_fetch_at`."""

    ok: bool  # ok or not modified
    error_streak: int = 0  # consecutive failures, counting this one
    retry_after: datetime | None = None
    max_age: int | None = None  # seconds, Cache-Control max-age / Expires
    hints: FeedHints | None = None  # the document's own: just parsed, or stored (on a 304)


def effective_interval(cadence: Cadence, entries_per_day: float | None = None) -> int:
    """Rule 1: the source's interval in seconds."""
    if not cadence.auto:
        return max(cadence.interval or DEFAULT_INTERVAL, cadence.min_interval)
    if entries_per_day is None:
        wanted = DEFAULT_INTERVAL
    elif entries_per_day <= 0:
        wanted = cadence.max_interval
    else:  # about one new entry per fetch
        wanted = round(min(_DAY / entries_per_day, cadence.max_interval))
    return max(min(wanted, cadence.max_interval), cadence.min_interval)


def backoff(interval: int, error_streak: int) -> int:
    """Rule 2 on failure: seconds to wait after `error_streak` failures in a row."""
    if error_streak <= 0:
        return interval
    return int(min(interval * 2 ** (error_streak - 1), max(MAX_BACKOFF, interval)))


def next_fetch_at(outcome: Outcome, cadence: Cadence, *, now: datetime, jitter: float) -> datetime:
    """When to fetch again; `jitter` is a number in [0, 1) from the caller (random in use)."""
    hints = outcome.hints or _NO_HINTS
    interval = effective_interval(cadence, hints.entries_per_day)
    if outcome.ok:
        asked = max(outcome.max_age or 0, (hints.ttl or 0) * 60)
        wait = max(interval, min(asked, MAX_SERVER_DELAY))
    else:
        wait = backoff(interval, outcome.error_streak)
    due = now + timedelta(seconds=wait * (1 + JITTER * jitter))
    if outcome.retry_after is not None:
        latest = now + timedelta(seconds=MAX_SERVER_DELAY)
        due = max(due, min(outcome.retry_after, latest))
    return outside_skipped(due, hints, jitter=jitter)


def outside_skipped(due: datetime, hints: FeedHints, *, jitter: float = 0.0) -> datetime:
    """Rule 5: `due`, or the start of the first hour after it on which the feed does not ask
    to be left alone (UTC), plus `jitter` × SKIP_SPREAD. A hint listing all 24 hours or all
    7 days is ignored, as are values out of range."""
    hours = {h for h in hints.skip_hours if 0 <= h <= 23}
    days = {d for d in hints.skip_days if 0 <= d <= 6}
    if len(hours) == 24:
        hours = set()
    if len(days) == 7:
        days = set()
    if not hours and not days:
        return due
    moved = due.astimezone(UTC)
    for _ in range(8 * 24):  # some hour of some day is allowed: found well within a week
        if moved.weekday() in days:
            moved = moved.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        elif moved.hour in hours:
            moved = moved.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        else:
            break
    if moved == due:
        return due
    return moved + timedelta(seconds=SKIP_SPREAD * jitter)


def entries_per_day(dates: Iterable[datetime], now: datetime) -> float | None:
    """The feed's recent rhythm, from the dates of the entries its document lists.

    Counts the entries dated within RHYTHM_WINDOW before `now` (a date after `now` counts as
    `now`) and divides by the days the document covers: the whole window when it lists
    anything older, else back to its oldest entry (at least an hour, so a burst of entries
    just published is not taken for thousands a day). None when it cannot tell: fewer than
    two distinct dates.
    """
    listed = [min(d, now) for d in dates]
    if len(set(listed)) < 2:
        return None
    since = now - RHYTHM_WINDOW
    recent = [d for d in listed if d >= since]
    if len(recent) < len(listed):
        span = RHYTHM_WINDOW
    else:
        span = max(now - min(recent), timedelta(hours=1))
    return len(recent) / (span / timedelta(days=1))


def first_fetch_times(cadences: Sequence[Cadence], now: datetime) -> list[datetime]:
    """First due times for never-fetched sources, in the order given, so they do not all
    fire at once: source i of n is due at now + window × i / n, where window is the smaller
    of its interval and n / FIRST_FETCH_RATE seconds."""
    n = len(cadences)
    spread = n / FIRST_FETCH_RATE
    return [
        now + timedelta(seconds=min(effective_interval(c), spread) * i / n)
        for i, c in enumerate(cadences)
    ]
