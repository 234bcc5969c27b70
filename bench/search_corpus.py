"""Generated articles for the search benchmark, and the databases built from them.

fragments   sentences and titles in Chinese and English: bench/corpus.py, the labelled
            topic set (tests/data/topics/labelled.jsonl), the seed page (shared/samples)
article(i)  deterministic: 60 % Chinese, 40 % English; a title, 4-12 sentences, a few
            made-up names (a long tail of rare words), one in RARE_EVERY articles carries
            a rare Chinese or English term; published in key order over two years
build_sqlite(path, n)   a real Store's schema, then bulk inserts (articles, topic
            matches, the FTS5 rows) with the tokens made by aggregator.searchtext and
            aggregator.searchtags on every core; cached under bench/out/ (rebuilt when the
            index's TOKENS_VERSION changes)
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from bench.corpus import EN_SENTENCES, EN_TITLES, ZH_SENTENCES, ZH_TITLES

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SOURCES = 1000
RARE_EVERY = 25_000
RARE_ZH = "量子传感"
RARE_EN = "perovskite"
START = datetime(2023, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
CHUNK = 5_000


@dataclass(frozen=True)
class Fragments:
    """Sentences and titles to assemble articles from."""

    zh: tuple[str, ...]
    en: tuple[str, ...]
    zh_titles: tuple[str, ...]
    en_titles: tuple[str, ...]


@lru_cache(maxsize=1)
def fragments() -> Fragments:
    """Every real fragment we have, split into sentences."""
    zh, en = list(ZH_SENTENCES), list(EN_SENTENCES)
    zh_titles, en_titles = list(ZH_TITLES), list(EN_TITLES)
    labelled = ROOT / "tests" / "data" / "topics" / "labelled.jsonl"
    for line in labelled.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        titles, sentences = (zh_titles, zh) if row["lang"] == "zh" else (en_titles, en)
        titles.append(row["title"])
        if row["text"]:
            sentences.extend(_sentences(row["text"], row["lang"]))
    seed = ROOT.parent / "shared" / "samples" / "seed-page.txt"
    if seed.exists():
        for line in seed.read_text(encoding="utf-8").splitlines():
            if len(line.strip()) > 40:
                zh.extend(_sentences(line.strip(), "zh"))
    return Fragments(tuple(zh), tuple(en), tuple(zh_titles), tuple(en_titles))


def _sentences(text: str, lang: str) -> list[str]:
    mark = "。" if lang == "zh" else ". "
    parts = [p.strip().rstrip(".。") for p in text.split(mark) if len(p.strip()) > 8]
    return [p + mark.strip() for p in parts]


_NAME_CHARS = (
    "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁"
    "谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
)
_SYLLABLES = ("ka", "lo", "mi", "ren", "tor", "vex", "zan", "qui", "bel", "dor", "fen", "gar")


@dataclass(frozen=True)
class Generated:
    """One generated article, as plain values."""

    pk: int
    zh: bool
    title: str
    text: str
    topics: tuple[str, ...]
    published: datetime


def article(pk: int, n: int) -> Generated:
    """Article `pk` (1-based) of a corpus of `n`."""
    rng = random.Random(pk * 7919)
    parts = fragments()
    zh = rng.random() < 0.6
    pool, titles = (parts.zh, parts.zh_titles) if zh else (parts.en, parts.en_titles)
    sentences = rng.sample(pool, rng.randint(4, 12))
    for _ in range(rng.randint(1, 3)):  # made-up names: the long tail of the vocabulary
        if zh:
            name = "".join(rng.choices(_NAME_CHARS, k=rng.randint(2, 3)))
            sentences.insert(rng.randrange(len(sentences)), f"{name}表示,情况总体平稳。")
        else:
            name = "".join(rng.choices(_SYLLABLES, k=3)).capitalize()
            sentences.insert(rng.randrange(len(sentences)), f"{name} said the outlook was fair.")
    if pk % RARE_EVERY == 0:
        sentences.append(f"研究人员展示了{RARE_ZH}技术的最新进展。")
    if pk % RARE_EVERY == RARE_EVERY // 2:
        sentences.append(f"The lab showed new {RARE_EN} solar cells.")
    title = rng.choice(titles)
    text = ("" if zh else " ").join(sentences)
    body = title + text
    topics = tuple(
        slug
        for slug, words in (
            ("policy", ("政策", "policy", "rules", "regulat", "通知")),
            ("manufacturing", ("制造", "manufactur", "factory", "工厂")),
        )
        if any(w in body for w in words)
    )
    published = START + SPAN * (pk / n)
    return Generated(pk, zh, title, text, topics, published)


def _rows(span: tuple[int, int, int]) -> list[tuple[object, ...]]:
    """Worker: the articles, topic and search rows of keys start..end (tokens made here)."""
    from aggregator.searchtags import article_tags
    from aggregator.searchtext import search_doc

    start, end, n = span
    rows: list[tuple[object, ...]] = []
    for pk in range(start, end):
        a = article(pk, n)
        doc = search_doc(a.title, "", a.text)
        stamp = a.published.strftime("%Y-%m-%d %H:%M:%S.%f")
        first = a.text.split("。" if a.zh else ". ")[0]
        content = "<p>" + a.text.replace("。", "。</p><p>" if a.zh else "") + "</p>"
        rows.append(
            (
                pk,
                pk % SOURCES + 1,
                f"https://s{pk % SOURCES}.example/{pk}",
                a.title,
                f"<p>{first}</p>",
                content,
                a.text,
                stamp,
                "zh-cn" if a.zh else "en",
                f"{pk:032x}",
                a.topics,
                doc.title,
                doc.body,
                article_tags(pk % SOURCES + 1, "zh-cn" if a.zh else "en", a.published),
            )
        )
    return rows


def spans(n: int) -> Iterator[tuple[int, int, int]]:
    """The key ranges (start, end, n) of CHUNK articles each."""
    for start in range(1, n + 1, CHUNK):
        yield start, min(start + CHUNK, n + 1), n


def build_sqlite(path: Path, n: int, workers: int = 2) -> float:
    """Build (or keep, when complete) the SQLite database of `n` articles; seconds spent."""
    if path.exists() and _complete(path, n):
        return 0.0
    from aggregator.models import SourceConfig
    from aggregator.store import Store

    path.unlink(missing_ok=True)
    started = time.perf_counter()
    store = Store(f"sqlite:///{path}")
    store.sync_sources(
        [SourceConfig(f"s{i:04}", f"https://s{i:04}.example/feed") for i in range(SOURCES)],
        START,
    )
    store.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")
    with ProcessPoolExecutor(workers) as pool:
        for done, rows in enumerate(pool.map(_rows, spans(n)), 1):
            _insert(db, rows)
            if done % 20 == 0:
                print(f"  {done * CHUNK:>9,} articles  {time.perf_counter() - started:6.0f} s")
    db.execute("INSERT INTO article_search(article_search) VALUES ('optimize')")
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('bench_corpus', ?)", (n,))
    db.execute("ANALYZE")
    db.close()
    return time.perf_counter() - started


def _insert(db: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO articles (pk, source_id, article_id, url, title, summary, content, text,"
        " authors, tags, enclosures, published, first_seen, date_is_first_seen, language,"
        " content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', '[]', '[]', ?, ?, 0, ?, ?)",
        [(r[0], r[1], r[2], r[2], r[3], r[4], r[5], r[6], r[7], r[7], r[8], r[9]) for r in rows],
    )
    db.executemany(
        "INSERT INTO article_topics (article_pk, topic, score, terms) VALUES (?, ?, 3.0, '[]')",
        [(r[0], topic) for r in rows for topic in r[10]],  # type: ignore[attr-defined]
    )
    db.executemany(
        "INSERT INTO article_search (rowid, title, body, tags) VALUES (?, ?, ?, ?)",
        [(r[0], r[11], r[12], r[13]) for r in rows],
    )
    db.execute("COMMIT")


def _complete(path: Path, n: int) -> bool:
    """True when `path` holds all `n` articles, indexed with the current tokens."""
    from aggregator.searchtext import TOKENS_VERSION

    try:
        db = sqlite3.connect(path)
        found = dict(db.execute("SELECT key, value FROM meta").fetchall())
        db.close()
    except sqlite3.Error:
        return False
    return found.get("bench_corpus") == n and found.get("search_tokens") == TOKENS_VERSION
