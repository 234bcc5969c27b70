"""`aggregator discover`, `add` and `opml import|export`: finding sources and writing them down."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from aggregator.cli_context import Context, err, pass_context
from aggregator.config import find_config_path
from aggregator.configedit import NewSource, plan_append, source_name, unique_name, write_edit
from aggregator.models import ZH_TIMEZONE, FetchSettings

if TYPE_CHECKING:
    from aggregator.discover import Discovery

# discover (and with it aiohttp and the feed parser) loads when a command needs it, so that
# `aggregator --help` stays quick. YAML and links go to standard output unwrapped (click.echo,
# not rich), so that they can be copied or piped as they are.

_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


def _settings(ctx: Context) -> FetchSettings:
    """The config's `fetch:` settings; the defaults when there is no config file at all."""
    if ctx.config_path is None and not os.path.exists(find_config_path(None)):
        return FetchSettings()
    return ctx.config().fetch


def _discover(url: str, settings: FetchSettings) -> Discovery:
    from aggregator.discover import discover
    from aggregator.fetch import HttpFetcher

    async def run() -> Discovery:
        async with HttpFetcher(settings) as fetcher:
            return await discover(url, fetcher)

    found = asyncio.run(run())
    if found.error:
        err.print(f"error: {url}: {found.error}", markup=False)
        sys.exit(1)
    return found


def _new_source(
    found: Discovery, name: str | None, tags: tuple[str, ...], taken: set[str]
) -> NewSource | None:
    """The source `add` writes for what `discover` found: its first feed, else a page source."""
    if found.feeds:
        feed = found.feeds[0]
        title = feed.title or found.title
        return NewSource(
            name=name or unique_name(source_name(feed.url, feed.title), taken),
            url=feed.url,
            tags=tags,
            comments=(title,) if title else (),
        )
    if found.page is None:
        return None
    language = (found.language or "").replace("_", "-")
    language = language if _LANGUAGE.match(language) else ""
    samples = [item.title or item.url for item in found.page.samples[:2]]
    comments = [found.title] if found.title else []
    comments.append(f"list page: {found.page.matched} article links, e.g. " + "; ".join(samples))
    return NewSource(
        name=name or unique_name(source_name(found.url, None), taken),
        url=found.url,
        type="page",
        tags=tags,
        language=language or None,
        timezone=ZH_TIMEZONE if language.lower().startswith("zh") else None,
        rules=found.page.rules,
        comments=tuple(comments),
    )


@click.command(name="discover")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@pass_context
def discover_command(ctx: Context, url: str, as_json: bool) -> None:
    """Find a site's feeds (link tags, common paths), or propose a page source for it."""
    found = _discover(url, _settings(ctx))
    if as_json:
        click.echo(json.dumps(asdict(found), ensure_ascii=False, indent=2))
        return
    click.echo(f"{found.url}: {found.title or '(no title)'}")
    for feed in found.feeds:
        what = f"{feed.format}, {feed.entries} entries, {feed.how}"
        click.echo(f"  feed: {feed.url}  {feed.title or ''} ({what})")
    if found.page is not None:
        click.echo(f"  no feed; {found.page.matched} article links on the page, e.g.:")
        for item in found.page.samples:
            click.echo(f"    {item.title or '(no title)'}  {item.url}")
        source = _new_source(found, None, (), set())
        assert source is not None
        from aggregator.configedit import render_source

        click.echo("  proposed source (aggregator add URL writes it):")
        click.echo(render_source(source, "    ").rstrip())
    if not found.feeds and found.page is None:
        err.print("no feed found, and no article links to propose a page source from")
        sys.exit(1)


@click.command()
@click.argument("url")
@click.option("--name", metavar="NAME", help="The source's name. Default: from its title or URL.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag for the source (repeat).")
@click.option("--dry-run", is_flag=True, help="Print what would be added; write nothing.")
@pass_context
def add(ctx: Context, url: str, name: str | None, tags: tuple[str, ...], dry_run: bool) -> None:
    """Discover URL's feed (else a page source) and append it to the config, keeping comments."""
    config = ctx.config()
    found = _discover(url, config.fetch)
    source = _new_source(found, name, tags, {s.name for s in config.sources})
    if source is None:
        err.print(f"error: {url}: no feed found, and no article links for a page source")
        sys.exit(1)
    edit = plan_append(config.path, [source])
    click.echo(edit.block.strip("\n"))
    if dry_run:
        err.print(f"(dry run: {edit.path} not changed)", markup=False)
        return
    write_edit(edit)
    err.print(f"added source '{source.name}' to {edit.path}", markup=False)


@click.group()
def opml() -> None:
    """Import sources from an OPML subscription list, or export the sources as OPML."""


@opml.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Print what would be added; write nothing.")
@pass_context
def opml_import(ctx: Context, file: str, dry_run: bool) -> None:
    """Append a feed source for each outline of FILE not yet configured."""
    from aggregator.opml import import_sources, read_opml

    config = ctx.config()
    with open(file, "rb") as handle:
        feeds = read_opml(handle.read(), file)
    sources = import_sources(feeds, {s.name for s in config.sources})
    edit = plan_append(config.path, sources, skip_duplicates=True)
    for reason in edit.skipped:
        err.print(f"skipped: {reason}", markup=False)
    if edit.block:
        click.echo(edit.block.strip("\n"))
    verb = "would add" if dry_run else "added"
    err.print(f"{verb} {len(edit.added)} source(s) to {edit.path}", markup=False)
    if edit.added and not dry_run:
        write_edit(edit)


@opml.command(name="export")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
@pass_context
def opml_export(ctx: Context, output: str | None) -> None:
    """Write the configured sources as an OPML 2.0 subscription list."""
    from aggregator.opml import render_opml

    config = ctx.config()
    data = render_opml(
        config.sources, title=f"{config.server.title} sources", now=datetime.now(UTC)
    )
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    with open(output, "wb") as handle:
        handle.write(data)
    err.print(f"wrote {len(config.sources)} source(s) to {output}", markup=False)


COMMANDS = (discover_command, add, opml)
