"""Running a config model over plain values, with short error messages.

`validate(model, data, context)` runs one model (a `configschema` section, or
`topicspec.TopicSpec` for topics) and returns the instance or every `Problem` (location,
message), with pydantic's wording translated into short human messages ("unknown key",
"expected a list", "must be at least 1").
"""

from __future__ import annotations

from collections.abc import Mapping
from difflib import get_close_matches
from typing import Any, NamedTuple, TypeVar, get_args

from pydantic import BaseModel, ValidationError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


_PATTERN_MESSAGES = {
    "name": "invalid name: use letters, digits, '.', '_' and '-', starting with a letter or digit",
    "slug": "invalid slug: use lower-case letters, digits and '-', starting with a letter or digit",
    "language": "invalid language tag (e.g. en, zh, zh-CN)",
}


class Problem(NamedTuple):
    """One validation failure: where (inside the validated value), what, and whether the key
    itself (rather than its value) is at fault."""

    loc: Loc
    message: str
    at_key: bool


def validate(
    model: type[M], data: Any, context: Mapping[str, Any] | None = None
) -> tuple[M | None, list[Problem]]:
    """`model` validated from `data`, or None and every problem found."""
    try:
        return model.model_validate(data, context=dict(context or {})), []
    except ValidationError as exc:
        problems: list[Problem] = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            at_key = error["type"] == "extra_forbidden" or loc[-1:] == ("[key]",)
            clean = tuple(part for part in loc if part != "[key]")
            problems.append(Problem(clean, _message(model, loc, error), at_key))
        return None, problems


def unknown_key(key: str, allowed: list[str]) -> str:
    """The message for an unknown key, suggesting an allowed key close to it."""
    close = get_close_matches(key, allowed, n=1, cutoff=0.7)
    return f"unknown key (did you mean '{close[0]}'?)" if close else "unknown key"


def _message(model: type[BaseModel], loc: Loc, error: Any) -> str:
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    msg: str = error["msg"]
    if kind == "string_type" and isinstance(error.get("input"), int | float):
        return "expected a string (put numbers in quotes)"
    named = [part for part in loc if isinstance(part, str) and part != "[key]"]
    last = named[-1] if named else ""
    fixed = {
        "missing": "required",
        "string_type": "expected a string",
        "int_type": "expected a whole number",
        "int_parsing": "expected a whole number",
        "int_from_float": "expected a whole number",
        "float_type": "expected a number",
        "float_parsing": "expected a number",
        "finite_number": "expected a finite number",
        "bool_type": "expected true or false",
        "bool_parsing": "expected true or false",
        "list_type": "expected a list",
        "tuple_type": "expected a list",
        "dict_type": "expected a mapping",
        "model_type": "expected a mapping",
        "model_attributes_type": "expected a mapping",
        "string_too_short": "must not be empty",
    }
    if kind in fixed:
        return fixed[kind]
    if kind == "config":
        return str(ctx.get("message", msg))
    if kind == "extra_forbidden":
        return unknown_key(str(loc[-1]), _keys_at(model, loc[:-1]))
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return _PATTERN_MESSAGES.get(last, f"does not match {ctx.get('pattern')}")
    bounds = {
        "greater_than": ("must be greater than", "gt"),
        "greater_than_equal": ("must be at least", "ge"),
        "less_than": ("must be less than", "lt"),
        "less_than_equal": ("must be at most", "le"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        bound = ctx.get(key)
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        return f"{words} {bound}"
    return msg[:1].lower() + msg[1:]


def _keys_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys allowed in the mapping at `loc` inside `model`, for "did you mean"."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = next(
            (f for n, f in current.model_fields.items() if (f.alias or n) == part),
            None,
        )
        current = _inner_model(field.annotation) if field is not None else None
    if current is None:
        return []
    return [f.alias or n for n, f in current.model_fields.items()]


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
