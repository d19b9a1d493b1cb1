"""Stage 4, plan: every output file as a job (a page's template and context, a feed's posts),
and the small files written as they are (sitemap, robots.txt, static files)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from quire import defaults
from quire.config import SiteConfig
from quire.files import site_files
from quire.index import taxonomy
from quire.model import Feed, FeedJob, FeedSpec, Kind, PageInfo, PageJob, Post, PostView
from quire.problems import Problem, display_path
from quire.urls import output_file, own_path


def _index_path(url: str) -> str:
    """The output file of a site path: /a/b/ -> a/b/index.html, /a/b.html -> a/b.html."""
    return output_file(url)


def redirect_jobs(config: SiteConfig, posts: Sequence[Post]) -> list[PageJob]:
    """A small page at each alias of each post or page, sending readers and crawlers on."""
    jobs = []
    for post in posts:
        for alias in post.aliases:
            info = _info(config, post.title, post.url, "redirect")
            target = config.absolute(post.url)
            jobs.append(
                PageJob(_index_path(alias), "redirect.html", {"target": target, "page": info})
            )
    return jobs


def redirect_problems(posts: Sequence[Post], jobs: Sequence[PageJob], site: Path) -> list[Problem]:
    """An alias that would overwrite a real page, quire's own pages or another alias."""
    taken = {job.path: job for job in jobs}
    seen: dict[str, Post] = {}
    found = []
    for post in posts:
        if not post.aliases:  # most posts: no path to show (display_path may resolve it)
            continue
        shown = display_path(post.source, site)
        for alias in post.aliases:
            path = _index_path(alias)
            line = post.line_of("aliases")
            if path in taken or own_path(alias):
                what = own_path(alias) or taken[path].context["page"].url
                found.append(Problem(shown, line, f"alias {alias} collides with the page {what}"))
            elif path in seen and seen[path] is not post:
                other = display_path(seen[path].source, site)
                found.append(Problem(shown, line, f"alias {alias} is also an alias in {other}"))
            seen[path] = post
    return found


def redirects_file(config: SiteConfig, posts: Sequence[Post]) -> str:
    """Netlify / Cloudflare Pages `_redirects`: one `old new 301` line per alias."""
    lines = [
        f"{config.relative(alias)} {config.relative(post.url)} 301"
        for post in posts
        for alias in post.aliases
    ]
    return "\n".join(lines) + "\n" if lines else ""


def _site_feeds(config: SiteConfig) -> tuple[Feed, ...]:
    return (
        Feed(f"{config.title} (RSS)", "/" + config.feed_file, "application/rss+xml", "RSS"),
        Feed(f"{config.title} (Atom)", "/atom.xml", "application/atom+xml", "Atom"),
    )


def _info(config: SiteConfig, title: str, url: str, kind: str, **extra) -> PageInfo:
    return PageInfo(title=title, url=url, canonical=config.absolute(url), kind=kind, **extra)


def page_job(config: SiteConfig, view: PostView) -> PageJob:
    """The page of one post or page."""
    site_feeds = _site_feeds(config)
    if view.kind is Kind.PAGE:
        info = _info(
            config, view.title, view.url, "page", description=view.summary, feeds=site_feeds
        )
        return PageJob(
            _index_path(view.url), "page.html", {"post": view, "page": info}, _made_from(view)
        )
    # og:image and twitter:image: the image stage's 1200w variant (the original if none)
    image = view.og_image.url if view.og_image else view.image
    if image and image.startswith("/"):
        image = config.absolute(image)
    info = _info(
        config,
        view.title,
        view.url,
        "post",
        description=view.summary,
        feeds=site_feeds,
        image=image,
        published=view.date,
        modified=view.updated or view.date,
    )
    return PageJob(
        _index_path(view.url), "post.html", {"post": view, "page": info}, _made_from(view)
    )


def _made_from(view: PostView) -> tuple | None:
    """A post's or page's context is made from its view and the config alone."""
    return ("view", view.fingerprint) if view.fingerprint else None


def page_jobs(
    config: SiteConfig,
    views: Sequence[PostView],
    page_views: Sequence[PostView],
    tags: Sequence[taxonomy.Term],
    categories: Sequence[taxonomy.Term],
) -> list[PageJob]:
    """Every HTML page: posts, pages, the home and term listings, term indexes, archive,
    search and 404."""
    site_feeds = _site_feeds(config)
    jobs = [page_job(config, view) for view in (*views, *page_views)]

    def info(title: str, url: str, kind: str, **extra) -> PageInfo:
        return _info(config, title, url, kind, **extra)

    def listing(items, base_url, heading, kind, term, feeds_for):
        for pager in taxonomy.paginate(items, config.posts_per_page, base_url):
            title = heading if pager.number == 1 else f"{heading} (page {pager.number})"
            jobs.append(
                PageJob(
                    _index_path(pager.url),
                    "list.html",
                    {
                        "paginator": pager,
                        "heading": heading,
                        "term": term,
                        "page": info(
                            title,
                            pager.url,
                            kind,
                            description=config.description,
                            feeds=feeds_for,
                            prev_url=pager.prev_url,
                            next_url=pager.next_url,
                        ),
                    },
                )
            )

    listing(views, "/", config.title, "home", None, site_feeds)
    by_url = {v.url: v for v in views}
    for kind, label, terms in (("tag", "Tag", tags), ("category", "Category", categories)):
        for term in terms:
            term_feed = (
                Feed(
                    f"{config.title}: {term.name}",
                    term.url + config.feed_file,
                    "application/rss+xml",
                    f"{term.name} (RSS)",
                ),
            )
            members = [by_url[p.url] for p in term.posts]
            listing(members, term.url, f"{label}: {term.name}", kind, term, term_feed + site_feeds)
    for kind, heading, terms in (("tags", "Tags", tags), ("categories", "Categories", categories)):
        jobs.append(
            PageJob(
                f"{kind}/index.html",
                "terms.html",
                {
                    "terms": terms,
                    "heading": heading,
                    "kind": kind,
                    "page": info(heading, f"/{kind}/", kind, feeds=site_feeds),
                },
            )
        )
    archive = taxonomy.build_archive(views)
    jobs.append(
        PageJob(
            "archive/index.html",
            "archive.html",
            {"archive": archive, "page": info("Archive", "/archive/", "archive", feeds=site_feeds)},
        )
    )
    jobs.append(
        PageJob(
            "search/index.html",
            "search.html",
            {"page": info("Search", "/search/", "search", feeds=site_feeds)},
        )
    )
    jobs.append(
        PageJob(
            "404.html",
            "404.html",
            {"page": info("Page not found", "/404.html", "404", feeds=site_feeds)},
        )
    )
    return jobs


def feed_jobs(
    config: SiteConfig,
    views: Sequence[PostView],
    tags: Sequence[taxonomy.Term],
    categories: Sequence[taxonomy.Term],
) -> list[FeedJob]:
    by_url = {v.url: v for v in views}
    site_spec = FeedSpec(config.title, "/", "/" + config.feed_file, "/atom.xml")
    latest = tuple(views[: config.feed_size])
    jobs = [
        FeedJob(config.feed_file, "rss", site_spec, latest),
        FeedJob("atom.xml", "atom", site_spec, latest),
    ]
    for term in (*tags, *categories):
        feed = term.url + config.feed_file
        spec = FeedSpec(f"{config.title}: {term.name}", term.url, feed, None)
        members = tuple(by_url[p.url] for p in term.posts[: config.feed_size])
        jobs.append(FeedJob(feed.strip("/"), "rss", spec, members))
    return jobs


def xml_escape(text: str) -> str:
    """xml.sax.saxutils.escape, whose module imports urllib.request (~12 ms a build)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sitemap_xml(config: SiteConfig, urls: Sequence[tuple[str, dt.datetime | None]]) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for url, modified in urls:
        lines.append(f"  <url><loc>{xml_escape(config.absolute(url))}</loc>")
        if modified:
            lines.append(f"    <lastmod>{modified.date().isoformat()}</lastmod>")
        lines.append("  </url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


THEME_NOTES = frozenset({"README.md", "README.txt", "README"})


def static_files(site: Path, posts: Sequence[Post]) -> list[tuple[str, Path]]:
    """(output path, source) for theme assets and content files; site files before defaults."""
    found: list[tuple[str, Path]] = []
    for theme in (site / "theme", defaults.THEME):
        # the README `quire init` leaves in theme/ says how overriding works: not a page
        found.extend((rel, path) for path, rel in site_files(theme) if rel not in THEME_NOTES)
    found.extend(_loose_content_files(site / "content"))
    for post in posts:
        found.extend(_bundle_files(site, post))
    return found


def _loose_content_files(content_dir: Path) -> list[tuple[str, Path]]:
    """Files under content/ that belong to no post's folder keep their path, as in Hugo
    (content/images/x.png -> /images/x.png, posts/images/x.png too)."""
    files = list(site_files(content_dir))
    # every Markdown file's own folder (drafts' too: their files wait with them)
    bundles = {
        path.parent if path.name == "index.md" else path.with_suffix("")
        for path, _ in files
        if path.suffix == ".md"
    }
    found = []
    for path, rel in files:
        if rel == "products.yaml" or path.suffix == ".md":
            continue
        in_posts = rel.split("/", 1)[0] in ("posts", "pages")
        if in_posts and any(p in bundles for p in path.parents):
            continue  # published next to its post, by _bundle_files
        found.append((rel, path))
    return found


def _bundle_files(site: Path, post: Post) -> list[tuple[str, Path]]:
    """A bundle's (SLUG/index.md) or a same-named folder's files, next to the post's page."""
    bundle = post.source.name == "index.md"
    folder = post.source.parent if bundle else post.source.with_suffix("")
    if not folder.is_dir() or not (bundle or folder != site / "content" / "posts"):
        return []
    base = post.url.strip("/")
    if base.endswith(".html"):  # a file URL: its bundle files sit beside it
        base = base.rsplit("/", 1)[0] if "/" in base else ""
    return [
        (f"{base}/{rel}" if base else rel, path)
        for path, rel in site_files(folder, within=site / "content")
        if path.suffix != ".md"
    ]


def sitemap_urls(jobs: Sequence[PageJob]) -> list[tuple[str, dt.datetime | None]]:
    return [
        (j.context["page"].url, j.context["page"].modified) for j in jobs if j.path != "404.html"
    ]


ROBOTS = "User-agent: *\nAllow: /\n\nSitemap: {sitemap}\n"
