"""Page furniture that main-text extraction lets through, removed from an article's HTML tree.

`strip_furniture(root, title)` walks the leaf blocks of the tree (paragraphs, list items,
headings, cells, divs with no block inside) in document order and removes:

    furniture lines   a short block (at most SHORT characters) that matches one of
                      FURNITURE_LINES: hotlines (客服热线：0755-…), disclaimers (免责声明,
                      本文来源于网络…仅供参考, 如有侵权), editor and source lines (责任编辑：,
                      来源：…, 作者：… 发布时间：…), tool bars (【打印】【关闭】, 字体：大 中 小,
                      分享到, 扫一扫), bylines (… 于2022年01月22日发表), previous/next links,
                      footers (ICP备, 版权所有, All rights reserved), and English share, tag and
                      newsletter lines
    related lists     a heading such as 相关新闻 / 相关阅读 / Related articles / Read more, and
                      after it every block that is mostly link text or a list item, until a
                      block of plain prose
    link lists        a list of at least LINK_LIST_ITEMS items that are all links to pages
                      (not files: attachments stay), such as "100 headlines" blocks
    the title         the first block, when it repeats the page title

Elements left empty (no text, no image) are removed after. The rules are small on purpose:
each one is tested with the pages in tests/data/pages/.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

__all__ = ["FURNITURE_LINES", "RELATED_HEADINGS", "SHORT", "is_furniture_line", "strip_furniture"]

SHORT = 160
"""Blocks longer than this (in characters) are prose, never furniture lines."""

LINK_LIST_ITEMS = 5
"""A list of this many items or more that are all page links is a link list."""

FURNITURE_LINES = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # hotlines and contact lines
        r"(热线|hotline|客服电话|服务电话|投诉电话|举报电话|\btel\b)\s*[:：]?\s*[\d(（][\d\-()（）\s]{5,}",
        # disclaimers and reprint notes
        r"^(免责声明|版权声明|郑重声明|特别声明|声明)\s*[:：]",
        r"(来源于网络|来自网络|转载自网络|仅供参考|如有侵权|侵权请联系|转载请注明|未经授权.{0,8}转载)",
        r"^本(文|文章|站|网)(内容|所载|转载|部分)",
        # editor, source, author and date lines
        r"^[\[【(（]?\s*(责任编辑|责编|编辑|审核|审校|校对|终审|初审|复审|值班编辑|监制)\s*[:：]",
        r"^(来源|信息来源|文章来源|稿件来源|出处|來源|資料來源)\s*[:：]",
        r"^(发布时间|发布日期|发表时间|發布時間|發布日期|时间|日期)\s*[:：]",
        r"^(作者|记者|通讯员|撰稿|撰文|文|图)\s*[:：|｜]\s*\S{1,12}(\s|$)",
        r"^.{0,40}?\s*于\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*(\d{1,2}:\d{2}\s*)?发表$",
        r"^(阅读|浏览|点击)(次数|量)?\s*[:：]?\s*\d+\s*次?$",
        # tool bars
        r"^([\[【]\s*[^\]】]{1,10}\s*[\]】]\s*){2,}$",
        r"[\[【]\s*(打印|关闭|关闭窗口|打印本页|打印此页|收藏|纠错|我要纠错|返回顶部|字体)\s*[\]】]",
        r"(字体|字号)\s*[:：]\s*[\[【]?\s*大\s*[\]】]?\s*[\[【]?\s*中\s*[\]】]?\s*[\[【]?\s*小",
        r"^(分享到|分享至|分享|扫一扫|扫描二维码|微信扫一扫|手机扫一扫|用手机扫描)",
        r"(在手机打开当前页|友善列印|回上一頁|回上一页|返回列表|返回顶部)",
        r"^(上一篇|下一篇|上一条|下一条|上一則|下一則|previous|next)\s*(post|article|story)?\s*[:：]",
        r"^(read more|see also|also read|related|更多阅读|延伸阅读|相关阅读)\s*[:：]",
        r"^(打开|下载)\s*(app|客户端)",
        # footers
        r"(ICP\s*备|ICP\s*证|公网安备|网站标识码|网站识别码|版权所有|版權所有|主办单位|承办单位)",
        r"^(技术支持|联系我们|关于我们|网站地图|網站導覽)",
        r"(all rights reserved|^©|^copyright\b)",
        # English share, tag, ad and newsletter lines
        r"^(share( this( article| story| post)?)?|share on \w+|tweet|email|print)\s*:?\s*$",
        r"^(share|follow us) (on|via) ",
        r"^(tags|tagged|filed under|categories|topics)\s*:",
        r"^advertisement$",
        r"^(published|updated|last updated|posted)(\s+on)?\s*:?\s*\S.{0,40}$",
        r"^(is this page useful|was this (page|article) helpful)",
        r"(sign up for|subscribe to) (our|the) (\w+ )?newsletter",
    )
)
"""Patterns of short blocks that are page furniture, not article text."""

RELATED_HEADINGS = re.compile(
    r"^[\[【]?\s*(相关(新闻|阅读|文章|链接|报道|推荐|稿件|文件|政策|附件下载)?|推荐阅读|延伸阅读|"
    r"热门(文章|推荐|新闻)|热点(推荐|新闻)|猜你喜欢|更多(新闻|阅读)|相關(新聞|閱讀|連結)|"
    r"related( posts| articles| stories| news| content| coverage)?|read more|more from .{1,40}|"
    r"you may also like|recommended( for you)?|most (popular|read)|more stories|trending)"
    r"\s*[\]】]?\s*[:：]?$",
    re.IGNORECASE,
)
"""Headings after which a related-links list follows."""

_BLOCKS = frozenset(
    {
        "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dt", "dd",
        "td", "th", "figcaption", "address", "section", "article", "header", "footer", "aside",
        "nav", "ul", "ol", "dl", "table", "tbody", "thead", "tr", "figure", "form", "center",
    }
)  # fmt: skip
_FILE = re.compile(r"\.(pdf|docx?|xlsx?|wps|ofd|zip|rar|txt|csv|pptx?|et)(\?|#|$)", re.IGNORECASE)
_PROSE = 60


def is_furniture_line(text: str) -> bool:
    """Whether one short block of text is page furniture (see FURNITURE_LINES)."""
    flat = " ".join(text.split())
    if not flat or len(flat) > SHORT:
        return False
    return any(pattern.search(flat) for pattern in FURNITURE_LINES)


def strip_furniture(root: HtmlElement, title: str | None) -> None:
    """Remove furniture blocks from `root` in place (see the module docstring)."""
    _drop_link_lists(root)
    title_key = _key(title or "")
    first = True
    in_related = False
    for block in _leaf_blocks(root):
        text = " ".join(block.text_content().split())
        if not text:
            continue
        if first and title_key and _key(text) == title_key:
            _remove(block)
            first = False
            continue
        first = False
        if len(text) <= SHORT and RELATED_HEADINGS.match(text):
            in_related = True
            _remove(block)
        elif (in_related and _is_link_line(block, text)) or is_furniture_line(text):
            _remove(block)
        elif len(text) >= _PROSE:
            in_related = False
    _drop_empty(root)


def _is_link_line(block: HtmlElement, text: str) -> bool:
    return block.tag == "li" or _link_share(block, text) >= 0.5


def _leaf_blocks(root: HtmlElement) -> list[HtmlElement]:
    leaves = []
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag not in _BLOCKS or element is root:
            continue
        if not any(
            isinstance(child.tag, str) and child.tag in _BLOCKS
            for child in element.iterdescendants()
        ):
            leaves.append(element)
    return leaves


def _drop_link_lists(root: HtmlElement) -> None:
    for listing in list(root.iter("ul", "ol")):
        items = [child for child in listing if child.tag == "li"]
        if len(items) < LINK_LIST_ITEMS:
            continue
        if all(_is_page_link_item(item) for item in items):
            _remove(listing)


def _is_page_link_item(item: HtmlElement) -> bool:
    text = " ".join(item.text_content().split())
    links = item.findall(".//a")
    if not text or not links or any(_FILE.search(a.get("href") or "") for a in links):
        return False
    return _link_share(item, text) >= 0.8


def _link_share(block: HtmlElement, text: str) -> float:
    linked = sum(len("".join(a.text_content().split())) for a in block.iter("a"))
    return linked / max(1, len(text.replace(" ", "")))


def _key(text: str) -> str:
    return "".join(text.split()).casefold()


def _remove(element: HtmlElement) -> None:
    """Remove `element` and its content, keeping the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail and tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _drop_empty(root: HtmlElement) -> None:
    for element in reversed(list(root.iter())):
        if element is root or not isinstance(element.tag, str) or element.tag not in _BLOCKS:
            continue
        if element.text_content().strip() or element.find(".//img") is not None:
            continue
        _remove(element)
