"""Policy-document fields of Chinese government pages: 文号, 发文机关, 成文日期, 发布日期.

Pure functions of strings. Two places give them:

    info table   the block gov.cn and most government CMSs put above a document: cells
                 labelled 索引号 / 主题分类 / 发文机关 / 成文日期 / 标题 / 发文字号 /
                 发布日期 (a label and its value in one cell, or the value in the next
                 cell; spaces inside labels, as in "标　　题：", are ignored)
    the text     a document number standing alone on one of the first lines of the body
                 (工信部规〔2024〕3号); and the signature block at its end: one to six
                 short lines naming the issuers above the date written (2024年1月15日 or
                 二〇二四年一月十五日), before an optional "（此件公开发布）". The signature
                 is read only when the page is a policy document (it has a number)

The table wins over the text. Document numbers are written with 〔〕, whatever brackets the
page used ([], ［］, （）, 【】), so the same document reads the same from every site.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

from aggregator.models import PolicyInfo

__all__ = [
    "DOC_NUMBER",
    "normalize_doc_number",
    "policy_from_parts",
    "read_info_table",
    "read_signature",
    "standalone_doc_number",
]

DOC_NUMBER = re.compile(
    r"(?P<org>[\u4e00-\u9fff]{1,16})\s*[〔\[［(（【]\s*(?P<year>(?:19|20)\d\d)\s*[〕\]］)）】]"
    r"\s*第?\s*(?P<n>\d{1,5})\s*号"
)
"""A document number: issuer's short name and kind, year in brackets, serial, 号."""

_LABELS: dict[str, str] = {
    "索引号": "index",
    "主题分类": "subject",
    "发文机关": "issuer",
    "发文单位": "issuer",
    "发布机构": "issuer",
    "发布机关": "issuer",
    "成文日期": "written",
    "成文时间": "written",
    "标题": "title",
    "名称": "title",
    "发文字号": "number",
    "文号": "number",
    "发文文号": "number",
    "发布日期": "published",
    "发布时间": "published",
}
_CELL = re.compile(
    rf"^(?P<label>{'|'.join(sorted(_LABELS, key=len, reverse=True))})[:：](?P<v>.*)$"
)
_SPACE = re.compile(r"[\s\u3000\xa0]+")
_DATE = re.compile(
    r"^(?P<y>(?:19|20)\d\d|[〇零一二三四五六七八九○]{4})\s*[年\-/.]\s*(?P<m>\d{1,2}|[一二三四五六七八九十]{1,2})"
    r"\s*[月\-/.]\s*(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*日?"
)
_NUMERALS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0}
_NOTE = re.compile(r"^[（(][^）)]{1,24}[）)]$")
_ORG_LINE = re.compile(r"^[\u4e00-\u9fff（）()·、\s]{2,40}$")
_HEAD_LINES = 8
_SIGNATURE_LINES = 6


def normalize_doc_number(text: str) -> str | None:
    """The first document number in `text`, written with 〔〕 and no spaces; else None."""
    m = DOC_NUMBER.search(text)
    if m is None:
        return None
    return f"{m.group('org')}〔{m.group('year')}〕{int(m.group('n'))}号"


def standalone_doc_number(lines: Sequence[str]) -> str | None:
    """A document number that is a whole line among the first lines of a body, else None."""
    for line in [line for line in lines if line.strip()][:_HEAD_LINES]:
        flat = _SPACE.sub("", line)
        m = DOC_NUMBER.fullmatch(flat)
        if m is not None:
            return normalize_doc_number(flat)
    return None


def read_info_table(cells: Iterable[str]) -> dict[str, str]:
    """Label → value from the cells of an info table, in document order (first one wins).

    Keys: index, subject, issuer, written, title, number, published.
    """
    found: dict[str, str] = {}
    waiting: str | None = None  # a label cell whose value is the next cell
    for raw in cells:
        text = raw.strip()
        flat = _SPACE.sub("", text)
        m = _CELL.match(flat)
        if m is not None:
            key = _LABELS[m.group("label")]
            value = _value_after_label(text)
            waiting = None
            if value:
                found.setdefault(key, value)
            else:
                waiting = key
            continue
        if waiting is not None and text:
            found.setdefault(waiting, " ".join(text.split()))
            waiting = None
    return found


def read_signature(lines: Sequence[str]) -> tuple[str | None, date | None]:
    """(issuers, date written) from the signature block at the end of a body, else Nones."""
    tail = [line.strip() for line in lines if line.strip()]
    while tail and _NOTE.match(_SPACE.sub("", tail[-1])):
        tail.pop()
    if not tail:
        return None, None
    written = read_date(tail[-1], whole=True)
    if written is None:
        return None, None
    issuers: list[str] = []
    for line in reversed(tail[-1 - _SIGNATURE_LINES : -1]):
        flat = _SPACE.sub(" ", line).strip()
        if not _ORG_LINE.match(flat) or len(flat) > 30:
            break
        issuers.insert(0, flat)
    return ("、".join(issuers) or None), written


def read_date(text: str, *, whole: bool = False) -> date | None:
    """A calendar date written 2024年1月15日, 2024-01-15 or 二〇二四年一月十五日; else None."""
    flat = _SPACE.sub("", text)
    m = _DATE.match(flat)
    if m is None or (whole and m.end() != len(flat)):
        return None
    try:
        return date(_number(m.group("y")), _number(m.group("m")), _number(m.group("d")))
    except ValueError:
        return None


def policy_from_parts(
    table: dict[str, str], lines: Sequence[str], page_date: date | None
) -> PolicyInfo | None:
    """The fields of a policy document from its info table and body lines; None if not one.

    A page is a policy document when it carries a document number (in its table or standing
    alone at the top of its body) or an info table that names an issuer or a date written.
    `page_date` (the page's own publication date) stands in for a missing 发布日期.
    """
    number = normalize_doc_number(table.get("number", "")) or standalone_doc_number(lines)
    issuer = table.get("issuer") or None
    written = read_date(table.get("written", ""))
    if number is None and issuer is None and written is None:
        return None
    if issuer is None or written is None:
        signed_by, signed_on = read_signature(lines)
        issuer = issuer or signed_by
        written = written or signed_on
    published = read_date(table.get("published", "")) or page_date
    return PolicyInfo(doc_number=number, issuer=issuer, written=written, published=published)


def _value_after_label(text: str) -> str:
    """What follows the first colon of a label cell, whitespace collapsed."""
    for i, char in enumerate(text):
        if char in ":：":
            return " ".join(text[i + 1 :].split())
    return ""


def _number(text: str) -> int:
    """Arabic digits, or Chinese numerals (二〇二四 digit by digit, 十五 as tens)."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_NUMERALS[tens] if tens else 1) * 10 + (_NUMERALS[ones] if ones else 0)
    value = 0
    for char in text:
        value = value * 10 + _NUMERALS[char]
    return value
