"""Tests the served pages in a real headless Chromium: load the index, follow a topic link.

Chromium runs as a plain subprocess (`--dump-dom` for the DOM, `--screenshot` for a picture);
screenshots are kept in the test's tmp dir. Skipped when `chromium` is not on PATH.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.store import Store
from aggregator.web import create_app
from tests.feeddata import config, fill_store, html_tree, item, nasty_items
from tests.liveserver import LiveServer

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium(profile: Path, *args: str) -> str:
    """Run Chromium once with a throwaway profile; its stdout."""
    if CHROMIUM is None:
        pytest.skip("chromium is not on PATH (apt-get install chromium)")
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's header."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """The app over a store of policy and manufacturing items, served for real."""
    store = Store(f"sqlite:///{tmp_path / 'browser.db'}")
    fill_store(store, [item(n) for n in range(5, 12)] + nasty_items())
    server = LiveServer(create_app(config(f"sqlite:///{tmp_path / 'browser.db'}"), store))
    yield server
    server.close()
    store.close()


def test_index_links_to_a_topic_page_that_lists_its_items(live: LiveServer, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    index = html_tree(chromium(profile, "--dump-dom", live.url + "/"))
    assert index.findtext(".//h1") == "Example News"
    links = index.xpath("//ul[@class='cards']//h3/a")
    assert [a.text for a in links] == ["Example News: all articles", "Manufacturing", "Policy"]
    topic_href = links[1].get("href")
    page = html_tree(chromium(profile, "--dump-dom", live.url + topic_href))
    assert page.findtext(".//h1") == "Manufacturing"
    titles = page.xpath("//ol[@class='items']/li//h3//text()")
    assert titles == ["Control chars in title", "制造业：新质生产力"]
    assert page.xpath("//p[@class='subscribe']/a/text()") == ["RSS", "Atom", "JSON Feed"]


@pytest.mark.parametrize(
    ("name", "path", "size"),
    [("desktop", "/", (1280, 900)), ("phone", "/topics/manufacturing", (390, 844))],
)
def test_pages_render_to_a_screenshot(
    live: LiveServer, tmp_path: Path, name: str, path: str, size: tuple[int, int]
) -> None:
    shot = tmp_path / f"{name}.png"
    chromium(
        tmp_path / "profile",
        f"--screenshot={shot}",
        f"--window-size={size[0]},{size[1]}",
        live.url + path,
    )
    assert png_size(shot) == size
    assert shot.stat().st_size > 10_000  # more than a blank page
