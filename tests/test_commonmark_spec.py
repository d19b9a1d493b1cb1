"""The CommonMark 0.31.2 spec examples and GitHub's GFM extension examples, every one
through quire's post pipeline (`render_body`: shortcodes, the default engine,
highlighting, restore), compared as the spec's normaliser does (tests/html_normalize.py:
`"` == `&quot;`, highlighting wrappers and heading ids ignored), smart punctuation off.

Examples that still fail, and why (kept in KNOWN_*_FAILURES below; the test fails if one
starts passing or another starts failing):

CommonMark, 3 of 652 (649 pass), all from GFM's extended autolinks, which quire turns on
as GitHub and Hugo do (with them off, 652/652: test_commonmark_without_bare_url_links):
- 608 `< https://foo.bar >`, 611 `https://example.com`, 612 `foo@bar.example.com`: plain
  CommonMark leaves bare URLs and addresses as text.
GFM extensions, 1 of 24 (23 pass):
- 653 tagfilter: GitHub escapes <title>, <style>, <xmp>...; quire's authors are trusted
  and raw HTML passes through untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from html_normalize import normalize

from quire.config import MarkdownSettings
from quire.model import Shortcode
from quire.render import commonmark
from quire.render.markdown import render_body

FIXTURES = Path(__file__).parent / "fixtures" / "commonmark"
SPEC = json.loads((FIXTURES / "spec-0.31.2.json").read_text(encoding="utf-8"))
GFM = json.loads((FIXTURES / "gfm-extensions.json").read_text(encoding="utf-8"))

KNOWN_SPEC_FAILURES = {
    608: "GFM bare-URL autolink inside < >",
    611: "GFM bare-URL autolink",
    612: "GFM bare e-mail autolink",
}
KNOWN_GFM_FAILURES = {653: "tagfilter: raw HTML is trusted and passes through"}
NOT_SMART = MarkdownSettings(smart=False)


def _no_shortcodes(shortcode: Shortcode) -> str:
    raise AssertionError(f"no spec example holds a shortcode ({shortcode.name})")


def _through_pipeline(example: dict) -> str:
    body, problems = render_body(example["markdown"], 1, "spec.md", _no_shortcodes, NOT_SMART)
    assert not problems
    return body.html


def _failing(examples: list[dict]) -> list[int]:
    return [
        e["example"]
        for e in examples
        if normalize(_through_pipeline(e), ignore_heading_ids=True) != normalize(e["html"])
    ]


def test_fixture_counts() -> None:
    assert len(SPEC) == 652  # 0.31.2 has 652 examples (issue 12 said 655: a miscount)
    assert len(GFM) == 24


def test_commonmark_spec_pass_count() -> None:
    failed = _failing(SPEC)
    print(f"\nCommonMark 0.31.2: {len(SPEC) - len(failed)}/{len(SPEC)}; failing {failed}")
    assert set(failed) == set(KNOWN_SPEC_FAILURES)
    assert len(SPEC) - len(failed) >= 647


def test_gfm_extension_pass_count() -> None:
    failed = _failing(GFM)
    print(f"\nGFM extensions: {len(GFM) - len(failed)}/{len(GFM)}; failing {failed}")
    assert set(failed) == set(KNOWN_GFM_FAILURES)
    assert len(GFM) - len(failed) >= 21


def test_commonmark_without_bare_url_links() -> None:
    """The engine alone, GFM's extended autolinks off: every CommonMark example passes."""
    failed = [
        e["example"]
        for e in SPEC
        if normalize(commonmark.render(e["markdown"], smart=False, autolink=False)[0],
                     ignore_heading_ids=True) != normalize(e["html"])
    ]  # fmt: skip
    assert failed == []


@pytest.mark.parametrize("example", SPEC[:40] + GFM, ids=lambda e: str(e["example"]))
def test_without_highlighting_the_markup_is_the_specs(example: dict) -> None:
    """highlight=False gives the spec's own <pre><code>, no unwrapping in the comparison."""
    if example["example"] in KNOWN_GFM_FAILURES:
        return
    got, _ = commonmark.render(example["markdown"], smart=False, highlight=False)
    assert normalize(got, unwrap_highlight=False, ignore_heading_ids=True) == normalize(
        example["html"], unwrap_highlight=False
    )
