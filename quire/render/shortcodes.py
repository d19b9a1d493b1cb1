"""Hugo-style shortcodes (`{{< name "arg" key="v" >}}`) in Markdown.

Shortcodes are found by a linear scan (no backtracking regex), skipped inside fenced and
inline code, rendered by a callback (a Jinja template per shortcode: render/bodies.py), and
swapped in after Markdown ran, so their HTML is never touched by Markdown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import accumulate
from types import MappingProxyType

from quire.model import Shortcode
from quire.problems import Problem

MAX_NESTING = 8


MAX_SHORTCODES = 5000  # per file: bounds the work a hostile or broken post can cause


class ShortcodeError(Exception):
    """Raised by a shortcode renderer for bad use (unknown product id...); becomes path:line."""


class ShortcodeSyntaxError(Exception):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


def code_ranges(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of fenced code blocks and inline code spans, in order.

    Only a line holding ``` or ~~~ can open or close a fence, so only those lines are
    looked at (their offsets from the lengths of the lines before them)."""
    if "```" not in text and "~~~" not in text:
        return _inline_code(text, 0, len(text))
    lines = text.splitlines(keepends=True)
    starts = [0, *accumulate(map(len, lines))]
    ranges: list[tuple[int, int]] = []
    fence: str | None = None
    fence_start = 0
    prose_start = 0
    for i in [i for i, line in enumerate(lines) if "```" in line or "~~~" in line]:
        line, pos = lines[i], starts[i]
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if fence is None:
            if indent < 4 and _opens_fence(stripped):
                marker = stripped[0]
                fence = marker * (len(stripped) - len(stripped.lstrip(marker)))
                ranges.extend(_inline_code(text, prose_start, pos))
                fence_start = pos
        elif indent < 4 and stripped.startswith(fence) and not stripped.strip(fence[0]).strip():
            ranges.append((fence_start, pos + len(line)))
            fence = None
            prose_start = pos + len(line)
    if fence is not None:
        ranges.append((fence_start, len(text)))
    else:
        ranges.extend(_inline_code(text, prose_start, len(text)))
    return ranges


def _opens_fence(stripped: str) -> bool:
    """CommonMark: three or more ` or ~; a backtick fence's info string holds no backtick
    (so a line starting with ```x``` is inline code, not a fence)."""
    if not stripped.startswith(("```", "~~~")):
        return False
    marker = stripped[0]
    info = stripped.lstrip(marker)
    return marker == "~" or "`" not in info


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
    closing = content.startswith("/")
    if closing:  # Hugo accepts `{{< / name >}}` and `{{</ name >}}`
        content = "/" + content[1:].lstrip()
    name_match = _NAME.match(content)
    if not name_match:
        raise ShortcodeSyntaxError("shortcode has no name", offset)
    name = name_match.group(0)
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
    one pass per tag; and it stops after MAX_SHORTCODES tags or broken tags, so the
    work per file is bounded, whatever thread runs it (serve has no deadline there).
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
        if len(tags) > MAX_SHORTCODES:
            break  # expand_shortcodes refuses the file: reading on is wasted work
        if len(errors) >= MAX_SHORTCODES:
            errors.append(ShortcodeSyntaxError("too many broken shortcodes; stopped here", pos))
            break
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


MAX_PROBLEMS_PER_FILE = 50


def expand_shortcodes(
    text: str,
    first_line: int,
    render: Callable[[Shortcode], str],
    path: str,
    depth: int = 0,
    markdown: Callable[[str], str] = html.escape,
) -> tuple[str, dict[str, str], list[str], list[Problem]]:
    """Replaces shortcodes by placeholders; returns (text, placeholder -> html, names used,
    problems). `markdown` renders a paired shortcode's inner text (the Markdown engine)."""
    tags, syntax_errors = find_tags(text)
    error_lines = _LineCounter(text, first_line)
    problems = [Problem(path, error_lines.at(e.offset), str(e)) for e in syntax_errors]
    if not tags:
        return text, {}, [], _capped(problems, path, depth)
    if len(tags) > MAX_SHORTCODES:
        message = f"too many shortcodes in one file (more than {MAX_SHORTCODES})"
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
                inner_text, line, render, path, depth + 1, markdown
            )
            problems.extend(inner_problems)
            used.extend(inner_used)
            inner = restore(markdown(inner_md), inner_html) if inner_md.strip() else ""
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


_TOKEN = re.compile(r"QUIRESHORTCODE\d+x\d+QUIRE")


def restore(rendered: str, parts: dict[str, str]) -> str:
    """Placeholders back to shortcode HTML in one pass (a replace per token is quadratic), a
    placeholder alone in its paragraph with the paragraph. Searched for by its literal start:
    a pattern starting "<p>" or the token was tried at every character, 0.3 ms a body."""
    if not parts:
        return rendered
    out: list[str] = []
    last = 0
    for match in _TOKEN.finditer(rendered):
        start, end = match.span()
        if (
            start >= 3
            and rendered.startswith("<p>", start - 3)
            and rendered.startswith("</p>", end)
        ):
            start, end = start - 3, end + 4
        out.append(rendered[last:start])
        out.append(parts.get(match.group(0), rendered[start:end]))
        last = end
    out.append(rendered[last:])
    return "".join(out)
