"""Policy-document fields: read from info tables and text, stored with the article, published."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy
from lxml import etree

from aggregator.feedmeta import FeedInfo
from aggregator.models import (
    Article,
    FeedItem,
    ParsedEntry,
    ParsedFeed,
    PolicyInfo,
    ServerConfig,
    SourceConfig,
    SourceState,
)
from aggregator.normalize import SourceContext, normalize_entry
from aggregator.policydoc import (
    normalize_doc_number,
    policy_from_parts,
    read_date,
    read_info_table,
    read_signature,
    standalone_doc_number,
)
from aggregator.publish import render_feed
from aggregator.store import Store
from aggregator.store_migrate import upgrade

NOW = datetime(2024, 3, 1, tzinfo=UTC)
POLICY = PolicyInfo(
    doc_number="工信部规〔2024〕3号",
    issuer="工业和信息化部",
    written=date(2024, 1, 15),
    published=date(2024, 1, 22),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("工信部规〔2024〕3号", "工信部规〔2024〕3号"),
        ("国办发〔2023〕12号", "国办发〔2023〕12号"),
        ("发改产业〔2022〕1234号", "发改产业〔2022〕1234号"),
        ("发改产业[2022]1234号", "发改产业〔2022〕1234号"),
        ("国发（2020）8号", "国发〔2020〕8号"),
        ("财税［2019］ 013号", "财税〔2019〕13号"),
        ("根据《关于…的通知》（国发〔2020〕8号）要求", "国发〔2020〕8号"),
        ("2024年第3号", None),
        ("第2024-5号公告", None),
    ],
)
def test_doc_numbers(text: str, expected: str | None) -> None:
    assert normalize_doc_number(text) == expected


def test_only_a_number_standing_alone_near_the_top_names_the_document() -> None:
    body = ["国办发〔2024〕3号", "各省、自治区、直辖市人民政府：", "现提出以下意见。"]
    assert standalone_doc_number(body) == "国办发〔2024〕3号"
    cited = ["各省人民政府：", "根据《通知》（国发〔2020〕8号）要求，现提出以下意见。"]
    assert standalone_doc_number(cited) is None
    late = ["段落。"] * 9 + ["国办发〔2024〕3号"]
    assert standalone_doc_number(late) is None


def test_info_table_labels_and_values_in_one_or_two_cells() -> None:
    cells = [
        "索 引 号：",
        "000014349/2024-00008",
        "主题分类：",
        "工业、交通\\其他",
        "发文机关：国务院办公厅",
        "成文日期：",
        "2024年01月15日",
        "标　　题：",
        "国务院办公厅关于加快推进制造业数字化转型的指导意见",
        "发文字号：",
        "国办发〔2024〕3号",
        "发布日期：",
        "2024年01月22日",
        "发布日期：",
        "2099年01月01日",  # a second table further down: the first one wins
    ]
    assert read_info_table(cells) == {
        "index": "000014349/2024-00008",
        "subject": "工业、交通\\其他",
        "issuer": "国务院办公厅",
        "written": "2024年01月15日",
        "title": "国务院办公厅关于加快推进制造业数字化转型的指导意见",
        "number": "国办发〔2024〕3号",
        "published": "2024年01月22日",
    }


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            ["……请认真贯彻执行。", "工业和信息化部", "2024年1月15日"],
            ("工业和信息化部", date(2024, 1, 15)),
        ),
        (
            ["……执行。", "国家发展改革委", "财政部", "2022年6月24日", "（此件公开发布）"],
            ("国家发展改革委、财政部", date(2022, 6, 24)),
        ),
        (["……执行。", "国务院", "二〇二四年一月十五日"], ("国务院", date(2024, 1, 15))),
        (["……执行。", "国务院", "二〇二三年十二月三十日"], ("国务院", date(2023, 12, 30))),
        (["会议于2024年1月15日召开。"], (None, None)),
        (
            [
                "全文完。",
                "这是一句很长的话，不是发文机关，也不该被当作落款里的机关名称来读。",
                "2024年1月15日",
            ],
            (None, date(2024, 1, 15)),
        ),
    ],
)
def test_signature_block(lines: list[str], expected: tuple[str | None, date | None]) -> None:
    assert read_signature(lines) == expected


def test_read_date_forms() -> None:
    assert read_date("2024年01月15日") == date(2024, 1, 15)
    assert read_date("2024-1-5") == date(2024, 1, 5)
    assert read_date("二〇二四年二月二十九日") == date(2024, 2, 29)
    assert read_date("二〇二三年二月二十九日") is None
    assert read_date("2024年1月15日 起施行", whole=True) is None


def test_a_news_page_is_not_a_policy_document() -> None:
    lines = ["记者从工信部获悉，", "会议于2024年1月15日召开。", "工业和信息化部", "2024年1月15日"]
    assert policy_from_parts({}, lines, date(2024, 1, 16)) is None


def test_the_table_wins_and_the_page_date_stands_in() -> None:
    table = {"number": "工信部规[2024]3号", "issuer": "工业和信息化部"}
    lines = ["工信部规〔2024〕9号", "正文。", "别的机关", "2024年1月15日"]
    assert policy_from_parts(table, lines, date(2024, 1, 22)) == POLICY


# ---------------------------------------------------------------- normalize, store, publish


def policy_article(policy: PolicyInfo | None) -> Article:
    entry = ParsedEntry(
        id="p1",
        link="https://www.miit.gov.cn/p1.html",
        title="工业和信息化部关于印发管理办法的通知",
        content="<p>现印发给你们，请认真贯彻执行。</p>",
        published=datetime(2024, 1, 22, 1, 30, tzinfo=UTC),
        policy=policy,
    )
    source = SourceContext(name="miit", url="https://www.miit.gov.cn/", timezone="Asia/Shanghai")
    return normalize_entry(entry, feed=ParsedFeed(format="page"), source=source, now=NOW)


def test_normalize_keeps_the_policy_and_hashes_it() -> None:
    with_policy, without = policy_article(POLICY), policy_article(None)
    assert with_policy.policy == POLICY and without.policy is None
    assert with_policy.content_hash != without.content_hash


def test_policy_fields_round_trip_through_the_store(store: Store) -> None:
    store.sync_sources([SourceConfig(name="miit", url="https://www.miit.gov.cn/")], NOW)
    [source] = store.sources()
    state = SourceState(
        url=source.url,
        etag=None,
        last_modified=None,
        last_fetched_at=NOW,
        next_fetch_at=NOW,
        last_status="ok",
        last_error=None,
        error_streak=0,
    )
    partial = PolicyInfo(doc_number="国办发〔2023〕12号")
    second = policy_article(partial)
    second = Article(**{**second.__dict__, "id": "p2", "content_hash": "other"})
    store.save_update(source.id, state, [policy_article(POLICY), second, _plain_article()])
    stored = {a.id: a for a in store.articles("miit")}
    assert stored["p1"].policy == POLICY
    assert stored["p2"].policy == partial
    assert stored["plain"].policy is None


def test_an_older_database_gains_the_policy_column(db_url: str) -> None:
    first = Store(db_url)
    first.close()
    engine = sqlalchemy.create_engine(db_url)
    with engine.begin() as conn:  # as a release before migrations and policies left it
        conn.exec_driver_sql("ALTER TABLE articles DROP COLUMN policy")
        conn.exec_driver_sql("DROP TABLE alembic_version")
        conn.exec_driver_sql("UPDATE meta SET value = 2 WHERE key = 'schema_version'")
    engine.dispose()
    upgrade(db_url, 30.0)  # `aggregator db upgrade`; the daemon runs it at start
    reopened = Store(db_url)
    test_policy_fields_round_trip_through_the_store(reopened)
    reopened.close()


def _plain_article() -> Article:
    article = policy_article(None)
    return Article(**{**article.__dict__, "id": "plain", "content_hash": "plain"})


def feed_item(policy: PolicyInfo | None) -> FeedItem:
    return FeedItem(
        article=policy_article(policy), source_name="miit", source_url="https://www.miit.gov.cn/"
    )


def test_published_items_show_the_policy_line() -> None:
    server = ServerConfig(base_url="https://agg.example.test")
    info = FeedInfo("policy", "Policy", "Policy documents")
    line = (
        "文号 工信部规〔2024〕3号 · 发文机关 工业和信息化部 · "
        "成文日期 2024年1月15日 · 发布日期 2024年1月22日"
    )

    document = json.loads(render_feed("json", info, [feed_item(POLICY)], server=server, now=NOW))
    [item] = document["items"]
    assert item["content_html"].startswith(f'<p class="policy">{line}</p><p>现印发给你们')
    assert item["_aggregator"]["policy"] == {
        "doc_number": "工信部规〔2024〕3号",
        "issuer": "工业和信息化部",
        "written": "2024-01-15",
        "published": "2024-01-22",
    }

    rss = etree.fromstring(render_feed("rss", info, [feed_item(POLICY)], server=server, now=NOW))
    encoded = rss.findtext("channel/item/{http://purl.org/rss/1.0/modules/content/}encoded")
    shown = encoded or rss.findtext("channel/item/description")  # feedgen: no summary, no encoded
    assert shown is not None and shown.startswith(f'<p class="policy">{line}</p>')
    atom = etree.fromstring(render_feed("atom", info, [feed_item(POLICY)], server=server, now=NOW))
    content = atom.findtext(
        "{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content"
    )
    assert content is not None and line in content


def test_items_without_a_policy_are_unchanged() -> None:
    server = ServerConfig(base_url="https://agg.example.test")
    info = FeedInfo("policy", "Policy", "Policy documents")
    document = json.loads(render_feed("json", info, [feed_item(None)], server=server, now=NOW))
    [item] = document["items"]
    assert item["content_html"] == "<p>现印发给你们，请认真贯彻执行。</p>"
    assert "policy" not in item["_aggregator"]
