"""The CPU half of a page pass, run on the parse workers: list pages → items, article pages →
Articles with their topic matches, search tokens and fingerprints.

    read_lists(job)      each fetched list page → `ListPage` (see `pagelist`)
    build_pages(job)     each fetched article page:
      extract            main content, title, date, author, language (`extract.extract_page`,
                         with the source's `content:` selector and time zone). A selector
                         that matches nothing on every page fetched builds nothing and says
                         so (`BuiltPages.selector_error`): the site changed
      article            type page: id = the list's canonical URL; title = the page's, else the
                         list's; date = the page's, else the list's (read with `page_dates`),
                         else first-seen (`date_is_first_seen`, never re-dated: see
                         store_decide.split_batch). A page without main content (a PDF, an
                         image) is kept with the list's title and no text.
                         full_text: the feed's article with the page's content and text; its
                         content hash stays the feed entry's, so an unchanged entry is never
                         fetched or rewritten again
      classify           topics, search tokens, fingerprint, as `process.process` does

Pure functions of their job and `now`; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from aggregator.errors import ContentSelectorError, ParseError
from aggregator.models import (
    ZH_TIMEZONE,
    Article,
    ExtractedPage,
    FeedHints,
    PageRules,
    ParsedEntry,
    ParsedFeed,
    TopicMatch,
)
from aggregator.normalize import SourceContext, normalize_entry
from aggregator.pagelist import ListItem, ListPage, read_list_page

if TYPE_CHECKING:
    from aggregator.classify import Classifier
    from aggregator.searchtext import SearchDoc


@dataclass(frozen=True)
class FetchedPage:
    """One fetched page body; from pagesource to a worker."""

    url: str  # as requested (for an article: its canonical URL, the article's id)
    body: bytes
    charset: str | None = None
    final_url: str | None = None  # after redirects
    content_type: str | None = None  # the media type the server named, if any


@dataclass(frozen=True)
class ListJob:
    """The list pages of one page source to read."""

    pages: tuple[FetchedPage, ...]
    rules: PageRules


@dataclass(frozen=True)
class ArticlePage:
    """An article page to turn into an Article: a list item's or a feed entry's."""

    page: FetchedPage | None  # None: the page had no main content to fetch (kept as listed)
    item: ListItem | None = None  # type page: the list's link, title and date text
    article: Article | None = None  # full_text: the feed's article


@dataclass(frozen=True)
class PageJob:
    """The article pages of one source to extract, normalize and classify."""

    context: SourceContext
    source_tags: tuple[str, ...]
    content_selector: str | None
    pages: tuple[ArticlePage, ...]
    now: datetime


@dataclass(frozen=True)
class BuiltPages:
    """What the article pages of one source yielded; from a worker to pagesource."""

    articles: list[Article]
    matches: dict[str, list[TopicMatch]]
    search: dict[str, SearchDoc]
    fingerprints: dict[str, bytes]
    failures: list[str]  # one "URL: reason" per page without main content
    selector_error: str | None = None  # `content:` matched none of the pages: nothing built


def read_lists(job: ListJob, classifier: Classifier | None = None) -> list[ListPage]:
    """Each list page's items and next link, in order."""
    return [
        read_list_page(
            p.body,
            url=p.final_url or p.url,
            rules=job.rules,
            charset=p.charset,
            content_type=p.content_type,
        )
        for p in job.pages
    ]


def build_pages(job: PageJob, classifier: Classifier) -> BuiltPages:
    """Articles (with matches, search tokens, fingerprints) from the job's pages."""
    from aggregator.classify import ArticleText
    from aggregator.fingerprint import signature
    from aggregator.searchtext import article_doc

    built = BuiltPages([], {}, {}, {}, [])
    done = [(entry, *_extract(entry.page, job)) for entry in job.pages]
    missed = [failure for _, _, failure, miss in done if miss and failure]
    if missed and len(missed) == sum(1 for entry in job.pages if entry.page is not None):
        # On every page fetched: the site changed, not one odd page. Nothing is stored, so
        # that these articles are fetched again once the selector is fixed.
        example = missed[0].split(": ", 1)[0]
        reason = (
            f"content selector {job.content_selector!r} matched nothing on "
            f"{len(missed)} article page(s), e.g. {example}"
        )
        return BuiltPages([], {}, {}, {}, [], selector_error=reason)
    for entry, extracted, failure, _ in done:
        if failure is not None:
            built.failures.append(failure)
        if entry.article is not None:
            article = _with_full_text(entry.article, extracted)
        elif entry.item is not None:
            article = _from_list_item(entry.item, extracted, job)
        else:
            continue
        built.articles.append(article)
        found = classifier.classify(ArticleText.from_article(article, job.source_tags))
        if found:
            built.matches[article.id] = found
        built.search[article.id] = article_doc(article)
        built.fingerprints[article.id] = signature(article.text) or b""
    return built


def list_hints(items: Sequence[ListItem], timezone: str | None, now: datetime) -> FeedHints:
    """The list's rhythm from the dates its items show (for `interval: auto`)."""
    from aggregator.page_dates import find_date
    from aggregator.schedule import entries_per_day

    dates = [find_date(i.date_text, now=now, timezone=timezone) for i in items if i.date_text]
    return FeedHints(entries_per_day=entries_per_day([d for d in dates if d], now))


def _extract(
    page: FetchedPage | None, job: PageJob
) -> tuple[ExtractedPage | None, str | None, bool]:
    """The extracted page, else why not ("URL: reason"), and whether the `content:` selector
    is why."""
    if page is None:
        return None, None, False
    from aggregator.extract import extract_page

    url = page.final_url or page.url
    try:
        found = extract_page(
            page.body,
            url=url,
            charset=page.charset,
            content_selector=job.content_selector,
            timezone=job.context.timezone,
            now=job.now,
        )
    except ParseError as exc:
        return None, f"{page.url}: {exc.reason}", isinstance(exc, ContentSelectorError)
    return found, None, False


def _from_list_item(item: ListItem, page: ExtractedPage | None, job: PageJob) -> Article:
    from aggregator.language import choose_language, primary_subtag
    from aggregator.page_dates import find_date

    title = (page.title if page else None) or item.title
    published = page.published if page else None
    if published is None and item.date_text:
        language = page.language if page else choose_language((), item.title or "", "")
        chinese = language is not None and primary_subtag(language) == "zh"
        zone = job.context.timezone or (ZH_TIMEZONE if chinese else None)
        published = find_date(item.date_text, now=job.now, timezone=zone)
    entry = ParsedEntry(
        id=item.url,
        link=item.url,
        title=title,
        content=page.content if page else None,
        authors=(page.author,) if page and page.author else (),
        published=published,
        language=page.language if page else None,
        policy=page.policy if page else None,
    )
    return normalize_entry(entry, feed=ParsedFeed(format="html"), source=job.context, now=job.now)


def _with_full_text(article: Article, page: ExtractedPage | None) -> Article:
    if page is None:
        return article
    dated = article.date_is_first_seen and page.published is not None
    return replace(
        article,
        content=page.content,
        text=page.text,
        published=page.published if dated and page.published else article.published,
        date_is_first_seen=article.date_is_first_seen and not dated,
        authors=article.authors or ((page.author,) if page.author else ()),
        policy=article.policy or page.policy,
    )
