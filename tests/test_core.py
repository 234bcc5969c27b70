"""The update pipeline against a fake fetcher and a real SQLite store.

The fetcher is the one swappable edge (a Protocol); everything else is real: parse, normalize,
classify, the schedule decision and the database.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.core import Updater
from aggregator.models import (
    Config,
    FeedHints,
    FetchRequest,
    FetchResult,
    Source,
    SourceConfig,
    UpdateResult,
)
from aggregator.outcome import decide_state, log_result, quote
from aggregator.process import MIN_JOBS_FOR_POOL, Processed
from aggregator.schedule import FIRST_FETCH_RATE
from aggregator.store import Store
from aggregator.topicspec import RuleSpec, TopicSpec

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def rss(*items: tuple[str, str], title: str = "Example") -> bytes:
    body = "".join(
        f"<item><guid>{guid}</guid><title>{t}</title><link>https://example.test/{guid}</link>"
        f"<description>&lt;p&gt;{t} body&lt;/p&gt;</description>"
        f"<pubDate>Sun, 01 Mar 2026 07:00:00 +0000</pubDate></item>"
        for guid, t in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.test/</link><description>d</description>{body}</channel></rss>"
    ).encode()


class FakeFetcher:
    """Answers each URL with a canned result and counts the requests."""

    def __init__(self, answers: dict[str, FetchResult]) -> None:
        self.answers = answers
        self.requests: list[FetchRequest] = []

    async def fetch(self, request: FetchRequest) -> FetchResult:
        self.requests.append(request)
        return self.answers[request.url]


def ok(url: str, body: bytes, **kw: object) -> FetchResult:
    return FetchResult(
        url=url, status="ok", http_status=200, body=body, content_type="application/rss+xml", **kw
    )  # type: ignore[arg-type]


TOPICS = (
    TopicSpec(
        slug="manufacturing",
        title="Manufacturing",
        threshold=1,
        rules=(RuleSpec(terms=("factory", "制造业")),),
    ),
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield s
    s.close()


def config_for(*names: str) -> Config:
    sources = tuple(SourceConfig(name=n, url=f"https://{n}.test/feed") for n in names)
    return Config(path="test.yaml", database_url="sqlite://", sources=sources, topics=TOPICS)


def run_pass(
    config: Config, store: Store, fetcher: FakeFetcher, now: datetime = NOW, workers: int = 0
) -> list[UpdateResult]:
    with Updater(config, store, fetcher=fetcher, workers=workers, rng=random.Random(1)) as updater:
        updater.sync(now)
        return asyncio.run(updater.update(now=now))


def test_a_pass_stores_articles_and_topic_matches(store: Store) -> None:
    config = config_for("a")
    url = "https://a.test/feed"
    fetcher = FakeFetcher(
        {url: ok(url, rss(("1", "New factory opens"), ("2", "Weather")), etag='"x"')}
    )
    [result] = run_pass(config, store, fetcher)
    assert (result.status, result.new, result.updated) == ("ok", 2, 0)
    items = store.topic_items("manufacturing", 10)
    assert [i.article.title for i in items] == ["New factory opens"]
    source = store.source("a")
    assert source is not None
    assert (source.etag, source.last_status, source.error_streak) == ('"x"', "ok", 0)
    assert source.title == "Example"
    assert source.next_fetch_at is not None and source.next_fetch_at > NOW


def test_a_big_pass_parses_on_a_worker_process(store: Store) -> None:
    names = [f"s{i}" for i in range(MIN_JOBS_FOR_POOL + 2)]
    config = config_for(*names)
    answers = {
        f"https://{n}.test/feed": ok(f"https://{n}.test/feed", rss((f"{n}-1", f"{n} factory news")))
        for n in names
    }
    results = run_pass(config, store, FakeFetcher(answers), workers=1)
    assert {(r.status, r.new) for r in results} == {("ok", 1)}
    assert len(store.topic_items("manufacturing", 100)) == len(names)


def test_second_pass_sends_validators_and_writes_nothing(store: Store) -> None:
    config = config_for("a")
    url = "https://a.test/feed"
    first = ok(url, rss(("1", "One")), etag='"v1"', last_modified="Sun, 01 Mar 2026 07:00:00 GMT")
    run_pass(config, store, FakeFetcher({url: first}))
    version = store.data_version()
    fetcher = FakeFetcher({url: FetchResult(url=url, status="not_modified", http_status=304)})
    [result] = run_pass(config, store, fetcher, NOW + timedelta(hours=1))
    assert result.status == "not_modified" and result.new == 0
    assert fetcher.requests[0].etag == '"v1"'
    assert fetcher.requests[0].last_modified == "Sun, 01 Mar 2026 07:00:00 GMT"
    assert store.data_version() == version
    source = store.source("a")
    assert source is not None and source.etag == '"v1"'


def test_only_due_sources_are_fetched(store: Store) -> None:
    config = config_for("a")
    url = "https://a.test/feed"
    run_pass(config, store, FakeFetcher({url: ok(url, rss(("1", "One")))}))
    fetcher = FakeFetcher({})
    assert run_pass(config, store, fetcher, NOW + timedelta(minutes=1)) == []
    assert fetcher.requests == []


def test_one_failing_source_does_not_stop_the_others(store: Store) -> None:
    config = config_for("good", "down", "html")
    answers = {
        "https://good.test/feed": ok("https://good.test/feed", rss(("1", "One"))),
        "https://down.test/feed": FetchResult(
            url="https://down.test/feed", status="error", error="connection refused"
        ),
        "https://html.test/feed": FetchResult(
            url="https://html.test/feed",
            status="ok",
            http_status=200,
            body=b"<!doctype html><html><body><p>Hello</p></body></html>",
            content_type="text/html",
        ),
    }
    results = {r.source: r for r in run_pass(config, store, FakeFetcher(answers))}
    assert results["good"].status == "ok" and results["good"].new == 1
    assert results["down"].status == "error" and results["down"].reason == "connection refused"
    assert results["html"].status == "error"
    assert results["html"].reason == "not a feed (got text/html)"
    down = store.source("down")
    assert down is not None and down.error_streak == 1 and down.last_error == "connection refused"


def test_permanent_redirect_moves_the_source(store: Store) -> None:
    config = config_for("a")
    url, new = "https://a.test/feed", "https://a.test/new-feed"
    answer = ok(url, rss(("1", "One")), final_url=new, permanent_url=new)
    [result] = run_pass(config, store, FakeFetcher({url: answer}))
    assert result.moved_to == new
    source = store.source("a")
    assert source is not None and source.url == new and source.config_url == url


def test_gone_disables_the_source(store: Store) -> None:
    config = config_for("a")
    url = "https://a.test/feed"
    answer = FetchResult(url=url, status="gone", http_status=410, error="410 Gone")
    [result] = run_pass(config, store, FakeFetcher({url: answer}))
    assert result.status == "gone"
    source = store.source("a")
    assert source is not None and not source.enabled
    assert source.disabled_reason == "gone: 410 Gone"


def test_failure_keeps_articles_already_stored(store: Store) -> None:
    config = config_for("a")
    url = "https://a.test/feed"
    run_pass(config, store, FakeFetcher({url: ok(url, rss(("1", "One"), ("2", "Two")))}))
    broken = FetchResult(
        url=url, status="error", http_status=500, error="HTTP 500 Internal Server Error"
    )
    run_pass(config, store, FakeFetcher({url: broken}), NOW + timedelta(hours=2))
    assert len(store.articles("a")) == 2


def test_schedule_hints_are_stored_and_kept_over_a_304(store: Store) -> None:
    config = config_for("a")
    url = "https://a.test/feed"
    items = "".join(
        f"<item><guid>{i}</guid><title>Item {i}</title>"
        f"<pubDate>Sun, 01 Mar 2026 0{i}:00:00 +0000</pubDate></item>"
        for i in range(1, 7)
    )
    body = (
        '<rss version="2.0"><channel><title>T</title><ttl>90</ttl>'
        "<skipHours><hour>3</hour><hour>4</hour></skipHours>"
        f"<skipDays><day>Saturday</day></skipDays>{items}</channel></rss>"
    ).encode()
    run_pass(config, store, FakeFetcher({url: ok(url, body)}))
    # six entries between 01:00 and 06:00; at 08:00 the document covers 7 hours
    expected = FeedHints(ttl=90, skip_hours=(3, 4), skip_days=(5,), entries_per_day=6 / (7 / 24))
    source = store.source("a")
    assert source is not None and source.hints == expected
    assert source.next_fetch_at is not None
    assert source.next_fetch_at >= NOW + timedelta(minutes=90)  # the ttl
    not_modified = FetchResult(url=url, status="not_modified", http_status=304)
    later = NOW + timedelta(hours=2)
    run_pass(config, store, FakeFetcher({url: not_modified}), later)
    source = store.source("a")
    assert source is not None and source.hints == expected
    assert source.next_fetch_at is not None and source.next_fetch_at >= later + timedelta(hours=1)


def test_new_sources_are_fetched_at_once_by_a_one_off_pass(store: Store) -> None:
    names = [f"s{i:02}" for i in range(20)]
    answers = {f"https://{n}.test/feed": ok(f"https://{n}.test/feed", rss(("1", n))) for n in names}
    assert len(run_pass(config_for(*names), store, FakeFetcher(answers))) == 20


def test_a_fresh_daemon_spreads_first_fetches(store: Store) -> None:
    names = [f"s{i:02}" for i in range(20)]
    answers = {f"https://{n}.test/feed": ok(f"https://{n}.test/feed", rss(("1", n))) for n in names}
    off = SourceConfig(name="off", url="https://off.test/feed", enabled=False)
    config = replace(config_for(*names), sources=(*config_for(*names).sources, off))
    with Updater(config, store, fetcher=FakeFetcher(answers), workers=0) as updater:
        updater.sync(NOW)
        assert updater.spread_first_fetches(NOW) == 20  # not the disabled one
        due = {s.name: s.next_fetch_at for s in store.sources()}
        assert due["off"] is None
        times = sorted(t for t in due.values() if t is not None)
        assert times[0] == NOW and times[-1] == NOW + timedelta(seconds=19 / FIRST_FETCH_RATE)
        assert [due[n] for n in names] == times  # in name order
        assert [r.source for r in asyncio.run(updater.update(now=NOW))] == ["s00"]
        later = NOW + timedelta(seconds=2)
        fetched = asyncio.run(updater.update(now=later))
        assert [r.source for r in fetched] == names[1:11]
        assert updater.spread_first_fetches(later) == 0  # everything has a due time now
        last = store.source("s19")
        assert last is not None and last.next_fetch_at == due["s19"]


def test_after_a_reload_only_the_new_sources_are_spread(store: Store) -> None:
    run_pass(config_for("a"), store, FakeFetcher({"https://a.test/feed": ok("x", rss())}))
    before = store.source("a")
    with Updater(config_for("a", "b", "c"), store, fetcher=FakeFetcher({}), workers=0) as updater:
        updater.sync(NOW)
        assert updater.spread_first_fetches(NOW) == 2
    assert store.source("a") == before
    b, c = store.source("b"), store.source("c")
    assert b is not None and c is not None
    assert (b.next_fetch_at, c.next_fetch_at) == (NOW, NOW + timedelta(seconds=0.2))


SOURCE = Source(
    id=1, name="a", url="https://a.test/feed", config_url="https://a.test/feed", enabled=True
)


def test_decide_state_error_keeps_validators_and_counts_the_streak() -> None:
    source = Source(**{**SOURCE.__dict__, "etag": '"old"', "error_streak": 2})
    fetched = FetchResult(url=source.url, status="error", error="timed out", etag='"new"')
    state, result = decide_state(source, None, fetched, None, now=NOW, jitter=0.0)
    assert (state.etag, state.error_streak, state.last_status) == ('"old"', 3, "error")
    assert state.next_fetch_at == NOW + timedelta(hours=2)  # 30 min doubled twice
    assert result.status == "error" and result.reason == "timed out"


def test_decide_state_parse_error_does_not_store_new_validators() -> None:
    fetched = FetchResult(url=SOURCE.url, status="ok", etag='"new"')
    state, result = decide_state(
        SOURCE, None, fetched, Processed(error="empty document"), now=NOW, jitter=0.0
    )
    assert state.etag is None and state.last_error == "empty document"
    assert result.status == "error"


def test_decide_state_salvaged_document_is_ok_with_a_note() -> None:
    fetched = FetchResult(url=SOURCE.url, status="ok")
    state, result = decide_state(
        SOURCE, None, fetched, Processed(problem="mismatched tag at line 3"), now=NOW, jitter=0.0
    )
    assert state.last_status == "ok" and result.status == "ok"
    assert state.last_error is not None and "mismatched tag at line 3" in state.last_error


def test_decide_state_retry_after_postpones() -> None:
    later = NOW + timedelta(hours=6)
    fetched = FetchResult(url=SOURCE.url, status="error", error="HTTP 429", retry_after=later)
    state, _ = decide_state(SOURCE, None, fetched, None, now=NOW, jitter=0.0)
    assert state.next_fetch_at == later


TTL_3H = FeedHints(ttl=180)
SKIP_8 = FeedHints(skip_hours=(8,))  # NOW is 08:00 UTC
HOURLY_RHYTHM = FeedHints(entries_per_day=24.0)
AUTO = SourceConfig("a", "https://a.test/feed", auto_interval=True)
NOT_MODIFIED = FetchResult(url=SOURCE.url, status="not_modified", http_status=304)
OK = FetchResult(url=SOURCE.url, status="ok", http_status=200)
FAILED = FetchResult(url=SOURCE.url, status="error", error="HTTP 500")

# name: (stored hints, config, fetched, hints the document gave, next due, hints written)
HINT_CASES: dict[
    str,
    tuple[
        FeedHints | None,
        SourceConfig | None,
        FetchResult,
        FeedHints | None,
        timedelta,
        FeedHints | None,
    ],
] = {
    "200 without hints": (None, None, OK, FeedHints(), timedelta(minutes=30), FeedHints()),
    "200: the document's ttl": (None, None, OK, TTL_3H, timedelta(hours=3), TTL_3H),
    "200: new hints replace the stored": (
        TTL_3H,
        None,
        OK,
        FeedHints(),
        timedelta(minutes=30),
        FeedHints(),
    ),
    "304: the stored ttl still holds": (TTL_3H, None, NOT_MODIFIED, None, timedelta(hours=3), None),
    "304: the stored skip hours still hold": (
        SKIP_8,
        None,
        NOT_MODIFIED,
        None,
        timedelta(hours=1),  # 08:30 is in the skipped hour 08: at 09:00
        None,
    ),
    "304 with nothing stored": (None, None, NOT_MODIFIED, None, timedelta(minutes=30), None),
    "error: stored skip hours hold, hints kept": (
        SKIP_8,
        None,
        FAILED,
        None,
        timedelta(hours=1),
        None,
    ),
    "error: ttl does not lengthen a backoff": (
        TTL_3H,
        None,
        FAILED,
        None,
        timedelta(minutes=30),
        None,
    ),
    "auto: the document's rhythm": (
        None,
        AUTO,
        OK,
        HOURLY_RHYTHM,
        timedelta(hours=1),
        HOURLY_RHYTHM,
    ),
    "auto, 304: the stored rhythm": (
        HOURLY_RHYTHM,
        AUTO,
        NOT_MODIFIED,
        None,
        timedelta(hours=1),
        None,
    ),
    "auto: busy, held at the floor": (
        None,
        AUTO,
        OK,
        FeedHints(entries_per_day=500.0),
        timedelta(minutes=5),
        FeedHints(entries_per_day=500.0),
    ),
    "auto: busy, an operator's lower floor": (
        None,
        SourceConfig("a", "https://a.test/feed", auto_interval=True, min_interval=60),
        OK,
        FeedHints(entries_per_day=1440.0),
        timedelta(minutes=1),
        FeedHints(entries_per_day=1440.0),
    ),
    "a fixed interval ignores the rhythm": (
        None,
        SourceConfig("a", "https://a.test/feed", interval=7200),
        OK,
        HOURLY_RHYTHM,
        timedelta(hours=2),
        HOURLY_RHYTHM,
    ),
    "an operator's floor below the default": (
        None,
        SourceConfig("a", "https://a.test/feed", interval=120, min_interval=60),
        NOT_MODIFIED,
        None,
        timedelta(minutes=2),
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(HINT_CASES))
def test_decide_state_schedules_with_the_right_hints(name: str) -> None:
    stored, config, fetched, given, wait, written = HINT_CASES[name]
    source = replace(SOURCE, hints=stored)
    processed = Processed(hints=given) if fetched.status == "ok" else None
    state, _ = decide_state(source, config, fetched, processed, now=NOW, jitter=0.0)
    assert state.next_fetch_at == NOW + wait
    assert state.hints == written


def test_log_line_is_key_value(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="aggregator")
    log_result(UpdateResult("gov", "error", ms=12, reason='HTTP 500 "oops"'))
    assert caplog.messages == ['source=gov status=error ms=12 reason="HTTP 500 \\"oops\\""']


@pytest.mark.parametrize(
    ("raw", "quoted"), [("ok", "ok"), ("a b", '"a b"'), ("", '""'), ("x\ny", '"x y"')]
)
def test_quote(raw: str, quoted: str) -> None:
    assert quote(raw) == quoted
