"""Canonical URLs and fast reference resolution (aggregator/urls.py)."""

from __future__ import annotations

import random
from urllib.parse import urljoin

import pytest

from aggregator.urls import (
    TRACKING_PARAMS,
    UrlBase,
    absolute_url,
    canonical_url,
    is_tracking_param,
    is_web_url,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # scheme and host lower-cased, default ports dropped, empty path becomes "/"
        ("HTTP://Example.COM", "http://example.com/"),
        ("https://Example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("http://example.com:/a", "http://example.com/a"),
        # the path keeps its case
        ("https://example.com/Path/File.HTML", "https://example.com/Path/File.HTML"),
        # fragments go, except "#!" routes
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/#!/story/42", "https://example.com/#!/story/42"),
        # tracking parameters go, the rest keep their order
        (
            "https://example.com/a?utm_source=rss&b=2&utm_medium=feed&a=1",
            "https://example.com/a?b=2&a=1",
        ),
        ("https://example.com/a?UTM_Campaign=x&id=7", "https://example.com/a?id=7"),
        ("https://example.com/a?fbclid=abc", "https://example.com/a"),
        (
            "https://example.com/a?gclid=1&mc_cid=2&mc_eid=3&_hsenc=4&_hsmi=5",
            "https://example.com/a",
        ),
        ("https://example.com/a?spm=a.b.c&id=1&from=timeline", "https://example.com/a?id=1"),
        (
            "https://mp.example.com/s?__biz=MzA&mid=1&from=singlemessage&isappinstalled=0",
            "https://mp.example.com/s?__biz=MzA&mid=1",
        ),
        ("https://example.com/a?ref_src=twsrc&share=1&q=x", "https://example.com/a?q=x"),
        ("https://example.com/a?fromage=brie", "https://example.com/a?fromage=brie"),
        ("https://example.com/a?a=1&&b=", "https://example.com/a?a=1&b="),
        ("https://example.com/a?", "https://example.com/a"),
        # percent-encoding normalized without changing meaning
        ("https://example.com/%7euser/%41b", "https://example.com/~user/Ab"),
        ("https://example.com/a%2fb%3F", "https://example.com/a%2Fb%3F"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        (
            "https://example.com/新闻/列表",
            "https://example.com/%E6%96%B0%E9%97%BB/%E5%88%97%E8%A1%A8",
        ),
        ("https://example.com/?q=中", "https://example.com/?q=%E4%B8%AD"),
        ("https://example.com/?q=a+b&r=%2B", "https://example.com/?q=a+b&r=%2B"),
        ("https://example.com/100%", "https://example.com/100%25"),
        # dot segments removed
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/../a", "https://example.com/a"),
        # internationalized hosts in their ASCII form
        ("https://例子.测试/", "https://xn--fsqu00a.xn--0zwm56d/"),
        ("https://Bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"),
        # IPv6 and user info
        ("http://[::1]:80/x", "http://[::1]/x"),
        ("https://user:pw@Example.com/", "https://user:pw@example.com/"),
        # surrounding whitespace
        ("  https://example.com/a\n", "https://example.com/a"),
        # not http(s), or not a URL: returned as given (stripped)
        ("mailto:Someone@Example.com", "mailto:Someone@Example.com"),
        ("tag:example.com,2024:42", "tag:example.com,2024:42"),
        (
            "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
            "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
        ),
        ("http://[::1/", "http://[::1/"),
        ("http://example.com:port/", "http://example.com:port/"),
        ("/relative/only", "/relative/only"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("/a?b=1", "https://example.com/feed.xml", "https://example.com/a?b=1"),
        ("story.html", "https://example.com/news/feed.xml", "https://example.com/news/story.html"),
        ("../x", "https://example.com/news/sub/", "https://example.com/news/x"),
        ("//cdn.example.com/a", "https://example.com/", "https://cdn.example.com/a"),
        ("?page=2", "https://example.com/list?page=1", "https://example.com/list?page=2"),
        ("https://Other.example/a", "https://example.com/", "https://other.example/a"),
        ("", "https://example.com/feed", "https://example.com/feed"),
    ],
)
def test_canonical_url_resolves_on_base(url: str, base: str, expected: str) -> None:
    assert canonical_url(url, base) == expected


def test_tracking_list_is_documented_and_matched_case_insensitively() -> None:
    assert {"fbclid", "gclid", "spm", "from", "mc_cid", "_hsenc", "ref_src", "share"} <= set(
        TRACKING_PARAMS
    )
    assert is_tracking_param("UTM_SOURCE")
    assert is_tracking_param("utm%5Fsource")  # encoded names too
    assert not is_tracking_param("id")
    assert not is_tracking_param("utmost")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", True),
        ("http://example.com", True),
        ("ftp://example.com/a", False),
        ("javascript:alert(1)", False),
        ("/a", False),
        ("https://", False),
        ("http://[::1", False),
    ],
)
def test_is_web_url(url: str, expected: bool) -> None:
    assert is_web_url(url) is expected


def test_absolute_url_keeps_what_it_cannot_resolve() -> None:
    assert absolute_url(" a ", None) == "a"
    assert absolute_url("a", "https://example.com/b/c") == "https://example.com/b/a"


BASES = [
    "https://example.com/a/b/c.html?q=1#f",
    "https://example.com/",
    "https://example.com/dir/",
    "http://example.com:8080/a/b",
    "https://example.com/a/b/c.html",
]
REFERENCES = [
    "x.html",
    "/root?x=1",
    "//cdn.example.com/i.png",
    "?page=2",
    "#top",
    "../up",
    "../../../../too-far",
    "./here",
    ".",
    "..",
    "a/./b/../c?d=/./e#f",
    "/a/./b/../c",
    "../a?q#f",
    "..?q",
    ".hidden",
    "a/..",
    "//cdn.example.com/./x/../y",
    "https://other.example/abs",
    "mailto:a@example.com",
    " padded.html ",
    "tab\tbed",
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("ref", REFERENCES)
def test_url_base_join_agrees_with_urljoin(base: str, ref: str) -> None:
    expected = urljoin(base, ref.strip().replace("\t", ""))
    assert UrlBase(base).join(ref) == expected


def test_url_base_refuses_a_relative_base() -> None:
    with pytest.raises(ValueError, match="not an absolute URL"):
        UrlBase("/feed.xml")


def _random_urls(count: int, seed: int) -> list[str]:
    """Messy but reproducible URLs: odd case, ports, escapes, non-ASCII, tracking, fragments."""
    rng = random.Random(seed)
    pieces = [*"aZ09-._~!$&'()*+,;=:@/?#[]% é中\t", "%41", "%2f", "%zz", "utm_source=x", "from=1"]
    hosts = ["Example.com", "example.com:80", "例子.测试", "[::1]:8080", "x.example:443", "EX.com:"]
    urls = []
    for _ in range(count):
        scheme = rng.choice(["http", "HTTPS", "https"])
        rest = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        urls.append(f"{scheme}://{rng.choice(hosts)}/{rest}")
    return urls


MESSY_URLS = _random_urls(2000, seed=7)


def test_canonical_url_is_idempotent() -> None:
    for url in MESSY_URLS:
        once = canonical_url(url)
        assert canonical_url(once) == once, url


def test_canonical_url_has_no_fragment_or_tracking() -> None:
    for url in MESSY_URLS:
        result = canonical_url(url)
        fragment = result.partition("#")[2]
        assert not fragment or fragment.startswith("!"), url
        query = result.partition("?")[2].partition("#")[0]
        assert not any(is_tracking_param(p.partition("=")[0]) for p in query.split("&") if p)
