"""extract_page on the saved pages of tests/data/pages/, the content selector, wrong charsets,
pages with nothing to extract, and the furniture rules."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from aggregator.errors import ExtractError, ParseError
from aggregator.extract import check_selector, extract_page
from aggregator.furniture import is_furniture_line
from aggregator.language import primary_subtag
from aggregator.models import ExtractedPage

PAGES = Path(__file__).parent / "data" / "pages"
EDGE = 60  # characters of signature or note allowed before the first / after the last sentence


def cases() -> list[str]:
    """The saved pages by name (NAME.html beside NAME.expected.json)."""
    return sorted(p.name.removesuffix(".expected.json") for p in PAGES.glob("*.expected.json"))


def expected_of(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAGES / f"{name}.expected.json").read_text("utf-8"))
    return data


def extract_case(name: str, **overrides: Any) -> ExtractedPage:
    expected = expected_of(name)
    options: dict[str, Any] = {
        "url": expected["url"],
        "charset": expected.get("header_charset"),
        "timezone": expected.get("timezone"),
        "now": datetime.fromisoformat(expected["now"]),
    }
    options.update(overrides)
    return extract_page((PAGES / f"{name}.html").read_bytes(), **options)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_there_are_enough_pages() -> None:
    names = cases()
    languages = [expected_of(n)["language"] for n in names]
    assert len(names) >= 10
    assert languages.count("zh") >= 6 and languages.count("en") >= 4
    assert all((PAGES / f"{n}.html").is_file() for n in names)


@pytest.mark.parametrize("name", cases())
def test_saved_page(name: str) -> None:
    expected = expected_of(name)
    page = extract_case(name)
    text = flat(page.text)

    assert page.title == expected["title"]
    assert page.published is not None
    assert page.published.isoformat() == expected["published"]
    assert page.language is not None and primary_subtag(page.language) == expected["language"]
    for field in ("author", "source"):
        if field in expected:
            assert getattr(page, field) == expected[field]
    if "keywords" in expected:
        assert list(page.keywords) == expected["keywords"]
    if "images" in expected:
        assert len(page.images) == expected["images"]
        assert all(src.startswith(("http://", "https://")) for src in page.images)

    first, last = flat(expected["first_sentence"]), flat(expected["last_sentence"])
    assert first in text and text.index(first) <= EDGE, text[:200]
    assert last in text and len(text) - (text.rindex(last) + len(last)) <= EDGE, text[-200:]
    for paragraph in expected["body"]:
        assert flat(paragraph) in text
    for furniture in expected["furniture"]:
        assert furniture not in page.text, furniture

    policy = expected["policy"]
    if policy is None:
        assert page.policy is None
    else:
        assert page.policy is not None
        assert page.policy.doc_number == policy["doc_number"]
        assert page.policy.issuer == policy["issuer"]
        assert str(page.policy.written) == policy["written"]
        assert str(page.policy.published) == policy["published"]


def test_content_is_sanitized_html_with_absolute_links() -> None:
    page = extract_case("ndrc-notice")
    assert "<script" not in page.content and "style=" not in page.content
    assert 'href="https://www.ndrc.gov.cn/xxgk/zcfb/tz/202206/P020220630553125317123.pdf"' in (
        page.content
    )
    assert page.text.count("\n\n") >= 10  # paragraphs kept apart


# ---------------------------------------------------------------- content selector


def test_content_selector_overrides_extraction() -> None:
    page = extract_case("wordpress-trade", content_selector="article .entry-content")
    assert "The automated pouring station went live in January." in page.text  # caption kept
    assert "Sign up for our free newsletter" not in page.text  # furniture rules still apply
    assert page.title == "Midwest Foundry Adds Automated Molding Line to Meet EV Casting Demand"

    only_dek = extract_case("jsonld-news", content_selector="p.dek")
    assert flat(only_dek.text) == (
        "Advanced packaging, once an afterthought, has become the bottleneck for AI accelerators."
    )


def test_content_selector_overrides_a_government_container() -> None:
    page = extract_case("gov-cn-policy", content_selector=".policyLibraryOverview_header")
    assert "000014349/2024-00008" in page.text
    assert "制造业是立国之本" not in page.text


def test_content_selector_that_matches_nothing_is_an_error() -> None:
    with pytest.raises(ExtractError) as caught:
        extract_case("miit-notice", content_selector="div.article-body")
    message = str(caught.value)
    assert "div.article-body" in message and "matched nothing" in message
    assert "\n" not in message and message.startswith("https://www.miit.gov.cn/")


def test_invalid_content_selector() -> None:
    with pytest.raises(ExtractError, match="invalid content selector"):
        extract_case("miit-notice", content_selector="div[")
    assert check_selector("div.TRS_Editor > p") is None
    assert check_selector("div[") is not None


# ---------------------------------------------------------------- charsets


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("gd-gov-gbk", None),
        ("gd-gov-gbk", "utf-8"),
        ("gd-gov-gbk", "big5"),
        ("gd-gov-gbk", "windows-1252"),
        ("industry-gb18030", "gb2312"),
        ("industry-gb18030", "iso-8859-1"),
        ("tw-big5", "gbk"),
        ("tw-big5", None),
        ("drupal-gov-cp1252", "utf-8"),
    ],
)
def test_wrong_charset_declarations_still_decode(name: str, header: str | None) -> None:
    expected = expected_of(name)
    page = extract_case(name, charset=header)
    assert page.title == expected["title"]
    assert flat(expected["body"][0]) in flat(page.text)
    assert "\ufffd" not in page.text


def test_gb18030_four_byte_characters_survive() -> None:
    assert "刘䶮" in extract_case("industry-gb18030").text


# ---------------------------------------------------------------- nothing to extract


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav></body></html>",
        "<html><head><title>首页</title></head><body><div class='footer'>版权所有</div></body>"
        "</html>".encode(),
    ],
)
def test_a_page_without_content_raises_one_line(body: bytes) -> None:
    with pytest.raises(ExtractError) as caught:
        extract_page(body, url="https://example.test/p", now=datetime.fromisoformat(NOW))
    assert isinstance(caught.value, ParseError)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("https://example.test/p: ")


NOW = "2024-06-01T00:00:00+00:00"


def test_timezone_defaults_to_shanghai_for_chinese_and_utc_otherwise() -> None:
    zh = extract_case("ndrc-notice", timezone=None)
    assert zh.published is not None and zh.published.isoformat() == "2022-06-29T16:00:00+00:00"
    assert extract_case("ndrc-notice", timezone="UTC").published == datetime.fromisoformat(
        "2022-06-30T00:00:00+00:00"
    )
    en = extract_case("drupal-gov-cp1252", timezone=None)
    assert en.published == datetime.fromisoformat("2024-01-22T00:00:00+00:00")


def test_relative_dates_count_from_now() -> None:
    page = extract_case("portal-relative", now=datetime.fromisoformat("2024-03-10T02:00:00+00:00"))
    assert page.published == datetime.fromisoformat("2024-03-09T06:20:00+00:00")


# ---------------------------------------------------------------- furniture rules


@pytest.mark.parametrize(
    "line",
    [
        "客服热线:0755-8882 8155",
        "政务服务便民热线：12345 67",
        "本文章内容来源于网络公开内容,仅供参考!不对文章内容时效、真实性负责",
        "免责声明：本网转载作品均注明出处。",
        "（责任编辑：王丽）",
        "【我要纠错】 责任编辑：李晓明",
        "来源：中国工业报 作者：张伟",
        "发布时间：2024-02-06 09:30 来源：网络安全管理局",
        "Admin - admin 于2022年01月22日发表",
        "【打印】 【关闭】",
        "【打印本页】【关闭窗口】",
        "字体：大 中 小",
        "分享到：微信 微博 QQ空间",
        "扫一扫在手机打开当前页",
        "上一篇：2月份制造业PMI为49.1%",
        "版权所有：中国政府网 京ICP备05070218号",
        "关于我们 加入我们 网站地图",
        "打开APP阅读更多精彩内容",
        "Share this:",
        "Tags: foundry, electric vehicles",
        "Advertisement",
        "Read more: Memory makers struggle to keep up with AI orders",
        "Sign up for our free newsletter to get plant-floor news every Tuesday.",
        "© 2024 Plant Floor Weekly. All rights reserved.",
    ],
)
def test_furniture_lines(line: str) -> None:
    assert is_furniture_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "国办发〔2024〕3号",
        "工业和信息化部",
        "2024年1月15日",
        "（此件公开发布）",
        "一、总体要求",
        "附件：工业企业数据安全分类分级管理办法",
        "市领导诸葛宇杰参加调研。",
        "我市12328交通热线办结群众诉求2500余件",  # a headline about a hotline, no number
        "据介绍，资金来源：中央预算内投资和地方配套资金。",
        "Workforce training",
        "Share prices of foundry suppliers rose 3% on the news.",
        "The company plans to add a second automated line in 2026 if demand holds.",
        "统计处表示" + "，新兴科技应用需求持续扩增" * 12,  # long: prose, whatever it contains
    ],
)
def test_not_furniture(line: str) -> None:
    assert not is_furniture_line(line)
