"""Reading stories: one item per story in feeds, its other sources, the `stories` listing.

    representatives(query, topic)    a topic_items query narrowed to story representatives
    also_reported(conn, story_ids)   the other sources' copies of each story, for feeds
    StoryQueries.recent(topic, ...)  the `aggregator stories` listing
    StoryQueries.rebuild()           store_stories.rebuild with the configured threshold

A story's id is the key of its first stored article, its representative: the article
published as the story's feed item, whose item id therefore never changes as copies join.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, exists, func, select

from aggregator.models import Article, StoryMember
from aggregator.schema import article_topics, articles, sources, stories
from aggregator.store_engine import transaction
from aggregator.store_rows import article_from_row
from aggregator.store_stories import BATCH, rebuild

ALSO_LIMIT = 20
"""Other sources listed under one feed item at most."""

_CHUNK = 500  # keys per IN (...) list


@dataclass(frozen=True)
class StorySummary:
    """A story and its members, oldest first; from `StoryQueries.recent` to the CLI."""

    id: int
    created: datetime
    updated: datetime
    size: int
    members: tuple[Article, ...]


def representatives(query: Select[Any], topic: str | None) -> Select[Any]:
    """`query` (over articles) narrowed to representatives of stories in `topic` (None: any).

    A story is in a topic when any of its members is; an article not yet grouped is a story
    of its own.
    """
    story = func.coalesce(articles.c.story_id, articles.c.pk)
    if topic is None:
        return query.where(story == articles.c.pk)
    members = (
        select(func.coalesce(articles.c.story_id, articles.c.pk))
        .join(article_topics, article_topics.c.article_pk == articles.c.pk)
        .where(article_topics.c.topic == topic)
    )
    return query.where(articles.c.pk.in_(members))


def also_reported(
    conn: Connection, representatives: Mapping[int, int]
) -> dict[int, tuple[StoryMember, ...]]:
    """Story id -> the other sources' copies of it (one per source, first stored first).

    `representatives` maps story ids to their representative's source id, left out.
    """
    found: dict[int, list[StoryMember]] = {}
    named: dict[int, set[int]] = {story: {source} for story, source in representatives.items()}
    for chunk in _chunks(sorted(representatives)):
        query = (
            select(
                articles.c.story_id,
                articles.c.source_id,
                articles.c.url,
                articles.c.title,
                sources.c.name,
                sources.c.title.label("source_title"),
            )
            .join_from(articles, sources, articles.c.source_id == sources.c.id)
            .where(articles.c.story_id.in_(chunk), articles.c.pk != articles.c.story_id)
            .order_by(articles.c.story_id, articles.c.first_seen, articles.c.pk)
        )
        for row in conn.execute(query):
            seen = named[row.story_id]
            listed = found.setdefault(row.story_id, [])
            if row.source_id in seen or len(listed) >= ALSO_LIMIT:
                continue
            seen.add(row.source_id)
            listed.append(
                StoryMember(
                    source_name=row.name,
                    source_title=row.source_title,
                    url=row.url,
                    title=row.title,
                )
            )
    return {story: tuple(members) for story, members in found.items()}


# ---------------------------------------------------------------- listing and rebuilding


class StoryQueries:
    """The story queries behind `aggregator stories`; `Store.stories` makes one."""

    def __init__(self, engine: Engine, threshold: float) -> None:
        self._engine = engine
        self.threshold = threshold

    def recent(self, topic: str | None, limit: int, *, members: int = 20) -> list[StorySummary]:
        """The `limit` stories most recently joined (in `topic`, when given), newest first."""
        return _recent(self._engine, topic, limit, members)

    def rebuild(self, *, batch: int = BATCH) -> tuple[int, int]:
        """Group every stored article again; see `rebuild`. Returns (articles, stories)."""
        return rebuild(self._engine, self.threshold, batch=batch)


def _recent(engine: Engine, topic: str | None, limit: int, members: int) -> list[StorySummary]:
    query = select(stories).order_by(stories.c.updated.desc(), stories.c.id.desc())
    if topic is not None:
        in_topic = (
            select(articles.c.pk)
            .join(article_topics, article_topics.c.article_pk == articles.c.pk)
            .where(articles.c.story_id == stories.c.id, article_topics.c.topic == topic)
        )
        query = query.where(exists(in_topic))
    with transaction(engine, "reading stories", write=False) as conn:
        rows = conn.execute(query.limit(limit)).mappings().all()
        by_story: dict[int, list[Article]] = {row["id"]: [] for row in rows}
        for chunk in _chunks(list(by_story)):
            member_rows = conn.execute(
                select(*articles.c, sources.c.name.label("source_name"))
                .join_from(articles, sources, articles.c.source_id == sources.c.id)
                .where(articles.c.story_id.in_(chunk))
                .order_by(articles.c.first_seen, articles.c.pk)
            ).mappings()
            for row in member_rows:
                listed = by_story[row["story_id"]]
                if len(listed) < members:
                    listed.append(article_from_row(row, row["source_name"]))
    return [
        StorySummary(
            id=row["id"],
            created=row["created"],
            updated=row["updated"],
            size=row["size"],
            members=tuple(by_story[row["id"]]),
        )
        for row in rows
    ]


def _chunks(keys: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]
