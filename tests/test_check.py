"""quire check: the build's own checks, then every internal link, image and #fragment."""

from __future__ import annotations

import contextlib
import http.server
import io
import os
import tempfile
import threading
import time
from pathlib import Path

import pytest
from conftest import post, write

from quire.commands import main

PRODUCTS = """
air:
  name: MacBook Air
  price: "$999"
  image: /images/air.svg
  links:
    - store: Apple
      url: https://www.apple.com/macbook-air/
"""


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.fixture
def blog(site: Path, tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    write(site / "content" / "products.yaml", PRODUCTS)
    write(site / "content" / "images" / "air.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>")
    post(
        site,
        "first",
        "First post",
        "2025-01-01",
        """
        Intro with a [link to the second](/posts/second/) post.

        ## Benchmarks

        Numbers. See [below](#benchmarks) and [the other](../second/#details).

        ![chart](/images/air.svg)

        {{< buy "air" >}}
        """,
        tags="[mac]",
    )
    post(site, "second", "Second post", "2025-01-02", "## Details\n\nText.", tags="[mac]")
    return site


def test_a_good_site_passes_and_nothing_is_written(blog, tmp_path):
    code, out, err = run("check", "--site", str(blog))
    assert code == 0, err
    assert "all good" in out
    assert not (blog / "output").exists()
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary build is gone


def test_a_check_leaves_the_build_cache_to_the_real_output(blog, tmp_path):
    """check builds into a temporary folder; the builds after it still trust the real
    output (a cache saved for the temporary folder made the next build render every page)."""
    from quire.model import BuildOptions
    from quire.pipeline import build

    out = blog / "output"
    first = build(BuildOptions(blog, out, jobs=1))
    assert first.rendered == first.pages > 5
    code, _, err = run("check", "--site", str(blog))
    assert code == 0, err
    unchanged = build(BuildOptions(blog, out, jobs=1))
    assert unchanged.rendered == 0
    second = blog / "content" / "posts" / "second.md"

    def edit_and_build(words: str):
        second.write_text(second.read_text() + f"\n{words}\n")
        os.utime(second, (time.time() - 10, time.time() - 10))  # not "just written"
        return build(BuildOptions(blog, out, jobs=1))

    after_check = edit_and_build("A last paragraph.")
    code, _, err = run("check", "--site", str(blog))
    assert code == 0, err
    alike = edit_and_build("Another last paragraph.")
    without_check = edit_and_build("A third last paragraph.")
    # the same edit costs the same with or without a check before it, and less than all
    assert after_check.rendered == alike.rendered == without_check.rendered < first.pages


def test_a_fragment_on_an_alias_is_looked_for_where_the_alias_sends(blog):
    """/old/second/#details is the moved page's alias: the id is looked for on the page it
    redirects to (the redirect page has none of its own), and a wrong one still reported."""
    second = blog / "content" / "posts" / "second.md"
    text = second.read_text().replace("title:", "aliases: [/old/second/]\ntitle:", 1)
    second.write_text(text)
    post(
        blog,
        "third",
        "Third",
        "2025-01-03",
        "[Moved](/old/second/#details), [gone](/old/second/#nope).",
    )
    code, _, err = run("check", "--site", str(blog))
    assert code == 1
    assert "no id 'nope' on that page" in err
    assert "details" not in err, err


def test_broken_links_point_at_the_markdown_line(blog):
    src = post(
        blog,
        "third",
        "Third",
        "2025-01-03",
        """
        Fine [home](/) and [relative](../first/) links.

        A [dead link](/posts/nope/) here.

        A [bad anchor](/posts/second/#nowhere) and ![chart](/images/air.svg).

        Relative and dead: [up](../../nothing/).
        """,
    )
    code, out, err = run("check", "--site", str(blog))
    assert code == 1
    lines = err.splitlines()
    expect = [
        (line_of(src, "dead link"), "'/posts/nope/': no such page"),
        (line_of(src, "bad anchor"), "'/posts/second/#nowhere': no id 'nowhere'"),
        (line_of(src, "[up]"), "'../../nothing/'"),
    ]
    for line, text in expect:
        assert any(
            entry.startswith(f"content/posts/third.md:{line}: ") and text in entry
            for entry in lines
        ), (line, text, err)
    assert "3 problem(s)" in err
    assert "relative" not in err and "'/'" not in err and "Traceback" not in err


def test_missing_markdown_image_is_a_build_error_on_its_line(blog):
    # the image stage needs every local image, so check stops at the build's report
    src = post(blog, "third", "Third", "2025-01-03", "Text.\n\n![lost](images/lost.png)\n")
    code, _, err = run("check", "--site", str(blog))
    assert code == 1
    line = line_of(src, "lost.png")
    assert f"content/posts/third.md:{line}: image not found: 'images/lost.png'" in err, err
    assert "Traceback" not in err


def test_missing_product_image_is_reported_once_at_products_yaml(blog):
    (blog / "content" / "images" / "air.svg").unlink()
    for n in range(3):
        post(blog, f"deal-{n}", f"Deal {n}", "2025-01-02", '{{< buy "air" >}}')
    code, _, err = run("check", "--site", str(blog))
    assert code == 1
    line = line_of(blog / "content" / "products.yaml", "/images/air.svg")
    reports = [e for e in err.splitlines() if "air.svg" in e]
    # first.md has the image in its Markdown too: that line is its own report
    assert f"content/posts/first.md:{line_of(blog / 'content/posts/first.md', 'air.svg')}: " in err
    yaml_reports = [e for e in reports if e.startswith(f"content/products.yaml:{line}: ")]
    assert len(yaml_reports) == 1  # once, however many buy boxes show it
    assert "image not found" in yaml_reports[0]  # the image stage's build error
    assert len(reports) == 2


def test_template_links_name_the_template(blog):
    write(
        blog / "templates" / "404.html",
        """
        {% extends "base.html" %}
        {% block content %}
        <p><a href="/gone-forever/">Old home</a></p>
        {% endblock %}
        """,
    )
    code, _, err = run("check", "--site", str(blog))
    assert code == 1
    assert (
        "templates/404.html:3: broken link '/gone-forever/': no such page or file (on /404.html)"
        in err
    )


def test_build_problems_are_all_reported(blog):
    post(blog, "bad", "Bad", "2025-01-04", '{{< buy "nope" >}}')
    write(blog / "content" / "posts" / "worse.md", "---\ntitle: [unclosed\n---\nx\n")
    code, out, err = run("check", "--site", str(blog))
    assert code == 1
    assert "content/posts/bad.md:" in err and "unknown product id 'nope'" in err
    assert "content/posts/worse.md:" in err and "invalid YAML" in err
    assert "links not checked" in err and "Traceback" not in err
    assert not (blog / "output").exists()


def test_site_in_a_sub_folder(site):
    write(site / "site.toml", 'title = "T"\nbase_url = "https://example.org/blog/"\n')
    post(site, "a", "A", "2025-01-01", "[good](/posts/b/) and [also good](../b/)")
    src = post(
        site,
        "b",
        "B",
        "2025-01-02",
        "Text.\n\nSee [the dead\nlink](/posts/zzz/)\n\n[same host](https://example.org/shop/)",
    )
    code, _, err = run("check", "--site", str(site))
    assert code == 1
    dead = line_of(src, "/posts/zzz/")
    assert f"content/posts/b.md:{dead}: broken link '/blog/posts/zzz/'" in err
    assert (
        f"content/posts/b.md:{line_of(src, 'same host')}: broken link "
        "'https://example.org/shop/': points outside the site (/blog/)"
    ) in err
    assert "content/posts/a.md" not in err
    assert "'/blog/posts/a/" not in err and "'/blog/posts/b/" not in err


# ---------------------------------------------------------------- --external, locally only


@pytest.fixture
def local_web():
    """An http.server on 127.0.0.1: /ok answers 200, the rest 404; it logs each request."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            seen.append(f"HEAD {self.path}")
            self.send_response(200 if self.path.startswith("/ok") else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_external_links_checked_only_when_asked(site, local_web):
    base, seen = local_web
    src = post(
        site, "ext", "External", "2025-01-01", f"[good]({base}/ok) and\n\n[bad]({base}/missing)"
    )
    code, out, err = run("check", "--site", str(site))
    assert code == 0, err
    assert seen == []
    code, out, err = run("check", "--site", str(site), "--external")
    assert code == 1
    assert (
        f"content/posts/ext.md:{line_of(src, '[bad]')}: broken link '{base}/missing': HTTP 404"
        in err
    )
    assert "/ok" not in err
    assert sorted(seen) == ["HEAD /missing", "HEAD /ok"]


def test_external_checks_are_bounded(site, local_web):
    base, seen = local_web
    links = "\n\n".join(f"[n{i}]({base}/ok/{i})" for i in range(5))
    post(site, "many", "Many", "2025-01-01", links)
    code, out, err = run("check", "--site", str(site), "--external", "--max-external", "2")
    assert code == 0, err
    assert len(seen) == 2
    assert "3 more not checked" in out


def test_unreachable_external_link(site):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    post(site, "down", "Down", "2025-01-01", f"[down](http://127.0.0.1:{port}/x)")
    code, _, err = run("check", "--site", str(site), "--external", "--timeout", "2")
    assert code == 1 and "unreachable" in err
