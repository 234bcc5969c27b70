"""Turn the ingest benchmark's raw figures into a summary: table, ratios, checks, JSON.

Stages: compute the ratios against their targets and the correctness checks of our passes,
then render them as text (a plain table) or write them as JSON.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gen_feeds import SUBDIR_WRONG, FeedSpec

RSS_METHOD = (
    "peak RSS = max(sum of RSS over the process and all its descendants, sampled every "
    "50 ms with psutil; kernel maxrss (wait4) of the largest single process); "
    "(PSS) = the sampled sum of PSS, shared pages counted once"
)

Figure = tuple[str, str, str]  # (program, pass or "both", field)


@dataclass(frozen=True)
class Target:
    """One target: a figure (or a ratio of two) and the test it must pass."""

    name: str
    numerator: Figure
    denominator: Figure | None
    target: str
    test: Callable[[float], bool]


TARGETS = (
    Target(
        "reader cold / ours cold",
        ("reader", "cold", "wall_s"),
        ("ours", "cold", "wall_s"),
        ">= 4",
        lambda v: v >= 4,
    ),
    Target(
        "newsboat cold / ours cold",
        ("newsboat", "cold", "wall_s"),
        ("ours", "cold", "wall_s"),
        "> 1",
        lambda v: v > 1,
    ),
    Target(
        "ours warm / reader warm",
        ("ours", "warm", "wall_s"),
        ("reader", "warm", "wall_s"),
        "<= 0.5",
        lambda v: v <= 0.5,
    ),
    Target("ours peak RSS MiB", ("ours", "both", "peak_rss_mib"), None, "< 200", lambda v: v < 200),
)


def _succeeded(fig: dict[str, Any]) -> bool:
    return bool(fig["returncode"] == 0 and not fig["timed_out"])


def _value(progs: dict[str, Any], key: Figure) -> float | None:
    """The figure, or None if the program was not run or that pass failed."""
    name, phase, field = key
    if name not in progs:
        return None
    phases = ("cold", "warm") if phase == "both" else (phase,)
    if not all(_succeeded(progs[name][p]) for p in phases):
        return None
    return float(max(progs[name][p][field] for p in phases))


def ratios(progs: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target ratio the programs run allow (value None if a pass failed)."""
    out = []
    for t in TARGETS:
        if t.numerator[0] not in progs or (t.denominator and t.denominator[0] not in progs):
            continue
        num = _value(progs, t.numerator)
        den = _value(progs, t.denominator) if t.denominator else 1.0
        value = round(num / den, 2) if num is not None and den else None
        met = t.test(value) if value is not None else False
        out.append({"name": t.name, "value": value, "target": t.target, "met": met})
    return out


def checks(progs: dict[str, Any], feeds: int, expected: int) -> list[dict[str, Any]]:
    """Correctness of every program's passes (ours decide the exit status)."""
    out: list[dict[str, Any]] = []
    for name, fig in progs.items():
        cold, warm = fig["cold"], fig["warm"]

        def add(what: str, ok: bool, detail: str, prog: str = name) -> None:
            out.append({"program": prog, "check": what, "ok": ok, "detail": detail})

        for phase, f in (("cold", cold), ("warm", warm)):
            add(
                f"{phase} pass succeeded",
                f["returncode"] == 0 and not f["timed_out"],
                f"exit {f['returncode']}" + (" (timed out)" if f["timed_out"] else ""),
            )
        add(
            "stored after cold = N x M",
            cold["stored_after"] == expected,
            f"{cold['stored_after']} stored, {expected} expected",
        )
        add(
            "warm pass stored nothing new",
            cold["stored_after"] is not None and warm["stored_after"] == cold["stored_after"],
            f"{cold['stored_after']} -> {warm['stored_after']}",
        )
        g = cold.get("gbk_titles") or {}
        add(
            "GBK feeds decoded right",
            g.get("total", 0) > 0 and g["right"] == g["total"],
            f"{g.get('right', 0)}/{g.get('total', 0)} titles right "
            f"({g.get('mislabeled_right', 0)}/{g.get('mislabeled_total', 0)} "
            "in feeds sent with a wrong HTTP charset)",
        )
        add(
            "cold pass: every feed answered 200",
            cold["http_statuses"] == {"200": feeds},
            _statuses(cold["http_statuses"]),
        )
        add(
            "warm pass: every feed answered 304",
            warm["http_statuses"] == {"304": feeds},
            _statuses(warm["http_statuses"]),
        )
    return out


def _statuses(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} x {code}" for code, n in sorted(counts.items())) or "no requests"


def mix(specs: list[FeedSpec]) -> dict[str, Any]:
    """How many feeds of each kind were generated."""
    return {
        "formats": dict(collections.Counter(s.fmt for s in specs)),
        "languages": dict(collections.Counter(s.lang for s in specs)),
        "gbk": sum(s.encoding == "gbk" for s in specs),
        "gbk_with_wrong_http_charset": sum(s.subdir == SUBDIR_WRONG for s in specs),
    }


def summarize(
    results: list[dict[str, Any]],
    feeds: int,
    entries: int,
    specs: list[FeedSpec],
    machine: dict[str, Any],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Everything the run found, as one JSON-ready dict."""
    progs = {r["name"]: r for r in results}
    found = checks(progs, feeds, feeds * entries)
    ours_ok = all(c["ok"] for c in found if c["program"] == "ours")
    passes_ok = all(r[p]["returncode"] == 0 for r in results for p in ("cold", "warm"))
    return {
        "benchmark": "ingest",
        "command": " ".join(["bench/ingest.py", *sys.argv[1:]]),
        "feeds": feeds,
        "entries_per_feed": entries,
        "total_entries": feeds * entries,
        "mix": mix(specs),
        "machine": machine,
        "settings": {
            "ours_concurrency": args.concurrency,
            "reader_workers": args.reader_workers,
            "newsboat_reload_threads": args.newsboat_threads,
            "nginx_workers": args.nginx_workers,
            "seed": args.seed,
        },
        "rss_method": RSS_METHOD,
        "programs": progs,
        "ratios": ratios(progs),
        "checks": found,
        "ok": ours_ok and passes_ok,
    }


def render(summary: dict[str, Any]) -> str:
    """The summary as text: header, table, ratios, checks."""
    mx, mc = summary["mix"], summary["machine"]
    fm = mx["formats"]
    lines = [
        f"Ingest: {summary['feeds']} feeds x {summary['entries_per_feed']} entries = "
        f"{summary['total_entries']} entries",
        f"  mix: RSS 2.0 {fm.get('rss2', 0)}, Atom 1.0 {fm.get('atom', 0)}, "
        f"RSS 1.0 {fm.get('rss1', 0)}; Chinese {mx['languages'].get('zh', 0)} "
        f"(GBK {mx['gbk']}, {mx['gbk_with_wrong_http_charset']} with a wrong HTTP charset)",
        f"  machine: {mc['cores']} cores, {mc['cpu']}, Python {mc['python']}; "
        f"load average at the end {mc['load_average_1min']}",
        "",
        f"{'program':<10}{'cold s':>9}{'cold entries/s':>16}{'warm s':>9}"
        f"{'peak RSS MiB':>14}{'(PSS)':>8}{'stored':>9}",
    ]
    for name, fig in summary["programs"].items():
        cold, warm = fig["cold"], fig["warm"]
        peak = max(cold["peak_rss_mib"], warm["peak_rss_mib"])
        pss = max(cold.get("peak_tree_pss_mib", 0), warm.get("peak_tree_pss_mib", 0))
        lines.append(
            f"{name:<10}{cold['wall_s']:>9.2f}{cold['entries_per_s']:>16.0f}"
            f"{warm['wall_s']:>9.2f}{peak:>14.1f}{pss:>8.1f}{cold['stored_after']!s:>9}"
        )
    lines.append("")
    for fig in summary["programs"].values():
        lines.append(f"  {fig['name']}: {fig['describe']}")
    for fig in summary["programs"].values():
        if "warm2" in fig:
            w, w2 = fig["warm"], fig["warm2"]
            lines.append(
                f"  {fig['name']}: warm pass got {_statuses(w['http_statuses'])}; "
                f"a third pass took {w2['wall_s']:.2f} s ({_statuses(w2['http_statuses'])})"
            )
    lines += ["  " + summary["rss_method"], ""]
    if summary["ratios"]:
        lines.append(f"{'ratio':<28}{'value':>8}  {'target':<8}met")
        for r in summary["ratios"]:
            value = f"{r['value']:>8.2f}" if r["value"] is not None else f"{'n/a':>8}"
            lines.append(f"{r['name']:<28}{value}  {r['target']:<8}{'yes' if r['met'] else 'NO'}")
        lines.append("")
    lines.append("checks:")
    for c in summary["checks"]:
        mark = "ok " if c["ok"] else "BAD"
        lines.append(f"  {mark} {c['program']:<9} {c['check']}: {c['detail']}")
    return "\n".join(lines)


def render_markdown(summary: dict[str, Any]) -> str:
    """The table and the ratios as Markdown, for docs/benchmarks.md."""
    lines = [
        "| program | cold s | cold entries/s | warm s | peak RSS MiB (PSS) | stored |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, fig in summary["programs"].items():
        cold, warm = fig["cold"], fig["warm"]
        peak = max(cold["peak_rss_mib"], warm["peak_rss_mib"])
        pss = max(cold["peak_tree_pss_mib"], warm["peak_tree_pss_mib"])
        lines.append(
            f"| {name} | {cold['wall_s']:.1f} | {cold['entries_per_s']:.0f} | "
            f"{warm['wall_s']:.2f} | {peak:.0f} ({pss:.0f}) | {cold['stored_after']} |"
        )
    if summary["ratios"]:
        lines += ["", "| ratio | value | target | met |", "| --- | ---: | --- | --- |"]
        for r in summary["ratios"]:
            value = "n/a" if r["value"] is None else f"{r['value']:.2f}"
            lines.append(
                f"| {r['name']} | {value} | {r['target']} | {'yes' if r['met'] else 'no'} |"
            )
    return "\n".join(lines)


def write_json(summary: dict[str, Any], path: Path) -> None:
    """Write the summary as indented JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
