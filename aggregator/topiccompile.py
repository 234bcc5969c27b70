"""Compile topic specs into matchers: the one-time half of classification.

for each topic and rule:
    check the rule has something to match; compile its regexes (errors name topic + rule)
    fold each term; Chinese-bearing terms become substring keys, the others stem keys
    route every key to (topic, rule, kind) entries
build two shared trie indexes: Chinese keys over folded text, stem keys over stem strings
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from aggregator.termindex import TermIndex
from aggregator.textfold import Stemmer, fold, has_cjk, to_simplified
from aggregator.topicspec import DEFAULT_WEIGHTS, RuleSpec, TopicSpec

if TYPE_CHECKING:
    from aggregator.classify import ArticleText

EntryKind = Literal["term", "all", "ignore", "exclude"]
ALL_FIELDS: tuple[str, ...] = ("title", "summary", "content", "tags", "source")


class TopicRuleError(ValueError):
    """A topic rule cannot be compiled; names the topic, the rule and the field."""

    def __init__(self, topic: str, where: str, message: str) -> None:
        self.topic = topic
        self.where = where  # e.g. "rules[2].regex[0]" or "exclude_regex[1]"
        self.reason = message
        super().__init__(f"topic {topic!r}: {where}: {message}")


@dataclass(frozen=True, slots=True)
class Entry:
    """What a key found in a text means: which topic and rule, and how it counts."""

    topic: int
    rule: int  # -1 for topic-level kinds (ignore, exclude)
    kind: EntryKind
    term: str  # as written in the config
    group: int = -1  # for kind "all": which group of the rule


_Add = Callable[[str, str, Entry], None]


@dataclass(frozen=True)
class CompiledRule:
    """One rule, ready to score."""

    index: int
    label: str
    weight: float
    fields: tuple[str, ...]
    languages: frozenset[str]
    groups: tuple[tuple[str, ...], ...]  # each `all` group's terms, as written
    regexes: tuple[tuple[str, re.Pattern[str]], ...]
    sources: frozenset[str]
    source_tags: frozenset[str]
    wholesale: bool  # sources/source_tags and nothing else to match

    def source_reason(self, article: ArticleText) -> str | None:
        """ "source:NAME" or "source_tag:TAG" when the article's source is one of this rule's."""
        if article.source in self.sources:
            return f"source:{article.source}"
        for tag in article.source_tags:
            if tag.casefold() in self.source_tags:
                return f"source_tag:{tag}"
        return None


@dataclass(frozen=True)
class CompiledTopic:
    """One topic, ready to score."""

    spec: TopicSpec
    weights: dict[str, float]
    languages: frozenset[str]
    rules: tuple[CompiledRule, ...]
    exclude_regexes: tuple[tuple[str, re.Pattern[str]], ...]


@dataclass
class CompiledTopics:
    """All topics with their shared indexes; built once per configuration."""

    topics: tuple[CompiledTopic, ...] = ()
    cjk_index: TermIndex = field(default_factory=lambda: TermIndex(()))
    latin_index: TermIndex = field(default_factory=lambda: TermIndex(()))
    cjk_entries: dict[str, list[Entry]] = field(default_factory=dict)
    latin_entries: dict[str, list[Entry]] = field(default_factory=dict)


def _language_set(codes: Sequence[str]) -> frozenset[str]:
    """Primary language subtags, lower-case."""
    return frozenset(c.strip().lower().replace("_", "-").split("-")[0] for c in codes if c.strip())


def _compile_regex(topic: str, where: str, pattern: str) -> tuple[str, re.Pattern[str]]:
    """A user regex, case-insensitive, its Chinese characters simplified like the text."""
    # The text is case-folded already; IGNORECASE is only needed for a pattern with capitals,
    # and leaving it out lets the regex engine skip ahead on a pattern's first characters.
    flags = re.IGNORECASE if pattern != pattern.lower() else 0
    try:
        return pattern, re.compile(to_simplified(pattern), flags)
    except re.error as err:
        raise TopicRuleError(topic, where, f"bad regex {pattern!r}: {err}") from None


def _label(index: int, rule: RuleSpec) -> str:
    """How explain names a rule: its name, else its first few terms."""
    if rule.name:
        return rule.name
    items = [*rule.terms, *rule.all_of, *(f"/{r}/" for r in rule.regex)]
    items += [f"source:{s}" for s in rule.sources]
    items += [f"source_tag:{t}" for t in rule.source_tags]
    shown = ", ".join(items[:3]) + (" …" if len(items) > 3 else "")
    return f"({shown})" if shown else f"(rule {index + 1})"


def compile_topics(specs: Sequence[TopicSpec], stemmer: Stemmer) -> CompiledTopics:
    """Compile every topic; raises TopicRuleError (a ValueError) for a rule that cannot work."""
    out = CompiledTopics()
    seen: set[str] = set()

    def add(topic: str, where: str, entry: Entry) -> None:
        folded = fold(entry.term)
        if has_cjk(folded):
            out.cjk_entries.setdefault(folded, []).append(entry)
            return
        stems = stemmer.stems(folded)
        if not stems:
            raise TopicRuleError(topic, where, f"term {entry.term!r} has no letters or digits")
        out.latin_entries.setdefault(" " + " ".join(stems), []).append(entry)

    topics: list[CompiledTopic] = []
    for t, spec in enumerate(specs):
        if spec.slug in seen:
            raise TopicRuleError(spec.slug, "slug", "duplicate topic slug")
        seen.add(spec.slug)
        rules = [_compile_rule(t, r, spec, rule, add) for r, rule in enumerate(spec.rules)]
        for i, term in enumerate(spec.exclude):
            add(spec.slug, f"exclude[{i}]", Entry(t, -1, "exclude", term))
        for i, term in enumerate(spec.ignore):
            add(spec.slug, f"ignore[{i}]", Entry(t, -1, "ignore", term))
        excludes = tuple(
            _compile_regex(spec.slug, f"exclude_regex[{i}]", p)
            for i, p in enumerate(spec.exclude_regex)
        )
        weights: dict[str, float] = {str(k): v for k, v in DEFAULT_WEIGHTS.items()}
        for name, value in spec.weights.items():
            weights[name] = value
        topics.append(
            CompiledTopic(spec, weights, _language_set(spec.languages), tuple(rules), excludes)
        )
    out.topics = tuple(topics)
    out.cjk_index = TermIndex(out.cjk_entries)
    out.latin_index = TermIndex(out.latin_entries, boundary=" ")
    return out


def _compile_rule(t: int, r: int, spec: TopicSpec, rule: RuleSpec, add: _Add) -> CompiledRule:
    """One rule: its terms routed into the shared indexes, its regexes compiled."""
    where = f"rules[{r}]"
    if not (rule.terms or rule.all_of or rule.regex or rule.sources or rule.source_tags):
        raise TopicRuleError(
            spec.slug, where, "rule has no terms, all, regex, sources or source_tags"
        )
    for i, term in enumerate(rule.terms):
        add(spec.slug, f"{where}.terms[{i}]", Entry(t, r, "term", term))
    if rule.all_of:
        for i, term in enumerate(rule.all_of):
            add(spec.slug, f"{where}.all[{i}]", Entry(t, r, "all", term, group=0))
    regexes = tuple(
        _compile_regex(spec.slug, f"{where}.regex[{i}]", p) for i, p in enumerate(rule.regex)
    )
    return CompiledRule(
        index=r,
        label=_label(r, rule),
        weight=rule.weight,
        fields=rule.fields or ALL_FIELDS,
        languages=_language_set(rule.languages),
        groups=(rule.all_of,) if rule.all_of else (),
        regexes=regexes,
        sources=frozenset(rule.sources),
        source_tags=frozenset(tag.casefold() for tag in rule.source_tags),
        wholesale=not (rule.terms or rule.all_of or rule.regex),
    )
