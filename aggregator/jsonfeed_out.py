"""Write JSON Feed 1.1 (https://jsonfeed.org/version/1.1) documents from feed items.

Each item carries the spec's fields plus our `_aggregator` extension object (its original
source, its topics, its language and, for a story, the other sources that reported it; see
`storyfeed`), which readers that do not know it ignore.
Pure: the same items give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aggregator import PROJECT_URL, __version__
from aggregator.feedmeta import (
    FAVICON_PATH,
    GENERATOR_NAME,
    ICON_PATH,
    FeedInfo,
    FeedLinks,
    categories,
    dominant_language,
    item_content,
    item_id,
    item_title,
    item_updated,
    ordered,
    plain_summary,
    policy_extension,
    rfc3339,
    source_label,
    topic_title,
    xml_text,
)
from aggregator.models import FeedItem, ServerConfig
from aggregator.storyfeed import story_extension, with_also_reported

VERSION = "https://jsonfeed.org/version/1.1"


def render_json_feed(
    info: FeedInfo,
    items: Sequence[FeedItem],
    *,
    server: ServerConfig,
    now: datetime,
    topic_titles: Mapping[str, str] | None = None,
    links: FeedLinks | None = None,
) -> bytes:
    """A JSON Feed 1.1 document as UTF-8 bytes, items newest first.

    `now` is accepted for symmetry with the XML formats; JSON Feed has no feed-level date.
    """
    del now
    links = links or FeedLinks(server.base_url, info.slug)
    chosen = ordered(items)
    document: dict[str, Any] = {
        "version": VERSION,
        "title": xml_text(info.title) or info.slug,
        "home_page_url": links.page,
        "feed_url": links.feed("json"),
        "description": xml_text(info.description),
        "icon": links.asset(ICON_PATH),
        "favicon": links.asset(FAVICON_PATH),
        "authors": [{"name": xml_text(server.title) or GENERATOR_NAME, "url": links.home}],
    }
    language = dominant_language(chosen)
    if language:
        document["language"] = language
    document["_aggregator"] = {
        "about": PROJECT_URL,
        "generator": {"name": GENERATOR_NAME, "version": __version__, "url": PROJECT_URL},
        "slug": info.slug,
    }
    document["items"] = [_item(item, links, topic_titles) for item in chosen]
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def _item(item: FeedItem, links: FeedLinks, titles: Mapping[str, str] | None) -> dict[str, Any]:
    article = item.article
    out: dict[str, Any] = {"id": item_id(article.source, article.id)}
    if article.url:
        out["url"] = xml_text(article.url)
    out["title"] = item_title(item)
    content = item_content(item) or xml_text(article.summary)
    content = with_also_reported(item, "", content)[1]  # "Also reported by", if any
    if content:
        out["content_html"] = content
    else:
        out["content_text"] = xml_text(article.text) or out["title"]
    summary = plain_summary(item)
    if summary:
        out["summary"] = summary
    out["date_published"] = rfc3339(article.published)
    out["date_modified"] = rfc3339(item_updated(item))
    authors = [name for name in (xml_text(a).strip() for a in article.authors) if name]
    if authors:
        out["authors"] = [{"name": name} for name in authors]
    topics, tags = categories(item)
    if topics or tags:
        out["tags"] = list(dict.fromkeys((*topics, *tags)))
    if article.language:
        out["language"] = article.language
    attachments = [
        _attachment(e.url, e.type, e.length, e.title) for e in article.enclosures if e.url
    ]
    if attachments:
        out["attachments"] = attachments
    source: dict[str, Any] = {"name": item.source_name, "url": xml_text(item.source_url)}
    source["title"] = source_label(item)
    if item.source_link:
        source["link"] = xml_text(item.source_link)
    out["_aggregator"] = {
        "source": source,
        "topics": [
            {
                "slug": match.topic,
                "title": topic_title(match.topic, titles),
                "url": f"{links.topics_scheme}{match.topic}",
                "score": match.score,
                "terms": list(match.terms),
            }
            for match in item.topics
        ],
        "language": article.language,
        **story_extension(item),  # "story" and "also_reported_by", see storyfeed
        **policy_extension(item),  # "policy", for articles from policy-document pages
    }
    return out


def _attachment(url: str, kind: str | None, size: int | None, title: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"url": url, "mime_type": kind or "application/octet-stream"}
    if title:
        out["title"] = xml_text(title)
    if size:
        out["size_in_bytes"] = size
    return out
