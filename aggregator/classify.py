"""Classify articles into topics: compiled topic rules in, scored topic matches out. Pure.

    compile (once):  every topic's terms, `all` groups, ignore and exclude phrases
                     ─► two shared trie indexes (Chinese: folded text; Latin: stems)
    classify (each article):
        fields (title, summary, content, tags, source) ─► folded text + stem string
        ─► one scan per field and index ─► hits, each routed to its topic and rule
        ─► ignore phrases mask the hits inside them ─► rules matched per field
        ─► score = Σ rule.weight × Σ weights[field where it matched]
        ─► member when score >= threshold, no exclude found, language gate passed;
           a wholesale `sources`/`source_tags` rule makes the article a member regardless

See docs/topics.md for the rule language.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from aggregator.explanation import FieldHit, RuleHit, TopicExplanation
from aggregator.models import Article, TopicMatch
from aggregator.textfold import CJK_RE, Stemmer, fold
from aggregator.topiccompile import TopicRuleError, compile_topics
from aggregator.topicscan import FieldTexts, Scanner
from aggregator.topicspec import TopicSpec
from aggregator.verdict import Verdict, score_topic

__all__ = [
    "ArticleText",
    "Classifier",
    "FieldHit",
    "RuleHit",
    "TopicExplanation",
    "TopicRuleError",
    "article_language",
    "fold",
    "html_to_text",
]

_BLOCK_TAG_RE = re.compile(
    r"</?(?:p|br|div|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|pre|section|article|hr)\b[^>]*>",
    re.IGNORECASE,
)
_TAG_RE = re.compile(r"<[^>]*>")
_SKIP_RE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_LATIN_RE = re.compile(r"[A-Za-z]")


def html_to_text(fragment: str) -> str:
    """Cheap HTML → text: drop scripts and tags (blocks become spaces), unescape entities."""
    if "<" not in fragment and "&" not in fragment:
        return fragment
    text = _SKIP_RE.sub(" ", fragment)
    text = _TAG_RE.sub("", _BLOCK_TAG_RE.sub(" ", text))
    return html.unescape(text)


@dataclass(frozen=True)
class ArticleText:
    """The parts of an article classification looks at."""

    title: str
    summary_text: str = ""
    content_text: str = ""
    tags: tuple[str, ...] = ()
    source: str = ""
    source_tags: tuple[str, ...] = ()
    language: str | None = None

    @classmethod
    def from_article(cls, article: Article, source_tags: Sequence[str] = ()) -> ArticleText:
        """The classifiable text of a stored article (summary HTML turned into text)."""
        return cls(
            title=article.title,
            summary_text=html_to_text(article.summary),
            # `Article.text` falls back to the summary; do not count the summary twice.
            content_text=article.text if article.content else "",
            tags=tuple(article.tags),
            source=article.source,
            source_tags=tuple(source_tags),
            language=article.language,
        )


def _primary(code: str | None) -> str | None:
    """The primary subtag of a language code, lower-case: "zh-Hant-TW" → "zh"."""
    if not code:
        return None
    return code.strip().lower().replace("_", "-").split("-")[0] or None


def article_language(article: ArticleText) -> str | None:
    """The article's language code, or a guess ("zh" / "en") from its title and summary."""
    given = _primary(article.language)
    if given:
        return given
    sample = f"{article.title} {article.summary_text[:300]} {article.content_text[:300]}"
    cjk = len(CJK_RE.findall(sample))
    latin = len(_LATIN_RE.findall(sample))
    if not cjk and not latin:
        return None
    return "zh" if cjk * 3 >= latin else "en"


class Classifier:
    """Compiled topics; cheap to call for many articles."""

    def __init__(self, topics: Sequence[TopicSpec]) -> None:
        self._stemmer = Stemmer()
        compiled = compile_topics(topics, self._stemmer)
        self._topics = compiled.topics
        self._scanner = Scanner(
            len(compiled.topics),
            (compiled.cjk_index, compiled.cjk_entries),
            (compiled.latin_index, compiled.latin_entries),
        )

    @property
    def topics(self) -> tuple[TopicSpec, ...]:
        """The topics, as configured, in configuration order."""
        return tuple(t.spec for t in self._topics)

    def classify(self, article: ArticleText) -> list[TopicMatch]:
        """The topics the article belongs to, best first."""
        verdicts = [v for v in self._evaluate(article) if v.member]
        verdicts.sort(key=lambda v: (-v.score, v.topic.spec.slug))
        return [TopicMatch(v.topic.spec.slug, round(v.score, 6), v.terms()) for v in verdicts]

    def explain(self, article: ArticleText) -> list[TopicExplanation]:
        """Every topic's verdict with its reasons, in configuration order."""
        return [v.explanation() for v in self._evaluate(article)]

    # ------------------------------------------------------------ evaluation

    def _field_texts(self, article: ArticleText) -> FieldTexts:
        """Each non-empty field, folded and stemmed."""
        raw = {
            "title": article.title,
            "summary": article.summary_text,
            "content": article.content_text,
            # A separator no term contains, so that no phrase spans two tags.
            "tags": " | ".join(article.tags),
            "source": " | ".join((article.source, *article.source_tags)),
        }
        out: FieldTexts = {}
        for name, text in raw.items():
            folded = fold(text)
            if folded:
                out[name] = (folded, self._stemmer.stem_string(folded))
        return out

    def _evaluate(self, article: ArticleText) -> list[Verdict]:
        """Score every topic for one article, in configuration order."""
        language = article_language(article)
        texts = self._field_texts(article)
        found = self._scanner.scan(texts)
        return [
            score_topic(topic, found[i], texts, article, language)
            for i, topic in enumerate(self._topics)
        ]
