"""Nothing is written outside the output folder, and nothing outside the site is read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import build_site, post, write
from hypothesis import given, settings
from hypothesis import strategies as st

from quire.index.taxonomy import slugify
from quire.output import OutputError, safe_relpath

HOSTILE_NAMES = [
    "../../escaped",
    "/etc/passwd",
    "..\\..\\windows",
    "a\\u0000b",
    "..",
    ".",
    "~/x",
    "CON",
    "nul.txt",
    "com1",
    "%2e%2e%2fup",
    "x/../../y",
]


def snapshot_all(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_hostile_slugs_tags_and_categories_stay_inside(tmp_path):
    box = tmp_path / "box"
    site = box / "site"
    out = box / "nest" / "out"
    write(site / "site.toml", 'title = "T"\nbase_url = "https://b.example/"\n')
    for i, name in enumerate(HOSTILE_NAMES):
        write(
            site / "content" / "posts" / f"p{i}.md",
            f"---\ntitle: P{i}\ndate: 2025-01-{i + 1:02d}\nslug: {json.dumps(name)}\n"
            f"tags: [{json.dumps(name + ' tag')}]\ncategories: [{json.dumps(name + ' cat')}]\n---\nx\n",
        )
    write(
        site / "content" / "pages" / "page.md",
        '---\ntitle: Page\nslug: "../../../page-escape"\n---\nx\n',
    )
    before = snapshot_all(tmp_path)
    code, _, err = build_site(site, out)
    assert code == 1
    assert err.splitlines()[:2] == [
        "content/posts/p4.md:4: cannot make a URL slug from '..'",
        "content/posts/p5.md:4: cannot make a URL slug from '.'",
    ]
    assert snapshot_all(tmp_path) - before <= {"box/nest"}
    for i in (4, 5):
        (site / "content" / "posts" / f"p{i}.md").unlink()
    before = snapshot_all(tmp_path)
    code, _, err = build_site(site, out)
    assert code == 0, err
    created = snapshot_all(tmp_path) - before
    assert created, "the build wrote nothing?"
    root = out.resolve()
    cache = (site / ".quire-cache").resolve()  # the build cache's own folder
    for rel in created:
        path = (tmp_path / rel).resolve()
        assert path == root.parent or path.is_relative_to(root) or path.is_relative_to(cache), (
            f"written outside: {rel}"
        )
    assert (out / "page-escape" / "index.html").is_file()
    assert (out / "posts" / "escaped" / "index.html").is_file()
    assert (out / "posts" / "con-" / "index.html").is_file()  # a Windows device name, defused


def test_permalink_with_dot_dot_is_refused(site, tmp_path):
    write(site / "site.toml", 'title = "T"\npermalink = "/../{slug}/"\n')
    post(site, "a", "A")
    code, _, err = build_site(site, tmp_path / "out")
    assert code == 1 and err.startswith("site.toml:2: 'permalink' must not contain '..'"), err


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_slugify_gives_one_safe_path_segment(text):
    slug = slugify(text)
    assert slug == "" or (
        all(c.isalnum() or c == "-" for c in slug)
        and "/" not in slug
        and "\\" not in slug
        and slug not in (".", "..")
        and not slug.startswith("-")
        and len(slug) <= 101
    )
    if slug:
        assert safe_relpath(f"tags/{slug}/index.html").parts[1] == slug


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_safe_relpath_never_leaves_the_folder(text):
    try:
        path = safe_relpath(text)
    except OutputError:
        return
    base = Path("/srv/out")
    joined = Path(os.path.normpath(base / path))
    assert joined.is_relative_to(base) and joined != base


# ---------------------------------------------------------------- symlinks


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    write(folder / "secret.md", "---\ntitle: SECRET POST\ndate: 2025-01-01\n---\nsecret\n")
    write(folder / "secret.txt", "SECRET FILE")
    write(folder / "posts" / "other.md", "---\ntitle: SECRET FOLDER\ndate: 2025-01-02\n---\nx\n")
    return folder


def _all_text(out: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in out.rglob("*") if p.is_file()
    )


def test_symlinks_pointing_outside_the_site_are_not_followed(site, tmp_path, outside):
    out = tmp_path / "out"
    post(site, "real", "Real")
    posts = site / "content" / "posts"
    (posts / "linked.md").symlink_to(outside / "secret.md")
    (posts / "linked-folder").symlink_to(outside / "posts", target_is_directory=True)
    (site / "content" / "images").mkdir(parents=True)
    (site / "content" / "images" / "leak.txt").symlink_to(outside / "secret.txt")
    (site / "content" / "leakdir").symlink_to(outside, target_is_directory=True)
    # a folder beside a post is copied next to its page: here it is a link to elsewhere
    (posts / "real").symlink_to(outside, target_is_directory=True)
    (site / "content" / "pages").mkdir(parents=True)
    (site / "content" / "pages" / "bundle").symlink_to(outside, target_is_directory=True)
    code, _, err = build_site(site, out)
    assert code == 0, err
    text = _all_text(out)
    assert "SECRET" not in text
    assert not list(out.rglob("secret*")) and not list(out.rglob("leak*"))
    assert (out / "posts" / "real" / "index.html").is_file()


def test_symlinks_inside_the_content_folder_are_fine(site, tmp_path):
    out = tmp_path / "out"
    post(site, "real", "Real")
    write(site / "content" / "common" / "logo.txt", "LOGO")
    (site / "content" / "images").mkdir(parents=True)
    (site / "content" / "images" / "logo.txt").symlink_to(site / "content" / "common" / "logo.txt")
    (site / "content" / "posts" / "alias.md").symlink_to(site / "content" / "posts" / "real.md")
    code, _, err = build_site(site, out)
    assert code == 0, err
    assert (out / "images" / "logo.txt").read_text() == "LOGO"
    assert (out / "posts" / "alias" / "index.html").is_file()


def test_site_files_lists_relative_paths_in_path_order(tmp_path: Path) -> None:
    """The walker's relative paths are the files' paths below the folder, ordered part by
    part as Paths order (`a/b` before `a-b/x`, though '-' sorts before '/' in a string)."""
    from quire.files import site_files

    names = ["a-b/x", "a/b", "a/b-c", "a.b", "a/.hidden", "a0", "A", "a/c/d.md", "é/x", "z"]
    for name in names:
        write(tmp_path / name, "x")
    found = site_files(tmp_path)
    assert [rel for _, rel in found] == [
        "A",
        "a/b",
        "a/b-c",
        "a/c/d.md",
        "a-b/x",
        "a.b",
        "a0",
        "z",
        "é/x",
    ]
    assert all(path == tmp_path / rel for path, rel in found)
    assert found == sorted(found)  # the order of the Paths themselves
