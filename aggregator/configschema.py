"""The config schema: pydantic models for each section and value parsers.

The models take their defaults from the dataclasses in `models`, so each default is written
once; `configcheck.validate` runs them and words their errors.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from aggregator.configpage import (
    ContentField,
    FullTextField,
    MaxNewField,
    PageField,
    _fail,
    _no_bool,
)
from aggregator.models import (
    DEFAULT_BUSY_TIMEOUT,
    DEFAULT_MAX_INTERVAL,
    DEFAULT_MAX_NEW_PER_PASS,
    DEFAULT_MIN_INTERVAL,
    FetchSettings,
    ServerConfig,
    StorySettings,
)

DEFAULT_DATABASE_URL = "sqlite:///data/aggregator.db"
LOWEST_INTERVAL = 60
"""The lowest `min_interval` (and so `interval`) a source may set, in seconds."""

_INTERVAL_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2}
_SIZE_UNITS |= {"mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3}
_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$")
_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_DB_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:\+[A-Za-z0-9_]+)?://")
_SERVER = ServerConfig()
_FETCH = FetchSettings()


def parse_interval(text: str) -> int:
    """Seconds in an interval such as "30s", "15m", "1h", "1d", "1h30m" or "900"."""
    value = text.strip()
    if value.isdigit():
        seconds = int(value)
    else:
        match = _INTERVAL_RE.match(value)
        if not value or match is None:
            raise ValueError(f"invalid interval {text!r} (use e.g. 30s, 15m, 1h, 1d)")
        seconds = sum(
            int(n) * u for n, u in zip(match.groups(), (86400, 3600, 60, 1), strict=True) if n
        )
    if seconds <= 0:
        raise ValueError(f"invalid interval {text!r}: must be more than zero")
    return seconds


def format_interval(seconds: int) -> str:
    """An interval as `parse_interval` reads it, largest unit first: 5400 → "1h30m"."""
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (not parts and unit == "s"):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def parse_size(text: str) -> int:
    """Bytes in a size such as "20MiB", "512KiB", "1.5MB" or "1048576"."""
    match = _SIZE_RE.match(text.strip())
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _SIZE_UNITS:
        raise ValueError(f"invalid size {text!r} (use e.g. 20MiB, 512KiB or a number of bytes)")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


def source_url(value: str, base_dir: str) -> str:
    """An http(s) or file URL as given, or a plain path made an absolute file:// URL."""
    if not value.strip():
        raise ValueError("must not be empty")
    scheme = urlsplit(value).scheme.lower()
    if len(scheme) <= 1:  # no scheme (one letter is a drive): a path, relative to base_dir
        return Path(os.path.abspath(os.path.join(base_dir, os.path.expanduser(value)))).as_uri()
    if any(c.isspace() for c in value):
        raise ValueError("a URL must not contain spaces (write them as %20)")
    if scheme in ("http", "https"):
        return checked_http_url(value)
    if scheme == "file":
        parts = urlsplit(value)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError("a file URL must be absolute: file:///path/to/feed.xml")
        return value
    raise ValueError("not an http(s) or file URL")


def checked_http_url(value: str) -> str:
    """`value` if it is an http(s) URL with a host and a valid port; ValueError otherwise."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("not an http(s) URL")
    if not parts.hostname:
        raise ValueError("URL has no host")
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise ValueError("URL has an invalid port") from None
    return value


def _none_as_dict(value: Any) -> Any:
    return {} if value is None else value


def _none_as_tuple(value: Any) -> Any:
    return () if value is None else value


def _interval_or_auto(value: Any) -> int | str | None:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    return _interval(value)


def _interval(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            seconds = parse_interval(value)
        except ValueError as exc:
            raise _fail(str(exc)) from None
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, float) and value.is_integer():
        seconds = int(value)
    else:
        raise _fail("expected an interval such as 30m, 1h, 1d or a number of seconds")
    if seconds < LOWEST_INTERVAL:
        shown = value.strip() if isinstance(value, str) else f"{seconds}s"
        raise _fail(f"too short: {shown} (the minimum is {format_interval(LOWEST_INTERVAL)})")
    return seconds


def _size(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return parse_size(value)
        except ValueError as exc:
            raise _fail(str(exc)) from None
    return _no_bool(value)


Int = Annotated[int, BeforeValidator(_no_bool)]
Number = Annotated[float, BeforeValidator(_no_bool)]
Text = Annotated[str, Field(min_length=1)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DatabaseSection(_Section):
    """`database:` in the main config file."""

    url: Text = DEFAULT_DATABASE_URL
    busy_timeout: Number = Field(default=DEFAULT_BUSY_TIMEOUT, gt=0)  # seconds

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not _DB_URL_RE.match(value):
            raise _fail("not a database URL (e.g. sqlite:///data/aggregator.db)")
        return value


class ServerSection(_Section):
    """`server:` in the main config file."""

    host: Text = _SERVER.host
    port: Int = Field(default=_SERVER.port, ge=1, le=65535)
    base_url: Text = _SERVER.base_url
    title: Text = _SERVER.title
    feed_limit: Int = Field(default=_SERVER.feed_limit, ge=1, le=500)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        try:
            return checked_http_url(value).rstrip("/")
        except ValueError as exc:
            raise _fail(str(exc)) from None


class FetchSection(_Section):
    """`fetch:` in the main config file."""

    concurrency: Int = Field(default=_FETCH.concurrency, ge=1)
    per_host: Int = Field(default=_FETCH.per_host, ge=1)
    connect_timeout: Number = Field(default=_FETCH.connect_timeout, gt=0)
    read_timeout: Number = Field(default=_FETCH.read_timeout, gt=0)
    max_bytes: Annotated[int, BeforeValidator(_size)] = Field(default=_FETCH.max_bytes, ge=1)
    user_agent: Text = _FETCH.user_agent


class StoriesSection(_Section):
    """`stories:` in the main config file (near-duplicate grouping; see docs/stories.md)."""

    # below 0.3 the LSH bands (fingerprint.BANDS x ROWS) would miss many candidates
    threshold: Number = Field(default=StorySettings().threshold, ge=0.3, le=1.0)


class SourceSection(_Section):
    """One item of `sources:`; `context["base_dir"]` resolves plain paths in `url`."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    url: str
    # Validated in this order, each checked against those before it.
    min_interval: Annotated[int, BeforeValidator(_interval)] = DEFAULT_MIN_INTERVAL
    interval: Annotated[int | Literal["auto"] | None, BeforeValidator(_interval_or_auto)] = None
    max_interval: Annotated[int, BeforeValidator(_interval)] = DEFAULT_MAX_INTERVAL
    tags: Annotated[tuple[Text, ...], BeforeValidator(_none_as_tuple)] = ()
    language: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
    enabled: bool = True
    timezone: str | None = None
    headers: Annotated[dict[str, str], BeforeValidator(_none_as_dict)] = {}
    type: Literal["feed", "page"] = "feed"
    page: PageField = None  # these four check `type` and each other: see configpage
    full_text: FullTextField = False
    content: ContentField = None
    max_new_per_pass: MaxNewField = DEFAULT_MAX_NEW_PER_PASS

    @field_validator("url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        base_dir = (info.context or {}).get("base_dir") or os.getcwd()
        try:
            return source_url(value, base_dir)
        except ValueError as exc:
            raise _fail(str(exc)) from None

    @field_validator("interval")
    @classmethod
    def _interval_floor(cls, value: int | str | None, info: ValidationInfo) -> int | str | None:
        floor = info.data.get("min_interval")
        if isinstance(value, int) and floor is not None and value < floor:
            shown = format_interval(floor)
            raise _fail(f"shorter than min_interval ({shown}); lower min_interval to allow it")
        return value

    @field_validator("max_interval")
    @classmethod
    def _max_interval(cls, value: int, info: ValidationInfo) -> int:
        if info.data.get("interval", "auto") != "auto":
            raise _fail("used only with interval: auto")
        floor = info.data.get("min_interval")
        if floor is not None and value < floor:
            raise _fail(f"shorter than min_interval ({format_interval(floor)})")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise _fail(
                f"unknown time zone '{value}' (use an IANA name such as Asia/Shanghai)"
            ) from None
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME_RE.match(name):
                raise _fail(f"invalid header name '{name}'")
            if "\r" in text or "\n" in text:
                raise _fail(f"header {name} has a line break in its value")
        return value
