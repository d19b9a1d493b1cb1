"""RSS 2.0 and Atom feeds with feedgen: absolute links, full content, stable ids."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator

from quire.config import SiteConfig
from quire.model import FeedJob, FeedSpec, OgImage, PostView
from quire.render.templates import rebase_root_links


@dataclass(frozen=True)
class FeedEntry:
    title: str
    url: str  # site path
    date: object  # aware datetime
    updated: object | None
    summary: str
    content_html: str  # cleaned for XML once, not once per feed the post is in
    author: str | None
    categories: tuple[str, ...]
    image: OgImage | None = None  # the post's image (1200w variant): an enclosure


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    """XML 1.0 forbids control characters, surrogates, U+FFFE/U+FFFF: lxml would raise."""
    return _NOT_XML.sub("", text)


def _as_rss_html(text: str, rss: bool) -> str:
    """RSS readers take <description> as HTML: plain text is escaped once more, or a
    summary holding "<img onerror=...>" would run in the reader. Atom's are plain text."""
    text = _clean(text)
    return html.escape(text, quote=False) if rss else text


def _channel(
    config: SiteConfig, spec: FeedSpec, latest, self_path: str, rss: bool
) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc")  # RSS <author> needs an e-mail; dc:creator carries a plain name
    fg.id(config.absolute(spec.page_url))
    fg.title(_clean(spec.title))
    fg.link(
        href=config.absolute(self_path), rel="self"
    )  # before alternate: RSS <link> takes the last
    fg.link(href=config.absolute(spec.page_url), rel="alternate")
    fg.description(_as_rss_html(config.description or spec.title, rss))
    fg.language(config.language)
    if config.author:
        fg.author({"name": _clean(config.author)})
    fg.generator("quire")
    if latest is not None:
        fg.updated(latest)
        fg.lastBuildDate(latest)
    return fg


def _add_entry(fg: FeedGenerator, config: SiteConfig, entry: FeedEntry, rss: bool) -> None:
    fe = fg.add_entry()
    link = config.absolute(entry.url)
    fe.id(link)
    fe.guid(link, permalink=True)
    fe.title(_clean(entry.title))
    fe.link(href=link)
    fe.published(entry.date)
    fe.updated(entry.updated or entry.date)
    fe.description(_as_rss_html(entry.summary or entry.title, rss))
    fe.content(entry.content_html, type="CDATA" if rss else "html")
    author = entry.author or config.author
    if author:
        fe.author({"name": _clean(author)})
        fe.dc.dc_creator(_clean(author))
    for category in entry.categories:
        fe.category(term=_clean(category))
    if rss and entry.image is not None:  # feedgen's Atom drops the link's rel: RSS only
        url = entry.image.url
        url = config.absolute(url) if url.startswith("/") else url
        fe.enclosure(url, str(entry.image.length), entry.image.mime or "image/jpeg")


# Where entries sit in feedgen's pretty-printed output: an <item> two levels deep in RSS,
# an <entry> one level deep in Atom, each on its own lines, the last before the closing tag.
_LAYOUT = {
    True: ("\n    <item>", "</item>", "\n  </channel>"),
    False: ("\n  <entry>", "</entry>", "\n</feed>"),
}


def _serialise(fg: FeedGenerator, rss: bool) -> str:
    return (fg.rss_str(pretty=True) if rss else fg.atom_str(pretty=True)).decode("utf-8")


def _entry_xml(config: SiteConfig, entry: FeedEntry, rss: bool, made: dict) -> str:
    """One entry as feedgen writes it inside a feed: made once per post and spliced into
    every feed it is in (serialising each feed whole redid every entry, 21 MB at 1000 posts).
    The same depth gives the same indentation, and text inside is written as it is."""
    scratch = made.get(("scratch", rss))
    if scratch is None:
        scratch = made[("scratch", rss)] = _channel(
            config, FeedSpec("entry", "/", "/", None), None, "/", rss
        )
    for old in scratch.entry():
        scratch.remove_entry(old)
    _add_entry(scratch, config, entry, rss)
    text = _serialise(scratch, rss)
    opening, closing, _ = _LAYOUT[rss]
    return text[text.index(opening) + 1 : text.rindex(closing) + len(closing)]


def _feed(
    config: SiteConfig,
    spec: FeedSpec,
    entries: Sequence[FeedEntry],
    self_path: str,
    rss: bool,
    made: dict,
) -> bytes:
    latest = max((e.updated or e.date for e in entries), default=None)
    text = _serialise(_channel(config, spec, latest, self_path, rss), rss)
    end = text.rindex(_LAYOUT[rss][2])
    parts = [text[:end]]
    for entry in entries:
        key = (entry.url, rss)
        if key not in made:
            made[key] = _entry_xml(config, entry, rss, made)
        parts.append("\n" + made[key])
    parts.append(text[end:])
    return "".join(parts).encode("utf-8")


def rss_bytes(
    config: SiteConfig, spec: FeedSpec, entries: Sequence[FeedEntry], made: dict | None = None
) -> bytes:
    return _feed(config, spec, entries, spec.rss_path, True, {} if made is None else made)


def atom_bytes(
    config: SiteConfig, spec: FeedSpec, entries: Sequence[FeedEntry], made: dict | None = None
) -> bytes:
    path = spec.atom_path or spec.rss_path
    return _feed(config, spec, entries, path, False, {} if made is None else made)


def feed_entry(config: SiteConfig, v: PostView) -> FeedEntry:
    return FeedEntry(
        title=v.title,
        url=v.url,
        date=v.date,
        updated=v.updated,
        summary=v.summary,
        content_html=_clean(_absolute_links(str(v.content), config)),
        author=v.author,
        categories=tuple(c.name for c in v.categories) + tuple(t.name for t in v.tags),
        image=v.og_image,
    )


def feed_bytes(config: SiteConfig, job: FeedJob, made: dict | None = None) -> bytes:
    """The feed file; `made` keeps entries between feeds (a post is in several)."""
    made = {} if made is None else made
    entries = []
    for view in job.views:
        if view.url not in made:
            made[view.url] = feed_entry(config, view)
        entries.append(made[view.url])
    write = rss_bytes if job.format == "rss" else atom_bytes
    return write(config, job.spec, entries, made)


def _absolute_links(html_text: str, config: SiteConfig) -> str:
    """Feed readers have no base URL: root-relative links and images become absolute."""
    parts = urlsplit(config.base_url)
    return rebase_root_links(html_text, f"{parts.scheme}://{parts.netloc}/")
