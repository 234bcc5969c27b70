"""Search candidates and their ranking: the queries `store_search.SearchIndex.search` runs.

filters     source and language become index tokens (searchtags), a date range the
            tokens of the days it covers (an open end closed by the stored articles'
            oldest or newest date); the topic and the exact times are joined
SQLite      FTS5 MATCH of the words AND the filter tokens, read newest first (by article
            key), at most CANDIDATES; scored by searchtext.rank_scores over their tokens
PostgreSQL  the same match as a tsquery, the filter tokens ANDed in; the words alone are
            first read newest first by key over the newest SCAN_WINDOW articles (enough
            for a common word), then (or with filter tokens, at once) through the GIN
            index; the candidates ranked by ts_rank of the words (title A, body B)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, TextClause, bindparam, func, select, text

from aggregator.schema import UTCDateTime, articles, sources
from aggregator.schema_search import TABLE
from aggregator.searchtags import date_tokens, days_of, language_token, source_token
from aggregator.searchtext import SearchQuery, rank_scores

if TYPE_CHECKING:
    from aggregator.store_search import SearchFilters

CANDIDATES = 500
"""Matches ranked per query at most: the newest ones (by article key) that pass the filters."""
TITLE_WEIGHT = 4.0
SCAN_WINDOW = 5_000
"""PostgreSQL: the newest articles read in key order before the GIN index is asked."""


@dataclass(frozen=True)
class FilterTokens:
    """The index tokens a filtered search's matches carry: all of `required`, one of `dates`."""

    required: tuple[str, ...]
    dates: tuple[str, ...]


def ranked(
    conn: Connection, query: SearchQuery, filters: SearchFilters, limit: int
) -> list[tuple[int, float]]:
    """(pk, score) of the best matches, best first."""
    tokens = _filter_tokens(conn, filters)
    if tokens is None:
        return []
    joins: list[str] = []
    wheres: list[str] = []
    params: dict[str, Any] = {}
    key = "s.article_pk" if conn.dialect.name == "postgresql" else "s.rowid"
    # SQLite: CROSS JOIN keeps the index first, read newest first, each filter a key lookup
    cross = "JOIN" if conn.dialect.name == "postgresql" else "CROSS JOIN"
    if filters.topic is not None:
        joins.append(f"{cross} article_topics AS t ON t.article_pk = {key} AND t.topic = :topic")
        params["topic"] = filters.topic
    if filters.since is not None or filters.until is not None:
        joins.append(f"{cross} articles AS a ON a.pk = {key}")
    if filters.since is not None:
        wheres.append("a.published >= :since")
        params["since"] = filters.since
    if filters.until is not None:
        wheres.append("a.published < :until")
        params["until"] = filters.until
    tail = f"{' '.join(joins)} WHERE {{condition}}{''.join(f' AND {w}' for w in wheres)}"
    if conn.dialect.name == "postgresql":
        return _postgres(conn, query, tokens, f"FROM {TABLE} AS s {tail}", params, limit)
    return _sqlite(conn, query, tokens, f"FROM {TABLE} AS s {tail}", params, limit)


def _filter_tokens(conn: Connection, filters: SearchFilters) -> FilterTokens | None:
    """The filters' index tokens; None when nothing can pass them."""
    required = []
    if filters.source is not None:
        found = conn.execute(select(sources.c.id).where(sources.c.name == filters.source))
        source_id = found.scalar()
        if source_id is None:
            return None
        required.append(source_token(source_id))
    if filters.language is not None:
        language = language_token(filters.language)
        if language is None:
            return None
        required.append(language)
    dates: list[str] | None = []
    if filters.since is not None or filters.until is not None:
        days = _days(conn, filters.since, filters.until)
        if days is None:
            return None
        dates = date_tokens(*days)
    return FilterTokens(tuple(required), tuple(dates or ()))


def _days(
    conn: Connection, since: datetime | None, until: datetime | None
) -> tuple[date, date] | None:
    """The UTC days of a date filter, an open end closed by the stored articles' dates."""
    if since is None:
        since = conn.execute(select(func.min(articles.c.published))).scalar()
    if until is None:
        newest = conn.execute(select(func.max(articles.c.published))).scalar()
        until = None if newest is None else newest + timedelta(seconds=1)
    if since is None or until is None:  # no articles
        return None
    return days_of(since.astimezone(UTC), until.astimezone(UTC))


def _sqlite(
    conn: Connection,
    query: SearchQuery,
    tokens: FilterTokens,
    tail: str,
    params: dict[str, Any],
    limit: int,
) -> list[tuple[int, float]]:
    """FTS5: the newest candidates, scored here (FTS5's bm25() reads every match first)."""
    match = f"({query.fts5()})" + "".join(f' AND "{token}"' for token in tokens.required)
    if tokens.dates:
        match += " AND (" + " OR ".join(f'"{token}"' for token in tokens.dates) + ")"
    params.update(match=match, window=CANDIDATES)
    condition = f"{TABLE} MATCH :match"
    source = tail.replace("{condition}", condition)
    sql = f"SELECT s.rowid, s.title, s.body {source} ORDER BY s.rowid DESC LIMIT :window"
    rows = conn.execute(_dated(sql, params), params).all()
    titles = [row[1] for row in rows]
    bodies = [row[2] for row in rows]
    scores = rank_scores(query, titles, bodies, title_weight=TITLE_WEIGHT)
    scored = sorted(zip((int(row[0]) for row in rows), scores, strict=True), key=_best)
    return scored[:limit]


def _postgres(
    conn: Connection,
    query: SearchQuery,
    tokens: FilterTokens,
    tail: str,
    params: dict[str, Any],
    limit: int,
) -> list[tuple[int, float]]:
    """tsvector @@ tsquery: the newest candidates by key, then ranked by ts_rank."""
    params["match"] = query.tsquery()
    condition = "s.doc @@ to_tsquery('simple', :match)"
    if tokens.required or tokens.dates:
        parts = [f"'{token}'" for token in tokens.required]
        if tokens.dates:
            parts.append("(" + " | ".join(f"'{token}'" for token in tokens.dates) + ")")
        params["tags"] = " & ".join(parts)
        condition = "s.doc @@ (to_tsquery('simple', :match) && CAST(:tags AS tsquery))"
    newest = conn.execute(text(f"SELECT max(article_pk) FROM {TABLE}")).scalar()
    if newest is None:
        return []
    select_pks = f"SELECT s.article_pk {tail.replace('{condition}', condition)}"
    pks: list[int] = []
    params.update(floor=int(newest), window=CANDIDATES)
    if not params.get("tags"):  # the words alone: a common one is found among the newest
        params["floor"] = int(newest) - SCAN_WINDOW
        _planner(conn, bitmap=False)  # read by key, stop when enough
        sql = f"{select_pks} AND s.article_pk > :floor ORDER BY s.article_pk DESC LIMIT :window"
        pks = [int(row[0]) for row in conn.execute(_dated(sql, params), params)]
    if len(pks) < CANDIDATES:  # a rarer word, or filter tokens: the GIN index finds the rest
        _planner(conn, bitmap=True)
        params["window"] = CANDIDATES - len(pks)
        sql = f"{select_pks} AND s.article_pk <= :floor ORDER BY s.article_pk DESC LIMIT :window"
        pks += [int(row[0]) for row in conn.execute(_dated(sql, params), params)]
    _planner(conn, bitmap=None)
    if not pks:
        return []
    score = text(
        "SELECT article_pk, ts_rank(doc, to_tsquery('simple', :match)) AS score"
        f" FROM {TABLE} WHERE article_pk IN :pks ORDER BY score DESC, article_pk DESC LIMIT :limit"
    ).bindparams(bindparam("pks", expanding=True))
    rows = conn.execute(score, {"match": params["match"], "pks": pks, "limit": limit})
    return [(int(row[0]), float(row[1])) for row in rows]


def _planner(conn: Connection, *, bitmap: bool | None) -> None:
    """For this transaction: read by key (False), through the GIN index only (True), or as the
    planner likes (None). Its estimates for a tsquery are too rough to choose between them."""
    settings = {
        False: ("off", "on", "on"),
        True: ("on", "off", "off"),
        None: ("DEFAULT", "DEFAULT", "DEFAULT"),
    }[bitmap]
    names = ("enable_bitmapscan", "enable_indexscan", "enable_seqscan")
    for name, value in zip(names, settings, strict=True):
        conn.execute(text(f"SET LOCAL {name} = {value}"))


def _dated(sql: str, params: Mapping[str, Any]) -> TextClause:
    """`sql` as a statement, its date parameters bound as UTC times."""
    return text(sql).bindparams(
        *(bindparam(name, type_=UTCDateTime()) for name in ("since", "until") if name in params)
    )


def _best(hit: tuple[int, float]) -> tuple[float, int]:
    return -hit[1], -hit[0]
