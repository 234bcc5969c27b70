"""What each parsed field means: raw feed/entry records → `ParsedFeed` / `ParsedEntry`.

Both parse paths end here. The feedparser path hands over feedparser's own result dicts; the
lxml fast path builds dicts with the same keys and values for the documents it accepts. Only
these keys are read (so only they must agree):

    feed:  title, title_detail, link, links, language, ttl, skip_hours, skip_days
    entry: id, link, links, title, title_detail, summary, summary_detail, content, authors,
           tags, published, updated, created, language

The fields, as defined here for every XML format (JSON Feed has its own reader):

- ``format``: rss20 (RSS 2.x, or `<rss>` without a known version), rss09x (RSS 0.90–0.94),
  rss10 (RDF), atom10, atom03 (Atom 0.1–0.3).
- ``id``: RSS `<guid>`, Atom `<id>` or RDF `rdf:about`, whitespace-stripped. A permalink guid
  and an Atom id are resolved against the xml:base in effect, as feedparser does. None if empty.
- ``link``: the entry's alternate link: the last of RSS `<link>` and Atom/atom:link
  rel="alternate" with an HTML type; failing those, a permalink guid or Atom id. Kept when it
  is an absolute http(s) URL, or a relative URL that came from a link element (resolve it
  against ``base``, else the document URL); anything else (urn:, tag:, bare numbers) is None.
- ``title``: plain text. Atom titles typed html/xhtml, and RSS titles that look like HTML (an
  end tag, a common inline or void tag such as `<b>`/`<br>`/`<img>`, or an entity
  reference), have their tags dropped and entities decoded; all whitespace runs become one
  space. ``title_is_html`` is always False.
- ``summary`` / ``content``: HTML fragments. RSS `<description>`/`<dc:description>` →
  summary, `<content:encoded>` → content, Atom `<summary>` → summary, the first Atom
  `<content>` → content. RSS bodies are HTML. Atom type="text" bodies are HTML-escaped,
  type="html" are as given, type="xhtml" are the serialized markup without the wrapping div
  (empty void elements written "<br>", not "<br></br>").
  Out-of-line (src=) and non-text content is None. Summary is never copied from content.
- ``base``: the xml:base in effect on that content (else summary, else title) element, as
  feedparser tracks it; None when none applies. No document URL is used.
- ``authors``: display strings in document order, duplicates dropped: each author's name,
  else email. RSS `<author>` "jane@example.com (Jane Doe)" gives "Jane Doe".
- ``tags``: each category's label, else its term; stripped; duplicates dropped.
- ``enclosures``: RSS `<enclosure>` and Atom `<link rel="enclosure">` with a URL; length is a
  positive integer or None.
- ``published``: the first readable of: pubDate/published/issued/dcterms:issued, then
  dcterms:created, then the updated date. ``updated``: dc:date/updated/modified/
  dcterms:modified. Aware when the string gives a zone, naive otherwise; "CST" is China
  Standard Time when the entry or feed language is Chinese or the entry or feed title has
  CJK characters, else US Central.
- ``language``: an item `<language>`/`<dc:language>`, else the xml:lang in effect on the
  entry's content, summary or title.
- Feed ``title``/``link`` follow the entry rules; ``language`` is the root's xml:lang,
  replaced by a channel `<language>`/`<dc:language>`; ``ttl`` is `<ttl>` as whole minutes.
- ``skip_hours`` / ``skip_days``: the `<hour>` / `<day>` values of the `<skipHours>` /
  `<skipDays>` elements of an RSS channel (not of its items), sorted, duplicates dropped.
  Hours are whole numbers 0–23 (GMT, as RSS 2.0 says); days are the English day names in any
  case, as weekday numbers (Monday = 0). Surrounding whitespace is ignored; any other value
  is dropped. The records carry the raw texts as lists: the fast path reads them from the
  tree, the feedparser path (which keeps only the last of each) with `parse.skip_values`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aggregator.models import Enclosure, ParsedEntry, ParsedFeed
from aggregator.parse_dates import parse_date

Record = Mapping[str, Any]


def _updated(record: Record) -> Any:
    """The raw updated date; a plain lookup, as feedparser's dict falls back to "published"."""
    return dict.get(record, "updated") if isinstance(record, dict) else record.get("updated")


HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

_FORMATS = {
    "rss20": "rss20",
    "rss": "rss20",
    "rss090": "rss09x",
    "rss091n": "rss09x",
    "rss091u": "rss09x",
    "rss092": "rss09x",
    "rss093": "rss09x",
    "rss094": "rss09x",
    "rss10": "rss10",
    "atom10": "atom10",
    "atom": "atom10",
    "atom01": "atom03",
    "atom02": "atom03",
    "atom03": "atom03",
}

_END_TAG = re.compile(
    r"</[A-Za-z][A-Za-z0-9]*\s*>"
    r"|<(?:a|b|big|br|code|em|font|hr|i|img|p|small|span|strong|sub|sup|u)\b[^>]*>",
    re.IGNORECASE,
)
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_TAG = re.compile(r"<!--.*?-->|<(/?)([A-Za-z][A-Za-z0-9]*)(?:\s[^>]*)?/?>|<![^>]*>", re.DOTALL)
_BLOCK = frozenset(
    {"br", "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td"}
    | {"th", "table", "blockquote", "pre", "hr", "section"}
)
_VOID_PAIR = re.compile(
    r"<(area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr)((?:\s[^>]*)?)></\1>"
)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_DAYS = {
    name: number
    for number, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}


def format_name(version: str) -> str:
    """Our format name for a feedparser-style version string ("rss091u" → "rss09x")."""
    found = _FORMATS.get(version)
    if found is None:  # versions feedparser knows but we do not name (e.g. "cdf")
        found = "atom10" if version.startswith("atom") else "rss20"
    return found


def clean_text(text: str) -> str:
    """Collapse every whitespace run to one space and strip."""
    return " ".join(text.split())


def html_to_text(fragment: str) -> str:
    """Drop tags and comments, decode entities, collapse whitespace."""

    def tag(m: re.Match[str]) -> str:
        name = m.group(2)
        return " " if name and name.lower() in _BLOCK else ""

    return clean_text(html.unescape(_TAG.sub(tag, fragment)))


def looks_like_html(text: str) -> bool:
    """Our rule for RSS text fields: an end tag, a common inline tag, or an entity."""
    return bool(_END_TAG.search(text) or _ENTITY.search(text))


def build_feed(
    version: str, feed: Record, entries: Sequence[Record], problem: str | None = None
) -> ParsedFeed:
    """Map one feed record and its entry records to a `ParsedFeed`."""
    atom = version.startswith("atom")
    language = _text_or_none(feed.get("language"))
    title = _title(feed.get("title"), feed.get("title_detail"), atom)
    chinese = (language or "").lower().startswith("zh") or bool(title and _CJK.search(title))
    return ParsedFeed(
        format=format_name(version),
        title=title,
        link=_link(feed),
        language=language,
        ttl=_whole_number(feed.get("ttl")),
        skip_hours=_skip_hours(feed.get("skip_hours")),
        skip_days=_skip_days(feed.get("skip_days")),
        entries=tuple(build_entry(e, atom=atom, chinese=chinese) for e in entries),
        problem=problem,
    )


def build_entry(entry: Record, *, atom: bool, chinese: bool = False) -> ParsedEntry:
    """Map one entry record to a `ParsedEntry` (see the module docstring for each field);
    `chinese` says the feed is Chinese (it decides what "CST" means)."""
    contents = entry.get("content")
    content_detail: Record | None = contents[0] if contents else None
    summary_detail: Record | None = entry.get("summary_detail")
    title_detail: Record | None = entry.get("title_detail")
    title = _title(entry.get("title"), title_detail, atom)
    summary = content = base = language = None
    if content_detail is not None:
        content = _body(content_detail.get("value"), content_detail, atom)
        base = content_detail.get("base")
        language = content_detail.get("language")
    if summary_detail is not None:
        summary = _body(entry.get("summary"), summary_detail, atom)
        base = base or summary_detail.get("base")
        language = language or summary_detail.get("language")
    if title_detail is not None:
        base = base or title_detail.get("base")
        language = language or title_detail.get("language")
    language = _text_or_none(entry.get("language")) or language or None
    if not chinese:
        chinese = (language or "").lower().startswith("zh") or bool(title and _CJK.search(title))
    cst = 8.0 if chinese else -6.0
    updated = parse_date(_str(_updated(entry)), cst_hours=cst)
    published = parse_date(_str(entry.get("published")), cst_hours=cst) or parse_date(
        _str(entry.get("created")), cst_hours=cst
    )
    return ParsedEntry(
        id=_text_or_none(entry.get("id")),
        link=_link(entry),
        title=title,
        summary=summary,
        content=content,
        base=base or None,
        authors=_authors(entry.get("authors")),
        tags=_tags(entry.get("tags")),
        enclosures=_enclosures(entry.get("links")),
        published=published or updated,
        updated=updated,
        language=language,
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _text_or_none(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _title(value: Any, detail: Record | None, atom: bool) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    is_html = (detail or {}).get("type") in HTML_TYPES if atom else looks_like_html(value)
    return (html_to_text(value) if is_html else clean_text(value)) or None


def _body(value: Any, detail: Record, atom: bool) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    kind = detail.get("type") or "text/plain"
    if kind == "application/xhtml+xml":  # serialized XML: "<br></br>" is two breaks in HTML
        return _VOID_PAIR.sub(r"<\1\2>", value)
    if not atom or kind in HTML_TYPES:
        return value
    if kind.startswith("text/"):
        return html.escape(value, quote=False)
    return None


def _link(record: Record) -> str | None:
    raw = record.get("link")
    if not isinstance(raw, str) or not raw.strip():
        return None
    link = raw.strip()
    m = _SCHEME.match(link)
    scheme = m.group(1).lower() if m else ""
    if scheme in ("http", "https"):
        return link
    if scheme:
        return None
    links = record.get("links") or ()
    from_element = any(
        isinstance(x, Mapping) and x.get("rel") == "alternate" and x.get("href") == raw
        for x in links
    )
    return link if from_element else None


def _authors(authors: Any) -> tuple[str, ...]:
    found: list[str] = []
    for author in authors or ():
        if not isinstance(author, Mapping):
            continue
        name = clean_text(author.get("name") or "") or clean_text(author.get("email") or "")
        if name and name not in found:
            found.append(name)
    return tuple(found)


def _tags(tags: Any) -> tuple[str, ...]:
    found: list[str] = []
    for tag in tags or ():
        if not isinstance(tag, Mapping):
            continue
        name = clean_text(tag.get("label") or "") or clean_text(tag.get("term") or "")
        if name and name not in found:
            found.append(name)
    return tuple(found)


def _enclosures(links: Any) -> tuple[Enclosure, ...]:
    found: list[Enclosure] = []
    seen: set[str] = set()
    for link in links or ():
        if not isinstance(link, Mapping) or link.get("rel") != "enclosure":
            continue
        url = (link.get("href") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        found.append(
            Enclosure(
                url=url,
                type=_text_or_none(link.get("type")),
                length=_whole_number(link.get("length"), positive=True),
                title=_text_or_none(link.get("title")),
            )
        )
    return tuple(found)


def _skip_hours(values: Any) -> tuple[int, ...]:
    if not isinstance(values, list | tuple):
        return ()
    hours = {_whole_number(v) for v in values}
    return tuple(sorted(h for h in hours if h is not None and h <= 23))


def _skip_days(values: Any) -> tuple[int, ...]:
    if not isinstance(values, list | tuple):
        return ()
    days = {_DAYS.get(v.strip().lower()) for v in values if isinstance(v, str)}
    return tuple(sorted(d for d in days if d is not None))


def _whole_number(value: Any, *, positive: bool = False) -> int | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    number = int(text)
    return None if positive and number == 0 else number
