"""Stories through the real store (SQLite, and PostgreSQL when configured), the published
feeds, and the `aggregator stories` command end to end."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
import sqlalchemy
from sqlalchemy import func, select

from aggregator.feedmeta import FeedInfo, item_id
from aggregator.models import Article, ServerConfig, SourceConfig, SourceState, TopicMatch
from aggregator.publish import render_feed
from aggregator.schema import story_bands
from aggregator.store import Store
from aggregator.store_migrate import upgrade
from aggregator.store_stories import PER_BAND
from tests.server import FeedServer
from tests.test_cli import aggregator, write_config

DUPES = Path(__file__).resolve().parent / "data" / "dupes"
PAIRS = {
    row["id"]: row
    for row in map(json.loads, (DUPES / "pairs.jsonl").read_text("utf-8").splitlines())
}
SEED_PAGE = (DUPES / "seed-page.txt").read_text(encoding="utf-8")
SEED_ARTICLE = "\n\n".join(line.strip() for line in SEED_PAGE.splitlines()[7:20] if line.strip())
SEED_TITLE = "先进高端制造业是上海产业重要方向李强赴嘉定调研中外企业"
NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
SERVER = ServerConfig(base_url="https://feeds.example.org", title="Example")
POLICY = [TopicMatch("policy", 5.0, ("李强",))]


def state() -> SourceState:
    return SourceState(
        url="https://x.example/feed",
        etag=None,
        last_modified=None,
        last_fetched_at=NOW,
        next_fetch_at=NOW + timedelta(minutes=30),
        last_status="ok",
        last_error=None,
        error_streak=0,
        title=None,
    )


def article(source: str, n: int, text: str, hours: int = 0, **fields: Any) -> Article:
    when = NOW + timedelta(hours=hours)
    values: dict[str, Any] = {
        "source": source,
        "id": f"{source}-{n}",
        "url": f"https://{source}.example/{n}",
        "title": f"{source} {n}",
        "summary": "",
        "content": f"<p>{text[:40]}</p>",
        "text": text,
        "published": when,
        "first_seen": when,
        "content_hash": f"{source}-{n}-{hash(text)}",
    }
    values.update(fields)
    return Article(**values)


@pytest.fixture
def ids(store: Store) -> dict[str, int]:
    """Sources a, b and c, synced into the store."""
    names = ("a", "b", "c")
    store.sync_sources([SourceConfig(name=n, url=f"https://{n}.example/feed") for n in names], NOW)
    return {s.name: s.id for s in store.sources()}


def save(store: Store, source_id: int, *articles: Article, topics: bool = True) -> None:
    matches = {a.id: POLICY for a in articles} if topics else {}
    store.save_update(source_id, state(), list(articles), matches)


def test_reposts_join_the_first_article_story(store: Store, ids: dict[str, int]) -> None:
    save(store, ids["a"], article("a", 1, SEED_ARTICLE))
    save(store, ids["b"], article("b", 1, SEED_PAGE, hours=1, title="另一个标题"))
    pair = PAIRS["zh-002"]  # a labelled repost with an edit
    save(store, ids["c"], article("c", 1, pair["b"]["text"], hours=2))
    save(store, ids["a"], article("a", 2, pair["a"]["text"], hours=3))
    [first, second] = store.stories.recent(None, 10)
    assert [m.source for m in first.members] == ["c", "a"]
    assert [(m.source, m.id) for m in second.members] == [("a", "a-1"), ("b", "b-1")]
    assert second.id == second.members[0].pk and second.size == 2


def test_different_articles_on_the_same_subject_do_not_join(
    store: Store, ids: dict[str, int]
) -> None:
    used: set[str] = set()
    for n, row in enumerate(PAIRS.values()):
        texts = (row["a"]["text"], row["b"]["text"])
        if not row["kind"].startswith("same-subject") or used & set(texts):
            continue  # each text once, so that only the pair itself could join
        used.update(texts)
        save(store, ids["a"], article("a", n, texts[0]))
        save(store, ids["b"], article("b", n, texts[1]))
    stories = store.stories.recent(None, 1000)
    assert len(stories) == len(used) > 60
    assert {s.size for s in stories} == {1}


def test_a_source_repeating_itself_and_short_texts_start_stories(
    store: Store, ids: dict[str, int]
) -> None:
    save(store, ids["a"], article("a", 1, SEED_ARTICLE), article("a", 2, SEED_ARTICLE))
    save(store, ids["b"], article("b", 1, "Plant opens."), article("b", 2, "Plant opens."))
    save(store, ids["c"], article("c", 1, "Plant opens."))
    assert [s.size for s in store.stories.recent(None, 10)] == [1, 1, 1, 1, 1]


def test_a_key_shared_by_many_articles_stops_growing_and_copies_still_join(
    store: Store, db_url: str
) -> None:
    names = [f"s{n:02d}" for n in range(PER_BAND + 5)]
    store.sync_sources([SourceConfig(name=n, url=f"https://{n}.example/feed") for n in names], NOW)
    found = {s.name: s.id for s in store.sources()}
    for n, name in enumerate(names):  # the same text from every source
        save(store, found[name], article(name, 1, SEED_ARTICLE, hours=n))
    save(store, found["s00"], article("s00", 2, PAIRS["zh-002"]["a"]["text"], hours=99))
    stories = store.stories.recent(None, 10)
    assert [s.size for s in stories] == [1, PER_BAND + 5]
    engine = sqlalchemy.create_engine(db_url)
    try:
        with engine.connect() as conn:
            per_key = conn.execute(
                select(func.count()).select_from(story_bands).group_by(story_bands.c.band)
            ).scalars()
            assert max(per_key) == PER_BAND
    finally:
        engine.dispose()


def test_topic_feed_shows_one_item_per_story_with_its_other_sources(
    store: Store, ids: dict[str, int]
) -> None:
    save(store, ids["a"], article("a", 1, SEED_ARTICLE), topics=False)
    save(store, ids["b"], article("b", 1, SEED_PAGE, hours=1))  # only the copy is in the topic
    save(store, ids["c"], article("c", 1, "另一篇文章:" + SEED_PAGE[-900:], hours=2))
    items = store.topic_items("policy", 10)
    assert [(i.article.source, i.article.id) for i in items] == [("c", "c-1"), ("a", "a-1")]
    assert items[1].story == items[1].article.pk
    assert [(m.source_name, m.url) for m in items[1].also_reported_by] == [
        ("b", "https://b.example/1")
    ]
    assert len(store.topic_items(None, 10)) == 2
    assert len(store.topic_items(None, 10, one_per_story=False)) == 3


def test_a_changed_article_keeps_its_story(store: Store, ids: dict[str, int]) -> None:
    save(store, ids["a"], article("a", 1, SEED_ARTICLE))
    save(store, ids["b"], article("b", 1, SEED_PAGE, hours=1))
    edited = SEED_ARTICLE.replace("昨天下午", "21日下午")
    save(store, ids["a"], article("a", 1, edited, content_hash="changed"))
    save(store, ids["c"], article("c", 1, edited, hours=2))
    [story] = store.stories.recent(None, 10)
    assert [m.source for m in story.members] == ["a", "b", "c"]


def test_published_item_keeps_its_id_when_later_reposts_join(
    store: Store, ids: dict[str, int]
) -> None:
    info = FeedInfo("policy", "Policy", "Policy news")
    save(store, ids["a"], article("a", 1, SEED_ARTICLE))
    before = feedparser.parse(render_feed("rss", info, store.topic_items("policy", 10),
                                          server=SERVER, now=NOW))  # fmt: skip
    save(store, ids["b"], article("b", 1, SEED_PAGE, hours=1))
    save(store, ids["c"], article("c", 1, PAIRS["zh-002"]["a"]["text"], hours=2))
    items = store.topic_items("policy", 10)
    for fmt in ("rss", "atom"):
        document = render_feed(fmt, info, items, server=SERVER, now=NOW)
        parsed = feedparser.parse(document)
        assert not parsed.bozo, (fmt, parsed.get("bozo_exception"))
        entry = next(e for e in parsed.entries if "also reported by" in _html(e).lower())
        assert entry.id == before.entries[0].id == item_id("a", "a-1")
        assert 'href="https://b.example/1"' in _html(entry)
    data = json.loads(render_feed("json", info, items, server=SERVER, now=NOW))
    [item] = [i for i in data["items"] if i["id"] == item_id("a", "a-1")]
    assert 'Also reported by: <a href="https://b.example/1">b</a>' in item["content_html"]
    story = item["_aggregator"]
    assert story["story"] == items[-1].article.pk
    assert story["also_reported_by"] == [
        {"source": "b", "source_title": "b", "url": "https://b.example/1", "title": "b 1"}
    ]


def _html(entry: Any) -> str:
    parts = [c.value for c in entry.get("content", [])]
    return " ".join([*parts, entry.get("summary", "")])


def test_an_older_database_gains_stories_and_rebuild_groups_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store(url)
    store.sync_sources([SourceConfig(name=n, url=f"https://{n}.example/feed") for n in "ab"], NOW)
    found = {s.name: s.id for s in store.sources()}
    save(store, found["a"], article("a", 1, SEED_ARTICLE))
    save(store, found["b"], article("b", 1, SEED_PAGE, hours=1))
    store.close()
    with sqlite3.connect(tmp_path / "old.db") as raw:  # as a release without stories left it
        raw.execute("DROP INDEX ix_articles_story_id")
        raw.execute("ALTER TABLE articles DROP COLUMN story_id")
        for table in ("stories", "story_signatures", "story_bands", "alembic_version"):
            raw.execute(f"DROP TABLE {table}")
        raw.execute("UPDATE meta SET value = 5 WHERE key = 'schema_version'")
    upgrade(url, 30.0)
    store = Store(url)
    try:
        assert len(store.topic_items("policy", 10)) == 2  # ungrouped: each its own story
        assert store.stories.rebuild() == (2, 1)
        assert [i.article.source for i in store.topic_items("policy", 10)] == ["a"]
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "old.db") as raw:
        indexes = {row[1] for row in raw.execute("PRAGMA index_list(articles)")}
    assert "ix_articles_story_id" in indexes


def rss(title: str, text: str, guid: str, date: str) -> str:
    paragraphs = "".join(f"&lt;p&gt;{p}&lt;/p&gt;" for p in text.split("\n") if p.strip())
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News</title>'
        "<link>https://example.test/</link><description>d</description>"
        f"<item><guid>{guid}</guid><title>{title}</title><link>https://example.test/{guid}</link>"
        f"<description>{paragraphs}</description><pubDate>{date}</pubDate></item>"
        "</channel></rss>"
    )


def test_fetch_groups_reposts_and_stories_lists_them(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.add(
        "/a.xml", rss(SEED_TITLE, SEED_ARTICLE, "a1", "Sat, 22 Jan 2022 08:00:00 +0800")
    )
    feed_server.add(
        "/b.xml", rss("转载:" + SEED_TITLE, SEED_PAGE, "b1", "Sat, 22 Jan 2022 10:00:00 +0800")
    )
    config = write_config(tmp_path, [("a", feed_server.url("/a.xml"))])
    assert aggregator("--config", str(config), "fetch", cwd=tmp_path).returncode == 0
    config = write_config(
        tmp_path, [("a", feed_server.url("/a.xml")), ("b", feed_server.url("/b.xml"))]
    )
    assert aggregator("--config", str(config), "fetch", cwd=tmp_path).returncode == 0

    listed = aggregator(
        "--config", str(config), "stories", "--json", "--topic", "policy", cwd=tmp_path
    )
    assert listed.returncode == 0, listed.stderr
    [story] = json.loads(listed.stdout)
    assert [(m["source"], m["representative"]) for m in story["members"]] == [
        ("a", True),
        ("b", False),
    ]
    text = aggregator("--config", str(config), "stories", cwd=tmp_path)
    assert f"story {story['id']}  2 articles" in text.stdout
    unknown = aggregator("--config", str(config), "stories", "--topic", "nope", cwd=tmp_path)
    assert unknown.returncode == 2 and "no such topic: nope" in unknown.stderr

    assert (
        aggregator(
            "--config", str(config), "publish", "--out", str(tmp_path / "site"), cwd=tmp_path
        ).returncode
        == 0
    )
    feed = json.loads((tmp_path / "site" / "feeds" / "policy.json").read_text(encoding="utf-8"))
    [item] = [i for i in feed["items"] if SEED_TITLE in i["title"]]
    assert item["id"] == item_id("a", "a1")
    assert [m["source"] for m in item["_aggregator"]["also_reported_by"]] == ["b"]
