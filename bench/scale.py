"""Scale-out benchmark: ingest with 1, 2 and 4 worker processes on PostgreSQL and with one
process on SQLite, then the lease query alone with 4 claimers, in one run.

Stages:
  1. generate N feeds of M entries (bench/gen_feeds.py, seeded) and serve them with nginx;
  2. for each setup (SQLite x 1, PostgreSQL x 1, x 2, x 4), in a fresh database: sync the N
     sources and make every one due now (Store, which also makes the schema), start the
     workers (`aggregator run --role worker --no-migrate`, each with its own pid file, default
     `workers:` settings), time the cold pass
     (from the start of the processes until every source is stored and no lease is held),
     make every source due again and time the warm pass (every feed answers 304), stop the
     workers (SIGTERM), count the articles and measure what they added to the database;
  3. the lease query alone (bench/scale_claims.py): 4 processes claiming batches of 16 and
     of 256 from 1,000,000 due sources;
  4. print the table and the ratios (`--markdown`: also as Markdown).

Usage: ``.venv/bin/python bench/scale.py [--quick] [--feeds N --entries M]
[--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]``; the admin URL
(default $AGGREGATOR_BENCH_ADMIN_URL, else the one shown) may create and drop databases: each
setup gets its own, dropped after it. Exit status 0 when every setup stored N x M articles
and no source was claimed twice, 1 otherwise, 2 when nginx or PostgreSQL is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy
from gen_feeds import SUBDIR_CHARSETS, default_anchor, write_feeds
from nginx import INSTALL_HINT, Nginx, nginx_binary
from scale_claims import ClaimFigures, fill, measure
from sqlalchemy import func, select, update

from aggregator.config import load_config
from aggregator.core import utcnow
from aggregator.schema import sources as sources_table
from aggregator.store import Store

SETUPS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 4))
CLAIM_SOURCES = 1_000_000
CLAIM_BATCHES = (16, 256)
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Ingest:
    """One setup's figures."""

    backend: str
    workers: int
    cold_s: float
    warm_s: float
    articles: int
    added_bytes: int  # what the cold pass added to the database (tables and indexes)
    added_rows: int  # rows the cold pass added, over every table

    @property
    def label(self) -> str:
        return f"{'PostgreSQL' if self.backend == 'postgresql' else 'SQLite'}, {self.workers}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def database(backend: str, admin_url: str, folder: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file in `folder`, or a PostgreSQL database made with
    `admin_url` and dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'scale.db'}"
        return
    name = f"aggregator_scale_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        yield sqlalchemy.make_url(admin_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def size(url: str) -> int:
    """Bytes the database takes: PostgreSQL's database size, or the SQLite file and its WAL."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            query = "SELECT pg_database_size(current_database())"
            return int(conn.exec_driver_sql(query).scalar_one())
    finally:
        engine.dispose()


class Setup:
    """A database with the sources synced, and the worker processes run against it."""

    def __init__(self, folder: Path, url: str, sources: list[tuple[str, str]]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.url = url
        self.engine = sqlalchemy.create_engine(url)
        lines = [
            f"database: {{url: '{url}'}}",
            "fetch: {concurrency: 64, per_host: 1000}",
            "sources:",
            *(f"  - {{name: {name}, url: '{feed}'}}" for name, feed in sources),
        ]
        self.config = folder / "scale.yaml"
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.count = len(sources)
        store = Store(url)
        try:
            now = utcnow()
            store.sync_sources(load_config(str(self.config)).sources, now)
            store.schedule_new_sources(lambda names: [now] * len(names))
        finally:
            store.close()

    def rows(self) -> int:
        """Rows in every table of the database."""
        with self.engine.connect() as conn:
            names = sqlalchemy.inspect(conn).get_table_names()
            count = "SELECT count(*) FROM {}"
            return sum(int(conn.exec_driver_sql(count.format(n)).scalar_one()) for n in names)

    def scalar(self, query: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.exec_driver_sql(query).scalar_one())

    def done_since(self, started: datetime) -> bool:
        """Whether every source was fetched at or after `started` and has no lease."""
        query = select(func.count()).where(
            sources_table.c.lease_owner.is_(None), sources_table.c.last_fetched_at >= started
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one() == self.count

    def make_due(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(sources_table).values(next_fetch_at=utcnow()))

    def start(self, workers: int) -> list[subprocess.Popen[bytes]]:
        command = [sys.executable, "-m", "aggregator", "--config", str(self.config), "run"]
        processes = []
        for i in range(workers):
            with (self.folder / f"worker{i}.log").open("ab") as err:
                pid_file = ["--pid-file", str(self.folder / f"worker{i}.pid")]
                processes.append(
                    subprocess.Popen(
                        [*command, "--role", "worker", "--no-migrate", *pid_file],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=err,
                        start_new_session=True,
                    )
                )
        return processes

    def wait(
        self, processes: list[subprocess.Popen[bytes]], started: datetime, timeout: float
    ) -> None:
        deadline = time.monotonic() + timeout
        while not self.done_since(started):
            if any(p.poll() is not None for p in processes):
                raise RuntimeError(f"a worker exited; see {self.folder}/worker*.log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"not done after {timeout:g} s; see {self.folder}")
            time.sleep(0.1)

    def close(self) -> None:
        self.engine.dispose()


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_setup(folder: Path, url: str, sources: list[tuple[str, str]], workers: int) -> Ingest:
    """Cold pass, then warm pass, with `workers` worker processes; see the module docstring."""
    setup = Setup(folder, url, sources)
    before, rows = size(url), setup.rows()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        began, started = time.perf_counter(), utcnow()
        processes = setup.start(workers)
        setup.wait(processes, started, timeout=1800)
        cold = time.perf_counter() - began
        added, rows = size(url) - before, setup.rows() - rows
        began, started = time.perf_counter(), utcnow()
        setup.make_due()
        setup.wait(processes, started, timeout=600)
        warm = time.perf_counter() - began
        articles = setup.scalar("SELECT count(*) FROM articles")
    finally:
        stop(processes)
        setup.close()
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    return Ingest(backend, workers, cold, warm, articles, added, rows)


def table(ingests: list[Ingest], claims: list[ClaimFigures], feeds: int, entries: int) -> str:
    lines = [
        "| database, worker processes | cold s | articles/s | sources/s | warm s (all 304) "
        "| stored | rows added | MB added |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for i in ingests:
        lines.append(
            f"| {i.label} | {i.cold_s:.1f} | {feeds * entries / i.cold_s:,.0f} "
            f"| {feeds / i.cold_s:.1f} | {i.warm_s:.2f} | {i.articles:,} "
            f"| {i.added_rows:,} | {i.added_bytes / 1e6:,.0f} |"
        )
    lines += [
        "",
        "| lease query, 4 processes | claims/s | sources claimed/s | ms per claim |",
        "| --- | ---: | ---: | ---: |",
    ]
    for c in claims:
        lines.append(
            f"| batch {c.batch} of {c.sources:,} due | {c.claims_per_s:,.0f} "
            f"| {c.sources_per_s:,.0f} | {c.ms_per_claim:.1f} |"
        )
    return "\n".join(lines)


def ratios(ingests: list[Ingest]) -> str:
    by = {(i.backend, i.workers): i for i in ingests}
    lines = []
    one = by.get(("postgresql", 1))
    for workers in (2, 4):
        more = by.get(("postgresql", workers))
        if one and more:
            lines.append(
                f"PostgreSQL cold, 1 / {workers} workers: {one.cold_s / more.cold_s:.2f}x"
                f" (warm {one.warm_s / more.warm_s:.2f}x)"
            )
    lite = by.get(("sqlite", 1))
    if lite and one:
        lines.append(
            f"SQLite 1 process / PostgreSQL 1 worker, cold: {one.cold_s / lite.cold_s:.2f}x "
            f"as fast on SQLite (warm {one.warm_s / lite.warm_s:.2f}x)"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--entries", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="100 feeds x 50, 100,000 for claims")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--claim-seconds", type=float, default=5.0)
    ap.add_argument("--admin-url", default=os.environ.get("AGGREGATOR_BENCH_ADMIN_URL", ADMIN_URL))
    ap.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = ap.parse_args()
    claim_sources = CLAIM_SOURCES
    if args.quick:
        args.feeds, args.entries, claim_sources = 100, 50, 100_000
    if nginx_binary() is None:
        log(INSTALL_HINT)
        return 2
    try:
        sqlalchemy.create_engine(args.admin_url).connect().close()
    except sqlalchemy.exc.SQLAlchemyError as exc:
        log(f"PostgreSQL is not reachable at {args.admin_url}: {exc.__class__.__name__}")
        return 2
    work = Path(tempfile.mkdtemp(prefix="aggregator-scale-"))
    try:
        log(f"writing {args.feeds} feeds x {args.entries} entries ...")
        specs = write_feeds(work / "www", args.feeds, args.entries, default_anchor(), args.seed)
        ingests: list[Ingest] = []
        with Nginx(work / "nginx", work / "www", SUBDIR_CHARSETS) as nginx:
            sources = [(spec.name, nginx.base_url + spec.path) for spec in specs]
            for n, (backend, workers) in enumerate(SETUPS):
                folder = work / f"setup{n}"
                with database(backend, args.admin_url, folder) as url:
                    log(f"{backend}, {workers} worker(s) ...")
                    ingests.append(run_setup(folder, url, sources, workers))
                    log(f"  cold {ingests[-1].cold_s:.1f} s, warm {ingests[-1].warm_s:.2f} s")
        claims = []
        for batch in CLAIM_BATCHES:
            with database("postgresql", args.admin_url, work) as url:
                log(f"lease query: 4 processes, batch {batch}, {claim_sources:,} sources ...")
                fill(url, claim_sources)
                claims.append(measure(url, 4, batch, args.claim_seconds, claim_sources))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(table(ingests, claims, args.feeds, args.entries))
    print()
    print(ratios(ingests))
    expected = args.feeds * args.entries
    wrong = [i.label for i in ingests if i.articles != expected]
    twice = sum(c.duplicates for c in claims)
    if wrong or twice:
        log(f"FAILED: stored not {expected}: {wrong}; sources claimed twice: {twice}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
