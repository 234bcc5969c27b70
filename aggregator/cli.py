"""The `aggregator` command: thin shells over the core, one per job.

Exit status: 0 success, 1 some work failed (e.g. a source), 2 a usage or config error.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aggregator import (
    __version__,
    cli_db,
    cli_search,
    cli_sources,
    cli_status,
    cli_stories,
    cli_topics,
)
from aggregator.cli_context import Context, Group, err, out, pass_context
from aggregator.logs import setup_logging
from aggregator.models import UpdateResult


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="Config file. Default: $AGGREGATOR_CONFIG, else ./config/aggregator.yaml.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="How much to log.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as key=value text or as JSON lines.",
)
@click.version_option(__version__, prog_name="aggregator")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, log_level: str, log_format: str) -> None:
    """A topical feed aggregator: fetch many sources, publish merged topical feeds."""
    setup_logging(log_level, log_format)
    ctx.obj = Context(config_path)


@cli.command()
@pass_context
def check(ctx: Context) -> None:
    """Validate the config (and the files it includes); print a summary."""
    config = ctx.config()
    enabled = sum(1 for s in config.sources if s.enabled)
    out.print(f"{config.path}: ok", markup=False)
    out.print(f"  sources: {len(config.sources)} ({enabled} enabled)")
    out.print(f"  topics: {', '.join(t.slug for t in config.topics) or 'none'}")
    out.print(f"  database: {config.database_url}", markup=False)
    out.print(f"  server: {config.server.host}:{config.server.port} ({config.server.base_url})")


@cli.command()
@click.option(
    "--source", "names", multiple=True, metavar="NAME", help="Fetch this source (repeat)."
)
@click.option("--all", "everything", is_flag=True, help="Fetch every enabled source, due or not.")
@pass_context
def fetch(ctx: Context, names: tuple[str, ...], everything: bool) -> None:
    """Run one pass over the sources that are due (or the named ones, or all)."""
    from aggregator.core import update_due
    from aggregator.display import print_summary

    config = ctx.config()
    unknown = sorted(set(names) - {s.name for s in config.sources})
    if unknown:
        raise click.UsageError(f"no such source: {', '.join(unknown)}")
    started = time.monotonic()
    with ctx.store() as store, _progress() as (on_start, on_result):
        results = update_due(
            config,
            store,
            names=names or None,
            everything=everything or bool(names),
            on_start=on_start,
            on_result=on_result,
        )
    print_summary(err, results, time.monotonic() - started)
    if any(r.status in ("error", "gone") for r in results):
        sys.exit(1)


@contextmanager
def _progress() -> Iterator[tuple[Callable[[int], None], Callable[[UpdateResult], None]]]:
    """A progress bar on a terminal; nothing otherwise."""
    if not err.is_terminal:
        yield (lambda n: None), (lambda r: None)
        return
    columns = (TextColumn("fetching"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("fetch", total=None)
        yield (
            lambda n: progress.update(task, total=n),
            lambda r: progress.advance(task),
        )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_context
def sources(ctx: Context, as_json: bool) -> None:
    """Show each source's state: last fetch, status, error streak, next due, articles."""
    from aggregator.display import sources_table, to_json

    with ctx.store() as store:
        store.sync_sources(ctx.config().sources, datetime.now(UTC))
        rows = store.sources()
    if as_json:
        click.echo(to_json(rows))
    else:
        out.print(sources_table(rows))


@cli.command()
@click.option("--source", metavar="NAME", help="Only this source's articles.")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(1, 10000), help="How many."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_context
def articles(ctx: Context, source: str | None, limit: int, as_json: bool) -> None:
    """Show the newest stored articles."""
    from aggregator.display import articles_table, to_json

    with ctx.store() as store:
        rows = store.articles(source=source, limit=limit)
    if as_json:
        click.echo(to_json(rows))
    else:
        out.print(articles_table(rows))


def main() -> None:
    """Entry point of the `aggregator` command."""
    cli(prog_name="aggregator")


for _command in cli_topics.COMMANDS:
    cli.add_command(_command)
for _command in cli_search.COMMANDS:
    cli.add_command(_command)
for _command in cli_stories.COMMANDS:
    cli.add_command(_command)
for _command in cli_sources.COMMANDS:
    cli.add_command(_command)
cli.add_command(cli_status.status)
cli.add_command(cli_db.db)
