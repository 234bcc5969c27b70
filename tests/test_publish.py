"""Tests for publish, jsonfeed_out and pages: every output read back by a real parser.

RSS and Atom go through feedparser (bozo must be 0) and through lxml for the rules the W3C
feed validator checks; JSON Feed is checked against the 1.1 spec's structure; HTML and OPML
are parsed with lxml.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import feedparser
import pytest
from lxml import etree

from aggregator.feedmeta import item_id
from aggregator.models import FeedItem
from aggregator.publish import (
    FeedInfo,
    render_feed,
    render_index,
    render_opml,
    render_topic_page,
    write_static,
)
from tests.feeddata import (
    BASE_URL,
    NOW,
    SERVER,
    TITLES,
    TOPICS,
    changed,
    html_tree,
    item,
    nasty_items,
)

POLICY = FeedInfo.for_topic(TOPICS[1])
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$"
)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def render(fmt: str, items: Sequence[FeedItem], info: FeedInfo = POLICY) -> bytes:
    return render_feed(fmt, info, items, server=SERVER, now=NOW, topic_titles=TITLES)  # type: ignore[arg-type]


def parsed(fmt: str, items: Sequence[FeedItem]) -> Any:
    result = feedparser.parse(render(fmt, items))
    assert result.bozo == 0, result.get("bozo_exception")
    return result


def everything() -> list[FeedItem]:
    return [item(n) for n in range(5, 8)] + nasty_items()


# ---------------------------------------------------------------- read back by feedparser


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_xml_feeds_parse_back_with_the_values_given(fmt: str) -> None:
    result = parsed(fmt, everything())
    assert result.version == ("rss20" if fmt == "rss" else "atom10")
    entries = result.entries
    assert len(entries) == 7
    first, control, chinese, bare = entries[0], entries[1], entries[2], entries[3]
    assert first.id == item_id("gov-policy", "gov-policy-entry-1")
    assert first.title == "Tariffs <rise> & fall: \"quotes\" 'too'"
    assert first.link == "https://gov-policy.example.com/articles/1"
    assert first.published_parsed[:5] == (2024, 5, 1, 11, 0)
    assert first.author == "Author 1"
    assert "]]> end &amp; more" in first.content[0].value
    assert first.source.title == "国务院 Policy"
    terms = {(t.term, t.scheme) for t in first.tags}
    assert ("policy", f"{BASE_URL}/topics/") in terms
    assert ("government", None) in terms
    assert control.title == "Control chars in title"
    assert "author" not in control
    assert chinese.title == "制造业：新质生产力"
    assert "《智能制造标准体系建设指南》" in chinese.content[0].value
    assert chinese.author == "记者 张三"
    assert bare.title.startswith("An entry with no title")
    assert bare.enclosures[0].href == "https://cdn.example.com/a.mp3"
    assert bare.enclosures[0].type == "audio/mpeg"
    feed = result.feed
    assert feed.title == "Policy"
    assert feed.link == f"{BASE_URL}/topics/policy"
    assert feed.updated_parsed[:5] == (2024, 5, 1, 11, 0)  # the newest item


def test_atom_carries_source_language_and_topic_labels() -> None:
    result = parsed("atom", nasty_items())
    entry = result.entries[2]
    assert entry.content[0].language == "zh"
    assert entry.source.id == "https://factory.example.com/feed"
    assert {(t.term, t.label) for t in entry.tags if t.scheme} == {
        ("manufacturing", "Manufacturing")
    }
    assert result.feed.generator_detail.version == "0.1.0"
    assert result.feed.icon == f"{BASE_URL}/static/icon.png"


def test_rss_carries_source_url_and_generator_with_version() -> None:
    result = parsed("rss", nasty_items())
    assert result.entries[0].source.href == "https://gov.example.cn/rss.xml"
    assert result.feed.generator.startswith("aggregator 0.1.0 (+https://")


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_no_forbidden_characters_reach_the_output(fmt: str) -> None:
    text = render(fmt, nasty_items()).decode("utf-8")
    assert not FORBIDDEN.search(text)
    assert "\x7f" not in text


# ---------------------------------------------------------------- validator rules


def rss_tree(items: Sequence[FeedItem]) -> Any:
    return etree.fromstring(render("rss", items))


def atom_tree(items: Sequence[FeedItem]) -> Any:
    return etree.fromstring(render("atom", items))


def test_rss_follows_the_validator_rules() -> None:
    channel = rss_tree(everything()).find("channel")
    for required in ("title", "link", "description"):
        assert (channel.findtext(required) or "").strip()
    self_links = [e for e in channel.findall(f"{ATOM}link") if e.get("rel") == "self"]
    assert len(self_links) == 1
    assert self_links[0].get("href") == f"{BASE_URL}/feeds/policy.xml"
    assert self_links[0].get("type") == "application/rss+xml"
    dates = [channel.findtext("lastBuildDate")] + [
        i.findtext("pubDate") for i in channel.iter("item")
    ]
    for date in dates:
        assert date and RFC822.match(date), date
        assert parsedate_to_datetime(date).utcoffset() == timedelta(0)
    guids = [i.find("guid") for i in channel.iter("item")]
    assert len({g.text for g in guids}) == len(guids) == 7
    for guid in guids:
        assert guid.get("isPermaLink") == "false"
        assert guid.text.startswith("urn:uuid:")
    for element in channel.iter("item"):
        assert element.findtext("title") or element.findtext("description")
    urls = [channel.findtext("link"), channel.findtext("image/url"), channel.findtext("image/link")]
    urls += [i.findtext("link") for i in channel.iter("item") if i.find("link") is not None]
    urls += [e.get("url") for e in channel.iter("source", "enclosure")]
    urls += [e.get("domain") for e in channel.iter("category") if e.get("domain")]
    assert all(absolute(u) for u in urls), urls
    for enclosure in channel.iter("enclosure"):
        assert enclosure.get("length").isdigit() and enclosure.get("type")


def test_atom_follows_the_validator_rules() -> None:
    feed = atom_tree(everything())
    for required in ("id", "title", "updated"):
        assert (feed.findtext(f"{ATOM}{required}") or "").strip()
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None  # covers entries without one
    self_links = [e for e in feed.findall(f"{ATOM}link") if e.get("rel") == "self"]
    assert len(self_links) == 1
    assert self_links[0].get("href") == f"{BASE_URL}/feeds/policy.atom"
    assert self_links[0].get("type") == "application/atom+xml"
    entries = feed.findall(f"{ATOM}entry")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids) == 7
    dates = [feed.findtext(f"{ATOM}updated")]
    for entry in entries:
        for required in ("id", "title", "updated"):
            assert (entry.findtext(f"{ATOM}{required}") or "").strip()
        dates += [entry.findtext(f"{ATOM}updated"), entry.findtext(f"{ATOM}published")]
        has_alternate = any(
            link.get("rel", "alternate") == "alternate" for link in entry.findall(f"{ATOM}link")
        )
        assert has_alternate or entry.find(f"{ATOM}content") is not None
    assert all(RFC3339.match(d) for d in dates), dates
    hrefs = [e.get("href") for e in feed.iter(f"{ATOM}link")]
    hrefs += [e.text for e in feed.iter(f"{ATOM}icon", f"{ATOM}uri")]
    assert all(absolute(h) for h in hrefs), hrefs


def test_content_is_escaped_not_cdata_and_reads_back_exactly() -> None:
    nasty = nasty_items()[0]
    rss = rss_tree([nasty]).find("channel/item")
    assert rss.findtext(CONTENT) == nasty.article.content
    assert rss.findtext("description") == nasty.article.summary
    assert rss.findtext("title") == nasty.article.title
    entry = atom_tree([nasty]).find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}content").get("type") == "html"
    assert entry.findtext(f"{ATOM}content") == nasty.article.content
    assert b"CDATA" not in render("rss", [nasty]) + render("atom", [nasty])


def absolute(url: str | None) -> bool:
    parsed_url = urlparse(url or "")
    return parsed_url.scheme in ("http", "https") and bool(parsed_url.netloc)


# ---------------------------------------------------------------- JSON Feed 1.1

FEED_KEYS = {
    "version", "title", "home_page_url", "feed_url", "description", "user_comment",
    "next_url", "icon", "favicon", "authors", "language", "expired", "hubs", "items",
}  # fmt: skip
ITEM_KEYS = {
    "id", "url", "external_url", "title", "content_html", "content_text", "summary", "image",
    "banner_image", "date_published", "date_modified", "authors", "tags", "language",
    "attachments",
}  # fmt: skip


def check_json_feed(document: dict[str, Any]) -> None:
    """Assert `document` has the structure JSON Feed 1.1 requires (extensions start with _)."""
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(document["title"], str) and document["title"]
    assert set(document) - FEED_KEYS <= {k for k in document if k.startswith("_")}
    for key in ("home_page_url", "feed_url", "icon", "favicon"):
        assert absolute(document[key])
    for author in document["authors"]:
        assert set(author) <= {"name", "url", "avatar"} and author
    assert isinstance(document["items"], list)
    for entry in document["items"]:
        assert set(entry) - ITEM_KEYS <= {k for k in entry if k.startswith("_")}
        assert isinstance(entry["id"], str) and entry["id"]
        assert isinstance(entry.get("content_html"), str) or isinstance(
            entry.get("content_text"), str
        )
        for key in ("date_published", "date_modified"):
            assert key not in entry or RFC3339.match(entry[key])
        assert "url" not in entry or absolute(entry["url"])
        assert all(isinstance(tag, str) for tag in entry.get("tags", []))
        for author in entry.get("authors", []):
            assert set(author) <= {"name", "url", "avatar"} and author
        for attachment in entry.get("attachments", []):
            assert absolute(attachment["url"]) and isinstance(attachment["mime_type"], str)
            assert isinstance(attachment.get("size_in_bytes", 0), int)


def test_json_feed_has_the_spec_structure_and_our_extension() -> None:
    document = json.loads(render("json", everything()))
    check_json_feed(document)
    assert document["feed_url"] == f"{BASE_URL}/feeds/policy.json"
    assert document["home_page_url"] == f"{BASE_URL}/topics/policy"
    assert "language" not in document  # mixed en and zh
    items = document["items"]
    assert [i["id"] for i in items] == [
        f["id"] for f in parsed("atom", everything()).entries
    ]  # the same ids as the XML formats
    first = items[0]
    assert first["title"] == "Tariffs <rise> & fall: \"quotes\" 'too'"
    assert first["content_html"] == nasty_items()[0].article.content
    assert first["summary"] == "x < y && y > z"
    assert first["date_published"] == "2024-05-01T11:00:00Z"
    assert first["tags"] == ["policy", "government", "news"]
    assert first["_aggregator"]["source"] == {
        "name": "gov-policy",
        "url": "https://gov.example.cn/rss.xml",
        "title": "国务院 Policy",
        "link": "https://gov.example.cn/",
    }
    assert first["_aggregator"]["topics"][0]["title"] == "Policy"
    chinese = items[2]
    assert chinese["language"] == "zh" and chinese["authors"] == [{"name": "记者 张三"}]
    bare = items[3]
    assert "authors" not in bare
    assert bare["attachments"][0] == {
        "url": "https://cdn.example.com/a.mp3",
        "mime_type": "audio/mpeg",
        "title": "Audio",
        "size_in_bytes": 1234,
    }
    assert bare["attachments"][1]["mime_type"] == "application/octet-stream"


# ---------------------------------------------------------------- ids, order, dates, language


def test_ids_are_stable_across_renders_and_content_changes() -> None:
    original = [item(1), item(2, source="factory-news")]
    edited = [
        changed(original[0], title="New title", content="<p>new</p>", content_hash="x", pk=99),
        changed(original[1], url="https://moved.example.com/2", updated=NOW),
    ]
    for fmt in ("rss", "atom"):
        before = [e.id for e in parsed(fmt, original).entries]
        after = [e.id for e in parsed(fmt, edited).entries]
        assert before == after
    assert item_id("a", "1") != item_id("b", "1")
    assert item_id("a", "1") == "urn:uuid:" + item_id("a", "1").removeprefix("urn:uuid:")


def test_items_come_newest_first_once_each_and_rendering_is_deterministic() -> None:
    items = [item(n) for n in range(10)]
    shuffled = items[:]
    random.Random(7).shuffle(shuffled)
    shuffled.append(items[3])  # the same article twice
    for fmt in ("rss", "atom"):
        ids = [e.id for e in parsed(fmt, shuffled).entries]
        assert ids == [item_id("gov-policy", f"gov-policy-entry-{n}") for n in range(10)]
    json_ids = [i["id"] for i in json.loads(render("json", shuffled))["items"]]
    assert json_ids == [item_id("gov-policy", f"gov-policy-entry-{n}") for n in range(10)]
    for fmt in ("rss", "atom", "json"):
        assert render(fmt, shuffled) == render(fmt, items)


def test_feed_dates_language_and_an_empty_feed() -> None:
    updated = changed(item(3), updated=NOW + timedelta(hours=1))
    atom = parsed("atom", [item(1), updated])
    assert atom.feed.updated_parsed[:4] == (2024, 5, 1, 13)
    assert atom.entries[1].updated_parsed[:4] == (2024, 5, 1, 13)
    assert atom.feed.language == "en"
    rss = parsed("rss", [item(1, language="zh"), item(2, language="zh"), item(3, language=None)])
    assert rss.feed.language == "zh"
    empty = parsed("atom", [])
    assert empty.entries == [] and empty.feed.updated_parsed[:4] == (2024, 5, 1, 12)
    assert "language" not in parsed("rss", []).feed


# ---------------------------------------------------------------- OPML and HTML


def test_opml_lists_every_feed() -> None:
    infos = [FeedInfo.all(SERVER.title), *map(FeedInfo.for_topic, TOPICS)]
    root = etree.fromstring(render_opml(infos, server=SERVER))
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == "Example News"
    outlines = root.findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [
        f"{BASE_URL}/feeds/{slug}.xml" for slug in ("all", "manufacturing", "policy")
    ]
    assert outlines[2].get("htmlUrl") == f"{BASE_URL}/topics/policy"
    assert outlines[2].get("text") == "Policy" and outlines[2].get("type") == "rss"
    assert outlines[2].get("description") == "Laws, rules & regulators."


def test_pages_escape_everything_and_offer_subscriptions() -> None:
    infos = [FeedInfo.all(SERVER.title), *map(FeedInfo.for_topic, TOPICS)]
    index = render_index(infos, nasty_items(), server=SERVER)
    assert b"<rise>" not in index and b"&lt;rise&gt;" in index
    tree = html_tree(index)
    discovery = {(e.get("type"), e.get("href")) for e in tree.xpath("//link[@rel='alternate']")}
    assert ("application/rss+xml", "/feeds/policy.xml") in discovery
    assert ("application/atom+xml", "/feeds/all.atom") in discovery
    assert ("application/feed+json", "/feeds/manufacturing.json") in discovery
    assert "/opml.xml" in tree.xpath("//a/@href")
    assert tree.xpath("//li[@class='item']//h3/a/text()")[0].startswith("Tariffs <rise>")
    assert "制造业：新质生产力" in tree.xpath("//h3[@lang='zh']/a/text()")
    assert tree.xpath("//time/@datetime")[0] == "2024-05-01T11:00:00Z"
    page = html_tree(render_topic_page(POLICY, [item(1)], server=SERVER, topic_titles=TITLES))
    assert page.findtext(".//h1") == "Policy"
    assert page.xpath("//p[@class='subscribe']/a/@href") == [
        "/feeds/policy.xml",
        "/feeds/policy.atom",
        "/feeds/policy.json",
    ]
    assert page.xpath("//a[@class='topic']/@href") == ["/topics/policy"]
    assert "No items yet." in render_topic_page(POLICY, [], server=SERVER).decode()


# ---------------------------------------------------------------- static export


def test_write_static_writes_a_site_whose_links_all_resolve(tmp_path: Path) -> None:
    infos = [FeedInfo.all(SERVER.title), *map(FeedInfo.for_topic, TOPICS)]
    everything_items = [item(n) for n in range(60)]
    by_slug = {
        "all": everything_items,
        "policy": everything_items,
        "manufacturing": nasty_items()[1:3],
    }
    written = write_static(tmp_path, infos, by_slug, server=SERVER, now=NOW)
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    for slug in ("all", "manufacturing", "policy"):
        assert {f"feeds/{slug}.xml", f"feeds/{slug}.atom", f"topics/{slug}.html"} <= names
        assert json.loads((tmp_path / f"feeds/{slug}.json").read_bytes())["items"] is not None
        for ext in ("xml", "atom"):
            assert feedparser.parse((tmp_path / f"feeds/{slug}.{ext}").read_bytes()).bozo == 0
    assert {"index.html", "opml.xml", "static/icon.png", "static/icon.svg"} <= names
    assert len(feedparser.parse((tmp_path / "feeds/policy.xml").read_bytes()).entries) == 60
    index = html_tree((tmp_path / "index.html").read_bytes())
    assert len(index.xpath("//li[@class='item']")) == SERVER.feed_limit
    for page in ("index.html", "topics/policy.html"):
        tree = html_tree((tmp_path / page).read_bytes())
        local = [
            h for h in tree.xpath("//a/@href | //link/@href | //img/@src") if not urlparse(h).scheme
        ]
        assert local
        for href in local:
            target = urljoin(f"file:///{page}", href.split("#")[0])
            assert (tmp_path / target.removeprefix("file:///")).is_file(), (page, href)
