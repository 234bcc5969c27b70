"""The search results page: ranked hits with highlighted titles and snippets.

Pure rendering, like `pages`: every value from outside goes through `html.escape`, hits are
wrapped in <mark>. The page links to the same search as RSS, Atom and JSON Feed.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from aggregator.feedmeta import (
    MEDIA_TYPES,
    FeedFormat,
    FeedLinks,
    rfc3339,
    source_label,
    topic_title,
    utc,
    xml_text,
)
from aggregator.models import ServerConfig
from aggregator.pages import render_site_page, search_form
from aggregator.searchsnippet import Highlighted
from aggregator.store_search import SearchHit

_FORMAT_NAMES: dict[FeedFormat, str] = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}


def _e(text: str) -> str:
    return html.escape(xml_text(text), quote=True)


def marked(text: Highlighted) -> str:
    """Highlighted text as HTML, hits in <mark>."""
    return "".join(f"<mark>{_e(part)}</mark>" if hit else _e(part) for part, hit in text.parts)


def render_search_page(
    query: str,
    hits: Sequence[SearchHit] | None,
    *,
    server: ServerConfig,
    links: FeedLinks,
    filters: Sequence[tuple[str, str]] = (),
    topic: str | None = None,
    topic_titles: Mapping[str, str] | None = None,
    error: str | None = None,
) -> bytes:
    """The results of `query` (None: no search made), best first, or `error` in their place."""
    titles = dict(topic_titles or {})
    head = "".join(
        f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" title="Search: {_e(query)} ({name})"'
        f' href="{_e(links.feed(fmt))}">\n'
        for fmt, name in _FORMAT_NAMES.items()
    )
    narrowed = "".join(
        f" · {_e(name)}: <strong>{_e(topic_title(value, titles) if name == 'topic' else value)}"
        "</strong>"
        for name, value in filters
    )
    parts = [
        "<h1>Search</h1>\n",
        search_form(query, topic, "Search").replace('class="search', 'class="search wide', 1),
    ]
    if error is not None:
        parts.append(f'<p class="empty">{_e(error)}</p>\n')
    elif hits is not None:
        feeds = " ".join(
            f'<a href="{_e(links.feed(fmt))}" type="{MEDIA_TYPES[fmt]}">{name}</a>'
            for fmt, name in _FORMAT_NAMES.items()
        )
        count = f"{len(hits)} result{'' if len(hits) == 1 else 's'}"
        parts.append(f'<p class="hits">{count} for <strong>{_e(query)}</strong>{narrowed}</p>\n')
        parts.append(f'<p class="subscribe">Subscribe to this search: {feeds}</p>\n')
        if hits:
            items = "\n".join(_hit(hit, titles) for hit in hits)
            parts.append(f'<ol class="items">\n{items}\n</ol>\n')
        else:
            parts.append('<p class="empty">Nothing found.</p>\n')
    title = f"Search: {query}" if query else "Search"
    return render_site_page(title, "".join(parts), server=server, head=head)


def _hit(hit: SearchHit, titles: Mapping[str, str]) -> str:
    item = hit.item
    article = item.article
    lang = f' lang="{_e(article.language)}"' if article.language else ""
    heading = marked(hit.title) if hit.title.parts else "(untitled)"
    url = article.url if article.url and article.url.startswith(("http://", "https://")) else None
    if url:
        heading = f'<a href="{_e(url)}">{heading}</a>'
    published = utc(article.published)
    meta = [
        f'<span class="source">{_e(source_label(item))}</span>',
        f'<time datetime="{rfc3339(published)}">{published:%Y-%m-%d %H:%M} UTC</time>',
    ]
    for match in item.topics:
        label = _e(topic_title(match.topic, titles))
        if match.topic in titles:
            meta.append(f'<a class="topic" href="/topics/{_e(match.topic)}">{label}</a>')
        else:
            meta.append(f'<span class="topic">{label}</span>')
    snippet = marked(hit.snippet)
    summary = f'\n<p class="summary"{lang}>{snippet}</p>' if snippet else ""
    return (
        f'<li class="item"><h3{lang}>{heading}</h3>\n'
        f'<p class="meta">{" ".join(meta)}</p>{summary}</li>'
    )
