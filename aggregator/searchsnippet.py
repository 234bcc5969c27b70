"""Snippets and highlights for search results, from an article's own text; pure, no I/O.

    text ─► whitespace collapsed ─► folded character by character (same length, so every
            offset in the folded copy is an offset in the text)
         ─► spans of the query's wanted terms: Chinese runs found as substrings, other words
            when their stem is one of the query's stems
         ─► a window of about `width` characters around the first span, the spans in it
            marked; no span: the start of the text

The highlighted characters are the text's own (Traditional, full-width or capitalised as
written), never the index's tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from aggregator.searchtext import CJK_RUN_RE, WORD_RE, SearchQuery
from aggregator.textfold import Stemmer, fold, to_simplified

SNIPPET_CHARS = 200
_LEAD = 50  # characters of context before the first hit
_MAX_HITS = 200
_SPACE = re.compile(r"\s+")
_WIDE = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_WIDE_RE = re.compile("[\uff01-\uff5e\u3000]")
_BREAKS = " ,.;:!?，。；：！？、"


@dataclass(frozen=True)
class Highlighted:
    """Plain text in parts, each marked as a hit of the query or not."""

    parts: tuple[tuple[str, bool], ...]

    @property
    def text(self) -> str:
        """The plain text, without marks."""
        return "".join(part for part, _ in self.parts)

    @property
    def hits(self) -> tuple[str, ...]:
        """The marked parts, in order."""
        return tuple(part for part, hit in self.parts if hit)


@dataclass(frozen=True)
class Needles:
    """What to mark for a query: folded Chinese runs, and the stems of its other words."""

    runs: tuple[str, ...]
    stems: frozenset[str]


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer:
    return Stemmer()


def needles(query: SearchQuery) -> Needles:
    """The Chinese runs and word stems of the terms a result must match."""
    runs: list[str] = []
    stems: set[str] = set()
    for term in query.wanted:
        folded = fold(term.text)
        runs.extend(r for r in CJK_RUN_RE.findall(folded) if r not in runs)
        stems.update(_stemmer().stem(w) for w in WORD_RE.findall(folded))
    return Needles(tuple(sorted(runs, key=len, reverse=True)), frozenset(stems))


def fold_aligned(text: str) -> str:
    """`text` folded for matching one character at a time: the result has the same length."""
    narrowed = to_simplified(text.translate(_WIDE) if _WIDE_RE.search(text) else text)
    lowered = narrowed.lower()
    if len(lowered) != len(narrowed):  # a rare character that lower-cases to two
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in narrowed)
    return lowered


def spans(text: str, found: Needles) -> list[tuple[int, int]]:
    """The (start, end) of every hit in `text`, in order, overlaps merged."""
    folded = fold_aligned(text)
    hits: list[tuple[int, int]] = []
    for run in found.runs:
        at = folded.find(run)
        while at >= 0 and len(hits) < _MAX_HITS:
            hits.append((at, at + len(run)))
            at = folded.find(run, at + len(run))
    if found.stems:
        stem = _stemmer().stem
        for word in WORD_RE.finditer(folded):
            if stem(word.group()) in found.stems:
                hits.append(word.span())
                if len(hits) >= _MAX_HITS:
                    break
    merged: list[tuple[int, int]] = []
    for start, end in sorted(hits):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, found: Needles) -> Highlighted:
    """All of `text` (whitespace collapsed), its hits marked."""
    flat = _SPACE.sub(" ", text).strip()
    return _marked(flat, 0, len(flat), spans(flat, found))


def snippet(text: str, found: Needles, width: int = SNIPPET_CHARS) -> Highlighted:
    """About `width` characters of `text` around its first hit, hits marked, "…" where cut."""
    flat = _SPACE.sub(" ", text).strip()
    hits = spans(flat, found)
    if len(flat) <= width:
        return _marked(flat, 0, len(flat), hits)
    start = 0
    if hits and hits[0][0] > _LEAD:
        start = _edge(flat, hits[0][0] - _LEAD, hits[0][0])
    end = min(len(flat), start + width)
    if end < len(flat):
        end = _edge(flat, end - width // 5, end, backwards=True)
    marked = _marked(flat, start, end, hits)
    parts = list(marked.parts)
    if start > 0:
        parts.insert(0, ("…", False))
    if end < len(flat):
        parts.append(("…", False))
    return Highlighted(tuple(parts))


def _edge(text: str, low: int, high: int, *, backwards: bool = False) -> int:
    """A cut point in low..high just after a space or punctuation, else `high` or `low`."""
    positions = range(high, low, -1) if backwards else range(low, high)
    for at in positions:
        if text[at - 1] in _BREAKS:
            return at
    return high if backwards else low


def _marked(text: str, start: int, end: int, hits: list[tuple[int, int]]) -> Highlighted:
    parts: list[tuple[str, bool]] = []
    at = start
    for hit_start, hit_end in hits:
        hit_start, hit_end = max(hit_start, start), min(hit_end, end)
        if hit_start >= hit_end:
            continue
        if hit_start > at:
            parts.append((text[at:hit_start], False))
        parts.append((text[hit_start:hit_end], True))
        at = hit_end
    if at < end:
        parts.append((text[at:end], False))
    return Highlighted(tuple(parts))
