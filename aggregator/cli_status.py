"""`aggregator status`: every source's health, as the daemon's /status page shows it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from rich.table import Table
from rich.text import Text

from aggregator.cli_context import Context, err, out, pass_context
from aggregator.health import (
    EMPTY_AFTER,
    HealthReport,
    HealthSummary,
    note,
    relative,
    report_json,
)

_STYLES = {
    "failing": "red",
    "empty": "yellow",
    "overdue": "yellow",
    "ok": "green",
    "disabled": "dim",
}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (as /status.json) instead.")
@click.option(
    "--empty-after",
    default=EMPTY_AFTER,
    show_default=True,
    type=click.IntRange(1, 1000),
    metavar="N",
    help="Flag sources with no entries for N successful fetches in a row.",
)
@pass_context
def status(ctx: Context, as_json: bool, empty_after: int) -> None:
    """Show each source's health, worst first: failing, empty, overdue, new, ok, disabled."""
    with ctx.store() as store:
        report = store.health.report(datetime.now(UTC), empty_after=empty_after)
    if as_json:
        click.echo(json.dumps(report_json(report), ensure_ascii=False, indent=2))
        return
    out.print(status_table(report))
    err.print(summary_line(report.summary), markup=False)


def status_table(report: HealthReport) -> Table:
    """One row per source, worst first; times relative to the report, the note says why."""
    table = Table(box=None, header_style="bold")
    table.add_column("name", overflow="fold")
    for column in ("state", "status", "streak", "last fetch", "next due", "24h", "7d"):
        table.add_column(
            column, overflow="fold", justify="right" if column[0].isdigit() else "left"
        )
    table.add_column("note", overflow="fold")
    now = report.generated_at
    for row in report.sources:
        style = _STYLES.get(row.state, "")
        due = "-"
        if row.enabled:
            due = relative(row.next_fetch_at, now) if row.next_fetch_at else "now"
            if row.overdue:
                due += ", overdue"
        table.add_row(
            Text(row.name),
            Text(row.state, style=style),
            Text(row.last_status or "-"),
            str(row.error_streak),
            relative(row.last_fetched_at, now),
            Text(due),
            str(row.articles_24h),
            str(row.articles_7d),
            Text(note(row)),
            style="dim" if row.state == "disabled" else None,
        )
    return table


def summary_line(summary: HealthSummary) -> str:
    """`12 sources: 8 ok, 1 new, 2 failing, 1 empty, 0 overdue, 3 due, 1 disabled`."""
    return (
        f"{summary.sources} sources: {summary.ok} ok, {summary.new} new, {summary.failing} "
        f"failing, {summary.empty} empty, {summary.overdue} overdue, {summary.due} due, "
        f"{summary.disabled} disabled"
    )
