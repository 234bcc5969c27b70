"""Canonical URLs: one spelling per address, so the same story links the same way.

`canonical_url` runs these stages in order:

    resolve   join a relative reference to its base (RFC 3986, via urllib.parse)
    scheme    lower-cased; only http and https go further, others come back as given
    host      lower-cased, IDNA names in their ASCII (punycode) form, default port dropped
    path      "" becomes "/", dot segments removed, percent-encoding normalized
    query     tracking parameters removed (TRACKING_PARAMS, any utm_*), order kept,
              percent-encoding normalized
    fragment  removed, except "#!" routes, which name content on some sites

Percent-encoding is normalized without changing meaning: escapes of unreserved characters
(letters, digits, -._~) are decoded, other escapes get upper-case hex, characters a URI may
not hold (spaces, non-ASCII, quotes, a "%" that starts no escape) are percent-encoded as
UTF-8. Reserved characters (/?#[]@!$&'()*+,;=) are never decoded or encoded, so "%2F" stays.

`UrlBase` resolves many references on one base quickly (the links of one article's HTML),
with the same results as urllib's `urljoin`. The `idna` library lives here.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote_plus, urljoin, urlsplit, urlunsplit

import idna

TRACKING_PARAMS = frozenset(
    {
        "_ga",  # Google Analytics cross-domain
        "_gl",
        "_hsenc",  # HubSpot
        "_hsmi",
        "dclid",  # Google display ads
        "fbclid",  # Facebook
        "from",  # WeChat and many Chinese sites: from=timeline, from=singlemessage
        "gbraid",  # Google ads
        "gclid",
        "igshid",  # Instagram
        "isappinstalled",  # WeChat share links
        "mc_cid",  # Mailchimp
        "mc_eid",
        "mkt_tok",  # Marketo
        "msclkid",  # Microsoft ads
        "ref_src",  # Twitter
        "share",  # share=1 and the like on share links
        "spm",  # Alibaba / Taobao / Youku
        "wbraid",  # Google ads
        "yclid",  # Yandex
    }
)
"""Query parameter names (compared lower-cased) dropped from canonical URLs; `utm_*` too."""

TRACKING_PREFIXES = ("utm_",)
"""Query parameter name prefixes dropped from canonical URLs."""

WEB_SCHEMES = frozenset({"http", "https"})
"""Schemes whose URLs `canonical_url` rewrites; others are returned as given."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")

# Characters a URI may hold as they are: unreserved and reserved (RFC 3986 §2.2, §2.3).
_URI_CHARS = r"A-Za-z0-9\-._~!$&'()*+,;=:@/?\[\]"
_NEEDS_WORK = re.compile(rf"[^{_URI_CHARS}]|%")
_PERCENT_OR_BAD = re.compile(rf"%([0-9A-Fa-f]{{2}})?|[^{_URI_CHARS}%]+")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def canonical_url(url: str, base: str | None = None) -> str:
    """The canonical spelling of `url` (resolved against `base` when relative); never raises."""
    url = url.strip()
    if base and not _SCHEME.match(url):
        url = absolute_url(url, base)
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return url
    if parts.scheme not in WEB_SCHEMES or not parts.netloc:
        return url
    netloc = _canonical_netloc(parts)
    path = _canonical_path(parts.path)
    query = _canonical_query(parts.query)
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    return urlunsplit((parts.scheme, netloc, path, query, fragment))


def absolute_url(url: str, base: str | None) -> str:
    """`url` resolved against `base` (RFC 3986), or as given when it cannot be resolved."""
    url = url.strip()
    if not base:
        return url
    try:
        return urljoin(base, url)
    except ValueError:
        return url


class UrlBase:
    """A base URL split once, to resolve many references on it quickly (see `join`)."""

    __slots__ = ("directory", "no_fragment", "no_query", "origin", "scheme", "url")

    def __init__(self, url: str) -> None:
        self.url = url
        parts = urlsplit(url)  # raises ValueError for a malformed URL
        if not parts.scheme or not parts.netloc:
            raise ValueError(f"not an absolute URL: {url}")
        self.scheme = parts.scheme
        self.origin = f"{parts.scheme}://{parts.netloc}"
        path = parts.path or "/"
        self.directory = self.origin + path[: path.rfind("/") + 1]
        self.no_query = self.origin + path
        self.no_fragment = self.no_query + (f"?{parts.query}" if parts.query else "")

    def join(self, ref: str) -> str:
        """`ref` resolved on this base, as `absolute_url` would, but faster for common forms."""
        ref = ref.strip()
        if "\t" in ref or "\n" in ref or "\r" in ref:
            ref = ref.replace("\t", "").replace("\n", "").replace("\r", "")
        if _SCHEME.match(ref):
            return ref
        if ref.startswith("//"):
            return f"{self.scheme}:{ref}" if "/." not in ref else absolute_url(ref, self.url)
        if ref.startswith(".") or "/." in ref:
            return self._join_dotted(ref)
        if ref.startswith("/"):
            return self.origin + ref
        if not ref:
            return self.no_fragment
        if ref[0] == "?":
            return self.no_query + ref
        if ref[0] == "#":
            return self.no_fragment + ref
        return self.directory + ref

    def _join_dotted(self, ref: str) -> str:
        """A path reference with "." or ".." segments, resolved (RFC 3986 §5.2)."""
        cut = min((i for i in (ref.find("?"), ref.find("#")) if i >= 0), default=len(ref))
        path, rest = ref[:cut], ref[cut:]
        if not path.startswith("/"):
            path = self.directory[len(self.origin) :] + path
        return self.origin + _remove_dot_segments(path) + rest


def is_web_url(url: str) -> bool:
    """True when `url` is an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in WEB_SCHEMES and bool(parts.netloc)


def is_tracking_param(name: str) -> bool:
    """True when a query parameter of this (raw, possibly encoded) name only tracks clicks."""
    key = unquote_plus(name).strip().lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


# ---------------------------------------------------------------- parts


def _canonical_netloc(parts: SplitResult) -> str:
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    try:
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # a port that is not a number: keep what we were given
        return netloc.lower() if not at else f"{userinfo}@{hostport.lower()}"
    host = _ascii_host(host)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{port}"
    return f"{userinfo}@{host}" if at else host


def _ascii_host(host: str) -> str:
    """The host lower-cased, an internationalized name in its ASCII (punycode) form."""
    if host.isascii():
        return host.lower()
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        pass
    try:  # IDNA 2003, which accepts some names IDNA 2008 refuses (e.g. symbols)
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return host.lower()


def _canonical_path(path: str) -> str:
    if not path:
        return "/"
    if "/." in path or path.startswith("."):
        path = _remove_dot_segments(path)
    return _normalize_percent(path)


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    kept = [p for p in query.split("&") if p and not is_tracking_param(p.partition("=")[0])]
    return _normalize_percent("&".join(kept))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4: "/a/./b/../c" → "/a/c"."""
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1 or (out and out[0] != ""):
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return result


def _normalize_percent(component: str) -> str:
    """Percent-encoding normalized (see the module docstring); idempotent."""
    if _NEEDS_WORK.search(component) is None:
        return component
    return _PERCENT_OR_BAD.sub(_fix_escape, component)


def _fix_escape(match: re.Match[str]) -> str:
    text = match.group(0)
    if text[0] == "%":
        hexpair = match.group(1)
        if hexpair is None:
            return "%25"  # a "%" that starts no escape
        char = chr(int(hexpair, 16))
        return char if char in _UNRESERVED else "%" + hexpair.upper()
    return "".join(f"%{b:02X}" for b in text.encode("utf-8", "surrogatepass"))
