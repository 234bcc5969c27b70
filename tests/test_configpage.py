"""Page-source keys of the config (configpage): `type: page`, `page:`, `content:`, `full_text:`."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.config import load_config
from aggregator.errors import ConfigError
from aggregator.models import DEFAULT_MAX_NEW_PER_PASS, PageRules


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "aggregator.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def issues_of(path: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    return [str(issue).removeprefix(path + ":") for issue in caught.value.issues]


def test_page_sources_and_full_text_feeds_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
sources:
  - name: gov
    url: https://www.example.gov.cn/zwgk/zcwj/index.html
    type: page
    page:
      item: ul.list li
      date: span.date
      next: 'a:contains("下一页")'
      max_pages: 2
      exclude: '\\.pdf$'
    content: .TRS_Editor
    max_new_per_pass: 5
  - name: patterns
    url: https://example.org/news/
    type: page
  - name: feed
    url: https://example.org/feed.xml
    full_text: true
""",
    )
    gov, patterns, feed = load_config(path, {}).sources
    assert gov.type == "page"
    assert gov.page == PageRules(
        item="ul.list li", date="span.date", next='a:contains("下一页")', max_pages=2,
        exclude=(r"\.pdf$",),
    )  # fmt: skip
    assert (gov.content, gov.max_new_per_pass, gov.full_text) == (".TRS_Editor", 5, False)
    assert patterns.page is None and patterns.max_new_per_pass == DEFAULT_MAX_NEW_PER_PASS
    assert (feed.type, feed.full_text, feed.page) == ("feed", True, None)


def test_every_mistake_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """sources:
  - name: a
    url: https://example.org/feed
    page: {item: li}
    content: "div["
  - name: b
    url: https://example.org/list
    type: page
    full_text: true
    page:
      title: h2
      itme: li
      include: ["(unclosed"]
      max_pages: 0
  - name: c
    url: https://example.org/c
    type: pages
    max_new_per_pass: 3
  - name: d
    url: https://example.org/d
    max_new_per_pass: 3
    content: article
""",
    )
    issues = issues_of(path)
    assert issues == [
        "4: sources[0].page: used only with type: page",
        "5: sources[0].content: invalid CSS selector 'div[': Expected ident or '*', got <EOF at 4>",
        "9: sources[1].full_text: used only with type: feed (a page source always fetches its "
        "articles)",
        "11: sources[1].page.title: used only with item (the selector of each article's element)",
        "12: sources[1].page.itme: unknown key (did you mean 'item'?)",
        "13: sources[1].page.include[0]: invalid regular expression: missing ), unterminated "
        "subpattern",
        "14: sources[1].page.max_pages: must be at least 1",
        "17: sources[2].type: expected 'feed' or 'page'",
        "21: sources[3].max_new_per_pass: used only with type: page or full_text: true",
        "22: sources[3].content: used only with type: page or full_text: true",
    ]


def test_the_commented_examples_of_the_default_config_are_valid(tmp_path: Path) -> None:
    """The source blocks commented out in config/aggregator.yaml load once uncommented."""
    text = (Path(__file__).parent.parent / "config" / "aggregator.yaml").read_text("utf-8")
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("  # - name:"):
            current = [line]
            blocks.append(current)
        elif current is not None and line.startswith("  #   "):
            current.append(line)
        else:
            current = None
    body = "\n".join("  " + line[4:] for block in blocks for line in block)
    config = load_config(write(tmp_path, "sources:\n" + body + "\n"), {"MEMBERS_TOKEN": "t"})
    kinds = {s.name: (s.type, s.full_text, s.page) for s in config.sources}
    assert kinds["gd-gov-zcwj"] == (
        "page",
        False,
        PageRules(item="ul.list li", date="span", next='a:contains("下一页")', max_pages=2),
    )
    page_rules = kinds["example-mfg-news"][2]
    assert page_rules is not None and page_rules.exclude == ("/sponsored/",)
    assert kinds["trade-weekly"][:2] == ("feed", True)
    zh = next(s for s in config.sources if s.name == "gd-gov-zcwj")
    assert zh.timezone is None and zh.zone == "Asia/Shanghai"
