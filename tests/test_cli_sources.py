"""`aggregator discover`, `add` and `opml`: a real subprocess against a local server."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import yaml

from tests.server import FeedServer
from tests.test_cli import aggregator

DATA = Path(__file__).parent / "data" / "listpages"
RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Factory news</title><link>https://example.test/</link>
<item><guid>f-1</guid><title>New battery factory opens</title></item>
</channel></rss>"""
CONFIG = """# Our sources. Keep this comment.
database:
  url: sqlite:///{db}

sources:
  # ---- existing
  - name: existing   # a feed we already read
    url: {existing}

# ---- the end
"""


def write_config(tmp_path: Path, server: FeedServer) -> Path:
    path = tmp_path / "aggregator.yaml"
    text = CONFIG.format(db=tmp_path / "agg.db", existing=server.url("/existing.xml"))
    path.write_text(text, encoding="utf-8")
    return path


def serve_site(server: FeedServer) -> None:
    server.add(
        "/zwgk/zcwj/index.html", (DATA / "gov-list.html").read_bytes(), content_type="text/html"
    )
    server.add("/existing.xml", RSS)


def test_discover_prints_the_feed_or_a_proposal(feed_server: FeedServer, tmp_path: Path) -> None:
    serve_site(feed_server)
    done = aggregator("discover", feed_server.url("/existing.xml"), cwd=tmp_path)  # no config
    assert done.returncode == 0, done.stderr
    assert f"feed: {feed_server.url('/existing.xml')}  Factory news" in done.stdout
    done = aggregator("discover", "--json", feed_server.url("/zwgk/zcwj/index.html"), cwd=tmp_path)
    found = json.loads(done.stdout)
    assert found["feeds"] == [] and found["page"]["matched"] == 3
    done = aggregator("discover", feed_server.url("/zwgk/zcwj/index.html"), cwd=tmp_path)
    assert "no feed; 3 article links on the page" in done.stdout
    assert "type: page" in done.stdout and "timezone: Asia/Shanghai" in done.stdout
    block = done.stdout.split("proposed source (aggregator add URL writes it):\n", 1)[1]
    (proposed,) = yaml.safe_load(textwrap.dedent(block))  # unwrapped: it reads back as YAML
    assert proposed["page"]["include"] == found["page"]["rules"]["include"]
    assert proposed["url"] == feed_server.url("/zwgk/zcwj/index.html")
    done = aggregator("discover", feed_server.url("/gone"), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {feed_server.url('/gone')}: HTTP 404 Not Found"


def test_add_appends_a_page_source_and_keeps_comments(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    serve_site(feed_server)
    config = write_config(tmp_path, feed_server)
    before = config.read_text(encoding="utf-8")
    url = feed_server.url("/zwgk/zcwj/index.html")
    dry = aggregator("--config", str(config), "add", url, "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "type: page" in dry.stdout and config.read_text(encoding="utf-8") == before
    done = aggregator(
        "--config", str(config), "add", url, "--name", "gov-policy", "--tag", "policy", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == f"added source 'gov-policy' to {config}"
    after = config.read_text(encoding="utf-8")
    assert after.startswith(
        before.split("# ---- the end")[0].rstrip("\n") + "\n\n  - name: gov-policy\n"
    )
    assert after.endswith("\n# ---- the end\n")
    assert re.search(r"    # list page: 3 article links, e\.g\. 关于印发", after)
    assert "    tags: [policy]\n    language: zh\n    timezone: Asia/Shanghai\n" in after
    check = aggregator("--config", str(config), "check", cwd=tmp_path)
    assert check.returncode == 0 and "sources: 2 (2 enabled)" in check.stdout
    again = aggregator("--config", str(config), "add", url, cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.strip() == f"error: {config}: {url} is already configured as 'gov-policy'"
    assert config.read_text(encoding="utf-8") == after


def test_add_a_feed_found_by_a_link_tag(feed_server: FeedServer, tmp_path: Path) -> None:
    serve_site(feed_server)
    feed_server.add(
        "/blog/",
        '<html><head><link rel="alternate" type="application/rss+xml" href="/blog.rss">',
        content_type="text/html",
    )
    feed_server.add("/blog.rss", RSS)
    config = write_config(tmp_path, feed_server)
    done = aggregator("--config", str(config), "add", feed_server.url("/blog/"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"  - name: factory-news\n    # Factory news\n    url: {feed_server.url('/blog.rss')}\n"
    )


def test_opml_import_and_export(feed_server: FeedServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, feed_server)
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body><outline text="Policy">'
        f'<outline type="rss" text="Existing" xmlUrl="{feed_server.url("/existing.xml")}"/>'
        '<outline type="rss" text="Trade Weekly" xmlUrl="https://example.org/trade.xml"/>'
        "</outline></body></opml>",
        encoding="utf-8",
    )
    dry = aggregator(
        "--config", str(config), "opml", "import", str(opml), "--dry-run", cwd=tmp_path
    )
    assert dry.returncode == 0, dry.stderr
    assert (
        "would add 1 source(s)" in dry.stderr and "already configured as 'existing'" in dry.stderr
    )
    done = aggregator("--config", str(config), "opml", "import", str(opml), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "  - name: trade-weekly\n    # Trade Weekly\n" in config.read_text(encoding="utf-8")
    out = tmp_path / "out.opml"
    exported = aggregator("--config", str(config), "opml", "export", "-o", str(out), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    text = out.read_text(encoding="utf-8")
    assert '<outline text="policy" title="policy">' in text
    assert 'xmlUrl="https://example.org/trade.xml" category="/policy"' in text
    stdout = aggregator("--config", str(config), "opml", "export", cwd=tmp_path)
    assert stdout.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    bad = tmp_path / "bad.opml"
    bad.write_text("<opml><body>", encoding="utf-8")
    failed = aggregator("--config", str(config), "opml", "import", str(bad), cwd=tmp_path)
    assert failed.returncode == 1
    assert failed.stderr.startswith(f"error: {bad}: not well-formed XML")
