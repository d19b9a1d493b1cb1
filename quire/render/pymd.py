"""The Python-Markdown engine (`[markdown] engine = "python-markdown"`): what Pelican
renders with, kept so imported Pelican sites look as they did.

One function, `to_html(text, settings) -> (html, headings)`. Python-Markdown with
extra + codehilite + sane_lists does the Markdown; heading ids (Hugo style, `{#id}` wins)
and smart punctuation are quire's shared ones, applied to its output. It is quadratic on
some inputs, so huge bodies go in pieces and every piece has a deadline.
"""

from __future__ import annotations

import html
import re
import signal
import threading
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import markdown as md

from quire.config import MarkdownSettings
from quire.render.markdown import (
    CODE_CSS_CLASS,
    Heading,
    MarkdownFailure,
    esc,
    heading_id,
    html_split,
    smarten_html,
    unique_id,
)
from quire.render.shortcodes import code_ranges


@cache
def _converter(more: tuple[str, ...] = ()) -> md.Markdown:
    """One Markdown instance per process (and extension set): building the extension set
    costs more than a post. `more`: [markdown] extensions beyond quire's own."""
    return md.Markdown(
        extensions=["extra", "codehilite", "sane_lists", *more],  # ids, TOC, smart: quire's own
        extension_configs={"codehilite": {"css_class": CODE_CSS_CLASS, "guess_lang": False}},
        output_format="html",
    )


MARKDOWN_SECONDS = 10.0  # per piece of at most ~128 KB; real prose needs milliseconds


class MarkdownTimeout(MarkdownFailure):
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
        raise MarkdownTimeout(
            f"Markdown gave up on this text after {seconds:g} s (long runs of [ * _ or similar?)"
        )

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _convert(text: str, more: tuple[str, ...] = ()) -> str:
    converter = _converter(more)
    converter.reset()
    with _deadline(MARKDOWN_SECONDS):
        return converter.convert(text)


CHUNK_SIZE = 64 * 1024
_BLOCK_BREAK = re.compile(r"\n[ \t]*\n(?=[^ \t\n])")
_DEFINITIONS = re.compile(
    r"^(?: {0,3}\[[^\]\n^][^\]\n]*\]:[ \t]*\S.*|\*\[[^\]\n]+\]:.*)$", re.MULTILINE
)


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


def _convert_in_pieces(text: str, more: tuple[str, ...] = ()) -> str:
    """Huge bodies go in pieces: Python-Markdown is quadratic in the number of top-level
    blocks (a 5 MB post took minutes). Link and abbreviation definitions are given to
    every piece; footnotes are per piece."""
    pieces = split_blocks(text)
    if len(pieces) == 1:
        return _convert(text, more)
    definitions = "\n\n" + "\n".join(_DEFINITIONS.findall(text)) + "\n"
    return "\n".join(_convert(piece + definitions, more) for piece in pieces)


_HEADING = re.compile(r"<h([1-6])(\s[^>]*)?>(.*?)</h\1>", re.DOTALL | re.IGNORECASE)
_ID = re.compile(r"""\sid\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


def _with_ids(body: str) -> tuple[str, list[Heading]]:
    """Every <hN> gets a Hugo-style id (attr_list's `{#id}` kept, made unique)."""
    headings: list[Heading] = []
    seen: dict[str, int] = {}

    def name(match: re.Match) -> str:
        level, attrs, inner = int(match.group(1)), match.group(2) or "", match.group(3)
        plain = html.unescape("".join(html_split(inner)[::2]))
        given = _ID.search(attrs)
        if given:
            hid = unique_id(html.unescape(given.group(1) or given.group(2) or ""), seen)
            attrs = attrs[: given.start()] + attrs[given.end() :]
        else:
            hid = heading_id(plain, seen)
        headings.append(Heading(level, hid, inner, plain))
        return f'<h{level} id="{esc(hid)}"{attrs}>{inner}</h{level}>'

    return _HEADING.sub(name, body), headings


# What quire's python-markdown always does itself (extra holds fenced_code, tables,
# footnotes, attr_list, def_list, abbr, md_in_html; ids, TOC and smart punctuation are quire's)
_ALWAYS = {"extra", "codehilite", "sane_lists", "toc", "meta", "smarty", "fenced_code"}
_ALWAYS |= {"tables", "footnotes", "attr_list", "def_list", "abbr", "md_in_html"}


def extra_extensions(names: tuple[str, ...]) -> tuple[str, ...]:
    """[markdown] extensions (config.py checked they are Python-Markdown's own) that quire
    does not already apply, by their short names."""
    short = (n.removeprefix("markdown.extensions.") for n in names)
    return tuple(dict.fromkeys(n for n in short if n not in _ALWAYS))


def to_html(text: str, settings: MarkdownSettings) -> tuple[str, list[Heading]]:
    """Markdown -> (HTML, headings in document order with their ids)."""
    body = _convert_in_pieces(text, extra_extensions(settings.extensions))
    if settings.smart:
        body = smarten_html(body)
    return _with_ids(body)
