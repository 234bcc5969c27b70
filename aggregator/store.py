"""The database: sources, articles and topic matches. The only place that runs queries.

Every public method of `Store` is one transaction. An update pass stores one source like this:

    save_update(source, state, articles, matches)
        UPDATE the source's fetch state          (a 304 pass writes only this)
        SELECT stored (id, hash, dates) of the batch's article ids
        INSERT new articles                       (one executemany; then their keys are
                                                   read back when there are matches)
        UPDATE changed ones, keeping first_seen   (one executemany; unchanged: no write)
        replace the topic matches of new and changed articles
        bump the data version when anything changed

SQLite and PostgreSQL run the same statements; database errors leave as `StorageError`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    bindparam,
    func,
    insert,
    select,
    update,
)

from aggregator.errors import StorageError
from aggregator.models import Article, FeedItem, Source, SourceConfig, SourceState, TopicMatch
from aggregator.schema import article_topics, articles, meta, sources
from aggregator.searchtext import SearchDoc
from aggregator.store_decide import config_changes, mark_removed, new_source, split_batch, unique
from aggregator.store_engine import describe, ensure_schema, open_engine, transaction
from aggregator.store_feed import topic_items
from aggregator.store_health import HealthQueries
from aggregator.store_known import KnownArticles
from aggregator.store_leases import Leases, one_sync_at_a_time
from aggregator.store_rows import (
    article_from_row,
    match_from_row,
    source_from_row,
)
from aggregator.store_search import SearchIndex, write_index
from aggregator.store_stories import DEFAULT_THRESHOLD, join_stories
from aggregator.store_story_read import StoryQueries
from aggregator.store_write import (
    STATE_UPDATE,
    article_query,
    bump,
    chunks,
    replace_matches,
    state_row,
    stored_keys,
    update_grouped,
    write_articles,
)

_article_count = (
    select(func.count())
    .where(articles.c.source_id == sources.c.id)
    .correlate(sources)
    .scalar_subquery()
    .label("article_count")
)


class Store:
    """The database: sources, articles, topic matches. Every method is one transaction."""

    def __init__(
        self, url: str, *, busy_timeout: float = 30.0, story_threshold: float = DEFAULT_THRESHOLD
    ) -> None:
        """Open (and create, if missing) the database at `url`; SQLite or PostgreSQL.

        `story_threshold`: the similarity at which a new article joins a story (see
        store_stories)."""
        self.story_threshold = story_threshold
        self._where = describe(url)
        self._engine = open_engine(url, busy_timeout)
        self._names: dict[int, str] = {}  # source id -> name, for error messages
        operation = f"opening database {self._where}"
        try:
            with transaction(self._engine, operation, write=True) as conn:
                ensure_schema(conn, operation)
        except StorageError:
            self._engine.dispose()
            raise
        self.search = SearchIndex(self._engine)  # full-text search; see store_search
        # which worker updates which source; see store_leases
        self.leases = Leases(self._engine, self._names)
        self.search.backfill()  # articles stored before the index existed, once

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"Store({self._where!r})"

    # ------------------------------------------------------------ sources

    def sync_sources(self, configs: Sequence[SourceConfig], now: datetime) -> None:
        """Make the stored sources follow the config.

        New sources are inserted, due at once; existing ones take the config's fields, and a
        changed config URL resets the fetch state (and lifts a fetch's disabling, e.g. 410).
        Sources no longer configured are disabled "removed from config" (articles kept) and
        come back when configured again; `enabled: false` disables "disabled in config".
        """
        with transaction(self._engine, "syncing sources", write=True) as conn:
            one_sync_at_a_time(conn)  # workers started together on PostgreSQL
            stored = {row["name"]: row for row in conn.execute(select(sources)).mappings()}
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            configured: set[str] = set()
            for config in configs:
                if config.name in configured:
                    continue
                configured.add(config.name)
                row = stored.get(config.name)
                if row is None:
                    inserts.append(new_source(config, now))
                elif changes := config_changes(row, config):
                    updates.append({"_id": row["id"], **changes})
            for name, row in stored.items():
                if name not in configured and (changes := mark_removed(row)):
                    updates.append({"_id": row["id"], **changes})
            if inserts:
                conn.execute(insert(sources), inserts)
            update_grouped(conn, updates)
            if inserts or updates:
                bump(conn)

    def sources(self) -> list[Source]:
        """All sources, ordered by name, with their article counts."""
        query = select(sources, _article_count).order_by(sources.c.name)
        return self._read_sources("reading sources", query)

    def source(self, name: str) -> Source | None:
        """The source called `name`, or None."""
        query = select(sources, _article_count).where(sources.c.name == name)
        found = self._read_sources(f"reading source {name}", query)
        return found[0] if found else None

    def due_sources(
        self, now: datetime, names: Sequence[str] | None = None, everything: bool = False
    ) -> list[Source]:
        """Enabled sources due at `now` (all enabled ones with `everything`), soonest first."""
        query = select(sources, _article_count).where(sources.c.enabled)
        if not everything:
            query = query.where(
                sources.c.next_fetch_at.is_(None) | (sources.c.next_fetch_at <= now)
            )
        if names is not None:
            query = query.where(sources.c.name.in_(list(names)))
        query = query.order_by(sources.c.next_fetch_at.asc().nulls_first(), sources.c.name)
        return self._read_sources("selecting due sources", query)

    def schedule_new_sources(self, first_due: Callable[[list[str]], Sequence[datetime]]) -> int:
        """Give enabled sources without a due time one: `first_due(their names, sorted)`
        returns each one's time. Returns how many were scheduled."""
        query = select(sources.c.id, sources.c.name).where(
            sources.c.enabled, sources.c.next_fetch_at.is_(None)
        )
        with transaction(self._engine, "scheduling new sources", write=True) as conn:
            found = conn.execute(query.order_by(sources.c.name)).all()
            if found:
                times = first_due([row.name for row in found])
                due = [{"_id": r.id, "next_fetch_at": t} for r, t in zip(found, times, strict=True)]
                conn.execute(update(sources).where(sources.c.id == bindparam("_id")), due)
        return len(found)

    def due_now(self, now: datetime, skip: Collection[int] = ()) -> list[Source]:
        """Enabled sources due at `now`, soonest first, except those in `skip`; no article counts.

        The daemon's every-tick query: one indexed range query for the due ids (sorted here:
        an ORDER BY would make SQLite scan the whole index), then the rows of only those not
        skipped (already in flight), in one read transaction.
        """
        due = sources.c.next_fetch_at.is_(None) | (sources.c.next_fetch_at <= now)
        query = select(sources.c.id, sources.c.next_fetch_at).where(sources.c.enabled, due)
        with transaction(self._engine, "selecting due sources", write=False) as conn:
            found = [(at is not None, at, pk) for pk, at in conn.execute(query) if pk not in skip]
            wanted = [pk for _, _, pk in sorted(found)]
            rows: dict[int, Source] = {}
            for chunk in chunks(wanted):
                chosen = conn.execute(select(sources).where(sources.c.id.in_(chunk)))
                rows.update((row.id, source_from_row(row._mapping)) for row in chosen)
        self._names.update((pk, source.name) for pk, source in rows.items())
        return [rows[pk] for pk in wanted if pk in rows]

    def _read_sources(self, operation: str, query: Select[Any]) -> list[Source]:
        with transaction(self._engine, operation, write=False) as conn:
            found = [source_from_row(row._mapping) for row in conn.execute(query)]
        self._names.update((s.id, s.name) for s in found)
        return found

    def save_update(
        self,
        source_id: int,
        state: SourceState,
        articles: Sequence[Article],
        matches: Mapping[str, Sequence[TopicMatch]] | None = None,
        search: Mapping[str, SearchDoc] | None = None,
        fingerprints: Mapping[str, bytes] | None = None,
    ) -> tuple[int, int]:
        """Store one pass over one source in one transaction; returns (new, updated).

        `matches` maps Article.id to its topic matches; when given, the matches of every new
        or changed article are replaced (an article missing from it gets none). When None,
        stored matches are left as they are. `search` maps Article.id to its search tokens
        (made here for an article missing from it). `fingerprints` maps Article.id to its
        similarity signature (likewise); new articles join or start stories (see store_stories).
        """
        operation = f"saving source {self._names.get(source_id, f'#{source_id}')}"
        with transaction(self._engine, operation, write=True) as conn:
            lease = self.leases.params(source_id)
            name = conn.execute(
                STATE_UPDATE.returning(sources.c.name), state_row(source_id, state, lease)
            ).scalar()
            if name is None:
                raise StorageError(operation, self.leases.refusal(conn, source_id))
            self.leases.written([source_id])
            self._names[source_id] = name
            batch = unique(articles)
            stored = stored_keys(conn, source_id, [a.id for a in batch])
            new, changed = split_batch(source_id, batch, stored)
            if not new and not changed:
                return 0, 0
            pks = write_articles(conn, source_id, new, changed, want_pks=True)
            write_index(conn, source_id, pks, batch, search, [row["_pk"] for row in changed])
            join_stories(
                conn,
                source_id,
                batch,
                pks,
                fingerprints,
                self.story_threshold,
                changed=[row["_pk"] for row in changed],
            )
            if matches is not None:
                replace_matches(
                    conn,
                    {pk: matches.get(article_id, ()) for article_id, pk in pks.items()},
                    existing=[row["_pk"] for row in changed],
                )
            bump(conn)
            return len(new), len(changed)

    def save_states(self, states: Sequence[tuple[int, SourceState]]) -> None:
        """Write the states of passes that brought no articles (304s, failures) together."""
        if not states:
            return
        rows = [state_row(pk, state, self.leases.params(pk)) for pk, state in states]
        with transaction(self._engine, "saving source states", write=True) as conn:
            conn.execute(STATE_UPDATE, rows)
        self.leases.written(pk for pk, _ in states)  # a state whose lease was lost is dropped

    # ------------------------------------------------------------ articles

    def articles(self, source: str | None = None, limit: int = 50) -> list[Article]:
        """The newest `limit` articles (of one source, when named), newest first."""
        query = article_query().order_by(articles.c.published.desc(), articles.c.pk.desc())
        if source is not None:
            query = query.where(sources.c.name == source)
        with transaction(self._engine, "reading articles", write=False) as conn:
            rows = conn.execute(query.limit(limit)).mappings().all()
        return [article_from_row(row, row["source_name"]) for row in rows]

    def article(self, key: int | str) -> Article | None:
        """The article with database key `key`, or named "source/id"; None when absent."""
        query = article_query()
        if isinstance(key, int) or key.isdigit():
            query = query.where(articles.c.pk == int(key))
        elif "/" in key:
            source, _, article_id = key.partition("/")
            query = query.where(sources.c.name == source, articles.c.article_id == article_id)
        else:
            return None
        with transaction(self._engine, f"reading article {key}", write=False) as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else article_from_row(row, row["source_name"])

    def iter_articles(self, batch: int = 1000) -> Iterator[list[Article]]:
        """Every article in key order, `batch` at a time (each batch its own transaction)."""
        last = 0
        while True:
            query = article_query().where(articles.c.pk > last).order_by(articles.c.pk)
            with transaction(self._engine, "reading articles", write=False) as conn:
                rows = conn.execute(query.limit(batch)).mappings().all()
            if not rows:
                return
            yield [article_from_row(row, row["source_name"]) for row in rows]
            last = rows[-1]["pk"]

    def replace_matches(self, matches: Mapping[int, Sequence[TopicMatch]]) -> None:
        """Replace the topic matches of the articles keyed (by pk) in `matches`."""
        if not matches:
            return
        with transaction(self._engine, "saving topic matches", write=True) as conn:
            replace_matches(conn, matches, existing=list(matches))
            bump(conn)

    def matches(self, pk: int) -> list[TopicMatch]:
        """The topic matches of article `pk`, best first."""
        query = (
            select(article_topics)
            .where(article_topics.c.article_pk == pk)
            .order_by(article_topics.c.score.desc(), article_topics.c.topic)
        )
        with transaction(self._engine, f"reading topics of article {pk}", write=False) as conn:
            return [match_from_row(row._mapping) for row in conn.execute(query)]

    def topic_items(
        self,
        topic: str | None,
        limit: int,
        *,
        since: datetime | None = None,
        one_per_story: bool = True,
    ) -> list[FeedItem]:
        """The newest `limit` articles of `topic` (None: of all), with sources and matches.

        `since` keeps only articles published at or after it. `one_per_story` (what feeds
        show) keeps only each story's representative, with its story's other sources.
        """
        with transaction(self._engine, f"reading topic {topic or '(all)'}", write=False) as conn:
            return topic_items(conn, topic, limit, since=since, one_per_story=one_per_story)

    # ------------------------------------------------------------ status

    @property
    def stories(self) -> StoryQueries:
        """The story listing and rebuild behind `aggregator stories` (see store_story_read)."""
        return StoryQueries(self._engine, self.story_threshold)

    @property
    def health(self) -> HealthQueries:
        """The read-only queries behind `status` and `/metrics` (see store_health)."""
        return HealthQueries(self._engine)

    @property
    def known(self) -> KnownArticles:
        """Which articles a source has stored, for page passes (see store_known)."""
        return KnownArticles(self._engine)

    def data_version(self) -> int:
        """A counter bumped by every transaction that changes articles, matches or sources."""
        query = select(meta.c.value).where(meta.c.key == "data_version")
        with transaction(self._engine, "reading data version", write=False) as conn:
            return int(conn.execute(query).scalar_one())

    def stats(self) -> dict[str, int]:
        """How many sources, articles and topic matches are stored."""
        with transaction(self._engine, "counting rows", write=False) as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                for name, table in (
                    ("sources", sources),
                    ("articles", articles),
                    ("matches", article_topics),
                )
            }
