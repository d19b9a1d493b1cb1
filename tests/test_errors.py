"""Bad input: a named `path:line: message`, exit 1, every problem in one run, old output untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import build_site, post, write


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def good(site: Path) -> tuple[Path, Path, dict[str, str]]:
    """A site that built once: returns (site, output, digest of that output)."""
    write(
        site / "content" / "products.yaml",
        "dock:\n  name: Dock\n  price: $99\n  links:\n    - store: Shop\n      url: https://shop.example.com/dock\n",
    )
    post(site, "first", "First", "2024-01-01", 'Text {{< buy "dock" >}}', tags="[a]")
    post(site, "second", "Second", "2024-01-02", "More text.", tags="[a]")
    out = site.parent / "out"
    code, _, stderr = build_site(site, out)
    assert code == 0, stderr
    return site, out, tree_digest(out)


def fails_with(good, *expected: str) -> str:
    site, out, before = good
    code, stdout, stderr = build_site(site, out)
    assert code == 1, stdout + stderr
    for text in expected:
        assert text in stderr, stderr
    assert "Traceback" not in stderr
    assert tree_digest(out) == before, "the previous output must be left as it was"
    assert not list(out.parent.glob(".quire-tmp-*")), "no staging folder left behind"
    return stderr


def test_broken_yaml(good):
    write(good[0] / "content" / "posts" / "bad.md", '---\ntitle: "Bad\ndate: 2024-01-01\n---\nx\n')
    fails_with(good, "content/posts/bad.md:", "invalid YAML front matter")


def test_broken_yaml_names_the_line(good):
    write(
        good[0] / "content" / "posts" / "bad.md",
        "---\ntitle: Fine\ndate: 2024-01-01\ntags: [a, b\n---\nx\n",
    )
    stderr = fails_with(good, "invalid YAML front matter")
    line = int(stderr.split("content/posts/bad.md:")[1].split(":")[0])
    assert 4 <= line <= 5


def test_missing_title_and_date_reported_together(good):
    write(good[0] / "content" / "posts" / "notitle.md", "---\ndate: 2024-01-01\n---\nx\n")
    write(good[0] / "content" / "posts" / "nodate.md", "---\ntitle: No date\n---\nx\n")
    fails_with(
        good,
        "content/posts/notitle.md:",
        "missing required front matter field 'title'",
        "content/posts/nodate.md:",
        "missing required front matter field 'date'",
    )


def test_unparseable_date_names_its_line(good):
    write(
        good[0] / "content" / "posts" / "when.md", "---\ntitle: When\ndate: next tuesday\n---\nx\n"
    )
    fails_with(good, "content/posts/when.md:3:", "cannot read 'date'")


def test_unknown_shortcode_names_its_line(good):
    post(good[0], "sc", "SC", "2024-02-01", "One.\n\nTwo.\n\n{{< mastodon 123 >}}")
    stderr = fails_with(good, "unknown shortcode 'mastodon'")
    assert "content/posts/sc.md:10:" in stderr


def test_unknown_product_id(good):
    post(good[0], "buy", "Buy", "2024-02-01", '{{< buy "nope" >}}')
    fails_with(good, "content/posts/buy.md:6:", "unknown product id 'nope'")


def test_duplicate_slug(good):
    write(
        good[0] / "content" / "posts" / "copy.md",
        "---\ntitle: Copy\ndate: 2024-02-01\nslug: first\n---\nx\n",
    )
    fails_with(
        good,
        "content/posts/copy.md:4: duplicate slug 'first'",
        "content/posts/first.md:1: duplicate slug",
    )


def test_not_utf8(good):
    path = good[0] / "content" / "posts" / "latin.md"
    path.write_bytes("---\ntitle: Caf\xe9\ndate: 2024-01-01\n---\n".encode("cp1252"))
    fails_with(good, "content/posts/latin.md:2:", "not UTF-8")


def test_template_error_names_template_and_line(good):
    write(good[0] / "templates" / "post.html", "line one\n{{ post.title }}\n{% if %}\n")
    fails_with(good, "templates/post.html:3:", "template syntax error")


def test_template_runtime_error(good):
    write(good[0] / "templates" / "list.html", "ok\n{{ 1 // 0 }}\n")
    fails_with(good, "templates/list.html:2:", "ZeroDivisionError")


def test_bad_site_toml_key(good):
    write(good[0] / "site.toml", 'title = "T"\npost_per_page = 3\n')
    fails_with(good, "site.toml:2:", "unknown key 'post_per_page'")


def test_bad_product_url(good):
    write(
        good[0] / "content" / "products.yaml",
        "dock:\n  name: Dock\n  links:\n    - store: Shop\n      url: javascript:alert(1)\n",
    )
    fails_with(good, "content/products.yaml:5:", "not allowed")


def test_every_problem_in_one_run(good):
    write(good[0] / "content" / "posts" / "a.md", "---\ndate: 2024-01-01\n---\n")
    write(good[0] / "content" / "posts" / "b.md", "---\ntitle: B\ndate: soon\n---\n")
    post(good[0], "c", "C", "2024-02-01", '{{< buy "nope" >}}')
    stderr = fails_with(
        good, "content/posts/a.md:", "content/posts/b.md:3:", "content/posts/c.md:6:"
    )
    assert "3 problem(s)" in stderr


def test_no_traceback_for_missing_site(tmp_path: Path):
    code, _, stderr = build_site(tmp_path / "nowhere", tmp_path / "out")
    assert code == 1
    assert "site.toml not found" in stderr


def test_problems_found_by_parallel_readers_are_all_reported(site: Path):
    """Over 50 files are parsed in worker processes: their problems still come back, each
    with its line, and a file that failed in one build is read again in the next."""
    for n in range(60):
        post(site, f"p{n:02d}", f"Post {n}", "2024-01-01")
    write(
        site / "content" / "posts" / "p07.md", "---\ntitle: [unclosed\ndate: 2024-01-01\n---\nx\n"
    )
    write(site / "content" / "posts" / "p42.md", "---\ntitle: Fine\ndate: not-a-date\n---\nx\n")
    code, _, err = build_site(site, None, "--jobs", "2")
    assert code == 1
    assert "content/posts/p07.md:3: invalid YAML" in err and "content/posts/p42.md:3:" in err
    post(site, "p07", "Seven", "2024-01-01")
    post(site, "p42", "Forty-two", "2024-01-01")
    code, out, err = build_site(site, None, "--jobs", "2")
    assert code == 0, err
    assert (site.parent / "out" / "posts" / "p42" / "index.html").is_file()
