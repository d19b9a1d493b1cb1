"""What an output depends on, as digests: a page whose fingerprint did not change since the
last build is kept from the old output instead of rendered again."""

from __future__ import annotations

from collections.abc import Mapping

import jinja2
import jinja2.meta

from quire import output
from quire.incremental.digest import digest
from quire.incremental.memo import MISSING, Memo


def template_digests(env: jinja2.Environment, memo: Memo) -> dict[str, bytes]:
    """Per template, a digest of its source and of every template it extends or includes,
    so that a template edit re-renders only what uses it. A dynamic include depends on all.
    Parsing every template costs ~0.1 s: the memo keeps the result while no source changes."""
    sources: dict[str, str | None] = {}
    for name in env.list_templates():
        try:
            sources[name] = env.loader.get_source(env, name)[0]
        except Exception:  # unreadable: rendering reports it
            sources[name] = None
    everything = digest(sorted(sources.items()))
    return memo.get(everything, lambda: _template_digests(env, sources, everything))


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
        digests[name] = everything if dynamic else digest(sorted((n, sources.get(n)) for n in seen))
    return digests


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
