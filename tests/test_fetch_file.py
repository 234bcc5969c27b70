"""Local files as sources: file:// URLs and plain paths, read with the fetch rules."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from aggregator.fetch_file import fetch_file, local_path
from aggregator.models import FetchRequest, FetchResult

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
CAP = 20 * 1024 * 1024


def read(path: Path, last_modified: str | None = None, max_bytes: int = CAP) -> FetchResult:
    """Fetch `path` as a plain-path source."""
    request = FetchRequest(str(path), last_modified=last_modified)
    return asyncio.run(fetch_file(request, str(path), max_bytes))


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("file:///srv/feeds/a.xml", "/srv/feeds/a.xml"),
        ("file://localhost/srv/feeds/a.xml", "/srv/feeds/a.xml"),
        ("FILE:///srv/my%20feed.xml", "/srv/my feed.xml"),
        ("/srv/feeds/a.xml", "/srv/feeds/a.xml"),
        ("feeds/a.xml", "feeds/a.xml"),
        ("http://example.com/a.xml", None),
        ("https://example.com/a.xml", None),
    ],
)
def test_local_path(url: str, path: str | None) -> None:
    assert local_path(url) == path


def test_local_path_expands_home() -> None:
    assert local_path("~/feeds/a.xml") == os.path.expanduser("~/feeds/a.xml")


def test_file_url_on_another_host_is_refused() -> None:
    with pytest.raises(ValueError, match=r"another host: example\.com"):
        local_path("file://example.com/srv/a.xml")


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("f.xml", "application/xml"),
        ("f.RSS", "application/xml"),
        ("f.atom", "application/xml"),
        ("f.json", "application/json"),
        ("f.html", "text/html"),
        ("f.txt", None),
    ],
)
def test_content_type_from_extension(tmp_path: Path, name: str, content_type: str | None) -> None:
    (tmp_path / name).write_bytes(b"{}")
    result = read(tmp_path / name)
    assert (result.status, result.content_type, result.charset) == ("ok", content_type, None)


def test_unchanged_file_is_not_modified_and_a_touched_one_is(tmp_path: Path) -> None:
    feed = tmp_path / "feed.rss"
    feed.write_bytes(RSS)
    first = read(feed)
    assert first.last_modified is not None
    again = read(feed, last_modified=first.last_modified)
    assert (again.status, again.body) == ("not_modified", b"")
    assert again.last_modified == first.last_modified
    info = feed.stat()
    os.utime(feed, (info.st_atime, info.st_mtime + 10))
    changed = read(feed, last_modified=first.last_modified)
    assert (changed.status, changed.body) == ("ok", RSS)
    assert changed.last_modified != first.last_modified


def test_file_over_the_cap(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * 2048)
    result = read(big, max_bytes=1024)
    assert (result.status, result.error) == ("error", f"file larger than 1 KiB: {big}")
    assert read(big, max_bytes=2048).status == "ok"


def test_large_file_is_read_whole(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    data = os.urandom(600_000)
    big.write_bytes(data)
    assert read(big).body == data


def test_missing_file(tmp_path: Path) -> None:
    result = read(tmp_path / "nope" / "feed.xml")
    assert (result.status, result.error) == ("error", f"no such file: {tmp_path}/nope/feed.xml")
