"""The query behind topic feeds and pages: newest articles with sources, matches, stories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from aggregator.models import FeedItem
from aggregator.schema import article_topics, articles, sources
from aggregator.store_rows import article_from_row
from aggregator.store_story_read import also_reported, representatives
from aggregator.store_write import ARTICLE_COLUMNS, topic_matches


def topic_items(
    conn: Connection,
    topic: str | None,
    limit: int,
    *,
    since: datetime | None = None,
    one_per_story: bool = True,
) -> list[FeedItem]:
    """The newest `limit` articles of `topic` (None: of all); see Store.topic_items."""
    query = select(
        *ARTICLE_COLUMNS,
        sources.c.url.label("source_url"),
        sources.c.title.label("source_title"),
        sources.c.link.label("source_link"),
        sources.c.tags.label("source_tags"),
    ).join_from(articles, sources, articles.c.source_id == sources.c.id)
    if one_per_story:
        query = representatives(query, topic)
    elif topic is not None:
        query = query.join(article_topics, article_topics.c.article_pk == articles.c.pk).where(
            article_topics.c.topic == topic
        )
    if since is not None:
        query = query.where(articles.c.published >= since)
    query = query.order_by(articles.c.published.desc(), articles.c.pk.desc()).limit(limit)
    rows = conn.execute(query).mappings().all()
    topics = topic_matches(conn, [row["pk"] for row in rows])
    leads = {r["pk"]: r["source_id"] for r in rows if r["story_id"] == r["pk"]}
    also = also_reported(conn, leads) if one_per_story else {}
    return [
        FeedItem(
            article=article_from_row(row, row["source_name"]),
            source_name=row["source_name"],
            source_url=row["source_url"],
            source_title=row["source_title"],
            source_link=row["source_link"],
            source_tags=tuple(row["source_tags"]),
            topics=tuple(topics.get(row["pk"], ())),
            story=row["story_id"] if row["story_id"] == row["pk"] else None,
            also_reported_by=also.get(row["pk"], ()),
        )
        for row in rows
    ]
