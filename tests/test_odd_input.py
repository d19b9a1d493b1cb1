"""Huge, empty, mis-encoded and strangely written input: a site, or a clear path:line error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import feedparser
import lxml.html
import pytest
from conftest import build_site, post, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quire.problems import Problem
from quire.read.content import ReadOptions, parse_date, parse_text


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("Build failed")]


def raw(site: Path, name: str, data: bytes) -> Path:
    path = site / "content" / "posts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def h1(out: Path, slug: str) -> str:
    doc = lxml.html.fromstring((out / "posts" / slug / "index.html").read_bytes())
    return doc.xpath("string(//h1)")


def test_broken_files_are_all_reported_at_once_and_output_is_kept(site, tmp_path):
    out = tmp_path / "out"
    post(site, "good", "Good")
    assert build_site(site, out)[0] == 0
    before = snapshot(out)

    raw(site, "empty.md", b"")
    raw(site, "cp1252.md", b"---\ntitle: Fine\ndate: 2025-01-01\n---\n\nA \x93quoted\x94 word.\n")
    raw(site, "dup.md", b"---\ntitle: One\ndate: 2025-01-01\ntitle: Two\n---\nx\n")
    raw(site, "baddate.md", b"---\ntitle: Bad\ndate: 2025-13-45\n---\nx\n")
    raw(site, "toml-dup.md", b'+++\ntitle = "a"\ndate = 2025-01-01\ntitle = "b"\n+++\nx\n')
    code, _, err = build_site(site, out)
    assert code == 1
    lines = errors(err)
    assert "content/posts/empty.md:1: no front matter: start the file with ---" in lines
    assert "content/posts/cp1252.md:6: file is not UTF-8 (byte 0x93); save it as UTF-8" in lines
    assert "content/posts/dup.md:4: duplicate key 'title' (first on line 2)" in lines
    assert any(line.startswith("content/posts/baddate.md:3: ") for line in lines)
    assert any(line.startswith("content/posts/toml-dup.md:") and "title" in line for line in lines)
    assert len(lines) == 5, lines
    assert "Traceback" not in err
    assert snapshot(out) == before


def test_nested_duplicate_keys_and_alias_bombs(site, tmp_path):
    raw(site, "nested.md", b"---\ntitle: N\ndate: 2025-01-01\nextra:\n  a: 1\n  a: 2\n---\nx\n")
    bomb = ["---", "title: Bomb", "date: 2025-01-01", "l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
    raw(site, "bomb.md", ("\n".join(bomb) + "\n---\nx\n").encode())
    raw(site, "loop.md", b"---\ntitle: L\ndate: 2025-01-01\nme: &me [1, *me]\n---\nx\n")
    # no clock: "too large" shows the alias expansion was capped; a hang is pytest-timeout's
    code, _, err = build_site(site, tmp_path / "out")
    assert code == 1
    lines = errors(err)
    assert "content/posts/nested.md:6: duplicate key 'a' (first on line 5)" in lines
    assert any(line.startswith("content/posts/bomb.md:") and "too large" in line for line in lines)
    assert any(line.startswith("content/posts/loop.md:4:") for line in lines), lines


def test_empty_front_matter_only_file_bom_and_crlf(site, tmp_path):
    out = tmp_path / "out"
    raw(site, "only.md", b"---\ntitle: Only front matter\ndate: 2025-01-01\n---")
    raw(site, "bom.md", "\ufeff---\ntitle: With BOM\ndate: 2025-01-02\n---\nHi\n".encode())
    crlf = (
        "---\r\ntitle: Windows\r\ndate: 2025-01-03\r\n---\r\n\r\nLine one\r\n\r\n{{< nope >}}\r\n"
    )
    raw(site, "crlf.md", crlf.encode())
    code, _, err = build_site(site, out)
    # the unknown shortcode is reported on its real line despite \r\n endings
    assert code == 1 and errors(err) == [
        "content/posts/crlf.md:8: unknown shortcode 'nope' (no templates/shortcodes/nope.html)"
    ]
    raw(site, "crlf.md", crlf.replace("{{< nope >}}", "Line two").encode())
    code, _, err = build_site(site, out)
    assert code == 0, err
    assert h1(out, "only") == "Only front matter"
    assert h1(out, "bom") == "With BOM"
    assert h1(out, "crlf") == "Windows"
    body = (out / "posts" / "crlf" / "index.html").read_text()
    assert "\r" not in body and "Line two" in body


def test_ten_thousand_tags_is_a_clear_error_not_a_hang(site, tmp_path):
    tags = ", ".join(f"tag{i}" for i in range(10_000))
    post(site, "many", "Many", tags=f"[{tags}]")
    post(site, "punct", "Punct", category='["!!!"]')
    # no clock: the error shows the tags were refused, not processed; a hang is pytest-timeout's
    code, _, err = build_site(site, tmp_path / "out")
    assert code == 1
    assert errors(err) == [
        "content/posts/many.md:4: too many tags (10000; at most 200 per post)",
        "content/posts/punct.md:4: cannot make a URL from the name '!!!' in 'category'"
        " (URL slugs use letters and digits)",
    ]


def test_names_in_other_scripts_keep_their_letters(site, tmp_path):
    post(site, "jp", "JP", category='["日本語"]', tags="[Ελλάδα, macOS]")
    out = tmp_path / "out"
    code, _, err = build_site(site, out)
    assert code == 0, err
    assert (out / "categories" / "日本語" / "index.html").is_file()
    assert (out / "tags" / "ελλάδα" / "feed.xml").is_file()


def test_two_hundred_tags_build(site, tmp_path):
    out = tmp_path / "out"
    post(site, "many", "Many", tags="[" + ", ".join(f"t{i}" for i in range(200)) + "]")
    post(site, "other", "Other", tags="[t7]")
    code, _, err = build_site(site, out)
    assert code == 0, err
    assert len(list((out / "tags").glob("*/index.html"))) == 200
    doc = lxml.html.fromstring((out / "posts" / "many" / "index.html").read_bytes())
    assert len(doc.xpath("//a[@rel='tag']")) == 200


def test_control_characters_from_yaml_escapes_are_removed(site, tmp_path):
    out = tmp_path / "out"
    raw(site, "ctl.md", b'---\ntitle: "A\\x00B\\x0bC\\uFFFE D\\tE"\ndate: 2025-01-01\n---\nx\n')
    code, _, err = build_site(site, out)
    assert code == 0, err
    assert h1(out, "ctl") == "ABC D\tE"
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo and feed.entries[0].title == "ABC D\tE"


# ---------------------------------------------------------------- dates

DATES = {
    # front matter value -> the instant it means (site zone Europe/Berlin: +01:00 in winter)
    "2025-01-31": "2025-01-30T23:00:00+00:00",
    '"2025-01-31T10:00:00Z"': "2025-01-31T10:00:00+00:00",
    "2025-01-31 10:00:00 +02:00": "2025-01-31T08:00:00+00:00",
    '"2025-01-31 10:00:00 +0200"': "2025-01-31T08:00:00+00:00",
    '"2025-01-31T10:00:00.5-05:00"': "2025-01-31T15:00:00.5+00:00",
    '"2025-01-31 10:00 UTC"': "2025-01-31T10:00:00+00:00",
    '"2025/01/31 10:00"': "2025-01-31T09:00:00+00:00",
    '"31 January 2025"': "2025-01-30T23:00:00+00:00",
    '"January 31, 2025"': "2025-01-30T23:00:00+00:00",
    '"Fri, 31 Jan 2025 10:00:00 GMT"': "2025-01-31T10:00:00+00:00",
    '"Fri, 31 Jan 2025 10:00:00 -0800"': "2025-01-31T18:00:00+00:00",
    '"20250131T100000Z"': "2025-01-31T10:00:00+00:00",
}


def test_dates_in_many_forms_and_zones_are_normalised(site, tmp_path):
    write(
        site / "site.toml",
        'title = "T"\nbase_url = "https://b.example/"\ntimezone = "Europe/Berlin"\n',
    )
    out = tmp_path / "out"
    for i, value in enumerate(DATES):
        post(site, f"p{i}", f"Post {i}", date=value)
    code, _, err = build_site(site, out)
    assert code == 0, err
    for name in ("feed.xml", "atom.xml"):
        feed = feedparser.parse((out / name).read_bytes())
        assert not feed.bozo
        got = {e.title: dt.datetime(*e.published_parsed[:6], tzinfo=dt.UTC) for e in feed.entries}
        for i, expected in enumerate(DATES.values()):
            want = dt.datetime.fromisoformat(expected).replace(microsecond=0)
            assert got[f"Post {i}"] == want, (name, list(DATES)[i])
    # the home page lists them newest first by instant, whatever form they were written in
    doc = lxml.html.fromstring((out / "index.html").read_bytes())
    shown = [t.get("datetime") for t in doc.xpath("//article//time")]
    instants = [dt.datetime.fromisoformat(s) for s in shown]
    assert instants == sorted(instants, reverse=True)


@pytest.mark.parametrize("value", ['"tomorrow"', '"0001-01-01T00:00:00+14:00"', "[2025]", "yes"])
def test_unreadable_dates_are_errors_on_their_line(site, tmp_path, value):
    post(site, "bad", "Bad", date=value)
    code, _, err = build_site(site, tmp_path / "out")
    assert code == 1
    [line] = errors(err)
    assert line.startswith("content/posts/bad.md:3: ") and "date" in line


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=40), st.datetimes(), st.dates(), st.integers()))
def test_parse_date_gives_an_aware_date_or_none(value):
    result = parse_date(value, "America/New_York")
    if result is not None:
        assert result.tzinfo is not None and 1000 <= result.year <= 9998
        result.astimezone(dt.UTC)  # never overflows


# ---------------------------------------------------------------- the reader, fuzzed

front_matter_soup = st.lists(
    st.sampled_from(
        [
            "---\n",
            "+++\n",
            "title: ",
            "date: ",
            "tags: ",
            "slug: ",
            "2025-01-01",
            "2025-13-45",
            '"',
            "'",
            "[",
            "]",
            "{",
            "}",
            ",",
            ":",
            "\n",
            " ",
            "&a ",
            "*a",
            "!!binary ",
            "x",
            "\\x00",
            "\\ud800",
            "? ",
            "- ",
            "|",
            ">",
            "#",
            "\t",
            "\ufeff",
            "\r\n",
            "=",
            "é",
            "title = ",
            "date = ",
            "related: ",
            "draft: ",
            "yes",
            "null",
            "~",
            "<<: ",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(front_matter_soup, st.text(max_size=300)))
def test_parse_text_gives_a_post_or_problems(text):
    post_, problems = parse_text(text, Path("x.md"), "x.md", "post", ReadOptions())
    assert (post_ is None) == bool(problems)
    for problem in problems:
        assert isinstance(problem, Problem) and problem.path == "x.md"
        assert problem.line is None or 1 <= problem.line <= text.count("\n") + text.count("\r") + 2
    if post_ is not None:
        assert post_.title and post_.slug and post_.url.startswith("/")
        for value in (post_.title, post_.summary, *post_.tags, *post_.categories):
            value.encode("utf-8")  # no lone surrogates
