"""The default Markdown engine: CommonMark + GFM on pulldown-cmark (PyPI `pyromark`).

One function, `to_html(text, settings) -> (html, headings)`. The Rust parser does the
Markdown (CommonMark, tables, strikethrough, task lists, footnotes, definition lists,
heading attributes, GitHub alerts, math); this module walks its event stream once and
writes the HTML itself, which is where quire's rules go (the shared ones from
`render/markdown.py`):

- heading ids as Hugo/Goldmark make them (`{#custom}` wins), returned for the TOC;
- code blocks through Pygments (`markdown.highlight_block`, Hugo fence attributes);
- GitHub alerts as `<div class="callout callout-note">` with a title;
- footnotes collected at the end, markup as Python-Markdown's footnotes extension;
- bare URLs / www. / e-mail addresses linked (GFM extended autolinks) in text events
  outside links, code and raw HTML;
- smart punctuation in text events only (never code, URLs, attributes or raw HTML);
- math kept verbatim (`$x$`, `$$x$$`) in `<span class="math math-inline|math-display">`.

Raw HTML passes through untouched (authors are trusted). Everything is linear in the
input: the parser is, and the walk is one pass over the events with per-event work bounded
by the event's size; so unlike Python-Markdown no pieces and no deadline are needed.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pyromark

from quire.config import MarkdownSettings
from quire.render.markdown import (
    CODE_CSS_CLASS,
    Heading,
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
_MAY_LINK = re.compile(r"://|www\.|@")  # a text node linkify may change


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
        found = m.group(0)
        if "@" in found and not found.startswith(("http", "ftp", "www.")):
            if found[-1] == ".":
                found = found[:-1]
            if found[-1] in "-_" or "." not in found.split("@", 1)[1]:
                continue
            href = "mailto:" + found
        else:
            found = _trim_url(found)
            rest = found.split("://", 1)[1] if "://" in found else found
            if not _valid_domain(rest) or (found.startswith("www.") and len(rest) <= 4):
                continue
            if "://" in found and len(rest) == 0:
                continue
            href = found if "://" in found else "http://" + found
        pieces.append((text[last:start], None))
        pieces.append((found, href))
        last = start + len(found)
    if not pieces:
        return [(text, None)]
    pieces.append((text[last:], None))
    return pieces


def plain_block(code: str, info: str) -> str:
    lang, _ = parse_info(info)
    cls = f' class="language-{esc(lang)}"' if lang else ""
    return f"<pre><code{cls}>{esc(code)}</code></pre>\n"


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
_ALIGN = {
    "None": "",
    "Left": ' align="left"',
    "Center": ' align="center"',
    "Right": ' align="right"',
}


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
    highlighting, and plain CommonMark without GFM's bare-URL links."""
    out: list[str] = []
    body = out
    headings: list[Heading] = []
    seen_ids: dict[str, int] = {}

    # where we are
    before = " "  # last character of text in the current block (smart quotes, autolinks)
    link_depth = 0
    image_depth = 0
    image_alt: list[str] = []
    image_stack: list[dict] = []
    heading_start = -1
    heading_plain: list[str] = []
    heading_data: dict | None = None
    code_info: str | None = None
    code_parts: list[str] = []
    table_aligns: tuple[str, ...] = ()
    cell = 0
    in_head = False
    tbody_open = False
    footnote_defs: dict[str, str] = {}
    footnote_label: str | None = None
    footnote_numbers: dict[str, int] = {}
    footnote_refs: dict[str, int] = {}

    def put_text(value: str) -> None:
        nonlocal before
        if not value:
            return
        if heading_start >= 0:
            heading_plain.append(value)
        if image_depth:
            image_alt.append(value)
            return
        if not (autolink and not link_depth and _MAY_LINK.search(value)):
            out.append(esc(smart_text(value, before)) if smart else esc(value))
            before = value[-1]
            return
        for piece, href in linkify(value, before):
            if not piece:
                continue
            if href is not None:
                out.append(f'<a href="{esc_href(href)}">{esc(piece)}</a>')
            elif smart:
                out.append(esc(smart_text(piece, before)))
            else:
                out.append(esc(piece))
            before = piece[-1]

    for event in _PARSER.events(text):
        if type(event) is str:
            if event == "SoftBreak":
                if heading_start >= 0:
                    heading_plain.append(" ")
                if image_depth:
                    image_alt.append(" ")
                else:
                    out.append("\n")
                before = " "
            elif event == "HardBreak":
                if not image_depth:
                    out.append("<br />\n")
                before = " "
            else:  # Rule
                out.append("<hr />\n")
            continue
        ((kind, value),) = event.items()
        if kind == "Text":
            if code_info is not None:
                code_parts.append(value)
            else:
                put_text(value)
        elif kind == "Start":
            if type(value) is str:
                if value == "Paragraph":
                    out.append("<p>")
                    before = " "
                elif image_depth:
                    pass
                elif value == "TableHead":
                    out.append("<thead>\n<tr>\n")
                    in_head, cell = True, 0
                elif value == "TableRow":
                    if not tbody_open:
                        out.append("<tbody>\n")
                        tbody_open = True
                    out.append("<tr>\n")
                    cell = 0
                elif value == "TableCell":
                    tag = "th" if in_head else "td"
                    align = _ALIGN[table_aligns[cell]] if cell < len(table_aligns) else ""
                    out.append(f"<{tag}{align}>")
                    before = " "
                else:
                    out.append(_SIMPLE_START[value])
                    if value in ("Item", "DefinitionListTitle", "DefinitionListDefinition"):
                        before = " "
                continue
            ((tag, data),) = value.items()
            if tag == "Heading":
                heading_start = len(out)
                out.append("")  # the opening tag, written at the end (id from the text)
                heading_plain = []
                heading_data = data
                before = " "
            elif tag == "CodeBlock":
                code_info = data["Fenced"] if type(data) is dict else ""
                code_parts = []
            elif tag == "Link":
                if image_depth:
                    continue
                link_depth += 1
                dest = data["dest_url"]
                if data["link_type"] == "Email" and not dest.startswith("mailto:"):
                    dest = "mailto:" + dest
                title = data["title"]
                title_attr = f' title="{esc(title)}"' if title else ""
                out.append(f'<a href="{esc_href(dest)}"{title_attr}>')
            elif tag == "Image":
                image_depth += 1
                if image_depth == 1:
                    image_alt = []
                    image_stack.append(data)
            elif tag == "List":
                if data is None:
                    out.append("<ul>\n")
                elif data == 1:
                    out.append("<ol>\n")
                else:
                    out.append(f'<ol start="{data}">\n')
            elif tag == "BlockQuote":
                if data is None:
                    out.append("<blockquote>\n")
                else:
                    name = data.lower()
                    title = ALERT_TITLES.get(data, data)
                    out.append(
                        f'<div class="callout callout-{name}">\n'
                        f'<p class="callout-title">{title}</p>\n'
                    )
            elif tag == "Table":
                table_aligns = data
                tbody_open = False
                out.append("<table>\n")
            elif tag == "FootnoteDefinition":
                footnote_label = data
                out = []
            # MetadataBlock: not enabled
        elif kind == "End":
            if type(value) is str:
                if image_depth and value != "Image":
                    continue
                if value == "CodeBlock":
                    code = "".join(code_parts)
                    if highlight:
                        out.append(highlight_block(code, code_info or "", css_class))
                    else:
                        out.append(plain_block(code, code_info or ""))
                    code_info = None
                elif value == "Link":
                    link_depth -= 1
                    out.append("</a>")
                elif value == "Image":
                    image_depth -= 1
                    if image_depth == 0:
                        data = image_stack.pop()
                        title = data["title"]
                        title_attr = f' title="{esc(title)}"' if title else ""
                        out.append(
                            f'<img src="{esc_href(data["dest_url"])}" '
                            f'alt="{esc("".join(image_alt))}"{title_attr} />'
                        )
                elif value == "TableHead":
                    out.append("</tr>\n</thead>\n")
                    in_head = False
                elif value == "TableRow":
                    out.append("</tr>\n")
                elif value == "TableCell":
                    out.append("</th>\n" if in_head else "</td>\n")
                    cell += 1
                elif value == "Table":
                    out.append("</tbody>\n</table>\n" if tbody_open else "</table>\n")
                elif value == "FootnoteDefinition":
                    if footnote_label is not None and footnote_label not in footnote_defs:
                        footnote_defs[footnote_label] = "".join(out)
                    out = body
                    footnote_label = None
                else:
                    out.append(_SIMPLE_END[value])
                continue
            ((tag, data),) = value.items()
            if tag == "Heading":
                level = int(data[1])
                inner = "".join(out[heading_start + 1 :])
                plain = "".join(heading_plain)
                hd = heading_data or {}
                hid = unique_id(hd["id"], seen_ids) if hd.get("id") else heading_id(plain, seen_ids)
                attrs = f' id="{esc(hid)}"'
                if hd.get("classes"):
                    attrs += f' class="{esc(" ".join(hd["classes"]))}"'
                for key, val in hd.get("attrs", ()):
                    attrs += f' {esc(key)}="{esc(val or "")}"'
                out[heading_start] = f"<h{level}{attrs}>"
                out.append(f"</h{level}>\n")
                headings.append(Heading(level, hid, inner, plain))
                heading_start = -1
            elif tag == "List":
                out.append("</ol>\n" if data else "</ul>\n")
            elif tag == "BlockQuote":
                out.append("</blockquote>\n" if data is None else "</div>\n")
        elif kind == "Code":
            if heading_start >= 0:
                heading_plain.append(value)
            if image_depth:
                image_alt.append(value)
            else:
                out.append(f"<code>{esc(value)}</code>")
                before = value[-1:] or before
        elif kind == "Html" or kind == "InlineHtml":
            if image_depth:
                continue
            out.append(value)
        elif kind == "InlineMath":
            out.append(f'<span class="math math-inline">${esc(value)}$</span>')
        elif kind == "DisplayMath":
            out.append(f'<span class="math math-display">$${esc(value)}$$</span>')
        elif kind == "FootnoteReference":
            number = footnote_numbers.setdefault(value, len(footnote_numbers) + 1)
            count = footnote_refs[value] = footnote_refs.get(value, 0) + 1
            ref_id = f"fnref:{value}" if count == 1 else f"fnref{count}:{value}"
            out.append(
                f'<sup id="{esc(ref_id)}"><a class="footnote-ref" href="#fn:{esc(value)}">'
                f"{number}</a></sup>"
            )
        elif kind == "TaskListMarker":
            out.append(
                '<input checked="" disabled="" type="checkbox" /> '
                if value
                else '<input disabled="" type="checkbox" /> '
            )

    if footnote_numbers:
        body.append(_footnotes(footnote_numbers, footnote_defs))
    return "".join(body), headings


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
