"""Tests for searchtext and searchsnippet: index tokens, query compiling, snippets (pure)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.searchsnippet import highlight, needles, snippet
from aggregator.searchtext import (
    MAX_TERMS,
    QueryError,
    parse_query,
    parse_when,
    search_doc,
    token_string,
    tokens,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def matches(query: str, text: str) -> bool:
    """Whether `query` finds `text`: the FTS5 expression's phrases evaluated on the tokens.

    A small model of MATCH (every wanted phrase present, no excluded one), enough to check
    that the query side and the index side spell words the same way.
    """
    doc = " " + token_string(text) + " "
    parsed = parse_query(query)

    def has(term_phrases: tuple[tuple[tuple[str, ...], bool], ...]) -> bool:
        for phrase, prefix in term_phrases:
            body = " ".join(phrase)
            pattern = " " + re.escape(body) + (r"\S*" if prefix else "") + " "
            if not re.search(pattern, doc):
                return False
        return True

    def phrases(term: object) -> tuple[tuple[tuple[str, ...], bool], ...]:
        return tuple((p.tokens, p.prefix) for p in term.phrases)  # type: ignore[attr-defined]

    wanted = all(has(phrases(t)) for t in parsed.wanted)
    excluded = any(has(phrases(t)) for t in parsed.terms if t.exclude)
    return wanted and not excluded


NOTICE = "关于加快推进制造业政策的通知"
EV = "工业和信息化部：今年新能源汽车产销量继续保持增长，智能制造水平不断提高。"


@pytest.mark.parametrize(
    ("query", "text", "found"),
    [
        ("政策", NOTICE, True),  # a word inside unsegmented text
        ("制造业", NOTICE, True),
        ("通知", NOTICE, True),
        ("政府", NOTICE, False),
        ("策的", NOTICE, True),  # any two adjacent characters: bigrams know no word borders
        ("智能制造", EV, True),
        ("新能源汽车", EV, True),
        ("新能源 汽车", EV, True),
        ("汽车新能源", EV, False),  # a phrase keeps its order
        ("新能源汽车 -补贴", EV, True),
        ("新能源汽车 -智能", EV, False),
        ("智慧制造", EV, False),
        ("manufacturing", "Small manufacturers report growth", True),  # both stem to manufactur
        ("manufacturers", "The manufacturing sector grew", True),
        ("manufactured", "The manufacturing sector grew", True),
        ("manufacture", "A manufacturer of robots", True),
        ("policies", "A new policy on exports", True),  # polici
        ("Policy", "Government policies", True),
        ("factory", "Factories reopen", True),  # factori
        ("run", "Running costs", True),
        ("ran", "Running costs", False),  # irregular forms are not stemmed together
        ('"supply chain"', "Supply chains recover", True),
        ('"chain supply"', "Supply chains recover", False),
        ("supply -chain", "Supply chains recover", False),
        ("2025", "Output will double by 2025.", True),
        ("6.2", "Output rose 6.2 percent", True),  # "6" and "2" as a phrase
        ("國際", "国际贸易", True),  # Traditional query, Simplified text
        ("国际", "國際貿易", True),  # and the other way round
        ("智慧製造", "智慧制造平台", True),
        ("ＡＩ", "AI 赋能制造业", True),  # full-width query, half-width text
        ("ai", "ＡＩ赋能制造业", True),
        ("2025年", "2025年新能源汽车", True),  # a lone character: any token starting with it
        ("年", "今年", False),  # but not at the end of a longer run
        ("车", "汽车", False),
        ("车", "车", True),
        ("e-commerce", "E-commerce sales rose", True),
        ("COVID-19", "covid 19 cases", True),
    ],
)
def test_query_finds_text(query: str, text: str, found: bool) -> None:
    assert matches(query, text) is found


def test_tokens_are_bigrams_words_stems_and_numbers() -> None:
    assert tokens("政策") == ["政策"]
    assert tokens("智能制造") == ["智能", "能制", "制造"]
    assert tokens("车") == ["车"]
    assert tokens("The Manufacturers’ output in 2025年") == [
        "the",
        "manufactur",
        "output",
        "in",
        "2025",
        "年",
    ]
    assert tokens("Ｃａｆé déjà vu") == ["café", "déjà", "vu"]
    assert tokens("—— ,。！") == []


def test_search_doc_leaves_out_a_summary_the_text_repeats() -> None:
    doc = search_doc("标题", "正文开头", "正文开头，然后更多")
    assert doc.title == "标题"
    assert doc.body == token_string("正文开头，然后更多")
    other = search_doc("Title", "A summary of its own", "The body")
    assert other.body.startswith("a summari of it own")


@pytest.mark.parametrize(
    ("query", "fts5", "tsquery"),
    [
        ("政策", '"政策"', "'政策'"),
        ("智能制造", '"智能 能制 制造"', "('智能' <-> '能制' <-> '制造')"),
        (
            "新能源汽车 -补贴",
            '"新能 能源 源汽 汽车" NOT "补贴"',
            "('新能' <-> '能源' <-> '源汽' <-> '汽车') & !'补贴'",
        ),
        (
            '"supply chain" Manufacturing',
            '"suppli chain" AND "manufactur"',
            "('suppli' <-> 'chain') & 'manufactur'",
        ),
        ("年2025", '("年"* AND "2025")', "('年':* & '2025')"),
    ],
)
def test_query_compiles_to_each_backend(query: str, fts5: str, tsquery: str) -> None:
    parsed = parse_query(query)
    assert parsed.fts5() == fts5
    assert parsed.tsquery() == tsquery


@pytest.mark.parametrize(
    "hostile",
    [
        'a" OR "b',
        "NEAR(a b)",
        "title:secret",
        "a* ^b",
        "x'); DROP TABLE articles; --",
        "a & !b | c <-> d:*",
    ],
)
def test_user_syntax_never_reaches_the_backend(hostile: str) -> None:
    parsed = parse_query(hostile)
    for term in parsed.terms:
        for phrase in term.phrases:
            for token in phrase.tokens:
                assert re.fullmatch(r"\w+", token), token
    assert "OR" not in parsed.fts5() and "NEAR" not in parsed.fts5()
    assert ":" not in parsed.fts5()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty query"),
        ("   ", "empty query"),
        ("，。！？", "nothing to search for"),
        ("-政策", "every term is excluded"),
        ("x" * 300, "too long"),
        (" ".join(f"w{n}" for n in range(MAX_TERMS + 1)), "too many terms"),
    ],
)
def test_unusable_queries_say_why(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        parse_query(query)
    assert "\n" not in str(caught.value)


def test_snippet_highlights_the_original_characters() -> None:
    text = "前言。" * 40 + "臺灣的智慧製造與新能源汽車產業。" + "结尾。" * 40
    found = needles(parse_query("新能源汽车 智慧制造"))
    cut = snippet(text, found, width=80)
    assert cut.hits == ("智慧製造", "新能源汽車")
    assert cut.text.startswith("…") and cut.text.endswith("…")
    assert len(cut.text) <= 82


def test_snippet_marks_every_form_of_an_english_word() -> None:
    found = needles(parse_query("MANUFACTURING"))
    marked = highlight("Manufacturers and manufacturing: a Manufacturer’s view", found)
    assert marked.hits == ("Manufacturers", "manufacturing", "Manufacturer")
    assert marked.text == "Manufacturers and manufacturing: a Manufacturer’s view"


def test_snippet_without_a_hit_is_the_start_of_the_text() -> None:
    found = needles(parse_query("政策"))
    cut = snippet("一二三四五六七八九十" * 30, found, width=50)
    assert cut.hits == ()
    assert cut.text.startswith("一二三") and cut.text.endswith("…")


def test_snippet_leaves_out_excluded_terms() -> None:
    found = needles(parse_query("汽车 -补贴"))
    assert highlight("汽车补贴", found).hits == ("汽车",)


@pytest.mark.parametrize(
    ("value", "end_of_day", "expected"),
    [
        ("2024-03-01", False, datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-03-01", True, datetime(2024, 3, 2, tzinfo=UTC)),
        ("2024-03-01T08:00:00+08:00", False, datetime(2024, 3, 1, tzinfo=UTC)),
        ("7d", False, NOW - timedelta(days=7)),
        ("24h", False, NOW - timedelta(hours=24)),
        ("2w", True, NOW - timedelta(days=14)),
    ],
)
def test_dates_for_filters(value: str, end_of_day: bool, expected: datetime) -> None:
    assert parse_when(value, NOW, end_of_day=end_of_day) == expected


def test_a_bad_date_says_what_to_write() -> None:
    with pytest.raises(QueryError, match="YYYY-MM-DD"):
        parse_when("yesterday", NOW)
