"""Feeds that change over time, for the soak benchmark.

Stages: plan the feeds (``gen_feeds.plan_feeds``: formats, languages, encodings, charsets);
give each feed a period (0.5x to 1.5x the mean, seeded) and a phase within it, which fix the
moments, counted from the server's start, at which the feed gains an entry; render every
version of every feed to a file; write the plan as JSON for ``soak_server.py``.

Text: ``corpus`` keeps ``gen_feeds``' texts as they are. They are drawn from about fifty
sentences per language, so any two entries share a fifth to a third of their shingles and a
near-duplicate grouper sees candidates everywhere. ``distinct`` (the default) keeps each
entry's markup and sizes but draws the words of every text node (and of the summary) again
at random from the corpus' own vocabulary, characters for Chinese and words for English, so
unrelated entries share few shingles, as unrelated news articles do.

Version 0 of a feed holds its ``entries`` oldest entries of a seeded pool; version ``v``
drops the oldest and adds the next newer one, so each change is one new entry. Entries come
from ``gen_feeds`` (1-6 KB HTML bodies, news sentences in Chinese or English). The RSS 2.0
``<ttl>`` is left out: it asks readers to wait an hour, and the soak polls every minute.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from corpus import EN_SENTENCES, ZH_SENTENCES
from gen_feeds import _RENDERERS, CST, EST, SUBDIR_CHARSETS, FeedSpec, _entries, plan_feeds

TEXTS = ("distinct", "corpus")
_ZH_CHARS = [c for c in "".join(ZH_SENTENCES) if "\u4e00" <= c <= "\u9fff"]
_EN_WORDS = re.findall(r"[A-Za-z]+", " ".join(EN_SENTENCES))
_TEXT_NODE = re.compile(r">([^<]+)<")


@dataclass(frozen=True)
class SoakFeed:
    """One planned feed: where it is served and when it changes."""

    spec: FeedSpec
    changes: tuple[float, ...]  # seconds after the server's start, ascending

    @property
    def name(self) -> str:
        """The feed's short name (``f0001``), also our source name."""
        return self.spec.name

    @property
    def charset(self) -> str | None:
        """The charset parameter the server sends with the feed, if any."""
        return SUBDIR_CHARSETS[self.spec.subdir]


def plan(count: int, seconds: float, mean_period: float, seed: int = 1) -> list[SoakFeed]:
    """``count`` feeds and their change times within ``seconds`` of serving."""
    rng = random.Random(f"soak-{seed}")
    feeds = []
    for spec in plan_feeds(count, seed):
        period = mean_period * rng.uniform(0.5, 1.5)
        moment = rng.uniform(0, period)
        changes = []
        while moment < seconds:
            changes.append(round(moment, 3))
            moment += period
        feeds.append(SoakFeed(spec, tuple(changes)))
    return feeds


def redraw(text: str, lang: str, rng: random.Random) -> str:
    """Text of about the same length, its words drawn at random from the corpus vocabulary."""
    if not text.strip():
        return text
    if lang == "zh":
        out: list[str] = []
        while len(out) < len(text):
            out += rng.choices(_ZH_CHARS, k=rng.randint(8, 30))
            out.append("，" if rng.random() < 0.7 else "。")
        return "".join(out[: len(text)])
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < len(text):
        words += rng.choices(_EN_WORDS, k=rng.randint(6, 20))
        words[-1] += "."
    return " ".join(words)


def render_versions(
    feed: SoakFeed, entries: int, anchor: datetime, seed: int = 1, text: str = "distinct"
) -> list[bytes]:
    """Every version of the feed's document, version 0 first."""
    spec = feed.spec
    extra = len(feed.changes)
    pool = _entries(spec, entries + extra, anchor, seed)  # newest first
    if text == "distinct":
        rng = random.Random(f"redraw-{seed}-{spec.index}")
        pool = [
            replace(
                e,
                summary=redraw(e.summary, spec.lang, rng),
                html=_TEXT_NODE.sub(lambda m: f">{redraw(m[1], spec.lang, rng)}<", e.html),
            )
            for e in pool
        ]
    tz = CST if spec.lang == "zh" else (UTC if spec.index % 2 else EST)
    head = f'<?xml version="1.0" encoding="{spec.encoding}"?>\n'
    out = []
    for version in range(extra + 1):
        window = pool[extra - version : extra - version + entries]
        body = _RENDERERS[spec.fmt](spec, window, anchor, tz).replace("<ttl>60</ttl>", "")
        out.append((head + body).encode(spec.encoding, errors="xmlcharrefreplace"))
    return out


def write(
    root: Path,
    feeds: list[SoakFeed],
    entries: int,
    anchor: datetime,
    seed: int = 1,
    text: str = "distinct",
) -> Path:
    """Write every version under ``root`` and the plan beside them; return the plan's path.

    The plan maps each URL path to its charset, change times and version files.
    """
    table = {}
    for feed in feeds:
        folder = root / feed.spec.subdir / feed.name
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for version, data in enumerate(render_versions(feed, entries, anchor, seed, text)):
            path = folder / f"{version}.xml"
            path.write_bytes(data)
            files.append(str(path))
        table[feed.spec.path] = {
            "name": feed.name,
            "charset": feed.charset,
            "changes": list(feed.changes),
            "files": files,
        }
    plan_path = root / "plan.json"
    plan_path.write_text(json.dumps(table))
    return plan_path
