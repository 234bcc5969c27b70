"""How the CLI shows things: rich tables on a terminal, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from aggregator.health import EMPTY_AFTER
from aggregator.models import Article, Source, UpdateResult


def when(value: datetime | None) -> str:
    """A short UTC timestamp, or a dash."""
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def to_json(value: Any) -> str:
    """Dataclasses (and lists of them) as JSON, dates in ISO 8601."""
    if isinstance(value, list):
        value = [asdict(v) for v in value]
    return json.dumps(value, ensure_ascii=False, indent=2, default=_default)


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def sources_table(sources: Sequence[Source]) -> Table:
    """One row per source: its state at a glance."""
    table = Table(box=None, header_style="bold")
    for column in ("name", "status", "streak", "last fetch", "next due", "articles", "note"):
        table.add_column(column, overflow="fold")
    for s in sources:
        status: str = s.last_status or "new"
        if not s.enabled:
            status = "disabled"
        note = (
            s.disabled_reason
            or s.last_error
            or ("moved: " + s.url if s.url != s.config_url else "")
        )
        if s.enabled and s.last_status == "ok" and s.empty_streak >= EMPTY_AFTER:
            status = "empty"  # as `status` shows it: e.g. a list page whose selectors miss
            streak = f"no entries for {s.empty_streak} fetches in a row"
            note = f"{streak}: {s.last_error}" if s.last_error else streak
        table.add_row(
            s.name,
            status,
            str(s.error_streak),
            when(s.last_fetched_at),
            when(s.next_fetch_at) if s.enabled else "-",
            str(s.article_count),
            note,
        )
    return table


def articles_table(articles: Sequence[Article]) -> Table:
    """One row per article, newest first."""
    table = Table(box=None, header_style="bold")
    for column in ("key", "published", "source", "title"):
        table.add_column(column, overflow="fold")
    for a in articles:
        table.add_row(str(a.pk), when(a.published), a.source, a.title)
    return table


def print_summary(console: Console, results: Sequence[UpdateResult], seconds: float) -> None:
    """The end-of-pass summary, and the failed sources with their reasons."""
    count = {k: sum(1 for r in results if r.status == k) for k in ("ok", "not_modified")}
    failed = [r for r in results if r.status in ("error", "gone")]
    new = sum(r.new for r in results)
    updated = sum(r.updated for r in results)
    console.print(
        f"{len(results)} sources: {count['ok']} ok, {count['not_modified']} not modified, "
        f"{len(failed)} failed; {new} new, {updated} updated articles; {seconds:.1f} s"
    )
    for r in failed:
        console.print(f"  failed: {r.source}: {r.reason}", markup=False, highlight=False)
    for r in results:
        if r.moved_to:
            console.print(f"  moved: {r.source} -> {r.moved_to}", markup=False, highlight=False)
