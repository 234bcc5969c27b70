"""Publish topical feeds: RSS 2.0 and Atom 1.0 through feedgen, JSON Feed 1.1, static export.

    render_feed(fmt, info, items)   items ─► ordered, one per id ─► feedgen (RSS/Atom) or
                                    our JSON Feed writer ─► UTF-8 bytes
    write_static(out_dir, ...)      every feed in every format + index.html + topics/<slug>.html
                                    + opml.xml + static/ (the site as plain files)

Rendering is pure (no clock, no database): the same items give the same bytes. Things feedgen
does not write the way a merged feed needs (each item's original source, topic categories with
their scheme, dc:creator for RSS authors, per-entry xml:lang, enclosures: feedgen 1.0 drops
the rel of entry links) are added by a feedgen extension at the end of this module. feedgen
(and the lxml elements it hands its extensions) is used nowhere else.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from feedgen.feed import FeedGenerator
from lxml import etree

from aggregator import PROJECT_URL, __version__
from aggregator.feedmeta import (
    ALL_SLUG,
    FORMAT_EXTENSIONS,
    GENERATOR_NAME,
    GENERATOR_TEXT,
    ICON_PATH,
    ICON_SIZE,
    MEDIA_TYPES,
    FeedFormat,
    FeedInfo,
    FeedLinks,
    categories,
    dominant_language,
    feed_updated,
    item_content,
    item_id,
    item_title,
    item_updated,
    ordered,
    source_label,
    topic_title,
    utc,
    xml_text,
)
from aggregator.jsonfeed_out import render_json_feed
from aggregator.models import FeedItem, ServerConfig
from aggregator.pages import STATIC_FILES, render_index, render_opml, render_topic_page
from aggregator.storyfeed import with_also_reported

__all__ = [
    "FeedFormat",
    "FeedInfo",
    "render_feed",
    "render_index",
    "render_opml",
    "render_topic_page",
    "write_static",
]

_DC = "http://purl.org/dc/elements/1.1/"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_EXT = "aggregator"  # the name our feedgen extension is registered under


def render_feed(
    fmt: FeedFormat,
    info: FeedInfo,
    items: Sequence[FeedItem],
    *,
    server: ServerConfig,
    now: datetime,
    topic_titles: Mapping[str, str] | None = None,
    links: FeedLinks | None = None,
) -> bytes:
    """One feed document as UTF-8 bytes: items newest first, `now` only when there are none.

    `links` names the feed's own URLs (default: the topic feed's under the base URL).
    """
    chosen = ordered(items)
    links = links or FeedLinks(server.base_url, info.slug)
    if fmt == "json":
        return render_json_feed(
            info, chosen, server=server, now=now, topic_titles=topic_titles, links=links
        )
    generator = _feed_generator(fmt, info, chosen, links, server, now)
    for item in chosen:
        _add_entry(generator, item, links, topic_titles)
    if fmt == "rss":
        return bytes(generator.rss_str(pretty=False))
    return bytes(generator.atom_str(pretty=False))


def write_static(
    out_dir: Path,
    infos: Sequence[FeedInfo],
    items_by_slug: Mapping[str, Sequence[FeedItem]],
    *,
    server: ServerConfig,
    now: datetime,
) -> list[Path]:
    """Write the whole site as files under `out_dir`; return the paths written, in order.

    Feeds go to `feeds/<slug>.xml|.atom|.json`, pages to `index.html` and
    `topics/<slug>.html`, plus `opml.xml` and `static/`. The index lists the latest items of
    the "all" feed when `items_by_slug` has one, else of every feed merged.
    """
    titles = {info.slug: info.title for info in infos}
    files: dict[str, bytes] = {}
    for info in infos:
        items = items_by_slug.get(info.slug, ())
        for fmt, ext in FORMAT_EXTENSIONS.items():
            files[f"feeds/{info.slug}.{ext}"] = render_feed(
                fmt, info, items, server=server, now=now, topic_titles=titles
            )
        files[f"topics/{info.slug}.html"] = render_topic_page(
            info, items, server=server, topic_titles=titles, static=True
        )
    if ALL_SLUG in items_by_slug:
        latest = ordered(items_by_slug[ALL_SLUG])
    else:
        latest = ordered(item for items in items_by_slug.values() for item in items)
    files["index.html"] = render_index(
        infos, latest[: server.feed_limit], server=server, static=True
    )
    files["opml.xml"] = render_opml(infos, server=server)
    for name, data in STATIC_FILES.items():
        files[f"static/{name}"] = data
    written: list[Path] = []
    for relative, data in files.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


# ---------------------------------------------------------------- feedgen


def _feed_generator(
    fmt: FeedFormat,
    info: FeedInfo,
    items: Sequence[FeedItem],
    links: FeedLinks,
    server: ServerConfig,
    now: datetime,
) -> Any:
    generator = FeedGenerator()
    generator.register_extension(_EXT, _FeedExtension, _EntryExtension, atom=True, rss=True)
    generator.id(links.page)
    generator.title(xml_text(info.title) or info.slug)
    generator.description(xml_text(info.description) or xml_text(info.title) or info.slug)
    generator.link(href=links.feed(fmt), rel="self", type=MEDIA_TYPES[fmt])
    generator.link(href=links.page, rel="alternate", type="text/html")  # last: RSS <link>
    generator.author({"name": xml_text(server.title) or GENERATOR_NAME, "uri": links.home})
    generator.updated(feed_updated(items, now))
    generator.generator(GENERATOR_NAME, version=__version__, uri=PROJECT_URL)
    generator.icon(links.asset(ICON_PATH))
    if fmt == "rss":
        generator.image(
            url=links.asset(ICON_PATH),
            title=xml_text(info.title) or info.slug,
            link=links.page,
            width=str(ICON_SIZE),
            height=str(ICON_SIZE),
        )
    language = dominant_language(items)
    if language:
        generator.language(language)
    return generator


def _add_entry(
    generator: Any, item: FeedItem, links: FeedLinks, titles: Mapping[str, str] | None
) -> None:
    article = item.article
    entry = generator.add_entry(order="append")
    entry.guid(item_id(article.source, article.id), permalink=False)
    entry.title(item_title(item))
    url = _absolute(article.url)
    if url:
        entry.link(href=url, rel="alternate", type="text/html")
    entry.published(utc(article.published))
    entry.updated(item_updated(item))
    authors = [name for name in (xml_text(a).strip() for a in article.authors) if name]
    if authors:
        entry.author([{"name": name} for name in authors])
    summary, content = with_also_reported(item, xml_text(article.summary), item_content(item))
    if summary:
        entry.summary(summary, type="html")
    if content:
        entry.content(content, type="html")
    elif not url:  # Atom needs content or an alternate link
        text = summary or html.escape(xml_text(article.text) or item_title(item))
        entry.content(text, type="html")
    extras: _EntryExtension = getattr(entry, _EXT)
    extras.item = item
    extras.links = links
    extras.titles = titles
    extras.authors = authors


def _absolute(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL, else None."""
    if url and url.startswith(("http://", "https://")):
        return xml_text(url)
    return None


def _enclosures(item: FeedItem) -> list[dict[str, str]]:
    """The item's enclosures with absolute URLs, as RSS attributes (url, length, type)."""
    found = []
    for enclosure in item.article.enclosures:
        url = _absolute(enclosure.url)
        if url:
            kind = xml_text(enclosure.type or "") or "application/octet-stream"
            found.append({"url": url, "length": str(enclosure.length or 0), "type": kind})
    return found


def _sub(parent: Any, tag: str, text: str | None = None, **attributes: str) -> Any:
    element = etree.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


class _FeedExtension:
    """Feed-level additions: the dc namespace and a generator line with version and URL."""

    def extend_ns(self) -> dict[str, str]:
        return {"dc": _DC}

    def extend_rss(self, rss: Any) -> Any:
        generator = rss.find("channel/generator")
        if generator is not None:
            generator.text = GENERATOR_TEXT
        return rss

    def extend_atom(self, feed: Any) -> Any:
        return feed


class _EntryExtension:
    """Entry-level additions: source, categories, enclosures, RSS dc:creator, Atom xml:lang."""

    def __init__(self) -> None:
        self.item: FeedItem | None = None
        self.links: FeedLinks | None = None
        self.titles: Mapping[str, str] | None = None
        self.authors: list[str] = []

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_rss(self, element: Any) -> Any:
        if self.item is None or self.links is None:
            return element
        for name in self.authors:
            _sub(element, f"{{{_DC}}}creator", name)
        topics, tags = categories(self.item)
        for slug in topics:
            _sub(element, "category", slug, domain=self.links.topics_scheme)
        for tag in tags:
            _sub(element, "category", tag)
        source_url = _absolute(self.item.source_url)
        if source_url:
            _sub(element, "source", source_label(self.item), url=source_url)
        for enclosure in _enclosures(self.item)[:1]:  # RSS 2.0 allows one per item
            _sub(element, "enclosure", **enclosure)
        return element

    def extend_atom(self, element: Any) -> Any:
        if self.item is None or self.links is None:
            return element
        language = self.item.article.language
        if language:
            element.set(_XML_LANG, xml_text(language))
        topics, tags = categories(self.item)
        for slug in topics:
            label = xml_text(topic_title(slug, self.titles))
            _sub(element, "category", term=slug, scheme=self.links.topics_scheme, label=label)
        for tag in tags:
            _sub(element, "category", term=tag)
        for enclosure in _enclosures(self.item):
            href = enclosure.pop("url")
            if enclosure["length"] == "0":  # unknown: optional in Atom
                del enclosure["length"]
            _sub(element, "link", rel="enclosure", href=href, **enclosure)
        source_url = _absolute(self.item.source_url)
        if source_url:
            source = _sub(element, "source")
            _sub(source, "id", source_url)
            _sub(source, "title", source_label(self.item))
            _sub(source, "link", rel="self", href=source_url)
            home = _absolute(self.item.source_link)
            if home:
                _sub(source, "link", rel="alternate", type="text/html", href=home)
        return element
