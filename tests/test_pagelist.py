"""List pages → article links (pagelist) and what article links look like (linkpattern)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aggregator.linkpattern import looks_like_article, same_site, shape, shape_regex
from aggregator.models import PageRules
from aggregator.pagelist import check_selector, describe_rules, not_html, read_list_page

DATA = Path(__file__).parent / "data" / "listpages"
GOV_URL = "http://www.example.gov.cn/zwgk/zcwj/index.html"
EN_URL = "https://www.example-mfg.test/news/"
GOV_RULES = PageRules(item="ul.list li", date="span.date", next="a.next")


def gov_list() -> bytes:
    return (DATA / "gov-list.html").read_bytes()


def en_list() -> bytes:
    return (DATA / "en-list.html").read_bytes()


def test_selectors_read_a_gbk_list_page() -> None:
    page = read_list_page(gov_list(), url=GOV_URL, rules=GOV_RULES)
    base = "http://www.example.gov.cn/zwgk/zcwj/"
    assert [(i.url, i.title, i.date_text) for i in page.items] == [
        (
            base + "202401/t20240122_1001.html",
            "关于印发《制造业数字化转型行动方案》的通知",
            "2024-01-22",
        ),
        (
            base + "202401/t20240118_1000.html",
            "关于开展2024年度工业节能监察工作的通知",
            "2024-01-18",
        ),
        # the tracking parameter is gone from the canonical URL
        (
            base + "202401/t20240115_999.html",
            "省工业和信息化厅召开全省制造业高质量发展推进会",
            "2024-01-15",
        ),
    ]
    assert page.matched == 3
    assert page.next_url == base + "index_1.html"


def test_a_header_charset_is_not_needed_and_a_wrong_one_does_not_hurt() -> None:
    page = read_list_page(gov_list(), url=GOV_URL, rules=GOV_RULES, charset="iso-8859-1")
    assert page.items[1].title == "关于开展2024年度工业节能监察工作的通知"


def test_default_parts_of_an_item_link_title_and_date() -> None:
    page = read_list_page(gov_list(), url=GOV_URL, rules=PageRules(item="ul.list li"))
    first = page.items[0]
    # the title attribute beats the text cut short with "..."
    assert first.title == "关于印发《制造业数字化转型行动方案》的通知"
    assert first.date_text == "2024-01-22"  # the item's text outside its link
    assert page.next_url is None


def test_link_and_title_selectors_inside_items() -> None:
    rules = PageRules(item="article.teaser", link="h2 a", title="h2", date="time")
    page = read_list_page(en_list(), url=EN_URL, rules=rules)
    assert [i.title for i in page.items] == [
        "Factory output rises for third month",
        "New battery plant opens in Ohio",
        "Members meet to discuss export rules",
    ]
    # <time datetime> is preferred to its text; an item without a match has no date text
    assert [i.date_text for i in page.items] == [None, "2024-01-20", None]
    assert page.items[1].url == EN_URL + "2024/01/new-battery-plant-opens-in-ohio"


def test_an_item_selector_that_matches_nothing() -> None:
    page = read_list_page(gov_list(), url=GOV_URL, rules=PageRules(item="ul.news-list li"))
    assert page.items == () and page.matched == 0


def test_link_patterns_skip_navigation_and_other_sites() -> None:
    page = read_list_page(gov_list(), url=GOV_URL, rules=PageRules())
    assert [i.url.rsplit("/", 1)[1] for i in page.items] == [
        "t20240122_1001.html",
        "t20240118_1000.html",
        "t20240115_999.html",
    ]  # not the nav's 热点解读 article, the home page, the pager, gov.cn or the script's link
    assert page.items[2].date_text == "2024-01-15"


def test_link_patterns_merge_links_to_one_article() -> None:
    page = read_list_page(en_list(), url=EN_URL, rules=PageRules())
    first = "January 22, 2024 Output at member plants rose again in December …"
    assert [(i.title, i.date_text) for i in page.items] == [
        ("Factory output rises for third month", first),
        ("New battery plant opens in Ohio", "Jan 20, 2024"),
        ("Members meet to discuss export rules", "Read more"),  # the longer title of two links
    ]


def test_include_and_exclude() -> None:
    rules = PageRules(include=(r"/news/\d{4}/",), exclude=(r"battery",))
    page = read_list_page(en_list(), url=EN_URL, rules=rules)
    assert [i.url for i in page.items] == [EN_URL + "2024/01/factory-output-rises-for-third-month"]
    # an include also admits what does not look like an article, and other sites
    page = read_list_page(en_list(), url=EN_URL, rules=PageRules(include=(r"/(tag|privacy)\b",)))
    assert [i.url.rsplit("/", 2)[-2:] for i in page.items] == [["tag", "manufacturing"]]


def test_base_href_and_a_page_that_is_not_html() -> None:
    html = b'<html><head><base href="https://cdn.example.org/a/"></head><body><ul>' + (
        b'<li><a href="2024/05/t20240501_7.html">One</a></li></ul></body></html>'
    )
    page = read_list_page(html, url="https://example.org/list", rules=PageRules(item="li"))
    assert page.items[0].url == "https://cdn.example.org/a/2024/05/t20240501_7.html"
    blank = read_list_page(b"   ", url="https://example.org/", rules=PageRules())
    assert (blank.items, blank.problem) == ((), "list page is empty")


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("<!DOCTYPE html><html><body><a href='/a'>a</a>", "text/html", None),
        ("<html><body>…", "text/plain", None),  # mislabelled HTML is still HTML
        ("\ufeff\n  <div class='list'><ul><li>", "application/octet-stream", None),
        ("<?xml version='1.0'?>\n<html xmlns='http://www.w3.org/1999/xhtml'>", None, None),
        ("", "text/html", "is empty"),
        (" \r\n ", None, "is empty"),
        ("%PDF-1.7\n%âãÏÓ\n1 0 obj <<>>", "application/pdf", "is not HTML (application/pdf)"),
        ("%PDF-1.7\n1 0 obj", None, "is not HTML"),
        ("<p>x</p>", "image/png", "is not HTML (image/png)"),
        ('{"items": []}', "application/json", "is not HTML (application/json)"),
        ("just words, no markup at all", "text/plain", "is not HTML (text/plain)"),
        (
            "<?xml version='1.0' encoding='utf-8'?>\n<!-- generator -->\n<rss version='2.0'>",
            "text/xml",
            "is a feed (RSS), not HTML: configure it as type: feed",
        ),
        (
            "<feed xmlns='http://www.w3.org/2005/Atom'>",
            "application/atom+xml",
            "is a feed (Atom), not HTML: configure it as type: feed",
        ),
        (
            '{"version": "https://jsonfeed.org/version/1.1", "items": []}',
            "application/feed+json",
            "is a feed (JSON Feed), not HTML: configure it as type: feed",
        ),
    ],
)
def test_not_html(body: str, content_type: str | None, expected: str | None) -> None:
    assert not_html(body, content_type) == expected


def test_a_list_page_that_is_not_html_says_why() -> None:
    pdf = read_list_page(
        b"%PDF-1.4 binary", url=GOV_URL, rules=GOV_RULES, content_type="application/pdf"
    )
    assert (pdf.items, pdf.problem) == ((), "list page is not HTML (application/pdf)")
    listed = read_list_page(gov_list(), url=GOV_URL, rules=GOV_RULES, content_type="text/html")
    assert listed.problem is None and len(listed.items) == 3


def test_next_link_ignores_the_page_itself() -> None:
    html = b'<html><body><a class="next" href="index.html">next</a></body></html>'
    page = read_list_page(html, url=GOV_URL, rules=PageRules(next="a.next"))
    assert page.next_url is None


def test_check_selector_and_describe_rules() -> None:
    assert check_selector("ul.list > li a[href]") is None
    problem = check_selector("ul[")
    assert problem is not None and problem.startswith("invalid CSS selector 'ul['")
    assert (
        describe_rules(PageRules(item="ul li", date="span")) == "selectors: item=ul li, date=span"
    )
    assert describe_rules(PageRules(include=("x",))) == "link patterns: include=x"
    assert describe_rules(PageRules()) == "links that look like articles on the same site"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://www.gd.gov.cn/zwgk/zcjd/202401/t20240122_4335541.html", True),
        ("https://www.gov.cn/zhengce/content/202401/content_6927463.htm", True),
        ("https://www.miit.gov.cn/zwgk/zcwj/art/2024/art_123.html", True),
        ("https://example.org/news/2024/01/22/plant-opens", True),
        ("https://example.org/news/factory-output-rises-in-june", True),
        ("https://example.org/show.php?id=12345", True),
        ("https://example.org/", False),
        ("https://example.org/news/", False),
        ("https://example.org/zwgk/index_2.html", False),
        ("https://example.org/tag/factory-output-rises-in-june", False),
        ("https://example.org/news/page/2", False),
        ("https://example.org/about", False),
        ("https://example.org/files/2024/t20240122_1.pdf", False),
        ("https://example.org/images/20240122123.jpg", False),
    ],
)
def test_looks_like_article(url: str, expected: bool) -> None:
    assert looks_like_article(url) is expected


def test_same_site() -> None:
    assert same_site("https://example.org/a", "http://www.example.org/list")
    assert same_site("https://news.example.org/a", "https://example.org/")
    assert not same_site("https://example.com/a", "https://example.org/")
    assert not same_site("https://www.gov.cn/a", "https://www.miit.gov.cn/")


def test_shape_regex_matches_siblings_only() -> None:
    url = "http://www.gd.gov.cn/zwgk/zcjd/202401/t20240122_4335541.html"
    assert shape(url) == r"gd.gov.cn/zwgk/zcjd/\d+/t\d+_\d+\.html"
    pattern = re.compile(shape_regex(url))
    assert pattern.search("https://gd.gov.cn/zwgk/zcjd/202312/t20231201_99.html")
    assert not pattern.search("http://www.gd.gov.cn/zwgk/zcwj/202312/t20231201_99.html")
    assert not pattern.search("http://www.gd.gov.cn/zwgk/zcjd/202312/t20231201_99.html?x=1#y")
    slug = re.compile(shape_regex("https://example.org/news/2024/01/plant-opens-in-ohio-today"))
    assert slug.search("https://example.org/news/2023/12/another-story-about-a-plant")
    local = shape_regex("http://127.0.0.1:8080/zwgk/zcjd/202401/t20240122_1.html")
    assert local == r"^https?://127\.0\.0\.1:8080/zwgk/zcjd/\d+/t\d+_\d+\.html$"
