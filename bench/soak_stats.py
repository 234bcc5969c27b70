"""Figures of one soak run of one program: scheduler lag, double fetches, CPU and memory.

Stages: read the feed server's request log; match each request with the feed's due time at
that moment (polled from the program's database) to get the lag as the server saw it; add
the lag the program logged itself, when it logs one; look for feeds fetched twice within
0.9 intervals, or twice at once; split the run after the warm-up into thirds and compare
CPU and memory of the first and last third.

"Steady" means: the mean RSS of the last third at most 5% above the first third's, and the
CPU share of the last third at most 25% (plus one point) above the first third's.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import json
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soak_watch import Sample

DOUBLE_SHARE = 0.9  # two fetches of a feed closer than this many intervals are a double fetch
RSS_GROWTH = 0.05
CPU_GROWTH = 0.25


@dataclass(frozen=True)
class Request:
    """One line of the feed server's log."""

    arrived: float
    done: float
    path: str
    status: int
    version: int
    size: int
    in_flight: int


def read_log(path: Path) -> list[Request]:
    """The server's request log, in arrival order."""
    out = []
    for line in path.read_text().splitlines():
        a, d, p, s, v, n, f = line.split("\t")
        out.append(Request(float(a), float(d), p, int(s), int(v), int(n), int(f)))
    return sorted(out, key=lambda r: r.arrived)


def percentiles(values: Sequence[float]) -> dict[str, float | int | None]:
    """Count, p50, p95, p99 and max (nearest rank), in the unit given."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 3)

    return {
        "n": len(ordered),
        "p50": rank(50),
        "p95": rank(95),
        "p99": rank(99),
        "max": round(ordered[-1], 3),
    }


def by_thirds(points: Sequence[tuple[float, float]], start: float, end: float) -> list[Any]:
    """Percentiles of the values of (moment, value) points in each third of start..end."""
    span = max(end - start, 1e-9)
    parts: list[list[float]] = [[], [], []]
    for moment, value in points:
        parts[min(2, max(0, int(3 * (moment - start) / span)))].append(value)
    return [percentiles(part) for part in parts]


def due_at(history: list[tuple[float, float | None]], t: float, added: float) -> float | None:
    """The due time in force at ``t``: the last value seen before it (never fetched = added)."""
    i = bisect.bisect_right([seen for seen, _ in history], t)
    if i == 0:
        return None
    due = history[i - 1][1]
    return added if due is None else due


def schedule(
    requests: list[Request],
    names: dict[str, str],
    dues: dict[str, list[tuple[float, float | None]]],
    *,
    started: float,
    stopped: float,
    interval: float,
    warmup: float,
    added: float,
) -> dict[str, Any]:
    """Lag seen by the server, double and overlapping fetches, gaps, fetches per feed."""
    mine = [r for r in requests if r.path in names and started <= r.arrived <= stopped]
    lags_all, lags_warm, unmatched = [], [], 0
    lag_points: list[tuple[float, float]] = []
    times: dict[str, list[float]] = collections.defaultdict(list)
    for r in mine:
        name = names[r.path]
        times[name].append(r.arrived)
        due = due_at(dues.get(name, []), r.arrived, added)
        if due is None:
            unmatched += 1
            continue
        lag = r.arrived - due
        lags_all.append(lag)
        lag_points.append((r.arrived, lag))
        if r.arrived - started >= warmup:
            lags_warm.append(lag)
    doubles: list[dict[str, Any]] = []
    gaps: list[float] = []
    for name, ts in times.items():
        gaps.append(ts[0] - started)
        for a, b in itertools.pairwise(ts):
            gaps.append(b - a)
            if b - a < DOUBLE_SHARE * interval:
                doubles.append(
                    {"feed": name, "at_s": round(a - started, 1), "gap_s": round(b - a, 2)}
                )
        gaps.append(stopped - ts[-1])
    counts = [len(times.get(n, [])) for n in names.values()]
    return {
        "fetches": len(mine),
        "statuses": dict(collections.Counter(str(r.status) for r in mine)),
        "bytes": sum(r.size for r in mine),
        "fetches_per_feed": {
            "min": min(counts),
            "median": statistics.median(counts),
            "max": max(counts),
        },
        "feeds_never_fetched": sum(1 for c in counts if c == 0),
        "lag_s": percentiles(lags_all),
        "lag_after_warmup_s": percentiles(lags_warm),
        "lag_by_third_s": by_thirds(lag_points, started, stopped),
        "lag_min_s": round(min(lags_all), 3) if lags_all else None,
        "unmatched": unmatched,
        "double_fetches": len(doubles),
        "double_fetches_after_warmup": sum(1 for d in doubles if d["at_s"] >= warmup),
        "double_examples": doubles[:10],
        "overlapping_fetches": sum(1 for r in mine if r.in_flight > 1),
        "longest_gap_s": round(max(gaps), 1) if gaps else None,
        "entries_gained": _served((r for r in requests if r.path in names), names),
    }


def _served(requests: Iterable[Request], names: dict[str, str]) -> dict[str, int]:
    """Distinct entries each feed was sent in full (200s): its window plus what it gained."""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for r in requests:
        if r.status == 200:
            name = names[r.path]
            first.setdefault(name, r.version)
            last[name] = max(last.get(name, 0), r.version)
    return {name: last[name] - first[name] for name in first}


def freshness(
    requests: list[Request],
    names: dict[str, str],
    changes: dict[str, Sequence[float]],
    *,
    served_from: float,
    started: float,
    stopped: float,
    interval: float,
) -> dict[str, Any]:
    """Seconds from a feed gaining an entry to the program downloading it.

    Only changes at least 1.2 intervals before the stop count; those never downloaded by
    the stop are counted as missed.
    """
    by_name: dict[str, list[Request]] = collections.defaultdict(list)
    for r in requests:
        if r.path in names and r.status == 200 and started <= r.arrived <= stopped:
            by_name[names[r.path]].append(r)
    delays, missed = [], 0
    for name, moments in changes.items():
        for version, moment in enumerate(moments, start=1):
            at = served_from + moment
            if at < started or at > stopped - 1.2 * interval:
                continue
            got = next((r.arrived for r in by_name[name] if r.version >= version), None)
            if got is None:
                missed += 1
            else:
                delays.append(got - at)
    return {**percentiles(delays), "missed": missed}


def logged_lags(
    results: list[dict[str, Any]], started: float, stopped: float, warmup: float
) -> dict[str, Any]:
    """Percentiles of the lag the program logged (``lag_ms``): whole run, after the warm-up,
    by thirds of the whole run."""
    lags = [(r["start"], r["lag_ms"] / 1000) for r in results if r.get("lag_ms") is not None]
    return {
        "results": len(results),
        "with_lag": len(lags),
        "lag_s": percentiles([lag for _, lag in lags]),
        "lag_after_warmup_s": percentiles([lag for s, lag in lags if s - started >= warmup]),
        "lag_by_third_s": by_thirds(lags, started, stopped),
    }


def resources(samples: list[Sample], warmup: float, stopped_at: float) -> dict[str, Any]:
    """CPU and memory by thirds of the run after the warm-up, the RSS slope, the peaks."""
    mib = 2**20
    if len(samples) < 4:
        return {"samples": len(samples)}
    span = max(stopped_at - warmup, 1e-9)
    bounds = [warmup + span * k / 3 for k in range(4)]
    thirds: list[dict[str, Any]] = []
    for lo, hi in itertools.pairwise(bounds):
        part = [s for s in samples if lo <= s.t <= hi]
        if len(part) < 2:
            thirds.append({"cpu_pct": None, "rss_mib": None, "server_cpu_pct": None})
            continue
        dt = part[-1].t - part[0].t
        thirds.append(
            {
                "cpu_pct": round(100 * (part[-1].cpu_s - part[0].cpu_s) / dt, 1),
                "rss_mib": round(statistics.fmean(s.rss for s in part) / mib, 1),
                "pss_mib": round(statistics.fmean(s.pss for s in part) / mib, 1),
                "server_cpu_pct": round(100 * (part[-1].other_cpu_s - part[0].other_cpu_s) / dt, 1),
                "machine_busy_pct": round(statistics.fmean(s.machine_busy for s in part), 1),
            }
        )
    after = [s for s in samples if s.t >= warmup]
    slope = _slope([(s.t / 60, s.rss / mib) for s in after])
    whole = after[-1].t - after[0].t if len(after) > 1 else 0
    first, last = thirds[0], thirds[-1]
    rss_ok = bool(first["rss_mib"] and last["rss_mib"] is not None) and (
        last["rss_mib"] <= first["rss_mib"] * (1 + RSS_GROWTH)
    )
    cpu_ok = first["cpu_pct"] is not None and last["cpu_pct"] is not None
    cpu_ok = cpu_ok and last["cpu_pct"] <= first["cpu_pct"] * (1 + CPU_GROWTH) + 1
    return {
        "samples": len(samples),
        "thirds": thirds,
        "cpu_pct_after_warmup": round(100 * (after[-1].cpu_s - after[0].cpu_s) / whole, 1)
        if whole
        else None,
        "cpu_s_total": round(samples[-1].cpu_s, 1),
        "rss_slope_mib_per_min": round(slope, 3) if slope is not None else None,
        "peak_rss_mib": round(max(s.rss for s in samples) / mib, 1),
        "peak_pss_mib": round(max(s.pss for s in samples) / mib, 1),
        "max_processes": max(s.procs for s in samples),
        "rss_steady": rss_ok,
        "cpu_steady": bool(cpu_ok),
        "timeline": [
            [round(s.t), round(s.cpu_s, 1), round(s.rss / mib, 1)]
            for s in samples[:: max(1, len(samples) // 60)]
        ],
    }


def stages(path: Path, seconds: float) -> dict[str, Any] | None:
    """The write stages ``soak_stages.py`` timed (None if it did not run): per stage its
    seconds, calls, mean ms and share of `save_update`; and the writer's busy share (time in
    `save_update` and `save_states`) in each third of the run's ``seconds``."""
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    tot, cnt = data["totals"], data["counts"]
    whole = tot.get("save_update") or 0.0
    busy = [0.0, 0.0, 0.0]
    for moment, stage, spent in data["calls"]:
        if stage in ("save_update", "save_states"):
            busy[min(2, max(0, int(3 * moment / seconds)))] += spent
    return {
        "stages": {
            stage: {
                "seconds": round(spent, 2),
                "calls": cnt[stage],
                "mean_ms": round(1000 * spent / cnt[stage], 1),
                "share_of_save_update": round(spent / whole, 3) if whole else None,
            }
            for stage, spent in sorted(tot.items(), key=lambda kv: -kv[1])
        },
        "writer_busy_pct_by_third": [round(100 * b / (seconds / 3), 1) for b in busy],
    }


def _slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of y over x."""
    if len(points) < 2:
        return None
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else None


def fmt(value: Any, spec: str = ".2f") -> str:
    """A figure for a table cell: ``n/a`` when missing."""
    return "n/a" if value is None else format(value, spec)


def lag_cells(lag: dict[str, Any]) -> str:
    """``p50 / p95 / p99 / max`` in seconds."""
    return " / ".join(fmt(lag[k]) for k in ("p50", "p95", "p99", "max"))


def lag_thirds_cells(thirds: list[dict[str, Any]], key: str = "p99") -> str:
    """A lag percentile for each third of the run, ``a → b → c`` seconds."""
    return " → ".join(fmt(t[key], ".1f") for t in thirds)


def thirds_cells(res: dict[str, Any], key: str, spec: str = ".0f") -> str:
    """A figure for each third, ``a → b → c``."""
    return " → ".join(fmt(t.get(key), spec) for t in res.get("thirds", []))
