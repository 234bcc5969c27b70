"""HTML fragments from feeds made safe to show, and turned into plain text; nh3 lives here.

Sanitizing keeps an allow-list of tags (ALLOWED_TAGS) and attributes (ALLOWED_ATTRIBUTES),
drops script, style, iframe, object, embed and their kin with their content
(DROPPED_WITH_CONTENT), drops every `on*`/`style`/`class`/`id` attribute, keeps only
http(s)/mailto/tel/ftp URLs in `href` and `src` (so no `javascript:`, `vbscript:` and no
`data:` at all: data URIs can be megabytes and an SVG one can carry script), adds
`rel="noopener noreferrer"` to links and strips comments. Relative `href`/`src` values are
then resolved on the base given, when it is an http(s) URL, in one regular-expression pass
over nh3's output (its serialization is regular: lower-case tags, double-quoted attributes
with `"<>` escaped).

Plain text comes from the sanitized HTML with a few regular expressions and string methods
over nh3's normalized serialization (lower-case tag names, quoted attributes with `<`/`>`
escaped), in these steps:

    pre      newlines inside <pre> become line breaks
    tags     each block tag (<p>, <div>, <h1>…, opening or closing) and each opening
             <br>/<li>/<tr>/<td>… becomes a line break, so consecutive paragraphs are
             separated by a blank line, list items and table cells by a newline; every
             other tag becomes nothing
    text     entities decoded, whitespace collapsed within each line, at most one blank line
"""

from __future__ import annotations

import re
from functools import lru_cache, partial
from html import unescape

import nh3

from aggregator.urls import WEB_SCHEMES, UrlBase

ALLOWED_TAGS = frozenset(
    {
        # text blocks
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "br",
        "address", "figure", "figcaption", "details", "summary",
        # lists
        "ul", "ol", "li", "dl", "dt", "dd",
        # inline
        "a", "span", "em", "strong", "b", "i", "u", "s", "strike", "del", "ins", "mark",
        "small", "sub", "sup", "code", "kbd", "samp", "var", "abbr", "cite", "q", "time",
        "dfn", "bdi", "bdo", "ruby", "rt", "rp", "wbr",
        # images
        "img", "picture",
        # tables
        "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td",
    }
)  # fmt: skip
"""Tags kept by `sanitize_html`; any other tag is removed and its text kept."""

ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title", "hreflang"}),
    "img": frozenset({"src", "alt", "title", "width", "height"}),
    "abbr": frozenset({"title"}),
    "dfn": frozenset({"title"}),
    "bdo": frozenset({"dir"}),
    "time": frozenset({"datetime"}),
    "ol": frozenset({"start", "reversed", "type"}),
    "li": frozenset({"value"}),
    "col": frozenset({"span"}),
    "colgroup": frozenset({"span"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan", "scope", "abbr"}),
}
"""Attributes kept per tag by `sanitize_html` (`rel` is set, never copied)."""

DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet",
        "template", "noembed", "noframes", "svg", "select", "textarea", "title",
    }
)  # fmt: skip
"""Tags removed together with everything inside them."""

URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "ftp"})
"""Schemes allowed in `href`/`src`; an attribute with any other scheme is removed."""

# The layout-bearing tags plain text needs; `html_to_text` first reduces any HTML to these.
_PARAGRAPH_TAGS = (
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "address",
    "figure", "details", "ul", "ol", "dl", "table", "section", "article", "header", "footer",
    "aside", "nav", "main",
)  # fmt: skip
_LINE_TAGS = ("br", "li", "dt", "dd", "tr", "td", "th", "figcaption", "caption", "summary")
_TEXT_TAGS = frozenset(_PARAGRAPH_TAGS + _LINE_TAGS)

# Each block tag, opening or closing, and each opening line tag leaves one mark: so "</p><p>"
# makes a blank line and "<li>" a new line.
_BREAK = re.compile(
    rf"</?(?:{'|'.join(_PARAGRAPH_TAGS)})\b[^>]*>|<(?:{'|'.join(_LINE_TAGS)})\b[^>]*>"
)
_ANY_TAG = re.compile(r"<[^>]*>")
# Text with no markup, no entity and nothing an HTML parser rewrites (CR, NUL, NBSP, BOM).
_PLAIN = re.compile(r"[^<>&\r\x00\xa0\ufeff]*\Z")
# Put where a line break goes, made a newline once whitespace is collapsed; a control
# character, so never part of the text.
_MARK = "\x01"
_PRE = re.compile(r"<pre\b[^>]*>.*?</pre>", re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")

# A relative URL in an href/src as nh3 writes it: lower-case tags, attribute values in double
# quotes with '"', '<' and '>' escaped, so neither text nor another attribute can match.
_RELATIVE_URL_ATTR = re.compile(
    r'(<(?:a|img)\s(?:[^>]*?\s)?(?:href|src)=")(?![A-Za-z][A-Za-z0-9+.\-]*:)([^"]*)"'
)
_ABSOLUTE_PREFIXES = tuple(
    f' {attribute}="{scheme}:' for attribute in ("href", "src") for scheme in sorted(URL_SCHEMES)
)
_SANITIZER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=DROPPED_WITH_CONTENT,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    link_rel="noopener noreferrer",
    strip_comments=True,
)
_TEXT_CLEANER = nh3.Cleaner(
    tags=_TEXT_TAGS,
    clean_content_tags=DROPPED_WITH_CONTENT,
    attributes={},
    link_rel=None,
)


def sanitize_html(html: str, base: str | None) -> str:
    """`html` made safe to show (see the module docstring), relative URLs resolved on `base`."""
    if not html or html.isspace():
        return ""
    if _PLAIN.match(html):  # nothing nh3 would change but the surrounding whitespace
        return without_surrogates(html.strip())
    try:
        clean = _SANITIZER.clean(html).strip()
    except UnicodeEncodeError:  # a lone surrogate (JSON can escape one): cannot be UTF-8
        clean = _SANITIZER.clean(without_surrogates(html)).strip()
    if "<pre>\n" in clean:
        # A newline right after <pre> is dropped by HTML parsers, and nh3 writes a leading
        # newline of the text as just one: double it, so that the text keeps it and
        # sanitizing again gives the same output.
        clean = clean.replace("<pre>\n", "<pre>\n\n")
    if base and _has_relative_url(clean):
        url_base = _url_base(base)
        if url_base is not None:
            clean = _RELATIVE_URL_ATTR.sub(partial(_resolve, url_base), clean)
    return clean


def _has_relative_url(clean: str) -> bool:
    """False when every href/src is plainly absolute: str.count is far faster than a regex."""
    attributes = clean.count(' href="') + clean.count(' src="')
    if not attributes:
        return False
    web = clean.count(' href="http') + clean.count(' src="http')
    if web == attributes:
        return False
    return sum(clean.count(prefix) for prefix in _ABSOLUTE_PREFIXES) < attributes


def html_to_text(html: str) -> str:
    """A plain-text rendition of any HTML fragment: paragraphs, line breaks, no markup."""
    if not html:
        return ""
    try:
        return text_from_sanitized(_TEXT_CLEANER.clean(html))
    except UnicodeEncodeError:  # a lone surrogate
        return text_from_sanitized(_TEXT_CLEANER.clean(without_surrogates(html)))


def without_surrogates(text: str) -> str:
    """`text` with each lone surrogate (unencodable in UTF-8) replaced by U+FFFD."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)


def text_from_sanitized(html: str) -> str:
    """Plain text from HTML that `sanitize_html` produced (cheaper than `html_to_text`)."""
    if _MARK in html:  # a control character: never text
        html = html.replace(_MARK, "")
    if "<pre" in html:
        html = _PRE.sub(_pre_newlines_to_breaks, html)
    if "<" in html:
        html = _BREAK.sub(_MARK, html)
        html = _ANY_TAG.sub("", html)
    if "&" in html:
        html = unescape(html)
    # Every run of whitespace (of any kind) becomes one space, spaces that touch a mark go,
    # marks become newlines: str.split/join/replace do this far faster than a regex could.
    text = " ".join(html.split())
    if _MARK in text:
        text = text.replace(" " + _MARK, _MARK).replace(_MARK + " ", _MARK)
        text = text.replace(_MARK, "\n").strip("\n")
        while "\n\n\n" in text:  # a few passes at most; a regex here costs more
            text = text.replace("\n\n\n", "\n\n")
    return text


def _pre_newlines_to_breaks(match: re.Match[str]) -> str:
    return match.group(0).replace("\r\n", "<br>").replace("\n", "<br>")


def _resolve(base: UrlBase, match: re.Match[str]) -> str:
    value = match.group(2)
    url = base.join(unescape(value) if "&" in value else value).replace(" ", "%20")
    return match.group(1) + _escape_attribute(url) + '"'


def _escape_attribute(value: str) -> str:
    """Escaped as nh3 serializes attribute values, so that sanitizing again changes nothing."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if '"' in value or "<" in value or ">" in value or "\xa0" in value:
        value = value.replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
        value = value.replace("\xa0", "&nbsp;")
    return value


@lru_cache(maxsize=256)
def _url_base(base: str) -> UrlBase | None:
    try:
        url_base = UrlBase(base)
    except ValueError:  # not an absolute URL: leave relative URLs as they are
        return None
    # Only a web base: on a "javascript://host/" one, a relative URL would become script.
    return url_base if url_base.scheme in WEB_SCHEMES else None
