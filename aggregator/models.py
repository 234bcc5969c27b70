"""The data, named by where it sits.

    SourceConfig (YAML, config) ──sync──► Source (stored, with its fetch state)
    FetchRequest ─► FetchResult (fetch) ─► ParsedFeed / ParsedEntry (parse)
        ─► Article (normalize, then stored) ─► TopicMatch (classify, then stored)
    UpdateResult: one per source per pass, what `fetch` and the daemon report.

All are frozen dataclasses of plain values; datetimes are timezone-aware UTC unless a
field says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from aggregator import USER_AGENT
from aggregator.topicspec import TopicSpec

# ---------------------------------------------------------------- config

DEFAULT_INTERVAL = 30 * 60
"""Seconds between fetches of a source that names no interval."""

DEFAULT_BUSY_TIMEOUT = 30.0
"""Seconds a database write waits for another writer's lock before it fails (and is retried)."""

DEFAULT_MIN_INTERVAL = 5 * 60
"""Seconds: the floor of a source's interval unless its `min_interval` says otherwise."""

DEFAULT_MAX_INTERVAL = 24 * 3600
"""Seconds: the longest interval `interval: auto` chooses unless `max_interval` says otherwise."""


DEFAULT_MAX_NEW_PER_PASS = 20
"""Article pages a page source (or a `full_text` feed) fetches at most in one pass."""
ZH_TIMEZONE = "Asia/Shanghai"
"""The zone of a Chinese source's zone-less dates when it names no `timezone`."""


@dataclass(frozen=True)
class PageRules:
    """How a `type: page` source finds its articles on its list page; `page:` in the config.

    With `item`, each element it matches is one article (`link`, `title`, `date` select inside
    it); without, every link of the page is a candidate, kept by `include`/`exclude` (regexes
    searched in the absolute URL) or, with no `include`, when it looks like an article link.
    """

    item: str | None = None  # CSS selector of each article's element on the list page
    link: str | None = None  # CSS inside an item: its link (default: the first a[href])
    title: str | None = None  # CSS inside an item: its title (default: the link's text)
    date: str | None = None  # CSS inside an item: its date (default: a date in its text)
    next: str | None = None  # CSS selector of the next list page's link
    max_pages: int = 3  # list pages read per pass when `next` is given
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceConfig:
    """A source as the operator wrote it in YAML; synced into storage as a `Source`."""

    name: str
    url: str
    interval: int | None = None  # seconds; None means DEFAULT_INTERVAL
    auto_interval: bool = False  # `interval: auto`: follow the feed's own rhythm
    min_interval: int = DEFAULT_MIN_INTERVAL  # seconds; never fetched more often
    max_interval: int = DEFAULT_MAX_INTERVAL  # seconds; the longest `interval: auto` chooses
    tags: tuple[str, ...] = ()
    language: str | None = None
    enabled: bool = True
    timezone: str | None = None  # IANA name; dates without a zone are read in it
    headers: tuple[tuple[str, str], ...] = ()
    type: Literal["feed", "page"] = "feed"
    page: PageRules | None = None  # type: page; None reads the page's links by pattern
    content: str | None = None  # CSS selector of an article page's main content
    full_text: bool = False  # type: feed: fetch each new entry's page for its full text
    max_new_per_pass: int = DEFAULT_MAX_NEW_PER_PASS  # article pages fetched per pass
    file: str | None = None  # the YAML file and line it came from, for messages
    line: int | None = None

    @property
    def zone(self) -> str | None:
        """`timezone`, else ZH_TIMEZONE for a source in Chinese (`zh`, `zh-CN` …), else None."""
        chinese = (self.language or "").lower().replace("_", "-").split("-")[0] == "zh"
        return self.timezone or (ZH_TIMEZONE if chinese else None)

    @property
    def fetches_pages(self) -> bool:
        """True when a page pass serves the source: `type: page`, or a feed with `full_text`."""
        return self.type == "page" or self.full_text


@dataclass(frozen=True)
class FetchSettings:
    """How politely and how hard we fetch; `fetch:` in the config."""

    concurrency: int = 64  # requests in flight at once, over all hosts
    per_host: int = 2  # requests in flight at once to one host
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_bytes: int = 20 * 1024 * 1024
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class ServerConfig:
    """Where `serve` listens and how published feeds name themselves; `server:` in the config."""

    host: str = "127.0.0.1"
    port: int = 8080
    base_url: str = "http://127.0.0.1:8080"  # public base URL, for self links
    title: str = "aggregator"
    feed_limit: int = 50  # items per published feed (at most 500)


@dataclass(frozen=True)
class WorkerSettings:
    """How daemon processes share the due sources (see store_leases); `workers:` in the config."""

    lease: float = 300.0  # seconds a claimed source stays with its worker; > fetch timeouts
    claim_batch: int = 256  # most sources one worker holds (claims per tick, in flight) at once


@dataclass(frozen=True)
class StorySettings:
    """How near-duplicate articles are grouped into stories; `stories:` in the config."""

    threshold: float = 0.5  # estimated Jaccard similarity that joins a story (0.3 to 0.95)


@dataclass(frozen=True)
class Config:
    """A whole validated configuration; from config to every other part."""

    path: str
    database_url: str
    sources: tuple[SourceConfig, ...] = ()
    topics: tuple[TopicSpec, ...] = ()
    server: ServerConfig = field(default_factory=ServerConfig)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    database_busy_timeout: float = DEFAULT_BUSY_TIMEOUT  # seconds; `database.busy_timeout`
    stories: StorySettings = field(default_factory=StorySettings)
    workers: WorkerSettings = field(default_factory=WorkerSettings)


# ---------------------------------------------------------------- stored sources

SourceStatus = Literal["ok", "not_modified", "error", "gone"]


@dataclass(frozen=True)
class FeedHints:
    """What a feed says about its own schedule; kept with the source, since a 304 says nothing.

    From the parsed document (and its entries' dates) to the stored source and `schedule`.
    """

    ttl: int | None = None  # minutes, RSS <ttl>
    skip_hours: tuple[int, ...] = ()  # hours 0-23 in UTC when not to fetch (RSS <skipHours>)
    skip_days: tuple[int, ...] = ()  # weekdays, Monday = 0, when not to fetch (<skipDays>)
    entries_per_day: float | None = None  # the feed's recent rhythm, for `interval: auto`


@dataclass(frozen=True)
class Source:
    """A source as stored, with its fetch state; from store to core, cli and serve."""

    id: int
    name: str
    url: str  # where we fetch now (a 301/308 may have moved it from config_url)
    config_url: str  # as the config says
    enabled: bool
    etag: str | None = None
    last_modified: str | None = None
    last_fetched_at: datetime | None = None
    next_fetch_at: datetime | None = None
    last_status: SourceStatus | None = None
    last_error: str | None = None
    error_streak: int = 0
    disabled_reason: str | None = None
    title: str | None = None  # the feed's own title, once fetched
    link: str | None = None  # the feed's own home page, once fetched
    article_count: int = 0
    empty_streak: int = 0  # successful fetches in a row that found no entries at all
    hints: FeedHints | None = None  # from the last fetched document


@dataclass(frozen=True)
class SourceState:
    """What one pass decided about a source; from core to store (written with its articles)."""

    url: str
    etag: str | None
    last_modified: str | None
    last_fetched_at: datetime
    next_fetch_at: datetime
    last_status: SourceStatus
    last_error: str | None
    error_streak: int
    enabled: bool = True
    disabled_reason: str | None = None
    title: str | None = None
    link: str | None = None
    empty_streak: int = 0
    hints: FeedHints | None = None  # None keeps the stored hints (e.g. on a 304 or an error)


# ---------------------------------------------------------------- fetch

FetchStatus = Literal["ok", "not_modified", "error", "gone"]


@dataclass(frozen=True)
class FetchRequest:
    """One conditional GET to make; from core to fetch."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FetchResult:
    """What one request returned; from fetch to core. Failure is a value here, never raised."""

    url: str  # as requested
    status: FetchStatus
    http_status: int | None = None
    body: bytes = b""
    content_type: str | None = None  # media type only, lower-case, e.g. "application/rss+xml"
    charset: str | None = None  # from the Content-Type header, if any
    final_url: str | None = None  # after all redirects
    permanent_url: str | None = None  # set when a 301/308 chain ended in success
    etag: str | None = None  # exactly as received
    last_modified: str | None = None  # exactly as received
    retry_after: datetime | None = None  # from Retry-After on 429/503
    max_age: int | None = None  # seconds, from Cache-Control max-age or Expires
    error: str | None = None  # one line, when status is "error" or "gone"
    elapsed_ms: int = 0


# ---------------------------------------------------------------- parse


@dataclass(frozen=True)
class Enclosure:
    """A media file attached to an entry (RSS enclosure, Atom rel=enclosure, JSON attachment)."""

    url: str
    type: str | None = None
    length: int | None = None
    title: str | None = None


@dataclass(frozen=True)
class PolicyInfo:
    """What a policy document's page says about the document; from extract to the stored Article.

    Shown in published items; None fields were not found on the page.
    """

    doc_number: str | None = None  # 文号, e.g. "工信部规〔2024〕3号" (brackets made 〔〕)
    issuer: str | None = None  # 发文机关; several are joined with "、"
    written: date | None = None  # 成文日期
    published: date | None = None  # 发布日期


@dataclass(frozen=True)
class ExtractedPage:
    """One web page's main content and metadata; from extract to the page-source pipeline.

    `content` is sanitized HTML (page furniture removed), `text` its plain rendition.
    """

    url: str
    title: str | None
    content: str
    text: str
    published: datetime | None = None  # aware UTC
    author: str | None = None
    language: str | None = None
    images: tuple[str, ...] = ()  # absolute URLs of the content's images, in order
    keywords: tuple[str, ...] = ()
    source: str | None = None  # who the page says wrote it first (ContentSource, 来源)
    policy: PolicyInfo | None = None


@dataclass(frozen=True)
class ParsedEntry:
    """One entry as the document gave it; from parse to normalize.

    Text fields are as found (HTML fragments for summary/content); dates are naive when the
    document gave no time zone, aware otherwise.
    """

    id: str | None = None
    link: str | None = None
    title: str | None = None
    title_is_html: bool = False
    summary: str | None = None  # HTML fragment
    content: str | None = None  # HTML fragment
    base: str | None = None  # xml:base in effect for the entry's HTML, if any
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()
    published: datetime | None = None
    updated: datetime | None = None
    language: str | None = None
    policy: PolicyInfo | None = None  # from an extracted page of a policy document


@dataclass(frozen=True)
class ParsedFeed:
    """A whole feed document as parsed; from parse to core."""

    format: str  # e.g. "rss20", "rss10", "rss09x", "atom10", "atom03", "json10", "json11"
    title: str | None = None
    link: str | None = None
    language: str | None = None
    ttl: int | None = None  # minutes, from RSS <ttl>
    skip_hours: tuple[int, ...] = ()  # RSS <skipHours>: hours 0-23 (GMT), sorted
    skip_days: tuple[int, ...] = ()  # RSS <skipDays>: weekdays, Monday = 0, sorted
    entries: tuple[ParsedEntry, ...] = ()
    problem: str | None = None  # set when entries were salvaged from a malformed document


# ---------------------------------------------------------------- normalize / store


@dataclass(frozen=True)
class Article:
    """An entry normalized for storage; from normalize to store, and read back from store."""

    source: str  # source name
    id: str  # stable within the source
    url: str | None  # canonical
    title: str
    summary: str  # sanitized HTML
    content: str  # sanitized HTML (may be empty when the feed gives only a summary)
    text: str  # plain-text rendition of content, else summary
    published: datetime  # UTC; first_seen when the entry had no date
    first_seen: datetime  # UTC; kept across updates
    content_hash: str
    updated: datetime | None = None
    date_is_first_seen: bool = False
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()
    language: str | None = None
    policy: PolicyInfo | None = None  # policy-document fields, from an extracted page
    pk: int | None = None  # the database key, set when read back from store


@dataclass(frozen=True)
class TopicMatch:
    """Why an article is in a topic; from classify to store and publish."""

    topic: str  # slug
    score: float
    terms: tuple[str, ...]  # the terms (or rules) that matched


@dataclass(frozen=True)
class StoryMember:
    """Another source's copy of a feed item's story; from store to publish ("also reported by")."""

    source_name: str
    source_title: str | None  # the feed's own title, else None
    url: str | None  # the copy's canonical URL
    title: str


@dataclass(frozen=True)
class FeedItem:
    """An article as a topical feed shows it, with its source and topics; from store to publish."""

    article: Article
    source_name: str
    source_url: str  # the source's feed (or page) URL
    source_title: str | None = None  # the feed's own title, else None
    source_link: str | None = None  # the source's home page, if known
    source_tags: tuple[str, ...] = ()
    topics: tuple[TopicMatch, ...] = ()
    story: int | None = None  # its story's id, when the article is its story's representative
    also_reported_by: tuple[StoryMember, ...] = ()  # the story's copies from other sources


# ---------------------------------------------------------------- results


UpdateStatus = Literal["ok", "not_modified", "error", "gone"]


@dataclass(frozen=True)
class UpdateResult:
    """What one pass did to one source; from core to cli, daemon and logs."""

    source: str
    status: UpdateStatus
    new: int = 0
    updated: int = 0
    ms: int = 0
    reason: str | None = None  # one line, for errors and salvaged documents
    moved_to: str | None = None  # new URL after a permanent redirect
    bytes: int = 0  # response body size, as received
    entries: int | None = None  # entries in the fetched document, when one was parsed
    lag_ms: int | None = None  # how late the fetch started after the source was due
