"""Scan one article's fields for every topic's terms at once: the per-article hot path.

for each field (folded text, stem string):
    Chinese index over the folded text (only when it has Chinese), stem index over
    the stem string ─► hits (key, start, end)
    ignore phrases found ─► masks per topic (terms inside them do not count)
    each hit ─► its entries ─► Found of the entry's topic: the terms per (rule, field),
    the `all` terms per (rule, field), the exclude terms, the ignore phrases
A key seen again in the same field adds nothing (a term counts once per field), so
repeats are skipped unless a mask in the field could hide one occurrence and not another.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aggregator.termindex import Hit, TermIndex
from aggregator.textfold import has_cjk
from aggregator.topiccompile import Entry

FieldTexts = dict[str, tuple[str, str]]
"""Field name → (folded text, stem string)."""


@dataclass
class Found:
    """What one article's fields hold for one topic."""

    terms: dict[tuple[int, str], dict[str, None]] = field(default_factory=dict)
    groups: dict[tuple[int, str], set[str]] = field(default_factory=dict)
    excluded: dict[str, None] = field(default_factory=dict)
    ignored: dict[str, None] = field(default_factory=dict)


class Scanner:
    """The two shared indexes and the entries behind their keys."""

    def __init__(
        self,
        topics: int,
        cjk: tuple[TermIndex, dict[str, list[Entry]]],
        latin: tuple[TermIndex, dict[str, list[Entry]]],
    ) -> None:
        self._topics = topics
        self._cjk = cjk[0]
        self._latin = latin[0]
        # Stem keys start with a space and Chinese keys never do: one table serves both.
        self._routes = {**cjk[1], **latin[1]}
        self._ignore_keys = frozenset(
            key for key, es in self._routes.items() if any(e.kind == "ignore" for e in es)
        )

    def scan(self, texts: FieldTexts) -> list[Found]:
        """Every topic's terms found in the fields, one Found per topic."""
        found = [Found() for _ in range(self._topics)]
        for name, (folded, stems) in texts.items():
            cjk_hits = self._cjk.find(folded) if self._cjk.keys and has_cjk(folded) else []
            latin_hits = self._latin.find(stems) if self._latin.keys and len(stems) > 2 else []
            # In order of appearance, so that explanations read like the text.
            keys = dict.fromkeys(k for k, _, _ in cjk_hits)
            keys.update(dict.fromkeys(k for k, _, _ in latin_hits))
            if self._ignore_keys.isdisjoint(keys):
                # The usual case: no false friend here, so every key counts once.
                for key in keys:
                    for entry in self._routes[key]:
                        _record(found[entry.topic], entry, name)
            else:
                self._scan_masked(cjk_hits, latin_hits, name, found)
        return found

    def _scan_masked(
        self, cjk_hits: list[Hit], latin_hits: list[Hit], name: str, found: list[Found]
    ) -> None:
        """Record one field's hits, leaving out those inside an ignore phrase of their topic."""
        hits = [(True, *h) for h in cjk_hits] + [(False, *h) for h in latin_hits]
        masks: dict[int, list[tuple[bool, int, int]]] = {}
        for is_cjk, key, start, end in hits:
            for entry in self._routes[key] if key in self._ignore_keys else ():
                if entry.kind == "ignore":
                    masks.setdefault(entry.topic, []).append((is_cjk, start, end))
                    found[entry.topic].ignored[f"{entry.term} ({name})"] = None
        for is_cjk, key, start, end in hits:
            for entry in self._routes[key]:
                if entry.kind == "ignore":
                    continue
                spans = masks.get(entry.topic, ())
                if any(c == is_cjk and s <= start and end <= e for c, s, e in spans):
                    continue
                _record(found[entry.topic], entry, name)


def _record(into: Found, entry: Entry, field: str) -> None:
    """Note one entry found in one field."""
    kind = entry.kind
    if kind == "term":
        into.terms.setdefault((entry.rule, field), {})[entry.term] = None
    elif kind == "all":
        into.groups.setdefault((entry.rule, field), set()).add(entry.term)
    elif kind == "exclude":
        into.excluded[entry.term] = None
