"""Pagination links: first, last and a window around the current page, never every page."""

from pathlib import Path

import lxml.html
from conftest import build_site, post, write


def _labels(out: Path, rel: str) -> list[str]:
    tree = lxml.html.parse(str(out / rel / "index.html"))
    return [li.text_content().strip() for li in tree.xpath("//ol[@class='pagination__pages']/li")]


def _current(out: Path, rel: str) -> list[str]:
    tree = lxml.html.parse(str(out / rel / "index.html"))
    return tree.xpath("//ol[@class='pagination__pages']//a[@aria-current='page']/text()")


def test_pages_show_a_window_with_gaps(site: Path):
    write(
        site / "site.toml", 'title = "T"\nbase_url = "https://t.example.com/"\nposts_per_page = 1\n'
    )
    for n in range(15):
        post(site, f"p{n:02d}", f"Post {n}", date=f"2025-01-{n + 1:02d}")
    code, _, err = build_site(site)
    assert code == 0, err
    out = site.parent / "out"
    assert _labels(out, "") == ["1", "2", "3", "…", "15"]
    assert _labels(out, "page/4") == ["1", "2", "3", "4", "5", "6", "…", "15"]
    assert _labels(out, "page/8") == ["1", "…", "6", "7", "8", "9", "10", "…", "15"]
    assert _labels(out, "page/15") == ["1", "…", "13", "14", "15"]
    assert _current(out, "page/8") == ["8"]
    # a one-page gap is filled with the page itself rather than an ellipsis
    assert _labels(out, "page/5") == ["1", "2", "3", "4", "5", "6", "7", "…", "15"]
    tree = lxml.html.parse(str(out / "page/8/index.html"))
    hrefs = tree.xpath("//ol[@class='pagination__pages']//a/@href")
    assert hrefs == ["/", "/page/6/", "/page/7/", "/page/8/", "/page/9/", "/page/10/", "/page/15/"]


def test_few_pages_have_no_gap(site: Path):
    write(
        site / "site.toml", 'title = "T"\nbase_url = "https://t.example.com/"\nposts_per_page = 1\n'
    )
    for n in range(4):
        post(site, f"p{n}", f"Post {n}", date=f"2025-01-{n + 1:02d}")
    code, _, err = build_site(site)
    assert code == 0, err
    assert _labels(site.parent / "out", "page/2") == ["1", "2", "3", "4"]
