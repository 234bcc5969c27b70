"""What a published feed says about itself and its items, in every output format.

`FeedInfo` names a feed (a topic, or "all"); `FeedLinks` spells its absolute URLs; the
helpers here give each item its stable id, its dates, its categories and XML-safe text, so
RSS, Atom, JSON Feed and the HTML pages all agree. Pure functions, no I/O.
"""

from __future__ import annotations

import html
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from aggregator import PROJECT_URL, __version__
from aggregator.models import FeedItem
from aggregator.topicspec import TopicSpec

FeedFormat = Literal["rss", "atom", "json"]

FORMAT_EXTENSIONS: dict[FeedFormat, str] = {"rss": "xml", "atom": "atom", "json": "json"}
"""The file extension of each feed format, as in `/feeds/<slug>.<ext>`."""

MEDIA_TYPES: dict[FeedFormat, str] = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
"""The media type of each feed format (without charset)."""

ALL_SLUG = "all"
GENERATOR_NAME = "aggregator"
GENERATOR_TEXT = f"{GENERATOR_NAME} {__version__} (+{PROJECT_URL})"
ICON_PATH = "static/icon.png"  # 144 x 144, square
FAVICON_PATH = "static/icon.svg"
ICON_SIZE = 144
LANGUAGE_SHARE = 0.8  # a feed declares a language when this share of its items have it

_ITEM_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, PROJECT_URL + "#item")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class FeedInfo:
    """What a feed is about: a topic, or "all"; from config to publish and serve."""

    slug: str
    title: str
    description: str

    @classmethod
    def for_topic(cls, spec: TopicSpec) -> FeedInfo:
        """The feed of one configured topic."""
        return cls(spec.slug, spec.title, spec.description or spec.title)

    @classmethod
    def all(cls, site_title: str) -> FeedInfo:
        """The feed of every article, whatever its topics (slug "all")."""
        return cls(ALL_SLUG, f"{site_title}: all articles", f"Every article {site_title} collects.")


@dataclass(frozen=True)
class FeedLinks:
    """The absolute URLs of one feed under a public base URL."""

    base_url: str
    slug: str

    @property
    def home(self) -> str:
        """The site's front page."""
        return self.base_url.rstrip("/") + "/"

    @property
    def page(self) -> str:
        """The feed's HTML page (its alternate link and its id)."""
        return f"{self.base_url.rstrip('/')}/topics/{self.slug}"

    def feed(self, fmt: FeedFormat) -> str:
        """The feed document in one format (its self link)."""
        return f"{self.base_url.rstrip('/')}/feeds/{self.slug}.{FORMAT_EXTENSIONS[fmt]}"

    def asset(self, path: str) -> str:
        """A static file of the site, e.g. the icon."""
        return f"{self.base_url.rstrip('/')}/{path}"

    @property
    def topics_scheme(self) -> str:
        """The URI that names our topic taxonomy (category scheme/domain)."""
        return f"{self.base_url.rstrip('/')}/topics/"


def item_id(source_name: str, article_id: str) -> str:
    """The stable id of a published item: a name-based UUID URN of (source name, article id)."""
    return "urn:uuid:" + str(uuid.uuid5(_ITEM_NAMESPACE, f"{source_name}\n{article_id}"))


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (and the C1 controls it discourages)."""
    return _NOT_XML.sub("", text)


def utc(moment: datetime) -> datetime:
    """`moment` as aware UTC without microseconds (naive values are taken as UTC)."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.replace(microsecond=0)


def rfc3339(moment: datetime) -> str:
    """`moment` in RFC 3339, UTC, e.g. 2024-05-01T08:00:00Z."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def item_updated(item: FeedItem) -> datetime:
    """When the item last changed: its updated date, never earlier than its published date."""
    published = utc(item.article.published)
    updated = item.article.updated
    return max(published, utc(updated)) if updated is not None else published


def ordered(items: Iterable[FeedItem]) -> list[FeedItem]:
    """Items newest first by published date, one per stable id (the first seen wins)."""
    seen: set[str] = set()
    unique: list[FeedItem] = []
    for item in items:
        key = item_id(item.article.source, item.article.id)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return sorted(
        unique,
        key=lambda i: (utc(i.article.published), i.article.source, i.article.id),
        reverse=True,
    )


def feed_updated(items: Sequence[FeedItem], now: datetime) -> datetime:
    """When a feed last changed: its newest item's updated date, else `now`."""
    return max((item_updated(i) for i in items), default=utc(now))


def dominant_language(items: Sequence[FeedItem]) -> str | None:
    """The language of at least `LANGUAGE_SHARE` of the items that have one, else None."""
    languages = Counter(i.article.language for i in items if i.article.language)
    if not languages:
        return None
    language, count = languages.most_common(1)[0]
    return language if count >= LANGUAGE_SHARE * sum(languages.values()) else None


def item_title(item: FeedItem) -> str:
    """The item's title as plain text; a short excerpt when the article has none."""
    title = xml_text(item.article.title).strip()
    if title:
        return title
    return excerpt(item.article.text, 80) or "(untitled)"


def source_label(item: FeedItem) -> str:
    """The name readers see for the item's source: its own title, else its configured name."""
    return xml_text(item.source_title or item.source_name).strip() or item.source_name


def categories(item: FeedItem) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(topic slugs, other tags): its topics; then its source's and its own tags, not repeated."""
    topics = tuple(dict.fromkeys(m.topic for m in item.topics))
    tags = tuple(
        tag
        for tag in dict.fromkeys(
            xml_text(t).strip() for t in (*item.source_tags, *item.article.tags)
        )
        if tag and tag not in topics
    )
    return topics, tags


def topic_title(slug: str, titles: Mapping[str, str] | None) -> str:
    """A topic's title when known, else its slug."""
    return (titles or {}).get(slug, slug)


def excerpt(text: str, limit: int) -> str:
    """Plain `text` with whitespace collapsed, cut at a word near `limit` characters."""
    flat = _SPACE.sub(" ", xml_text(text)).strip()
    if len(flat) <= limit:
        return flat
    window = flat[:limit]
    space = window.rfind(" ")
    cut = window[:space] if space >= limit // 2 else window  # Chinese text has no spaces
    return cut.rstrip(" ,.;:，。；：") + "…"


def plain_summary(item: FeedItem, limit: int = 280) -> str:
    """A plain-text summary of the item: its summary without markup, else its text."""
    source = item.article.summary or ""
    plain = html.unescape(_TAG.sub(" ", source)) if source else item.article.text
    return excerpt(plain, limit)


def policy_line(item: FeedItem) -> str | None:
    """The policy-document line shown atop an item: "文号 … · 发文机关 … · 成文日期 …"."""
    policy = item.article.policy
    if policy is None:
        return None
    parts = [
        f"{label} {value}"
        for label, value in (
            ("文号", policy.doc_number),
            ("发文机关", policy.issuer),
            ("成文日期", _chinese_date(policy.written)),
            ("发布日期", _chinese_date(policy.published)),
        )
        if value
    ]
    return xml_text(" · ".join(parts)) if parts else None


def item_content(item: FeedItem) -> str:
    """The item's content HTML, XML-safe, after its policy line when it has one."""
    content = xml_text(item.article.content)
    line = policy_line(item)
    if not content or line is None:
        return content
    return f'<p class="policy">{html.escape(line, quote=False)}</p>{content}'


def policy_extension(item: FeedItem) -> dict[str, dict[str, str]]:
    """`{"policy": {...}}` for JSON Feed's `_aggregator` object, or {} when there is none."""
    policy = item.article.policy
    if policy is None:
        return {}
    fields = {
        "doc_number": policy.doc_number,
        "issuer": policy.issuer,
        "written": policy.written.isoformat() if policy.written else None,
        "published": policy.published.isoformat() if policy.published else None,
    }
    return {"policy": {key: xml_text(value) for key, value in fields.items() if value}}


def _chinese_date(day: date | None) -> str | None:
    return f"{day.year}年{day.month}月{day.day}日" if day is not None else None
