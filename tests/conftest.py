"""Shared pytest fixtures. Add new fixtures in their own section with a one-line docstring."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy

from aggregator.store import Store
from tests.server import FeedServer

# ---------------------------------------------------------------- HTTP


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A fresh local HTTP server (tests/server.py) for one test, closed after it."""
    with FeedServer() as server:
        yield server


# ---------------------------------------------------------------- database (store)

TEST_DATABASE_ENV = "AGGREGATOR_TEST_DATABASE_URL"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with an empty database: a SQLite file, then PostgreSQL when configured.

    PostgreSQL runs in a fresh schema of the `AGGREGATOR_TEST_DATABASE_URL` database, dropped
    after the test; nothing outside it is touched.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db.sqlite'}"
        return
    yield from pg_schema_url(f"{TEST_DATABASE_ENV} not set")


def pg_schema_url(skip_reason: str) -> Iterator[str]:
    """A fresh schema in the AGGREGATOR_TEST_DATABASE_URL database as a URL, dropped after use;
    the test is skipped with `skip_reason` when the variable is unset. For fixtures."""
    base = os.environ.get(TEST_DATABASE_ENV)
    if not base:
        pytest.skip(skip_reason)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sqlalchemy.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A Store on `db_url` (every test using it runs on SQLite and, when set, PostgreSQL)."""
    opened = Store(db_url)
    yield opened
    opened.close()
