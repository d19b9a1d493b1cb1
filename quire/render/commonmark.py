"""The default Markdown engine: CommonMark + GFM on pulldown-cmark (PyPI `pyromark`).

One function, `to_html(text, settings) -> (html, headings)`. The Rust parser does the
Markdown (CommonMark, tables, strikethrough, task lists, footnotes, definition lists,
heading attributes, GitHub alerts, math); quire's rules go on top (the shared ones from
`render/markdown.py`):

- heading ids as Hugo/Goldmark make them (`{#custom}` wins), returned for the TOC;
- code blocks through Pygments (`markdown.highlight_block`, Hugo fence attributes);
- GitHub alerts as `<div class="callout callout-note">` with a title;
- footnotes collected at the end, markup as Python-Markdown's footnotes extension;
- bare URLs / www. / e-mail addresses linked (GFM extended autolinks) in text outside
  links, code and raw HTML;
- smart punctuation in text only (never code, URLs, attributes or raw HTML);
- math kept verbatim (`$x$`, `$$x$$`) in `<span class="math math-inline|math-display">`.

Two paths, one output. `fast` takes pulldown-cmark's own HTML (`html()`, ~0.04 ms a post)
and finishes it with a few regex passes; it serves ordinary posts. `walk` writes the HTML
from the parser's event stream (one Python object per event: ~10x slower) and serves
what the passes do not finish exactly: raw HTML, footnotes, alerts, math, Hugo fence
attributes, `&lt;` or numeric entities, odd headings. `render` tries `fast`, then `walk`;
tests/test_commonmark_fast.py holds them to the same bytes.

Raw HTML passes through untouched (authors are trusted). Everything is linear in the
input: the parser is, the walk is one pass over the events, the passes are regexes
without backtracking; so unlike Python-Markdown no pieces and no deadline are needed.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from urllib.parse import quote

import pyromark

from quire.config import MarkdownSettings
from quire.render.markdown import (
    CODE_CSS_CLASS,
    Heading,
    MarkdownFailure,
    esc,
    heading_id,
    highlight_block,
    parse_info,
    smart_text,
    unique_id,
)

_O = pyromark.Options
OPTIONS = (
    _O.ENABLE_TABLES
    | _O.ENABLE_FOOTNOTES
    | _O.ENABLE_STRIKETHROUGH
    | _O.ENABLE_TASKLISTS
    | _O.ENABLE_HEADING_ATTRIBUTES
    | _O.ENABLE_MATH
    | _O.ENABLE_GFM
    | _O.ENABLE_DEFINITION_LIST
)
_PARSER = pyromark.Markdown(options=OPTIONS)

ALERT_TITLES = {
    "Note": "Note",
    "Tip": "Tip",
    "Important": "Important",
    "Warning": "Warning",
    "Caution": "Caution",
}


_HREF_SAFE = "-_.!~*'();/?:@&=+$,%#"


_PLAIN_URL = re.compile(r"[A-Za-z0-9\-_.!~*'();/?:@=+$,%#]*")  # nothing to encode or escape


def _may_link(text: str) -> bool:
    """A text node linkify may change (three substring scans: a regex alternation with no
    literal prefix costs more than all three on a paragraph)."""
    return "://" in text or "www." in text or "@" in text


def esc_href(url: str) -> str:
    """Percent-encode what may not stand in a URL (keeping existing %XX), then HTML-escape."""
    if _PLAIN_URL.fullmatch(url):
        return url
    return esc(quote(url, safe=_HREF_SAFE))


# ---------------------------------------------------------------- extended autolinks (GFM)

_AUTOLINK = re.compile(
    r"(?:(?<![\w@.+-])(?:https?://|ftp://|www\.)[^\s<]*)"
    r"|(?:(?<![\w@.+/-])[A-Za-z0-9.+_-]+@[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+)"
)
_DOMAIN = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
_ENTITY_END = re.compile(r"&[A-Za-z0-9]+;$")
_AUTOLINK_BEFORE = frozenset(" \t\n*_~(")


def _trim_url(url: str) -> str:
    """GFM's trailing-punctuation rules for extended autolinks."""
    while url:
        last = url[-1]
        if last in "?!.,:*_~'\"" or last == ")" and url.count(")") > url.count("("):
            url = url[:-1]
        elif last == ";" and (m := _ENTITY_END.search(url)):
            url = url[: m.start()]
        else:
            break
    return url


def _valid_domain(rest: str) -> bool:
    m = _DOMAIN.match(rest)
    if not m:
        return False
    parts = m.group(0).split(".")
    return "_" not in "".join(parts[-2:])


def linkify(text: str, before: str) -> list[tuple[str, str | None]]:
    """Split a text node into (text, None) and (link text, href) pieces."""
    if "://" not in text and "www." not in text and "@" not in text:
        return [(text, None)]
    pieces: list[tuple[str, str | None]] = []
    last = 0
    for m in _AUTOLINK.finditer(text):
        start = m.start()
        prev = text[start - 1] if start else before
        if prev not in _AUTOLINK_BEFORE and not (start == 0 and before == ""):
            continue
        link = _link_target(m.group(0))
        if link is None:
            continue
        found, href = link
        pieces.append((text[last:start], None))
        pieces.append((found, href))
        last = start + len(found)
    if not pieces:
        return [(text, None)]
    pieces.append((text[last:], None))
    return pieces


def _link_target(found: str) -> tuple[str, str] | None:
    """An extended-autolink candidate -> (the linked text, its href), or None."""
    if "@" in found and not found.startswith(("http", "ftp", "www.")):
        if found[-1] == ".":
            found = found[:-1]
        if found[-1] in "-_" or "." not in found.split("@", 1)[1]:
            return None
        return found, "mailto:" + found
    found = _trim_url(found)
    rest = found.split("://", 1)[1] if "://" in found else found
    if not _valid_domain(rest) or (found.startswith("www.") and len(rest) <= 4):
        return None
    if "://" in found and len(rest) == 0:
        return None
    return found, (found if "://" in found else "http://" + found)


def plain_block(code: str, info: str) -> str:
    lang, _ = parse_info(info)
    cls = f' class="language-{esc(lang)}"' if lang else ""
    return f"<pre><code{cls}>{esc(code)}</code></pre>\n"


# ---------------------------------------------------------------- text runs (both paths)


def emit_text(value: str, before: str, smart: bool, linkable: bool) -> tuple[str, str]:
    """One run of text as HTML: bare URLs linked (when `linkable`), the rest smartened and
    escaped; returns the HTML and the run's last character (the next run's `before`)."""
    if not (linkable and _may_link(value)):
        return (esc(smart_text(value, before)) if smart else esc(value)), value[-1]
    parts = []
    for piece, href in linkify(value, before):
        if not piece:
            continue
        if href is not None:
            parts.append(f'<a href="{esc_href(href)}">{esc(piece)}</a>')
        elif smart:
            parts.append(esc(smart_text(piece, before)))
        else:
            parts.append(esc(piece))
        before = piece[-1]
    return "".join(parts), before


def to_html(text: str, settings: MarkdownSettings) -> tuple[str, list[Heading]]:
    """Markdown -> (HTML, headings in document order with their ids)."""
    return render(text, smart=settings.smart)


def render(
    text: str,
    *,
    smart: bool,
    highlight: bool = True,
    css_class: str = CODE_CSS_CLASS,
    autolink: bool = True,
) -> tuple[str, list[Heading]]:
    """to_html with the knobs the spec tests turn: plain `<pre><code>` without
    highlighting, and plain CommonMark without GFM's bare-URL links.

    pulldown-cmark's own HTML, finished by a few passes (`fast`), when the body holds
    nothing those passes cannot finish exactly as the event walk would; else the walk."""
    knobs = {"smart": smart, "highlight": highlight, "css_class": css_class, "autolink": autolink}
    try:
        return fast(text, **knobs) or walk(text, **knobs)
    except BaseException as err:  # pyo3's PanicException is no Exception
        if type(err).__name__ != "PanicException":
            raise
        raise MarkdownFailure(
            "the Markdown parser (pulldown-cmark) crashed on this body; "
            f'rewrite the construct it stops at, or use engine = "python-markdown" ({err})'
        ) from None


# ---------------------------------------------------------------- the fast path
#
# pulldown-cmark's html() differs from quire's output in known places, each finished here
# by a regex pass over its HTML: heading ids, smart punctuation and bare-URL links in text,
# code blocks (Pygments), table and task-list markup, a few attribute escapes. Raw HTML,
# footnotes, alerts, math, entities for '<' or numeric ones, and fence info strings beyond
# one plain word are left to the walk (the checks below are cheap and conservative):
# tests/test_commonmark_fast.py renders the spec examples and the bench corpus both ways
# and requires the same bytes wherever the fast path answers.


class _Fallback(Exception):
    """The fast path met something it cannot finish exactly: the walk renders the body."""


_ENTITY_LT = re.compile(r"&(?:#|[lL][tT];)")  # numeric entities, &lt;: '<' not from source '<'
_PLAIN_INFO = re.compile(r"[\w+#.-]*")
_ALT_LT = re.compile(r'alt="[^"]*&lt;')
_WALK_MARKERS = ("footnote-", "markdown-alert-", 'class="math math-')


def fast(
    text: str, *, smart: bool, highlight: bool, css_class: str, autolink: bool
) -> tuple[str, list[Heading]] | None:
    """The body through pulldown-cmark's html() and quire's passes, or None (use `walk`)."""
    if "[^" in text or "[!" in text:
        return None  # footnotes, alerts (likely): straight to the walk, html() would be wasted
    if "&" in text and _ENTITY_LT.search(text):
        return None
    if ("```" in text or "~~~" in text) and not _plain_fences(text):
        return None
    out = _PARSER.html(text)
    # Every '<' of the source escaped means no raw HTML, no autolink, no <dest> (but
    # pulldown-cmark escapes raw HTML in an image's alt text, which the walk drops).
    if out.count("&lt;") != text.count("<") or any(m in out for m in _WALK_MARKERS):
        return None
    if "<img" in out and (_ALT_LT.search(out) or "\\\n" in text or "  \n" in text):
        return None  # an alt text with '<' or a line break: the walk writes it differently
    try:
        out, found = _heading_ids(out)
        out = _text_pass(out, smart, autolink)
        out = _markup_pass(out)
        out = _code_pass(out, highlight, css_class)
        headings = _collect_headings(out, found)
    except _Fallback:
        return None
    return out, headings


def _plain_fences(text: str) -> bool:
    """Every run of 3+ backticks or tildes followed on its line by one plain word at most
    (pulldown-cmark writes only the info string's first word; Hugo attributes need it all)."""
    for mark in ("```", "~~~"):
        i = text.find(mark)
        while i != -1:
            j = i + 3
            while text.startswith(mark[0], j):
                j += 1
            eol = text.find("\n", j)
            eol = len(text) if eol == -1 else eol
            if not _PLAIN_INFO.fullmatch(text[j:eol].strip()):
                return False
            i = text.find(mark, eol)
    return True


def _unesc(value: str) -> str:
    """pulldown-cmark's text escaping undone (& < > in text; also " and ' in attributes)."""
    if "&" not in value:
        return value
    return (
        value.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
    )


_HEADING = re.compile(r"<h([1-6])([^>]*)>(.*?)</h\1>", re.DOTALL)
_CUSTOM_ID = re.compile(r' id="([^"]*)"')
_TAGS = re.compile(r"<[^>]*>")
_HEADING_WALK = re.compile(r"<(?:img|br|sup|span|input)\b")  # plain text differs: walk


def _heading_ids(out: str) -> tuple[str, list[tuple[int, str, str]]]:
    """Ids as the walk makes them (from the unsmartened text), written into the tags."""
    if "<h" not in out:
        return out, []
    seen: dict[str, int] = {}
    found: list[tuple[int, str, str]] = []

    def one(m: re.Match) -> str:
        level, attrs, inner = m.groups()
        custom = _CUSTOM_ID.fullmatch(attrs) if attrs else None
        if attrs and not custom:
            raise _Fallback
        plain = inner
        if "<" in plain:
            if _HEADING_WALK.search(plain):
                raise _Fallback
            plain = _TAGS.sub("", plain)
        plain = _unesc(plain).replace("\n", " ")
        if custom and custom.group(1):
            hid = unique_id(_unesc(custom.group(1)), seen)
        else:
            hid = heading_id(plain, seen)
        found.append((int(level), hid, plain))
        return f'<h{level} id="{esc(hid)}">{inner}</h{level}>'

    return _HEADING.sub(one, out), found


_HEADING_DONE = re.compile(r'<h([1-6]) id="[^"]*">(.*?)</h\1>', re.DOTALL)


def _collect_headings(out: str, found: list[tuple[int, str, str]]) -> list[Heading]:
    if not found:
        return []
    inners = [m.group(2) for m in _HEADING_DONE.finditer(out)]
    if len(inners) != len(found):
        raise _Fallback
    return [
        Heading(level, hid, inner, plain)
        for (level, hid, plain), inner in zip(found, inners, strict=True)
    ]


# A run of text (after a tag's '>') holding something to change: the run is scanned with
# possessive loops (no backtracking), looking closer only at a trigger's first character.
_SEGMENT = {
    (True, True): re.compile(
        r""">[^<"'\-.:w@]*+(?:(?:-(?!-)|\.(?!\.\.)|:(?!//)|w(?!ww\.))[^<"'\-.:w@]*+)*+"""
        r"""(?:["'@]|--|\.\.\.|://|www\.)[^<]*"""
    ),
    (True, False): re.compile(
        r""">[^<"'\-.]*+(?:(?:-(?!-)|\.(?!\.\.))[^<"'\-.]*+)*+(?:["']|--|\.\.\.)[^<]*"""
    ),
    (False, True): re.compile(
        r""">[^<":w@]*+(?:(?::(?!//)|w(?!ww\.))[^<":w@]*+)*+(?:["@]|://|www\.)[^<]*"""
    ),
    (False, False): re.compile(r""">[^<"]*+"[^<]*"""),
}


def _text_pass(out: str, smart: bool, autolink: bool) -> str:
    """Smart punctuation, bare-URL links and quire's escaping, in the runs of text that
    need them (found by one regex; the rest of the HTML is left as it is)."""
    pieces: list[str] = []
    last = 0
    links: _Links | None = None
    for m in _SEGMENT[smart, autolink].finditer(out):
        start, end = m.start() + 1, m.end()
        if out.startswith("<code", out.rfind("<", 0, start)):
            continue  # code: the code pass escapes it
        raw = _unesc(out[start:end])
        linkable = False
        if autolink and _may_link(raw):
            links = links or _Links(out)
            linkable = not links.inside(start)
        pieces += (out[last:start], _segment(raw, _before(out, start), smart, linkable))
        last = end
    if not pieces:
        return out
    pieces.append(out[last:])
    return "".join(pieces)


def _segment(raw: str, before: str, smart: bool, linkable: bool) -> str:
    lines = raw.split("\n")
    for i, line in enumerate(lines):
        if i:
            before = " "  # a soft break
        if line:
            lines[i], before = emit_text(line, before, smart, linkable)
    return "\n".join(lines)


class _Links:
    """Where the <a> elements of a page are, to ask 'is this offset inside a link?' in
    log time (a search back per run of text would be quadratic on hostile input)."""

    def __init__(self, out: str):
        self.marks = [(m.start(), m.group(0) == "<a ") for m in _LINK_MARK.finditer(out)]
        self.offsets = [offset for offset, _ in self.marks]

    def inside(self, pos: int) -> bool:
        i = bisect_left(self.offsets, pos)
        return i > 0 and self.marks[i - 1][1]


_LINK_MARK = re.compile(r"<a |</a>")


_RESETS = frozenset({"p", "li", "td", "th", "dt", "dd", "br", "h1", "h2", "h3", "h4", "h5", "h6"})
_TRANSPARENT = frozenset(
    {"em", "/em", "strong", "/strong", "del", "/del", "a", "/a", "img", "input"}
)
_TAG_NAME = re.compile(r"</?[a-z0-9]+")


def _before(out: str, pos: int) -> str:
    """The walk's `before` at `pos`: the last character of text before it in the block
    (raw, not escaped), ' ' at a block's start or after a line break."""
    while pos:
        ch = out[pos - 1]
        if ch != ">":
            return "<" if ch == ";" and out.endswith("&lt;", 0, pos) else ch
        tag_start = out.rfind("<", 0, pos - 1)
        name = _TAG_NAME.match(out, tag_start).group(0)[1:]
        if name in _RESETS:
            return " "
        if name == "/code":
            opening = out.rfind(">", 0, tag_start)
            if opening + 1 < tag_start:
                return _before(out, tag_start)
            pos = out.rfind("<", 0, opening)
        elif name in _TRANSPARENT:
            pos = tag_start
        else:
            raise _Fallback
    return " "


_CHECKED = '<input disabled="" type="checkbox" checked=""/>\n'
_UNCHECKED = '<input disabled="" type="checkbox"/>\n'
_TABLE = re.compile(r"<table>.*?</table>\n", re.DOTALL)
_ALIGN_STYLE = re.compile(r' style="text-align: (left|center|right)"')
# pulldown-cmark starts a block on a new line; the walk writes it right after what came
# before when that did not end a line: text, an inline tag, <li>, <dd>.
_BLOCK_NEWLINE = re.compile(
    r"""\n(?:(?<=[^>\n]\n)|(?<=<li>\n)|(?<=<dd>\n)|(?<=</em>\n)|(?<=</strong>\n)|(?<=</a>\n)"""
    r"""|(?<=</del>\n)|(?<=</code>\n)|(?<=" />\n))(?=<(?:p|ul|ol|pre|blockquote|table|dl|hr|h[1-6])[ >])"""
)


def _markup_pass(out: str) -> str:
    """pulldown-cmark's markup where quire's differs: task boxes, tables, the new line
    it writes before a block inside a list item, ' in attributes, ^ in URLs."""
    if "<input " in out:
        out = out.replace(_CHECKED, '<input checked="" disabled="" type="checkbox" /> ')
        out = out.replace(_UNCHECKED, '<input disabled="" type="checkbox" /> ')
    if "<table>" in out:
        out = _TABLE.sub(_table, out)
    out = _BLOCK_NEWLINE.sub("", out)
    if "&#" in out:
        out = out.replace("&#39;", "'").replace("&#x27;", "'")
    if "^" in out:
        out = _URL_ATTR.sub(lambda m: m.group(0).replace("^", "%5E"), out)
    return out


_URL_ATTR = re.compile(r'(?:href|src)="[^"]*"')


def _table(m: re.Match) -> str:
    """pulldown-cmark writes a table on few lines, quire one tag a line (cells hold no
    new line), and no empty <tbody>."""
    t = m.group(0).replace("\n", "").replace("<tbody></tbody>", "")
    for tag in _TABLE_TAGS:
        t = t.replace(tag, tag + "\n")
    return _ALIGN_STYLE.sub(r' align="\1"', t)


_TABLE_TAGS = (
    "<table>",
    "<thead>",
    "<tbody>",
    "<tr>",
    "</th>",
    "</td>",
    "</tr>",
    "</thead>",
    "</tbody>",
    "</table>",
)


_CODE = re.compile(
    r'<pre><code(?: class="language-([^"]*)")?>([^<]*)</code></pre>\n|<code>([^<"]*"[^<]*)</code>'
)


def _code_pass(out: str, highlight: bool, css_class: str) -> str:
    """Code blocks through Pygments (or plain), `"` escaped in code spans."""
    if "<code" not in out:
        return out

    def one(m: re.Match) -> str:
        lang, code, span = m.groups()
        if span is not None:
            return "<code>" + span.replace('"', "&quot;") + "</code>"
        info = _unesc(lang or "")
        if highlight:
            return highlight_block(_unesc(code), info, css_class)
        return plain_block(_unesc(code), info)

    return _CODE.sub(one, out)


# ---------------------------------------------------------------- the walk


_SIMPLE_START = {
    "Emphasis": "<em>",
    "Strong": "<strong>",
    "Strikethrough": "<del>",
    "Superscript": "<sup>",
    "Subscript": "<sub>",
    "DefinitionList": "<dl>\n",
    "DefinitionListTitle": "<dt>",
    "DefinitionListDefinition": "<dd>",
    "Item": "<li>",
    "HtmlBlock": "",
}
_SIMPLE_END = {
    "Paragraph": "</p>\n",
    "Emphasis": "</em>",
    "Strong": "</strong>",
    "Strikethrough": "</del>",
    "Superscript": "</sup>",
    "Subscript": "</sub>",
    "DefinitionList": "</dl>\n",
    "DefinitionListTitle": "</dt>\n",
    "DefinitionListDefinition": "</dd>\n",
    "Item": "</li>\n",
    "HtmlBlock": "",
    "TableCell": "",
}
_RESET_BEFORE = frozenset({"Item", "DefinitionListTitle", "DefinitionListDefinition"})
_ALIGN = {
    "None": "",
    "Left": ' align="left"',
    "Center": ' align="center"',
    "Right": ' align="right"',
}


def walk(
    text: str,
    *,
    smart: bool,
    highlight: bool = True,
    css_class: str = CODE_CSS_CLASS,
    autolink: bool = True,
) -> tuple[str, list[Heading]]:
    """The event walk: every construct, one pass over pulldown-cmark's events."""
    return _Walk(smart, highlight, css_class, autolink).run(text)


class _Walk:
    """The walk's state and one method per kind of event (dispatch by dict)."""

    def __init__(self, smart: bool, highlight: bool, css_class: str, autolink: bool):
        self.smart, self.highlight, self.css_class, self.autolink = (
            smart, highlight, css_class, autolink,
        )  # fmt: skip
        self.body: list[str] = []
        self.out = self.body
        self.headings: list[Heading] = []
        self.seen_ids: dict[str, int] = {}
        self.before = " "  # last character of text in the current block
        self.link_depth = 0
        self.image_depth = 0
        self.image_alt: list[str] = []
        self.image_stack: list[dict] = []
        self.heading_start = -1
        self.heading_plain: list[str] = []
        self.heading_data: dict | None = None
        self.code_info: str | None = None
        self.code_parts: list[str] = []
        self.table_aligns: tuple[str, ...] = ()
        self.cell = 0
        self.in_head = False
        self.tbody_open = False
        self.footnote_defs: dict[str, str] = {}
        self.footnote_label: str | None = None
        self.footnote_numbers: dict[str, int] = {}
        self.footnote_refs: dict[str, int] = {}

    def run(self, text: str) -> tuple[str, list[Heading]]:
        kinds = self._KINDS
        for event in _PARSER.events(text):
            if type(event) is str:
                self.bare(event)
                continue
            ((kind, value),) = event.items()
            handler = kinds.get(kind)
            if handler is not None:
                handler(self, value)
        if self.footnote_numbers:
            self.body.append(_footnotes(self.footnote_numbers, self.footnote_defs))
        return "".join(self.body), self.headings

    # ------------------------------------------------ leaf events

    def bare(self, event: str) -> None:
        if event == "SoftBreak":
            if self.heading_start >= 0:
                self.heading_plain.append(" ")
            if self.image_depth:
                self.image_alt.append(" ")
            else:
                self.out.append("\n")
            self.before = " "
        elif event == "HardBreak":
            if not self.image_depth:
                self.out.append("<br />\n")
            self.before = " "
        else:  # Rule
            self.out.append("<hr />\n")

    def text(self, value: str) -> None:
        if self.code_info is not None:
            self.code_parts.append(value)
            return
        if not value:
            return
        if self.heading_start >= 0:
            self.heading_plain.append(value)
        if self.image_depth:
            self.image_alt.append(value)
            return
        linkable = self.autolink and not self.link_depth
        html, self.before = emit_text(value, self.before, self.smart, linkable)
        self.out.append(html)

    def code(self, value: str) -> None:
        if self.heading_start >= 0:
            self.heading_plain.append(value)
        if self.image_depth:
            self.image_alt.append(value)
        else:
            self.out.append(f"<code>{esc(value)}</code>")
            self.before = value[-1:] or self.before

    def html(self, value: str) -> None:
        if not self.image_depth:
            self.out.append(value)

    def inline_math(self, value: str) -> None:
        self.out.append(f'<span class="math math-inline">${esc(value)}$</span>')

    def display_math(self, value: str) -> None:
        self.out.append(f'<span class="math math-display">$${esc(value)}$$</span>')

    def footnote_reference(self, value: str) -> None:
        number = self.footnote_numbers.setdefault(value, len(self.footnote_numbers) + 1)
        count = self.footnote_refs[value] = self.footnote_refs.get(value, 0) + 1
        ref_id = f"fnref:{value}" if count == 1 else f"fnref{count}:{value}"
        self.out.append(
            f'<sup id="{esc(ref_id)}"><a class="footnote-ref" href="#fn:{esc(value)}">'
            f"{number}</a></sup>"
        )

    def task(self, value: bool) -> None:
        self.out.append(
            '<input checked="" disabled="" type="checkbox" /> '
            if value
            else '<input disabled="" type="checkbox" /> '
        )

    # ------------------------------------------------ Start

    def start(self, value) -> None:
        if type(value) is str:
            self.start_plain(value)
            return
        ((tag, data),) = value.items()
        handler = self._STARTS.get(tag)
        if handler is not None:  # MetadataBlock: not enabled
            handler(self, data)

    def start_plain(self, value: str) -> None:
        out = self.out
        if value == "Paragraph":
            out.append("<p>")
            self.before = " "
        elif self.image_depth:
            pass
        elif value == "TableHead":
            out.append("<thead>\n<tr>\n")
            self.in_head, self.cell = True, 0
        elif value == "TableRow":
            if not self.tbody_open:
                out.append("<tbody>\n")
                self.tbody_open = True
            out.append("<tr>\n")
            self.cell = 0
        elif value == "TableCell":
            tag = "th" if self.in_head else "td"
            aligns = self.table_aligns
            align = _ALIGN[aligns[self.cell]] if self.cell < len(aligns) else ""
            out.append(f"<{tag}{align}>")
            self.before = " "
        else:
            out.append(_SIMPLE_START[value])
            if value in _RESET_BEFORE:
                self.before = " "

    def start_heading(self, data: dict) -> None:
        self.heading_start = len(self.out)
        self.out.append("")  # the opening tag, written at the end (id from the text)
        self.heading_plain = []
        self.heading_data = data
        self.before = " "

    def start_code_block(self, data) -> None:
        self.code_info = data["Fenced"] if type(data) is dict else ""
        self.code_parts = []

    def start_link(self, data: dict) -> None:
        if self.image_depth:
            return
        self.link_depth += 1
        dest = data["dest_url"]
        if data["link_type"] == "Email" and not dest.startswith("mailto:"):
            dest = "mailto:" + dest
        title = data["title"]
        title_attr = f' title="{esc(title)}"' if title else ""
        self.out.append(f'<a href="{esc_href(dest)}"{title_attr}>')

    def start_image(self, data: dict) -> None:
        self.image_depth += 1
        if self.image_depth == 1:
            self.image_alt = []
            self.image_stack.append(data)

    def start_list(self, data) -> None:
        if data is None:
            self.out.append("<ul>\n")
        elif data == 1:
            self.out.append("<ol>\n")
        else:
            self.out.append(f'<ol start="{data}">\n')

    def start_block_quote(self, data) -> None:
        if data is None:
            self.out.append("<blockquote>\n")
            return
        title = ALERT_TITLES.get(data, data)
        self.out.append(
            f'<div class="callout callout-{data.lower()}">\n<p class="callout-title">{title}</p>\n'
        )

    def start_table(self, data) -> None:
        self.table_aligns = data
        self.tbody_open = False
        self.out.append("<table>\n")

    def start_footnote(self, data: str) -> None:
        self.footnote_label = data
        self.out = []

    # ------------------------------------------------ End

    def end(self, value) -> None:
        if type(value) is str:
            if self.image_depth and value != "Image":
                return
            handler = self._ENDS.get(value)
            if handler is None:
                self.out.append(_SIMPLE_END[value])
            else:
                handler(self)
            return
        ((tag, data),) = value.items()
        if tag == "Heading":
            self.end_heading(int(data[1]))
        elif tag == "List":
            self.out.append("</ol>\n" if data else "</ul>\n")
        elif tag == "BlockQuote":
            self.out.append("</blockquote>\n" if data is None else "</div>\n")

    def end_code_block(self) -> None:
        code = "".join(self.code_parts)
        if self.highlight:
            self.out.append(highlight_block(code, self.code_info or "", self.css_class))
        else:
            self.out.append(plain_block(code, self.code_info or ""))
        self.code_info = None

    def end_link(self) -> None:
        self.link_depth -= 1
        self.out.append("</a>")

    def end_image(self) -> None:
        self.image_depth -= 1
        if self.image_depth:
            return
        data = self.image_stack.pop()
        title = data["title"]
        title_attr = f' title="{esc(title)}"' if title else ""
        self.out.append(
            f'<img src="{esc_href(data["dest_url"])}" '
            f'alt="{esc("".join(self.image_alt))}"{title_attr} />'
        )

    def end_table_head(self) -> None:
        self.out.append("</tr>\n</thead>\n")
        self.in_head = False

    def end_table_row(self) -> None:
        self.out.append("</tr>\n")

    def end_table_cell(self) -> None:
        self.out.append("</th>\n" if self.in_head else "</td>\n")
        self.cell += 1

    def end_table(self) -> None:
        self.out.append("</tbody>\n</table>\n" if self.tbody_open else "</table>\n")

    def end_footnote(self) -> None:
        label = self.footnote_label
        if label is not None and label not in self.footnote_defs:
            self.footnote_defs[label] = "".join(self.out)
        self.out = self.body
        self.footnote_label = None

    def end_heading(self, level: int) -> None:
        out, start = self.out, self.heading_start
        inner = "".join(out[start + 1 :])
        plain = "".join(self.heading_plain)
        hd = self.heading_data or {}
        if hd.get("id"):
            hid = unique_id(hd["id"], self.seen_ids)
        else:
            hid = heading_id(plain, self.seen_ids)
        out[start] = f"<h{level}{_heading_attrs(hid, hd)}>"
        out.append(f"</h{level}>\n")
        self.headings.append(Heading(level, hid, inner, plain))
        self.heading_start = -1

    _KINDS = {
        "Text": text,
        "Start": start,
        "End": end,
        "Code": code,
        "Html": html,
        "InlineHtml": html,
        "InlineMath": inline_math,
        "DisplayMath": display_math,
        "FootnoteReference": footnote_reference,
        "TaskListMarker": task,
    }
    _STARTS = {
        "Heading": start_heading,
        "CodeBlock": start_code_block,
        "Link": start_link,
        "Image": start_image,
        "List": start_list,
        "BlockQuote": start_block_quote,
        "Table": start_table,
        "FootnoteDefinition": start_footnote,
    }
    _ENDS = {
        "CodeBlock": end_code_block,
        "Link": end_link,
        "Image": end_image,
        "TableHead": end_table_head,
        "TableRow": end_table_row,
        "TableCell": end_table_cell,
        "Table": end_table,
        "FootnoteDefinition": end_footnote,
    }


def _heading_attrs(hid: str, hd: dict) -> str:
    attrs = f' id="{esc(hid)}"'
    if hd.get("classes"):
        attrs += f' class="{esc(" ".join(hd["classes"]))}"'
    for key, val in hd.get("attrs", ()):
        attrs += f' {esc(key)}="{esc(val or "")}"'
    return attrs


def _footnotes(numbers: dict[str, int], defs: dict[str, str]) -> str:
    """Python-Markdown's footnote block (the theme styles .footnote and its links)."""
    items = []
    for label, number in numbers.items():
        content = defs.get(label)
        if content is None:
            continue
        back = (
            f'&#160;<a class="footnote-backref" href="#fnref:{esc(label)}" '
            f'title="Jump back to footnote {number} in the text">&#8617;</a>'
        )
        if content.endswith("</p>\n"):
            content = content[: -len("</p>\n")] + back + "</p>\n"
        else:
            content += f"<p>{back}</p>\n"
        items.append(f'<li id="fn:{esc(label)}">\n{content}</li>\n')
    if not items:
        return ""
    return '<div class="footnote">\n<hr>\n<ol>\n' + "".join(items) + "</ol>\n</div>\n"
