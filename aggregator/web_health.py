"""The web app's health routes; mounted by `web.create_app`.

    GET|HEAD /status          HTML: every source's health, worst first   (?empty_after=N)
             /status.json     the same as JSON (docs/monitoring.md)      (?empty_after=N)
             /metrics         Prometheus text format (metrics.Metrics)

Never cached: each request reads the store (in the thread pool) at the current time. A
database that cannot be read gives 503 with a one-line reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.errors import StorageError
from aggregator.feedmeta import MEDIA_TYPES
from aggregator.health import EMPTY_AFTER, HealthReport, report_json
from aggregator.metrics import CONTENT_TYPE, Metrics
from aggregator.models import ServerConfig
from aggregator.statuspage import render_status
from aggregator.store import Store

MAX_EMPTY_AFTER = 1000
_NO_STORE = {"cache-control": "no-store"}
_FORMATS = {media_type: fmt for fmt, media_type in MEDIA_TYPES.items()}


def render_format(content_type: str) -> str:
    """The `format` label of a rendered response: rss, atom, json, opml or html."""
    media_type = content_type.partition(";")[0].strip()
    if media_type in _FORMATS:
        return _FORMATS[media_type]
    return "opml" if media_type == "text/x-opml" else "html"


def health_routes(
    server: Callable[[], ServerConfig], store: Store, metrics: Metrics
) -> list[Route]:
    """The /status, /status.json and /metrics routes; `server()` names the site at the time."""

    async def report(request: Request) -> HealthReport | Response:
        raw = request.query_params.get("empty_after")
        empty_after = EMPTY_AFTER
        if raw is not None:
            if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_EMPTY_AFTER):
                return _text(400, f"empty_after must be a whole number from 1 to {MAX_EMPTY_AFTER}")
            empty_after = int(raw)
        now = datetime.now(UTC)
        try:
            return await run_in_threadpool(
                lambda: store.health.report(now, empty_after=empty_after)
            )
        except StorageError as exc:
            return _text(503, f"database unavailable: {exc.reason}")

    async def status_page(request: Request) -> Response:
        found = await report(request)
        if isinstance(found, Response):
            return found
        body = render_status(found, server=server())
        return Response(body, 200, media_type="text/html; charset=utf-8", headers=_NO_STORE)

    async def status_json(request: Request) -> Response:
        found = await report(request)
        if isinstance(found, Response):
            return found
        body = json.dumps(report_json(found), ensure_ascii=False, indent=2) + "\n"
        return Response(body.encode("utf-8"), 200, media_type="application/json", headers=_NO_STORE)

    async def metrics_text(request: Request) -> Response:
        body = await run_in_threadpool(metrics.exposition)
        return Response(body, 200, headers={**_NO_STORE, "content-type": CONTENT_TYPE})

    methods = ["GET", "HEAD"]
    return [
        Route("/status", status_page, methods=methods),
        Route("/status.json", status_json, methods=methods),
        Route("/metrics", metrics_text, methods=methods),
    ]


def _text(status: int, message: str) -> Response:
    return Response(message + "\n", status, media_type="text/plain; charset=utf-8")
