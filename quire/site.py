"""The build: wires the stages together, in the order data flows.

files -> config, Posts, catalog -> indexes (related, tags, archive) -> rendered bodies
-> pages -> staged output -> swap. Nothing else in quire calls more than one stage.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape

import jinja2
from markupsafe import Markup

from . import catalog as catalog_stage
from . import content, feeds, output, related, render, search, taxonomy
from .config import SiteConfig, load_config
from .markdown import RenderedBody, Shortcode, ShortcodeError, render_body
from .problems import BuildFailed, Problem, display_path, errors_only


@dataclass(frozen=True)
class BuildOptions:
    site_dir: Path
    output_dir: Path
    drafts: bool = False
    base_url: str | None = None
    strict: bool = False
    now: dt.datetime | None = None


@dataclass(frozen=True)
class BuildResult:
    posts: int
    pages: int
    written: int
    unchanged: int
    seconds: float
    warnings: tuple[Problem, ...] = ()

    def summary(self) -> str:
        return (
            f"Built {self.posts} posts, {self.pages} pages "
            f"({self.written} written, {self.unchanged} unchanged) in {self.seconds:.2f} s"
        )


@dataclass(frozen=True)
class Loaded:
    """Everything read from the site folder, before any index is built."""

    config: SiteConfig
    posts: tuple[content.Post, ...]  # published posts, newest first
    pages: tuple[content.Post, ...]
    products: dict
    problems: tuple[Problem, ...] = ()  # errors and warnings; the build raises after rendering


@dataclass(frozen=True)
class Rendered:
    post: content.Post
    body: RenderedBody


@dataclass
class _Problems:
    items: list[Problem] = field(default_factory=list)

    def extend(self, found: Sequence[Problem]) -> None:
        self.items.extend(found)

    def raise_errors(self, strict: bool) -> None:
        errors = self.items if strict else errors_only(self.items)
        if errors:
            raise BuildFailed(sorted(errors, key=_problem_order))

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.items if p.warning)


def _problem_order(p: Problem) -> tuple:
    return (p.path, p.line or 0, p.message)


# ---------------------------------------------------------------- stage 1: read


def load_site(options: BuildOptions) -> Loaded:
    """Read config, posts, pages and products; raise BuildFailed with every problem found."""
    site = options.site_dir
    problems = _Problems()
    overrides = {"base_url": options.base_url} if options.base_url else None
    config, found = load_config(site, overrides)
    problems.extend(found)
    if config is None:
        problems.raise_errors(options.strict)
    read_options = content.ReadOptions(timezone=config.timezone, permalink=config.permalink)
    sources, found = content.read_sources(
        site / "content" / "posts", site / "content" / "pages", site, read_options
    )
    problems.extend(found)
    products, found = catalog_stage.load_catalog(site / "content" / "products.yaml", site)
    problems.extend(found)

    now = options.now or dt.datetime.now(dt.UTC)
    published = [s for s in sources if options.drafts or not (s.draft or (s.date and s.date > now))]
    problems.extend(_duplicates(published, site))
    problems.extend(_url_checks(published, site))
    posts = sorted(
        (p for p in published if p.kind == "post"), key=lambda p: (p.date, p.slug), reverse=True
    )
    pages = sorted((p for p in published if p.kind == "page"), key=lambda p: p.slug)
    problems.extend(_tag_warnings(posts, site))
    return Loaded(config, tuple(posts), tuple(pages), products, tuple(problems.items))


def _duplicates(posts: Sequence[content.Post], site: Path) -> list[Problem]:
    """Every file that shares its URL with another is named, each pointing at the other."""
    by_url: dict[str, list[content.Post]] = {}
    for post in posts:
        by_url.setdefault(post.url, []).append(post)
    found = []
    for clashing in by_url.values():
        if len(clashing) < 2:
            continue
        for post in clashing:
            others = ", ".join(display_path(o.source, site) for o in clashing if o is not post)
            found.append(
                Problem(
                    display_path(post.source, site),
                    post.line_of("slug") or 1,
                    f"duplicate slug '{post.slug}' (also used by {others})",
                )
            )
    return found


def _url_checks(posts: Sequence[content.Post], site: Path) -> list[Problem]:
    found = []
    for post in posts:
        fields = {"image": post.image, **post.params}
        for key in catalog_stage.URL_FIELDS:
            values = fields.get(key)
            for value in values if isinstance(values, list | tuple) else (values,):
                if value is not None and (why := catalog_stage.check_url(value)):
                    where = post.line_of(key)
                    found.append(Problem(display_path(post.source, site), where, f"{key}: {why}"))
    return found


def _tag_warnings(posts: Sequence[content.Post], site: Path) -> list[Problem]:
    terms = taxonomy.build_terms(posts, "tags")
    found = []
    for term in terms:
        if term.count == 1 and len(posts) > 1:
            post = term.posts[0]
            found.append(
                Problem(
                    display_path(post.source, site),
                    post.line_of("tags"),
                    f"tag '{term.name}' is used by this post only",
                    warning=True,
                )
            )
    return found


# ---------------------------------------------------------------- stage 2: bodies


def shortcode_renderer(
    env: jinja2.Environment,
    config: SiteConfig,
    products: dict,
    post: content.Post,
    related_views: tuple[render.PostView, ...],
) -> Callable[[Shortcode], str]:
    """The callback markdown.py calls for each shortcode: Python finds the data, a template draws it."""

    def render_shortcode(shortcode: Shortcode) -> str:
        context: dict[str, object] = {
            "args": shortcode.args,
            "params": shortcode.kwargs,
            "inner": Markup(shortcode.inner) if shortcode.inner is not None else None,
            "post": post,
            "site": config,
        }
        if shortcode.name == "buy":
            product_id = shortcode.args[0] if shortcode.args else shortcode.kwargs.get("id")
            if not product_id:
                raise ShortcodeError('buy needs a product id: {{< buy "product-id" >}}')
            if product_id not in products:
                raise ShortcodeError(
                    f"unknown product id '{product_id}' (not in content/products.yaml)"
                )
            context["product"] = products[product_id]
        elif shortcode.name == "related":
            context["related"] = related_views
        name = f"shortcodes/{shortcode.name}.html"
        try:
            env.get_template(name)
        except jinja2.TemplateNotFound:
            raise ShortcodeError(
                f"unknown shortcode '{shortcode.name}' (no templates/shortcodes/{shortcode.name}.html)"
            ) from None
        except jinja2.TemplateSyntaxError:
            pass  # render_template reports it with its line
        try:
            return render.render_template(env, name, context).strip()
        except render.TemplateFailure as failure:
            raise ShortcodeError(f"in shortcode '{shortcode.name}': {failure.problem}") from None

    return render_shortcode


def light_view(post: content.Post) -> render.PostView:
    """A post as lists see it: metadata only, no body."""
    return render.PostView(
        title=post.title,
        url=post.url,
        slug=post.slug,
        kind=post.kind,
        date=post.date,
        updated=post.updated,
        summary=post.summary,
        author=post.author,
        image=post.image,
        draft=post.draft,
        params=post.params,
        tags=tuple(
            render.Link(t, f"/tags/{taxonomy.slugify(t)}/", taxonomy.slugify(t)) for t in post.tags
        ),
        categories=tuple(
            render.Link(c, f"/categories/{taxonomy.slugify(c)}/", taxonomy.slugify(c))
            for c in post.categories
        ),
    )


def render_bodies(
    loaded: Loaded,
    env: jinja2.Environment,
    related_slugs: dict[str, tuple[str, ...]],
    light: dict[str, render.PostView],
    site: Path,
) -> tuple[list[Rendered], list[Problem]]:
    rendered: list[Rendered] = []
    problems: list[Problem] = []
    for post in (*loaded.posts, *loaded.pages):
        views = tuple(light[s] for s in related_slugs.get(post.slug, ()) if s in light)
        if post.kind == "page":
            views = ()
        renderer = shortcode_renderer(env, loaded.config, loaded.products, post, views)
        body, found = render_body(
            post.body, post.body_line, display_path(post.source, site), renderer
        )
        problems.extend(found)
        rendered.append(Rendered(post, body))
    return rendered, problems


def full_view(
    item: Rendered, light: dict[str, render.PostView], related_slugs, config: SiteConfig
) -> render.PostView:
    post = item.post
    related_views = (
        () if post.kind == "page" else tuple(light[s] for s in related_slugs.get(post.slug, ()))
    )
    return replace(
        light[post.slug] if post.kind == "post" else light_view(post),
        content=Markup(render.rebase_root_links(item.body.html, config.base_path)),
        toc=Markup(item.body.toc),
        word_count=item.body.word_count,
        reading_time=item.body.reading_time,
        related=related_views,
        show_related=post.kind == "post"
        and post.show_related
        and "related" not in item.body.shortcodes,
    )


# ---------------------------------------------------------------- stage 3: pages


@dataclass(frozen=True)
class PageJob:
    """One HTML file to write: its path, template and context."""

    path: str
    template: str
    context: dict


def _index_path(url: str) -> str:
    return url.strip("/") + "/index.html" if url.strip("/") else "index.html"


def _site_feeds(config: SiteConfig) -> tuple[render.Feed, ...]:
    return (
        render.Feed(f"{config.title} (RSS)", "/feed.xml", "application/rss+xml"),
        render.Feed(f"{config.title} (Atom)", "/atom.xml", "application/atom+xml"),
    )


def page_jobs(
    config: SiteConfig,
    views: Sequence[render.PostView],
    page_views: Sequence[render.PostView],
    tags: Sequence[taxonomy.Term],
    categories: Sequence[taxonomy.Term],
) -> list[PageJob]:
    site_feeds = _site_feeds(config)
    jobs: list[PageJob] = []

    def info(title: str, url: str, kind: str, **extra) -> render.PageInfo:
        return render.PageInfo(
            title=title, url=url, canonical=config.absolute(url), kind=kind, **extra
        )

    for view in views:
        jobs.append(
            PageJob(
                _index_path(view.url),
                "post.html",
                {
                    "post": view,
                    "page": info(
                        view.title,
                        view.url,
                        "post",
                        description=view.summary,
                        feeds=site_feeds,
                        image=config.absolute(view.image)
                        if view.image and view.image.startswith("/")
                        else view.image,
                        published=view.date,
                        modified=view.updated or view.date,
                    ),
                },
            )
        )
    for view in page_views:
        jobs.append(
            PageJob(
                _index_path(view.url),
                "page.html",
                {
                    "post": view,
                    "page": info(
                        view.title, view.url, "page", description=view.summary, feeds=site_feeds
                    ),
                },
            )
        )

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
                render.Feed(
                    f"{config.title}: {term.name}",
                    term.url + "feed.xml",
                    "application/rss+xml",
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


# ---------------------------------------------------------------- stage 4: feeds, sitemap, files


def feed_files(
    config: SiteConfig,
    views: Sequence[render.PostView],
    tags: Sequence[taxonomy.Term],
    categories: Sequence[taxonomy.Term],
) -> dict[str, bytes]:
    def entries(items: Sequence[render.PostView]) -> list[feeds.FeedEntry]:
        return [
            feeds.FeedEntry(
                title=v.title,
                url=v.url,
                date=v.date,
                updated=v.updated,
                summary=v.summary,
                content_html=_absolute_links(str(v.content), config),
                author=v.author,
                categories=tuple(c.name for c in v.categories) + tuple(t.name for t in v.tags),
            )
            for v in items[: config.feed_size]
        ]

    by_url = {v.url: v for v in views}
    files: dict[str, bytes] = {}
    site_spec = feeds.FeedSpec(config.title, "/", "/feed.xml", "/atom.xml")
    latest = entries(views)
    files["feed.xml"] = feeds.rss_bytes(config, site_spec, latest)
    files["atom.xml"] = feeds.atom_bytes(config, site_spec, latest)
    for term in (*tags, *categories):
        spec = feeds.FeedSpec(f"{config.title}: {term.name}", term.url, term.url + "feed.xml", None)
        files[term.url.strip("/") + "/feed.xml"] = feeds.rss_bytes(
            config, spec, entries([by_url[p.url] for p in term.posts])
        )
    return files


def _absolute_links(html_text: str, config: SiteConfig) -> str:
    """Feed readers have no base URL: root-relative links and images become absolute."""
    parts = urlsplit(config.base_url)
    return render.rebase_root_links(html_text, f"{parts.scheme}://{parts.netloc}/")


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


def static_files(site: Path, posts: Sequence[content.Post]) -> list[tuple[str, Path]]:
    """(output path, source) for theme assets and content files; site files before defaults."""
    found: list[tuple[str, Path]] = []
    for theme in (site / "theme", render.DEFAULT_THEME):
        found.extend(_walk(theme, ""))
    content_dir = site / "content"
    for path, rel in _walk_pairs(content_dir):
        top = rel.split("/", 1)[0]
        if rel == "products.yaml" or top in ("posts", "pages") or path.suffix == ".md":
            continue
        found.append((rel, path))
    for (
        post
    ) in posts:  # a bundle (SLUG/index.md) or a folder named like the post: copied next to it
        bundle = post.source.name == "index.md"
        folder = post.source.parent if bundle else post.source.with_suffix("")
        if folder.is_dir() and (bundle or folder != site / "content" / "posts"):
            base = post.url.strip("/")
            for path, rel in _walk_pairs(folder):
                if path.suffix != ".md":
                    found.append((f"{base}/{rel}", path))
    return found


def _walk(folder: Path, prefix: str) -> list[tuple[str, Path]]:
    return [(prefix + rel, path) for path, rel in _walk_pairs(folder)]


def _walk_pairs(folder: Path) -> list[tuple[Path, str]]:
    """Files under folder with their relative path; links leading outside it are not followed."""
    if not folder.is_dir():
        return []
    root = folder.resolve()
    pairs = []
    for path in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if not path.is_file():
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            continue
        pairs.append((path, path.relative_to(folder).as_posix()))
    return pairs


ROBOTS = "User-agent: *\nAllow: /\n\nSitemap: {sitemap}\n"


# ---------------------------------------------------------------- the build


def build(options: BuildOptions) -> BuildResult:
    """Build the site atomically: on any error the previous output stays exactly as it was."""
    started = time.perf_counter()
    site = options.site_dir
    output.check_output_folder(options.output_dir, site)
    loaded = load_site(options)
    config = loaded.config
    env = render.make_environment(site, config)

    related_slugs = related.related_index(loaded.posts, config.related)
    light = {p.slug: light_view(p) for p in loaded.posts}
    rendered, found = render_bodies(loaded, env, related_slugs, light, site)
    problems = _Problems([*loaded.problems, *found])
    problems.raise_errors(options.strict)  # all reading and rendering problems, in one report

    views = [full_view(r, light, related_slugs, config) for r in rendered if r.post.kind == "post"]
    page_views = [
        full_view(r, light, related_slugs, config) for r in rendered if r.post.kind == "page"
    ]
    tags = taxonomy.build_terms(views, "tags")
    categories = taxonomy.build_terms(views, "categories")
    jobs = page_jobs(config, views, page_views, tags, categories)

    staged = output.stage(options.output_dir)
    try:
        failures: list[Problem] = []
        for job in jobs:
            try:
                staged.write(job.path, render.render_template(env, job.template, job.context))
            except render.TemplateFailure as failure:
                if failure.problem not in failures:
                    failures.append(failure.problem)
        if failures:
            raise BuildFailed(failures)
        staged.write("search/index.json", search.search_index(views))
        for path, data in feed_files(config, views, tags, categories).items():
            staged.write(path, data)
        urls = [
            (j.context["page"].url, j.context["page"].modified)
            for j in jobs
            if j.path != "404.html"
        ]
        staged.write("sitemap.xml", sitemap_xml(config, urls))
        staged.write("robots.txt", ROBOTS.format(sitemap=config.absolute("/sitemap.xml")))
        for path, source in static_files(site, (*loaded.posts, *loaded.pages)):
            staged.copy(path, source)
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    return BuildResult(
        posts=len(loaded.posts),
        pages=len(jobs),
        written=staged.written,
        unchanged=staged.unchanged,
        seconds=time.perf_counter() - started,
        warnings=problems.warnings,
    )
