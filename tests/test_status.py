"""/status, /status.json and `aggregator status`: a real server and subprocess over a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aggregator.health import report_json
from aggregator.models import SourceState
from aggregator.store import Store
from aggregator.web import create_app
from tests.feeddata import config, html_tree
from tests.healthdata import EXPECTED, fill_health, url
from tests.liveserver import LiveServer

NASTY_ERROR = 'HTTP 500 <script>alert("x")</script> & more'


@dataclass
class Site:
    """A filled store, its database URL and the app serving it."""

    store: Store
    url: str
    live: LiveServer


def filled(path: Path) -> tuple[Store, str]:
    """A store at `path` with the health sources, the failing one with markup in its error."""
    database = f"sqlite:///{path}"
    store = Store(database)
    now = datetime.now(UTC).replace(microsecond=0)
    fill_health(store, now)
    failing = next(s for s in store.sources() if s.name == "failing-feed")
    state = SourceState(
        url=failing.url,
        etag=None,
        last_modified=None,
        last_fetched_at=now - timedelta(minutes=10),
        next_fetch_at=now + timedelta(minutes=20),
        last_status="error",
        last_error=NASTY_ERROR,
        error_streak=4,
    )
    store.save_states([(failing.id, state)])
    return store, database


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One server over the health sources, for the tests that change nothing."""
    store, database = filled(tmp_path_factory.mktemp("status") / "status.db")
    live = LiveServer(create_app(config(database), store))
    yield Site(store, database, live)
    live.close()
    store.close()


# ---------------------------------------------------------------- /status


def test_status_page_lists_worst_first_in_the_site_look(site: Site) -> None:
    reply = site.live.request("/status")
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.headers["cache-control"] == "no-store"
    tree = html_tree(reply.body)
    assert tree.xpath("string(//title)") == "Status · Example News"
    assert tree.xpath("//header[@class='site']//a[@class='brand']")
    rows = tree.xpath("//table[@class='status']/tbody/tr")
    names = [row.xpath("string(.//span[@class='name'])") for row in rows]
    assert names == list(EXPECTED)
    classes = [row.get("class") for row in rows]
    assert classes == [f"state-{state}" for state in EXPECTED.values()]
    failing = rows[0]
    assert failing.xpath("string(.//td[@class='note'])") == NASTY_ERROR
    assert failing.xpath("string(.//td[@class='n'][1])") == "4"
    assert b"<script>" not in reply.body
    assert "overdue" in rows[2].xpath("string(.//b)")
    assert rows[1].xpath("string(.//td[@class='note'])") == "no entries for 5 fetches in a row"
    ok = rows[4]
    assert [td.text for td in ok.xpath(".//td[@class='n']")] == ["0", "2", "3"]
    tally = {
        li.xpath("string(b)"): li.xpath("string(.)") for li in tree.xpath("//ul[@class='tally']/li")
    }
    assert "7sources" in tally.values() and "2disabled" in tally.values()


def test_status_page_head_and_threshold(site: Site) -> None:
    head = site.live.request("/status", method="HEAD")
    assert (head.status, head.body) == (200, b"")
    relaxed = html_tree(site.live.request("/status?empty_after=6").body)
    names = relaxed.xpath("//tr[@class='state-empty']//span[@class='name']/text()")
    assert names == []
    for bad in ("0", "abc", "1001", "-1"):
        reply = site.live.request(f"/status?empty_after={bad}")
        assert reply.status == 400
        assert reply.body == b"empty_after must be a whole number from 1 to 1000\n"


# ---------------------------------------------------------------- /status.json


def test_status_json_is_the_report(site: Site) -> None:
    reply = site.live.request("/status.json")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    data = json.loads(reply.body)
    expected = report_json(site.store.health.report(datetime.now(UTC)))
    assert set(data) == {
        "generated_at",
        "empty_after",
        "overdue_after_seconds",
        "summary",
        "sources",
    }
    assert data["summary"] == expected["summary"]
    assert data["summary"] == {
        "sources": 7,
        "ok": 1,
        "new": 1,
        "failing": 1,
        "empty": 1,
        "overdue": 1,
        "due": 2,
        "disabled": 2,
        "max_error_streak": 4,
    }
    assert data["sources"] == expected["sources"]
    assert [s["state"] for s in data["sources"]] == list(EXPECTED.values())
    assert data["generated_at"].endswith("Z")
    first = data["sources"][0]
    assert first["name"] == "failing-feed"
    assert first["url"] == url("failing-feed")
    assert first["last_error"] == NASTY_ERROR
    assert datetime.fromisoformat(first["last_fetched_at"]).tzinfo is not None


def test_status_json_threshold(site: Site) -> None:
    data = json.loads(site.live.request("/status.json?empty_after=6").body)
    assert data["empty_after"] == 6
    assert data["summary"]["empty"] == 0
    assert site.live.request("/status.json?empty_after=x").status == 400


def test_unreadable_database_gives_503(tmp_path: Path) -> None:
    store, database = filled(tmp_path / "broken.db")
    live = LiveServer(create_app(config(database), store))
    try:
        store.close()
        for leftover in tmp_path.glob("broken.db-*"):
            leftover.unlink()
        (tmp_path / "broken.db").write_bytes(b"not a database " * 500)
        for path in ("/status", "/status.json"):
            reply = live.request(path)
            assert reply.status == 503
            assert reply.body == b"database unavailable: file is not a database\n"
        assert live.request("/metrics").status == 200
    finally:
        live.close()
        store.close()


# ---------------------------------------------------------------- aggregator status


def aggregator(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AGGREGATOR_CONFIG"}
    env["COLUMNS"] = "220"
    return subprocess.run(
        [sys.executable, "-m", "aggregator", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_config(folder: Path, database: str) -> Path:
    path = folder / "aggregator.yaml"
    path.write_text(
        f"database:\n  url: {database}\nsources:\n  - name: ok-feed\n    url: {url('ok-feed')}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def configured(tmp_path: Path) -> Path:
    """A config file whose database holds the health sources."""
    store, database = filled(tmp_path / "cli.db")
    store.close()
    return write_config(tmp_path, database)


def table_rows(stdout: str) -> list[list[str]]:
    return [line.split() for line in stdout.splitlines()[1:] if line.strip()]


def test_status_command_prints_the_table(configured: Path) -> None:
    result = aggregator("--config", str(configured), "status", cwd=configured.parent)
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header[:3] == ["name", "state", "status"]
    rows = table_rows(result.stdout)
    assert [(row[0], row[1]) for row in rows] == list(EXPECTED.items())
    failing = next(
        line for line in result.stdout.splitlines() if line.strip().startswith("failing-feed")
    )
    assert NASTY_ERROR in failing
    assert "overdue" in next(line for line in result.stdout.splitlines() if "overdue-feed" in line)
    assert result.stderr.strip() == (
        "7 sources: 1 ok, 1 new, 1 failing, 1 empty, 1 overdue, 2 due, 2 disabled"
    )


def test_status_command_json_matches_the_route_format(configured: Path) -> None:
    result = aggregator(
        "--config", str(configured), "status", "--json", "--empty-after", "6", cwd=configured.parent
    )
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["empty_after"] == 6
    assert {s["name"]: s["state"] for s in data["sources"]}["empty-page"] == "ok"
    assert data["summary"]["sources"] == 7
    ok = next(s for s in data["sources"] if s["name"] == "ok-feed")
    assert (ok["articles_total"], ok["articles_24h"], ok["articles_7d"]) == (4, 2, 3)


def test_status_command_unreadable_database_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database " * 500)
    config_path = write_config(tmp_path, f"sqlite:///{broken}")
    result = aggregator("--config", str(config_path), "status", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == f"error: opening database {broken}: file is not a database"
