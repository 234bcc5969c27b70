"""The rules the fast path shares with the reference parser, as plain data and small functions.

The fast path (`parse_fast`) must give the same records as the feedparser path for every
document it accepts, so it follows the same conventions: which namespace URIs are known and
under which prefix, which element names get special treatment, how attribute names and
values are normalised, how URLs are joined against xml:base, how popped text is cleaned.
`tests/test_parse_diff.py` checks these tables against the reference parser itself.
"""

from __future__ import annotations

import contextlib
import re
import urllib.parse
from typing import Final, cast

from lxml import etree

# Namespace URI (lower-case) → the prefix element names are known by. "" means the core
# feed vocabulary (RSS, RDF site summary, Atom), whose elements are named bare.
NAMESPACES: Final[dict[str, str]] = {
    "": "",
    "http://backend.userland.com/rss": "",
    "http://blogs.law.harvard.edu/tech/rss": "",
    "http://purl.org/rss/1.0/": "",
    "http://my.netscape.com/rdf/simple/0.9/": "",
    "http://example.com/newformat#": "",
    "http://example.com/necho": "",
    "http://purl.org/echo/": "",
    "uri/of/echo/namespace#": "",
    "http://purl.org/pie/": "",
    "http://purl.org/atom/ns#": "",
    "http://www.w3.org/2005/atom": "",
    "http://purl.org/rss/1.0/modules/rss091#": "",
    "http://webns.net/mvcb/": "admin",
    "http://purl.org/rss/1.0/modules/aggregation/": "ag",
    "http://purl.org/rss/1.0/modules/annotate/": "annotate",
    "http://media.tangent.org/rss/1.0/": "audio",
    "http://backend.userland.com/blogchannelmodule": "blogChannel",
    "http://creativecommons.org/ns#license": "cc",
    "http://web.resource.org/cc/": "cc",
    "http://cyber.law.harvard.edu/rss/creativecommonsrssmodule.html": "creativeCommons",
    "http://backend.userland.com/creativecommonsrssmodule": "creativeCommons",
    "http://purl.org/rss/1.0/modules/company": "co",
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://my.theinfo.org/changed/1.0/rss/": "cp",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
    "http://purl.org/rss/1.0/modules/email/": "email",
    "http://purl.org/rss/1.0/modules/event/": "ev",
    "http://rssnamespace.org/feedburner/ext/1.0": "feedburner",
    "http://freshmeat.net/rss/fm/": "fm",
    "http://xmlns.com/foaf/0.1/": "foaf",
    "http://www.w3.org/2003/01/geo/wgs84_pos#": "geo",
    "http://www.georss.org/georss": "georss",
    "http://www.opengis.net/gml": "gml",
    "http://postneo.com/icbm/": "icbm",
    "http://purl.org/rss/1.0/modules/image/": "image",
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "http://example.com/dtds/podcast-1.0.dtd": "itunes",
    "http://purl.org/rss/1.0/modules/link/": "l",
    "http://search.yahoo.com/mrss": "media",
    "http://search.yahoo.com/mrss/": "media",
    "http://madskills.com/public/xml/rss/module/pingback/": "pingback",
    "http://prismstandard.org/namespaces/1.2/basic/": "prism",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs",
    "http://purl.org/rss/1.0/modules/reference/": "ref",
    "http://purl.org/rss/1.0/modules/richequiv/": "reqv",
    "http://purl.org/rss/1.0/modules/search/": "search",
    "http://purl.org/rss/1.0/modules/slash/": "slash",
    "http://schemas.xmlsoap.org/soap/envelope/": "soap",
    "http://purl.org/rss/1.0/modules/servicestatus/": "ss",
    "http://hacks.benhammersley.com/rss/streaming/": "str",
    "http://purl.org/rss/1.0/modules/subscription/": "sub",
    "http://purl.org/rss/1.0/modules/syndication/": "sy",
    "http://schemas.pocketsoap.com/rss/mydescmodule/": "szf",
    "http://purl.org/rss/1.0/modules/taxonomy/": "taxo",
    "http://purl.org/rss/1.0/modules/threading/": "thr",
    "http://purl.org/rss/1.0/modules/textinput/": "ti",
    "http://madskills.com/public/xml/rss/module/trackback/": "trackback",
    "http://wellformedweb.org/commentapi/": "wfw",
    "http://purl.org/rss/1.0/modules/wiki/": "wiki",
    "http://www.w3.org/1999/xhtml": "xhtml",
    "http://www.w3.org/1999/xlink": "xlink",
    "http://www.w3.org/xml/1998/namespace": "xml",
    "http://podlove.org/simple-chapters": "psc",
}
PREFIXES_LOWER: Final = frozenset(p.lower() for p in NAMESPACES.values() if p)

# Element names (prefix_local, lower-case) that the reference parser treats specially. Every
# other element is "generic": its text is stored under its own name and otherwise ignored.
SPECIAL: Final = frozenset(
    """abstract author body category cc_license channel cloud content content_encoded
    contributor copyright created creativecommons_license dc_author dc_contributor dc_creator
    dc_date dc_description dc_language dc_publisher dc_rights dc_subject dc_title
    dcterms_created dcterms_issued dcterms_modified dcterms_valid description email enclosure
    entry expirationdate feed feedburner_browserfriendly fullitem generator geom georss_box
    georss_line georss_point georss_polygon georss_where georssgeom gml_exterior
    gml_linearring gml_linestring gml_point gml_polygon gml_pos gml_poslist guid height
    homepage id image info issued item itunes_author itunes_block itunes_category itunes_email
    itunes_explicit itunes_image itunes_keywords itunes_link itunes_name itunes_owner
    itunes_subtitle itunes_summary keywords language lastbuilddate link managingeditor
    media_category media_content media_credit media_description media_group media_keywords
    media_license media_player media_rating media_restriction media_thumbnail media_title
    modified name newlocation psc_chapter psc_chapters pubdate published rights rss source
    subtitle summary tagline tags textinput title updated uri url webmaster where width
    xhtml_body""".split()  # noqa: SIM905
)
# Generic element names whose stored text would land on a key the field mapper reads.
DANGEROUS: Final = frozenset(
    """date authors links tags title_detail summary_detail description_detail author_detail
    content id link title summary published updated created language ttl guid description
    url""".split()  # noqa: SIM905
)
# Elements the feedparser path reads from the bytes itself (`parse.skip_values`): read here only
# where that reads them, and doubt anywhere else.
READ_FROM_BYTES: Final = frozenset({"skiphours", "skipdays"})

ACCEPTABLE_URI_SCHEMES: Final = (
    "file", "ftp", "gopher", "h323", "hdl", "http", "https", "imap", "magnet",
    "mailto", "mms", "news", "nntp", "prospero", "rsync", "rtsp", "rtspu",
    "sftp", "shttp", "sip", "sips", "snews", "svn", "svn+ssh", "telnet",
    "wais", "aim", "callto", "cvs", "facetime", "feed", "git", "gtalk", "irc", "ircs",
    "irc6", "itms", "mms", "msnim", "skype", "ssh", "smb", "svn", "ymsg",
)  # fmt: skip

HTML_TYPES: Final = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES: Final = frozenset({"text/plain", "text/html", "application/xhtml+xml"})
_TYPE_ALIASES: Final = {
    "text": "text/plain",
    "plain": "text/plain",
    "html": "text/html",
    "xhtml": "application/xhtml+xml",
}
# Attribute names that change how an element is read; one in an unknown namespace is doubt.
_MEANINGFUL_ATTRS: Final = frozenset(
    """base lang href url uri rel type term label scheme domain ispermalink length title src
    mode version lastmod""".split()  # noqa: SIM905
)
XHTML_NS: Final = "{http://www.w3.org/1999/xhtml}"
XML_NS: Final = "{http://www.w3.org/XML/1998/namespace}"


class Doubt(Exception):
    """The fast path cannot promise the reference result for this document."""


NAME_CACHE: dict[str, str] = {}


def element_name(el: etree._Element) -> str:
    """The element's name as the reference parser sees it: "title", "dc:creator", "x:foo"."""
    tag = el.tag
    name = NAME_CACHE.get(tag)
    if name is not None:
        return name
    if not isinstance(tag, str):
        raise Doubt("comment, processing instruction or entity node")
    if tag.startswith("{"):
        ns, local = tag[1:].split("}", 1)
    else:
        ns, local = "", tag
    lns = ns.lower()
    if "backend.userland.com/rss" in lns:
        lns = "http://backend.userland.com/rss"
    prefix = NAMESPACES.get(lns)
    if prefix is not None:
        name = f"{prefix.lower()}:{local.lower()}" if prefix else local.lower()
        if len(NAME_CACHE) > 5000:
            NAME_CACHE.clear()
        NAME_CACHE[tag] = name
        return name
    given = el.prefix
    if not given or given.lower() in PREFIXES_LOWER:
        raise Doubt(f"element {tag} in an unknown namespace")
    return f"{given.lower()}:{local.lower()}"


def items(el: etree._Element) -> list[tuple[str, str]]:
    """The element's attributes as (name, value) pairs of text."""
    return cast("list[tuple[str, str]]", el.items())


def handler_key(name: str) -> str:
    """The key under which a generic element's text is stored ("dc:foo" → "dc_foo")."""
    return name.replace(":", "_", 1)


_GENERIC: dict[str, bool] = {}


def is_generic(name: str) -> bool:
    """Does the reference give this element no special meaning (and store it harmlessly)?"""
    found = _GENERIC.get(name)
    if found is None:
        key = handler_key(name)
        found = key not in SPECIAL and key not in DANGEROUS and key not in READ_FROM_BYTES
        if len(_GENERIC) > 5000:
            _GENERIC.clear()
        _GENERIC[name] = found
    return found


def attributes(el: etree._Element) -> dict[str, str]:
    """The element's attributes keyed and valued as the reference parser normalises them."""
    found: dict[str, str] = {}
    for key, value in items(el):
        if key.startswith("{"):
            ns, local = key[1:].split("}", 1)
            prefix = NAMESPACES.get(ns.lower())
            if not prefix:  # core-vocabulary or unknown namespace: keyed twice there
                if local.lower() in _MEANINGFUL_ATTRS:
                    raise Doubt(f"attribute {key}")
                continue
            key = f"{prefix}:{local}"
        key = key.lower()
        if key in found:
            raise Doubt(f"duplicate attribute {key}")
        found[key] = value.lower() if key in ("rel", "type") else value
    return found


def content_type(attrs: dict[str, str], default: str) -> str:
    """The content type of a text construct; doubt for base64, escaped or binary content."""
    if "mode" in attrs:
        raise Doubt("mode attribute")
    kind = attrs.get("type", default).lower()
    kind = _TYPE_ALIASES.get(kind, kind)
    if kind not in TEXT_TYPES:
        raise Doubt(f"content type {kind}")
    return kind


def map_type(kind: str) -> str:
    """Normalise a type value the way link and content types are compared."""
    kind = kind.lower()
    return _TYPE_ALIASES.get(kind, kind)


def enforce_href(attrs: dict[str, str]) -> None:
    """Move url=/uri= to href=, as link and enclosure elements are read."""
    href = attrs.get("url", attrs.get("uri", attrs.get("href")))
    if href:
        attrs.pop("url", None)
        attrs.pop("uri", None)
        attrs["href"] = href


_SCHEME_SLASHES = re.compile(r"^([A-Za-z][A-Za-z0-9+,.\-]*://)/+")


def urljoin(base: str, uri: str) -> str:
    """Join like the reference parser: extra slashes after "scheme://" dropped, errors → ""."""
    if ":///" in uri:
        uri = _SCHEME_SLASHES.sub(r"\1", uri, count=1)
    if not base:
        return uri
    try:
        return urllib.parse.urljoin(base, uri)
    except ValueError:
        return ""


def safe_absolute(base: str, rel: str | None = None) -> str:
    """Join and keep the result only when its scheme is an acceptable one."""
    if not base:
        return rel or ""
    if not rel:
        try:
            scheme = urllib.parse.urlparse(base)[0]
        except ValueError:
            return ""
        return base if not scheme or scheme in ACCEPTABLE_URI_SCHEMES else ""
    uri = urljoin(base, rel)
    if uri.strip().split(":", 1)[0] not in ACCEPTABLE_URI_SCHEMES:
        return ""
    return uri


_C1 = re.compile("[\x80-\x9f]")
_CP1252: dict[int, str] = {}
for _code in range(0x80, 0xA0):
    with contextlib.suppress(UnicodeDecodeError):
        _CP1252[_code] = bytes([_code]).decode("cp1252")


def fix_text(text: str) -> str:
    """Undo UTF-8-read-as-Latin-1 and map C1 controls to Windows-1252, as popped text is."""
    if text.isascii():
        return text
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    if _C1.search(text):
        text = text.translate(_CP1252)
    return text


def fix_latin(text: str) -> str:
    """`fix_text` for documents known to hold no C1 control characters."""
    if text.isascii():
        return text
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    return text


_EMAIL = r"[A-Za-z0-9_.+\-]+@(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,4}"
_EMAIL_THEN_NAME = re.compile(rf"^({_EMAIL})(?:\s*\(([^@]*)\))?$")
_NAME_THEN_EMAIL = re.compile(rf"^([^@<>()&]*?)\s*(?:<({_EMAIL})>|\(({_EMAIL})\))$")


def split_author(text: str) -> tuple[str | None, str | None]:
    """An author string → (name, email): "Name", "email", "email (Name)", "Name <email>" or
    "Name (email)" (the last is how two-part authors are written back)."""
    if "@" not in text:
        return text, None
    m = _EMAIL_THEN_NAME.match(text)
    if m:
        name = m.group(2)
        if name is not None and ("()" in name or "<>" in name or "&lt;&gt;" in name):
            raise Doubt("author name with brackets")
        return (name.strip() or None) if name is not None else None, m.group(1)
    m = _NAME_THEN_EMAIL.match(text)
    if m:
        return m.group(1).strip() or None, m.group(2) or m.group(3)
    raise Doubt("author string with an unusual e-mail form")


def escape_text(text: str) -> str:
    """Escape &, < and > (character data in serialized XHTML)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(text: str) -> str:
    """Escape &, <, > and " (attribute values in serialized XHTML)."""
    return escape_text(text).replace('"', "&quot;")
