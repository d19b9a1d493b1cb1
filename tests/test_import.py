"""`quire import hugo|pelican`: whole generated sites, then the edge cases one by one."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import frontmatter
import pytest
import yaml
from conftest import build_site, image, write

from quire.commands import main
from quire.importers import ImportRefused, import_hugo, import_pelican

N_POSTS = 40


def tree_hash(root: Path) -> str:
    """Names, bytes and modes of every file: any change to SRC shows."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(path.relative_to(root).as_posix().encode())
        if path.is_file():
            digest.update(str(path.stat().st_mode).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def read_post(path: Path) -> dict:
    return frontmatter.load(str(path)).metadata


def categories(meta: dict) -> list[str]:
    if "category" in meta:
        return [meta["category"]]
    return list(meta.get("categories", []))


@pytest.fixture(scope="module")
def corpora(tmp_path_factory, make_corpus) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("corpora")
    return {
        flavour: make_corpus(N_POSTS, root / flavour, flavour) for flavour in ("hugo", "pelican")
    }


@pytest.fixture(scope="module")
def imported(corpora, tmp_path_factory) -> dict[str, tuple[Path, object, str, str]]:
    """Each corpus imported once: (site, report, SRC hash before, SRC hash after)."""
    root = tmp_path_factory.mktemp("imported")
    done = {}
    for flavour, importer in (("hugo", import_hugo), ("pelican", import_pelican)):
        before = tree_hash(corpora[flavour])
        report = importer(corpora[flavour], root / flavour)
        done[flavour] = (root / flavour, report, before, tree_hash(corpora[flavour]))
    return done


# --------------------------------------------------------------------------- whole corpora


def test_hugo_corpus_every_post_with_title_date_tags_category(corpora, imported):
    site, report, before, after = imported["hugo"]
    assert before == after, "import changed the source tree"
    sources = sorted((corpora["hugo"] / "content" / "posts").glob("*.md"))
    assert len(sources) == N_POSTS == len(report.posts)
    for source in sources:
        want = read_post(source)
        got = read_post(site / "content" / "posts" / source.name)
        assert got["title"] == want["title"]
        assert got["date"] == want["date"]
        assert got["tags"] == want["tags"]
        assert categories(got) == want["categories"]
        assert got["summary"] == want["summary"]
    text = (site / "content" / "posts" / sources[0].name).read_text()
    assert '{{< buy "product-' in text and "{{< related >}}" in text
    products = yaml.safe_load((site / "content" / "products.yaml").read_text())
    assert products["product-000"]["links"][0]["store"] == "Apple"


def test_hugo_corpus_site_toml(imported):
    site, report, _, _ = imported["hugo"]
    from quire.config import load_config

    config, problems = load_config(site)
    assert problems == []
    assert config.title == "Bench Blog"
    assert config.base_url == "https://example.org/"
    assert config.posts_per_page == 10
    rendered = report.render()
    assert f"posts converted: {N_POSTS}" in rendered
    assert "layouts/: not imported" in rendered


def _pelican_header(path: Path) -> dict[str, str]:
    head = path.read_text().split("\n\n", 1)[0]
    return dict(line.split(": ", 1) for line in head.splitlines())


def test_pelican_corpus_every_post_with_title_date_tags_category(corpora, imported):
    site, report, before, after = imported["pelican"]
    assert before == after, "import changed the source tree"
    sources = sorted((corpora["pelican"] / "content").glob("*.md"))
    assert len(sources) == N_POSTS == len(report.posts)
    for source in sources:
        want = _pelican_header(source)
        got = read_post(site / "content" / "posts" / f"{want['Slug']}.md")
        assert got["title"] == want["Title"]
        assert got["date"] == dt.datetime.strptime(want["Date"], "%Y-%m-%d %H:%M")
        assert got["tags"] == [t.strip() for t in want["Tags"].split(",")]
        assert categories(got) == [want["Category"]]
        assert got["slug"] == want["Slug"]


def test_pelican_corpus_site_toml_and_report(imported):
    site, report, _, _ = imported["pelican"]
    from quire.config import load_config

    config, problems = load_config(site)
    assert problems == []
    assert (config.title, config.author, config.posts_per_page) == ("Bench Blog", "Bench", 10)
    assert config.permalink == "/posts/{slug}/"
    notes = [str(n) for n in report.notes]
    assert "pelicanconf.py:8: FEED_ALL_ATOM not mapped" in "\n".join(notes)
    assert any(n.startswith("pelicanconf.py:3: SITEURL is empty") for n in notes)


@pytest.mark.parametrize("flavour", ["hugo", "pelican"])
def test_imported_corpus_builds(imported, flavour, tmp_path):
    site, report, _, _ = imported[flavour]
    out = tmp_path / "out"
    code, _, err = build_site(site, out)
    assert code == 0, err
    for path in (site / "content" / "posts").glob("*.md"):
        slug = read_post(path).get("slug") or path.stem
        assert (out / "posts" / slug / "index.html").is_file()


# --------------------------------------------------------------------------- safety and CLI


def test_refuses_non_empty_site_unless_force(corpora, tmp_path):
    dst = tmp_path / "dst"
    write(dst / "keep.txt", "mine")
    with pytest.raises(ImportRefused, match="not empty"):
        import_hugo(corpora["hugo"], dst)
    assert not (dst / "site.toml").exists()
    import_hugo(corpora["hugo"], dst, force=True)
    assert (dst / "site.toml").is_file() and (dst / "keep.txt").read_text() == "mine"


def test_refuses_site_inside_source(corpora):
    before = tree_hash(corpora["pelican"])
    with pytest.raises(ImportRefused, match="outside"):
        import_pelican(corpora["pelican"], corpora["pelican"] / "quire-site")
    assert tree_hash(corpora["pelican"]) == before


def test_cli_import_prints_report_and_refuses_with_exit_2(corpora, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    dst = tmp_path / "new"
    args = ["import", "pelican", str(corpora["pelican"]), "--site", str(dst)]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(args) == 0
        assert main(args) == 2
    assert f"posts converted: {N_POSTS}" in out.getvalue()
    assert "Fields mapped:" in out.getvalue()
    assert "--force" in err.getvalue()


# --------------------------------------------------------------------------- Hugo edge cases


def test_hugo_toml_front_matter_lastmod_and_categories(tmp_path):
    src = tmp_path / "src"
    write(src / "hugo.yaml", "title: Y\nbaseURL: https://y.example/\npaginate: 7\n")
    write(
        src / "content/posts/toml.md",
        """
        +++
        title = "From TOML"
        date = 2023-05-01T10:00:00Z
        lastmod = 2023-06-01
        tags = ["a", "b"]
        categories = ["One", "Two"]
        weight = 3
        +++

        Body.
        """,
    )
    report = import_hugo(src, tmp_path / "dst")
    meta = read_post(tmp_path / "dst/content/posts/toml.md")
    assert meta["title"] == "From TOML"
    assert meta["date"] == dt.datetime(2023, 5, 1, 10, tzinfo=dt.UTC)
    assert meta["updated"] == dt.date(2023, 6, 1)
    assert meta["tags"] == ["a", "b"] and meta["categories"] == ["One", "Two"]
    assert meta["weight"] == 3  # unknown fields are kept...
    assert any("'weight' kept" in str(n) for n in report.notes)  # ...and reported
    assert ("lastmod -> updated", 1) in report.mapped
    assert "posts_per_page = 7" in (tmp_path / "dst/site.toml").read_text()


def test_hugo_unknown_shortcode_reported_with_line(tmp_path):
    src = tmp_path / "src"
    write(src / "hugo.toml", 'title = "S"\n')
    write(
        src / "content/posts/sc.md",
        """
        ---
        title: Shortcodes
        date: 2024-01-01
        ---

        {{< buy "p1" >}}

        {{< youtube abc123 >}}

        ```
        {{< vimeo 42 >}} is code, left alone
        ```

        {{< highlight go >}}
        fmt.Println("hi")
        {{< /highlight >}}

        {{< figure src="/img/a.png" caption="A chip" >}}

        {{% related %}}
        """,
    )
    report = import_hugo(src, tmp_path / "dst")
    notes = [str(n) for n in report.notes]
    # youtube ships with quire now (issue 18): kept, nothing to report
    assert not any("youtube" in n for n in notes)
    assert not any("vimeo" in n or "'buy'" in n or "'related'" in n for n in notes)
    body = (tmp_path / "dst/content/posts/sc.md").read_text()
    assert '{{< buy "p1" >}}' in body and "{{< youtube abc123 >}}" in body
    assert '```go\nfmt.Println("hi")\n```' in body
    assert '{{< figure src="/img/a.png" caption="A chip" >}}' in body  # quire ships figure
    assert "{{% related %}}" in body


def test_hugo_page_bundle_with_image_builds(tmp_path):
    src = tmp_path / "src"
    write(src / "hugo.toml", 'title = "S"\nbaseURL = "https://s.example/"\n')
    write(
        src / "content/posts/trip/index.md",
        "---\ntitle: Trip\ndate: 2024-02-02\n---\n\n![x](cover.png)\n",
    )
    cover = image(src / "content/posts/trip/cover.png").read_bytes()
    image(src / "content/posts/trip/img/b.jpg")
    write(src / "content/about.md", "---\ntitle: About\n---\n\nMe.\n")
    write(src / "content/posts/_index.md", "---\ntitle: Posts\n---\n")
    write(src / "static/robots-extra.txt", "hi")
    before = tree_hash(src)
    report = import_hugo(src, tmp_path / "dst")
    assert tree_hash(src) == before
    dst = tmp_path / "dst"
    assert read_post(dst / "content/posts/trip.md")["title"] == "Trip"
    assert (dst / "content/posts/trip/cover.png").read_bytes() == cover
    assert (dst / "content/posts/trip/img/b.jpg").is_file()
    assert (dst / "content/pages/about.md").is_file() and report.pages == ("content/about.md",)
    assert any("_index" in str(n) for n in report.notes)
    out = tmp_path / "out"
    code, _, err = build_site(dst, out)
    assert code == 0, err
    assert (out / "posts/trip/index.html").is_file()
    assert (out / "posts/trip/cover.png").is_file()
    assert (out / "robots-extra.txt").read_text() == "hi"
    assert (out / "about/index.html").is_file()


# --------------------------------------------------------------------------- Pelican edge cases


def _pelican_site(tmp_path: Path, conf: str = 'SITENAME = "P"\n') -> Path:
    src = tmp_path / "src"
    write(src / "pelicanconf.py", conf)
    return src


def test_pelican_draft_hidden_and_tag_strings(tmp_path):
    src = _pelican_site(tmp_path)
    write(
        src / "content/a.md",
        "Title: Draft one\nDate: 2020-01-02 10:00\nStatus: draft\nTags: python, web dev, ssg\n\nText.\n",
    )
    write(
        src / "content/linux/b.md",
        "Title: Hidden one\nDate: 2020-01-03\nStatus: hidden\nTags: a; b, c\nModified: 2021-01-01\n"
        "Authors: Ann, Bob\n  \nText.\n",
    )
    report = import_pelican(src, tmp_path / "dst")
    a = read_post(tmp_path / "dst/content/posts/draft-one.md")
    assert a["draft"] is True
    assert a["tags"] == ["python", "web dev", "ssg"]
    assert a["slug"] == "draft-one"  # Pelican derives the slug from the title
    b = read_post(tmp_path / "dst/content/posts/hidden-one.md")
    assert b["draft"] is True and b["tags"] == ["a", "b, c"]
    assert b["category"] == "linux"  # USE_FOLDER_AS_CATEGORY
    assert b["updated"] == dt.date(2021, 1, 1) and b["author"] == "Ann"
    notes = "\n".join(str(n) for n in report.notes)
    assert "content/linux/b.md:3: Status: hidden" in notes
    assert "content/linux/b.md:6: Authors" in notes


def test_pelicanconf_code_is_not_executed(tmp_path):
    marker = tmp_path / "ran"
    conf = (
        "import os\n"
        f"open({str(marker)!r}, 'w').write('x')\n"
        "def name():\n    return 'Computed'\n"
        "SITENAME = name()\n"
        'AUTHOR = "Ann"\n'
        "DEFAULT_PAGINATION = 5\n"
        'SITEURL = "https://blog.example.com"\n'
        'ARTICLE_URL = "{date:%Y}/{date:%m}/{slug}/"\n'
        'ARTICLE_SAVE_AS = "{date:%Y}/{date:%m}/{slug}/index.html"\n'
        "MENUITEMS = (('About', '/about/'),)\n"
    )
    src = _pelican_site(tmp_path, conf)
    write(src / "content/x.md", "Title: X\nDate: 2020-01-01\n\nx\n")
    report = import_pelican(src, tmp_path / "dst")
    assert not marker.exists()
    notes = "\n".join(str(n) for n in report.notes)
    assert "pelicanconf.py:1: import not followed" in notes
    assert "pelicanconf.py:2: expr statement not executed" in notes
    assert "pelicanconf.py:3: functiondef statement not executed" in notes
    assert "pelicanconf.py:5: SITENAME is not a literal value" in notes
    site = (tmp_path / "dst/site.toml").read_text()
    assert 'author = "Ann"' in site and "posts_per_page = 5" in site
    assert 'base_url = "https://blog.example.com/"' in site
    assert 'permalink = "/{year}/{month}/{slug}/"' in site
    assert "[[menu]]" in site
    assert re.search(r'^title = "dst"', site, re.M)  # no literal SITENAME: the folder name


def test_pelican_pages_links_and_rst(tmp_path):
    src = _pelican_site(tmp_path, 'SITENAME = "P"\nSITEURL = "https://p.example"\n')
    write(src / "content/pages/about.md", "Title: About\n\nSee [first]({filename}/first.md).\n")
    write(
        src / "content/first.md",
        "Title: First post\nDate: 2021-03-04\nSlug: first\n\n"
        "![pic]({static}/images/pic.png) [about]({filename}pages/about.md#me)\n"
        "[tag]({tag}Web-Dev) [gone]({filename}/missing.md) [cat]({category}misc)\n",
    )
    image(src / "content/images/pic.png")
    write(src / "content/old.rst", "Old\n###\n\n:date: 2010-01-01\n")
    before = tree_hash(src)
    report = import_pelican(src, tmp_path / "dst")
    assert tree_hash(src) == before
    dst = tmp_path / "dst"
    assert report.pages == ("content/pages/about.md",)
    # Pelican's default URLs are kept (issue 18): /{slug}.html, /pages/{slug}.html
    assert "](/first.html)" in (dst / "content/pages/about.md").read_text()
    body = (dst / "content/posts/first.md").read_text()
    assert "](/images/pic.png)" in body and "](/pages/about.html#me)" in body
    assert "](/tags/web-dev/)" in body and "](/categories/misc/)" in body
    assert "({filename}/missing.md)" in body
    notes = "\n".join(str(n) for n in report.notes)
    assert "content/first.md:6: {filename}/missing.md: target not found" in notes
    assert "content/old.rst: .rst source not converted" in notes
    assert (dst / "content/images/pic.png").is_file()
    code, _, err = build_site(dst, tmp_path / "out")
    assert code == 0, err
    assert (tmp_path / "out/images/pic.png").is_file()


def test_pelican_path_dot_skips_settings_and_output(tmp_path):
    src = _pelican_site(tmp_path, 'SITENAME = "P"\nPATH = "."\n')
    write(src / "publishconf.py", 'from pelicanconf import *\nSITEURL = "https://p.example"\n')
    write(src / "post.md", "Title: Dot\nDate: 01 Jan 2020\n\nx\n")
    write(src / "output/index.html", "<p>built</p>")
    write(src / "images/a.png", "png")
    report = import_pelican(src, tmp_path / "dst")
    written = sorted(
        p.relative_to(tmp_path / "dst").as_posix() for p in (tmp_path / "dst").rglob("*.*")
    )
    assert written == ["content/images/a.png", "content/posts/dot.md", "site.toml"]
    assert report.copied == ("images/a.png",)
    assert read_post(tmp_path / "dst/content/posts/dot.md")["date"] == dt.date(2020, 1, 1)
    assert 'base_url = "https://p.example/"' in (tmp_path / "dst/site.toml").read_text()
    assert not any("publishconf.py" in str(n) for n in report.notes)


def test_hugo_bad_front_matter_json_and_refs(tmp_path):
    src = tmp_path / "src"
    write(
        src / "config.toml",
        'title = "H"\nbaseURL = "https://h.example/"\ntheme = "ananke"\n'
        '[permalinks]\n  posts = "/:year/:month/:slug/"\n'
        '[[menus.main]]\n  name = "About"\n  pageRef = "/about"\n',
    )
    write(src / "content/posts/bad.md", "---\ntitle: x\ndate: [2020\n---\nbody\n")
    write(
        src / "content/posts/j.md",
        '{\n  "title": "J",\n  "date": "2020-01-02"\n}\n\n{{< gist a >}}\n',
    )
    write(
        src / "content/posts/k.md",
        '---\ntitle: K\ndate: 2021-05-06\n---\nSee [j]({{< ref "posts/j.md" >}}).\n',
    )
    report = import_hugo(src, tmp_path / "dst")
    notes = "\n".join(str(n) for n in report.notes)
    assert "content/posts/bad.md:" in notes and "not converted" in notes
    assert "shortcode 'gist'" not in notes  # quire ships gist (issue 18)
    assert "config.toml:3: config key 'theme' not used by quire" in notes
    assert read_post(tmp_path / "dst/content/posts/j.md")["title"] == "J"
    assert "See [j](/2020/01/j/)." in (tmp_path / "dst/content/posts/k.md").read_text()
    site = (tmp_path / "dst/site.toml").read_text()
    assert 'permalink = "/{year}/{month}/{slug}/"' in site
    assert 'url = "/about/"' in site
    assert sorted(report.posts) == ["content/posts/j.md", "content/posts/k.md"]
