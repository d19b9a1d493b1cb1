"""The Markdown dialect, through real site builds: one fixture post per construct issue 12
names, with the default engine (CommonMark + GFM), and the same site with
`[markdown] engine = "python-markdown"`; smart punctuation in bodies, titles, summaries
and feeds; the engine settings in the cache key; the TOC."""

from __future__ import annotations

from pathlib import Path

import feedparser
import lxml.html
import pytest
from conftest import build_site, post, write

from quire.config import MarkdownSettings
from quire.render.markdown import Heading, render_body, smart_plain, toc_html

FIXTURES = {
    "list-after-paragraph": "Steps:\n* one\n* two\n",
    "two-space-nesting": "- a\n  - b\n    - c\n- d\n",
    "quotes": "> a\n\n> b\n",
    "table": "Results:\n| a | b |\n|---|--:|\n| 1 | 2 |\n",
    "alerts": "\n\n".join(
        f"> [!{kind}]\n> Mind the *gap*."
        for kind in ("NOTE", "TIP", "IMPORTANT", "WARNING", "CAUTION")
    ),
    "tasks": "- [ ] todo\n- [x] done ~~old~~\n",
    "autolinks": (
        "See https://example.com/a_(b). Or www.example.org, mail me@example.com.\n\n"
        "`https://in.code/` and [https://x.y](https://x.y/z) and <https://angle.example>\n"
    ),
    "footnotes": "B[^b] then A[^a] and B again[^b].\n\n[^a]: Note A.\n[^b]: Note B.\n",
    "heading-ids": (
        "## Hello, World!\n\n## Hello, World!\n\n## Hello, World!\n\n"
        "## Custom {#mine .wide}\n\n## `code` & C++ in 2025\n\n### See [the docs](/docs/)\n"
    ),
    "flags": (
        "\"Quoted\" and 'single', it's the '90s... wait --- really -- yes.\n\n"
        'Run `ssh --login "h"` or ssh --login host, rm -rf dir, tar -xzf f, and --verbose.\n\n'
        "Also ---weird, a [link](https://e.com/a--b...c) and "
        '<span title="a--b">"raw" x--y</span>\n\n'
        "```sh\nssh --login 'host' -- \"x\"...\n```\n"
    ),
    "math": "Inline $a_1 * b_2$ and\n\n$$\\sum_{i<n} x_i$$\n",
    "code": "```go {hl_lines=[2,3] linenos=true}\npackage main\nfunc a() {}\nfunc b() {}\n```\n\n"
    "```nosuchlang\nx = '<b>'\n```\n",
    "deflist": "Term\n: The definition.\n",
    "shortcode": "Before.\n\n{{< note >}}\nInner *md* with --flag and https://inner.example\n"
    "{{< /note >}}\n\nAfter.\n",
}


def _site(root: Path, engine: str | None = None) -> Path:
    toml = 'title = "Test Blog"\nbase_url = "https://blog.example.com/"\n'
    if engine:
        toml += f'\n[markdown]\nengine = "{engine}"\n'
    write(root / "site.toml", toml)
    write(
        root / "templates" / "shortcodes" / "note.html",
        '<aside class="note">{{ inner }}</aside>',
    )
    for slug, body in FIXTURES.items():
        post(root, slug, slug, body=body)
    write(
        root / "content" / "posts" / "titled.md",
        "---\n"
        "title: 'Use --login, it''s \"fast\"... -- really'\n"
        "summary: \"'Why' ssh --login matters -- a https://x.example/a--b...c note\"\n"
        "date: 2025-01-02\n"
        "---\nBody.\n",
    )
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("md")
    code, _, err = build_site(_site(root / "site"), root / "out")
    assert code == 0, err
    return root / "out"


@pytest.fixture(scope="module")
def built_pymd(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pymd")
    code, _, err = build_site(_site(root / "site", "python-markdown"), root / "out")
    assert code == 0, err
    return root / "out"


def body(out: Path, slug: str):
    doc = lxml.html.fromstring((out / "posts" / slug / "index.html").read_bytes())
    (content,) = doc.xpath("//div[contains(@class, 'post-content')]")
    return content


def test_list_right_after_paragraph(built: Path) -> None:
    doc = body(built, "list-after-paragraph")
    assert doc.xpath(".//p/text()") == ["Steps:"]
    assert doc.xpath(".//ul/li/text()") == ["one", "two"]


def test_two_space_nesting(built: Path) -> None:
    doc = body(built, "two-space-nesting")
    assert doc.xpath("./ul/li[1]/ul/li[1]/ul/li/text()") == ["c"]
    assert doc.xpath("./ul/li[2]/text()") == ["d"]


def test_separate_quotes_and_a_table_after_a_paragraph(built: Path) -> None:
    assert len(body(built, "quotes").xpath(".//blockquote")) == 2
    doc = body(built, "table")
    assert doc.xpath(".//th/text()") == ["a", "b"]
    assert doc.xpath(".//td[@align='right']/text()") == ["2"]


def test_github_alerts_become_callouts(built: Path) -> None:
    boxes = body(built, "alerts").xpath(".//div[contains(@class, 'callout')]")
    kinds = ["note", "tip", "important", "warning", "caution"]
    assert [b.get("class") for b in boxes] == [f"callout callout-{k}" for k in kinds]
    assert [b.xpath("p[@class='callout-title']/text()")[0] for b in boxes] == [
        k.title() for k in kinds
    ]
    assert all(b.xpath("p/em/text()") == ["gap"] for b in boxes)
    css = (built / "css" / "style.css").read_text()
    assert ".callout-warning" in css and css.count(".callout-note") >= 2  # light and dark


def test_task_lists_and_strikethrough(built: Path) -> None:
    doc = body(built, "tasks")
    boxes = doc.xpath(".//li/input[@type='checkbox']")
    assert [b.get("checked") is not None for b in boxes] == [False, True]
    assert all(b.get("disabled") is not None for b in boxes)
    assert doc.xpath(".//del/text()") == ["old"]


def test_bare_autolinks_outside_code_and_links(built: Path) -> None:
    doc = body(built, "autolinks")
    assert doc.xpath(".//a/@href") == [
        "https://example.com/a_(b)",
        "http://www.example.org",
        "mailto:me@example.com",
        "https://x.y/z",
        "https://angle.example",
    ]
    assert doc.xpath(".//code/text()") == ["https://in.code/"]


def test_footnotes_at_the_end_in_reference_order(built: Path) -> None:
    doc = body(built, "footnotes")
    assert doc.xpath(".//sup/a/text()") == ["1", "2", "1"]
    assert doc.xpath(".//div[@class='footnote']/ol/li/@id") == ["fn:b", "fn:a"]
    assert doc.xpath(".//a[@class='footnote-backref']/@href") == ["#fnref:b", "#fnref:a"]


def test_heading_ids_like_hugo(built: Path) -> None:
    doc = body(built, "heading-ids")
    assert doc.xpath(".//h2/@id") == [
        "hello-world",
        "hello-world-1",
        "hello-world-2",
        "mine",
        "code--c-in-2025",
    ]
    assert doc.xpath(".//h2[@id='mine']/@class") == ["wide"]
    assert doc.xpath(".//h3/@id") == ["see-the-docs"]


def test_smart_punctuation_leaves_flags_code_urls_and_attributes(built: Path) -> None:
    doc = body(built, "flags")
    p1, p2, p3 = doc.xpath("./p")
    assert p1.text_content() == (
        "\u201cQuoted\u201d and \u2018single\u2019, it\u2019s the \u201990s\u2026 wait "
        "\u2014 really \u2013 yes."
    )
    assert p2.text_content() == (
        'Run ssh --login "h" or ssh --login host, rm -rf dir, tar -xzf f, and --verbose.'
    )
    assert "---weird" in p3.text_content()
    assert doc.xpath(".//a/@href") == ["https://e.com/a--b...c"]
    assert doc.xpath(".//p//span/@title") == ["a--b"]
    # a raw tag is the author's; the text between tags is Markdown text, smartened
    assert doc.xpath(".//p//span/text()") == ["\u201craw\u201d x--y"]
    assert "ssh --login 'host' -- \"x\"..." in doc.xpath("string(.//pre)")


def test_math_kept_verbatim_with_a_class(built: Path) -> None:
    doc = body(built, "math")
    assert doc.xpath(".//span[@class='math math-inline']/text()") == ["$a_1 * b_2$"]
    assert doc.xpath(".//span[@class='math math-display']/text()") == ["$$\\sum_{i<n} x_i$$"]
    assert not doc.xpath(".//em")


def test_code_highlighting_with_hugo_attributes(built: Path) -> None:
    doc = body(built, "code")
    first, second = doc.xpath(".//div[@class='codehilite']")
    assert len(first.xpath(".//span[@class='hll']")) == 2
    assert first.xpath(".//td[@class='linenos']")
    assert second.xpath("string(.//code)") == "x = '<b>'\n"  # unknown language: plain text


def test_definition_list(built: Path) -> None:
    doc = body(built, "deflist")
    assert doc.xpath(".//dl/dt/text()") == ["Term"]


def test_paired_shortcode_inner_text_goes_through_the_engine(built: Path) -> None:
    doc = body(built, "shortcode")
    (aside,) = doc.xpath(".//aside[@class='note']")
    assert aside.xpath(".//em/text()") == ["md"]
    assert "--flag" in aside.text_content()
    assert aside.xpath(".//a/@href") == ["https://inner.example"]


def test_titles_summaries_and_feeds_get_the_same_punctuation(built: Path) -> None:
    title = "Use --login, it\u2019s \u201cfast\u201d\u2026 \u2013 really"
    summary = "\u2018Why\u2019 ssh --login matters \u2013 a https://x.example/a--b...c note"
    page = lxml.html.fromstring((built / "posts" / "titled" / "index.html").read_bytes())
    assert page.xpath("string(//h1[contains(@class, 'post-title')])") == title
    assert page.xpath("string(//p[contains(@class, 'post-dek')])") == summary
    for name in ("feed.xml", "atom.xml"):
        feed = feedparser.parse((built / name).read_bytes())
        (entry,) = [e for e in feed.entries if "/titled/" in e.link]
        assert entry.title == title
    assert summary in (built / "feed.xml").read_text(encoding="utf-8")  # RSS <description>


# ---------------------------------------------------------------- Python-Markdown


def test_python_markdown_engine_still_builds_a_site(built_pymd: Path) -> None:
    doc = body(built_pymd, "list-after-paragraph")
    assert "* one" in doc.text_content()  # Python-Markdown's dialect, as Pelican renders it
    doc = body(built_pymd, "heading-ids")  # shared: Hugo-style ids, {#id} wins
    assert doc.xpath(".//h2/@id") == [
        "hello-world",
        "hello-world-1",
        "hello-world-2",
        "mine",
        "code--c-in-2025",
    ]
    doc = body(built_pymd, "flags")  # shared smart punctuation
    assert "ssh --login host, rm -rf dir" in doc.xpath("string(./p[2])")
    assert "\u201cQuoted\u201d" in doc.xpath("string(./p[1])")
    assert doc.xpath(".//p//span/@title") == ["a--b"]
    doc = body(built_pymd, "shortcode")
    assert body(built_pymd, "shortcode").xpath(".//aside[@class='note']//em/text()") == ["md"]
    assert doc.xpath(".//div[@class='footnote']") == []
    notes = body(built_pymd, "footnotes").xpath(".//div[@class='footnote']/ol/li/@id")
    assert sorted(notes) == ["fn:a", "fn:b"]


# ---------------------------------------------------------------- settings and cache


def test_changing_engine_or_smart_renders_every_body_again(site: Path, tmp_path: Path) -> None:
    post(site, "a", "A", body='Steps:\n* one\n* two\n\n"Quoted" -- yes.')
    out = tmp_path / "out"

    def content() -> str:
        doc = lxml.html.fromstring((out / "posts" / "a" / "index.html").read_bytes())
        (div,) = doc.xpath("//div[contains(@class, 'post-content')]")
        return lxml.html.tostring(div, encoding="unicode")

    assert build_site(site, out)[0] == 0
    assert "<li>one</li>" in content() and "\u201cQuoted\u201d" in content()
    toml = (site / "site.toml").read_text()
    (site / "site.toml").write_text(toml + "\n[markdown]\nsmart = false\n")
    assert build_site(site, out)[0] == 0
    assert '"Quoted" -- yes' in content()
    (site / "site.toml").write_text(toml + '\n[markdown]\nengine = "python-markdown"\n')
    assert build_site(site, out)[0] == 0
    assert "<li>" not in content()
    cold = tmp_path / "cold"
    (site / ".quire-cache").rename(tmp_path / "old-cache")
    assert build_site(site, cold)[0] == 0
    assert (cold / "posts" / "a" / "index.html").read_bytes() == (
        out / "posts" / "a" / "index.html"
    ).read_bytes()


@pytest.mark.parametrize(
    "table, message",
    [
        ('engine = "goldmark"', "site.toml:5: 'markdown.engine' must be one of"),
        ('smart = "yes"', "site.toml:5: 'markdown.smart' must be true or false"),
        ("typographer = true", "site.toml:5: unknown key 'markdown.typographer'"),
    ],
)
def test_bad_markdown_settings_are_reported(site: Path, table: str, message: str) -> None:
    toml = (site / "site.toml").read_text()
    (site / "site.toml").write_text(toml + f"\n[markdown]\n{table}\n")
    code, _, err = build_site(site)
    assert code == 1 and message in err, err


# ---------------------------------------------------------------- units


def test_toc_from_headings_has_no_link_inside_a_link() -> None:
    headings = [
        Heading(2, "a", 'See <a href="/x" id="y">x</a>', "See x"),
        Heading(3, "a1", "A1", "A1"),
        Heading(2, "b", "<code>b</code>", "b"),
    ]
    toc = lxml.html.fromstring(toc_html(headings))
    assert toc.xpath("//div[@class='toc']/ul/li/a/@href") == ["#a", "#b"]
    assert toc.xpath("//li/ul/li/a/@href") == ["#a1"]
    assert toc.xpath("//a//a") == [] and toc.xpath("//@id") == []
    assert toc.xpath("//a/code/text()") == ["b"]


@pytest.mark.parametrize("engine", ["commonmark", "python-markdown"])
def test_rendered_toc_comes_from_the_headings(engine: str) -> None:
    text = "# T\n\n## A [link](/l)\n\n### A1\n\n## A [link](/l)\n"
    rendered, problems = render_body(text, 1, "p.md", str, MarkdownSettings(engine=engine))
    toc = lxml.html.fromstring(rendered.toc)
    assert toc.xpath("//a/@href") == ["#a-link", "#a1", "#a-link-1"]
    assert toc.xpath("//a//a") == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ssh --login host", "ssh --login host"),
        ("rm -rf / -- really", "rm -rf / \u2013 really"),
        ("git checkout --", "git checkout --"),
        ("--", "--"),
        ("a---b", "a\u2014b"),
        ("run ---verbose", "run ---verbose"),
        ("----", "----"),
        ("https://e.com/a--b...c 'x'", "https://e.com/a--b...c \u2018x\u2019"),
    ],
)
def test_smart_plain(text: str, expected: str) -> None:
    assert smart_plain(text, MarkdownSettings()) == expected
    assert smart_plain(text, MarkdownSettings(smart=False)) == text


def test_shortcode_placeholders_restored_with_their_paragraph():
    from quire.render.shortcodes import restore

    a, b, c = "QUIRESHORTCODE1x1QUIRE", "QUIRESHORTCODE1x2QUIRE", "QUIRESHORTCODE9x9QUIRE"
    parts = {a: "<div>A</div>", b: "<b>B</b>"}
    assert restore(f"{a}</p>", parts) == "<div>A</div></p>"  # at the start: nothing before
    assert restore(f"<p>{a}</p>\n<p>x {b} y</p>", parts) == "<div>A</div>\n<p>x <b>B</b> y</p>"
    assert restore(f"<p>{a}{b}</p>", parts) == "<p><div>A</div><b>B</b></p>"
    assert restore(f"<p>{c}</p>", parts) == f"<p>{c}</p>"  # unknown: left as it was
    assert restore("no tokens", parts) == "no tokens"


def test_prepare_makes_the_fences_lexers_once_for_every_worker() -> None:
    """render_bodies calls prepare before forking workers: the lexers the bodies' fences
    name are made there (once) and every later highlight of those languages reuses them."""
    from quire.render import markdown

    markdown._lexer.cache_clear()
    texts = [
        "Intro\n\n```go\nx := 1\n```\n",
        "~~~ Rust {linenos=true}\nfn a() {}\n~~~\n",
        "no code",
    ]
    markdown.prepare(MarkdownSettings(), texts)
    made = markdown._lexer.cache_info()
    assert made.currsize == 2  # go and rust
    html = markdown.highlight_block("x := 1\n", "go") + markdown.highlight_block("fn a()", "rust")
    assert 'class="codehilite"' in html
    after = markdown._lexer.cache_info()
    assert (after.misses, after.hits) == (made.misses, made.hits + 2)


LEXER_SAMPLES = {
    "python": 'def f(x, *a, **k):\n    """Doc."""\n    return f"{x!r:>{k}}" + rb"\\d" @ 0x1F\n',
    "go": 'package main\n\nfunc main() { s := `raw`; fmt.Println("hi", 1.5e3) } // c\n',
    "rust": 'fn main() { let s: &\'static str = r#"raw"#; println!("{s}"); } /* c */\n',
    "javascript": "const re = /a+b/g; let t = `x ${y + `z`}`; // c\nclass A extends B {}\n",
    "typescript": "type T<U> = { a?: U[] }; export default async () => await x as T<number>;\n",
    "bash": 'for f in *.md; do echo "${f%.md}" $((1+2)) <<EOF\nbody $f\nEOF\ndone\n',
    "c": '#include <stdio.h>\nint main(void) { char *s = "a\\n"; return 0x1F; }\n',
    "html": '<!DOCTYPE html>\n<p class="a">x &amp; y<script>let a = 1;</script><style>p{}</style>\n',
    "css": "@media (min-width: 36rem) { .a::before { content: '\\201C'; color: #fff } }\n",
    "yaml": "key: [1, 'two', \"three\"]\nblock: |\n  text\n# comment\n",
    "json": '{"a": [1, 2.5e-3, true, null], "b": {"c": "\\u00e9"}}\n',
    "sql": "SELECT a, COUNT(*) FROM t WHERE b LIKE 'x%' GROUP BY a; -- c\n",
    "diff": "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-old\n+new\n context\n",
    "toml": '[tool.x]\nkey = "v"\narr = [1, 2]\ndate = 2024-01-01T00:00:00Z\n',
    "ruby": 'def f(a) = puts "#{a}" unless a.nil?\n%w[a b].each { |x| p x }\n',
    "php": "<?php echo \"$a {$b['c']}\"; $x = <<<EOT\nhi\nEOT;\n?>\n",
    "text": "anything at all\n",
}


@pytest.mark.parametrize("lang", sorted(LEXER_SAMPLES))
def test_dispatching_lexers_give_pygments_tokens(lang: str, monkeypatch) -> None:
    """render/lexing.py finds each token's rule with one combined regex: the tokens must be
    Pygments' own, on real code and on broken code (unclosed strings, stray characters)."""
    from pygments.lexers import get_lexer_by_name

    from quire.render import lexing
    from quire.render.lexing import dispatching

    monkeypatch.setattr(lexing, "COMBINE_AFTER", 0)  # every state combined at once

    code = LEXER_SAMPLES[lang]
    for text in (code, code[: len(code) // 2], code + "\n\"'`/* <? ${ é 😀 \x00\t\r\n"):
        plain = get_lexer_by_name(lang, stripnl=False, ensurenl=False)
        fast = dispatching(get_lexer_by_name(lang, stripnl=False, ensurenl=False))
        assert list(fast.get_tokens(text)) == list(plain.get_tokens(text))


def test_a_state_is_combined_only_after_enough_tokens() -> None:
    """Combining a state's rules costs a compile: a few code blocks keep Pygments' search."""
    from pygments.lexers import get_lexer_by_name

    from quire.render import lexing

    fast = lexing.dispatching(get_lexer_by_name("python", stripnl=False, ensurenl=False))
    states = fast.get_tokens_unprocessed.states
    list(fast.get_tokens("x = 1\n"))
    assert all(type(v) is int for v in states.values())
    list(fast.get_tokens("x = 1\n" * lexing.COMBINE_AFTER))
    assert type(states["root"]) is tuple
