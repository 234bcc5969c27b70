"""Reloading the config into running parts: a real YAML file, SQLite store, Updater over HTTP,
and the web app under uvicorn."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aggregator.config import load_config
from aggregator.core import Updater
from aggregator.models import Config, SourceConfig
from aggregator.pidfile import read_pid
from aggregator.process import MIN_JOBS_FOR_POOL
from aggregator.reload import ConfigChanges, apply_config, diff, reload_config
from aggregator.store import Store
from aggregator.web import create_app
from tests.liveserver import LiveServer
from tests.server import FeedServer
from tests.test_cli import aggregator, write_config
from tests.test_cli_topics import free_port


def rss(*titles: str, prefix: str) -> str:
    items = "".join(
        f"<item><guid>{prefix}-{n}</guid><title>{t}</title>"
        f"<link>https://example.test/{prefix}/{n}</link><description>{t}.</description>"
        f"<pubDate>Sun, 01 Mar 2026 07:0{n}:00 +0000</pubDate></item>"
        for n, t in enumerate(titles)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{prefix}</title><link>https://example.test/</link><description>d</description>"
        f"{items}</channel></rss>"
    )


INDUSTRY = """
  - slug: industry
    title: Industry
    threshold: 1
    rules:
      - terms: [{term}]
"""
POLICY = """
  - slug: policy
    title: Policy
    threshold: 1
    rules:
      - terms: [ministry]
"""


class Daemon:
    """The parts a running daemon holds, over one YAML file; `reload()` edits and reloads."""

    def __init__(
        self, folder: Path, store: Store, feeds: FeedServer, sources: dict[str, str], workers: int
    ) -> None:
        self.path = folder / "aggregator.yaml"
        self.store = store
        self.feeds = feeds
        self.write(sources=sources)
        self.config = load_config(str(self.path))
        self.updater = Updater(self.config, store, workers=workers)
        self.updater.sync()
        self.web = LiveServer(create_app(self.config, store, revalidate_seconds=3600))

    def write(
        self, *, sources: dict[str, str], topics: str = INDUSTRY.format(term="factory")
    ) -> None:
        lines = ["sources:"]
        lines += [f"  - name: {n}\n    url: {self.feeds.url(p)}" for n, p in sources.items()]
        self.path.write_text("\n".join(lines) + "\ntopics:" + topics, encoding="utf-8")

    def reload(self) -> Config | None:
        new = reload_config(str(self.path), self.config)
        if new is not None:
            asyncio.run(apply_config(new, self.config, self.updater, self.web.app, self.store))
            self.config = new
        return new

    def fetch(self) -> dict[str, str]:
        """One pass; each fetched source's status."""
        return {r.source: r.status for r in asyncio.run(self.updater.update())}

    def feed(self, slug: str) -> list[str] | None:
        """The titles in the JSON feed `slug`, None when the server has no such feed."""
        reply = self.web.request(f"/feeds/{slug}.json")
        if reply.status == 404:
            return None
        assert reply.status == 200, reply.body
        return sorted(item["title"] for item in json.loads(reply.body)["items"])

    def close(self) -> None:
        self.web.close()
        self.updater.close()


@pytest.fixture
def daemon(tmp_path: Path, store: Store, feed_server: FeedServer) -> Iterator[Daemon]:
    """Parts running on one source, "a" (a factory story), and one topic, "industry"."""
    feed_server.add("/a.xml", rss("New factory opens", prefix="a"))
    feed_server.add("/b.xml", rss("Ministry issues rules", "Factory output up", prefix="b"))
    feed_server.add("/a2.xml", rss("Factory moves", prefix="a2"))
    running = Daemon(tmp_path, store, feed_server, {"a": "/a.xml"}, workers=0)
    assert running.fetch() == {"a": "ok"}
    yield running
    running.close()


@pytest.fixture
def summary(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The reload log, at INFO."""
    caplog.set_level(logging.INFO, logger="aggregator.reload")
    yield caplog


def test_added_source_is_fetched_and_published(
    daemon: Daemon, feed_server: FeedServer, summary: pytest.LogCaptureFixture
) -> None:
    assert daemon.feed("all") == ["New factory opens"]
    daemon.write(sources={"a": "/a.xml", "b": "/b.xml"})
    assert daemon.reload() is not None
    assert daemon.fetch() == {"b": "ok"}  # new sources are due at once; "a" is not due
    assert feed_server.hits("/b.xml") == 1
    assert daemon.feed("all") == ["Factory output up", "Ministry issues rules", "New factory opens"]
    assert daemon.feed("industry") == ["Factory output up", "New factory opens"]
    assert "config reloaded sources_added=1 sources_removed=0 sources_changed=0" in summary.text
    assert "topics_changed=no reclassified=0" in summary.text


def test_removed_source_is_disabled_and_not_fetched(
    daemon: Daemon, feed_server: FeedServer, summary: pytest.LogCaptureFixture
) -> None:
    daemon.write(sources={"b": "/b.xml"})
    daemon.reload()
    removed = daemon.store.source("a")
    assert removed is not None and not removed.enabled
    assert removed.disabled_reason == "removed from config"
    results = asyncio.run(daemon.updater.update(everything=True))
    assert [r.source for r in results] == ["b"]
    assert feed_server.hits("/a.xml") == 1
    assert "sources_added=1 sources_removed=1 sources_changed=0" in summary.text


def test_changed_url_is_fetched_at_once(
    daemon: Daemon, feed_server: FeedServer, summary: pytest.LogCaptureFixture
) -> None:
    daemon.write(sources={"a": "/a2.xml"})
    daemon.reload()
    assert daemon.fetch() == {"a": "ok"}
    assert feed_server.hits("/a2.xml") == 1 and feed_server.hits("/a.xml") == 1
    stored = daemon.store.source("a")
    assert stored is not None and stored.url == feed_server.url("/a2.xml")
    assert "Factory moves" in (daemon.feed("all") or [])
    assert "sources_added=0 sources_removed=0 sources_changed=1" in summary.text


def test_changed_topics_reclassify_stored_articles(
    daemon: Daemon, summary: pytest.LogCaptureFixture
) -> None:
    daemon.write(sources={"a": "/a.xml", "b": "/b.xml"})
    daemon.reload()
    daemon.fetch()
    assert daemon.feed("policy") is None
    daemon.write(sources={"a": "/a.xml", "b": "/b.xml"}, topics=INDUSTRY.format(term="rules"))
    daemon.reload()
    assert daemon.feed("industry") == ["Ministry issues rules"]
    assert "topics_changed=yes reclassified=3" in summary.text
    daemon.write(
        sources={"a": "/a.xml", "b": "/b.xml"}, topics=INDUSTRY.format(term="rules") + POLICY
    )
    daemon.reload()
    assert daemon.feed("policy") == ["Ministry issues rules"]
    stored = daemon.store.topic_items("policy", 10)
    assert [(i.article.title, [m.terms for m in i.topics]) for i in stored] == [
        ("Ministry issues rules", [("rules",), ("ministry",)])
    ]


def test_invalid_config_is_rejected_and_the_running_one_stays(
    daemon: Daemon, summary: pytest.LogCaptureFixture
) -> None:
    before = daemon.config
    daemon.path.write_text(
        "sources:\n  - name: a\n    url: ftp://nowhere\n  - name: b\n    interval: soon\n",
        encoding="utf-8",
    )
    assert daemon.reload() is None
    errors = [r.getMessage() for r in summary.records if r.levelno == logging.ERROR]
    where = str(daemon.path)
    assert errors[0] == f"{where}:3: sources[0].url: not an http(s) or file URL"
    assert any(e.startswith(f"{where}:5: sources[1].interval: ") for e in errors)
    assert errors[-1].startswith("config reload rejected: ")
    assert "the running config stays" in errors[-1]
    assert daemon.config is before and daemon.updater.config is before
    assert daemon.feed("industry") == ["New factory opens"]


def test_missing_config_file_is_rejected(daemon: Daemon, summary: pytest.LogCaptureFixture) -> None:
    daemon.path.unlink()
    assert daemon.reload() is None
    assert f"{daemon.path}: file not found" in summary.text


def test_restart_only_settings_keep_their_running_values(
    daemon: Daemon, summary: pytest.LogCaptureFixture
) -> None:
    text = daemon.path.read_text(encoding="utf-8")
    daemon.path.write_text(
        text + "server:\n  port: 9999\n  title: Renamed\ndatabase:\n  url: sqlite:///other.db\n",
        encoding="utf-8",
    )
    before = daemon.config
    new = daemon.reload()
    assert new is not None
    assert (new.server.port, new.server.title) == (before.server.port, "Renamed")
    assert new.database_url == before.database_url
    assert "database.url, server.port changed; takes effect at the next restart" in summary.text
    assert b"Renamed" in daemon.web.request("/").body


def test_a_pass_in_flight_finishes_then_its_articles_are_reclassified(
    daemon: Daemon, feed_server: FeedServer
) -> None:
    feed_server.add("/slow.xml", rss("Ministry praises factory", prefix="s"), delay=1.0)
    daemon.write(sources={"a": "/a.xml", "slow": "/slow.xml"})
    daemon.reload()

    async def reload_during_a_pass() -> None:
        running = asyncio.create_task(daemon.updater.update())
        while not feed_server.hits("/slow.xml"):
            await asyncio.sleep(0.01)
        daemon.write(sources={"a": "/a.xml", "slow": "/slow.xml"}, topics=POLICY)
        new = reload_config(str(daemon.path), daemon.config)
        assert new is not None
        await apply_config(new, daemon.config, daemon.updater, daemon.web.app, daemon.store)
        assert running.done()  # the reclassify waited for the pass
        daemon.config = new

    asyncio.run(reload_during_a_pass())
    assert daemon.feed("policy") == ["Ministry praises factory"]
    assert daemon.feed("industry") is None
    assert daemon.store.topic_items("industry", 10) == []


def test_new_topics_replace_a_running_worker_pool(
    tmp_path: Path, store: Store, feed_server: FeedServer
) -> None:
    names = {f"s{i}": f"/s{i}.xml" for i in range(MIN_JOBS_FOR_POOL)}
    for name, path in names.items():
        feed_server.add(path, rss(f"Ministry opens a factory in {name}", prefix=name))
    running = Daemon(tmp_path, store, feed_server, names, workers=1)
    try:
        assert set(running.fetch().values()) == {"ok"}
        assert multiprocessing.active_children()  # the pass parsed on a worker process
        running.write(sources=names, topics=POLICY)
        running.reload()
        deadline = time.monotonic() + 30
        while multiprocessing.active_children():  # the old pool is closed, off the event loop
            assert time.monotonic() < deadline, "the old worker pool was not closed"
            time.sleep(0.05)
        feed_server.add("/s0.xml", rss("Ministry opens a factory in s0", "Ministry", prefix="s0"))
        asyncio.run(running.updater.update(everything=True))
        assert multiprocessing.active_children()  # a new pool, with the new topics
        titles = [i.article.title for i in store.topic_items("policy", 100)]
        assert len(titles) == MIN_JOBS_FOR_POOL + 1 and "Ministry" in titles
    finally:
        running.close()
    assert multiprocessing.active_children() == []


def test_diff_ignores_where_a_source_was_written() -> None:
    def config(*sources: SourceConfig) -> Config:
        return Config(path="x.yaml", database_url="sqlite://", sources=sources)

    a = SourceConfig(name="a", url="https://a.test/", file="x.yaml", line=3)
    moved = SourceConfig(name="a", url="https://a.test/", file="y.yaml", line=9)
    tagged = SourceConfig(name="a", url="https://a.test/", tags=("gov",))
    assert diff(config(a), config(moved)) == ConfigChanges()
    changed = diff(config(a), config(tagged))
    assert changed.changed == ("a",) and changed.tags_changed and changed.reclassify
    assert diff(config(a), config()).removed == ("a",)


def test_reload_a_running_daemon_end_to_end(feed_server: FeedServer, tmp_path: Path) -> None:
    """`aggregator run`, then edit the YAML and `aggregator reload`: the new source is fetched
    and published, a broken edit is refused, a second daemon on the same pid file is not."""
    feed_server.add("/a.xml", rss("New factory opens", prefix="a"))
    feed_server.add("/b.xml", rss("Ministry issues rules", prefix="b"))
    port = free_port()
    server = f"server:\n  port: {port}\n  base_url: http://127.0.0.1:{port}\n"
    config = write_config(tmp_path, [("a", feed_server.url("/a.xml"))])
    config.write_text(config.read_text(encoding="utf-8") + server, encoding="utf-8")
    pid_file = str(tmp_path / "run" / "aggregator.pid")
    log = tmp_path / "daemon.log"

    def titles() -> list[str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/feeds/all.json") as reply:
                return sorted(item["title"] for item in json.loads(reply.read())["items"])
        except OSError:
            return []

    def wait_for(done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 60
        while not done():
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.2)

    command = [sys.executable, "-m", "aggregator", "--config", str(config)]
    with log.open("w", encoding="utf-8") as stderr:
        daemon = subprocess.Popen(
            [*command, "run", "--pid-file", pid_file], cwd=tmp_path, stderr=stderr
        )
    try:
        wait_for(lambda: titles() == ["New factory opens"])
        assert read_pid(pid_file) == daemon.pid

        second = aggregator("--config", str(config), "run", "--pid-file", pid_file, cwd=tmp_path)
        assert second.returncode == 1
        assert second.stderr == (
            f"error: {pid_file}: already held by running process {daemon.pid}; "
            "is the daemon running?\n"
        )

        config.write_text(
            config.read_text(encoding="utf-8").replace(
                "sources:\n", f"sources:\n  - name: b\n    url: {feed_server.url('/b.xml')}\n"
            ),
            encoding="utf-8",
        )
        reload = aggregator("reload", "--pid-file", pid_file, cwd=tmp_path)
        assert reload.returncode == 0, reload.stderr
        assert reload.stdout == f"reload requested: sent SIGHUP to the daemon (pid {daemon.pid})\n"
        wait_for(lambda: titles() == ["Ministry issues rules", "New factory opens"])
        assert feed_server.hits("/b.xml") >= 1
        assert "config reloaded sources_added=1 sources_removed=0" in log.read_text("utf-8")

        config.write_text("sources: {}\n", encoding="utf-8")
        assert aggregator("reload", "--pid-file", pid_file, cwd=tmp_path).returncode == 0
        wait_for(lambda: "config reload rejected" in log.read_text(encoding="utf-8"))
        assert f"{config}:1: sources: expected a list" in log.read_text(encoding="utf-8")
        assert titles() == ["Ministry issues rules", "New factory opens"]
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    assert daemon.returncode == 0, log.read_text(encoding="utf-8")
    assert not Path(pid_file).exists()
    assert "Traceback" not in log.read_text(encoding="utf-8")
