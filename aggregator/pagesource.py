"""A page pass: sources without feeds (`type: page`) and feeds with `full_text: true`.

Called by core for such a source once its list page (or feed) came back 200; a 304 never
gets here. `page_pass` runs these stages in order:

    list        type page: the fetched list page, then up to max_pages - 1 more by the
                `next` link (same fetcher), read on the parse workers → items
                full_text: the feed processed as usual (`process`) → its articles
    known       one store read: which of the items' canonical URLs (the articles' ids)
                are stored; full_text: stored with the same content hash
    choose      the first max_new_per_pass of the others, in list order; the rest wait for
                the next pass (the list's validators are then dropped, so that the next
                fetch reads it again rather than getting a 304)
    fetch       their pages, concurrently, with the source's fetcher (so per-host and global
                limits hold) and the source's headers
    build       extract, normalize, classify on the parse workers (`pagebuild`)
    report      `PagePass.processed` for decide_state (entries = items on the list pages;
                a list page that is no HTML page, such as a PDF or a feed, is the source's
                error: "list page is not HTML (application/pdf)"),
                then `PagePass.apply` puts problems on the decided state and result: a list
                page that matched nothing ("list page matched no items (selectors: …)"; its
                validators dropped, so every pass reads it and counts as empty until the
                selectors match), pages that failed. A failed page never fails the source.

A page that failed to fetch (a timeout, a 5xx) is left for the next pass; one that is gone
(404, 410) or has no main content is stored as the list shows it (title, link, date). A
`content:` selector that matches nothing on every page fetched fails the source and stores
nothing (a redesign, not an odd page).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from aggregator.fetch import Fetcher
from aggregator.models import (
    Article,
    FetchRequest,
    FetchResult,
    PageRules,
    Source,
    SourceConfig,
    SourceState,
    UpdateResult,
)
from aggregator.normalize import SourceContext
from aggregator.pagebuild import (
    ArticlePage,
    BuiltPages,
    FetchedPage,
    ListJob,
    PageJob,
    build_pages,
    list_hints,
    read_lists,
)
from aggregator.pagelist import ListItem, describe_rules
from aggregator.process import Processed, ProcessPool, SourceJob
from aggregator.store import Store

GONE = frozenset({404, 410})
"""Statuses after which an article page is not asked for again (stored as listed)."""

MAX_REASON = 300
"""The longest reason line a page pass adds to its result."""


@dataclass(frozen=True)
class PagePass:
    """What a page pass made of a source: the processed articles and what went wrong."""

    processed: Processed
    no_items: str | None = None  # why the list gave nothing, when it did
    failures: tuple[str, ...] = ()  # one "URL: reason" per page that failed
    waiting: int = 0  # new items left for the next pass (max_new_per_pass)
    retrying: int = 0  # pages that failed to fetch, asked for again on the next pass

    def apply(self, state: SourceState, result: UpdateResult) -> tuple[SourceState, UpdateResult]:
        """`state` and `result` with this pass's problems as their reason. With items left
        for the next pass, or none found, the list's validators are dropped: the next fetch
        reads it again (with the config as it is then) rather than getting a 304."""
        if state.last_status != "ok":
            return state, result
        if self.waiting or self.retrying or self.no_items:
            state = replace(state, etag=None, last_modified=None)
        problems = [self.no_items] if self.no_items else []
        if self.failures:
            shown = "; ".join(self.failures[:3]) + ("; …" if len(self.failures) > 3 else "")
            problems.append(f"{len(self.failures)} article page(s) failed: {shown}")
        notes = [*problems]
        if self.waiting:
            notes.append(f"{self.waiting} new article(s) left for the next pass")
        last_error = _line("; ".join(problems)) if problems else state.last_error
        reason = _line("; ".join(notes)) if notes else result.reason
        return replace(state, last_error=last_error), replace(result, reason=reason)


@dataclass
class _Pass:
    """The parts a page pass works with."""

    source: Source
    config: SourceConfig
    fetcher: Fetcher
    pool: ProcessPool
    store: Store
    now: datetime
    failures: list[str] = field(default_factory=list)

    def context(self, url: str) -> SourceContext:
        return SourceContext(
            name=self.source.name,
            url=url,
            timezone=self.config.zone,
            language=self.config.language,
        )

    async def fetch(self, url: str) -> FetchResult:
        return await self.fetcher.fetch(FetchRequest(url=url, headers=self.config.headers))

    async def known(self, ids: Sequence[str]) -> dict[str, str]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.store.known.hashes, self.source.id, ids)


async def page_pass(
    *,
    source: Source,
    config: SourceConfig,
    fetched: FetchResult,
    fetcher: Fetcher,
    pool: ProcessPool,
    store: Store,
    now: datetime,
) -> PagePass:
    """Run a page pass over `fetched`, the 200 answer for `source` (module docstring)."""
    run = _Pass(source, config, fetcher, pool, store, now)
    if config.type == "page":
        return await _page_source(run, fetched)
    return await _full_text(run, SourceJob.of(source, config, fetched, now))


async def _page_source(run: _Pass, fetched: FetchResult) -> PagePass:
    rules = run.config.page or PageRules()
    url = fetched.final_url or run.source.url
    items, title, problem = await _read_list(run, fetched, rules)
    if problem is not None:  # the list page is no HTML page: the source fails
        return PagePass(processed=Processed(error=problem))
    known = await run.known([item.url for item in items])
    new = [item for item in items if item.url not in known]
    chosen = new[: run.config.max_new_per_pass]
    results = await asyncio.gather(*(run.fetch(item.url) for item in chosen))
    pages: list[ArticlePage] = []
    for item, result in zip(chosen, results, strict=True):
        page = _page(run, item.url, result)
        if page is not None or result.http_status in GONE:
            pages.append(ArticlePage(page=page, item=item))
    retrying = len(chosen) - len(pages)  # not stored now: new again on the next pass
    built = await _build(run, url, pages)
    if built.selector_error is not None:  # nothing stored: fetched again once it is fixed
        return PagePass(processed=Processed(error=built.selector_error))
    processed = Processed(
        articles=built.articles,
        matches=built.matches,
        search=built.search,
        fingerprints=built.fingerprints,
        title=title,
        link=url,
        hints=list_hints(items, run.config.zone, run.now),
        entries=len(items),
    )
    no_items = f"list page matched no items ({describe_rules(rules)})" if not items else None
    return PagePass(
        processed=processed,
        no_items=no_items,
        failures=tuple(run.failures),
        waiting=len(new) - len(chosen),
        retrying=retrying,
    )


async def _read_list(
    run: _Pass, fetched: FetchResult, rules: PageRules
) -> tuple[list[ListItem], str | None, str | None]:
    """The items of the list page and of up to max_pages - 1 pages after it, its title, and
    why the list page itself is no HTML page, when it is not (a later page that is not is
    noted as a failure)."""
    items: dict[str, ListItem] = {}
    title = None
    url, result = run.source.url, fetched
    seen = {result.final_url or url}
    pages = rules.max_pages if rules.next else 1
    for number in range(pages):
        body = _fetched_page(url, result)
        (page,) = await run.pool.call(read_lists, ListJob(pages=(body,), rules=rules))
        if page.problem is not None:
            if number == 0:
                return [], None, page.problem
            run.failures.append(f"{url}: {page.problem}")
            break
        title = page.title if number == 0 else title
        for item in page.items:
            items.setdefault(item.url, item)
        if number == pages - 1 or page.next_url is None or page.next_url in seen:
            break
        url = page.next_url
        seen.add(url)
        result = await run.fetch(url)
        if result.status != "ok":
            run.failures.append(f"{url}: {result.error or result.status}")
            break
    return list(items.values()), title, None


def _fetched_page(url: str, result: FetchResult) -> FetchedPage:
    return FetchedPage(url, result.body, result.charset, result.final_url, result.content_type)


def _page(run: _Pass, url: str, result: FetchResult) -> FetchedPage | None:
    """The fetched page, or None with the failure noted."""
    if result.status == "ok":
        return _fetched_page(url, result)
    run.failures.append(f"{url}: {result.error or result.status}")
    return None


async def _build(run: _Pass, url: str, pages: list[ArticlePage]) -> BuiltPages:
    if not pages:
        return BuiltPages([], {}, {}, {}, [])
    job = PageJob(
        context=run.context(url),
        source_tags=run.config.tags,
        content_selector=run.config.content,
        pages=tuple(pages),
        now=run.now,
    )
    built = await run.pool.call(build_pages, job)
    run.failures.extend(built.failures)
    return built


async def _full_text(run: _Pass, job: SourceJob) -> PagePass:
    processed = await run.pool.run(job)
    if processed.error or not processed.articles:
        return PagePass(processed=processed)
    known = await run.known([a.id for a in processed.articles])
    new = [a for a in processed.articles if known.get(a.id) != a.content_hash]
    linked = [a for a in new if a.url]
    chosen, later = linked[: run.config.max_new_per_pass], linked[run.config.max_new_per_pass :]
    results = await asyncio.gather(*(run.fetch(a.url or "") for a in chosen))
    pages: list[ArticlePage] = []
    retry: set[str] = {a.id for a in later}
    for article, result in zip(chosen, results, strict=True):
        page = _page(run, article.url or "", result)
        if page is None and result.http_status not in GONE:
            retry.add(article.id)  # not stored now: new again on the next pass
        else:
            pages.append(ArticlePage(page=page, article=article))
    built = await _build(run, job.url, pages)
    if built.selector_error is not None:
        return PagePass(processed=Processed(error=built.selector_error))
    return PagePass(
        processed=_merged(processed, built, retry),
        failures=tuple(run.failures),
        waiting=len(later),
        retrying=len(retry) - len(later),
    )


def _merged(processed: Processed, built: BuiltPages, dropped: set[str]) -> Processed:
    """The feed's articles with the built ones in their place, without the `dropped` ids."""
    replaced: dict[str, Article] = {a.id: a for a in built.articles}
    articles = [replaced.get(a.id, a) for a in processed.articles if a.id not in dropped]
    kept = {a.id for a in articles}
    matches = {k: v for k, v in processed.matches.items() if k not in replaced and k in kept}
    matches.update(built.matches)
    return replace(
        processed,
        articles=articles,
        matches=matches,
        search={k: v for k, v in {**processed.search, **built.search}.items() if k in kept},
        fingerprints={
            k: v for k, v in {**processed.fingerprints, **built.fingerprints}.items() if k in kept
        },
    )


def _line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"
