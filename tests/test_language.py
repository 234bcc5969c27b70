"""Language tags and the cheap language guess (aggregator/language.py)."""

from __future__ import annotations

import pytest

from aggregator.language import (
    choose_language,
    guess_language,
    normalize_language,
    primary_subtag,
)

ZH = "国家统计局发布数据显示，制造业采购经理指数为百分之五十点二，连续三个月位于扩张区间。"
EN = (
    "Factory output rose for the third month as manufacturers reported new orders, according "
    "to the statistics bureau, which said that the index stood at 51.2 in March and that "
    "demand from abroad was recovering."
)
JA = "東京都は新しい経済対策を発表しました。中小企業の支援を強化するとしています。"
KO = "정부는 제조업 지원을 위한 새로운 정책을 발표했다고 밝혔습니다."


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("zh-CN", "zh-cn"),
        ("zh_TW", "zh-tw"),
        ("EN-us", "en-us"),
        (" en ", "en"),
        ("en-US, en;q=0.9", "en-us"),
        ("zh-Hans-CN", "zh-hans-cn"),
        ("yue", "yue"),
        ("", None),
        (None, None),
        ("english", None),
        ("e", None),
        ("12", None),
    ],
)
def test_normalize_language(tag: str | None, expected: str | None) -> None:
    assert normalize_language(tag) == expected


def test_primary_subtag() -> None:
    assert primary_subtag("zh-cn") == "zh"
    assert primary_subtag("en") == "en"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ZH, "zh"),
        ("华为发布新手机", "zh"),
        ("迈克尔・乔丹", "zh"),  # a katakana middle dot does not make it Japanese
        (JA, "ja"),
        (KO, "ko"),
        (EN, "en"),
        ("The cat sat on the mat", "en"),
        ("Apple iPhone launch", None),  # too little to tell
        ("Le gouvernement a annoncé une nouvelle politique industrielle pour les usines", None),
        ("", None),
        ("12345 !!!", None),
        (f"{ZH} GDP CPI PMI", "zh"),
    ],
)
def test_guess_language(text: str, expected: str | None) -> None:
    assert guess_language(text) == expected


@pytest.mark.parametrize(
    ("declared", "title", "text", "expected"),
    [
        # the first usable declared tag wins: entry, then feed, then source
        (("en-GB", "zh-cn", "fr"), "", EN, "en-gb"),
        ((None, "zh-CN", "en"), "", ZH, "zh-cn"),
        ((None, None, "zh"), "", ZH, "zh"),
        (("not a tag!", None, "zh-tw"), "", ZH, "zh-tw"),
        # a tag the text plainly contradicts is skipped
        (("en-us", None, None), "", ZH * 2, "zh"),
        (("en-us", "zh-cn", None), "", ZH * 2, "zh-cn"),
        ((None, "zh-cn", None), "", EN * 2, "en"),
        # a little Chinese in English text, or a little English in Chinese, is no contradiction
        (("en", None, None), "", EN + " 中国制造", "en"),
        (("zh-cn", None, None), "", "Apple iPhone 15", "zh-cn"),
        (("zh-cn", None, None), "Short English title", "", "zh-cn"),
        # nothing declared: guessed from the title and text
        ((None, None, None), "华为发布新手机", "", "zh"),
        ((None, None, None), "", EN, "en"),
        ((None, None, None), "", "", None),
    ],
)
def test_choose_language(
    declared: tuple[str | None, ...], title: str, text: str, expected: str | None
) -> None:
    assert choose_language(declared, title, text) == expected
