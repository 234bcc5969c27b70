"""Story queries: joining new articles to stories, one item per story in feeds, listing, rebuild.

    join_stories(conn, source_id, batch, pks, fingerprints, threshold)   in save_update's
                transaction, after the articles are written:
        new articles   band keys ─► stored articles sharing a key (story_bands, an index
                       lookup per band, never a scan) ─► their signatures ─► the best one at
                       or above `threshold`, from another source: join its story; none: the
                       article starts a story of its own (story id = its own key)
        changed ones   keep their story; their signature and band keys are replaced
    representatives(query, topic)    a topic_items query narrowed to story representatives
    also_reported(conn, story_ids)   the other sources' copies of each story, for feeds
    StoryQueries.recent(topic, ...)  the `aggregator stories` listing
    rebuild(engine, threshold)       forget every story and group all articles again, in the
                                     order they were stored, BATCH per transaction

A story's id is the key of its first stored article, its representative: the article
published as the story's feed item, whose item id therefore never changes as copies join.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)

from aggregator.fingerprint import band_keys, signature, similarity
from aggregator.models import Article, StoryMember, StorySettings
from aggregator.schema import (
    article_topics,
    articles,
    meta,
    sources,
    stories,
    story_bands,
    story_sigs,
)
from aggregator.store_engine import transaction

DEFAULT_THRESHOLD = StorySettings().threshold
"""Estimated Jaccard similarity at or above which an article joins a story (see
docs/benchmarks.md for the sweep on the labelled set that chose it)."""
ALSO_LIMIT = 20
"""Other sources listed under one feed item at most."""
BATCH = 1000
"""Articles grouped per transaction by `rebuild`."""

_CHUNK = 500  # keys per IN (...) list


@dataclass(frozen=True)
class _New:
    """A new article to place in a story."""

    pk: int
    source_id: int
    first_seen: datetime
    sig: bytes  # empty when the text is too short to fingerprint


@dataclass(frozen=True)
class StorySummary:
    """A story and its members, oldest first; from `recent_stories` to the CLI."""

    id: int
    created: datetime
    updated: datetime
    size: int
    members: tuple[Article, ...]


# ---------------------------------------------------------------- joining (inside a transaction)


def join_stories(
    conn: Connection,
    source_id: int,
    batch: Sequence[Article],
    pks: Mapping[str, int],
    fingerprints: Mapping[str, bytes] | None,
    threshold: float,
    *,
    changed: Sequence[int] = (),
) -> None:
    """Place the new articles of `batch` in stories; refresh the fingerprints of `changed` pks.

    `pks` maps the article ids written (new and changed) to their keys; `fingerprints` maps
    article ids to signatures from the worker (b"" when too short); missing ones are made here.
    """
    refreshed = set(changed)
    grouped = _grouped(conn, list(refreshed))  # changed articles that already have a story
    new: list[_New] = []
    refresh: dict[int, bytes] = {}
    for article in batch:
        pk = pks.get(article.id)
        if pk is None:
            continue
        found = (fingerprints or {}).get(article.id)
        sig = found if found is not None else (signature(article.text) or b"")
        if pk in grouped:
            refresh[pk] = sig
        else:
            new.append(_New(pk, source_id, article.first_seen, sig))
    if refresh:
        _refresh(conn, refresh)
    if new:
        place(conn, new, threshold)


def place(conn: Connection, batch: Sequence[_New], threshold: float) -> None:
    """Give each article of `batch` (in order) a story and store its signature and band keys."""
    keys = {item.pk: band_keys(item.sig) if item.sig else [] for item in batch}
    wanted = sorted({key for found in keys.values() for key in found})
    by_band: dict[int, list[int]] = {}
    for chunk in _chunks(wanted):
        query = select(story_bands.c.band, story_bands.c.article_pk).where(
            story_bands.c.band.in_(chunk)
        )
        for band, pk in conn.execute(query):
            by_band.setdefault(band, []).append(pk)
    candidates = _signatures(conn, sorted({pk for found in by_band.values() for pk in found}))
    sig_rows: list[dict[str, Any]] = []
    band_rows: list[dict[str, Any]] = []
    placed: list[dict[str, Any]] = []
    new_stories: dict[int, dict[str, Any]] = {}
    joined: dict[int, list[datetime]] = {}
    for item in batch:
        story = _best(item, keys[item.pk], by_band, candidates, threshold) or item.pk
        placed.append({"_pk": item.pk, "_story": story})
        if story == item.pk:
            new_stories[story] = {
                "id": story,
                "created": item.first_seen,
                "updated": item.first_seen,
                "size": 1,
            }
        elif story in new_stories:
            new_stories[story]["size"] += 1
            new_stories[story]["updated"] = max(new_stories[story]["updated"], item.first_seen)
        else:
            joined.setdefault(story, []).append(item.first_seen)
        if item.sig:
            candidates[item.pk] = (story, item.source_id, item.sig)
            sig_rows.append(
                {
                    "article_pk": item.pk,
                    "story_id": story,
                    "source_id": item.source_id,
                    "signature": item.sig,
                }
            )
            for key in keys[item.pk]:
                by_band.setdefault(key, []).append(item.pk)
                band_rows.append({"band": key, "article_pk": item.pk})
    if new_stories:
        conn.execute(insert(stories), list(new_stories.values()))
    if joined:
        latest = bindparam("_latest", type_=stories.c.updated.type)
        greatest = func.max if conn.dialect.name == "sqlite" else func.greatest
        conn.execute(
            update(stories)
            .where(stories.c.id == bindparam("_id"))
            .values(
                size=stories.c.size + bindparam("_added"),
                updated=greatest(stories.c.updated, latest),
            ),
            [
                {"_id": story, "_added": len(seen), "_latest": max(seen)}
                for story, seen in joined.items()
            ],
        )
    conn.execute(
        update(articles)
        .where(articles.c.pk == bindparam("_pk"))
        .values(story_id=bindparam("_story")),
        placed,
    )
    if sig_rows:
        conn.execute(insert(story_sigs), sig_rows)
    if band_rows:
        band_rows.sort(key=lambda row: row["band"])  # in key order: fewer B-tree pages touched
        conn.execute(insert(story_bands), band_rows)


def _best(
    item: _New,
    keys: list[int],
    by_band: Mapping[int, list[int]],
    candidates: Mapping[int, tuple[int, int, bytes]],
    threshold: float,
) -> int | None:
    """The story of the most similar candidate from another source, when similar enough."""
    best: tuple[float, int] | None = None
    seen: set[int] = set()
    for key in keys:
        for pk in by_band.get(key, ()):
            if pk in seen or pk not in candidates:
                continue
            seen.add(pk)
            story, source, sig = candidates[pk]
            if source == item.source_id:
                continue  # a source repeating itself is not a repost
            score = similarity(item.sig, sig)
            if score >= threshold and (best is None or (score, -story) > (best[0], -best[1])):
                best = (score, story)
    return None if best is None else best[1]


def _grouped(conn: Connection, pks: list[int]) -> set[int]:
    """The pks among `pks` that already belong to a story."""
    found: set[int] = set()
    for chunk in _chunks(pks):
        query = select(articles.c.pk).where(
            articles.c.pk.in_(chunk), articles.c.story_id.is_not(None)
        )
        found.update(conn.execute(query).scalars())
    return found


def _refresh(conn: Connection, sigs: Mapping[int, bytes]) -> None:
    """Replace the signatures and band keys of articles that keep their story."""
    old = _signatures(conn, list(sigs))
    stale = [{"_band": key, "_pk": pk} for pk, (_, _, sig) in old.items() for key in band_keys(sig)]
    if stale:
        conn.execute(
            delete(story_bands).where(
                story_bands.c.band == bindparam("_band"),
                story_bands.c.article_pk == bindparam("_pk"),
            ),
            stale,
        )
    for chunk in _chunks(list(old)):
        conn.execute(delete(story_sigs).where(story_sigs.c.article_pk.in_(chunk)))
    placed = {pk: (story, source) for pk, (story, source, _) in old.items()}
    missing = [pk for pk, sig in sigs.items() if sig and pk not in old]
    for chunk in _chunks(missing):  # too short before: story and source from the article row
        query = select(articles.c.pk, articles.c.story_id, articles.c.source_id).where(
            articles.c.pk.in_(chunk)
        )
        placed.update((row.pk, (row.story_id, row.source_id)) for row in conn.execute(query))
    rows: list[dict[str, Any]] = []
    band_rows: list[dict[str, Any]] = []
    for pk, sig in sigs.items():
        if sig and pk in placed:
            story, source = placed[pk]
            rows.append(
                {"article_pk": pk, "story_id": story, "source_id": source, "signature": sig}
            )
            band_rows += [{"band": key, "article_pk": pk} for key in band_keys(sig)]
    if rows:
        conn.execute(insert(story_sigs), rows)
        conn.execute(insert(story_bands), band_rows)


def _signatures(conn: Connection, pks: list[int]) -> dict[int, tuple[int, int, bytes]]:
    """Article pk -> (story id, source id, signature) of the fingerprinted ones among `pks`."""
    found: dict[int, tuple[int, int, bytes]] = {}
    for chunk in _chunks(pks):
        query = select(
            story_sigs.c.article_pk,
            story_sigs.c.story_id,
            story_sigs.c.source_id,
            story_sigs.c.signature,
        ).where(story_sigs.c.article_pk.in_(chunk))
        for row in conn.execute(query):
            found[row.article_pk] = (row.story_id, row.source_id, bytes(row.signature))
    return found


# ---------------------------------------------------------------- feeds


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
    from aggregator.store_rows import article_from_row

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


def rebuild(engine: Engine, threshold: float, *, batch: int = BATCH) -> tuple[int, int]:
    """Forget every story and group all articles again in stored order; (articles, stories).

    Each batch is its own transaction; the first one clears the old stories. Representatives
    stay the first stored article of each group, so item ids change only for groups that
    split or merge under a new threshold.
    """
    with transaction(engine, "clearing stories", write=True) as conn:
        conn.execute(delete(story_bands))
        conn.execute(delete(story_sigs))
        conn.execute(delete(stories))
        conn.execute(update(articles).values(story_id=None))
        conn.execute(
            update(meta).where(meta.c.key == "data_version").values(value=meta.c.value + 1)
        )
    last = 0
    seen = 0
    while True:
        with transaction(engine, "grouping stories", write=True) as conn:
            rows = conn.execute(
                select(articles.c.pk, articles.c.source_id, articles.c.first_seen, articles.c.text)
                .where(articles.c.pk > last)
                .order_by(articles.c.pk)
                .limit(batch)
            ).all()
            if not rows:
                break
            place(
                conn,
                [_New(r.pk, r.source_id, r.first_seen, signature(r.text) or b"") for r in rows],
                threshold,
            )
            last = rows[-1].pk
            seen += len(rows)
    with transaction(engine, "counting stories", write=False) as conn:
        count = int(conn.execute(select(func.count()).select_from(stories)).scalar_one())
    return seen, count


def _chunks(keys: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]
