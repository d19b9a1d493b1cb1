"""Markup in metadata stays text: in HTML, attributes, feeds, sitemaps and any JSON.

Hostile strings go into every field a writer or a product feed controls; then every
output file is checked as a browser or feed reader would read it.
"""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import html5lib
import lxml.etree
import pytest
from conftest import build_site, image, post, write
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

EVIL = 'Evil " \' & </title></textarea><script>alert(1)</script> "><img src=x onerror=alert(2)> ]]> <!--'


def evil(label: str) -> str:
    return f"{label} {EVIL}"


def q(text: str) -> str:
    """A YAML (and TOML) double-quoted string."""
    return json.dumps(text, ensure_ascii=False)


@pytest.fixture
def hostile(site: Path) -> Path:
    image(site / "content" / "images" / "p1.png")
    write(
        site / "site.toml",
        f"""
        title = {q(evil("Site"))}
        description = {q(evil("Description"))}
        author = {q(evil("Site author"))}
        base_url = "https://blog.example.com/"
        menu = [{{ name = {q(evil("Menu"))}, url = "/about/" }}]

        [markdown]
        smart = false  # exact strings back; smart punctuation: test_markdown.py
        """,
    )
    for i in (1, 2):
        write(
            site / "content" / "posts" / f"post-{i}.md",
            f"""
            ---
            title: {q(evil(f"Title {i}"))}
            date: 2025-01-0{i}
            tags: [{q(evil("Tag"))}, {q("x&y")}]
            categories: [{q(evil("Category"))}]
            summary: {q(evil(f"Summary {i}"))}
            author: {q(evil("Author"))}
            custom: {q(evil("Param"))}
            ---

            Intro paragraph.

            {{{{< buy "p1" >}}}}

            {{{{< show note={q(evil("Kwarg"))} >}}}}
            """,
        )
    write(
        site / "content" / "pages" / "about.md",
        f"---\ntitle: {q(evil('Page'))}\nsummary: {q(evil('Page summary'))}\n---\nAbout.\n",
    )
    write(
        site / "content" / "products.yaml",
        f"""
        p1:
          name: {q(evil("Product"))}
          price: {q(evil("Price"))}
          note: {q(evil("Note"))}
          image: /images/p1.png
          links:
            - store: {q(evil("Store"))}
              url: "https://shop.example.com/p1?ref=blog&x=1"
        """,
    )
    write(
        site / "templates" / "shortcodes" / "show.html",
        '<p class="show" title="{{ params.note }}">{{ params.note }} / {{ post.params.custom }}</p>',
    )
    return site


def _files(out: Path) -> list[Path]:
    return [p for p in sorted(out.rglob("*")) if p.is_file()]


def test_no_output_file_carries_live_markup(hostile, tmp_path):
    out = tmp_path / "out"
    code, _, err = build_site(hostile, out)
    assert code == 0, err
    files = _files(out)
    assert len(files) > 15
    for path in files:
        data = path.read_bytes()
        lowered = data.lower()
        assert b"<script>alert" not in lowered, path
        assert b"<img src=x" not in lowered, path
        if path.suffix == ".html":
            _check_html(path, data)
        elif path.suffix == ".xml":
            lxml.etree.fromstring(data)  # well-formed, or this raises
        elif path.suffix == ".json":
            json.loads(data)
            assert b"</" not in data, f"{path}: '</' in JSON can end an inline <script>"


def _check_html(path: Path, data: bytes) -> None:
    doc = html5lib.parse(data, treebuilder="lxml", namespaceHTMLElements=False)
    for script in doc.iter("script"):
        if script.get("type") == "application/ld+json":  # data: parses, holds no markup
            json.loads(script.text)
            assert "<" not in script.text, path
        else:  # the theme's own scripts, never injected ones
            assert "alert" not in (script.text or "") + script.get("src", ""), path
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        for name in element.attrib:
            assert not name.lower().startswith("on"), f"{path}: <{element.tag} {name}=...>"
    assert not doc.xpath("//img[@src='x']"), path
    assert not doc.xpath("//textarea"), path


def _parse(path: Path):
    return html5lib.parse(path.read_bytes(), treebuilder="lxml", namespaceHTMLElements=False)


def test_metadata_round_trips_as_text(hostile, tmp_path):
    out = tmp_path / "out"
    assert build_site(hostile, out)[0] == 0
    doc = _parse(out / "posts" / "post-1" / "index.html")
    title = evil("Title 1")
    assert doc.xpath("string(//title)") == f"{title} · {evil('Site')}"
    assert doc.xpath("string(//h1)") == title
    assert doc.xpath("string(//meta[@property='og:title']/@content)") == title
    assert doc.xpath("string(//meta[@name='description']/@content)") == evil("Summary 1")
    assert doc.xpath("string(//meta[@name='author']/@content)") == evil("Author")
    tags = doc.xpath("//meta[@property='article:tag']/@content")
    assert tags == [evil("Tag"), "x&y"]
    ld = [json.loads(s.text) for s in doc.xpath("//script[@type='application/ld+json']")]
    assert any(item.get("headline") == title for item in ld), ld
    assert doc.xpath("string(//*[contains(@class, 'post-author')])") == "By " + evil("Author")
    assert [a.text for a in doc.xpath("//a[@rel='tag']")] == [evil("Tag"), "x&y"]
    assert doc.xpath("string(//a[contains(@class, 'post-category')])") == evil("Category")
    assert doc.xpath("string(//nav//a[@href='/about/'])") == evil("Menu")
    box = doc.xpath("//aside[contains(@class, 'buy-box')]")[0]
    assert box.xpath("string(.//*[contains(@class, 'buy-box__name')])") == evil("Product")
    assert box.xpath("string(.//*[contains(@class, 'buy-box__note')])") == evil("Note")
    assert box.xpath("string(.//img/@alt)") == evil("Product")
    assert box.xpath("string(.//a/@href)") == "https://shop.example.com/p1?ref=blog&x=1"
    assert box.xpath("string(.//a)") == "Buy at " + evil("Store")
    show = doc.xpath("//p[@class='show']")[0]
    assert show.get("title") == evil("Kwarg")
    assert show.text == f"{evil('Kwarg')} / {evil('Param')}"
    page = _parse(out / "about" / "index.html")
    assert page.xpath("string(//h1)") == evil("Page")


def test_feeds_read_back_the_exact_strings(hostile, tmp_path):
    out = tmp_path / "out"
    assert build_site(hostile, out)[0] == 0
    feeds = [out / "feed.xml", out / "atom.xml", *sorted((out / "tags").glob("*/feed.xml"))]
    assert len(feeds) == 4
    for path in feeds:
        feed = feedparser.parse(path.read_bytes())
        assert not feed.bozo, (path, feed.bozo_exception)
        assert feed.feed.title.startswith(evil("Site"))
        titles = sorted(e.title for e in feed.entries)
        assert titles == [evil("Title 1"), evil("Title 2")], path
        for entry in feed.entries:
            terms = {t.term for t in entry.tags}
            assert {evil("Tag"), "x&y", evil("Category")} <= terms
            content = html5lib.parse(entry.content[0].value, namespaceHTMLElements=False)
            assert not list(content.iter("script"))
            assert evil("Product") in "".join(content.itertext())
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    # RSS descriptions are HTML: what a reader shows is the text of that HTML, tags and all
    assert {e.summary_detail.type for e in feed.entries} == {"text/html"}
    shown = {_text_of(e.summary) for e in feed.entries}
    assert shown == {evil("Summary 1"), evil("Summary 2")}
    sitemap = lxml.etree.fromstring((out / "sitemap.xml").read_bytes())
    locs = sitemap.xpath("//*[local-name()='loc']/text()")
    assert locs and all(loc.startswith("https://blog.example.com/") for loc in locs)


def _text_of(html_text: str) -> str:
    doc = html5lib.parse(html_text, namespaceHTMLElements=False)
    assert not list(doc.iter("script")) and not list(doc.iter("img"))
    return "".join(doc.find("body").itertext())


printable = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Co", "Cn"),
        blacklist_characters="\ufffe\uffff\u2028\u2029\x85",
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() == s and s.strip())


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=printable, summary=printable)
@example(title="Â¡", summary="x")  # feedparser turned it into "¡"
def test_any_title_round_trips(tmp_path_factory, title, summary):
    site = tmp_path_factory.mktemp("site")
    write(
        site / "site.toml",
        'title = "T"\nbase_url = "https://b.example/"\n[markdown]\nsmart = false\n',
    )
    write(
        site / "content" / "posts" / "p.md",
        f"---\ntitle: {q(title)}\ndate: 2025-01-01\nsummary: {q(summary)}\n---\nBody.\n",
    )
    out = site.parent / (site.name + "-out")
    code, _, err = build_site(site, out)
    assert code == 0, err
    doc = _parse(out / "posts" / "p" / "index.html")
    assert doc.xpath("string(//h1)") == title
    assert doc.xpath("string(//meta[@property='og:title']/@content)") == title
    assert doc.xpath("string(//meta[@name='description']/@content)") == summary
    data = (out / "atom.xml").read_bytes()
    assert not feedparser.parse(data).bozo
    # the title as XML says it: feedparser "repairs" text that looks like UTF-8 read as
    # Latin-1 ("Â¡" comes back as "¡"), whatever the bytes are
    atom = {"a": "http://www.w3.org/2005/Atom"}
    assert lxml.etree.fromstring(data).xpath("string(//a:entry/a:title)", namespaces=atom) == title


# ---------------------------------------------------------------- URLs

BAD_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "javascript&#58;alert(1)",
    "&#106;avascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "vbscript:msgbox(1)",
    "//evil.example.com/x.png",
    "/\\evil.example.com",
    "https://x.example/\u200b",
    "/images/../../etc/passwd",
    "file:///etc/passwd",
    'https://x.example/"onmouseover="alert(1)',
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_urls_in_products_are_errors_on_their_line(site, tmp_path, url):
    write(
        site / "content" / "products.yaml",
        "p1:\n  name: P\n  links:\n    - store: S\n      url: "
        + q(url)
        + "\n  image: "
        + q(url)
        + "\n",
    )
    code, _, err = build_site(site, tmp_path / "out")
    assert code == 1 and "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith("Build failed")]
    assert [line.split(":")[:2] for line in lines] == [
        ["content/products.yaml", "5"],
        ["content/products.yaml", "6"],
    ], lines
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_urls_in_front_matter_are_errors_on_their_line(site, tmp_path, url):
    write(
        site / "content" / "posts" / "p.md",
        f"---\ntitle: P\ndate: 2025-01-01\nimage: {q(url)}\nlinks: [{q(url)}, /ok/]\n---\nx\n",
    )
    code, _, err = build_site(site, tmp_path / "out")
    assert code == 1
    lines = [line for line in err.splitlines() if not line.startswith("Build failed")]
    assert [line.split(": ")[0:2] for line in lines] == [
        ["content/posts/p.md:4", "image"],
        ["content/posts/p.md:5", "links"],
    ], lines


@pytest.mark.parametrize("url", ["javascript:alert(1)", "//evil.example.com/", "/a b/"])
def test_bad_menu_url_in_site_toml(site, tmp_path, url):
    write(
        site / "site.toml",
        f'title = "T"\nbase_url = "https://b.example/"\nmenu = [{{ name = "M", url = {q(url)} }}]\n',
    )
    code, _, err = build_site(site, tmp_path / "out")
    assert code == 1
    assert err.startswith("site.toml:3: 'menu' menu url"), err


def test_good_urls_pass(site, tmp_path):
    out = tmp_path / "out"
    write(
        site / "content" / "posts" / "p.md",
        "---\ntitle: P\ndate: 2025-01-01\nimage: /images/a.png\n"
        "links: [https://example.com/a?b=1&c=2, /ok/]\n---\nx\n",
    )
    image(site / "content" / "images" / "a.png")
    code, _, err = build_site(site, out)
    assert code == 0, err
    doc = _parse(out / "posts" / "p" / "index.html")
    assert doc.xpath("string(//meta[@property='og:image']/@content)") == (
        "https://blog.example.com/images/a-40w.png"  # the image stage's og variant
    )


url_soup = st.lists(
    st.sampled_from(
        [
            "http",
            "https",
            "javascript",
            "JaVaScRiPt",
            "data",
            ":",
            "//",
            "/",
            "\\",
            " ",
            "\t",
            "\n",
            "\x00",
            "\u200b",
            "&#58;",
            "%3a",
            "..",
            ".",
            "a",
            "x.example",
            "?",
            "#",
            '"',
            "'",
            "<",
            ">",
            "`",
            "\u202e",
            "é",
        ]
    ),
    max_size=12,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.one_of(url_soup, st.text(max_size=40)))
def test_check_url_passes_only_plain_http_and_site_paths(url):
    from urllib.parse import urlsplit

    from quire.urls import check_url

    why = check_url(url)
    if why is not None:
        assert isinstance(why, str) and why
        return
    assert url.startswith(("http://", "https://", "/")) or url[:6].lower() in ("http:/", "https:")
    assert not url.startswith("//")
    assert urlsplit(url).scheme in ("http", "https", "")
    assert not any(c.isspace() or c in "\\<>\"'`" or ord(c) < 32 for c in url)
    if not urlsplit(url).scheme:
        assert ".." not in url.split("?")[0].split("#")[0].split("/")


def test_feeds_hold_every_entry_whatever_its_html(site: Path):
    """Entries are written once and spliced into each feed: a body whose raw HTML looks like
    feed markup (an indented <item>, </channel>, a CDATA end) stays inside its own entry."""
    tricky = "<div>\n    <item>\n  </channel>\n</rss>\n</feed> ]]> &amp;\n</div>\n\nAfter."
    post(site, "tricky", "Tricky", "2025-01-02", tricky, tags="[t]")
    post(site, "plain", "Plain", "2025-01-01", "Plain text.", tags="[t]")
    code, _, err = build_site(site)
    assert code == 0, err
    out = site.parent / "out"
    for rel in ("feed.xml", "atom.xml", "tags/t/feed.xml"):
        feed = feedparser.parse((out / rel).read_bytes())
        assert not feed.bozo, (rel, feed.bozo_exception)
        assert [e.title for e in feed.entries] == ["Tricky", "Plain"], rel
        content = feed.entries[0].content[0].value
        assert "]]>" in content and "After." in content, rel  # feedparser drops the unknown tags
