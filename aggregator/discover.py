"""Find a site's feeds, or propose a page source when it has none; behind `discover` and `add`.

`discover(url, fetcher)` runs these stages in order:

    fetch      the URL, with the project's fetcher (politeness and limits as for sources)
    a feed?    a body that parses as a feed is the answer itself
    link tags  <link rel="alternate"> of a feed type (RSS, Atom, JSON Feed) on the page
    paths      when the page names none: COMMON_PATHS on the site's root
    check      each candidate is fetched and kept when it parses as a feed (title, entries)
    propose    when no feed was found: `propose_page` groups the page's article-looking
               links on the same site by shape (see `linkpattern.shape`); the largest group
               (at least MIN_GROUP links) becomes an `include` regex, checked by reading the
               page with it (see `pagelist`)

Failures are values: `Discovery.error` says why the page itself could not be read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from aggregator.encoding import decode
from aggregator.errors import ParseError
from aggregator.fetch import Fetcher
from aggregator.language import choose_language
from aggregator.linkpattern import looks_like_article, same_site, shape, shape_regex
from aggregator.models import FetchRequest, FetchResult, PageRules
from aggregator.pagelist import (
    ListItem,
    not_html,
    page_base,
    page_links,
    page_title,
    parse_html,
    read_list_page,
)
from aggregator.urls import canonical_url

COMMON_PATHS = ("/feed", "/rss", "/rss.xml", "/atom.xml", "/index.xml", "/feed.json", "/feed/")
"""Paths on a site's root where feeds often are, tried when the page names none."""

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
    }
)
"""Media types of <link rel="alternate"> that name a feed."""

MIN_GROUP = 2
"""The fewest same-shaped article links worth proposing a page source for."""

SAMPLES = 5
"""Article links shown with a proposal."""


@dataclass(frozen=True)
class FoundFeed:
    """A feed that was fetched and parsed; from discover to the CLI."""

    url: str
    title: str | None
    format: str
    entries: int
    how: str  # "the URL itself", "link tag" or "common path"


@dataclass(frozen=True)
class PageProposal:
    """Rules for a page source, with the article links they find on the page."""

    rules: PageRules
    samples: tuple[ListItem, ...]
    matched: int  # how many article links the rules find


@dataclass(frozen=True)
class Discovery:
    """What `discover` found at a URL."""

    url: str  # the page as fetched (after redirects)
    title: str | None = None  # the page's <title>
    language: str | None = None  # its <html lang> when the text agrees, else a guess
    feeds: tuple[FoundFeed, ...] = ()
    page: PageProposal | None = None
    error: str | None = None  # the page itself could not be fetched


async def discover(url: str, fetcher: Fetcher) -> Discovery:
    """The feeds of the site at `url`, or a page-source proposal (see the module docstring)."""
    fetched = await fetcher.fetch(FetchRequest(url=url))
    if fetched.status != "ok":
        return Discovery(url=url, error=fetched.error or fetched.status)
    final = fetched.final_url or url
    itself = _as_feed(fetched, final, "the URL itself")
    if itself is not None:
        return Discovery(url=final, title=itself.title, feeds=(itself,))
    text = decode(fetched.body, declared=fetched.charset)
    problem = not_html(text, fetched.content_type)
    tree = parse_html(text) if problem is None else None
    if tree is None:
        problem = problem or "is not HTML"
        if problem.startswith("is a feed"):
            problem = "looks like a feed but does not parse as one"
        return Discovery(url=final, error=f"neither a feed nor an HTML page: it {problem}")
    title = page_title(tree) or ""
    body = tree.find("body")
    text = body.text_content() if body is not None else ""
    language = choose_language((tree.get("lang"),), title, text)
    candidates = [(link, "link tag") for link in feed_links(fetched.body, final, fetched.charset)]
    if not candidates:
        candidates = [(u, "common path") for u in common_feed_urls(final)]
    feeds = await _check(fetcher, candidates)
    proposal = None if feeds else propose_page(fetched.body, final, fetched.charset)
    return Discovery(url=final, title=title or None, language=language, feeds=feeds, page=proposal)


def feed_links(html: bytes, url: str, charset: str | None = None) -> list[str]:
    """The feeds a page names with <link rel="alternate" type=…>, absolute, in order."""
    tree = parse_html(html, charset)
    if tree is None:
        return []
    base = page_base(tree, url)
    found: list[str] = []
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            absolute = canonical_url(href, base)
            if absolute.startswith(("http://", "https://")) and absolute not in found:
                found.append(absolute)
    return found


def common_feed_urls(url: str) -> list[str]:
    """COMMON_PATHS on the root of `url`'s site."""
    parts = urlsplit(url)
    return [urlunsplit((parts.scheme, parts.netloc, path, "", "")) for path in COMMON_PATHS]


def propose_page(html: bytes, url: str, charset: str | None = None) -> PageProposal | None:
    """Page-source rules for the largest group of same-shaped article links, or None."""
    tree = parse_html(html, charset)
    if tree is None:
        return None
    groups: dict[str, list[str]] = {}
    for item in page_links(tree, page_base(tree, url)):
        if same_site(item.url, url) and looks_like_article(item.url):
            urls = groups.setdefault(shape(item.url), [])
            if item.url not in urls:
                urls.append(item.url)
    if not groups:
        return None
    best = max(groups.values(), key=len)
    if len(best) < MIN_GROUP:
        return None
    rules = PageRules(include=(shape_regex(best[0]),))
    page = read_list_page(html, url=url, rules=rules, charset=charset)
    if not page.items:
        return None
    return PageProposal(rules=rules, samples=page.items[:SAMPLES], matched=len(page.items))


async def _check(fetcher: Fetcher, candidates: Sequence[tuple[str, str]]) -> tuple[FoundFeed, ...]:
    results = await asyncio.gather(*(fetcher.fetch(FetchRequest(url=u)) for u, _ in candidates))
    found: list[FoundFeed] = []
    seen: set[str] = set()
    for (url, how), fetched in zip(candidates, results, strict=True):
        feed = _as_feed(fetched, fetched.final_url or url, how) if fetched.status == "ok" else None
        if feed is not None and feed.url not in seen:
            seen.add(feed.url)
            found.append(feed)
    return tuple(found)


def _as_feed(fetched: FetchResult, url: str, how: str) -> FoundFeed | None:
    from aggregator.parse import parse_feed

    try:
        feed = parse_feed(
            fetched.body, url=url, content_type=fetched.content_type, charset=fetched.charset
        )
    except ParseError:
        return None
    return FoundFeed(
        url=url, title=feed.title, format=feed.format, entries=len(feed.entries), how=how
    )
