"""A list page → its article links: the pure first half of a page source.

`read_list_page(html, url=..., rules=...)` runs these stages in order:

    decode   bytes → text (`encoding.decode`: GBK and the like read right)
    sniff    a body that is empty, a feed, JSON, a PDF or an image is no list page: the
             ListPage says why (`ListPage.problem`, see `not_html`), with no items
    parse    lxml HTML tree without scripts and styles; links resolve on <base href>,
             else on the page's URL
    items    with `rules.item`: each element it matches is one article. Its link is the
             first match of `rules.link` inside it, else the item itself when it is a link,
             else its first a[href]; its title the text of `rules.title` (else the link's
             title attribute or text); its date text that of `rules.date` (its datetime
             attribute first), else the item's text outside the link.
             without: every a[href] outside navigation (nav, header, footer, menus,
             breadcrumbs, pagers); its date text is the rest of its row (li, tr, dd, p)
    filter   http(s) links only, not the page itself; `include` (any regex found in the
             absolute URL) and `exclude` (none); without `item` and `include`, a link must
             be on the same site and look like an article (see `linkpattern`)
    dedupe   by canonical URL: the first position is kept, the longest title wins
    next     the link of `rules.next`'s first match, when the rules name one

Dates stay text here: `page_dates.find_date` reads them in the source's time zone.
lxml's CSS selectors (cssselect) are used here and in `extract`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement, document_fromstring

from aggregator.encoding import decode
from aggregator.linkpattern import looks_like_article, same_site
from aggregator.models import PageRules
from aggregator.urls import canonical_url

MAX_DATE_TEXT = 200
"""The most characters of text kept around a link as its date text."""

_NAV_TAGS = frozenset({"nav", "header", "footer", "menu"})
_NAV_WORDS = re.compile(
    r"^(?:nav|navbar|navigation|menu|menubar|footer|header|breadcrumbs?|crumbs?|pager"
    r"|pagination|page-nav|topbar|top-nav|site-nav|main-nav|skip-link)$"
    r"|^(?:nav|menu|footer|breadcrumb|pagination)[-_]",
    re.IGNORECASE,
)
_ROW_TAGS = frozenset({"li", "tr", "dd", "dt", "p", "article"})
_INLINE_OR_HEADING = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "span", "em", "strong", "b"})
_ELLIPSIS = re.compile(r"(?:\.{2,}|…+|。{2,})$")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_SNIFF = 4096  # characters of the body looked at to tell what it is
_HTML_TAG = re.compile(
    r"<(?:!doctype\s+html|html|head|body|title|meta|a|div|table|ul|ol|li|p|span|h[1-6])[\s/>]",
    re.IGNORECASE,
)
_FEED_ROOT = re.compile(r"^(?:\s*<(?:[?!][^>]*)?>)*\s*<(rss|rdf:rdf|feed)[\s>]", re.IGNORECASE)
_TEXT_TYPES = ("text/", "application/xhtml", "application/xml", "application/octet-stream")
_WEB = ("http://", "https://")


@dataclass(frozen=True)
class ListItem:
    """One article link found on a list page; from pagelist to the page pipeline."""

    url: str  # absolute and canonical: the article's stable id
    title: str | None  # as the list shows it (whitespace collapsed)
    date_text: str | None  # text that may hold the article's date, for page_dates


@dataclass(frozen=True)
class ListPage:
    """What one list page yielded; `matched` counts item elements (or candidate links)."""

    items: tuple[ListItem, ...]
    next_url: str | None = None
    matched: int = 0
    title: str | None = None  # the page's <title>
    problem: str | None = None  # "list page is not HTML (…)" (see `not_html`), if it is not


def check_selector(selector: str) -> str | None:
    """Why `selector` is not a usable CSS selector (one line), or None when it is."""
    try:
        CSSSelector(selector)
    except SelectorError as exc:
        return f"invalid CSS selector {selector!r}: {exc}"
    return None


def describe_rules(rules: PageRules) -> str:
    """The rules in a few words, for reasons such as "matched no items (…)"."""
    named = [
        f"{key}={value}"
        for key, value in (
            ("item", rules.item),
            ("link", rules.link),
            ("title", rules.title),
            ("date", rules.date),
        )
        if value
    ]
    named += [f"include={p}" for p in rules.include] + [f"exclude={p}" for p in rules.exclude]
    if named:
        return ("selectors: " if rules.item else "link patterns: ") + ", ".join(named)
    return "links that look like articles on the same site"


def not_html(text: str, content_type: str | None = None) -> str | None:
    """Why a fetched body (decoded) is not an HTML page to read links from, or None: a
    phrase such as "is not HTML (application/pdf)", to follow "list page" or "the page".

    The media type is believed when it names something that is not text (a PDF, an image);
    otherwise the first characters decide, since servers often label HTML as text/plain or
    application/octet-stream. A feed gets a hint to configure it as one.
    """
    head = text[:_SNIFF].lstrip("\ufeff \t\r\n")
    if not head:
        return "is empty"
    root = _FEED_ROOT.match(head)
    if root is not None or (head.startswith("{") and "jsonfeed.org" in head):
        name = {"rss": "RSS", "rdf:rdf": "RSS 1.0", "feed": "Atom"}.get(
            root.group(1).lower() if root else "", "JSON Feed"
        )
        return f"is a feed ({name}), not HTML: configure it as type: feed"
    kind = (content_type or "").lower()
    said = f" ({kind})" if kind else ""
    if kind and "html" not in kind and not kind.startswith(_TEXT_TYPES):
        return f"is not HTML{said}"
    if _HTML_TAG.search(head) is None:
        return f"is not HTML{said}"
    return None


def parse_html(html: bytes | str, charset: str | None = None) -> HtmlElement | None:
    """The page as an lxml tree without scripts and styles; None when it is not HTML."""
    text = html if isinstance(html, str) else decode(html, declared=charset)
    text = _XML_DECLARATION.sub("", text, count=1)
    if not text.strip():
        return None
    try:
        tree = document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None
    etree.strip_elements(tree, "script", "style", "noscript", "template", with_tail=False)
    return tree


def page_base(tree: HtmlElement, url: str) -> str:
    """The base URL the page's links resolve on: its <base href>, else `url`."""
    for base in tree.iter("base"):
        href = (base.get("href") or "").strip()
        if href:
            return canonical_url(href, url)
    return url


def read_list_page(
    html: bytes | str,
    *,
    url: str,
    rules: PageRules,
    charset: str | None = None,
    content_type: str | None = None,
) -> ListPage:
    """The article links of a list page (see the module docstring)."""
    text = html if isinstance(html, str) else decode(html, declared=charset)
    problem = not_html(text, content_type)
    tree = parse_html(text) if problem is None else None
    if tree is None:
        reason = f"list page {problem or 'is not HTML'}"
        return ListPage(items=(), problem=reason)
    base = page_base(tree, url)
    if rules.item:
        found = list(_selected_items(tree, rules, base))
        matched = len(_select(tree, rules.item))
    else:
        found = list(_linked_items(tree, base))
        matched = len(found)
    page = canonical_url(url)
    kept = [item for item in found if item.url != page and _wanted(item.url, rules, page)]
    return ListPage(
        items=_dedupe(kept),
        next_url=_next_url(tree, rules, base, page),
        matched=matched,
        title=page_title(tree),
    )


def page_title(tree: HtmlElement) -> str | None:
    """The page's <title>, whitespace collapsed."""
    element = tree.find(".//title")
    return _clean(element.text_content()) if element is not None else None


def page_links(tree: HtmlElement, base: str) -> list[ListItem]:
    """Every link outside navigation, as an item (before filtering); for `discover`."""
    return list(_linked_items(tree, base))


# ---------------------------------------------------------------- items


def _select(root: HtmlElement, selector: str) -> list[HtmlElement]:
    found = CSSSelector(selector)(root)
    return [e for e in found if isinstance(e, HtmlElement)] if isinstance(found, list) else []


def _selected_items(tree: HtmlElement, rules: PageRules, base: str) -> Iterator[ListItem]:
    assert rules.item is not None
    for element in _select(tree, rules.item):
        link = _item_link(element, rules.link)
        if link is None:
            continue
        url = _href(link, base)
        if url is None:
            continue
        title = _text_of(element, rules.title) if rules.title else _link_title(link)
        date_text = _text_of(element, rules.date) if rules.date else _text_outside(element, link)
        yield ListItem(url=url, title=title, date_text=date_text)


def _item_link(element: HtmlElement, selector: str | None) -> HtmlElement | None:
    if selector:
        for match in _select(element, selector):
            return match if match.get("href") is not None else _first_link(match)
        return None
    if element.tag == "a" and element.get("href") is not None:
        return element
    return _first_link(element)


def _first_link(element: HtmlElement) -> HtmlElement | None:
    for link in element.iter("a"):
        if isinstance(link, HtmlElement) and link.get("href") is not None:
            return link
    return None


def _linked_items(tree: HtmlElement, base: str) -> Iterator[ListItem]:
    for link in tree.iter("a"):
        if not isinstance(link, HtmlElement) or link.get("href") is None or _in_navigation(link):
            continue
        url = _href(link, base)
        if url is None:
            continue
        row = _row(link)
        yield ListItem(url=url, title=_link_title(link), date_text=_text_outside(row, link))


def _in_navigation(element: HtmlElement) -> bool:
    for ancestor in element.iterancestors():
        if ancestor.tag in _NAV_TAGS:
            return True
        words = f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}".split()
        if any(_NAV_WORDS.match(word) for word in words):
            return True
    return False


def _row(link: HtmlElement) -> HtmlElement:
    for depth, ancestor in enumerate(link.iterancestors()):
        if depth >= 3:
            break
        if ancestor.tag in _ROW_TAGS:
            return ancestor
    parent = link.getparent()
    if isinstance(parent, HtmlElement) and parent.tag in _INLINE_OR_HEADING:
        parent = parent.getparent()
    return parent if isinstance(parent, HtmlElement) else link


def _href(link: HtmlElement, base: str) -> str | None:
    href = (link.get("href") or "").strip()
    if not href or href.startswith("#") or href.lower().startswith(("javascript:", "mailto:")):
        return None
    url = canonical_url(href, base)
    return url if url.startswith(_WEB) else None


def _clean(text: str | None) -> str | None:
    cleaned = " ".join((text or "").split())
    return cleaned or None


def _link_title(link: HtmlElement) -> str | None:
    return _fuller(_clean(link.text_content()), _clean(link.get("title")))


def _fuller(text: str | None, attribute: str | None) -> str | None:
    """The element's text, or its attribute when that says more (lists cut titles short)."""
    if attribute and (not text or len(attribute) >= len(_ELLIPSIS.sub("", text))):
        return attribute
    return text


def _text_of(element: HtmlElement, selector: str | None) -> str | None:
    if not selector:
        return None
    for match in _select(element, selector):
        text = _clean(match.text_content())
        found = _clean(match.get("datetime")) or _fuller(text, _clean(match.get("title")))
        if found:
            return found
    return None


def _text_outside(element: HtmlElement, link: HtmlElement) -> str | None:
    """The text of `element` without the text of `link` inside it."""
    whole = element.text_content()
    inner = link.text_content() if link is not element else ""
    if inner:
        whole = whole.replace(inner, " ", 1)
    cleaned = _clean(whole)
    return cleaned[:MAX_DATE_TEXT] if cleaned else None


# ---------------------------------------------------------------- filter, dedupe, next


def _wanted(url: str, rules: PageRules, page: str) -> bool:
    if any(re.search(pattern, url) for pattern in rules.exclude):
        return False
    if rules.include:
        return any(re.search(pattern, url) for pattern in rules.include)
    if rules.item:
        return True
    return same_site(url, page) and looks_like_article(url)


def _dedupe(items: list[ListItem]) -> tuple[ListItem, ...]:
    chosen: dict[str, ListItem] = {}
    for item in items:
        before = chosen.get(item.url)
        if before is None:
            chosen[item.url] = item
            continue
        title = before.title
        if item.title and (not title or len(item.title) > len(title)):
            title = item.title
        chosen[item.url] = ListItem(item.url, title, before.date_text or item.date_text)
    return tuple(chosen.values())


def _next_url(tree: HtmlElement, rules: PageRules, base: str, page: str) -> str | None:
    if not rules.next:
        return None
    for match in _select(tree, rules.next):
        link = match if match.get("href") is not None else _first_link(match)
        url = _href(link, base) if link is not None else None
        if url is not None and url != page:
            return url
    return None
