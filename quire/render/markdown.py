"""A post's Markdown body to HTML: what both engines share.

The engines (`render/commonmark.py`, the default, and `render/pymd.py`, Python-Markdown)
each sit behind one function, `to_html(text, settings) -> (html, headings)`. Around them,
the same for both: shortcodes (expanded before, restored after; a paired shortcode's
inner text goes through the same engine), code highlighting (Pygments, Hugo fence
attributes), heading ids as Hugo/Goldmark makes them, the table of contents built from
the rendered headings, smart punctuation (also for titles and summaries), the word count.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from quire.config import MarkdownSettings
from quire.model import RenderedBody, Shortcode
from quire.problems import Problem
from quire.render.shortcodes import expand_shortcodes, restore

CODE_CSS_CLASS = "codehilite"  # theme/css/pygments.css and style.css style this class
TOC_LEVELS = (2, 4)


@dataclass(frozen=True)
class Heading:
    level: int  # 1..6
    id: str
    html: str  # inner HTML, as rendered
    text: str  # plain text


class MarkdownFailure(Exception):
    """An engine gave up on a body (Python-Markdown's deadline); the message says why."""


Engine = Callable[[str, MarkdownSettings], tuple[str, list[Heading]]]


def engine(settings: MarkdownSettings) -> Engine:
    """The engine's one function; imported on first use (a build needs only one)."""
    if settings.engine == "python-markdown":
        from quire.render import pymd

        return pymd.to_html
    from quire.render import commonmark

    return commonmark.to_html


# ---------------------------------------------------------------- escaping


def esc(text: str) -> str:
    """Text and attribute values: & < > and " escaped (' is left alone)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


# ---------------------------------------------------------------- heading ids


_ID_DROP = re.compile(r"[^\w\s-]")  # \w: what str.isalnum() keeps, and '_'
_ID_SPACE = re.compile(r"\s")


def heading_id(text: str, seen: dict[str, int]) -> str:
    """Goldmark/Hugo ("github" style): lowercase, each white space to '-', letters,
    digits, '-' and '_' kept, the rest dropped; a repeat gets -1, -2, ..."""
    base = _ID_SPACE.sub("-", _ID_DROP.sub("", text.strip().lower()))
    return unique_id(base or "heading", seen)


def unique_id(base: str, seen: dict[str, int]) -> str:
    """`base`, or `base-1`, `base-2`... when taken; `seen` is the page's ids so far."""
    if base not in seen:
        seen[base] = 0
        return base
    n = seen[base]
    while True:
        n += 1
        candidate = f"{base}-{n}"
        if candidate not in seen:
            seen[base] = n
            seen[candidate] = 0
            return candidate


# ---------------------------------------------------------------- table of contents

_ANCHOR = re.compile(r"</?a\b[^>]*>", re.IGNORECASE)
_ID_ATTR = re.compile(r"""\s(?:id|name)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)


def _toc_label(inner: str) -> str:
    """A heading's HTML fit to sit inside the TOC's <a>: no links in links (a heading
    holding a link would nest <a>, which browsers split), and no duplicate ids."""
    if "<" not in inner:
        return inner
    return _ID_ATTR.sub("", _ANCHOR.sub("", inner))


def toc_html(headings: list[Heading], levels: tuple[int, int] = TOC_LEVELS) -> str:
    """A nested list of links to the headings between `levels` (h2-h4)."""
    low, high = levels
    chosen = [h for h in headings if low <= h.level <= high]
    if not chosen:
        return ""
    parts = ['<div class="toc">\n<ul>\n']
    stack = [chosen[0].level]
    for n, h in enumerate(chosen):
        if n:
            if h.level > stack[-1]:
                parts.append("\n<ul>\n")
                stack.append(h.level)
            else:
                parts.append("</li>\n")
                while len(stack) > 1 and h.level < stack[-1]:
                    stack.pop()
                    parts.append("</ul>\n</li>\n")
        parts.append(f'<li><a href="#{esc(h.id)}">{_toc_label(h.html)}</a>')
    parts.append("</li>\n")
    while len(stack) > 1:
        stack.pop()
        parts.append("</ul>\n</li>\n")
    parts.append("</ul>\n</div>\n")
    return "".join(parts)


# ---------------------------------------------------------------- smart punctuation

_OPENS_AFTER = frozenset(" \t\n([{<-\u2013\u2014\u201c\u2018/")
_DECADE = re.compile(r"'(?=\d\ds\b)")
_QUOTE = re.compile(r"[\"']")
# '---' not in a longer run of dashes; '--' only with white space (or the text's edge)
# on both sides. An option (--login, -rf, ---weird) is glued to a word: never touched.
_EM = re.compile(r"(?<!-)---(?!-)")
_EN = re.compile(r"(?<=\s)--(?=\s)")


def smart_text(text: str, before: str = " ") -> str:
    """Curly quotes and apostrophes, '...' to an ellipsis, '---' to an em dash, ' -- ' to
    an en dash, in one run of plain text. `before` is the character before the run (quote
    direction). Command-line options are left alone: `--login`, `-rf`, `---x`, a bare `--`
    at the end of a command (`git checkout -- file` is between spaces: see README)."""
    if "--" in text:
        text = _EM.sub(_em, text)
        text = _EN.sub("\u2013", text)
    if "..." in text:
        text = text.replace("...", "\u2026")
    if '"' not in text and "'" not in text:
        return text
    text = _DECADE.sub("\u2019", text)
    if "\x01" in text or "\x02" in text:
        return _curl_each(text, before)
    # A quote after an opener (white space, a bracket, a dash...) opens, any other closes:
    # openers marked first (\x01, \x02: no openers themselves, as the quote they stand for
    # was not), the rest closed, then the marks made opening quotes. No Python per quote.
    head = ""
    if text[0] in "\"'" and before in _OPENS_AFTER:
        head, text = ("\u201c" if text[0] == '"' else "\u2018"), text[1:]
    if '"' in text:
        text = _OPEN_DOUBLE.sub("\x01", text).replace('"', "\u201d")
    if "'" in text:
        text = _OPEN_SINGLE.sub("\x02", text).replace("'", "\u2019")
    return head + text.replace("\x01", "\u201c").replace("\x02", "\u2018")


_OPENERS = "[ \t\n(\\[{<\\-\u2013\u2014\u201c\u2018/]"
_OPEN_DOUBLE = re.compile(f'"(?<={_OPENERS}")')  # the quote first: a fast literal scan
_OPEN_SINGLE = re.compile(f"'(?<={_OPENERS}')")


def _curl_each(text: str, before: str) -> str:
    """The same, a quote at a time (for the rare text holding the marks)."""

    def curl(match: re.Match) -> str:
        start = match.start()
        prev = text[start - 1] if start else before
        opening = prev in _OPENS_AFTER
        if match.group(0) == '"':
            return "\u201c" if opening else "\u201d"
        return "\u2018" if opening else "\u2019"

    return _QUOTE.sub(curl, text)


def _em(match: re.Match) -> str:
    text = match.string
    start, end = match.span()
    prev = text[start - 1] if start else " "
    nxt = text[end] if end < len(text) else " "
    if prev.isspace() and nxt.isalnum():  # ---verbose: an option, not a dash
        return "---"
    return "\u2014"


def smart_plain(text: str, settings: MarkdownSettings) -> str:
    """Titles and summaries (plain text, escaped later by the templates and the feeds)
    get what the body gets; URLs in them are left alone."""
    if not settings.smart or not text:
        return text
    return _smart_outside_urls(text, " ")


_URL_IN_TEXT = re.compile(r"((?:https?|ftp)://\S+|www\.\S+)")


def _smart_outside_urls(text: str, before: str) -> str:
    if "://" not in text and "www." not in text:
        return smart_text(text, before)
    pieces = _URL_IN_TEXT.split(text)
    for i in range(0, len(pieces), 2):
        pieces[i] = smart_text(pieces[i], pieces[i - 1][-1:] if i else before)
    return "".join(pieces)


# On finished HTML (Python-Markdown's output): the text between tags, never inside code,
# pre, kbd, samp, script, style, math or a tag (attributes), never in a URL.
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")
_NO_SMART = frozenset({"pre", "code", "kbd", "samp", "script", "style", "tt", "math", "textarea"})


def html_split(rendered: str) -> list[str]:
    """[text, tag, text, tag, ..., text], linear even with unclosed comments or tags."""
    parts: list[str] = []
    text_start = pos = 0
    while (lt := rendered.find("<", pos)) != -1:
        closer = "-->" if rendered.startswith("<!--", lt) else ">"
        end = rendered.find(closer, lt + (4 if closer == "-->" else 1))
        if end == -1:
            if closer == "-->":  # an unclosed comment: try it as a tag
                end = rendered.find(">", lt + 1)
                closer = ">"
            if end == -1:
                break  # no '>' after here: the rest is text
        end += len(closer)
        parts += [rendered[text_start:lt], rendered[lt:end]]
        text_start = pos = end
    parts.append(rendered[text_start:])
    return parts


def smarten_html(rendered: str) -> str:
    """smart_text over the text of finished HTML (for engines that cannot do it per text
    node): never inside code, pre, kbd, script, style, math or a tag's attributes."""
    if not rendered:
        return rendered
    parts = html_split(rendered)
    skip = 0
    before = " "
    for i, part in enumerate(parts):
        if i % 2:
            match = _TAG_NAME.match(part)
            if match and match.group(2).lower() in _NO_SMART and not part.endswith("/>"):
                skip = max(0, skip - 1) if match.group(1) else skip + 1
            continue
        if part and not skip:
            parts[i] = _smart_outside_urls(part, before)
        if part:
            before = part[-1]
    return "".join(parts)


# ---------------------------------------------------------------- code highlighting

_FENCE_ATTRS = re.compile(r"""([A-Za-z_][\w-]*)\s*=\s*("[^"]*"|'[^']*'|\[[^\]]*\]|[^\s,}]+)""")


def parse_info(info: str) -> tuple[str, dict[str, str]]:
    """'go {hl_lines=[2,3] linenos=true}' -> ('go', {'hl_lines': '[2,3]', 'linenos': 'true'})."""
    info = info.strip()
    attrs: dict[str, str] = {}
    brace = info.find("{")
    if brace != -1:
        inside = info[brace + 1 : info.rfind("}") if "}" in info[brace:] else len(info)]
        for key, value in _FENCE_ATTRS.findall(inside):
            attrs[key.lower()] = value.strip("\"'")
        info = info[:brace]
    words = info.split()
    return (words[0] if words else ""), attrs


def parse_lines(spec: str) -> tuple[int, ...]:
    """Hugo hl_lines: [2,3], ["2-4", 7], "2-4 7" -> (2, 3, 4, 7)."""
    lines: list[int] = []
    for part in re.split(r"[\s,\[\]\"']+", spec):
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            lo = int(first)
            hi = int(last) if last else lo
        except ValueError:
            continue
        if 0 < lo <= hi and hi - lo < 10_000:
            lines.extend(range(lo, hi + 1))
    return tuple(lines)


@lru_cache(maxsize=256)
def _lexer(lang: str):
    """The language's lexer, tokenising through render/lexing.py (same tokens, less time)."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    from quire.render.lexing import dispatching

    try:
        return dispatching(get_lexer_by_name(lang, stripnl=False, ensurenl=False))
    except (ClassNotFound, ValueError):
        return _plain_lexer()
    except Exception:  # a broken third-party lexer plugin must not fail a build
        return _plain_lexer()


@lru_cache(maxsize=1)
def _plain_lexer():
    from pygments.lexers.special import TextLexer

    return TextLexer(stripnl=False, ensurenl=False)


@lru_cache(maxsize=256)
def _formatter(hl_lines: tuple[int, ...], linenos: str | bool, linenostart: int, css: str):
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(
        cssclass=css, wrapcode=True, hl_lines=list(hl_lines), linenos=linenos,
        linenostart=linenostart,
    )  # fmt: skip


def highlight_block(code: str, info: str, css_class: str = CODE_CSS_CLASS) -> str:
    """One fenced block to HTML, language and Hugo attributes from the info string
    (`go {hl_lines=[2,3] linenos=true}`); an unknown language is plain text; never raises."""
    from pygments import highlight

    lang, attrs = parse_info(info)
    lexer = _lexer(lang.lower()) if lang else _plain_lexer()
    linenos: str | bool = False
    value = attrs.get("linenos", "false").lower()
    if value in ("true", "table"):
        linenos = "table"
    elif value == "inline":
        linenos = "inline"
    try:
        start = int(attrs.get("linenostart", "1"))
    except ValueError:
        start = 1
    formatter = _formatter(parse_lines(attrs.get("hl_lines", "")), linenos, start, css_class)
    try:
        return highlight(code, lexer, formatter)
    except Exception:  # a lexer bug on odd input: show the code plain rather than fail
        return highlight(code, _plain_lexer(), formatter)


_FENCE_LANG = re.compile(r"^[ \t]{0,3}(?:`{3,}|~{3,})[ \t]*([\w+#.-]+)", re.MULTILINE)
PREPARED_LANGUAGES = 32  # a site with more languages than this makes the rest in each worker


def prepare(settings: MarkdownSettings, texts) -> None:
    """Before the bodies' workers fork: import the engine and Pygments, and make the
    formatter and the lexers the fences in `texts` name (compiling a lexer's rules costs
    ~50 ms), once here for every worker to inherit rather than once in each worker."""
    from pygments import highlight  # noqa: F401 - imported for the workers

    engine(settings)
    languages: set[str] = set()
    for text in texts:
        if "```" in text or "~~~" in text:
            languages.update(lang.lower() for lang in _FENCE_LANG.findall(text))
    for lang in sorted(languages)[:PREPARED_LANGUAGES]:
        _lexer(lang)
    _plain_lexer()
    _formatter((), False, 1, CODE_CSS_CLASS)


# ---------------------------------------------------------------- the body

_TAG = re.compile(r"<[^>]+>")
_CODE_BLOCK = re.compile(r"<pre\b.*?</pre>", re.DOTALL)


def count_words(rendered_html: str) -> int:
    if "<pre" in rendered_html:
        rendered_html = _CODE_BLOCK.sub(" ", rendered_html)
    return len(html.unescape(_TAG.sub(" ", rendered_html)).split())


def render_body(
    body: str,
    first_line: int,
    path: str,
    render_shortcode: Callable[[Shortcode], str],
    settings: MarkdownSettings | None = None,
) -> tuple[RenderedBody, list[Problem]]:
    """Markdown with shortcodes -> HTML, the table of contents and the word count."""
    settings = settings or MarkdownSettings()
    convert = engine(settings)
    try:
        text, parts, used, problems = expand_shortcodes(
            body, first_line, render_shortcode, path, markdown=lambda s: convert(s, settings)[0]
        )
        rendered, headings = convert(text, settings)
    except MarkdownFailure as err:
        return RenderedBody("", "", 0, ()), [Problem(path, first_line, str(err))]
    toc = toc_html(headings)
    return (
        RenderedBody(restore(rendered, parts), toc, count_words(rendered), tuple(used)),
        problems,
    )
