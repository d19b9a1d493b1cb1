"""Client-side search: the JSON index the build writes, the search page, and a real browser using it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from browser import chrome, serve  # noqa: F401 - chrome is a fixture
from conftest import build_site, post, write
from lxml import etree, html

TRICKY = 'Dock </script><img src=x onerror=alert(1)> & "friends"'


@pytest.fixture
def searchable(site: Path) -> Path:
    """Posts with distinct words, a draft, a future post and a title full of markup."""
    toml = site / "site.toml"  # exact strings back; smart punctuation: test_markdown.py
    toml.write_text(toml.read_text() + "[markdown]\nsmart = false\n")
    post(
        site,
        "dock-review",
        "Thunderbolt 5 dock review",
        "2025-03-01",
        """
        The Portway dock drives two displays and charges a laptop at 140 watts.
        Café owners love it.

        ```
        zebracode inside a code block
        ```
        """,
        tags="[thunderbolt, accessories]",
        category="Reviews",
        summary='"Two displays, one cable."',
    )
    post(
        site,
        "swift-release",
        "Swift 6.3 ships",
        "2025-02-01",
        "The compiler is faster. A dock is mentioned once.",
        tags="[swift, accessories]",
        category="Developers",
    )
    post(site, "tricky", "TRICKY", "2025-01-01", "Markup in the title.", tags="[thunderbolt]")
    post(site, "secret", "Secret draft", "2025-01-05", "Unreleased.", draft="true")
    post(site, "later", "From the future", "2999-01-01", "Not yet.")
    path = site / "content" / "posts" / "tricky.md"
    path.write_text(
        path.read_text().replace('"TRICKY"', "'" + TRICKY.replace("'", "''") + "'"),
        encoding="utf-8",
    )
    return site


def built(site: Path, *extra: str) -> Path:
    out = site.parent / "out"
    code, _, stderr = build_site(site, out, *extra)
    assert code == 0, stderr
    return out


def index_docs(out: Path) -> list[dict]:
    return json.loads((out / "search" / "index.json").read_text(encoding="utf-8"))["docs"]


def built_post_urls(out: Path) -> set[str]:
    return {
        "/" + p.parent.relative_to(out).as_posix() + "/" for p in out.glob("posts/*/index.html")
    }


def test_index_lists_every_published_post_and_no_draft(searchable: Path):
    out = built(searchable)
    docs = index_docs(out)
    urls = [d["u"] for d in docs]
    assert len(urls) == len(set(urls))
    assert set(urls) == built_post_urls(out)
    assert len(urls) == 3
    assert "/posts/secret/" not in urls and "/posts/later/" not in urls

    with_drafts = built(searchable, "--drafts")
    assert {d["u"] for d in index_docs(with_drafts)} == built_post_urls(with_drafts)


def test_index_fields(searchable: Path):
    docs = {d["u"]: d for d in index_docs(built(searchable))}
    dock = docs["/posts/dock-review/"]
    assert dock["t"] == "Thunderbolt 5 dock review"
    assert dock["d"] == "2025-03-01"
    assert dock["g"] == ["thunderbolt", "accessories"]
    assert dock["c"] == "Reviews"
    assert dock["s"] == "Two displays, one cable."
    assert {"portway", "displays", "watts", "cafe"} <= set(dock["k"])
    assert "zebracode" not in dock["k"]  # code blocks are not prose
    assert not {"the", "and", "a"} & set(dock["k"])
    swift = docs["/posts/swift-release/"]
    assert swift["s"] == "The compiler is faster. A dock is mentioned once."
    assert swift["c"] == "Developers"
    assert docs["/posts/tricky/"]["t"] == TRICKY


def test_index_escapes_markup_characters(searchable: Path):
    raw = (built(searchable) / "search" / "index.json").read_bytes()
    assert not re.search(rb"[<>&]", raw)
    assert b"\\u003c/script\\u003e" in raw


def test_index_size_is_bounded_per_post(site: Path):
    words = " ".join(f"word{i}x" * (1 + i % 4) for i in range(4000))
    huge = "Long " * 2000
    post(site, "long", "A very long post", "2025-01-01", words + " " + "z" * 500, summary=huge)
    post(site, "short", "Short", "2025-01-02", "Tiny.")
    docs = {d["u"]: d for d in index_docs(built(site))}
    long_doc = docs["/posts/long/"]
    assert len(json.dumps(long_doc, ensure_ascii=False).encode()) < 2048
    assert len(long_doc["s"]) < 300 and long_doc["s"].startswith("Long Long")
    assert long_doc["s"].endswith("…")
    assert all(len(term) <= 24 for term in long_doc["k"])
    assert len(long_doc["k"]) <= 60
    assert docs["/posts/short/"]["s"] == "Tiny."


def test_search_page_and_header_box(site: Path):
    write(site / "site.toml", 'title = "Sub Blog"\nbase_url = "https://example.com/blog/"\n')
    post(site, "one", "One", "2025-01-01", "Hello.")
    out = built(site)
    tree = html.fromstring((out / "search" / "index.html").read_bytes())
    assert [h.text_content() for h in tree.xpath("//h1")] == ["Search"]
    assert tree.xpath("//body/@class") == ["kind-search"]
    form = tree.xpath("//main//form[@data-search-index]")[0]
    assert form.get("data-search-index") == "/blog/search/index.json"
    assert form.get("data-base") == "/blog/"
    assert form.xpath(".//input[@name='q']")
    assert tree.xpath("//p[@id='search-status']") and tree.xpath("//ol[@id='search-results']")
    scripts = tree.xpath("//script[@src]")
    assert [s.get("src") for s in scripts] == ["/blog/js/search.js"]
    assert scripts[0].get("defer") is not None
    assert (out / "js" / "search.js").is_file()

    for rel in ("index.html", "posts/one/index.html", "tags/index.html", "404.html"):
        page = html.fromstring((out / rel).read_bytes())
        box = page.xpath("//header//form[@role='search']")
        assert len(box) == 1, rel
        assert box[0].get("action") == "/blog/search/" and box[0].get("method") == "get"
        assert box[0].xpath(".//input[@name='q']")
        assert not page.xpath("//script[@src]"), f"{rel} should stay script-free"

    sitemap = etree.parse(str(out / "sitemap.xml"))
    locs = sitemap.xpath(
        "//s:loc/text()", namespaces={"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    )
    assert "https://example.com/blog/search/" in locs


def _results(driver) -> list[tuple[str, str]]:
    """Read the list in one script call: the page may redraw it between two WebDriver calls."""
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('#search-results li a'))"
        ".map(a => [a.textContent, a.href]);"
    )
    return [(text, href) for text, href in rows]


def test_search_in_a_browser(chrome, site: Path, tmp_path: Path):  # noqa: F811
    """Built under a sub-folder base_url, served over HTTP: type, see the right post first."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    write(site / "site.toml", 'title = "Sub Blog"\nbase_url = "https://example.com/blog/"\n')
    post(site, "air", "MacBook Air review", "2025-01-01", "A fanless laptop.", tags="[macbook]")
    post(site, "pro", "MacBook Pro teardown", "2025-03-01", "Fans and ports.", tags="[macbook]")
    post(site, "ipad", "iPad news", "2025-02-01", "Not a MacBook Air, but close.", tags="[ipad]")
    post(site, "xss", "Air <b>bold</b> <img src=x onerror=alert(1)>", "2024-01-01", "Air.")
    root = tmp_path / "www"
    out = built(site)
    root.mkdir()
    out.rename(root / "blog")

    wait = WebDriverWait(chrome, 30)  # generous: CI machines are shared
    with serve(root) as url:
        chrome.get(url + "blog/search/")
        box = chrome.find_element(By.ID, "search-q")
        box.send_keys("macbook air")
        wait.until(
            lambda d: _results(d) and "macbook air" in d.find_element(By.ID, "search-status").text
        )
        found = _results(chrome)
        assert found[0] == ("MacBook Air review", url + "blog/posts/air/")
        assert {title for title, _ in found} == {"MacBook Air review", "iPad news"}
        assert "q=macbook+air" in chrome.current_url  # the address shows the query

        box.clear()
        box.send_keys("bold")
        wait.until(lambda d: _results(d) and _results(d)[0][0].startswith("Air"))
        assert _results(chrome)[0][0] == "Air <b>bold</b> <img src=x onerror=alert(1)>"
        assert not chrome.find_elements(By.CSS_SELECTOR, "#search-results img, #search-results b")

        # from any page: the header box submits to the search page, which shows the results
        chrome.get(url + "blog/posts/ipad/")
        header_box = chrome.find_element(By.CSS_SELECTOR, "header input[name=q]")
        header_box.send_keys("teardown", Keys.ENTER)
        wait.until(lambda d: _results(d))
        assert chrome.current_url.startswith(url + "blog/search/?q=teardown")
        assert _results(chrome)[0] == ("MacBook Pro teardown", url + "blog/posts/pro/")
        assert chrome.find_element(By.ID, "search-q").get_attribute("value") == "teardown"

        box = chrome.find_element(By.ID, "search-q")
        box.clear()
        box.send_keys("nothingmatchesthis")
        wait.until(lambda d: "0 results" in d.find_element(By.ID, "search-status").text)
        assert _results(chrome) == []
