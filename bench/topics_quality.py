"""Topic quality and classification speed: the shipped topics against the labelled set.

    load topics (config/topics.yaml through aggregator.config) and the labelled set
    ─► classify every item (title + short text, language as labelled)
    ─► precision / recall / F1 per topic and language: whole set, tuning part, held-out part
    ─► throughput: ~3 KB articles (zh, en, mixed) through Classifier.classify, articles per
       second of CPU time (one core) and of wall-clock time
    ─► exit 1 when a topic's F1 in a language is under --min-f1 (whole set)

The held-out part is every third item of the set (the 3rd, 6th, 9th ... line): it is not
looked at while tuning the vocabularies. `--errors` lists the misclassified items of the
tuning part only.

    .venv/bin/python bench/topics_quality.py --min-f1 0.85
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.classify import ArticleText, Classifier  # noqa: E402
from aggregator.textfold import to_simplified  # noqa: E402
from aggregator.topicspec import TopicSpec  # noqa: E402

DATA = ROOT / "tests" / "data" / "topics" / "labelled.jsonl"
TOPICS = ROOT / "config" / "topics.yaml"
LANGS = ("zh", "en")


@dataclass(frozen=True)
class Item:
    """One labelled headline."""

    index: int
    id: str
    lang: str
    title: str
    text: str
    labels: frozenset[str]

    @property
    def held_out(self) -> bool:
        """Every third item is held out from tuning."""
        return self.index % 3 == 2


def load_items(path: Path) -> list[Item]:
    """The labelled set, in file order."""
    items = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        row: dict[str, Any] = json.loads(line)
        labels = frozenset(label for label in row["labels"] if label != "other")
        items.append(Item(i, row["id"], row["lang"], row["title"], row["text"], labels))
    return items


def load_topics(path: Path) -> list[TopicSpec]:
    """The topics of a config file, through the config loader when there is one."""
    try:
        from aggregator.config import load_config
    except ImportError:
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return [TopicSpec.model_validate(t) for t in data["topics"]]
    return list(load_config(str(path)).topics)


def predict(classifier: Classifier, items: Sequence[Item]) -> dict[str, frozenset[str]]:
    """Item id → the topics the classifier put it in."""
    out = {}
    for item in items:
        article = ArticleText(title=item.title, summary_text=item.text, language=item.lang)
        out[item.id] = frozenset(m.topic for m in classifier.classify(article))
    return out


@dataclass(frozen=True)
class Score:
    """Counts and derived measures for one topic, language and part of the set."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        """Share of predicted members that are labelled members (1 when none predicted)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of labelled members that were predicted (1 when none labelled)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(
    items: Sequence[Item], predicted: dict[str, frozenset[str]], topic: str, lang: str
) -> Score:
    """Precision/recall counts of `topic` over the items in `lang`."""
    tp = fp = fn = 0
    for item in items:
        if item.lang != lang:
            continue
        truth, guess = topic in item.labels, topic in predicted[item.id]
        tp += truth and guess
        fp += guess and not truth
        fn += truth and not guess
    return Score(tp, fp, fn)


def quality_table(
    items: Sequence[Item], predicted: dict[str, frozenset[str]], topics: Sequence[str]
) -> tuple[list[str], dict[tuple[str, str], Score]]:
    """A Markdown table of P/R/F1 per topic, language and part; and the whole-set scores."""
    parts = {
        "all": list(items),
        "tuning": [i for i in items if not i.held_out],
        "held-out": [i for i in items if i.held_out],
    }
    lines = [
        "| topic | lang | part | items | positives | precision | recall | F1 |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    whole: dict[tuple[str, str], Score] = {}
    for topic in topics:
        for lang in LANGS:
            for part, subset in parts.items():
                s = score(subset, predicted, topic, lang)
                n = sum(1 for i in subset if i.lang == lang)
                if part == "all":
                    whole[(topic, lang)] = s
                lines.append(
                    f"| {topic} | {lang} | {part} | {n} | {s.tp + s.fn} | "
                    f"{s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} |"
                )
    return lines, whole


def script(item: Item) -> str:
    """ "en", "zh-Hans" or "zh-Hant" (an item with any Traditional character)."""
    if item.lang != "zh":
        return item.lang
    return (
        "zh-Hant" if to_simplified(item.title + item.text) != item.title + item.text else "zh-Hans"
    )


def synthetic_articles(items: Sequence[Item], count: int, size: int) -> list[ArticleText]:
    """`count` articles of about `size` bytes of UTF-8 text, half Chinese, half English.

    Each article is made of labelled items of one language and one script (a Chinese source
    writes Simplified or Traditional, not both), in the proportions of the labelled set.
    """
    pools: dict[str, list[Item]] = {}
    for item in items:
        pools.setdefault(script(item), []).append(item)
    zh_items = len(pools["zh-Hans"]) + len(pools["zh-Hant"])
    articles = []
    for n in range(count):
        if n % 2:
            kind = "en"
        else:  # every k-th Chinese article is Traditional, as in the labelled set
            every = max(round(zh_items / len(pools["zh-Hant"])), 1)
            kind = "zh-Hant" if (n // 2) % every == 0 else "zh-Hans"
        pool = pools[kind]
        lang = kind[:2]
        budget = size // 3 if lang == "zh" else size  # CJK characters are 3 bytes in UTF-8
        parts: list[str] = []
        k = n
        while sum(len(p) for p in parts) < budget:
            item = pool[k % len(pool)]
            parts.append(
                f"{item.title}。{item.text}" if lang == "zh" else f"{item.title}. {item.text}"
            )
            k += 7
        head = pool[n % len(pool)]
        articles.append(
            ArticleText(
                title=head.title,
                summary_text=head.text,
                content_text=" ".join(parts),
                tags=("news",),
                source=f"bench-{kind}",
                language=lang,
            )
        )
    return articles


def throughput(
    classifier: Classifier, articles: Sequence[ArticleText], rounds: int
) -> tuple[float, float]:
    """Articles per second of CPU time and of wall time, best of `rounds` (after a warm-up).

    CPU time is what one core can do; wall time also counts whatever else the machine runs.
    """
    for article in articles:
        classifier.classify(article)
    cpu = wall = 0.0
    for _ in range(rounds):
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        for article in articles:
            classifier.classify(article)
        cpu = max(cpu, len(articles) / max(time.process_time() - cpu_start, 1e-9))
        wall = max(wall, len(articles) / (time.perf_counter() - wall_start))
    return cpu, wall


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 1 when a whole-set F1 is under --min-f1."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--topics", type=Path, default=TOPICS)
    parser.add_argument("--min-f1", type=float, default=None)
    parser.add_argument("--errors", action="store_true", help="list tuning-part mistakes")
    parser.add_argument("--articles", type=int, default=2000, help="articles for throughput")
    parser.add_argument("--size", type=int, default=3000, help="bytes of text per article")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    specs = load_topics(args.topics)
    started = time.perf_counter()
    classifier = Classifier(specs)
    compile_ms = (time.perf_counter() - started) * 1000
    items = load_items(args.data)
    predicted = predict(classifier, items)
    slugs = [s.slug for s in specs]
    lines, whole = quality_table(items, predicted, slugs)

    print(f"labelled set: {len(items)} items, held out: {sum(i.held_out for i in items)}")
    print("\n".join(lines))
    print()
    if args.errors:
        print("\nmistakes in the tuning part (expected -> got):")
        for item in items:
            if not item.held_out and predicted[item.id] != item.labels:
                want = ",".join(sorted(item.labels)) or "-"
                got = ",".join(sorted(predicted[item.id])) or "-"
                print(f"  {item.id} [{item.lang}] {want} -> {got}: {item.title}")

    articles = synthetic_articles(items, args.articles, args.size)
    for kind in ("zh-Hans", "zh-Hant", "en"):
        subset = [a for a in articles if a.source == f"bench-{kind}"]
        cpu, wall = throughput(classifier, subset, args.rounds)
        avg = sum(len(a.content_text.encode()) for a in subset) / len(subset)
        print(
            f"throughput [{kind}]: {cpu:,.0f} articles/s of CPU time on one core "
            f"({wall:,.0f}/s wall clock); {len(subset)} articles of ~{avg / 1024:.1f} KB"
        )
    cpu, wall = throughput(classifier, articles, args.rounds)
    print(
        f"throughput [mixed]: {cpu:,.0f} articles/s of CPU time on one core "
        f"({wall:,.0f}/s wall clock); {len(specs)} topics, compiled in {compile_ms:.0f} ms"
    )

    if args.min_f1 is not None:
        low = {k: s.f1 for k, s in whole.items() if s.f1 < args.min_f1}
        for (topic, lang), f1 in sorted(low.items()):
            print(f"FAIL: {topic} [{lang}] F1 {f1:.3f} < {args.min_f1}", file=sys.stderr)
        return 1 if low else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
