"""The build cache in SITE/.quire-cache/: a writer rebuilds dozens of times a day, so no work
is done twice.

Each file is one checksummed pickle written atomically (temp file + rename):

- `manifest.bin` (small): a stat signature of every input and of the output folder as the
  last successful build left it. When nothing changed, the build stops there without
  importing Markdown, Jinja or feedgen: the output on disk is already the right one.
- `store.bin`: the related index and one fingerprint per output file, each keyed by a
  digest of everything that affects it; `posts-NN.bin` and `bodies-NN.bin` hold parsed
  posts and rendered bodies in SHARDS shards, so an edit rewrites one or two of them.
- `words.bin`: each post's words for related posts, read only when the ranking is redone.

A missing, truncated or corrupt file (bad magic, bad checksum, unreadable pickle) is
ignored with a warning; the build then does the work itself. This module imports only the
standard library, so the no-change check stays cheap.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import io
import os
import pickle
import sys
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from quire.defaults import PACKAGE
from quire.problems import Problem

CACHE_DIR = ".quire-cache"
STORE_FILE = "store.bin"
MANIFEST_FILE = "manifest.bin"
SHARDS = 16  # posts and bodies are split so that an edit rewrites 1/16 of them, not all
SHARDED = ("posts", "bodies")
WORDS_FILE = "words.bin"  # each post's words for related posts, read only when re-ranking
MAGIC = b"QUIRE-CACHE-3\n"
CHECKSUM_SIZE = 32
# Files changed this recently may change again inside the same mtime tick without their
# stat changing ("racy" files, as git calls them): such a build writes no manifest.
RACY_SECONDS = 2.0
DEFAULT_ROOTS = (PACKAGE,)  # quire's code, default templates and theme
LIBRARIES = ("markdown", "pygments", "jinja2", "markupsafe", "feedgen", "yaml", "frontmatter")


# ---------------------------------------------------------------- checksummed files


def _mapping_proxy(items: dict) -> MappingProxyType:
    return MappingProxyType(items)


class _Pickler(pickle.Pickler):
    """Pickles read-only mappings (Post.params) as dicts."""

    def __init__(self, file):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)

    def reducer_override(self, obj):
        if type(obj) is MappingProxyType:
            return _mapping_proxy, (dict(obj),)
        return NotImplemented


class _KnownPickler(_Pickler):
    """Pickles objects already digested (views inside page contexts) as their digest."""

    def __init__(self, file, known: dict[int, bytes]):
        super().__init__(file)
        self.known = known

    def persistent_id(self, obj):
        return self.known.get(id(obj))


def _dumps(value: object) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer).dump(value)
    return buffer.getvalue()


def _checksum(payload: bytes | memoryview) -> bytes:
    return hashlib.sha256(payload).digest()  # the fastest strong hash here (SHA CPU extensions)


def read_blob(path: Path, shown: str) -> tuple[object | None, Problem | None]:
    """The value stored at path, or (None, warning) when it is unreadable or corrupt."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as err:
        return None, _warn(shown, f"cannot read the build cache ({err.strerror}); ignored")
    head = len(MAGIC) + CHECKSUM_SIZE
    if not data.startswith(MAGIC) or len(data) < head:
        return None, _warn(shown, "build cache file is not a quire cache or is truncated; ignored")
    payload = memoryview(data)[head:]
    if _checksum(payload) != data[len(MAGIC) : head]:
        return None, _warn(shown, "build cache file is corrupt (checksum mismatch); ignored")
    try:
        return pickle.loads(payload), None
    except Exception:  # a checksummed pickle from another quire version: start afresh
        return None, _warn(shown, "build cache file cannot be read back; ignored")


def write_blob(path: Path, value: object, shown: str) -> Problem | None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    try:
        payload = _dumps(value)
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():  # a site kept in git does not commit its cache
            ignore.write_text("# written by quire: the build cache is not source\n*\n")
        with open(tmp, "wb") as f:
            f.write(MAGIC)
            f.write(_checksum(payload))
            f.write(payload)
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as err:
        tmp.unlink(missing_ok=True)
        return _warn(shown, f"cannot write the build cache ({err}); next build starts cold")
    return None


def _warn(shown: str, message: str) -> Problem:
    return Problem(shown, None, message, warning=True)


# ---------------------------------------------------------------- digests


def digest(value: object, known: dict[int, bytes] | None = None) -> bytes:
    """A content digest of any picklable value; objects in `known` count by their own digest.

    Pickling is by value (no memo: `fast` mode), so equal values give equal digests whether
    or not they share objects, in any process.
    """
    buffer = io.BytesIO()
    pickler = _KnownPickler(buffer, known) if known else _Pickler(buffer)
    pickler.fast = True
    pickler.dump(value)
    return hashlib.sha256(buffer.getbuffer()).digest()[:16]


def engine_digest(versions: Iterable[str]) -> bytes:
    """Digest of quire's own code and the library versions: a new quire starts a cold cache."""
    sources = sorted(
        (p.relative_to(PACKAGE).as_posix(), p.read_bytes()) for p in PACKAGE.rglob("*.py")
    )
    return digest((sources, tuple(versions), sys.version))


# ---------------------------------------------------------------- the store


@dataclass
class Store:
    """What one build hands the next. Each `*_new` dict holds only what this build used,
    so entries of deleted posts or pages drop out when it is saved."""

    engine: bytes
    output: str
    posts: dict = field(default_factory=dict)  # source path -> (key, (Post | None, problems))
    bodies: dict = field(default_factory=dict)  # body key -> (spec, deps digest, RenderedBody)
    pages: dict = field(default_factory=dict)  # output path -> (fingerprint, stat signature)
    related: tuple | None = None  # (key, related index)
    search: dict = field(default_factory=dict)  # view digest -> search index entry
    words: dict = field(default_factory=dict)  # post text key -> digest of its words
    templates: tuple | None = None  # (digest of all template sources, digest per template)
    catalog: tuple | None = None  # (key of products.yaml, (products, problems))
    light: dict = field(default_factory=dict)  # source path -> (key, light view digest)
    posts_new: dict = field(default_factory=dict)
    bodies_new: dict = field(default_factory=dict)
    pages_new: dict = field(default_factory=dict)
    related_new: tuple | None = None
    search_new: dict = field(default_factory=dict)
    words_new: dict = field(default_factory=dict)
    templates_new: tuple | None = None
    catalog_new: tuple | None = None
    light_new: dict = field(default_factory=dict)
    shards: dict = field(default_factory=dict)  # section -> shard dicts as loaded
    words_file: dict | None = None  # text key -> post words, to write to WORDS_FILE

    def saved_form(self) -> dict:
        return {
            "engine": self.engine,
            "output": self.output,
            "pages": self.pages_new,
            "related": self.related_new,
            "search": self.search_new,
            "words": self.words_new,
            "templates": self.templates_new,
            "catalog": self.catalog_new,
            "light": self.light_new,
        }


def load_store(site_dir: Path, engine: bytes, output_dir: Path) -> tuple[Store, list[Problem]]:
    """The previous build's store, or an empty one (another quire, another output folder)."""
    output = str(output_dir.resolve())
    path = site_dir / CACHE_DIR / STORE_FILE
    value, warning = read_blob(path, f"{CACHE_DIR}/{STORE_FILE}")
    warnings = [warning] if warning else []
    store = Store(engine, output)
    if isinstance(value, dict) and value.get("engine") == engine:
        store.related = value.get("related")
        store.search = value.get("search") or {}
        store.words = value.get("words") or {}
        store.templates = value.get("templates")
        store.catalog = value.get("catalog")
        store.light = value.get("light") or {}
        if value.get("output") == output:
            store.pages = value.get("pages") or {}
        for section in SHARDED:
            shards = []
            for i in range(SHARDS):
                name = _shard_name(section, i)
                part, warning = read_blob(site_dir / CACHE_DIR / name, _shown(name))
                if warning:
                    warnings.append(warning)
                ok = isinstance(part, dict) and part.get("engine") == engine
                shards.append((part.get("entries") or {}) if ok else None)  # None: rewrite
            store.shards[section] = shards
        for section, merged in (("posts", store.posts), ("bodies", store.bodies)):
            for shard in store.shards[section]:
                merged.update(shard or {})
    return store, warnings


def _shard_name(section: str, index: int) -> str:
    return f"{section}-{index:02d}.bin"


def _shard_of(key: str | bytes) -> int:
    """Stable across processes (unlike hash() of a str)."""
    return zlib.crc32(key if isinstance(key, bytes) else key.encode("utf-8", "surrogatepass"))


def save_store(site_dir: Path, store: Store) -> Problem | None:
    """Write what changed: the small main file always, a shard only when its entries did."""
    found = []
    if store.words_file is not None:
        value = {"engine": store.engine, "words": store.words_file}
        found.append(write_blob(site_dir / CACHE_DIR / WORDS_FILE, value, _shown(WORDS_FILE)))
    for section, entries in (("posts", store.posts_new), ("bodies", store.bodies_new)):
        shards: list[dict] = [{} for _ in range(SHARDS)]
        for key, entry in entries.items():
            shards[_shard_of(key) % SHARDS][key] = entry
        loaded = store.shards.get(section) or [None] * SHARDS
        for i, shard in enumerate(shards):
            old = loaded[i]
            same = old is not None and len(old) == len(shard)
            if same and all(old.get(k) is v for k, v in shard.items()):
                continue  # the same entries, the same objects: the file is current
            name = _shard_name(section, i)
            value = {"engine": store.engine, "entries": shard}
            found.append(write_blob(site_dir / CACHE_DIR / name, value, _shown(name)))
    found.append(
        write_blob(site_dir / CACHE_DIR / STORE_FILE, store.saved_form(), _shown(STORE_FILE))
    )
    return next((p for p in found if p is not None), None)


def load_words(site_dir: Path, engine: bytes) -> dict:
    """Post words by text key, from the last build that re-ranked related posts; a file
    that is missing, corrupt or from another quire only means tokenising again."""
    value, _ = read_blob(site_dir / CACHE_DIR / WORDS_FILE, _shown(WORDS_FILE))
    if isinstance(value, dict) and value.get("engine") == engine:
        return value.get("words") or {}
    return {}


def _shown(name: str) -> str:
    return f"{CACHE_DIR}/{name}"


# ---------------------------------------------------------------- the no-change check


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
    """(path, size, mtime_ns, inode) of every file under roots (links followed), and the
    newest mtime seen. Folders count too: adding or removing a file changes their mtime."""
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
        entries.append((top, st.st_size, st.st_mtime_ns, st.st_ino))
        newest = max(newest, st.st_mtime_ns)
        if not os.path.isdir(top):
            continue
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
                    entries.append((entry.path, est.st_size, est.st_mtime_ns, est.st_ino))
                    newest = max(newest, est.st_mtime_ns)
        except OSError:
            entries.append((top, "unreadable"))
    entries.sort()
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
    entries, newest = scan([*input_roots(site_dir), *map(Path, libraries)])
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
    value, _ = read_blob(site_dir / CACHE_DIR / MANIFEST_FILE, _shown(MANIFEST_FILE))
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
        path.unlink(missing_ok=True)
        return None
    return write_blob(path, manifest, _shown(MANIFEST_FILE))
