"""Source health: from stored sources, recent article counts and `now` to rows and a summary.

    Source + ArticleCounts + now ─► assess()        one SourceHealth: state, overdue, empty …
    rows                         ─► summarize()     how many sources are ok, failing, overdue …
    both                         ─► HealthReport    worst sources first
                                 ─► report_json()   the stable JSON of /status.json and
                                                    `aggregator status --json`

Pure functions of plain values: the store reads the data (`store_health`), the web page, the
JSON, the CLI table and the metrics' gauges all show what these decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aggregator.models import Source, SourceStatus

EMPTY_AFTER = 3
"""Successful fetches in a row without a single entry after which a source is flagged empty."""

OVERDUE_AFTER = timedelta(minutes=1)
"""How long past its due time an enabled source must wait to count as overdue."""

RECENT = (timedelta(days=1), timedelta(days=7))
"""The windows of `ArticleCounts.day` and `.week`, by the time articles were first seen."""

HealthState = Literal["failing", "empty", "overdue", "new", "ok", "disabled"]
STATES: tuple[HealthState, ...] = ("failing", "empty", "overdue", "new", "ok", "disabled")
"""Every state, worst first: the order of the status page, the table and the JSON."""


@dataclass(frozen=True)
class ArticleCounts:
    """A source's stored articles: all, and those first seen in the last day and week."""

    total: int = 0
    day: int = 0
    week: int = 0


@dataclass(frozen=True)
class SourceHealth:
    """One source's health at a moment; from `assess` to the status page, JSON and table."""

    name: str
    url: str
    state: HealthState  # the worst thing true of it, see `assess`
    enabled: bool
    disabled_reason: str | None
    last_fetched_at: datetime | None
    last_status: SourceStatus | None
    error_streak: int
    last_error: str | None
    next_fetch_at: datetime | None
    due: bool  # enabled and its due time has come
    overdue: bool  # enabled and due for longer than the grace period
    articles_total: int
    articles_24h: int
    articles_7d: int
    empty_streak: int
    empty: bool  # enabled and no entries for `empty_after` successful fetches in a row


@dataclass(frozen=True)
class HealthSummary:
    """How many sources are in each condition. Only `ok`, `new` and `disabled` exclude the rest:
    a source may be failing, empty and overdue at once."""

    sources: int
    ok: int
    new: int
    failing: int
    empty: int
    overdue: int
    due: int
    disabled: int
    max_error_streak: int  # the longest run of failures among enabled sources


@dataclass(frozen=True)
class HealthReport:
    """Every source's health at `generated_at`, worst first, with the summary."""

    generated_at: datetime
    empty_after: int
    overdue_after: timedelta
    summary: HealthSummary
    sources: tuple[SourceHealth, ...]


def recent_since(now: datetime) -> tuple[datetime, datetime]:
    """The start of the day and week windows of `ArticleCounts` at `now`."""
    return now - RECENT[0], now - RECENT[1]


def assess(
    source: Source,
    counts: ArticleCounts,
    *,
    now: datetime,
    empty_after: int = EMPTY_AFTER,
    overdue_after: timedelta = OVERDUE_AFTER,
) -> SourceHealth:
    """The health of `source` at `now`.

    The state is the first that holds of: disabled; failing (errors in a row); empty (no entries
    for `empty_after` successful fetches in a row); overdue (due for more than `overdue_after`);
    new (never fetched); else ok. A source without a due time is due at once, never overdue.
    """
    enabled = source.enabled
    due_at = source.next_fetch_at
    due = enabled and (due_at is None or due_at <= now)
    overdue = enabled and due_at is not None and now - due_at > overdue_after
    empty = enabled and source.empty_streak >= max(1, empty_after)
    failing = enabled and source.error_streak > 0
    state: HealthState
    if not enabled:
        state = "disabled"
    elif failing:
        state = "failing"
    elif empty:
        state = "empty"
    elif overdue:
        state = "overdue"
    elif source.last_fetched_at is None:
        state = "new"
    else:
        state = "ok"
    return SourceHealth(
        name=source.name,
        url=source.url,
        state=state,
        enabled=enabled,
        disabled_reason=source.disabled_reason,
        last_fetched_at=source.last_fetched_at,
        last_status=source.last_status,
        error_streak=source.error_streak,
        last_error=source.last_error,
        next_fetch_at=due_at,
        due=due,
        overdue=overdue,
        articles_total=counts.total,
        articles_24h=counts.day,
        articles_7d=counts.week,
        empty_streak=source.empty_streak,
        empty=empty,
    )


def summarize(rows: Sequence[SourceHealth]) -> HealthSummary:
    """Count the sources in each condition."""
    return HealthSummary(
        sources=len(rows),
        ok=sum(1 for r in rows if r.state == "ok"),
        new=sum(1 for r in rows if r.state == "new"),
        failing=sum(1 for r in rows if r.enabled and r.error_streak > 0),
        empty=sum(1 for r in rows if r.empty),
        overdue=sum(1 for r in rows if r.overdue),
        due=sum(1 for r in rows if r.due),
        disabled=sum(1 for r in rows if not r.enabled),
        max_error_streak=max((r.error_streak for r in rows if r.enabled), default=0),
    )


def health_report(
    sources: Sequence[Source],
    counts: Mapping[int, ArticleCounts],
    *,
    now: datetime,
    empty_after: int = EMPTY_AFTER,
    overdue_after: timedelta = OVERDUE_AFTER,
) -> HealthReport:
    """The health of every source (`counts` by source id; missing means none), worst first."""
    none = ArticleCounts()
    rows = [
        assess(
            s, counts.get(s.id, none), now=now, empty_after=empty_after, overdue_after=overdue_after
        )
        for s in sources
    ]
    rank = {state: n for n, state in enumerate(STATES)}
    rows.sort(key=lambda r: (rank[r.state], -r.error_streak, r.name))
    return HealthReport(
        generated_at=now,
        empty_after=empty_after,
        overdue_after=overdue_after,
        summary=summarize(rows),
        sources=tuple(rows),
    )


def iso(value: datetime | None) -> str | None:
    """An ISO 8601 UTC timestamp to the second, `2024-05-01T12:00:00Z`; None stays None."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_json(report: HealthReport) -> dict[str, Any]:
    """The report as JSON-ready values; field names are documented in docs/monitoring.md."""
    summary = report.summary
    return {
        "generated_at": iso(report.generated_at),
        "empty_after": report.empty_after,
        "overdue_after_seconds": int(report.overdue_after.total_seconds()),
        "summary": {
            "sources": summary.sources,
            "ok": summary.ok,
            "new": summary.new,
            "failing": summary.failing,
            "empty": summary.empty,
            "overdue": summary.overdue,
            "due": summary.due,
            "disabled": summary.disabled,
            "max_error_streak": summary.max_error_streak,
        },
        "sources": [_row_json(row) for row in report.sources],
    }


def _row_json(row: SourceHealth) -> dict[str, Any]:
    return {
        "name": row.name,
        "url": row.url,
        "state": row.state,
        "enabled": row.enabled,
        "disabled_reason": row.disabled_reason,
        "last_fetched_at": iso(row.last_fetched_at),
        "last_status": row.last_status,
        "error_streak": row.error_streak,
        "last_error": row.last_error,
        "next_fetch_at": iso(row.next_fetch_at),
        "due": row.due,
        "overdue": row.overdue,
        "articles_total": row.articles_total,
        "articles_24h": row.articles_24h,
        "articles_7d": row.articles_7d,
        "empty_streak": row.empty_streak,
        "empty": row.empty,
    }


def note(row: SourceHealth) -> str:
    """One line saying what is wrong with a source (or where it stands), for tables."""
    if not row.enabled:
        return row.disabled_reason or "disabled"
    if row.error_streak > 0:
        return row.last_error or f"{row.error_streak} errors in a row"
    if row.empty:  # a page source says why (e.g. "list page matched no items (…)")
        streak = f"no entries for {row.empty_streak} fetches in a row"
        return f"{streak}: {row.last_error}" if row.last_error else streak
    return row.last_error or ""


def relative(value: datetime | None, now: datetime) -> str:
    """`value` against `now` in words: "5 min ago", "in 2 h", "now"; a dash for None."""
    if value is None:
        return "-"
    seconds = (value - now).total_seconds()
    size = abs(seconds)
    if size < 60:
        return "now"
    if size < 3600:
        amount = f"{int(size // 60)} min"
    elif size < 2 * 86400:
        amount = f"{int(size // 3600)} h"
    else:
        amount = f"{int(size // 86400)} d"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"
