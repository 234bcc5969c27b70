"""Main-text extraction: quality on the saved pages of tests/data/pages/, and pages per second.

Three extractors run on the same pages in one run:

    ours          aggregator.extract.extract_page (gov-CMS meta and containers, furniture
                  rules, our decoding), as the page pipeline calls it
    trafilatura   trafilatura.bare_extraction with its default settings and metadata on:
                  the raw bytes in, its own decoding, no gov meta, no furniture rules
    readability   readability-lxml's Document(...).summary() (a bench extra), text made
                  with our html_to_text; it reads no dates

Per page and in total:

    body        character-weighted sentence recall: the share of the characters of the
                expected body's sentences (the `body` list of NAME.expected.json, split
                at 。！？.!? and full stops) whose sentence appears whole in the text
    furniture   the share of the page's `furniture` strings left in the extracted text
    title       the extracted title equals the expected one
    date        the extracted date falls on the expected day (in the page's zone); ours
                is also checked to the second ("exact")

Speed: every page extracted `--rounds` times by each extractor in turn, as pages per
second of CPU time of this process (wall time beside it); the ratio to ours is printed.

    .venv/bin/pip install -e '.[dev,bench]'
    .venv/bin/python bench/extract.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import trafilatura
from readability import Document

from aggregator.extract import extract_page
from aggregator.html import html_to_text

PAGES = Path(__file__).resolve().parent.parent / "tests" / "data" / "pages"
_SENTENCE = re.compile(r"[^。！？!?.]+[。！？!?.]*[”」\"']?")


@dataclass(frozen=True)
class Case:
    """One saved page and what it should give."""

    name: str
    data: bytes
    expected: dict[str, Any]

    @property
    def zone(self) -> ZoneInfo:
        default = "Asia/Shanghai" if self.expected["language"] == "zh" else "UTC"
        return ZoneInfo(self.expected.get("timezone") or default)

    @property
    def day(self) -> date:
        return datetime.fromisoformat(self.expected["published"]).astimezone(self.zone).date()


@dataclass(frozen=True)
class Result:
    """What one extractor gave for one page."""

    title: str | None
    text: str
    day: date | None
    exact: datetime | None = None


Extractor = Callable[[Case], Result]


def ours(case: Case) -> Result:
    page = extract_page(
        case.data,
        url=case.expected["url"],
        charset=case.expected.get("header_charset"),
        timezone=case.expected.get("timezone"),
        now=datetime.fromisoformat(case.expected["now"]),
    )
    day = page.published.astimezone(case.zone).date() if page.published else None
    return Result(page.title, page.text, day, page.published)


def trafilatura_default(case: Case) -> Result:
    found = trafilatura.bare_extraction(case.data, url=case.expected["url"], with_metadata=True)
    if found is None or isinstance(found, dict):
        return Result(None, "", None)
    day = date.fromisoformat(found.date[:10]) if found.date else None
    return Result(found.title, found.text or "", day)


def readability_lxml(case: Case) -> Result:
    document = Document(case.data)
    return Result(document.short_title(), html_to_text(document.summary()), None)


EXTRACTORS: dict[str, Extractor] = {
    "ours": ours,
    "trafilatura": trafilatura_default,
    "readability": readability_lxml,
}


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(PAGES.glob("*.expected.json")):
        name = path.name.removesuffix(".expected.json")
        expected = json.loads(path.read_text("utf-8"))
        cases.append(Case(name, (PAGES / f"{name}.html").read_bytes(), expected))
    return cases


def flat(text: str) -> str:
    return "".join(text.split())


def body_recall(case: Case, text: str) -> float:
    got = flat(text)
    sentences = [flat(s) for p in case.expected["body"] for s in _SENTENCE.findall(p)]
    sentences = [s for s in sentences if s]
    total = sum(map(len, sentences))
    return sum(len(s) for s in sentences if s in got) / total if total else 1.0


def furniture_left(case: Case, text: str) -> float:
    items = case.expected["furniture"]
    return sum(1 for f in items if f in text) / len(items) if items else 0.0


def quality(cases: list[Case]) -> dict[str, list[tuple[Case, Result | None]]]:
    results: dict[str, list[tuple[Case, Result | None]]] = {}
    for name, extractor in EXTRACTORS.items():
        rows: list[tuple[Case, Result | None]] = []
        for case in cases:
            try:
                rows.append((case, extractor(case)))
            except Exception:  # a peer that fails on a page scores zero there
                rows.append((case, None))
        results[name] = rows
    return results


def speed(cases: list[Case], rounds: int) -> dict[str, tuple[float, float]]:
    rates: dict[str, tuple[float, float]] = {}
    for name, extractor in EXTRACTORS.items():
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            for case in cases:
                with contextlib.suppress(Exception):  # counted as done: the time was spent
                    extractor(case)
        count = rounds * len(cases)
        rates[name] = (
            count / (time.process_time() - cpu),
            count / (time.perf_counter() - wall),
        )
    return rates


def report(results: dict[str, list[tuple[Case, Result | None]]]) -> None:
    names = list(results)
    print("| page | " + " | ".join(f"{n} body / furniture left" for n in names) + " |")
    print("| --- |" + " ---: |" * len(names))
    for i, case in enumerate(results[names[0]]):
        cells = []
        for name in names:
            _, result = results[name][i]
            text = result.text if result else ""
            cells.append(f"{body_recall(case[0], text):.0%} / {furniture_left(case[0], text):.0%}")
        print(f"| {case[0].name} | " + " | ".join(cells) + " |")
    print()
    print("| extractor | body found | furniture left | title right | date right (day) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in names:
        rows = results[name]
        body = sum(body_recall(c, r.text if r else "") for c, r in rows) / len(rows)
        left = sum(furniture_left(c, r.text if r else "") for c, r in rows) / len(rows)
        titles = sum(1 for c, r in rows if r and r.title == c.expected["title"])
        days = sum(1 for c, r in rows if r and r.day == c.day)
        print(f"| {name} | {body:.1%} | {left:.1%} | {titles}/{len(rows)} | {days}/{len(rows)} |")
    exact = sum(
        1
        for c, r in results["ours"]
        if r and r.exact and r.exact.isoformat() == c.expected["published"]
    )
    print(f"\nours, date right to the second: {exact}/{len(results['ours'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=30, help="passes over the pages to time")
    args = parser.parse_args()
    cases = load_cases()
    print(f"{len(cases)} pages from {PAGES.name}/, trafilatura {trafilatura.__version__}\n")
    report(quality(cases))
    rates = speed(cases, args.rounds)
    base = rates["ours"][0]
    print(f"\n{args.rounds} rounds x {len(cases)} pages, one process:\n")
    print("| extractor | pages/s (CPU) | pages/s (wall) | vs ours |")
    print("| --- | ---: | ---: | ---: |")
    for name, (cpu, wall) in rates.items():
        print(f"| {name} | {cpu:,.0f} | {wall:,.0f} | {cpu / base:.2f}x |")


if __name__ == "__main__":
    main()
