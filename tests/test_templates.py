"""Template compiling: done once in the parent, before the workers fork."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import jinja2
import pytest
from conftest import write

from quire import pipeline
from quire.config import SiteConfig
from quire.model import BuildOptions
from quire.render import templates


def test_precompile_covers_what_a_template_extends_includes_and_calls(tmp_path: Path):
    site = tmp_path / "site"
    write(site / "templates" / "partials" / "extra.html", "{% include 'partials/tags.html' %}")
    write(
        site / "templates" / "list.html",
        "{% extends 'base.html' %}{% block content %}{% include 'partials/extra.html' %}"
        "{{ card(post) }}{% endblock %}",
    )
    env = templates.make_environment(site, SiteConfig(title="T", base_url="https://x.org/"))
    compiled: list[str] = []
    compile_one = env.compile

    def counting(source, name=None, *args, **kwargs):
        compiled.append(name)
        return compile_one(source, name, *args, **kwargs)

    env.compile = counting
    templates.precompile(env, ["list.html"])
    assert set(compiled) >= {
        "list.html",
        "base.html",
        "partials/seo.html",
        "partials/extra.html",
        "partials/tags.html",
        templates.CARD,
    }
    compiled.clear()
    for name in ("base.html", "partials/tags.html", templates.CARD):
        env.get_template(name)
    assert compiled == []  # each compiled once, kept in the environment


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="workers are forked"
)
def test_workers_compile_no_template(tmp_path: Path, make_corpus, monkeypatch):
    """The pages and bodies workers find every template, and every partial it includes,
    compiled by the parent: each worker compiling base.html and the partials again on its
    first page was CPU time spent once per worker."""
    site = make_corpus(80, tmp_path / "site", "quire")
    log = tmp_path / "compiled.txt"
    parent = os.getpid()
    compile_one = jinja2.Environment.compile

    def counting(self, source, name=None, *args, **kwargs):
        with log.open("a", encoding="utf-8") as f:
            f.write(f"{'parent' if os.getpid() == parent else 'worker'} {name}\n")
        return compile_one(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    result = pipeline.build(BuildOptions(site, tmp_path / "out", jobs=2))
    assert result.rendered > 100
    lines = log.read_text(encoding="utf-8").splitlines()
    assert "parent partials/related.html" in lines  # the post pages' and the shortcode's
    assert "parent partials/seo.html" in lines
    assert [line for line in lines if line.startswith("worker")] == []


def test_templates_see_the_environments_globals_and_their_own_stay_their_own(tmp_path: Path):
    """A template's globals are the environment's dict (no ChainMap walked per context):
    a global set after loading is seen; globals given to one template stay its own."""
    site = tmp_path / "site"
    write(site / "templates" / "g.html", "{{ late }}|{{ own }}|{{ site.title }}")
    env = templates.make_environment(site, SiteConfig(title="T", base_url="https://x.org/"))
    template = env.get_template("g.html")
    env.globals["late"] = "L"
    assert template.render() == "L||T"
    env.cache.clear()
    assert env.get_template("g.html", globals={"own": "O"}).render() == "L|O|T"
    assert "own" not in env.globals
