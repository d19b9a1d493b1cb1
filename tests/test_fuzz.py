"""Fuzzing the parsers: any input gives a result or a Problem, never another exception, never a hang."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
from conftest import assert_linear, build_site, post
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quire.config import MarkdownSettings
from quire.model import Shortcode
from quire.problems import Problem
from quire.render import commonmark, markdown, pymd, shortcodes
from quire.render.markdown import render_body, toc_html
from quire.render.pymd import split_blocks
from quire.render.shortcodes import ShortcodeError, expand_shortcodes, find_tags, pair_tags

PYMD = MarkdownSettings(engine="python-markdown")
ENGINES = [MarkdownSettings(), PYMD]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces that make the scanner's life hard: openers, closers, quotes, code fences.
FRAGMENTS = [
    "{{<",
    ">}}",
    "{{%",
    "%}}",
    "{{",
    "}}",
    "/",
    " ",
    "\n",
    "x",
    "y",
    "box",
    '"',
    "'",
    "`",
    "```\n",
    "~~~\n",
    "=",
    "a=",
    "/*",
    "*/",
    "\\",
    "\r",
    "\t",
    "é",
    "<p>",
    "[",
    "*",
    "_",
]
shortcode_soup = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join),
    st.text(max_size=200),
)


def _renderer(shortcode: Shortcode) -> str:
    if shortcode.name == "bad":
        raise ShortcodeError("bad shortcode")
    return f"<span data-sc='{shortcode.name}'>{shortcode.inner or ''}</span>"


def _assert_problems(problems: list[Problem], first_line: int, text: str) -> None:
    last_line = first_line + text.count("\n")
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.path == "post.md"
        assert first_line <= problem.line <= last_line, (problem, last_line)
        assert problem.message


@FUZZ
@given(text=shortcode_soup, first_line=st.integers(1, 500))
def test_expand_shortcodes_never_raises(text: str, first_line: int) -> None:
    tags, errors = find_tags(text)
    for tag in tags:
        assert 0 <= tag.start < tag.end <= len(text)
        assert text.startswith("{{", tag.start)
    out, parts, used, problems = expand_shortcodes(text, first_line, _renderer, "post.md")
    _assert_problems(problems, first_line, text)
    for token in parts:
        assert token in out


@pytest.mark.parametrize("engine", ENGINES, ids=lambda s: s.engine)
@FUZZ
@given(text=shortcode_soup)
def test_render_body_never_raises(engine: MarkdownSettings, text: str) -> None:
    body, problems = render_body(text, 3, "post.md", _renderer, engine)
    _assert_problems(problems, 3, text)
    assert isinstance(body.html, str) and body.word_count >= 0
    assert "QUIRESHORTCODE" not in body.html or "QUIRESHORTCODE" in text


def _naive_pair(tags, index):
    """The obvious forward search, kept here as the reference the fast pairing must match."""
    name, depth = tags[index].name, 0
    for j in range(index + 1, len(tags)):
        if tags[j].literal is not None or tags[j].name != name:
            continue
        if tags[j].closing:
            if depth == 0:
                return j
            depth -= 1
        else:
            depth += 1
    return None


@FUZZ
@given(st.lists(st.sampled_from(["{{< a >}}", "{{< /a >}}", "{{< b >}}", "{{< /b >}}", "t"])))
def test_pairing_matches_the_naive_search(pieces: list[str]) -> None:
    tags, _ = find_tags("".join(pieces))
    pairs = pair_tags(tags)
    for i, tag in enumerate(tags):
        if not tag.closing:
            assert pairs.get(i) == _naive_pair(tags, i)


arg_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters='"\\\x00'),
    max_size=20,
)


@FUZZ
@given(
    name=st.from_regex(r"[A-Za-z_][\w-]{0,10}", fullmatch=True),
    args=st.lists(arg_text, max_size=4),
    kwargs=st.dictionaries(
        st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True), arg_text, max_size=3
    ),
)
def test_well_formed_shortcodes_round_trip(name, args, kwargs) -> None:
    inside = " ".join([name, *(f'"{a}"' for a in args), *(f'{k}="{v}"' for k, v in kwargs.items())])
    text = f"Before {{{{< {inside} >}}}} after"
    tags, errors = find_tags(text)
    if ">}}" in inside or "{{<" in inside:
        return  # a closer inside a quoted value ends the tag early, by design
    assert not errors
    [tag] = tags
    assert (tag.name, tag.args, dict(tag.kwargs)) == (name, tuple(args), kwargs)


# ---------------------------------------------------------------- never hangs

MEGABYTE = 1_000_000
HOSTILE = {  # about `size` characters of each
    "unclosed openers": lambda size: "{{< " * (size // 4),
    "unclosed with args": lambda size: '{{< box "a" ' * (size // 12),
    "nested opening tags": lambda size: "{{< x >}}" * (size // 9),
    "deep nesting": lambda size: "{{< x >}}" * (size // 20) + "{{< /x >}}" * (size // 20),
    "orphan closers": lambda size: "{{% /x %}}" * (size // 10),
    "many small pairs": lambda size: "{{< x >}}a{{< /x >}} " * (size // 21),
}


def _expand(text: str):
    return expand_shortcodes(text, 1, _renderer, "post.md")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_megabyte_of_hostile_shortcodes_is_reported_in_linear_time(name: str) -> None:
    text = HOSTILE[name](MEGABYTE)
    assert len(text) > 0.9 * MEGABYTE
    _, _, _, problems = _expand(text)
    assert problems, "a megabyte of broken or excessive shortcodes must be reported"
    assert len(problems) <= shortcodes.MAX_PROBLEMS_PER_FILE + 2
    # 64 KB against 512 KB: still 8x the input (quadratic would be 64x the time), at half the
    # CPU of measuring the megabyte again (this was the suite's third-slowest test)
    assert_linear(HOSTILE[name], _expand, MEGABYTE // 16)


def test_markdown_that_would_take_minutes_becomes_a_problem(monkeypatch) -> None:
    """Python-Markdown only: its deadline turns a hang into a file:line problem."""
    monkeypatch.setattr(pymd, "MARKDOWN_SECONDS", 0.5)
    body, problems = render_body("[" * 30_000, 7, "post.md", _renderer, PYMD)
    assert [(p.line, "gave up" in p.message) for p in problems] == [(7, True)]
    # the converter still works afterwards
    body, problems = render_body("## Title\n\nSome *text*.", 1, "post.md", _renderer, PYMD)
    assert not problems and "<em>text</em>" in body.html


def test_the_default_engine_needs_no_deadline() -> None:
    """What Python-Markdown gives up on, CommonMark renders (it is linear)."""
    body, problems = render_body("[" * 30_000, 7, "post.md", _renderer)
    assert not problems and body.html.count("[") == 30_000


@pytest.mark.parametrize("unit", ["[", "*a ", "> ", "<!--", "_", "`", "https://", "- ", "\\-"])
def test_hostile_input_is_linear_in_the_default_engine(unit: str) -> None:
    """8x the input gives about 8x the output and CPU time, and no exception."""
    small, _ = commonmark.render(unit * 2000, smart=True)
    big, _ = commonmark.render(unit * 16000, smart=True)
    assert len(big) < 12 * max(len(small), 1)
    assert_linear(lambda size: unit * size, lambda t: commonmark.render(t, smart=True), 4000)


def test_huge_body_is_split_outside_code_and_keeps_links() -> None:
    paragraph = "Words [a link][ref] and more words to fill the line nicely.\n\n"
    code = "```\nline one\n\nline two after a blank\n```\n\n"
    text = (
        "## Start\n\n" + (paragraph * 400 + code) * 10 + "## End\n\n[ref]: https://example.com/x\n"
    )
    pieces = split_blocks(text, 16 * 1024)
    assert len(pieces) > 3 and "".join(pieces) == text
    for piece in pieces:
        assert piece.count("```") % 2 == 0, "a code block was cut in two"
    rendered, headings = pymd.to_html(text, PYMD)
    doc = lxml.html.fromstring(f"<div>{rendered}</div>")
    assert len(doc.xpath("//a[@href='https://example.com/x']")) == 4000
    assert len(doc.xpath("//pre")) == 10
    toc = lxml.html.fromstring(toc_html(headings))
    assert [a.text for a in toc.xpath("//a")] == ["Start", "End"]


def test_five_megabyte_post_builds(site: Path, tmp_path: Path) -> None:
    prose = "A sentence about the new laptop's battery and its *display*. " * 8
    body = "\n\n".join(f"## Part {i}\n\n{prose}" for i in range(10_000))
    assert len(body) > 5 * MEGABYTE
    post(site, "huge", "Huge", body=body)
    code, _, err = build_site(site, tmp_path / "out")
    assert code == 0, err
    html = (tmp_path / "out" / "posts" / "huge" / "index.html").read_text()
    doc = lxml.html.fromstring(html)
    assert len(doc.xpath("//article//h2[starts-with(., 'Part ')]")) == 10_000


_HTML_TOKEN = re.compile(r"(<!--.*?-->|<[^>]*>)", re.DOTALL)  # the reference (quadratic)


@FUZZ
@given(st.lists(st.sampled_from(["<", ">", "<!--", "-->", "a", " ", "-", '"', "<p>", "</p>"])))
def test_linear_html_split_matches_the_regex(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert markdown.html_split(text) == _HTML_TOKEN.split(text)


@pytest.mark.parametrize("unit", ["<!--", "<a ", "x <!-- y"])
def test_smartening_unclosed_comments_is_linear(unit: str) -> None:
    markdown.smarten_html(unit * (MEGABYTE // len(unit)))
    assert_linear(lambda size: unit * (size // len(unit)), markdown.smarten_html, MEGABYTE // 8)
