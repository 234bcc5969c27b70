"""Our exceptions: one base class, the resource named on each.

    AggregatorError
    ├── ConfigError          a config file failed validation (carries every issue found)
    ├── ConfigEditError      a change to a config file was refused (file + reason)
    ├── FetchError           a request could not be made or answered (source/URL + reason)
    ├── ParseError           a document could not be read as a feed or page
    │   ├── NotAFeedError    the document is something else (an HTML page, an error page)
    │   └── ExtractError     a web page has no main content to extract
    │       └── ContentSelectorError  the source's `content:` selector matched nothing
    └── StorageError         the database refused or failed an operation

Expected failures are values (see `models.FetchResult`, `models.UpdateResult`); these
exceptions cross module doors only where a caller decides what to do with them. The
message of each is one line, fit to show a user.
"""

from __future__ import annotations

from dataclasses import dataclass


class AggregatorError(Exception):
    """Base class for every error this package raises on purpose."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a config file: where it is and what is wrong."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        if not self.field:
            return f"{where}: {self.message}"
        return f"{where}: {self.field}: {self.message}"


class ConfigError(AggregatorError):
    """A config file (or one it includes) is invalid; `issues` lists every problem found."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class ConfigEditError(AggregatorError):
    """A change to the config file `file` was refused (e.g. a duplicate source); nothing written."""

    def __init__(self, file: str, reason: str) -> None:
        self.file = file
        self.reason = reason
        super().__init__(f"{file}: {reason}")


class FetchError(AggregatorError):
    """A request for `url` failed; `reason` is one line."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class ParseError(AggregatorError):
    """The document at `url` could not be parsed; `reason` is one line."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class NotAFeedError(ParseError):
    """The document at `url` is not a feed, e.g. "not a feed (got text/html)"."""


class ExtractError(ParseError):
    """The page at `url` gave no article, e.g. "no main content found"."""


class ContentSelectorError(ExtractError):
    """The source's `content:` selector matched nothing on the page at `url` (or is not CSS)."""


class StorageError(AggregatorError):
    """The database failed; `operation` says what we were doing."""

    def __init__(self, operation: str, reason: str) -> None:
        self.operation = operation
        self.reason = reason
        super().__init__(f"{operation}: {reason}")
