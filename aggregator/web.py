"""Serve the site over HTTP: pages, feeds, OPML and health, with ETag/Last-Modified/304 and gzip.

    GET|HEAD /                         index: every feed, subscribe links, latest items
             /topics/{slug}            one feed's page ("all" or a configured topic)
             /feeds/{slug}.xml|.atom|.json
             /opml.xml                 every feed, for a feed reader
             /static/{name}            icon and stylesheet
             /healthz                  200 {"status": "ok", ...} when the database answers
             /search?q=…[&format=rss|atom|json]   full-text search (see web_search)
             /status, /status.json     every source's health; /metrics (see web_health)

A request for a page or feed goes:

    CachedHits    the same path and query answered from the cache before: send it, unrouted
    route         parse the path and `?limit=N` (400 when bad, 404 for an unknown topic or
                  format)
    cache.get     a hit does no database work (the store's data version is read at most once
                  per `revalidate_seconds`); a miss reads the items and renders them in a
                  worker thread, once however many requests wait for it
    respond       304, or the gzip or identity bytes, with ETag and Last-Modified

Blocking store calls and rendering run in Starlette's thread pool, so the event loop only
ever copies cached bytes. `app.state.invalidate()` drops the cache at once (for an in-process
fetch); `app.state.reconfigure(config)` publishes a reloaded config (and drops the cache);
`app.state.cache.renders` counts renders; `app.state.metrics` is the app's `Metrics`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from aggregator.errors import StorageError
from aggregator.feedmeta import ALL_SLUG, FORMAT_EXTENSIONS, MEDIA_TYPES, FeedFormat, FeedInfo
from aggregator.metrics import Metrics
from aggregator.models import Config, FeedItem
from aggregator.pages import STATIC_FILES, render_index, render_opml, render_topic_page
from aggregator.publish import render_feed
from aggregator.store import Store
from aggregator.web_health import health_routes, render_format
from aggregator.web_search import search_routes
from aggregator.webcache import RawHeaders, Rendered, ResponseCache, make_rendered, respond

MAX_LIMIT = 500
HTML = "text/html; charset=utf-8"
OPML = "text/x-opml; charset=utf-8"
_FORMATS: dict[str, FeedFormat] = {ext: fmt for fmt, ext in FORMAT_EXTENSIONS.items()}
_STATIC_TYPES = {"png": "image/png", "svg": "image/svg+xml", "css": "text/css; charset=utf-8"}


class Site:
    """What the server publishes, read from the config and the store (blocking calls)."""

    def __init__(self, config: Config, store: Store) -> None:
        """Index the configured topics; "all" is every article unless a topic takes its slug."""
        self.server = config.server
        self.store = store
        topics = [FeedInfo.for_topic(spec) for spec in config.topics]
        everything = (
            [] if any(t.slug == ALL_SLUG for t in topics) else [FeedInfo.all(self.server.title)]
        )
        self.infos = [*everything, *topics]
        self.by_slug = {info.slug: info for info in self.infos}
        self.titles = {info.slug: info.title for info in self.infos}
        self._everything = bool(everything)

    def items(self, slug: str, limit: int) -> list[FeedItem]:
        """The newest `limit` items of feed `slug`."""
        topic = None if slug == ALL_SLUG and self._everything else slug
        return self.store.topic_items(topic, limit)

    def feed(self, fmt: FeedFormat, info: FeedInfo, limit: int) -> bytes:
        """Feed `info` in format `fmt`."""
        items = self.items(info.slug, limit)
        now = datetime.now(UTC)
        return render_feed(fmt, info, items, server=self.server, now=now, topic_titles=self.titles)

    def index(self, limit: int) -> bytes:
        """The front page with the newest `limit` items of all."""
        latest = self.store.topic_items(None, limit)
        return render_index(self.infos, latest, server=self.server)

    def topic_page(self, info: FeedInfo, limit: int) -> bytes:
        """The page of feed `info`."""
        items = self.items(info.slug, limit)
        return render_topic_page(info, items, server=self.server, topic_titles=self.titles)

    def opml(self) -> bytes:
        """The OPML list of every feed."""
        return render_opml(self.infos, server=self.server)


def create_app(
    config: Config,
    store: Store,
    *,
    revalidate_seconds: float = 2.0,
    metrics: Metrics | None = None,
) -> Starlette:
    """The Starlette app serving `store` as `config` describes; see the module docstring."""
    site = Site(config, store)
    metrics = metrics or Metrics(store)
    cache = ResponseCache(lambda: run_in_threadpool(store.data_version), revalidate_seconds)
    default_limit = max(1, min(MAX_LIMIT, config.server.feed_limit))

    async def cached(
        request: Request, key: Hashable, render: Callable[[], bytes], content_type: str
    ) -> Response:
        async def build(last_modified: int) -> Rendered:
            rendered = await run_in_threadpool(
                lambda: make_rendered(render(), content_type, last_modified)
            )
            metrics.record_render(render_format(content_type))
            return rendered

        try:
            rendered = await cache.get(key, build)
        except StorageError as exc:
            return _text(503, f"database unavailable: {exc.reason}")
        cache.alias(request.scope["path"], request.scope["query_string"], key)
        return _reply(request, rendered)

    async def index(request: Request) -> Response:
        limit = _limit(request, default_limit)
        if isinstance(limit, Response):
            return limit
        return await cached(request, ("index", limit), lambda: site.index(limit), HTML)

    async def topic(request: Request) -> Response:
        slug = request.path_params["slug"]
        info = site.by_slug.get(slug)
        if info is None:
            return _text(404, f"no topic {slug!r}")
        limit = _limit(request, default_limit)
        if isinstance(limit, Response):
            return limit
        return await cached(
            request, ("topic", slug, limit), lambda: site.topic_page(info, limit), HTML
        )

    async def feed(request: Request) -> Response:
        name = request.path_params["name"]
        slug, _, ext = name.rpartition(".")
        fmt = _FORMATS.get(ext)
        if fmt is None:
            return _text(404, f"no feed format {ext!r} (use .xml, .atom or .json)")
        info = site.by_slug.get(slug)
        if info is None:
            return _text(404, f"no topic {slug!r}")
        limit = _limit(request, default_limit)
        if isinstance(limit, Response):
            return limit
        content_type = f"{MEDIA_TYPES[fmt]}; charset=utf-8"
        return await cached(
            request, ("feed", slug, fmt, limit), lambda: site.feed(fmt, info, limit), content_type
        )

    async def opml(request: Request) -> Response:
        return await cached(request, ("opml",), site.opml, OPML)

    async def healthz(request: Request) -> Response:
        try:
            version = await run_in_threadpool(store.data_version)
        except StorageError as exc:
            body = {"status": "error", "database": "unreachable", "error": str(exc)}
            return _json(503, body)
        return _json(200, {"status": "ok", "database": "reachable", "data_version": version})

    static = {
        name: make_rendered(data, _STATIC_TYPES[name.rpartition(".")[2]], 0, "max-age=86400")
        for name, data in STATIC_FILES.items()
    }

    async def static_file(request: Request) -> Response:
        name = request.path_params["name"]
        rendered = static.get(name)
        if rendered is None:
            return _text(404, f"no file {name!r}")
        return _reply(request, rendered)

    app = Starlette(
        middleware=[Middleware(CachedHits, cache=cache)],
        routes=[
            Route("/", index, methods=["GET", "HEAD"]),
            Route("/topics/{slug}", topic, methods=["GET", "HEAD"]),
            Route("/feeds/{name}", feed, methods=["GET", "HEAD"]),
            Route("/opml.xml", opml, methods=["GET", "HEAD"]),
            Route("/static/{name}", static_file, methods=["GET", "HEAD"]),
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            *search_routes(lambda: site, cached),
            *health_routes(lambda: site.server, store, metrics),
        ],
    )

    def reconfigure(new: Config) -> None:
        """Publish what `new` describes from the next request on; drops the cache."""
        nonlocal site, default_limit
        site = Site(new, store)
        default_limit = max(1, min(MAX_LIMIT, new.server.feed_limit))
        app.state.site = site
        cache.invalidate()

    app.state.site = site
    app.state.cache = cache
    app.state.metrics = metrics
    app.state.invalidate = cache.invalidate
    app.state.reconfigure = reconfigure
    return app


def serve(config: Config, store: Store) -> None:
    """Serve `store` on the configured host and port until interrupted (uvicorn)."""
    app = create_app(config, store)
    uvicorn.run(
        app,
        host=config.server.host,
        port=config.server.port,
        log_level="warning",
        access_log=False,
    )


def app_from_environment() -> Starlette:
    """The app for the config at $AGGREGATOR_CONFIG (else the default path), own store included.

    For several server processes: `uvicorn --factory aggregator.web:app_from_environment
    --workers 2`; each worker opens the store and keeps its own cache.
    """
    from aggregator.config import find_config_path, load_config

    config = load_config(find_config_path(None))
    store = Store(
        config.database_url,
        busy_timeout=config.database_busy_timeout,
        story_threshold=config.stories.threshold,
    )
    return create_app(config, store)


def _limit(request: Request, default: int) -> int | Response:
    """`?limit=N` as an int in 1..MAX_LIMIT, the default when absent, else a 400 response."""
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT:
        return int(raw)
    return _text(400, f"limit must be a whole number from 1 to {MAX_LIMIT}")


class CachedHits:
    """ASGI middleware: answer a GET or HEAD seen before straight from the cache, unrouted.

    Only requests a route has already validated and answered from the cache (the same path
    and query string) are recognised; anything else, and every request while a data version
    check is due, goes on to the routes.
    """

    def __init__(self, app: ASGIApp, cache: ResponseCache) -> None:
        """Wrap `app` (the router) with `cache` in front."""
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the cached response if there is one, else pass the request on."""
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            rendered = self.cache.lookup(scope["path"], scope["query_string"])
            if rendered is not None:
                status, headers, body = _negotiate(scope, rendered)
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _negotiate(scope: Scope, rendered: Rendered) -> tuple[int, RawHeaders, bytes]:
    """(status, headers, body) for this request of `rendered`: 304, gzip or identity."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _CONDITIONS:
            text = value.decode("latin-1")
            found[name] = f"{found[name]}, {text}" if name in found else text
    status, headers, body = respond(
        rendered,
        accept_encoding=found.get(b"accept-encoding"),
        if_none_match=found.get(b"if-none-match"),
        if_modified_since=found.get(b"if-modified-since"),
    )
    return status, headers, b"" if scope["method"] == "HEAD" else body


_CONDITIONS = frozenset((b"accept-encoding", b"if-none-match", b"if-modified-since"))


class _RenderedResponse(Response):
    """A negotiated `Rendered` as a Starlette response."""

    def __init__(self, status: int, headers: RawHeaders, body: bytes) -> None:
        self.status_code = status
        self.body = body
        self.raw_headers = list(headers)
        self.background = None


def _reply(request: Request, rendered: Rendered) -> Response:
    return _RenderedResponse(*_negotiate(request.scope, rendered))


def _text(status: int, message: str) -> Response:
    return Response(message + "\n", status, media_type="text/plain; charset=utf-8")


def _json(status: int, body: Mapping[str, object]) -> Response:
    data = json.dumps(body).encode("utf-8")
    return Response(
        data, status, media_type="application/json", headers={"cache-control": "no-store"}
    )
