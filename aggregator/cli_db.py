"""`aggregator db current` and `aggregator db upgrade`: the database's schema revision (see
store_migrate), and `migrate_at_start` for the daemon."""

from __future__ import annotations

import logging
import sys

import click

from aggregator.cli_context import Context, pass_context
from aggregator.models import Config
from aggregator.store_migrate import SchemaStatus, Upgrade, status, upgrade

log = logging.getLogger("aggregator.migrate")


@click.group()
def db() -> None:
    """Show the database's schema revision, or upgrade it to this version's (keeping its data)."""


@db.command()
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 when the database needs `aggregator db upgrade` or is from a newer version.",
)
@pass_context
def current(ctx: Context, check: bool) -> None:
    """Print the database's schema revision and whether it is up to date; change nothing."""
    config = ctx.config()
    found = status(config.database_url, config.database_busy_timeout)
    click.echo(status_line(found))
    for revision in found.pending if found.state in ("legacy", "behind") else ():
        click.echo(f"  to run: {revision}")
    if check and found.state not in ("current", "new"):
        sys.exit(1)


@db.command(name="upgrade")
@pass_context
def upgrade_command(ctx: Context) -> None:
    """Bring the database's schema to this version's head, in place and in one transaction."""
    config = ctx.config()
    done = upgrade(config.database_url, config.database_busy_timeout)
    click.echo(upgrade_line(done))
    for revision in done.ran:
        click.echo(f"  ran: {revision}")


def migrate_at_start(config: Config) -> None:
    """Upgrade the database before the daemon opens it; one log line when anything ran."""
    done = upgrade(config.database_url, config.database_busy_timeout)
    if done.ran:
        log.info(upgrade_line(done))


def status_line(found: SchemaStatus) -> str:
    """One line: where the database stands and what to do about it."""
    where, head = found.where, found.head.id
    upgrade = "run `aggregator db upgrade`"
    if found.state == "current":
        return f"{where}: at revision {head}, this version's: up to date"
    if found.state == "new":
        return f"{where}: no tables yet; any command creates them at revision {head}"
    if found.state == "legacy":
        return (
            f"{where}: schema version {found.legacy_version}, from before migrations; this "
            f"version is at revision {head}: {upgrade}"
        )
    if found.state == "behind":
        return f"{where}: at revision {found.revision}; this version is at {head}: {upgrade}"
    return f"{where}: {found.problem()}"


def upgrade_line(done: Upgrade) -> str:
    """One line: what `upgrade` did."""
    before, head = done.before, done.before.head.id
    if not done.ran:
        return f"{before.where}: already at revision {head}: nothing to do"
    if before.state == "new":
        return f"{before.where}: created at revision {head}"
    if before.state == "legacy":
        return (
            f"{before.where}: upgraded from schema version {before.legacy_version} (before "
            f"migrations) to revision {head}"
        )
    return f"{before.where}: upgraded from revision {before.revision} to {head}"
