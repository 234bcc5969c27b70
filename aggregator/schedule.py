"""When is a source next due? A pure decision over plain data, with `now` passed in.

    next due = now + max(interval, what the server asked for)   (on success)
             = now + backoff(error streak), at least Retry-After  (on failure)
    then a little jitter, so sources configured alike drift apart instead of firing together.

The stored `next_fetch_at` is the whole schedule: `fetch` and the daemon's tick both select
sources whose time has come, so a restart resumes where it left off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.models import DEFAULT_INTERVAL

MIN_INTERVAL = 5 * 60
"""Floor for a source's interval: we never poll a host more often than this by default."""

MAX_BACKOFF = 24 * 3600
"""Longest wait after repeated failures."""

MAX_SERVER_DELAY = 7 * 24 * 3600
"""Longest wait a server may ask of us (Retry-After, max-age, ttl); beyond it we ask anyway."""

JITTER = 0.1
"""Share of the interval added at random (0..JITTER), to spread load."""


@dataclass(frozen=True)
class Outcome:
    """What the last fetch said that matters for scheduling; from core to `next_fetch_at`."""

    ok: bool  # ok or not modified
    error_streak: int = 0  # consecutive failures, counting this one
    retry_after: datetime | None = None
    max_age: int | None = None  # seconds, Cache-Control max-age / Expires
    ttl_minutes: int | None = None  # RSS <ttl>


def effective_interval(configured: int | None) -> int:
    """The source's interval in seconds: as configured (or the default), never below the floor."""
    return max(configured or DEFAULT_INTERVAL, MIN_INTERVAL)


def backoff(interval: int, error_streak: int) -> int:
    """Seconds to wait after `error_streak` failures in a row: doubling, capped."""
    if error_streak <= 0:
        return interval
    return int(min(interval * 2 ** (error_streak - 1), max(MAX_BACKOFF, interval)))


def next_fetch_at(
    outcome: Outcome, *, interval: int | None, now: datetime, jitter: float
) -> datetime:
    """When to fetch again; `jitter` is a number in [0, 1) from the caller (random in use)."""
    base = effective_interval(interval)
    if outcome.ok:
        asked = max(outcome.max_age or 0, (outcome.ttl_minutes or 0) * 60)
        wait = max(base, min(asked, MAX_SERVER_DELAY))
    else:
        wait = backoff(base, outcome.error_streak)
    due = now + timedelta(seconds=wait * (1 + JITTER * jitter))
    if outcome.retry_after is not None:
        latest = now + timedelta(seconds=MAX_SERVER_DELAY)
        due = max(due, min(outcome.retry_after, latest))
    return due


def first_fetch_at(*, interval: int | None, now: datetime, spread: float) -> datetime:
    """When a never-fetched source is first due: spread over one interval (`spread` in [0, 1))."""
    return now + timedelta(seconds=effective_interval(interval) * spread)
