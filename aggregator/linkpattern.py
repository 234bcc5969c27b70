r"""What article links look like: pure URL heuristics for page sources and `discover`.

same_site(url, page)      the same host, ignoring "www." and subdomains of each other
looks_like_article(url)   a path with a date or a long number (/2024/01/t20240122_123.html,
                          content_12345.htm, /a/98765, /2024/art_12.html), or a long slug
                          (/news/factory-output-rises-in-june); never an index, list,
                          tag, category, search or login page, nor a document or image file
shape(url)                the URL with its varying parts generalized: digit runs → \d+,
                          a slug → [^/]+, e.g. /zwgk/\d+/t\d+_\d+\.html
shape_regex(url)          an `include` regex matching every URL of the same shape
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

_DATE_IN_PATH = re.compile(
    r"/(?:19|20)\d\d[/-]?[01]\d(?:[/-]?[0-3]\d)?(?:/|$)"  # /2024/01/, /202401/, /2024-01-22/
    r"|(?<!\d)(?:19|20)\d\d[01]\d[0-3]\d(?!\d)"  # t20240122_123.html, 20240122-slug
)
_YEAR_SEGMENT = re.compile(r"/(?:19|20)\d\d/")
_LONG_NUMBER = re.compile(r"\d{4,}")
_SLUG_WORD = re.compile(r"[A-Za-z0-9]+")
_INDEX_LEAF = re.compile(
    r"^(?:index|default|list|home|main)(?:[_-]\d+)?(?:\.[a-z]+)?$", re.IGNORECASE
)
_NOT_ARTICLE_SEGMENTS = frozenset(
    {
        "tag",
        "tags",
        "category",
        "categories",
        "author",
        "authors",
        "page",
        "search",
        "login",
        "logout",
        "register",
        "signin",
        "signup",
        "about",
        "contact",
        "help",
        "feed",
        "rss",
        "subscribe",
        "privacy",
        "terms",
        "sitemap",
        "cart",
        "account",
    }
)
_FILE_EXTENSIONS = frozenset(
    {
        "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "wps", "et", "ofd", "zip", "rar",
        "7z", "gz", "jpg", "jpeg", "png", "gif", "webp", "svg", "mp3", "mp4", "avi", "flv",
        "exe", "apk", "xml", "json", "css", "js", "txt", "csv",
    }
)  # fmt: skip
_ID_PARAMS = re.compile(
    r"^(?:id|aid|tid|docid|doc_id|articleid|article_id|newsid|contentid)$", re.I
)
_DIGITS = re.compile(r"\d+")
_SECOND_LEVEL = frozenset({"gov", "com", "edu", "org", "net", "ac", "co", "or", "ne", "go"})


def host_key(url: str) -> str:
    """The URL's host, lower-cased, without a leading "www."."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def same_site(url: str, page: str) -> bool:
    """True when `url` is on the host of `page` (or a subdomain of it, or it of `url`'s);
    "gov.cn", "co.uk" and the like are suffixes, not sites."""
    a, b = host_key(url), host_key(page)
    if not a or not b:
        return False
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    return longer.endswith("." + shorter) and not _is_suffix(shorter)


def _is_suffix(host: str) -> bool:
    labels = host.split(".")
    return len(labels) < 2 or (len(labels) == 2 and labels[0] in _SECOND_LEVEL)


def looks_like_article(url: str) -> bool:
    """True when `url` has the shape of one article's page (see the module docstring)."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if not segments and not parts.query:
        return False
    if any(s.lower() in _NOT_ARTICLE_SEGMENTS for s in segments[:-1] or segments):
        return False
    leaf = segments[-1] if segments else ""
    stem, _, extension = leaf.rpartition(".") if "." in leaf else (leaf, "", "")
    if extension.lower() in _FILE_EXTENSIONS:
        return False
    if _INDEX_LEAF.match(leaf) and not parts.query:
        return False
    if _DATE_IN_PATH.search(parts.path):
        return True
    if _LONG_NUMBER.search(stem) or (_YEAR_SEGMENT.search(parts.path) and _DIGITS.search(stem)):
        return True
    if any(_ID_PARAMS.match(name) and value.isdigit() for name, value in parse_qsl(parts.query)):
        return True
    return _is_slug(stem) and len(segments) >= 1


def _is_slug(segment: str) -> bool:
    words = _SLUG_WORD.findall(segment)
    return len(words) >= 4 and segment.count("-") + segment.count("_") >= 3


def shape(url: str) -> str:
    """The URL's host and path with varying parts generalized (see the module docstring)."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    out = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        stem, dot, extension = segment.rpartition(".") if "." in segment else (segment, "", "")
        if last and _is_slug(stem):
            out.append("[^/]+" + (re.escape("." + extension) if dot else ""))
        else:
            out.append(_generalize(segment))
    query = ""
    names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True)]
    if names:
        query = r"\?" + "&".join(re.escape(n) + "=[^&]*" for n in names)
    return host_key(url) + "/".join(out) + query


def _generalize(segment: str) -> str:
    pieces = []
    at = 0
    for match in _DIGITS.finditer(segment):
        pieces.append(re.escape(segment[at : match.start()]))
        pieces.append(r"\d+")
        at = match.end()
    pieces.append(re.escape(segment[at:]))
    return "".join(pieces)


def shape_regex(url: str) -> str:
    """An `include` regex (searched in absolute URLs) matching every URL shaped like `url`."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    named = not host.replace(".", "").isdigit() and ":" not in host  # not an IP address
    host_pattern = (r"(?:www\.)?" if named else "") + re.escape(host.removeprefix("www."))
    port = f":{parts.port}" if parts.port else ""
    path = shape(url)[len(host_key(url)) :]
    return rf"^https?://{host_pattern}{re.escape(port)}{path}$"
