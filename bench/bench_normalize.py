"""How many entries per second `normalize_entry` handles on one core.

The rate is per CPU second of this process (so other load on the machine skews it less);
the wall-clock time is printed beside it.

Two sets of entries, each timed on its own:

    corpus   the ingest benchmark's entries (gen_feeds.py: 1–6 KB HTML bodies, Chinese and
             English, absolute links, figures, lists), as the parser hands them over
    hostile  the same bodies with what sanitizing must work on: relative and "../" links and
             images, inline styles, event handlers, classes, scripts, no declared language

    .venv/bin/python bench/bench_normalize.py [--entries 20000] [--seed 1]

Needs no network and no parser: entries are built as `ParsedEntry` values directly.
"""

from __future__ import annotations

import argparse
import re
import time
from datetime import datetime, timedelta
from html import escape

from gen_feeds import _entries, default_anchor, plan_feeds

from aggregator.models import Enclosure, ParsedEntry, ParsedFeed
from aggregator.normalize import SourceContext, normalize_entry

_PARAGRAPH = re.compile(r"<p>")
_ABSOLUTE_IMG = re.compile(r'src="https://img\.example\.com/[^"]*/(\d+)\.jpg"')


def corpus_entries(count: int, seed: int) -> list[tuple[ParsedEntry, str]]:
    """`count` entries from the ingest benchmark's generator, each with its feed language."""
    anchor = default_anchor()
    out: list[tuple[ParsedEntry, str]] = []
    for spec in plan_feeds(max(1, count // 50), seed):
        for e in _entries(spec, 50, anchor, seed):
            entry = ParsedEntry(
                id=e.guid,
                link=e.link,
                title=e.title,
                summary=escape(e.summary),
                content=e.html,
                authors=(e.author,),
                tags=(e.category,),
                published=e.date,
            )
            out.append((entry, "zh-cn" if spec.lang == "zh" else "en-us"))
    return out[:count]


def hostile(entry: ParsedEntry, n: int) -> ParsedEntry:
    """The entry with relative URLs, styles, handlers and scripts worked into its body."""
    body = entry.content or ""
    body = _PARAGRAPH.sub(
        '<p class="text" style="margin:0" onclick="track()">'
        f'<a href="../../related/{n}.html?utm_source=rss">more</a> ',
        body,
    )
    body = _ABSOLUTE_IMG.sub(r'src="/images/\1.jpg" onerror="steal()"', body)
    body += f'<script>var tracker = "{n}";</script><style>p {{ color: red }}</style>'
    return ParsedEntry(
        id=None,
        link=(entry.link or "") + "?utm_medium=feed&from=timeline",
        title=(entry.title or "") + " &amp; more",
        summary=entry.summary,
        content=body,
        authors=(*entry.authors, " "),
        tags=(*entry.tags, entry.tags[0].upper()),
        enclosures=(Enclosure(url=f"/media/{n}.mp3", type="audio/mpeg", length=1000),),
        published=(entry.published or datetime(2024, 1, 1)).replace(tzinfo=None),
    )


def run(name: str, entries: list[tuple[ParsedEntry, str | None]], now: datetime) -> None:
    """Normalize every entry once and print the rate."""
    source = SourceContext(
        name="bench", url="https://news.example.com/feed.xml", timezone="Asia/Shanghai"
    )
    feeds = {
        lang: ParsedFeed(format="rss20", language=lang) for lang in {lang for _, lang in entries}
    }
    kbytes = sum(len((e.content or "").encode()) for e, _ in entries) / 1024
    wall, cpu = time.perf_counter(), time.process_time()
    for entry, lang in entries:
        normalize_entry(entry, feed=feeds[lang], source=source, now=now)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{name:8s} {len(entries)} entries, {kbytes / len(entries):.1f} KB body each:"
        f" {len(entries) / cpu:,.0f} entries per CPU second"
        f" ({cpu:.2f} s CPU, {wall:.2f} s wall)"
    )


def main() -> None:
    """Build both sets and time them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    corpus: list[tuple[ParsedEntry, str | None]] = list(corpus_entries(args.entries, args.seed))
    rough: list[tuple[ParsedEntry, str | None]] = [
        (hostile(entry, n), None) for n, (entry, _) in enumerate(corpus)
    ]
    now = default_anchor() + timedelta(hours=1)
    run("corpus", corpus, now)
    run("hostile", rough, now)


if __name__ == "__main__":
    main()
