"""The /search route: the real app under a real uvicorn on 127.0.0.1, over a real SQLite store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest

from aggregator import jsonfeed
from aggregator.store import Store
from aggregator.web import create_app
from tests.feeddata import BASE_URL, config, fill_store, html_tree, item
from tests.liveserver import LiveServer

ITEMS = [
    item(
        1,
        title="关于加快推进制造业政策的通知",
        text="各区要落实智能制造专项政策。",
        summary="",
        language="zh-cn",
    ),
    item(
        2,
        source="factory-news",
        topics=("manufacturing",),
        title="新能源汽车工厂投产 <script>alert(1)</script>",
        text="新能源汽车工厂主体建设已经基本完成，相关政策支持。",
        summary="",
        language="zh-cn",
    ),
    item(
        3,
        source="factory-news",
        topics=("manufacturing",),
        title="Small manufacturers report strong orders",
        text="Factory output rose as orders recovered.",
        language="en",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server over a store with the items above."""
    folder: Path = tmp_path_factory.mktemp("web-search")
    url = f"sqlite:///{folder / 'web.db'}"
    store = Store(url)
    fill_store(store, ITEMS)
    live = LiveServer(create_app(config(url), store, revalidate_seconds=3600.0))
    yield live
    live.close()
    store.close()


def q(text: str) -> str:
    return quote(text)


def test_the_results_page_is_ranked_and_highlighted(server: LiveServer) -> None:
    reply = server.request(f"/search?q={q('政策')}")
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    tree = html_tree(reply.body)
    titles = [h.text_content() for h in tree.xpath("//ol[@class='items']/li/h3")]
    assert titles[0] == "关于加快推进制造业政策的通知"  # the title match first
    assert len(titles) == 2
    assert "政策" in [m.text for m in tree.xpath("//ol[@class='items']//mark")]
    assert tree.xpath("//main//form[@role='search']//input[@name='q']/@value") == ["政策"]
    feeds = tree.xpath("//link[@rel='alternate']/@href")
    assert f"{BASE_URL}/search?q={q('政策')}&format=atom" in feeds
    assert b"<script>alert" not in reply.body


def test_filters_come_from_the_query_string(server: LiveServer) -> None:
    reply = server.request(f"/search?q={q('政策')}&topic=manufacturing")
    tree = html_tree(reply.body)
    titles = [h.text_content() for h in tree.xpath("//ol[@class='items']/li/h3")]
    assert titles == ["新能源汽车工厂投产 <script>alert(1)</script>"]
    reply = server.request(f"/search?q={q('政策')}&source=gov-policy&language=zh")
    assert len(html_tree(reply.body).xpath("//ol[@class='items']/li")) == 1
    reply = server.request(f"/search?q={q('政策')}&since=2024-05-01&until=2024-05-01")
    assert len(html_tree(reply.body).xpath("//ol[@class='items']/li")) == 2
    reply = server.request(f"/search?q={q('政策')}&until=2024-04-30")
    assert html_tree(reply.body).xpath("//p[@class='empty']/text()") == ["Nothing found."]


EXPECTED = "Small manufacturers report strong orders"


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_a_search_is_a_feed_with_a_stable_self_link(server: LiveServer, fmt: str) -> None:
    path = f"/search?q={q('manufacturing')}&topic=manufacturing&format={fmt}"
    reply = server.request(path)
    assert reply.status == 200
    self_link = f"{BASE_URL}/search?q=manufacturing&topic=manufacturing&format={fmt}"
    if fmt == "json":  # feedparser 6.0 does not read JSON Feed: our reader of it does
        assert json.loads(reply.body)["feed_url"] == self_link
        feed = jsonfeed.parse(reply.body.decode("utf-8"), url=self_link)
        assert feed.format == "json11"
        assert [(e.title, e.link) for e in feed.entries] == [(EXPECTED, ITEMS[2].article.url)]
        assert feed.title is not None and "manufacturing" in feed.title
        return
    parsed = feedparser.parse(reply.body)
    assert not parsed.bozo, parsed.bozo_exception
    assert [(e.title, e.link) for e in parsed.entries] == [(EXPECTED, ITEMS[2].article.url)]
    assert "manufacturing" in parsed.feed.title
    links = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert links == [self_link]


def test_the_self_link_does_not_depend_on_parameter_order(server: LiveServer) -> None:
    one = server.request(f"/search?format=json&topic=policy&q={q('政策')}")
    two = server.request(f"/search?q={q('政策')}&topic=policy&format=json")
    assert json.loads(one.body)["feed_url"] == json.loads(two.body)["feed_url"]


def test_a_search_feed_answers_conditional_requests(server: LiveServer) -> None:
    path = f"/search?q={q('新能源汽车')}&format=atom"
    first = server.request(path)
    again = server.request(path, If_None_Match=first.headers["etag"])
    assert again.status == 304


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/search", 400, "missing query: add ?q=WORDS\n"),
        ("/search?q=", 400, "missing query: add ?q=WORDS\n"),
        (f"/search?q={q('，。')}", 400, "nothing to search for in '，。': "),
        ("/search?q=x&since=yesterday", 400, "bad date 'yesterday'"),
        ("/search?q=x&limit=0", 400, "limit must be a whole number from 1 to 100\n"),
        ("/search?q=x&format=xml", 404, "no search format 'xml' (use rss, atom or json)\n"),
        ("/search?q=x&topic=nope", 404, "no topic 'nope'\n"),
    ],
)
def test_bad_searches_get_a_one_line_message(
    server: LiveServer, path: str, status: int, message: str
) -> None:
    reply = server.request(path)
    assert reply.status == status
    text = reply.body.decode("utf-8")
    assert text.startswith(message)
    assert text.count("\n") == 1


def test_a_browser_gets_the_search_page_with_the_message(server: LiveServer) -> None:
    reply = server.request("/search?q=", Accept="text/html,application/xhtml+xml")
    assert reply.status == 400
    tree = html_tree(reply.body)
    assert tree.xpath("//p[@class='empty']/text()") == ["missing query: add ?q=WORDS"]
    assert tree.xpath("//form[@role='search']")


def test_index_and_topic_pages_have_a_search_box(server: LiveServer) -> None:
    index = html_tree(server.request("/").body)
    assert index.xpath("//header//form[@action='/search']//input[@name='q']")
    topic = html_tree(server.request("/topics/policy").body)
    scoped = topic.xpath("//main//form[@action='/search']")
    assert scoped
    assert scoped[0].xpath(".//input[@name='topic']/@value") == ["policy"]
