"""The config schema of page sources: `page:` rules, `content:`, `full_text:` and the checks
that tie them to a source's `type`.

Used by `configschema.SourceSection`; messages are short and name what to change. CSS
selectors are checked with `pagelist.check_selector`, regexes with `re`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from aggregator.models import PageRules

_RULES = PageRules()


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("config", "{message}", {"message": message})


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise _fail("expected a number, not true/false")
    return value


def _one_or_many(value: Any) -> Any:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else value


def _selector(value: str | None) -> str | None:
    if value is None:
        return None
    from aggregator.pagelist import check_selector

    problem = check_selector(value)
    if problem is not None:
        raise _fail(problem)
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise _fail(f"invalid regular expression: {exc.msg}") from None
    return value


def _needs_item(value: str | None, info: ValidationInfo) -> str | None:
    if value is not None and info.data.get("item") is None:
        raise _fail("used only with item (the selector of each article's element)")
    return value


Selector = Annotated[str | None, Field(min_length=1), AfterValidator(_selector)]
ItemPart = Annotated[
    str | None, Field(min_length=1), AfterValidator(_selector), AfterValidator(_needs_item)
]
Patterns = Annotated[
    tuple[Annotated[str, Field(min_length=1), AfterValidator(_regex)], ...],
    BeforeValidator(_one_or_many),
]


class PageSection(BaseModel):
    """`page:` of a `type: page` source: how its list page names its articles."""

    model_config = ConfigDict(extra="forbid")

    item: Selector = None
    link: ItemPart = None
    title: ItemPart = None
    date: ItemPart = None
    next: Selector = None
    max_pages: Annotated[int, BeforeValidator(_no_bool)] = Field(
        default=_RULES.max_pages, ge=1, le=100
    )
    include: Patterns = ()
    exclude: Patterns = ()

    def rules(self) -> PageRules:
        """These rules as the frozen dataclass the page pipeline reads."""
        return PageRules(**self.model_dump())


def _page_only(value: PageSection | None, info: ValidationInfo) -> PageSection | None:
    if value is not None and info.data.get("type", "page") != "page":  # no type: its own error
        raise _fail("used only with type: page")
    return value


def _full_text_only_feeds(value: bool, info: ValidationInfo) -> bool:
    if value and info.data.get("type") == "page":
        raise _fail("used only with type: feed (a page source always fetches its articles)")
    return value


def _fetches_pages(value: Any, info: ValidationInfo) -> Any:
    kind = info.data.get("type", "page")  # no type: it has an error of its own
    if value is not None and kind != "page" and not info.data.get("full_text"):
        raise _fail("used only with type: page or full_text: true")
    return value


PageField = Annotated[PageSection | None, AfterValidator(_page_only)]
FullTextField = Annotated[bool, AfterValidator(_full_text_only_feeds)]
ContentField = Annotated[
    str | None, Field(min_length=1), AfterValidator(_selector), AfterValidator(_fetches_pages)
]
MaxNewField = Annotated[
    int, BeforeValidator(_no_bool), Field(ge=1, le=1000), AfterValidator(_fetches_pages)
]
"""Types of the page-related keys of `SourceSection`, declared after `type` in this order:
page, full_text, content, max_new_per_pass (each checks those before it)."""
