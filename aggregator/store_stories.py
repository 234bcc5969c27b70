"""Joining articles to stories: the LSH lookup, the decision, and the writes; and `rebuild`.

    join_stories(conn, source_id, batch, pks, fingerprints, threshold)   in save_update's
                transaction, after the articles are written:
        new articles   place(): for the whole batch at once,
                       1. band keys of every new article (fingerprint.band_keys)
                       2. the stored articles under each of those keys: one indexed query
                          per 500 keys in story_bands for the whole batch (a key holds
                          PER_BAND at most, see 5, so at most 42 x PER_BAND rows an article)
                       3. per article, the VERIFY stored articles sharing most of its keys,
                          counted and ranked here, and their signatures (story_signatures,
                          by primary key)
                       4. per article in order: the most similar candidate from another
                          source at or above `threshold` gives its story; none: the article
                          starts a story of its own (story id = its own key). Articles of
                          the same batch are candidates for each other.
                       5. insert stories, update joined ones' size and date, set
                          articles.story_id, insert signatures and band keys (executemany);
                          a key that already has PER_BAND articles is full and gains no row
                          (the article is still found by its other keys)
        changed ones   keep their story; their signature and band keys are replaced
    rebuild(engine, threshold)   forget every story and group all articles again, in the
                                 order they were stored, BATCH per transaction

The work per article is bounded (42 keys, at most 42 x PER_BAND index entries read, VERIFY
signatures read and compared), whatever a key is shared by (the copies of a story reposted by
hundreds of sites, boilerplate common to a class of texts), and no query scans a table, so a
join costs about the same at 10,000 and at 1,000,000 stored articles. A story's id is the key
of its first stored article, its representative (see store_story_read).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from heapq import nlargest
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from aggregator.fingerprint import band_keys, signature, similarity
from aggregator.models import Article, StorySettings
from aggregator.schema import articles, meta, stories, story_bands, story_sigs
from aggregator.store_engine import transaction

DEFAULT_THRESHOLD = StorySettings().threshold
"""Estimated Jaccard similarity at or above which an article joins a story (see
docs/benchmarks.md for the sweep on the labelled set that chose it)."""
PER_BAND = 10
"""Articles indexed under one band key at most: a full key gains no more rows."""
VERIFY = 10
"""Candidates whose signature is compared per new article at most, those sharing most keys."""
BATCH = 1000
"""Articles grouped per transaction by `rebuild`."""

_CHUNK = 500  # keys per IN (...) list


@dataclass(frozen=True)
class NewArticle:
    """A stored article to place in a story: from `join_stories` or `rebuild` to `place`."""

    pk: int
    source_id: int
    first_seen: datetime
    sig: bytes  # empty when the text is too short to fingerprint


@dataclass(frozen=True)
class _Candidate:
    """A fingerprinted article an article may join."""

    story: int
    source_id: int
    sig: bytes


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
    grouped = _grouped(conn, list(changed))  # changed articles that already have a story
    new: list[NewArticle] = []
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
            new.append(NewArticle(pk, source_id, article.first_seen, sig))
    if refresh:
        _refresh(conn, refresh)
    if new:
        place(conn, new, threshold)


def place(conn: Connection, batch: Sequence[NewArticle], threshold: float) -> None:
    """Give each article of `batch` (in order) a story and store its signature and band keys."""
    keys = {item.pk: band_keys(item.sig) if item.sig else [] for item in batch}
    indexed = _indexed(conn, sorted({key for found in keys.values() for key in found}))
    stored = {key: len(pks) for key, pks in indexed.items()}
    ranked = {item.pk: _ranked(keys[item.pk], indexed) for item in batch}
    candidates = _signatures(conn, sorted({pk for found in ranked.values() for pk in found}))
    added: dict[int, list[int]] = {}  # band key -> articles of this batch indexed under it
    sig_rows: list[dict[str, Any]] = []
    band_rows: list[tuple[int, int]] = []
    placed: list[dict[str, Any]] = []
    new_stories: dict[int, dict[str, Any]] = {}
    joined: dict[int, list[datetime]] = {}
    for item in batch:
        mates = _ranked(keys[item.pk], added) if added else []
        story = _best(item, mates + ranked[item.pk], candidates, threshold) or item.pk
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
        if item.sig:  # a candidate for the rest of the batch, and stored for later ones
            candidates[item.pk] = _Candidate(story, item.source_id, item.sig)
            sig_rows.append(
                {
                    "article_pk": item.pk,
                    "story_id": story,
                    "source_id": item.source_id,
                    "signature": item.sig,
                }
            )
            for key in keys[item.pk]:
                mine = added.get(key, ())
                if stored.get(key, 0) + len(mine) < PER_BAND:
                    added[key] = [*mine, item.pk]
                    band_rows.append((key, item.pk))
    if new_stories:
        conn.execute(insert(stories), list(new_stories.values()))
    if joined:
        _grow(conn, joined)
    conn.execute(
        update(articles)
        .where(articles.c.pk == bindparam("_pk"))
        .values(story_id=bindparam("_story")),
        placed,
    )
    if sig_rows:
        conn.execute(insert(story_sigs), sig_rows)
    _insert_bands(conn, band_rows)


def _indexed(conn: Connection, keys: list[int]) -> dict[int, list[int]]:
    """Band key -> the stored articles indexed under it (PER_BAND at most, give or take the
    articles of transactions that filled a key at the same time): one indexed query per 500
    keys for the whole batch, so the rows read are bounded by PER_BAND a key."""
    found: dict[int, list[int]] = {}
    band, pk, table = story_bands.c.band.name, story_bands.c.article_pk.name, story_bands.name
    for chunk in _chunks(keys):  # plain SQL: the rows straight from the driver
        marks = ", ".join([_mark(conn)] * len(chunk))
        query = f"SELECT {band}, {pk} FROM {table} WHERE {band} IN ({marks})"
        for key, article in conn.exec_driver_sql(query, tuple(chunk)):
            found.setdefault(key, []).append(article)
    return found


def _ranked(keys: list[int], by_band: Mapping[int, Sequence[int]]) -> list[int]:
    """The VERIFY articles sharing most of `keys` (newest first among equals)."""
    shared = Counter(pk for key in keys for pk in by_band.get(key, ()))
    return [pk for pk, _ in nlargest(VERIFY, shared.items(), key=lambda found: found[::-1])]


def _best(
    item: NewArticle,
    ranked: list[int],
    candidates: Mapping[int, _Candidate],
    threshold: float,
) -> int | None:
    """The story of the most similar candidate from another source, when similar enough."""
    best: tuple[float, int] | None = None
    for pk in ranked:
        found = candidates.get(pk)
        if found is None or found.source_id == item.source_id:
            continue  # not fingerprinted, or a source repeating itself (not a repost)
        score = similarity(item.sig, found.sig)
        if score >= threshold and (best is None or (score, -found.story) > (best[0], -best[1])):
            best = (score, found.story)
    return None if best is None else best[1]


def _grow(conn: Connection, joined: Mapping[int, list[datetime]]) -> None:
    """Add the members that joined stored stories to their size and latest date."""
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
    stale = [{"_band": key, "_pk": pk} for pk, found in old.items() for key in band_keys(found.sig)]
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
    placed = {pk: (found.story, found.source_id) for pk, found in old.items()}
    missing = [pk for pk, sig in sigs.items() if sig and pk not in old]
    for chunk in _chunks(missing):  # too short before: story and source from the article row
        query = select(articles.c.pk, articles.c.story_id, articles.c.source_id).where(
            articles.c.pk.in_(chunk)
        )
        placed.update((row.pk, (row.story_id, row.source_id)) for row in conn.execute(query))
    rows: list[dict[str, Any]] = []
    band_rows: list[tuple[int, int]] = []
    for pk, sig in sigs.items():
        if sig and pk in placed:
            story, source = placed[pk]
            rows.append(
                {"article_pk": pk, "story_id": story, "source_id": source, "signature": sig}
            )
            band_rows += [(key, pk) for key in band_keys(sig)]
    if rows:
        conn.execute(insert(story_sigs), rows)
    _insert_bands(conn, band_rows)


def _insert_bands(conn: Connection, rows: list[tuple[int, int]]) -> None:
    """Insert (band key, article pk) rows, in key order (fewer B-tree pages touched).

    42 rows an article: plain tuples straight to the driver's executemany, about ten times
    faster than SQLAlchemy's insert() with a dict per row.
    """
    if not rows:
        return
    rows.sort()
    mark = _mark(conn)
    conn.exec_driver_sql(
        f"INSERT INTO {story_bands.name} ({story_bands.c.band.name}, "
        f"{story_bands.c.article_pk.name}) VALUES ({mark}, {mark})",
        rows,
    )


def _mark(conn: Connection) -> str:
    """The driver's positional parameter marker, for the plain SQL above."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _signatures(conn: Connection, pks: list[int]) -> dict[int, _Candidate]:
    """Article pk -> its story, source and signature, for the fingerprinted ones of `pks`."""
    found: dict[int, _Candidate] = {}
    for chunk in _chunks(pks):
        query = select(
            story_sigs.c.article_pk,
            story_sigs.c.story_id,
            story_sigs.c.source_id,
            story_sigs.c.signature,
        ).where(story_sigs.c.article_pk.in_(chunk))
        for row in conn.execute(query):
            found[row.article_pk] = _Candidate(row.story_id, row.source_id, bytes(row.signature))
    return found


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
            found = [
                NewArticle(r.pk, r.source_id, r.first_seen, signature(r.text) or b"") for r in rows
            ]
            place(conn, found, threshold)
            last = rows[-1].pk
            seen += len(rows)
    with transaction(engine, "counting stories", write=False) as conn:
        count = int(conn.execute(select(func.count()).select_from(stories)).scalar_one())
    return seen, count


def _chunks(keys: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]
