"""Articles, feed items, topics and a filled SQLite store for the publish, web and browser tests.

item(3, topics=("policy",))        a FeedItem 3 hours older than NOW, in topic "policy"
nasty_items()                      the content that breaks naive writers
fill_store(store, items)           store the items' sources, articles and topic matches
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import html as lxml_html

from aggregator.models import (
    Article,
    Config,
    Enclosure,
    FeedItem,
    ServerConfig,
    SourceConfig,
    SourceState,
    TopicMatch,
)
from aggregator.store import Store
from aggregator.topicspec import TopicSpec

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
BASE_URL = "https://feeds.example.org"
SERVER = ServerConfig(base_url=BASE_URL, title="Example News", feed_limit=50)
TOPICS = (
    TopicSpec(slug="manufacturing", title="Manufacturing", description="Factories and chips."),
    TopicSpec(slug="policy", title="Policy", description="Laws, rules & regulators."),
)
TITLES = {spec.slug: spec.title for spec in TOPICS}
SOURCES = {
    "gov-policy": ("https://gov.example.cn/rss.xml", "国务院 Policy", "https://gov.example.cn/"),
    "factory-news": ("https://factory.example.com/feed", None, None),
}


def article(n: int, *, source: str = "gov-policy", **changes: Any) -> Article:
    """Article `n` of `source`, published `n` hours before NOW."""
    published = NOW - timedelta(hours=n)
    values: dict[str, Any] = {
        "source": source,
        "id": f"{source}-entry-{n}",
        "url": f"https://{source}.example.com/articles/{n}",
        "title": f"Article {n} from {source}",
        "summary": f"<p>Summary of article {n}.</p>",
        "content": f"<p>Full text of article {n}, with <b>markup</b>.</p>",
        "text": f"Full text of article {n}, with markup.",
        "published": published,
        "first_seen": published,
        "content_hash": f"hash-{source}-{n}",
        "authors": (f"Author {n}",),
        "tags": ("news",),
        "language": "en",
    }
    values.update(changes)
    return Article(**values)


def item(
    n: int,
    *,
    source: str = "gov-policy",
    topics: Sequence[str] = ("policy",),
    **changes: Any,
) -> FeedItem:
    """A FeedItem for article `n` of `source`, matched to `topics`."""
    url, title, link = SOURCES.get(source, (f"https://{source}.example.com/feed", None, None))
    return FeedItem(
        article=article(n, source=source, **changes),
        source_name=source,
        source_url=url,
        source_title=title,
        source_link=link,
        source_tags=("government",) if source == "gov-policy" else (),
        topics=tuple(TopicMatch(t, 5.0, ("rule",)) for t in topics),
    )


def nasty_items() -> list[FeedItem]:
    """Items with markup in titles, CDATA breakers, control characters, Chinese, no author."""
    chinese = "工业和信息化部发布《智能制造标准体系建设指南》，推动制造业高质量发展。"
    return [
        item(
            1,
            title="Tariffs <rise> & fall: \"quotes\" 'too'",
            content="<p>Code: <code>a[b[0]]]]&gt;</code> ]]> end &amp; more</p>",
            summary="<p>x &lt; y &amp;&amp; y &gt; z</p>",
        ),
        item(
            2,
            source="factory-news",
            topics=("manufacturing", "policy"),
            title="Control\x00 chars\x08 in\x1b title\x7f",
            content="<p>bell\x07 form\x0c feed \ufffe</p>",
            summary="",
            authors=(),
            tags=("a\x01b",),
            language="zh",
        ),
        item(
            3,
            source="factory-news",
            topics=("manufacturing",),
            title="制造业：新质生产力",
            content=f"<p>{chinese}</p>",
            summary=f"<p>{chinese}</p>",
            text=chinese,
            authors=("记者 张三",),
            language="zh",
        ),
        item(
            4,
            title="",
            url=None,
            content="",
            summary="",
            text="An entry with no title, link, author or date of its own.",
            authors=(),
            date_is_first_seen=True,
            enclosures=(
                Enclosure("https://cdn.example.com/a.mp3", "audio/mpeg", 1234, "Audio"),
                Enclosure("https://cdn.example.com/b.pdf", None, None),
            ),
        ),
    ]


def changed(feed_item: FeedItem, **changes: Any) -> FeedItem:
    """`feed_item` with its article changed (same source and id)."""
    return replace(feed_item, article=replace(feed_item.article, **changes))


def source_configs() -> tuple[SourceConfig, ...]:
    """The test sources as configured (gov-policy tagged "government")."""
    return tuple(
        SourceConfig(name=name, url=url, tags=("government",) if name == "gov-policy" else ())
        for name, (url, _, _) in SOURCES.items()
    )


def config(database_url: str, server: ServerConfig = SERVER) -> Config:
    """A config with the two test topics, the test sources and `server`."""
    return Config(
        path="aggregator.yaml",
        database_url=database_url,
        sources=source_configs(),
        topics=TOPICS,
        server=server,
    )


def fill_store(store: Store, items: Iterable[FeedItem], now: datetime = NOW) -> None:
    """Store the items' sources (synced from `config`), articles and topic matches."""
    by_source: dict[str, list[FeedItem]] = {}
    for feed_item in items:
        by_source.setdefault(feed_item.source_name, []).append(feed_item)
    store.sync_sources(source_configs(), now)
    ids = {source.name: source.id for source in store.sources()}
    for name, found in by_source.items():
        url, title, link = SOURCES[name]
        state = SourceState(
            url=url,
            etag=None,
            last_modified=None,
            last_fetched_at=now,
            next_fetch_at=now + timedelta(minutes=30),
            last_status="ok",
            last_error=None,
            error_streak=0,
            title=title,
            link=link,
        )
        store.save_update(
            ids[name],
            state,
            [i.article for i in found],
            {i.article.id: list(i.topics) for i in found},
        )


def html_tree(document: bytes | str) -> Any:
    """An HTML document parsed by lxml (typed Any: XPath results are lists of anything)."""
    return lxml_html.fromstring(document)
