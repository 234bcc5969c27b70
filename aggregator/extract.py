"""A web page's main content and metadata → `ExtractedPage`; trafilatura lives here.

`extract_page` runs these stages in order:

    decode      bytes → text with `encoding.decode` (BOM, verified declarations, detection:
                GBK/GB18030/Big5 read right whatever the header or <meta> claims)
    parse       lxml HTML tree; the page's own metadata read (see `extract_meta`)
    body        the first that applies:
                  1. `content_selector` (CSS), when the operator gave one: every match,
                     outermost only, in document order; matching nothing is an error
                  2. a government-CMS body container (GOV_CONTAINERS: #UCAP-CONTENT,
                     .pages_content, .TRS_Editor …), the one with the most text
                  3. trafilatura's main-text extraction (HTML output with images, links,
                     tables and formatting; no comments)
    furniture   leftover furniture blocks removed (see `furniture`)
    html        sanitized with the project's nh3 rules, relative URLs resolved on `url`
    metadata    title: ArticleTitle meta, the info table's 标题, JSON-LD headline,
                trafilatura's title; language: the page's declared tag checked against the
                text (see `language`); date: PubDate and the other date metas, JSON-LD
                datePublished, the info table's 发布日期, the info line below the headline,
                trafilatura's date — read in `timezone`, else Asia/Shanghai for a Chinese
                page, else UTC; author, source (ContentSource, 来源：…) and keywords likewise;
                policy-document fields (see `policydoc`)

A page whose body has less than MIN_TEXT characters of text raises `ExtractError`.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable
from datetime import datetime
from html import unescape

import trafilatura
from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement, document_fromstring, fromstring, tostring

from aggregator.encoding import decode
from aggregator.errors import ContentSelectorError, ExtractError
from aggregator.extract_meta import (
    PageMeta,
    author_from_line,
    ld_authors,
    ld_text,
    read_page_meta,
    source_from_line,
    title_from_tag,
)
from aggregator.furniture import strip_furniture
from aggregator.html import sanitize_html, text_from_sanitized
from aggregator.language import choose_language, primary_subtag
from aggregator.models import ZH_TIMEZONE, ExtractedPage
from aggregator.page_dates import find_date, parse_page_date, zone
from aggregator.pagelist import check_selector
from aggregator.policydoc import policy_from_parts, read_info_table

__all__ = ["GOV_CONTAINERS", "MIN_TEXT", "ZH_TIMEZONE", "check_selector", "extract_page"]

MIN_TEXT = 20
"""The fewest characters of body text a page must give to count as an article."""


GOV_CONTAINERS = (
    "#UCAP-CONTENT",
    ".pages_content",
    ".TRS_Editor",
    ".TRS_UEDITOR",
    ".Custom_UnionStyle",
    "#zoom",
    "#fontzoom",
    "#BodyLabel",
)
"""Body containers of government CMSs (TRS, Hanweb, UCAP), tried in this order."""

_CONTAINERS = tuple(CSSSelector(selector) for selector in GOV_CONTAINERS)
_DATE_METAS = (
    "pubdate",
    "publishdate",
    "firstpublishedtime",
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "dc.date",
    "dcterms.created",
    "dc.date.issued",
    "date",
)
_TITLE_METAS = ("articletitle",)
_SOURCE_METAS = ("contentsource", "source")
_IMG_SRC = re.compile(r'<img\s[^>]*?src="([^"]+)"')
_KEYWORD_SPLIT = re.compile(r"[,，;；、|]+")
_LATIN = re.compile(r"[A-Za-z]")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DATE_LABEL = re.compile(r"发布|发表|時間|时间|日期|published|posted|updated|date", re.IGNORECASE)
_TODAY_BANNER = re.compile(r"今天是|今日是|欢迎")
_LOCALE = re.compile(r"^[a-z]{2,3}[_-][A-Za-z]{2}$")
_EXTRACTED_NOTHING = "no main content found"

# trafilatura logs a warning for every page it finds nothing in; ours is the ExtractError.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def extract_page(
    html: bytes,
    *,
    url: str,
    charset: str | None = None,
    content_selector: str | None = None,
    timezone: str | None = None,
    now: datetime,
) -> ExtractedPage:
    """The main content and metadata of one page (see the module docstring)."""
    tree = _parse(decode(html, declared=charset), url)
    page = read_page_meta(tree)
    table = read_info_table(page.cells)
    title = _title(page, table)

    blocks = _select(tree, content_selector, url) if content_selector else _gov_container(tree)
    root = _wrap(blocks) if blocks else _trafilatura_body(tree, url)
    if root is None:
        raise ExtractError(url, _EXTRACTED_NOTHING)
    found = None if title and blocks else _trafilatura_meta(tree, url)
    title = title or _heading_title(page, found)
    strip_furniture(root, title)
    content = sanitize_html(_inner_html(root), url)
    text = text_from_sanitized(content)
    if len("".join(text.split())) < MIN_TEXT:
        raise ExtractError(url, _EXTRACTED_NOTHING)

    declared = [page.lang, _locale(page.first("og:locale"))]
    language = choose_language(declared, title or "", text)
    zone_name = timezone or (ZH_TIMEZONE if language and primary_subtag(language) == "zh" else None)
    published = _published(page, table, found, now, zone_name)
    page_date = published.astimezone(zone(zone_name)).date() if published else None
    policy = policy_from_parts(table, text.split("\n"), page_date)

    return ExtractedPage(
        url=url,
        title=title,
        content=content,
        text=text,
        published=published,
        author=_author(page, found),
        language=language,
        images=tuple(dict.fromkeys(unescape(src) for src in _IMG_SRC.findall(content))),
        keywords=_keywords(page),
        source=page.first(*_SOURCE_METAS) or _from_lines(page, source_from_line),
        policy=policy,
    )


# ---------------------------------------------------------------- body


def _parse(text: str, url: str) -> HtmlElement:
    if not text.strip():
        raise ExtractError(url, "empty page")
    try:
        return document_fromstring(_XML_DECLARATION.sub("", text, count=1))
    except (etree.ParserError, ValueError) as exc:
        raise ExtractError(url, f"not an HTML page ({exc})") from exc


def _select(tree: HtmlElement, selector: str, url: str) -> list[HtmlElement]:
    try:
        matches = _matches(CSSSelector(selector), tree)
    except SelectorError as exc:
        raise ContentSelectorError(url, f"invalid content selector {selector!r}: {exc}") from exc
    chosen = _outermost(matches)
    if not chosen:
        raise ContentSelectorError(url, f"content selector {selector!r} matched nothing")
    return chosen


def _gov_container(tree: HtmlElement) -> list[HtmlElement]:
    for selector in _CONTAINERS:
        candidates = [
            element
            for element in _outermost(_matches(selector, tree))
            if len("".join(element.text_content().split())) >= MIN_TEXT
        ]
        if candidates:
            best = max(candidates, key=lambda e: len("".join(e.text_content().split())))
            return [best]
    return []


def _matches(selector: CSSSelector, tree: HtmlElement) -> list[HtmlElement]:
    found = selector(tree)
    return [e for e in found if isinstance(e, HtmlElement)] if isinstance(found, list) else []


def _outermost(matches: list[HtmlElement]) -> list[HtmlElement]:
    chosen = set(matches)
    return [m for m in matches if not any(a in chosen for a in m.iterancestors())]


def _wrap(blocks: list[HtmlElement]) -> HtmlElement:
    root: HtmlElement = fromstring("<div></div>")
    for block in blocks:
        clone = copy.deepcopy(block)
        clone.tail = None
        root.append(clone)
    return root


def _trafilatura_body(tree: HtmlElement, url: str) -> HtmlElement | None:
    result = trafilatura.extract(
        tree,
        url=url,
        output_format="html",
        include_comments=False,
        include_tables=True,
        include_images=True,
        include_links=True,
        include_formatting=True,
        with_metadata=False,
    )
    if not result:
        return None
    body = fromstring(result).find(".//body")
    return body if body is not None else None


def _trafilatura_meta(tree: HtmlElement, url: str) -> trafilatura.settings.Document | None:
    try:
        return trafilatura.extract_metadata(tree, default_url=url, extensive=False)
    except (ValueError, TypeError):  # a page trafilatura cannot read metadata from
        return None


def _inner_html(root: HtmlElement) -> str:
    parts = [root.text or ""]
    parts.extend(tostring(child, encoding="unicode") for child in root)
    return "".join(parts)


# ---------------------------------------------------------------- metadata


def _title(page: PageMeta, table: dict[str, str]) -> str | None:
    return page.first(*_TITLE_METAS) or table.get("title") or ld_text(page.ld, "headline") or None


def _heading_title(page: PageMeta, found: trafilatura.settings.Document | None) -> str | None:
    """The title when no meta names it: <title> matched with a heading, else trafilatura's."""
    from_tag = title_from_tag(page)
    if from_tag and from_tag in page.headings:
        return from_tag
    return (found.title if found is not None else None) or from_tag or page.h1


def _published(
    page: PageMeta,
    table: dict[str, str],
    found: trafilatura.settings.Document | None,
    now: datetime,
    zone_name: str | None,
) -> datetime | None:
    candidates = [page.first(*_DATE_METAS), ld_text(page.ld, "datePublished")]
    for value in candidates:
        date = parse_page_date(value, now=now, timezone=zone_name)
        if date is not None:
            return date
    lines = [table.get("published", ""), *page.info_lines]
    for labelled in (True, False):
        for line in lines:
            if not _dated(line, labelled=labelled):
                continue
            date = find_date(line, now=now, timezone=zone_name)
            if date is not None:
                return date
    if found is not None and found.date:
        return parse_page_date(found.date, now=now, timezone=zone_name)
    return None


def _dated(line: str, *, labelled: bool) -> bool:
    """Whether a line may give the page's date: short, no "today is" banner, labelled if asked."""
    if not line or len(line) > 80 or _TODAY_BANNER.search(line):
        return False
    return not labelled or _DATE_LABEL.search(line) is not None


def _author(page: PageMeta, found: trafilatura.settings.Document | None) -> str | None:
    names = ld_authors(page.ld)
    if names:
        return ", ".join(names)
    from_line = _from_lines(page, author_from_line)
    if from_line:
        return from_line
    meta_author = page.first("author", "article:author", "byl")
    if meta_author and not meta_author.startswith(("http://", "https://")):
        return meta_author
    return found.author if found is not None and found.author else None


def _from_lines(page: PageMeta, read: Callable[[str], str | None]) -> str | None:
    for line in page.info_lines:
        value = read(line)
        if value:
            return value
    return None


def _keywords(page: PageMeta) -> tuple[str, ...]:
    raw = page.first("keywords", "news_keywords") or ld_text(page.ld, "keywords") or ""
    words = [k.strip() for k in _KEYWORD_SPLIT.split(raw) if k.strip()]
    if len(words) == 1 and not _LATIN.search(words[0]):  # "制造业 政策": spaces separate
        words = words[0].split()
    return tuple(dict.fromkeys(words))


def _locale(value: str | None) -> str | None:
    """An og:locale such as zh_CN as a language tag."""
    return value.replace("_", "-") if value and _LOCALE.match(value) else None
