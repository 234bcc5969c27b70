"""Load the configuration: YAML files (the main one and those it includes) -> one `Config`.

    find the file (--config, $AGGREGATOR_CONFIG, config/aggregator.yaml)
      ─► read and compose each file, a line per node, ${VAR} expanded   (yamlload)
      ─► check its top-level keys; validate database/server/fetch/stories/workers (main file
         only; the lease must outlast a fetch), each source and each topic (configschema)
      ─► follow `include:` depth first, relative to the including file; cycles are errors
      ─► across files: duplicate source names, duplicate topic slugs, topic regexes
      ─► raise ConfigError carrying every issue, or build the frozen `Config`

Every issue reads `file:line: field: message`, e.g.
`config/aggregator.yaml:12: sources[3].url: not an http(s) or file URL`.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from aggregator.configcheck import unknown_key, validate
from aggregator.configschema import (
    DatabaseSection,
    FetchSection,
    ServerSection,
    SourceSection,
    StoriesSection,
    parse_interval,
)
from aggregator.configworkers import WorkersSection, lease_problem
from aggregator.errors import ConfigError, ConfigIssue
from aggregator.models import (
    Config,
    FetchSettings,
    ServerConfig,
    SourceConfig,
    StorySettings,
    WorkerSettings,
)
from aggregator.topicspec import TopicSpec
from aggregator.yamlload import Path, YamlDocument, format_path, load_yaml

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_PATH",
    "find_config_path",
    "load_config",
    "parse_interval",
]

DEFAULT_CONFIG_PATH = "config/aggregator.yaml"
CONFIG_ENV_VAR = "AGGREGATOR_CONFIG"
M = TypeVar("M", bound=BaseModel)
_MAIN_ONLY = ("database", "server", "fetch", "stories", "workers")
_SHARED = ("include", "sources", "topics")


def find_config_path(cli_value: str | None, env: Mapping[str, str] | None = None) -> str:
    """The config file to read: `--config PATH`, else $AGGREGATOR_CONFIG, else the default."""
    if cli_value:
        return cli_value
    from_env = (os.environ if env is None else env).get(CONFIG_ENV_VAR)
    return from_env or DEFAULT_CONFIG_PATH


def load_config(
    path: str, env: Mapping[str, str] | None = None, *, texts: Mapping[str, str] | None = None
) -> Config:
    """Read, validate and assemble the config at `path`; ConfigError lists every issue.

    `texts` maps real paths (os.path.realpath) to text read instead of the file's, so that
    an edit can be checked before it is written (see `configedit`)."""
    reader = _Reader(os.environ if env is None else env, texts or {})
    reader.read_file(path, os.path.abspath(path), main=True, stack=())
    if reader.issues:
        files: dict[str, int] = {}
        for issue in reader.issues:
            files.setdefault(issue.file, len(files))
        raise ConfigError(sorted(reader.issues, key=lambda i: (files[i.file], i.line or 0)))
    return Config(
        path=path,
        database_url=reader.database.url,
        sources=tuple(reader.sources),
        topics=tuple(reader.topics),
        server=ServerConfig(**reader.server.model_dump()),
        fetch=FetchSettings(**reader.fetch.model_dump()),
        database_busy_timeout=reader.database.busy_timeout,
        stories=StorySettings(**reader.stories.model_dump()),
        workers=WorkerSettings(**reader.workers.model_dump()),
    )


@dataclass(frozen=True)
class _File:
    """One file being read: its name as shown in issues, its path on disk, its document."""

    shown: str
    real: str
    doc: YamlDocument


class _Reader:
    """Reads a config file and its includes, collecting parts and issues as it goes."""

    def __init__(self, env: Mapping[str, str], texts: Mapping[str, str]) -> None:
        self.env = env
        self.texts = texts
        self.issues: list[ConfigIssue] = []
        self.database = DatabaseSection()
        self.server = ServerSection()
        self.fetch = FetchSection()
        self.stories = StoriesSection()
        self.workers = WorkersSection()
        self.sources: list[SourceConfig] = []
        self.topics: list[TopicSpec] = []
        self._names: dict[str, str] = {}  # source name -> "file:line" where first declared
        self._slugs: dict[str, str] = {}  # topic slug -> "file:line"
        self._loaded: set[str] = set()

    def read_file(
        self, shown: str, real: str, *, main: bool, stack: tuple[tuple[str, str], ...]
    ) -> None:
        """Read one file (named `shown` in issues), then the files it includes."""
        self._loaded.add(os.path.realpath(real))
        text = self._read_text(shown, real, main)
        if text is None:
            return
        doc, issues = load_yaml(text, shown, self.env)
        self.issues.extend(issues)
        if doc is None:
            return
        file = _File(shown, real, doc)
        data = {} if doc.data is None else doc.data
        if not isinstance(data, dict):
            top = ", ".join([*_MAIN_ONLY, *_SHARED] if main else _SHARED)
            self._issue(file, (), f"expected a mapping at the top level (keys: {top})")
            return
        self._check_top_keys(file, data, main)
        if main:
            self.database = self._section(file, DatabaseSection, data, "database") or self.database
            self.server = self._section(file, ServerSection, data, "server") or self.server
            self.fetch = self._section(file, FetchSection, data, "fetch") or self.fetch
            self.stories = self._section(file, StoriesSection, data, "stories") or self.stories
            self.workers = self._section(file, WorkersSection, data, "workers") or self.workers
            self._check_lease(file)
        for i, item in self._items(file, data, "sources"):
            self._source(file, i, item)
        for i, item in self._items(file, data, "topics"):
            self._topic(file, i, item)
        here = (*stack, (os.path.realpath(real), shown))
        for target_shown, target_real, where in self._includes(file, data):
            key = os.path.realpath(target_real)
            if any(open_file == key for open_file, _ in here):
                cycle = " -> ".join([*(name for _, name in here), target_shown])
                self._issue(file, where, f"include cycle: {cycle}")
            elif key not in self._loaded:
                self.read_file(target_shown, target_real, main=False, stack=here)

    def _check_lease(self, file: _File) -> None:
        workers = WorkerSettings(**self.workers.model_dump())
        problem = lease_problem(workers, FetchSettings(**self.fetch.model_dump()))
        if problem:
            self._issue(file, ("workers", "lease"), problem)

    def _read_text(self, shown: str, real: str, main: bool) -> str | None:
        try:
            if os.path.realpath(real) in self.texts:
                return self.texts[os.path.realpath(real)]
            with open(real, encoding="utf-8-sig") as handle:
                return handle.read()
        except FileNotFoundError:
            hint = f" (give --config PATH or set {CONFIG_ENV_VAR})" if main else ""
            problem = f"file not found{hint}"
        except IsADirectoryError:
            problem = "is a directory, not a file"
        except UnicodeDecodeError as exc:
            problem = f"not UTF-8 text (bad byte at offset {exc.start})"
        except OSError as exc:
            problem = f"cannot read: {exc.strerror or exc}"
        self.issues.append(ConfigIssue(shown, None, "", problem))
        return None

    def _issue(self, file: _File, path: Path, message: str, *, key: bool = False) -> None:
        line = file.doc.line(path, key=key)
        self.issues.append(ConfigIssue(file.shown, line, format_path(path), message))

    def _check_top_keys(self, file: _File, data: dict[str, Any], main: bool) -> None:
        allowed = [*_MAIN_ONLY, *_SHARED] if main else list(_SHARED)
        for key in data:
            if key in allowed:
                continue
            if key in _MAIN_ONLY:
                message = "allowed only in the main config file, not in an included one"
            else:
                message = unknown_key(key, allowed)
            self._issue(file, (key,), message, key=True)

    def _validate(
        self,
        file: _File,
        model: type[M],
        value: Any,
        path: Path,
        context: dict[str, Any] | None = None,
    ) -> M | None:
        result, problems = validate(model, value, context)
        for loc, message, at_key in problems:
            full = (*path, *loc)
            if not file.doc.is_reported(full):
                self._issue(file, full, message, key=at_key)
        return result

    def _section(self, file: _File, model: type[M], data: dict[str, Any], key: str) -> M | None:
        value = data.get(key)
        return self._validate(file, model, {} if value is None else value, (key,))

    def _items(self, file: _File, data: dict[str, Any], key: str) -> Iterator[tuple[int, Any]]:
        value = data.get(key)
        if value is None:
            return
        if not isinstance(value, list):
            self._issue(file, (key,), "expected a list")
            return
        yield from enumerate(value)

    def _first_seen(
        self, file: _File, seen: dict[str, str], value: Any, path: Path, what: str
    ) -> None:
        if not isinstance(value, str) or file.doc.is_reported(path):
            return
        if value in seen:
            self._issue(file, path, f"duplicate {what} '{value}' (first declared at {seen[value]})")
        else:
            seen[value] = f"{file.shown}:{file.doc.line(path)}"

    def _source(self, file: _File, i: int, item: Any) -> None:
        path: Path = ("sources", i)
        context = {"base_dir": os.path.dirname(os.path.abspath(file.real))}
        model = self._validate(file, SourceSection, item, path, context)
        if isinstance(item, dict):
            self._first_seen(file, self._names, item.get("name"), (*path, "name"), "source name")
        if model is None:
            return
        self.sources.append(
            SourceConfig(
                name=model.name,
                url=model.url,
                interval=model.interval if isinstance(model.interval, int) else None,
                auto_interval=model.interval == "auto",
                min_interval=model.min_interval,
                max_interval=model.max_interval,
                tags=model.tags,
                language=model.language,
                enabled=model.enabled,
                timezone=model.timezone,
                headers=tuple(model.headers.items()),
                type=model.type,
                page=model.page.rules() if model.page else None,
                content=model.content,
                full_text=model.full_text,
                max_new_per_pass=model.max_new_per_pass,
                file=file.shown,
                line=file.doc.line(path),
            )
        )

    def _topic(self, file: _File, i: int, item: Any) -> None:
        path: Path = ("topics", i)
        topic = self._validate(file, TopicSpec, item, path)
        if isinstance(item, dict):
            self._first_seen(file, self._slugs, item.get("slug"), (*path, "slug"), "topic slug")
        if topic is None:
            return
        patterns: list[tuple[Path, str]] = [
            ((*path, "rules", j, "regex", k), text)
            for j, rule in enumerate(topic.rules)
            for k, text in enumerate(rule.regex)
        ]
        patterns += [
            ((*path, "exclude_regex", k), text) for k, text in enumerate(topic.exclude_regex)
        ]
        valid = True
        for where, text in patterns:
            try:
                re.compile(text)
            except re.error as exc:
                self._issue(file, where, f"invalid regular expression: {exc.msg}")
                valid = False
        if valid:
            self.topics.append(topic)

    def _includes(self, file: _File, data: dict[str, Any]) -> Iterator[tuple[str, str, Path]]:
        """(shown name, path on disk, where named) of each file `include:` names."""
        raw = data.get("include")
        if raw is None:
            return
        if isinstance(raw, str):
            entries: list[tuple[Path, Any]] = [(("include",), raw)]
        elif isinstance(raw, list):
            entries = [(("include", i), entry) for i, entry in enumerate(raw)]
        else:
            self._issue(file, ("include",), "expected a list of file paths")
            return
        base_real = os.path.dirname(os.path.abspath(file.real))
        base_shown = os.path.dirname(file.shown)
        for where, entry in entries:
            if file.doc.is_reported(where):
                continue
            if not isinstance(entry, str) or not entry.strip():
                self._issue(file, where, "expected a file path")
                continue
            name = os.path.expanduser(entry)
            if any(c in name for c in "*?["):
                for match in sorted(glob.glob(os.path.join(base_real, name))):
                    if os.path.isfile(match):
                        shown = os.path.join(base_shown, os.path.relpath(match, base_real))
                        yield os.path.normpath(shown), match, where
                continue
            real = os.path.join(base_real, name)
            shown = os.path.normpath(os.path.join(base_shown, name))
            if not os.path.exists(real):
                self._issue(file, where, f"file not found: {shown}")
            elif not os.path.isfile(real):
                self._issue(file, where, f"not a file: {shown}")
            else:
                yield shown, real, where
