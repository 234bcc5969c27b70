"""config: YAML files -> a validated `Config`, or every issue as `file:line: field: message`."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.config import DEFAULT_CONFIG_PATH, find_config_path, load_config, parse_interval
from aggregator.configschema import format_interval
from aggregator.errors import ConfigError
from aggregator.models import Config, FetchSettings, ServerConfig, SourceConfig
from aggregator.topicspec import TopicSpec

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "config"


def issues_of(path: str | Path, env: dict[str, str] | None = None) -> list[str]:
    """The issues loading `path` reports, one string each; fails if it loads."""
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), env or {})
    assert str(caught.value) == "\n".join(str(i) for i in caught.value.issues)
    return [str(issue) for issue in caught.value.issues]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- valid configs


def test_a_valid_config_loads_into_the_dataclasses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA)
    config = load_config("valid/aggregator.yaml", {"PORT": "9191"})

    assert isinstance(config, Config)
    assert config.path == "valid/aggregator.yaml"
    assert config.database_url == "sqlite:///tmp/test.db"
    assert config.server == ServerConfig(
        host="0.0.0.0",
        port=9191,
        base_url="https://news.example.org",
        title="Test aggregator",
        feed_limit=20,
    )
    assert config.fetch == FetchSettings(
        concurrency=8,
        per_host=1,
        connect_timeout=5.0,
        read_timeout=12.5,
        max_bytes=512 * 1024,
        user_agent="test-agent/1.0",
    )
    assert config.sources == (
        SourceConfig(
            name="miit-news",
            url="https://www.example.gov.cn/rss.xml",
            interval=900,
            tags=("policy", "zh"),
            language="zh",
            enabled=True,
            timezone="Asia/Shanghai",
            headers=(("Cookie", "session=anonymous"), ("X-Token", "abc")),
            file="valid/aggregator.yaml",
            line=19,
        ),
        SourceConfig(
            name="local.sample_1",
            url=(DATA / "valid" / "feeds" / "sample.xml").as_uri(),
            interval=90,
            min_interval=60,
            enabled=False,
            file="valid/aggregator.yaml",
            line=26,
        ),
        SourceConfig(
            name="industry-feed",
            url="http://example.com/feed.atom",
            auto_interval=True,
            min_interval=600,
            max_interval=12 * 3600,
            file="valid/sources/extra.yaml",
            line=2,
        ),
    )
    [topic] = config.topics
    assert isinstance(topic, TopicSpec)
    assert topic.slug == "manufacturing"
    assert topic.threshold == 2
    assert [rule.all_of for rule in topic.rules] == [(), ("supply", "chain"), ()]
    assert topic.rules[2].regex == (r"\bEVs?\b",)


def test_defaults_apply_when_sections_are_absent(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "sources:\n  - name: a\n    url: https://a.example/\n")
    config = load_config(str(path), {})
    assert config.database_url == "sqlite:///data/aggregator.db"
    assert config.server == ServerConfig()
    assert config.fetch == FetchSettings()
    assert config.topics == ()
    source = config.sources[0]
    assert (source.interval, source.auto_interval) == (None, False)
    assert (source.min_interval, source.max_interval) == (5 * 60, 24 * 3600)


def test_empty_values_mean_their_defaults(tmp_path: Path) -> None:
    text = "server:\nfetch:\ninclude:\ntopics:\nsources:\n  - name: a\n    url: a.xml\n    tags:\n"
    config = load_config(str(write(tmp_path, "c.yaml", text)), {})
    assert (config.server, config.fetch) == (ServerConfig(), FetchSettings())
    assert config.sources[0].tags == ()


def test_an_empty_file_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(str(write(tmp_path, "c.yaml", "# nothing yet\n")), {})
    assert config.sources == () and config.topics == ()


def test_the_default_config_loads_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    config = load_config(DEFAULT_CONFIG_PATH, {})
    assert config.database_url == "sqlite:///data/aggregator.db"
    assert 12 <= len(config.sources) <= 20
    assert len({s.name for s in config.sources}) == len(config.sources)
    for source in config.sources:
        assert source.url.startswith(("http://", "https://")), source.name
        assert {"manufacturing", "policy"} & set(source.tags), source.name
        assert source.language in ("zh", "en"), source.name
    languages = {s.language for s in config.sources}
    assert languages == {"zh", "en"}


def test_yaml_1_2_scalars_keep_no_and_dates_as_strings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.yaml",
        "sources:\n  - name: 2024-01-01\n    url: https://a.example/\n    language: no\n",
    )
    [source] = load_config(str(path), {}).sources
    assert (source.name, source.language) == ("2024-01-01", "no")


def test_interval_auto_and_its_bounds_load_in_any_order(tmp_path: Path) -> None:
    text = (
        "sources:\n"
        "  - {name: a, url: 'https://a.example/', interval: 2m, min_interval: 1m}\n"
        "  - {name: b, url: 'https://b.example/', max_interval: 2d, interval: Auto}\n"
        "  - {name: c, url: 'https://c.example/', interval: 5m}\n"
    )
    a, b, c = load_config(str(write(tmp_path, "c.yaml", text)), {}).sources
    assert (a.interval, a.auto_interval, a.min_interval) == (120, False, 60)
    assert (b.interval, b.auto_interval, b.max_interval) == (None, True, 2 * 86400)
    assert (c.interval, c.min_interval) == (300, 300)  # the default floor itself is allowed


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (59, "59s"),
        (60, "1m"),
        (90, "1m30s"),
        (5400, "1h30m"),
        (86400, "1d"),
        (90061, "1d1h1m1s"),
    ],
)
def test_format_interval_is_the_inverse_of_parse_interval(seconds: int, text: str) -> None:
    assert format_interval(seconds) == text
    if seconds:
        assert parse_interval(text) == seconds


def test_anchors_and_merge_keys_share_settings(tmp_path: Path) -> None:
    text = (
        "sources:\n"
        "  - &base {name: a, url: 'https://a.example/', interval: 2h, language: zh}\n"
        "  - <<: *base\n"
        "    name: b\n"
    )
    a, b = load_config(str(write(tmp_path, "c.yaml", text)), {}).sources
    assert (b.name, b.url, b.interval, b.language) == ("b", a.url, 7200, "zh")


# ---------------------------------------------------------------- one error each


SOURCE = "sources:\n  - name: a\n    url: https://a.example/feed\n"
CASES = {
    "unknown top-level key": (
        "sourcs: []\n",
        "c.yaml:1: sourcs: unknown key (did you mean 'sources'?)",
    ),
    "unknown source key": (
        SOURCE + "    intervall: 1h\n",
        "c.yaml:4: sources[0].intervall: unknown key (did you mean 'interval'?)",
    ),
    "wrong type": ("server:\n  port: eighty\n", "c.yaml:2: server.port: expected a whole number"),
    "list expected": (SOURCE + "    tags: policy\n", "c.yaml:4: sources[0].tags: expected a list"),
    "number where a string goes": (
        SOURCE + "    tags: [2024]\n",
        "c.yaml:4: sources[0].tags[0]: expected a string (put numbers in quotes)",
    ),
    "missing url": ("sources:\n  - name: a\n", "c.yaml:2: sources[0].url: required"),
    "bad name": (
        "sources:\n  - name: -a\n    url: https://a.example/\n",
        "c.yaml:2: sources[0].name: invalid name: use letters, digits, '.', '_' and '-', "
        "starting with a letter or digit",
    ),
    "duplicate source name": (
        SOURCE + "  - name: a\n    url: https://b.example/\n",
        "c.yaml:4: sources[1].name: duplicate source name 'a' (first declared at c.yaml:2)",
    ),
    "duplicate topic slug": (
        "topics:\n  - {slug: policy, title: P}\n  - {slug: policy, title: Q}\n",
        "c.yaml:3: topics[1].slug: duplicate topic slug 'policy' (first declared at c.yaml:2)",
    ),
    "bad topic field": (
        "topics:\n  - slug: policy\n    title: P\n    rules:\n      - fields: [body]\n",
        "c.yaml:5: topics[0].rules[0].fields[0]: "
        "expected 'title', 'summary', 'content', 'tags' or 'source'",
    ),
    "bad regex": (
        "topics:\n  - slug: policy\n    title: P\n    exclude_regex: ['a', '[b']\n",
        "c.yaml:4: topics[0].exclude_regex[1]: invalid regular expression: "
        "unterminated character set",
    ),
    "bad url scheme": (
        "sources:\n  - name: a\n    url: ftp://a.example/feed\n",
        "c.yaml:3: sources[0].url: not an http(s) or file URL",
    ),
    "url without host": (
        "sources:\n  - name: a\n    url: https:///feed\n",
        "c.yaml:3: sources[0].url: URL has no host",
    ),
    "relative file url": (
        "sources:\n  - name: a\n    url: file:feed.xml\n",
        "c.yaml:3: sources[0].url: a file URL must be absolute: file:///path/to/feed.xml",
    ),
    "bad interval": (
        SOURCE + "    interval: 15 minutes\n",
        "c.yaml:4: sources[0].interval: invalid interval '15 minutes' (use e.g. 30s, 15m, 1h, 1d)",
    ),
    "interval too short": (
        SOURCE + "    interval: 30s\n",
        "c.yaml:4: sources[0].interval: too short: 30s (the minimum is 1m)",
    ),
    "interval in seconds too short": (
        SOURCE + "    interval: 59\n",
        "c.yaml:4: sources[0].interval: too short: 59s (the minimum is 1m)",
    ),
    "interval below the default floor": (
        SOURCE + "    interval: 2m\n",
        "c.yaml:4: sources[0].interval: shorter than min_interval (5m); "
        "lower min_interval to allow it",
    ),
    "interval below the source's own floor": (
        SOURCE + "    min_interval: 10m\n    interval: 9m59s\n",
        "c.yaml:5: sources[0].interval: shorter than min_interval (10m); "
        "lower min_interval to allow it",
    ),
    "interval below the lowest floor, even with min_interval": (
        SOURCE + "    interval: 30s\n    min_interval: 1m\n",
        "c.yaml:4: sources[0].interval: too short: 30s (the minimum is 1m)",
    ),
    "min_interval too short": (
        SOURCE + "    min_interval: 30\n",
        "c.yaml:4: sources[0].min_interval: too short: 30s (the minimum is 1m)",
    ),
    "bad min_interval": (
        SOURCE + "    min_interval: auto\n",
        "c.yaml:4: sources[0].min_interval: invalid interval 'auto' (use e.g. 30s, 15m, 1h, 1d)",
    ),
    "max_interval without interval auto": (
        SOURCE + "    interval: 1h\n    max_interval: 1d\n",
        "c.yaml:5: sources[0].max_interval: used only with interval: auto",
    ),
    "max_interval below min_interval": (
        SOURCE + "    interval: auto\n    min_interval: 2h\n    max_interval: 1h\n",
        "c.yaml:6: sources[0].max_interval: shorter than min_interval (2h)",
    ),
    "interval neither a duration nor auto": (
        SOURCE + "    interval: automatic\n",
        "c.yaml:4: sources[0].interval: invalid interval 'automatic' (use e.g. 30s, 15m, 1h, 1d)",
    ),
    "bad time zone": (
        SOURCE + "    timezone: China/Beijing\n",
        "c.yaml:4: sources[0].timezone: unknown time zone 'China/Beijing' "
        "(use an IANA name such as Asia/Shanghai)",
    ),
    "bad header name": (
        SOURCE + "    headers: {'Bad Header': x}\n",
        "c.yaml:4: sources[0].headers: invalid header name 'Bad Header'",
    ),
    "bad size": (
        "fetch:\n  max_bytes: 20 furlongs\n",
        "c.yaml:2: fetch.max_bytes: invalid size '20 furlongs' "
        "(use e.g. 20MiB, 512KiB or a number of bytes)",
    ),
    "bool for a number": (
        "fetch:\n  concurrency: true\n",
        "c.yaml:2: fetch.concurrency: expected a number, not true/false",
    ),
    "port out of range": ("server:\n  port: 0\n", "c.yaml:2: server.port: must be at least 1"),
    "bad base url": (
        "server:\n  base_url: news.example.org\n",
        "c.yaml:2: server.base_url: not an http(s) URL",
    ),
    "bad database url": (
        "database:\n  url: data/aggregator.db\n",
        "c.yaml:2: database.url: not a database URL (e.g. sqlite:///data/aggregator.db)",
    ),
    "yaml syntax": (
        "sources:\n  - name: a\n    url: [https://a.example/\n",
        "c.yaml:4: YAML syntax error: did not find expected ',' or ']' "
        "(while parsing a flow sequence on line 3)",
    ),
    "yaml bad indentation": (
        "server:\n  port: 1\n title: x\n",
        "c.yaml:3: YAML syntax error: did not find expected key "
        "(while parsing a block mapping on line 1)",
    ),
    "duplicate yaml key": (
        "server:\n  port: 1\n  port: 2\n",
        "c.yaml:3: server.port: duplicate key (first on line 2)",
    ),
    "unsupported tag": (
        "server:\n  title: !secret x\n",
        "c.yaml:2: server.title: unsupported YAML tag !secret",
    ),
    "not a mapping": (
        "- a\n- b\n",
        "c.yaml:1: expected a mapping at the top level "
        "(keys: database, server, fetch, stories, workers, include, sources, topics)",
    ),
    "sources not a list": ("sources: {a: 1}\n", "c.yaml:1: sources: expected a list"),
    "unset variable": (
        "database:\n  url: ${DB_URL}\n",
        "c.yaml:2: database.url: environment variable DB_URL is not set",
    ),
    "malformed variable": (
        "server:\n  title: ${TITLE-x}\n",
        "c.yaml:2: server.title: bad variable reference '${TITLE-x}' "
        "(use ${NAME} or ${NAME:-default})",
    ),
    "missing include": (
        "include: [nope.yaml]\n",
        "c.yaml:1: include[0]: file not found: nope.yaml",
    ),
}


@pytest.mark.parametrize("text, expected", CASES.values(), ids=CASES.keys())
def test_each_error_kind_has_its_exact_message(
    text: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "c.yaml", text)
    monkeypatch.chdir(tmp_path)
    assert issues_of("c.yaml") == [expected]


def test_a_missing_main_file_is_one_issue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert issues_of("config/aggregator.yaml") == [
        "config/aggregator.yaml: file not found (give --config PATH or set AGGREGATOR_CONFIG)"
    ]


def test_a_file_that_is_not_utf8_is_one_issue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "c.yaml").write_bytes("server:\n  title: 制造\n".encode("gb18030"))
    monkeypatch.chdir(tmp_path)
    assert issues_of("c.yaml") == ["c.yaml: not UTF-8 text (bad byte at offset 17)"]


# ---------------------------------------------------------------- many errors at once


def test_every_error_in_every_file_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA / "errors")
    assert issues_of("aggregator.yaml") == [
        "aggregator.yaml:2: server.port: must be at most 65535",
        "aggregator.yaml:3: server.colour: unknown key",
        "aggregator.yaml:6: include[1]: file not found: missing.yaml",
        "aggregator.yaml:10: sources[1].name: invalid name: use letters, digits, '.', '_' and '-', "
        "starting with a letter or digit",
        "aggregator.yaml:11: sources[1].url: not an http(s) or file URL",
        "aggregator.yaml:12: sources[1].interval: too short: 30s (the minimum is 1m)",
        "aggregator.yaml:13: sources[1].timezone: unknown time zone 'Mars/Olympus' "
        "(use an IANA name such as Asia/Shanghai)",
        "aggregator.yaml:14: sources[2].url: environment variable UNSET_FEED_HOST is not set",
        "aggregator.yaml:14: sources[2].name: required",
        "aggregator.yaml:15: sources[3].name: duplicate source name 'good' "
        "(first declared at aggregator.yaml:8)",
        "aggregator.yaml:17: sources[3].tags: expected a list",
        "aggregator.yaml:22: topics[0].rules[0].regex[0]: invalid regular expression: "
        "missing ), unterminated subpattern",
        "extra.yaml:1: fetch: allowed only in the main config file, not in an included one",
        "extra.yaml:4: sources[0].name: duplicate source name 'good' "
        "(first declared at aggregator.yaml:8)",
        "extra.yaml:6: sources[0].enabled: expected true or false",
        "extra.yaml:8: topics[0].slug: duplicate topic slug 'policy' "
        "(first declared at aggregator.yaml:19)",
    ]


def test_issues_carry_their_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA / "errors")
    with pytest.raises(ConfigError) as caught:
        load_config("aggregator.yaml", {})
    first = caught.value.issues[0]
    assert (first.file, first.line, first.field) == ("aggregator.yaml", 2, "server.port")


# ---------------------------------------------------------------- environment variables


def test_env_variables_expand_with_and_without_defaults(tmp_path: Path) -> None:
    text = (
        "database:\n  url: ${DB:-sqlite:///fallback.db}\n"
        "server:\n  port: ${PORT}\n  title: '${SITE} news, $${not a variable}'\n"
        "  base_url: http://${HOST:-localhost}:${PORT}\n"
    )
    path = write(tmp_path, "c.yaml", text)

    config = load_config(str(path), {"PORT": "8181", "SITE": "Factory"})
    assert config.database_url == "sqlite:///fallback.db"
    assert config.server.port == 8181
    assert config.server.title == "Factory news, ${not a variable}"
    assert config.server.base_url == "http://localhost:8181"

    config = load_config(
        str(path), {"PORT": "1", "SITE": "S", "DB": "postgresql://db/x", "HOST": ""}
    )
    assert config.database_url == "postgresql://db/x"
    assert config.server.base_url == "http://localhost:1"  # empty takes the default too


def test_env_defaults_to_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGG_TEST_TITLE", "from the environment")
    path = write(tmp_path, "c.yaml", "server:\n  title: ${AGG_TEST_TITLE}\n")
    assert load_config(str(path)).server.title == "from the environment"


def test_a_value_from_env_is_still_validated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "c.yaml", "server:\n  port: ${PORT:-http}\n")
    monkeypatch.chdir(tmp_path)
    assert issues_of("c.yaml") == ["c.yaml:2: server.port: expected a whole number"]


# ---------------------------------------------------------------- includes and paths


def test_includes_are_relative_to_the_including_file_and_read_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(DATA)
    config = load_config("nested/aggregator.yaml", {})
    where = [(s.name, s.file, s.line) for s in config.sources]
    assert where == [
        ("top", "nested/aggregator.yaml", 3),
        ("middle", "nested/sub/more.yaml", 3),
        ("bottom", "nested/sub/deeper/last.yaml", 2),
    ]


def test_plain_paths_become_file_urls_relative_to_their_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not the config's directory: the file's directory counts
    urls = {
        s.name: s.url for s in load_config(str(DATA / "nested" / "aggregator.yaml"), {}).sources
    }
    assert urls == {
        "top": (DATA / "nested" / "top.xml").as_uri(),
        "middle": (DATA / "nested" / "sub" / "middle.xml").as_uri(),
        "bottom": (DATA / "nested" / "sub" / "bottom.xml").as_uri(),
    }


def test_plain_paths_are_percent_encoded_in_file_urls(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "sources:\n  - {name: a, url: 'my feeds/制造.xml'}\n")
    [source] = load_config(str(path), {}).sources
    assert source.url == (tmp_path / "my feeds" / "制造.xml").as_uri()
    assert "%20" in source.url


def test_file_and_http_urls_are_kept_as_written(tmp_path: Path) -> None:
    text = (
        "sources:\n  - {name: a, url: 'file:///srv/feeds/a.xml'}\n"
        "  - {name: b, url: 'HTTPS://Example.org/Feed?x=1'}\n"
    )
    a, b = load_config(str(write(tmp_path, "c.yaml", text)), {}).sources
    assert (a.url, b.url) == ("file:///srv/feeds/a.xml", "HTTPS://Example.org/Feed?x=1")


def test_errors_in_an_included_file_name_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "conf/main.yaml", "include: [more/sources.yaml]\n")
    write(tmp_path, "conf/more/sources.yaml", "sources:\n  - name: x\n    url: gopher://x/\n")
    monkeypatch.chdir(tmp_path)
    assert issues_of("conf/main.yaml") == [
        "conf/more/sources.yaml:3: sources[0].url: not an http(s) or file URL"
    ]


def test_include_cycles_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA)
    assert issues_of("cycle/a.yaml") == [
        "cycle/b.yaml:1: include[0]: include cycle: cycle/a.yaml -> cycle/b.yaml -> cycle/a.yaml"
    ]


def test_a_file_including_itself_is_a_cycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "c.yaml", "include: c.yaml\n")
    monkeypatch.chdir(tmp_path)
    assert issues_of("c.yaml") == ["c.yaml:1: include: include cycle: c.yaml -> c.yaml"]


def test_include_globs_match_in_order_and_may_match_nothing(tmp_path: Path) -> None:
    write(tmp_path, "c.yaml", "include: ['sources/*.yaml', 'none/*.yaml']\n")
    write(tmp_path, "sources/b.yaml", "sources:\n  - {name: b, url: 'https://b.example/'}\n")
    write(tmp_path, "sources/a.yaml", "sources:\n  - {name: a, url: 'https://a.example/'}\n")
    config = load_config(str(tmp_path / "c.yaml"), {})
    assert [s.name for s in config.sources] == ["a", "b"]


# ---------------------------------------------------------------- small helpers


def test_find_config_path_prefers_the_flag_then_the_environment() -> None:
    env = {"AGGREGATOR_CONFIG": "/etc/aggregator.yaml"}
    assert find_config_path("mine.yaml", env) == "mine.yaml"
    assert find_config_path(None, env) == "/etc/aggregator.yaml"
    assert find_config_path(None, {}) == "config/aggregator.yaml"
    assert find_config_path(None, {"AGGREGATOR_CONFIG": ""}) == "config/aggregator.yaml"


def test_find_config_path_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGGREGATOR_CONFIG", "from-env.yaml")
    assert find_config_path(None) == "from-env.yaml"


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("30s", 30),
        ("15m", 900),
        ("1h", 3600),
        ("1d", 86400),
        ("1h30m", 5400),
        ("900", 900),
        (" 2h ", 7200),
    ],
)
def test_parse_interval(text: str, seconds: int) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "1w", "15 minutes", "1.5h", "0m", "-5m", "1m1h"])
def test_parse_interval_rejects_other_forms(text: str) -> None:
    with pytest.raises(ValueError):
        parse_interval(text)
