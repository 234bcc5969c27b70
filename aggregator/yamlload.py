"""Read YAML text into plain values, keeping the line of every key and value.

    text ─► compose nodes (PyYAML, YAML 1.2 core scalars) ─► walk the nodes
         ─► expand ${VAR} / ${VAR:-default} in string scalars ─► `YamlDocument`

The one module that imports PyYAML. Scalars follow the YAML 1.2 core schema rather than
PyYAML's YAML 1.1 default: only true/false are booleans (so `language: no` stays a string),
integers are decimal (`010` is ten, `1:30` is text) and dates stay strings. Every problem
comes back as a `ConfigIssue`; nothing is raised for bad input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from aggregator.errors import ConfigIssue

Path = tuple[str | int, ...]
"""Where a value sits in a document: keys and list indices from the top."""

_TAG = "tag:yaml.org,2002:"
_STR, _NULL, _BOOL, _INT, _FLOAT = (_TAG + t for t in ("str", "null", "bool", "int", "float"))
_MAP, _SEQ, _MERGE = _TAG + "map", _TAG + "seq", _TAG + "merge"

_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT_RE = re.compile(r"^[-+]?[0-9]+$")
_FLOAT_RE = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")

_VAR_RE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_VAR_BODY_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.DOTALL)


# libyaml's C parser when PyYAML was built with it (it composes a large config ~10x faster).
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A SafeLoader that resolves plain scalars by the YAML 1.2 core schema."""


_Loader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in (
    (_NULL, _NULL_RE, ["~", "n", "N", ""]),
    (_BOOL, _BOOL_RE, list("tTfF")),
    (_INT, _INT_RE, list("-+0123456789")),
    (_FLOAT, _FLOAT_RE, list("-+.0123456789")),
    (_MERGE, re.compile(r"^<<$"), ["<"]),
):
    _Loader.add_implicit_resolver(_tag, _regexp, _first)


@dataclass
class YamlDocument:
    """One YAML file as plain values, with the 1-based line of each key and value."""

    data: Any
    value_lines: dict[Path, int] = field(default_factory=dict)
    key_lines: dict[Path, int] = field(default_factory=dict)
    bad_paths: set[Path] = field(default_factory=set)  # values already reported (e.g. env)

    def line(self, path: Path, *, key: bool = False) -> int | None:
        """The line of `path` (of its key when `key`), else of its nearest known parent."""
        if key and path in self.key_lines:
            return self.key_lines[path]
        for end in range(len(path), -1, -1):
            if path[:end] in self.value_lines:
                return self.value_lines[path[:end]]
        return None

    def is_reported(self, path: Path) -> bool:
        """True when `path` or a parent of it already has an issue of its own."""
        return any(path[: len(bad)] == bad for bad in self.bad_paths)


def format_path(path: Path) -> str:
    """`("sources", 3, "url")` -> `sources[3].url`, as issues name fields."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            out += f".{part}" if out else part
        else:
            out += f'["{part}"]'
    return out


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """Replace `${VAR}` and `${VAR:-default}` from `env`; `$${` is a literal `${`.

    `${VAR:-default}` takes the default when VAR is unset or empty. Raises ValueError with a
    one-line message for an unset variable without a default or a malformed reference.
    """

    def replace(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "$${":
            return "${"
        body = match.group(1)
        if body is None:
            raise ValueError("unterminated '${' (write '$${' for a literal '${')")
        parts = _VAR_BODY_RE.match(body)
        if parts is None:
            raise ValueError(
                f"bad variable reference '{whole}' (use ${{NAME}} or ${{NAME:-default}})"
            )
        name, default = parts.group(1), parts.group(2)
        value = env.get(name)
        if default is not None:
            return value if value else default
        if value is None:
            raise ValueError(f"environment variable {name} is not set")
        return value

    return _VAR_RE.sub(replace, text)


def load_yaml(
    text: str, file: str, env: Mapping[str, str]
) -> tuple[YamlDocument | None, list[ConfigIssue]]:
    """Compose `text` (named `file` in issues) into a `YamlDocument`, or None on a syntax error."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_issue(file, exc)]
    except yaml.YAMLError as exc:
        return None, [ConfigIssue(file, None, "", f"YAML syntax error: {exc}")]
    finally:
        loader.dispose()
    doc = YamlDocument(data=None)
    if node is None:
        return doc, []
    walker = _Walker(file, env, doc)
    doc.data = walker.walk(node, ())
    return doc, walker.issues


def _syntax_issue(file: str, exc: yaml.MarkedYAMLError) -> ConfigIssue:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    if exc.context == "expected a single document in the stream":
        return ConfigIssue(file, line, "", "more than one YAML document ('---') in one file")
    message = f"YAML syntax error: {exc.problem or exc.context or 'unreadable'}"
    if exc.problem and exc.context and exc.context_mark is not None:
        context_line = exc.context_mark.line + 1
        where = f" on line {context_line}" if context_line != line else ""
        message += f" ({exc.context}{where})"
    return ConfigIssue(file, line, "", message)


class _Walker:
    """Turns composed nodes into values, recording lines and collecting issues."""

    def __init__(self, file: str, env: Mapping[str, str], doc: YamlDocument) -> None:
        self.file = file
        self.env = env
        self.doc = doc
        self.issues: list[ConfigIssue] = []
        self._active: set[int] = set()

    def _issue(self, path: Path, line: int, message: str) -> None:
        self.issues.append(ConfigIssue(self.file, line, format_path(path), message))
        self.doc.bad_paths.add(path)

    def walk(self, node: Node, path: Path) -> Any:
        line = node.start_mark.line + 1
        self.doc.value_lines[path] = line
        if id(node) in self._active:
            self._issue(path, line, "recursive alias")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, ScalarNode):
                return self._scalar(node, path, line)
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ:
                    self._issue(path, line, f"unsupported YAML tag {node.tag}")
                return [self.walk(child, (*path, i)) for i, child in enumerate(node.value)]
            if isinstance(node, MappingNode):
                if node.tag != _MAP:
                    self._issue(path, line, f"unsupported YAML tag {node.tag}")
                return self._mapping(node, path)
            return None
        finally:
            self._active.discard(id(node))

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        explicit: dict[str, Any] = {}
        seen: dict[str, int] = {}
        merges = [value for key, value in node.value if key.tag == _MERGE]
        for source in reversed(_merge_sources(merges)):
            if isinstance(source, MappingNode):
                merged.update(self._mapping(source, path))
            else:
                self._issue(
                    path, source.start_mark.line + 1, "'<<' takes a mapping or a list of mappings"
                )
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                continue
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                self._issue(path, key_line, "a key must be plain text")
                continue
            key = key_node.value
            if key in seen:
                self.issues.append(
                    ConfigIssue(
                        self.file,
                        key_line,
                        format_path((*path, key)),
                        f"duplicate key (first on line {seen[key]})",
                    )
                )
                continue
            seen[key] = key_line
            self.doc.key_lines[(*path, key)] = key_line
            explicit[key] = self.walk(value_node, (*path, key))
        merged.update(explicit)
        return merged

    def _scalar(self, node: ScalarNode, path: Path, line: int) -> Any:
        text = node.value
        tag = node.tag
        if tag == _STR:
            if "$" not in text:
                return text
            try:
                return expand_env(text, self.env)
            except ValueError as exc:
                self._issue(path, line, str(exc))
                return text
        checks = {_NULL: _NULL_RE, _BOOL: _BOOL_RE, _INT: _INT_RE, _FLOAT: _FLOAT_RE}
        if tag not in checks:
            self._issue(path, line, f"unsupported YAML tag {tag}")
            return text
        if not checks[tag].match(text):
            self._issue(path, line, f"'{text}' is not a valid !!{tag.removeprefix(_TAG)}")
            return text
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return text.lower() == "true"
        if tag == _INT:
            return int(text)
        return float(text)


def _merge_sources(values: list[Node]) -> list[Node]:
    """The mappings a '<<' key merges, earliest (strongest) first."""
    out: list[Node] = []
    for value in values:
        out.extend(value.value if isinstance(value, SequenceNode) else [value])
    return out
