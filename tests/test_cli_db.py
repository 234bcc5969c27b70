"""`aggregator db current`, `aggregator db upgrade` and the daemon's upgrade at start, end to end:
real subprocesses on a SQLite file made by a release before migrations (tests/legacy_schema)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from aggregator.store_migrate import revisions
from tests import legacy_schema
from tests.server import FeedServer
from tests.test_cli import aggregator
from tests.test_daemon import daemon, rss, write_config


def legacy_database(path: Path, version: int = 2) -> None:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        legacy_schema.create(conn, version)
        legacy_schema.fill(conn, version)
    engine.dispose()


def test_current_and_upgrade_on_a_database_made_before_migrations(tmp_path: Path) -> None:
    config = write_config(tmp_path, {})
    db = tmp_path / "agg.db"
    head = revisions()[-1].id

    shown = aggregator("--config", str(config), "db", "current", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"{db}: no tables yet; any command creates them at revision {head}\n"
    assert not db.exists()  # looking changed nothing

    legacy_database(db)
    shown = aggregator("--config", str(config), "db", "current", "--check", cwd=tmp_path)
    assert shown.returncode == 1
    assert shown.stdout.splitlines() == [
        f"{db}: schema version 2, from before migrations; this version is at revision {head}: "
        "run `aggregator db upgrade`",
        *(f"  to run: {r}" for r in revisions()),
    ]

    listed = aggregator("--config", str(config), "articles", cwd=tmp_path)
    assert listed.returncode == 1
    assert listed.stderr.strip().splitlines() == [
        f"error: opening database {db}: its schema (version 2) predates migrations and is older "
        f"than this program's ({head}): run `aggregator db upgrade` (it keeps the stored data)"
    ]

    done = aggregator("--config", str(config), "db", "upgrade", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{db}: upgraded from schema version 2 (before migrations) to revision {head}",
        *(f"  ran: {r}" for r in revisions()),
    ]
    again = aggregator("--config", str(config), "db", "upgrade", cwd=tmp_path)
    assert again.stdout == f"{db}: already at revision {head}: nothing to do\n"
    shown = aggregator("--config", str(config), "db", "current", "--check", cwd=tmp_path)
    assert (shown.returncode, shown.stdout) == (
        0,
        f"{db}: at revision {head}, this version's: up to date\n",
    )
    listed = aggregator("--config", str(config), "articles", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "New battery factory opens" in listed.stdout


def test_run_no_migrate_refuses_an_old_database_and_starts_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path, {})
    legacy_database(tmp_path / "agg.db")
    pid_file = tmp_path / "agg.pid"
    started = aggregator(
        "--config", str(config), "run", "--no-migrate", "--pid-file", str(pid_file), cwd=tmp_path
    )
    assert started.returncode == 1
    [line] = started.stderr.strip().splitlines()
    assert line.startswith("error: opening database ") and "run `aggregator db upgrade`" in line
    assert not pid_file.exists()


def test_run_upgrades_the_database_at_start(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.add("/a.xml", rss("a"))
    config = write_config(tmp_path, {"a": feed_server.url("/a.xml")})
    db = tmp_path / "agg.db"
    legacy_database(db, 1)
    with daemon(config, "--pid-file", str(tmp_path / "agg.pid")) as running:
        running.wait_for(lambda: "daemon started" in running.log())
        assert (
            f"{db}: upgraded from schema version 1 (before migrations) to revision "
            f"{revisions()[-1].id}"
        ) in running.log()
        assert running.stop() == 0
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        titles = {title for (title,) in conn.exec_driver_sql("SELECT title FROM articles")}
    engine.dispose()
    assert "New battery factory opens 1" in titles  # the old rows are still there
