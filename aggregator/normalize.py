"""Normalize: a `ParsedEntry` as the document gave it → an `Article` ready to store.

`normalize_entry` runs these stages in order; each is a pure function of the entry, its
feed, its source and `now`:

    bases      the document base is the entry's xml:base (resolved on the feed URL), else
               the feed URL; links and enclosures resolve on it. The HTML base is the
               xml:base, else the entry's link, else the feed URL
    url        the link made canonical (see `urls`); kept only when it is http(s)
    html       summary and content sanitized with relative URLs resolved (see `html`);
               a summary equal to the content is kept as it is
    text       plain text of the content, else of the summary
    title      entities decoded, tags stripped when the title is HTML, whitespace collapsed;
               when empty, the first line of the text (80 characters at most), else
               "(untitled)"
    dates      naive dates are read in the source's time zone (else UTC); all are stored as
               aware UTC. A date more than FUTURE_SLACK ahead of `now` is not believed, so
               a feed dated 2099 cannot pin itself to the top of a feed. published = the
               entry's published, else its updated (the first believable one), else `now`
               (flagged `date_is_first_seen`); updated = the entry's updated if believable,
               else None
    lists      authors and tags: whitespace collapsed, empty ones dropped, duplicates
               (ignoring case) dropped, order kept; enclosures: made absolute on the
               document base, kept when http(s) or ftp, one per URL
    language   see `language.choose_language`: entry, feed, source, else a guess
    id         the entry's id (stripped), else its canonical link, else "sha1:" + the SHA-1
               of title and date (of the text too when both are empty); never from `now`
    hash       SHA-256 over what a reader sees (title, url, summary, content, authors, tags,
               enclosures, the entry's own published and updated dates), never `now`

No text leaves with a lone surrogate (JSON can escape one; UTF-8 cannot hold it): each
becomes U+FFFD.

`normalize_feed` maps the entries in document order and keeps the first of each id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from html import unescape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregator.html import html_to_text, sanitize_html, text_from_sanitized, without_surrogates
from aggregator.language import choose_language
from aggregator.models import Article, Enclosure, ParsedEntry, ParsedFeed, PolicyInfo
from aggregator.urls import absolute_url, canonical_url

__all__ = [
    "FUTURE_SLACK",
    "TITLE_FROM_TEXT_CHARS",
    "UNTITLED",
    "SourceContext",
    "canonical_url",
    "html_to_text",
    "normalize_entry",
    "normalize_feed",
    "sanitize_html",
]

FUTURE_SLACK = timedelta(days=1)
"""How far ahead of `now` an entry's date may be and still be believed."""

TITLE_FROM_TEXT_CHARS = 80
"""The longest title made from an untitled entry's text."""

UNTITLED = "(untitled)"
"""The title of an entry with neither title nor text."""

_ENCLOSURE_SCHEMES = ("http://", "https://", "ftp://")


@dataclass(frozen=True)
class SourceContext:
    """What normalize needs to know about the source an entry came from."""

    name: str
    url: str  # the feed's URL (base of last resort for relative links)
    timezone: str | None = None  # IANA; zone-less dates are read in it (else UTC)
    language: str | None = None  # from the source config


def normalize_feed(feed: ParsedFeed, *, source: SourceContext, now: datetime) -> list[Article]:
    """Every entry of `feed` normalized, in document order; the first of each id is kept."""
    articles: list[Article] = []
    seen: set[str] = set()
    for entry in feed.entries:
        article = normalize_entry(entry, feed=feed, source=source, now=now)
        if article.id not in seen:
            seen.add(article.id)
            articles.append(article)
    return articles


def normalize_entry(
    entry: ParsedEntry, *, feed: ParsedFeed, source: SourceContext, now: datetime
) -> Article:
    """One entry as an `Article` (see the module docstring for each rule)."""
    now = _to_utc(now, UTC) or now
    base = _absolute(entry.base, source.url)
    doc_base = base or source.url

    link = None
    if entry.link and not entry.link.isspace():
        link = canonical_url(without_surrogates(entry.link), doc_base)
    url = link if link is not None and link.startswith(("https://", "http://")) else None

    html_base = base or url or source.url
    summary = sanitize_html(entry.summary or "", html_base)
    content = sanitize_html(entry.content or "", html_base)
    text = text_from_sanitized(content or summary)

    own_title = _title(entry.title, is_html=entry.title_is_html)
    title = own_title or _title_from_text(text) or UNTITLED

    zone = _zone(source.timezone)
    entry_published = _to_utc(entry.published, zone)
    entry_updated = _to_utc(entry.updated, zone)
    latest = now + FUTURE_SLACK
    believable = [d for d in (entry_published, entry_updated) if d is not None and d <= latest]
    published = believable[0] if believable else now
    updated = entry_updated if entry_updated is not None and entry_updated <= latest else None

    authors = _clean_list(entry.authors)
    tags = _clean_list(entry.tags)
    enclosures = _enclosures(entry.enclosures, doc_base)
    language = choose_language((entry.language, feed.language, source.language), title, text)

    return Article(
        source=source.name,
        id=_stable_id(entry, link, own_title, entry_published or entry_updated, text),
        url=url,
        title=title,
        summary=summary,
        content=content,
        text=text,
        published=published,
        first_seen=now,
        content_hash=_content_hash(
            title,
            url,
            summary,
            content,
            authors,
            tags,
            enclosures,
            entry_published,
            entry_updated,
            entry.policy,
        ),
        updated=updated,
        date_is_first_seen=not believable,
        authors=authors,
        tags=tags,
        enclosures=enclosures,
        language=language,
        policy=entry.policy,
    )


# ---------------------------------------------------------------- stages


def _absolute(url: str | None, base: str) -> str | None:
    """`url` resolved on `base`, or None when there is none."""
    return absolute_url(without_surrogates(url), base) if url and not url.isspace() else None


def _title(raw: str | None, *, is_html: bool) -> str:
    if not raw:
        return ""
    text = html_to_text(raw) if is_html else unescape(without_surrogates(raw))
    return " ".join(text.split())


def _title_from_text(text: str) -> str:
    line = text.lstrip().split("\n", 1)[0].strip()
    if len(line) <= TITLE_FROM_TEXT_CHARS:
        return line
    space = line.rfind(" ", 0, TITLE_FROM_TEXT_CHARS)  # a word that ends at the limit fits
    end = space if space > TITLE_FROM_TEXT_CHARS // 2 else TITLE_FROM_TEXT_CHARS - 1
    return line[:end].rstrip() + "…"


@lru_cache(maxsize=64)
def _zone(name: str | None) -> tzinfo:
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # config validates names; be safe
        return UTC


def _to_utc(value: datetime | None, zone: tzinfo) -> datetime | None:
    """`value` as aware UTC, a naive one read in `zone`; None when absent or unrepresentable."""
    if value is None:
        return None
    try:
        if value.tzinfo is None or value.utcoffset() is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)
    except (OverflowError, ValueError):  # e.g. year 1 with a positive offset
        return None


def _clean_list(values: tuple[str, ...]) -> tuple[str, ...]:
    kept: list[str] = []
    seen: set[str] = set()
    for value in values:
        item = " ".join(without_surrogates(value).split()) if value else ""
        key = item.casefold()
        if item and key not in seen:
            seen.add(key)
            kept.append(item)
    return tuple(kept)


def _enclosures(enclosures: tuple[Enclosure, ...], base: str) -> tuple[Enclosure, ...]:
    kept: list[Enclosure] = []
    seen: set[str] = set()
    for enclosure in enclosures:
        url = _absolute(enclosure.url, base) or ""
        if not url.startswith(_ENCLOSURE_SCHEMES) or url in seen:
            continue
        seen.add(url)
        kept.append(
            Enclosure(
                url=url,
                type=without_surrogates(enclosure.type or "").strip().lower() or None,
                length=enclosure.length
                if enclosure.length is not None and enclosure.length >= 0
                else None,
                title=" ".join(without_surrogates(enclosure.title or "").split()) or None,
            )
        )
    return tuple(kept)


def _stable_id(
    entry: ParsedEntry, link: str | None, title: str, date: datetime | None, text: str
) -> str:
    guid = without_surrogates(entry.id.strip()) if entry.id else ""
    if guid:
        return guid
    if link:
        return link
    date_string = date.isoformat() if date is not None else ""
    key = f"{title}\n{date_string}" if title or date_string else f"\n\n{text}"
    return "sha1:" + hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()


def _content_hash(
    title: str,
    url: str | None,
    summary: str,
    content: str,
    authors: tuple[str, ...],
    tags: tuple[str, ...],
    enclosures: tuple[Enclosure, ...],
    published: datetime | None,
    updated: datetime | None,
    policy: PolicyInfo | None = None,
) -> str:
    enclosure_fields = (f"{e.url} {e.type} {e.length} {e.title}" for e in enclosures)
    fields: tuple[str, ...] = (
        title,
        url or "",
        summary,
        content,
        "\n".join(authors),  # whitespace inside these is collapsed to single spaces
        "\n".join(tags),
        "\n".join(enclosure_fields),
        published.isoformat() if published is not None else "",
        updated.isoformat() if updated is not None else "",
    )
    if policy is not None:  # only then, so that the hashes of feed entries stay as they were
        fields += (f"{policy.doc_number}|{policy.issuer}|{policy.written}|{policy.published}",)
    # Each field prefixed with its length, so that fields cannot run into each other.
    data = "".join(f"{len(field)}:{field}" for field in fields).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()
