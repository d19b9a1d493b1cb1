"""The no-change check (quire/incremental/fastpath.py): what it imports, what it notices.

`quire build` with nothing to do must answer without importing the pipeline's libraries,
the records or the heavier standard modules; these tests count the modules it imports
(never its time) and change one thing at a time to show the check still sees it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, age, build_site, post, write

from quire.commands import parser
from quire.commands.common import options_from, settings_from
from quire.incremental import fastpath, store

# never on the no-change path: the pipeline's libraries, quire's records and stages, and
# the standard modules they pull in (dataclasses brings inspect; pathlib, typing, hashlib,
# pickle and threading each cost a no-change build a few milliseconds)
HEAVY = (
    "jinja2",
    "markupsafe",
    "markdown",
    "pyromark",
    "pygments",
    "feedgen",
    "PIL",
    "numpy",
    "scipy",
    "yaml",
    "frontmatter",
    "quire.pipeline",
    "quire.model",
    "quire.output",
    "quire.problems",
    "quire.config",
    "quire.incremental.store",
    "quire.incremental.codec",
    "quire.incremental.digest",
    "dataclasses",
    "inspect",
    "pathlib",
    "typing",
    "hashlib",
    "pickle",
    "threading",
    "datetime",
    "tomllib",
    "importlib.util",
)

# Run a build the way the installed `quire` script does (or through build.py), then print
# the modules it imported that were not there when the interpreter had started.
PROBE = """
import sys
before = set(sys.modules)
argv = sys.argv[2:]
try:
    if sys.argv[1] == "script":
        from quire.commands import main
        sys.exit(main(argv))
    else:
        sys.argv = ["build.py", *argv]
        code = compile(open("build.py").read(), "build.py", "exec")
        exec(code, {"__name__": "__main__", "__file__": "build.py"})
except SystemExit as done:
    assert not done.code, done.code
new = sorted(set(sys.modules) - before)
print("IMPORTED", " ".join(new))
"""


def imported(how: str, site: Path, out: Path) -> tuple[set[str], str]:
    args = ["build", "--site", str(site), "--output", str(out), "--timings"]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, how, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QUIRE_DEBUG": "1"},
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("IMPORTED"))
    return set(line.split()[1:]), done.stderr


@pytest.fixture
def blog(site: Path) -> Path:
    post(site, "first", "First", "2025-03-01", "Hello, `code`.", tags="[a, b]")
    post(site, "second", "Second", "2025-03-02", "```python\nprint(1)\n```", tags="[a]")
    write(site / "content" / "pages" / "about.md", '---\ntitle: "About"\n---\nUs.\n')
    return site


def settled(site: Path, out: Path) -> None:
    """Built, with a manifest the next build can trust."""
    assert build_site(site, out)[0] == 0
    age(site)
    assert build_site(site, out)[0] == 0
    assert no_change(site, out)


def no_change(site: Path, out: Path) -> bool:
    code, _, stderr = build_site(site, out, "--timings")
    assert code == 0, stderr
    return "timings: no-change check" in stderr


@pytest.mark.parametrize("how", ["script", "build.py"])
def test_no_change_build_imports_nothing_heavy(blog: Path, tmp_path: Path, how: str) -> None:
    out = tmp_path / "out"
    settled(blog, out)
    modules, stderr = imported(how, blog, out)
    assert "timings: no-change check" in stderr, stderr
    assert "quire.incremental.fastpath" in modules  # the probe saw the check's imports
    assert sorted(m for m in modules if m in HEAVY or m.split(".")[0] in HEAVY) == []


def test_a_build_with_work_still_imports_the_pipeline(blog: Path, tmp_path: Path) -> None:
    """The counting above is not vacuous: the same probe sees a real build's imports."""
    out = tmp_path / "out"
    settled(blog, out)
    post(blog, "third", "Third", "2025-03-03", "New.")
    modules, stderr = imported("script", blog, out)
    assert "no-change" not in stderr
    assert {"quire.pipeline", "jinja2", "quire.model"} <= modules


def test_each_change_is_noticed(blog: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    settled(blog, out)
    page = out / "posts" / "first" / "index.html"
    expected = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    # an output file rewritten with bytes of the same length
    page.write_bytes(page.read_bytes().replace(b"Hello", b"Jello"))
    assert not no_change(blog, out)
    assert page.read_bytes() == expected[page]
    assert no_change(blog, out)

    # an output file deleted
    (out / "feed.xml").unlink()
    assert not no_change(blog, out)
    assert (out / "feed.xml").is_file() and no_change(blog, out)

    # a stray file added deep in the output: the build removes it
    write(out / "posts" / "second" / "stray.txt", "not ours")
    assert not no_change(blog, out)
    assert not (out / "posts" / "second" / "stray.txt").exists() and no_change(blog, out)

    # a content file edited, its size and mtime put back (ctime moves)
    source = blog / "content" / "posts" / "first.md"
    st = source.stat()
    source.write_bytes(source.read_bytes().replace(b"Hello", b"Howdy"))
    os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert not no_change(blog, out)
    assert b"Howdy" in page.read_bytes()
    assert no_change(blog, out)  # its mtime is old: not racy, the build wrote a manifest

    # a content file deleted
    (blog / "content" / "posts" / "second.md").unlink()
    assert not no_change(blog, out)
    assert not (out / "posts" / "second").exists()
    assert no_change(blog, out)

    # an option that changes the output
    assert build_site(blog, out, "--drafts", "--timings")[2].count("no-change") == 0


@pytest.mark.parametrize(
    "damage",
    ["flip", "truncate", "old-format", "wrong-shape", "empty"],
)
def test_a_damaged_manifest_means_a_build(blog: Path, tmp_path: Path, damage: str) -> None:
    out = tmp_path / "out"
    settled(blog, out)
    path = blog / store.CACHE_DIR / fastpath.MANIFEST_FILE
    data = path.read_bytes()
    if damage == "flip":
        data = data[:-40] + bytes([data[-40] ^ 0xFF]) + data[-39:]
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "old-format":  # store.py's format, as quire wrote manifest.bin before
        data = store.MAGIC + data[len(fastpath.MAGIC) :]
    elif damage == "wrong-shape":  # checksummed, but not a manifest
        manifest = fastpath.Manifest.loads(data)
        manifest.outputs = (("index.html", "big", 1, 2),)
        manifest.warnings = ((1, 2),)
        assert fastpath.save_manifest(blog, manifest) is None
        data = path.read_bytes()
    else:
        data = b""
    path.write_bytes(data)
    assert fastpath.read_manifest(blog) is None
    assert not no_change(blog, out)
    assert no_change(blog, out)  # the build wrote a sound one


def test_manifest_round_trip_keeps_warnings(site: Path, tmp_path: Path) -> None:
    """A warning of the last build is told again by the no-change build, as it was."""
    write(site / "site.toml", 'title = "No URL"\n')  # no base_url: a warning
    post(site, "first", "First", "2025-03-01")
    out = tmp_path / "out"
    code, _, first = build_site(site, out)
    assert code == 0 and "warning" in first
    age(site)
    assert build_site(site, out)[0] == 0
    code, _, again = build_site(site, out, "--timings")
    assert code == 0 and "timings: no-change check" in again
    assert again.splitlines()[:-1] == first.splitlines()


def test_settings_from_arguments_are_the_options_settings() -> None:
    """The no-change check reads the output-changing options from the arguments; they must
    be BuildOptions.settings(), which a build with work compares."""
    cases = ([], ["--drafts"], ["--strict", "--base-url", "https://x.example/"], ["-j", "1"])
    for extra in cases:
        args = parser("build").parse_args(["build", "--site", "s", *extra])
        assert settings_from(args) == options_from(args).settings(), extra
    bare = argparse.Namespace(site="s", output=None)  # a command without those options
    assert settings_from(bare) == options_from(bare).settings()


def test_cache_folder_is_the_stores() -> None:
    assert fastpath.CACHE_DIR == store.CACHE_DIR
    assert Path(fastpath.PACKAGE) == Path(__import__("quire.defaults").defaults.PACKAGE)
