"""What a page says about itself outside its body: meta tags, JSON-LD, the info line, info table.

`read_page_meta(tree)` gathers, without deciding anything:

    meta        every <meta name|property|itemprop> by lower-cased key (first one wins),
                among them the government-CMS tags ArticleTitle, PubDate, ContentSource,
                Keywords, Author, and the common ones (og:title, article:published_time,
                publishdate, og:locale …)
    json-ld     the first NewsArticle / Article / BlogPosting / Report object of the
                page's application/ld+json scripts (also inside @graph and lists):
                headline, datePublished, author names, keywords
    lang        <html lang>, else the content-language meta
    info line   the short blocks just below the headline (<h1>, else the whole page):
                "来源：… 发布时间：… 作者：…", "Admin 于2022年01月22日发表", "By …"
    cells       texts of table cells and list items, for the policy info table

`extract` decides which of them wins.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

__all__ = [
    "PageMeta",
    "author_from_line",
    "ld_authors",
    "ld_text",
    "read_page_meta",
    "source_from_line",
    "title_from_tag",
]

_ARTICLE_TYPES = frozenset(
    {
        "newsarticle",
        "article",
        "blogposting",
        "report",
        "reportagenewsarticle",
    }
)
_INFO_BLOCKS = ("p", "div", "span", "li", "td", "h2", "h3", "h4", "h5", "h6", "time", "address")
_INFO_LINES = 12
_INFO_CHARS = 160
_NEXT_LABEL = re.compile(r"\s+(?=\S{1,6}[:：])|\s+(?=\d{4}[-年/.])|[【\[|｜]|\s{2,}")
_SOURCE = re.compile(r"(?:来源|信息来源|文章来源|稿件来源|來源|資料來源)\s*[:：]\s*")
_AUTHOR = re.compile(r"(?:作者|记者|撰文|撰稿|發稿人|作\s*者)\s*[:：]\s*")
_BYLINE = re.compile(
    r"^(?P<who>\S.{0,38}?)\s*于\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日.{0,8}发表$"
)
_SKIP = ("script", "style", "noscript", "template")
_HEADINGS = 5
_TITLE_PARTS = re.compile(r"\s+[-|–—]\s+|_|｜|\s+::\s+")


@dataclass(frozen=True)
class PageMeta:
    """What one page says about itself; from `read_page_meta` to `extract`."""

    meta: dict[str, str] = field(default_factory=dict)
    ld: dict[str, Any] = field(default_factory=dict)
    lang: str | None = None
    info_lines: tuple[str, ...] = ()
    cells: tuple[str, ...] = ()
    h1: str | None = None
    title_tag: str | None = None
    headings: tuple[str, ...] = ()  # the first few <h1>/<h2> texts

    def first(self, *keys: str) -> str | None:
        """The first non-empty meta value among `keys` (lower-case)."""
        for key in keys:
            value = self.meta.get(key)
            if value:
                return value
        return None


def read_page_meta(tree: HtmlElement) -> PageMeta:
    """Everything the page says about itself outside the body text (see the module doc)."""
    meta: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = element.get("name") or element.get("property") or element.get("itemprop")
        value = " ".join((element.get("content") or "").split())
        if key and value:
            meta.setdefault(key.strip().lower(), value)
    for element in tree.iter("time"):  # <time itemprop="datePublished" datetime=...>
        if (element.get("itemprop") or "").lower() == "datepublished" and element.get("datetime"):
            meta.setdefault("datepublished", element.get("datetime") or "")
    root = tree.getroottree().getroot()
    lang = root.get("lang") or root.get("xml:lang") or meta.get("content-language")
    h1 = _first_heading(tree)
    title_element = tree.find(".//title")
    title_tag = " ".join(title_element.text_content().split()) if title_element is not None else ""
    headings = [" ".join(h.text_content().split()) for h in tree.iter("h1", "h2")]
    return PageMeta(
        meta=meta,
        ld=_json_ld(tree),
        lang=lang,
        info_lines=tuple(_info_lines(tree, h1)),
        cells=tuple(_cells(tree)),
        h1=" ".join(h1.text_content().split()) if h1 is not None else None,
        title_tag=title_tag or None,
        headings=tuple(h for h in headings[:_HEADINGS] if h),
    )


def title_from_tag(page: PageMeta) -> str | None:
    """The page's title from <title>: the heading it begins with, else its first part.

    "关于…的通知 - 通知 - 国家发展和改革委员会" with an <h2> "关于…的通知" gives the heading;
    without one, the part before the first " - ", "_", " | " or "｜".
    """
    tag = page.title_tag
    if not tag:
        return None
    flat = "".join(tag.split())
    for heading in page.headings:
        if len(heading) >= 4 and flat.startswith("".join(heading.split())):
            return heading
    first = _TITLE_PARTS.split(tag, maxsplit=1)[0].strip()
    return first or None


def source_from_line(line: str) -> str | None:
    """The value of a "来源：…" label in an info line, up to the next label."""
    return _labelled(_SOURCE, line)


def author_from_line(line: str) -> str | None:
    """The author an info line names: "作者：…", "记者：…" or "X 于2022年1月22日发表"."""
    found = _labelled(_AUTHOR, line)
    if found:
        return found
    m = _BYLINE.match(" ".join(line.split()))
    if m is None:
        return None
    who = m.group("who").strip()
    return who.split(" - ")[0].strip() or None


def _labelled(label: re.Pattern[str], line: str) -> str | None:
    m = label.search(line)
    if m is None:
        return None
    value = _NEXT_LABEL.split(line[m.end() :].strip(), maxsplit=1)[0].strip(" ,，;；")
    return value or None


def _first_heading(tree: HtmlElement) -> HtmlElement | None:
    for heading in tree.iter("h1"):
        if heading.text_content().strip():
            return heading
    return None


def _info_lines(tree: HtmlElement, h1: HtmlElement | None) -> Iterator[str]:
    """Short text blocks in document order after the headline (the whole page without one)."""
    following = h1.xpath("following::*") if h1 is not None else tree.iter()
    limit = _INFO_LINES if h1 is not None else 4 * _INFO_LINES
    taken: set[HtmlElement] = set()
    for element in following:
        if not isinstance(element.tag, str) or element.tag not in _INFO_BLOCKS:
            continue
        if any(ancestor in taken for ancestor in element.iterancestors()):
            continue
        if any(ancestor.tag in _SKIP for ancestor in element.iterancestors()):
            continue
        text = " ".join(element.text_content().split())
        if not text or len(text) > _INFO_CHARS:
            continue
        taken.add(element)
        yield text
        if len(taken) >= limit:
            return


def _cells(tree: HtmlElement) -> Iterator[str]:
    for element in tree.iter("td", "th", "li", "dt", "dd"):
        text = " ".join(element.text_content().split())
        if text and len(text) <= 200:
            yield text


def _json_ld(tree: HtmlElement) -> dict[str, Any]:
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for item in _ld_objects(data):
            kinds = item.get("@type")
            names = kinds if isinstance(kinds, list) else [kinds]
            if any(isinstance(k, str) and k.lower() in _ARTICLE_TYPES for k in names):
                return item
    return {}


def _ld_objects(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for entry in data:
            yield from _ld_objects(entry)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _ld_objects(data["@graph"])


def ld_authors(ld: dict[str, Any]) -> list[str]:
    """Author names of a JSON-LD article object."""
    raw = ld.get("author")
    entries = raw if isinstance(raw, list) else [raw]
    names = []
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else entry
        if isinstance(name, str) and name.strip():
            names.append(" ".join(name.split()))
    return names


def ld_text(ld: dict[str, Any], key: str) -> str | None:
    """A JSON-LD string property (the first, for a list), whitespace collapsed."""
    value = ld.get(key)
    if isinstance(value, list):
        value = ", ".join(v for v in value if isinstance(v, str))
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None
