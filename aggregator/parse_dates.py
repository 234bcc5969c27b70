"""Feed dates: the raw date strings of RSS, Atom and JSON Feed → `datetime`.

One public function, `parse_date`. It reads, in this order:

1. RFC 822 / RFC 2822 and their common breakages (`Mon, 06 Sep 2021 16:45:00 +0800`, no
   weekday, no seconds, two-digit years, `06-Sep-2021`, `+08:00`, `GMT+8`, obsolete zone
   names such as EST/PDT/GMT/UT, a trailing `(CST)` comment);
2. RFC 3339 / ISO 8601 / W3C-DTF and the forms Chinese sites write (`2021-09-06 16:45:00`,
   `2021/9/6 16:45`, `2021年09月06日 16:45`, a bare date);
3. anything else python-dateutil can read, when the string names a four-digit year.

The result is timezone-aware when the string gives a zone and naive when it does not, so the
caller can apply the source's own time zone. `CST` is ambiguous: RFC 822 says US Central
(-06:00); Chinese sites mean China Standard Time (+08:00). The caller says which.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta, timezone

from dateutil import parser as du_parser

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}

# Zone names seen in feeds, as hours east of UTC. "CST" is decided by the caller.
_ZONES: dict[str, float] = {
    "UT": 0,
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "EST": -5,
    "EDT": -4,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "AKST": -9,
    "AKDT": -8,
    "HST": -10,
    "BST": 1,
    "WET": 0,
    "WEST": 1,
    "CET": 1,
    "CEST": 2,
    "MET": 1,
    "MEST": 2,
    "EET": 2,
    "EEST": 3,
    "MSK": 3,
    "HKT": 8,
    "SGT": 8,
    "AWST": 8,
    "CCT": 8,
    "JST": 9,
    "KST": 9,
    "AEST": 10,
    "AEDT": 11,
    "NZST": 12,
    "NZDT": 13,
}

_TZ = r"(?P<tz>[A-Za-z]{1,5}(?:\s*[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{1,2}(?::?\d{2})?)"
_TIME = (
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d+))?)?"
    r"(?:\s*(?P<ampm>[AaPp])\.?[Mm]\.?)?"
)

_RFC822 = re.compile(
    r"^(?:[A-Za-z]+\.?,?\s*)?"  # weekday, ignored (often wrong)
    r"(?P<d>\d{1,2})(?:st|nd|rd|th)?[\s\-/.]*(?P<mon>[A-Za-z]{3,})\.?[\s\-/.,]*(?P<y>\d{2,4})"
    r"(?:(?:\s+|\s*,\s*|T)" + _TIME + r")?"
    r"(?:\s*" + _TZ + r")?"
    r"(?:\s*\([^)]*\))?\s*$"
)
_MONTH_FIRST = re.compile(
    r"^(?:[A-Za-z]+\.?,?\s*)?"
    r"(?P<mon>[A-Za-z]{3,})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+"
    r"(?:(?P<y>\d{4})(?:\s+|\s*,\s*)" + _TIME + r"|" + _TIME.replace("?P<", "?P<x") + r"\s+"
    r"(?P<xy>\d{4}))"
    r"(?:\s*" + _TZ + r")?"
    r"(?:\s*\([^)]*\))?\s*$"
)
_ISO = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:\s*[Tt]\s*|\s+)" + _TIME + r")?"
    r"\s*(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?|(?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?)?\s*$"
)
_OFFSET = re.compile(
    r"^(?P<name>[A-Za-z]*)\s*(?:(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?)?$"
)
_HAS_YEAR = re.compile(r"(?<!\d)(?:1[89]|2[0-9])\d\d")


class _NoMatch(Exception):
    """This reader does not recognise the string; try the next one."""


def parse_date(value: str | None, *, cst_hours: float = -6) -> datetime | None:
    """Read a feed date string; aware if it names a zone, naive if not, None if unreadable."""
    if not value:
        return None
    text = " ".join(value.split())
    if not text:
        return None
    for reader in (_read_iso, _read_rfc822):
        try:
            return reader(text, cst_hours)
        except _NoMatch:
            continue
        except (ValueError, OverflowError):
            return None
    return _read_loose(text, cst_hours)


def _read_iso(text: str, cst_hours: float) -> datetime | None:
    m = _ISO.match(text)
    if not m:
        raise _NoMatch
    tz = _zone(m.group("tz"), cst_hours)
    return _build(int(m.group("y")), int(m.group("m")), int(m.group("d")), m, "", tz)


def _read_rfc822(text: str, cst_hours: float) -> datetime | None:
    m = _RFC822.match(text)
    prefix = ""
    if not m:
        m = _MONTH_FIRST.match(text)
        if not m:
            raise _NoMatch
        if m.group("y") is None:
            prefix = "x"
    month = _MONTHS.get(m.group("mon")[:3].lower())
    if month is None:
        raise _NoMatch
    tz = _zone(m.group("tz"), cst_hours)
    year_text = m.group("xy") if prefix else m.group("y")
    year = int(year_text)
    if len(year_text) == 2:
        year += 2000 if year < 50 else 1900
    elif len(year_text) == 3:
        year += 1900
    return _build(year, month, int(m.group("d")), m, prefix, tz)


def _build(
    year: int, month: int, day: int, m: re.Match[str], prefix: str, tz: timezone | None
) -> datetime | None:
    hour_text = m.group(prefix + "H")
    hour = minute = second = micro = 0
    if hour_text is not None:
        hour, minute = int(hour_text), int(m.group(prefix + "M"))
        second = int(m.group(prefix + "S") or 0)
        micro = int((m.group(prefix + "F") or "0")[:6].ljust(6, "0"))
        ampm = m.group(prefix + "ampm")
        if ampm:
            if hour > 12 or hour == 0:
                return None
            hour = hour % 12 + (12 if ampm in "Pp" else 0)
        if second == 60:  # a leap second: keep the date readable
            second = 59
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None


_ZONE_CACHE: dict[tuple[str, float], timezone | None] = {}


def _zone(name: str | None, cst_hours: float) -> timezone | None:
    """A zone string → tzinfo; None for "no zone given"; ValueError for a zone we cannot read."""
    if not name:
        return None
    key = (name, cst_hours)
    if key in _ZONE_CACHE:
        return _ZONE_CACHE[key]
    found = _read_zone(name, cst_hours)  # raises ValueError before anything is cached
    if len(_ZONE_CACHE) > 1000:
        _ZONE_CACHE.clear()
    _ZONE_CACHE[key] = found
    return found


def _read_zone(name: str, cst_hours: float) -> timezone | None:
    m = _OFFSET.match(name.strip())
    if not m:
        raise ValueError(name)
    label = m.group("name").upper()
    hours: float = 0
    if label:
        if label == "CST":
            hours = cst_hours
        elif label in _ZONES:
            hours = _ZONES[label]
        elif m.group("sign"):
            raise ValueError(name)
        else:  # unknown or military names: their meaning is unreliable, so no zone
            return None
    if m.group("sign"):
        if label and label not in ("GMT", "UTC", "UT"):
            raise ValueError(name)
        h, mins = int(m.group("h")), int(m.group("m") or 0)
        if h > 14 or mins > 59:
            raise ValueError(name)
        offset = h * 60 + mins
        hours = (offset if m.group("sign") == "+" else -offset) / 60
    if hours == 0:
        return UTC
    return timezone(timedelta(minutes=round(hours * 60)))


def _read_loose(text: str, cst_hours: float) -> datetime | None:
    if not _HAS_YEAR.search(text):
        return None
    zones = {k: int(v * 3600) for k, v in _ZONES.items()}
    zones["CST"] = int(cst_hours * 3600)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = du_parser.parse(text, tzinfos=zones, default=datetime(1900, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return None
    if found.year == 1900:
        return None
    return found
