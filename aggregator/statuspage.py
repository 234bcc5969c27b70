"""The `/status` page: a HealthReport as HTML, worst sources first and marked.

Served with the site's own header, stylesheet and footer (`pages.render_site_page`); every
value from outside goes through `html.escape`.
"""

from __future__ import annotations

import html
from datetime import datetime

from aggregator.feedmeta import xml_text
from aggregator.health import HealthReport, SourceHealth, iso, note, relative
from aggregator.models import ServerConfig
from aggregator.pages import render_site_page

_CSS = """<style>
.wrap { max-width: 72rem; }
.tally { list-style: none; padding: 0; margin: .75rem 0 1rem; display: flex; flex-wrap: wrap;
  gap: .5rem; }
.tally li { background: var(--card); border: 1px solid var(--line); border-radius: .5rem;
  padding: .25rem .7rem; font-size: .9rem; color: var(--muted); }
.tally b { color: var(--fg); font-size: 1.05rem; margin-right: .2rem; }
.state-failing { --state: #d1242f; }
.state-empty, .state-overdue { --state: #bf8700; }
.state-ok { --state: #1a7f37; }
.tally li.state-failing, .tally li.state-empty, .tally li.state-overdue {
  border-color: var(--state); }
.status-scroll { overflow-x: auto; }
table.status { border-collapse: collapse; width: 100%; font-size: .85rem; }
table.status th, table.status td { text-align: left; padding: .45rem .5rem; vertical-align: top;
  border-bottom: 1px solid var(--line); }
table.status th { color: var(--muted); font-weight: 600; white-space: nowrap; }
table.status td:first-child { min-width: 10rem; }
table.status td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.status .name { font-weight: 600; }
table.status .url, table.status .sub { display: block; color: var(--muted); font-size: .78rem;
  overflow-wrap: anywhere; }
table.status .note { overflow-wrap: anywhere; }
table.status time { white-space: nowrap; }
tr.state-failing td:first-child, tr.state-empty td:first-child,
tr.state-overdue td:first-child { box-shadow: inset 3px 0 var(--state); }
tr.state-disabled { color: var(--muted); }
.state { color: var(--state, var(--muted)); border: 1px solid var(--state, var(--line));
  border-radius: 999px; padding: 0 .5rem; font-size: .78rem; white-space: nowrap; }
</style>
"""

_COLUMNS = ("Source", "State", "Last fetch", "Errors", "Next due", "24 h", "7 d", "Note")


def render_status(report: HealthReport, *, server: ServerConfig) -> bytes:
    """The status page of `report`."""
    summary = report.summary
    tally = (
        ("sources", summary.sources, ""),
        ("ok", summary.ok, "ok"),
        ("new", summary.new, "new"),
        ("failing", summary.failing, "failing"),
        ("empty", summary.empty, "empty"),
        ("overdue", summary.overdue, "overdue"),
        ("due", summary.due, ""),
        ("disabled", summary.disabled, "disabled"),
    )
    chips = "\n".join(
        f'<li class="{f"state-{state}" if state and count else ""}"><b>{count}</b>{label}</li>'
        for label, count, state in tally
    )
    grace = int(report.overdue_after.total_seconds())
    lead = (
        f'<p class="lead">At <time datetime="{iso(report.generated_at)}">'
        f"{report.generated_at:%Y-%m-%d %H:%M:%S} UTC</time>. Empty: no entries for "
        f"{report.empty_after} successful fetches in a row. Overdue: due more than {grace} s "
        'ago. Also as <a href="/status.json">JSON</a> and <a href="/metrics">metrics</a>.</p>'
    )
    head = "".join(f"<th>{name}</th>" for name in _COLUMNS)
    rows = "\n".join(_row(row, report) for row in report.sources)
    if not rows:
        rows = f'<tr><td colspan="{len(_COLUMNS)}" class="empty">No sources yet.</td></tr>'
    body = (
        "<h1>Status</h1>\n"
        f"{lead}\n"
        f'<ul class="tally">\n{chips}\n</ul>\n'
        '<div class="status-scroll"><table class="status">\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table></div>\n"
    )
    return render_site_page("Status", body, server=server, head=_CSS)


def _row(row: SourceHealth, report: HealthReport) -> str:
    fetched = _time(row.last_fetched_at, report)
    if row.last_status:
        fetched += f'<span class="sub">{_e(row.last_status)}</span>'
    due = "-"
    if row.enabled:
        due = _time(row.next_fetch_at, report) if row.next_fetch_at else "now"
    if row.overdue:
        due += '<span class="sub"><b>overdue</b></span>'
    cells = (
        f'<td><span class="name">{_e(row.name)}</span><span class="url">{_e(row.url)}</span></td>',
        f'<td><span class="state">{row.state}</span></td>',
        f"<td>{fetched}</td>",
        f'<td class="n">{row.error_streak}</td>',
        f"<td>{due}</td>",
        f'<td class="n">{row.articles_24h}</td>',
        f'<td class="n">{row.articles_7d}</td>',
        f'<td class="note">{_e(note(row))}</td>',
    )
    return f'<tr class="state-{row.state}">{"".join(cells)}</tr>'


def _time(value: datetime | None, report: HealthReport) -> str:
    if value is None:
        return "-"
    return (
        f'<time datetime="{iso(value)}" title="{value:%Y-%m-%d %H:%M:%S} UTC">'
        f"{relative(value, report.generated_at)}</time>"
    )


def _e(text: str) -> str:
    return html.escape(xml_text(text), quote=True)
