"""HTML normalisation for comparing renderers with the CommonMark spec's expected output.

Written for quire after the idea of the spec's own test normaliser (same purpose, our
code): two HTML fragments that a browser shows the same way normalise to the same string.

- whitespace runs in text collapse to one space, and whitespace next to a block-level tag
  goes, except inside <pre>;
- tags and attribute names are lowercased, attributes sorted, `<br />` equals `<br>`;
- character references are decoded and text re-escaped one way, so `"` equals `&quot;`
  and `&#x27;` equals `'`;
- highlighting wrappers are dropped when `unwrap_highlight` is on: a
  `<div class="codehilite|highlight">` around a <pre>, <span>s inside <pre>, and the class
  of a <code> inside <pre> (`language-x`), so Pygments output equals `<pre><code>`.
"""

from __future__ import annotations

from html.parser import HTMLParser

BLOCK_TAGS = frozenset(
    """address article aside blockquote body caption center col colgroup dd details dialog
    dir div dl dt fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6
    head header hgroup hr html iframe legend li link main menu menuitem meta nav noframes
    ol optgroup option p param pre script section source style summary table tbody td
    textarea tfoot th thead title tr track ul""".split()
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
HIGHLIGHT_CLASSES = frozenset({"codehilite", "highlight"})


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


class _Normaliser(HTMLParser):
    def __init__(self, unwrap_highlight: bool, ignore_heading_ids: bool):
        super().__init__(convert_charrefs=True)
        self.unwrap = unwrap_highlight
        self.no_heading_ids = ignore_heading_ids
        self.out: list[str] = []
        self.pre = 0
        self.strip_next = True
        self.div_depth = 0
        self.skipped_divs: list[int] = []

    # -- helpers
    def _block_edge(self) -> None:
        if self.out and not self.pre and not self.out[-1].startswith("<"):
            self.out[-1] = self.out[-1].rstrip()
        self.strip_next = True

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> str:
        parts = [f"<{tag}"]
        for name, value in sorted(attrs):
            parts.append(f' {name}="{_esc(value or "")}"')
        parts.append(">")
        return "".join(parts)

    # -- parser callbacks
    def handle_starttag(self, tag, attrs):
        if tag == "div":
            self.div_depth += 1
            classes = set((dict(attrs).get("class") or "").split())
            if self.unwrap and classes & HIGHLIGHT_CLASSES:
                self.skipped_divs.append(self.div_depth)
                self._block_edge()
                return
        if self.unwrap and self.pre:
            if tag == "span":
                return
            if tag == "code":
                attrs = [(k, v) for k, v in attrs if k != "class"]
        if self.no_heading_ids and tag in _HEADINGS:
            attrs = [(k, v) for k, v in attrs if k != "id"]
        if tag in BLOCK_TAGS:
            self._block_edge()
        self.out.append(self._tag(tag, attrs))
        if tag == "pre":
            self.pre += 1
        if tag in BLOCK_TAGS:
            self.strip_next = True

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "pre":
            self.pre -= 1

    def handle_endtag(self, tag):
        if tag == "div":
            if self.skipped_divs and self.skipped_divs[-1] == self.div_depth:
                self.skipped_divs.pop()
                self.div_depth -= 1
                self._block_edge()
                return
            self.div_depth = max(0, self.div_depth - 1)
        if self.unwrap and self.pre and tag == "span":
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag in BLOCK_TAGS:
            self._block_edge()
        self.out.append(f"</{tag}>")
        if tag in BLOCK_TAGS:
            self.strip_next = True

    def handle_data(self, data):
        if self.pre:
            self.out.append(_esc(data))
            return
        text = " ".join(data.split())
        if data[:1].isspace() and text:
            text = " " + text
        if data[-1:].isspace() and data.strip():
            text = text + " "
        if not data.strip():
            text = " "
        if self.strip_next:
            text = text.lstrip()
        if not text:
            return
        if self.out and not self.out[-1].startswith("<") and self.out[-1].endswith(" "):
            text = text.lstrip()
            if not text:
                return
        self.strip_next = False
        self.out.append(_esc(text))

    def handle_comment(self, data):
        self.out.append(f"<!--{data}-->")
        self.strip_next = False

    def handle_decl(self, decl):
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data):
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data):
        self.out.append(f"<![{data}]>")


def normalize(html: str, *, unwrap_highlight: bool = True, ignore_heading_ids: bool = False) -> str:
    parser = _Normaliser(unwrap_highlight, ignore_heading_ids)
    parser.feed(html)
    parser.close()
    result = "".join(parser.out)
    return result.strip()
