"""`pip install` of a built wheel (not an editable checkout) builds a site from any folder:
the templates and theme travel inside the package (quire/defaults/).

Needs PyPI (the wheel's dependencies install into a fresh venv, ~1 min; pip's cache makes
repeats quicker); skipped with the reason when PyPI is not reachable. CI reaches it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT
from lxml import html


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
    except OSError:
        return False
    return True


def _copy_project(dest: Path) -> Path:
    """The files a wheel is built from, without build/ leftovers or caches in the checkout."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "quire", dest / "quire", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


def _run(*argv, cwd: Path) -> subprocess.CompletedProcess:
    # as a newcomer's shell: no PYTHONPATH pointing into this checkout
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, f"{argv}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done


def test_wheel_holds_every_default_template_and_theme_file(tmp_path: Path):
    project = _copy_project(tmp_path / "src")
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", "dist", ".", cwd=project)
    (wheel,) = (project / "dist").glob("quire-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    defaults = ROOT / "quire" / "defaults"
    shipped = {
        p.relative_to(ROOT).as_posix()
        for p in defaults.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert shipped - names == set()
    assert "quire/starter.py" in names and "quire/commands/init.py" in names


@pytest.mark.skipif(not _pypi_reachable(), reason="PyPI not reachable: cannot install deps")
@pytest.mark.timeout(900)  # pip resolving numpy/scipy on a busy machine: ~2 min seen at load 12
def test_installed_wheel_inits_and_builds_a_site_from_another_folder(tmp_path: Path):
    project = _copy_project(tmp_path / "src")
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", "dist", ".", cwd=project)
    (wheel,) = (project / "dist").glob("quire-*.whl")
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    # this pip installs into the new venv (no ensurepip); no bytecode compiling: ~2x quicker
    _run(
        sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-compile",
        str(wheel), cwd=tmp_path,
    )  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    quire = str(venv / "bin" / "quire")
    _run(quire, "init", "blog", "--title", "Wheel Test", "--base-url", "https://w.example/",
         cwd=elsewhere)  # fmt: skip
    done = _run(quire, "build", cwd=elsewhere / "blog")
    assert done.stdout.startswith("Built 3 posts, "), done.stdout
    out = elsewhere / "blog" / "output"
    welcome = html.fromstring((out / "posts" / "welcome" / "index.html").read_bytes())
    assert welcome.xpath("//title/text()")[0].endswith("Wheel Test")
    assert welcome.xpath("//aside[contains(@class, 'buy-box')]")
    assert welcome.xpath("//aside[contains(@class, 'related')]//a")
    assert (out / "css" / "style.css").is_file() and (out / "js" / "search.js").is_file()
    # the installed quire is the one that ran, not this checkout's
    where = _run(str(python), "-c", "import quire; print(quire.__file__)", cwd=elsewhere)
    assert str(venv) in where.stdout
