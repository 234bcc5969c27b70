"""Search tokens for articles and queries: one tokenizer for both sides, pure, no I/O.

    index:  text ─► fold (full/half width, case, Traditional → Simplified)
                 ─► runs of Chinese (and kana) characters ─► overlapping character bigrams
                    (a one-character run stays a unigram)
                 ─► other words (letters and digits) ─► English Snowball stems
                 ─► tokens joined by single spaces, in text order
    query:  user text ─► terms: word | "quoted phrase" | -excluded
                 ─► each term's tokens, by the index rule (a phrase when more than one)
                 ─► a backend's match expression, assembled from tokens only

So 政策 is the bigram 政策, found inside 关于加快推进制造业政策的通知; 智能制造 is the phrase
智能 能制 制造; "manufacturing" and "manufacturers" both stem to "manufactur". A lone Chinese
character in a query matches the bigrams that start with it. Tokens carry no syntax
characters, so user input never reaches the backend's query language.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from aggregator.models import Article
from aggregator.textfold import Stemmer, fold

TOKENS_VERSION = 2
"""Bumped with every change to the index tokens or the index table; a stored index of another
version is rebuilt (2: the SQLite table gained the filter tokens of `searchtags`)."""

MAX_QUERY_CHARS = 256
MAX_TERMS = 12
MAX_TOKEN_CHARS = 40  # longer "words" (hashes, run-together URLs) are not indexed
MAX_BODY_TOKENS = 16_000  # PostgreSQL keeps positions up to 16,383

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_SPLIT = re.compile(f"([{_CJK}]+)")
CJK_RUN_RE = re.compile(f"[{_CJK}]+")
WORD_RE = re.compile(f"[^\\W_{_CJK}]+")
"""A non-Chinese word of folded text: letters and digits of any script."""
_ASCII_SEPARATORS = bytes(b if chr(b).isascii() and chr(b).isalnum() else 32 for b in range(256))
_TAG = re.compile(r"<[^>]*>")
_QUERY_RE = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')


class QueryError(ValueError):
    """A search query that cannot be run; the message is one line for the user."""


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer:
    return Stemmer()


def tokens(text: str) -> list[str]:
    """The index tokens of `text`, in order."""
    return _tokens_of_folded(fold(text))


def _tokens_of_folded(folded: str) -> list[str]:
    out: list[str] = []
    stem = _stemmer().stem
    for i, part in enumerate(_CJK_SPLIT.split(folded)):
        if not part:
            continue
        if i % 2:  # a run of Chinese characters (split puts them at odd positions)
            if len(part) == 1:
                out.append(part)
            else:
                out.extend(map(str.__add__, part, part[1:]))
            continue
        if part.isascii():
            words = part.encode("ascii").translate(_ASCII_SEPARATORS).decode("ascii").split()
        else:
            words = WORD_RE.findall(part)
        out.extend(stem(w) for w in words if len(w) <= MAX_TOKEN_CHARS)
    return out


def token_string(text: str, limit: int | None = None) -> str:
    """The index tokens of `text` joined by spaces (at most `limit` of them)."""
    found = tokens(text)
    return " ".join(found if limit is None else found[:limit])


@dataclass(frozen=True)
class SearchDoc:
    """What the search index holds for one article: token strings; from process to store."""

    title: str
    body: str


def search_doc(title: str, summary_text: str, text: str) -> SearchDoc:
    """The index document of an article: its title, then its summary and text as the body.

    The summary is left out when the text already contains it (the usual case for feeds
    that give both).
    """
    summary_text = summary_text.strip()
    body = text if not summary_text or summary_text in text else f"{summary_text}\n{text}"
    return SearchDoc(token_string(title), token_string(body, MAX_BODY_TOKENS))


def article_doc(article: Article) -> SearchDoc:
    """The index document of a new or stored article."""
    return search_doc(article.title, plain_summary(article.summary), article.text)


def plain_summary(summary_html: str) -> str:
    """A sanitized HTML summary as plain text."""
    return html.unescape(_TAG.sub(" ", summary_html)) if summary_html else ""


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class Phrase:
    """Tokens that must stand next to each other; with `prefix`, the last may go on."""

    tokens: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class QueryTerm:
    """One term of a query: its phrases (all must match), as the index spells them.

    A term is one phrase, except that a lone Chinese character can only be matched as the
    start of a token (a prefix): at the end of a phrase it becomes the phrase's prefix, else
    a phrase of its own.
    """

    text: str  # as written, without quotes or the minus sign
    phrases: tuple[Phrase, ...]
    exclude: bool = False


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query: every term must match, excluded terms must not."""

    text: str
    terms: tuple[QueryTerm, ...]

    @property
    def wanted(self) -> tuple[QueryTerm, ...]:
        """The terms that must match."""
        return tuple(t for t in self.terms if not t.exclude)

    def fts5(self) -> str:
        """The SQLite FTS5 MATCH expression: terms ANDed, then NOT each excluded term."""
        expression = " AND ".join(_fts5_term(t) for t in self.wanted)
        for term in self.terms:
            if term.exclude:
                expression += f" NOT {_fts5_term(term)}"
        return expression

    def tsquery(self) -> str:
        """The PostgreSQL tsquery text (for `to_tsquery('simple', ...)`)."""
        parts = [_ts_term(t) for t in self.wanted]
        parts += [f"!{_ts_term(t)}" for t in self.terms if t.exclude]
        return " & ".join(parts)


_K1 = 1.2
_B = 0.75


def rank_scores(
    query: SearchQuery, titles: Sequence[str], bodies: Sequence[str], *, title_weight: float
) -> list[float]:
    """BM25-style scores of candidate documents, given as token strings (higher is better).

    Each wanted phrase counts its occurrences in a title and a body, saturated (k1 = 1.2) and
    normalised by the field's length in characters against the candidates' average (b =
    0.75); the title's part is multiplied by `title_weight`. Every candidate contains every
    wanted term, so the terms' rarity would weigh all candidates alike and is left out.
    """
    scores = [0.0] * len(titles)
    for texts, weight in ((titles, title_weight), (bodies, 1.0)):
        mean = max(sum(map(len, texts)) / max(len(texts), 1), 1.0)
        norms = [_K1 * (1 - _B + _B * len(text) / mean) for text in texts]
        for term in query.wanted:
            for phrase in term.phrases:
                needle = " ".join(phrase.tokens)
                for i, found in enumerate(text.count(needle) for text in texts):
                    if found:
                        scores[i] += weight * found * (_K1 + 1) / (found + norms[i])
    return scores


def _fts5_term(term: QueryTerm) -> str:
    phrases = ['"' + " ".join(p.tokens) + '"' + ("*" if p.prefix else "") for p in term.phrases]
    return phrases[0] if len(phrases) == 1 else "(" + " AND ".join(phrases) + ")"


def _ts_term(term: QueryTerm) -> str:
    phrases = []
    for phrase in term.phrases:
        quoted = [f"'{t}'" for t in phrase.tokens]
        if phrase.prefix:
            quoted[-1] += ":*"
        phrases.append(" <-> ".join(quoted))
    return (
        "(" + " & ".join(phrases) + ")" if len(phrases) > 1 or "<->" in phrases[0] else phrases[0]
    )


def _phrases(written: str) -> tuple[Phrase, ...]:
    """The phrases of one query term (see QueryTerm)."""
    found: list[Phrase] = []
    current: list[str] = []
    for i, part in enumerate(_CJK_SPLIT.split(fold(written))):
        if not part:
            continue
        if i % 2 and len(part) == 1:
            found.append(Phrase((*current, part), prefix=True))
            current = []
        else:
            current.extend(_tokens_of_folded(part))
    if current:
        found.append(Phrase(tuple(current)))
    return tuple(found)


def parse_query(text: str) -> SearchQuery:
    """Parse a user's query; raises QueryError when nothing in it can be searched for."""
    text = " ".join(text.split())
    if not text:
        raise QueryError("empty query: give a word to search for")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long: at most {MAX_QUERY_CHARS} characters")
    terms: list[QueryTerm] = []
    for match in _QUERY_RE.finditer(text):
        minus_quoted, quoted, minus, bare = match.groups()
        written = quoted if quoted is not None else bare
        phrases = _phrases(written)
        if not phrases:
            continue
        term = QueryTerm(written, phrases, exclude=bool(minus_quoted or minus))
        if term not in terms:
            terms.append(term)
    if len(terms) > MAX_TERMS:
        raise QueryError(f"too many terms: at most {MAX_TERMS}")
    query = SearchQuery(text, tuple(terms))
    if not query.wanted:
        if terms:
            raise QueryError(f"nothing to find in {text!r}: every term is excluded")
        raise QueryError(f"nothing to search for in {text!r}: no letters, digits or characters")
    return query


_RELATIVE = re.compile(r"(\d{1,5})([hdw])")
_RELATIVE_UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400}


def parse_when(value: str, now: datetime, *, end_of_day: bool = False) -> datetime:
    """A date filter: YYYY-MM-DD, an ISO 8601 time (UTC unless it says), or 24h / 7d / 2w ago.

    With `end_of_day`, a bare date means the end of that day (for "until"). Raises QueryError.
    """
    value = value.strip()
    relative = _RELATIVE.fullmatch(value)
    if relative:
        return now - timedelta(seconds=int(relative.group(1)) * _RELATIVE_UNITS[relative.group(2)])
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise QueryError(
            f"bad date {value!r}: use YYYY-MM-DD, an ISO 8601 time, or 24h, 7d, 2w"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end_of_day and len(value) == 10:
        moment += timedelta(days=1)
    return moment.astimezone(UTC)
