"""Generated feed documents for the differential test: many small variations of RSS 2.0,
RSS 0.92, RSS 1.0 and Atom 1.0, built from a seeded random generator so every run sees the
same documents. Not a test module itself (see tests/test_parse_diff.py)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from xml.sax.saxutils import escape

NS = {
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "atom": "http://www.w3.org/2005/Atom",
    "slash": "http://purl.org/rss/1.0/modules/slash/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
    "media": "http://search.yahoo.com/mrss/",
    "feedburner": "http://rssnamespace.org/feedburner/ext/1.0",
    "sy": "http://purl.org/rss/1.0/modules/syndication/",
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "x": "http://example.com/ns/extension",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
}
ZH = [
    "先进高端制造业是上海产业重要方向",
    "李强赴嘉定调研中外企业",
    "推动形成具有更强创新力、更高附加值的产业链",
    "国务院关于加快发展先进制造业的若干意见",
    "市政府办公厅印发《关于促进工业经济发展的实施方案》",
]
EN = [
    "Factory output rises for a third month",
    "Policy update: new rules for small manufacturers",
    "Q&A with the minister",
    "Why <b>tariffs</b> matter",
    "Caf\u00e9 owners \u201cworried\u201d about rents",
    "Smart \x93quotes\x94 from a Windows editor",
    "Mojibake caf\u00c3\u00a9 \u00c3\u00a0 la carte",
]
DATES_822 = [
    "Mon, 06 Sep 2021 16:45:00 +0800",
    "Tue, 07 Sep 2021 08:00:00 GMT",
    "7 Sep 2021 09:15 EST",
    "Wed, 08 Sep 2021 10:00:00 CST",
    "Thu, 09 Sep 21 11:30:00 -0500",
]
DATES_ISO = [
    "2021-09-06T16:45:00+08:00",
    "2021-09-06T08:45:00Z",
    "2021-09-06 16:45:00",
    "2021-09-06",
    "2021-09-06T16:45:00.250-04:00",
]
BODIES = [
    "<p>Plain paragraph.</p>",
    '<p>See <a href="/news/2021/1.html">the report</a> &amp; <img src="img/a.png" alt="a"></p>',
    "<div><p>第一段。</p><p>第二段 &nbsp; 含有<strong>重点</strong>。</p></div>",
    "Text with &lt;escaped&gt; markup &amp; an ampersand",
    "<p>Line one<br/>Line two</p>\n<ul><li>one</li><li>two</li></ul>",
    "",
]


class Variant:
    """Builds one random document."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, options: list[str]) -> str:
        """One of the options."""
        return self.rng.choice(options)

    def maybe(self, p: float = 0.5) -> bool:
        """True with probability p."""
        return self.rng.random() < p

    def text(self) -> str:
        """A Chinese or English headline."""
        return self.pick(ZH + EN)

    def title_markup(self) -> str:
        """A title as it may be written: escaped, CDATA, double-escaped, refs, padded, empty."""
        kind = self.rng.randrange(7)
        t = self.text()
        if kind == 0:
            return escape(t)
        if kind == 1:
            return f"<![CDATA[{t}]]>"
        if kind == 2:
            return escape(escape(t))
        if kind == 3:
            return "<![CDATA[<b>" + t + "</b> &amp; more]]>"
        if kind == 4:
            refs = self.pick(["&#20013;&#x6587; ", "&#150;&#233; ", "&#195;&#169;&#x93; "])
            return refs + escape(t)
        if kind == 5:
            return "  \n " + escape(t) + "\n  "
        return ""

    def body_markup(self) -> str:
        """An HTML body, in CDATA or escaped."""
        body = self.pick(BODIES)
        if self.maybe(0.6):
            return f"<![CDATA[{body}]]>"
        return escape(body)

    def link_text(self) -> str:
        """A link as it may be written."""
        return self.pick(
            [
                "http://example.com/news/1.html",
                "/news/2.html",
                "news/3.html?a=1&amp;b=2",
                "https://example.org/%E4%B8%AD/4",
                "  http://example.com/5  ",
                "http://example.com/q?a=1&amp;amp;b=2&amp;copy;",
                "",
            ]
        )

    def ext(self, entry: bool) -> list[str]:
        """Extension elements, mostly harmless, sometimes ones the fast path must decline."""
        out = []
        if self.maybe(0.3):
            out.append(f"<slash:comments>{self.rng.randrange(50)}</slash:comments>")
        if self.maybe(0.3):
            out.append("<wfw:commentRss>http://example.com/c/1/feed</wfw:commentRss>")
        if self.maybe(0.2):
            out.append("<feedburner:origLink>http://example.com/orig</feedburner:origLink>")
        if self.maybe(0.2):
            out.append('<x:meta kind="a"><x:inner>v</x:inner></x:meta>')
        if entry and self.maybe(0.2):
            out.append(
                '<media:content url="http://example.com/v.mp4" type="video/mp4">'
                '<media:thumbnail url="http://example.com/t.jpg"/></media:content>'
            )
        if self.maybe(0.01):
            out.append("<itunes:summary>podcast summary</itunes:summary>")
        if self.maybe(0.01):
            out.append("<media:title>media title</media:title>")
        return out

    def shuffled(self, parts: list[str]) -> str:
        """Join the parts, sometimes in a shuffled order."""
        if self.maybe(0.3):
            self.rng.shuffle(parts)
        return "\n".join(p for p in parts if p)

    # ---------------------------------------------------------------- RSS

    def rss_item(self, rdf: bool) -> str:
        """One RSS 2.0/0.92 or RSS 1.0 item."""
        parts = []
        if self.maybe(0.9):
            parts.append(f"<title>{self.title_markup()}</title>")
        if self.maybe(0.1):
            parts.append(f"<dc:title>{self.title_markup()}</dc:title>")
        if self.maybe(0.85):
            parts.append(f"<link>{self.link_text()}</link>")
        if self.maybe(0.15):
            parts.append(
                f'<atom:link rel="alternate" href="{self.pick(["/a", "http://e.com/b"])}"/>'
            )
        if not rdf and self.maybe(0.8):
            guid = self.pick(
                ["12345", "http://example.com/p/9", "tag:example.com,2021:1", "/rel/7"]
            )
            perm = self.pick(
                ["", ' isPermaLink="false"', ' isPermaLink="true"', ' isPermaLink="False"']
            )
            parts.append(f"<guid{perm}>{guid}</guid>")
        if self.maybe(0.85):
            base = self.pick(["", "", ' xml:base="http://d.example.com/x/"', ' xml:base="rel/"'])
            parts.append(f"<description{base}>{self.body_markup()}</description>")
        if self.maybe(0.5):
            parts.append(f"<content:encoded>{self.body_markup()}</content:encoded>")
        if self.maybe(0.04):
            parts.append("<description>second description</description>")
        if rdf or self.maybe(0.3):
            parts.append(f"<dc:date>{self.pick(DATES_ISO)}</dc:date>")
        for _ in range(0 if rdf else self.pick([0, 1, 1, 1, 2])):
            parts.append(f"<pubDate>{self.pick(DATES_822)}</pubDate>")
        if self.maybe(0.05):
            parts.append('<x:note base="http://plain-base.example.com/">n</x:note>')
        if self.maybe(0.1):
            parts.append(f"<dcterms:modified>{self.pick(DATES_ISO)}</dcterms:modified>")
        for _ in range(self.rng.randrange(3)):
            author = self.pick(
                [
                    "jane@example.com (Jane Doe)",
                    "jane@example.com (Jane Doe)",
                    "编辑部",
                    "bob@example.org",
                    "编辑部",
                    "Jane Doe",
                    "Jane Doe <jane@example.com>",
                    "",
                ]
            )
            if self.maybe(0.02):
                author = "x@y.museum (Odd)"
            tag = "author" if not rdf and self.maybe() else "dc:creator"
            parts.append(f"<{tag}>{escape(author)}</{tag}>")
        for _ in range(self.rng.randrange(4)):
            term = self.pick(["News", "政策", "制造业", "Tech &amp; Science", "News", ""])
            if self.maybe(0.3):
                parts.append(f'<category domain="http://example.com/cat">{term}</category>')
            elif self.maybe(0.3):
                parts.append(f"<dc:subject>{term}</dc:subject>")
            else:
                parts.append(f"<category>{term}</category>")
        if not rdf and self.maybe(0.25):
            parts.append(
                '<enclosure url="http://example.com/a.mp3" length="'
                + self.pick(["1234", "0", "", "abc"])
                + '" type="audio/mpeg"/>'
            )
        if self.maybe(0.15):
            parts.append(f"<dc:language>{self.pick(['zh-CN', 'en'])}</dc:language>")
        if not rdf and self.maybe(0.1):
            parts.append('<source url="http://other.example.com/feed">Other</source>')
        if not rdf and self.maybe(0.3):
            parts.append("<comments>http://example.com/1#comments</comments>")
        parts += self.ext(True)
        attrs = ""
        if rdf:
            attrs = f' rdf:about="http://example.com/rdf/{self.rng.randrange(100)}"'
        if self.maybe(0.1):
            attrs += ' xml:lang="zh-CN"'
        if self.maybe(0.1):
            attrs += ' xml:base="http://base.example.com/dir/"'
        return f"<item{attrs}>\n{self.shuffled(parts)}\n</item>"

    def rss(self, version: str) -> str:
        """A whole RSS 2.0 or 0.9x document."""
        head = []
        if self.maybe(0.9):
            head.append(f"<title>{self.title_markup()}</title>")
        if self.maybe(0.9):
            head.append(f"<link>{self.link_text()}</link>")
        head.append(f"<description>{escape(self.text())}</description>")
        if self.maybe(0.5):
            head.append(
                '<atom:link href="http://example.com/feed" rel="self" type="application/rss+xml"/>'
            )
        if self.maybe(0.6):
            head.append(f"<language>{self.pick(['zh-cn', 'en-us', 'zh_CN'])}</language>")
        if self.maybe(0.4):
            head.append(f"<ttl>{self.pick(['60', '30', 'x', ' 15 '])}</ttl>")
        if self.maybe(0.2):
            hours = self.rng.sample(["0", " 5 ", "23", "24", "x", "07", "5"], 3)
            values = "".join(f"<hour>{h}</hour>" for h in hours)
            head.append(f"<skipHours>{values}</skipHours>")
        if self.maybe(0.2):
            days = self.rng.sample(["Monday", "sunday", " Friday ", "Funday", "SATURDAY"], 2)
            values = "".join(f"<day>{d}</day>" for d in days)
            head.append(f"<skipDays>{values}</skipDays>")
        if self.maybe(0.3):
            head.append(
                "<image><url>http://example.com/logo.png</url><title>Logo</title>"
                "<link>http://example.com/</link></image>"
            )
        if self.maybe(0.4):
            head.append(f"<lastBuildDate>{self.pick(DATES_822)}</lastBuildDate>")
        if self.maybe(0.3):
            head.append("<generator>https://wordpress.org/?v=6.0</generator>")
        if self.maybe(0.2):
            head.append("<sy:updatePeriod>hourly</sy:updatePeriod>")
        if self.maybe(0.2):
            head.append("<managingEditor>editor@example.com (Editor)</managingEditor>")
        items = [self.rss_item(False) for _ in range(self.rng.randrange(6))]
        root_attrs = ""
        if self.maybe(0.1):
            root_attrs += ' xml:lang="zh-CN"'
        if self.maybe(0.1):
            root_attrs += ' xml:base="http://example.com/base/"'
        ns = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items() if k != "rdf")
        body = self.shuffled(head) + "\n" + "\n".join(items)
        return (
            f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="{version}" {ns}{root_attrs}>'
            f"\n<channel>\n{body}\n</channel>\n</rss>\n"
        )

    def rdf(self) -> str:
        """A whole RSS 1.0 (RDF) document."""
        n = self.rng.randrange(5)
        abouts = [f"http://example.com/rdf/{i}" for i in range(n)]
        seq = "".join(f'<rdf:li rdf:resource="{a}"/>' for a in abouts)
        channel = (
            f'<channel rdf:about="http://example.com/rss">\n<title>{self.title_markup()}</title>\n'
            f"<link>http://example.com/</link>\n<description>{escape(self.text())}</description>\n"
            f"<dc:language>{self.pick(['zh-CN', 'en'])}</dc:language>\n"
            '<image rdf:resource="http://example.com/logo.png"/>\n'
            f"<items><rdf:Seq>{seq}</rdf:Seq></items>\n</channel>"
        )
        image = ""
        if self.maybe(0.2):
            channel = (
                '<textinput rdf:about="http://example.com/search"><title>Search</title>'
                "<description>d</description><name>q</name><link>http://example.com/s</link>"
                "</textinput>\n" + channel
            )
        if self.maybe(0.5):
            image = (
                '<image rdf:about="http://example.com/logo.png"><title>Logo</title>'
                "<url>http://example.com/logo.png</url><link>http://example.com/</link></image>"
            )
        if image and self.maybe(0.3):
            channel, image = image, channel  # image before the channel
        items = "\n".join(self.rss_item(True) for _ in abouts)
        ns = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items())
        lang = ' xml:lang="en"' if self.maybe(0.2) else ""
        return (
            f'<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF xmlns="http://purl.org/rss/1.0/" '
            f"{ns}{lang}>\n{channel}\n{image}\n{items}\n</rdf:RDF>\n"
        )


def variants(count: int, seed: int = 20220122) -> Iterator[tuple[str, bytes]]:
    """Yield (name, document) pairs: `count` seeded variations across the formats."""
    rng = random.Random(seed)
    from tests.feed_variants_atom import AtomVariant  # it builds on Variant, defined here

    makers: list[tuple[str, Callable[[AtomVariant], str]]] = [
        ("rss20", lambda v: v.rss("2.0")),
        ("rss092", lambda v: v.rss("0.92")),
        ("rss10", AtomVariant.rdf),
        ("atom10", AtomVariant.atom),
    ]
    for i in range(count):
        label, make = makers[i % len(makers)]
        doc = make(AtomVariant(rng))
        yield f"{label}-{i}", doc.encode("utf-8")
