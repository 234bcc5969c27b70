"""Full-text search over a real store (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy

from aggregator import store_searchplan
from aggregator.core import update_due
from aggregator.models import Article, Config, SourceConfig, SourceState
from aggregator.searchtext import parse_query
from aggregator.store import Store
from aggregator.store_engine import ensure_schema, open_engine
from aggregator.store_search import CANDIDATES, SearchFilters, SearchIndex
from aggregator.topicspec import RuleSpec, TopicSpec
from tests.feeddata import NOW, SOURCES, changed, fill_store, item
from tests.server import FeedServer

FEEDS = Path(__file__).parent / "data" / "feeds"

ITEMS = [
    item(
        1,
        title="关于加快推进制造业政策的通知",
        text="各区要落实智能制造专项政策，支持新能源汽车产业链发展。",
        summary="",
        language="zh-cn",
    ),
    item(
        2,
        source="factory-news",
        topics=("manufacturing",),
        title="新能源汽车工厂投产",
        text="位于嘉定的新能源汽车工厂主体建设已经基本完成。",
        summary="",
        language="zh-cn",
    ),
    item(
        3,
        source="factory-news",
        topics=("manufacturing",),
        title="Small manufacturers report strong orders",
        text="Factory output rose as orders recovered. Supply chains are back to normal.",
        summary="<p>Orders recovered.</p>",
        language="en",
    ),
    item(
        4,
        title="Ministry publishes rules",
        text="The new policy helps manufacturing firms that specialise in components.",
        summary="",
        language="en-gb",
    ),
    item(5, title="臺灣智慧製造論壇", text="論壇討論國際供應鏈。", summary="", language="zh-tw"),
]


def found(store: Store, query: str, filters: SearchFilters | None = None) -> list[str]:
    """The article ids a search finds, best first."""
    hits = store.search.search(parse_query(query), filters, limit=100)
    return [hit.item.article.id for hit in hits]


def test_chinese_words_are_found_inside_unsegmented_text(store: Store) -> None:
    fill_store(store, ITEMS)
    assert found(store, "政策") == ["gov-policy-entry-1"]
    assert found(store, "智能制造") == ["gov-policy-entry-1"]
    assert set(found(store, "新能源汽车")) == {"gov-policy-entry-1", "factory-news-entry-2"}
    assert found(store, "新能源汽车 -政策") == ["factory-news-entry-2"]
    assert found(store, "国际供应链") == ["gov-policy-entry-5"]  # Simplified finds Traditional
    assert found(store, "智能汽车") == []


def test_english_words_are_found_in_their_forms(store: Store) -> None:
    fill_store(store, ITEMS)
    assert set(found(store, "manufacturing")) == {"factory-news-entry-3", "gov-policy-entry-4"}
    assert found(store, "FACTORIES") == ["factory-news-entry-3"]
    assert found(store, '"supply chain"') == ["factory-news-entry-3"]
    assert found(store, '"chain supply"') == []
    assert found(store, "recovering orders") == ["factory-news-entry-3"]


def test_a_title_match_ranks_above_a_text_match(store: Store) -> None:
    fill_store(store, ITEMS)
    hits = store.search.search(parse_query("manufacturers"))
    assert [h.item.article.id for h in hits] == ["factory-news-entry-3", "gov-policy-entry-4"]
    assert hits[0].score > hits[1].score
    assert found(store, "新能源汽车")[0] == "factory-news-entry-2"  # in its title


def test_filters_narrow_the_results(store: Store) -> None:
    fill_store(store, ITEMS)
    assert found(store, "新能源汽车", SearchFilters(topic="manufacturing")) == [
        "factory-news-entry-2"
    ]
    assert found(store, "新能源汽车", SearchFilters(source="gov-policy")) == ["gov-policy-entry-1"]
    assert found(store, "manufacturing", SearchFilters(source="nowhere")) == []
    assert found(store, "manufacturing", SearchFilters(language="en")) != []
    assert found(store, "manufacturing", SearchFilters(language="en-gb")) == ["gov-policy-entry-4"]
    assert found(store, "manufacturing", SearchFilters(language="zh")) == []
    # item n is published n hours before NOW
    since = SearchFilters(since=NOW - timedelta(hours=3, minutes=30))
    assert found(store, "manufacturing", since) == ["factory-news-entry-3"]
    until = SearchFilters(until=NOW - timedelta(hours=3, minutes=30))
    assert found(store, "manufacturing", until) == ["gov-policy-entry-4"]


def test_hits_carry_highlighted_snippets_and_their_topics(store: Store) -> None:
    fill_store(store, ITEMS)
    [hit] = store.search.search(parse_query("國際 供应链"))
    assert hit.snippet.hits == ("國際供應鏈",)
    assert hit.snippet.text == "論壇討論國際供應鏈。"
    [hit] = store.search.search(parse_query("政策"), SearchFilters(topic="policy"))
    assert hit.title.hits == ("政策",)
    assert hit.snippet.hits == ("政策",)
    assert [m.topic for m in hit.item.topics] == ["policy"]
    assert hit.item.source_title == SOURCES["gov-policy"][1]


def test_a_changed_article_is_indexed_again(store: Store) -> None:
    fill_store(store, ITEMS)
    edited = changed(ITEMS[3], title="Ministry withdraws rules", content_hash="new-hash")
    edited = changed(edited, text="The plan for exporters was dropped.")
    fill_store(store, [edited])
    assert found(store, "exporters") == ["gov-policy-entry-4"]
    assert found(store, "specialise") == []
    assert set(found(store, "manufacturing")) == {"factory-news-entry-3"}


def test_an_unchanged_pass_writes_nothing_new(store: Store) -> None:
    fill_store(store, ITEMS)
    fill_store(store, ITEMS)
    assert found(store, "政策") == ["gov-policy-entry-1"]


def test_a_database_from_before_search_is_backfilled(db_url: str) -> None:
    opened = Store(db_url)
    fill_store(opened, ITEMS + [item(n, text=f"Filler {n} about tariffs") for n in range(6, 40)])
    opened.close()
    engine = sqlalchemy.create_engine(db_url)  # make it look like an older version's database
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE article_search")
        conn.exec_driver_sql("DELETE FROM meta WHERE key IN ('search_tokens', 'search_backfill')")
    engine.dispose()
    reopened = Store(db_url)
    try:
        assert reopened.search.pending() is None  # done while opening
        assert found(reopened, "政策") == ["gov-policy-entry-1"]
        assert len(found(reopened, "tariffs")) == 34
    finally:
        reopened.close()


def test_backfill_goes_in_batches_and_resumes(db_url: str) -> None:
    opened = Store(db_url)
    fill_store(opened, [item(n, text=f"Filler {n} about tariffs") for n in range(1, 12)])
    engine = sqlalchemy.create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE article_search")
        conn.exec_driver_sql("DELETE FROM meta WHERE key IN ('search_tokens', 'search_backfill')")
    engine.dispose()
    opened.close()
    engine = sqlalchemy.create_engine(db_url)
    with engine.begin() as conn:
        ensure_schema(conn, "test")  # the table is back, empty, and the backfill pending
    engine.dispose()
    index = SearchIndex(open_engine(db_url, 5.0))
    assert index.pending() is not None
    assert index.search(parse_query("tariffs")) == []
    assert index.backfill(batch=4) == 11
    assert index.pending() is None
    assert len(index.search(parse_query("tariffs"), limit=100)) == 11


def test_a_common_word_ranks_only_the_newest_candidates(store: Store) -> None:
    count = CANDIDATES + 30
    articles = [item(n, text="tariffs " + ("rise " if n % 2 else "")) for n in range(1, count)]
    fill_store(store, articles)
    hits = store.search.search(parse_query("tariffs"), limit=count)
    assert len(hits) == CANDIDATES
    assert "gov-policy-entry-1" not in {h.item.article.id for h in hits}  # stored first


# ---------------------------------------------------------------- through the ingest pipeline

TOPICS = (
    TopicSpec(
        slug="manufacturing",
        title="Manufacturing",
        threshold=1,
        rules=(RuleSpec(terms=("制造业", "manufacturer")),),
    ),
)


def test_fetched_feeds_are_searchable(store: Store, feed_server: FeedServer) -> None:
    feed_server.add("/gov.xml", (FEEDS / "rss20_gov_gbk.xml").read_bytes(), content_type=None)
    feed_server.add("/en.xml", (FEEDS / "rss20_english.xml").read_bytes())
    sources = (
        SourceConfig(name="gov", url=feed_server.url("/gov.xml")),
        SourceConfig(name="en", url=feed_server.url("/en.xml")),
    )
    config = Config(path="test.yaml", database_url="", sources=sources, topics=TOPICS)
    results = update_due(config, store)
    assert {r.status for r in results} == {"ok"}
    [hit] = store.search.search(parse_query("高端装备"), SearchFilters(source="gov"))
    assert "高端装备" in hit.title.hits
    assert found(store, "嘉定") != []
    hits = store.search.search(parse_query("manufacturer"), SearchFilters(topic="manufacturing"))
    assert any("small-manufacturer" in h.item.article.title for h in hits)
    assert found(store, "工业和信息化", SearchFilters(language="zh")) != []


def test_save_update_indexes_articles_without_worker_tokens(store: Store) -> None:
    store.sync_sources([SourceConfig(name="gov-policy", url="https://gov.example.cn/rss.xml")], NOW)
    source = store.source("gov-policy")
    assert source is not None
    state = SourceState(
        url=source.url,
        etag=None,
        last_modified=None,
        last_fetched_at=NOW,
        next_fetch_at=NOW,
        last_status="ok",
        last_error=None,
        error_streak=0,
    )
    store.save_update(source.id, state, [ITEMS[0].article])  # no matches, no tokens given
    assert found(store, "政策") == ["gov-policy-entry-1"]


@pytest.mark.parametrize("query", ["政策", "manufacturing"])
def test_search_on_an_empty_store_finds_nothing(store: Store, query: str) -> None:
    assert found(store, query) == []


# ---------------------------------------------------------------- filters as index tokens

SPREAD_START = NOW - timedelta(days=400)
SPREAD = [
    item(
        n,
        source="factory-news" if n % 3 == 0 else "gov-policy",
        title=f"Tariffs report {n}",
        text="新能源汽车政策 tariffs" if n % 2 else "tariffs only",
        summary="",
        language=("zh-cn", "zh-tw", "en", "en-gb")[n % 4],
        published=SPREAD_START + timedelta(days=7 * n, hours=n % 24, minutes=n),
    )
    for n in range(1, 58)
]


@pytest.mark.parametrize(
    "filters",
    [
        SearchFilters(since=SPREAD_START + timedelta(days=100, hours=5)),
        SearchFilters(until=SPREAD_START + timedelta(days=200, hours=13)),
        SearchFilters(
            since=SPREAD_START + timedelta(days=30, hours=2),
            until=SPREAD_START + timedelta(days=370, minutes=30),
        ),
        SearchFilters(since=SPREAD[9].article.published, until=SPREAD[10].article.published),
        SearchFilters(since=NOW + timedelta(days=1)),
        SearchFilters(until=SPREAD_START),
        SearchFilters(since=NOW, until=NOW - timedelta(days=1)),
        SearchFilters(language="zh"),
        SearchFilters(language="zh-TW"),
        SearchFilters(language="en-gb"),
        SearchFilters(language="e"),
        SearchFilters(language="zh cn"),
        SearchFilters(source="factory-news", since=SPREAD_START + timedelta(days=200)),
        SearchFilters(topic="policy", language="en", until=SPREAD_START + timedelta(days=300)),
    ],
)
def test_filters_keep_exactly_the_articles_that_pass(store: Store, filters: SearchFilters) -> None:
    fill_store(store, SPREAD)
    for query, wanted in (("tariffs", lambda n: True), ("新能源汽车", lambda n: n % 2 == 1)):
        expected = {
            i.article.id
            for n, i in enumerate(SPREAD, 1)
            if wanted(n) and _passes(i.article, i.source_name, filters)
        }
        assert set(found(store, query, filters)) == expected, query


def _passes(article: Article, source: str, filters: SearchFilters) -> bool:
    """The filters' meaning, spelled out."""
    language = (filters.language or "").lower()
    return (
        (filters.source is None or source == filters.source)
        and (
            not language
            or article.language in (language,)
            or (article.language or "").startswith(language + "-")
        )
        and (filters.since is None or article.published >= filters.since)
        and (filters.until is None or article.published < filters.until)
        and (filters.topic is None or filters.topic == "policy")
    )


def test_a_typed_filter_token_finds_nothing(store: Store) -> None:
    fill_store(store, SPREAD)
    assert found(store, "§s1") == []
    assert found(store, "§lzh") == []
    assert found(store, "tariffs §y2024") == []


def test_older_matches_come_from_the_index_below_the_newest_window(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_store(store, SPREAD)
    monkeypatch.setattr(store_searchplan, "SCAN_WINDOW", 3)  # PostgreSQL reads 3 by key
    since = SPREAD_START + timedelta(days=150)
    odd = [i.article for n, i in enumerate(SPREAD, 1) if n % 2]
    assert set(found(store, "新能源汽车")) == {a.id for a in odd}
    recent = {a.id for a in odd if a.published >= since}
    assert set(found(store, "新能源汽车", SearchFilters(since=since))) == recent
