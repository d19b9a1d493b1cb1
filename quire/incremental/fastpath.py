"""The no-change check: when no input, option or output file changed since the last build,
the build stops after a few stats, without importing Markdown, Jinja or feedgen.

`manifest.bin` holds the stat signature of every input and of the output folder as the
last successful build left it. `quire build` with nothing to do runs only this module,
quire/errors.py and quire/report.py besides the command line, so this module imports
only the standard library's C-backed basics (no pathlib, dataclasses, hashlib or pickle),
and the manifest is a plain marshal value, compared as it is read (no digest, no record
types to rebuild). tests/test_fastpath.py counts the modules that path imports.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys
import time
import zlib

from quire import report
from quire.errors import check_output_folder

CACHE_DIR = ".quire-cache"  # = store.CACHE_DIR (store imports the codec; a test checks)
MANIFEST_FILE = "manifest.bin"
# Its own format, not store.py's: checked with CRC-32 against accidents (a stale or torn
# manifest only means a build), then marshal of plain types, checked field by field.
MAGIC = b"QUIRE-MANIFEST-1\n"
MARSHAL_VERSION = 4
# Files changed this recently may change again inside the same mtime tick without their
# stat changing ("racy" files, as git calls them): such a build writes no manifest.
RACY_SECONDS = 2.0
# quire's code, default templates and theme (= defaults.PACKAGE, which imports pathlib)
PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
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


def input_roots(site_dir: str) -> tuple[str, ...]:
    """Every file or folder a build reads: the site's, and quire's own code and theme."""
    join = os.path.join
    return (
        join(site_dir, "site.toml"),
        join(site_dir, "content"),
        join(site_dir, "templates"),
        join(site_dir, "theme"),
        PACKAGE,
    )


def scan(roots) -> tuple[list[tuple], int]:
    """(path, size, mtime_ns, ctime_ns, inode) of every file under roots (links followed),
    (path, "folder", inode) of every folder, and the newest mtime seen. ctime catches
    same-size edits whose mtime was put back (editors, `git checkout`, `rsync -t`,
    `touch -r`): nobody can set it."""
    entries: list[tuple] = []
    append = entries.append
    mtimes = [0]
    seen: set[tuple[int, int]] = set()
    stack = [os.fspath(r) for r in roots]
    while stack:
        top = stack.pop()
        try:
            st = os.stat(top)
        except OSError:
            append((top, None))
            continue
        if (st.st_dev, st.st_ino) in seen:  # a folder link loop
            continue
        seen.add((st.st_dev, st.st_ino))
        if not stat.S_ISDIR(st.st_mode):
            append((top, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
            mtimes.append(st.st_mtime_ns)
            continue
        # a folder by its name and inode only: the files listed below show what was added
        # or removed, and its mtime would also move when a skipped __pycache__ appears
        append((top, "folder", st.st_ino))
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
                        append((entry.path, None))
                        continue
                    append((entry.path, est.st_size, est.st_mtime_ns, est.st_ctime_ns, est.st_ino))
                    mtimes.append(est.st_mtime_ns)
        except OSError:
            append((top, "unreadable"))
    entries.sort(key=_path_of)  # by path only: the rest mixes ints and strings
    return entries, max(mtimes)


def _path_of(entry: tuple) -> str:
    return entry[0]


def _library_files() -> list[str]:
    """Where the libraries' code lives: a pip upgrade rewrites these files."""
    return [_origin(name) or name for name in LIBRARIES]


def _origin(name: str) -> str | None:
    """importlib.util.find_spec(name).origin for a top-level module, asked of the import
    system's finders directly: importlib.util (and contextlib) cost a no-change build 2 ms."""
    module = sys.modules.get(name)
    if module is not None:
        spec = getattr(module, "__spec__", None)
        return spec.origin if spec else None
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        try:
            spec = find(name, None) if find else None
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            return spec.origin
    return None


class Probe:
    """The stat signature of all inputs, taken when a build starts: `inputs` is compared
    with the manifest's as it is, so it holds only what marshal writes."""

    __slots__ = ("inputs", "racy")

    def __init__(self, inputs: tuple, racy: bool):
        self.inputs = inputs
        self.racy = racy


def probe(site_dir, output_dir, settings: tuple) -> Probe:
    started_ns = time.time_ns()
    libraries = _library_files()
    # resolved: `--site blog` and `--site /home/me/blog` are the same inputs
    entries, newest = scan([*input_roots(os.path.realpath(site_dir)), *libraries])
    inputs = (entries, settings, os.path.realpath(output_dir), sys.version, libraries)
    return Probe(inputs, newest > started_ns - int(RACY_SECONDS * 1e9))


class Manifest:
    """What the last successful build saw and wrote, as plain values."""

    __slots__ = ("inputs", "outputs", "valid_until", "posts", "pages", "warnings")

    def __init__(
        self,
        inputs: tuple,  # Probe.inputs
        outputs: tuple,  # output_signature(): (relative path, size, mtime_ns, inode)
        valid_until: int | None,  # the first future post's date, µs since 1970: it appears then
        posts: int,
        pages: int,
        warnings: tuple = (),  # (path, line, message, warning): Problem's fields
    ):
        self.inputs = inputs
        self.outputs = outputs
        self.valid_until = valid_until
        self.posts = posts
        self.pages = pages
        self.warnings = warnings

    @classmethod
    def of(cls, probe: Probe, outputs: tuple, valid_until, posts: int, pages: int, warnings):
        """From a build's records: valid_until a datetime or None, warnings Problems."""
        plain = tuple((w.path, w.line, w.message, w.warning) for w in warnings)
        due = None if valid_until is None else micros(valid_until)
        return cls(probe.inputs, outputs, due, posts, pages, plain)

    def dumps(self) -> bytes:
        return marshal.dumps(
            (self.inputs, self.outputs, self.valid_until, self.posts, self.pages, self.warnings),
            MARSHAL_VERSION,
        )

    @classmethod
    def loads(cls, data: bytes) -> Manifest | None:
        """The manifest in a file's bytes; None when they are not one, whole and sound."""
        head = len(MAGIC) + 4
        if not data.startswith(MAGIC) or len(data) < head:
            return None
        payload = memoryview(data)[head:]
        if zlib.crc32(payload) != int.from_bytes(data[len(MAGIC) : head], "big"):
            return None
        try:
            value = marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            return None
        if type(value) is not tuple or len(value) != 6:
            return None
        inputs, outputs, valid_until, posts, pages, warnings = value
        if not (
            type(outputs) is tuple
            and (valid_until is None or type(valid_until) is int)
            and type(posts) is int
            and type(pages) is int
            and type(warnings) is tuple
            and all(_is_warning(w) for w in warnings)
        ):
            return None
        return cls(inputs, outputs, valid_until, posts, pages, warnings)


def _is_warning(value: object) -> bool:
    if type(value) is not tuple or len(value) != 4:
        return False
    path, line, message, warning = value
    return (
        type(path) is str
        and (line is None or type(line) is int)
        and type(message) is str
        and type(warning) is bool
    )


def micros(moment) -> int:
    """An aware datetime as whole microseconds since 1970, exactly (no float)."""
    import datetime as dt  # the caller has it already: the CLI's check passes no datetime

    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def output_signature(output_dir) -> tuple:
    """Stat of every file and folder in the output, as the fast check will compare it:
    (relative path, size, mtime_ns, inode), size None for a folder, "" the folder itself."""
    found = []
    top = os.fspath(output_dir)
    base = len(top) + 1
    stack = [top]
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


def output_intact(output_dir, outputs: tuple) -> bool:
    """True when every file and folder the last build wrote is still exactly as it left it.

    One stat per entry, relative to the open output folder (no path joined, fewer path
    components for the kernel to walk); a folder's mtime shows a file added to it."""
    root = os.fspath(output_dir)
    if os.stat not in os.supports_dir_fd:  # pragma: no cover - Windows
        return _intact_by_path(root, outputs)
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    lstat = os.lstat
    try:
        for relpath, size, mtime_ns, ino in outputs:
            st = lstat(relpath or ".", dir_fd=fd)
            if st.st_mtime_ns != mtime_ns or st.st_ino != ino:
                return False
            if size is not None and st.st_size != size:
                return False
    except (OSError, TypeError, ValueError):  # gone, or a manifest entry of the wrong shape
        return False
    finally:
        os.close(fd)
    return True


def _intact_by_path(root: str, outputs: tuple) -> bool:  # pragma: no cover - Windows
    try:
        for relpath, size, mtime_ns, ino in outputs:
            st = os.lstat(os.path.join(root, relpath) if relpath else root)
            if st.st_mtime_ns != mtime_ns or st.st_ino != ino:
                return False
            if size is not None and st.st_size != size:
                return False
    except (OSError, TypeError, ValueError):
        return False
    return True


def read_manifest(site_dir) -> Manifest | None:
    try:
        with open(os.path.join(site_dir, CACHE_DIR, MANIFEST_FILE), "rb") as f:
            data = f.read()
    except OSError:
        return None
    return Manifest.loads(data)


def unchanged(site_dir, output_dir, settings: tuple, now=None) -> tuple[Manifest | None, Probe]:
    """The last build's manifest when no input, option or output file changed since.
    `now`: an aware datetime, or None for the clock."""
    current = probe(site_dir, output_dir, settings)
    value = read_manifest(site_dir)
    if value is None or value.inputs != current.inputs or current.racy:
        return None, current
    if value.valid_until is not None:
        now_us = time.time_ns() // 1000 if now is None else micros(now)
        if now_us >= value.valid_until:
            return None, current
    if not output_intact(os.path.abspath(output_dir), value.outputs):
        return None, current
    return value, current


def save_manifest(site_dir, manifest: Manifest | None):
    """Write the manifest (None: remove it); a Problem (warning) when that fails."""
    from pathlib import Path

    from quire.incremental import store
    from quire.problems import Problem

    path = Path(site_dir) / CACHE_DIR / MANIFEST_FILE
    shown = store.shown(MANIFEST_FILE)
    if manifest is None:
        try:
            path.unlink(missing_ok=True)
        except OSError as err:
            return Problem(shown, None, f"cannot remove ({err.strerror})", True)
        return None
    try:
        payload = manifest.dumps()
    except ValueError as err:  # a value marshal cannot write: no manifest, a full check
        return Problem(shown, None, f"cannot write the build cache ({err})", True)
    return store.write_file(path, (MAGIC, zlib.crc32(payload).to_bytes(4, "big"), payload), shown)


class Unchanged:
    """The result of a build that had nothing to do, with BuildResult's fields and lines
    (report.py prints both), without importing the records."""

    written = rendered = images_encoded = 0
    stages: tuple = ()
    cpu: tuple = ()

    def __init__(self, manifest: Manifest, seconds: float):
        self.posts = manifest.posts
        self.pages = manifest.pages
        self.cached = manifest.pages
        self.seconds = seconds
        self._outputs = manifest.outputs
        self._warnings = manifest.warnings

    @property
    def unchanged(self) -> int:
        """Output files kept (all of them): folders have no size."""
        return sum(1 for entry in self._outputs if entry[1] is not None)

    @property
    def warnings(self) -> tuple:
        """The last build's warnings as Problems (imported only when there are any)."""
        if not self._warnings:
            return ()
        from quire.problems import Problem

        return tuple(Problem(*fields) for fields in self._warnings)

    def summary(self) -> str:
        return report.summary(self)

    def timings(self) -> str:
        return report.timings(self)

    def result(self):
        """As a model.BuildResult, for callers of pipeline.build()."""
        from quire.model import BuildResult

        return BuildResult(
            posts=self.posts,
            pages=self.pages,
            written=0,
            unchanged=self.unchanged,
            seconds=self.seconds,
            warnings=self.warnings,
            rendered=0,
            cached=self.cached,
        )


def unchanged_result(manifest: Manifest, started: float):
    """A model.BuildResult for a build that found nothing to do."""
    return Unchanged(manifest, time.perf_counter() - started).result()


def quick_check(
    site_dir, output_dir, settings: tuple, started: float | None = None
) -> tuple[Unchanged | None, Probe]:
    """`quire build`'s first step: the result of a build that has nothing to do (no input
    changed and the output is exactly as the last build left it), or None when there is
    work, with the probe of the inputs, which the build then reuses instead of scanning
    every input again. The output folder is checked first, as a build checks it."""
    started = time.perf_counter() if started is None else started
    check_output_folder(output_dir, site_dir)
    manifest, current = unchanged(site_dir, output_dir, settings)
    if manifest is None:
        return None, current
    return Unchanged(manifest, time.perf_counter() - started), current
