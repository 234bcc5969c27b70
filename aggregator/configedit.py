"""Append sources to a config file as text, keeping every comment; behind `add` and `opml import`.

`plan_append(config_path, sources)` runs these stages in order, and writes nothing:

    load      the config as it is (its errors are reported first: fix them before adding)
    refuse    a source whose name, or whose URL, is already configured
    target    the file that holds `sources:`: the main file when it has the key, else the
              included file of the last configured source, else the main file
    render    each source as a YAML block (`render_source`), indented like the file's list
    insert    after the last line of the `sources:` list (before the comments that open the
              next top-level key), or as a new `sources:` key at the end of the file
    check     the whole config loaded again with the new text in place of the file's

`write_edit(edit)` then replaces the file atomically. Values are written quoted when YAML
would read them otherwise, and `${` is written `$${` so nothing is read as a variable.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from aggregator.config import load_config
from aggregator.errors import ConfigEditError
from aggregator.models import Config, PageRules
from aggregator.urls import canonical_url

NAME_MAX = 40
"""The longest source name made from a title or URL."""

_PLAIN = re.compile(r"^[A-Za-z0-9/_.(][^\n'\"#]*$")
_NOT_PLAIN = re.compile(r":\s|:$|\s$|^(?:true|false|null|~|[-+]?[0-9.]+(?:e[-+]?\d+)?)$", re.I)
_NAME_JUNK = re.compile(r"[^a-z0-9]+")
_GENERIC_SEGMENTS = frozenset({"feed", "feeds", "rss", "atom", "index", "xml", "json", "www"})
_TOP_KEY = re.compile(r"^[^\s#-][^:]*:")
_SOURCES_KEY = re.compile(r"^sources\s*:\s*(?P<rest>.*?)\s*$")
_LIST_ITEM = re.compile(r"^(?P<indent>[ ]*)- ")


@dataclass(frozen=True)
class NewSource:
    """A source to append to a config file, as `add` and `opml import` build it."""

    name: str
    url: str
    type: Literal["feed", "page"] = "feed"
    tags: tuple[str, ...] = ()
    language: str | None = None
    timezone: str | None = None
    rules: PageRules | None = None  # type: page; None or empty rules: links by pattern
    comments: tuple[str, ...] = ()  # lines written as comments under the name


@dataclass(frozen=True)
class Edit:
    """A checked change to one config file, not yet written."""

    path: str  # the file to write, as the config names it
    text: str  # its whole new text
    added: tuple[str, ...] = ()  # names of the sources added
    block: str = ""  # the text inserted
    skipped: tuple[str, ...] = field(default_factory=tuple)  # one line per source left out


def plan_append(
    config_path: str, sources: Sequence[NewSource], *, skip_duplicates: bool = False
) -> Edit:
    """The checked edit that appends `sources` (see the module docstring).

    A source whose name or URL is already configured raises ConfigEditError, or is left
    out (and named in `skipped`) with `skip_duplicates`."""
    config = load_config(config_path)
    wanted, skipped = _without_duplicates(config, sources, config_path, skip_duplicates)
    target = _target_file(config)
    try:
        with open(target, encoding="utf-8-sig") as handle:
            original = handle.read()
    except OSError as exc:
        raise ConfigEditError(target, f"cannot read: {exc.strerror or exc}") from None
    if not wanted:
        return Edit(path=target, text=original, skipped=tuple(skipped))
    text, block = insert_sources(original, wanted)
    load_config(config_path, texts={os.path.realpath(target): text})
    return Edit(
        path=target,
        text=text,
        added=tuple(s.name for s in wanted),
        block=block,
        skipped=tuple(skipped),
    )


def write_edit(edit: Edit) -> None:
    """Write `edit.text` to `edit.path` atomically (a temporary file, then a rename)."""
    directory = os.path.dirname(os.path.abspath(edit.path))
    try:
        mode = os.stat(edit.path).st_mode & 0o777
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".aggregator-")
    except OSError as exc:
        raise ConfigEditError(edit.path, f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(edit.text)
        os.chmod(temporary, mode)
        os.replace(temporary, edit.path)
    except OSError as exc:
        os.unlink(temporary)
        raise ConfigEditError(edit.path, f"cannot write: {exc.strerror or exc}") from None


def insert_sources(text: str, sources: Sequence[NewSource]) -> tuple[str, str]:
    """`text` with `sources` appended to its top-level `sources:` list, and the block added."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = next((i for i, line in enumerate(lines) if _SOURCES_KEY.match(line)), None)
    if start is None:
        block = "".join("\n" + render_source(s, "  ") for s in sources)
        return "".join(lines) + "\nsources:" + block, block
    rest = _SOURCES_KEY.match(lines[start])
    assert rest is not None
    if rest.group("rest") not in ("", "[]") and not rest.group("rest").startswith("#"):
        raise ConfigEditError("", "`sources:` is not a block list here; add the source by hand")
    if rest.group("rest") == "[]":
        lines[start] = "sources:\n"
    end = _end_of_section(lines, start)
    indent = _item_indent(lines[start + 1 : end])
    block = "".join("\n" + render_source(s, indent) for s in sources)
    if end == start + 1:  # an empty list: no blank line before the first item
        block = block.lstrip("\n")
    return "".join([*lines[:end], block, *lines[end:]]), block


def _end_of_section(lines: list[str], start: int) -> int:
    """The index after the last line of the top-level key at `start` (its own comments kept)."""
    end = next((i for i in range(start + 1, len(lines)) if _TOP_KEY.match(lines[i])), len(lines))
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    return end


def _item_indent(section: list[str]) -> str:
    for line in section:
        found = _LIST_ITEM.match(line)
        if found:
            return found.group("indent")
    return "  "


def render_source(source: NewSource, indent: str = "  ") -> str:
    """One source as a YAML list item whose dash is indented by `indent`."""
    inner = indent + "  "
    out = [f"{indent}- name: {scalar(source.name)}\n"]
    out += [f"{inner}# {' '.join(line.split())}\n" for line in source.comments]
    out.append(f"{inner}url: {scalar(source.url)}\n")
    if source.type != "feed":
        out.append(f"{inner}type: {source.type}\n")
    if source.rules is not None and source.rules != PageRules():
        out.append(f"{inner}page:\n")
        out += _rules(source.rules, inner + "  ")
    if source.tags:
        out.append(f"{inner}tags: [{', '.join(scalar(t) for t in source.tags)}]\n")
    if source.language:
        out.append(f"{inner}language: {scalar(source.language)}\n")
    if source.timezone:
        out.append(f"{inner}timezone: {scalar(source.timezone)}\n")
    return "".join(out)


def _rules(rules: PageRules, indent: str) -> list[str]:
    default = PageRules()
    out = []
    for key in ("item", "link", "title", "date", "next"):
        value = getattr(rules, key)
        if value:
            out.append(f"{indent}{key}: {quoted(value)}\n")
    if rules.next and rules.max_pages != default.max_pages:
        out.append(f"{indent}max_pages: {rules.max_pages}\n")
    for key in ("include", "exclude"):
        patterns: tuple[str, ...] = getattr(rules, key)
        if patterns:
            out.append(f"{indent}{key}:\n")
            out += [f"{indent}  - {quoted(p)}\n" for p in patterns]
    return out


def scalar(value: str) -> str:
    """`value` as a YAML scalar: plain when YAML reads it back as the same string."""
    if _PLAIN.match(value) and not _NOT_PLAIN.search(value):
        return value.replace("${", "$${")
    return quoted(value)


def quoted(value: str) -> str:
    """`value` single-quoted (backslashes stay as they are, as regexes want)."""
    return "'" + value.replace("${", "$${").replace("'", "''") + "'"


def source_name(url: str, title: str | None = None) -> str:
    """A source name from a title written in ASCII, else from the URL's host and path."""
    if title:
        slug = _NAME_JUNK.sub("-", title.lower()).strip("-")
        if len(slug) >= 3 and title.isascii():
            return _cut(slug)
    parts = urlsplit(url)
    host = (parts.hostname or "source").lower().removeprefix("www.")
    segments = [s.rsplit(".", 1)[0] if "." in s else s for s in parts.path.split("/") if s]
    segments = [s.lower() for s in segments if s.lower() not in _GENERIC_SEGMENTS][:2]
    return _cut(_NAME_JUNK.sub("-", "-".join([host, *segments])).strip("-") or "source")


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name-2`, `name-3` … the first not in `taken`."""
    found, n = name, 1
    while found in taken:
        n += 1
        found = f"{name[: NAME_MAX - len(str(n)) - 1]}-{n}"
    return found


def _cut(slug: str) -> str:
    return slug[:NAME_MAX].rstrip("-._") or "source"


def _without_duplicates(
    config: Config, sources: Sequence[NewSource], shown: str, skip: bool
) -> tuple[list[NewSource], list[str]]:
    names = {s.name: f"{s.file or shown}:{s.line}" for s in config.sources}
    urls = {canonical_url(s.url): s.name for s in config.sources}
    kept: list[NewSource] = []
    skipped: list[str] = []
    for source in sources:
        url = canonical_url(source.url)
        if url in urls:
            reason = f"{source.url} is already configured as '{urls[url]}'"
        elif source.name in names:
            reason = f"a source named '{source.name}' already exists ({names[source.name]})"
        else:
            kept.append(source)
            names[source.name] = "added above"
            urls[url] = source.name
            continue
        if not skip:
            raise ConfigEditError(shown, reason)
        skipped.append(reason)
    return kept, skipped


def _target_file(config: Config) -> str:
    """The file whose `sources:` list gets new sources (see the module docstring)."""
    main = config.path
    try:
        with open(main, encoding="utf-8-sig") as handle:
            has_key = any(_SOURCES_KEY.match(line) for line in handle)
    except OSError:
        has_key = False
    if has_key or not config.sources:
        return main
    return config.sources[-1].file or main
