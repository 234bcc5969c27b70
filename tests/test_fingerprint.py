"""Similarity fingerprints: normal form, furniture, shingles, signatures, band keys, and the
labelled set's precision and recall at the default threshold."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from aggregator.fingerprint import (
    BANDS,
    MIN_SHINGLES,
    SIGNATURE_BYTES,
    band_keys,
    content_lines,
    shingles,
    signature,
    similarity,
)
from aggregator.store_stories import DEFAULT_THRESHOLD

DUPES = Path(__file__).resolve().parent / "data" / "dupes"
SEED_PAGE = (DUPES / "seed-page.txt").read_text(encoding="utf-8")
ZH = (
    "位于嘉定安亭的上汽大众新能源汽车（MEB）工厂正在抓紧建设之中。这是上汽集团和德国大众合资建设的"
    "纯电动汽车制造工厂，建成后将投产大众、奥迪等多个品牌的全新一代纯电动汽车，规划年产能30万辆。"
)
EN = (
    "Output at US factories rose 0.4% in December, the third monthly gain in a row, as carmakers "
    "worked through their backlog of orders and chip supplies improved."
)


def same(a: str, b: str) -> bool:
    """The store's decision for two texts: a shared band key and similarity at the threshold."""
    sa, sb = signature(a), signature(b)
    if sa is None or sb is None:
        return False
    shared = set(band_keys(sa)) & set(band_keys(sb))
    return bool(shared) and similarity(sa, sb) >= DEFAULT_THRESHOLD


def test_chinese_text_is_shingled_by_characters_without_punctuation() -> None:
    found = shingles("新能源汽车，工厂。")
    assert found == {"新能源汽".encode("utf-32-le"), "能源汽车".encode("utf-32-le"),
                     "源汽车工".encode("utf-32-le"), "汽车工厂".encode("utf-32-le")}  # fmt: skip


def test_english_text_is_shingled_by_words_case_and_punctuation_folded() -> None:
    assert shingles("The plant, in OHIO: opens!") == {
        b"the plant in",
        b"plant in ohio",
        b"in ohio opens",
    }


@pytest.mark.parametrize(
    "variant",
    [
        "位於嘉定安亭的上汽大眾新能源汽車（MEB）工廠正在抓緊建設之中。這是上汽集團和德國大眾合資建設的"
        "純電動汽車製造工廠，建成後將投產大眾、奧迪等多個品牌的全新一代純電動汽車，規劃年產能30萬輛。",
        ZH.replace("（", "(").replace("）", ")").replace("，", ", ").replace("30", "３０"),
        ZH.replace("。", "。\n\n  "),
    ],
    ids=["traditional", "half-width and full-width", "whitespace"],
)
def test_script_width_and_spacing_variants_have_the_same_signature(variant: str) -> None:
    assert signature(variant) == signature(ZH)


def test_seed_page_furniture_is_dropped() -> None:
    kept = "\n".join(content_lines(SEED_PAGE))
    assert "市委书记李强昨天下午" in kept and "市领导诸葛宇杰参加调研。" in kept
    for furniture in ("客服热线", "于2022年01月22日发表", "仅供参考", "关于我们", "全市征兵工作"):
        assert furniture not in kept


def test_english_furniture_and_related_headlines_are_dropped() -> None:
    page = (
        f"By Staff Reporter\n\n{EN}\n\nShare this article\n\nRelated articles\n\n"
        "Fed raises interest rates 25 basis points\nTSMC Arizona Begins Construction on Third "
        "Chip Plant, a long headline that goes on and on\n\nCopyright 2024 Example Media. All "
        "rights reserved."
    )
    assert content_lines(page) == [EN]


def test_a_text_with_only_furniture_keeps_its_lines() -> None:
    assert content_lines("Read more\n\nShare this") == ["Read more", "Share this"]


def test_signature_is_stable_across_runs_and_versions() -> None:
    sig = signature(SEED_PAGE)
    assert sig is not None and len(sig) == SIGNATURE_BYTES
    # Stored signatures must stay comparable: this digest changes only with the algorithm.
    assert hashlib.sha256(sig).hexdigest()[:16] == "a68f688b4fef13e8"


def test_a_short_text_has_no_signature() -> None:
    assert signature("Full text of article 3, with markup.") is None
    assert len(shingles("Full text of article 3, with markup.")) < MIN_SHINGLES
    assert signature("") is None


def test_band_keys_are_signed_64_bit_integers_one_per_band() -> None:
    sig = signature(EN)
    assert sig is not None
    keys = band_keys(sig)
    assert len(keys) == BANDS
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert len(set(keys)) == BANDS


def test_similarity_of_a_text_with_itself_and_with_another() -> None:
    a, b = signature(ZH), signature(EN)
    assert a is not None and b is not None
    assert similarity(a, a) == 1.0
    assert similarity(a, b) < 0.1
    with pytest.raises(ValueError):
        similarity(a, b"short")


def test_a_paragraph_added_keeps_the_story_a_different_article_does_not() -> None:
    body = SEED_PAGE.split("\n")[7:20]
    article = "\n".join(body)
    assert same(article, SEED_PAGE)
    assert same(
        article, article + "\n\n记者了解到,项目二期工程将于明年开工建设,届时产能将进一步扩大。"
    )
    other = "\n".join(line for line in body if "迅达" not in line)
    assert same(article, other)  # one paragraph cut
    assert not same(body[2], body[6])  # two paragraphs of the same visit


def test_labelled_set_precision_and_recall_at_the_default_threshold() -> None:
    rows = [json.loads(line) for line in (DUPES / "pairs.jsonl").read_text("utf-8").splitlines()]
    assert len(rows) >= 200
    decided = [(row["same"], same(row["a"]["text"], row["b"]["text"])) for row in rows]
    true_positives = sum(1 for label, guess in decided if label and guess)
    predicted = sum(1 for _, guess in decided if guess)
    positives = sum(1 for label, _ in decided if label)
    assert true_positives / predicted >= 0.98
    assert true_positives / positives >= 0.9
