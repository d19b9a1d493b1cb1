"""The default engine's two paths give the same bytes.

`commonmark.render` first tries `fast` (pulldown-cmark's own HTML, finished by regex
passes) and falls back to `walk` (the event walk) for what the passes do not handle. The
walk is the reference: wherever `fast` answers, its HTML and headings must equal the
walk's, in every mode the engine is used in (smart punctuation on/off, bare-URL links
on/off, highlighting on/off). And `fast` must answer for ordinary posts, or the speed-up
is gone (counted, never timed).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from conftest import assert_linear

from quire.render import commonmark

FIXTURES = Path(__file__).parent / "fixtures" / "commonmark"
SPEC = json.loads((FIXTURES / "spec-0.31.2.json").read_text(encoding="utf-8"))
GFM = json.loads((FIXTURES / "gfm-extensions.json").read_text(encoding="utf-8"))
MODES = [
    {"smart": True, "autolink": True, "highlight": True},
    {"smart": True, "autolink": False, "highlight": False},
    {"smart": False, "autolink": True, "highlight": False},
    {"smart": False, "autolink": False, "highlight": True},
]

# Things the fast path finishes itself (each must stay on it: see test_edge_cases_fast).
EDGE_FAST = [
    "It's \"quoted\" and 'single' -- en --- em... the '90s, \"a\" 'b'.",
    "- [x] \"done\" -- yes\n- [ ] 'not' www.example.com/x?y=1&z=2.",
    "- [x] a\n\n- [ ] 'b'\n",
    "## Title -- dash {#custom-id}\n\n## Title -- dash\n\n## Title -- dash\n\n# Title\n",
    'Text *"emph"* **\'strong\'** [link "x"](https://a.b/c\'d "ti\'tle") "after".',
    "| a \"b\" | 'c' |\n|:-:|--|\n| it's | \"x\" -- y |\n\nafter the table 'q'",
    "| a | b |\n|---|--:|\n",
    "See https://example.com/path_(x), email foo@bar.example.com, www.commonmark.org/a.b.",
    '*https://x.y/* "quote after `code"` \'x\' and `"` then "q"',
    "Line one \"\n\"line two\n'start\na  \n\"hard\nb\\\n'x'",
    "> quote 'a' \"b\"\n> - item \"c\"\n>   more 'd'\n\n1. one\n2. two \"x\"\n\n   para 'y'",
    '```python\nprint("hi") -- \'x\' & <b>\n```\n\n    indented "code" ...\n\n`span "q"`',
    '![alt "q" it\'s](/img^x.png "title \'q\'") [a^b](/x^y) ![a](x)"q"',
    "Term \"one\"\n: Definition 'two' -- three\n\nSetext 'heading'\nwith \"two lines\"\n===",
    '***"bold quote"*** ~~\'struck\'~~ "~~x~~" **["a"](b)**',
    "\"[link](x)\" '[link](y)'--z --- w ---x -- y --z\n\n--\n\n---verbose -- a --",
    "- a\n  - b \"c\"\n- d\n\n  > 'e'\n\n  ```\n  f\n  ```\n",
    "# A `code` *em* [link](/x) title\n\n## A `code` *em* [link](/x) title\n",
    '## Ünïcödé & <ämp> "title"\n\nText with `a<b` and a > b & c.',
    "https://a.com 'x' <!-- no --> is raw",  # raw HTML: see EDGE_WALK
    "A [link with https://inner.example](https://outer.example) stays one link.",
    "(www.example.com) and *www.example.com* and _http://x.io_.",
    "2 * 3 -- four... 'tis \"5'6\"\" it''s",
    "| `a|b` | ![i](/j \"t\") |\n|---|---|\n| https://x.io | 'q' |",
]
# Things only the walk renders (the fast path must step aside, and render() must still
# give the walk's output).
EDGE_WALK = [
    '<div>\n"raw" block\n</div>',
    "inline <span title='x'>\"raw\"</span> html",
    "A note[^1].\n\n[^1]: The 'note'.",
    '> [!NOTE]\n> An "alert".',
    "Math $x^2$ and $$y$$.",
    "```go {hl_lines=[2] linenos=true}\na\nb\n```",
    "&lt;escaped&gt; and &#34;numeric&#34;",
    "<https://autolink.example> and <me@example.com>",
    "## Title {.cls key=val}",
    "## ![image](x.png) heading",
]


def _same(text: str, **mode) -> bool | None:
    """None when the fast path stepped aside; else whether it equals the walk."""
    got = commonmark.fast(text, css_class="codehilite", **mode)
    if got is None:
        return None
    want = commonmark.walk(text, **mode)
    assert got[0] == want[0], text
    assert got[1] == want[1], text
    return True


@pytest.mark.parametrize("mode", MODES, ids=lambda m: "-".join(k for k, v in m.items() if v))
def test_spec_examples_same_bytes(mode: dict) -> None:
    answered = [_same(e["markdown"], **mode) for e in SPEC + GFM]
    assert answered.count(True) >= 540  # 563 of 676 today: the rest hold raw HTML &c.


def test_edge_cases_fast() -> None:
    for text in EDGE_FAST:
        for mode in MODES:
            result = _same(text, **mode)
            if "<!--" in text:
                assert result is None
            else:
                assert result, text


def test_edge_cases_walk() -> None:
    for text in EDGE_WALK:
        for mode in MODES:
            assert commonmark.fast(text, css_class="codehilite", **mode) is None, text
            assert commonmark.render(text, **mode) == commonmark.walk(text, **mode)


def test_mixed_documents_same_bytes() -> None:
    """Random documents stitched from the edge cases (seeded): interactions between
    blocks, soft breaks between pieces, heading ids repeated across pieces."""
    rng = random.Random(20261129)
    pieces = EDGE_FAST + EDGE_WALK + [e["markdown"] for e in SPEC[::7]]
    answered = 0
    for _ in range(300):
        parts = rng.sample(pieces, rng.randint(2, 5))
        text = rng.choice(["\n\n", "\n", " "]).join(parts)
        for mode in MODES[:2]:
            answered += bool(_same(text, **mode))
    assert answered > 100


def test_corpus_posts_all_fast(tmp_path: Path, make_corpus) -> None:
    site = make_corpus(40, tmp_path / "site", flavour="quire")
    for path in sorted((site / "content" / "posts").glob("*.md")):
        body = path.read_text(encoding="utf-8").split("\n---\n", 1)[1]
        for mode in MODES:
            assert _same(body, **mode), path.name


def test_parser_panic_is_a_problem_not_a_traceback() -> None:
    """pulldown-cmark 0.13 panics on a task item holding only a hard break under a setext
    underline; pyo3 raises that as a BaseException, which must become path:line."""
    from quire.render.markdown import render_body

    body, problems = render_body(
        "Intro.\n\n- [x] \\\n  ===\n", 7, "content/posts/p.md", lambda s: ""
    )
    assert body.html == ""
    assert [(p.path, p.line) for p in problems] == [("content/posts/p.md", 7)]
    assert "pulldown-cmark" in problems[0].message


@pytest.mark.parametrize(
    "unit", ["a@b.co *x* ", "www.x.io ![i](j) ", "[l](x) www.a.io ", '"q" *x* ', "it's `c` "]
)
def test_fast_path_is_linear(unit: str) -> None:
    """Runs of text looked at one by one (is this one inside a link? what came before?)
    must not each search the whole page: 8x the input, about 8x the CPU time."""
    assert commonmark.fast(unit * 10, css_class="c", **MODES[0]) is not None
    assert_linear(
        lambda size: unit * size,
        lambda t: commonmark.fast(t, css_class="c", **MODES[0]),
        4000,
    )
