"""Feed documents → `ParsedFeed`: the entry point, and the feedparser path.

Stages of `parse_feed`, in order:

1. an empty body is a `ParseError` ("empty document");
2. JSON (by content type, or a body starting with "{") goes to our JSON Feed reader;
3. unless another charset is declared, the lxml fast path (`parse_fast.parse`) first reads
   the body as UTF-8 (most bodies are; lxml rejects any invalid UTF-8 byte, which is the
   test `encoding.decode` applies first): well-formed RSS/RDF/Atom 1.0 it fully
   understands gives the final answer;
4. otherwise the body is decoded (`encoding.decode`: BOM, verified declared charset,
   detection) and re-encoded as UTF-8 with a fixed XML declaration and without the control
   characters XML forbids, and the fast path tries again on that, so a GBK body declared
   as UTF-8 still reads right;
5. otherwise feedparser reads it, with its own sanitizing and relative-URI resolution off
   (normalize sanitizes with nh3 and resolves against `base`); a document it had to salvage
   carries `problem`, and is read once more with its bare "&"s escaped (outside CDATA),
   so "R&D" does not come out as "R&D;"; `<skipHours>`/`<skipDays>`, of which feedparser
   keeps only the last value, are read from the bytes (`skip_values`);
6. a document with no feed in it is a `NotAFeedError` when it is an HTML page, else a
   `ParseError` (malformed) or `NotAFeedError` (well-formed, but something else).

Field meanings are defined once, in `parse_fields`, for both XML paths.
"""

from __future__ import annotations

import io
import re
import xml.sax
from html import unescape
from typing import Any

import feedparser

from aggregator import jsonfeed, parse_fast
from aggregator.encoding import codec_name, decode
from aggregator.errors import NotAFeedError, ParseError
from aggregator.models import ParsedFeed
from aggregator.parse_fields import build_feed

__all__ = ["parse_feed", "parse_with_feedparser", "prepare_xml", "skip_values"]

_DECLARATION = re.compile(rb"^[ \t\r\n]*<\?xml[^>]*\?>")
_SAYS_UTF8 = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']utf-?8["']""", re.IGNORECASE)
_UTF8_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_HTML_START = re.compile(
    r"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b",
    re.IGNORECASE | re.DOTALL,
)
_HEADERS = {"content-type": "application/xml; charset=utf-8"}
# For <skipHours>/<skipDays>, which feedparser keeps only the last value of: comments,
# processing instructions and CDATA first (CDATA's text escaped, so markup in it is not
# taken for elements), then each channel without its items, then the skip elements in it
# and their values.
_COMMENT_OR_CDATA = re.compile(rb"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_SKIP_START = re.compile(rb"<skip(?:hours|days)", re.I)
_CHANNEL_START = re.compile(rb"<channel(?:\s[^>]*?)?(?<!/)>", re.I)
_CHANNEL_END = re.compile(rb"</channel\s*>", re.I)
_ITEM = re.compile(rb"<(item|entry)(?:\s[^>]*?)?(?<!/)>.*?</\1\s*>", re.DOTALL | re.I)
_SKIP = re.compile(rb"<skip(hours|days)(?:\s[^>]*?)?(?<!/)>(.*?)</skip\1\s*>", re.DOTALL | re.I)
_SKIP_VALUE = {
    b"hours": re.compile(rb"<hour(?:\s[^>]*?)?(?<!/)>(.*?)</hour\s*>", re.DOTALL | re.I),
    b"days": re.compile(rb"<day(?:\s[^>]*?)?(?<!/)>(.*?)</day\s*>", re.DOTALL | re.I),
}
_BARE_AMPERSAND = re.compile(
    rb"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)|&(?!#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z_][\w.\-]*;)",
    re.DOTALL,
)


def parse_feed(
    body: bytes, *, url: str, content_type: str | None = None, charset: str | None = None
) -> ParsedFeed:
    """Parse a fetched feed document; fast path first, feedparser when in doubt."""
    return _parse(body, url=url, content_type=content_type, charset=charset, fast=True)


def parse_with_feedparser(
    body: bytes, *, url: str, content_type: str | None = None, charset: str | None = None
) -> ParsedFeed:
    """Parse like `parse_feed` but always on the feedparser path (the reference)."""
    return _parse(body, url=url, content_type=content_type, charset=charset, fast=False)


def prepare_xml(
    body: bytes, *, content_type: str | None = None, charset: str | None = None
) -> bytes:
    """Decode a body and re-encode it as UTF-8 XML with a matching declaration."""
    return _utf8_xml(decode(body, declared=charset, content_type=content_type))


def _may_be_utf8(body: bytes, charset: str | None) -> bool:
    """Worth reading as UTF-8 straight away: nothing declares another charset."""
    if codec_name(charset) not in (None, "utf-8"):
        return False
    m = _DECLARATION.match(body[3:] if body.startswith(b"\xef\xbb\xbf") else body)
    return m is None or b"encoding" not in m.group(0) or bool(_SAYS_UTF8.match(m.group(0)))


def _as_utf8(body: bytes) -> bytes:
    """The body as it would be if it is UTF-8 already: BOM dropped, declaration fixed."""
    return _fix_declaration(body[3:] if body.startswith(b"\xef\xbb\xbf") else body)


def _parse(
    body: bytes, *, url: str, content_type: str | None, charset: str | None, fast: bool
) -> ParsedFeed:
    if not body or body.isspace():
        raise ParseError(url, "empty document")
    media = _media_type(content_type)
    if jsonfeed.looks_like_json(body, media):
        text = decode(body, declared=charset, content_type=content_type)
        return jsonfeed.parse(text, url=url, media=media)
    if fast and _may_be_utf8(body, charset):
        found = parse_fast.parse(_as_utf8(body))
        if found is not None:
            return found
    text = decode(body, declared=charset, content_type=content_type)
    if not text.strip():
        raise ParseError(url, "empty document")
    data = _utf8_xml(text)
    if fast:
        found = parse_fast.parse(data)
        if found is not None:
            return found
    html = media in ("text/html", "application/xhtml+xml") or bool(_HTML_START.match(text[:4096]))
    return _with_feedparser(data, url=url, media=media, html=html)


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _utf8_xml(text: str) -> bytes:
    text = text.lstrip("\ufeff")
    if _FORBIDDEN.search(text):
        text = _FORBIDDEN.sub("", text)
    return _fix_declaration(text.encode("utf-8"))


def _fix_declaration(data: bytes) -> bytes:
    """Make the XML declaration (if any) say UTF-8 and stand first; UTF-8 is the default."""
    m = _DECLARATION.match(data)
    if m is None or _SAYS_UTF8.match(m.group(0)):
        return data
    # keep line numbers: the old declaration's line breaks stay
    return _UTF8_DECLARATION + b"\n" * m.group(0).count(b"\n") + data[m.end() :]


def _with_feedparser(data: bytes, *, url: str, media: str | None, html: bool) -> ParsedFeed:
    result = _feedparser(data, url)
    if result.get("bozo") and not html:
        repaired = _BARE_AMPERSAND.sub(_escape_ampersand, data)
        if repaired != data:
            second = _feedparser(repaired, url)
            if second.get("version"):
                second["bozo"], second["bozo_exception"] = True, result.get("bozo_exception")
                result = second
    version: str = result.get("version") or ""
    entries: list[Any] = list(result.get("entries") or [])
    feed: Any = result.get("feed") or {}
    problem = _problem(result.get("bozo_exception")) if result.get("bozo") else None
    feed["skip_hours"], feed["skip_days"] = skip_values(data)
    if not version:
        if html:
            raise NotAFeedError(url, "not a feed (got text/html)")
        if not entries:
            if problem:
                raise ParseError(url, f"not a feed: {problem}")
            got = media or "XML without an RSS, RDF or Atom root"
            raise NotAFeedError(url, f"not a feed (got {got})")
        version = "rss20"
    return build_feed(version, feed, entries, problem)


def _feedparser(data: bytes, url: str) -> Any:
    try:
        return feedparser.parse(
            io.BytesIO(data),
            response_headers=dict(_HEADERS),
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser's own bugs must not stop a pass
        raise ParseError(url, f"unreadable document ({type(exc).__name__})") from exc


def skip_values(data: bytes) -> tuple[list[str], list[str]]:
    """The raw texts of the `<hour>`s and `<day>`s in the `<skipHours>` and `<skipDays>` of
    each RSS channel (not of its items) of a UTF-8 XML document, read leniently."""
    if not _SKIP_START.search(data):
        return [], []
    text = _COMMENT_OR_CDATA.sub(_escaped_cdata, data)
    found: dict[bytes, list[str]] = {b"hours": [], b"days": []}
    for start in _CHANNEL_START.finditer(text):
        end = _CHANNEL_END.search(text, start.end())
        channel = text[start.end() : end.start() if end else len(text)]
        for skip in _SKIP.finditer(_ITEM.sub(b"", channel)):
            kind = skip.group(1).lower()
            for value in _SKIP_VALUE[kind].finditer(skip.group(2)):
                raw = value.group(1).decode("utf-8", "replace")
                found[kind].append(unescape(raw))
    return found[b"hours"], found[b"days"]


def _escaped_cdata(m: re.Match[bytes]) -> bytes:
    inner = m.group(1)
    if inner is None:  # a comment or processing instruction
        return b""
    return inner.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")


def _escape_ampersand(m: re.Match[bytes]) -> bytes:
    return m.group(1) or b"&amp;"


def _problem(exc: object) -> str:
    """One line saying why the document had to be salvaged."""
    if isinstance(exc, xml.sax.SAXParseException):
        return f"malformed XML: {exc.getMessage()} at line {exc.getLineNumber()}"
    text = " ".join(str(exc).split()) if exc is not None else ""
    return f"malformed document: {text or type(exc).__name__}"
