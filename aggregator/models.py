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
from datetime import datetime
from typing import Literal

from aggregator import USER_AGENT
from aggregator.topicspec import TopicSpec

# ---------------------------------------------------------------- config

DEFAULT_INTERVAL = 30 * 60
"""Seconds between fetches of a source that names no interval."""


@dataclass(frozen=True)
class SourceConfig:
    """A source as the operator wrote it in YAML; synced into storage as a `Source`."""

    name: str
    url: str
    interval: int | None = None  # seconds; None means DEFAULT_INTERVAL
    tags: tuple[str, ...] = ()
    language: str | None = None
    enabled: bool = True
    timezone: str | None = None  # IANA name; dates without a zone are read in it
    headers: tuple[tuple[str, str], ...] = ()
    type: Literal["feed"] = "feed"
    file: str | None = None  # the YAML file and line it came from, for messages
    line: int | None = None


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
class Config:
    """A whole validated configuration; from config to every other part."""

    path: str
    database_url: str
    sources: tuple[SourceConfig, ...] = ()
    topics: tuple[TopicSpec, ...] = ()
    server: ServerConfig = field(default_factory=ServerConfig)
    fetch: FetchSettings = field(default_factory=FetchSettings)


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


@dataclass(frozen=True)
class ParsedFeed:
    """A whole feed document as parsed; from parse to core."""

    format: str  # e.g. "rss20", "rss10", "rss09x", "atom10", "atom03", "json10", "json11"
    title: str | None = None
    link: str | None = None
    language: str | None = None
    ttl: int | None = None  # minutes, from RSS <ttl>
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
    pk: int | None = None  # the database key, set when read back from store


@dataclass(frozen=True)
class TopicMatch:
    """Why an article is in a topic; from classify to store and publish."""

    topic: str  # slug
    score: float
    terms: tuple[str, ...]  # the terms (or rules) that matched


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
