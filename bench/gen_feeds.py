"""Generate a deterministic set of feeds for the ingest benchmark.

Stages: plan the mix (format, language, encoding, served charset) from a seed, render each
feed to bytes, write it under the directory that gives it its HTTP charset header.

The mix: RSS 2.0 / Atom 1.0 / RSS 1.0 in about 50/30/20; half the feeds in Chinese; about a
third of the Chinese ones encoded GBK with a matching ``encoding="gbk"`` declaration, a few
of those served with a wrong ``charset=utf-8`` header. Each entry has a distinct id and link,
a date in the last four weeks before the anchor, and a 1-6 KB HTML body.

Run alone: ``python bench/gen_feeds.py OUTDIR --feeds 10 --entries 5``.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

from corpus import EN_SENTENCES, EN_TITLES, ZH_SENTENCES, ZH_TITLES

# Served folders: each gets its own Content-Type charset from the nginx config.
SUBDIR_PLAIN = "plain"  # no charset parameter: the XML declaration decides
SUBDIR_UTF8 = "utf8"  # charset=utf-8, correct (UTF-8 files only)
SUBDIR_GBK = "gbk"  # charset=gbk, correct (GBK files only)
SUBDIR_WRONG = "mislabeled"  # charset=utf-8 on GBK files: wrong on purpose
SUBDIR_CHARSETS: dict[str, str | None] = {
    SUBDIR_PLAIN: None,
    SUBDIR_UTF8: "utf-8",
    SUBDIR_GBK: "gbk",
    SUBDIR_WRONG: "utf-8",
}

FORMATS = ("rss2", "atom", "rss1")
SPREAD = timedelta(days=28)
CST = timezone(timedelta(hours=8))
EST = timezone(timedelta(hours=-5))


@dataclass(frozen=True)
class FeedSpec:
    """One planned feed: what it is and where it is served from."""

    index: int
    fmt: str  # "rss2" | "atom" | "rss1"
    lang: str  # "zh" | "en"
    encoding: str  # "utf-8" | "gbk"
    subdir: str  # one of SUBDIR_CHARSETS

    @property
    def name(self) -> str:
        """The feed's short name, also its file stem."""
        return f"f{self.index:04d}"

    @property
    def path(self) -> str:
        """The URL path the feed is served at."""
        return f"/{self.subdir}/{self.name}.xml"

    @property
    def site(self) -> str:
        """The home page of the (fictional) site that publishes the feed."""
        return f"https://news{self.index:04d}.example.com"


def _spread(count: int, shares: tuple[float, ...]) -> list[int]:
    """Split ``count`` into parts proportional to ``shares`` (exact total)."""
    parts = [int(count * s) for s in shares]
    parts[0] += count - sum(parts)
    return parts


def plan_feeds(count: int, seed: int = 1) -> list[FeedSpec]:
    """Plan ``count`` feeds: the format, language and encoding mix, shuffled by ``seed``."""
    rng = random.Random(f"plan-{seed}")
    fmts = [
        f for f, k in zip(FORMATS, _spread(count, (0.5, 0.3, 0.2)), strict=True) for _ in range(k)
    ]
    rng.shuffle(fmts)
    langs = ["zh"] * (count // 2) + ["en"] * (count - count // 2)
    rng.shuffle(langs)
    specs: list[FeedSpec] = []
    zh_seen = gbk_seen = 0
    for i, (fmt, lang) in enumerate(zip(fmts, langs, strict=True), start=1):
        encoding, subdir = "utf-8", (SUBDIR_UTF8 if i % 2 else SUBDIR_PLAIN)
        if lang == "zh":
            zh_seen += 1
            if zh_seen % 3 == 0:  # a third of the Chinese feeds are GBK
                gbk_seen += 1
                encoding = "gbk"
                slot = gbk_seen % 10  # of those: 1 in 10 mislabeled, 2 in 10 with charset=gbk
                subdir = {1: SUBDIR_WRONG, 4: SUBDIR_GBK, 7: SUBDIR_GBK}.get(slot, SUBDIR_PLAIN)
        specs.append(FeedSpec(i, fmt, lang, encoding, subdir))
    return specs


@dataclass(frozen=True)
class _Entry:
    """One rendered entry before it is wrapped in a feed format."""

    title: str
    link: str
    guid: str
    date: datetime
    author: str
    category: str
    summary: str
    html: str


def _paragraph(rng: random.Random, sentences: tuple[str, ...], lang: str) -> str:
    """A paragraph of 2-5 sentences."""
    sep = "" if lang == "zh" else " "
    return sep.join(rng.choice(sentences) for _ in range(rng.randint(2, 5)))


def _html_body(rng: random.Random, spec: FeedSpec, link: str, target: int) -> str:
    """An HTML article body of about ``target`` bytes: paragraphs, links, images, lists."""
    sentences, titles = (
        (ZH_SENTENCES, ZH_TITLES) if spec.lang == "zh" else (EN_SENTENCES, EN_TITLES)
    )
    parts: list[str] = []
    size = 0
    while size < target:
        kind = rng.random()
        if kind < 0.55:
            text = escape(_paragraph(rng, sentences, spec.lang))
            if rng.random() < 0.3:
                text += f' <a href="{link}#more-{len(parts)}">{escape(rng.choice(titles))}</a>'
            chunk = f"<p>{text}</p>"
        elif kind < 0.7:
            n = rng.randint(1, 9999)
            chunk = (
                f'<figure><img src="https://img.example.com/{spec.name}/{n}.jpg" '
                f'alt="{escape(rng.choice(titles))}" width="640" height="360">'
                f"<figcaption>{escape(rng.choice(sentences))}</figcaption></figure>"
            )
        elif kind < 0.85:
            items = "".join(
                f'<li><a href="{spec.site}/related/{rng.randint(1, 99999)}.html">'
                f"{escape(rng.choice(titles))}</a></li>"
                for _ in range(rng.randint(3, 6))
            )
            chunk = f"<h3>{escape(rng.choice(titles))}</h3><ul>{items}</ul>"
        elif kind < 0.95:
            chunk = f"<blockquote><p>{escape(rng.choice(sentences))}</p></blockquote>"
        else:
            chunk = f"<p><strong>{escape(rng.choice(sentences))}</strong></p>"
        parts.append(chunk)
        size += len(chunk.encode("utf-8"))
    return "\n".join(parts)


def _entries(spec: FeedSpec, count: int, anchor: datetime, seed: int) -> list[_Entry]:
    """The feed's entries, newest first."""
    rng = random.Random(f"feed-{seed}-{spec.index}")
    titles = ZH_TITLES if spec.lang == "zh" else EN_TITLES
    authors = ("张明", "李华", "王芳", "新华社") if spec.lang == "zh" else ("J. Smith", "A. Chen")
    cats = ("制造业", "政策", "经济", "社会") if spec.lang == "zh" else ("Industry", "Policy")
    seconds = sorted(rng.randrange(int(SPREAD.total_seconds())) for _ in range(count))
    out: list[_Entry] = []
    for j, sec in enumerate(seconds, start=1):
        date = anchor - timedelta(seconds=sec)
        link = f"{spec.site}/{date:%Y/%m/%d}/{spec.name}-{j:04d}.html"
        guid = link if spec.index % 3 == 0 else f"{spec.name}-{j:04d}-{rng.getrandbits(48):012x}"
        title = f"{rng.choice(titles)} ({j})" if spec.lang == "en" else f"{rng.choice(titles)}({j})"
        html = _html_body(rng, spec, link, rng.randint(1000, 6000))
        summary = _paragraph(rng, ZH_SENTENCES if spec.lang == "zh" else EN_SENTENCES, spec.lang)
        out.append(
            _Entry(title, link, guid, date, rng.choice(authors), rng.choice(cats), summary, html)
        )
    return out


def _rfc822(d: datetime, tz: timezone) -> str:
    local = d.astimezone(tz)
    return local.strftime("%a, %d %b %Y %H:%M:%S ") + local.strftime("%z")


def _render_rss2(spec: FeedSpec, entries: list[_Entry], anchor: datetime, tz: timezone) -> str:
    items = []
    for e in entries:
        perma = "true" if e.guid == e.link else "false"
        items.append(
            f"<item><title>{escape(e.title)}</title><link>{e.link}</link>"
            f'<guid isPermaLink="{perma}">{escape(e.guid)}</guid>'
            f"<pubDate>{_rfc822(e.date, tz)}</pubDate><dc:creator>{escape(e.author)}</dc:creator>"
            f"<category>{escape(e.category)}</category>"
            f"<description>{escape(e.summary)}</description>"
            f"<content:encoded><![CDATA[{e.html}]]></content:encoded></item>"
        )
    lang = "zh-cn" if spec.lang == "zh" else "en-us"
    return (
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>'
        f"<title>{_feed_title(spec)}</title><link>{spec.site}/</link>"
        f"<description>{_feed_title(spec)}</description><language>{lang}</language>"
        f"<lastBuildDate>{_rfc822(anchor, tz)}</lastBuildDate><ttl>60</ttl>\n"
        + "\n".join(items)
        + "\n</channel></rss>\n"
    )


def _render_atom(spec: FeedSpec, entries: list[_Entry], anchor: datetime, tz: timezone) -> str:
    items = []
    for e in entries:
        stamp = e.date.astimezone(tz).isoformat()
        items.append(
            f"<entry><title>{escape(e.title)}</title>"
            f'<link rel="alternate" type="text/html" href="{e.link}"/>'
            f"<id>tag:news{spec.index:04d}.example.com,2024:{escape(e.guid)}</id>"
            f"<published>{stamp}</published><updated>{stamp}</updated>"
            f"<author><name>{escape(e.author)}</name></author>"
            f'<category term="{escape(e.category)}"/>'
            f"<summary>{escape(e.summary)}</summary>"
            f'<content type="html">{escape(e.html)}</content></entry>'
        )
    lang = "zh-CN" if spec.lang == "zh" else "en"
    return (
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{lang}">\n'
        f"<title>{_feed_title(spec)}</title><id>{spec.site}/</id>"
        f'<link rel="alternate" href="{spec.site}/"/>'
        f'<link rel="self" href="{spec.site}/feed.atom"/>'
        f"<updated>{anchor.astimezone(tz).isoformat()}</updated>\n"
        + "\n".join(items)
        + "\n</feed>\n"
    )


def _render_rss1(spec: FeedSpec, entries: list[_Entry], anchor: datetime, tz: timezone) -> str:
    seq = "".join(f'<rdf:li rdf:resource="{e.link}"/>' for e in entries)
    items = []
    for e in entries:
        items.append(
            f'<item rdf:about="{e.link}"><title>{escape(e.title)}</title><link>{e.link}</link>'
            f"<dc:date>{e.date.astimezone(tz).isoformat()}</dc:date>"
            f"<dc:creator>{escape(e.author)}</dc:creator><dc:subject>{escape(e.category)}"
            f"</dc:subject><description>{escape(e.summary)}</description>"
            f"<content:encoded><![CDATA[{e.html}]]></content:encoded></item>"
        )
    lang = "zh-cn" if spec.lang == "zh" else "en"
    return (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n'
        f'<channel rdf:about="{spec.site}/feed.rdf"><title>{_feed_title(spec)}</title>'
        f"<link>{spec.site}/</link><description>{_feed_title(spec)}</description>"
        f"<dc:language>{lang}</dc:language>"
        f"<dc:date>{anchor.astimezone(tz).isoformat()}</dc:date>"
        f"<items><rdf:Seq>{seq}</rdf:Seq></items></channel>\n" + "\n".join(items) + "\n</rdf:RDF>\n"
    )


def _feed_title(spec: FeedSpec) -> str:
    return f"新闻网 {spec.index:04d}" if spec.lang == "zh" else f"News Site {spec.index:04d}"


_RENDERERS = {"rss2": _render_rss2, "atom": _render_atom, "rss1": _render_rss1}


def render_feed(spec: FeedSpec, entries: int, anchor: datetime, seed: int = 1) -> bytes:
    """The feed document for ``spec`` with ``entries`` entries, encoded as declared."""
    tz = CST if spec.lang == "zh" else (UTC if spec.index % 2 else EST)
    body = _RENDERERS[spec.fmt](spec, _entries(spec, entries, anchor, seed), anchor, tz)
    head = f'<?xml version="1.0" encoding="{spec.encoding}"?>\n'
    return (head + body).encode(spec.encoding, errors="xmlcharrefreplace")


def default_anchor() -> datetime:
    """Today's midnight UTC: the newest possible entry date (same all day)."""
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def write_feeds(
    root: Path, feeds: int, entries: int, anchor: datetime, seed: int = 1
) -> list[FeedSpec]:
    """Write ``feeds`` feed files under ``root`` and return their plan."""
    specs = plan_feeds(feeds, seed)
    for sub in SUBDIR_CHARSETS:
        (root / sub).mkdir(parents=True, exist_ok=True)
    for spec in specs:
        (root / spec.path.lstrip("/")).write_bytes(render_feed(spec, entries, anchor, seed))
    return specs


def main() -> None:
    """Write feeds into a folder (for looking at them by hand)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--feeds", type=int, default=10)
    ap.add_argument("--entries", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    specs = write_feeds(args.outdir, args.feeds, args.entries, default_anchor(), args.seed)
    for s in specs:
        print(s.path, s.fmt, s.lang, s.encoding)


if __name__ == "__main__":
    main()
