"""Page passes (pagesource, pagebuild): list pages and their articles from a local server,
stored in a real database; one test runs `aggregator fetch` end to end."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.config import load_config
from aggregator.core import Updater
from aggregator.health import note
from aggregator.models import Config, PageRules, SourceConfig, UpdateResult
from aggregator.process import MIN_JOBS_FOR_POOL
from aggregator.store import Store
from tests.server import FeedServer
from tests.test_cli import aggregator

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "listpages"
TOPICS = load_config(str(ROOT / "config" / "topics.yaml"), {}).topics
GOV_LIST = "/zwgk/zcwj/index.html"
GOV_PAGES = {
    "/zwgk/zcwj/202401/t20240122_1001.html": "gov-t20240122_1001.html",
    "/zwgk/zcwj/202401/t20240118_1000.html": "gov-t20240118_1000.html",
    "/zwgk/zcwj/202401/t20240115_999.html": "gov-t20240115_999.html",
    "/zwgk/zcwj/202312/t20231228_990.html": "gov-t20231228_990.html",
}
EN_PAGES = {
    "/news/2024/01/factory-output-rises-for-third-month": "en-factory-output.html",
    "/news/2024/01/new-battery-plant-opens-in-ohio": "en-battery-plant.html",
    "/news/members-meet-to-discuss-export-rules": "en-members-meet.html",
}


def serve(server: FeedServer) -> None:
    """The GBK list pages (no charset in the header) and the English one, with articles."""
    server.add(GOV_LIST, (DATA / "gov-list.html").read_bytes(), content_type="text/html")
    server.add(
        "/zwgk/zcwj/index_1.html", (DATA / "gov-list-2.html").read_bytes(), content_type="text/html"
    )
    server.add("/news/", (DATA / "en-list.html").read_bytes(), content_type="text/html")
    for path, name in {**GOV_PAGES, **EN_PAGES}.items():
        server.add(path, (DATA / name).read_bytes(), content_type="text/html")


def one_pass(store: Store, *sources: SourceConfig) -> list[UpdateResult]:
    config = Config(path="test.yaml", database_url="", sources=sources, topics=TOPICS)

    async def run() -> list[UpdateResult]:
        with Updater(config, store) as updater:
            updater.sync()
            return await updater.update(everything=True)

    return asyncio.run(run())


# ---------------------------------------------------------------- `aggregator fetch`


def test_fetch_stores_the_articles_of_list_pages_once(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    serve(feed_server)
    config = tmp_path / "aggregator.yaml"
    config.write_text(
        f"""database:
  url: sqlite:///{tmp_path / "agg.db"}
sources:
  - name: gd-policy
    url: {feed_server.url(GOV_LIST)}
    type: page
    page:
      item: ul.list li
      date: span.date
      next: a.next
      max_pages: 2
  - name: ema-news
    url: {feed_server.url("/news/")}
    type: page
""",
        encoding="utf-8",
    )
    first = aggregator("--config", str(config), "fetch", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "source=gd-policy status=ok new=4 updated=0" in first.stderr
    assert "source=ema-news status=ok new=3 updated=0" in first.stderr
    assert feed_server.hits("/zwgk/zcwj/index_2.html") == 0  # max_pages: 2

    listed = aggregator(
        "--config", str(config), "articles", "--json", "--limit", "50", cwd=tmp_path
    )
    found = {a["url"].split(":", 2)[2].split("/", 1)[1]: a for a in json.loads(listed.stdout)}
    gov = found["zwgk/zcwj/202401/t20240122_1001.html"]
    assert gov["title"] == "关于印发《制造业数字化转型行动方案》的通知"
    assert gov["published"] == "2024-01-22T02:30:00+00:00"  # PubDate 10:30 in Asia/Shanghai
    assert gov["language"] == "zh" and not gov["date_is_first_seen"]
    assert "关键工序数控化率达到65%" in gov["text"]
    assert "主办单位" not in gov["text"] and "打印本页" not in gov["text"]
    # no date in the page's meta: its info line (a day, read in Asia/Shanghai)
    assert found["zwgk/zcwj/202401/t20240115_999.html"]["published"] == "2024-01-14T16:00:00+00:00"
    assert found["zwgk/zcwj/202312/t20231228_990.html"]["title"] == (
        "关于公布2023年省级智能制造示范工厂名单的通知"
    )  # from the second list page
    factory = found["news/2024/01/factory-output-rises-for-third-month"]
    assert (
        factory["authors"] == ["Jane Doe"] and factory["published"] == "2024-01-22T08:00:00+00:00"
    )
    battery = found["news/2024/01/new-battery-plant-opens-in-ohio"]
    assert battery["published"] == "2024-01-20T00:00:00+00:00"  # the list's date
    members = found["news/members-meet-to-discuss-export-rules"]
    assert members["date_is_first_seen"] and members["published"] == members["first_seen"]

    # The list changes: one new article on top. Only its page is fetched.
    new_page = "/zwgk/zcwj/202401/t20240123_1002.html"
    listing = (DATA / "gov-list.html").read_bytes().decode("gbk")
    item = (
        '<li><a href="./202401/t20240123_1002.html">关于做好春节期间安全生产工作的通知</a>'
        '<span class="date">2024-01-23</span></li>'
    )
    feed_server.add(
        GOV_LIST,
        listing.replace('<ul class="list">', '<ul class="list">' + item).encode("gbk"),
        content_type="text/html",
    )
    feed_server.add(
        new_page, (DATA / "gov-t20240118_1000.html").read_bytes(), content_type="text/html"
    )
    second = aggregator("--config", str(config), "fetch", "--all", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "source=gd-policy status=ok new=1 updated=0" in second.stderr
    assert "source=ema-news status=not_modified" in second.stderr
    assert all(feed_server.hits(path) == 1 for path in [*GOV_PAGES, *EN_PAGES])
    assert feed_server.hits(new_page) == 1
    listed = aggregator(
        "--config", str(config), "articles", "--json", "--limit", "50", cwd=tmp_path
    )
    urls = [a["url"] for a in json.loads(listed.stdout)]
    assert len(urls) == len(set(urls)) == 8


# ---------------------------------------------------------------- in process


def gov_source(server: FeedServer, **changes: object) -> SourceConfig:
    source = SourceConfig(
        name="gov", url=server.url(GOV_LIST), type="page", page=PageRules(item="ul.list li")
    )
    return replace(source, **changes)  # type: ignore[arg-type]


def test_selectors_that_match_nothing_flag_the_source(
    feed_server: FeedServer, store: Store
) -> None:
    serve(feed_server)
    source = gov_source(feed_server, page=PageRules(item="ul.news-list li"))
    reason = "list page matched no items (selectors: item=ul.news-list li)"
    for _ in range(3):  # read in full every time, not answered with a 304
        (result,) = one_pass(store, source)
        assert (result.status, result.reason) == ("ok", reason)
    (row,) = store.health.report(datetime.now(UTC)).sources
    assert row.state == "empty" and row.empty_streak == 3
    assert note(row) == f"no entries for 3 fetches in a row: {reason}"
    assert store.sources()[0].last_error == reason

    fixed = gov_source(feed_server)  # the selector fixed: the source recovers
    (result,) = one_pass(store, fixed)
    assert result.new == 3 and result.reason is None
    assert store.sources()[0].empty_streak == 0 and store.sources()[0].last_error is None


def test_new_articles_wait_for_the_next_pass_and_failures_are_reported(
    feed_server: FeedServer, store: Store
) -> None:
    serve(feed_server)
    broken = "/zwgk/zcwj/202401/t20240118_1000.html"
    feed_server.add(broken, "overloaded", status=503, content_type="text/plain")
    feed_server.add("/zwgk/zcwj/202401/t20240115_999.html", "gone", status=404)
    source = gov_source(feed_server, max_new_per_pass=2)
    (first,) = one_pass(store, source)
    assert (first.status, first.new) == ("ok", 1)
    assert first.reason == (
        f"1 article page(s) failed: {feed_server.url(broken)}: HTTP 503 Service Unavailable; "
        "1 new article(s) left for the next pass"
    )
    assert store.sources()[0].etag is None  # so that the unchanged list is read again

    feed_server.add(
        broken, (DATA / "gov-t20240118_1000.html").read_bytes(), content_type="text/html"
    )
    (second,) = one_pass(store, source)
    assert (second.status, second.new) == ("ok", 2)
    gone_url = feed_server.url("/zwgk/zcwj/202401/t20240115_999.html")
    assert second.reason == f"1 article page(s) failed: {gone_url}: HTTP 404 Not Found"
    assert feed_server.hits(broken) == 2
    titles = {a.title: a for a in store.articles(source="gov")}
    gone = titles["省工业和信息化厅召开全省制造业高质量发展推进会"]  # 404: stored as listed
    assert gone.text == "" and gone.published == datetime(2024, 1, 14, 16, 0, tzinfo=UTC)
    assert len(titles) == 3
    (third,) = one_pass(store, source)
    assert third.status == "not_modified"
    assert [feed_server.hits(p) for p in GOV_PAGES] == [1, 2, 1, 0]  # no next page followed


def test_a_content_selector_overrides_extraction(feed_server: FeedServer, store: Store) -> None:
    serve(feed_server)
    (result,) = one_pass(store, gov_source(feed_server, content=".TRS_Editor p:first-child"))
    assert result.new == 3
    texts = {a.title: a.text for a in store.articles(source="gov")}
    assert texts["关于印发《制造业数字化转型行动方案》的通知"] == (
        "为深入贯彻落实党中央、国务院关于加快制造业数字化转型的决策部署，推动全省制造业高质量发展，"
        "现将有关事项通知如下。"
    )  # the selected paragraph only


FULL_TEXT_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>EMA</title><link>{base}/news/</link><description>d</description>
<item><title>Factory output rises for third month</title>
<link>{base}/news/2024/01/factory-output-rises-for-third-month</link>
<description>Output at member plants rose for the third month…</description>
<pubDate>Mon, 22 Jan 2024 08:00:00 +0000</pubDate></item>
<item><title>New battery plant opens in Ohio</title>
<link>{base}/news/2024/01/new-battery-plant-opens-in-ohio</link>
<description>A new battery cell plant opened…</description></item>
</channel></rss>"""


@pytest.mark.parametrize("full_text", [True, False])
def test_full_text_feeds_store_the_page_text(
    feed_server: FeedServer, store: Store, full_text: bool
) -> None:
    serve(feed_server)
    rss = FULL_TEXT_RSS.format(base=feed_server.base_url)
    feed_server.add("/feed.xml", rss, etag=None, last_modified=None)  # a 200 every time
    source = SourceConfig(name="ema", url=feed_server.url("/feed.xml"), full_text=full_text)
    (first,) = one_pass(store, source)
    assert first.new == 2
    article = next(a for a in store.articles(source="ema") if a.title.startswith("Factory"))
    assert article.summary == "Output at member plants rose for the third month…"
    survey = "according to the association's monthly survey of 420 manufacturers"
    assert (survey in article.text) is full_text
    assert (survey in article.content) is full_text
    assert article.published == datetime(2024, 1, 22, 8, 0, tzinfo=UTC)
    (second,) = one_pass(store, source)
    assert (second.new, second.updated) == (0, 0)
    path = "/news/2024/01/factory-output-rises-for-third-month"
    assert feed_server.hits(path) == (1 if full_text else 0)


def test_a_big_pass_reads_pages_on_worker_processes(feed_server: FeedServer, store: Store) -> None:
    serve(feed_server)
    sources = [
        gov_source(feed_server, name=f"gov-{n}", url=feed_server.url(f"{GOV_LIST}?copy={n}"))
        for n in range(MIN_JOBS_FOR_POOL)
    ]
    config = Config(path="test.yaml", database_url="", sources=tuple(sources), topics=TOPICS)

    async def run() -> list[UpdateResult]:
        with Updater(config, store, workers=1) as updater:
            updater.sync()
            results = await updater.update(everything=True)
            assert updater._pool._executor is not None  # the workers did the reading
            return results

    results = asyncio.run(run())
    assert [(r.status, r.new) for r in results] == [("ok", 3)] * MIN_JOBS_FOR_POOL
