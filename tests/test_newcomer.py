"""Defects a newcomer meets in the first hour (issue 17), each pinned by a real build."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, build_site, post, write
from lxml import html

from quire.commands import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def page(out: Path, rel: str) -> html.HtmlElement:
    return html.fromstring((out / rel).read_bytes())


# ---------------------------------------------------------------- dek


def test_dek_only_from_the_posts_own_summary(site: Path):
    post(site, "plain", "Plain", body="The first paragraph, said once.\n\nMore.")
    post(site, "given", "Given", "2025-01-02", body="Body text.", summary='"The dek."')
    post(site, "described", "Described", "2025-01-03", body="Body.", description='"A desc."')
    out = site.parent / "out"
    assert build_site(site, out)[0] == 0
    plain = page(out, "posts/plain/index.html")
    assert plain.xpath("//*[contains(@class, 'post-dek')]") == []
    assert plain.xpath("string(//main)").count("The first paragraph, said once.") == 1
    for slug, dek in (("given", "The dek."), ("described", "A desc.")):
        tree = page(out, f"posts/{slug}/index.html")
        assert [p.text for p in tree.xpath("//p[contains(@class, 'post-dek')]")] == [dek]
    # lists still show the first paragraph as the summary
    home = page(out, "index.html")
    assert "The first paragraph, said once." in home.text_content()


# ---------------------------------------------------------------- table of contents


def test_toc_shown_from_three_headings(site: Path):
    post(site, "two", "Two", body="Intro.\n\n## A\n\nx\n\n## B\n\ny")
    post(site, "three", "Three", "2025-01-02", body="Intro.\n\n## A\n\nx\n\n## B\n\n### C\n\nz")
    out = site.parent / "out"
    assert build_site(site, out)[0] == 0
    assert page(out, "posts/two/index.html").xpath("//details") == []
    tree = page(out, "posts/three/index.html")
    (toc,) = tree.xpath("//details[contains(@class, 'post-toc')]")
    assert toc.get("open") is not None  # open on wide screens; a script folds it on phones
    assert toc.xpath("./summary/text()") == ["Contents"]
    assert toc.xpath(".//nav//a/@href") == ["#a", "#b", "#c"]
    assert tree.xpath("//*[@id='a']") and tree.xpath("//*[@id='c']")


# ---------------------------------------------------------------- base_url


def test_missing_base_url_warns_on_build_and_stops_deploy(tmp_path: Path):
    site = tmp_path / "site"
    write(site / "site.toml", 'title = "T"\n[deploy]\ntarget = "dir:../public"\n')
    post(site, "p", "P")
    code, _, stderr = build_site(site, tmp_path / "out")
    assert code == 0
    assert "site.toml: warning: base_url is not set" in stderr
    assert "http://localhost:8000/" in stderr
    code, _, stderr = build_site(site, tmp_path / "out2", "--base-url", "https://x.example/")
    assert code == 0 and "base_url" not in stderr
    code, _, stderr = run("deploy", "--site", str(site), "--output", str(tmp_path / "o3"))
    assert code == 1
    assert "base_url is not set" in stderr and "Not deployed" in stderr
    assert not (tmp_path / "public").exists()
    write(site / "site.toml", 'title = "T"\nbase_url = "https://x.example/"\n'
          '[deploy]\ntarget = "dir:../public"\n')  # fmt: skip
    code, _, stderr = run("deploy", "--site", str(site), "--output", str(tmp_path / "o4"))
    assert code == 0, stderr
    assert (tmp_path / "public" / "index.html").is_file()


# ---------------------------------------------------------------- --help


def test_help_imports_no_markdown_jinja_or_feedgen():
    probe = (
        "import sys, contextlib, io\n"
        "from quire.commands import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in ('markdown', 'jinja2', 'feedgen', 'yaml', 'numpy', 'lxml',\n"
        "    'frontmatter', 'pygments', 'quire.pipeline') if m in sys.modules)\n"
        "print(heavy, 'init' in out.getvalue() and 'serve' in out.getvalue())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[] True"


def test_every_command_is_listed_with_its_own_help():
    from quire.commands import COMMANDS, command_module, parser

    for name, (_, listed) in COMMANDS.items():
        ap = parser(name)
        sub = next(a for a in ap._actions if a.dest == "command")
        (real,) = [c for c in sub._choices_actions if c.dest == name]
        assert real.help == listed, name
        assert callable(command_module(name).run)
        args = {"import": ["hugo", "x", "--site", "y"], "new": ["T"]}.get(name, [])
        assert ap.parse_args([name, *args]).run is command_module(name).run


# ---------------------------------------------------------------- new


def test_new_drops_apostrophes_and_leaves_out_empty_fields(site: Path):
    code, out, err = run("new", "That's what Apple’s doing", "--site", str(site))
    assert code == 0, err
    path = Path(out.strip())
    assert path.name == "thats-what-apples-doing.md"
    text = path.read_text()
    assert "category" not in text and "tags" not in text


# ---------------------------------------------------------------- summary line


def test_one_post_is_singular(site: Path):
    post(site, "only", "Only")
    code, stdout, _ = build_site(site, site.parent / "out")
    assert code == 0
    assert re.match(r"Built 1 post, \d+ pages \(", stdout), stdout


# ---------------------------------------------------------------- YAML errors


def test_unclosed_quote_is_placed_where_it_opens(site: Path):
    write(
        site / "content/posts/q.md",
        '---\ntitle: "Unclosed\ndate: 2025-01-01\ntags: [a, b]\n---\n\nBody.\n',
    )
    write(site / "content/posts/s.md", "---\ntitle: S\nnote: 'oops\ndate: 2025-01-01\n---\n\nB\n")
    code, _, stderr = build_site(site, site.parent / "out")
    assert code == 1
    assert "content/posts/q.md:2: " in stderr and '" quote' in stderr
    assert "content/posts/s.md:3: " in stderr and "' quote" in stderr


@pytest.mark.parametrize(
    "front", ["title: T\ndate: 2025-01-01\ntags:\n\t- a\n", "\ttitle: T\ndate: 2025-01-01\n"]
)
def test_a_tab_in_yaml_says_tab(site: Path, front: str):
    write(site / "content/posts/t.md", f"---\n{front}---\n\nBody.\n")
    code, _, stderr = build_site(site, site.parent / "out")
    assert code == 1
    line = front.split("\n").index(next(x for x in front.split("\n") if "\t" in x)) + 2
    assert f"content/posts/t.md:{line}: invalid YAML front matter: a tab character" in stderr


# ---------------------------------------------------------------- warnings


def test_no_single_use_tag_warnings_cold_or_cached(site: Path):
    post(site, "a", "A", tags="[one, shared]")
    post(site, "b", "B", "2025-01-02", tags="[two, shared]")
    out = site.parent / "out"
    code, _, cold = build_site(site, out)
    assert code == 0 and cold == ""
    post(site, "c", "C", "2025-01-03", tags="[three]")
    code, _, warm = build_site(site, out)
    assert code == 0 and warm == ""
    code, _, unchanged = build_site(site, out)
    assert code == 0 and unchanged == ""


# ---------------------------------------------------------------- dates, tables, footer, terms


def test_one_date_format_in_lists_posts_and_search(site: Path):
    post(site, "d", "Dated", "2026-11-04T10:00:00Z", tags="[x]")
    out = site.parent / "out"
    assert build_site(site, out)[0] == 0
    shown = {
        page(out, rel).xpath("string(//time[@datetime][1])")
        for rel in ("index.html", "posts/d/index.html", "tags/x/index.html")
    }
    assert shown == {"4 November 2026"}
    (doc,) = json.loads((out / "search/index.json").read_text())["docs"]
    assert doc["f"] == "4 November 2026" and doc["d"] == "2026-11-04"
    js = (out / "js/search.js").read_text()
    assert "hit.doc.f" in js


def test_tables_scroll_in_a_box(site: Path):
    post(site, "t", "Table", body="Intro.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nAfter.")
    out = site.parent / "out"
    assert build_site(site, out)[0] == 0
    tree = page(out, "posts/t/index.html")
    (box,) = tree.xpath("//div[contains(@class, 'table-scroll')]")
    assert box.xpath("./table") and box.get("tabindex") == "0"
    css = (out / "css/style.css").read_text()
    rule = css[css.index(".table-scroll {") :].split("}", 1)[0]
    assert "overflow-x: auto" in rule and "local" in rule  # edge shadows that scroll


def test_footer_feed_links_name_the_format(site: Path):
    post(site, "p", "P", tags="[mac]")
    out = site.parent / "out"
    assert build_site(site, out)[0] == 0
    home = page(out, "index.html")
    assert home.xpath("//footer//a[@type]/text()") == ["RSS", "Atom"]
    tag = page(out, "tags/mac/index.html")
    assert tag.xpath("//footer//a[@type]/text()") == ["mac (RSS)", "RSS", "Atom"]
    # the <link> titles still name the site, for feed readers
    assert "Test Blog (RSS)" in home.xpath("//link[@rel='alternate']/@title")


def test_term_counts_have_no_aria_label_on_a_span(site: Path):
    post(site, "p", "P", tags="[mac]", category="News")
    out = site.parent / "out"
    assert build_site(site, out)[0] == 0
    for rel in ("tags/index.html", "categories/index.html"):
        tree = page(out, rel)
        assert tree.xpath("//span[@aria-label]") == []
        (count,) = tree.xpath("//span[@class='count']")
        assert count.text_content() == "1 article"
