"""The Atom 1.0 half of the generated feed documents (see tests/feed_variants.py)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from tests.feed_variants import DATES_ISO, NS, Variant


class AtomVariant(Variant):
    """Builds one random Atom 1.0 document."""

    # ---------------------------------------------------------------- Atom

    def atom_text(self, tag: str) -> str:
        """An Atom text construct: plain, type text, html or xhtml."""
        kind = self.pick(["", "text", "html", "xhtml"])
        t = self.text()
        if kind == "xhtml":
            inner = self.pick(
                [
                    f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(t)} <b>bold</b></div>',
                    f'<xhtml:div xmlns:xhtml="http://www.w3.org/1999/xhtml" class="c">'
                    f"<xhtml:p>{escape(t)}</xhtml:p><xhtml:br/></xhtml:div>",
                    f'<div xmlns="http://www.w3.org/1999/xhtml"><p Class="A" rel="NoFollow">'
                    f'{escape(t)} &amp; &lt;x&gt;</p></div> <div xmlns="http://www.w3.org/1999/xhtml">2</div>',
                    f'  <div xmlns="http://www.w3.org/1999/xhtml">\n  <p>{escape(t)}</p>\n  '
                    f'<a href="rel/link.html" title="x &quot;y&quot;">l</a>\n</div>\n ',
                ]
            )
            return f'<{tag} type="xhtml">{inner}</{tag}>'
        if kind == "html":
            markup = self.body_markup() if tag != "title" else escape("<i>" + t + "</i> &amp;")
            return f'<{tag} type="html">{markup}</{tag}>'
        attr = ' type="text"' if kind == "text" else ""
        return f"<{tag}{attr}>{escape(t)}</{tag}>"

    def atom_entry(self) -> str:
        """One Atom entry."""
        parts = []
        if self.maybe(0.9):
            ids = [
                "urn:uuid:1225c695-cfb8",
                "tag:example.com,2021:9",
                "http://example.com/e/1",
                "42",
            ]
            parts.append(f"<id>{self.pick(ids)}</id>")
        if self.maybe(0.9):
            parts.append(self.atom_text("title"))
        for _ in range(self.rng.randrange(4)):
            rel = self.pick(
                ["", ' rel="alternate"', ' rel="enclosure"', ' rel="related"', ' rel="self"']
            )
            typ = self.pick(
                [
                    "",
                    ' type="text/html"',
                    ' type="audio/mpeg"',
                    ' type="text/plain"',
                    ' type="HTML"',
                ]
            )
            extra = self.pick(["", ' length="999"', ' title="Audio"', ' hreflang="zh"'])
            href = self.pick(
                ["http://example.com/e/1.html", "rel/path.html", "/abs/path.mp3", "../up.html"]
            )
            parts.append(f'<link{rel}{typ}{extra} href="{href}"/>')
        if self.maybe(0.8):
            parts.append(f"<updated>{self.pick(DATES_ISO)}</updated>")
        if self.maybe(0.5):
            parts.append(f"<published>{self.pick(DATES_ISO)}</published>")
        for _ in range(self.rng.randrange(3)):
            who = [f"<name>{escape(self.pick(['Jane', '张三', 'Bob Smith']))}</name>"]
            if self.maybe(0.15):
                who = []
            if self.maybe(0.5):
                who.append("<email>jane@example.com</email>")
            if self.maybe(0.3):
                who.append("<uri>http://example.com/~jane</uri>")
            parts.append("<author>" + "".join(who) + "</author>")
        for _ in range(self.rng.randrange(4)):
            term = self.pick(["news", "政策", "tech"])
            label = self.pick(["", ' label="News &amp; Views"', ' label="政策解读"'])
            scheme = self.pick(["", ' scheme="http://example.com/tags"'])
            parts.append(f'<category term="{term}"{label}{scheme}/>')
        if self.maybe(0.7):
            parts.append(self.atom_text("summary"))
        if self.maybe(0.6):
            content = self.atom_text("content")
            if self.maybe(0.2):
                extra = self.pick(
                    [' xml:base="http://c.example.com/"', ' xml:lang="fr"', ' xml:base="c/"']
                )
                content = content.replace("<content", "<content" + extra, 1)
            parts.append(content)
        if self.maybe(0.05):
            parts.append('<content src="http://example.com/out.html" type="text/html"/>')
        if self.maybe(0.1):
            parts.append("<rights>© 2021</rights>")
        if self.maybe(0.1):
            parts.append("<contributor><name>Helper</name></contributor>")
        parts += self.ext(True)
        attrs = ""
        if self.maybe(0.2):
            attrs += ' xml:base="' + self.pick(["http://example.org/blog/", "sub/", "/root/"]) + '"'
        if self.maybe(0.15):
            attrs += ' xml:lang="' + self.pick(["zh-CN", "en_US", ""]) + '"'
        return f"<entry{attrs}>\n{self.shuffled(parts)}\n</entry>"

    def atom(self) -> str:
        """A whole Atom 1.0 document."""
        head = [
            self.atom_text("title"),
            "<id>"
            + self.pick(["urn:uuid:60a76c80", "http://example.com/", "tag:example.com,2021:feed"])
            + "</id>",
            f"<updated>{self.pick(DATES_ISO)}</updated>",
        ]
        if self.maybe(0.8):
            head.append(
                '<link rel="alternate" type="text/html" href="'
                + self.pick(["http://example.com/", "/home", "index.html"])
                + '"/>'
            )
        if self.maybe(0.5):
            head.append('<link rel="self" href="http://example.com/atom.xml"/>')
        if self.maybe(0.5):
            head.append("<author><name>Site</name><email>site@example.com</email></author>")
        if self.maybe(0.3):
            head.append(self.atom_text("subtitle").replace(' type="xhtml"', ""))
        if self.maybe(0.3):
            head.append('<generator uri="http://example.com/gen" version="1.0">Gen</generator>')
        entries = [self.atom_entry() for _ in range(self.rng.randrange(6))]
        ns = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items() if k not in ("atom", "rdf"))
        attrs = ""
        if self.maybe(0.4):
            attrs += ' xml:lang="' + self.pick(["zh-CN", "en", "en_GB"]) + '"'
        if self.maybe(0.3):
            attrs += (
                ' xml:base="' + self.pick(["http://example.com/", "http://example.com/a/b/"]) + '"'
            )
        body = self.shuffled(head) + "\n" + "\n".join(entries)
        return (
            f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
            f"{ns}{attrs}>\n{body}\n</feed>\n"
        )
