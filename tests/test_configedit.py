"""Appending sources to config files as text (configedit): comments kept, result checked."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from aggregator.config import load_config
from aggregator.configedit import (
    NewSource,
    insert_sources,
    plan_append,
    render_source,
    scalar,
    source_name,
    unique_name,
    write_edit,
)
from aggregator.errors import ConfigEditError
from aggregator.models import PageRules
from aggregator.yamlload import load_yaml

ROOT = Path(__file__).resolve().parent.parent

PAGE = NewSource(
    name="gd-policy",
    url="https://www.gd.gov.cn/zwgk/zcwj/index.html",
    type="page",
    tags=("policy", "china"),
    language="zh",
    timezone="Asia/Shanghai",
    rules=PageRules(include=(r"^https?://(?:www\.)?gd\.gov\.cn/zwgk/zcwj/\d+/t\d+_\d+\.html$",)),
    comments=("广东省人民政府 — 政策文件", "list page: 3 article links"),
)


def default_config(tmp_path: Path) -> Path:
    for name in ("aggregator.yaml", "topics.yaml"):
        shutil.copy(ROOT / "config" / name, tmp_path / name)
    return tmp_path / "aggregator.yaml"


def test_a_source_goes_into_the_default_config_with_every_comment_kept(tmp_path: Path) -> None:
    path = default_config(tmp_path)
    before = path.read_text(encoding="utf-8")
    edit = plan_append(str(path), [PAGE])
    assert path.read_text(encoding="utf-8") == before  # planning writes nothing
    assert edit.path == str(path) and edit.added == ("gd-policy",)
    at = edit.text.index(edit.block)
    assert edit.text[:at] + edit.text[at + len(edit.block) :] == before
    # after the last source's lines, before the topics section's comments
    assert edit.text.index("ec.europa.eu") < at < edit.text.index("# Topics may also")
    assert at > edit.text.index("#   headers: {Authorization")
    write_edit(edit)
    source = load_config(str(path), {}).sources[-1]
    assert (source.name, source.type, source.tags, source.timezone) == (
        "gd-policy", "page", ("policy", "china"), "Asia/Shanghai",
    )  # fmt: skip
    assert source.page == PAGE.rules
    assert "    # 广东省人民政府 — 政策文件\n" in path.read_text(encoding="utf-8")


def test_the_block_reads_back_as_written() -> None:
    text = render_source(PAGE, "  ")
    assert text.startswith("  - name: gd-policy\n    # 广东省人民政府 — 政策文件\n")
    doc, issues = load_yaml(text, "x.yaml", {})
    assert not issues and doc is not None
    assert doc.data[0]["page"]["include"] == list(PAGE.rules.include)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "value",
    ["yes", "true", "123", "1.5", "a: b", "#x", "x #y", "${HOME}/feed", "it's", "-x", "[x]", "a "],
)
def test_scalars_read_back_as_the_same_string(value: str) -> None:
    doc, issues = load_yaml(f"key: {scalar(value)}\n", "x.yaml", {})
    assert not issues and doc is not None and doc.data == {"key": value}


def test_sources_go_to_the_included_file_that_holds_them(tmp_path: Path) -> None:
    main = tmp_path / "aggregator.yaml"
    main.write_text("# main\ninclude: [sources/*.yaml]\n", encoding="utf-8")
    (tmp_path / "sources").mkdir()
    listed = tmp_path / "sources" / "feeds.yaml"
    listed.write_text(
        "# my feeds\nsources:\n    - name: one  # first\n      url: https://example.org/1.xml\n"
        "# trailing comment\n",
        encoding="utf-8",
    )
    edit = plan_append(str(main), [NewSource(name="two", url="https://example.org/2.xml")])
    assert Path(edit.path) == listed
    assert edit.text == (
        "# my feeds\nsources:\n    - name: one  # first\n      url: https://example.org/1.xml\n"
        "\n    - name: two\n      url: https://example.org/2.xml\n# trailing comment\n"
    )


def test_a_config_without_sources_gets_the_key(tmp_path: Path) -> None:
    main = tmp_path / "aggregator.yaml"
    main.write_text("server:\n  port: 9000", encoding="utf-8")
    edit = plan_append(str(main), [NewSource(name="one", url="https://example.org/1.xml")])
    assert edit.text == (
        "server:\n  port: 9000\n\nsources:\n  - name: one\n    url: https://example.org/1.xml\n"
    )
    text, _ = insert_sources("sources: []\ntopics: []\n", [NewSource(name="a", url="b.xml")])
    assert text == "sources:\n  - name: a\n    url: b.xml\ntopics: []\n"


def test_duplicates_are_refused_or_skipped(tmp_path: Path) -> None:
    path = default_config(tmp_path)
    same_name = NewSource(name="36kr", url="https://example.org/other.xml")
    with pytest.raises(ConfigEditError, match=r"a source named '36kr' already exists \(.*:\d+\)"):
        plan_append(str(path), [same_name])
    same_url = NewSource(name="kr", url="https://36KR.com/feed?utm_source=x")
    with pytest.raises(ConfigEditError, match="already configured as '36kr'"):
        plan_append(str(path), [same_url])
    twice = NewSource(name="new-one", url="https://example.org/new.xml")
    edit = plan_append(str(path), [same_url, twice, twice], skip_duplicates=True)
    assert edit.added == ("new-one",)
    assert len(edit.skipped) == 2


def test_an_invalid_result_is_never_written(tmp_path: Path) -> None:
    path = default_config(tmp_path)
    bad = NewSource(name="bad name!", url="https://example.org/x.xml")
    with pytest.raises(Exception, match=r"sources\[\d+\]\.name: invalid name"):
        plan_append(str(path), [bad])


def test_write_edit_keeps_the_file_mode(tmp_path: Path) -> None:
    path = default_config(tmp_path)
    os.chmod(path, 0o640)
    write_edit(plan_append(str(path), [NewSource(name="x1", url="https://example.org/x")]))
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_names_from_titles_and_urls() -> None:
    assert (
        source_name("https://example.org/feed.xml", "Example News: Daily!") == "example-news-daily"
    )
    assert source_name("https://www.gd.gov.cn/zwgk/zcwj/index.html", "政策文件") == (
        "gd-gov-cn-zwgk-zcwj"
    )
    assert source_name("https://www.example.org/rss/", None) == "example-org"
    assert unique_name("a", {"a", "a-2"}) == "a-3"
