"""Issue 18: the small Hugo and Pelican sites in tests/fixtures/import/ (each reproducing a
failure seen on a real blog) import and build with exit 0, and every URL the source
generator published resolves: to the page itself, or to a redirect page pointing at it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import build_site, write
from lxml import html as lxml_html

from quire.importers import import_hugo, import_pelican

FIXTURES = Path(__file__).parent / "fixtures" / "import"

# fixture -> {URL the source generator published: the title of the page it shows}
# (URLs checked against Hugo 0.168 / Pelican 4.12: tests/fixtures/import/README.md)
URLS: dict[str, dict[str, str]] = {
    "hugo-builtin-shortcodes": {"/posts/embeds/": "Embeds of every kind"},
    "hugo-legacy-gist": {"/posts/gist/": "A gist"},
    "hugo-shortcode-syntax": {
        "/posts/closers/": "Closers with spaces",
        "/posts/inline-fence/": "Three backticks inline",
    },
    "hugo-theme-shortcodes": {"/posts/notices/": "Theme shortcodes"},
    "hugo-urls": {
        "/articles/first-article/": "An article in the articles section",
        "/old/first-article.html": "An article in the articles section",
        "/2019/first/": "An article in the articles section",
        "/2023/06/a_b/": "Explicit slug with an underscore",
        "/2023/07/file-name-with-spaces-and-capitals/": "File name with spaces and capitals",
        "/custom/place/": "A post with its own url",
        "/about/": "",
    },
    "hugo-urls-ugly": {"/2022/hello-world.html": ""},
    "hugo-files": {"/posts/bundle/": "", "/posts/shared-images/": ""},
    "hugo-dates": {"/posts/one-digit-hour/": "", "/posts/year-only/": ""},
    "pelican-defaults": {
        "/first-post.html": "First post",
        "/second_post.html": "Second post",
        "/pages/about.html": "",
        "/pages/search.html": "",
    },
    "pelican-dated": {"/2020/11/a-dated-post.html": "", "/contact/": ""},
    "pelican-category": {
        "/blog/no-category-given.html": "",
        "/machine-learning/with-a-category.html": "",
        "/cv.html": "",
        "/cv/": "",
    },
    "pelican-dates": {
        "/ordinal-date.html": "Ordinal date",
        "/us-date.html": "US date",
        "/weekday-date.html": "Weekday date",
    },
}
FILES = {
    "hugo-builtin-shortcodes": ["/images/chart.png"],
    "hugo-files": [
        "/posts/bundle/photo.png",
        "/posts/bundle/cover.png",
        "/posts/images/diagram.png",
        "/files/notes.txt",
    ],
    "pelican-defaults": ["/images/cover.png"],
    "pelican-dates": ["/images/thumb.png"],
}


def output_file(out: Path, url: str) -> Path:
    return out / (url.lstrip("/") if url.endswith(".html") else url.strip("/") + "/index.html")


def redirect_target(doc) -> str | None:
    refresh = doc.xpath('//meta[@http-equiv="refresh"]/@content')
    if not refresh:
        return None
    target = refresh[0].split("url=", 1)[1]
    assert doc.xpath('//link[@rel="canonical"]/@href') == [target]
    assert doc.xpath('//meta[@name="robots"]/@content') == ["noindex"]
    assert doc.xpath(f'//a[@href="{target}"]'), "a redirect page links to its target"
    return urlsplit(target).path


def resolve(out: Path, url: str):
    """The page a URL shows, following one redirect page: (final URL, parsed page)."""
    path = output_file(out, url)
    assert path.is_file(), f"{url} does not resolve ({path} missing)"
    doc = lxml_html.fromstring(path.read_bytes())
    target = redirect_target(doc)
    if target is None:
        return url, doc
    final = output_file(out, target)
    assert final.is_file(), f"{url} redirects to {target}, which does not exist"
    page = lxml_html.fromstring(final.read_bytes())
    assert redirect_target(page) is None, f"{url}: a redirect to a redirect"
    return target, page


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, tuple[Path, Path, object]]:
    """Every fixture imported and built once: name -> (site, output, report)."""
    root = tmp_path_factory.mktemp("fixtures")
    done = {}
    for name in URLS:
        importer = import_hugo if name.startswith("hugo") else import_pelican
        site = root / name
        report = importer(FIXTURES / name, site)
        code, _, err = build_site(site, root / f"{name}-out")
        assert code == 0, f"{name}: {err}"
        done[name] = (site, root / f"{name}-out", report)
    return done


@pytest.mark.parametrize("name", sorted(URLS))
def test_every_source_url_resolves(built, name):
    _, out, _ = built[name]
    for url, title in URLS[name].items():
        _, page = resolve(out, url)
        if title:
            assert page.xpath("string(//h1)").strip() == title, url
    for url in FILES.get(name, ()):
        assert (out / url.lstrip("/")).is_file(), url


def test_aliases_also_in_redirects_file(built):
    _, out, _ = built["hugo-urls"]
    lines = (out / "_redirects").read_text().splitlines()
    assert "/old/first-article.html /articles/first-article/ 301" in lines
    assert "/2019/first/ /articles/first-article/ 301" in lines


def test_changed_slug_or_url_is_reported_never_silent(built):
    site, _, report = built["hugo-urls"]
    text = (site / "content" / "posts" / "a_b.md").read_text()
    assert "slug: a_b" in text  # kept as written, not a-b
    rendered = report.render()
    assert "URL kept as the source published it -> url:" in rendered


def test_pelican_page_answers_at_url_and_save_as(built):
    _, out, _ = built["pelican-category"]
    target, _ = resolve(out, "/cv.html")
    assert target == "/cv/"


def test_builtin_embeds_make_no_third_party_request(built):
    _, out, _ = built["hugo-builtin-shortcodes"]
    doc = lxml_html.fromstring((out / "posts/embeds/index.html").read_bytes())
    body = doc.xpath('//div[contains(@class, "e-content")]')[0]
    assert not body.xpath(".//iframe") and not body.xpath(".//img[starts-with(@src, 'http')]")
    for script in body.xpath(".//script/@src"):
        assert script.startswith("/"), script
    links = body.xpath(".//a[@data-embed-src]/@href")
    assert "https://www.youtube.com/watch?v=dQw4w9WgXcQ" in links
    assert "https://vimeo.com/146022717" in links
    assert "https://x.com/SanDiegoZoo/status/1453110110599868418" in links
    # the image stage may rewrite the src to resized variants of /images/chart.png
    figure = body.xpath('.//figure[.//img[starts-with(@src, "/images/chart")]]')[0]
    assert figure.xpath(".//a/@href") == ["https://example.org/data"]
    assert figure.xpath("string(.//figcaption/h4)") == "Requests per second"
    assert figure.xpath("string(.//figcaption/p)") == "Higher is better."
    assert figure.xpath(".//img/@alt") == ["A bar chart"]


def test_gist_and_tweet_render(built):
    _, out, _ = built["hugo-legacy-gist"]
    doc = lxml_html.fromstring((out / "posts/gist/index.html").read_bytes())
    assert "https://gist.github.com/spf13/7896402" in doc.xpath("//a/@href")


def test_spaced_closers_and_inline_fences(built):
    _, out, _ = built["hugo-shortcode-syntax"]
    closers = (out / "posts/closers/index.html").read_text()
    assert closers.count('class="shortcode shortcode--alert"') == 3
    assert "{{" not in closers
    fence = (out / "posts/inline-fence/index.html").read_text()
    doc = lxml_html.fromstring(fence)
    assert doc.xpath('//div[contains(@class,"shortcode--alert")]/p/text()') == ["Still expanded."]
    text = doc.xpath("string(//div[contains(@class, 'e-content')])")
    assert "{{< alert" in text and "/>}}" not in text  # the escape prints the shortcode


def test_passthrough_templates_written_and_reported(built):
    site, out, report = built["hugo-theme-shortcodes"]
    for name in ("notice", "icon", "mermaid"):
        assert (site / "templates" / "shortcodes" / f"{name}.html").is_file()
        assert f"shortcode '{name}' has no quire equivalent" in report.render()
    page = (out / "posts/notices/index.html").read_text()
    assert "<strong>block</strong>" in page and "[icon github]" in page


def test_free_form_dates_read_as_pelican_reads_them(built):
    site, _, report = built["pelican-dates"]
    text = (site / "content" / "posts" / "us-date.md").read_text()
    assert "date: 2023-07-19 13:00:00" in text
    assert "'07-19-2023 13:00' read as 2023-07-19T13:00:00" in report.render()


def test_pelican_import_renders_with_python_markdown(built):
    site, _, _ = built["pelican-dated"]
    toml = (site / "site.toml").read_text()
    assert 'engine = "python-markdown"' in toml
    assert '"markdown.extensions.tables"' in toml


# ------------------------------------------------------------------ the build's own rules


def test_alias_colliding_with_a_page_is_an_error_with_line(site):
    write(site / "content/posts/a.md", "---\ntitle: A\ndate: 2024-01-01\n---\nA\n")
    write(
        site / "content/posts/b.md",
        "---\ntitle: B\ndate: 2024-01-02\naliases:\n  - /posts/a/\n---\nB\n",
    )
    code, _, err = build_site(site)
    assert code == 1
    assert "content/posts/b.md:4: alias /posts/a/ collides with the page /posts/a/" in err


def test_alias_leaving_the_output_folder_is_an_error(site):
    write(
        site / "content/posts/b.md",
        "---\ntitle: B\ndate: 2024-01-02\naliases: [../../etc/x]\n---\nB\n",
    )
    code, _, err = build_site(site)
    assert code == 1 and "content/posts/b.md:4: alias" in err and "'..'" in err


def test_page_on_quire_own_path_is_an_error_with_line(site):
    write(site / "content/pages/search.md", "---\ntitle: S\nslug: search\n---\nS\n")
    code, _, err = build_site(site)
    assert code == 1
    assert "content/pages/search.md:3: URL /search/ collides with quire's own page" in err


def test_permalink_placeholders(site, tmp_path):
    write(site / "site.toml", 'title = "T"\npermalink = "/{category}/{section}/{slug}.html"\n')
    write(
        site / "content/posts/articles/x.md",
        "---\ntitle: X\ndate: 2024-01-01\ncategory: Machine Learning\n---\nX\n",
    )
    code, _, err = build_site(site, tmp_path / "o")
    assert code == 0, err
    assert (tmp_path / "o/machine-learning/articles/x.html").is_file()


@pytest.mark.parametrize(
    "pattern", ["/{slug:>5}/", "/{slug.upper}/", "/{date}/{slug}/", "/{slug}/{"]
)
def test_permalink_refuses_unknown_placeholders_and_format_specs(site, pattern):
    write(site / "site.toml", f'title = "T"\npermalink = "{pattern}"\n')
    code, _, err = build_site(site)
    assert code == 1 and "site.toml:2: 'permalink'" in err


def test_import_moves_a_page_off_quire_own_url_and_reports_it(tmp_path):
    src = tmp_path / "src"
    write(src / "hugo.toml", 'title = "H"\n')
    write(src / "content/search.md", "---\ntitle: Find things\n---\nSearch here.\n")
    write(src / "content/posts/a.md", "---\ntitle: A\ndate: 2024-01-01\n---\nA\n")
    report = import_hugo(src, tmp_path / "dst")
    assert "URL /search/ is taken by quire's own page /search/: moved to /search-page/" in (
        report.render()
    )
    code, _, err = build_site(tmp_path / "dst", tmp_path / "out")
    assert code == 0, err
    _, page = resolve(tmp_path / "out", "/search-page/")
    assert page.xpath("string(//h1)").strip() == "Find things"


def test_unreadable_shortcode_is_a_build_error_with_line(site):
    write(site / "content/posts/a.md", '---\ntitle: A\ndate: 2024-01-01\n---\n\nx {{< "x" >}}\n')
    code, _, err = build_site(site)
    assert code == 1 and "content/posts/a.md:6: shortcode has no name" in err


def test_line_numbers_setting_adds_a_gutter(site, tmp_path):
    write(site / "site.toml", 'title = "T"\n[markdown]\nline_numbers = true\n')
    write(
        site / "content/posts/a.md",
        "---\ntitle: A\ndate: 2024-01-01\n---\n\n```python\na = 1\nb = 2\nc = 3\n```\n",
    )
    code, _, err = build_site(site, tmp_path / "o")
    assert code == 0, err
    doc = lxml_html.fromstring((tmp_path / "o/posts/a/index.html").read_bytes())
    gutter = doc.xpath("string(//table[@class='lntable']//td[1])")
    assert gutter.split() == ["1", "2", "3"]
    assert "b = 2" in doc.xpath("string(//table[@class='lntable']//td[2])")


def test_python_markdown_extensions_setting(site, tmp_path):
    write(
        site / "site.toml",
        'title = "T"\n[markdown]\nengine = "python-markdown"\n'
        'extensions = ["markdown.extensions.admonition", "toc"]\n',
    )
    write(
        site / "content/posts/a.md",
        '---\ntitle: A\ndate: 2024-01-01\n---\n\n!!! note "Heads up"\n    Inside.\n',
    )
    code, _, err = build_site(site, tmp_path / "o")
    assert code == 0, err
    doc = lxml_html.fromstring((tmp_path / "o/posts/a/index.html").read_bytes())
    assert doc.xpath("string(//div[contains(@class, 'admonition')]/p[2])") == "Inside."


def test_unknown_markdown_extension_is_refused(site):
    write(site / "site.toml", 'title = "T"\n[markdown]\nextensions = ["pymdownx.tabbed"]\n')
    code, _, err = build_site(site)
    assert code == 1 and "site.toml:3: 'markdown.extensions' must be a list of" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30-08-2024 15:30", "2024-08-30 15:30:00"),  # month first impossible: day first
        ("23-11-2020", "2020-11-23"),
        ("07-19-2023 13:00", "2023-07-19 13:00:00"),
        ("Thu 9th of October 2025", "2025-10-09"),
    ],
)
def test_free_form_dates(text, expected):
    from quire.importers.pelican import free_form_date

    assert str(free_form_date(text)) == expected


def test_pelican_translation_keeps_its_lang_url(tmp_path):
    src = tmp_path / "src"
    write(src / "pelicanconf.py", 'SITENAME = "P"\nDEFAULT_LANG = "en"\n')
    write(src / "content/a.md", "Title: Hello\nDate: 2024-01-01\nSlug: hello\n\nHi.\n")
    write(src / "content/a-pt.md", "Title: Olá\nDate: 2024-01-01\nSlug: hello\nLang: pt\n\nOi.\n")
    import_pelican(src, tmp_path / "dst")
    code, _, err = build_site(tmp_path / "dst", tmp_path / "out")
    assert code == 0, err
    assert resolve(tmp_path / "out", "/hello.html")[1].xpath("string(//h1)").strip() == "Hello"
    assert resolve(tmp_path / "out", "/hello-pt.html")[1].xpath("string(//h1)").strip() == "Olá"


def test_pelican_links_in_code_are_left_as_written(tmp_path):
    src = tmp_path / "src"
    write(src / "pelicanconf.py", 'SITENAME = "P"\n')
    write(src / "content/images/x.png", "png")
    write(
        src / "content/a.md",
        "Title: A\nDate: 2024-01-01\n\n![x]({static}/images/x.png) and `{static}/images/x.png`\n",
    )
    import_pelican(src, tmp_path / "dst")
    body = (tmp_path / "dst/content/posts/a.md").read_text()
    assert "![x](/images/x.png)" in body and "`{static}/images/x.png`" in body


def test_loose_files_under_posts_published_but_not_a_drafts(site, tmp_path):
    write(site / "content/posts/a.md", "---\ntitle: A\ndate: 2024-01-01\n---\nA\n")
    write(site / "content/posts/images/x.png", "png")
    write(site / "content/posts/d.md", "---\ntitle: D\ndate: 2024-01-01\ndraft: true\n---\nD\n")
    write(site / "content/posts/d/secret.png", "png")
    code, _, err = build_site(site, tmp_path / "o")
    assert code == 0, err
    assert (tmp_path / "o/posts/images/x.png").is_file()
    assert not list((tmp_path / "o").rglob("secret.png"))


def test_pelican_save_as_page_keeps_its_relative_links_working(tmp_path):
    src = tmp_path / "src"
    write(src / "pelicanconf.py", 'SITENAME = "P"\n')
    write(src / "content/images/g.png", "png")
    write(
        src / "content/pages/home.md",
        "Title: Home\nsave_as: index.html\n\n"
        '<img src="images/g.png" alt="g"> and [c](pages/c.html) and `images/x.png`\n',
    )
    report = import_pelican(src, tmp_path / "dst")
    body = (tmp_path / "dst/content/pages/home.md").read_text()
    assert 'src="/images/g.png"' in body and "](/pages/c.html)" in body
    assert "`images/x.png`" in body
    assert "save_as: index.html not kept" in report.render()


def test_summary_counts_pages_the_same_cold_and_warm(site, tmp_path):
    """Alias redirects are written but not counted among the pages: a cold build said
    '3 pages (5 rendered, 0 cached)' and the next '(0 rendered, 3 cached)'."""
    write(site / "content/posts/a.md", "---\ntitle: A\ndate: 2024-01-01\n---\nA\n")
    write(
        site / "content/posts/b.md",
        "---\ntitle: B\ndate: 2024-01-02\naliases: [/old/b/, /older/b.html]\n---\nB\n",
    )
    out = tmp_path / "out"
    code, cold, err = build_site(site, out)
    assert code == 0, err
    assert (out / "old" / "b" / "index.html").is_file() and (out / "older" / "b.html").is_file()
    pages = int(cold.split(" pages ")[0].rsplit(" ", 1)[1])
    assert f"{pages} pages ({pages} rendered, 0 cached)" in cold, cold
    write(site / "content/posts/a.md", "---\ntitle: A\ndate: 2024-01-01\n---\nA, again.\n")
    code, warm, err = build_site(site, out)
    assert code == 0, err
    rendered, cached = (int(n) for n in warm.split("(")[1].split(" cached")[0].split(" rendered, "))
    assert rendered + cached == pages and 0 < rendered < pages, warm


@pytest.mark.parametrize("base_name, feed", [(None, "index.xml"), ("rss", "rss.xml")])
def test_hugo_feeds_stay_where_subscribers_have_them(tmp_path, base_name, feed):
    """Hugo publishes RSS as /index.xml and /tags/<tag>/index.xml (or outputFormats.RSS
    baseName): an imported site writes its feeds there, and its pages link them."""
    import feedparser

    src = tmp_path / "hugo"
    config = 'baseURL = "https://example.org/"\ntitle = "Feeds"\n'
    if base_name:
        config += f'[outputFormats.RSS]\nbaseName = "{base_name}"\n'
    write(src / "hugo.toml", config)
    write(
        src / "content/posts/a.md",
        "---\ntitle: A & B\ndate: 2024-01-02\ntags: [Mac Hardware]\n---\nBody.\n",
    )
    site, out = tmp_path / "site", tmp_path / "out"
    report = import_hugo(src, site)
    assert "RSS feeds -> site.toml feed_file" in report.render()
    code, _, err = build_site(site, out)
    assert code == 0, err
    for path in (feed, f"tags/mac-hardware/{feed}"):
        parsed = feedparser.parse((out / path).read_bytes())
        assert not parsed.bozo and [e.title for e in parsed.entries] == ["A & B"], path
    assert not (out / "feed.xml").exists() or feed == "feed.xml"
    home = lxml_html.fromstring((out / "index.html").read_bytes())
    links = home.xpath('//link[@rel="alternate"][@type="application/rss+xml"]/@href')
    assert any(urlsplit(h).path == f"/{feed}" for h in links), links


def test_feed_file_must_be_a_plain_xml_name(site):
    write(site / "site.toml", 'title = "T"\nfeed_file = "../x.xml"\n')
    code, _, err = build_site(site)
    assert code == 1 and "site.toml:2: 'feed_file' must be a file name ending in .xml" in err, err
