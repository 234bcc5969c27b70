"""What a feed item says about its story: "Also reported by" and the JSON Feed extension.

A topical feed shows one item per story, its representative (the story's first stored
article). Its other sources are named in the item's HTML and, in JSON Feed, in the item's
`_aggregator` object:

    "story": 1234,
    "also_reported_by": [{"source": "factory-news", "source_title": "Factory News",
                          "url": "https://…", "title": "…"}]

Pure functions of a `FeedItem`, shared by the RSS/Atom and JSON Feed writers.
"""

from __future__ import annotations

import html
from typing import Any

from aggregator.feedmeta import item_title, xml_text
from aggregator.models import FeedItem, StoryMember

ALSO_CLASS = "also-reported"


def also_reported_html(item: FeedItem) -> str:
    """The item's "Also reported by: A, B" paragraph (links where known), or ""."""
    if not item.also_reported_by:
        return ""
    names = []
    for member in item.also_reported_by:
        name = html.escape(_label(member))
        url = _web_url(member.url)
        names.append(f'<a href="{html.escape(url)}">{name}</a>' if url else name)
    return f'<p class="{ALSO_CLASS}">Also reported by: {", ".join(names)}</p>'


def with_also_reported(item: FeedItem, summary: str, content: str) -> tuple[str, str]:
    """(summary, content) HTML with the "Also reported by" paragraph added to the one shown.

    It goes after the content, else after the summary, else after the plain text (which
    then becomes the content).
    """
    also = also_reported_html(item)
    if not also:
        return summary, content
    if content:
        return summary, content + also
    if summary:
        return summary + also, content
    text = xml_text(item.article.text) or item_title(item)
    return summary, f"<p>{html.escape(text)}</p>{also}"


def story_extension(item: FeedItem) -> dict[str, Any]:
    """The item's story fields for JSON Feed's `_aggregator` object (empty when ungrouped)."""
    if item.story is None:
        return {}
    return {
        "story": item.story,
        "also_reported_by": [
            {
                "source": member.source_name,
                "source_title": _label(member),
                "url": _web_url(member.url),
                "title": xml_text(member.title),
            }
            for member in item.also_reported_by
        ],
    }


def _label(member: StoryMember) -> str:
    return xml_text(member.source_title or member.source_name).strip() or member.source_name


def _web_url(url: str | None) -> str | None:
    if url and url.startswith(("http://", "https://")):
        return xml_text(url)
    return None
