"""The build: wires the stages together, in the order data flows.

files -> config, Posts, catalog -> indexes (related, tags, archive) -> rendered bodies
-> pages -> staged output -> swap. Nothing else in quire calls more than one stage.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

import jinja2
import jinja2.meta
from markupsafe import Markup

from quire import output
from quire.config import SiteConfig, load_config
from quire.files import site_files
from quire.incremental import cache
from quire.incremental.fastpath import BuildOptions, BuildResult, unchanged_result
from quire.index import taxonomy, words
from quire.problems import BuildFailed, Problem, display_path, errors_only
from quire.read import catalog as catalog_stage
from quire.read import content
from quire.render import feeds, search
from quire.render import templates as render
from quire.render.markdown import RenderedBody, Shortcode, ShortcodeError, render_body


@dataclass(frozen=True)
class Loaded:
    """Everything read from the site folder, before any index is built."""

    config: SiteConfig
    posts: tuple[content.Post, ...]  # published posts, newest first
    pages: tuple[content.Post, ...]
    products: dict
    problems: tuple[Problem, ...] = ()  # errors and warnings; the build raises after rendering
    valid_until: dt.datetime | None = None  # when the first future post becomes due


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


def load_site(options: BuildOptions, store: cache.Store | None = None) -> Loaded:
    """Read config, posts, pages and products; raise BuildFailed with every problem found."""
    site = options.site_dir
    problems = _Problems()
    overrides = {"base_url": options.base_url} if options.base_url else None
    config, found = load_config(site, overrides)
    problems.extend(found)
    if config is None:
        problems.raise_errors(options.strict)
    read_options = content.ReadOptions(timezone=config.timezone, permalink=config.permalink)
    if store is None:
        sources, found = content.read_sources(
            site / "content" / "posts", site / "content" / "pages", site, read_options
        )
    else:
        sources, found = _read_sources_cached(site, read_options, store)
    problems.extend(found)
    products, found = _load_catalog(site, store)
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
    future = [s.date for s in sources if not s.draft and s.date and s.date > now]
    valid_until = None if options.drafts else min(future, default=None)
    return Loaded(config, tuple(posts), tuple(pages), products, tuple(problems.items), valid_until)


def _read_sources_cached(
    site: Path, read_options: content.ReadOptions, store: cache.Store
) -> tuple[list[content.Post], list[Problem]]:
    """content.read_sources, parsing only files whose bytes changed since the last build."""
    posts: list[content.Post] = []
    problems: list[Problem] = []
    for kind, folder in (
        ("post", site / "content" / "posts"),
        ("page", site / "content" / "pages"),
    ):
        for path, _ in site_files(folder, within=site / "content", pattern="*.md"):
            try:
                key = cache.digest((path.read_bytes(), kind, read_options))
            except OSError:
                key = None
            hit = store.posts.get(str(path))
            if key is not None and hit is not None and hit[0] == key:
                post, found = hit[1]
                store.posts_new[str(path)] = hit  # the same object: its cache shard is current
            else:
                post, found = content.read_file(path, kind, site, read_options)
                if key is not None:
                    store.posts_new[str(path)] = (key, (post, found))
            problems.extend(found)
            if post is not None:
                posts.append(post)
    return posts, problems


def _load_catalog(site: Path, store: cache.Store | None) -> tuple[dict, list[Problem]]:
    """catalog.load_catalog, parsed again only when products.yaml changed (YAML is slow)."""
    path = site / "content" / "products.yaml"
    if store is None:
        return catalog_stage.load_catalog(path, site)
    try:
        key = cache.digest((path.read_bytes(), str(path), str(site)))
    except OSError:
        return catalog_stage.load_catalog(path, site)
    if store.catalog is not None and store.catalog[0] == key:
        value = store.catalog[1]
    else:
        value = catalog_stage.load_catalog(path, site)
    store.catalog_new = (key, value)
    return value


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


PARALLEL_MIN = 50  # fewer bodies to render than this: forking workers costs more than it saves


@dataclass(frozen=True)
class BodyContext:
    """What rendering any one body needs; forked workers inherit it instead of pickling it."""

    loaded: Loaded
    env: jinja2.Environment
    related_views: Mapping[str, tuple[render.PostView, ...]]
    site: Path


@dataclass(frozen=True)
class BodyOutcome:
    body: RenderedBody
    problems: tuple[Problem, ...]
    products: tuple[str, ...]  # product ids the shortcodes looked up: the body depends on them


class _RecordingCatalog(Mapping):
    """The product catalogue, noting which ids a post's shortcodes asked for."""

    def __init__(self, products: Mapping):
        self.products = products
        self.asked: dict[str, None] = {}

    def __getitem__(self, key):
        self.asked[key] = None
        return self.products[key]

    def __contains__(self, key) -> bool:
        self.asked[key] = None
        return key in self.products

    def __iter__(self) -> Iterator:
        return iter(self.products)

    def __len__(self) -> int:
        return len(self.products)


def render_one(ctx: BodyContext, post: content.Post) -> BodyOutcome:
    views = () if post.kind == "page" else ctx.related_views.get(post.slug, ())
    products = _RecordingCatalog(ctx.loaded.products)
    renderer = shortcode_renderer(ctx.env, ctx.loaded.config, products, post, views)
    body, found = render_body(
        post.body, post.body_line, display_path(post.source, ctx.site), renderer
    )
    return BodyOutcome(body, tuple(found), tuple(products.asked))


# Set once in each forked worker by _start_worker: tasks then carry only an index.
_WORKER_STATE: list[tuple[Callable, object]] = []


def _start_worker(work: Callable, state: object) -> None:
    # Ctrl-C is the parent's to handle, and Pool.terminate's SIGTERM should end a worker
    # quietly: not through the inherited handler (a KeyboardInterrupt traceback per worker).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _WORKER_STATE.append((work, state))


def _work_in_worker(index: int):
    work, state = _WORKER_STATE[0]
    return work(state, index)


def parallel_map(
    work: Callable[[object, int], object],
    state: object,
    count: int,
    jobs: int,
    progress: bool = False,
    desc: str = "Rendering",
) -> Iterator:
    """Yields work(state, i) for i in range(count), in order: from `jobs` forked processes
    when there is enough work (they inherit `state`, only indexes and results cross
    process boundaries), else from this one. The results are the same either way."""
    bar = None
    if progress and count:
        from tqdm import tqdm

        bar = tqdm(total=count, desc=desc, file=sys.stderr, leave=False)
    try:
        if jobs > 1 and count > PARALLEL_MIN and "fork" in multiprocessing.get_all_start_methods():
            pool_ctx = multiprocessing.get_context("fork")
            chunk = max(1, min(16, count // (jobs * 8)))
            with pool_ctx.Pool(jobs, initializer=_start_worker, initargs=(work, state)) as pool:
                for result in pool.imap(_work_in_worker, range(count), chunksize=chunk):
                    if bar is not None:
                        bar.update()
                    yield result
            return
        for i in range(count):
            result = work(state, i)
            if bar is not None:
                bar.update()
            yield result
    finally:
        if bar is not None:
            bar.close()


def _body_at(state: tuple[BodyContext, Sequence[content.Post]], index: int) -> BodyOutcome:
    ctx, posts = state
    return render_one(ctx, posts[index])


def _page_at(
    state: tuple[jinja2.Environment, Sequence[PageJob]], index: int
) -> tuple[bytes | None, Problem | None]:
    env, jobs = state
    job = jobs[index]
    try:
        return render.render_template(env, job.template, job.context).encode("utf-8"), None
    except render.TemplateFailure as failure:
        return None, failure.problem


def _feed_at(state: tuple[SiteConfig, Sequence[FeedJob]], index: int) -> bytes:
    config, jobs = state
    return feed_bytes(config, jobs[index])


def _precompile(env: jinja2.Environment, names) -> None:
    """Compile templates before forking, so each worker does not compile them again."""
    for name in sorted(set(names)):
        with contextlib.suppress(jinja2.TemplateError):  # reported with its line on use
            env.get_template(name)


def _body_key(post: content.Post) -> bytes:
    return cache.digest((str(post.source), post.body, post.body_line))


@dataclass(frozen=True)
class _DepsInputs:
    """Digests computed once per build for _body_deps."""

    config: bytes
    templates: Mapping[str, bytes]
    views: Mapping[int, bytes]  # light view digests, by id
    sources: Mapping[str, bytes]  # source path -> digest of the file's bytes and read options


def _body_deps(
    ctx: BodyContext,
    post: content.Post,
    names: Sequence[str],
    product_ids: Sequence[str],
    inputs: _DepsInputs,
) -> bytes:
    """What a body depends on besides its Markdown: only shortcodes reach further (the
    post, the config, their templates, the products they show, the related list)."""
    if not names:
        return b""
    used = sorted(set(names))
    related_views = ctx.related_views.get(post.slug, ()) if post.kind == "post" else ()
    return cache.digest(
        (
            inputs.sources.get(str(post.source)) or cache.digest(post),
            inputs.config,
            [(n, inputs.templates.get(f"shortcodes/{n}.html")) for n in used],
            [(p, ctx.loaded.products.get(p)) for p in product_ids],
            related_views if "related" in used else None,
        ),
        inputs.views,
    )


def render_bodies(
    loaded: Loaded,
    env: jinja2.Environment,
    related_slugs: dict[str, tuple[str, ...]],
    light: dict[str, render.PostView],
    site: Path,
    store: cache.Store | None = None,
    jobs: int = 1,
    progress: bool = False,
    view_digests: Mapping[int, bytes] | None = None,
) -> tuple[list[Rendered], list[Problem]]:
    """Every post's and page's body; bodies whose inputs did not change come from the store."""
    related_views = {
        slug: tuple(light[s] for s in slugs if s in light) for slug, slugs in related_slugs.items()
    }
    ctx = BodyContext(loaded, env, MappingProxyType(related_views), site)
    everything = (*loaded.posts, *loaded.pages)
    inputs = _DepsInputs(
        cache.digest(loaded.config),
        template_digests(env, store) if store is not None else {},
        view_digests or {},
        {path: entry[0] for path, entry in store.posts_new.items()} if store is not None else {},
    )
    found: dict[int, RenderedBody] = {}
    if store is not None:
        for i, post in enumerate(everything):
            hit = store.bodies.get(_body_key(post))
            if hit is None:
                continue
            names, product_ids, deps, body = hit
            if _body_deps(ctx, post, names, product_ids, inputs) == deps:
                found[i] = body
                store.bodies_new[_body_key(post)] = hit
    todo = [i for i in range(len(everything)) if i not in found]
    if todo:
        _precompile(env, env.list_templates(filter_func=lambda n: n.startswith("shortcodes/")))
    posts = [everything[i] for i in todo]
    outcomes = list(parallel_map(_body_at, (ctx, posts), len(posts), jobs, progress, "Markdown"))
    problems: list[Problem] = []
    for i, outcome in zip(todo, outcomes, strict=True):
        post = everything[i]
        found[i] = outcome.body
        problems.extend(outcome.problems)
        if store is not None and not outcome.problems:
            names = outcome.body.shortcodes
            deps = _body_deps(ctx, post, names, outcome.products, inputs)
            store.bodies_new[_body_key(post)] = (names, outcome.products, deps, outcome.body)
    rendered = [Rendered(post, found[i]) for i, post in enumerate(everything)]
    return rendered, problems


def template_digests(env: jinja2.Environment, store: cache.Store | None = None) -> dict[str, bytes]:
    """Per template, a digest of its source and of every template it extends or includes,
    so that a template edit re-renders only what uses it. A dynamic include depends on all.
    Parsing every template costs ~0.1 s: the store keeps the result while no source changes."""
    sources: dict[str, str | None] = {}
    for name in env.list_templates():
        try:
            sources[name] = env.loader.get_source(env, name)[0]
        except Exception:  # unreadable: rendering reports it
            sources[name] = None
    everything = cache.digest(sorted(sources.items()))
    for known in (store.templates_new, store.templates) if store is not None else ():
        if known is not None and known[0] == everything:
            store.templates_new = known
            return known[1]
    digests = _template_digests(env, sources, everything)
    if store is not None:
        store.templates_new = (everything, digests)
    return digests


def _template_digests(
    env: jinja2.Environment, sources: Mapping[str, str | None], everything: bytes
) -> dict[str, bytes]:
    refs: dict[str, list[str | None]] = {}
    for name, source in sources.items():
        try:
            refs[name] = list(jinja2.meta.find_referenced_templates(env.parse(source or "")))
        except Exception:  # a syntax error: rendering reports it with its line
            refs[name] = [None]
    digests = {}
    for name in sources:
        seen: set[str] = set()
        stack: list[str | None] = [name]
        dynamic = False
        while stack:
            current = stack.pop()
            if current is None:
                dynamic = True
                break
            if current not in seen:
                seen.add(current)
                stack.extend(refs.get(current, ()))
        digests[name] = (
            everything if dynamic else cache.digest(sorted((n, sources.get(n)) for n in seen))
        )
    return digests


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


@dataclass(frozen=True)
class FeedJob:
    """One feed file to write: RSS or Atom, what it describes and the posts in it."""

    path: str
    format: str  # "rss" or "atom"
    spec: feeds.FeedSpec
    views: tuple[render.PostView, ...]


def feed_jobs(
    config: SiteConfig,
    views: Sequence[render.PostView],
    tags: Sequence[taxonomy.Term],
    categories: Sequence[taxonomy.Term],
) -> list[FeedJob]:
    by_url = {v.url: v for v in views}
    site_spec = feeds.FeedSpec(config.title, "/", "/feed.xml", "/atom.xml")
    latest = tuple(views[: config.feed_size])
    jobs = [
        FeedJob("feed.xml", "rss", site_spec, latest),
        FeedJob("atom.xml", "atom", site_spec, latest),
    ]
    for term in (*tags, *categories):
        spec = feeds.FeedSpec(f"{config.title}: {term.name}", term.url, term.url + "feed.xml", None)
        members = tuple(by_url[p.url] for p in term.posts[: config.feed_size])
        jobs.append(FeedJob(term.url.strip("/") + "/feed.xml", "rss", spec, members))
    return jobs


def feed_entry(config: SiteConfig, v: render.PostView) -> feeds.FeedEntry:
    return feeds.FeedEntry(
        title=v.title,
        url=v.url,
        date=v.date,
        updated=v.updated,
        summary=v.summary,
        content_html=_absolute_links(str(v.content), config),
        author=v.author,
        categories=tuple(c.name for c in v.categories) + tuple(t.name for t in v.tags),
    )


def feed_bytes(
    config: SiteConfig, job: FeedJob, made: dict[str, feeds.FeedEntry] | None = None
) -> bytes:
    """The feed file; `made` keeps entries between feeds (a post is in several)."""
    made = {} if made is None else made
    entries = []
    for view in job.views:
        if view.url not in made:
            made[view.url] = feed_entry(config, view)
        entries.append(made[view.url])
    write = feeds.rss_bytes if job.format == "rss" else feeds.atom_bytes
    return write(config, job.spec, entries)


def _absolute_links(html_text: str, config: SiteConfig) -> str:
    """Feed readers have no base URL: root-relative links and images become absolute."""
    parts = urlsplit(config.base_url)
    return render.rebase_root_links(html_text, f"{parts.scheme}://{parts.netloc}/")


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


def static_files(site: Path, posts: Sequence[content.Post]) -> list[tuple[str, Path]]:
    """(output path, source) for theme assets and content files; site files before defaults."""
    found: list[tuple[str, Path]] = []
    for theme in (site / "theme", render.DEFAULT_THEME):
        found.extend((rel, path) for path, rel in site_files(theme))
    content_dir = site / "content"
    for path, rel in site_files(content_dir):
        top = rel.split("/", 1)[0]
        if rel == "products.yaml" or top in ("posts", "pages") or path.suffix == ".md":
            continue
        found.append((rel, path))
    # a bundle (SLUG/index.md) or a folder named like the post: its files go next to its page
    for post in posts:
        bundle = post.source.name == "index.md"
        folder = post.source.parent if bundle else post.source.with_suffix("")
        if folder.is_dir() and (bundle or folder != site / "content" / "posts"):
            base = post.url.strip("/")
            for path, rel in site_files(folder, within=content_dir):
                if path.suffix != ".md":
                    found.append((f"{base}/{rel}", path))
    return found


ROBOTS = "User-agent: *\nAllow: /\n\nSitemap: {sitemap}\n"


# ---------------------------------------------------------------- the build


def build(
    options: BuildOptions, probe: cache.Probe | None = None, started: float | None = None
) -> BuildResult:
    """Build the site atomically: on any error the previous output stays exactly as it was.

    One build at a time writes next to an output folder; a second one waits for the lock.
    A `probe` from buildinfo.quick_check (which found work to do) saves checking again,
    unless the build had to wait: the other build may have done the work meanwhile.
    """
    started = time.perf_counter() if started is None else started
    output.check_output_folder(options.output_dir, options.site_dir)
    waited: list[str] = []

    def on_wait(message: str) -> None:
        waited.append(message)
        print(message, file=sys.stderr, flush=True)

    with output.build_lock(options.output_dir, on_wait):
        return _build(options, None if waited else probe, started)


def _build(options: BuildOptions, probe: cache.Probe | None, started: float) -> BuildResult:
    """The build itself, under the lock.

    Nothing is done twice: with no change at all the build stops after a few stats; else
    parsed posts, bodies and the related index come from the store when their inputs did
    not change, and pages whose fingerprint did not change are linked from the old output.
    """
    site = options.site_dir
    if probe is None:
        manifest, probe = cache.unchanged(
            site, options.output_dir, options.settings(), options.moment()
        )
        if manifest is not None:
            return unchanged_result(manifest, started)
    return _full_build(options, started, probe)


TEMPLATE_CACHE = "templates"  # compiled Jinja templates, in the build cache folder


def _library_versions() -> tuple[str, ...]:
    import markdown
    import pygments

    return (markdown.__version__, pygments.__version__, jinja2.__version__)


def _related_index(loaded: Loaded, store: cache.Store, site: Path) -> dict[str, tuple[str, ...]]:
    """related.related_index, recomputed only when what it reads of the posts changed: an
    edit that adds no informative word keeps the index without importing numpy or scipy."""
    posts = loaded.posts
    keys = [words.text_key(p) for p in posts]
    fresh: dict[bytes, tuple] = {}  # words tokenised in this build
    features = []
    for post, key in zip(posts, keys, strict=True):
        digest = store.words.get(key)
        if digest is None:
            fresh[key] = words.post_words(post)
            digest = cache.digest(fresh[key])
        store.words_new[key] = digest
        features.append((post.slug, post.date, post.tags, post.categories, post.related, digest))
    index_key = cache.digest((features, loaded.config.related))
    if store.related is not None and store.related[0] == index_key:
        index = store.related[1]
    else:
        from quire.index import related  # numpy and scipy load only when the ranking must be redone

        known = cache.load_words(site, store.engine) if len(fresh) < len(set(keys)) else {}
        known.update(fresh)
        pairs = [known.get(k) or words.post_words(p) for k, p in zip(keys, posts, strict=True)]
        index = related.related_index(posts, loaded.config.related, pairs)
        store.words_file = dict(zip(keys, pairs, strict=True))
    store.related_new = (index_key, index)
    return index


def _light_digests(
    posts: Sequence[content.Post], light: Mapping[str, render.PostView], store: cache.Store
) -> dict[int, bytes]:
    """Digest per light view, kept in the store by its post's source key: a light view is
    made from its post alone, and the post from its file (~40 ms a build for 1000 posts)."""
    known: dict[int, bytes] = {}
    for post in posts:
        view = light[post.slug]
        path = str(post.source)
        entry = store.posts_new.get(path)
        source = entry[0] if entry is not None else None
        hit = store.light.get(path)
        if source is not None and hit is not None and hit[0] == source:
            known[id(view)] = hit[1]
        else:
            known[id(view)] = cache.digest(view)
        if source is not None:
            store.light_new[path] = (source, known[id(view)])
    return known


def _view_digests(*groups, known: dict[int, bytes] | None = None) -> dict[int, bytes]:
    """Digest per view object, light ones first (full views hold them as related posts)."""
    known = {} if known is None else known
    for group in groups:
        for view in group:
            if id(view) not in known:
                known[id(view)] = cache.digest(view, known)
    return known


def _full_digests(
    items: Sequence[Rendered],
    views: Sequence[render.PostView],
    light: Mapping[str, render.PostView],
    related_slugs: Mapping[str, tuple[str, ...]],
    config: SiteConfig,
    known: dict[int, bytes],
) -> dict[int, bytes]:
    """Digest per full post view, from what full_view makes it of (its light view, body,
    related light views) rather than from all its fields again: ~3x cheaper."""
    for item, view in zip(items, views, strict=True):
        slug = item.post.slug
        related = tuple(known[id(light[s])] for s in related_slugs.get(slug, ()))
        known[id(view)] = cache.digest(
            (
                "full view",
                known[id(light[slug])],
                item.body,
                config.base_path,
                related,
                view.show_related,
            )
        )
    return known


def _search_docs(store: cache.Store, known: Mapping[int, bytes]) -> Callable:
    """search.search_doc, computed only for views that changed since the last build."""

    def doc(view: render.PostView) -> dict:
        key = known.get(id(view)) or cache.digest(view)
        entry = store.search.get(key)
        if entry is None:
            entry = search.search_doc(view)
        store.search_new[key] = entry
        return entry

    return doc


def _keep(staged: output.StagedOutput, store: cache.Store, path: str, fingerprint: bytes) -> bool:
    """Link the old file when the last build wrote this path from the same fingerprint."""
    store.pages_new[path] = (fingerprint, None)
    old = store.pages.get(path)
    return (
        old is not None
        and old[0] == fingerprint
        and old[1] is not None
        and staged.keep(path, old[1])
    )


@dataclass
class _Stopwatch:
    """Seconds per stage, for `quire build --timings` and the benchmark."""

    laps: list[tuple[str, float]] = field(default_factory=list)
    last: float = field(default_factory=time.perf_counter)

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps.append((name, now - self.last))
        self.last = now


def _full_build(options: BuildOptions, started: float, probe: cache.Probe) -> BuildResult:
    site = options.site_dir
    watch = _Stopwatch(last=started)
    store, cache_warnings = cache.load_store(
        site, cache.engine_digest(_library_versions()), options.output_dir
    )
    watch.lap("check and load cache")
    loaded = load_site(options, store)
    config = loaded.config
    env = render.make_environment(site, config, site / cache.CACHE_DIR / TEMPLATE_CACHE)
    watch.lap("read")

    related_slugs = _related_index(loaded, store, site)
    watch.lap("related")
    light = {p.slug: light_view(p) for p in loaded.posts}
    known = _light_digests(loaded.posts, light, store)
    workers = options.jobs or os.cpu_count() or 1
    rendered, found = render_bodies(
        loaded,
        env,
        related_slugs,
        light,
        site,
        store=store,
        jobs=workers,
        progress=options.progress,
        view_digests=known,
    )
    problems = _Problems([*loaded.problems, *found])
    problems.raise_errors(options.strict)  # all reading and rendering problems, in one report
    watch.lap("bodies")

    post_items = [r for r in rendered if r.post.kind == "post"]
    views = [full_view(r, light, related_slugs, config) for r in post_items]
    page_views = [
        full_view(r, light, related_slugs, config) for r in rendered if r.post.kind == "page"
    ]
    tags = taxonomy.build_terms(views, "tags")
    categories = taxonomy.build_terms(views, "categories")
    jobs = page_jobs(config, views, page_views, tags, categories)

    templates = template_digests(env, store)
    config_digest = cache.digest(config)
    known = _full_digests(post_items, views, light, related_slugs, config, known)
    known = _view_digests(page_views, known=known)
    for term in (*tags, *categories):  # in many page contexts: digested once, not per page
        known[id(term)] = cache.digest(term, known)
    rendered_pages = 0
    watch.lap("views and fingerprints")
    staged = output.stage(options.output_dir, site / cache.CACHE_DIR)
    try:
        failures: list[Problem] = []
        todo = []
        for job in jobs:
            fingerprint = cache.digest(
                (config_digest, templates.get(job.template), job.path, job.template, job.context),
                known,
            )
            if not _keep(staged, store, job.path, fingerprint):
                todo.append(job)
        _precompile(env, (job.template for job in todo))
        pages = parallel_map(_page_at, (env, todo), len(todo), workers, options.progress, "Pages")
        for job, (data, problem) in zip(todo, pages, strict=True):
            if problem is not None:
                if problem not in failures:
                    failures.append(problem)
                continue
            staged.write(job.path, data)
            rendered_pages += 1
        if failures:
            raise BuildFailed(failures)
        watch.lap("pages")
        fingerprint = cache.digest(("search", views), known)
        if not _keep(staged, store, "search/index.json", fingerprint):
            staged.write(
                "search/index.json", search.search_index(views, _search_docs(store, known))
            )
        todo_feeds = [
            feed
            for feed in feed_jobs(config, views, tags, categories)
            if not _keep(staged, store, feed.path, cache.digest((config_digest, feed), known))
        ]
        state = (config, todo_feeds)
        for feed, data in zip(
            todo_feeds, parallel_map(_feed_at, state, len(todo_feeds), workers), strict=True
        ):
            staged.write(feed.path, data)
        urls = [
            (j.context["page"].url, j.context["page"].modified)
            for j in jobs
            if j.path != "404.html"
        ]
        staged.write("sitemap.xml", sitemap_xml(config, urls))
        staged.write("robots.txt", ROBOTS.format(sitemap=config.absolute("/sitemap.xml")))
        for path, source in static_files(site, (*loaded.posts, *loaded.pages)):
            staged.copy(path, source)
        watch.lap("feeds, search, sitemap, static files")
        staged.commit()
        watch.lap("swap")
    except BaseException:
        staged.discard()
        raise
    warnings = problems.warnings
    cache_warnings.extend(_save_cache(options, store, probe, loaded, len(jobs), warnings))
    watch.lap("save cache")
    return BuildResult(
        posts=len(loaded.posts),
        pages=len(jobs),
        written=staged.written,
        unchanged=staged.unchanged,
        seconds=time.perf_counter() - started,
        warnings=(*warnings, *cache_warnings),
        rendered=rendered_pages,
        cached=len(jobs) - rendered_pages,
        stages=tuple(watch.laps),
    )


def _save_cache(
    options: BuildOptions,
    store: cache.Store,
    probe: cache.Probe,
    loaded: Loaded,
    pages: int,
    warnings: tuple[Problem, ...],
) -> list[Problem]:
    """After the swap: note what the output now holds, for the next build to trust."""
    signature = cache.output_signature(options.output_dir.absolute())
    stats = {entry[0]: entry[1:] for entry in signature if entry[1] is not None}
    for path, (fingerprint, _) in store.pages_new.items():
        store.pages_new[path] = (fingerprint, stats.get(path))
    problems = [cache.save_store(options.site_dir, store)]
    with contextlib.suppress(OSError):  # the next build keeps compiled templates there
        (options.site_dir / cache.CACHE_DIR / TEMPLATE_CACHE).mkdir(exist_ok=True)
    manifest = None
    if not probe.racy:
        manifest = cache.Manifest(
            probe.key, signature, loaded.valid_until, len(loaded.posts), pages, warnings
        )
    problems.append(cache.save_manifest(options.site_dir, manifest))
    return [p for p in problems if p is not None]
