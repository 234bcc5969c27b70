"""Load the generated search corpus into PostgreSQL (for bench/search.py --pg-url).

The schema comes from a real Store; articles and topic matches go in with COPY, the search
rows with INSERT ... SELECT from a staging table (to_tsvector runs in the server), as
store_search writes them. Kept when the database already holds the same number of generated
articles indexed with the current tokens.
"""

from __future__ import annotations

import time

import psycopg
import sqlalchemy

from bench.search_corpus import SOURCES, START, _rows, spans


def build_postgres(url: str, n: int) -> None:
    """Fill the database at `url` (SQLAlchemy form) with `n` generated articles."""
    from aggregator.models import SourceConfig
    from aggregator.searchtext import TOKENS_VERSION
    from aggregator.store import Store

    plain = sqlalchemy.make_url(url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(plain, autocommit=True) as conn:
        have = conn.execute("SELECT to_regclass('articles')").fetchone()
        if have and have[0]:
            count = conn.execute("SELECT count(*) FROM articles").fetchone()
            tokens = conn.execute("SELECT value FROM meta WHERE key = 'search_tokens'").fetchone()
            if count and count[0] == n and tokens and tokens[0] == TOKENS_VERSION:
                return
            conn.execute("DROP SCHEMA public CASCADE")  # a database of its own: start over
            conn.execute("CREATE SCHEMA public")
    store = Store(url)
    store.sync_sources(
        [SourceConfig(f"s{i:04}", f"https://s{i:04}.example/feed") for i in range(SOURCES)],
        START,
    )
    store.close()
    started = time.perf_counter()
    with psycopg.connect(plain) as conn:
        conn.execute("CREATE TEMP TABLE staging (pk integer, title text, body text, tags text)")
        for span in spans(n):
            rows = _rows(span)
            with conn.cursor().copy(
                "COPY articles (pk, source_id, article_id, url, title, summary, content, text,"
                " authors, tags, enclosures, published, first_seen, date_is_first_seen,"
                " language, content_hash) FROM STDIN"
            ) as copy:
                for r in rows:
                    copy.write_row(
                        (r[0], r[1], r[2], r[2], r[3], r[4], r[5], r[6], "[]", "[]", "[]",
                         r[7] + "+00", r[7] + "+00", False, r[8], r[9])
                    )  # fmt: skip
            with conn.cursor().copy(
                "COPY article_topics (article_pk, topic, score, terms) FROM STDIN"
            ) as copy:
                for r in rows:
                    for topic in r[10]:  # type: ignore[attr-defined]
                        copy.write_row((r[0], topic, 3.0, "[]"))
            with conn.cursor().copy("COPY staging (pk, title, body, tags) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row((r[0], r[11], r[12], r[13]))
            conn.execute(
                "INSERT INTO article_search (article_pk, doc) SELECT pk,"
                " setweight(to_tsvector('simple', title), 'A')"
                " || setweight(to_tsvector('simple', body), 'B')"
                " || setweight(array_to_tsvector(string_to_array(tags, ' ')), 'D') FROM staging"
            )
            conn.execute("TRUNCATE staging")
            conn.commit()
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('articles', 'pk'), max(pk)) FROM articles"
        )
        conn.commit()
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    seconds = time.perf_counter() - started
    print(f"\nPostgreSQL: {n:,} articles loaded in {seconds:.0f} s;"
          f" database {size[0] / 1e6 if size else 0:.0f} MB,"
          f" {(size[0] if size else 0) / n * 1000 / 1e6:.2f} MB per 1,000 articles")  # fmt: skip
