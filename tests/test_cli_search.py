"""`aggregator search` end to end: a real subprocess, a local feed server and a SQLite file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.server import FeedServer
from tests.test_cli import aggregator, write_config

FEEDS = Path(__file__).parent / "data" / "feeds"


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a config whose two sources (Chinese GBK, English) are fetched."""
    folder = tmp_path_factory.mktemp("cli-search")
    with FeedServer() as server:
        server.add("/gov.xml", (FEEDS / "rss20_gov_gbk.xml").read_bytes(), content_type=None)
        server.add("/en.xml", (FEEDS / "rss20_english.xml").read_bytes())
        config = write_config(
            folder, [("gov", server.url("/gov.xml")), ("en", server.url("/en.xml"))]
        )
        done = aggregator("--config", str(config), "fetch", cwd=folder)
        assert done.returncode == 0, done.stderr
    return folder


def search(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`aggregator search ARGS` on the config in `folder`."""
    return aggregator("--config", str(folder / "aggregator.yaml"), "search", *args, cwd=folder)


def test_search_prints_titles_sources_and_snippets(fetched: Path) -> None:
    done = search(fetched, "高端装备")
    assert done.returncode == 0, done.stderr
    assert "关于组织申报2022年度上海市产业转型升级发展专项资金（高端装备）项目的通知" in done.stdout
    assert "gov · 2022-01-18" in done.stdout
    assert "高端装备产业发展" in done.stdout  # the snippet
    assert done.stdout.rstrip().endswith("1 result")


def test_search_as_json_with_filters(fetched: Path) -> None:
    done = search(fetched, "manufacturers", "--source", "en", "--json")
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert hits and all(hit["source"] == "en" for hit in hits)
    assert any("manufacturer" in word.lower() for hit in hits for word in hit["matched"])
    done = search(fetched, "manufacturers", "--language", "zh", "--json")
    assert json.loads(done.stdout) == []
    done = search(fetched, "制造业", "--until", "2021-12-31", "--json")
    assert json.loads(done.stdout) == []


def test_a_minus_word_excludes_without_dashes(fetched: Path) -> None:
    found = json.loads(search(fetched, "上海", "--json").stdout)
    fewer = json.loads(search(fetched, "上海", "-嘉定", "--json").stdout)
    assert len(fewer) < len(found)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("，。",), "error: nothing to search for in '，。': no letters, digits or characters"),
        (("-政策",), "error: nothing to find in '-政策': every term is excluded"),
        (("x", "--since", "soon"), "error: bad date 'soon'"),
        (("x", "--topic", "nope"), "error: no such topic: nope"),
    ],
)
def test_unusable_searches_fail_in_one_line(
    fetched: Path, args: tuple[str, ...], message: str
) -> None:
    done = search(fetched, *args)
    assert done.returncode == 2
    assert done.stderr.startswith(message)
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
