"""The fast path's walk state: what the reference parser keeps while it reads a document.

`Walk` holds the xml:base and xml:lang in effect, the depth of the first title, whether the
last guid was a permalink, whether the entry has content yet, and the feed and entry records
being built; its helpers visit an element (`child`), check a generic one (`generic`), and
read text the way the reference stores it, including serialized XHTML. The handlers for
each element are in `parse_fast_read`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from aggregator.parse_fast_rules import (
    XHTML_NS,
    XML_NS,
    Doubt,
    attributes,
    element_name,
    escape_attr,
    escape_text,
    fix_latin,
    fix_text,
    is_generic,
    items,
    safe_absolute,
    split_author,
    urljoin,
)

Record = dict[str, Any]
DepthMap = dict[str, int] | None
Handler = Callable[["Walk", etree._Element, int, Record, DepthMap], None]

_SELF_JOINED: dict[str, str] = {}


def attrs_of(el: etree._Element) -> dict[str, str]:
    """The element's normalised attributes (`attributes`), cheaply when it has none."""
    return attributes(el) if len(el.attrib) else {}


def _same(text: str) -> str:
    return text


def text_of(el: etree._Element) -> str:
    """The text of an element that must hold no markup."""
    if len(el):
        raise Doubt("markup inside a text element")
    return el.text or ""


class Walk:
    """One document's walk; `feed` and `entries` hold the records when it is done."""

    def __init__(self, *, version: str, track: bool, latin: bool = True, c1: bool = True) -> None:
        self.atom = version == "atom10"
        self.track = track  # the document has xml:base/xml:lang-like attributes somewhere
        # The text fix-ups only touch U+0080–U+00FF; skip them when the document has none.
        self.fix: Callable[[str], str] = (fix_text if c1 else fix_latin) if latin else _same
        self.base = ""
        self.bases: list[str] = []
        self.lang: str | None = None
        self.langs: list[str | None] = []
        self.title_depth = -1
        self.guidislink = False
        self.has_content = False
        self.feed: Record = {}
        self.entries: list[Record] = []

    # ------------------------------------------------------------ document structure

    def child(
        self,
        el: etree._Element,
        depth: int,
        ctx: Record,
        dm: DepthMap,
        table: dict[str, Handler],
    ) -> None:
        """Visit one element: track base/lang, run its handler or check it is generic."""
        name = element_name(el)
        if self.track:
            self.enter(el, name)
        handler = table.get(name)
        if handler is not None:
            handler(self, el, depth, ctx, dm)
        else:
            self.generic(el, name)
        if self.track:
            self.leave()

    def generic(self, el: etree._Element, name: str) -> None:
        """An element with no special meaning; so must be everything inside it."""
        if not is_generic(name):
            raise Doubt(f"element {name} here")
        if len(el):
            for child in el:
                child_name = element_name(child)
                self.enter(child, child_name)
                self.generic(child, child_name)
                self.leave()

    def enter(self, el: etree._Element, name: str) -> None:
        """Start tag: the xml:base and xml:lang now in effect."""
        if not self.track:
            return
        attrs = attrs_of(el)
        base = attrs.get("xml:base", attrs.get("base"))
        if base:
            if self.base:
                self.base = safe_absolute(self.base, base) or self.base
            else:
                self.base = urljoin(self.base, base)
        elif self.base:  # joined with itself, as the reference does at every element
            same = _SELF_JOINED.get(self.base)
            if same is None:
                if len(_SELF_JOINED) > 1000:
                    _SELF_JOINED.clear()
                same = _SELF_JOINED[self.base] = safe_absolute(self.base, self.base) or self.base
            self.base = same
        lang: str | None = attrs.get("xml:lang", attrs.get("lang"))
        if lang == "":
            lang = None
        elif lang is None:
            lang = self.lang
        if lang and name in ("feed", "rss"):
            self.feed["language"] = lang.replace("_", "-")
        self.lang = lang
        self.bases.append(self.base)
        self.langs.append(lang)

    def leave(self) -> None:
        """End tag: back to the enclosing base (when it had one) and language."""
        if not self.track:
            return
        self.bases.pop()
        if self.bases and self.bases[-1]:
            self.base = self.bases[-1]
        self.langs.pop()
        if self.langs:
            self.lang = self.langs[-1]

    # ------------------------------------------------------------ helpers

    @staticmethod
    def put(ctx: Record, dm: DepthMap, key: str, value: Any, depth: int) -> None:
        """Store a value; in an entry a deeper element never replaces a shallower one."""
        if dm is None:
            ctx[key] = value
            return
        old = dm.get(key)
        if old is None or depth <= old:
            dm[key] = depth
            ctx[key] = value

    def popped(self, raw: str, *, resolve: bool = False) -> str:
        """Text as the reference stores it: stripped, maybe resolved, then fixed."""
        value = raw.strip()
        if resolve and value:
            value = urljoin(self.base, value)
        return self.fix(value)

    def leaf(self, el: etree._Element) -> str:
        """`popped` for a text-only element that is never a URL."""
        if len(el):
            raise Doubt("markup inside a text element")
        return self.fix((el.text or "").strip())

    def detail(self, kind: str, value: str) -> Record:
        """The detail record of a text construct."""
        lang = self.lang.replace("_", "-") if self.lang else self.lang
        return {"type": kind, "language": lang, "base": self.base, "value": value}

    def construct(self, el: etree._Element, kind: str) -> str:
        """The value of a text construct: its text, or serialized XHTML."""
        if kind == "application/xhtml+xml":
            return self.fix(self.xhtml(el).strip())
        if len(el):
            raise Doubt("markup inside a text element")
        return self.fix((el.text or "").strip())

    def xhtml(self, el: etree._Element) -> str:
        """Serialized XHTML content, without a wrapping div in Atom 1.0."""
        children = list(el)
        if (
            self.atom
            and len(children) == 1
            and _xhtml_local(children[0]) == "div"
            and not (el.text or "").strip()
            and not (children[0].tail or "").strip()
        ):
            div = children[0]
            _xhtml_attrs(div)
            return escape_text(div.text or "") + "".join(_xhtml_node(c) for c in div)
        return escape_text(el.text or "") + "".join(_xhtml_node(c) for c in children)


def _xhtml_local(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str) or not tag.startswith(XHTML_NS):
        raise Doubt("non-XHTML element in XHTML content")
    local = tag[len(XHTML_NS) :].lower()
    if local in ("body", "svg", "math"):
        raise Doubt(f"{local} in XHTML content")
    return local


def _xhtml_attrs(el: etree._Element) -> str:
    parts: list[str] = []
    seen: set[str] = set()
    for key, value in items(el):
        if key.startswith("{"):
            if not key.startswith(XML_NS):
                raise Doubt("namespaced attribute in XHTML content")
            key = "xml:" + key[len(XML_NS) :]
        key = key.lower()
        if key in seen or key in ("base", "xml:base"):
            raise Doubt("attribute in XHTML content")
        seen.add(key)
        if key in ("rel", "type"):
            value = value.lower()
        parts.append(f' {key}="{escape_attr(value)}"')
    return "".join(parts)


def _xhtml_node(el: etree._Element) -> str:
    local = _xhtml_local(el)
    inner = escape_text(el.text or "") + "".join(_xhtml_node(c) for c in el)
    return f"<{local}{_xhtml_attrs(el)}>{inner}</{local}>" + escape_text(el.tail or "")


# ---------------------------------------------------------------- record bookkeeping


def save_author(ctx: Record, key: str, value: str) -> None:
    """One part of an author (name, email, href) as the reference stores it."""
    ctx.setdefault("author_detail", {})[key] = value
    sync_author(ctx)
    ctx.setdefault("authors", [{}])[-1][key] = value


def sync_author(ctx: Record) -> None:
    """The reference's author bookkeeping, including its reading of "email (Name)"."""
    detail: Record = (ctx.get("authors") or [{}])[-1]
    if detail:
        name, email = detail.get("name"), detail.get("email")
        if name and email:
            ctx["author"] = f"{name} ({email})"
        elif name:
            ctx["author"] = name
        elif email:
            ctx["author"] = email
        return
    author = ctx.get("author")
    if not author:
        return
    name, email = split_author(author)
    if name or email:
        ctx.setdefault("author_detail", detail)
    if name:
        detail["name"] = name
    if email:
        detail["email"] = email


def add_tag(ctx: Record, term: str | None, scheme: str | None, label: str | None) -> None:
    """Add a tag unless it is empty or already there."""
    tags = ctx.setdefault("tags", [])
    if not term and not scheme and not label:
        return
    value = {"term": term, "scheme": scheme, "label": label}
    if value not in tags:
        tags.append(value)
