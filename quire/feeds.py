"""RSS 2.0 and Atom feeds with feedgen: absolute links, full content, stable ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from feedgen.feed import FeedGenerator

from .config import SiteConfig


@dataclass(frozen=True)
class FeedEntry:
    title: str
    url: str  # site path
    date: object  # aware datetime
    updated: object | None
    summary: str
    content_html: str
    author: str | None
    categories: tuple[str, ...]


@dataclass(frozen=True)
class FeedSpec:
    """One feed to write: where it lives and which page it describes."""

    title: str
    page_url: str  # site path of the HTML page the feed mirrors
    rss_path: str  # site path of the RSS file
    atom_path: str | None  # site path of the Atom file, or None


def _clean(text: str) -> str:
    """XML 1.0 forbids most control characters; feedgen would crash on them."""
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 32)


def _generator(
    config: SiteConfig,
    spec: FeedSpec,
    entries: Sequence[FeedEntry],
    self_path: str,
    content_type: str,
) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc")  # RSS <author> needs an e-mail; dc:creator carries a plain name
    fg.id(config.absolute(spec.page_url))
    fg.title(_clean(spec.title))
    fg.link(
        href=config.absolute(self_path), rel="self"
    )  # before alternate: RSS <link> takes the last
    fg.link(href=config.absolute(spec.page_url), rel="alternate")
    fg.description(_clean(config.description or spec.title))
    fg.language(config.language)
    if config.author:
        fg.author({"name": _clean(config.author)})
    fg.generator("quire")
    latest = max((e.updated or e.date for e in entries), default=None)
    if latest is not None:
        fg.updated(latest)
        fg.lastBuildDate(latest)
    for entry in reversed(entries):  # feedgen prepends; keep newest first
        fe = fg.add_entry()
        link = config.absolute(entry.url)
        fe.id(link)
        fe.guid(link, permalink=True)
        fe.title(_clean(entry.title))
        fe.link(href=link)
        fe.published(entry.date)
        fe.updated(entry.updated or entry.date)
        fe.description(_clean(entry.summary) or _clean(entry.title))
        fe.content(_clean(entry.content_html), type=content_type)
        author = entry.author or config.author
        if author:
            fe.author({"name": _clean(author)})
            fe.dc.dc_creator(_clean(author))
        for category in entry.categories:
            fe.category(term=_clean(category))
    return fg


def rss_bytes(config: SiteConfig, spec: FeedSpec, entries: Sequence[FeedEntry]) -> bytes:
    return _generator(config, spec, entries, spec.rss_path, "CDATA").rss_str(pretty=True)


def atom_bytes(config: SiteConfig, spec: FeedSpec, entries: Sequence[FeedEntry]) -> bytes:
    return _generator(config, spec, entries, spec.atom_path or spec.rss_path, "html").atom_str(
        pretty=True
    )
