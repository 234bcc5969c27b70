"""Similarity fingerprints of article text, for grouping near-duplicates into stories.

    text ─► lines ─► furniture lines dropped (hotlines, bylines, disclaimers, link rows,
            numbered headline lists, short lines that are not prose)
         ─► fold (full/half width, case, Traditional → Simplified; see `textfold`)
         ─► shingles: CJK text: CHAR_GRAM characters in a row, with every space and
            punctuation mark gone; other text: WORD_GRAM words in a row
         ─► one stable hash per distinct shingle (CRC-32)
         ─► signature: one-permutation MinHash: the hash's top bits pick one of BINS bins, a
            bin keeps its smallest hash (32 bits); empty bins are filled by optimal
            densification (so a short text still has BINS comparable values)
         ─► band keys: BANDS bands of ROWS values, each one signed 64-bit key (LSH)

Two texts whose shingle sets have Jaccard similarity J agree in each signature value with
probability about J (`similarity` estimates J), and share at least one band key with
probability 1 - (1 - J^ROWS)^BANDS: 0.94 at J = 0.4, 0.996 at J = 0.5, 0.04 at J = 0.1.
Pure functions of the standard library (and of `furniture`'s line patterns); measured against
numpy-based MinHash in bench/stories.py, a numpy dependency did not pay.
"""

from __future__ import annotations

import re
import sys
import zlib
from array import array
from bisect import bisect_left
from functools import lru_cache
from hashlib import blake2b
from itertools import accumulate

from aggregator.furniture import RELATED_HEADINGS, SHORT, is_furniture_line
from aggregator.textfold import CJK_RE, fold

BINS = 128
"""Values in a signature (32 bits each: a signature is 512 bytes)."""
BANDS = 42
ROWS = 3
"""LSH bands and values per band; BANDS * ROWS <= BINS."""
CHAR_GRAM = 4
"""Characters per shingle in CJK text."""
WORD_GRAM = 3
"""Words per shingle in other text."""
MIN_SHINGLES = 10
"""A text with fewer distinct shingles gets no fingerprint: too little to tell it apart."""
SIGNATURE_BYTES = BINS * 4

_BIN_BITS = 7  # 2**7 == BINS
_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_EMPTY = 1 << 32  # no 32-bit hash is this

# Latin (and every other non-CJK) word: letters and digits that are not CJK ideographs.
_WORD_RE = re.compile(r"[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_TOKEN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|" + _WORD_RE.pattern)
_NOT_WORD_RE = re.compile(r"[\W_]+")
# A line's list marker: "1.", "12、", "3)", "(4)", "-", "•" at its start.
_LIST_MARK_RE = re.compile(r"^\s*(?:\(?\d{1,3}[.、)）]|[(（]\d{1,3}[)）]|[-*•·▪►])\s*")
_PROSE_RE = re.compile(r"[。！？；，,.!?;]")
_MORE_RE = re.compile(
    r"appeared first on|originally (?:published|appeared)|^(?:read more|continue reading|"
    r"click here)\b|于\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日.{0,8}发[表布]",
    re.IGNORECASE,
)  # furniture lines `furniture.FURNITURE_LINES` leaves to the page extractor
_RELATED_ITEM = 100  # after a "related" heading, a line this long ending a sentence is prose
_SENTENCE_END_RE = re.compile(r"[。！？.!?][\"'”’)）]?$")
_SHORT_CJK = 24  # a line with fewer CJK characters and no punctuation is not prose
_SHORT_WORDS = 8  # a Latin line with fewer words and no punctuation is not prose


def content_lines(text: str) -> list[str]:
    """The lines of `text` that look like the article, not the page around it.

    Dropped: furniture lines (`furniture.is_furniture_line`: hotlines, disclaimers, bylines,
    share and copyright lines), a "related" heading and the headline-length lines after it,
    numbered or bulleted lines without sentence punctuation (headline lists), lines of
    several short space-separated CJK segments (link rows), and short lines without
    sentence punctuation. When nothing is left, every non-empty line is kept.
    """
    kept: list[str] = []
    lines = [" ".join(line.split()) for line in text.splitlines()]
    related = False
    for line in lines:
        if not line:
            continue
        if len(line) <= SHORT and RELATED_HEADINGS.match(line):
            related = True
            continue
        if (
            related
            and len(line) <= SHORT
            and not (len(line) >= _RELATED_ITEM and _SENTENCE_END_RE.search(line))
        ):
            continue  # a headline under a "related" heading
        related = False
        if len(line) <= SHORT and (_MORE_RE.search(line) or is_furniture_line(line)):
            continue
        bare = _LIST_MARK_RE.sub("", line)
        if not _PROSE_RE.search(bare):
            if bare != line:  # a list item without a sentence in it
                continue
            cjk = len(CJK_RE.findall(line))
            if cjk and len(line.split()) >= 3:  # "关于我们 加入我们 网站地图"
                continue
            if cjk < _SHORT_CJK and len(_WORD_RE.findall(line)) < _SHORT_WORDS:
                continue
        kept.append(line)
    return kept or [line for line in lines if line]


def shingles(text: str) -> set[bytes]:
    """The distinct shingles of `text` after furniture is dropped and the text folded."""
    return set(_shingles(text))


def _shingles(text: str) -> list[bytes]:
    """The shingles of `text` in order, repeats included (see `shingles`)."""
    folded = fold("\n".join(content_lines(text)))
    cjk = len(CJK_RE.findall(folded))
    words = _WORD_RE.findall(folded)
    if cjk and cjk >= len(words):
        # Characters in a row, spaces and punctuation gone: UTF-32 makes each a 4-byte slot.
        data = _NOT_WORD_RE.sub("", folded).encode("utf-32-le")
        width = 4 * CHAR_GRAM
        last = max(len(data) - width, 0)
        return [data[i : i + width] for i in range(0, last + 1, 4)]
    tokens = _TOKEN_RE.findall(folded)  # each CJK character is a word of its own here
    data = " ".join(tokens).encode()
    if len(tokens) < WORD_GRAM:
        return [data] if tokens else []
    # WORD_GRAM words in a row, as slices of the joined bytes: where each word starts
    sizes = map(len, tokens) if data.isascii() else (len(t.encode()) for t in tokens)
    starts = list(accumulate(map((1).__add__, sizes), initial=0))
    return [data[a : b - 1] for a, b in zip(starts, starts[WORD_GRAM:], strict=False)]


def signature(text: str) -> bytes | None:
    """The MinHash signature of `text` (SIGNATURE_BYTES bytes), or None when it is too short."""
    # One CRC-32 per distinct shingle: its top _BIN_BITS bits pick the bin, and the smallest
    # hash in a bin is the bin's value. Sorted, a bin's smallest is the first at its start.
    hashes = sorted(set(map(zlib.crc32, _shingles(text))))
    if len(hashes) < MIN_SHINGLES:
        return None
    shift = 32 - _BIN_BITS
    values = [_EMPTY] * BINS
    for b in range(BINS):
        i = bisect_left(hashes, b << shift)
        if i < len(hashes) and hashes[i] >> shift == b:
            values[b] = hashes[i]
    if _EMPTY in values:
        _densify(values)
    packed = array("I", values)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def _densify(values: list[int]) -> None:
    """Fill each empty bin with the value of the first full bin on its fixed probe path."""
    filled = [v for v in values if v != _EMPTY]
    if not filled:
        return
    paths = _probe_paths()
    original = list(values)
    for b in range(BINS):
        if original[b] == _EMPTY:
            values[b] = next(original[p] for p in paths[b] if original[p] != _EMPTY)


@lru_cache(maxsize=1)
def _probe_paths() -> tuple[tuple[int, ...], ...]:
    """For each bin, every bin in a fixed pseudo-random order (the same in every run)."""
    paths = []
    state = 0x243F6A8885A308D3
    for b in range(BINS):
        order = list(range(BINS))
        for i in range(BINS - 1, 0, -1):  # Fisher-Yates with a splitmix64 stream
            state = (state + _GOLDEN) & _MASK64
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
            z ^= z >> 31
            j = z % (i + 1)
            order[i], order[j] = order[j], order[i]
        order.remove(b)
        paths.append(tuple(order))
    return tuple(paths)


def values_of(sig: bytes) -> array[int]:
    """A signature's BINS values."""
    values = array("I", sig)
    if sys.byteorder == "big":
        values.byteswap()
    return values


def similarity(a: bytes, b: bytes) -> float:
    """The estimated Jaccard similarity of the texts behind two signatures (0.0 to 1.0)."""
    if len(a) != SIGNATURE_BYTES or len(b) != SIGNATURE_BYTES:
        raise ValueError("not a signature")
    same = sum(map(int.__eq__, values_of(a), values_of(b)))
    return same / BINS


def band_keys(sig: bytes) -> list[int]:
    """The LSH keys of a signature: one signed 64-bit integer per band."""
    width = ROWS * 4
    return [
        int.from_bytes(
            blake2b(
                sig[band * width : (band + 1) * width], digest_size=8, salt=_SALTS[band]
            ).digest(),
            "little",
            signed=True,
        )
        for band in range(BANDS)
    ]


_SALTS = [band.to_bytes(16, "little") for band in range(BINS)]
