"""What a topic is, as written in YAML (`topics:` in the config, usually `config/topics.yaml`).

These pydantic models are the topic schema; `config` validates with them (every error with
its file and line) and `classify` compiles them into matchers.

    - slug: manufacturing
      title: Manufacturing
      description: Factories, production, supply chains, EVs, chips, industrial policy.
      threshold: 3            # a score at or above this puts an article in the topic
      languages: [zh, en]     # optional: only articles in these languages
      weights: {title: 3, summary: 1.5, content: 1, tags: 2, source: 1}
      rules:
        - terms: [制造业, 智能制造, manufacturing, factory]   # any of these
          weight: 1
        - all: [supply, chain]        # every one of these
          weight: 2
        - regex: ['\\bEVs?\\b']
          fields: [title]             # only look in these fields
        - sources: [miit-news]        # every article of these sources
        - source_tags: [manufacturing]
        - languages: [en]             # a rule may apply to some languages only
          terms: [plant]
      exclude: [manufactured consent]   # any of these: not in the topic
      exclude_regex: []
      ignore: [制造谣言, insurance policy]   # terms inside these phrases do not count
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FieldName = Literal["title", "summary", "content", "tags", "source"]

DEFAULT_WEIGHTS: dict[FieldName, float] = {
    "title": 3.0,
    "summary": 1.5,
    "content": 1.0,
    "tags": 2.0,
    "source": 1.0,
}


class RuleSpec(BaseModel):
    """One rule of a topic: what must be found, where, and what it is worth."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    terms: tuple[str, ...] = ()
    all_of: tuple[str, ...] = Field(default=(), alias="all")
    regex: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    source_tags: tuple[str, ...] = ()
    fields: tuple[FieldName, ...] = ()  # empty: every field
    languages: tuple[str, ...] = ()  # empty: every language
    weight: float = 1.0
    name: str = ""  # optional label, shown by `aggregator explain`


class TopicSpec(BaseModel):
    """One topic as configured; from config to classify and publish."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    description: str = ""
    threshold: float = 3.0
    languages: tuple[str, ...] = ()
    weights: dict[FieldName, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    rules: tuple[RuleSpec, ...] = ()
    exclude: tuple[str, ...] = ()
    exclude_regex: tuple[str, ...] = ()
    # Phrases that contain a topic term but mean something else ("insurance policy",
    # 制造谣言): the terms found inside them do not count; unlike `exclude`, no veto.
    ignore: tuple[str, ...] = ()
