"""An article's language: the tag its document or source declares, else a cheap guess.

The rule reads a sample (the title and the start of the text, SAMPLE_CHARS characters):

    declared   the first usable tag of the entry, the feed, the source. Usable: it looks
               like a language tag, and the sample does not plainly contradict it. Plainly
               contradicted: a non-CJK tag on a sample with at least 20 CJK characters and
               at least twice as many CJK characters as Latin words; a CJK tag (zh, ja,
               ko, yue…) on a sample with no CJK character, at least 20 Latin words and at
               least one in five of them English function words ("the", "of", "and"…)
    guessed    when no tag is usable: CJK characters at least as many as Latin words →
               "ko" if Hangul dominates, "ja" if a tenth or more are kana, else "zh";
               otherwise at least 3 Latin words, a tenth of them English function words →
               "en"; otherwise None (unknown rather than a wrong guess)

Tags are kept but normalized: lower-case, "_" → "-", the first of a list ("en-US, en" →
"en-us"). So "zh-CN" → "zh-cn"; compare on `primary_subtag` to ignore regions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SAMPLE_CHARS = 400
"""How much of the title and text the guess reads."""

_TAG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$")
_TAG_SEPARATORS = re.compile(r"[,;\s]+")
# Runs, not single characters: far fewer matches to count.
# Kana without the middle dot and the length mark (U+30FB, U+30FC) that Chinese text uses too.
_KANA_CHARS = "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fd-\u30ff\u31f0-\u31ff"
_HANGUL_CHARS = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
_HAN_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_CJK = re.compile(f"[{_HAN_CHARS}{_KANA_CHARS}{_HANGUL_CHARS}]+")
_KANA_OR_HANGUL = re.compile(f"[{_KANA_CHARS}{_HANGUL_CHARS}]+")
_HANGUL = re.compile(f"[{_HANGUL_CHARS}]+")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_CJK_LANGUAGES = frozenset({"zh", "ja", "ko", "yue", "wuu", "cmn", "lzh", "hak", "nan"})
_ENGLISH_WORDS = frozenset(
    {
        "the", "of", "and", "to", "in", "is", "was", "for", "on", "that", "with", "as", "by",
        "it", "at", "from", "this", "be", "are", "an", "or", "have", "has", "not", "but",
        "which", "were", "its", "their", "they", "he", "she", "we", "you", "will", "can",
        "been", "more", "said", "would", "after", "than", "about", "also", "who", "new",
        "into", "over",
    }
)  # fmt: skip


def normalize_language(tag: str | None) -> str | None:
    """A language tag lower-cased with "-" separators, or None when it is not one."""
    if not tag:
        return None
    first = _TAG_SEPARATORS.split(tag.strip(), maxsplit=1)[0]
    first = first.replace("_", "-").lower()
    return first if _TAG.match(first) else None


def primary_subtag(tag: str) -> str:
    """The language part of a tag: "zh-cn" → "zh"."""
    return tag.partition("-")[0]


def choose_language(declared: Iterable[str | None], title: str, text: str) -> str | None:
    """The article's language by the module's rule: a declared tag, else a guess."""
    evidence = _Evidence(f"{title}\n{text}"[:SAMPLE_CHARS])
    for raw in declared:
        tag = normalize_language(raw)
        if tag is not None and not evidence.contradicts(tag):
            return tag
    return evidence.guess()


def guess_language(text: str) -> str | None:
    """A cheap guess from the script of `text`: "zh", "ja", "ko", "en" or None."""
    return _Evidence(text[:SAMPLE_CHARS]).guess()


class _Evidence:
    """Script counts of a text sample; the word counts only when a decision needs them."""

    def __init__(self, sample: str) -> None:
        self.sample = sample
        self.cjk = self.kana = self.hangul = 0
        if not sample.isascii():
            self.cjk = sum(map(len, _CJK.findall(sample)))
            if self.cjk:
                other = "".join(_KANA_OR_HANGUL.findall(sample))
                self.hangul = sum(map(len, _HANGUL.findall(other))) if other else 0
                self.kana = len(other) - self.hangul
        self.han = self.cjk - self.kana - self.hangul
        # Mostly CJK characters: Latin words cannot outnumber them, no need to count.
        self._words: tuple[int, int] | None = (0, 0) if self.cjk * 2 > len(sample) else None

    def words(self) -> tuple[int, int]:
        """(Latin words, English function words) in the sample."""
        if self._words is None:
            found = _LATIN_WORD.findall(self.sample.lower())
            self._words = (len(found), sum(map(_ENGLISH_WORDS.__contains__, found)))
        return self._words

    def guess(self) -> str | None:
        latin, english = self.words()
        if self.cjk and self.cjk >= latin:
            if self.hangul > self.han + self.kana:
                return "ko"
            if self.kana * 10 >= self.cjk:
                return "ja"
            return "zh"
        if latin >= 3 and english * 10 >= latin:
            return "en"
        return None

    def contradicts(self, tag: str) -> bool:
        """True when the text is plainly in another script than the tag's language."""
        if primary_subtag(tag) in _CJK_LANGUAGES:
            if self.cjk:
                return False
            latin, english = self.words()
            return latin >= 20 and english * 5 >= latin
        if self.cjk < 20:
            return False
        return self.cjk >= 2 * self.words()[0]
