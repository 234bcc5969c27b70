"""Opening the database and running transactions; the door where SQLAlchemy errors become ours.

open_engine(url)        engine with SQLite tuned (WAL, synchronous=NORMAL, foreign keys,
                        busy timeout; the file's folder created) or PostgreSQL as is
ensure_schema(conn)     at open: a new database is created at the head revision, any other
                        must be at head (see store_migrate; `aggregator db upgrade`)
transaction(engine, …)  one transaction; SQLite writers take the write lock up front
                        (BEGIN IMMEDIATE) so the busy timeout applies; any database
                        error leaves as `StorageError(operation, reason)`
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from aggregator.errors import StorageError

_WRITE = "aggregator_write"


def describe(url: str) -> str:
    """The URL fit for a message: no password, and for SQLite just the file."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def reason_of(exc: BaseException) -> str:
    """One line saying what the database said."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def open_engine(url: str, busy_timeout: float) -> Engine:
    """Create the engine for `url`; raises StorageError for a URL or file we cannot use."""
    where = f"opening database {describe(url)}"
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(where, "not a database URL") from exc
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(url, parsed.database, busy_timeout, where)
        if backend == "postgresql":
            # the busy timeout's counterpart: give up waiting for a lock after that long
            options = f"{parsed.query.get('options', '')} -c lock_timeout={_ms(busy_timeout)}"
            connect_args = {"options": options.strip()}
            return create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except NoSuchModuleError as exc:
        raise StorageError(where, f"no driver for {parsed.drivername}") from exc
    except (SQLAlchemyError, ImportError) as exc:
        raise StorageError(where, reason_of(exc)) from exc
    raise StorageError(where, f"unsupported database {backend!r} (use sqlite or postgresql)")


def _sqlite_engine(url: str, database: str | None, busy_timeout: float, where: str) -> Engine:
    memory = not database or database == ":memory:" or database.startswith("file::memory:")
    if not memory and database is not None:
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(where, f"cannot create its folder: {exc.strerror}") from exc
    engine = create_engine(url, connect_args={"timeout": busy_timeout})
    timeout_ms = _ms(busy_timeout)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the driver (see _on_begin) and tune the connection.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers lock up front: a deferred transaction that reads and then writes can fail
        # at once with "database is locked" when another writer went first.
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _ms(seconds: float) -> int:
    return max(0, int(seconds * 1000))


@contextmanager
def transaction(engine: Engine, operation: str, *, write: bool) -> Iterator[Connection]:
    """One transaction, committed at the end; a database error becomes StorageError."""
    try:
        with engine.connect() as conn:
            if write:
                conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn
    except SQLAlchemyError as exc:
        raise StorageError(operation, reason_of(exc)) from exc


def ensure_schema(conn: Connection, where: str) -> None:
    """Create a new database at the head revision; refuse one that is not at head."""
    from aggregator.store_migrate import ensure_current  # it builds on this module

    ensure_current(conn, where)
