"""Find many literal keys in a text at once, overlapping hits included.

The keys are compiled into one regular expression shaped as a trie (common prefixes
shared, the longer continuation tried first), so each search costs about one pass over the
text whatever the number of keys. At each hit the expression reports the longest key; the
shorter keys that are prefixes of it come from a table built at compile time, and the next
search starts one character after the hit, so keys inside or across other keys are found
too (制造业 inside 智能制造业, "chain" inside "supply chain"). (Resuming after the whole hit
and recovering the skipped keys from tables was measured slower: Chinese text has many
short, overlapping keys.)

With a `boundary` character (the space of a stem string), a key must be followed by it,
so "plan" does not match inside "planet".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

Hit = tuple[str, int, int]
"""A found key with its start and end offsets in the scanned text."""


class _Node:
    """One trie node: the next characters, and whether a key ends here."""

    __slots__ = ("children", "end")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.end = False


def trie_pattern(keys: Iterable[str]) -> str:
    """A regex matching any of `keys`, longest first at each position."""
    root = _Node()
    for key in keys:
        node = root
        for char in key:
            node = node.children.setdefault(char, _Node())
        node.end = True
    return _render(root)


def _render(node: _Node) -> str:
    """Render one trie node; children first, the end of a key (if any) as the fallback."""
    branches = [re.escape(char) + _render(child) for char, child in sorted(node.children.items())]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if node.end:
        return body + "?" if len(branches) == 1 and _is_atom(body) else "(?:" + body + ")?"
    return body


def _is_atom(body: str) -> bool:
    """Whether `body` is one (possibly escaped) character, safe to follow with `?`."""
    return len(body) == 1 or (len(body) == 2 and body[0] == "\\")


class TermIndex:
    """A compiled set of literal keys; `find` returns every occurrence of every key."""

    def __init__(self, keys: Iterable[str], boundary: str | None = None) -> None:
        self.keys = frozenset(k for k in keys if k)
        self.boundary = boundary
        pattern = trie_pattern(self.keys)
        if boundary is not None:
            pattern = f"(?:{pattern})(?={re.escape(boundary)})"
        self._regex = re.compile(pattern) if self.keys else None
        # For each key, the keys that are prefixes of it (itself included), longest first.
        self._prefixes = {
            key: tuple(
                key[:n]
                for n in range(len(key), 0, -1)
                if key[:n] in self.keys and (n == len(key) or self._ends_at(key, n))
            )
            for key in self.keys
        }

    def _ends_at(self, key: str, n: int) -> bool:
        """Whether a key may end after `n` characters of `key` (at a boundary, if any)."""
        return self.boundary is None or key[n] == self.boundary

    def find(self, text: str) -> list[Hit]:
        """Every (key, start, end) in `text`, overlapping hits included, in order of start."""
        if self._regex is None:
            return []
        search = self._regex.search
        prefixes = self._prefixes
        hits: list[Hit] = []
        match = search(text)
        while match is not None:
            start = match.start()
            for key in prefixes[match.group()]:
                hits.append((key, start, start + len(key)))
            match = search(text, start + 1)
        return hits
