"""Incremental builds: whatever the cache keeps, the output equals a cold build's, byte for byte."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import age, build_site, post, products_yaml, write

from quire.incremental import store as cache
from quire.model import BuildOptions
from quire.pipeline import build

PRODUCTS = products_yaml(
    air=("MacBook Air", "$999", "https://www.apple.com/shop/air"),
    pro=("MacBook Pro", "$1,999", "https://www.apple.com/shop/pro"),
)

SUMMARY = re.compile(
    r"Built (\d+) posts?, (\d+) pages? \((\d+) rendered, (\d+) cached\) in [\d.]+ s"
)


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def stats(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.stat().st_ino)
        for p in folder.rglob("*")
        if p.is_file()
    }


def counts(stdout: str) -> tuple[int, int, int, int]:
    match = SUMMARY.search(stdout)
    assert match, stdout
    posts, pages, rendered, cached = map(int, match.groups())
    assert rendered + cached == pages
    return posts, pages, rendered, cached


def cold_tree(site: Path, tmp: Path) -> dict[str, bytes]:
    """A cold build of the same sources (cache put aside, fresh output) read back."""
    kept = site / ".quire-cache-kept"
    if (site / cache.CACHE_DIR).exists():
        os.replace(site / cache.CACHE_DIR, kept)
    out = tmp / "cold-out"
    shutil.rmtree(out, ignore_errors=True)
    try:
        code, stdout, stderr = build_site(site, out, "--jobs", "1")
        assert code == 0, stderr
        assert counts(stdout)[3] == 0  # nothing cached: really cold
    finally:
        shutil.rmtree(site / cache.CACHE_DIR, ignore_errors=True)
        if kept.exists():
            os.replace(kept, site / cache.CACHE_DIR)
    return tree(out)


@pytest.fixture
def shop(site: Path) -> Path:
    write(site / "content" / "products.yaml", PRODUCTS)
    write(
        site / "site.toml",
        'title = "Desk"\nbase_url = "https://d.example.com/"\nposts_per_page = 2\n',
    )
    post(
        site,
        "air-review",
        "Air review",
        "2025-03-01",
        'Fast.\n\n{{< buy "air" >}}',
        tags="[mac, review]",
    )
    post(
        site,
        "pro-review",
        "Pro review",
        "2025-03-02",
        'Faster.\n\n{{< buy "pro" >}}',
        tags="[mac, review]",
    )
    post(site, "news", "Mac news", "2025-03-03", "Intro.\n\n{{< related >}}", tags="[mac]")
    post(
        site,
        "tips",
        "Tips",
        "2025-03-04",
        "## One\n\nUse `ls`.\n\n```python\nprint(1)\n```",
        tags="[tips, mac]",
    )
    post(site, "old", "Old post", "2024-01-01", "Gone soon.", tags="[mac, review]")
    write(site / "content" / "pages" / "about.md", '---\ntitle: "About"\n---\nWe write.\n')
    return site


def test_incremental_builds_equal_cold_builds(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = build_site(shop, out)
    assert code == 0, stderr
    pages = counts(stdout)[1]

    def step(change) -> tuple[int, int, int, int]:
        change()
        code, stdout, stderr = build_site(shop, out)
        assert code == 0, stderr
        assert tree(out) == cold_tree(shop, tmp_path)
        return counts(stdout)

    posts_dir = shop / "content" / "posts"
    # nothing changed: nothing rendered
    assert step(lambda: None)[2:] == (0, pages)
    # one body edited: its page, the lists showing it; not every page
    result = step(
        lambda: post(shop, "tips", "Tips", "2025-03-04", "Now with **more**.", tags="[tips, mac]")
    )
    assert 0 < result[2] < pages
    # a post added, a post deleted
    step(lambda: post(shop, "new", "Brand new", "2025-03-05", "Hi.", tags="[review]"))
    result = step(lambda: (posts_dir / "old.md").unlink())
    assert not (out / "posts" / "old").exists()
    assert "Old post" not in (out / "index.html").read_text()
    # a product's price: only the buy box showing it changes
    step(lambda: write(shop / "content" / "products.yaml", PRODUCTS.replace("$999", "$899")))
    assert "$899" in (out / "posts" / "air-review" / "index.html").read_text()
    # a shortcode template and a page template, overridden by the site
    step(
        lambda: write(
            shop / "templates" / "shortcodes" / "buy.html",
            "<b>{{ product.name }}: {{ product.price }}</b>",
        )
    )
    assert "<b>MacBook Air: $899</b>" in (out / "posts" / "air-review" / "index.html").read_text()
    step(lambda: write(shop / "templates" / "404.html", "<p>{{ page.title }} here</p>\n"))
    # metadata only: a new title shows on lists and in feeds
    step(
        lambda: post(
            shop,
            "air-review",
            "Air, reviewed",
            "2025-03-01",
            'Fast.\n\n{{< buy "air" >}}',
            tags="[mac]",
        )
    )
    # site.toml
    step(
        lambda: write(
            shop / "site.toml",
            'title = "Desk 2"\nbase_url = "https://d.example.com/"\nposts_per_page = 3\n',
        )
    )
    assert "Desk 2" in (out / "feed.xml").read_text()


def test_template_change_rerenders_only_what_uses_it(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build_site(shop, out)[0] == 0
    default_post = (
        Path(__file__).resolve().parents[1] / "quire" / "defaults" / "templates" / "post.html"
    )
    edited = default_post.read_text().replace("{% endblock %}", "<!-- edited -->{% endblock %}")
    write(shop / "templates" / "post.html", edited)
    code, stdout, stderr = build_site(shop, out)
    assert code == 0, stderr
    posts, pages, rendered, cached = counts(stdout)
    assert rendered == posts  # every post page, no list, tag or archive page
    for slug in ("air-review", "news", "tips"):
        assert "<!-- edited -->" in (out / "posts" / slug / "index.html").read_text()
    assert "<!-- edited -->" not in (out / "index.html").read_text()
    assert tree(out) == cold_tree(shop, tmp_path)


def test_card_template_edit_rerenders_the_lists(shop: Path, tmp_path: Path) -> None:
    """list.html calls card(post), which renders partials/card.html: an edit of the card
    re-renders every list page and no post page."""
    out = tmp_path / "out"
    assert build_site(shop, out)[0] == 0
    default_card = (
        Path(__file__).resolve().parents[1] / "quire" / "defaults" / "templates" / "partials"
    ) / "card.html"
    edited = default_card.read_text().replace("</article>", "<!-- card edited --></article>")
    write(shop / "templates" / "partials" / "card.html", edited)
    code, stdout, stderr = build_site(shop, out)
    assert code == 0, stderr
    posts, pages, rendered, cached = counts(stdout)
    assert 0 < rendered < pages
    assert "<!-- card edited -->" in (out / "index.html").read_text()
    assert "<!-- card edited -->" in (out / "tags" / "mac" / "index.html").read_text()
    assert "<!-- card edited -->" not in (out / "posts" / "tips" / "index.html").read_text()
    assert tree(out) == cold_tree(shop, tmp_path)


def test_product_change_rerenders_only_posts_showing_it(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build_site(shop, out)[0] == 0
    before = stats(out)
    write(shop / "content" / "products.yaml", PRODUCTS.replace("$1,999", "$1,799"))
    code, stdout, _ = build_site(shop, out)
    assert code == 0
    after = stats(out)
    changed = {p for p in after if after[p] != before.get(p)}
    assert "posts/pro-review/index.html" in changed
    assert "posts/air-review/index.html" not in changed
    assert "$1,799" in (out / "posts" / "pro-review" / "index.html").read_text()


def test_no_change_rebuild_keeps_every_file_and_mtime(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    age(shop)
    assert build_site(shop, out)[0] == 0
    before = stats(out)
    code, stdout, _ = build_site(shop, out)
    assert code == 0
    assert counts(stdout)[2] == 0
    assert stats(out) == before  # same inode, same mtime: nothing rewritten, nothing swapped


def test_no_change_check_notices_touched_output(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    age(shop)
    assert build_site(shop, out)[0] == 0
    expected = tree(out)
    (out / "posts" / "tips" / "index.html").write_text("vandalised")
    (out / "feed.xml").unlink()
    write(out / "stray.txt", "not ours")
    assert build_site(shop, out)[0] == 0
    assert tree(out) == expected


def test_corrupt_cache_is_ignored_with_a_warning(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build_site(shop, out)[0] == 0
    store = shop / cache.CACHE_DIR / cache.STORE_FILE
    data = bytearray(store.read_bytes())
    data[len(data) // 2] ^= 0xFF
    store.write_bytes(bytes(data))
    post(shop, "tips", "Tips", "2025-03-04", "Changed.", tags="[tips, mac]")
    code, stdout, stderr = build_site(shop, out)
    assert code == 0
    assert "store.bin: warning:" in stderr and "corrupt" in stderr
    assert counts(stdout)[3] == 0  # nothing trusted
    assert tree(out) == cold_tree(shop, tmp_path)

    store.write_bytes(store.read_bytes()[:100])  # truncated
    code, stdout, stderr = build_site(shop, out)
    assert code == 0
    assert "store.bin: warning: build cache file is corrupt" in stderr
    assert tree(out) == cold_tree(shop, tmp_path)
    code, _, stderr = build_site(shop, out)  # rewritten whole: no warning any more
    assert code == 0 and "store.bin" not in stderr


def test_deleted_cache_means_cold_build(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build_site(shop, out)[0] == 0
    before = stats(out)
    shutil.rmtree(shop / cache.CACHE_DIR)
    code, stdout, _ = build_site(shop, out)
    assert code == 0
    posts, pages, rendered, cached = counts(stdout)
    assert (rendered, cached) == (pages, 0)
    after = stats(out)
    assert after["posts/tips/index.html"] == before["posts/tips/index.html"]  # same bytes: linked


def test_failed_build_keeps_output_and_next_build_recovers(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build_site(shop, out)[0] == 0
    before = tree(out)
    post(shop, "tips", "Tips", "2025-03-04", '{{< buy "nope" >}}')
    code, _, stderr = build_site(shop, out)
    assert code == 1 and "unknown product id 'nope'" in stderr
    assert tree(out) == before
    post(shop, "tips", "Tips", "2025-03-04", "Fixed.")
    assert build_site(shop, out)[0] == 0
    assert tree(out) == cold_tree(shop, tmp_path)


def test_future_post_appears_when_due_despite_no_change(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    post(shop, "later", "Later post", "2025-06-01", "Soon.")
    age(shop)
    early = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
    build(BuildOptions(shop, out, now=early))
    assert not (out / "posts" / "later").exists()
    result = build(BuildOptions(shop, out, now=early + dt.timedelta(days=1)))
    assert result.rendered == 0  # nothing due yet: the no-change check holds
    build(BuildOptions(shop, out, now=dt.datetime(2025, 6, 2, tzinfo=dt.UTC)))
    assert (out / "posts" / "later" / "index.html").is_file()


def test_jobs_one_and_two_give_identical_output(tmp_path: Path, make_corpus) -> None:
    site = make_corpus(70, tmp_path / "corpus", "quire")
    code, stdout, stderr = build_site(site, tmp_path / "one", "--jobs", "1")
    assert code == 0, stderr
    shutil.rmtree(site / cache.CACHE_DIR)
    code, stdout, stderr = build_site(site, tmp_path / "two", "--jobs", "2")
    assert code == 0, stderr
    assert counts(stdout)[0] == 70
    assert tree(tmp_path / "one") == tree(tmp_path / "two")  # pages written by the workers

    def modes(folder: Path) -> dict[str, int]:
        return {p.relative_to(folder).as_posix(): p.stat().st_mode for p in folder.rglob("*")}

    assert modes(tmp_path / "one") == modes(tmp_path / "two")


def test_summary_line_without_a_terminal(shop: Path, tmp_path: Path) -> None:
    code, stdout, stderr = build_site(shop, tmp_path / "out")
    assert code == 0
    posts, pages, rendered, cached = counts(stdout)
    assert posts == 5 and rendered == pages
    assert "\r" not in stderr  # no progress bar when stderr is not a terminal


def test_timings_and_bad_jobs(shop: Path, tmp_path: Path) -> None:
    code, stdout, stderr = build_site(shop, tmp_path / "out", "--timings")
    assert code == 0
    assert re.search(r"timings: .*bodies [\d.]+ s.*pages [\d.]+ s", stderr), stderr
    with pytest.raises(SystemExit) as exit_info:
        build_site(shop, tmp_path / "out", "--jobs", "0")
    assert exit_info.value.code == 2


def test_cache_folder_ignores_itself_in_git(shop: Path, tmp_path: Path) -> None:
    assert build_site(shop, tmp_path / "out")[0] == 0
    subprocess.run(["git", "init", "-q", str(shop)], check=True)
    status = subprocess.run(
        ["git", "-C", str(shop), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "content/posts/tips.md" in status
    assert ".quire-cache" not in status


def test_related_reranks_only_when_informative_words_change(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build_site(shop, out)[0] == 0
    words = shop / cache.CACHE_DIR / cache.WORDS_FILE
    before = words.stat().st_mtime_ns
    # stop words and one-letter words never reach the ranking: the index is kept as it was
    post(shop, "tips", "Tips", "2025-03-04", "Use `ls`. x the and of", tags="[tips, mac]")
    assert build_site(shop, out)[0] == 0
    assert words.stat().st_mtime_ns == before
    assert tree(out) == cold_tree(shop, tmp_path)
    # a shared word re-ranks, from cached words for the other posts, as a cold build would
    post(shop, "tips", "Tips", "2025-03-04", "Intro faster gone soon.", tags="[tips, mac]")
    assert build_site(shop, out)[0] == 0
    assert words.stat().st_mtime_ns != before
    assert tree(out) == cold_tree(shop, tmp_path)


def test_staging_reuses_the_spare_without_writing_through_it(tmp_path: Path) -> None:
    from quire import output

    out = tmp_path / "out"
    for text in ("A", "A2"):
        staged = output.stage(out)
        staged.write("a/index.html", text)
        staged.write("b.txt", "B")
        staged.commit()
    spare = output.spare_path(out)
    assert spare.is_dir() and (spare / "a" / "index.html").read_text() == "A"
    assert (spare / "b.txt").stat().st_ino == (out / "b.txt").stat().st_ino  # one file, linked
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    (spare / "c").symlink_to(outside, target_is_directory=True)  # must never be written through
    (spare / "stray.txt").write_text("stray")
    shutil.rmtree(spare / "a")
    (spare / "a").write_text("a file where a folder goes")
    (spare / "d").mkdir()
    (spare / "d" / "e.txt").write_text("a folder where a file goes")

    staged = output.stage(out)
    assert staged.reused
    staged.write("a/index.html", "A3")
    staged.write("b.txt", "B3")
    staged.write("c/keep.txt", "new")
    staged.write("d", "D")
    staged.commit()
    assert tree(out) == {"a/index.html": b"A3", "b.txt": b"B3", "c/keep.txt": b"new", "d": b"D"}
    assert (outside / "keep.txt").read_text() == "keep"
    assert (spare / "b.txt").read_text() == "B"  # the output before was not written through
    assert not list(tmp_path.glob(".quire-tmp-*"))


def test_a_spare_without_an_output_is_discarded_not_reused(tmp_path: Path) -> None:
    """Output deleted by hand, spare still there: nothing can be linked, so reusing the spare
    would only cost an unlink per file. It is moved aside and deleted instead."""
    from quire import output

    out = tmp_path / "out"
    for text in ("A", "A2"):
        staged = output.stage(out)
        staged.write("a/index.html", text)
        staged.commit()
    spare = output.spare_path(out)
    assert spare.is_dir()
    shutil.rmtree(out)
    staged = output.stage(out)
    assert not staged.reused and staged.existing == {}
    assert not spare.exists()
    staged.write("b.txt", "B")
    staged.commit()
    assert tree(out) == {"b.txt": b"B"}


def test_rebuilds_with_a_spare_equal_cold_builds_and_survive_failures(
    shop: Path, tmp_path: Path
) -> None:
    from quire import output

    out = tmp_path / "out"
    assert build_site(shop, out)[0] == 0
    post(shop, "tips", "Tips", "2025-03-04", "Changed once.", tags="[tips, mac]")
    assert build_site(shop, out)[0] == 0
    assert output.spare_path(out, shop / cache.CACHE_DIR).is_dir()
    assert not list(tmp_path.glob(".quire-*"))  # kept in the cache folder, out of git's sight
    (shop / "content" / "posts" / "old.md").unlink()  # its pages must not come back from the spare
    assert build_site(shop, out)[0] == 0
    assert tree(out) == cold_tree(shop, tmp_path)
    before = tree(out)
    post(shop, "tips", "Tips", "2025-03-04", '{{< buy "nope" >}}', tags="[tips, mac]")
    assert build_site(shop, out)[0] == 1
    assert tree(out) == before
    post(shop, "tips", "Tips", "2025-03-04", "Fixed.", tags="[tips]")
    assert build_site(shop, out)[0] == 0
    assert tree(out) == cold_tree(shop, tmp_path)


def test_corrupt_shard_is_ignored_with_a_warning(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build_site(shop, out)[0] == 0
    for shard in (shop / cache.CACHE_DIR).glob("bodies-*.bin"):
        data = bytearray(shard.read_bytes())
        data[-1] ^= 0xFF
        shard.write_bytes(bytes(data))
    post(shop, "tips", "Tips", "2025-03-04", "Changed.", tags="[tips, mac]")
    code, _, stderr = build_site(shop, out)
    assert code == 0
    assert "bodies-" in stderr and "corrupt" in stderr
    assert tree(out) == cold_tree(shop, tmp_path)
    code, _, stderr = build_site(shop, out)
    assert code == 0 and "warning: build cache" not in stderr


# ---------------------------------------------------------------- the one-post edit path


def test_body_edit_rerenders_only_the_pages_that_show_the_body(shop: Path, tmp_path: Path) -> None:
    """A body edit that leaves related lists alone (stop words only) re-renders the post's
    page and the listings holding its full view, never the posts that merely relate it nor
    the other pages of its tags."""
    out = tmp_path / "out"
    assert build_site(shop, out, "--jobs", "1")[0] == 0
    post(
        shop, "old", "Old post", "2024-01-01", "Gone soon.\n\nAnd the of it.", tags="[mac, review]"
    )
    code, stdout, stderr = build_site(shop, out, "--jobs", "1")
    assert code == 0, stderr
    # posts/old, the last home page, tags/mac/page/3, tags/review/page/2, the archive and
    # the tags index (terms.html lists every Term with its posts); not posts/news, whose
    # related list shows the post, nor tags/mac/ and tags/review/ (they show term.count)
    assert counts(stdout)[2] == 6
    assert tree(out) == cold_tree(shop, tmp_path)


def test_term_pages_whose_template_reads_the_posts_follow_every_member(
    shop: Path, tmp_path: Path
) -> None:
    """A list template that reads term.posts sees each member's body: all the term's pages
    re-render on a member's edit (only plain term.name/count reads are left out)."""
    default_list = Path(__file__).resolve().parents[1] / "quire" / "defaults" / "templates"
    text = (default_list / "list.html").read_text()
    deep = "{% if term %}{% for p in term.posts %}<i>{{ p.word_count }}</i>{% endfor %}{% endif %}"
    write(shop / "templates" / "list.html", text.replace("{% endblock %}", deep + "{% endblock %}"))
    out = tmp_path / "out"
    assert build_site(shop, out, "--jobs", "1")[0] == 0
    post(
        shop, "old", "Old post", "2024-01-01", "Gone soon.\n\nAnd the of it.", tags="[mac, review]"
    )
    code, stdout, stderr = build_site(shop, out, "--jobs", "1")
    assert code == 0, stderr
    assert counts(stdout)[2] == 6 + 2 + 1  # and tags/mac/, tags/mac/page/2/, tags/review/
    assert tree(out) == cold_tree(shop, tmp_path)


@pytest.mark.parametrize(
    ("source", "shallow"),
    [
        ("{% if term %}{{ term.name }} {{ term.count }}{% endif %}", True),
        ("{% if not term and x %}{{ term.url }}{% endif %}{{ 1 if term else 2 }}", True),
        ("{{ term is defined }}", True),
        ("{{ term }}", False),
        ("{{ term.posts|length }}", False),
        ("{% set t = term %}{{ t.name }}", False),
        ("{{ term['name'] }}", False),
        ("{{ (term or x).name }}", False),
        ("{% for p in term %}{% endfor %}", False),
    ],
)
def test_shallow_term_analysis(source: str, shallow: bool) -> None:
    import jinja2

    from quire.incremental.fingerprints import _deep_uses

    ast = jinja2.Environment().parse(source)
    assert ("term" not in _deep_uses(ast)) is shallow


def test_shallow_names_follow_includes_and_give_up_on_dynamic_ones() -> None:
    import jinja2

    from quire.incremental.fingerprints import template_facts
    from quire.incremental.memo import Memo

    env = jinja2.Environment(
        loader=jinja2.DictLoader(
            {
                "list.html": "{{ term.name }}{% include 'card.html' %}",
                "card.html": "{{ term.posts }}",
                "tag.html": "{{ term.count }}{% include 'plain.html' %}",
                "plain.html": "{{ term.slug }}",
                "dyn.html": "{{ term.name }}{% include name %}",
            }
        )
    )
    _, names = template_facts(env, Memo())
    assert names["tag.html"] == ("term",)
    assert names["list.html"] == ()
    assert names["dyn.html"] == ()


def test_an_edit_rewrites_few_cache_shards(tmp_path: Path, make_corpus) -> None:
    """Search entries live in shards like posts and bodies: one edit rewrites at most the
    shard its old entry left and the one its new entry joined, not all search entries.
    (Stop words only: no related list changes, so no other post's entry does.)"""
    site = make_corpus(40, tmp_path / "corpus", "quire")
    out = tmp_path / "out"
    assert build_site(site, out, "--jobs", "1")[0] == 0
    folder = site / cache.CACHE_DIR
    before = {p.name: p.stat().st_mtime_ns for p in folder.glob("search-*.bin")}
    assert len(before) == cache.SHARDS
    edited = sorted((site / "content" / "posts").glob("*.md"))[3]
    edited.write_text(edited.read_text() + "\nAnd the of it, too.\n")
    assert build_site(site, out, "--jobs", "1")[0] == 0
    after = {p.name: p.stat().st_mtime_ns for p in folder.glob("search-*.bin")}
    assert 1 <= sum(after[n] != before[n] for n in before) <= 2
    assert tree(out) == cold_tree(site, tmp_path)


def test_no_change_check_sees_the_same_site_by_any_path(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build_site(shop, out)[0] == 0
    age(shop)
    assert build_site(shop, out)[0] == 0  # a manifest the next builds can trust
    relative = Path(os.path.relpath(shop, Path.cwd()))
    code, stdout, stderr = build_site(relative, out, "--timings")
    assert code == 0, stderr
    assert "timings: no-change check" in stderr  # not a build that found nothing to render


def test_no_change_survives_a_bytecode_folder_appearing(shop: Path, tmp_path: Path) -> None:
    """A folder's mtime moves when something the check skips appears in it (Python's first
    `__pycache__` in an editable quire, for one): the files listed already show every
    addition and removal, so that alone is not a change."""
    out = tmp_path / "out"
    assert build_site(shop, out)[0] == 0
    age(shop)
    assert build_site(shop, out)[0] == 0
    (shop / "content" / "posts" / "__pycache__").mkdir()
    code, _, stderr = build_site(shop, out, "--timings")
    assert code == 0, stderr
    assert "timings: no-change check" in stderr
    post(shop, "extra", "Extra", "2025-03-09", "A new post.")
    age(shop)
    code, stdout, stderr = build_site(shop, out, "--timings")
    assert code == 0 and "no-change" not in stderr  # a new file is a change
    assert (out / "posts" / "extra" / "index.html").is_file()


def _build_reporting_imports(site: Path, out: Path, *extra: str) -> tuple[str, set[str]]:
    """A build in a fresh process: its summary line and which of numpy and scipy that
    process itself imported (a forked ranker's imports stay in the ranker)."""
    import json
    import sys

    script = (
        "import json, sys\n"
        "from quire.commands import main\n"
        f"code = main(['build', '--site', {str(site)!r}, '--output', {str(out)!r}, *{extra!r}])\n"
        "print(json.dumps([code, sorted(m for m in ('numpy', 'scipy', 'scipy.sparse')"
        " if m in sys.modules)]))\n"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    code, imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 0, done.stderr
    return done.stdout, set(imported)


def test_an_edit_that_reranks_ranks_in_the_forked_ranker(shop: Path, tmp_path: Path) -> None:
    """With two jobs, an edit that adds informative words is ranked again by the process
    forked as the build began (ranker.py): the build's own process never imports numpy or
    scipy, rewrites the words file from the ranker's answer, and equals a cold build."""
    out = tmp_path / "out"
    assert build_site(shop, out, "--jobs", "2")[0] == 0
    words = shop / cache.CACHE_DIR / cache.WORDS_FILE
    before = words.read_bytes()
    post(shop, "tips", "Tips", "2025-03-04", "Intro faster gone soon.", tags="[tips, mac]")
    stdout, imported = _build_reporting_imports(shop, out, "--jobs", "2")
    assert imported == set()
    assert counts(stdout)[2] < counts(stdout)[1]  # incremental, not cold
    assert words.read_bytes() != before
    assert tree(out) == cold_tree(shop, tmp_path)
    # no informative word changed: nothing ranks, the ranker is stopped unused
    post(shop, "tips", "Tips", "2025-03-04", "Intro faster gone soon. And the.", tags="[tips, mac]")
    stdout, imported = _build_reporting_imports(shop, out, "--jobs", "2")
    assert imported == set()
    assert tree(out) == cold_tree(shop, tmp_path)


def test_a_ranker_without_the_words_leaves_ranking_to_the_build(shop: Path, tmp_path: Path) -> None:
    """A words file that is gone (or corrupt) leaves the ranker without some posts' words:
    it answers nothing and the build ranks itself, reading the words from the posts."""
    out = tmp_path / "out"
    assert build_site(shop, out, "--jobs", "2")[0] == 0
    words = shop / cache.CACHE_DIR / cache.WORDS_FILE
    words.write_bytes(b"not a cache file")  # the ranker still starts (the file is there)
    post(shop, "tips", "Tips", "2025-03-04", "Intro faster gone soon.", tags="[tips, mac]")
    stdout, imported = _build_reporting_imports(shop, out, "--jobs", "2")
    assert "scipy.sparse" in imported  # ranked in the build's own process
    assert tree(out) == cold_tree(shop, tmp_path)
    assert build_site(shop, out, "--jobs", "2")[0] == 0  # and the words file is whole again
    assert tree(out) == cold_tree(shop, tmp_path)
