"""Several `aggregator run --role worker` processes and a `--role web` one on one PostgreSQL.

500 sources on the local feed server, 4 workers sharing them through leases, one of them
killed with SIGKILL while it holds some. The server's own counts show each source fetched once
per due period (and never twice at once); the killed worker's sources are fetched by the
others once its leases expire; no article is stored twice; the web process, which fetches
nothing, serves what the workers stored.

The sources are synced and made due at once here before the workers start: left to the
daemons, their first fetches would be spread over 100 s (schedule.FIRST_FETCH_RATE).

A web process's reload (SQLite is enough) serves the new config and leaves syncing the sources
to the workers.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy

from aggregator.config import load_config
from aggregator.core import utcnow
from aggregator.store import Store
from tests.conftest import TEST_DATABASE_ENV, pg_schema_url
from tests.server import FeedServer
from tests.test_cli_topics import free_port
from tests.test_daemon import Daemon, daemon, rss, sql

SOURCES = 500
WORKERS = 4
LEASE = 4  # seconds: short, so the killed worker's sources come back soon
TOPICS = Path("config/topics.yaml").read_text(encoding="utf-8")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema in the AGGREGATOR_TEST_DATABASE_URL database, dropped afterwards."""
    yield from pg_schema_url(
        f"{TEST_DATABASE_ENV} not set: several workers need a shared PostgreSQL"
    )


def write_config(folder: Path, url: str, feeds: FeedServer, names: list[str]) -> Path:
    port = free_port()
    (folder / "topics.yaml").write_text(TOPICS, encoding="utf-8")
    lines = [
        "include: [topics.yaml]",
        f"database: {{url: '{url}'}}",
        f"server: {{port: {port}, base_url: 'http://127.0.0.1:{port}'}}",
        "fetch: {concurrency: 16, per_host: 16, connect_timeout: 1, read_timeout: 2}",
        f"workers: {{lease: {LEASE}, claim_batch: 32}}",
        "sources:",
        *(f"  - {{name: {name}, url: '{feeds.url(f'/{name}.xml')}'}}" for name in names),
    ]
    path = folder / "aggregator.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_all_due(config: Path, url: str) -> datetime:
    """Create the schema and the sources, every one due now; returns that time."""
    store = Store(url)
    try:
        now = utcnow()
        store.sync_sources(load_config(str(config)).sources, now)
        store.schedule_new_sources(lambda names: [now] * len(names))
        return now
    finally:
        store.close()


def feed_items(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/feeds/all.json", timeout=10) as reply:
        return len(json.load(reply)["items"])


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def wait_until(done: Callable[[], bool], alive: list[Daemon], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        for running in alive:
            assert running.process.poll() is None, f"a daemon exited:\n{running.log()}"
        assert time.monotonic() < deadline, "timed out:\n" + alive[0].log()
        time.sleep(0.05)


@pytest.mark.postgres
def test_workers_share_the_sources_and_take_over_a_killed_workers_leases(
    feed_server: FeedServer, tmp_path: Path, pg_url: str
) -> None:
    names = [f"s{i:03}" for i in range(SOURCES)]
    for name in names:
        feed_server.add(f"/{name}.xml", rss(name), delay=0.05)
    config = write_config(tmp_path, pg_url, feed_server, names)
    port = load_config(str(config)).server.port
    make_all_due(config, pg_url)

    def count(query: str) -> int:
        return int(str(sql(pg_url, query)[0][0]))

    with ExitStack() as stack:
        web_args = ("--role", "web", "--no-migrate", "--pid-file", "web.pid")
        web = stack.enter_context(daemon(config, *web_args))
        wait_until(lambda: listening(port), [web])
        assert feed_items(port) == 0  # rendered and cached before anything is stored
        worker_args = ("--role", "worker", "--no-migrate")  # the schema is made above, once
        workers = [
            stack.enter_context(daemon(config, *worker_args, "--pid-file", f"w{i}.pid"))
            for i in range(WORKERS)
        ]
        by_pid = {running.process.pid: running for running in workers}

        def holders() -> Counter[int]:
            """How many leases each worker holds, by process id (owner: host:pid:token)."""
            owners = sql(pg_url, "SELECT lease_owner FROM sources WHERE lease_owner IS NOT NULL")
            return Counter(int(str(owner).split(":")[-2]) for (owner,) in owners)

        ok = "SELECT count(*) FROM sources WHERE last_status = 'ok'"
        busiest: list[int] = []

        def mid_run() -> bool:
            busiest[:] = [pid for pid, _ in holders().most_common(1)] if count(ok) >= 50 else []
            return bool(busiest)

        wait_until(mid_run, workers)
        victim = by_pid[busiest[0]]  # the worker holding the most sources right now
        survivors = [running for running in workers if running is not victim]
        mine = f"strpos(lease_owner, ':{victim.process.pid}:') > 0"
        os.killpg(victim.process.pid, signal.SIGKILL)  # the worker and its parse processes
        victim.process.wait(timeout=10)
        time.sleep(0.5)  # PostgreSQL ends the dead connections: what it held is final
        held = {
            str(name): expires
            for name, expires in sql(
                pg_url, f"SELECT name, lease_expires FROM sources WHERE {mine}"
            )
        }
        assert held, "the killed worker held leases"

        done = "SELECT count(*) FROM sources WHERE last_status = 'ok' AND lease_owner IS NULL"
        wait_until(lambda: count(done) == SOURCES, [web, *survivors])
        wait_until(lambda: feed_items(port) > 0, [web])  # the web process saw the new version

        # first due period: every source fetched once, but those the killed worker held,
        # which may have been fetched by it before it died and then again by another worker
        for name in names:
            hits = feed_server.hits(f"/{name}.xml")
            assert hits == 1 or (name in held and hits == 2), (name, hits)
            assert feed_server.peak_in_flight(f"/{name}.xml") == 1  # never twice at once
        fetched = dict(sql(pg_url, "SELECT name, last_fetched_at FROM sources"))
        for name, expires in held.items():
            assert isinstance(expires, datetime) and fetched[name] > expires, name

        # the next due period, on the three workers left: once more each, conditionally
        feed_server.reset_counts()
        again = utcnow()
        engine = sqlalchemy.create_engine(pg_url)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE sources SET next_fetch_at = now()")
        engine.dispose()
        fresh = f"SELECT count(*) FROM sources WHERE last_fetched_at > '{again.isoformat()}'"
        unleased = "SELECT count(*) FROM sources WHERE lease_owner IS NULL"
        wait_until(lambda: count(fresh) == SOURCES and count(unleased) == SOURCES, survivors)
        for name in names:
            assert feed_server.hits(f"/{name}.xml") == 1, name
            assert "If-None-Match" in feed_server.requests(f"/{name}.xml")[0]

        for running in [web, *survivors]:
            running.process.send_signal(signal.SIGTERM)
        for running in [web, *survivors]:
            assert running.process.wait(timeout=60) == 0, running.log()
            assert "Traceback" not in running.log() and "not written" not in running.log()

    stored = sql(
        pg_url, "SELECT s.name, a.article_id FROM articles a JOIN sources s ON s.id = a.source_id"
    )
    assert sorted(stored) == sorted((name, f"{name}-{n}") for name in names for n in range(2))


def test_a_web_process_reloads_what_it_serves_and_leaves_the_sources_to_the_workers(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'agg.db'}"
    config = write_config(tmp_path, url, feed_server, ["a"])
    port = load_config(str(config)).server.port
    with daemon(config, "--role", "web", "--pid-file", "web.pid") as web:
        wait_until(lambda: listening(port), [web])
        assert topics_served(port) == ["manufacturing", "policy"]
        text = config.read_text(encoding="utf-8").replace("  - {name: a,", "  - {name: b,")
        energy = "  - {slug: energy, title: Energy, rules: [{name: e, terms: [energy]}]}\n"
        config.write_text(text.replace("sources:", "topics:\n" + energy + "sources:"), "utf-8")
        web.process.send_signal(signal.SIGHUP)
        wait_until(lambda: "config reloaded role=web topics=3" in web.log(), [web])
        assert topics_served(port) == ["energy", "manufacturing", "policy"]
        web.process.send_signal(signal.SIGTERM)
        assert web.process.wait(timeout=60) == 0, web.log()
    assert sql(Path(tmp_path / "agg.db"), "SELECT name FROM sources") == []  # never synced


def topics_served(port: int) -> list[str]:
    """The topic slugs of the feeds listed in the web process's OPML, sorted."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/opml.xml", timeout=10) as reply:
        opml = reply.read().decode("utf-8")
    slugs = re.findall(r"/feeds/([a-z0-9-]+)\.xml", opml)
    return sorted(set(slugs) - {"all"})
