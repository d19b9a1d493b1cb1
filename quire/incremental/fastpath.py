"""The no-change check: when no input, option or output file changed since the last build,
the build stops after a few stats, without importing Markdown, Jinja or feedgen.

`manifest.bin` holds a stat signature of every input and of the output folder as the last
successful build left it. This module imports only the standard library and quire's small
modules, so that `quire build` with nothing changed answers at once.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import stat
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from quire import output
from quire.defaults import PACKAGE
from quire.incremental.digest import digest
from quire.incremental.store import CACHE_DIR, read_blob, shown, write_blob
from quire.model import BuildOptions, BuildResult
from quire.problems import Problem

MANIFEST_FILE = "manifest.bin"
# Files changed this recently may change again inside the same mtime tick without their
# stat changing ("racy" files, as git calls them): such a build writes no manifest.
RACY_SECONDS = 2.0
DEFAULT_ROOTS = (PACKAGE,)  # quire's code, default templates and theme
LIBRARIES = (
    "markdown",
    "pyromark",
    "pygments",
    "jinja2",
    "markupsafe",
    "feedgen",
    "yaml",
    "frontmatter",
)


def input_roots(site_dir: Path) -> tuple[Path, ...]:
    """Every file or folder a build reads: the site's, and quire's own code and theme."""
    return (
        site_dir / "site.toml",
        site_dir / "content",
        site_dir / "templates",
        site_dir / "theme",
        *DEFAULT_ROOTS,
    )


def scan(roots: Iterable[Path]) -> tuple[list[tuple], int]:
    """(path, size, mtime_ns, ctime_ns, inode) of every file under roots (links followed),
    (path, "folder", inode) of every folder, and the newest mtime seen. ctime catches same-size edits whose mtime was put back (editors, `git
    checkout`, `rsync -t`, `touch -r`): nobody can set it."""
    entries: list[tuple] = []
    newest = 0
    seen: set[tuple[int, int]] = set()
    stack = [str(r) for r in roots]
    while stack:
        top = stack.pop()
        try:
            st = os.stat(top)
        except OSError:
            entries.append((top, None))
            continue
        if (st.st_dev, st.st_ino) in seen:  # a folder link loop
            continue
        seen.add((st.st_dev, st.st_ino))
        if not stat.S_ISDIR(st.st_mode):
            entries.append((top, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
            newest = max(newest, st.st_mtime_ns)
            continue
        # a folder by its name and inode only: the files listed below show what was added
        # or removed, and its mtime would also move when a skipped __pycache__ appears
        entries.append((top, "folder", st.st_ino))
        try:
            with os.scandir(top) as it:
                for entry in it:
                    if entry.name == "__pycache__":
                        continue
                    if entry.is_dir():
                        stack.append(entry.path)
                        continue
                    try:
                        est = entry.stat()
                    except OSError:
                        entries.append((entry.path, None))
                        continue
                    entries.append(
                        (entry.path, est.st_size, est.st_mtime_ns, est.st_ctime_ns, est.st_ino)
                    )
                    newest = max(newest, est.st_mtime_ns)
        except OSError:
            entries.append((top, "unreadable"))
    entries.sort(key=lambda entry: entry[0])  # by path only: the rest mixes ints and strings
    return entries, newest


def _library_files() -> list[str]:
    """Where the libraries' code lives: a pip upgrade rewrites these files."""
    found = []
    for name in LIBRARIES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        found.append(spec.origin if spec and spec.origin else name)
    return found


@dataclass(frozen=True)
class Probe:
    """The stat signature of all inputs, taken when a build starts."""

    key: bytes
    racy: bool


def probe(site_dir: Path, output_dir: Path, settings: tuple) -> Probe:
    started_ns = time.time_ns()
    libraries = _library_files()
    # resolved: `--site blog` and `--site /home/me/blog` are the same inputs
    entries, newest = scan([*input_roots(site_dir.resolve()), *map(Path, libraries)])
    key = digest((entries, settings, str(output_dir.resolve()), sys.version, libraries))
    return Probe(key, newest > started_ns - int(RACY_SECONDS * 1e9))


@dataclass(frozen=True)
class Manifest:
    """What the last successful build saw and wrote."""

    key: bytes
    outputs: tuple  # (relative path, size, mtime_ns, inode), folders with size None
    valid_until: dt.datetime | None  # the first future post's date: it appears then
    posts: int
    pages: int
    warnings: tuple[Problem, ...] = ()


def output_signature(output_dir: Path) -> tuple:
    """Stat of every file and folder in the output, as the fast check will compare it."""
    found = []
    base = len(str(output_dir)) + 1
    stack = [str(output_dir)]
    while stack:
        top = stack.pop()
        st = os.stat(top)
        found.append((top[base:], None, st.st_mtime_ns, st.st_ino))
        with os.scandir(top) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    est = entry.stat(follow_symlinks=False)
                    found.append((entry.path[base:], est.st_size, est.st_mtime_ns, est.st_ino))
    found.sort()
    return tuple(found)


def output_intact(output_dir: Path, outputs: tuple) -> bool:
    """True when every file and folder the last build wrote is still exactly as it left it."""
    root = str(output_dir)
    for relpath, size, mtime_ns, ino in outputs:
        try:
            st = os.stat(os.path.join(root, relpath) if relpath else root, follow_symlinks=False)
        except OSError:
            return False
        if st.st_mtime_ns != mtime_ns or st.st_ino != ino:
            return False
        if size is not None and st.st_size != size:
            return False
    return True


def unchanged(
    site_dir: Path, output_dir: Path, settings: tuple, now: dt.datetime
) -> tuple[Manifest | None, Probe]:
    """The last build's manifest when no input, option or output file changed since."""
    current = probe(site_dir, output_dir, settings)
    value, _ = read_blob(site_dir / CACHE_DIR / MANIFEST_FILE, shown(MANIFEST_FILE))
    if not isinstance(value, Manifest) or value.key != current.key or current.racy:
        return None, current
    if value.valid_until is not None and now >= value.valid_until:
        return None, current
    if not output_intact(output_dir.absolute(), value.outputs):
        return None, current
    return value, current


def save_manifest(site_dir: Path, manifest: Manifest | None) -> Problem | None:
    path = site_dir / CACHE_DIR / MANIFEST_FILE
    if manifest is None:
        try:
            path.unlink(missing_ok=True)
        except OSError as err:
            return Problem(shown(MANIFEST_FILE), None, f"cannot remove ({err.strerror})", True)
        return None
    return write_blob(path, manifest, shown(MANIFEST_FILE))


def quick_result(options: BuildOptions, started: float | None = None) -> BuildResult | None:
    """The result of a build that has nothing to do: no input changed and the output is
    exactly as the last build left it. None when there is work."""
    return quick_check(options, started)[0]


def quick_check(
    options: BuildOptions, started: float | None = None
) -> tuple[BuildResult | None, Probe]:
    """quick_result, with the probe of the inputs: the build that follows reuses it
    instead of scanning every input again."""
    started = time.perf_counter() if started is None else started
    output.check_output_folder(options.output_dir, options.site_dir)
    manifest, probe = unchanged(
        options.site_dir, options.output_dir, options.settings(), options.moment()
    )
    if manifest is None:
        return None, probe
    return unchanged_result(manifest, started), probe


def unchanged_result(manifest: Manifest, started: float) -> BuildResult:
    files = sum(1 for entry in manifest.outputs if entry[1] is not None)
    return BuildResult(
        posts=manifest.posts,
        pages=manifest.pages,
        written=0,
        unchanged=files,
        seconds=time.perf_counter() - started,
        warnings=manifest.warnings,
        rendered=0,
        cached=manifest.pages,
    )
