"""A post's Markdown body to HTML: shortcodes expanded around the engine, smart
punctuation, the table of contents and the word count."""

from __future__ import annotations

import html
import re
import signal
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import markdown as md

from quire.model import RenderedBody, Shortcode
from quire.problems import Problem
from quire.render.shortcodes import code_ranges, expand_shortcodes, restore

# ---------------------------------------------------------------- scanning


# ---------------------------------------------------------------- expanding


# ---------------------------------------------------------------- Markdown


@cache
def _converter() -> md.Markdown:
    """One Markdown instance per process: building the extension set costs more than a post."""
    return md.Markdown(
        extensions=["extra", "toc", "codehilite", "sane_lists"],  # smart quotes: see smarten()
        extension_configs={
            "codehilite": {"css_class": "codehilite", "guess_lang": False},
            "toc": {"toc_depth": "2-4"},
        },
        output_format="html",
    )


@dataclass(frozen=True)
class _Converted:
    html: str
    toc: str


MARKDOWN_SECONDS = 10.0  # per piece of at most ~128 KB; real prose needs milliseconds


class MarkdownTimeout(Exception):
    """Python-Markdown is quadratic on some punctuation runs (16 KB of '[' took 30 s)."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise MarkdownTimeout after `seconds` (main thread only; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def expire(signum, frame):
        raise MarkdownTimeout(f"Markdown gave up on this text after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _convert(text: str) -> _Converted:
    converter = _converter()
    converter.reset()
    with _deadline(MARKDOWN_SECONDS):
        body = converter.convert(text)
    return _Converted(smarten(body), smarten(getattr(converter, "toc", "")))


# Smart punctuation on the finished HTML. Python-Markdown's smarty extension does the same
# with a second inline-pattern pass over every text node, which costs as much as all the
# rest of the conversion; one regex pass over the text between tags gives the same quotes.
_HTML_TOKEN = re.compile(r"(<!--.*?-->|<[^>]*>)", re.DOTALL)
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")
_NO_SMART = frozenset({"pre", "code", "kbd", "samp", "script", "style", "tt", "math", "textarea"})
_QUOTE = re.compile(r"[\"']")
_OPENS_AFTER = frozenset(" \t\n([{<-\u2013\u2014\u201c\u2018/")
_DECADE = re.compile(r"'(?=\d\ds\b)")


def _html_split(rendered: str) -> list[str]:
    """Like _HTML_TOKEN.split (text, tag, text, ...) but linear: the regex retried its lazy
    match from every '<' of an unclosed comment or tag (100 KB of '<!--' took 10 s)."""
    parts: list[str] = []
    text_start = pos = 0
    while (lt := rendered.find("<", pos)) != -1:
        closer = "-->" if rendered.startswith("<!--", lt) else ">"
        end = rendered.find(closer, lt + (4 if closer == "-->" else 1))
        if end == -1:
            if closer == "-->":  # an unclosed comment: try it as a tag, as the regex did
                end = rendered.find(">", lt + 1)
                closer = ">"
            if end == -1:
                break  # no '>' after here: the rest is text
        end += len(closer)
        parts += [rendered[text_start:lt], rendered[lt:end]]
        text_start = pos = end
    parts.append(rendered[text_start:])
    return parts


def smarten(rendered: str) -> str:
    """Curly quotes, en and em dashes and ellipses in text, never inside code or tags."""
    if not rendered:
        return rendered
    parts = _html_split(rendered)
    skip = 0
    before = " "
    for i, part in enumerate(parts):
        if i % 2:
            match = _TAG_NAME.match(part)
            if match and match.group(2).lower() in _NO_SMART and not part.endswith("/>"):
                skip = max(0, skip - 1) if match.group(1) else skip + 1
            continue
        if part and not skip:
            parts[i] = _smart_text(part, before)
        if part:
            before = part[-1]
    return "".join(parts)


def _smart_text(text: str, before: str) -> str:
    if "-" in text:
        text = text.replace("---", "\u2014").replace("--", "\u2013")
    if "..." in text:
        text = text.replace("...", "\u2026")
    if '"' not in text and "'" not in text:
        return text
    text = _DECADE.sub("\u2019", text)

    def curl(match: re.Match) -> str:
        start = match.start()
        prev = text[start - 1] if start else before
        opening = prev in _OPENS_AFTER
        if match.group(0) == '"':
            return "\u201c" if opening else "\u201d"
        return "\u2018" if opening else "\u2019"

    return _QUOTE.sub(curl, text)


CHUNK_SIZE = 64 * 1024
_BLOCK_BREAK = re.compile(r"\n[ \t]*\n(?=[^ \t\n])")
_DEFINITIONS = re.compile(
    r"^(?: {0,3}\[[^\]\n^][^\]\n]*\]:[ \t]*\S.*|\*\[[^\]\n]+\]:.*)$", re.MULTILINE
)
_TOC_LIST = re.compile(r'^<div class="toc">\n<ul>\n?(.*)</ul>\n</div>\n?$', re.DOTALL)


def split_blocks(text: str, size: int = CHUNK_SIZE) -> list[str]:
    """Cut text into pieces of about `size` at blank lines outside code, before unindented text."""
    if len(text) <= 2 * size:
        return [text]
    ranges = code_ranges(text)
    starts = [r[0] for r in ranges]
    pieces: list[str] = []
    start = 0
    pos = size
    while len(text) - start > 2 * size:
        match = _BLOCK_BREAK.search(text, pos)
        if match is None:
            break
        cut = match.end()
        k = bisect_right(starts, cut) - 1
        if k >= 0 and ranges[k][0] < cut < ranges[k][1]:
            pos = ranges[k][1]  # inside a code block: look after it
            continue
        pieces.append(text[start:cut])
        start = cut
        pos = start + size
    pieces.append(text[start:])
    return pieces


def to_html(text: str) -> _Converted:
    """Markdown to HTML. Huge bodies go in pieces: Python-Markdown is quadratic in the
    number of top-level blocks (a 5 MB post took minutes). Link and abbreviation
    definitions are given to every piece; footnotes and header ids are per piece."""
    pieces = split_blocks(text)
    if len(pieces) == 1:
        return _convert(text)
    definitions = "\n\n" + "\n".join(_DEFINITIONS.findall(text)) + "\n"
    bodies, toc_items = [], []
    for piece in pieces:
        converted = _convert(piece + definitions)
        bodies.append(converted.html)
        match = _TOC_LIST.match(converted.toc)
        toc_items.append(match.group(1) if match else "")
    items = "".join(toc_items)
    toc = f'<div class="toc">\n<ul>\n{items}</ul>\n</div>\n' if items else ""
    return _Converted("\n".join(bodies), toc)


_TAG = re.compile(r"<[^>]+>")
_CODE_BLOCK = re.compile(r"<pre\b.*?</pre>", re.DOTALL)


def count_words(rendered_html: str) -> int:
    text = html.unescape(_TAG.sub(" ", _CODE_BLOCK.sub(" ", rendered_html)))
    return len(text.split())


def render_body(
    body: str, first_line: int, path: str, render_shortcode: Callable[[Shortcode], str]
) -> tuple[RenderedBody, list[Problem]]:
    """Markdown with shortcodes -> HTML, the table of contents and the word count."""
    try:
        text, parts, used, problems = expand_shortcodes(
            body, first_line, render_shortcode, path, markdown=lambda s: to_html(s).html
        )
        converted = to_html(text)
    except MarkdownTimeout as err:
        problem = Problem(path, first_line, f"{err} (long runs of [ * _ or similar?)")
        return RenderedBody("", "", 0, ()), [problem]
    rendered = restore(converted.html, parts)
    return RenderedBody(rendered, converted.toc, count_words(converted.html), tuple(used)), problems
