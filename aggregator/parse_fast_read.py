"""The fast path's reading of each element: what the reference records for it.

`document` walks a parsed tree with a `Walk` (its state and helpers live in
`parse_fast_walk`). Each known element has a handler here, chosen from a table for where
it stands (root, feed level, entry level, media group); each records exactly what the
reference parser would record for it, or raises `Doubt`. Elements not in the table must be
generic (checked by `Walk.generic`).
"""

from __future__ import annotations

import re

from lxml import etree

from aggregator.parse_fast_rules import (
    HTML_TYPES,
    TEXT_TYPES,
    Doubt,
    attributes,
    content_type,
    element_name,
    enforce_href,
    map_type,
    urljoin,
)
from aggregator.parse_fast_rules import NAME_CACHE as _NAMES
from aggregator.parse_fast_walk import (
    DepthMap,
    Handler,
    Record,
    Walk,
    add_tag,
    attrs_of,
    save_author,
    sync_author,
    text_of,
)

_AMP_ENTITY = re.compile(r"&([A-Za-z0-9_]+);")
_PERSON_PARTS = frozenset({"name", "email", "uri", "url", "homepage"})


def document(w: Walk, root: etree._Element, name: str) -> None:
    """Walk the whole document from its root element."""
    w.enter(root, name)
    if name == "rss":
        for child in root:
            w.child(child, 2, w.feed, None, _RSS_ROOT)
    elif name == "feed":
        for child in root:
            w.child(child, 2, w.feed, None, _FEED)
    else:
        for child in root:
            w.child(child, 2, w.feed, None, _RDF_ROOT)
    w.leave()


def channel(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """RSS <channel>: feed-level elements and, in RSS 2.0, the items."""
    attrs = attrs_of(el)
    if "href" in attrs or "lastmod" in attrs:
        raise Doubt("channel attributes")
    for child in el:
        w.child(child, depth + 1, w.feed, None, _FEED)


def entry(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """<item> or <entry>: a new entry record."""
    attrs = attrs_of(el)
    if "href" in attrs or "lastmod" in attrs:
        raise Doubt("item attributes")
    record: Record = {}
    depths: dict[str, int] = {}
    w.entries.append(record)
    w.guidislink = False
    w.title_depth = -1
    about = attrs.get("rdf:about")
    if about:
        record["id"] = about
    depth += 1
    track = w.track
    for child in el:  # `child` inlined: this loop runs for every element of every entry
        name = _NAMES.get(child.tag) or element_name(child)
        if track:
            w.enter(child, name)
        handler = _ENTRY.get(name)
        if handler is not None:
            handler(w, child, depth, record, depths)
        else:
            w.generic(child, name)
        if track:
            w.leave()
    w.has_content = False


# ---------------------------------------------------------------- handlers


def h_title(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """<title>, <dc:title>: the first non-empty title at an entry's level wins."""
    kind = content_type(attributes(el), "text/plain") if len(el.attrib) else "text/plain"
    value = w.construct(el, kind)
    if not -1 < w.title_depth <= depth:
        w.put(ctx, dm, "title", value, depth)
        ctx["title_detail"] = w.detail(kind, value)
    if value:
        w.title_depth = depth


def h_link(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """RSS <link> text, or an Atom-style link with href/rel/type."""
    attrs = dict(attrs_of(el))
    attrs.setdefault("rel", "alternate")
    attrs.setdefault("type", "application/atom+xml" if attrs["rel"] == "self" else "text/html")
    enforce_href(attrs)
    if "href" in attrs:
        attrs["href"] = urljoin(w.base, attrs["href"])
    links = ctx.setdefault("links", [])
    links.append(attrs)
    if len(el):
        raise Doubt("markup inside a link")
    if "href" in attrs:
        if attrs["rel"] == "alternate" and map_type(attrs["type"]) in HTML_TYPES:
            ctx["link"] = attrs["href"]
        return
    value = w.popped(el.text or "", resolve=True)
    if dm is not None:
        if "&" in value:
            value = _AMP_ENTITY.sub(r"&\1", value.replace("&amp;", "&"))
        ctx["link"] = value
        if value:
            links[-1]["href"] = value
    else:
        if "&" in value:
            value = _AMP_ENTITY.sub(r"&\1", value)
        ctx["link"] = value
        links[-1]["href"] = value


def h_guid(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """<guid>, <id>: the id; a permalink is also the link when there is none yet."""
    w.guidislink = attrs_of(el).get("ispermalink", "true") == "true"
    value = w.popped(text_of(el), resolve=w.guidislink)
    w.put(ctx, dm, "id", value, depth)
    if w.guidislink:
        ctx.setdefault("link", value)


def h_description(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """<description>: the summary (at feed level: the unread subtitle)."""
    if "summary" in ctx and not w.has_content:
        raise Doubt("second summary before content")
    kind = content_type(attributes(el), "text/html") if len(el.attrib) else "text/html"
    value = w.construct(el, kind)
    if dm is not None:
        w.put(ctx, dm, "summary", value, depth)
        ctx["summary_detail"] = w.detail(kind, value)


def h_summary(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """Atom <summary>."""
    if dm is None or ("summary" in ctx and not w.has_content):
        raise Doubt("summary here")
    kind = content_type(attrs_of(el), "text/plain")
    value = w.construct(el, kind)
    w.put(ctx, dm, "summary", value, depth)
    ctx["summary_detail"] = w.detail(kind, value)


def h_content(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """Atom <content>, <content:encoded>: appended to the content list."""
    if dm is None:
        raise Doubt("content outside an entry")
    w.has_content = True
    attrs = attrs_of(el)
    atom_content = element_name(el) == "content"  # content:encoded and fullitem are HTML
    kind = content_type(attrs, "text/plain" if atom_content else "text/html")
    detail = w.detail(kind, "")
    if atom_content and attrs.get("src"):
        detail["src"] = attrs["src"]
    value = w.construct(el, kind)
    detail["value"] = value
    ctx.setdefault("content", []).append(detail)
    if kind in TEXT_TYPES:
        ctx.setdefault("summary", value)


def h_published(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """pubDate, published, issued, dcterms:issued."""
    w.put(ctx, dm, "published", w.leaf(el), depth)


def h_updated(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """updated, modified, lastBuildDate, dc:date, dcterms:modified."""
    w.put(ctx, dm, "updated", w.leaf(el), depth)


def h_created(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """created, dcterms:created."""
    w.put(ctx, dm, "created", w.leaf(el), depth)


def h_author(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """An author: RSS text ("email (Name)") or an Atom person (name, email, uri)."""
    if dm is None:  # feed-level people are not read: only check their shape
        h_person(w, el, depth, ctx, dm)
        return
    ctx.setdefault("authors", []).append({})
    own = el.text or ""
    for child in el:
        name = element_name(child)
        w.enter(child, name)
        if name not in _PERSON_PARTS:
            raise Doubt(f"{name} inside an author")
        if name in ("name", "email"):
            save_author(ctx, name, text_of(child).strip())
        else:
            value = w.popped(text_of(child), resolve=True)
            w.put(ctx, dm, "href", value, depth + 1)
            save_author(ctx, "href", value)
        own += child.tail or ""
        w.leave()
    w.put(ctx, dm, "author", w.popped(own), depth)
    sync_author(ctx)


def h_person(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """A person element whose content is never read: only check its shape."""
    for child in el:
        name = element_name(child)
        if name not in _PERSON_PARTS:
            raise Doubt(f"{name} inside a person")
        w.enter(child, name)
        text_of(child)
        w.leave()


def h_category(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """<category>, <dc:subject>: a tag from term/scheme/label or the text."""
    attrs = attrs_of(el)
    if attrs:
        scheme = attrs.get("scheme", attrs.get("domain"))
        add_tag(ctx, attrs.get("term"), scheme, attrs.get("label"))
    else:
        ctx.setdefault("tags", [])
    value = w.leaf(el)
    if not value:
        return
    tags = ctx["tags"]
    if tags and not tags[-1]["term"]:
        tags[-1]["term"] = value
    else:
        add_tag(ctx, value, None, None)


def h_enclosure(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """RSS <enclosure>: a link with rel="enclosure" (its URL is not resolved)."""
    attrs = dict(attrs_of(el))
    enforce_href(attrs)
    attrs["rel"] = "enclosure"
    ctx.setdefault("links", []).append(attrs)
    if len(el):
        raise Doubt("markup inside an enclosure")


def h_source(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """RSS <source>: read by the reference, and it resets the title depth."""
    if dm is None or len(el):
        raise Doubt("structured source")
    w.title_depth = -1


def h_language(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """<language>, <dc:language>."""
    w.put(ctx, dm, "language", w.popped(text_of(el)), depth)


def h_ttl(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """RSS <ttl>, stored as text."""
    w.feed["ttl"] = w.popped(text_of(el))


def h_skip(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """RSS <skipHours>/<skipDays> of a channel: the raw text of each <hour>/<day> in it,
    appended to the feed's "skip_hours"/"skip_days" list. Anything unusual (in Atom, inside,
    or anywhere else: see READ_FROM_BYTES) is doubt; the other path reads them leniently."""
    name = element_name(el)
    if w.atom or len(el.attrib):
        raise Doubt(f"{name} in Atom or with attributes")
    part, key = ("hour", "skip_hours") if name == "skiphours" else ("day", "skip_days")
    found = w.feed.setdefault(key, [])
    for child in el:
        child_name = element_name(child)
        if child_name != part or len(child.attrib):
            raise Doubt(f"{child_name} inside {name}")
        w.enter(child, child_name)
        found.append(text_of(child))
        w.leave()


def h_text(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """An element whose text is stored but never read; it must hold no markup."""
    text_of(el)  # read and forgotten; must not hold markup


def h_box(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """<image>, <textinput>: only their own simple children; resets the title depth."""
    if dm is not None:
        raise Doubt("image or text input inside an entry")
    allowed = _BOX_PARTS[element_name(el)]
    w.title_depth = -1
    for child in el:
        name = element_name(child)
        if name not in allowed or child.keys():
            raise Doubt(f"{name} inside an image or text input")
        w.enter(child, name)
        if name == "title" and text_of(child).strip():
            w.title_depth = depth + 1
        text_of(child)
        w.leave()


def h_media(w: Walk, el: etree._Element, depth: int, ctx: Record, dm: DepthMap) -> None:
    """media:content, media:group, media:thumbnail: stored, never read."""
    if element_name(el) == "media:thumbnail":
        text_of(el)
        return
    for child in el:
        w.child(child, depth + 1, ctx, dm, _MEDIA)


_DATES: dict[str, Handler] = {
    **dict.fromkeys(("pubdate", "published", "issued", "dcterms:issued"), h_published),
    **dict.fromkeys(
        ("updated", "modified", "lastbuilddate", "dc:date", "dcterms:modified"), h_updated
    ),
    **dict.fromkeys(("created", "dcterms:created"), h_created),
    "expirationdate": h_text,  # kept under its own key, never read
}
_BOX_PARTS = {
    "image": frozenset({"title", "link", "url", "width", "height", "description"}),
    "textinput": frozenset({"title", "link", "description", "name"}),
}

_COMMON: dict[str, Handler] = {
    "title": h_title,
    "dc:title": h_title,
    "link": h_link,
    "id": h_guid,
    "guid": h_guid,
    "description": h_description,
    "dc:description": h_description,
    "language": h_language,
    "dc:language": h_language,
    **_DATES,
    **dict.fromkeys(("author", "managingeditor", "dc:creator", "dc:author"), h_author),
    "contributor": h_person,
    **dict.fromkeys(
        ("dc:contributor", "webmaster", "dc:publisher", "rights", "copyright", "dc:rights"),
        h_text,
    ),
    "generator": h_text,
    "category": h_category,
    "dc:subject": h_category,
    **dict.fromkeys(("media:content", "media:group", "media:thumbnail"), h_media),
}
_FEED: dict[str, Handler] = {
    **_COMMON,
    "ttl": h_ttl,
    "skiphours": h_skip,
    "skipdays": h_skip,
    **dict.fromkeys(("subtitle", "tagline", "info"), h_text),
    "cloud": h_text,
    "image": h_box,
    "textinput": h_box,
    "item": entry,
    "entry": entry,
}
_ENTRY: dict[str, Handler] = {
    **_COMMON,
    "summary": h_summary,
    "content": h_content,
    "content:encoded": h_content,
    "fullitem": h_content,
    "enclosure": h_enclosure,
    "source": h_source,
}
_RSS_ROOT: dict[str, Handler] = {"channel": channel}
_RDF_ROOT: dict[str, Handler] = {
    "channel": channel,
    "item": entry,
    "image": h_box,
    "textinput": h_box,
}
_MEDIA: dict[str, Handler] = {
    "media:content": h_media,
    "media:thumbnail": h_media,
}
