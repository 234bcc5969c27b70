"""Text folding for topic matching: one normal form for terms and article text alike.

    fold:   NFKC (full-width → half-width) ─► case-fold ─► Traditional → Simplified Chinese
            ─► whitespace collapsed
    stems:  folded text ─► Latin words ─► Snowball (Porter 2) English stems, space-joined

The Traditional → Simplified step is a per-character table built once from OpenCC's
`TSCharacters` data (as shipped by the `opencc-python-reimplemented` package) and applied
with `str.translate`; phrase-level conversion is not needed because terms and text go
through the same table. Stemming uses the `snowballstemmer` package behind a bounded cache,
since news vocabulary repeats heavily. Both libraries live in this module only.
"""

from __future__ import annotations

import importlib.resources
import re
import unicodedata
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]

# CJK ideographs (unified, extension A, compatibility) and the CJK symbols block.
CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Full-width ASCII and the usual odd spaces, mapped exactly as NFKC maps them.
_WIDE_RE = re.compile("[\u00a0\u2000-\u200a\u3000\uff01-\uff5e]")
_WIDE = {"\u00a0": " ", "\u3000": " ", **{chr(c): " " for c in range(0x2000, 0x200B)}}
_WIDE.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})
# A Latin word: a run of letters (accented ones too) and digits; anything else separates
# ("china's" is "china" + "s"). Text without accented letters takes a faster, byte-level
# path to the same words.
_WORD_RE = re.compile("[a-z0-9\u00df-\u024f]+")
_ACCENTED_RE = re.compile("[\u00c0-\u024f]")
_SEPARATORS = bytes(b if chr(b).isascii() and chr(b).isalnum() else 32 for b in range(256))
_STEM_CACHE_MAX = 20_000


@lru_cache(maxsize=1)
def _ts_table() -> dict[int, str]:
    """Traditional → Simplified character table, from OpenCC's TSCharacters data."""
    try:
        data = importlib.resources.files("opencc").joinpath("dictionary/TSCharacters.txt")
        lines = data.read_text(encoding="utf-8").splitlines()
    except (ModuleNotFoundError, FileNotFoundError) as err:
        raise RuntimeError(
            "Traditional → Simplified folding needs the opencc-python-reimplemented package "
            f"(its dictionary/TSCharacters.txt): {err}"
        ) from None
    table: dict[int, str] = {}
    for line in lines:
        trad, _, simp = line.partition("\t")
        targets = simp.split()
        if len(trad) == 1 and targets and targets[0] != trad:
            table[ord(trad)] = targets[0]  # the first candidate is OpenCC's default
    return table


@lru_cache(maxsize=1)
def _trad_re() -> re.Pattern[str]:
    """Any character the Traditional → Simplified table changes, or any astral character.

    One class of BMP characters lets the regex engine use a bitmap (a few µs per KB); the
    table's few astral characters are covered by the plain astral range instead.
    """
    bmp = "".join(re.escape(chr(c)) for c in sorted(_ts_table()) if c <= 0xFFFF)
    return re.compile(f"[{bmp}]|[\U00010000-\U0010ffff]")


def to_simplified(text: str) -> str:
    """Map Traditional Chinese characters to Simplified ones, character by character."""
    return text.translate(_ts_table()) if _trad_re().search(text) else text


def fold(text: str) -> str:
    """The normal form used for matching: NFKC, case-folded, Simplified, spaces collapsed."""
    if text.isascii():
        return " ".join(text.lower().split())
    # NFKC is slow on text it changes; full-width ASCII (the usual change in Chinese text)
    # is mapped by table first, so that the quick check usually passes.
    if _WIDE_RE.search(text):
        text = _WIDE_RE.sub(_narrow, text)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return " ".join(to_simplified(text.casefold()).split())


def _narrow(match: re.Match[str]) -> str:
    """The NFKC form of one full-width character or odd space."""
    return _WIDE[match.group()]


def has_cjk(text: str) -> bool:
    """Whether `text` contains a CJK ideograph."""
    return CJK_RE.search(text) is not None


def words_of(folded: str) -> list[str]:
    """The Latin words of folded text (lower-case letters and digits), in order."""
    if folded.isascii() or not _ACCENTED_RE.search(folded):
        # Every other character (CJK, punctuation) becomes "?" and then a space: C speed.
        raw = folded.encode("ascii", "replace").translate(_SEPARATORS)
        return raw.decode("ascii").split()
    return _WORD_RE.findall(folded)


class Stemmer:
    """English Snowball stems of folded text, memoised (news vocabulary repeats)."""

    def __init__(self) -> None:
        self._stemmer = snowballstemmer.stemmer("english")
        self._cache: dict[str, str] = {}

    def stem(self, word: str) -> str:
        """The stem of one folded word."""
        cached = self._cache.get(word)
        if cached is None:
            if len(self._cache) >= _STEM_CACHE_MAX:
                self._cache.clear()
            cached = self._stemmer.stemWord(word)
            self._cache[word] = cached
        return cached

    def stems(self, folded: str) -> list[str]:
        """The stems of the Latin words of folded text, in order."""
        words = words_of(folded)
        stems = list(map(self._cache.get, words))
        if None in stems:  # some words not seen before: stem them once
            stems = [
                s if s is not None else self.stem(w) for s, w in zip(stems, words, strict=True)
            ]
        return stems  # type: ignore[return-value]  # no None is left

    def stem_string(self, folded: str) -> str:
        """Stems joined by single spaces, with a space at each end (for phrase matching)."""
        return " " + " ".join(self.stems(folded)) + " "
