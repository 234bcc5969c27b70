"""Tests for classify: folding, matching in both languages, rule arithmetic, explain, quality."""

from __future__ import annotations

import json
import random
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aggregator.classify import ArticleText, Classifier, TopicRuleError, fold, html_to_text
from aggregator.config import load_config
from aggregator.models import Article
from aggregator.termindex import TermIndex
from aggregator.textfold import words_of
from aggregator.topicspec import TopicSpec

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "data" / "topics" / "labelled.jsonl"
SEED_TITLE = "先进高端制造业是上海产业重要方向李强赴嘉定调研中外企业"


def topic(slug: str = "t", **fields: Any) -> TopicSpec:
    """A topic spec from keyword fields (rules as plain dicts)."""
    return TopicSpec.model_validate({"slug": slug, "title": slug.title(), **fields})


def one(rules: list[dict[str, Any]], **fields: Any) -> Classifier:
    """A classifier of one topic "t" with these rules."""
    return Classifier([topic(rules=rules, **fields)])


def score(classifier: Classifier, article: ArticleText, slug: str = "t") -> float:
    """The article's score in one topic, member or not."""
    return next(e.score for e in classifier.explain(article) if e.topic == slug)


def member(classifier: Classifier, article: ArticleText, slug: str = "t") -> bool:
    """Whether classify puts the article in the topic."""
    return slug in {m.topic for m in classifier.classify(article)}


def en(title: str, summary: str = "", content: str = "") -> ArticleText:
    """An English article."""
    return ArticleText(title=title, summary_text=summary, content_text=content, language="en")


def zh(title: str, summary: str = "", content: str = "") -> ArticleText:
    """A Chinese article."""
    return ArticleText(title=title, summary_text=summary, content_text=content, language="zh")


# ---------------------------------------------------------------- folding


def test_fold_full_width_case_traditional_and_spaces() -> None:
    assert fold("ＡＢＣ　１２３") == "abc 123"
    assert fold("FACTORY Output") == "factory output"
    assert fold("製造業") == "制造业"
    assert fold("電動車") == "电动车"
    assert fold("  先進\n\t製造  ") == "先进 制造"
    assert fold("Straße") == "strasse"


def test_fold_equals_nfkc_casefold_simplified_on_mixed_text() -> None:
    from aggregator.textfold import _ts_table

    samples = ["ＡＩ晶片「製造」，ｎｏ．１", "ﬁle ① Ⅻ ㍿", "a\u00a0b\u2003c", "國務院關於印發"]
    for text in samples:
        reference = unicodedata.normalize("NFKC", text).casefold().translate(_ts_table())
        assert fold(text) == " ".join(reference.split())


def test_words_are_latin_runs_whatever_the_path() -> None:
    assert words_of(fold("China’s factory-output, 5G基站")) == [
        "china",
        "s",
        "factory",
        "output",
        "5g",
    ]
    assert words_of(fold("Nestlé café reopens")) == ["nestlé", "café", "reopens"]


# ---------------------------------------------------------------- Chinese matching


def test_chinese_term_matches_inside_unsegmented_text() -> None:
    c = one([{"terms": ["制造业"]}])
    assert member(c, zh(SEED_TITLE))
    assert member(c, zh("先進高端製造業是上海產業重要方向"))  # Traditional text
    assert not member(c, zh("先进高端服务业"))


def test_traditional_and_full_width_terms_match_simplified_text() -> None:
    c = one([{"terms": ["電動車", "ＥＶ"]}])
    assert member(c, zh("国产电动车出口增长"))
    assert member(c, en("EV sales rise"))


def test_overlapping_chinese_terms_are_all_found() -> None:
    c = one([{"terms": ["智能制造"], "weight": 1}, {"terms": ["制造业"], "weight": 1}])
    (e,) = c.explain(zh("智能制造业"))
    assert [r.rule for r in e.rules] == [1, 2]
    assert e.score == 6


# ---------------------------------------------------------------- English matching


@pytest.mark.parametrize("title", ["New factory opens", "Factories close", "FACTORY jobs"])
def test_english_inflections_match(title: str) -> None:
    assert member(one([{"terms": ["factory"]}]), en(title))


@pytest.mark.parametrize(
    "word", ["regulate", "regulates", "regulated", "regulating", "regulation", "regulations"]
)
def test_english_verb_and_noun_forms_match(word: str) -> None:
    assert member(one([{"terms": ["regulation"]}]), en(f"Agency {word} banks"))


@pytest.mark.parametrize("title", ["Planter sales boom", "A planet far away", "Implant study"])
def test_english_terms_match_whole_words_only(title: str) -> None:
    assert not member(one([{"terms": ["plant"]}]), en(title))


def test_english_phrase_matches_its_forms_in_order() -> None:
    c = one([{"terms": ["supply chain"]}])
    assert member(c, en("Supply chains strained"))
    assert member(c, en("Supply-chain woes"))
    assert not member(c, en("Chain supply"))
    assert not member(c, en("Supply of the chain"))


def test_english_term_matches_in_chinese_text_and_vice_versa() -> None:
    c = one([{"terms": ["EV", "芯片"]}])
    assert member(c, zh("比亚迪EV出口"))
    assert member(c, en("Huawei 芯片 plans"))


# ---------------------------------------------------------------- rule kinds


def test_all_group_needs_every_term_in_one_field() -> None:
    c = one([{"all": ["supply", "shortage"]}])
    assert member(c, en("Shortage hits supply of parts"))
    assert not member(c, en("Supply news", summary="a shortage"))
    (e,) = c.explain(en("Shortage hits supply of parts"))
    assert e.rules[0].fields[0].terms == ("supply + shortage",)


def test_regex_rule_is_case_insensitive_and_sees_simplified_text() -> None:
    c = one([{"regex": [r"\bEVs?\b", "《[^》]+辦法》"]}])
    assert member(c, en("Cheaper evs ahead"))
    assert not member(c, en("Every event"))
    assert member(c, zh("印发《数据管理办法》"))
    (e,) = c.explain(en("EVs"))
    assert e.terms == (r"/\bEVs?\b/",)


def test_rule_fields_limit_where_a_rule_looks() -> None:
    c = one([{"terms": ["factory"], "fields": ["summary"], "weight": 2}])
    assert not member(c, en("Factory opens"))
    assert member(c, en("News", summary="A factory opens"))


# ---------------------------------------------------------------- arithmetic


def test_score_is_rule_weight_times_field_weights() -> None:
    c = one([{"terms": ["factory"]}, {"terms": ["robot"], "weight": 0.5}])
    assert score(c, en("Factory")) == 3  # title 3 x 1
    assert score(c, en("x", summary="factory")) == 1.5
    assert score(c, en("x", summary="factory", content="factory")) == 2.5
    assert score(c, en("Robot", summary="factory robot")) == 1.5 + 1.5 + 0.75


def test_threshold_decides_membership() -> None:
    c = one([{"terms": ["factory"]}, {"terms": ["robot"]}])
    assert not member(c, en("x", summary="factory"))  # 1.5 < 3
    assert member(c, en("x", summary="factory robot"))  # 1.5 + 1.5 = 3
    assert not member(one([{"terms": ["factory"]}], threshold=3.5), en("Factory"))


def test_repeats_and_several_terms_of_a_rule_count_once_per_field() -> None:
    c = one([{"terms": ["factory", "plant"]}])
    assert score(c, en("x", summary="factory factory plant plants")) == 1.5


def test_weights_given_in_part_keep_the_other_defaults() -> None:
    c = one([{"terms": ["factory"]}], weights={"title": 5})
    assert score(c, en("Factory", summary="factory")) == 5 + 1.5


def test_tags_and_source_are_fields_too() -> None:
    c = one([{"terms": ["manufacturing"]}])
    tagged = ArticleText(title="x", tags=("Manufacturing",), language="en")
    assert score(c, tagged) == 2
    named = ArticleText(title="x", source="manufacturing-news", language="en")
    assert score(c, named) == 1


# ---------------------------------------------------------------- exclusions


def test_exclude_vetoes_membership() -> None:
    c = one([{"terms": ["manufacturing"]}], exclude=["manufactured consent"])
    assert member(c, en("Manufacturing rebounds"))
    assert not member(c, en("Manufacturing rebounds", summary="on manufactured consent"))
    (e,) = c.explain(en("Manufacturing consent", summary="manufactured consent"))
    assert e.excluded_by == ("manufactured consent",) and not e.member


def test_exclude_regex_vetoes_membership() -> None:
    c = one([{"terms": ["policy"]}], exclude_regex=["^广告"])
    assert not member(c, zh("广告:新政策"))


def test_ignore_hides_only_the_terms_inside_the_phrase() -> None:
    c = one([{"terms": ["policy"]}, {"terms": ["law"]}], ignore=["insurance policy"])
    assert not member(c, en("Your insurance policy explained"))
    assert member(c, en("Insurance policy rules", summary="a new law and a tax policy"))
    z = one([{"terms": ["制造"]}], ignore=["制造谣言"])
    assert not member(z, zh("男子制造谣言被拘"))
    assert member(z, zh("男子制造谣言被拘 先进制造"))
    (e,) = z.explain(zh("男子制造谣言被拘"))
    assert e.ignored == ("制造谣言 (title)",)


# ---------------------------------------------------------------- languages


def test_topic_language_gate() -> None:
    c = one([{"terms": ["factory", "工厂"]}], languages=["zh"])
    assert member(c, zh("新工厂"))
    assert not member(c, en("New factory"))
    assert member(c, ArticleText(title="新工厂", language="zh-Hant-TW"))
    (e,) = c.explain(en("New factory"))
    assert not e.language_ok and e.score == 3


def test_rule_language_restriction() -> None:
    c = one([{"terms": ["plant"], "languages": ["en"]}, {"terms": ["工厂"]}])
    assert member(c, en("Plant closes"))
    assert not member(c, zh("plant 关闭"))
    (e,) = c.explain(zh("plant 关闭"))
    assert e.skipped and "not for language zh" in e.skipped[0]


def test_language_is_guessed_when_unknown() -> None:
    c = one([{"terms": ["factory", "工厂"]}], languages=["zh"])
    assert member(c, ArticleText(title="上海新工厂投产"))
    assert not member(c, ArticleText(title="New factory opens in Ohio"))


# ---------------------------------------------------------------- sources


def test_source_rule_makes_every_article_a_member() -> None:
    c = one([{"sources": ["miit-news"]}, {"terms": ["factory"]}], threshold=5)
    article = ArticleText(title="通知", source="miit-news", language="zh")
    assert member(c, article) and score(c, article) == 5
    assert not member(c, ArticleText(title="通知", source="other", language="zh"))
    (e,) = c.explain(article)
    assert e.wholesale == ("source:miit-news",)


def test_source_tag_rule_is_case_insensitive_and_unconditional() -> None:
    c = one([{"source_tags": ["Manufacturing"]}], exclude=["recipe"], languages=["en"])
    article = ArticleText(title="菜谱 recipe", source_tags=("manufacturing",), language="zh")
    assert member(c, article)


def test_source_condition_narrows_a_term_rule() -> None:
    c = one([{"sources": ["gov"], "terms": ["notice"], "weight": 1}])
    assert member(c, ArticleText(title="Notice", source="gov", language="en"))
    assert not member(c, ArticleText(title="Notice", source="blog", language="en"))


# ---------------------------------------------------------------- explain


def test_explain_lists_every_topic_with_its_reasons() -> None:
    c = Classifier(
        [
            topic("a", rules=[{"terms": ["factory"], "name": "plants"}]),
            topic("b", rules=[{"terms": ["tariff"]}], exclude=["tariff war"]),
        ]
    )
    explained = c.explain(en("Factory tariff war", summary="new factory"))
    assert [e.topic for e in explained] == ["a", "b"]
    a, b = explained
    assert a.member and a.score == 4.5 and a.threshold == 3
    hit = a.rules[0]
    assert (hit.rule, hit.label, hit.weight) == (1, "plants", 1)
    assert [(f.field, f.weight, f.terms) for f in hit.fields] == [
        ("title", 3, ("factory",)),
        ("summary", 1.5, ("factory",)),
    ]
    text = str(a)
    assert text.splitlines()[0] == "a (A): IN, score 4.5 >= threshold 3, language en"
    assert "rule 1 plants x1: title 3 [factory] + summary 1.5 [factory] = 4.5" in text
    assert not b.member and "excluded by: tariff war" in str(b)


def test_explain_says_when_nothing_matched() -> None:
    (e,) = one([{"terms": ["factory"]}]).explain(en("Weather"))
    assert e.lines() == ["t (T): out, score 0 < threshold 3, language en", "  no rule matched"]


def test_classify_returns_members_best_first_with_terms() -> None:
    c = Classifier(
        [
            topic("a", rules=[{"terms": ["factory"]}]),
            topic("b", rules=[{"terms": ["factory", "robot"]}, {"terms": ["robot"]}]),
        ]
    )
    matches = c.classify(en("Factory robot"))
    assert [(m.topic, m.score, m.terms) for m in matches] == [
        ("b", 6, ("factory", "robot")),
        ("a", 3, ("factory",)),
    ]


# ---------------------------------------------------------------- compile errors


def test_bad_regex_names_topic_and_rule() -> None:
    with pytest.raises(ValueError, match=r"topic 'broken': rules\[1\]\.regex\[0\]: bad regex"):
        Classifier([topic("broken", rules=[{"terms": ["x"]}, {"regex": ["(unclosed"]}])])


def test_bad_exclude_regex_and_empty_rules_are_errors() -> None:
    with pytest.raises(TopicRuleError) as info:
        Classifier([topic("t", rules=[{"terms": ["x"]}], exclude_regex=["["])])
    assert (info.value.topic, info.value.where) == ("t", "exclude_regex[0]")
    with pytest.raises(ValueError, match=r"rules\[0\]: rule has no terms"):
        Classifier([topic("t", rules=[{"weight": 2}])])
    with pytest.raises(ValueError, match="no letters or digits"):
        Classifier([topic("t", rules=[{"terms": ["!!"]}])])
    with pytest.raises(ValueError, match="duplicate topic slug"):
        Classifier([topic("t", rules=[{"terms": ["x"]}]), topic("t", rules=[{"terms": ["y"]}])])


# ---------------------------------------------------------------- articles


def test_article_text_from_article_strips_html_and_skips_summary_copies() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    article = Article(
        source="s",
        id="1",
        url=None,
        title="T",
        summary="<p>Steel &amp; <b>alu</b>minium</p><script>x()</script>",
        content="",
        text="Steel & aluminium",
        published=now,
        first_seen=now,
        content_hash="h",
        tags=("industry",),
        language="en",
    )
    text = ArticleText.from_article(article, source_tags=("metals",))
    assert text.summary_text.split() == ["Steel", "&", "aluminium"]
    assert text.content_text == ""  # Article.text repeats the summary here
    assert (text.tags, text.source, text.source_tags, text.language) == (
        ("industry",),
        "s",
        ("metals",),
        "en",
    )
    assert html_to_text("a<br>b &lt;c&gt;") == "a b <c>"


# ---------------------------------------------------------------- the term index


def test_term_index_finds_every_occurrence_like_brute_force() -> None:
    rng = random.Random(7)
    keys = {"".join(rng.choice("abc") for _ in range(rng.randint(1, 4))) for _ in range(25)}
    index = TermIndex(keys)
    for _ in range(200):
        text = "".join(rng.choice("abcd") for _ in range(rng.randint(0, 30)))
        expected = {
            (k, i, i + len(k)) for k in keys for i in range(len(text)) if text.startswith(k, i)
        }
        assert set(index.find(text)) == expected


def test_term_index_boundary_keeps_keys_to_whole_words() -> None:
    index = TermIndex([" plan", " supply chain", " chain"], boundary=" ")
    hits = {(k, s) for k, s, _ in index.find(" planet plan supply chain ")}
    assert hits == {(" plan", 7), (" supply chain", 12), (" chain", 19)}


# ---------------------------------------------------------------- the shipped topics


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    """The shipped topics, loaded the way the application loads them."""
    return Classifier(load_config(str(ROOT / "config" / "topics.yaml")).topics)


def test_seed_article_is_in_both_shipped_topics(shipped: Classifier) -> None:
    lead = (
        "市委书记李强昨天下午就促进工业经济发展赴嘉定区调研中外企业时指出,"
        "工业特别是制造业是实体经济的基础,是上海构筑未来发展战略优势的重要支撑。"
        "要深入贯彻落实考察上海精神,坚定推动产业转型升级,大力发展高端制造、智能制造,"
        "推动形成具有更强创新力、更高附加值的产业链,实现上海工业经济高质量发展。"
    )
    article = ArticleText(title=SEED_TITLE, summary_text=lead, content_text=lead)
    assert [m.topic for m in shipped.classify(article)] == ["manufacturing", "policy"]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Chomsky's Manufacturing Consent revisited", set()),
        ("Your insurance policy and privacy policy, explained", set()),
        ("Potato chips recalled over allergen", set()),
        ("Charged with assault and battery", set()),
        ("男子制造谣言被行政拘留", set()),
        ("工信部印发智能制造行动计划", {"manufacturing", "policy"}),
        ("Automaker to build $3 billion EV battery plant", {"manufacturing"}),
        ("Senate passes immigration bill", {"policy"}),
    ],
)
def test_shipped_topics_on_false_friends_and_plain_cases(
    shipped: Classifier, title: str, expected: set[str]
) -> None:
    lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in title) else "en"
    article = ArticleText(title=title, language=lang)
    assert {m.topic for m in shipped.classify(article)} == expected


def test_labelled_set_quality_floor(shipped: Classifier) -> None:
    """F1 >= 0.85 for each shipped topic in each language (bench/topics_quality.py has more)."""
    counts: dict[tuple[str, str], list[int]] = {}
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        article = ArticleText(title=row["title"], summary_text=row["text"], language=row["lang"])
        got = {m.topic for m in shipped.classify(article)}
        for slug in ("manufacturing", "policy"):
            tp_fp_fn = counts.setdefault((slug, row["lang"]), [0, 0, 0])
            truth, guess = slug in row["labels"], slug in got
            tp_fp_fn[0] += truth and guess
            tp_fp_fn[1] += guess and not truth
            tp_fp_fn[2] += truth and not guess
    for (slug, lang), (tp, fp, fn) in sorted(counts.items()):
        f1 = 2 * tp / (2 * tp + fp + fn)
        assert f1 >= 0.85, f"{slug} [{lang}] F1 {f1:.3f}"
