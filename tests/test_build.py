"""End-to-end: build small real sites and read what a visitor, a feed reader and a crawler get."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from conftest import ROOT, build_site, image, post, write
from lxml import etree, html

PRODUCTS = """
macbook-air:
  name: MacBook Air 13"
  price: "$1,099"
  image: /images/air.png
  note: Our pick for students
  links:
    - store: Apple
      url: https://www.apple.com/shop/buy-mac/macbook-air
    - store: Amazon
      url: https://www.amazon.com/dp/B0TEST
"""


def page(out: Path, rel: str) -> html.HtmlElement:
    path = out / rel
    assert path.is_file(), f"missing {rel}"
    return html.fromstring(path.read_bytes())


def by_class(tree: html.HtmlElement, cls: str) -> list[html.HtmlElement]:
    return tree.xpath(f"//*[contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')]")


def links(tree: html.HtmlElement, xpath: str = ".//a") -> list[str]:
    return [a.get("href") for a in tree.xpath(xpath)]


@pytest.fixture
def blog(site: Path) -> Path:
    """Seven posts over two years, tags, categories, a page, a product, code and a table."""
    write(site / "content" / "products.yaml", PRODUCTS)
    write(
        site / "site.toml",
        'title = "Mac Desk"\nbase_url = "https://blog.example.com/"\nposts_per_page = 3\n',
    )
    post(
        site,
        "air-review",
        "MacBook Air review",
        "2025-03-04T09:00:00-08:00",
        """
        The new Air is fast and quiet.

        ## Benchmarks

        | Model | Score |
        |-------|------:|
        | M4 | 3800 |

        ```python
        def score(chip):
            return chip.run()
        ```

        {{< buy "macbook-air" >}}
        """,
        tags="[macbook, apple-silicon, review]",
        category='"Mac: Hardware"',
    )
    post(
        site,
        "m4-launch",
        "Apple launches the M4",
        "2025-02-01",
        "The chip.",
        tags="[apple-silicon, m4]",
        category='"Mac: Hardware"',
    )
    post(
        site,
        "sonoma-update",
        "macOS 14.4 fixes Wi-Fi",
        "2024-12-10",
        "An update.",
        tags="[macos, review]",
        category='"Mac: Software"',
    )
    post(
        site,
        "swift-6",
        "Swift 6 is out",
        "2024-11-02",
        "Concurrency checks.",
        tags="swift, macos",
        category="Developers",
    )
    post(
        site,
        "ipad-pro",
        "iPad Pro gets OLED",
        "2024-05-07",
        "OLED. {{< related >}}",
        tags="[ipad, apple-silicon]",
        category="iPad",
    )
    post(
        site,
        "old-news",
        "Old news",
        "2024-01-03",
        "Nothing.",
        tags="[macos]",
        category='"Mac: Software"',
        related="false",
    )
    post(site, "hidden", "Secret draft", "2025-01-01", "Draft.", draft="true", tags="[macos]")
    post(site, "future", "From the future", "2999-01-01", "Later.", tags="[macos]")
    write(
        site / "content" / "pages" / "about.md",
        '---\ntitle: "About us"\n---\n\nWe write about Macs.\n',
    )
    image(site / "content" / "images" / "air.png")
    write(site / "content" / "posts" / "air-review" / "chart.svg", "<svg/>")
    return site


@pytest.fixture
def built(blog: Path) -> Path:
    out = blog.parent / "out"
    code, stdout, stderr = build_site(blog, out)
    assert code == 0, stderr
    return out


PUBLISHED = ["air-review", "m4-launch", "sonoma-update", "swift-6", "ipad-pro", "old-news"]


def test_every_post_page_and_semantics(built: Path):
    for slug in PUBLISHED:
        tree = page(built, f"posts/{slug}/index.html")
        assert tree.get("lang") == "en"
        assert len(tree.xpath("//h1")) == 1
        for tag in ("header", "nav", "main", "footer"):
            assert tree.xpath(f"//{tag}"), f"{slug} lacks <{tag}>"
        assert tree.xpath("//main//article")
    about = page(built, "about/index.html")
    assert about.xpath("//h1")[0].text_content().strip() == "About us"


def test_drafts_and_future_left_out_unless_asked(built: Path, blog: Path):
    assert not (built / "posts" / "hidden").exists()
    assert not (built / "posts" / "future").exists()
    out2 = blog.parent / "out-drafts"
    code, _, stderr = build_site(blog, out2, "--drafts")
    assert code == 0, stderr
    assert (out2 / "posts" / "hidden" / "index.html").is_file()
    assert (out2 / "posts" / "future" / "index.html").is_file()


def test_home_is_paginated_newest_first(built: Path):
    first = page(built, "index.html")
    titles = [a.text_content().strip() for a in first.xpath("//main//article//h2//a")]
    assert titles == ["MacBook Air review", "Apple launches the M4", "macOS 14.4 fixes Wi-Fi"]
    second = page(built, "page/2/index.html")
    titles2 = [a.text_content().strip() for a in second.xpath("//main//article//h2//a")]
    assert titles2 == ["Swift 6 is out", "iPad Pro gets OLED", "Old news"]
    assert not (built / "page" / "3").exists()
    assert "/page/2/" in links(first, "//a[@rel='next']")
    assert "/" in links(second, "//a[@rel='prev']")


def test_tags_and_categories(built: Path):
    tags = page(built, "tags/index.html")
    hrefs = links(tags, "//main//a")
    for tag in ("macbook", "apple-silicon", "review", "m4", "macos", "swift", "ipad"):
        assert f"/tags/{tag}/" in hrefs
    silicon = page(built, "tags/apple-silicon/index.html")
    assert len(silicon.xpath("//main//article")) == 3
    assert page(built, "tags/macos/index.html").xpath("//main//article")
    hardware = page(built, "categories/mac-hardware/index.html")
    assert {a.text_content().strip() for a in hardware.xpath("//main//article//h2//a")} == {
        "MacBook Air review",
        "Apple launches the M4",
    }
    assert "/categories/mac-hardware/" in links(page(built, "categories/index.html"), "//main//a")
    assert (built / "archive" / "index.html").is_file()
    archive = page(built, "archive/index.html")
    assert len(set(links(archive, "//main//a")) & {f"/posts/{s}/" for s in PUBLISHED}) == 6


def test_feeds_are_valid_with_absolute_links(built: Path):
    for name in ("feed.xml", "atom.xml"):
        feed = feedparser.parse((built / name).read_bytes())
        assert not feed.bozo, feed.bozo_exception
        assert len(feed.entries) == 6
        assert feed.entries[0].title == "MacBook Air review"
        for entry in feed.entries:
            assert entry.link.startswith("https://blog.example.com/posts/")
            assert entry.get("published_parsed") or entry.get("updated_parsed")
        content = feed.entries[0].content[0].value
        assert 'class="codehilite"' in content
    tag_feed = feedparser.parse((built / "tags" / "apple-silicon" / "feed.xml").read_bytes())
    assert not tag_feed.bozo and len(tag_feed.entries) == 3
    cat_feed = feedparser.parse((built / "categories" / "mac-hardware" / "feed.xml").read_bytes())
    assert len(cat_feed.entries) == 2
    home = page(built, "index.html")
    alternates = home.xpath("//link[@rel='alternate']/@href")
    assert "/feed.xml" in alternates and "/atom.xml" in alternates
    tag_page = page(built, "tags/apple-silicon/index.html")
    assert "/tags/apple-silicon/feed.xml" in tag_page.xpath("//link[@rel='alternate']/@href")


def test_sitemap_lists_every_page(built: Path):
    tree = etree.parse(str(built / "sitemap.xml"))
    locs = set(
        tree.xpath(
            "//s:loc/text()", namespaces={"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
        )
    )
    for slug in PUBLISHED:
        assert f"https://blog.example.com/posts/{slug}/" in locs
    for path in (
        "",
        "page/2/",
        "about/",
        "tags/",
        "tags/macos/",
        "categories/mac-software/",
        "archive/",
    ):
        assert f"https://blog.example.com/{path}" in locs
    assert "Sitemap: https://blog.example.com/sitemap.xml" in (built / "robots.txt").read_text()
    assert (built / "404.html").is_file()


def test_shortcodes_code_and_tables(built: Path):
    tree = page(built, "posts/air-review/index.html")
    text = (built / "posts" / "air-review" / "index.html").read_text()
    assert "{{<" not in text and "&#123;&#123;" not in text
    box = by_class(tree, "buy-box")
    assert len(box) == 1
    assert 'MacBook Air 13"' in box[0].text_content()
    buys = box[0].xpath(".//a[starts-with(normalize-space(.), 'Buy at')]")
    assert [a.text_content().strip() for a in buys] == ["Buy at Apple", "Buy at Amazon"]
    assert all(a.get("rel") == "sponsored noopener" for a in buys)
    assert tree.xpath("//div[@class='codehilite']//span[@class='k']")  # Pygments classes
    assert tree.xpath("//main//table//td")
    assert tree.xpath("//h2[@id='benchmarks']")


def test_related_list_end_of_post_and_shortcode(built: Path):
    air = page(built, "posts/air-review/index.html")
    related = by_class(air, "related")
    assert len(related) == 1
    hrefs = links(related[0])
    assert len(hrefs) == 5 and "/posts/air-review/" not in hrefs
    # ranked first: the three posts sharing a tag with it; then filled up to count = 5,
    # and the filled slots are marked for the theme
    assert set(hrefs[:3]) == {"/posts/m4-launch/", "/posts/ipad-pro/", "/posts/sonoma-update/"}
    ranked = related[0].xpath(".//li[not(contains(@class, 'filled'))]//a/@href")
    assert ranked == hrefs[:3]
    filled = by_class(related[0], "filled")
    assert links(filled[0]) + links(filled[1]) == hrefs[3:] and len(filled) == 2
    assert all(by_class(li, "filled-note") for li in filled)
    assert "/posts/hidden/" not in hrefs and "/posts/future/" not in hrefs
    ipad = page(built, "posts/ipad-pro/index.html")  # used the shortcode: the list shows once
    assert len(by_class(ipad, "related")) == 1
    # the shortcode's list marks its filled slots too
    assert by_class(by_class(ipad, "related")[0], "filled")
    old = page(built, "posts/old-news/index.html")  # related: false
    assert not by_class(old, "related")


def test_static_files_and_post_files_are_copied(built: Path):
    assert (built / "images" / "air.png").read_bytes()[:4] == b"\x89PNG"
    assert (built / "posts" / "air-review" / "chart.svg").read_text() == "<svg/>"
    assert (built / "css" / "style.css").is_file()


def test_site_templates_override_defaults(blog: Path):
    write(
        blog / "templates" / "404.html",
        "<!doctype html><html lang=en><title>x</title><h1>Custom lost page</h1>",
    )
    write(
        blog / "templates" / "shortcodes" / "shout.html",
        "<strong class=shout>{{ args[0] }}</strong>",
    )
    post(blog, "loud", "Loud post", "2025-01-05", 'Say {{< shout "hi & bye" >}} now.')
    out = blog.parent / "out"
    code, _, stderr = build_site(blog, out)
    assert code == 0, stderr
    assert "Custom lost page" in (out / "404.html").read_text()
    loud = page(out, "posts/loud/index.html")
    assert loud.xpath("//strong[@class='shout']")[0].text == "hi & bye"
    assert (out / "css" / "style.css").is_file()  # the rest of the default theme still applies


def test_permalink_pattern_and_toml_front_matter(site: Path):
    write(site / "site.toml", 'title = "T"\npermalink = "/{year}/{month}/{slug}/"\n')
    write(
        site / "content" / "posts" / "tomlpost.md",
        '+++\ntitle = "TOML post"\ndate = 2024-06-07T10:00:00Z\ntags = ["a", "b"]\n+++\n\nBody text.\n',
    )
    post(site, "yamlpost", "YAML post", "2024-07-01", tags="[a]")
    out = site.parent / "out"
    code, _, stderr = build_site(site, out)
    assert code == 0, stderr
    assert (
        page(out, "2024/06/tomlpost/index.html").xpath("//h1")[0].text_content().strip()
        == "TOML post"
    )
    assert "/2024/07/yamlpost/" in links(page(out, "tags/a/index.html"), "//main//a")


def test_summary_defaults_to_first_paragraph_and_params_reach_templates(site: Path):
    write(
        site / "templates" / "post.html",
        "{{ post.summary }}|{{ post.params.rating }}|{{ post.reading_time }}",
    )
    post(
        site, "p", "P", "2024-01-01", "## Heading\n\nFirst *real* paragraph.\n\nSecond.", rating="5"
    )
    out = site.parent / "out"
    code, _, stderr = build_site(site, out)
    assert code == 0, stderr
    assert (out / "posts" / "p" / "index.html").read_text().strip() == "First real paragraph.|5|1"


def test_base_url_option_changes_absolute_links(blog: Path):
    out = blog.parent / "out"
    code, _, _ = build_site(blog, out, "--base-url", "https://other.example.net/blog/")
    assert code == 0
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert feed.entries[0].link == "https://other.example.net/blog/posts/air-review/"
    assert "/blog/css/style.css" in page(out, "index.html").xpath("//link[@rel='stylesheet']/@href")
    home = page(out, "index.html")
    assert set(home.xpath("//link[@rel='alternate']/@href")) == {"/blog/feed.xml", "/blog/atom.xml"}


def test_summary_line_and_warnings(blog: Path):
    code, stdout, stderr = build_site(blog, blog.parent / "out")
    assert code == 0, stderr
    assert stdout.strip().startswith("Built 6 posts,")
    assert " s" in stdout
    assert stderr == ""  # a tag used by one post is normal on a blog: no warning
    write(blog / "site.toml", 'title = "Mac Desk"\nposts_per_page = 3\n')
    code, _, stderr = build_site(blog, blog.parent / "out2")
    assert code == 0 and "site.toml: warning: base_url is not set" in stderr
    code, _, stderr = build_site(blog, blog.parent / "out3", "--strict")
    assert code == 1
    assert "site.toml: warning: base_url is not set" in stderr and "Build failed" in stderr


def test_generated_300_post_corpus_builds(tmp_path: Path, make_corpus):
    site = make_corpus(300, tmp_path / "bench", "quire")
    out = tmp_path / "out"
    code, stdout, stderr = build_site(site, out)
    assert code == 0, stderr[-2000:]
    posts = list((out / "posts").glob("*/index.html"))
    assert len(posts) == 300
    sample = page(out, "posts/post-000123/index.html")
    assert by_class(sample, "buy-box")
    assert len(by_class(sample, "related")[0].xpath(".//a")) == 5
    assert "{{<" not in (out / "posts" / "post-000123" / "index.html").read_text()
    assert len(feedparser.parse((out / "feed.xml").read_bytes()).entries) == 20


def test_sample_site_builds(tmp_path: Path):
    out = tmp_path / "out"
    code, stdout, stderr = build_site(ROOT, out)
    assert code == 0, stderr
    assert len(list((out / "posts").glob("*/index.html"))) >= 6
    assert (out / "about" / "index.html").is_file()


def test_page_bundle_slug_and_files(site: Path):
    write(
        site / "content" / "posts" / "studio-display" / "index.md",
        "---\ntitle: Bundle\ndate: 2024-01-01\n---\n![x](photo.jpg)\n",
    )
    image(site / "content" / "posts" / "studio-display" / "photo.jpg")
    out = site.parent / "out"
    code, _, stderr = build_site(site, out)
    assert code == 0, stderr
    assert (out / "posts" / "studio-display" / "index.html").is_file()
    assert (out / "posts" / "studio-display" / "photo.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_links_in_posts_follow_a_sub_folder_base_url(site: Path):
    post(
        site,
        "a",
        "A",
        "2024-01-01",
        "See [b](/posts/b/) and ![i](/images/i.png) and [ext](https://x.example/).",
    )
    post(site, "b", "B", "2024-01-02", "B.")
    image(site / "content" / "images" / "i.png")
    out = site.parent / "out"
    code, _, stderr = build_site(site, out, "--base-url", "https://h.example/blog/")
    assert code == 0, stderr
    tree = page(out, "posts/a/index.html")
    assert "/blog/posts/b/" in links(tree, "//article//a")
    assert "https://x.example/" in links(tree, "//article//a")
    assert "/blog/images/i-40w.png" in tree.xpath("//article//img/@src")  # its variant
    entry = [
        e for e in feedparser.parse((out / "feed.xml").read_bytes()).entries if e.title == "A"
    ][0]
    assert 'href="https://h.example/blog/posts/b/"' in entry.content[0].value


def test_smart_punctuation_outside_code(site: Path):
    post(site, "q", "Q", "2024-01-01", 'He said "hi" -- it\'s done... `"raw" -- code`')
    out = site.parent / "out"
    code, _, stderr = build_site(site, out)
    assert code == 0, stderr
    para = page(out, "posts/q/index.html").xpath("//article//p[code]")[0]
    assert para.text_content().startswith("He said \u201chi\u201d \u2013 it\u2019s done\u2026")
    assert para.xpath("code")[0].text == '"raw" -- code'


def test_the_same_instant_in_two_time_zones_shows_each_posts_own_day(site: Path, tmp_path: Path):
    # 23:00 UTC on 1 January and 10:00 at +11 on 2 January are one instant: equal datetimes,
    # so a date cache keyed by the value alone showed the second post's day as the first's
    post(site, "london", "Late in London", date="2024-01-01T23:00:00+00:00")
    post(site, "sydney", "Morning in Sydney", date="2024-01-02T10:00:00+11:00")
    out = tmp_path / "out"
    code, _, stderr = build_site(site, out)
    assert code == 0, stderr
    for slug, day in (("london", "1 January 2024"), ("sydney", "2 January 2024")):
        [shown] = page(out, f"posts/{slug}/index.html").xpath("//time[@class='dt-published']")
        assert shown.text_content().strip() == day
