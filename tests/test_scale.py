"""Nothing in a build grows faster than the number of posts (issue 16: 100,000 posts).

Work is counted, never timed: 8x the posts must cost well under 16x (linear is 8x, a
quadratic part makes it ~64x). The sites are built so that a quadratic part would show
at once: one post per list page and one tag on every post (each tag page holding all N).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import build_site, post, write

from quire.incremental import digest as digest_module

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
