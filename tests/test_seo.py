"""Social and search-engine metadata: canonical, OpenGraph, Twitter cards, JSON-LD, pagination
links, and authors and categories in feeds, read back the way crawlers and readers read them."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest
from conftest import build_site, image, post, write
from lxml import html

NASTY = 'Apple\'s "M5" & <script>alert(1)</script> </script><!-- x'


def built(site: Path) -> Path:
    out = site.parent / "out"
    code, _, stderr = build_site(site, out)
    assert code == 0, stderr
    return out


def head(out: Path, rel: str) -> html.HtmlElement:
    return html.fromstring((out / rel).read_bytes()).xpath("//head")[0]


def meta(tree: html.HtmlElement, key: str) -> list[str]:
    """Values of <meta property=key> or <meta name=key>, in order."""
    return tree.xpath(f"//meta[@property='{key}' or @name='{key}']/@content")


def one(tree: html.HtmlElement, key: str) -> str:
    values = meta(tree, key)
    assert len(values) == 1, f"{key}: {values}"
    return values[0]


def json_ld(tree: html.HtmlElement) -> list[dict]:
    return [json.loads(s.text) for s in tree.xpath("//script[@type='application/ld+json']")]


@pytest.fixture
def blog(site: Path) -> Path:
    image(site / "content" / "images" / "chip.png")
    write(
        site / "site.toml",
        'title = "Mac & Co"\nbase_url = "https://blog.example.com/"\nauthor = "Desk Team"\n'
        'description = "News"\nposts_per_page = 2\n'
        "[markdown]\nsmart = false\n",  # exact strings back; smart punctuation: test_markdown
    )
    title = NASTY.replace("'", "''")
    write(
        site / "content" / "posts" / "nasty.md",
        f"""
        ---
        title: '{title}'
        date: 2025-03-04T09:00:00+01:00
        updated: 2025-03-06T10:30:00+01:00
        author: 'Jo "JJ" <Doe>'
        image: /images/chip.png
        summary: 'Fast & "quiet" <b>chips</b>'
        tags: [M5, "R&D"]
        category: Hardware
        ---

        Body.
        """,
    )
    post(site, "plain", "Plain post", "2025-02-01", "Plain body text here.", tags="[M5]")
    post(site, "remote", "Remote image", "2025-01-01", image="https://cdn.example.net/a.jpg")
    post(site, "older", "Older", "2024-12-01", tags="[M5]")
    post(site, "oldest", "Oldest", "2024-11-01", tags="[M5]")
    return site


def test_post_metadata_values_escaped_and_exact(blog: Path):
    out = built(blog)
    raw = (out / "posts" / "nasty" / "index.html").read_text(encoding="utf-8")
    tree = head(out, "posts/nasty/index.html")
    url = "https://blog.example.com/posts/nasty/"
    assert tree.xpath("//link[@rel='canonical']/@href") == [url]
    assert one(tree, "og:title") == NASTY
    assert one(tree, "twitter:title") == NASTY
    assert one(tree, "og:type") == "article"
    assert one(tree, "og:url") == url
    assert one(tree, "og:site_name") == "Mac & Co"
    assert one(tree, "og:description") == 'Fast & "quiet" <b>chips</b>'
    assert one(tree, "twitter:description") == 'Fast & "quiet" <b>chips</b>'
    assert one(tree, "og:image") == "https://blog.example.com/images/chip-40w.png"
    assert one(tree, "twitter:image") == "https://blog.example.com/images/chip-40w.png"
    assert one(tree, "twitter:card") == "summary_large_image"
    assert one(tree, "article:published_time") == "2025-03-04T09:00:00+01:00"
    assert one(tree, "article:modified_time") == "2025-03-06T10:30:00+01:00"
    assert meta(tree, "article:tag") == ["M5", "R&D"]
    assert one(tree, "author") == 'Jo "JJ" <Doe>'

    # nothing from front matter opens a tag or leaves the JSON-LD script early
    assert raw.count("<script") == 1 and raw.count("</script>") == 1
    assert "<b>" not in raw.split("</head>")[0]
    assert "<!-- x" not in raw

    (article,) = json_ld(tree)
    assert article["@type"] == "Article"
    assert article["headline"] == NASTY
    assert article["datePublished"] == "2025-03-04T09:00:00+01:00"
    assert article["dateModified"] == "2025-03-06T10:30:00+01:00"
    assert article["author"] == {"@type": "Person", "name": 'Jo "JJ" <Doe>'}
    assert article["image"] == ["https://blog.example.com/images/chip-40w.png"]
    assert article["publisher"]["@type"] == "Organization"
    assert article["publisher"]["name"] == "Mac & Co"
    assert article["mainEntityOfPage"] == {"@type": "WebPage", "@id": url}
    assert article["keywords"] == ["M5", "R&D"]


def test_post_without_image_or_author(blog: Path):
    out = built(blog)
    tree = head(out, "posts/plain/index.html")
    assert one(tree, "twitter:card") == "summary"
    assert meta(tree, "og:image") == [] and meta(tree, "twitter:image") == []
    assert one(tree, "og:description") == "Plain body text here."
    (article,) = json_ld(tree)
    assert "image" not in article
    assert article["author"] == {"@type": "Person", "name": "Desk Team"}  # the site author
    assert article["dateModified"] == article["datePublished"] == "2025-02-01T00:00:00+00:00"

    remote = head(out, "posts/remote/index.html")
    assert one(remote, "og:image") == "https://cdn.example.net/a.jpg"
    assert json_ld(remote)[0]["image"] == ["https://cdn.example.net/a.jpg"]


def test_list_pages_have_canonical_and_pagination_links(blog: Path):
    out = built(blog)
    pages = {
        "index.html": ("/", None, "/page/2/"),
        "page/2/index.html": ("/page/2/", "/", "/page/3/"),
        "page/3/index.html": ("/page/3/", "/page/2/", None),
        "tags/m5/index.html": ("/tags/m5/", None, "/tags/m5/page/2/"),
        "tags/m5/page/2/index.html": ("/tags/m5/page/2/", "/tags/m5/", None),
        "categories/hardware/index.html": ("/categories/hardware/", None, None),
    }
    for rel, (url, prev, nxt) in pages.items():
        tree = head(out, rel)
        assert tree.xpath("//link[@rel='canonical']/@href") == ["https://blog.example.com" + url]
        assert tree.xpath("//link[@rel='prev']/@href") == ([prev] if prev else []), rel
        assert tree.xpath("//link[@rel='next']/@href") == ([nxt] if nxt else []), rel
        for link in (prev, nxt):
            if link:
                assert (out / link.strip("/") / "index.html").is_file()
        assert one(tree, "og:type") == "website"
        assert meta(tree, "article:published_time") == []
        assert json_ld(tree) == []
    for rel in ("tags/index.html", "archive/index.html", "search/index.html"):
        tree = head(out, rel)
        assert one(tree, "og:type") == "website"
        assert tree.xpath("//link[@rel='canonical']/@href")
    missing = head(out, "404.html")
    assert one(missing, "robots") == "noindex"
    assert missing.xpath("//link[@rel='canonical']") == []


def test_feeds_carry_authors_and_categories(blog: Path):
    out = built(blog)
    for name in ("feed.xml", "atom.xml", "tags/m5/feed.xml"):
        feed = feedparser.parse((out / name).read_bytes())
        assert not feed.bozo, (name, feed.bozo_exception)
        entries = {e.link: e for e in feed.entries}
        nasty = entries["https://blog.example.com/posts/nasty/"]
        assert nasty.title == NASTY
        assert nasty.author == 'Jo "JJ" <Doe>'
        assert {t.term for t in nasty.tags} == {"Hardware", "M5", "R&D"}
        plain = entries["https://blog.example.com/posts/plain/"]
        assert plain.author == "Desk Team"
        assert {t.term for t in plain.tags} == {"M5"}
