"""Turn the soak benchmark's figures into a summary: checks, ratios, text, Markdown, JSON.

Stages: check our program against the targets (lag p99 under 5 s, no double or overlapping
fetch, no feed left waiting, steady CPU and memory, no errors, a clean stop), the peer
against the same checks for information; compute ours / peer ratios;
render them as a plain table or as Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from soak_stats import fmt, lag_cells, lag_thirds_cells, thirds_cells

LAG_TARGET_S = 5.0


def _lag(fig: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The lag the target is judged on: the program's own (logged), else the server's."""
    logged = fig.get("logged")
    if logged and logged["with_lag"]:
        return "logged", logged["lag_s"]
    return "server", fig["schedule"]["lag_s"]


def checks(name: str, fig: dict[str, Any]) -> list[dict[str, Any]]:
    """The soak's checks of one program."""
    sched, res, interval = fig["schedule"], fig["resources"], fig["interval_s"]
    where, lag = _lag(fig)
    out = []

    def add(what: str, ok: bool, detail: str) -> None:
        out.append({"program": name, "check": what, "ok": bool(ok), "detail": detail})

    p99 = lag["p99"]
    add(
        f"lag p99 < {LAG_TARGET_S:g} s ({where})",
        p99 is not None and p99 < LAG_TARGET_S,
        f"p99 {p99} s over {lag['n']} fetches",
    )
    add(
        f"no feed fetched twice within {0.9 * interval:g} s",
        sched["double_fetches"] == 0,
        f"{sched['double_fetches']} double fetches",
    )
    add(
        "no two fetches of one feed at once",
        sched["overlapping_fetches"] == 0,
        f"{sched['overlapping_fetches']} overlapping",
    )
    limit = 1.1 * interval + LAG_TARGET_S
    add(
        f"every feed fetched again within {limit:g} s",
        sched["longest_gap_s"] is not None
        and sched["longest_gap_s"] <= limit
        and sched["feeds_never_fetched"] == 0,
        f"longest gap {sched['longest_gap_s']} s, {sched['feeds_never_fetched']} never fetched",
    )
    add(
        "RSS steady (last third <= first third + 5%)",
        res.get("rss_steady", False),
        f"{thirds_cells(res, 'rss_mib')} MiB, slope {res.get('rss_slope_mib_per_min')} MiB/min",
    )
    add(
        "CPU steady (last third <= first third x 1.25 + 1)",
        res.get("cpu_steady", False),
        f"{thirds_cells(res, 'cpu_pct', '.1f')} % of one core",
    )
    problems = fig.get("problems", {})
    add(
        "no errors logged",
        not any(problems.values()),
        ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in problems.items()) or "none",
    )
    ended = fig["ended"]
    add(
        "stopped on SIGTERM with exit 0",
        ended["returncode"] == 0 and not ended["killed"],
        f"exit {ended['returncode']} after {ended['stop_s']} s"
        + (" (killed)" if ended["killed"] else ""),
    )
    return out


def ratios(progs: dict[str, Any], peer: str = "reader") -> list[dict[str, Any]]:
    """Ours / peer for lag, CPU and memory (below 1: ours is lower)."""
    if "ours" not in progs or peer not in progs:
        return []
    o, p = progs["ours"], progs[peer]
    pairs = (
        ("lag p99, whole run (server-side)", ("schedule", "lag_s", "p99")),
        ("lag p99 after the warm-up (server-side)", ("schedule", "lag_after_warmup_s", "p99")),
        ("CPU after the warm-up", ("resources", "cpu_pct_after_warmup")),
        ("RSS, last third", ("resources", "thirds", -1, "rss_mib")),
    )
    out = []
    for label, path in pairs:
        a, b = _dig(o, path), _dig(p, path)
        value = round(a / b, 2) if a is not None and b else None
        out.append({"name": f"ours / {peer}: {label}", "ours": a, peer: b, "value": value})
    return out


def _dig(fig: dict[str, Any], path: tuple[Any, ...]) -> float | None:
    value: Any = fig
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return None
    return None if value is None else float(value)


def _table(rows: list[list[str]]) -> list[str]:
    """Rows of cells as aligned text: the first column left, the others right."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells))
    return out


def schedule_rows(summary: dict[str, Any]) -> list[list[str]]:
    """Header and one row per program (and one for our logged lag): the schedule figures."""
    rows = [
        [
            "program",
            "fetches (200)",
            "lag p50 / p95 / p99 / max, s",
            "lag p99 by third, s",
            "p99 after warm-up, s",
            "double fetches (after warm-up)",
            "overlapping",
            "longest gap, s",
            "new entry seen after p50 / max, s",
        ]
    ]
    for name, fig in summary["programs"].items():
        sc, fr = fig["schedule"], fig["freshness"]
        rows.append(
            [
                name,
                f"{sc['fetches']} ({sc['statuses'].get('200', 0)})",
                lag_cells(sc["lag_s"]),
                lag_thirds_cells(sc["lag_by_third_s"]),
                fmt(sc["lag_after_warmup_s"]["p99"]),
                f"{sc['double_fetches']} ({sc['double_fetches_after_warmup']})",
                str(sc["overlapping_fetches"]),
                fmt(sc["longest_gap_s"], ".1f"),
                f"{fmt(fr['p50'], '.0f')} / {fmt(fr['max'], '.0f')}",
            ]
        )
        lg = fig.get("logged")
        if lg and lg["with_lag"]:
            rows.append(
                [
                    f"{name}, logged lag_ms",
                    str(lg["with_lag"]),
                    lag_cells(lg["lag_s"]),
                    lag_thirds_cells(lg["lag_by_third_s"]),
                    fmt(lg["lag_after_warmup_s"]["p99"]),
                    "",
                    "",
                    "",
                    "",
                ]
            )
    return rows


def resource_rows(summary: dict[str, Any]) -> list[list[str]]:
    """Header and one row per program: CPU and memory."""
    rows = [
        [
            "program",
            "CPU % of one core, by third",
            "RSS MiB, by third",
            "RSS slope, MiB/min",
            "peak RSS (PSS), MiB",
            "stored / sent",
            "server CPU %",
            "machine busy %",
        ]
    ]
    for name, fig in summary["programs"].items():
        res = fig["resources"]
        rows.append(
            [
                name,
                thirds_cells(res, "cpu_pct", ".1f"),
                thirds_cells(res, "rss_mib"),
                fmt(res.get("rss_slope_mib_per_min")),
                f"{fmt(res.get('peak_rss_mib'), '.0f')} ({fmt(res.get('peak_pss_mib'), '.0f')})",
                f"{fig['stored']} / {fig['expected_stored']}",
                thirds_cells(res, "server_cpu_pct", ".1f"),
                thirds_cells(res, "machine_busy_pct"),
            ]
        )
    return rows


def render(summary: dict[str, Any]) -> str:
    """The summary as text."""
    st, mc = summary["settings"], summary["machine"]
    lines = [
        f"Soak: {st['feeds']} feeds x {st['entries']} entries, interval {st['interval_s']:g} s, "
        f"{st['minutes']:g} min per program, one program after the other",
        f"  each feed gains an entry every {st['change_minutes'] / 2:g}-"
        f"{st['change_minutes'] * 1.5:g} min; served from {st['hosts']} ports of 127.0.0.1; "
        f"text {st.get('text', 'corpus')}; warm-up {st['warmup_s']:g} s",
        f"  machine: {mc['cores']} cores, {mc['cpu']}, Python {mc['python']}",
        "",
        *_table(schedule_rows(summary)),
        "",
        *_table(resource_rows(summary)),
        "",
    ]
    for fig in summary["programs"].values():
        lines.append(
            f"  {fig['name']}: {fig['describe']}; load average {fig['load_average_before']} "
            f"before, {fig['load_average_after']} after"
        )
    lines += writes_lines(summary)
    if summary["ratios"]:
        rows = [["ratio", "ours", "reader", "value"]]
        rows += [
            [r["name"], fmt(r["ours"], "g"), fmt(r.get("reader"), "g"), fmt(r["value"])]
            for r in summary["ratios"]
        ]
        lines += ["", *_table(rows)]
    lines += ["", "checks:"]
    for c in summary["checks"]:
        mark = "ok " if c["ok"] else "BAD"
        lines.append(f"  {mark} {c['program']:<7} {c['check']}: {c['detail']}")
    return "\n".join(lines)


def writes_lines(summary: dict[str, Any]) -> list[str]:
    """Where our writer's time went, when the run timed it (``soak_stages.py``)."""
    writes = summary["programs"].get("ours", {}).get("writes")
    if not writes:
        return []
    st = writes["stages"]
    whole = st.get("save_update", {"calls": 0, "mean_ms": None})
    parts = [
        f"{name} {100 * v['share_of_save_update']:.0f}% ({v['mean_ms']:g} ms)"
        for name, v in st.items()
        if name not in ("save_update", "save_states") and v["share_of_save_update"] is not None
    ]
    busy = " → ".join(f"{b:.0f}" for b in writes["writer_busy_pct_by_third"])
    return [
        "",
        f"  ours, writes: {whole['calls']} save_update, mean {fmt(whole['mean_ms'], 'g')} ms: "
        + ", ".join(parts),
        f"  ours, writer thread busy by third: {busy} % of the time",
    ]


def _markdown(rows: list[list[str]]) -> list[str]:
    head, *body = rows
    out = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    return out + ["| " + " | ".join(r) + " |" for r in body]


def render_markdown(summary: dict[str, Any]) -> str:
    """The tables and ratios as Markdown, for docs/benchmarks.md."""
    lines = [*_markdown(schedule_rows(summary)), "", *_markdown(resource_rows(summary))]
    if summary["ratios"]:
        rows = [["ratio", "ours", "reader", "value"]]
        rows += [
            [r["name"], fmt(r["ours"], "g"), fmt(r.get("reader"), "g"), fmt(r["value"])]
            for r in summary["ratios"]
        ]
        lines += ["", *_markdown(rows)]
    return "\n".join(lines)


def write_json(summary: dict[str, Any], path: Path) -> None:
    """Write the summary as indented JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
