"""Views: what templates see of a post. A light view (metadata) is what lists show; a full
view adds the rendered body and the related posts."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import replace

from markupsafe import Markup

from quire.config import MarkdownSettings, SiteConfig
from quire.incremental.digest import digest, parts_digest
from quire.incremental.memo import Memo
from quire.index import taxonomy
from quire.model import Kind, Link, Post, PostView, RelatedLists, Rendered
from quire.render import templates
from quire.render.markdown import smart_plain
from quire.spill import Spill, SpilledHtml

DEFAULT_MARKDOWN = MarkdownSettings()


def light_view(
    post: Post, markdown: MarkdownSettings = DEFAULT_MARKDOWN, memo: Memo | None = None
) -> PostView:
    """A post as lists see it: metadata only, no body. The title and summary get the
    body's smart punctuation (so pages, lists, search and feeds all show the same).
    Its fingerprint digests what it shows, not the post's file: a body edit leaves the
    pages that only list or relate the post alone (`memo` keeps it by the post's own)."""
    if memo is None:
        fingerprint = _shown_digest(post, markdown)
    else:
        made_from = parts_digest(
            "light view", post.fingerprint or digest(post), _settings(markdown)
        )
        fingerprint = memo.get(made_from, lambda: _shown_digest(post, markdown))
    return PostView(
        title=smart_plain(post.title, markdown),
        url=post.url,
        slug=post.slug,
        kind=post.kind,
        date=post.date,
        updated=post.updated,
        summary=smart_plain(post.summary, markdown),
        dek=smart_plain(post.dek, markdown),
        author=post.author,
        image=post.image,
        og_image=post.og_image,
        draft=post.draft,
        params=post.params,
        tags=_links(post.tags, "tags"),
        categories=_links(post.categories, "categories"),
        fingerprint=fingerprint,
    )


def _shown_digest(post: Post, markdown: MarkdownSettings) -> bytes:
    """A light view's fingerprint: the digest of every field of the post it shows and of the
    settings its smart punctuation follows (the view is made from these alone; pickling the
    view it makes cost ~3x more). tests/test_views.py checks that each field the view shows
    changes it."""
    return digest(
        (
            "light view",
            _settings(markdown),
            post.title,
            post.url,
            post.slug,
            post.kind,
            post.date,
            post.updated,
            post.summary,
            post.dek,
            post.author,
            post.image,
            post.og_image,
            post.draft,
            post.params,
            post.tags,
            post.categories,
        )
    )


@functools.lru_cache(maxsize=8)
def _settings(markdown: MarkdownSettings) -> bytes:
    return digest(markdown)


def _links(names: tuple[str, ...], kind: str) -> tuple[Link, ...]:
    return tuple(Link(n, f"/{kind}/{taxonomy.slugify(n)}/", taxonomy.slugify(n)) for n in names)


def related_views(
    light: Mapping[str, PostView], pairs: tuple[tuple[str, bool], ...]
) -> tuple[PostView, ...]:
    """The light views of a related list; a filled-up slot's view says `filled`."""
    return tuple(
        replace(light[s], filled=True, fingerprint=parts_digest("filled", light[s].fingerprint))
        if filled
        else light[s]
        for s, filled in pairs
        if s in light
    )


def full_view(
    item: Rendered,
    light: Mapping[str, PostView],
    related_lists: RelatedLists,
    config: SiteConfig,
    spill: Spill | None = None,
) -> PostView:
    """A post as its own page sees it: with its body and related posts. With a `spill`, the
    body goes there and the view holds a handle to it (SpilledHtml): read back by whoever
    shows it, so the build does not hold every body until the pages are written."""
    post = item.post
    is_post = post.kind is Kind.POST
    related = related_views(light, related_lists.get(post.slug, ())) if is_post else ()
    base = light[post.slug] if is_post else light_view(post, config.markdown)
    show_related = is_post and post.show_related and "related" not in item.body.shortcodes
    body = item.body
    content = templates.wrap_tables(templates.rebase_root_links(body.html, config.base_path))
    if spill is not None:
        content = spill.add(content, SpilledHtml)
    elif type(content) is not Markup:  # else the body's own object (one copy of each)
        content = Markup(content)
    return replace(
        base,
        content=content,
        toc=Markup(item.body.toc),
        toc_entries=item.body.toc.count("<a "),
        word_count=item.body.word_count,
        reading_time=item.body.reading_time,
        related=related,
        show_related=show_related,
        # from what the view is made of rather than from all its fields, the texts hashed
        # as they are: no pickling of the body (~10 % of the views stage)
        fingerprint=parts_digest(
            "full view",
            base.fingerprint,
            body.html,
            body.toc,
            str(body.word_count),
            str(len(body.shortcodes)),
            *body.shortcodes,
            config.base_path,
            str(len(related)),
            *(r.fingerprint for r in related),
            str(show_related),
        ),
    )
