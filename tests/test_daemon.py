"""`aggregator run` for real: a subprocess against the local feed server and a database.

Stopping with a deadline, storage errors the daemon survives, and a crash (SIGKILL)
mid-ingest followed by a restart that loses nothing and duplicates nothing. The stop and crash
tests run on SQLite and (when configured) PostgreSQL; the locked-database test holds SQLite's
write lock from outside, so it is SQLite only.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path

import pytest
import sqlalchemy

from aggregator.config import load_config
from aggregator.core import utcnow
from aggregator.errors import ConfigError
from aggregator.store import Store
from tests.server import FeedServer
from tests.test_cli_topics import free_port

TOPICS = Path("config/topics.yaml").read_text(encoding="utf-8")


def rss(name: str, count: int = 2) -> str:
    items = "".join(
        f"<item><guid>{name}-{n}</guid><title>{name} factory news {n}</title>"
        f"<link>https://example.test/{name}/{n}</link><description>Story {n}.</description>"
        f"<pubDate>Mon, 02 Mar 2026 0{n}:00:00 +0000</pubDate></item>"
        for n in range(count)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title><link>https://example.test/</link><description>d</description>"
        f"{items}</channel></rss>"
    )


def write_config(
    tmp_path: Path,
    sources: dict[str, str],
    *,
    database: str = "",
    fetch: str = "",
    url: str | None = None,
) -> Path:
    """A config with `sources` (name -> URL), the default topics, a free port, and extra
    `database:` / `fetch:` lines; the database at `url` (default: agg.db in `tmp_path`)."""
    port = free_port()
    (tmp_path / "topics.yaml").write_text(TOPICS, encoding="utf-8")
    url = url or f"sqlite:///{tmp_path / 'agg.db'}"
    lines = [
        "include: [topics.yaml]",
        "database:",
        f"  url: '{url}'",
        database,
        "server:",
        f"  port: {port}",
        f"  base_url: http://127.0.0.1:{port}",
        "fetch:",
        "  read_timeout: 120",
        fetch,
        "sources:",
        *(f"  - name: {name}\n    url: {url}" for name, url in sources.items()),
    ]
    path = tmp_path / "aggregator.yaml"
    path.write_text("\n".join(line for line in lines if line) + "\n", encoding="utf-8")
    return path


class Daemon:
    """`aggregator run` in its own process group, its log in a file."""

    def __init__(self, config: Path, *args: str) -> None:
        self.log_path = config.parent / f"daemon-{time.monotonic_ns()}.log"
        with self.log_path.open("w", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "aggregator", "--config", str(config), "run", *args],
                cwd=config.parent,
                stderr=log,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def wait_for(self, done: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert self.process.poll() is None, f"the daemon exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"timed out; the log:\n{self.log()}"
            time.sleep(0.02)

    def stop(self) -> int:
        """SIGTERM, then the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def kill_group(self) -> None:
        """SIGKILL whatever is left of the daemon's process group (its parse workers)."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def daemon(config: Path, *args: str) -> Iterator[Daemon]:
    running = Daemon(config, *args)
    try:
        yield running
    finally:
        running.kill_group()


def sql(url: str | Path, query: str) -> list[tuple[object, ...]]:
    """The rows of `query` on the database at `url` (a path: a SQLite file), read directly."""
    if isinstance(url, Path):
        with closing(sqlite3.connect(url)) as conn:
            return conn.execute(query).fetchall()
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(query)]
    finally:
        engine.dispose()


def articles(db: str | Path) -> list[tuple[str, str, int]]:
    """(source name, article id, pk) of every stored article."""
    query = (
        "SELECT s.name, a.article_id, a.pk FROM articles a JOIN sources s"
        " ON s.id = a.source_id ORDER BY a.pk"
    )
    return [(str(name), str(article), int(str(pk))) for name, article, pk in sql(db, query)]


def check_consistent(db: str | Path) -> None:
    if str(db).startswith("sqlite:///"):
        assert sql(Path(str(db).removeprefix("sqlite:///")), "PRAGMA integrity_check") == [("ok",)]
    duplicates = sql(
        db,
        "SELECT source_id, article_id FROM articles GROUP BY source_id, article_id"
        " HAVING count(*) > 1",
    )
    assert duplicates == []


def test_stop_lets_sources_in_flight_finish_and_cuts_off_the_rest(
    feed_server: FeedServer, tmp_path: Path, db_url: str
) -> None:
    feed_server.add("/hang.xml", rss("hang"), delay=120)
    feed_server.add("/slow.xml", rss("slow"), delay=1.0)
    config = write_config(
        tmp_path,
        {"hang": feed_server.url("/hang.xml"), "slow": feed_server.url("/slow.xml")},
        url=db_url,
    )
    pid_file = tmp_path / "aggregator.pid"
    with daemon(config, "--stop-timeout", "3", "--pid-file", str(pid_file)) as running:
        running.wait_for(lambda: feed_server.hits("/hang.xml") and feed_server.hits("/slow.xml"))
        assert pid_file.read_text(encoding="utf-8").strip() == str(running.process.pid)
        assert running.stop() == 0, running.log()
    log = running.log()
    signalled = log.index("received SIGTERM: stopping; sources in flight have 3s to finish")
    assert log.index("source=slow status=ok new=2") > signalled  # finished after the signal
    assert "cancelled 1 source(s) still in flight at the deadline" in log
    assert log.rstrip().endswith("daemon stopped") and "Traceback" not in log
    assert not pid_file.exists()
    store = Store(db_url)
    try:
        slow, hang = store.source("slow"), store.source("hang")
        assert slow is not None and slow.article_count == 2 and slow.last_status == "ok"
        assert hang is not None and hang.article_count == 0  # cut off: as it was before
        assert hang.last_fetched_at is None and hang.last_status is None
        assert [s.name for s in store.due_now(utcnow())] == ["hang"]  # due at the next start
        assert store.leases.held() == []  # and its lease given back: no wait for it to lapse
    finally:
        store.close()


def test_a_locked_database_is_logged_and_retried_until_it_stores(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.add("/slow.xml", rss("slow"), delay=1.0)
    config = write_config(
        tmp_path, {"slow": feed_server.url("/slow.xml")}, database="  busy_timeout: 0.2"
    )
    db = tmp_path / "agg.db"
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        with daemon(config) as running:
            running.wait_for(lambda: feed_server.hits("/slow.xml") == 1)  # fetch in flight
            holder.execute("BEGIN IMMEDIATE")  # held far longer than the busy timeout
            running.wait_for(lambda: "database is locked" in running.log())
            # still alive: each tick tries to claim the source again, and logs the failure
            claim_failed = "tick: claiming due sources: database is locked"
            running.wait_for(lambda: claim_failed in running.log())
            # and the fetch already in flight fails to save, without losing the source
            save_failed = 'reason="saving source slow: database is locked"'
            running.wait_for(lambda: save_failed in running.log())
            holder.execute("ROLLBACK")
            running.wait_for(lambda: "source=slow status=ok new=2" in running.log())
            assert running.stop() == 0, running.log()
    finally:
        holder.close()
    assert feed_server.hits("/slow.xml") >= 2  # retried once the lock was gone
    log = running.log()
    assert "source=slow status=error ms=" in log
    assert 'reason="saving source slow: database is locked"' in log
    assert "Traceback" not in log
    assert [(name, article) for name, article, _ in articles(db)] == [
        ("slow", "slow-0"),
        ("slow", "slow-1"),
    ]


def test_a_crash_mid_ingest_loses_nothing_and_a_restart_carries_on(
    feed_server: FeedServer, tmp_path: Path, db_url: str
) -> None:
    names = [f"s{i:02}" for i in range(20)]
    for name in names:
        feed_server.add(f"/{name}.xml", rss(name, count=3), delay=0.5)
    config = write_config(
        tmp_path,
        {name: feed_server.url(f"/{name}.xml") for name in names},
        fetch="  per_host: 4",
        url=db_url,
    )
    db = db_url

    def stored_sources() -> set[str]:
        try:
            return {name for name, _, _ in articles(db)}
        except (sqlite3.OperationalError, sqlalchemy.exc.DBAPIError):  # not created yet
            return set()

    with daemon(config) as first:
        first.wait_for(lambda: len(stored_sources()) >= 3)
        first.process.send_signal(signal.SIGKILL)  # mid-ingest: more sources in flight
        first.process.wait(timeout=10)
    before = articles(db)
    committed = {name for name, _, _ in before}
    assert 3 <= len(committed) < len(names)
    check_consistent(db)
    hits = {name: feed_server.hits(f"/{name}.xml") for name in committed}
    assert set(hits.values()) == {1}

    with daemon(config) as second:  # finds the pid file left behind: takes the leases back
        second.wait_for(lambda: len(stored_sources()) == len(names))
        assert second.stop() == 0, second.log()
    released = rf"released \d+ lease\(s\) of crashed process {first.process.pid}\n"
    assert re.search(released, second.log())
    check_consistent(db)
    after = articles(db)
    assert set(before) <= set(after)  # every committed row is still there, same key
    assert sorted((name, article) for name, article, _ in after) == [
        (name, f"{name}-{n}") for name in names for n in range(3)
    ]
    for name in committed:  # the restart resumed: nothing stored was fetched again
        assert feed_server.hits(f"/{name}.xml") == 1


def test_the_busy_timeout_is_read_from_the_config(tmp_path: Path) -> None:
    path = write_config(tmp_path, {}, database="  busy_timeout: 0.25")
    assert load_config(str(path)).database_busy_timeout == 0.25
    assert load_config(str(write_config(tmp_path, {}))).database_busy_timeout == 30
    bad = write_config(tmp_path, {}, database="  busy_timeout: 0")
    with pytest.raises(ConfigError) as caught:
        load_config(str(bad))
    assert [str(issue) for issue in caught.value.issues] == [
        f"{bad}:4: database.busy_timeout: must be greater than 0"
    ]
