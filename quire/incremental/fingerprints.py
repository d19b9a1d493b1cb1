"""What an output depends on, as digests: a page whose fingerprint did not change since the
last build is kept from the old output instead of rendered again."""

from __future__ import annotations

from collections.abc import Mapping

import jinja2

from quire import output
from quire.incremental.digest import digest
from quire.incremental.memo import MISSING, Memo
from quire.render.templates import references


def template_digests(env: jinja2.Environment, memo: Memo) -> dict[str, bytes]:
    """Per template, a digest of its source and of every template it extends or includes,
    so that a template edit re-renders only what uses it. A dynamic include depends on all.
    Parsing every template costs ~0.05 s: the memo keeps the result while no source changes."""
    return template_facts(env, memo)[0]


def template_facts(
    env: jinja2.Environment, memo: Memo
) -> tuple[dict[str, bytes], dict[str, tuple[str, ...]]]:
    """(template_digests, and per template the SHALLOW context names it, with everything it
    reaches, only reads the listed attributes of or tests), from one read and one parse of
    each template: a build needs both, and reading and parsing every template twice cost
    ~0.08 s."""
    sources: dict[str, str | None] = {}
    for name in env.list_templates():
        try:
            sources[name] = env.loader.get_source(env, name)[0]
        except Exception:  # unreadable: rendering reports it
            sources[name] = None
    everything = digest(sorted(sources.items()))
    return memo.get(
        digest(("template facts", everything, SHALLOW)),
        lambda: _template_facts(env, sources, everything),
    )


def _template_facts(
    env: jinja2.Environment, sources: Mapping[str, str | None], everything: bytes
) -> tuple[dict[str, bytes], dict[str, tuple[str, ...]]]:
    refs: dict[str, list[str | None]] = {}  # what each extends, includes, imports (or card)
    deep: dict[str, set[str]] = {}
    for name, source in sources.items():
        try:
            ast = env.parse(source or "")
            refs[name] = references(ast)
            deep[name] = _deep_uses(ast)
        except Exception:  # a syntax error: rendering reports it with its line
            refs[name], deep[name] = [None], set(SHALLOW)
    return _template_digests(sources, refs, everything), _shallow_names(sources, refs, deep)


def _template_digests(
    sources: Mapping[str, str | None], refs: Mapping[str, list[str | None]], everything: bytes
) -> dict[str, bytes]:
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
        digests[name] = everything if dynamic else digest(sorted((n, sources.get(n)) for n in seen))
    return digests


# Context values a list page holds that its template usually reads only a little of: a
# tag's page holds the Term with every post of the tag, so one post's edit would re-render
# all its pages. When every use of the name in the template (and all it extends, includes
# or imports) reads one of these attributes, or only tests it, the page's fingerprint
# holds just those.
SHALLOW = {"term": ("kind", "name", "slug", "url", "count")}


def _shallow_names(
    sources: Mapping[str, str | None],
    refs: Mapping[str, list[str | None]],
    deep: Mapping[str, set[str]],
) -> dict[str, tuple[str, ...]]:
    result = {}
    for name in sources:
        seen: set[str] = set()
        stack: list[str | None] = [name]
        used: set[str] = set()
        while stack:
            current = stack.pop()
            if current is None or (current not in sources and current not in seen):
                used = set(SHALLOW)  # a dynamic or missing template: it may read anything
                break
            if current not in seen:
                seen.add(current)
                used |= deep[current]
                stack.extend(refs.get(current, ()))
        result[name] = tuple(sorted(set(SHALLOW) - used))
    return result


def _deep_uses(ast) -> set[str]:
    """The SHALLOW names this template uses in any other way than reading a listed
    attribute (`term.count`) or testing it (`if term`, `term is defined`, `not term`)."""
    from jinja2 import nodes

    deep: set[str] = set()

    def walk(node, parent) -> None:
        if isinstance(node, nodes.Name) and node.name in SHALLOW and node.ctx == "load":
            ok = (
                (
                    isinstance(parent, nodes.Getattr)
                    and parent.node is node
                    and parent.attr in SHALLOW[node.name]
                )
                or (isinstance(parent, nodes.If | nodes.CondExpr) and parent.test is node)
                or isinstance(parent, nodes.Not)
                or (
                    isinstance(parent, nodes.Test)
                    and parent.node is node
                    and parent.name in ("defined", "undefined", "none")
                )
            )
            if not ok:
                deep.add(node.name)
        for child in node.iter_child_nodes():
            walk(child, node)

    walk(ast, None)
    return deep


def shallow_context(context: dict, names: tuple[str, ...]) -> dict:
    """The context as a page's fingerprint sees it: SHALLOW values reduced to what the
    template reads of them."""
    if not names:
        return context
    reduced = dict(context)
    for name in names:
        value = context.get(name)
        if value is not None:
            reduced[name] = ("shallow", *(getattr(value, a) for a in SHALLOW[name]))
    return reduced


def keep_unchanged(staged: output.StagedOutput, pages: Memo, path: str, fingerprint: bytes) -> bool:
    """Link the old file when the last build wrote this path from the same fingerprint."""
    key = (path, fingerprint)
    old = pages.recall(key)
    pages.keep(key, None)  # the file's stat, once the output is in place: see stat_outputs
    return old is not MISSING and old is not None and staged.keep(path, old)


def stat_outputs(pages: Memo, signature: tuple) -> None:
    """After the swap: note each file's stat, for the next build to trust it unchanged."""
    stats = {entry[0]: entry[1:] for entry in signature if entry[1] is not None}
    for key in pages.new:
        pages.new[key] = (None, stats.get(key[0]))
