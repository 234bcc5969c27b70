"""HttpFetcher against a real local HTTP server (tests/server.py) and real files."""

from __future__ import annotations

import asyncio
import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.fetch import ACCEPT, Fetcher, HttpFetcher
from aggregator.models import FetchRequest, FetchResult, FetchSettings
from tests.server import FeedServer, refused_url

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
FAST = FetchSettings(connect_timeout=5.0, read_timeout=5.0)


def fetch_all(
    requests: list[FetchRequest | str], settings: FetchSettings = FAST
) -> list[FetchResult]:
    """Fetch the requests concurrently with one HttpFetcher."""

    async def run() -> list[FetchResult]:
        async with HttpFetcher(settings) as fetcher:
            client: Fetcher = fetcher
            return await asyncio.gather(
                *(
                    client.fetch(r if isinstance(r, FetchRequest) else FetchRequest(r))
                    for r in requests
                )
            )

    return asyncio.run(run())


def fetch(request: FetchRequest | str, settings: FetchSettings = FAST) -> FetchResult:
    """Fetch one request with a fresh HttpFetcher."""
    return fetch_all([request], settings)[0]


# ---------------------------------------------------------------- success and conditional GET


def test_ok_gives_body_media_type_charset_and_validators(feed_server: FeedServer) -> None:
    feed_server.add(
        "/feed.xml",
        RSS,
        content_type='Application/RSS+XML; Charset="GB2312"',
        etag='W/"v1"',
        last_modified="Sun, 01 Mar 2026 07:00:00 GMT",
        headers={"Cache-Control": "public, max-age=600"},
    )
    result = fetch(feed_server.url("/feed.xml"))
    assert result.status == "ok"
    assert result.http_status == 200
    assert result.body == RSS
    assert result.content_type == "application/rss+xml"
    assert result.charset == "GB2312"
    assert result.etag == 'W/"v1"'
    assert result.last_modified == "Sun, 01 Mar 2026 07:00:00 GMT"
    assert result.max_age == 600
    assert result.final_url == feed_server.url("/feed.xml")
    assert result.permanent_url is None
    assert result.error is None


def test_no_content_type_header_gives_none(feed_server: FeedServer) -> None:
    feed_server.add("/plain", RSS, content_type=None)
    result = fetch(feed_server.url("/plain"))
    assert (result.status, result.content_type, result.charset) == ("ok", None, None)


def test_stored_validators_are_sent_back_exactly_and_304_is_not_modified(
    feed_server: FeedServer,
) -> None:
    feed_server.add("/feed.xml", RSS)
    first = fetch(feed_server.url("/feed.xml"))
    assert first.etag and first.last_modified
    request = FetchRequest(
        feed_server.url("/feed.xml"), etag=first.etag, last_modified=first.last_modified
    )
    second = fetch(request)
    assert second.status == "not_modified"
    assert second.http_status == 304
    assert second.body == b""
    assert (second.etag, second.last_modified) == (first.etag, first.last_modified)
    sent = feed_server.requests("/feed.xml")[-1]
    assert sent["If-None-Match"] == first.etag
    assert sent["If-Modified-Since"] == first.last_modified
    assert "If-None-Match" not in feed_server.requests("/feed.xml")[0]


def test_if_modified_since_alone_gives_304(feed_server: FeedServer) -> None:
    feed_server.add("/feed.xml", RSS, etag=None, last_modified="Sun, 01 Mar 2026 07:00:00 GMT")
    result = fetch(
        FetchRequest(feed_server.url("/feed.xml"), last_modified="Sun, 01 Mar 2026 07:00:00 GMT")
    )
    assert result.status == "not_modified"
    assert result.etag is None


def test_changed_feed_gives_ok_with_new_validators(feed_server: FeedServer) -> None:
    feed_server.add("/feed.xml", RSS)
    old = fetch(feed_server.url("/feed.xml"))
    feed_server.add("/feed.xml", RSS + b"<!-- changed -->")
    new = fetch(FetchRequest(feed_server.url("/feed.xml"), etag=old.etag))
    assert new.status == "ok"
    assert new.etag != old.etag
    assert new.body.endswith(b"<!-- changed -->")


def test_304_without_validators_keeps_the_stored_ones(feed_server: FeedServer) -> None:
    feed_server.add(
        "/feed.xml",
        b"",
        status=304,
        etag=None,
        last_modified=None,
        headers={
            "Expires": "Sun, 01 Mar 2026 08:00:00 GMT",
            "Date": "Sun, 01 Mar 2026 07:00:00 GMT",
        },
    )
    request = FetchRequest(feed_server.url("/feed.xml"), etag='"a"', last_modified="yesterday")
    result = fetch(request)
    assert result.status == "not_modified"
    assert (result.etag, result.last_modified) == ('"a"', "yesterday")
    assert result.max_age == 3600


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_compressed_bodies_are_decompressed(feed_server: FeedServer, encoding: str) -> None:
    body = RSS * 200
    feed_server.add("/feed.xml", body, gzip=encoding == "gzip", br=encoding == "br")
    result = fetch(feed_server.url("/feed.xml"))
    assert result.status == "ok"
    assert result.body == body
    accepted = feed_server.requests("/feed.xml")[0]["Accept-Encoding"]
    assert encoding in [part.strip() for part in accepted.split(",")]


def test_request_headers_user_agent_and_accept(feed_server: FeedServer) -> None:
    feed_server.add("/feed.xml", RSS)
    settings = FetchSettings(user_agent="test-agent/1.0")
    fetch(FetchRequest(feed_server.url("/feed.xml"), headers=(("X-Token", "s3cret"),)), settings)
    sent = feed_server.requests("/feed.xml")[0]
    assert sent["User-Agent"] == "test-agent/1.0"
    assert sent["Accept"] == ACCEPT
    assert sent["X-Token"] == "s3cret"


def test_source_headers_override_ours(feed_server: FeedServer) -> None:
    feed_server.add("/feed.xml", RSS)
    headers = (("user-agent", "Mozilla/5.0"), ("Accept", "application/xml"))
    fetch(FetchRequest(feed_server.url("/feed.xml"), headers=headers))
    sent = feed_server.requests("/feed.xml")[0]
    assert sent["User-Agent"] == "Mozilla/5.0"
    assert sent["Accept"] == "application/xml"


def test_header_with_newline_is_an_error_not_a_request(feed_server: FeedServer) -> None:
    feed_server.add("/feed.xml", RSS)
    result = fetch(FetchRequest(feed_server.url("/feed.xml"), headers=(("X-A", "b\r\nX-B: c"),)))
    assert (result.status, result.error) == ("error", "invalid request header 'X-A'")
    assert feed_server.hits("/feed.xml") == 0


# ---------------------------------------------------------------- redirects


@pytest.mark.parametrize("code", [301, 308])
def test_permanent_redirect_sets_permanent_url(feed_server: FeedServer, code: int) -> None:
    feed_server.add("/new.xml", RSS)
    feed_server.redirect("/old.xml", "/new.xml", status=code)
    result = fetch(feed_server.url("/old.xml"))
    assert result.status == "ok"
    assert result.body == RSS
    assert result.url == feed_server.url("/old.xml")
    assert result.final_url == feed_server.url("/new.xml")
    assert result.permanent_url == feed_server.url("/new.xml")


@pytest.mark.parametrize("code", [302, 303, 307])
def test_temporary_redirect_keeps_the_url(feed_server: FeedServer, code: int) -> None:
    feed_server.add("/new.xml", RSS)
    feed_server.redirect("/old.xml", feed_server.url("/new.xml"), status=code)
    result = fetch(feed_server.url("/old.xml"))
    assert result.status == "ok"
    assert result.final_url == feed_server.url("/new.xml")
    assert result.permanent_url is None


def test_chain_with_one_temporary_hop_is_not_permanent(feed_server: FeedServer) -> None:
    feed_server.add("/c", RSS)
    feed_server.redirect("/a", "/b", status=301)
    feed_server.redirect("/b", "/c", status=302)
    result = fetch(feed_server.url("/a"))
    assert (result.status, result.final_url) == ("ok", feed_server.url("/c"))
    assert result.permanent_url is None


def test_permanent_chain_ending_in_304_is_permanent(feed_server: FeedServer) -> None:
    feed_server.add("/c", RSS, etag='"x"')
    feed_server.redirect("/a", "/b", status=301)
    feed_server.redirect("/b", "/c", status=308)
    result = fetch(FetchRequest(feed_server.url("/a"), etag='"x"'))
    assert result.status == "not_modified"
    assert result.permanent_url == feed_server.url("/c")
    assert [r["If-None-Match"] for r in feed_server.requests("/c")] == ['"x"']


def test_permanent_chain_ending_in_error_is_not_permanent(feed_server: FeedServer) -> None:
    feed_server.redirect("/a", "/missing", status=301)
    result = fetch(feed_server.url("/a"))
    assert (result.status, result.error) == ("error", "HTTP 404 Not Found")
    assert result.final_url == feed_server.url("/missing")
    assert result.permanent_url is None


def test_relative_location_is_resolved_against_the_redirecting_url(
    feed_server: FeedServer,
) -> None:
    feed_server.add("/feeds/new.xml", RSS)
    feed_server.redirect("/feeds/old.xml", "new.xml", status=301)
    result = fetch(feed_server.url("/feeds/old.xml"))
    assert result.final_url == feed_server.url("/feeds/new.xml")
    assert result.body == RSS


def test_redirect_loop_is_an_error(feed_server: FeedServer) -> None:
    feed_server.redirect("/a", "/b", status=302)
    feed_server.redirect("/b", "/a", status=302)
    result = fetch(feed_server.url("/a"))
    assert result.status == "error"
    assert result.error == f"redirect loop at {feed_server.url('/a')}"
    assert feed_server.hits("/a") == 1


def _chain(server: FeedServer, hops: int) -> str:
    for i in range(hops):
        server.redirect(f"/hop{i}", f"/hop{i + 1}", status=301)
    server.add(f"/hop{hops}", RSS)
    return server.url("/hop0")


def test_ten_redirects_are_followed(feed_server: FeedServer) -> None:
    result = fetch(_chain(feed_server, 10))
    assert result.status == "ok"
    assert result.permanent_url == feed_server.url("/hop10")


def test_eleven_redirects_are_too_many(feed_server: FeedServer) -> None:
    result = fetch(_chain(feed_server, 11))
    assert (result.status, result.error) == ("error", "too many redirects (more than 10)")
    assert feed_server.hits("/hop11") == 0


def test_redirect_without_location_or_to_another_scheme(feed_server: FeedServer) -> None:
    feed_server.add("/bare", b"", status=302, etag=None, last_modified=None)
    feed_server.redirect("/ftp", "ftp://example.com/feed.xml")
    feed_server.redirect("/file", "file:///etc/passwd")
    bare, ftp, file = fetch_all(
        [feed_server.url("/bare"), feed_server.url("/ftp"), feed_server.url("/file")]
    )
    assert bare.error == "HTTP 302 Found without a Location"
    assert ftp.error == "redirect to an unsupported URL 'ftp://example.com/feed.xml'"
    assert file.error == "redirect to an unsupported URL 'file:///etc/passwd'"
    assert file.body == b""


# ---------------------------------------------------------------- HTTP errors


def test_error_statuses_have_one_line_reasons(feed_server: FeedServer) -> None:
    feed_server.add("/boom", "oops", status=500)
    feed_server.add("/odd", "", status=599)
    missing, boom, odd = fetch_all(
        [feed_server.url("/missing"), feed_server.url("/boom"), feed_server.url("/odd")]
    )
    assert (missing.status, missing.http_status, missing.error) == (
        "error",
        404,
        "HTTP 404 Not Found",
    )
    assert (boom.status, boom.error) == ("error", "HTTP 500 Internal Server Error")
    assert boom.body == b""
    assert (odd.status, odd.error) == ("error", "HTTP 599")


def test_410_is_gone(feed_server: FeedServer) -> None:
    feed_server.add("/gone", "bye", status=410)
    result = fetch(feed_server.url("/gone"))
    assert (result.status, result.http_status, result.error) == ("gone", 410, "410 Gone")


def test_429_retry_after_seconds(feed_server: FeedServer) -> None:
    feed_server.add("/busy", "", status=429, headers={"Retry-After": "120"})
    before = datetime.now(UTC)
    result = fetch(feed_server.url("/busy"))
    after = datetime.now(UTC)
    assert (result.status, result.error) == ("error", "HTTP 429 Too Many Requests")
    assert result.retry_after is not None
    assert result.retry_after.tzinfo is not None
    assert before + timedelta(seconds=120) <= result.retry_after <= after + timedelta(seconds=120)


def test_429_retry_after_http_date(feed_server: FeedServer) -> None:
    feed_server.add(
        "/busy", "", status=429, headers={"Retry-After": "Wed, 21 Oct 2037 07:28:00 GMT"}
    )
    result = fetch(feed_server.url("/busy"))
    assert result.retry_after == datetime(2037, 10, 21, 7, 28, tzinfo=UTC)


def test_503_retry_after(feed_server: FeedServer) -> None:
    feed_server.add("/down", "", status=503, headers={"Retry-After": "3600"})
    before = datetime.now(UTC)
    result = fetch(feed_server.url("/down"))
    assert (result.status, result.error) == ("error", "HTTP 503 Service Unavailable")
    assert result.retry_after is not None
    assert result.retry_after >= before + timedelta(seconds=3600)


def test_retry_after_is_ignored_on_other_statuses(feed_server: FeedServer) -> None:
    feed_server.add("/feed.xml", RSS, headers={"Retry-After": "60"})
    assert fetch(feed_server.url("/feed.xml")).retry_after is None


# ---------------------------------------------------------------- timeouts and size


def test_slow_answer_times_out_on_read(feed_server: FeedServer) -> None:
    feed_server.add("/slow", RSS, delay=5)
    result = fetch(feed_server.url("/slow"), FetchSettings(read_timeout=0.2))
    assert (result.status, result.error) == ("error", "timed out after 0.2 s (read)")


def test_stalled_body_times_out_on_read(feed_server: FeedServer) -> None:
    feed_server.add("/dribble", RSS * 10, chunked=True, chunk_size=64, chunk_delay=5)
    result = fetch(feed_server.url("/dribble"), FetchSettings(read_timeout=0.2))
    assert (result.status, result.error) == ("error", "timed out after 0.2 s (read)")


def test_dribbling_body_is_cut_off_by_the_overall_cap(feed_server: FeedServer) -> None:
    # every chunk arrives within the read timeout, but the whole takes far longer than the cap
    feed_server.add("/dribble", b"x" * 2000, chunked=True, chunk_size=10, chunk_delay=0.02)
    settings = FetchSettings(connect_timeout=0.05, read_timeout=0.25)  # cap: 0.05 + 4 * 0.25
    result = fetch(feed_server.url("/dribble"), settings)
    assert (result.status, result.error) == ("error", "timed out after 1.05 s (total)")


def test_body_over_the_cap_with_content_length(feed_server: FeedServer) -> None:
    feed_server.add("/big", b"x" * 5000)
    result = fetch(feed_server.url("/big"), FetchSettings(max_bytes=4096))
    assert (result.status, result.error) == ("error", "response larger than 4 KiB")
    assert result.body == b""


def test_body_over_the_cap_without_content_length(feed_server: FeedServer) -> None:
    feed_server.add("/big", b"x" * 50_000, chunked=True, chunk_size=1000)
    result = fetch(feed_server.url("/big"), FetchSettings(max_bytes=10_000))
    assert (result.status, result.error) == ("error", "response larger than 9.8 KiB")


def test_cap_applies_to_the_decompressed_body(feed_server: FeedServer) -> None:
    body = b"x" * 200_000
    feed_server.add("/bomb", body, gzip=True)
    assert len(gzip.compress(body)) < 10_000
    result = fetch(feed_server.url("/bomb"), FetchSettings(max_bytes=10_000))
    assert result.error == "response larger than 9.8 KiB"


def test_body_at_the_cap_is_fine(feed_server: FeedServer) -> None:
    feed_server.add("/exact", b"x" * 4096, chunked=True, chunk_size=1000)
    result = fetch(feed_server.url("/exact"), FetchSettings(max_bytes=4096))
    assert (result.status, len(result.body)) == ("ok", 4096)


def test_short_body_is_an_error(feed_server: FeedServer) -> None:
    feed_server.add("/short", b"x" * 100, content_length=200)
    result = fetch(feed_server.url("/short"))
    assert (result.status, result.error) == ("error", "response body ended early")


# ---------------------------------------------------------------- network failures


def test_connection_refused() -> None:
    result = fetch(refused_url("/feed.xml"))
    assert (result.status, result.error) == ("error", "connection refused")
    assert result.http_status is None


def test_unresolvable_host() -> None:
    result = fetch("http://nonexistent.invalid/feed.xml", FetchSettings(connect_timeout=3))
    assert result.status == "error"
    # a resolver that cannot answer in time is bounded by the connect timeout
    assert result.error in (
        "cannot resolve host nonexistent.invalid",
        "timed out after 3 s (connect)",
    )


def test_tls_to_a_plain_http_port_is_a_tls_error(feed_server: FeedServer) -> None:
    feed_server.add("/feed.xml", RSS)
    result = fetch(feed_server.url("/feed.xml").replace("http://", "https://"))
    assert result.status == "error"
    assert result.error is not None
    assert result.error.startswith("TLS error with 127.0.0.1: ")


def test_server_closing_the_connection(feed_server: FeedServer) -> None:
    feed_server.drop("/drop")
    result = fetch(feed_server.url("/drop"))
    assert result.status == "error"
    assert result.error == "server disconnected without a complete response"


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://example.com/feed.xml", "unsupported URL scheme 'ftp'"),
        ("http:///feed.xml", "invalid URL http:///feed.xml (no host)"),
        ("http://[::1/feed.xml", "invalid URL http://[::1/feed.xml"),
        ("file://elsewhere/feed.xml", "file URL names another host: elsewhere"),
    ],
)
def test_invalid_urls(url: str, error: str) -> None:
    result = fetch(url)
    assert (result.status, result.error, result.final_url) == ("error", error, url)


def test_fetch_outside_the_context_is_a_bug() -> None:
    async def run() -> None:
        await HttpFetcher(FAST).fetch(FetchRequest("http://127.0.0.1/"))

    with pytest.raises(RuntimeError, match="async with"):
        asyncio.run(run())


# ---------------------------------------------------------------- politeness


def test_per_host_limit_is_never_exceeded(feed_server: FeedServer) -> None:
    feed_server.add("/slow", RSS, delay=0.2)
    urls: list[FetchRequest | str] = [feed_server.url("/slow") for _ in range(6)]
    results = fetch_all(urls, FetchSettings(per_host=2, concurrency=10))
    assert {r.status for r in results} == {"ok"}
    assert feed_server.hits("/slow") == 6
    assert feed_server.peak_in_flight("/slow") == 2


def test_global_limit_is_never_exceeded(feed_server: FeedServer) -> None:
    feed_server.add("/slow", RSS, delay=0.2)
    urls: list[FetchRequest | str] = [feed_server.url("/slow") for _ in range(8)]
    results = fetch_all(urls, FetchSettings(per_host=8, concurrency=3))
    assert {r.status for r in results} == {"ok"}
    assert feed_server.peak_in_flight() == 3


# ---------------------------------------------------------------- local files


def test_file_url_and_plain_path(tmp_path: Path) -> None:
    feed = tmp_path / "my feed.xml"
    feed.write_bytes(RSS)
    by_url, by_path = fetch_all([feed.as_uri(), str(feed)])
    for result in (by_url, by_path):
        assert result.status == "ok"
        assert result.body == RSS
        assert result.content_type == "application/xml"
        assert result.last_modified is not None
    assert by_url.final_url == feed.as_uri()


def test_missing_file_and_directory(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.xml")
    result, directory = fetch_all([missing, str(tmp_path)])
    assert (result.status, result.error) == ("error", f"no such file: {missing}")
    assert (directory.status, directory.error) == ("error", f"not a file: {tmp_path}")
