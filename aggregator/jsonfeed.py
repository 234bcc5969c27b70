"""JSON Feed 1.0 and 1.1 → `ParsedFeed`, read by us (feedparser does not read JSON Feed).

Stages of `parse`: decode the JSON; check it is a JSON Feed (a jsonfeed.org `version` URL and
an `items` list; JSON that has neither is "not a feed"); read the feed-level fields; read each
item. The version URL decides the format: ".../version/1" is json10, anything later json11.

Item fields: `id` (numbers coerced to strings, as the spec says), `url` else `external_url`
as the link, `title` as plain text, `content_html` as content (else `content_text`,
HTML-escaped), `summary` (plain text, HTML-escaped), `date_published`/`date_modified`
(RFC 3339), `authors` (1.1) or `author` (1.0), else the feed's, as names (else their URL),
`tags`, `attachments` as enclosures, and `language` (1.1) else the feed's language.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

from aggregator.errors import NotAFeedError, ParseError
from aggregator.models import Enclosure, ParsedEntry, ParsedFeed
from aggregator.parse_dates import parse_date
from aggregator.parse_fields import clean_text

JSON_TYPES = frozenset(
    {"application/json", "application/feed+json", "text/json", "application/x-json"}
)
_VERSION = re.compile(r"^https?://jsonfeed\.org/version/(\d+(?:\.\d+)*)/?$")


def looks_like_json(body: bytes, media: str | None) -> bool:
    """Is this body JSON, by its media type or its first character?"""
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start in (b"{", b"["):
        return True
    return media in JSON_TYPES and start != b"<"


def parse(text: str, *, url: str, media: str | None = None) -> ParsedFeed:
    """Read a JSON Feed document; NotAFeedError for other JSON, ParseError for broken feeds."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            url, f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    got = media or "application/json"
    if not isinstance(doc, dict):
        raise NotAFeedError(url, f"not a feed (got {got})")
    version = doc.get("version")
    items = doc.get("items")
    matched = _VERSION.match(version) if isinstance(version, str) else None
    if matched is None and items is None:
        raise NotAFeedError(url, f"not a feed (got {got})")
    if version is None:
        raise ParseError(url, "JSON Feed has no 'version'")
    if matched is None:
        raise ParseError(url, f"JSON Feed has an unknown 'version': {str(version)[:80]!r}")
    if not isinstance(items, list):
        raise ParseError(url, "JSON Feed has no 'items' list")
    fmt = "json10" if matched.group(1) in ("1", "1.0") else "json11"
    language = _string(doc.get("language"))
    feed_authors = _authors(doc)
    entries: list[ParsedEntry] = []
    skipped = 0
    for item in items:
        if isinstance(item, dict):
            entries.append(_entry(item, language, feed_authors))
        else:
            skipped += 1
    problem = f"skipped {skipped} items that are not JSON objects" if skipped else None
    title = _string(doc.get("title"))
    return ParsedFeed(
        format=fmt,
        title=clean_text(title) or None if title else None,
        link=_string(doc.get("home_page_url")),
        language=language,
        entries=tuple(entries),
        problem=problem,
    )


def _entry(
    item: Mapping[str, Any], language: str | None, feed_authors: tuple[str, ...]
) -> ParsedEntry:
    content = _string(item.get("content_html"))
    if content is None:
        text = _string(item.get("content_text"))
        content = html.escape(text, quote=False) if text else None
    summary = _string(item.get("summary"))
    title = _string(item.get("title"))
    return ParsedEntry(
        id=_identifier(item.get("id")),
        link=_string(item.get("url")) or _string(item.get("external_url")),
        title=clean_text(title) or None if title else None,
        summary=html.escape(summary, quote=False) if summary else None,
        content=content,
        authors=_authors(item) or feed_authors,
        tags=_tag_list(item.get("tags")),
        enclosures=_attachments(item.get("attachments")),
        published=parse_date(_string(item.get("date_published"))),
        updated=parse_date(_string(item.get("date_modified"))),
        language=_string(item.get("language")) or language,
    )


def _string(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _identifier(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return _string(value)


def _authors(obj: Mapping[str, Any]) -> tuple[str, ...]:
    people = obj.get("authors")
    if not isinstance(people, list):
        single = obj.get("author")
        people = [single] if isinstance(single, dict) else []
    names: list[str] = []
    for person in people:
        if not isinstance(person, dict):
            continue
        name = clean_text(_string(person.get("name")) or "")
        if not name:
            link = _string(person.get("url")) or ""
            name = link.removeprefix("mailto:")
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _tag_list(tags: Any) -> tuple[str, ...]:
    if not isinstance(tags, list):
        return ()
    found: list[str] = []
    for tag in tags:
        name = clean_text(tag) if isinstance(tag, str) else ""
        if name and name not in found:
            found.append(name)
    return tuple(found)


def _attachments(attachments: Any) -> tuple[Enclosure, ...]:
    if not isinstance(attachments, list):
        return ()
    found: list[Enclosure] = []
    for att in attachments:
        if not isinstance(att, dict):
            continue
        link = _string(att.get("url"))
        if not link:
            continue
        size = att.get("size_in_bytes")
        length = size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else None
        found.append(
            Enclosure(
                url=link,
                type=_string(att.get("mime_type")),
                length=length,
                title=_string(att.get("title")),
            )
        )
    return tuple(found)
