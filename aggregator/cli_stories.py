"""The `aggregator stories` command: recent stories (near-duplicate articles) and their members."""

from __future__ import annotations

import json
from typing import Any

import click

from aggregator.cli_context import Context, err, out, pass_context
from aggregator.store_story_read import StorySummary


@click.command()
@click.option("--topic", metavar="SLUG", help="Only stories with an article in this topic.")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 10000),
    help="How many stories, most recently joined first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a list.")
@click.option(
    "--rebuild",
    is_flag=True,
    help="First forget every story and group all stored articles again (after an upgrade, "
    "or after changing stories.threshold).",
)
@pass_context
def stories(ctx: Context, topic: str | None, limit: int, as_json: bool, rebuild: bool) -> None:
    """List recent stories: copies of one article from several sources, grouped as one."""
    config = ctx.config()
    if topic is not None and topic not in {t.slug for t in config.topics}:
        raise click.UsageError(f"no such topic: {topic}")
    with ctx.store() as store:
        if rebuild:
            seen, count = store.stories.rebuild()
            err.print(f"{seen} articles grouped into {count} stories", markup=False)
        found = store.stories.recent(topic, limit)
    if as_json:
        click.echo(json.dumps([_story_json(s) for s in found], ensure_ascii=False, indent=2))
        return
    for story in found:
        out.print(
            f"story {story.id}  {story.size} article{'s' if story.size != 1 else ''}  "
            f"first {story.created:%Y-%m-%d %H:%M}  latest {story.updated:%Y-%m-%d %H:%M}",
            markup=False,
        )
        for member in story.members:
            mark = "*" if member.pk == story.id else " "
            out.print(
                f"  {mark} {member.pk:>8}  {member.source:<20} {member.first_seen:%Y-%m-%d %H:%M}  "
                f"{member.title}",
                markup=False,
                overflow="ellipsis",
                no_wrap=True,
            )
    if not found:
        err.print("no stories yet", markup=False)


def _story_json(story: StorySummary) -> dict[str, Any]:
    return {
        "id": story.id,
        "created": story.created.isoformat(),
        "updated": story.updated.isoformat(),
        "size": story.size,
        "members": [
            {
                "key": a.pk,
                "representative": a.pk == story.id,
                "source": a.source,
                "id": a.id,
                "title": a.title,
                "url": a.url,
                "published": a.published.isoformat(),
                "first_seen": a.first_seen.isoformat(),
            }
            for a in story.members
        ],
    }


COMMANDS = (stories,)
