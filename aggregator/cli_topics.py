"""CLI commands over topics and publishing: explain, reclassify, preview, publish, serve, run,
reload."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.table import Table

from aggregator.cli_context import Context, err, out, pass_context
from aggregator.pidfile import DEFAULT_PID_FILE, PID_FILE_ENV_VAR


@click.command()
@click.argument("article")
@pass_context
def explain(ctx: Context, article: str) -> None:
    """Explain why ARTICLE (a key from `articles`, or SOURCE/ID) is or is not in each topic."""
    from aggregator.topics import explain as explain_article

    key: int | str = int(article) if article.isdigit() else article
    with ctx.store() as store:
        found = store.article(key)
    if found is None:
        raise click.UsageError(f"no such article: {article}")
    out.print(f"{found.title}  [{found.source}, {found.language or '?'}]", markup=False)
    for explanation in explain_article(ctx.config(), found):
        out.print(str(explanation), markup=False)


@click.command()
@pass_context
def reclassify(ctx: Context) -> None:
    """Re-run the topics over every stored article (after editing topics)."""
    from aggregator.topics import reclassify as run

    with ctx.store() as store:
        seen, stored = run(ctx.config(), store)
    out.print(f"{seen} articles reclassified; {stored} topic matches stored")


@click.command()
@click.argument("topic")
@click.option(
    "--days", default=7, show_default=True, type=click.IntRange(1, 3650), help="How far back."
)
@pass_context
def preview(ctx: Context, topic: str, days: int) -> None:
    """Show what TOPIC would contain from the last N days, without writing anything."""
    from aggregator.topics import preview as run

    config = ctx.config()
    if topic not in {t.slug for t in config.topics}:
        raise click.UsageError(f"no such topic: {topic}")
    with ctx.store() as store:
        found = run(config, store, topic, days=days, now=datetime.now(UTC))
    table = Table(box=None, header_style="bold")
    for column in ("key", "score", "published", "title", "terms"):
        table.add_column(column, overflow="fold")
    for c in found:
        a = c.article
        table.add_row(
            str(a.pk),
            f"{c.match.score:g}",
            f"{a.published:%Y-%m-%d}",
            a.title,
            ", ".join(c.match.terms),
        )
    out.print(table)
    out.print(f"{len(found)} articles would be in {topic}")


@click.command()
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Directory."
)
@pass_context
def publish(ctx: Context, out_dir: str) -> None:
    """Write every feed, an index.html, topic pages and opml.xml as static files."""
    from aggregator.publish import FeedInfo, write_static

    config = ctx.config()
    infos = [FeedInfo.all(config.server.title)] + [FeedInfo.for_topic(t) for t in config.topics]
    limit = config.server.feed_limit
    with ctx.store() as store:
        items = {
            i.slug: store.topic_items(None if i.slug == "all" else i.slug, limit) for i in infos
        }
    written = write_static(Path(out_dir), infos, items, server=config.server, now=datetime.now(UTC))
    out.print(f"{len(written)} files written to {out_dir}", markup=False)


@click.command()
@pass_context
def serve(ctx: Context) -> None:
    """Serve the feeds and pages over HTTP (host and port from `server:` in the config)."""
    from aggregator.web import serve as run

    config = ctx.config()
    err.print(f"serving on http://{config.server.host}:{config.server.port}/", markup=False)
    with ctx.store() as store:
        run(config, store)


pid_file_option = click.option(
    "--pid-file",
    metavar="PATH",
    envvar=PID_FILE_ENV_VAR,
    default=DEFAULT_PID_FILE,
    show_default=True,
    help=f"The daemon's pid file (also ${PID_FILE_ENV_VAR}).",
)


@click.command()
@pid_file_option
@click.option(
    "--stop-timeout",
    type=click.FloatRange(min=0),
    default=20.0,
    show_default=True,
    metavar="SECONDS",
    help="After SIGTERM/SIGINT, how long sources in flight may take to finish.",
)
@click.option(
    "--role",
    type=click.Choice(["all", "worker", "web"]),
    default="all",
    show_default=True,
    help="worker: only fetch (no HTTP server); web: only serve; all: both. Many workers and "
    "web processes may share one PostgreSQL database (docs/scaling.md).",
)
@click.option(
    "--no-migrate",
    is_flag=True,
    help="Do not upgrade the database's schema at start (`aggregator db upgrade` does); "
    "refuse to start when it is out of date.",
)
@pass_context
def run(ctx: Context, pid_file: str, stop_timeout: float, role: str, no_migrate: bool) -> None:
    """Run the daemon: fetch what is due on schedule and serve the feeds, until stopped.

    SIGHUP (or `aggregator reload`) re-reads the config; SIGTERM stops it.
    """
    from aggregator.cli_db import migrate_at_start
    from aggregator.daemon import ROLES, run_daemon

    chosen = next(r for r in ROLES if r == role)
    config = ctx.config()
    if not no_migrate:
        migrate_at_start(config)  # first, so that the store opens on an up-to-date schema
    with ctx.store() as store:
        asyncio.run(
            run_daemon(config, store, pid_file=pid_file, stop_timeout=stop_timeout, role=chosen)
        )


@click.command()
@pid_file_option
def reload(pid_file: str) -> None:
    """Tell the running daemon to re-read its config (SIGHUP); it logs what changed."""
    from aggregator.pidfile import signal_daemon

    pid = signal_daemon(pid_file, signal.SIGHUP)
    out.print(f"reload requested: sent SIGHUP to the daemon (pid {pid})", markup=False)


COMMANDS = (explain, reclassify, preview, publish, serve, run, reload)
