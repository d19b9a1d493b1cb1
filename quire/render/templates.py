"""Jinja2: the template environment, the views templates see, and template errors as path:line."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
from collections.abc import Mapping
from pathlib import Path

import jinja2
import jinja2.bccache
import jinja2.meta
import jinja2.nodes
from markupsafe import Markup

from quire import __version__, defaults
from quire.config import SiteConfig
from quire.problems import Problem

DEFAULT_TEMPLATES = defaults.TEMPLATES
DEFAULT_THEME = defaults.THEME


class TemplateFailure(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def make_environment(site_dir: Path, config: SiteConfig) -> jinja2.Environment:
    """Site templates first, then the default theme's, file by file.

    Compiled templates are not kept on disk: they are Python code, run when loaded, so a
    site archive or repository shipping them in `.quire-cache/` would run its code on the
    reader's machine, and the cache must stay inside the site. Compiling costs ~0.1 s."""
    search = [site_dir / "templates"]
    if DEFAULT_TEMPLATES.resolve() != (site_dir / "templates").resolve():
        search.append(DEFAULT_TEMPLATES)
    options = {
        "autoescape": True,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
    }
    env = _Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in search if p.is_dir()]),
        undefined=jinja2.ChainableUndefined,
        auto_reload=False,
        cache_size=-1,
        **options,
    )
    env.filters["relurl"] = _remembered(config.relative)
    env.filters["absurl"] = _remembered(config.absolute)
    env.filters["date"] = format_date
    env.filters["isodate"] = _isodate
    env.globals["site"] = config
    env.globals["quire_version"] = __version__
    env.globals["card"] = _cards(env)
    return env


class _Environment(jinja2.Environment):
    def make_globals(self, d):
        """A template's globals are the environment's own dict, unless it is given some of
        its own (quire never does). Jinja's ChainMap over them was iterated in Python for
        each context made: each page and each include (~5 a page), ~8 % of rendering."""
        return self.globals if not d else super().make_globals(d)


CARD = "partials/card.html"  # what `card(post)` renders; a template calling it depends on it


def _cards(env: jinja2.Environment):
    """`card(post, first)`: partials/card.html for one post, rendered once per process and
    reused by every list the post is in (home, tags, categories: ~6 a post). An include in
    the list's loop copied the whole page context for each card."""
    made: dict[tuple[bytes, bool], Markup] = {}

    def card(post, first: bool = False) -> Markup:
        key = (post.fingerprint, bool(first))
        if key not in made:
            template = env.get_template(CARD)
            made[key] = Markup(template.render(post=post, first=bool(first)))
        return made[key]

    return card


def _remembered(function):
    """A URL filter, remembered (a list page repeats its links). Called directly: the
    wrapper that was to keep Jinja from folding constants (`'/css/style.css'|relurl`) for
    an on-disk bytecode cache did not (Jinja folds eval-context filters too) and that cache
    is gone; compiled templates live in one environment made for one config. Only the
    ~16 calls a page on values (`post.url|relurl`) reach it, one Python call less each."""
    return functools.lru_cache(maxsize=4096, typed=True)(function)


# `="/` first (then what precedes it): a pattern opening with a literal is searched for as
# a string; one opening with `\s` was tried at every space of the body (~10x slower)
_ROOT_LINK = re.compile(r'="/(?!/)(?:(?<=\shref="/)|(?<=\ssrc="/))')
_SRCSET = re.compile(r'(\ssrcset=")([^"]*)"')
_SRCSET_ROOT = re.compile(r"(^|,\s*)/(?!/)")


def rebase_root_links(html_text: str, prefix: str) -> str:
    """Root-relative links written in Markdown ("/posts/x/") follow a base_url sub folder or
    host; so do the URLs of a srcset (the image stage's <picture>)."""
    if prefix == "/":
        return html_text
    html_text = _ROOT_LINK.sub(lambda _: '="' + prefix, html_text)
    if "srcset=" not in html_text:
        return html_text
    return _SRCSET.sub(
        lambda m: m.group(1) + _SRCSET_ROOT.sub(lambda u: u.group(1) + prefix, m.group(2)) + '"',
        html_text,
    )


_TABLE = re.compile(r"<table\b.*?</table>", re.DOTALL)


def wrap_tables(html_text: str) -> str:
    """Each table in a scrolling box (theme: .table-scroll), so a wide one scrolls sideways on
    a phone, with a shadow at the edge that has more, instead of being cut off. Focusable,
    so the keyboard can scroll it too."""
    if "<table" not in html_text:
        return html_text
    return _TABLE.sub(
        lambda m: (
            f'<div class="table-scroll" tabindex="0" role="region" aria-label="Table">'
            f"{m.group(0)}</div>"
        ),
        html_text,
    )


DATE_FORMAT = "%-d %B %Y"  # "4 November 2026": lists, posts and search results alike


def format_date(value: dt.datetime | None, fmt: str = DATE_FORMAT) -> str:
    if not value:
        return ""
    # the same instant in two time zones compares (and hashes) equal, yet falls on its own
    # day in each: the offset is part of the key
    return _format_date(value, value.utcoffset(), fmt)


@functools.lru_cache(maxsize=4096)  # every list and feed page formats the same dates again
def _format_date(value: dt.datetime, _offset: dt.timedelta | None, fmt: str) -> str:
    text = value.strftime(fmt.replace("%-d", "%d"))
    if "%-d" in fmt:  # portable "day without leading zero"
        text = text.replace(value.strftime("%d"), str(value.day), 1)
    return text


def _isodate(value: dt.datetime | None) -> str:
    return value.isoformat() if value else ""


def render_template(env: jinja2.Environment, name: str, context: Mapping[str, object]) -> str:
    """Render, turning any template error into a Problem naming the template file and line."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as err:
        where = err.filename or err.name or name
        raise TemplateFailure(
            Problem(_short(where), err.lineno, f"template syntax error: {err.message}")
        ) from None
    except jinja2.TemplateNotFound as err:
        raise TemplateFailure(
            Problem(f"templates/{name}", None, f"template not found: {err.name}")
        ) from None
    except Exception as err:  # a runtime error inside a template: find its line in the traceback
        filename, line = _template_frame(err)
        raise TemplateFailure(
            Problem(_short(filename or name), line, f"template error: {type(err).__name__}: {err}")
        ) from None


def _short(path: str) -> str:
    parts = Path(path).parts
    if "templates" in parts:
        return str(Path(*parts[len(parts) - 1 - parts[::-1].index("templates") :]))
    return path


def _template_frame(err: BaseException) -> tuple[str | None, int | None]:
    tb = err.__traceback__
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith(".html") or "templates" in code.co_filename:
            found = (code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def precompile(env: jinja2.Environment, names) -> None:
    """Compile templates before forking, so each worker does not compile them again: the
    named ones and all they extend, include or import (and the card, when one calls
    `card()`). Without those, every pages and bodies worker compiled base.html and the
    partials on its first page."""
    todo = sorted(set(names), reverse=True)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        with contextlib.suppress(jinja2.TemplateError):  # reported with its line on use
            env.get_template(name)
            source = env.loader.get_source(env, name)[0]
            todo.extend(sorted({n for n in references(env.parse(source)) if n is not None}))


def references(ast: jinja2.nodes.Template) -> list[str | None]:
    """Templates this one extends, includes or imports, and the card template if it calls
    `card(...)`; None for a name only known at render time."""
    found = list(jinja2.meta.find_referenced_templates(ast))
    calls = ast.find_all(jinja2.nodes.Call)
    if any(isinstance(c.node, jinja2.nodes.Name) and c.node.name == "card" for c in calls):
        found.append(CARD)
    return found
