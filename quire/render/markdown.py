"""Markdown to HTML, and Hugo-style shortcodes (`{{< name "arg" key="v" >}}`) inside it.

Shortcodes are found by a linear scan (no backtracking regex), skipped inside fenced and
inline code, rendered by a callback (a Jinja template per shortcode, see render.py), and
swapped in after Markdown ran, so their HTML is never touched by Markdown.
"""

from __future__ import annotations

import html
import re
import signal
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

import markdown as md

from quire.model import RenderedBody, Shortcode
from quire.problems import Problem

MAX_NESTING = 8
MAX_SHORTCODES = 5000  # per file: bounds the work a hostile or broken post can cause


class ShortcodeError(Exception):
    """Raised by a shortcode renderer for bad use (unknown product id...); becomes path:line."""


class ShortcodeSyntaxError(Exception):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


# ---------------------------------------------------------------- scanning


def code_ranges(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of fenced code blocks and inline code spans, in order."""
    ranges: list[tuple[int, int]] = []
    pos = 0
    fence: str | None = None
    fence_start = 0
    prose_start = 0
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if fence is None:
            if indent < 4 and stripped.startswith(("```", "~~~")):
                marker = stripped[0]
                fence = marker * (len(stripped) - len(stripped.lstrip(marker)))
                ranges.extend(_inline_code(text, prose_start, pos))
                fence_start = pos
        elif indent < 4 and stripped.startswith(fence) and not stripped.strip(fence[0]).strip():
            ranges.append((fence_start, pos + len(line)))
            fence = None
            prose_start = pos + len(line)
        pos += len(line)
    if fence is not None:
        ranges.append((fence_start, len(text)))
    else:
        ranges.extend(_inline_code(text, prose_start, len(text)))
    return ranges


def _inline_code(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    i = text.find("`", start, end)
    while i != -1:
        j = i
        while j < end and text[j] == "`":
            j += 1
        run = j - i
        close = text.find("`" * run, j, end)
        while close != -1 and (close + run < end and text[close + run] == "`"):
            k = close + run
            while k < end and text[k] == "`":
                k += 1
            close = text.find("`" * run, k, end)
        if close == -1:
            i = text.find("`", j, end)
            continue
        spans.append((i, close + run))
        i = text.find("`", close + run, end)
    return spans


_ARG = re.compile(
    r"""\s*(?:([A-Za-z_][\w-]*)=)?(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|`([^`]*)`|([^\s"'=`]+))"""
)
_NAME = re.compile(r"/?[A-Za-z_][\w-]*")


def parse_tag(content: str, offset: int) -> tuple[str, tuple[str, ...], dict[str, str], bool]:
    """The inside of `{{< ... >}}` -> (name, args, kwargs, is_closing)."""
    content = content.strip()
    name_match = _NAME.match(content)
    if not name_match:
        raise ShortcodeSyntaxError("shortcode has no name", offset)
    name = name_match.group(0)
    closing = name.startswith("/")
    args: list[str] = []
    kwargs: dict[str, str] = {}
    pos = name_match.end()
    rest = content[pos:]
    if rest and not rest[0].isspace():
        raise ShortcodeSyntaxError(f"bad shortcode name {content.split()[0]!r}", offset)
    while pos < len(content):
        if not content[pos:].strip():
            break
        match = _ARG.match(content, pos)
        if not match or match.end() == pos:
            raise ShortcodeSyntaxError(
                f"cannot read shortcode arguments: {content[pos:].strip()[:40]!r}", offset
            )
        key = match.group(1)
        if match.group(2) is not None:
            value = re.sub(r"\\(.)", r"\1", match.group(2))
        else:
            value = next(g for g in match.groups()[2:] if g is not None)
        if key:
            kwargs[key] = value
        else:
            args.append(value)
        pos = match.end()
    return name.lstrip("/"), tuple(args), kwargs, closing


@dataclass(frozen=True)
class _Tag:
    start: int
    end: int
    name: str
    args: tuple[str, ...]
    kwargs: Mapping[str, str]
    closing: bool
    literal: str | None = None  # `{{</* x */>}}` shows the shortcode itself


def find_tags(text: str) -> tuple[list[_Tag], list[ShortcodeSyntaxError]]:
    """Every shortcode tag outside code, in order; linear in the text length.

    Every search only moves forward (the next closer and opener are remembered until
    passed), so hostile input such as a megabyte of unclosed `{{<` costs one pass, not
    one pass per tag.
    """
    tags: list[_Tag] = []
    errors: list[ShortcodeSyntaxError] = []
    skip = code_ranges(text)
    skip_index = 0
    ahead: dict[str, int] = {}  # needle -> where it next occurs (-1: nowhere)

    def next_at(needle: str, start: int) -> int:
        found = ahead.get(needle, -2)
        if found == -1 or found >= start:
            return found
        found = text.find(needle, start)
        ahead[needle] = found
        return found

    pos = text.find("{{", 0)
    while pos != -1:
        while skip_index < len(skip) and skip[skip_index][1] <= pos:
            skip_index += 1
        if skip_index < len(skip) and skip[skip_index][0] <= pos:
            pos = text.find("{{", skip[skip_index][1])
            continue
        opener = text[pos + 2 : pos + 3]
        if opener not in ("<", "%"):
            pos = text.find("{{", pos + 2)
            continue
        closer = (">" if opener == "<" else "%") + "}}"
        end = next_at(closer, pos + 3)
        next_open = next_at("{{" + opener, pos + 3)
        if end == -1 or (next_open != -1 and next_open < end):
            errors.append(
                ShortcodeSyntaxError(
                    f"shortcode opened with {{{{{opener} but not closed with {closer}", pos
                )
            )
            pos = text.find("{{", pos + 3)
            continue
        inner = text[pos + 3 : end]
        if inner.strip().startswith("/*") and inner.strip().endswith("*/"):
            literal = "{{" + opener + inner.strip()[2:-2] + closer
            tags.append(_Tag(pos, end + 3, "", (), {}, False, literal=literal))
        else:
            try:
                name, args, kwargs, closing = parse_tag(inner, pos)
                tags.append(_Tag(pos, end + 3, name, args, MappingProxyType(kwargs), closing))
            except ShortcodeSyntaxError as err:
                errors.append(err)
        pos = text.find("{{", end + 3)
    return tags, errors


def pair_tags(tags: list[_Tag]) -> dict[int, int]:
    """Opening tag index -> its closing tag's index, nesting of the same name honoured.

    One pass with a stack per name: a forward search per tag is quadratic on hostile input.
    """
    open_by_name: dict[str, list[int]] = {}
    pairs: dict[int, int] = {}
    for index, tag in enumerate(tags):
        if tag.literal is not None:
            continue
        if tag.closing:
            stack = open_by_name.get(tag.name)
            if stack:
                pairs[stack.pop()] = index
        else:
            open_by_name.setdefault(tag.name, []).append(index)
    return pairs


class _LineCounter:
    """Line numbers of increasing offsets in one pass (text.count per tag is quadratic)."""

    def __init__(self, text: str, first_line: int):
        self.text = text
        self.offset = 0
        self.line = first_line

    def at(self, offset: int) -> int:
        if offset < self.offset:
            self.line -= self.text.count("\n", offset, self.offset)
        else:
            self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


# ---------------------------------------------------------------- expanding

MAX_PROBLEMS_PER_FILE = 50


def expand_shortcodes(
    text: str,
    first_line: int,
    render: Callable[[Shortcode], str],
    path: str,
    depth: int = 0,
) -> tuple[str, dict[str, str], list[str], list[Problem]]:
    """Replaces shortcodes by placeholders; returns (text, placeholder -> html, names used, problems)."""
    tags, syntax_errors = find_tags(text)
    error_lines = _LineCounter(text, first_line)
    problems = [Problem(path, error_lines.at(e.offset), str(e)) for e in syntax_errors]
    if not tags:
        return text, {}, [], _capped(problems, path, depth)
    if len(tags) > MAX_SHORTCODES:
        message = f"too many shortcodes in one file ({len(tags)}; at most {MAX_SHORTCODES})"
        return text, {}, [], [*_capped(problems, path, depth), Problem(path, first_line, message)]
    pairs = pair_tags(tags)
    lines = _LineCounter(text, first_line)
    out: list[str] = []
    html_parts: dict[str, str] = {}
    used: list[str] = []
    last = 0
    i = 0
    while i < len(tags):
        tag = tags[i]
        line = lines.at(tag.start)
        out.append(text[last : tag.start])
        if tag.literal is not None:
            out.append(tag.literal)
            last = tag.end
            i += 1
            continue
        if tag.closing:
            problems.append(
                Problem(
                    path, line, f"closing shortcode {{{{< /{tag.name} >}}}} without an opening one"
                )
            )
            last = tag.end
            i += 1
            continue
        inner = None
        next_i = i + 1
        end = tag.end
        close = pairs.get(i)
        if close is not None:
            inner_text = text[tag.end : tags[close].start]
            if depth >= MAX_NESTING:
                problems.append(Problem(path, line, "shortcodes nested too deeply"))
                inner_text = ""
            inner_md, inner_html, inner_used, inner_problems = expand_shortcodes(
                inner_text, line, render, path, depth + 1
            )
            problems.extend(inner_problems)
            used.extend(inner_used)
            inner = _restore(to_html(inner_md).html, inner_html) if inner_md.strip() else ""
            end = tags[close].end
            next_i = close + 1
        shortcode = Shortcode(tag.name, tag.args, tag.kwargs, inner, line)
        try:
            rendered = render(shortcode)
        except ShortcodeError as err:
            problems.append(Problem(path, line, str(err)))
            rendered = ""
        token = f"QUIRESHORTCODE{depth}x{len(html_parts)}QUIRE"
        html_parts[token] = rendered
        used.append(tag.name)
        out.append(token)
        last = end
        i = next_i
    out.append(text[last:])
    return "".join(out), html_parts, used, _capped(problems, path, depth)


def _capped(problems: list[Problem], path: str, depth: int) -> list[Problem]:
    """A broken import can hold 100,000 bad shortcodes: show the first few and a count."""
    if depth > 0 or len(problems) <= MAX_PROBLEMS_PER_FILE:
        return problems
    shown = problems[:MAX_PROBLEMS_PER_FILE]
    more = len(problems) - len(shown)
    return [*shown, Problem(path, shown[-1].line, f"... and {more} more shortcode problems")]


_TOKEN = re.compile(r"<p>(QUIRESHORTCODE\d+x\d+QUIRE)</p>|(QUIRESHORTCODE\d+x\d+QUIRE)")


def _restore(rendered: str, parts: dict[str, str]) -> str:
    """Placeholders back to shortcode HTML in one pass (a replace per token is quadratic)."""
    if not parts:
        return rendered

    def swap(match: re.Match) -> str:
        token = match.group(1) or match.group(2)
        return parts.get(token, match.group(0))

    return _TOKEN.sub(swap, rendered)


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
        text, parts, used, problems = expand_shortcodes(body, first_line, render_shortcode, path)
        converted = to_html(text)
    except MarkdownTimeout as err:
        problem = Problem(path, first_line, f"{err} (long runs of [ * _ or similar?)")
        return RenderedBody("", "", 0, ()), [problem]
    rendered = _restore(converted.html, parts)
    return RenderedBody(rendered, converted.toc, count_words(converted.html), tuple(used)), problems
