"""encoding.decode: byte-order marks, declared charsets checked against the bytes, detection of
GBK/GB18030/Big5 behind wrong declarations; and prepare_xml, which hands both parsers UTF-8."""

from __future__ import annotations

import codecs

import pytest
from lxml import etree

from aggregator.encoding import codec_name, decode
from aggregator.parse import prepare_xml

ZH = (
    "先进高端制造业是上海产业重要方向，李强赴嘉定调研中外企业时指出，"
    "工业特别是制造业是实体经济的基础。"
)
ZH_TRADITIONAL = "經濟部工業局表示，將推動智慧機械產業升級，提高國際競爭力，歡迎業者踴躍報名參加。"
FRENCH = "Réindustrialisation : « une décennie décisive » — le ministre délégué à l’Industrie"


def xml(text: str, encoding: str) -> str:
    return f'<?xml version="1.0" encoding="{encoding}"?><rss><title>{text}</title></rss>'


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
    ],
)
def test_byte_order_mark_decides(bom: bytes, codec: str) -> None:
    body = bom + ZH.encode(codec)
    assert decode(body, declared="gbk") == ZH


def test_ascii_is_ascii() -> None:
    assert decode(b"<rss>plain</rss>", declared="utf-16") == "<rss>plain</rss>"


def test_gbk_body_declared_utf8_in_the_header() -> None:
    assert decode(ZH.encode("gbk"), declared="utf-8") == ZH


def test_gbk_body_declared_utf8_in_the_xml_declaration() -> None:
    text = xml(ZH, "utf-8")
    assert decode(text.encode("gbk")) == text


def test_gb2312_declared_is_read_as_gb18030() -> None:
    text = xml(ZH + "朱镕基", "gb2312")  # 镕 is GBK, not GB2312
    assert decode(text.encode("gb18030")) == text


def test_big5_declared_and_undeclared() -> None:
    body = ZH_TRADITIONAL.encode("big5")
    assert decode(body, declared="big5") == ZH_TRADITIONAL
    assert decode(body) == ZH_TRADITIONAL


def test_big5_body_declared_gbk_is_detected() -> None:
    body = (ZH_TRADITIONAL * 2).encode("big5")
    assert decode(body, declared="gbk") == ZH_TRADITIONAL * 2


def test_utf8_body_declared_latin1_in_the_header() -> None:
    assert decode(ZH.encode("utf-8"), declared="iso-8859-1") == ZH
    assert decode(FRENCH.encode("utf-8"), content_type="text/xml; charset=ISO-8859-1") == FRENCH


def test_windows_1252_legitimately_declared() -> None:
    body = xml(FRENCH, "windows-1252").encode("cp1252")
    assert decode(body) == xml(FRENCH, "windows-1252")
    assert decode(FRENCH.encode("cp1252"), declared="windows-1252") == FRENCH


def test_latin1_declared_means_windows_1252() -> None:
    body = "“quoted” – dash".encode("cp1252")
    assert decode(body, declared="iso-8859-1") == "“quoted” – dash"


def test_gbk_body_declared_latin1_is_detected() -> None:
    assert decode(ZH.encode("gbk"), declared="iso-8859-1") == ZH


def test_undeclared_gbk_is_detected() -> None:
    assert decode(ZH.encode("gb18030")) == ZH


def test_html_meta_charset_is_a_declaration() -> None:
    html = f'<html><head><meta charset="gbk"><title>{ZH}</title></head></html>'
    assert decode(html.encode("gbk")) == html
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=big5">'
    html = f"<html><head>{meta}</head><body>{ZH_TRADITIONAL}</body></html>"
    assert decode(html.encode("big5")) == html


def test_garbage_still_decodes_to_text() -> None:
    body = bytes(range(128, 256)) * 3
    assert isinstance(decode(body, declared="no-such-charset"), str)


@pytest.mark.parametrize(
    ("declared", "codec"),
    [
        ("GB2312", "gb18030"),
        ("gbk", "gb18030"),
        ("x-gbk", "gb18030"),
        ("Big5", "big5hkscs"),
        ("ISO-8859-1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("UTF8", "utf-8"),
        ("Shift_JIS", "cp932"),
        ("koi8-r", "koi8-r"),
        ("no-such-charset", None),
        (None, None),
    ],
)
def test_codec_names(declared: str | None, codec: str | None) -> None:
    assert codec_name(declared) == codec


def test_prepare_xml_rewrites_the_declaration_to_utf8() -> None:
    body = xml(ZH, "GBK").encode("gbk")
    data = prepare_xml(body)
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert etree.fromstring(data).findtext("title") == ZH


def test_prepare_xml_keeps_line_numbers() -> None:
    body = b'\n<?xml version="1.0"\n encoding="gb2312"?>\n<rss>\n<oops>\n</rss>'
    data = prepare_xml(body)
    assert data.count(b"\n") == body.count(b"\n")
    assert data.split(b"\n")[4] == b"<oops>"


def test_prepare_xml_drops_characters_xml_forbids() -> None:
    assert prepare_xml(b"<rss>a\x00b\x08c\x1fd</rss>").endswith(b"<rss>abcd</rss>")
