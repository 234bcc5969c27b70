"""The `aggregator` command end to end: a real subprocess, local server and SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from tests.server import FeedServer

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Factory news</title><link>https://example.test/</link>
<description>d</description>
<item><guid>f-1</guid><title>New battery factory opens</title><link>https://example.test/1</link>
<description>A new &lt;b&gt;factory&lt;/b&gt; for EV batteries.</description>
<pubDate>Mon, 02 Mar 2026 08:00:00 +0000</pubDate></item>
<item><guid>f-2</guid><title>国务院印发制造业高质量发展意见</title><link>https://example.test/2</link>
<description>推动制造业转型升级。</description>
<pubDate>Mon, 02 Mar 2026 09:00:00 +0800</pubDate></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Policy</title><id>urn:x:policy</id>
<updated>2026-03-02T10:00:00Z</updated>
<entry><id>urn:x:p1</id><title>Ministry issues new rules</title>
<link href="https://example.test/p1"/><updated>2026-03-02T10:00:00Z</updated>
<summary>Regulation of the sector.</summary></entry></feed>"""


def aggregator(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AGGREGATOR_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "aggregator", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_config(tmp_path: Path, sources: list[tuple[str, str]]) -> Path:
    lines = [
        "database:",
        f"  url: sqlite:///{tmp_path / 'agg.db'}",
        "include: [topics.yaml]",
        "sources:",
    ]
    lines += [f"  - name: {name}\n    url: {url}" for name, url in sources]
    (tmp_path / "topics.yaml").write_text(
        Path("config/topics.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    path = tmp_path / "aggregator.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_two_passes_the_second_writes_nothing(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.add("/rss.xml", RSS)
    feed_server.add("/atom.xml", ATOM, content_type="application/atom+xml")
    config = write_config(
        tmp_path,
        [("factories", feed_server.url("/rss.xml")), ("policy", feed_server.url("/atom.xml"))],
    )
    first = aggregator("--config", str(config), "fetch", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "2 ok, 0 not modified, 0 failed; 3 new, 0 updated" in first.stderr
    assert "source=factories status=ok new=2 updated=0" in first.stderr

    second = aggregator("--config", str(config), "fetch", "--all", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "0 ok, 2 not modified, 0 failed; 0 new, 0 updated" in second.stderr
    assert feed_server.hits("/rss.xml") == 2
    assert "if-none-match" in {k.lower() for k in feed_server.requests("/rss.xml")[1]}

    listed = aggregator("--config", str(config), "articles", "--json", cwd=tmp_path)
    articles = json.loads(listed.stdout)
    assert {a["title"] for a in articles} == {
        "New battery factory opens",
        "国务院印发制造业高质量发展意见",
        "Ministry issues new rules",
    }
    states = json.loads(
        aggregator("--config", str(config), "sources", "--json", cwd=tmp_path).stdout
    )
    assert {s["name"]: s["last_status"] for s in states} == {
        "factories": "not_modified",
        "policy": "not_modified",
    }


def test_a_failing_source_is_listed_and_sets_exit_status_1(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.add("/rss.xml", RSS)
    config = write_config(
        tmp_path, [("good", feed_server.url("/rss.xml")), ("missing", feed_server.url("/nope.xml"))]
    )
    result = aggregator("--config", str(config), "fetch", cwd=tmp_path)
    assert result.returncode == 1
    assert "failed: missing: HTTP 404" in result.stderr
    assert "Traceback" not in result.stderr
    listed = json.loads(
        aggregator("--config", str(config), "articles", "--json", cwd=tmp_path).stdout
    )
    assert len(listed) == 2


def test_config_errors_exit_2_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "sources:\n  - name: a\n    url: ftp://example.test/feed\n  - name: a\n    url: https://x.test/\n",
        encoding="utf-8",
    )
    result = aggregator("--config", str(path), "check", cwd=tmp_path)
    assert result.returncode == 2
    assert f"{path}:3: sources[0].url:" in result.stderr
    assert f"{path}:4: sources[1].name:" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_prints_a_summary_of_the_default_config() -> None:
    root = Path(__file__).resolve().parent.parent
    result = aggregator("check", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "config/aggregator.yaml: ok" in result.stdout
    assert "topics: manufacturing, policy" in result.stdout


def test_unknown_source_name_is_a_usage_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, [("a", "https://example.test/feed")])
    result = aggregator("--config", str(config), "fetch", "--source", "zzz", cwd=tmp_path)
    assert result.returncode == 2
    assert "no such source: zzz" in result.stderr


GBK_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>工业和信息化部</title><link>https://gov.example.cn/</link>
<description>新闻</description>
<item><guid>gbk-1</guid><title>工信部印发《制造业数字化转型行动方案》</title>
<link>https://gov.example.cn/1</link><description>推进智能制造。</description>
<pubDate>2026-03-02 10:30:00</pubDate></item></channel></rss>"""


def test_gbk_body_with_a_wrong_declaration_reads_right(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.add(
        "/gbk.xml", GBK_RSS.encode("gbk"), content_type="application/rss+xml; charset=utf-8"
    )
    config = write_config(tmp_path, [("miit", feed_server.url("/gbk.xml"))])
    assert aggregator("--config", str(config), "fetch", cwd=tmp_path).returncode == 0
    [article] = json.loads(
        aggregator("--config", str(config), "articles", "--json", cwd=tmp_path).stdout
    )
    assert article["title"] == "工信部印发《制造业数字化转型行动方案》"
    assert article["text"] == "推进智能制造。"


def test_gone_and_throttled_sources_are_reported(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.add("/gone.xml", "", status=410)
    feed_server.add("/busy.xml", "", status=429, headers={"Retry-After": "7200"})
    config = write_config(
        tmp_path, [("gone", feed_server.url("/gone.xml")), ("busy", feed_server.url("/busy.xml"))]
    )
    result = aggregator("--config", str(config), "fetch", cwd=tmp_path)
    assert result.returncode == 1
    states = json.loads(
        aggregator("--config", str(config), "sources", "--json", cwd=tmp_path).stdout
    )
    by_name = {s["name"]: s for s in states}
    assert by_name["gone"]["enabled"] is False
    assert by_name["gone"]["disabled_reason"].startswith("gone: ")
    busy = by_name["busy"]
    assert busy["last_status"] == "error" and busy["error_streak"] == 1
    fetched = datetime.fromisoformat(busy["last_fetched_at"])
    assert datetime.fromisoformat(busy["next_fetch_at"]) >= fetched + timedelta(seconds=7200)
    again = aggregator("--config", str(config), "fetch", cwd=tmp_path)
    assert again.returncode == 0 and "0 sources" in again.stderr  # neither is due
