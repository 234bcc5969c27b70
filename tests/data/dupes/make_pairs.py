"""Build pairs.jsonl, the labelled "same story?" set, from real texts by scripted edits.

    python tests/data/dupes/make_pairs.py      (rewrites tests/data/dupes/pairs.jsonl)

Base texts (all real): the article and the 100 headlines of seed-page.txt, the article texts
of the feed fixtures in tests/data/feeds/*.expected.json, and the leads of the labelled topic
set tests/data/topics/labelled.jsonl. Positives pair a base text with a copy changed by one
of the scripted edits below (or two copies changed differently); negatives pair two
different real texts on the same subject, chosen by hand as groups (GROUPS_*), or two
different texts wrapped in the same page furniture. The random generator is seeded: the
same inputs give the same file. See README.md beside this file.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

import opencc  # type: ignore[import-untyped]
from groups import GROUPS_EN, GROUPS_ZH

HERE = Path(__file__).resolve().parent
DATA = HERE.parent
SEED = 20240501

S2T = opencc.OpenCC("s2t")
T2S = opencc.OpenCC("t2s")

Doc = dict[str, str]  # {"title": ..., "text": ...}


# ---------------------------------------------------------------- the real texts


def seed_page() -> tuple[str, str, str, list[str]]:
    """(the page as is, its title, its article body, its 100 headlines)."""
    page = (HERE / "seed-page.txt").read_text(encoding="utf-8")
    lines = page.splitlines()
    title = lines[2].strip()
    body_lines = [line.strip() for line in lines[7:20] if line.strip()]
    headlines = [
        re.sub(r"^\s*\d+\.\s*", "", line).strip()
        for line in lines
        if re.match(r"^\s*\d+\.\s", line)
    ]
    return page, title, "\n\n".join(body_lines), headlines


def fixture_texts() -> list[tuple[str, str, str, str]]:
    """(id, language, title, text) of every fixture article with a text of some length."""
    found = []
    for path in sorted((DATA / "feeds").glob("*.expected.json")):
        articles = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(articles, list):
            continue
        for n, article in enumerate(articles):
            text = article["text"]
            language = (article.get("language") or "")[:2]
            if language not in ("zh", "en") or len(text) < 20 or len(text) > 900:
                continue
            found.append((f"feeds:{path.name.split('.')[0]}#{n}", language, article["title"], text))
    return found


def topic_texts() -> list[tuple[str, str, str, str]]:
    """(id, language, title, text) of every labelled topic item with a lead."""
    found = []
    for line in (DATA / "topics" / "labelled.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["text"] and item["id"] != "seed-main":
            found.append((f"topics:{item['id']}", item["lang"], item["title"], item["text"]))
    return found


# ---------------------------------------------------------------- scripted edits

_ZH_END = re.compile(r"(?<=[。！？；!?;])")
_EN_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(])")


def sentences(text: str, lang: str) -> list[str]:
    parts = _ZH_END.split(text) if lang == "zh" else _EN_END.split(text)
    return [p.strip() for p in parts if p.strip()]


def join(parts: list[str], lang: str) -> str:
    return ("" if lang == "zh" else " ").join(parts)


def to_full_width(text: str) -> str:
    """ASCII letters, digits and punctuation as their full-width forms."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def to_half_width(text: str) -> str:
    return "".join(chr(ord(c) - 0xFEE0) if "\uff01" <= c <= "\uff5e" else c for c in text)


def punctuation(text: str, lang: str) -> str:
    """Other punctuation and spacing: Chinese commas ↔ ASCII, curly quotes, broken lines."""
    if lang == "zh":
        if "，" in text or "。" in text:
            swapped = (
                text.replace("，", ", ").replace("：", ": ").replace("（", "(").replace("）", ")")
            )
        else:
            swapped = (
                text.replace(",", "，").replace(":", "：").replace("(", "（").replace(")", "）")
            )
        return swapped.replace("。", "。\n")
    swapped = re.sub(r'"([^"]*)"', "“\\1”", text).replace("'", "’").replace(" - ", " — ")
    return re.sub(r"([,;]) ", "\\1\n", swapped, count=2).replace("  ", " ")


def light_edit(text: str, lang: str, rng: random.Random) -> str:
    """One small change: a number changed, a word or a short span dropped, a phrase added."""
    numbers = list(re.finditer(r"\d+", text))
    choice = rng.randrange(3)
    if choice == 0 and numbers:
        m = rng.choice(numbers)
        return text[: m.start()] + str(int(m.group()) + 1) + text[m.end() :]
    if lang == "zh":
        if choice == 1 and len(text) > 30:
            start = rng.randrange(8, len(text) - 10)
            return text[:start] + text[start + 3 :]
        return rng.choice(("记者了解到,", "据悉,", "本网讯 ")) + text
    words = text.split(" ")
    if choice == 1 and len(words) > 12:
        del words[rng.randrange(3, len(words) - 2)]
        return " ".join(words)
    return rng.choice(("Officials said ", "According to reports, ", "UPDATE: ")) + (
        text[0].lower() + text[1:] if not text[:2].isupper() else text
    )


def add_paragraph(text: str, lang: str, rng: random.Random, pool: list[str]) -> str | None:
    """The text with a paragraph of another real text added (at most 40 % of its length)."""
    fitting = [p for p in pool if len(p) <= 0.4 * len(text) and p not in text and len(p) >= 8]
    if not fitting:
        return None
    extra = rng.choice(fitting)
    return f"{text}\n\n{extra}" if rng.random() < 0.7 else f"{extra}\n\n{text}"


def cut_paragraph(text: str, lang: str, rng: random.Random) -> str | None:
    """The text without one of its paragraphs or sentences (at most 40 % of its length)."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    if len(paragraphs) >= 3:
        cuttable = [i for i, p in enumerate(paragraphs) if len(p) <= 0.4 * len(text)]
        if cuttable:
            del paragraphs[rng.choice(cuttable)]
            return "\n\n".join(paragraphs)
    parts = sentences(text, lang)
    if len(parts) < 2:
        return None
    cuttable = [i for i, p in enumerate(parts) if len(p) <= 0.35 * len(text)]
    if not cuttable:
        return None
    del parts[rng.choice(cuttable)]
    return join(parts, lang)


def furniture(text: str, title: str, lang: str, rng: random.Random, headlines: list[str]) -> str:
    """The text wrapped in page furniture like the seed page's (or an English site's)."""
    listed = rng.sample(headlines, min(len(headlines), rng.choice((10, 30, 100))))
    if lang == "zh":
        numbered = "\n".join(f"  {n}. {h}" for n, h in enumerate(listed, 1))
        return (
            f"客服热线:0755-8882 8155\n\n{title}\n\nAdmin - admin 于2022年01月22日发表\n\n"
            f"{text}\n\n本文章内容来源于网络公开内容,仅供参考!不对文章内容时效、真实性负责\n\n"
            "关于我们 加入我们 人力资讯TOP500 网站地图 临时工招聘信息兼职招聘信息\n\n"
            f"{numbered}"
        )
    related = "\n".join(listed[:8])
    return (
        f"By Staff Reporter\n\n{text}\n\nShare this article\n\nRelated articles\n\n{related}\n\n"
        "Sign up for our newsletter\n\nCopyright 2024 Example Media. All rights reserved."
    )


def retitle(title: str, lang: str, rng: random.Random) -> str:
    if lang == "zh":
        return (
            rng.choice(("【转载】", "重磅!", "关注|", ""))
            + title[: max(6, len(title) * 2 // 3)]
            + "……"
        )
    return rng.choice(("UPDATE 1-", "Exclusive: ", "Breaking: ", "")) + title.upper()


PAIRS_PER_GROUP = {"zh": 6, "en": 3}
POSITIVES = 90  # per language
SAME_FURNITURE = 8  # negatives per language: two different texts in the same page furniture

ZH_POSITIVE_KINDS = (
    "exact",
    "retitled",
    "furniture",
    "traditional",
    "simplified",
    "full-width",
    "half-width",
    "punctuation",
    "light-edit",
    "paragraph-added",
    "paragraph-cut",
    "traditional+furniture",
    "two-edits",
)
EN_POSITIVE_KINDS = (
    "exact",
    "retitled",
    "furniture",
    "full-width",
    "punctuation",
    "light-edit",
    "paragraph-added",
    "paragraph-cut",
    "furniture+light-edit",
    "two-edits",
)


def word_overlap(a: str, b: str) -> float:
    sa, sb = set(re.findall(r"\w", a.lower())), set(re.findall(r"\w", b.lower()))
    wa, wb = set(re.findall(r"[a-z]+", a.lower())), set(re.findall(r"[a-z]+", b.lower()))
    left, right = (wa, wb) if wa and wb else (sa, sb)
    return len(left & right) / max(1, len(left | right))


def main() -> None:
    rng = random.Random(SEED)
    page, seed_title, seed_body, headlines = seed_page()
    bases: dict[str, tuple[str, str, str]] = {}  # id -> (lang, title, text)
    bases["seed:article"] = ("zh", seed_title, seed_body)
    for n, paragraph in enumerate(seed_body.split("\n\n"), 1):
        if len(paragraph) > 60:
            bases[f"seed:p{n}"] = ("zh", seed_title, paragraph)
    for key, lang, title, text in fixture_texts() + topic_texts():
        if key == "feeds:rss20_gov_gbk#0":  # the seed article again
            continue
        bases[key] = (lang, title, text)
    en_headlines = [title for lang, title, _ in bases.values() if lang == "en"]
    pools = {
        lang: [s for lg, _, text in bases.values() if lg == lang for s in sentences(text, lang)]
        for lang in ("zh", "en")
    }
    rows: list[dict[str, object]] = []

    def add(lang: str, same: bool, kind: str, base: str, a: Doc, b: Doc) -> None:
        rows.append(
            {
                "id": f"{lang}-{len(rows) + 1:03d}",
                "lang": lang,
                "same": same,
                "kind": kind,
                "base": base,
                "a": a,
                "b": b,
            }
        )

    # The seed page itself is the first positive: the article and the whole page around it.
    add(
        "zh",
        True,
        "seed-page",
        "seed:article",
        {"title": seed_title, "text": seed_body},
        {"title": seed_title, "text": page},
    )

    def edited(kind: str, lang: str, title: str, text: str) -> tuple[str, str] | None:
        heads = headlines if lang == "zh" else en_headlines
        simple: dict[str, Callable[[], str | None]] = {
            "exact": lambda: text,
            "retitled": lambda: text,
            "furniture": lambda: furniture(text, title, lang, rng, heads),
            "traditional": lambda: S2T.convert(text) if S2T.convert(text) != text else None,
            "simplified": lambda: T2S.convert(text) if T2S.convert(text) != text else None,
            "full-width": lambda: to_full_width(text),
            "half-width": lambda: to_half_width(text) if to_half_width(text) != text else None,
            "punctuation": lambda: punctuation(text, lang),
            "light-edit": lambda: light_edit(text, lang, rng),
            "paragraph-added": lambda: add_paragraph(text, lang, rng, pools[lang]),
            "paragraph-cut": lambda: cut_paragraph(text, lang, rng),
        }
        if kind in simple:
            changed = simple[kind]()
            new_title = retitle(title, lang, rng) if kind == "retitled" else title
            return None if changed is None else (new_title, changed)
        if kind == "traditional+furniture":
            return title, furniture(S2T.convert(text), S2T.convert(title), lang, rng, heads)
        if kind == "furniture+light-edit":
            return title, furniture(light_edit(text, lang, rng), title, lang, rng, heads)
        return None

    for lang, kinds in (("zh", ZH_POSITIVE_KINDS), ("en", EN_POSITIVE_KINDS)):
        keys = [k for k, (lg, _, _) in bases.items() if lg == lang]
        rng.shuffle(keys)
        uses = dict.fromkeys(keys, 0)
        made = 0
        for kind in itertools.cycle(kinds):  # each kind in turn, on the next base it suits
            if made >= POSITIVES or min(uses.values()) >= 2:
                break
            for key in sorted(keys, key=lambda k: uses[k]):
                _, title, text = bases[key]
                if kind == "two-edits":
                    first = edited(rng.choice(kinds[2:9]), lang, title, text)
                    second = edited(rng.choice(kinds[2:9]), lang, title, text)
                    if not first or not second:
                        continue
                    a, b = first, second
                else:
                    result = edited(kind, lang, title, text)
                    if result is None:
                        continue
                    a, b = (title, text), result
                add(
                    lang,
                    True,
                    kind,
                    key,
                    {"title": a[0], "text": a[1]},
                    {"title": b[0], "text": b[1]},
                )
                uses[key] += 1
                keys.remove(key)
                keys.append(key)
                made += 1
                break

    for lang, groups in (("zh", GROUPS_ZH), ("en", GROUPS_EN)):
        for name, members in groups.items():
            present = [m for m in members if m in bases]
            pairs = list(itertools.combinations(present, 2))
            pairs.sort(key=lambda p: -word_overlap(bases[p[0]][2], bases[p[1]][2]))
            for left, right in pairs[: PAIRS_PER_GROUP[lang]]:
                _, t1, x1 = bases[left]
                _, t2, x2 = bases[right]
                add(
                    lang,
                    False,
                    f"same-subject: {name}",
                    f"{left} | {right}",
                    {"title": t1, "text": x1},
                    {"title": t2, "text": x2},
                )
        keys = [k for k, (lg, _, _) in bases.items() if lg == lang and not k.startswith("seed:a")]
        heads = headlines if lang == "zh" else en_headlines
        for _ in range(SAME_FURNITURE):
            left, right = rng.sample(keys, 2)
            _, t1, x1 = bases[left]
            _, t2, x2 = bases[right]
            state = rng.getstate()
            a = furniture(x1, t1, lang, rng, heads)
            rng.setstate(state)  # the same furniture around both
            b = furniture(x2, t2, lang, rng, heads)
            add(
                lang,
                False,
                "same-furniture",
                f"{left} | {right}",
                {"title": t1, "text": a},
                {"title": t2, "text": b},
            )

    with (HERE / "pairs.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    summary: dict[tuple[object, object], int] = {}
    for row in rows:
        summary[(row["lang"], row["same"])] = summary.get((row["lang"], row["same"]), 0) + 1
    print(
        f"{len(rows)} pairs: "
        + ", ".join(
            f"{k[0]} {'same' if k[1] else 'different'}: {v}" for k, v in sorted(summary.items())
        )
    )


if __name__ == "__main__":
    main()
