"""OPML subscription lists ↔ sources: `aggregator opml import` and `opml export`.

    read_opml(data)          OPML bytes → one `OpmlFeed` per outline with an xmlUrl, in
                             document order; the titles of the outlines around it and its
                             `category` attribute (comma-separated, "/"-paths) are its
                             categories. A document declaring entities is refused;
                             nothing is fetched.
    import_sources(feeds)    → `NewSource`s: names from ASCII titles, else from the URL,
                             made unique; categories → tags; the title kept as a comment
    render_opml(sources)     configured sources → OPML 2.0: feeds as type="rss" outlines in a
                             folder per first tag, page sources as type="link" outlines

The source list of a site's readers (its topical feeds) is `pages.render_opml`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from aggregator.configedit import NewSource, source_name, unique_name
from aggregator.errors import ParseError
from aggregator.feedmeta import xml_text
from aggregator.models import SourceConfig


@dataclass(frozen=True)
class OpmlFeed:
    """One feed outline of an OPML file; from opml to `opml import`."""

    url: str  # its xmlUrl, as written
    title: str | None = None  # its title, else its text
    categories: tuple[str, ...] = ()  # enclosing folders, then its category attribute


def read_opml(data: bytes, name: str) -> list[OpmlFeed]:
    """The feed outlines of the OPML document `data` (named `name` in errors)."""
    if b"<!ENTITY" in data:  # no entity expansion (and no "billion laughs")
        raise ParseError(name, "entity declarations are not accepted")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(name, f"not well-formed XML: {exc.msg}") from None
    if not isinstance(root.tag, str) or root.tag.lower() != "opml":
        raise ParseError(name, f"not an OPML document (root element <{root.tag}>)")
    body = root.find("body")
    if body is None:
        raise ParseError(name, "not an OPML document (no <body>)")
    return list(_walk(body, ()))


def _walk(parent: etree._Element, folders: tuple[str, ...]) -> Iterable[OpmlFeed]:
    for outline in parent:
        if not isinstance(outline.tag, str) or outline.tag != "outline":
            continue
        title = _clean(outline.get("title")) or _clean(outline.get("text"))
        url = _clean(outline.get("xmlUrl") or outline.get("xmlurl"))
        if url:
            categories = (*folders, *_categories(outline.get("category")))
            yield OpmlFeed(url=url, title=title, categories=tuple(dict.fromkeys(categories)))
        yield from _walk(outline, (*folders, title) if title and not url else folders)


def _categories(value: str | None) -> list[str]:
    found: list[str] = []
    for path in (value or "").split(","):
        found += [part for part in (_clean(p) for p in path.split("/")) if part]
    return found


def _clean(value: str | None) -> str | None:
    cleaned = " ".join((value or "").split())
    return cleaned or None


def tag_of(category: str) -> str:
    """A category as a tag: lower-cased, spaces made '-'."""
    return "-".join(category.lower().split())


def import_sources(feeds: Sequence[OpmlFeed], taken: Iterable[str]) -> list[NewSource]:
    """A new source per feed (the first of each URL), named uniquely beside `taken`."""
    names = set(taken)
    seen: set[str] = set()
    found: list[NewSource] = []
    for feed in feeds:
        if feed.url in seen:
            continue
        seen.add(feed.url)
        name = unique_name(source_name(feed.url, feed.title), names)
        names.add(name)
        tags = tuple(dict.fromkeys(tag_of(c) for c in feed.categories))
        comments = (feed.title,) if feed.title else ()
        found.append(NewSource(name=name, url=feed.url, tags=tags, comments=comments))
    return found


def render_opml(sources: Sequence[SourceConfig], *, title: str, now: datetime) -> bytes:
    """An OPML 2.0 list of `sources` (see the module docstring)."""
    folders: dict[str, list[str]] = {}
    loose: list[str] = []
    for source in sources:
        line = _outline(source)
        if source.tags:
            folders.setdefault(source.tags[0], []).append(line)
        else:
            loose.append(line)
    body: list[str] = []
    for tag, lines in folders.items():
        body.append(f'    <outline text="{_e(tag)}" title="{_e(tag)}">')
        body += ["  " + line for line in lines]
        body.append("    </outline>")
    body += loose
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<opml version="2.0">\n'
        "  <head>\n"
        f"    <title>{_e(title)}</title>\n"
        f"    <dateCreated>{format_datetime(now, usegmt=True)}</dateCreated>\n"
        "    <docs>http://opml.org/spec2.opml</docs>\n"
        "  </head>\n"
        "  <body>\n" + "".join(line + "\n" for line in body) + "  </body>\n"
        "</opml>\n"
    )
    return text.encode("utf-8")


def _outline(source: SourceConfig) -> str:
    name = _e(source.name)
    category = f' category="{_e(",".join("/" + t for t in source.tags))}"' if source.tags else ""
    if source.type == "page":
        return f'    <outline type="link" text="{name}" url="{_e(source.url)}"{category}/>'
    return f'    <outline type="rss" text="{name}" xmlUrl="{_e(source.url)}"{category}/>'


def _e(text: str) -> str:
    return html.escape(xml_text(text), quote=True)
