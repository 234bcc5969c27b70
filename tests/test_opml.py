"""OPML subscription lists ↔ sources (opml)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.errors import ParseError
from aggregator.models import SourceConfig
from aggregator.opml import OpmlFeed, import_sources, read_opml, render_opml

READER_EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>My subscriptions</title></head>
  <body>
    <outline text="Industry" title="Industry">
      <outline type="rss" text="IndustryWeek" title="IndustryWeek"
               xmlUrl="https://www.industryweek.com/rss.xml" htmlUrl="https://www.industryweek.com/"/>
      <outline text="China">
        <outline type="rss" text="36氪" xmlUrl="https://36kr.com/feed" category="/Tech/Startups"/>
      </outline>
    </outline>
    <outline type="rss" text="Loose &amp; free" xmlUrl="https://example.org/feed?a=1&amp;b=2"/>
    <outline type="rss" text="Again" xmlUrl="https://example.org/feed?a=1&amp;b=2"/>
    <outline type="link" text="A page" url="https://example.org/page"/>
  </body>
</opml>
""".encode()


def test_read_opml_collects_folders_and_categories() -> None:
    feeds = read_opml(READER_EXPORT, "subs.opml")
    assert feeds == [
        OpmlFeed("https://www.industryweek.com/rss.xml", "IndustryWeek", ("Industry",)),
        OpmlFeed("https://36kr.com/feed", "36氪", ("Industry", "China", "Tech", "Startups")),
        OpmlFeed("https://example.org/feed?a=1&b=2", "Loose & free", ()),
        OpmlFeed("https://example.org/feed?a=1&b=2", "Again", ()),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<opml><body><outline", "subs.opml: not well-formed XML"),
        (b"<rss version='2.0'/>", "subs.opml: not an OPML document (root element <rss>)"),
        (b"<opml version='2.0'><head/></opml>", "subs.opml: not an OPML document (no <body>)"),
        (
            b'<!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body/></opml>',
            "subs.opml: entity declarations are not accepted",
        ),
    ],
)
def test_read_opml_errors_are_one_line(data: bytes, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        read_opml(data, "subs.opml")
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_import_names_tags_and_skips_repeated_urls() -> None:
    sources = import_sources(read_opml(READER_EXPORT, "subs.opml"), taken={"industryweek"})
    assert [(s.name, s.url, s.tags, s.comments) for s in sources] == [
        (
            "industryweek-2",
            "https://www.industryweek.com/rss.xml",
            ("industry",),
            ("IndustryWeek",),
        ),
        ("36kr-com", "https://36kr.com/feed", ("industry", "china", "tech", "startups"), ("36氪",)),
        ("loose-free", "https://example.org/feed?a=1&b=2", (), ("Loose & free",)),
    ]


def test_export_reads_back_as_the_same_feeds() -> None:
    sources = (
        SourceConfig(name="a", url="https://example.org/a.xml?x=1&y=2", tags=("policy", "china")),
        SourceConfig(name="b", url="https://example.org/b.xml"),
        SourceConfig(name="c", url="https://example.org/list/", type="page", tags=("policy",)),
    )
    data = render_opml(sources, title="aggregator sources", now=datetime(2024, 1, 2, tzinfo=UTC))
    assert b"<dateCreated>Tue, 02 Jan 2024 00:00:00 GMT</dateCreated>" in data
    assert b'<outline type="link" text="c" url="https://example.org/list/"' in data
    assert read_opml(data, "out.opml") == [
        OpmlFeed("https://example.org/a.xml?x=1&y=2", "a", ("policy", "china")),
        OpmlFeed("https://example.org/b.xml", "b", ()),
    ]
