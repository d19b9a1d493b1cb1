"""Nothing in a build grows faster than the number of posts (issue 16: 100,000 posts).

Work is counted, never timed: 8x the posts must cost well under 16x (linear is 8x, a
quadratic part makes it ~64x). The sites are built so that a quadratic part would show
at once: one post per list page and one tag on every post (each tag page holding all N).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import build_site, image, post, write

from quire import plan
from quire.incremental import digest as digest_module
from quire.incremental import store
from quire.spill import Spill, SpilledHtml

SMALL = 20
FACTOR = 8


def _site(root: Path, n: int) -> Path:
    site = root / f"site-{n}"
    write(
        site / "site.toml",
        'title = "Scale"\nbase_url = "https://example.org/"\nposts_per_page = 1\n',
    )
    # a site's own list template that reads the term's posts: its pages' fingerprints
    # must hold the whole term (the default template reads only term.name and term.count)
    write(
        site / "templates" / "list.html",
        """
        <h1>{{ heading }}</h1>
        {% for post in paginator.items %}<a href="{{ post.url }}">{{ post.title }}</a>{% endfor %}
        {% if term %}<p>Newest: {% for p in term.posts[:3] %}{{ p.title }} {% endfor %}</p>{% endif %}
        {% include "partials/pagination.html" %}
        """,
    )
    for i in range(n):
        day = 1 + i % 28
        post(
            site,
            f"post-{i:04d}",
            f"Post {i}",
            date=f"20{10 + i // 336:02d}-{1 + i // 28 % 12:02d}-{day:02d}",
            body=f"Body of post {i}.",
            tags=["everything", f"tag-{i % 5}"],
            category="Notes",
        )
    return site


def _build_counting(root: Path, n: int, monkeypatch) -> tuple[int, Path]:
    """(fingerprinted records digested, output folder) of a cold build of an n-post site, in
    this process. A record with a fingerprint (a post, a view, now a term) is digested as its
    fingerprint: the count says how many records went into the build's digests."""
    count = 0
    original = digest_module._DigestPickler.persistent_id

    def counting(self, obj):
        nonlocal count
        found = original(self, obj)
        count += found is not None
        return found

    site = _site(root, n)
    out = root / f"out-{n}"
    with monkeypatch.context() as m:
        m.setattr(digest_module._DigestPickler, "persistent_id", counting)
        code, _, err = build_site(site, out, "--jobs", "1")
    assert code == 0, err
    return count, out


def _list_bytes(out: Path) -> int:
    """Bytes of every paginated list page: the home's pages and every tag's."""
    pages = [*out.glob("page/*/index.html"), *out.glob("tags/*/page/*/index.html")]
    return sum(p.stat().st_size for p in pages)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale")
    monkeypatch = pytest.MonkeyPatch()
    try:
        yield {n: _build_counting(root, n, monkeypatch) for n in (SMALL, FACTOR * SMALL)}
    finally:
        monkeypatch.undo()


def test_fingerprint_work_grows_linearly(builds) -> None:
    # Each tag page's context holds the tag, and the tag holds all its posts: digesting
    # them for each of its N pages was N*N records. A term is now digested once (its
    # fingerprint), whatever the template reads of it.
    small, big = builds[SMALL][0], builds[FACTOR * SMALL][0]
    assert big < 2 * FACTOR * small, f"{FACTOR}x the posts digested {big / small:.0f}x the records"


def test_list_pages_grow_linearly(builds) -> None:
    # The pager linked every page of the list from every page: N/10 links on each of N/10
    # pages. It links a window around the current page, the first and the last (see
    # test_pagination.py for the links themselves).
    small, big = _list_bytes(builds[SMALL][1]), _list_bytes(builds[FACTOR * SMALL][1])
    assert big < 2 * FACTOR * small, f"{FACTOR}x the posts wrote {big / small:.0f}x the list bytes"


# ---------------------------------------------------------------- no body held to the end


def test_no_body_is_held_once_pages_are_planned(site: Path, tmp_path: Path, monkeypatch):
    # A body was held to the end of the build (once, as the image stage's Markup that the
    # view showed and the pictures memo kept; three times before that) and feed entries,
    # body-sized, all at once while the feeds were spliced: ~42 KB a post, 4.2 GB at
    # 100,000 posts. From the views on, a body is in the build's spill file (the view holds
    # a handle that pages, feeds and search read back), the cache memos that held bodies
    # are in their files, and the feeds are spliced from entries in the spill.
    image(site / "content" / "images" / "one.png")
    for i in range(3):
        body = f"First.\n\n![A photo](/images/one.png)\n\nOnly here: post {i}."
        post(site, f"p{i}", f"Post {i}", body=body, summary="First.")
    seen: dict = {"spilled": []}
    real_pages, real_redirects, real_save = plan.page_jobs, plan.redirect_jobs, store.save
    real_add = Spill.add

    def page_jobs(config, posts, *rest):
        seen["views"] = posts
        return real_pages(config, posts, *rest)

    def redirect_jobs(config, sources):
        seen["sources"] = sources
        return real_redirects(config, sources)

    def save(site_dir, cache):
        seen["cache"] = cache
        return real_save(site_dir, cache)

    def add(self, text, kind=None):
        seen["spilled"].append(str(text))
        return real_add(self, text, kind)

    monkeypatch.setattr(plan, "page_jobs", page_jobs)
    monkeypatch.setattr(plan, "redirect_jobs", redirect_jobs)
    monkeypatch.setattr(store, "save", save)
    monkeypatch.setattr(Spill, "add", add)
    out = tmp_path / "out"
    code, _, err = build_site(site, out, "--jobs", "1")
    assert code == 0, err
    cache = seen["cache"]
    contents = [view.content for view in seen["views"]]
    assert len(contents) == 3 and all(type(c) is SpilledHtml for c in contents)
    assert all(p.body == "" for p in seen["sources"]), "the Markdown outlived the image stage"
    for section in ("posts", "bodies", "pictures"):
        assert not cache.memo(section).new, f"the {section} memo outlived the image stage"
    # what was spilled is what the pages and feeds show: 3 bodies, 3 entries per feed format
    bodies = [t for t in seen["spilled"] if t.lstrip().startswith("<p>")]
    entries = [t for t in seen["spilled"] if t.lstrip().startswith(("<item>", "<entry>"))]
    assert len(bodies) == 3 and all("<picture>" in b for b in bodies)
    assert len(entries) == 6
    page = (out / "posts" / "p1" / "index.html").read_text(encoding="utf-8")
    assert "Only here: post 1." in page and "<picture>" in page
    feed = (out / "feed.xml").read_text(encoding="utf-8")
    assert all(e.strip() in feed for e in entries if e.lstrip().startswith("<item>"))


def test_a_spill_whose_folder_cannot_be_made_keeps_its_texts_in_memory(tmp_path, monkeypatch):
    # nothing is written outside the site's folders: not even an unnamed file in /tmp
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be\n")
    made = []
    monkeypatch.setattr("tempfile.TemporaryFile", lambda *a, **k: made.append(k))
    with Spill(blocked) as spill:
        first, second = spill.add("<p>é</p>"), spill.add("<item>two</item>")
        assert (str(first), str(second)) == ("<p>é</p>", "<item>two</item>")
    assert made == []
