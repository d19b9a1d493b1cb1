"""The data that moves between the stages: small frozen records, read -> index -> render ->
plan -> output. Nothing here does work; each stage's module says how these are made."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from markupsafe import Markup

from quire import report
from quire.problems import Problem

if TYPE_CHECKING:
    from quire.config import SiteConfig
    from quire.spill import SpilledHtml

# Related posts per post slug: (slug, filled) pairs, ranked first; `filled` marks a slot
# filled up (same category, shared tag, newest) because too few posts ranked.
RelatedLists = Mapping[str, tuple[tuple[str, bool], ...]]


class Kind(StrEnum):
    """A post is dated, listed, tagged and has related posts; a page stands alone."""

    POST = "post"
    PAGE = "page"


@dataclass(frozen=True)
class OgImage:
    """The image og:image, twitter:image and feed enclosures point at: the image stage's
    1200 px-wide variant of a post's `image` (or the original when it has none)."""

    url: str  # site path (/posts/x/hero-1200w.jpg) or an http(s) URL
    mime: str | None = None
    length: int = 0  # bytes, 0 when unknown (a remote image)
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Post:
    """One Markdown source, parsed. Kind "post" is dated and listed; kind "page" stands alone."""

    source: Path
    kind: Kind
    title: str
    date: dt.datetime | None
    slug: str
    body: str
    body_line: int = 1
    updated: dt.datetime | None = None
    tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    summary: str = ""  # as written, else the first paragraph's text (lists, feeds, meta)
    dek: str = ""  # the summary or description as written only: the post header shows it
    draft: bool = False
    author: str | None = None
    image: str | None = None
    related: tuple[str, ...] | None = None
    show_related: bool = True
    params: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    url: str = "/"
    aliases: tuple[str, ...] = ()  # old site paths that redirect here
    field_lines: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    fingerprint: bytes = b""  # digest of the file and read settings it was parsed from
    og_image: OgImage | None = None  # set by the image stage (quire/images)

    @property
    def category(self) -> str | None:
        return self.categories[0] if self.categories else None

    def line_of(self, key: str) -> int | None:
        return self.field_lines.get(key)


@dataclass(frozen=True)
class StoreLink:
    store: str
    url: str


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    price: str
    links: tuple[StoreLink, ...]
    image: str | None = None
    note: str | None = None
    line: int = 1


WORDS_PER_MINUTE = 220


@dataclass(frozen=True)
class Shortcode:
    name: str
    args: tuple[str, ...]
    kwargs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    inner: str | None = None
    line: int = 1


@dataclass(frozen=True)
class RenderedBody:
    html: str
    toc: str
    word_count: int
    shortcodes: tuple[str, ...]  # names used, e.g. ("buy", "related")

    @property
    def reading_time(self) -> int:
        return max(1, round(self.word_count / WORDS_PER_MINUTE))


@dataclass(frozen=True)
class Link:
    name: str
    url: str
    slug: str = ""


@dataclass(frozen=True)
class Feed:
    title: str  # the <link rel="alternate"> title: names the site (a feed reader lists it)
    url: str
    type: str
    label: str = ""  # the footer link's text, on a page that already names the site


@dataclass(frozen=True)
class PostView:
    """What a template sees of a post: its metadata, rendered body and related list."""

    title: str
    url: str
    slug: str
    kind: Kind
    date: dt.datetime | None
    updated: dt.datetime | None
    summary: str
    author: str | None
    image: str | None
    draft: bool
    params: Mapping[str, object]
    tags: tuple[Link, ...]
    categories: tuple[Link, ...]
    content: Markup | SpilledHtml = Markup("")  # a build's full views: the body in its Spill
    dek: str = ""  # the post's own summary or description; "" when lists use its first paragraph
    toc: Markup = Markup("")
    toc_entries: int = 0  # headings in the table of contents: post.html shows it from 3
    word_count: int = 0
    reading_time: int = 1
    related: tuple[PostView, ...] = ()
    show_related: bool = False
    filled: bool = False  # in a related list: a slot filled up, not ranked (see index/related.py)
    fingerprint: bytes = b""  # digest of what the view was made from (see render/views.py)
    og_image: OgImage | None = None

    @property
    def category(self) -> Link | None:
        return self.categories[0] if self.categories else None


@dataclass(frozen=True)
class PageInfo:
    """What every template sees about the page being written."""

    title: str
    url: str
    canonical: str
    kind: str
    description: str = ""
    feeds: tuple[Feed, ...] = ()
    prev_url: str | None = None
    next_url: str | None = None
    image: str | None = None
    published: dt.datetime | None = None
    modified: dt.datetime | None = None
    extra: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Loaded:
    """Everything read from the site folder, before any index is built."""

    config: SiteConfig
    posts: tuple[Post, ...]  # published posts, newest first
    pages: tuple[Post, ...]
    products: dict
    problems: tuple[Problem, ...] = ()  # errors and warnings; the build raises after rendering
    valid_until: dt.datetime | None = None  # when the first future post becomes due


@dataclass(frozen=True)
class Rendered:
    post: Post
    body: RenderedBody


@dataclass(frozen=True)
class PageJob:
    """One HTML file to write: its path, template and context. `made_from`, when set, is a
    small value the context is a function of (with the config): the page's fingerprint
    digests it instead of the context (a post's page: its view's fingerprint)."""

    path: str
    template: str
    context: dict
    made_from: object = None


@dataclass(frozen=True)
class FeedJob:
    """One feed file to write: RSS or Atom, what it describes and the posts in it."""

    path: str
    format: str  # "rss" or "atom"
    spec: FeedSpec
    views: tuple[PostView, ...]


@dataclass(frozen=True)
class BuildOptions:
    site_dir: Path
    output_dir: Path
    drafts: bool = False
    base_url: str | None = None
    strict: bool = False
    now: dt.datetime | None = None
    jobs: int | None = None  # processes rendering Markdown; None: one per core
    progress: bool = False  # a progress bar on stderr while rendering
    # `quire check` builds into a temporary folder: a cache saved for that folder would no
    # longer prove the real output current, and the next build would render every page
    save_cache: bool = True

    def settings(self) -> tuple:
        """The options that change the output (jobs and progress do not)."""
        return (self.drafts, self.base_url, self.strict)

    def moment(self) -> dt.datetime:
        return self.now or dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class BuildResult:
    posts: int
    pages: int
    written: int  # output files written
    unchanged: int  # output files kept from the previous output
    seconds: float
    warnings: tuple[Problem, ...] = ()
    rendered: int = 0  # of `pages`, rendered by Jinja (alias redirects are not counted)
    cached: int = 0  # of `pages`, proved unchanged by the cache and kept unrendered
    stages: tuple[tuple[str, float], ...] = ()  # (stage, seconds), in build order
    images_encoded: int = 0  # image variants encoded (0 when the cache had them all)
    cpu: tuple[float, ...] = ()  # CPU seconds per stage, worker processes included

    def summary(self) -> str:
        return report.summary(self)

    def timings(self) -> str:
        return report.timings(self)


@dataclass(frozen=True)
class FeedSpec:
    """One feed to write: where it lives and which page it describes."""

    title: str
    page_url: str  # site path of the HTML page the feed mirrors
    rss_path: str  # site path of the RSS file
    atom_path: str | None  # site path of the Atom file, or None
