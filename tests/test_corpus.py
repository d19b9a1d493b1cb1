"""bench/corpus.py, the generator behind the corpus tests and the benchmarks."""

from __future__ import annotations

from pathlib import Path

import yaml


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text().split("---\n")[1])


def test_same_seed_same_bytes_and_post_i_does_not_depend_on_n(make_corpus, tmp_path):
    one = files(make_corpus(30, tmp_path / "one", "quire", seed=3))
    assert one == files(make_corpus(30, tmp_path / "two", "quire", seed=3))
    assert one != files(make_corpus(30, tmp_path / "other", "quire", seed=4))
    more = files(make_corpus(60, tmp_path / "more", "quire", seed=3))
    assert {k: more[k] for k in one} == one


def test_quire_flavour(make_corpus, tmp_path):
    site = make_corpus(50, tmp_path / "q", "quire")
    posts = sorted((site / "content" / "posts").glob("*.md"))
    assert [p.stem for p in posts] == [f"post-{i:06d}" for i in range(50)]
    meta = front_matter(posts[7])
    assert set(meta) == {"title", "date", "tags", "category", "slug", "summary"}
    assert 2 <= len(meta["tags"]) <= 6
    text = posts[7].read_text()
    assert "\n## " in text and '{{< buy "product-' in text and "{{< related >}}" in text
    products = yaml.safe_load((site / "content" / "products.yaml").read_text())
    for product in products.values():
        assert (site / "content" / product["image"].lstrip("/")).is_file()
    assert (site / "site.toml").is_file()


def test_news_posts_are_short(make_corpus, tmp_path):
    site = make_corpus(20, tmp_path / "n", "quire", news=1.0)
    for path in (site / "content" / "posts").glob("*.md"):
        body = path.read_text().split("---\n", 2)[2]
        assert "## " not in body and len(body.split()) < 250


def test_hugo_and_pelican_flavours(make_corpus, tmp_path):
    hugo = make_corpus(5, tmp_path / "h", "hugo")
    assert (hugo / "hugo.toml").is_file() and (
        hugo / "layouts" / "_shortcodes" / "buy.html"
    ).is_file()
    assert front_matter(hugo / "content" / "posts" / "post-000001.md")["categories"]
    assert (hugo / "data" / "products.yaml").is_file()
    pelican = make_corpus(5, tmp_path / "p", "pelican")
    assert (pelican / "pelicanconf.py").is_file()
    head = (pelican / "content" / "post-000001.md").read_text().split("\n\n")[0]
    assert [line.split(":")[0] for line in head.splitlines()] == [
        "Title",
        "Date",
        "Category",
        "Tags",
        "Slug",
        "Summary",
    ]
