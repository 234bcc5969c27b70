"""Tests for web: the real app under a real uvicorn on 127.0.0.1, over a real SQLite store."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

import feedparser
import pytest

from aggregator.store import Store
from aggregator.web import create_app
from tests.feeddata import config, fill_store, html_tree, item, nasty_items
from tests.liveserver import LiveServer, Reply


def open_store(folder: Path) -> Store:
    """A SQLite store in `folder` with three policy items and the nasty ones."""
    opened = Store(f"sqlite:///{folder / 'web.db'}")
    fill_store(opened, [item(n) for n in range(5, 8)] + nasty_items())
    return opened


def serve(store: Store, folder: Path, revalidate: float = 3600.0) -> LiveServer:
    """The app over `store`, re-reading its data version every `revalidate` seconds."""
    settings = config(f"sqlite:///{folder / 'web.db'}")
    return LiveServer(create_app(settings, store, revalidate_seconds=revalidate))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the tests that change no data."""
    folder = tmp_path_factory.mktemp("web")
    opened = open_store(folder)
    live = serve(opened, folder)
    yield live
    live.close()
    opened.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A store of this test's own, for tests that change data."""
    opened = open_store(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def own_server(store: Store, tmp_path: Path) -> Iterator[LiveServer]:
    """A server over this test's own store, never re-reading the data version by itself."""
    live = serve(store, tmp_path)
    yield live
    live.close()


def renders(server: LiveServer) -> int:
    return int(server.app.state.cache.renders)


# ---------------------------------------------------------------- routes


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/topics/policy", "text/html; charset=utf-8"),
        ("/topics/all", "text/html; charset=utf-8"),
        ("/feeds/policy.xml", "application/rss+xml; charset=utf-8"),
        ("/feeds/manufacturing.atom", "application/atom+xml; charset=utf-8"),
        ("/feeds/all.json", "application/feed+json; charset=utf-8"),
        ("/opml.xml", "text/x-opml; charset=utf-8"),
        ("/static/icon.png", "image/png"),
    ],
)
def test_routes_answer_with_their_content_type_and_validators(
    server: LiveServer, path: str, content_type: str
) -> None:
    reply = server.request(path)
    assert reply.status == 200
    assert reply.headers["content-type"] == content_type
    assert reply.headers["etag"].startswith('"') and reply.headers["etag"].endswith('"')
    modified = parsedate_to_datetime(reply.headers["last-modified"]).timestamp()
    assert modified <= time.time() + 1
    assert int(reply.headers["content-length"]) == len(reply.body)


def test_feeds_hold_the_stored_items(server: LiveServer) -> None:
    policy = feedparser.parse(server.request("/feeds/policy.xml").body)
    assert policy.bozo == 0
    assert len(policy.entries) == 6  # items 5-7 and nasty items 1, 2 and 4
    assert policy.entries[0].title.startswith("Tariffs <rise>")
    assert policy.feed.links[1].href == "https://feeds.example.org/feeds/policy.xml"
    manufacturing = feedparser.parse(server.request("/feeds/manufacturing.atom").body)
    assert [e.title for e in manufacturing.entries] == [
        "Control chars in title",
        "制造业：新质生产力",
    ]
    everything = json.loads(server.request("/feeds/all.json").body)
    assert len(everything["items"]) == 7
    three = json.loads(server.request("/feeds/all.json?limit=3").body)
    assert len(three["items"]) == 3
    page = html_tree(server.request("/topics/manufacturing").body)
    assert page.xpath("//li[@class='item']//h3/a/text()") == [
        "Control chars in title",
        "制造业：新质生产力",
    ]


def test_healthz_reports_the_database(server: LiveServer) -> None:
    reply = server.request("/healthz")
    assert reply.status == 200
    body = json.loads(reply.body)
    assert body["status"] == "ok" and body["database"] == "reachable"
    assert isinstance(body["data_version"], int)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/feeds/nope.xml", 404, "no topic 'nope'"),
        ("/feeds/policy.rss", 404, "no feed format 'rss'"),
        ("/feeds/policy", 404, "no feed format"),
        ("/topics/nope", 404, "no topic 'nope'"),
        ("/static/passwd", 404, "no file"),
        ("/feeds/policy.xml?limit=0", 400, "limit must be"),
        ("/feeds/policy.xml?limit=501", 400, "limit must be"),
        ("/feeds/policy.xml?limit=abc", 400, "limit must be"),
        ("/feeds/policy.xml?limit=-1", 400, "limit must be"),
        ("/feeds/policy.xml?limit=", 400, "limit must be"),
        ("/topics/policy?limit=2.5", 400, "limit must be"),
    ],
)
def test_bad_requests_get_a_short_message(
    server: LiveServer, path: str, status: int, message: str
) -> None:
    reply = server.request(path)
    assert reply.status == status
    assert message in reply.body.decode()
    assert len(reply.body) < 200


# ---------------------------------------------------------------- conditional GET, HEAD, gzip


def test_if_none_match_gets_304_without_a_body(server: LiveServer) -> None:
    first = server.request("/feeds/policy.atom")
    etag = first.headers["etag"]
    again = server.request("/feeds/policy.atom", If_None_Match=etag)
    assert again.status == 304 and again.body == b""
    assert again.headers["etag"] == etag
    assert server.request("/feeds/policy.atom", If_None_Match=f'"x", W/{etag}').status == 304
    assert server.request("/feeds/policy.atom", If_None_Match='"other"').status == 200
    other_limit = server.request("/feeds/policy.atom?limit=2", If_None_Match=etag)
    assert other_limit.status == 200  # a different representation


def test_if_modified_since_applies_only_without_if_none_match(server: LiveServer) -> None:
    first = server.request("/")
    modified = first.headers["last-modified"]
    assert server.request("/", If_Modified_Since=modified).status == 304
    later = formatdate(parsedate_to_datetime(modified).timestamp() + 60, usegmt=True)
    assert server.request("/", If_Modified_Since=later).status == 304
    earlier = formatdate(parsedate_to_datetime(modified).timestamp() - 60, usegmt=True)
    assert server.request("/", If_Modified_Since=earlier).status == 200
    assert server.request("/", If_Modified_Since="not a date").status == 200
    mismatch = server.request("/", If_None_Match='"other"', If_Modified_Since=modified)
    assert mismatch.status == 200


def test_head_sends_the_headers_of_get_without_the_body(server: LiveServer) -> None:
    get = server.request("/feeds/policy.json")
    head = server.request("/feeds/policy.json", method="HEAD")
    assert head.status == 200 and head.body == b""
    for name in ("content-type", "content-length", "etag", "last-modified"):
        assert head.headers[name] == get.headers[name]
    assert server.request("/healthz", method="HEAD").status == 200


def test_gzip_when_asked_with_its_own_etag(server: LiveServer) -> None:
    plain = server.request("/feeds/policy.xml")
    zipped = server.request("/feeds/policy.xml", Accept_Encoding="gzip, deflate")
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == plain.body
    assert len(zipped.body) < len(plain.body)
    assert zipped.headers["vary"] == "Accept-Encoding" == plain.headers["vary"]
    assert zipped.headers["etag"] != plain.headers["etag"]
    again = server.request(
        "/feeds/policy.xml", Accept_Encoding="gzip", If_None_Match=zipped.headers["etag"]
    )
    assert again.status == 304
    refused = server.request("/feeds/policy.xml", Accept_Encoding="gzip;q=0, identity")
    assert "content-encoding" not in refused.headers and refused.body == plain.body
    assert server.request("/", Accept_Encoding="*").headers["content-encoding"] == "gzip"


# ---------------------------------------------------------------- caching


def test_a_cached_response_is_reused_until_invalidated(
    own_server: LiveServer, store: Store
) -> None:
    server = own_server
    before = renders(server)
    first = server.request("/feeds/policy.xml")
    assert renders(server) == before + 1
    for _ in range(5):
        assert server.request("/feeds/policy.xml").body == first.body
    server.request("/feeds/policy.xml", Accept_Encoding="gzip")
    server.request("/feeds/policy.xml", method="HEAD")
    assert renders(server) == before + 1  # the same (path, limit): no render, no query
    assert server.request("/feeds/policy.xml?limit=50").body == first.body  # the default limit
    assert renders(server) == before + 1
    fill_store(store, [item(0, title="Breaking news")])
    assert server.request("/feeds/policy.xml").body == first.body  # version not re-read yet
    server.app.state.invalidate()
    fresh = server.request("/feeds/policy.xml")
    assert renders(server) == before + 2
    assert feedparser.parse(fresh.body).entries[0].title == "Breaking news"
    assert fresh.headers["etag"] != first.headers["etag"]


def test_a_new_data_version_drops_the_cache(store: Store, tmp_path: Path) -> None:
    live = serve(store, tmp_path, revalidate=0.0)  # re-read the version on every request
    try:
        first = live.request("/topics/policy")
        count = renders(live)
        assert live.request("/topics/policy").body == first.body
        assert renders(live) == count  # the version did not change
        fill_store(store, [item(0, title="Breaking news")])
        fresh = live.request("/topics/policy", If_None_Match=first.headers["etag"])
        assert fresh.status == 200 and b"Breaking news" in fresh.body
        assert renders(live) == count + 1
    finally:
        live.close()


def test_concurrent_requests_for_a_cold_resource_render_it_once(own_server: LiveServer) -> None:
    server = own_server
    before = renders(server)
    replies: list[Reply] = []
    threads = [
        threading.Thread(target=lambda: replies.append(server.request("/feeds/all.atom?limit=7")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status for r in replies] == [200] * 8
    assert len({r.body for r in replies}) == 1
    assert renders(server) == before + 1


def test_a_lost_database_fails_health_but_cached_feeds_stay(store: Store, tmp_path: Path) -> None:
    live = serve(store, tmp_path, revalidate=0.0)
    try:
        cached = live.request("/feeds/policy.xml")
        store.close()
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"web.db{suffix}").unlink(missing_ok=True)
        (tmp_path / "web.db").mkdir()  # the path is now a folder: SQLite cannot open it
        assert live.request("/feeds/policy.xml").body == cached.body
        health = live.request("/healthz")
        assert health.status == 503
        assert json.loads(health.body)["database"] == "unreachable"
        missing = live.request("/feeds/manufacturing.xml")
        assert missing.status == 503 and missing.body.startswith(b"database unavailable: ")
    finally:
        live.close()
