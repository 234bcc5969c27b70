"""CLI command over full-text search: `aggregator search QUERY`."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
from rich.text import Text

from aggregator.cli_context import Context, err, out, pass_context

if TYPE_CHECKING:
    from aggregator.store_search import SearchHit

_HIT_STYLE = "bold yellow"


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("words", nargs=-1, required=True, metavar="QUERY...")
@click.option("--topic", metavar="SLUG", help="Only articles in this topic.")
@click.option("--source", metavar="NAME", help="Only articles of this source.")
@click.option("--language", metavar="CODE", help='Only articles in this language, e.g. "zh".')
@click.option(
    "--since", metavar="DATE", help="Only articles published since DATE (YYYY-MM-DD, or 7d, 24h)."
)
@click.option("--until", metavar="DATE", help="Only articles published until DATE (inclusive).")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(1, 500), help="At most N."
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@pass_context
def search(
    ctx: Context,
    words: tuple[str, ...],
    topic: str | None,
    source: str | None,
    language: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Search the stored articles' titles, summaries and text, in Chinese and English.

    Words must all match (a Chinese word is found inside unsegmented text, an English one in
    any of its forms); "quoted words" must stand together; -word excludes. Best match first.
    """
    from aggregator.searchtext import QueryError, parse_query, parse_when
    from aggregator.store_search import SearchFilters

    unknown = [word for word in words if word.startswith("--")]
    if unknown:
        raise click.UsageError(f"no such option: {unknown[0]}")
    now = datetime.now(UTC)
    try:
        query = parse_query(" ".join(words))
        filters = SearchFilters(
            topic=topic,
            source=source,
            language=language,
            since=parse_when(since, now) if since else None,
            until=parse_when(until, now, end_of_day=True) if until else None,
        )
    except QueryError as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(2)
    if topic is not None and topic not in {t.slug for t in ctx.config().topics}:
        err.print(f"error: no such topic: {topic}", markup=False)
        sys.exit(2)
    with ctx.store() as store:
        hits = store.search.search(query, filters, limit)
    if as_json:
        out.print_json(json.dumps([_json_hit(hit) for hit in hits], ensure_ascii=False))
        return
    for number, hit in enumerate(hits, 1):
        article = hit.item.article
        line = Text(f"{number:>2}. ", style="bold")
        line.append_text(_styled(hit.title.parts, "bold"))
        out.print(line)
        meta = [hit.item.source_name, f"{article.published:%Y-%m-%d %H:%M}", f"key {article.pk}"]
        meta += [match.topic for match in hit.item.topics]
        out.print(Text("    " + " · ".join(meta), style="dim"))
        if hit.snippet.parts:
            out.print(Text("    ").append_text(_styled(hit.snippet.parts, "")))
    out.print(f"{len(hits)} result{'' if len(hits) == 1 else 's'}", markup=False)


def _styled(parts: tuple[tuple[str, bool], ...], base: str) -> Text:
    text = Text(style=base)
    for part, hit in parts:
        text.append(part, style=_HIT_STYLE if hit else "")
    return text


def _json_hit(hit: SearchHit) -> dict[str, object]:
    article = hit.item.article
    return {
        "key": article.pk,
        "source": hit.item.source_name,
        "id": article.id,
        "url": article.url,
        "title": article.title,
        "published": article.published.isoformat(),
        "language": article.language,
        "topics": [match.topic for match in hit.item.topics],
        "score": round(hit.score, 6),
        "snippet": hit.snippet.text,
        "matched": sorted(set(hit.title.hits + hit.snippet.hits)),
    }


COMMANDS = (search,)
