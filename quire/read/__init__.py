"""Stage 1, read: the site folder -> config, posts, pages and the product catalogue.

Every problem is collected, none raised early, so that one run names them all.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from quire import model
from quire.config import BASE_URL_MISSING, base_url_missing, load_config
from quire.incremental.digest import digest
from quire.incremental.store import BuildCache
from quire.model import BuildOptions, Kind, Loaded
from quire.problems import Problem, ProblemList, display_path
from quire.read import catalog, content
from quire.urls import URL_FIELDS, check_url, own_path


def load_site(options: BuildOptions, cache: BuildCache | None = None) -> Loaded:
    """Read config, posts, pages and products; raise BuildFailed with every problem found."""
    site = options.site_dir
    cache = BuildCache() if cache is None else cache
    problems = ProblemList()
    overrides = {"base_url": options.base_url} if options.base_url else None
    config, found = load_config(site, overrides)
    problems.extend(found)
    if config is None:
        problems.raise_errors(options.strict)
    read_options = content.ReadOptions(
        timezone=config.timezone, permalink=config.permalink, content_root=site / "content"
    )
    jobs = options.jobs or os.cpu_count() or 1
    sources, found = content.read_sources(site, read_options, cache.memo("posts"), jobs)
    problems.extend(found)
    products, found = _load_catalog(site, cache)
    problems.extend(found)

    now = options.moment()
    published = [s for s in sources if options.drafts or not (s.draft or (s.date and s.date > now))]
    problems.extend(_duplicates(published, site))
    problems.extend(_url_checks(published, site))
    problems.extend(_own_page_clashes(published, site))
    posts = sorted(
        (p for p in published if p.kind is Kind.POST), key=lambda p: (p.date, p.slug), reverse=True
    )
    pages = sorted((p for p in published if p.kind is Kind.PAGE), key=lambda p: p.slug)
    problems.extend(_base_url_warning(config, options, site))
    future = [s.date for s in sources if not s.draft and s.date and s.date > now]
    valid_until = None if options.drafts else min(future, default=None)
    return Loaded(config, tuple(posts), tuple(pages), products, tuple(problems.items), valid_until)


def _load_catalog(site: Path, cache: BuildCache) -> tuple[dict, list[Problem]]:
    """catalog.load_catalog, parsed again only when products.yaml changed (YAML is slow)."""
    path = site / "content" / "products.yaml"
    try:
        key = digest((path.read_bytes(), str(path), str(site)))
    except OSError:
        return catalog.load_catalog(path, site)
    return cache.memo("catalog").get(key, lambda: catalog.load_catalog(path, site))


def _duplicates(posts: Sequence[model.Post], site: Path) -> list[Problem]:
    """Every file that shares its URL with another is named, each pointing at the other."""
    by_url: dict[str, list[model.Post]] = {}
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


def _own_page_clashes(posts: Sequence[model.Post], site: Path) -> list[Problem]:
    """A post or page at a path quire writes itself (/search/, /tags/, /feed.xml...)."""
    found = []
    for post in posts:
        if own := own_path(post.url):
            line = post.line_of("url") or post.line_of("slug") or 1
            message = f"URL {post.url} collides with quire's own page {own}: change its slug or url"
            found.append(Problem(display_path(post.source, site), line, message))
    return found


def _url_checks(posts: Sequence[model.Post], site: Path) -> list[Problem]:
    found = []
    for post in posts:
        fields = {"image": post.image, **post.params}
        for key in URL_FIELDS:
            values = fields.get(key)
            for value in values if isinstance(values, list | tuple) else (values,):
                if value is not None and (why := check_url(value, allow_relative=key == "image")):
                    where = post.line_of(key)
                    found.append(Problem(display_path(post.source, site), where, f"{key}: {why}"))
    return found


def _base_url_warning(config, options: BuildOptions, site: Path) -> list[Problem]:
    """Canonical links, feeds, the sitemap and robots.txt are absolute: without base_url they
    point at the preview server. A warning here; `quire deploy` refuses (deploy/__init__.py)."""
    if options.base_url or not base_url_missing(config):
        return []
    shown = display_path(site / "site.toml", site)
    return [Problem(shown, None, BASE_URL_MISSING, warning=True)]
