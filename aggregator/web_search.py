"""The web app's search route; mounted by `web.create_app`.

    GET|HEAD /search?q=QUERY[&topic=T][&source=S][&language=L][&since=D][&until=D][&limit=N]
                    [&format=rss|atom|json]

Without `format`, the HTML results page (ranked, with highlighted snippets); with one, the
same search as a feed that a reader can subscribe to, rendered by the feed writers with a
self link that spells the parameters in one fixed order. Responses are cached like every
page and feed (ETag, 304) until the data changes. A missing or unusable query, or a bad
parameter, is a 400 with a one-line message; an unknown topic or format a 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.feedmeta import ALL_SLUG, MEDIA_TYPES, FeedFormat, FeedInfo, FeedLinks
from aggregator.pages_search import render_search_page
from aggregator.publish import render_feed
from aggregator.searchtext import QueryError, SearchQuery, parse_query, parse_when
from aggregator.store_search import SearchFilters

if TYPE_CHECKING:
    from aggregator.web import Site

Cached = Callable[[Request, Hashable, Callable[[], bytes], str], Awaitable[Response]]
HTML = "text/html; charset=utf-8"
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
_FILTERS = ("topic", "source", "language", "since", "until")
_FORMATS: tuple[FeedFormat, ...] = ("rss", "atom", "json")


@dataclass(frozen=True)
class SearchLinks(FeedLinks):
    """The URLs of one search: its page, and the same search as a feed in each format."""

    query: str = ""  # the canonical query string, without `format`

    @property
    def page(self) -> str:
        """The results page (the feed's alternate link and id)."""
        return f"{self.base_url.rstrip('/')}/search?{self.query}"

    def feed(self, fmt: FeedFormat) -> str:
        """The search as a feed in one format (its self link)."""
        return f"{self.page}&format={fmt}"


@dataclass(frozen=True)
class SearchRequest:
    """A search as the URL asked for it, checked."""

    query: SearchQuery
    params: tuple[tuple[str, str], ...]  # q first, then the filters given, in _FILTERS order
    filters: SearchFilters
    limit: int
    format: FeedFormat | None

    @property
    def query_string(self) -> str:
        """The canonical query string (without `format`)."""
        limit = () if self.limit == DEFAULT_LIMIT else (("limit", str(self.limit)),)
        return urlencode((*self.params, *limit))


def parse_request(request: Request, topics: set[str], now: datetime) -> SearchRequest | Response:
    """The checked search of `request`, else a 400 or 404 response."""
    args = request.query_params
    fmt = args.get("format") or None
    if fmt is not None and fmt not in _FORMATS and fmt != "html":
        return _text(404, f"no search format {fmt!r} (use rss, atom or json)")
    text = args.get("q", "")
    if not text.strip():
        return _text(400, "missing query: add ?q=WORDS")
    try:
        query = parse_query(text)
        values = {name: args[name].strip() for name in _FILTERS if args.get(name, "").strip()}
        since = parse_when(values["since"], now) if "since" in values else None
        until = parse_when(values["until"], now, end_of_day=True) if "until" in values else None
    except QueryError as exc:
        return _text(400, str(exc))
    topic = values.get("topic")
    if topic == ALL_SLUG and topic not in topics:
        del values["topic"]
        topic = None
    if topic is not None and topic not in topics:
        return _text(404, f"no topic {topic!r}")
    raw_limit = args.get("limit", str(DEFAULT_LIMIT))
    if not (raw_limit.isascii() and raw_limit.isdigit() and 1 <= int(raw_limit) <= MAX_LIMIT):
        return _text(400, f"limit must be a whole number from 1 to {MAX_LIMIT}")
    filters = SearchFilters(
        topic=topic,
        source=values.get("source"),
        language=values.get("language"),
        since=since,
        until=until,
    )
    params = (("q", query.text), *((name, values[name]) for name in _FILTERS if name in values))
    chosen = next((f for f in _FORMATS if f == fmt), None)
    return SearchRequest(query, params, filters, int(raw_limit), chosen)


def search_routes(get_site: Callable[[], Site], cached: Cached) -> list[Route]:
    """The /search route, reading the current site (config) through `get_site`."""

    async def search(request: Request) -> Response:
        site = get_site()
        topics = {info.slug for info in site.infos}
        asked = parse_request(request, topics, datetime.now(UTC))
        if isinstance(asked, Response):
            wants_html = "text/html" in request.headers.get("accept", "")
            if asked.status_code == 400 and wants_html and not request.query_params.get("format"):
                return _page_error(site, request, asked)
            return asked
        links = SearchLinks(site.server.base_url, "search", asked.query_string)
        key = ("search", asked.query_string, asked.format)
        if asked.format is None:
            return await cached(request, key, lambda: _page(site, asked, links), HTML)
        content_type = f"{MEDIA_TYPES[asked.format]}; charset=utf-8"
        return await cached(request, key, lambda: _feed(site, asked, links), content_type)

    return [Route("/search", search, methods=["GET", "HEAD"])]


def _page(site: Site, asked: SearchRequest, links: SearchLinks) -> bytes:
    hits = site.store.search.search(asked.query, asked.filters, asked.limit)
    return render_search_page(
        asked.query.text,
        hits,
        server=site.server,
        links=links,
        filters=asked.params[1:],
        topic=asked.filters.topic,
        topic_titles=site.titles,
    )


def _feed(site: Site, asked: SearchRequest, links: SearchLinks) -> bytes:
    assert asked.format is not None
    hits = site.store.search.search(asked.query, asked.filters, asked.limit)
    narrowed = "".join(f", {name} {value}" for name, value in asked.params[1:])
    info = FeedInfo(
        "search",
        f"{site.server.title}: search “{asked.query.text}”{narrowed}",
        f"Articles matching “{asked.query.text}”{narrowed}, best matches, newest first.",
    )
    return render_feed(
        asked.format,
        info,
        [hit.item for hit in hits],
        server=site.server,
        now=datetime.now(UTC),
        topic_titles=site.titles,
        links=links,
    )


def _page_error(site: Site, request: Request, asked: Response) -> Response:
    """A 400 for the HTML page: the search page with the message and the box to try again."""
    message = bytes(asked.body).decode("utf-8").strip()
    links = SearchLinks(site.server.base_url, "search", urlencode({"q": ""}))
    body = render_search_page(
        request.query_params.get("q", "").strip(),
        None,
        server=site.server,
        links=links,
        topic=request.query_params.get("topic") or None,
        topic_titles=site.titles,
        error=message,
    )
    return Response(body, 400, media_type=HTML)


def _text(status: int, message: str) -> Response:
    return Response(message + "\n", status, media_type="text/plain; charset=utf-8")
