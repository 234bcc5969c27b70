"""Schema migrations: the Alembic revisions in aggregator/migrations, run on our own connections.

Where a database stands (`SchemaStatus.state`):

    new       none of our tables yet: opening it (any command) creates it at head
    legacy    made before migrations (our tables and a `schema_version` in meta, no revision):
              `upgrade` brings it to the baseline in place, keeping its rows, then to head
    behind    at an older revision: `upgrade` runs the revisions after it
    current   at head
    ahead     at a revision this program does not know: a newer release upgraded it
    foreign   tables named like ours that are not ours: refused, never altered

upgrade(url)            one transaction: lock (SQLite BEGIN IMMEDIATE; PostgreSQL an advisory
                        lock, so that processes starting together migrate once), read where the
                        database stands, run the revisions to head, on SQLite with foreign keys
                        off while batch operations rebuild tables and `foreign_key_check` before
                        the commit; then make the search index (schema_search)
ensure_current(conn)    at every open: the stored revision against the newest file name in
                        versions/ (no Alembic loaded when they match); a new database is made
                        by the revisions (and checked for every table and column of schema.py),
                        any other that is not at head is refused with one line
differences(conn)       what autogenerate finds between the database and schema.py (tests)

Alembic stays behind this module (and env.py and the revisions), imported only to migrate or
compare; its errors on a database leave as `StorageError` through `transaction`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex

from aggregator.errors import StorageError
from aggregator.schema import metadata
from aggregator.schema_search import TABLE as SEARCH_TABLE
from aggregator.schema_search import create_search_tables
from aggregator.store_engine import describe, open_engine, transaction

if TYPE_CHECKING:  # Alembic loads only to migrate or compare (about 0.2 s); opening needs none
    from alembic.config import Config
    from alembic.script import ScriptDirectory

SCRIPT_LOCATION = "aggregator:migrations"
"""The migration environment, found as package data (no alembic.ini)."""

OUR_TABLES = frozenset({"sources", "articles", "article_topics", "meta"})
"""Tables every release has made; finding some of them tells a database is not new."""

LAST_LEGACY_VERSION = 5
"""The highest `schema_version` in meta written before migrations took the schema over."""

_LOCK_KEY = 0x61676772_6D696772  # pg_advisory_xact_lock key: one migration at a time

State = Literal["new", "legacy", "behind", "current", "ahead", "foreign"]


@dataclass(frozen=True)
class Revision:
    """One migration script: its id and the first line of its docstring."""

    id: str
    title: str

    def __str__(self) -> str:
        return f"{self.id} {self.title}".rstrip()


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database's schema stands against this program's revisions."""

    where: str  # the database, as messages name it
    state: State
    revision: str | None  # its Alembic revision; None when new, legacy or foreign
    head: Revision
    legacy_version: int | None  # meta `schema_version` of a database made before migrations
    pending: tuple[Revision, ...]  # what `upgrade` would run, oldest first

    def problem(self) -> str | None:
        """Why the program cannot use the database as it is (one line), or None."""
        upgrade = "run `aggregator db upgrade` (it keeps the stored data)"
        if self.state == "legacy":
            return (
                f"its schema (version {self.legacy_version}) predates migrations and is older "
                f"than this program's ({self.head.id}): {upgrade}"
            )
        if self.state == "behind":
            return (
                f"its schema revision {self.revision} is older than this program's "
                f"({self.head.id}): {upgrade}"
            )
        if self.state == "ahead":
            return (
                f"its schema revision {self.revision} is unknown to this program (head "
                f"{self.head.id}): it was upgraded by a newer aggregator; install that version"
            )
        if self.state == "foreign":
            return "it has tables named like ours but was not made by aggregator; use another"
        return None


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` did: where the database stood before, and the revisions it ran."""

    before: SchemaStatus
    ran: tuple[Revision, ...]


# ---------------------------------------------------------------- the scripts


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for our environment; `connection` is what env.py migrates."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


@functools.cache
def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def _run_to_head(conn: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(conn), "head")


@functools.cache
def revisions() -> tuple[Revision, ...]:
    """Every revision, oldest first (one line of history: a fork is an error to fix)."""
    script = _script()
    head = script.get_current_head()  # raises when revisions fork into several heads
    chain: list[Revision] = []
    while head is not None:
        found = script.get_revision(head)
        assert found is not None and isinstance(found.down_revision, str | None)
        title = (found.doc or "").strip().splitlines()
        chain.append(Revision(found.revision, title[0] if title else ""))
        head = found.down_revision
    return tuple(reversed(chain))


@functools.cache
def head_id() -> str:
    """The newest revision's id, read from the file names in versions/ (NNNN_what.py) without
    loading Alembic: what every open compares the database's revision with."""
    names = (
        entry.name for entry in (resources.files("aggregator.migrations") / "versions").iterdir()
    )
    return max(name[:4] for name in names if name[:4].isdigit() and name.endswith(".py"))


# ---------------------------------------------------------------- where a database stands


def status_of(conn: Connection, where: str) -> SchemaStatus:
    """Where the database on `conn` stands."""
    chain = revisions()
    ids = [r.id for r in chain]
    tables = set(inspect(conn).get_table_names())
    revision = _stored_revision(conn) if "alembic_version" in tables else None
    legacy: int | None = None
    if revision is not None:
        state: State = "ahead"
        if revision in ids:
            state = "current" if revision == ids[-1] else "behind"
        pending = tuple(chain[ids.index(revision) + 1 :]) if revision in ids else ()
        return SchemaStatus(where, state, revision, chain[-1], None, pending)
    if not tables & OUR_TABLES:
        state = "new"
    else:
        legacy = _legacy_version(conn, tables)
        ok = legacy is not None and legacy <= LAST_LEGACY_VERSION
        state = "legacy" if ok else "foreign"
    pending = tuple(chain) if state in ("new", "legacy") else ()
    return SchemaStatus(where, state, None, chain[-1], legacy, pending)


def _stored_revision(conn: Connection) -> str | None:
    found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return str(found[0]) if len(found) == 1 else None


def _legacy_version(conn: Connection, tables: set[str]) -> int | None:
    if not {"meta", "sources"} <= tables:
        return None
    found = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).scalar()
    return None if found is None else int(found)


def status(url: str, busy_timeout: float) -> SchemaStatus:
    """Where the database at `url` stands; a SQLite file that is not there yet is new."""
    where = describe(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(os.path.expanduser(parsed.database or ""))
        if not path.exists():
            chain = revisions()
            return SchemaStatus(where, "new", None, chain[-1], None, chain)
    engine = open_engine(url, busy_timeout)
    try:
        with transaction(engine, f"reading the schema of {where}", write=False) as conn:
            return status_of(conn, where)
    finally:
        engine.dispose()


# ---------------------------------------------------------------- changing it


def ensure_current(conn: Connection, where: str) -> None:
    """At open: create a new database at head; refuse one that is not at head."""
    if inspect(conn).has_table("alembic_version") and _stored_revision(conn) == head_id():
        create_search_tables(None, conn)
        return  # the usual case, decided without Alembic
    found = status_of(conn, where)
    if found.state == "new":
        _lock(conn)
        found = status_of(conn, where)  # another process may have made it meanwhile
        if found.state == "new":
            _run_to_head(conn)
            _check_columns(conn)
            found = status_of(conn, where)
    problem = found.problem()
    if problem is not None:
        raise StorageError(where, problem)
    create_search_tables(None, conn)


def _check_columns(conn: Connection) -> None:
    """Fail loudly when schema.py has tables or columns that the revisions did not make (a
    change without its revision: a bug, which tests/test_migrations.py reports in full)."""
    inspector = inspect(conn)
    tables = set(inspector.get_table_names())
    missing = [table.name for table in metadata.sorted_tables if table.name not in tables]
    for table in metadata.sorted_tables:
        if table.name in tables:
            have = {column["name"] for column in inspector.get_columns(table.name)}
            missing += [f"{table.name}.{c.name}" for c in table.columns if c.name not in have]
    if missing:
        raise RuntimeError(
            f"schema.py has {', '.join(missing)}, which no migration makes: add a revision "
            '(python -m aggregator.migrations "what changed"; docs/migrations.md)'
        )


def upgrade(url: str, busy_timeout: float) -> Upgrade:
    """Bring the database at `url` to head in one transaction; StorageError if it cannot be."""
    where = describe(url)
    with migration_transaction(url, busy_timeout, f"upgrading {where}") as conn:
        before = status_of(conn, where)
        if before.state in ("ahead", "foreign"):
            raise StorageError(where, before.problem() or before.state)
        if before.pending:
            broken = _violations(conn)
            _run_to_head(conn)
            if before.state == "new":
                _check_columns(conn)
            if added := sorted(_violations(conn) - broken):
                raise StorageError(where, f"the upgrade would break foreign keys in {added[0]}")
        create_search_tables(None, conn)
    return Upgrade(before, before.pending)


@contextmanager
def migration_transaction(url: str, busy_timeout: float, operation: str) -> Iterator[Connection]:
    """A connection of its own in one transaction, locked for migrating, committed at the end.

    On SQLite foreign keys are off for it: a batch operation rebuilds a table by copying it
    and dropping the old one, and a drop with foreign keys on would delete (cascade) the rows
    that refer to it."""
    engine = open_engine(url, busy_timeout)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _foreign_keys_off)  # after open_engine's own
    try:
        with transaction(engine, operation, write=True) as conn:
            _lock(conn)
            yield conn
    finally:
        engine.dispose()


def _foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = OFF")
    finally:
        cursor.close()


def _lock(conn: Connection) -> None:
    """Wait for any other process migrating this database (SQLite: the write lock is held)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _violations(conn: Connection) -> set[str]:
    """Tables with rows whose foreign key finds no parent (SQLite; PostgreSQL enforces them)."""
    if conn.dialect.name != "sqlite":
        return set()
    return {row[0] for row in conn.exec_driver_sql("PRAGMA foreign_key_check")}


# ---------------------------------------------------------------- comparing with schema.py


def include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """Leave the search index out of comparisons: schema_search makes and remakes it."""
    if type_ == "table" and name is not None:
        return name != SEARCH_TABLE and not name.startswith(f"{SEARCH_TABLE}_")
    return True


CONTEXT_OPTIONS: dict[str, Any] = {
    "target_metadata": metadata,
    "render_as_batch": True,  # SQLite alters a table by copying it
    "include_name": include_name,
    "compare_type": True,
    "compare_server_default": True,
}
"""How env.py configures every migration and autogenerate run."""


def differences(conn: Connection) -> list[Any]:
    """What differs between the database on `conn` and schema.py (empty: nothing).

    Autogenerate's comparison, plus the WHERE of partial indexes, which it does not see."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    options = {k: v for k, v in CONTEXT_OPTIONS.items() if k != "target_metadata"}
    context = MigrationContext.configure(conn, opts=options)
    return [*compare_metadata(context, metadata), *_partial_index_differences(conn)]


def _partial_index_differences(conn: Connection) -> list[tuple[str, str, str, str]]:
    """("modify_index_where", index, in the database, in schema.py) for each that differs."""
    dialect = conn.dialect
    option = f"{dialect.name}_where"
    inspector = inspect(conn)
    found: list[tuple[str, str, str, str]] = []
    for table in metadata.sorted_tables:
        stored: dict[str | None, str] = {}
        for reflected in inspector.get_indexes(table.name):
            where = reflected.get("dialect_options", {}).get(option)
            stored[reflected["name"]] = "" if where is None else str(where)
        for index in table.indexes:
            if index.name not in stored:
                continue  # autogenerate reports it missing
            ddl = str(CreateIndex(index).compile(dialect=dialect))
            ours = ddl.partition(" WHERE ")[2]
            if _bare(ours) != _bare(stored[index.name]):
                found.append(("modify_index_where", str(index.name), stored[index.name], ours))
    return found


def _bare(clause: str) -> str:
    return "".join(c for c in clause.lower() if c not in "() \t\n")
