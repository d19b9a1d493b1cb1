"""quire new: a draft post or page that reads back with quire's reader and builds."""

from __future__ import annotations

import contextlib
import datetime as dt
import io

import pytest
from conftest import build_site, write

from quire.commands import main
from quire.read import content


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


TRICKY = [
    "Apple retires the iMac Pro",
    'Apple: "retires" the iMac Pro #1 --- really?',
    "It's 'fine': yes/no & <b>bold</b>",
    "Ünïcode Mac — Straße 日本",
    "- starts like a list item: [x] {y}",
    "true",
]


@pytest.mark.parametrize("title", TRICKY)
def test_new_post_reads_back_with_the_exact_title(site, title):
    code, out, err = run(
        "new", title, "--site", str(site), "--category", "Mac: Hardware", "--tags", "mac, m4 chip,"
    )
    assert code == 0, err
    path = site / "content" / "posts" / (out.strip().rsplit("/", 1)[-1])
    assert out.strip() == str(path) and path.is_file()
    post, problems = content.read_file(path, "post", site, content.ReadOptions())
    assert problems == []
    assert post.title == title
    assert post.draft is True
    assert post.tags == ("mac", "m4 chip")
    assert post.categories == ("Mac: Hardware",)
    assert post.slug == path.stem
    now = dt.datetime.now(dt.UTC)
    assert post.date.tzinfo is not None
    assert abs(now - post.date) < dt.timedelta(minutes=2)  # the draft is dated now


def test_date_carries_the_site_time_zone(site):
    write(site / "site.toml", 'title = "T"\ntimezone = "Asia/Tokyo"\n')
    code, out, _ = run("new", "Zoned", "--site", str(site))
    assert code == 0
    text = (site / "content" / "posts" / "zoned.md").read_text()
    assert "+09:00" in text
    assert "date: " in text


def test_new_post_builds_only_with_drafts(site, tmp_path):
    code, _, _ = run("new", "Apple retires the iMac Pro", "--site", str(site))
    assert code == 0
    page = tmp_path / "out" / "posts" / "apple-retires-the-imac-pro" / "index.html"
    assert build_site(site, tmp_path / "out")[0] == 0
    assert not page.exists()
    assert build_site(site, tmp_path / "out", "--drafts")[0] == 0
    html = page.read_text()
    assert "Apple retires the iMac Pro" in html
    assert "draft-badge" in html


def test_refuses_to_overwrite(site):
    assert run("new", "Same title", "--site", str(site))[0] == 0
    path = site / "content" / "posts" / "same-title.md"
    path.write_text(path.read_text() + "\nMy precious words.\n")
    before = path.read_bytes()
    code, out, err = run("new", "Same Title!", "--site", str(site))
    assert code == 1
    assert "content/posts/same-title.md already exists" in err
    assert "Traceback" not in err and out == ""
    assert path.read_bytes() == before


def test_page_goes_to_pages_and_has_no_date(site, tmp_path):
    code, out, _ = run("new", "About this site", "--page", "--site", str(site))
    assert code == 0
    path = site / "content" / "pages" / "about-this-site.md"
    assert out.strip() == str(path)
    page, problems = content.read_file(path, "page", site, content.ReadOptions())
    assert problems == [] and page.date is None and page.kind == "page"
    assert build_site(site, tmp_path / "out", "--drafts")[0] == 0
    assert (tmp_path / "out" / "about-this-site" / "index.html").is_file()


def test_explicit_slug_and_unsluggable_title(site):
    code, out, _ = run("new", "Whatever", "--slug", "my-slug", "--site", str(site))
    assert code == 0 and out.strip().endswith("posts/my-slug.md")
    code, out, err = run("new", "!!!", "--site", str(site))
    assert code == 1 and "--slug" in err and out == ""


def test_missing_site_toml_is_a_clear_error(tmp_path):
    code, out, err = run("new", "Title", "--site", str(tmp_path / "nowhere"))
    assert code == 1
    assert "site.toml not found" in err and "Traceback" not in err
