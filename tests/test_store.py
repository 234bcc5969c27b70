"""The store against real databases: a SQLite file, and PostgreSQL when one is configured.

Most tests run once per database through the `store` and `db_url` fixtures (tests/conftest.py).
A few read or lock the database behind the store's back with a second connection.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from aggregator.errors import StorageError
from aggregator.models import (
    Article,
    Enclosure,
    FeedHints,
    Source,
    SourceConfig,
    SourceState,
    TopicMatch,
)
from aggregator.schema import sources as sources_table
from aggregator.store import Store
from aggregator.store_migrate import upgrade

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


# ---------------------------------------------------------------- helpers


def config(name: str, url: str | None = None, **fields: Any) -> SourceConfig:
    return SourceConfig(name=name, url=url or f"https://{name}.example/feed", **fields)


def article(source: str, id: str, content_hash: str = "h1", **fields: Any) -> Article:
    values: dict[str, Any] = {
        "source": source,
        "id": id,
        "url": f"https://{source}.example/{id}",
        "title": f"Title {id}",
        "summary": f"<p>Summary {id}</p>",
        "content": f"<p>Content {id} 制造业</p>",
        "text": f"Content {id} 制造业",
        "published": NOW,
        "first_seen": NOW,
        "content_hash": content_hash,
    }
    values.update(fields)
    return Article(**values)


def state(url: str = "https://a.example/feed", **fields: Any) -> SourceState:
    values: dict[str, Any] = {
        "url": url,
        "etag": '"v1"',
        "last_modified": "Sat, 01 Mar 2025 12:00:00 GMT",
        "last_fetched_at": NOW,
        "next_fetch_at": NOW + timedelta(minutes=30),
        "last_status": "ok",
        "last_error": None,
        "error_streak": 0,
    }
    values.update(fields)
    return SourceState(**values)


def match(topic: str, score: float, *terms: str) -> TopicMatch:
    return TopicMatch(topic=topic, score=score, terms=terms)


def synced(store: Store, *names: str) -> dict[str, Source]:
    store.sync_sources([config(n) for n in names], NOW)
    return {s.name: s for s in store.sources()}


def save(
    store: Store,
    source: Source,
    articles: Sequence[Article],
    matches: dict[str, list[TopicMatch]] | None = None,
    **fields: Any,
) -> tuple[int, int]:
    fields.setdefault("url", source.url)
    return store.save_update(source.id, state(**fields), articles, matches)


@pytest.fixture
def sql(db_url: str) -> Iterator[sqlalchemy.Engine]:
    """A second, plain connection to the store's database, to look behind its back."""
    engine = sqlalchemy.create_engine(db_url)
    yield engine
    engine.dispose()


def count_updates_of_articles(engine: sqlalchemy.Engine) -> None:
    """Install a trigger that logs every UPDATE of an article row into `update_log`."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE update_log (pk INTEGER)")
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER log_update AFTER UPDATE ON articles "
                "BEGIN INSERT INTO update_log VALUES (new.pk); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION log_update() RETURNS trigger AS $$ BEGIN "
                "INSERT INTO update_log VALUES (NEW.pk); RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER log_update AFTER UPDATE ON articles "
                "FOR EACH ROW EXECUTE FUNCTION log_update()"
            )


def logged_updates(engine: sqlalchemy.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM update_log").scalar_one())


# ---------------------------------------------------------------- opening


def test_opening_creates_the_file_and_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "db.sqlite"
    store = Store(f"sqlite:///{path}")
    try:
        assert path.exists()
        assert store.stats() == {"sources": 0, "articles": 0, "matches": 0}
        assert store.data_version() == 0
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first = Store(url)
    first.sync_sources([config("a")], NOW)
    first.close()
    second = Store(url)
    assert [s.name for s in second.sources()] == ["a"]
    second.close()


def test_a_folder_that_cannot_be_made_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(
        StorageError, match=r"^opening database .*db\.sqlite: cannot create its folder"
    ):
        Store(f"sqlite:///{tmp_path / 'file' / 'db.sqlite'}")


def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    path.write_bytes(b"this is not a database file, just some text " * 100)
    with pytest.raises(StorageError, match=r"^opening database .*: file is not a database"):
        Store(f"sqlite:///{path}")


def test_a_folder_in_place_of_the_file_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"^opening database .*: unable to open database file"):
        Store(f"sqlite:///{tmp_path}")


def test_an_unsupported_url_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="unsupported database 'mysql'"):
        Store("mysql://localhost/db")


@contextmanager
def write_locked(db_url: str) -> Iterator[None]:
    """Hold the database's write lock (SQLite) or the sources table's lock (PostgreSQL)."""
    if db_url.startswith("sqlite"):
        other = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    engine = sqlalchemy.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("LOCK TABLE sources IN ACCESS EXCLUSIVE MODE")
            yield
    finally:
        engine.dispose()


def test_a_locked_database_is_a_storage_error_naming_the_source(db_url: str) -> None:
    store = Store(db_url, busy_timeout=0.05)
    try:
        source = synced(store, "a")["a"]
        with write_locked(db_url), pytest.raises(StorageError) as caught:
            save(store, source, [article("a", "1")])
        assert str(caught.value) in {
            "saving source a: database is locked",
            "saving source a: canceling statement due to lock timeout",
        }
        assert save(store, source, [article("a", "1")]) == (1, 0)
    finally:
        store.close()


# ---------------------------------------------------------------- sync


def test_sync_inserts_new_sources_due_now(store: Store) -> None:
    store.sync_sources([config("b"), config("a", language="zh")], NOW)
    found = store.sources()
    assert [s.name for s in found] == ["a", "b"]
    assert all(s.enabled and s.next_fetch_at is None and s.disabled_reason is None for s in found)
    assert found[0].url == found[0].config_url == "https://a.example/feed"
    assert [s.name for s in store.due_sources(NOW)] == ["a", "b"]


def test_sync_updates_config_fields(store: Store, sql: sqlalchemy.Engine) -> None:
    store.sync_sources([config("a", tags=("x",))], NOW)
    changed = config(
        "a",
        tags=("y", "z"),
        language="en",
        timezone="Asia/Shanghai",
        interval=600,
        headers=(("Cookie", "k=v"),),
    )
    before = store.data_version()
    store.sync_sources([changed], NOW)
    assert store.data_version() > before
    with sql.connect() as conn:
        row = conn.execute(sqlalchemy.select(sources_table)).mappings().one()
    assert (row["tags"], row["language"], row["timezone"], row["interval"]) == (
        ["y", "z"],
        "en",
        "Asia/Shanghai",
        600,
    )
    assert row["headers"] == [["Cookie", "k=v"]]


def test_sync_without_changes_writes_nothing(store: Store) -> None:
    configs = [config("a", tags=("x",), headers=(("A", "b"),)), config("b")]
    store.sync_sources(configs, NOW)
    before = store.data_version()
    store.sync_sources(configs, NOW + timedelta(hours=1))
    assert store.data_version() == before


def test_sync_disables_removed_sources_and_keeps_their_articles(store: Store) -> None:
    a = synced(store, "a", "b")["a"]
    save(store, a, [article("a", "1")])
    store.sync_sources([config("b")], NOW)
    removed = store.source("a")
    assert removed is not None
    assert not removed.enabled
    assert removed.disabled_reason == "removed from config"
    assert removed.article_count == 1
    assert [s.name for s in store.due_sources(NOW, everything=True)] == ["b"]


def test_sync_brings_a_readded_source_back(store: Store) -> None:
    synced(store, "a")
    store.sync_sources([], NOW)
    store.sync_sources([config("a")], NOW)
    back = store.source("a")
    assert back is not None and back.enabled and back.disabled_reason is None


def test_sync_disabled_in_config(store: Store) -> None:
    store.sync_sources([config("a", enabled=False), config("b")], NOW)
    a = store.source("a")
    assert a is not None and not a.enabled and a.disabled_reason == "disabled in config"
    store.sync_sources([config("a"), config("b")], NOW)
    a = store.source("a")
    assert a is not None and a.enabled and a.disabled_reason is None


def test_sync_of_a_new_url_resets_the_fetch_state(store: Store) -> None:
    a = synced(store, "a")["a"]
    save(store, a, [], url="https://a.example/moved", last_status="error", error_streak=3)
    store.sync_sources([config("a", url="https://a.example/new")], NOW)
    new = store.source("a")
    assert new is not None
    assert (new.url, new.config_url) == ("https://a.example/new", "https://a.example/new")
    assert (new.etag, new.last_modified, new.error_streak, new.next_fetch_at) == (
        None,
        None,
        0,
        None,
    )
    assert (new.last_status, new.last_error) == (None, None)


def test_a_moved_source_keeps_its_url_while_the_config_url_stays(store: Store) -> None:
    a = synced(store, "a")["a"]
    save(store, a, [], url="https://a.example/moved")
    store.sync_sources([config("a")], NOW)
    moved = store.source("a")
    assert moved is not None and moved.url == "https://a.example/moved" and moved.etag == '"v1"'


def test_a_gone_source_stays_disabled_until_its_url_changes(store: Store) -> None:
    a = synced(store, "a")["a"]
    save(store, a, [], last_status="gone", enabled=False, disabled_reason="gone (HTTP 410)")
    store.sync_sources([config("a")], NOW)
    gone = store.source("a")
    assert gone is not None and not gone.enabled and gone.disabled_reason == "gone (HTTP 410)"
    store.sync_sources([config("a", url="https://a.example/v2")], NOW)
    back = store.source("a")
    assert back is not None and back.enabled and back.disabled_reason is None


# ---------------------------------------------------------------- due


def test_due_sources_order_names_and_everything(store: Store) -> None:
    found = synced(store, "a", "b", "c", "d", "off")
    save(store, found["a"], [], next_fetch_at=NOW - timedelta(minutes=5))
    save(store, found["b"], [], next_fetch_at=NOW - timedelta(minutes=10))
    save(store, found["c"], [], next_fetch_at=NOW + timedelta(minutes=10))
    store.sync_sources([config(n) for n in "abcd"] + [config("off", enabled=False)], NOW)
    # d was never fetched (due first), then b and a by time; c is not due; "off" is disabled
    assert [s.name for s in store.due_sources(NOW)] == ["d", "b", "a"]
    assert [s.name for s in store.due_sources(NOW, everything=True)] == ["d", "b", "a", "c"]
    assert [s.name for s in store.due_sources(NOW, names=["a", "c", "off"])] == ["a"]
    assert [s.name for s in store.due_sources(NOW, ["c", "off"], everything=True)] == ["c"]
    assert store.due_sources(NOW + timedelta(hours=1), names=[]) == []


def test_source_by_name(store: Store) -> None:
    synced(store, "a")
    a = store.source("a")
    assert a is not None and a.name == "a"
    assert store.source("nope") is None


# ---------------------------------------------------------------- save_update


def test_save_update_counts_new_changed_and_unchanged(store: Store) -> None:
    a = synced(store, "a")["a"]
    assert save(store, a, [article("a", "1"), article("a", "2")]) == (2, 0)
    batch = [article("a", "1"), article("a", "2", "h2"), article("a", "3")]
    assert save(store, a, batch) == (1, 1)
    assert save(store, a, batch) == (0, 0)
    assert store.stats()["articles"] == 3
    stored = store.article("a/2")
    assert stored is not None and stored.content_hash == "h2"


def test_save_update_writes_the_source_state(store: Store) -> None:
    a = synced(store, "a")["a"]
    save(store, a, [article("a", "1")], title="Feed A", link="https://a.example/")
    save(store, a, [], last_status="not_modified", etag='"v2"')
    after = store.source("a")
    assert after is not None
    assert (after.etag, after.last_status, after.last_fetched_at) == ('"v2"', "not_modified", NOW)
    assert after.next_fetch_at == NOW + timedelta(minutes=30)
    assert (after.title, after.link) == ("Feed A", "https://a.example/")  # kept when not given
    assert after.article_count == 1


def test_unchanged_articles_are_not_written(store: Store, sql: sqlalchemy.Engine) -> None:
    a = synced(store, "a")["a"]
    save(store, a, [article("a", "1"), article("a", "2")], {"1": [match("t", 3, "x")]})
    count_updates_of_articles(sql)
    version = store.data_version()
    later = NOW + timedelta(hours=1)
    same = [article("a", "1", first_seen=later), article("a", "2", first_seen=later)]
    assert save(store, a, same, {"1": [match("other", 9, "y")]}) == (0, 0)
    assert store.data_version() == version
    assert logged_updates(sql) == 0
    assert store.matches(1) == [match("t", 3, "x")]
    save(store, a, [article("a", "1", "h2")])
    assert logged_updates(sql) == 1


def test_an_update_keeps_first_seen(store: Store) -> None:
    a = synced(store, "a")["a"]
    save(store, a, [article("a", "1")])
    later = NOW + timedelta(days=1)
    changed = article("a", "1", "h2", first_seen=later, published=later, title="New title")
    assert save(store, a, [changed]) == (0, 1)
    stored = store.article("a/1")
    assert stored is not None
    assert (stored.title, stored.first_seen, stored.published) == ("New title", NOW, later)


def test_an_update_keeps_a_first_seen_date(store: Store) -> None:
    a = synced(store, "a")["a"]
    save(store, a, [article("a", "1", date_is_first_seen=True)])
    later = NOW + timedelta(days=1)
    changed = article("a", "1", "h2", published=later, first_seen=later, date_is_first_seen=True)
    save(store, a, [changed])
    stored = store.article("a/1")
    assert stored is not None
    assert (stored.published, stored.date_is_first_seen) == (NOW, True)
    dated = article("a", "1", "h3", published=later, first_seen=later)
    save(store, a, [dated])
    stored = store.article("a/1")
    assert stored is not None and (stored.published, stored.date_is_first_seen) == (later, False)


def test_repeated_ids_in_a_batch_count_once(store: Store) -> None:
    a = synced(store, "a")["a"]
    assert save(store, a, [article("a", "1"), article("a", "1", "other")]) == (1, 0)
    stored = store.article("a/1")
    assert stored is not None and stored.content_hash == "h1"


def test_same_article_id_in_two_sources_is_two_articles(store: Store) -> None:
    found = synced(store, "a", "b")
    assert save(store, found["a"], [article("a", "1")]) == (1, 0)
    assert save(store, found["b"], [article("b", "1")]) == (1, 0)
    assert store.stats()["articles"] == 2


def test_matches_are_replaced_for_changed_articles(store: Store) -> None:
    a = synced(store, "a")["a"]
    save(
        store,
        a,
        [article("a", "1"), article("a", "2")],
        {"1": [match("m", 3, "x"), match("p", 5, "y")], "2": [match("m", 4, "z")]},
    )
    pk1 = store.article("a/1")
    pk2 = store.article("a/2")
    assert pk1 is not None and pk2 is not None and pk1.pk is not None and pk2.pk is not None
    assert store.matches(pk1.pk) == [match("p", 5, "y"), match("m", 3, "x")]
    save(store, a, [article("a", "1", "h2"), article("a", "2")], {"1": [match("q", 1, "w")]})
    assert store.matches(pk1.pk) == [match("q", 1, "w")]
    assert store.matches(pk2.pk) == [match("m", 4, "z")]  # unchanged article: untouched
    save(store, a, [article("a", "1", "h3")], {})
    assert store.matches(pk1.pk) == []


def test_save_update_is_one_transaction(store: Store) -> None:
    a = synced(store, "a")["a"]
    version = store.data_version()
    # article 2 breaks a NOT NULL constraint after the source state was written
    broken = dataclasses.replace(article("a", "2"), title=None)  # type: ignore[arg-type]
    with pytest.raises(StorageError, match=r"^saving source a: .*(null|NULL)"):
        save(store, a, [article("a", "1"), broken], {"1": [match("m", 1, "x")]})
    assert store.stats() == {"sources": 1, "articles": 0, "matches": 0}
    after = store.source("a")
    assert after is not None
    assert (after.etag, after.last_status, after.last_fetched_at) == (None, None, None)
    assert store.data_version() == version


def test_save_update_of_an_unknown_source(store: Store) -> None:
    with pytest.raises(StorageError, match=r"^saving source #99: no such source"):
        store.save_update(99, state(), [article("a", "1")])


# ---------------------------------------------------------------- articles


def test_articles_come_back_as_stored(store: Store) -> None:
    a = synced(store, "a")["a"]
    full = article(
        "a",
        "1",
        updated=NOW + timedelta(hours=1),
        authors=("张三", "Jo"),
        tags=("制造业",),
        enclosures=(Enclosure("https://a.example/1.mp3", "audio/mpeg", 123, "Episode"),),
        language="zh",
        published=datetime(2025, 3, 1, 20, 0, tzinfo=UTC),
    )
    save(store, a, [full])
    [stored] = store.articles()
    assert stored.pk is not None
    assert stored == dataclasses.replace(full, pk=stored.pk)
    assert stored.published.tzinfo is not None and stored.published.utcoffset() == timedelta(0)


def test_articles_newest_first_with_limit_and_source(store: Store) -> None:
    found = synced(store, "a", "b")
    save(
        store,
        found["a"],
        [article("a", str(i), published=NOW + timedelta(hours=i)) for i in range(3)],
    )
    save(store, found["b"], [article("b", "x", published=NOW + timedelta(hours=1))])
    assert [(x.source, x.id) for x in store.articles()] == [
        ("a", "2"),
        ("b", "x"),  # same date as a/1 but stored later: a higher pk comes first
        ("a", "1"),
        ("a", "0"),
    ]
    assert [x.id for x in store.articles(limit=2)] == ["2", "x"]
    assert [x.id for x in store.articles("b")] == ["x"]
    assert store.articles("nope") == []


def test_article_by_pk_and_by_name(store: Store) -> None:
    a = synced(store, "a")["a"]
    save(store, a, [article("a", "https://a.example/p/1?x=1")])
    by_name = store.article("a/https://a.example/p/1?x=1")
    assert by_name is not None and by_name.pk is not None
    assert store.article(by_name.pk) == by_name
    assert store.article(str(by_name.pk)) == by_name
    assert store.article(by_name.pk + 1) is None
    assert store.article("a/nope") is None
    assert store.article("nope") is None


def test_iter_articles_in_batches(store: Store) -> None:
    a = synced(store, "a")["a"]
    save(store, a, [article("a", str(i)) for i in range(7)])
    batches = list(store.iter_articles(batch=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    pks = [x.pk or 0 for b in batches for x in b]
    assert pks == sorted(pks) and len(set(pks)) == 7 and 0 not in pks


def test_replace_matches_by_pk(store: Store) -> None:
    a = synced(store, "a")["a"]
    save(store, a, [article("a", "1"), article("a", "2")], {"1": [match("m", 1, "x")]})
    pks = [x.pk for x in store.articles()]
    assert all(pk is not None for pk in pks)
    version = store.data_version()
    store.replace_matches({pks[0] or 0: [match("p", 2, "y")], pks[1] or 0: []})
    assert store.data_version() > version
    assert store.matches(pks[0] or 0) == [match("p", 2, "y")]
    assert store.matches(pks[1] or 0) == []
    assert store.stats()["matches"] == 1


# ---------------------------------------------------------------- topic_items


def test_topic_items(store: Store) -> None:
    found = synced(store, "a", "b")
    store.sync_sources([config("a", tags=("gov",)), config("b")], NOW)
    hours = [NOW + timedelta(hours=i) for i in range(4)]
    save(
        store,
        found["a"],
        [article("a", "1", published=hours[1]), article("a", "2", published=hours[3])],
        {"1": [match("m", 3, "x"), match("p", 9, "y")], "2": [match("p", 4, "z")]},
        title="Feed A",
        link="https://a.example/",
    )
    save(
        store,
        found["b"],
        [article("b", "1", published=hours[2]), article("b", "2", published=hours[0])],
        {"1": [match("m", 5, "w")]},
    )
    manufacturing = store.topic_items("m", 10)
    assert [(i.source_name, i.article.id) for i in manufacturing] == [("b", "1"), ("a", "1")]
    item = manufacturing[1]
    assert (item.source_url, item.source_title, item.source_link, item.source_tags) == (
        "https://a.example/feed",
        "Feed A",
        "https://a.example/",
        ("gov",),
    )
    assert item.topics == (match("p", 9, "y"), match("m", 3, "x"))  # all topics, best first
    everything = store.topic_items(None, 10)
    assert [(i.source_name, i.article.id) for i in everything] == [
        ("a", "2"),
        ("b", "1"),
        ("a", "1"),
        ("b", "2"),
    ]
    assert everything[3].topics == ()
    assert [i.article.id for i in store.topic_items("p", 1)] == ["2"]
    assert [i.article.id for i in store.topic_items(None, 10, since=hours[2])] == ["2", "1"]
    assert store.topic_items("nope", 10) == []


# ---------------------------------------------------------------- versions and counts


def test_data_version_moves_only_when_something_changed(store: Store) -> None:
    a = synced(store, "a")["a"]
    version = store.data_version()
    save(store, a, [])
    assert store.data_version() == version
    save(store, a, [article("a", "1")])
    assert store.data_version() == version + 1
    save(store, a, [article("a", "1", "h2")])
    assert store.data_version() == version + 2


def test_stats(store: Store) -> None:
    a = synced(store, "a", "b")["a"]
    save(store, a, [article("a", "1"), article("a", "2")], {"1": [match("m", 1), match("p", 1)]})
    assert store.stats() == {"sources": 2, "articles": 2, "matches": 2}


def test_an_older_database_gains_the_new_columns_in_place(db_url: str) -> None:
    first = Store(db_url)
    first.sync_sources([config("a")], NOW)
    first.close()
    engine = sqlalchemy.create_engine(db_url)
    with engine.begin() as conn:  # back to the first schema: no empty_streak, no hints
        conn.exec_driver_sql("ALTER TABLE sources DROP COLUMN empty_streak")
        conn.exec_driver_sql("ALTER TABLE sources DROP COLUMN hints")
        conn.exec_driver_sql("DROP TABLE alembic_version")  # made before migrations
        conn.exec_driver_sql("UPDATE meta SET value = 1 WHERE key = 'schema_version'")
    with pytest.raises(StorageError, match="aggregator db upgrade"):
        Store(db_url)
    upgrade(db_url, 5.0)  # `aggregator db upgrade`; the daemon runs it at start
    reopened = Store(db_url)
    [source] = reopened.sources()
    assert (source.name, source.empty_streak, source.hints) == ("a", 0, None)
    hints = FeedHints(ttl=60, skip_hours=(1, 2), skip_days=(6,), entries_per_day=2.5)
    state = SourceState(
        url=source.url,
        etag=None,
        last_modified=None,
        last_fetched_at=NOW,
        next_fetch_at=NOW,
        last_status="ok",
        last_error=None,
        error_streak=0,
        empty_streak=2,
        hints=hints,
    )
    reopened.save_states([(source.id, state)])
    reopened.save_states([(source.id, dataclasses.replace(state, hints=None))])
    [after] = reopened.sources()
    assert (after.empty_streak, after.hints) == (2, hints)
    reopened.close()
    with engine.begin() as conn:
        version = conn.exec_driver_sql(
            "SELECT value FROM meta WHERE key = 'schema_version'"
        ).scalar_one()
    engine.dispose()
    assert version == 6  # above 5: releases before migrations refuse to open it
