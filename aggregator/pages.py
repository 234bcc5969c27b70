"""The site's HTML pages (index and one page per topic) and its OPML subscription list.

Server-rendered from plain string templates; every value from outside goes through
`html.escape`. The stylesheet (`static/style.css`) is inlined, so a page is one request and
needs no JavaScript. Links are root-relative when served, file-relative in a static export.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files

from aggregator import PROJECT_URL, __version__
from aggregator.feedmeta import (
    FAVICON_PATH,
    FORMAT_EXTENSIONS,
    MEDIA_TYPES,
    FeedFormat,
    FeedInfo,
    FeedLinks,
    item_title,
    ordered,
    plain_summary,
    rfc3339,
    source_label,
    topic_title,
    utc,
    xml_text,
)
from aggregator.models import FeedItem, ServerConfig

STATIC_FILES: dict[str, bytes] = {
    name: (files("aggregator") / "static" / name).read_bytes()
    for name in ("icon.png", "icon.svg", "style.css")
}
"""The site's static files by name, as served under `/static/`."""

_CSS = STATIC_FILES["style.css"].decode("utf-8")
_FORMAT_NAMES: dict[FeedFormat, str] = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}


@dataclass(frozen=True)
class _Paths:
    """How one page links to the rest of the site."""

    root: str  # "/" when served; "" or "../" from a file of a static export
    suffix: str  # ".html" in a static export

    def home(self) -> str:
        return self.root + "index.html" if self.suffix else self.root

    def topic(self, slug: str) -> str:
        return f"{self.root}topics/{slug}{self.suffix}"

    def feed(self, slug: str, fmt: FeedFormat) -> str:
        return f"{self.root}feeds/{slug}.{FORMAT_EXTENSIONS[fmt]}"

    def asset(self, path: str) -> str:
        return self.root + path


def _paths(static: bool, depth: int) -> _Paths:
    if not static:
        return _Paths("/", "")
    return _Paths("../" * depth, ".html")


def _e(text: str) -> str:
    return html.escape(xml_text(text), quote=True)


# ---------------------------------------------------------------- OPML


def render_opml(infos: Sequence[FeedInfo], *, server: ServerConfig) -> bytes:
    """An OPML 2.0 list of every feed's RSS URL, with its HTML page."""
    outlines = []
    for info in infos:
        links = FeedLinks(server.base_url, info.slug)
        outlines.append(
            f'    <outline type="rss" text="{_e(info.title)}" title="{_e(info.title)}"'
            f' description="{_e(info.description)}" xmlUrl="{_e(links.feed("rss"))}"'
            f' htmlUrl="{_e(links.page)}"/>'
        )
    body = "\n".join(outlines)
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<opml version="2.0">\n'
        "  <head>\n"
        f"    <title>{_e(server.title)}</title>\n"
        "    <docs>http://opml.org/spec2.opml</docs>\n"
        "  </head>\n"
        "  <body>\n"
        f"{body}\n"
        "  </body>\n"
        "</opml>\n"
    )
    return text.encode("utf-8")


# ---------------------------------------------------------------- pages


def render_index(
    infos: Sequence[FeedInfo],
    latest: Sequence[FeedItem],
    *,
    server: ServerConfig,
    static: bool = False,
) -> bytes:
    """The front page: every feed with its subscribe links, then the latest items."""
    paths = _paths(static, 0)
    titles = {info.slug: info.title for info in infos}
    cards = "\n".join(_card(info, paths) for info in infos)
    discovery = "".join(_discovery(info, paths) for info in infos)
    body = (
        f"<h1>{_e(server.title)}</h1>\n"
        '<p class="lead">Topical feeds merged from many sources. Subscribe in any feed reader, '
        f'or take them all as <a href="{paths.asset("opml.xml")}">OPML</a>.</p>\n'
        '<h2 id="topics">Topics</h2>\n'
        f'<ul class="cards">\n{cards}\n</ul>\n'
        '<h2 id="latest">Latest</h2>\n'
        f"{_item_list(latest, paths, titles)}\n"
    )
    return _page(server.title, server, paths, discovery, body)


def render_topic_page(
    info: FeedInfo,
    items: Sequence[FeedItem],
    *,
    server: ServerConfig,
    topic_titles: Mapping[str, str] | None = None,
    static: bool = False,
) -> bytes:
    """One feed's page: its title, description and subscribe links, then its items."""
    paths = _paths(static, 1)
    titles = dict(topic_titles or {})
    titles.setdefault(info.slug, info.title)
    body = (
        f"<h1>{_e(info.title)}</h1>\n"
        f'<p class="lead">{_e(info.description)}</p>\n'
        f"{_subscribe(info, paths)}\n"
        f"{'' if static else search_form(topic=info.slug, label=f'Search {info.title}')}"
        '<h2 id="items">Latest</h2>\n'
        f"{_item_list(items, paths, titles)}\n"
    )
    title = f"{info.title} · {server.title}"
    return _page(title, server, paths, _discovery(info, paths), body)


def render_site_page(title: str, body: str, *, server: ServerConfig, head: str = "") -> bytes:
    """A served page of the site: `body` (HTML) with the site's header, styles and footer."""
    return _page(f"{title} · {server.title}", server, _paths(False, 0), head, body)


def _page(title: str, server: ServerConfig, paths: _Paths, head: str, body: str) -> bytes:
    text = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="aggregator {__version__}">
<title>{_e(title)}</title>
<link rel="icon" type="image/svg+xml" href="{paths.asset(FAVICON_PATH)}">
{head}<style>
{_CSS}</style>
</head>
<body>
<header class="site"><div class="wrap">
<a class="brand" href="{paths.home()}"><img src="{paths.asset(FAVICON_PATH)}" alt="">\
{_e(server.title)}</a>
<nav><a href="{paths.home()}#topics">Topics</a> · <a href="{paths.asset("opml.xml")}">OPML</a></nav>
{"" if paths.suffix else search_form()}
</div></header>
<main class="wrap">
{body}</main>
<footer><div class="wrap">Made by <a href="{PROJECT_URL}">aggregator</a> {__version__}.\
</div></footer>
</body>
</html>
"""
    return text.encode("utf-8")


def search_form(query: str = "", topic: str | None = None, label: str = "Search") -> str:
    """A search box posting to the served site's /search (none in a static export)."""
    hidden = f'<input type="hidden" name="topic" value="{_e(topic)}">' if topic else ""
    css = "search" if topic is None else "search scoped"
    return (
        f'<form class="{css}" action="/search" method="get" role="search">{hidden}'
        f'<input type="search" name="q" value="{_e(query)}" placeholder="{_e(label)}"'
        f' aria-label="{_e(label)}"></form>\n'
    )


def _discovery(info: FeedInfo, paths: _Paths) -> str:
    return "".join(
        f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" title="{_e(info.title)} ({name})"'
        f' href="{paths.feed(info.slug, fmt)}">\n'
        for fmt, name in _FORMAT_NAMES.items()
    )


def _subscribe(info: FeedInfo, paths: _Paths) -> str:
    links = " ".join(
        f'<a href="{paths.feed(info.slug, fmt)}" type="{MEDIA_TYPES[fmt]}">{name}</a>'
        for fmt, name in _FORMAT_NAMES.items()
    )
    return f'<p class="subscribe">Subscribe: {links}</p>'


def _card(info: FeedInfo, paths: _Paths) -> str:
    return (
        f'<li class="card"><h3><a href="{paths.topic(info.slug)}">{_e(info.title)}</a></h3>\n'
        f"<p>{_e(info.description)}</p>\n{_subscribe(info, paths)}</li>"
    )


def _item_list(items: Sequence[FeedItem], paths: _Paths, titles: Mapping[str, str]) -> str:
    if not items:
        return '<p class="empty">No items yet.</p>'
    return (
        '<ol class="items">\n'
        + "\n".join(_item(i, paths, titles) for i in ordered(items))
        + "\n</ol>"
    )


def _item(item: FeedItem, paths: _Paths, titles: Mapping[str, str]) -> str:
    article = item.article
    lang = f' lang="{_e(article.language)}"' if article.language else ""
    title = _e(item_title(item))
    url = article.url if article.url and article.url.startswith(("http://", "https://")) else None
    heading = f'<a href="{_e(url)}">{title}</a>' if url else title
    source = _e(source_label(item))
    home = item.source_link
    if home and home.startswith(("http://", "https://")):
        source = f'<a class="source" href="{_e(home)}">{source}</a>'
    else:
        source = f'<span class="source">{source}</span>'
    published = utc(article.published)
    meta = [
        source,
        f'<time datetime="{rfc3339(published)}">{published:%Y-%m-%d %H:%M} UTC</time>',
    ]
    for match in item.topics:
        label = _e(topic_title(match.topic, titles))
        if match.topic in titles:
            meta.append(f'<a class="topic" href="{paths.topic(match.topic)}">{label}</a>')
        else:
            meta.append(f'<span class="topic">{label}</span>')
    summary = plain_summary(item)
    summary_html = f'\n<p class="summary"{lang}>{_e(summary)}</p>' if summary else ""
    return (
        f'<li class="item"><h3{lang}>{heading}</h3>\n'
        f'<p class="meta">{" ".join(meta)}</p>{summary_html}</li>'
    )
