"""Schema migrations on real databases (SQLite and, when configured, PostgreSQL).

A new database is made at head; databases of the releases before migrations (tests/
legacy_schema) upgrade in place keeping every row; a migrated database matches schema.py
exactly, so a change to schema.py without a revision fails here; an out-of-date or newer
database is refused with one line; two upgrades at once run the revisions once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from aggregator.errors import StorageError
from aggregator.schema import metadata
from aggregator.store import Store
from aggregator.store_migrate import (
    differences,
    head_id,
    migration_transaction,
    revisions,
    status,
    upgrade,
)
from tests import legacy_schema

HOW_TO_ADD = (
    "the migrated schema differs from schema.py: add a revision "
    '(python -m aggregator.migrations "what changed"; docs/migrations.md)'
)


@contextmanager
def connect(url: str) -> Iterator[sa.Connection]:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def snapshot(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of ours (the search index aside), in primary-key order."""
    found: dict[str, list[dict[str, Any]]] = {}
    with connect(url) as conn:
        inspector = sa.inspect(conn)
        for table in inspector.get_table_names():
            if table.startswith("article_search") or table == "alembic_version":
                continue
            keys = inspector.get_pk_constraint(table)["constrained_columns"]
            order = ", ".join(f'"{key}"' for key in keys)
            rows = conn.exec_driver_sql(f'SELECT * FROM "{table}" ORDER BY {order}').mappings()
            found[table] = [dict(row) for row in rows]
    return found


def index_names(url: str) -> set[str]:
    with connect(url) as conn:
        inspector = sa.inspect(conn)
        return {
            str(index["name"])
            for table in metadata.sorted_tables
            for index in inspector.get_indexes(table.name)
        }


def make_legacy(url: str, version: int) -> None:
    with connect(url) as conn:
        legacy_schema.create(conn, version)
        legacy_schema.fill(conn, version)


def head() -> str:
    return revisions()[-1].id


# ---------------------------------------------------------------- new databases


def test_a_new_database_is_made_at_head_and_matches_schema_py(db_url: str) -> None:
    assert status(db_url, 5.0).state == "new"
    Store(db_url).close()
    found = status(db_url, 5.0)
    assert (found.state, found.revision, found.pending) == ("current", head(), ())
    with connect(db_url) as conn:
        assert differences(conn) == [], HOW_TO_ADD
        meta = {key: value for key, value in conn.exec_driver_sql("SELECT key, value FROM meta")}
    assert (meta["schema_version"], meta["data_version"]) == (6, 0)
    again = upgrade(db_url, 5.0)
    assert (again.before.state, again.ran) == ("current", ())


def test_upgrade_makes_a_new_database_too(db_url: str) -> None:
    done = upgrade(db_url, 5.0)
    assert done.before.state == "new"
    assert [r.id for r in done.ran] == [r.id for r in revisions()]
    with connect(db_url) as conn:
        assert differences(conn) == [], HOW_TO_ADD
    assert index_names(db_url) >= {str(i.name) for t in metadata.sorted_tables for i in t.indexes}


def test_the_revisions_are_one_line_of_four_digit_ids() -> None:
    chain = revisions()  # raises when two revisions share a parent (two heads)
    assert [r.id for r in chain] == [f"{n:04d}" for n in range(1, len(chain) + 1)]
    assert all(r.title for r in chain)
    assert head_id() == chain[-1].id  # what each open compares with, read from the file names


# ---------------------------------------------------------------- databases made before


@pytest.mark.parametrize("version", legacy_schema.VERSIONS)
def test_an_old_database_upgrades_in_place_keeping_every_row(db_url: str, version: int) -> None:
    make_legacy(db_url, version)
    before = snapshot(db_url)
    found = status(db_url, 5.0)
    assert (found.state, found.legacy_version) == ("legacy", version)
    with pytest.raises(StorageError, match=r"run `aggregator db upgrade`"):
        Store(db_url)
    assert snapshot(db_url) == before  # the refusal changed nothing

    done = upgrade(db_url, 5.0)

    assert (done.before.state, [r.id for r in done.ran]) == ("legacy", [r.id for r in revisions()])
    after = snapshot(db_url)
    for table, rows in before.items():
        if table != "meta":  # its versions move on (below)
            columns = rows[0].keys() if rows else ()
            kept = [{c: row[c] for c in columns} for row in after[table]]
            assert kept == rows, table  # the same rows, counts and values, in the old columns
    meta = {row["key"]: row["value"] for row in after["meta"]}
    old_meta = {row["key"]: row["value"] for row in before["meta"]}
    assert meta["schema_version"] == 6 and meta["data_version"] == old_meta["data_version"] == 7
    if version < 2:
        assert [row["empty_streak"] for row in after["sources"]] == [0, 0, 0]
        assert all(row["hints"] is None for row in after["sources"])
    if version < 5:
        assert all(row["story_id"] is None for row in after["articles"])
        assert after["stories"] == after["story_signatures"] == after["story_bands"] == []
    assert index_names(db_url) >= {str(i.name) for t in metadata.sorted_tables for i in t.indexes}
    with connect(db_url) as conn:
        assert differences(conn) == [], HOW_TO_ADD
    assert status(db_url, 5.0).state == "current"

    store = Store(db_url)  # opens, and indexes the old articles for search
    try:
        stored = store.articles(limit=100)
        assert sorted(a.title for a in stored) == sorted(r["title"] for r in before["articles"])
        assert store.search.pending() is None
        assert {s.name for s in store.sources()} == {r["name"] for r in before["sources"]}
    finally:
        store.close()
    with connect(db_url) as conn:
        indexed = conn.exec_driver_sql("SELECT count(*) FROM article_search").scalar_one()
    assert indexed == len(before["articles"])
    assert upgrade(db_url, 5.0).ran == ()


def test_two_upgrades_at_once_run_the_revisions_once(db_url: str) -> None:
    make_legacy(db_url, 2)
    before = snapshot(db_url)["articles"]
    ran: list[int] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            ran.append(len(upgrade(db_url, 30.0).ran))
        except BaseException as exc:  # reported below
            failed.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert sorted(ran) == [0, 0, len(revisions())]
    after = snapshot(db_url)["articles"]
    assert [{c: row[c] for c in before[0]} for row in after] == before


# ---------------------------------------------------------------- refusals


def test_a_database_upgraded_by_a_newer_version_is_refused(db_url: str) -> None:
    Store(db_url).close()
    with connect(db_url) as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    found = status(db_url, 5.0)
    assert found.state == "ahead"
    for attempt in (lambda: Store(db_url), lambda: upgrade(db_url, 5.0)):
        with pytest.raises(StorageError, match="revision 9999 is unknown to this program") as err:
            attempt()
        assert "\n" not in str(err.value)


def test_tables_named_like_ours_but_not_ours_are_left_alone(db_url: str) -> None:
    with connect(db_url) as conn:
        conn.exec_driver_sql("CREATE TABLE sources (id INTEGER PRIMARY KEY, label TEXT)")
    assert status(db_url, 5.0).state == "foreign"
    with pytest.raises(StorageError, match="not made by aggregator"):
        upgrade(db_url, 5.0)
    with connect(db_url) as conn:
        columns = [c["name"] for c in sa.inspect(conn).get_columns("sources")]
    assert columns == ["id", "label"]


def test_an_old_program_refuses_a_migrated_database(db_url: str) -> None:
    """Releases before migrations refuse a database whose meta schema_version is above theirs
    (at most 5); the baseline writes 6."""
    make_legacy(db_url, 5)
    upgrade(db_url, 5.0)
    with connect(db_url) as conn:
        version = conn.exec_driver_sql(
            "SELECT value FROM meta WHERE key = 'schema_version'"
        ).scalar_one()
    assert version > max(legacy_schema.VERSIONS)


# ---------------------------------------------------------------- SQLite table rebuilds


def test_a_batch_rebuild_keeps_the_rows_that_refer_to_the_table(tmp_path: Any) -> None:
    """SQLite alters a table by copying it and dropping the old one; with foreign keys on, the
    drop would delete the matches, signatures and search rows of every article."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    make_legacy(url, 5)
    upgrade(url, 5.0)
    before = snapshot(url)
    with migration_transaction(url, 5.0, "rebuilding articles") as conn:
        operations = Operations(MigrationContext.configure(conn))
        with operations.batch_alter_table("articles", recreate="always") as batch:
            batch.alter_column("url", existing_type=sa.Text(), nullable=True)
    after = snapshot(url)
    assert after == before
    assert after["article_topics"] and after["story_signatures"]
    with connect(url) as conn:
        assert list(conn.exec_driver_sql("PRAGMA foreign_key_check")) == []
        assert differences(conn) == []
