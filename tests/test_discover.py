"""Finding a site's feeds, or proposing a page source (discover), against a local server."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from aggregator.discover import Discovery, discover, feed_links
from aggregator.fetch import HttpFetcher
from aggregator.models import FetchSettings
from tests.server import FeedServer

DATA = Path(__file__).parent / "data" / "listpages"
HTML = "text/html; charset=utf-8"
RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Factory news</title><link>https://example.test/</link>
<item><guid>f-1</guid><title>New battery factory opens</title></item>
<item><guid>f-2</guid><title>Output rises</title></item>
</channel></rss>"""
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Policy</title><id>urn:x</id>
<updated>2024-01-01T00:00:00Z</updated></feed>"""


def run(server: FeedServer, path: str) -> Discovery:
    async def go() -> Discovery:
        async with HttpFetcher(FetchSettings()) as fetcher:
            return await discover(server.url(path), fetcher)

    return asyncio.run(go())


def test_link_tags_name_the_feeds(feed_server: FeedServer) -> None:
    page = (
        '<html lang="en"><head><title>Example</title>'
        '<link rel="alternate" type="application/rss+xml" href="/feeds/all.rss">'
        '<link rel="Alternate" type="application/atom+xml; charset=utf-8" href="atom.xml">'
        '<link rel="alternate" type="application/rss+xml" href="/missing.rss">'
        '<link rel="stylesheet" type="text/css" href="/style.css"></head><body></body></html>'
    )
    feed_server.add("/blog/", page, content_type=HTML)
    feed_server.add("/feeds/all.rss", RSS)
    feed_server.add("/blog/atom.xml", ATOM, content_type="application/atom+xml")
    feed_server.add("/rss.xml", RSS)  # not tried: the page names its feeds
    found = run(feed_server, "/blog/")
    assert found.title == "Example" and found.language == "en" and found.error is None
    assert [(f.url, f.title, f.format, f.entries, f.how) for f in found.feeds] == [
        (feed_server.url("/feeds/all.rss"), "Factory news", "rss20", 2, "link tag"),
        (feed_server.url("/blog/atom.xml"), "Policy", "atom10", 0, "link tag"),
    ]
    assert found.page is None
    assert feed_server.hits("/rss.xml") == 0 and feed_server.hits("/missing.rss") == 1


def test_common_paths_are_tried_when_the_page_names_no_feed(feed_server: FeedServer) -> None:
    feed_server.add("/news/", (DATA / "en-list.html").read_bytes(), content_type=HTML)
    feed_server.redirect("/feed", "/feed/")
    feed_server.add("/feed/", RSS)
    feed_server.add("/index.xml", "<html><body>not a feed</body></html>", content_type="text/xml")
    found = run(feed_server, "/news/")
    assert [(f.url, f.how) for f in found.feeds] == [(feed_server.url("/feed/"), "common path")]
    assert feed_server.hits("/rss.xml") == 1  # tried and missing


def test_a_feed_url_is_its_own_answer(feed_server: FeedServer) -> None:
    feed_server.add("/rss.xml", RSS)
    found = run(feed_server, "/rss.xml")
    assert [(f.url, f.how) for f in found.feeds] == [
        (feed_server.url("/rss.xml"), "the URL itself")
    ]
    assert feed_server.hits("/feed") == 0


def test_a_site_without_feeds_gets_a_page_proposal(feed_server: FeedServer) -> None:
    feed_server.add(
        "/zwgk/zcwj/index.html", (DATA / "gov-list.html").read_bytes(), content_type="text/html"
    )
    found = run(feed_server, "/zwgk/zcwj/index.html")
    assert found.feeds == () and found.page is not None
    assert found.title == "政策文件_某某省工业和信息化厅" and found.language == "zh"
    (pattern,) = found.page.rules.include
    assert re.search(pattern, feed_server.url("/zwgk/zcwj/202312/t20231201_7.html"))
    assert not re.search(pattern, feed_server.url("/zwgk/zcjd/202312/t20231201_888.html"))
    assert found.page.matched == 3
    assert found.page.samples[0].title == "关于印发《制造业数字化转型行动方案》的通知"


def test_a_page_with_no_article_links_gets_nothing(feed_server: FeedServer) -> None:
    feed_server.add("/", "<html><body><a href='/about'>About</a></body></html>", content_type=HTML)
    found = run(feed_server, "/")
    assert found.feeds == () and found.page is None and found.error is None


def test_failures_are_values(feed_server: FeedServer) -> None:
    found = run(feed_server, "/nothing-here")
    assert found.error == "HTTP 404 Not Found"
    feed_server.add("/blob", b"", content_type="application/octet-stream")
    assert run(feed_server, "/blob").error == "neither a feed nor an HTML page: it is empty"
    feed_server.add("/a.pdf", b"%PDF-1.7\n1 0 obj <<>>", content_type="application/pdf")
    assert run(feed_server, "/a.pdf").error == (
        "neither a feed nor an HTML page: it is not HTML (application/pdf)"
    )


def test_feed_links_resolve_on_base_href() -> None:
    html = (
        b'<html><head><base href="https://cdn.example.org/x/">'
        b'<link rel="alternate" type="application/feed+json" href="feed.json"></head></html>'
    )
    assert feed_links(html, "https://example.org/") == ["https://cdn.example.org/x/feed.json"]
