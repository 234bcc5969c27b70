"""Generated articles for the stories benchmark, and the SQLite archives built from them.

Texts are mixed from real text fragments: a bigram chain over the characters (Chinese) or
words (English) of the real texts in the repository (the seed page's article and headlines,
the labelled topic set, the feed fixtures), so every article is new text made of real
pieces. `repost` copies a text with scripted edits (page furniture, a paragraph cut, a few
characters changed): the benchmark's sample of new articles is half reposts of stored ones.

    build(path, n)   an archive of n different articles from 1,000 sources, each placed in
                     a story by the store's own code (store_stories.place), BATCH articles
                     per transaction; texts and signatures are made on worker processes.
                     The file is built as PATH.partial and renamed when done; a build that
                     was stopped goes on from the last batch it committed.
"""

from __future__ import annotations

import gc
import itertools
import json
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from multiprocessing import Pool
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from aggregator.fingerprint import signature
from aggregator.models import SourceConfig
from aggregator.schema import articles
from aggregator.store import Store
from aggregator.store_engine import transaction
from aggregator.store_stories import DEFAULT_THRESHOLD, NewArticle, place

ROOT = Path(__file__).resolve().parent.parent
SOURCES = 1000
BATCH = 5000
NOW = datetime(2025, 1, 1, tzinfo=UTC)
FURNITURE_ZH = (
    "客服热线:0755-8882 8155",
    "Admin - admin 于2022年01月22日发表",
    "本文章内容来源于网络公开内容,仅供参考!不对文章内容时效、真实性负责",
    "责任编辑:王明",
    "关于我们 加入我们 网站地图 联系我们",
)
FURNITURE_EN = (
    "By Staff Reporter",
    "Share this article",
    "Sign up for our newsletter",
    "Copyright 2024 Example Media. All rights reserved.",
)


@lru_cache(maxsize=1)
def real_texts() -> dict[str, list[str]]:
    """The repository's real texts by language."""
    found: dict[str, list[str]] = {"zh": [], "en": []}
    page = (ROOT / "tests" / "data" / "dupes" / "seed-page.txt").read_text(encoding="utf-8")
    found["zh"] += [line.strip() for line in page.splitlines() if line.strip()]
    labelled = ROOT / "tests" / "data" / "topics" / "labelled.jsonl"
    for line in labelled.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        found[item["lang"]] += [t for t in (item["title"], item["text"]) if t]
    for path in sorted((ROOT / "tests" / "data" / "feeds").glob("*.expected.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for article in data if isinstance(data, list) else []:
            lang = (article.get("language") or "")[:2]
            if lang in found:
                found[lang] += [t for t in (article["title"], article["text"]) if t]
    return found


@lru_cache(maxsize=1)
def chains() -> dict[str, dict[str, list[str]]]:
    """Per language: token -> the tokens that follow it in the real texts."""
    result: dict[str, dict[str, list[str]]] = {}
    for lang, texts in real_texts().items():
        follow: dict[str, list[str]] = {}
        for text in texts:
            tokens = list(text) if lang == "zh" else text.split()
            for a, b in itertools.pairwise(tokens):
                follow.setdefault(a, []).append(b)
        result[lang] = follow
    return result


@lru_cache(maxsize=2)
def starts(lang: str) -> list[str]:
    return list(chains()[lang])


def sentence(rng: random.Random, lang: str) -> str:
    follow = chains()[lang]
    token = rng.choice(starts(lang))
    out = [token]
    for _ in range(rng.randint(20, 60) if lang == "zh" else rng.randint(10, 28)):
        token = rng.choice(follow.get(token) or starts(lang))
        out.append(token)
    if lang == "zh":
        return "".join(out).rstrip("。,，") + "。"
    return " ".join(out).rstrip(".,") + "."


def fresh(rng: random.Random, lang: str) -> tuple[str, str]:
    """(title, text) of a new article: 3-8 paragraphs of 1-3 sentences."""
    paragraphs = [
        ("" if lang == "zh" else " ").join(sentence(rng, lang) for _ in range(rng.randint(1, 3)))
        for _ in range(rng.randint(3, 8))
    ]
    return sentence(rng, lang)[:40], "\n\n".join(paragraphs)


def repost(rng: random.Random, text: str) -> str:
    """A copy of `text` with scripted edits."""
    paragraphs = text.split("\n\n")
    zh = any("\u4e00" <= c <= "\u9fff" for c in text[:50])
    if len(paragraphs) > 3 and rng.random() < 0.5:
        del paragraphs[rng.randrange(len(paragraphs))]
    if rng.random() < 0.5:
        furniture = FURNITURE_ZH if zh else FURNITURE_EN
        paragraphs = [furniture[0], *paragraphs, *furniture[1:]]
    copy = "\n\n".join(paragraphs)
    if rng.random() < 0.5 and len(copy) > 40:
        at = rng.randrange(len(copy) - 10)
        copy = copy[:at] + ("据悉" if zh else "reportedly ") + copy[at + 4 :]
    return copy


def _make(seed: int) -> list[dict[str, Any]]:
    """Batch `seed` of generated articles with their signatures (on a worker process)."""
    rng = random.Random(seed)
    made = []
    for i in range(seed * BATCH, (seed + 1) * BATCH):
        title, text = fresh(rng, "zh" if rng.random() < 0.5 else "en")
        made.append({"n": i, "title": title, "text": text, "sig": signature(text) or b""})
    return made


def article_row(item: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    when = NOW + timedelta(seconds=item["n"])
    return {
        "source_id": rng.randint(1, SOURCES),
        "article_id": f"a{item['n']}",
        "url": f"https://news.example/{item['n']}",
        "title": item["title"],
        "summary": item["text"][:200],
        "content": "<p>" + item["text"].replace("\n\n", "</p><p>") + "</p>",
        "text": item["text"],
        "authors": [],
        "tags": [],
        "enclosures": [],
        "published": when,
        "first_seen": when,
        "date_is_first_seen": False,
        "language": None,
        "content_hash": f"h{item['n']}",
    }


def build(path: Path, n: int, *, log: bool = True) -> float:
    """Build the archive at `path` (n articles, placed in stories); returns seconds."""
    started = time.monotonic()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    store = Store(f"sqlite:///{partial}")
    with transaction(store._engine, "counting", write=False) as conn:
        done = conn.execute(select(func.count()).select_from(articles)).scalar_one()
    if done == 0:
        configs = [
            SourceConfig(name=f"s{i:04d}", url=f"https://s{i}.example/feed")
            for i in range(1, SOURCES + 1)
        ]
        store.sync_sources(configs, NOW)
    elif log:
        print(f"  going on from {done:,} articles", flush=True)
    gc.disable()  # a batch makes 200,000 lists that live to its end: collect between batches
    with Pool(2) as pool:
        for batch in pool.imap(_make, range(done // BATCH, n // BATCH)):
            gc.collect(0)
            rng = random.Random(batch[0]["n"])
            rows = [article_row(item, rng) for item in batch]
            with transaction(store._engine, "building", write=True) as conn:
                conn.exec_driver_sql("PRAGMA cache_size = -1000000")
                last = conn.execute(select(func.max(articles.c.pk))).scalar() or 0
                conn.execute(insert(articles), rows)
                query = select(articles.c.article_id, articles.c.pk).where(articles.c.pk > last)
                keys = {row.article_id: row.pk for row in conn.execute(query)}
                place(
                    conn,
                    [
                        NewArticle(
                            keys[row["article_id"]],
                            row["source_id"],
                            row["first_seen"],
                            item["sig"],
                        )
                        for row, item in zip(rows, batch, strict=True)
                    ],
                    DEFAULT_THRESHOLD,
                )
            done = batch[-1]["n"] + 1
            if log and done % 50_000 == 0:
                print(
                    f"  built {done:,} articles in {time.monotonic() - started:.0f} s", flush=True
                )
    gc.enable()
    store.close()
    raw = sqlite3.connect(partial)
    raw.execute("PRAGMA journal_mode = DELETE")  # folds the WAL in and removes it
    raw.close()
    partial.rename(path)
    return time.monotonic() - started
