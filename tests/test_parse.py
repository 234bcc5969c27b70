"""parse_feed on the sample documents in tests/data/feeds, against golden files, and on the
behaviours the parse part promises (formats, encodings, dates, errors).

Golden files are `parsed/<case>.parsed.json` (a subfolder, so they are not taken for sample
documents); after a deliberate change, rewrite them with
`UPDATE_GOLDEN=1 pytest tests/test_parse.py` and review the diff.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from aggregator import parse_fast
from aggregator.errors import NotAFeedError, ParseError
from aggregator.models import Enclosure, ParsedFeed
from aggregator.parse import parse_feed, prepare_xml

FEEDS = Path(__file__).parent / "data" / "feeds"
GOLDEN = FEEDS / "parsed"
DOCUMENTS = sorted(
    p
    for p in FEEDS.iterdir()
    if p.is_file() and p.suffix in (".xml", ".json") and p.name.count(".") == 1
)
URL = "https://feeds.example.com/source"


def jsonable(value: Any) -> Any:
    """A ParsedFeed (or part of one) as plain JSON data; datetimes in ISO 8601."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def outcome(path: Path) -> dict[str, Any]:
    """What parse_feed makes of a sample document: the feed, or the error it raised."""
    try:
        feed = parse_feed(path.read_bytes(), url=URL)
    except ParseError as exc:
        return {"error": type(exc).__name__, "message": str(exc)}
    result: dict[str, Any] = jsonable(asdict(feed))
    return result


def load(name: str) -> ParsedFeed:
    return parse_feed((FEEDS / name).read_bytes(), url=URL)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_sample_documents_match_their_golden_files(path: Path) -> None:
    golden = GOLDEN / (path.name.rsplit(".", 1)[0] + ".parsed.json")
    found = outcome(path)
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(json.dumps(found, ensure_ascii=False, indent=2) + "\n", "utf-8")
    assert found == json.loads(golden.read_text("utf-8"))


def test_there_are_enough_sample_documents() -> None:
    assert len(DOCUMENTS) >= 15
    assert len({p.name.split("_")[0] for p in DOCUMENTS}) >= 6


def test_rss20_reads_wordpress_style_fields() -> None:
    feed = load("rss20_english.xml")
    assert (feed.format, feed.title, feed.language, feed.ttl) == (
        "rss20",
        "Manufacturing Today",
        "en-US",
        60,
    )
    first, second, third = feed.entries
    assert first.id == "https://manufacturing-today.example.com/?p=10412"
    assert first.authors == ("Maria Lopez",)
    assert first.tags == ("Economy", "Industrial policy")
    assert first.summary is not None and first.summary.startswith("<p>Output at US factories")
    assert first.content is not None and '<img src="/wp-content/uploads' in first.content
    assert first.published == datetime(2022, 1, 21, 17, 30, tzinfo=UTC)
    assert second.title == "Q&A: what the new small-manufacturer rules mean for you"
    assert second.link is not None and second.link.endswith("?utm_source=rss&utm_medium=rss")
    assert third.content is None
    assert third.enclosures == (
        Enclosure(
            url="https://media.example.com/podcasts/robots-ep12.mp3",
            type="audio/mpeg",
            length=24986239,
        ),
    )


def test_gbk_government_feed_decodes_and_keeps_naive_dates() -> None:
    feed = load("rss20_gov_gbk.xml")
    assert feed.title == "上海市经济和信息化委员会 - 工作动态"
    entry = feed.entries[0]
    assert entry.title == "先进高端制造业是上海产业重要方向李强赴嘉定调研中外企业"
    assert entry.summary is not None and "工业特别是制造业是实体经济的基础" in entry.summary
    assert entry.authors == ("市经济信息化委",)
    assert entry.published == datetime(2022, 1, 22, 9, 30)
    assert entry.published.tzinfo is None
    assert feed.entries[1].tags == ("工作动态", "会议")


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("rss20_gbk_declared_utf8.xml", "上汽大众新能源汽车工厂设备安装进展顺利"),
        ("rss20_gb2312.xml", "安亭镇召开汽车产业链企业座谈会"),
        ("rss20_big5.xml", "智慧機械產業推動方案成果發表會"),
        ("rss20_utf8_bom.xml", "EU chips act: what’s in the draft"),
        ("rss20_cp1252.xml", "Réindustrialisation : « une décennie décisive »"),
    ],
)
def test_encodings_are_read_right(name: str, title: str) -> None:
    assert load(name).entries[0].title == title


def test_gbk_body_declared_utf8_in_the_header_too() -> None:
    body = (FEEDS / "rss20_gbk_declared_utf8.xml").read_bytes()
    feed = parse_feed(body, url=URL, content_type="application/rss+xml", charset="utf-8")
    assert feed.title == "嘉定区人民政府 - 政务要闻"


def test_utf8_body_declared_latin1_in_the_header() -> None:
    body = (FEEDS / "rss20_zh_entities.xml").read_bytes()
    feed = parse_feed(body, url=URL, content_type="text/xml", charset="iso-8859-1")
    assert feed.entries[1].title == "中国制造业PMI回升至50.3%"


def test_chinese_titles_with_entities_become_plain_text() -> None:
    feed = load("rss20_zh_entities.xml")
    assert feed.title == "制造业观察 & 政策速递"
    assert [e.title for e in feed.entries] == [
        "“上海制造”品牌三年行动计划发布",
        "中国制造业PMI回升至50.3%",
        "专访：新能源汽车&智能网联",
    ]
    assert all(not e.title_is_html for e in feed.entries)


def test_rss10_uses_dublin_core_dates_creators_and_content() -> None:
    feed = load("rss10_rdf.xml")
    assert (feed.format, feed.title, feed.language) == (
        "rss10",
        "Precision Machining Lab — News",
        "en",
    )
    seminar, award, open_day = feed.entries
    assert seminar.id == "https://www.example.ac.jp/lab/news/2022/01/seminar.html"
    assert seminar.content is not None and "<strong>28 January</strong>" in seminar.content
    assert seminar.summary == "Dr. Sato will present recent results on 28 January."
    assert seminar.published == datetime(2022, 1, 21, 10, 30, tzinfo=timezone(timedelta(hours=9)))
    assert award.authors == ("Kenji Ito", "Yui Tanaka")
    assert award.tags == ("Awards", "Research")
    assert open_day.published == datetime(2022, 1, 14)


def test_atom_xml_base_xhtml_authors_categories_enclosure() -> None:
    feed = load("atom10_xmlbase.xml")
    assert (feed.format, feed.link, feed.language) == ("atom10", "https://blog.example.org/", "en")
    takt, visit, lean = feed.entries
    assert takt.title == "Takt time & the real bottleneck"
    assert takt.link == "https://blog.example.org/2022/01/takt-time.html"
    assert takt.base == "https://blog.example.org/2022/01/"
    assert takt.authors == ("Alex Chen", "Priya Raman")
    assert takt.tags == ("Lean manufacturing", "metrics")
    assert takt.summary == (
        "Why the station with the longest cycle time is not always the constraint"
        " &amp; what to measure instead."
    )
    assert takt.content is not None
    assert takt.content.startswith("<p>Everyone knows the rule")
    assert '<a href="../2021/12/wip.html">' in takt.content  # relative: resolved against base
    assert "<div" not in takt.content
    assert takt.enclosures == (
        Enclosure(
            url="https://blog.example.org/files/takt-worksheet.pdf",
            type="application/pdf",
            length=482133,
            title="Worksheet",
        ),
    )
    assert takt.published == datetime(2022, 1, 21, 15, 20, tzinfo=UTC)
    assert visit.language == "en-GB" and visit.summary is None
    assert lean.title == "精益生产 入门" and lean.language == "zh-CN"
    assert lean.link == "https://blog.example.org/zh/lean-intro.html"


def test_atom03_goes_to_feedparser_and_is_read() -> None:
    body = (FEEDS / "atom03.xml").read_bytes()
    assert parse_fast.parse(prepare_xml(body)) is None
    feed = parse_feed(body, url=URL)
    assert feed.format == "atom03"
    assert feed.entries[0].content == (
        "<p>Four hours, two pullers and one <em>very</em> stubborn bearing.</p>"
    )
    assert feed.entries[1].published == datetime(2005, 11, 4, 9, 0)


def test_rss09x_formats() -> None:
    assert load("rss092.xml").format == "rss09x"
    netscape = load("rss091_netscape.xml")
    assert netscape.format == "rss09x"
    assert netscape.entries[0].summary == (
        "Negotiators return to the table after a two-week break & a change of chair."
    )


def test_malformed_feed_is_salvaged_with_a_problem() -> None:
    feed = load("rss20_malformed.xml")
    assert feed.problem is not None
    assert feed.problem.startswith("malformed XML: not well-formed (invalid token) at line ")
    assert [e.title for e in feed.entries] == [
        "Grants for R&D in small firms",
        "New industrial park opens ahead of schedule",
    ]
    assert (
        feed.entries[0].link == "http://news.county.example.gov/business/123.html?id=123&type=news"
    )


def test_dates_without_zone_are_naive_and_cst_follows_the_feed() -> None:
    entries = load("rss20_naive_dates.xml").entries
    assert entries[0].published == datetime(2022, 1, 21, 16, 30)
    assert entries[1].published == datetime(2022, 1, 20, 9, 5)
    china = timezone(timedelta(hours=8))
    assert entries[2].published == datetime(2022, 1, 19, 10, 0, tzinfo=china)
    assert entries[3].published == datetime(2022, 1, 18, 10, 0, tzinfo=china)
    assert entries[4].published == entries[4].updated == datetime(2022, 1, 17, 8, 0)
    assert entries[5].published == datetime(2022, 1, 16)
    assert entries[6].published is None


def test_cst_is_us_central_in_an_english_feed() -> None:
    body = (
        b'<rss version="2.0"><channel><title>Plant news</title><item><title>Shift change</title>'
        b"<pubDate>Tue, 18 Jan 2022 10:00:00 CST</pubDate></item></channel></rss>"
    )
    entry = parse_feed(body, url=URL).entries[0]
    assert entry.published == datetime(2022, 1, 18, 16, 0, tzinfo=UTC)


def test_empty_feed_is_valid() -> None:
    feed = load("rss20_empty.xml")
    assert feed.entries == () and feed.ttl == 1440 and feed.problem is None


@pytest.mark.parametrize("name", ["html_page.xml", "error_page.xml"])
def test_html_pages_are_not_feeds(name: str) -> None:
    with pytest.raises(NotAFeedError, match=r"not a feed \(got text/html\)"):
        parse_feed((FEEDS / name).read_bytes(), url=URL, content_type="text/html")
    with pytest.raises(NotAFeedError, match=r"not a feed \(got text/html\)"):
        parse_feed((FEEDS / name).read_bytes(), url=URL)


def test_a_feed_served_as_text_html_is_still_a_feed() -> None:
    body = (FEEDS / "rss20_english.xml").read_bytes()
    assert len(parse_feed(body, url=URL, content_type="text/html").entries) == 3


@pytest.mark.parametrize("body", [b"", b"  \n\t "])
def test_empty_body_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError, match="empty document") as info:
        parse_feed(body, url=URL)
    assert not isinstance(info.value, NotAFeedError)
    assert str(info.value) == f"{URL}: empty document"


def test_plain_text_is_hopeless() -> None:
    with pytest.raises(ParseError, match="not a feed") as info:
        parse_feed(b"Service temporarily unavailable", url=URL, content_type="text/plain")
    assert info.value.url == URL


def test_other_xml_is_not_a_feed() -> None:
    sitemap = b'<?xml version="1.0"?><urlset><url><loc>https://example.com/</loc></url></urlset>'
    with pytest.raises(NotAFeedError, match=r"not a feed \(got application/xml\)"):
        parse_feed(sitemap, url=URL, content_type="application/xml")


def test_control_characters_do_not_break_the_fast_path() -> None:
    body = (
        b"<rss version='2.0'><channel><title>A\x08B</title><item><title>x\x0cy</title>"
        b"</item></channel></rss>"
    )
    feed = parse_feed(body, url=URL)
    assert (feed.title, feed.entries[0].title, feed.problem) == ("AB", "xy", None)


def test_relative_links_stay_relative_without_xml_base() -> None:
    body = (
        b"<rss version='2.0'><channel><link>/</link><item><link>/news/1.html</link>"
        b"<guid>12345</guid></item><item><guid>12346</guid></item></channel></rss>"
    )
    feed = parse_feed(body, url=URL)
    assert feed.link == "/"
    first, second = feed.entries
    assert (first.link, first.id, first.base) == ("/news/1.html", "12345", None)
    assert (second.link, second.id) == (None, "12346")  # a bare guid is no link


def test_skip_hours_and_days_are_read_on_both_paths() -> None:
    fast = load("rss20_english.xml")
    assert parse_fast.parse(prepare_xml((FEEDS / "rss20_english.xml").read_bytes())) == fast
    assert (fast.skip_hours, fast.skip_days) == ((1, 2, 3), (5, 6))  # Saturday, Sunday
    salvaged = load("rss20_malformed.xml")  # only feedparser reads it
    assert salvaged.problem is not None
    assert (salvaged.skip_hours, salvaged.skip_days) == ((12,), (6,))  # 24, Caturday dropped


def test_skip_hours_in_a_declared_charset_are_read() -> None:
    body = (
        '<?xml version="1.0" encoding="gb2312"?><rss version="2.0"><channel><title>工厂</title>'
        "<skipHours><hour>8</hour></skipHours><skipDays><day>Sunday</day></skipDays>"
        "</channel></rss>"
    ).encode("gb2312")
    feed = parse_feed(body, url=URL)
    assert (feed.title, feed.skip_hours, feed.skip_days) == ("工厂", (8,), (6,))


def test_json_feeds_have_no_skip_hints() -> None:
    feed = load("jsonfeed11.json")
    assert (feed.skip_hours, feed.skip_days) == ((), ())
