"""Page sources end to end, against a local server and a real SQLite file: a list page that is
unreachable or no HTML page, a next page that fails, a `content:` selector that misses,
per-host limits on article pages, the Chinese default zone, undated articles never dated
again, a list whose selectors match nothing flagged by `aggregator sources` and `status`,
and policy-document fields reaching the published feeds."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from aggregator.core import Updater
from aggregator.models import Config, FetchSettings, PageRules, SourceConfig, UpdateResult
from aggregator.store import Store
from tests.server import FeedServer, refused_url
from tests.test_cli import aggregator
from tests.test_pagesource import DATA, GOV_LIST, TOPICS, gov_source, one_pass, serve

ARTICLE = (DATA / "en-factory-output.html").read_bytes()


def test_a_list_page_that_is_unreachable_or_not_html_fails_the_source(
    feed_server: FeedServer, store: Store
) -> None:
    feed_server.add("/report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", content_type="application/pdf")
    feed_server.add(
        "/news.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
        content_type="application/rss+xml",
    )
    feed_server.add("/blank.html", b"", content_type="text/html")
    sources = [
        SourceConfig(name=name, url=url, type="page")
        for name, url in [
            ("pdf", feed_server.url("/report.pdf")),
            ("feed", feed_server.url("/news.xml")),
            ("blank", feed_server.url("/blank.html")),
            ("missing", feed_server.url("/no-such-list.html")),
            ("refused", refused_url("/list.html")),
        ]
    ]
    results = {r.source: r for r in one_pass(store, *sources)}
    reasons = {name: (r.status, r.reason) for name, r in results.items()}
    assert reasons == {
        "pdf": ("error", "list page is not HTML (application/pdf)"),
        "feed": ("error", "list page is a feed (RSS), not HTML: configure it as type: feed"),
        "blank": ("error", "list page is empty"),
        "missing": ("error", "HTTP 404 Not Found"),
        "refused": ("error", "connection refused"),
    }
    stored = {s.name: s for s in store.sources()}
    assert all(s.error_streak == 1 and s.last_error == reasons[s.name][1] for s in stored.values())
    assert all("\n" not in (r.reason or "") for r in results.values())


def test_a_next_page_that_fails_keeps_what_the_first_one_listed(
    feed_server: FeedServer, store: Store
) -> None:
    serve(feed_server)
    feed_server.add("/zwgk/zcwj/index_1.html", b"%PDF-1.4", content_type="application/pdf")
    source = gov_source(feed_server, page=PageRules(item="ul.list li", next="a.next"))
    (result,) = one_pass(store, source)
    next_url = feed_server.url("/zwgk/zcwj/index_1.html")
    assert (result.status, result.new) == ("ok", 3)
    assert result.reason == (
        f"1 article page(s) failed: {next_url}: list page is not HTML (application/pdf)"
    )


def test_article_pages_keep_to_the_per_host_limit(feed_server: FeedServer, store: Store) -> None:
    rows = "".join(
        f'<li><a href="/news/2024/01/story-number-{n}-of-the-week">Story {n}</a></li>'
        for n in range(6)
    )
    feed_server.add(
        "/news/", f"<html><body><ul>{rows}</ul></body></html>", content_type="text/html"
    )
    for n in range(6):
        feed_server.add(
            f"/news/2024/01/story-number-{n}-of-the-week",
            ARTICLE,
            content_type="text/html",
            delay=0.3,
        )
    source = SourceConfig(name="news", url=feed_server.url("/news/"), type="page")
    config = Config(
        path="test.yaml",
        database_url="",
        sources=(source,),
        topics=TOPICS,
        fetch=FetchSettings(per_host=2),
    )

    async def run() -> list[UpdateResult]:
        with Updater(config, store) as updater:
            updater.sync()
            return await updater.update(everything=True)

    (result,) = asyncio.run(run())
    assert (result.status, result.new) == ("ok", 6)
    assert feed_server.peak_in_flight() == 2


def test_list_dates_of_a_chinese_source_are_read_in_shanghai(
    feed_server: FeedServer, store: Store
) -> None:
    """No `timezone:`: `language: zh` makes zone-less dates Asia/Shanghai; for a feed too."""
    feed_server.add(
        "/list.html",
        '<html><body><ul class="list"><li><a href="/a/2024/t20240122_1.html">关于推进制造业'
        "数字化转型的通知</a><span>2024-01-22 10:30</span></li></ul></body></html>",
        content_type="text/html; charset=utf-8",
    )
    feed_server.add("/a/2024/t20240122_1.html", b"gone", status=410)  # kept as listed
    feed_server.add(
        "/feed.xml",
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><guid>1</guid><title>通知</title><pubDate>2024-01-22 10:30</pubDate></item>"
        "</channel></rss>",
    )
    page = SourceConfig(
        name="zh-page",
        url=feed_server.url("/list.html"),
        type="page",
        language="zh",
        page=PageRules(item="ul.list li"),
    )
    feed = SourceConfig(name="zh-feed", url=feed_server.url("/feed.xml"), language="zh-CN")
    utc = SourceConfig(name="utc-feed", url=feed_server.url("/feed.xml"))
    one_pass(store, page, feed, utc)
    published = {a.source: a.published for a in store.articles()}
    assert published == {
        "zh-page": datetime(2024, 1, 22, 2, 30, tzinfo=UTC),
        "zh-feed": datetime(2024, 1, 22, 2, 30, tzinfo=UTC),
        "utc-feed": datetime(2024, 1, 22, 10, 30, tzinfo=UTC),
    }


def test_sources_and_status_flag_a_list_that_matches_nothing(
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
      item: ul.news-list li
""",
        encoding="utf-8",
    )
    reason = "list page matched no items (selectors: item=ul.news-list li)"
    for _ in range(3):
        done = aggregator("--config", str(config), "fetch", "--all", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "source=gd-policy status=ok new=0 updated=0 ms=" in done.stderr
    listed = aggregator("--config", str(config), "sources", cwd=tmp_path)
    (row_line,) = [line for line in listed.stdout.splitlines() if "gd-policy" in line]
    assert row_line.split()[:2] == ["gd-policy", "empty"]
    assert "no entries" in listed.stdout  # the note (folded by the table at 80 columns)
    (row,) = json.loads(
        aggregator("--config", str(config), "sources", "--json", cwd=tmp_path).stdout
    )
    assert (row["last_error"], row["empty_streak"]) == (reason, 3)
    status = aggregator("--config", str(config), "status", "--json", cwd=tmp_path)
    (health,) = json.loads(status.stdout)["sources"]
    assert (health["state"], health["last_error"]) == ("empty", reason)


def test_an_undated_article_is_never_dated_again(feed_server: FeedServer, store: Store) -> None:
    serve(feed_server)
    source = SourceConfig(name="ema", url=feed_server.url("/news/"), type="page")
    (first,) = one_pass(store, source)
    assert first.new == 3
    title = "Members meet to discuss export rules"
    (before,) = [a for a in store.articles(source="ema") if a.title == title]
    assert before.date_is_first_seen and before.published == before.first_seen

    # The list changes (so it is read again) and now shows a date beside that article.
    listing = (DATA / "en-list.html").read_text("utf-8")
    dated = listing.replace(
        '<p><a href="/news/members-meet-to-discuss-export-rules">Read more</a></p>',
        '<p><time datetime="2024-01-21">January 21, 2024</time></p>',
    )
    assert dated != listing
    feed_server.add("/news/", dated, content_type="text/html")
    (second,) = one_pass(store, source)
    assert (second.status, second.new, second.updated) == ("ok", 0, 0)
    (after,) = [a for a in store.articles(source="ema") if a.title == title]
    assert (after.published, after.date_is_first_seen) == (before.published, True)
    assert feed_server.hits("/news/members-meet-to-discuss-export-rules") == 1


def test_a_content_selector_that_matches_no_page_fails_the_source_and_stores_nothing(
    feed_server: FeedServer, store: Store
) -> None:
    serve(feed_server)
    redesigned = gov_source(feed_server, content="div.article-body")
    (first,) = one_pass(store, redesigned)
    assert first.status == "error" and first.reason is not None
    assert first.reason.startswith(
        "content selector 'div.article-body' matched nothing on 3 article page(s), e.g. "
        + feed_server.url("/zwgk/zcwj/202401/")
    )
    assert store.articles(source="gov") == [] and store.sources()[0].error_streak == 1

    (fixed,) = one_pass(store, gov_source(feed_server, content=".TRS_Editor"))
    assert (fixed.status, fixed.new) == ("ok", 3)
    assert all(a.text for a in store.articles(source="gov"))


def test_a_content_selector_that_misses_one_page_keeps_it_as_listed(
    feed_server: FeedServer, store: Store
) -> None:
    serve(feed_server)
    odd = "/zwgk/zcwj/202401/t20240118_1000.html"
    feed_server.add(odd, ARTICLE, content_type="text/html")  # another layout
    (result,) = one_pass(store, gov_source(feed_server, content=".TRS_Editor"))
    assert (result.status, result.new) == ("ok", 3)
    assert result.reason == (
        f"1 article page(s) failed: {feed_server.url(odd)}: "
        "content selector '.TRS_Editor' matched nothing"
    )
    texts = sorted(bool(a.text) for a in store.articles(source="gov"))
    assert texts == [False, True, True]


def test_policy_documents_from_a_list_reach_the_published_feeds(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    pages = Path(__file__).parent / "data" / "pages"
    feed_server.add(
        "/zwgk/zcwj/wjfb/tz/index.html",
        '<html><body><ul class="list">'
        '<li><a href="art/2024/art_5b3c2a.html">工业企业数据安全分类分级管理办法</a></li>'
        '<li><a href="content_6927433.htm">加快推进制造业数字化转型的指导意见</a></li>'
        "</ul></body></html>",
        content_type="text/html; charset=utf-8",
    )
    feed_server.add(
        "/zwgk/zcwj/wjfb/tz/art/2024/art_5b3c2a.html",
        (pages / "miit-notice.html").read_bytes(),
        content_type="text/html",
    )
    feed_server.add(
        "/zwgk/zcwj/wjfb/tz/content_6927433.htm",
        (pages / "gov-cn-policy.html").read_bytes(),
        content_type="text/html",
    )
    config = tmp_path / "aggregator.yaml"
    config.write_text(
        f"""database:
  url: sqlite:///{tmp_path / "agg.db"}
sources:
  - name: miit-tz
    url: {feed_server.url("/zwgk/zcwj/wjfb/tz/index.html")}
    type: page
    page: {{item: ul.list li}}
""",
        encoding="utf-8",
    )
    done = aggregator("--config", str(config), "fetch", cwd=tmp_path)
    assert done.returncode == 0 and "new=2" in done.stderr, done.stderr
    published = aggregator("--config", str(config), "publish", "--out", "site", cwd=tmp_path)
    assert published.returncode == 0, published.stderr
    feed = json.loads((tmp_path / "site" / "feeds" / "all.json").read_text("utf-8"))
    policies = {item["_aggregator"]["policy"]["doc_number"]: item for item in feed["items"]}
    miit = policies["工信部网安〔2024〕12号"]
    assert miit["_aggregator"]["policy"] == {
        "doc_number": "工信部网安〔2024〕12号",
        "issuer": "工业和信息化部",
        "written": "2024-01-30",
        "published": "2024-02-06",
    }
    assert miit["content_html"].startswith(
        '<p class="policy">文号 工信部网安〔2024〕12号 · 发文机关 工业和信息化部 · '
    )
    assert "国办发〔2024〕3号" in policies
    atom = (tmp_path / "site" / "feeds" / "all.atom").read_text("utf-8")
    assert "文号 国办发〔2024〕3号 · 发文机关 国务院办公厅" in atom
