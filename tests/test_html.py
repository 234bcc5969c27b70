"""Sanitizing feed HTML and turning it into plain text (aggregator/html.py)."""

from __future__ import annotations

import random

import pytest

from aggregator.html import html_to_text, sanitize_html, text_from_sanitized

BASE = "https://example.com/news/2024/story.html?id=7"


@pytest.mark.parametrize(
    ("dirty", "gone"),
    [
        ("<p>a<script>alert(1)</script>b</p>", ["script", "alert"]),
        ("<style>p{color:red}</style><p>x</p>", ["style", "color"]),
        ('<iframe src="https://evil.example/"></iframe><p>x</p>', ["iframe", "evil"]),
        ('<object data="x.swf"><embed src="x.swf"></object><p>x</p>', ["object", "embed", "swf"]),
        ('<form action="/steal"><input name="pw"><button>Go</button></form>', ["form", "input"]),
        ('<p onclick="steal()" onmouseover="x()">x</p>', ["onclick", "onmouseover", "steal"]),
        ('<img src="x.png" onerror="steal()">', ["onerror", "steal"]),
        ('<a href="javascript:alert(1)">x</a>', ["javascript", "alert"]),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', ["alert"]),
        ('<a href="java&#x09;script:alert(1)">x</a>', ["alert"]),
        ('<a href=" javascript:alert(1)">x</a>', ["alert"]),
        ('<a href="vbscript:msgbox(1)">x</a>', ["vbscript", "msgbox"]),
        ('<img src="data:image/png;base64,iVBORw0KGgo=">', ["data:", "base64"]),
        ('<a href="data:text/html,<script>alert(1)</script>">x</a>', ["data:", "alert"]),
        (
            '<p style="background:url(javascript:x)" class="c" id="i">x</p>',
            ["style", "class", "id="],
        ),
        ("<svg><script>alert(1)</script></svg>", ["svg", "alert"]),
        ("<template><p>hidden</p></template>", ["template", "hidden"]),
        ("<!-- a comment --><p>x</p>", ["comment", "<!--"]),
        ('<meta http-equiv="refresh" content="0;url=https://evil.example/">', ["meta", "evil"]),
        ('<link rel="stylesheet" href="https://evil.example/x.css">', ["link", "evil"]),
        ('<base href="https://evil.example/">', ["base", "evil"]),
    ],
)
def test_sanitize_removes_dangerous_markup(dirty: str, gone: list[str]) -> None:
    clean = sanitize_html(dirty, BASE)
    for fragment in gone:
        assert fragment not in clean.lower()


@pytest.mark.parametrize(
    ("dirty", "expected"),
    [
        ("<p>Hello <b>bold</b> <i>it</i></p>", "<p>Hello <b>bold</b> <i>it</i></p>"),
        ("<h2>T</h2><ul><li>a</li></ul>", "<h2>T</h2><ul><li>a</li></ul>"),
        ("<blockquote><pre><code>x = 1</code></pre></blockquote>", None),
        ("<table><tr><td colspan=\"2\">c</td></tr></table>",
         "<table><tbody><tr><td colspan=\"2\">c</td></tr></tbody></table>"),
        ("<figure><img src=\"https://img.example/a.jpg\" alt=\"A\" width=\"10\" height=\"20\">"
         "<figcaption>cap</figcaption></figure>", None),
        ("<p><sub>1</sub><sup>2</sup><s>3</s><u>4</u><em>5</em><strong>6</strong><br></p><hr>",
         None),
        ("<pre>\n\ncode</pre>", "<pre>\n\ncode</pre>"),
        ("<unknown>kept text</unknown>", "kept text"),
        ("<p>unclosed <b>bold", "<p>unclosed <b>bold</b></p>"),
        ("", ""),
        ("   \n ", ""),
        ("plain & simple < text", "plain &amp; simple &lt; text"),
    ],
)  # fmt: skip
def test_sanitize_keeps_the_allowed_markup(dirty: str, expected: str | None) -> None:
    assert sanitize_html(dirty, BASE) == (dirty if expected is None else expected)


def test_plain_text_comes_back_as_an_html_parser_would_write_it() -> None:
    # Plain text skips the parser; it must come out exactly as if it had gone through it.
    rng = random.Random(11)
    chars = [*"ab 中\n\t\x01\x0b\x0c\ufeff\u2028\x7f\x85'\"=/;\x00\r\xa0>", "😀", "&amp;"]
    for _ in range(3000):
        text = "".join(rng.choice(chars) for _ in range(rng.randint(1, 20)))
        if not text.isspace():
            parsed = sanitize_html(f"{text}<b></b>", None).removesuffix("<b></b>").rstrip()
            assert sanitize_html(text, None) == parsed, text


@pytest.mark.parametrize("html", ["a\udc80b", "<p>a\udc80b</p>", "<b>a</b>\ud800b"])
def test_lone_surrogates_become_replacement_characters(html: str) -> None:
    # JSON can escape a lone surrogate; it cannot be stored or sent as UTF-8.
    clean = sanitize_html(html, None)
    assert "a\ufffdb" in clean.replace("<b>", "").replace("</b>", "")
    assert html_to_text(html) == "a\ufffdb"


def test_links_get_rel_noopener() -> None:
    clean = sanitize_html('<a href="https://example.org/" rel="opener" target="_blank">x</a>', None)
    assert clean == '<a href="https://example.org/" rel="noopener noreferrer">x</a>'


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("other.html", "https://example.com/news/2024/other.html"),
        ("/root.html", "https://example.com/root.html"),
        ("../up.html", "https://example.com/news/up.html"),
        ("//cdn.example.net/x.js", "https://cdn.example.net/x.js"),
        ("?id=8", "https://example.com/news/2024/story.html?id=8"),
        ("#part-2", "https://example.com/news/2024/story.html?id=7#part-2"),
        ("a b.html", "https://example.com/news/2024/a%20b.html"),
        ("x.html?a=1&amp;b=2", "https://example.com/news/2024/x.html?a=1&amp;b=2"),
        ("https://elsewhere.example/a", "https://elsewhere.example/a"),
        ("mailto:desk@example.com", "mailto:desk@example.com"),
    ],
)
def test_relative_urls_resolved_on_the_base(href: str, expected: str) -> None:
    clean = sanitize_html(f'<p><a href="{href}">l</a><img src="{href}"></p>', BASE)
    assert f'<a href="{expected}" rel="noopener noreferrer">l</a>' in clean
    assert f'<img src="{expected}">' in clean


@pytest.mark.parametrize(
    "base", [None, "", "not/absolute", "javascript://host/", "data://x/", "file:///tmp/f.xml"]
)
def test_relative_urls_kept_without_a_usable_base(base: str | None) -> None:
    # A script base would turn the relative "%0aalert(1)" into running code.
    clean = sanitize_html('<a href="%0aalert(1)">l</a><img src="x.png">', base)
    assert clean == '<a href="%0aalert(1)" rel="noopener noreferrer">l</a><img src="x.png">'


def test_text_that_looks_like_an_attribute_is_not_rewritten() -> None:
    dirty = '<p>write href="x.html" or src="y"</p><p title=\' src="z"\'>t</p>'
    clean = sanitize_html(dirty, BASE)
    assert 'write href="x.html" or src="y"' in clean
    assert "example.com" not in clean


SAMPLES = [
    '<div><p class="x">Hi <a href="rel/a.html?x=1&y=2">l</a><img src="i.png" alt="a &amp; b">'
    "</p><script>x()</script><table><tr><td>1</td></tr></table></div>",
    '<p title="a>b" data-x="1">&nbsp;&#x4e2d;&lt;&gt;"\'</p><pre>a\n  b</pre>',
    "<ul><li>one<li>two</ul><ol start=3><li value=5>x</ol><dl><dt>t<dd>d</dl>",
    '<a href="  /padded  ">p</a><a href="">empty</a><a href="#">hash</a><a>none</a>',
    "<p>中文内容\u3000全角空格</p><br/><hr/><blockquote cite='x'>q</blockquote>",
]


@pytest.mark.parametrize("dirty", SAMPLES)
@pytest.mark.parametrize("base", [None, BASE, "https://example.com"])
def test_sanitizing_twice_changes_nothing(dirty: str, base: str | None) -> None:
    once = sanitize_html(dirty, base)
    assert sanitize_html(once, base) == once


def test_sanitizing_random_markup_is_stable() -> None:
    rng = random.Random(3)
    # Anchors come whole: nested ones are rebuilt differently on each parse, in any sanitizer.
    parts = ["<p>", "</p>", "<a href='x y.html?a=1&b=2'>link</a>", "<b>", "<img src=i.png>",
             "&amp;", "&nbsp;", "<", ">", '"', "text", "中文", "<script>", "</script>", "<br>",
             "<li>", "<table><td>", "<!--", "-->", "<pre>\n", "<pre>", "</pre>", "\n"]  # fmt: skip
    for _ in range(500):
        dirty = "".join(rng.choice(parts) for _ in range(rng.randint(1, 25)))
        once = sanitize_html(dirty, BASE)
        assert sanitize_html(once, BASE) == once, dirty
        assert "<script" not in once


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("<p>one</p>\n\n\n<p>two</p>", "one\n\ntwo"),
        ("<h1>Title</h1><p>Body</p>", "Title\n\nBody"),
        ("<ul><li>a</li><li>b</li></ul>", "a\nb"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("<p>x &amp; y &lt;z&gt; &#20013;&#x6587; &eacute;</p>", "x & y <z> 中文 é"),
        ("<p>a&nbsp;&nbsp;b\u3000\u3000c\t\td</p>", "a b c d"),
        ("<p>  spaced\n   out  \n text </p>", "spaced out text"),
        ("<b>bo</b>ld and <a href='x'>li</a>nk", "bold and link"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a\nb\n\nc"),
        ("<pre>line 1\nline 2</pre>", "line 1\nline 2"),
        ("<p>x<script>var a = '<p>';</script>y</p>", "xy"),
        ("<div>中文<b>加粗</b>文本</div><div>第二段</div>", "中文加粗文本\n\n第二段"),
        ("<blockquote><p>q</p></blockquote><p>after</p>", "q\n\nafter"),
        ("no markup at all", "no markup at all"),
        ("", ""),
        ("<p></p><p> </p>", ""),
        ("ctrl\x01char", "ctrlchar"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text
    assert text_from_sanitized(sanitize_html(html, None)) == text


def test_text_has_no_markup_and_no_runs_of_blank_lines() -> None:
    rng = random.Random(5)
    parts = ["<p>", "</p>", "<div>", "<br>", "<li>", " ", "\n", "word", "字", "&amp;", "&lt;b&gt;",
             "<b>", "</b>", "<td>", "\u3000", "&nbsp;"]  # fmt: skip
    for _ in range(500):
        html = "".join(rng.choice(parts) for _ in range(rng.randint(1, 30)))
        text = html_to_text(html)
        assert "\n\n\n" not in text, html
        assert text == text.strip(), html
        assert all(line == line.strip() and "  " not in line for line in text.split("\n")), html
        assert not any(tag in text for tag in ("<p>", "</p>", "<div>", "<br>", "<li>", "<td>"))
        assert "<b>" not in text or "&lt;b&gt;" in html  # only an escaped one is text
