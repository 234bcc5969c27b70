"""Score one topic for one article from what the scan found: the rule arithmetic.

    language gate of each rule ─► source condition (wholesale rules: membership at once)
    ─► per field the rule may look at: its terms, its `all` group, its regexes
    ─► rule score = rule weight × Σ weights of the fields where it matched
    ─► topic score = Σ rule scores; member when score >= threshold, the topic's language
       gate passes and no exclude was found; a wholesale rule makes it a member regardless,
       with a score of at least the threshold

Kept lean (plain tuples, no frozen objects) because it runs for every topic and article;
`Verdict.explanation()` builds the frozen record only when asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aggregator.explanation import FieldHit, RuleHit, TopicExplanation
from aggregator.topiccompile import CompiledRule, CompiledTopic
from aggregator.topicscan import FieldTexts, Found

if TYPE_CHECKING:
    from aggregator.classify import ArticleText

EPSILON = 1e-9
_NONE: frozenset[str] = frozenset()

RuleResult = tuple[CompiledRule, list[tuple[str, tuple[str, ...]]], float]
"""A matched rule, the (field, terms) it matched, and what it added to the score."""


@dataclass(slots=True)
class Verdict:
    """One topic's verdict for one article, with what decided it."""

    topic: CompiledTopic
    language: str | None
    score: float
    member: bool
    language_ok: bool
    rules: list[RuleResult]
    skipped: list[str]
    wholesale: list[str]
    excluded: dict[str, None]
    ignored: dict[str, None]

    def terms(self) -> tuple[str, ...]:
        """Every matched term, regex and wholesale rule, once each, in rule order."""
        seen: dict[str, None] = dict.fromkeys(self.wholesale)
        for _, fields, _ in self.rules:
            for _, terms in fields:
                seen.update(dict.fromkeys(terms))
        return tuple(seen)

    def explanation(self) -> TopicExplanation:
        """The verdict as the frozen record `explain` returns."""
        weights = self.topic.weights
        spec = self.topic.spec
        return TopicExplanation(
            topic=spec.slug,
            title=spec.title,
            member=self.member,
            score=self.score,
            threshold=spec.threshold,
            language=self.language,
            language_ok=self.language_ok,
            topic_languages=tuple(sorted(self.topic.languages)),
            rules=tuple(
                RuleHit(
                    rule.index + 1,
                    rule.label,
                    rule.weight,
                    tuple(FieldHit(f, weights[f], terms) for f, terms in fields),
                    rule_score,
                )
                for rule, fields, rule_score in self.rules
            ),
            skipped=tuple(self.skipped),
            wholesale=tuple(self.wholesale),
            excluded_by=tuple(self.excluded),
            ignored=tuple(self.ignored),
        )


def score_topic(
    topic: CompiledTopic,
    found: Found,
    texts: FieldTexts,
    article: ArticleText,
    language: str | None,
) -> Verdict:
    """One topic's verdict for one article, from what the scan found."""
    excluded = dict(found.excluded)
    for pattern, regex in topic.exclude_regexes:
        if any(regex.search(folded) for folded, _ in texts.values()):
            excluded[f"/{pattern}/"] = None

    weights = topic.weights
    results: list[RuleResult] = []
    skipped: list[str] = []
    wholesale: list[str] = []
    score = 0.0
    hit_rules = {r for r, _ in found.terms}.union(r for r, _ in found.groups)
    for rule in topic.rules:
        if rule.languages and language not in rule.languages:
            skipped.append(f"rule {rule.index + 1} {rule.label}: not for language {language}")
            continue
        by_source = bool(rule.sources or rule.source_tags)
        if rule.index not in hit_rules and not rule.regexes and not by_source:
            continue  # nothing of this rule was found: the usual case, kept cheap
        if by_source:
            via_source = rule.source_reason(article)
            if via_source is None:
                continue
            if rule.wholesale:
                wholesale.append(via_source)
                continue
        matched = _rule_fields(rule, found, texts)
        if matched:
            rule_score = rule.weight * sum(weights[f] for f, _ in matched)
            score += rule_score
            results.append((rule, matched, rule_score))

    language_ok = not topic.languages or language in topic.languages
    member = score >= topic.spec.threshold - EPSILON and language_ok and not excluded
    if wholesale:
        member = True
        score = max(score, topic.spec.threshold)
    return Verdict(
        topic, language, score, member, language_ok, results, skipped, wholesale, excluded,
        found.ignored,
    )  # fmt: skip


def _rule_fields(
    rule: CompiledRule, found: Found, texts: FieldTexts
) -> list[tuple[str, tuple[str, ...]]]:
    """The fields where the rule matched, each with the terms (groups, regexes) it matched."""
    matched: list[tuple[str, tuple[str, ...]]] = []
    for field in rule.fields:
        if field not in texts:
            continue
        terms = list(found.terms.get((rule.index, field), ()))
        for group in rule.groups:
            if found.groups.get((rule.index, field), _NONE).issuperset(group):
                terms.append(" + ".join(group))
        for pattern, regex in rule.regexes:
            if regex.search(texts[field][0]):
                terms.append(f"/{pattern}/")
        if terms:
            matched.append((field, tuple(terms)))
    return matched
