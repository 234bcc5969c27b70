"""The two XML paths agree: wherever the lxml fast path accepts a document, its `ParsedFeed`
equals the one the feedparser path gives for the same bytes.

Run over every sample document in tests/data/feeds, over real feedgen output, and over a
seeded stress set of generated variants (tests/feed_variants.py). The fast path's copies of
the reference's tables are checked against feedparser itself.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import feedparser
import feedparser.api
import feedparser.mixin
import feedparser.urls
import pytest
from feedgen.feed import FeedGenerator

from aggregator import parse_fast, parse_fast_rules
from aggregator.errors import ParseError
from aggregator.models import ParsedFeed
from aggregator.parse import parse_with_feedparser, prepare_xml
from tests.feed_variants import variants

FEEDS = Path(__file__).parent / "data" / "feeds"
URL = "https://feeds.example.com/source"


def both(body: bytes) -> tuple[ParsedFeed | None, ParsedFeed | None]:
    """(fast path result or None, feedparser path result or None) for one document."""
    fast = parse_fast.parse(prepare_xml(body))
    try:
        reference: ParsedFeed | None = parse_with_feedparser(body, url=URL)
    except ParseError:
        reference = None
    return fast, reference


def test_namespace_table_matches_the_reference() -> None:
    theirs = {k.lower(): v for k, v in feedparser.mixin._FeedParserMixin.namespaces.items()}
    assert theirs == parse_fast_rules.NAMESPACES


def test_special_element_names_match_the_reference() -> None:
    names = dir(feedparser.api.StrictFeedParser)
    theirs = {n.split("_", 2)[2].lower() for n in names if n.startswith(("_start_", "_end_"))}
    assert theirs == parse_fast_rules.SPECIAL


def test_uri_schemes_match_the_reference() -> None:
    assert parse_fast_rules.ACCEPTABLE_URI_SCHEMES == feedparser.urls.ACCEPTABLE_URI_SCHEMES


@pytest.mark.parametrize("path", sorted(FEEDS.glob("*.xml")), ids=lambda p: p.name)
def test_sample_documents_agree(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fast, reference = both(path.read_bytes())
    if fast is not None:
        assert fast == reference
    assert not [r for r in caplog.records if r.name == "aggregator.parse_fast"]


def test_fast_path_accepts_the_plain_samples() -> None:
    accepted = {p.name for p in FEEDS.glob("*.xml") if both(p.read_bytes())[0] is not None}
    assert {
        "rss20_english.xml",
        "rss20_gov_gbk.xml",
        "rss20_gbk_declared_utf8.xml",
        "rss20_big5.xml",
        "rss10_rdf.xml",
        "atom10_xmlbase.xml",
        "rss092.xml",
    } <= accepted
    assert not accepted & {"atom03.xml", "rss091_netscape.xml", "rss20_malformed.xml"}


def _feedgen(kind: str) -> bytes:
    """A feed written by feedgen (the library our publish part uses)."""
    fg = FeedGenerator()
    fg.load_extension("dc")
    fg.id("https://factory.example.com/")
    fg.title("Factory & Policy <News>")
    fg.link(href="https://factory.example.com/", rel="alternate")
    fg.link(href="https://factory.example.com/feed", rel="self")
    fg.description("Manufacturing and policy")
    fg.language("zh-cn")
    fg.ttl(30)
    for i in range(6):
        fe = fg.add_entry(order="append")
        fe.id(f"https://factory.example.com/a/{i}")
        fe.title(["制造业PMI回升", "Tariffs & <trade>", "政策解读：“专精特新”"][i % 3])
        fe.link(href=f"https://factory.example.com/a/{i}.html")
        fe.description(f"<p>摘要 {i} &amp; more</p>")
        if i % 2:
            body = f"<p>正文 {i}<br/><img src='/img/{i}.png'></p>"
            fe.content(body, type="CDATA" if kind == "rss" else "html")
        fe.published(dt.datetime(2022, 1, 20 - i, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))))
        fe.updated(dt.datetime(2022, 1, 21, 9, 0, tzinfo=dt.UTC))
        fe.author(name=["编辑部", "Jane Doe"][i % 2], email="news@factory.example.com")
        if i % 3 == 0:
            fe.author(name="Second Author")
        fe.category(term="policy", label="Policy")
        fe.category(term="制造")
        if i == 2:
            fe.enclosure(url="https://factory.example.com/a.mp3", length="1234", type="audio/mpeg")
        fe.dc.dc_creator("Desk")
    return bytes(fg.rss_str(pretty=True) if kind == "rss" else fg.atom_str(pretty=True))


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_feedgen_output_is_read_by_the_fast_path_and_agrees(kind: str) -> None:
    fast, reference = both(_feedgen(kind))
    assert fast is not None
    assert fast == reference
    assert len(fast.entries) == 6
    assert fast.entries[1].title == "Tariffs & <trade>"


def test_generated_variants_agree(caplog: pytest.LogCaptureFixture) -> None:
    accepted = 0
    total = 0
    for name, body in variants(600):
        total += 1
        fast, reference = both(body)
        if fast is None:
            continue
        accepted += 1
        assert fast == reference, name
    assert accepted >= 0.75 * total  # the stress set must mostly exercise the fast path
    assert not [r for r in caplog.records if r.name == "aggregator.parse_fast"]  # no crashes


EDGE_CASES = {
    "character references to latin-1 and c1 code points": (
        b'<rss version="2.0"><channel><item><title>a&#150;b &#233; &#195;&#169;</title>'
        b"<description>caf&#xC3;&#xA9; &#x93;q&#x94;</description></item></channel></rss>"
    ),
    "utf-8 read as latin-1 upstream": (
        "<rss version='2.0'><channel><item><title>cafÃ© Ã  la</title>"
        "<description>\u0093smart\u0094</description></item></channel></rss>"
    ).encode(),
    "xml:base on one entry leaks into the next": (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b'<entry xml:base="http://a.example/dir/"><id>1</id><link href="x.html"/></entry>'
        b'<entry><id>2</id><link href="y.html"/><content type="html">&lt;p&gt;y&lt;/p&gt;'
        b"</content></entry></feed>"
    ),
    "relative xml:base under an absolute one": (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://b.example/a/">'
        b'<entry xml:base="sub/"><id>rel</id><link href="../z.html"/>'
        b'<summary xml:base="/root/" type="html">s</summary></entry></feed>'
    ),
    "plain base and lang attributes count": (
        b'<rss version="2.0"><channel><item base="http://c.example/" lang="fr">'
        b"<guid>p/1</guid><title>t</title><description>d</description></item></channel></rss>"
    ),
    "two titles, two dates, a guid before the link": (
        b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><item>'
        b"<guid>http://e.example/g</guid><title></title><dc:title>Second</dc:title>"
        b"<title>Third</title><pubDate>Mon, 06 Sep 2021 16:45:00 GMT</pubDate>"
        b"<pubDate>Tue, 07 Sep 2021 16:45:00 GMT</pubDate><link>http://e.example/l</link>"
        b"</item></channel></rss>"
    ),
    "atom authors with only an email": (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id>'
        b"<author><name>A</name><email>a@x.example.com</email></author>"
        b"<author><email>b@x.example.com</email></author><author><name>C</name></author>"
        b"</entry></feed>"
    ),
    "image before the channel in RSS 1.0": (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/"><image rdf:about="i"><title>Logo</title></image>'
        b'<channel rdf:about="c"><title>Channel</title></channel>'
        b'<item rdf:about="http://e.example/1"><title>I</title></item></rdf:RDF>'
    ),
    "feed id stands in for a missing alternate link": (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><id>https://f.example/</id>'
        b'<link rel="self" href="https://f.example/atom"/><title type="html">A &amp;amp; B'
        b"</title></feed>"
    ),
    "skip hours and days: whitespace, case, duplicates, invalid values, entities, CDATA": (
        b'<rss version="2.0"><channel><title>t</title><skipHours><hour> 7 </hour>'
        b"<hour>07</hour><hour>24</hour><hour>-1</hour><hour>x</hour><hour>&#50;3</hour>"
        b"<hour><![CDATA[5]]></hour><hour></hour></skipHours><SKIPDAYS><DAY>MONDAY</DAY>"
        b"<day> friday </day><day>Funday</day><day>Mon</day></SKIPDAYS></channel></rss>"
    ),
    "skip hours after the items, in two elements, with a comment": (
        b'<rss version="2.0"><channel><skipHours><hour>1</hour></skipHours><item><title>i'
        b"</title></item><skipHours><hour>3</hour><!-- <hour>4</hour> --></skipHours>"
        b"</channel></rss>"
    ),
    "skip days in RSS 1.0": (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="c"><title>C</title>'
        b"<skipDays><day>Tuesday</day></skipDays></channel>"
        b'<item rdf:about="http://e.example/1"><title>I</title></item></rdf:RDF>'
    ),
}
SKIP_DOUBTS = {
    "skip hours in an item are not the channel's": (
        b'<rss version="2.0"><channel><skipHours><hour>1</hour></skipHours><item><title>i'
        b"</title><skipHours><hour>2</hour></skipHours><skipDays><day>Monday</day></skipDays>"
        b"</item></channel></rss>"
    ),
    "skip hours inside another element": (
        b'<rss version="2.0"><channel><x:a xmlns:x="urn:x"><skipHours><hour>2</hour>'
        b"</skipHours></x:a></channel></rss>"
    ),
    "skip hours mean nothing in Atom": (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b"<skipHours><hour>1</hour></skipHours></feed>"
    ),
    "markup inside skipHours": (
        b'<rss version="2.0"><channel><skipHours><hour><b>1</b></hour><hour>2</hour>'
        b"</skipHours></channel></rss>"
    ),
    "something other than days in skipDays": (
        b'<rss version="2.0"><channel><skipDays><hour>1</hour><day>Friday</day></skipDays>'
        b"</channel></rss>"
    ),
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_hand_written_edge_cases_agree(name: str) -> None:
    fast, reference = both(EDGE_CASES[name])
    assert fast is not None
    assert fast == reference


@pytest.mark.parametrize(
    ("name", "hours", "days"),
    [
        (
            "skip hours and days: whitespace, case, duplicates, invalid values, entities, CDATA",
            (5, 7, 23),
            (0, 4),
        ),
        ("skip hours after the items, in two elements, with a comment", (1, 3), ()),
        ("skip days in RSS 1.0", (), (1,)),
        ("skip hours in an item are not the channel's", (1,), ()),
        ("skip hours inside another element", (2,), ()),
        ("skip hours mean nothing in Atom", (), ()),
        ("markup inside skipHours", (2,), ()),
        ("something other than days in skipDays", (), (4,)),
    ],
)
def test_skip_hours_and_days(name: str, hours: tuple[int, ...], days: tuple[int, ...]) -> None:
    fast, reference = both(EDGE_CASES.get(name) or SKIP_DOUBTS[name])
    assert reference is not None
    assert (reference.skip_hours, reference.skip_days) == (hours, days)
    if name in SKIP_DOUBTS:
        assert fast is None  # the fast path leaves these to the other
    else:
        assert fast is not None and (fast.skip_hours, fast.skip_days) == (hours, days)


@pytest.mark.parametrize(
    ("why", "body"),
    [
        ("doctype", b'<!DOCTYPE rss SYSTEM "x.dtd"><rss version="2.0"><channel/></rss>'),
        (
            "atom 0.3",
            b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>t</title></feed>',
        ),
        ("not well-formed", b'<rss version="2.0"><channel><title>a & b</title></channel></rss>'),
        (
            "markup in a description",
            b'<rss version="2.0"><channel><item><description>a <b>b</b></description>'
            b"</item></channel></rss>",
        ),
        (
            "itunes summary",
            b'<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
            b"<channel><item><itunes:summary>s</itunes:summary></item></channel></rss>",
        ),
        (
            "unknown default namespace",
            b'<rss version="2.0"><channel><item xmlns="urn:x"><title>t</title></item>'
            b"</channel></rss>",
        ),
        (
            "prefix of a known vocabulary rebound",
            b'<rss version="2.0" xmlns:dc="urn:not-dublin-core"><channel><item>'
            b"<dc:creator>x</dc:creator></item></channel></rss>",
        ),
        (
            "second description before content",
            b'<rss version="2.0"><channel><item><description>a</description>'
            b"<description>b</description></item></channel></rss>",
        ),
        ("html", b"<html><body><p>hello</p></body></html>"),
        *SKIP_DOUBTS.items(),
    ],
)
def test_fast_path_declines_what_it_cannot_promise(why: str, body: bytes) -> None:
    assert parse_fast.parse(prepare_xml(body)) is None, why


def test_fast_path_reads_what_feedparser_reads_for_a_simple_document() -> None:
    body = (
        b'<rss version="2.0"><channel><title>T</title><item><title>A</title>'
        b"<link>https://e.example/1</link></item></channel></rss>"
    )
    fast, reference = both(body)
    assert fast is not None and fast == reference
    raw = feedparser.parse(body)
    assert fast.entries[0].title == raw.entries[0].title
