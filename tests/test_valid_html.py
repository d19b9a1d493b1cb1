"""Every page of the sample site and of a new `quire init` site is valid HTML, by the Nu Html
Checker (the W3C validator), so theme changes stay valid.

Needs Java and vnu.jar: `apt-get install default-jre-headless` and `npm install vnu-jar` in
the repository (or VNU_JAR=/path/to/vnu.jar). Skipped, with the reason, when either is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, build_site

from quire.commands import main


def _vnu_jar() -> Path | None:
    candidates = [os.environ.get("VNU_JAR"), ROOT / "node_modules/vnu-jar/build/dist/vnu.jar"]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


JAR = _vnu_jar()
JAVA = shutil.which("java")
pytestmark = pytest.mark.skipif(
    JAR is None or JAVA is None,
    reason="the Nu Html Checker needs Java (apt-get install default-jre-headless) and vnu.jar "
    "(npm install vnu-jar in the repository, or VNU_JAR=/path/to/vnu.jar)",
)


def vnu_errors(folder: Path) -> list[str]:
    """`path:line: message` for each error in the folder's HTML files (warnings ignored)."""
    pages = sorted(str(p) for p in folder.rglob("*.html"))
    assert pages
    done = subprocess.run(
        [JAVA, "-jar", str(JAR), "--errors-only", "--format", "json", *pages],
        capture_output=True,
        text=True,
        timeout=600,
    )
    messages = json.loads(done.stderr or '{"messages": []}')["messages"]
    root = folder.resolve().as_uri().removeprefix("file://")
    return [
        f"{m.get('url', '?').removeprefix('file:').removeprefix(root).lstrip('/')}:"
        f"{m.get('lastLine', '?')}: {m['message']}"
        for m in messages
        if m.get("type") == "error"
    ]


def test_sample_site_is_valid_html(tmp_path: Path):
    out = tmp_path / "out"
    code, _, err = build_site(ROOT, out)
    assert code == 0, err
    assert vnu_errors(out) == []


def test_new_site_is_valid_html(tmp_path: Path):
    site = tmp_path / "new"
    assert main(["init", str(site), "--base-url", "https://new.example/"]) == 0
    (site / "content/posts/long.md").write_text(
        "---\ntitle: Long\ndate: 2025-01-01\ntags: [quire]\n---\n\nIntro.\n\n"
        "## One\n\nx\n\n## Two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n### Three\n\nz\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, _, err = build_site(site, out)
    assert code == 0, err
    assert vnu_errors(out) == []


def test_corpus_site_is_valid_html(tmp_path: Path, make_corpus):
    """Generated posts: code, tables, buy boxes, many tags and categories, pagination."""
    site = make_corpus(40, tmp_path / "corpus")
    out = tmp_path / "out"
    code, _, err = build_site(site, out)
    assert code == 0, err[-2000:]
    assert vnu_errors(out) == []
