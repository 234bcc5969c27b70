"""Topic operations over stored articles: reclassify, preview, explain.

reclassify   every stored article ─► classify ─► replace its matches (batch by batch)
preview      recent articles ─► classify for one topic ─► what the topic would hold (no writes)
explain      one article ─► every topic's score, terms and verdict
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.classify import ArticleText, Classifier, TopicExplanation
from aggregator.models import Article, Config, TopicMatch
from aggregator.store import Store


def source_tags(config: Config) -> dict[str, tuple[str, ...]]:
    """Each configured source's tags, by source name."""
    return {s.name: s.tags for s in config.sources}


def reclassify(config: Config, store: Store) -> tuple[int, int]:
    """Re-run the topics over every stored article; returns (articles seen, matches stored)."""
    classifier = Classifier(config.topics)
    tags = source_tags(config)
    seen = stored = 0
    for batch in store.iter_articles():
        matches: dict[int, list[TopicMatch]] = {}
        for article in batch:
            assert article.pk is not None
            found = classifier.classify(
                ArticleText.from_article(article, tags.get(article.source, ()))
            )
            matches[article.pk] = found
            stored += len(found)
        store.replace_matches(matches)
        seen += len(batch)
    return seen, stored


@dataclass(frozen=True)
class Candidate:
    """An article a topic would hold, with why; from `preview` to the CLI."""

    article: Article
    match: TopicMatch


def preview(
    config: Config, store: Store, slug: str, *, days: int, now: datetime, limit: int = 10000
) -> list[Candidate]:
    """What topic `slug` would contain from the last `days` days, without writing anything."""
    spec = next(t for t in config.topics if t.slug == slug)
    classifier = Classifier([spec])
    since = now - timedelta(days=days)
    found = []
    for item in store.topic_items(None, limit, since=since, one_per_story=False):
        matches = classifier.classify(ArticleText.from_article(item.article, item.source_tags))
        found += [Candidate(item.article, m) for m in matches]
    return found


def explain(config: Config, article: Article) -> list[TopicExplanation]:
    """Why `article` is or is not in each configured topic."""
    tags: Mapping[str, Sequence[str]] = source_tags(config)
    text = ArticleText.from_article(article, tags.get(article.source, ()))
    return Classifier(config.topics).explain(text)
