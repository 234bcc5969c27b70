"""ParsedEntry → Article (aggregator/normalize.py): each rule as a table of cases."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from aggregator.models import Article, Enclosure, ParsedEntry, ParsedFeed
from aggregator.normalize import (
    UNTITLED,
    SourceContext,
    normalize_entry,
    normalize_feed,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=6)
FEED_URL = "https://example.com/feeds/news.xml"
SOURCE = SourceContext(name="news", url=FEED_URL)
SHANGHAI = SourceContext(name="sh", url=FEED_URL, timezone="Asia/Shanghai")
FEED = ParsedFeed(format="rss20")


def norm(
    *,
    source: SourceContext = SOURCE,
    feed: ParsedFeed = FEED,
    now: datetime = NOW,
    **fields: Any,
) -> Article:
    """Normalize one entry built from `fields`."""
    return normalize_entry(ParsedEntry(**fields), feed=feed, source=source, now=now)


# ---------------------------------------------------------------- ids


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"id": "  urn:uuid:42 \n", "link": "https://example.com/a"}, "urn:uuid:42"),
        ({"id": "https://Example.com/a?utm_source=x"}, "https://Example.com/a?utm_source=x"),
        ({"id": "", "link": "https://Example.com/a?utm_source=x#c"}, "https://example.com/a"),
        ({"id": "   ", "link": "/a?id=1"}, "https://example.com/a?id=1"),
        ({"link": "tag:example.com,2024:7"}, "tag:example.com,2024:7"),
    ],
)
def test_id_from_guid_else_canonical_link(fields: dict[str, Any], expected: str) -> None:
    assert norm(**fields).id == expected


def test_id_without_guid_or_link_is_a_hash_of_title_and_date() -> None:
    date = datetime(2024, 4, 30, 8, 0, tzinfo=UTC)
    one = norm(title="Budget passed", published=date, content="<p>x</p>")
    again = norm(title="Budget passed", published=date, content="<p>changed</p>", now=LATER)
    assert one.id.startswith("sha1:") and len(one.id) == len("sha1:") + 40
    assert one.id == again.id  # not from `now`, not from the body
    assert norm(title="Budget passed  ", published=date).id == one.id  # normalized title
    assert norm(title="Budget failed", published=date).id != one.id
    assert norm(title="Budget passed", published=date + timedelta(hours=1)).id != one.id
    assert norm(title="Budget passed").id != one.id


def test_id_without_title_date_guid_or_link_comes_from_the_text() -> None:
    first = norm(content="<p>one story</p>")
    assert first.id == norm(content="<p>one story</p>", now=LATER).id
    assert first.id != norm(content="<p>another story</p>").id


def test_tracking_parameters_do_not_change_the_id() -> None:
    a = norm(link="https://example.com/story/1?utm_source=weibo&from=timeline")
    b = norm(link="https://EXAMPLE.com:443/story/1?spm=a1.b2")
    assert a.id == b.id == "https://example.com/story/1"


# ---------------------------------------------------------------- urls


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"link": "HTTPS://Example.com/a?fbclid=1#top"}, "https://example.com/a"),
        ({"link": "story.html"}, "https://example.com/feeds/story.html"),
        ({"link": "story.html", "base": "https://other.example/blog/"}, "https://other.example/blog/story.html"),
        ({"link": "story.html", "base": "/blog/"}, "https://example.com/blog/story.html"),
        ({"link": "//cdn.example.net/x"}, "https://cdn.example.net/x"),
        ({"link": "javascript:alert(1)"}, None),
        ({"link": "mailto:desk@example.com"}, None),
        ({"link": "   "}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_url_is_canonical_and_web_only(fields: dict[str, Any], expected: str | None) -> None:
    assert norm(**fields).url == expected


# ---------------------------------------------------------------- html


def test_summary_and_content_are_sanitized() -> None:
    dirty = (
        '<p onclick="x()" style="color:red">Hi<script>alert(1)</script><style>p{}</style>'
        '<iframe src="https://evil.example/"></iframe><a href="javascript:alert(2)">j</a></p>'
    )
    article = norm(summary=dirty, content=dirty)
    for html in (article.summary, article.content):
        assert html == '<p>Hi<a rel="noopener noreferrer">j</a></p>'


@pytest.mark.parametrize(
    ("fields", "expected_href"),
    [
        # xml:base first
        ({"base": "https://base.example/dir/", "link": "https://example.com/post/1"},
         "https://base.example/dir/img/a.png"),
        # then the entry's link
        ({"link": "https://example.com/post/1"}, "https://example.com/post/img/a.png"),
        ({"link": "/post/1?utm_source=x"}, "https://example.com/post/img/a.png"),
        # then the feed URL
        ({}, "https://example.com/feeds/img/a.png"),
        ({"link": "mailto:x@example.com"}, "https://example.com/feeds/img/a.png"),
    ],
)  # fmt: skip
def test_relative_urls_in_html_resolve_on_each_base(
    fields: dict[str, Any], expected_href: str
) -> None:
    html = '<p><a href="img/a.png">a</a><img src="img/a.png"></p>'
    article = norm(summary=html, content=html, **fields)
    for out in (article.summary, article.content):
        assert f'<a href="{expected_href}" rel="noopener noreferrer">' in out
        assert f'<img src="{expected_href}">' in out


def test_a_script_xml_base_resolves_nothing() -> None:
    article = norm(
        base="javascript://x/", link="%0aalert(1)", content='<a href="%0aalert(1)">a</a>'
    )
    assert article.url is None
    assert article.content == '<a href="%0aalert(1)" rel="noopener noreferrer">a</a>'


def test_summary_equal_to_content_is_kept() -> None:
    article = norm(summary="<p>same</p>", content="<p>same</p>")
    assert article.summary == article.content == "<p>same</p>"


def test_text_is_from_content_else_summary() -> None:
    both = norm(summary="<p>short</p>", content="<h1>Long</h1><p>body &amp; more</p>")
    assert both.text == "Long\n\nbody & more"
    only_summary = norm(summary="<p>short &lt;version&gt;</p>")
    assert only_summary.text == "short <version>"
    assert only_summary.content == ""
    assert norm().text == ""


# ---------------------------------------------------------------- titles


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"title": "Q&amp;A: the  budget"}, "Q&A: the budget"),
        ({"title": "AT&T &#8212; news"}, "AT&T — news"),
        ({"title": " Line one\nline two\t "}, "Line one line two"),
        ({"title": "全角\u3000空格\u3000标题"}, "全角 空格 标题"),
        ({"title": "a\xa0b"}, "a b"),
        ({"title": "<b>Bold</b> &amp; <i>it</i>", "title_is_html": True}, "Bold & it"),
        ({"title": "<p>two</p><p>blocks</p>", "title_is_html": True}, "two blocks"),
        ({"title": "x<script>alert(1)</script>y", "title_is_html": True}, "xy"),
        ({"title": "<b>literal</b>"}, "<b>literal</b>"),  # not HTML: kept as written
        ({"title": "", "content": "<p>First line</p><p>second</p>"}, "First line"),
        ({"title": "  ", "summary": "<p>From the summary</p>"}, "From the summary"),
        ({"content": "<p>" + "word " * 40 + "</p>"}, ("word " * 16).strip() + "…"),
        ({"content": "<p>" + "字" * 100 + "</p>"}, "字" * 79 + "…"),
        ({}, UNTITLED),
        ({"title": "<br>", "title_is_html": True}, UNTITLED),
    ],
)
def test_title(fields: dict[str, Any], expected: str) -> None:
    assert norm(**fields).title == expected


def test_title_from_text_is_at_most_80_characters() -> None:
    for body in ("x" * 200, "word " * 100, "長" * 81, "a " * 39 + "bcdefghijklmnop" * 5):
        title = norm(content=f"<p>{body}</p>").title
        assert len(title) <= 80
        assert title.endswith("…")


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("source", "published", "expected"),
    [
        # aware: converted to UTC whatever the source's zone
        (SOURCE, datetime(2024, 4, 30, 20, 0, tzinfo=timezone(timedelta(hours=8))),
         datetime(2024, 4, 30, 12, 0, tzinfo=UTC)),
        (SHANGHAI, datetime(2024, 4, 30, 7, 0, tzinfo=timezone(timedelta(hours=-5))),
         datetime(2024, 4, 30, 12, 0, tzinfo=UTC)),
        # naive: read in the source's zone, else UTC
        (SHANGHAI, datetime(2024, 4, 30, 20, 0), datetime(2024, 4, 30, 12, 0, tzinfo=UTC)),
        (SOURCE, datetime(2024, 4, 30, 20, 0), datetime(2024, 4, 30, 20, 0, tzinfo=UTC)),
        (replace(SOURCE, timezone="America/New_York"), datetime(2024, 1, 15, 7, 0),
         datetime(2024, 1, 15, 12, 0, tzinfo=UTC)),
        (replace(SOURCE, timezone="America/New_York"), datetime(2023, 7, 15, 8, 0),
         datetime(2023, 7, 15, 12, 0, tzinfo=UTC)),
        (replace(SOURCE, timezone="No/Such_Zone"), datetime(2024, 4, 30, 20, 0),
         datetime(2024, 4, 30, 20, 0, tzinfo=UTC)),
        (replace(SOURCE, timezone="Asia"), datetime(2024, 4, 30, 20, 0),
         datetime(2024, 4, 30, 20, 0, tzinfo=UTC)),
        # up to a day ahead is believed (clocks and zones are sloppy)
        (SOURCE, NOW + timedelta(hours=23), NOW + timedelta(hours=23)),
    ],
)  # fmt: skip
def test_published_is_aware_utc(
    source: SourceContext, published: datetime, expected: datetime
) -> None:
    article = norm(source=source, published=published)
    assert article.published == expected
    assert article.published.tzinfo is UTC
    assert article.date_is_first_seen is False
    assert article.first_seen == NOW


def test_missing_date_is_first_seen() -> None:
    article = norm(title="no date")
    assert article.published == article.first_seen == NOW
    assert article.date_is_first_seen is True
    assert article.updated is None


def test_updated_stands_in_for_a_missing_published() -> None:
    updated = datetime(2024, 4, 29, 1, 2, 3, tzinfo=UTC)
    article = norm(updated=updated)
    assert article.published == article.updated == updated
    assert article.date_is_first_seen is False


def test_updated_is_converted_too() -> None:
    article = norm(
        source=SHANGHAI,
        published=datetime(2024, 4, 1, 8, 0),
        updated=datetime(2024, 4, 2, 8, 0),
    )
    assert article.published == datetime(2024, 4, 1, 0, 0, tzinfo=UTC)
    assert article.updated == datetime(2024, 4, 2, 0, 0, tzinfo=UTC)


def test_dates_far_in_the_future_are_not_believed() -> None:
    future = datetime(2099, 1, 1, tzinfo=UTC)
    article = norm(published=future, updated=future)
    assert article.published == NOW
    assert article.date_is_first_seen is True
    assert article.updated is None
    # a believable updated date stands in for an unbelievable published one
    sane = datetime(2024, 4, 1, tzinfo=UTC)
    assert norm(published=future, updated=sane).published == sane


def test_naive_now_is_taken_as_utc() -> None:
    article = norm(now=datetime(2024, 5, 1, 12, 0))
    assert article.first_seen == NOW
    assert article.first_seen.tzinfo is not None


# ---------------------------------------------------------------- language


@pytest.mark.parametrize(
    ("entry_lang", "feed_lang", "source_lang", "text", "expected"),
    [
        ("en-GB", "zh-CN", "fr", "Hello there, this is the news of the day.", "en-gb"),
        (None, "zh-CN", "en", "国家统计局发布数据显示", "zh-cn"),
        (None, None, "zh", "国家统计局发布数据显示", "zh"),
        (None, None, None, "国家统计局发布数据显示，制造业采购经理指数上升", "zh"),
        (None, None, None, "The factory said that output rose in the first quarter.", "en"),
        (None, None, None, "", None),
        ("zh_TW", None, None, "國家統計局發布數據", "zh-tw"),
    ],
)
def test_language_fallbacks(
    entry_lang: str | None,
    feed_lang: str | None,
    source_lang: str | None,
    text: str,
    expected: str | None,
) -> None:
    article = norm(
        source=replace(SOURCE, language=source_lang),
        feed=replace(FEED, language=feed_lang),
        language=entry_lang,
        content=f"<p>{text}</p>" if text else None,
    )
    assert article.language == expected


# ---------------------------------------------------------------- lists


def test_authors_and_tags_are_stripped_and_deduplicated_in_order() -> None:
    article = norm(
        authors=(" Li  Hua ", "", "Li Hua", "Zhang Ming", "li hua", "   "),
        tags=("Policy", "policy ", "制造业", "", "Economy\n", "制造业"),
    )
    assert article.authors == ("Li Hua", "Zhang Ming")
    assert article.tags == ("Policy", "制造业", "Economy")


def test_enclosures_are_absolute_web_urls_one_each() -> None:
    article = norm(
        base="https://media.example/podcast/",
        enclosures=(
            Enclosure(url="ep1.mp3", type=" Audio/MPEG ", length=123, title=" Episode\n1 "),
            Enclosure(url="https://media.example/podcast/ep1.mp3", type="audio/mpeg"),
            Enclosure(url="/video/ep1.mp4", length=-1),
            Enclosure(url="javascript:alert(1)"),
            Enclosure(url=""),
        ),
    )
    assert article.enclosures == (
        Enclosure(
            url="https://media.example/podcast/ep1.mp3",
            type="audio/mpeg",
            length=123,
            title="Episode 1",
        ),
        Enclosure(url="https://media.example/video/ep1.mp4"),
    )


def test_enclosures_resolve_on_the_feed_url_without_xml_base() -> None:
    article = norm(link="https://example.com/post/1", enclosures=(Enclosure(url="a.mp3"),))
    assert article.enclosures[0].url == "https://example.com/feeds/a.mp3"


def test_lone_surrogates_never_reach_the_article() -> None:
    bad = "x\udc80y"
    article = norm(
        id=bad,
        link=f"https://example.com/{bad}",
        title=bad,
        summary=bad,
        content=f"<p>{bad}</p>",
        authors=(bad,),
        tags=(bad,),
        enclosures=(Enclosure(url=f"https://example.com/{bad}.mp3", type=bad, title=bad),),
    )
    strings: list[str] = []

    def collect(value: object) -> None:
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, tuple | list):
            for item in value:
                collect(item)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)

    collect(dataclasses.asdict(article))
    assert "".join(strings).encode("utf-8")  # raises on a lone surrogate
    assert article.title == "x\ufffdy"
    assert article.id == "x\ufffdy"


# ---------------------------------------------------------------- content hash

BASE_ENTRY = ParsedEntry(
    id="urn:1",
    link="https://example.com/a",
    title="Title",
    summary="<p>summary</p>",
    content="<p>content</p>",
    authors=("A",),
    tags=("t",),
    enclosures=(Enclosure(url="https://example.com/a.mp3"),),
    published=datetime(2024, 4, 1, tzinfo=UTC),
    updated=datetime(2024, 4, 2, tzinfo=UTC),
)


def _hash(entry: ParsedEntry, **kwargs: Any) -> str:
    kwargs.setdefault("source", SOURCE)
    kwargs.setdefault("now", NOW)
    return normalize_entry(entry, feed=FEED, **kwargs).content_hash


def test_hash_is_stable_across_refetches() -> None:
    first = _hash(BASE_ENTRY)
    assert len(first) == 64 and int(first, 16) >= 0
    assert _hash(BASE_ENTRY, now=LATER) == first
    assert _hash(replace(BASE_ENTRY, language="en")) == first  # derived, not read
    undated = replace(BASE_ENTRY, published=None, updated=None)
    assert _hash(undated) == _hash(undated, now=LATER)  # `now` never enters it
    # cosmetic differences that normalize away
    assert _hash(replace(BASE_ENTRY, title=" Title ", authors=(" A ", "a"))) == first
    assert _hash(replace(BASE_ENTRY, link="https://example.com/a?utm_source=x")) == first


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Title 2"},
        {"link": "https://example.com/b"},
        {"summary": "<p>summary 2</p>"},
        {"content": "<p>content 2</p>"},
        {"authors": ("B",)},
        {"tags": ("t", "u")},
        {"enclosures": ()},
        {"enclosures": (Enclosure(url="https://example.com/a.mp3", length=5),)},
        {"published": datetime(2024, 4, 1, 1, tzinfo=UTC)},
        {"updated": datetime(2024, 4, 3, tzinfo=UTC)},
        {"updated": None},
    ],
)
def test_hash_changes_with_what_a_reader_sees(change: dict[str, Any]) -> None:
    assert _hash(replace(BASE_ENTRY, **change)) != _hash(BASE_ENTRY)


# ---------------------------------------------------------------- whole feeds


def test_normalize_feed_keeps_order_and_the_first_of_each_id() -> None:
    feed = ParsedFeed(
        format="atom10",
        language="en",
        entries=(
            ParsedEntry(id="1", title="first"),
            ParsedEntry(id="2", title="second"),
            ParsedEntry(id=" 1 ", title="first again"),
            ParsedEntry(link="https://example.com/x?utm_medium=a", title="x"),
            ParsedEntry(link="https://example.com/x", title="x again"),
        ),
    )
    articles = normalize_feed(feed, source=SOURCE, now=NOW)
    assert [(a.id, a.title) for a in articles] == [
        ("1", "first"),
        ("2", "second"),
        ("https://example.com/x", "x"),
    ]
    assert all(a.source == "news" and a.language == "en" for a in articles)


def test_normalize_feed_of_nothing() -> None:
    assert normalize_feed(FEED, source=SOURCE, now=NOW) == []
