"""The programs the ingest benchmark compares, each set up in its own folder.

Each program gets the same feed URLs and an empty folder; it yields the command of its cold
pass (empty database) and of its warm pass (same database, everything answers 304), and
counts what it stored by reading its own SQLite database afterwards.

- ours: ``aggregator fetch --all`` with a generated config (concurrency 64, per_host 1000).
- reader: ``reader_driver.py`` (make_reader, add_feed, update_feeds_iter(scheduled=False,
  workers=N)).
- newsboat: ``newsboat -x reload`` with its own urls, config (reload-threads N) and cache.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent


@dataclass
class Program:
    """One program under test: how to run its passes and count what it stored."""

    name: str
    folder: Path
    cold: list[str]
    warm: list[str]
    db: Path
    count_sql: str
    titles_sql: str  # rows of (feed key, title); the key is the source name or the feed URL
    keyed_by_name: bool
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    describe: str = ""

    def _query(self, sql: str) -> list[tuple[Any, ...]] | None:
        if not self.db.exists():
            return None
        try:
            con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        except sqlite3.Error:
            return None

    def stored(self) -> int | None:
        """Rows stored so far (articles / entries / items), or None if unreadable."""
        rows = self._query(self.count_sql)
        return int(rows[0][0]) if rows else None

    def titles_by_feed(self) -> dict[str, list[str]]:
        """Stored titles grouped by feed key (empty if unreadable)."""
        out: dict[str, list[str]] = {}
        for key, title in self._query(self.titles_sql) or []:
            out.setdefault(str(key), []).append(str(title or ""))
        return out


def decode_check(
    prog: Program, feeds: list[tuple[str, str, bool]], known_titles: tuple[str, ...]
) -> dict[str, int]:
    """How many stored titles of the given (name, url, mislabeled) feeds read as expected."""
    stored = prog.titles_by_feed()
    counts = {"right": 0, "total": 0, "mislabeled_right": 0, "mislabeled_total": 0}
    for name, url, mislabeled in feeds:
        for title in stored.get(name if prog.keyed_by_name else url, []):
            ok = title.startswith(known_titles)
            counts["total"] += 1
            counts["right"] += ok
            if mislabeled:
                counts["mislabeled_total"] += 1
                counts["mislabeled_right"] += ok
    return counts


def venv_bin(name: str) -> Path:
    """A program of the project's virtual environment."""
    return REPO_DIR / ".venv" / "bin" / name


def _config_goes_after_fetch(prefix: list[str]) -> bool:
    """True if ``fetch`` takes ``--config`` itself, else it is a top-level option."""
    try:
        res = subprocess.run(
            [*prefix, "fetch", "--help"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return True
    return "--config" in res.stdout


def ours(
    folder: Path, sources: list[tuple[str, str]], prefix: list[str], concurrency: int
) -> Program:
    """Our aggregator: one source per feed in a generated config, a fresh SQLite file."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench.db"
    lines = [
        f'database: {{url: "sqlite:///{db}"}}',
        f"fetch: {{concurrency: {concurrency}, per_host: 1000}}",
        "sources:",
    ]
    lines += [f'  - {{name: {name}, url: "{url}"}}' for name, url in sources]
    cfg = folder / "bench.yaml"
    cfg.write_text("\n".join(lines) + "\n")
    if _config_goes_after_fetch(prefix):
        cmd = [*prefix, "fetch", "--all", "--config", str(cfg)]
    else:
        cmd = [*prefix, "--config", str(cfg), "fetch", "--all"]
    env = dict(os.environ)
    env.pop("AGGREGATOR_CONFIG", None)
    return Program(
        name="ours",
        folder=folder,
        cold=cmd,
        warm=cmd,
        db=db,
        count_sql="SELECT COUNT(*) FROM articles",
        titles_sql="SELECT s.name, a.title FROM articles a JOIN sources s ON s.id = a.source_id",
        keyed_by_name=True,
        env=env,
        describe=f"aggregator fetch --all (concurrency {concurrency}, per_host 1000)",
    )


def reader(folder: Path, urls: list[str], python: Path, workers: int) -> Program:
    """The `reader` library, driven by reader_driver.py."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "reader.sqlite"
    url_file = folder / "urls.txt"
    url_file.write_text("\n".join(urls) + "\n")
    base = [str(python), str(BENCH_DIR / "reader_driver.py"), str(db), str(url_file)]
    base += ["--workers", str(workers)]
    return Program(
        name="reader",
        folder=folder,
        cold=[*base, "--add"],
        warm=base,
        db=db,
        count_sql="SELECT COUNT(*) FROM entries",
        titles_sql="SELECT feed, title FROM entries",
        keyed_by_name=False,
        describe=f"reader {_version('reader')}, update_feeds(scheduled=False, workers={workers})",
    )


def newsboat(folder: Path, urls: list[str], threads: int) -> Program:
    """Debian's newsboat, reloading every feed once per pass."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "urls").write_text("\n".join(urls) + "\n")
    (folder / "config").write_text(
        f"reload-threads {threads}\n"
        "download-timeout 60\n"
        "max-items 0\n"
        "show-read-feeds yes\n"
        f'error-log "{folder / "errors.log"}"\n'
    )
    db = folder / "cache.db"
    binary = shutil.which("newsboat") or "newsboat"
    cmd = [binary, "-q", "-u", str(folder / "urls"), "-c", str(db), "-C", str(folder / "config")]
    cmd += ["-x", "reload"]
    env = dict(os.environ, HOME=str(folder), XDG_CONFIG_HOME=str(folder / "xdg-config"))
    env["XDG_DATA_HOME"] = str(folder / "xdg-data")
    return Program(
        name="newsboat",
        folder=folder,
        cold=cmd,
        warm=cmd,
        db=db,
        count_sql="SELECT COUNT(*) FROM rss_item",
        titles_sql="SELECT feedurl, title FROM rss_item",
        keyed_by_name=False,
        env=env,
        describe=f"newsboat {_newsboat_version(binary)}, -x reload, reload-threads {threads}",
    )


def newsboat_errors(program: Program) -> int:
    """Lines newsboat wrote to its error log (one per failed feed)."""
    log = program.folder / "errors.log"
    return len(log.read_text(errors="replace").splitlines()) if log.exists() else 0


def reader_counts(stdout: str) -> dict[str, object]:
    """The JSON line reader_driver.py printed, or {} if there is none."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return {}


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def _newsboat_version(binary: str) -> str:
    try:
        res = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    first = res.stdout.split("\n", 1)[0].split()
    return first[1] if len(first) > 1 else "?"
