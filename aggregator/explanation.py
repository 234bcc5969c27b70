"""Why an article is (or is not) in a topic: the record `Classifier.explain` returns.

Plain frozen data, rendered as text lines for `aggregator explain`:

    manufacturing (Manufacturing): IN, score 7.5 >= threshold 3.0, language zh
      rule 1 factories x1: title 3 [工厂] + content 1 [车间] = 4
      rule 4 capacity x0.5: summary 1.5 [产能] = 0.75
      ignored: 制造谣言 (content)
"""

from __future__ import annotations

from dataclasses import dataclass


def _num(value: float) -> str:
    """A weight or score without a useless `.0`."""
    return f"{value:.4g}"


@dataclass(frozen=True)
class FieldHit:
    """The terms one rule found in one field, and that field's weight."""

    field: str
    weight: float
    terms: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.field} {_num(self.weight)} [{', '.join(self.terms)}]"


@dataclass(frozen=True)
class RuleHit:
    """One rule that matched: where, with what, and what it added to the score."""

    rule: int  # 1-based position in the topic's rules
    label: str  # the rule's name, else its first terms
    weight: float
    fields: tuple[FieldHit, ...]
    score: float  # weight x the sum of the field weights

    def __str__(self) -> str:
        parts = " + ".join(str(f) for f in self.fields)
        return f"rule {self.rule} {self.label} x{_num(self.weight)}: {parts} = {_num(self.score)}"


@dataclass(frozen=True)
class TopicExplanation:
    """Everything that decided one topic for one article; from classify to cli."""

    topic: str  # slug
    title: str
    member: bool
    score: float
    threshold: float
    language: str | None  # the article's language as classification saw it
    language_ok: bool  # the topic's language gate passed
    topic_languages: tuple[str, ...] = ()  # the gate; empty: every language
    rules: tuple[RuleHit, ...] = ()  # the rules that matched
    skipped: tuple[str, ...] = ()  # rules not applied to this article, and why
    wholesale: tuple[str, ...] = ()  # "source:NAME" / "source_tag:TAG" memberships
    excluded_by: tuple[str, ...] = ()  # exclude terms / regexes found
    ignored: tuple[str, ...] = ()  # ignore phrases found (their terms did not count)

    @property
    def terms(self) -> tuple[str, ...]:
        """Every matched term, regex and wholesale rule, once each, in rule order."""
        seen: dict[str, None] = dict.fromkeys(self.wholesale)
        for rule in self.rules:
            for hit in rule.fields:
                seen.update(dict.fromkeys(hit.terms))
        return tuple(seen)

    def lines(self) -> list[str]:
        """The explanation as text lines, the verdict first."""
        verdict = "IN" if self.member else "out"
        gate = "" if self.language_ok else f" (topic is for {', '.join(self.topic_languages)})"
        head = (
            f"{self.topic} ({self.title}): {verdict}, score {_num(self.score)}"
            f" {'>=' if self.score >= self.threshold else '<'} threshold {_num(self.threshold)},"
            f" language {self.language or 'unknown'}{gate}"
        )
        out = [head]
        out += [f"  source membership: {w}" for w in self.wholesale]
        out += [f"  {rule}" for rule in self.rules]
        out += [f"  skipped: {s}" for s in self.skipped]
        out += [f"  ignored: {i}" for i in self.ignored]
        out += [f"  excluded by: {e}" for e in self.excluded_by]
        if len(out) == 1:
            out.append("  no rule matched")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())
