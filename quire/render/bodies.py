"""Stage 3, render: every post's Markdown body to HTML, with its shortcodes drawn by
templates; in worker processes when there are many, from the cache when nothing changed."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from quire.config import SiteConfig
from quire.incremental.digest import digest, parts_digest
from quire.incremental.fingerprints import template_digests
from quire.incremental.memo import MISSING, Memo
from quire.incremental.store import BuildCache
from quire.model import (
    Kind,
    Loaded,
    Post,
    PostView,
    RelatedLists,
    Rendered,
    RenderedBody,
    Shortcode,
)
from quire.parallel import forks, parallel_map
from quire.problems import Problem, display_path
from quire.render import templates, views
from quire.render.markdown import prepare, render_body
from quire.render.shortcodes import ShortcodeError
from quire.render.templates import precompile


def shortcode_renderer(
    env: jinja2.Environment,
    config: SiteConfig,
    products: dict,
    post: Post,
    related_views: tuple[PostView, ...],
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
            return templates.render_template(env, name, context).strip()
        except templates.TemplateFailure as failure:
            raise ShortcodeError(f"in shortcode '{shortcode.name}': {failure.problem}") from None

    return render_shortcode


@dataclass(frozen=True)
class BodyContext:
    """What rendering any one body needs; forked workers inherit it instead of pickling it."""

    loaded: Loaded
    env: jinja2.Environment
    related_views: Mapping[str, tuple[PostView, ...]]
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


class _RelatedViews(Mapping):
    """Each post's related list as light views, made when a body asks for it: only a body
    with shortcodes does (to render `related` or to check its stamp), so an edit build
    does not make 1000 lists for one body."""

    def __init__(self, light: Mapping[str, PostView], lists: RelatedLists):
        self.light = light
        self.lists = lists
        self.made: dict[str, tuple[PostView, ...]] = {}

    def __getitem__(self, slug: str) -> tuple[PostView, ...]:
        found = self.made.get(slug)
        if found is None:
            found = self.made[slug] = views.related_views(self.light, self.lists[slug])
        return found

    def __iter__(self) -> Iterator:
        return iter(self.lists)

    def __len__(self) -> int:
        return len(self.lists)


def _body_of(ctx: BodyContext, post: Post) -> BodyOutcome:
    relatives = ctx.related_views.get(post.slug, ()) if post.kind is Kind.POST else ()
    products = _RecordingCatalog(ctx.loaded.products)
    renderer = shortcode_renderer(ctx.env, ctx.loaded.config, products, post, relatives)
    body, found = render_body(
        post.body,
        post.body_line,
        display_path(post.source, ctx.site),
        renderer,
        ctx.loaded.config.markdown,
    )
    if ctx.loaded.config.markdown.line_numbers:
        body = dataclasses.replace(body, html=with_line_numbers(body.html))
    return BodyOutcome(body, tuple(found), tuple(products.asked))


_CODE_BLOCK = re.compile(r"<pre\b[^>]*>.*?</pre>", re.S)


def with_line_numbers(html: str) -> str:
    """[markdown] line_numbers (Hugo's markup.highlight.lineNos, in a table as Hugo's
    lineNumbersInTable does): each code block gets a gutter of line numbers before it."""

    def gutter(match: re.Match) -> str:
        block = match.group(0)
        inner = block[block.index(">") + 1 : -len("</pre>")]
        text = re.sub(r"<[^>]*>", "", inner).rstrip("\n")
        count = max(1, text.count("\n") + 1)
        numbers = "".join(f'<span class="lnt">{n}\n</span>' for n in range(1, count + 1))
        return (
            '<table class="lntable"><tr><td class="lntd"><pre class="lnt-gutter" aria-hidden="true">'
            f'{numbers}</pre></td><td class="lntd">{block}</td></tr></table>'
        )

    return _CODE_BLOCK.sub(gutter, html)


def _body_at(
    state: tuple[BodyContext, Sequence[Post], _Dependencies], index: int
) -> tuple[BodyOutcome, bytes]:
    """A body and the stamp of what else it depended on, both made in the worker."""
    ctx, posts, deps = state
    outcome = _body_of(ctx, posts[index])
    return outcome, deps.of(posts[index], outcome)


def _body_key(post: Post, settings_key: bytes) -> bytes:
    """A body is its Markdown rendered by one engine with one set of rules: a change of
    `[markdown] engine` or `smart` renders every body again (a body without shortcodes has
    no stamp, so the settings' digest is in the key). The text is hashed directly: a
    tenth of the cost of pickling it, and an edit build keys all 1000 bodies."""
    return parts_digest(settings_key, str(post.source), str(post.body_line), post.body)


class _Dependencies:
    """What a body depends on besides its Markdown: only shortcodes reach further (the
    post, the config, their templates, the products they show, the related list)."""

    def __init__(self, ctx: BodyContext, templates: Memo):
        self.ctx = ctx
        self.templates_memo = templates
        self.products: dict[str, bytes] = {}  # each product's digest, made on first use

    @functools.cached_property
    def config(self) -> bytes:
        return digest(self.ctx.loaded.config)

    @functools.cached_property
    def templates(self) -> dict[str, bytes]:
        return template_digests(self.ctx.env, self.templates_memo)

    def product(self, product_id: str) -> bytes:
        found = self.products.get(product_id)
        if found is None:
            found = digest((product_id, self.ctx.loaded.products.get(product_id)))
            self.products[product_id] = found
        return found

    def of(self, post: Post, outcome: BodyOutcome) -> bytes:
        """The stamp: digests hashed as parts (pickling the tuple of them cost ~0.1 ms a
        body, as much as a shortcode's render). Each list is preceded by its length, and
        a missing template or a page's absent related list by a mark no digest equals."""
        names = outcome.body.shortcodes
        if not names:
            return b""
        used = sorted(set(names))
        drawn_by = [self.templates.get(f"shortcodes/{n}.html") or b"none" for n in used]
        related: list[bytes] = [b"none"]
        if "related" in used and post.kind is Kind.POST:
            found = self.ctx.related_views.get(post.slug, ())
            related = [str(len(found)).encode(), *(v.fingerprint for v in found)]
        return parts_digest(
            "body stamp",
            post.fingerprint or digest(post),
            self.config,
            str(len(used)),
            *used,
            *drawn_by,
            str(len(outcome.products)),
            *(self.product(p) for p in outcome.products),
            *related,
        )


def render_bodies(
    loaded: Loaded,
    env: jinja2.Environment,
    related_lists: RelatedLists,
    light: Mapping[str, PostView],
    site: Path,
    cache: BuildCache | None = None,
    jobs: int = 1,
    progress: bool = False,
) -> tuple[list[Rendered], list[Problem]]:
    """Every post's and page's body; bodies whose inputs did not change come from the cache."""
    ctx = BodyContext(loaded, env, _RelatedViews(light, related_lists), site)
    everything = (*loaded.posts, *loaded.pages)
    memo = cache.memo("bodies") if cache is not None else Memo()
    deps = _Dependencies(ctx, cache.memo("templates") if cache is not None else Memo())
    settings = loaded.config.markdown
    found: dict[int, RenderedBody] = {}
    settings_key = digest(settings)
    keys = [_body_key(post, settings_key) for post in everything]
    for i, post in enumerate(everything):
        hit = memo.recall(keys[i], stamp=lambda outcome, p=post: deps.of(p, outcome))
        if hit is not MISSING:
            found[i] = hit.body
    todo = [i for i in range(len(everything)) if i not in found]
    if forks(len(todo), jobs):
        precompile(env, env.list_templates(filter_func=lambda n: n.startswith("shortcodes/")))
        prepare(settings, (everything[i].body for i in todo))
        deps.config, deps.templates  # noqa: B018 - made once here, inherited by the workers
    posts = [everything[i] for i in todo]
    outcomes = parallel_map(_body_at, (ctx, posts, deps), len(posts), jobs, progress, "Markdown")
    problems: list[Problem] = []
    for i, (outcome, stamp) in zip(todo, outcomes, strict=True):
        found[i] = outcome.body
        problems.extend(outcome.problems)
        if cache is not None and not outcome.problems:
            memo.keep(keys[i], outcome, stamp)
    rendered = [Rendered(post, found[i]) for i, post in enumerate(everything)]
    return rendered, problems
