"""The build cache in SITE/.quire-cache/: a writer rebuilds dozens of times a day, so no work
is done twice.

Each file is one checksummed, data-only value (see codec.py: marshal of plain types, with
a whitelist of record types; never pickle, which runs code on load) written atomically
(temp file + rename):

- `store.bin`: every memo (see memo.py) but the large ones, each entry keyed by a digest
  of everything that affects it; `posts-NN.bin`, `bodies-NN.bin`, `pictures-NN.bin` and
  `search-NN.bin` hold parsed posts, rendered bodies, rewritten bodies and search entries
  (JSON text) in SHARDS shards, so an edit rewrites one or two of each. `posts` and
  `bodies` are written when the bodies stage ends (save_sections), the rest after the
  output is swapped in.
- `words.bin`: each post's words for related posts, read only when the ranking is redone (or by
  the ranking process, index/ranker.py, which reads it before the build knows).
- `manifest.bin`: the no-change check's, in its own plain format (see fastpath.py).

A missing, truncated or corrupt file (bad magic, bad checksum, a value outside the
whitelist), or one from an older format (the pickles of quire before format 5), is ignored
with a warning and never decoded; the build then does the work itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from quire import faults
from quire.incremental import codec
from quire.incremental.memo import Memo
from quire.problems import Problem

CACHE_DIR = ".quire-cache"
STORE_FILE = "store.bin"
SHARDS = 16  # posts and bodies are split so that an edit rewrites 1/16 of them, not all
# pictures: bodies with <img> made <picture>; search: each view's search entry (the
# largest part of store.bin, which is written on every build)
SHARDED = ("posts", "bodies", "pictures", "search")
OUTPUT_BOUND = ("pages",)  # what one output folder holds: forgotten for another folder
WORDS_FILE = "words.bin"  # each post's words for related posts, read only when re-ranking
MAGIC_STEM = b"QUIRE-CACHE-"
MAGIC = MAGIC_STEM + b"5\n"  # 5: data only (codec.py); 4 and before were pickles
CHECKSUM_SIZE = 32


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
    if data.startswith(MAGIC_STEM) and not data.startswith(MAGIC):
        return None, _warn(
            shown, "build cache file is from an older quire (format 4 or before); ignored"
        )
    if not data.startswith(MAGIC) or len(data) < head:
        return None, _warn(shown, "build cache file is not a quire cache or is truncated; ignored")
    payload = memoryview(data)[head:]
    if _checksum(payload) != data[len(MAGIC) : head]:
        return None, _warn(shown, "build cache file is corrupt (checksum mismatch); ignored")
    try:
        return codec.loads(payload), None
    except (ValueError, RecursionError, ImportError, AttributeError):  # not ours to trust
        return None, _warn(shown, "build cache file cannot be read back; ignored")


@dataclass(frozen=True)
class Packed:
    """A value already in the file format: 1.4 KB of bytes where a post's words as Python
    objects take 8 KB, held from the related step to the end of the build."""

    payload: bytes


def write_blob(path: Path, value: object, shown: str) -> Problem | None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    try:
        payload = value.payload if isinstance(value, Packed) else codec.dumps(value)
    except (TypeError, ValueError) as err:
        return _warn(shown, f"cannot write the build cache ({err}); next build starts cold")
    return write_file(path, (MAGIC, _checksum(payload), payload), shown)


def write_file(path: Path, chunks: tuple[bytes, ...], shown: str) -> Problem | None:
    """Write chunks to a cache file atomically (temp file + rename); a warning if not."""
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():  # a site kept in git does not commit its cache
            ignore.write_text("# written by quire: the build cache is not source\n*\n")
        with open(tmp, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        faults.point("cache-write")
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):  # ENOTDIR when .quire-cache is a file
            tmp.unlink(missing_ok=True)
        return _warn(shown, f"cannot write the build cache ({err}); next build starts cold")
    return None


def _warn(shown: str, message: str) -> Problem:
    return Problem(shown, None, message, warning=True)


def shown(name: str) -> str:
    return f"{CACHE_DIR}/{name}"


@dataclass
class BuildCache:
    """What one build hands the next: named memos, loaded from and saved to the site."""

    engine: bytes = b""  # digest of quire's code and libraries: another quire, a cold cache
    output: str = ""
    memos: dict[str, Memo] = field(default_factory=dict)
    shards: dict = field(default_factory=dict)  # section -> shard dicts as loaded
    words_file: Packed | None = None  # text key -> post words, to write to WORDS_FILE
    saved: set = field(default_factory=set)  # sections save_sections wrote already

    def keep_words(self, words: dict) -> None:
        self.words_file = Packed(codec.dumps({"engine": self.engine, "words": words}))

    def memo(self, name: str) -> Memo:
        return self.memos.setdefault(name, Memo())


def remove_stale_temps(folder: Path) -> None:
    """Temp files (`NAME.tmpPID`) of a build that was killed while writing: its process is
    gone, so nobody will rename them."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        pid = name.rpartition(".tmp")[2]
        if ".tmp" in name and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(folder / name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's process
        return True
    return True


def load(site_dir: Path, engine: bytes, output_dir: Path) -> tuple[BuildCache, list[Problem]]:
    """The previous build's cache, or an empty one (another quire, another output folder)."""
    remove_stale_temps(site_dir / CACHE_DIR)
    output = str(output_dir.resolve())
    value, warning = read_blob(site_dir / CACHE_DIR / STORE_FILE, shown(STORE_FILE))
    warnings = [warning] if warning else []
    cache = BuildCache(engine, output)
    if not (isinstance(value, dict) and value.get("engine") == engine):
        return cache, warnings
    for name, entries in (value.get("memos") or {}).items():
        if name not in OUTPUT_BOUND or value.get("output") == output:
            cache.memos[name] = Memo(old=entries)
    for section in SHARDED:
        shards = []
        for i in range(SHARDS):
            name = _shard_name(section, i)
            part, warning = read_blob(site_dir / CACHE_DIR / name, shown(name))
            if warning:
                warnings.append(warning)
            ok = isinstance(part, dict) and part.get("engine") == engine
            shards.append((part.get("entries") or {}) if ok else None)  # None: rewrite
        cache.shards[section] = shards
        merged: dict = {}
        for shard in shards:
            merged.update(shard or {})
        cache.memos[section] = Memo(old=merged)
    return cache, warnings


def _shard_name(section: str, index: int) -> str:
    return f"{section}-{index:02d}.bin"


def _shard_of(key: bytes) -> int:
    """Stable across processes (unlike hash())."""
    return zlib.crc32(key)


def save(site_dir: Path, cache: BuildCache) -> Problem | None:
    """Write what changed: the small main file always, a shard only when its entries did."""
    found = []
    if cache.words_file is not None:
        found.append(
            write_blob(site_dir / CACHE_DIR / WORDS_FILE, cache.words_file, shown(WORDS_FILE))
        )
    for section in SHARDED:
        if section not in cache.saved:
            found.extend(_save_shards(site_dir, cache, section))
    memos = {name: m.new for name, m in cache.memos.items() if name not in SHARDED}
    main = {"engine": cache.engine, "output": cache.output, "memos": memos}
    found.append(write_blob(site_dir / CACHE_DIR / STORE_FILE, main, shown(STORE_FILE)))
    return next((p for p in found if p is not None), None)


def _save_shards(site_dir: Path, cache: BuildCache, section: str) -> list[Problem | None]:
    shards: list[dict] = [{} for _ in range(SHARDS)]
    for key, entry in cache.memo(section).new.items():
        shards[_shard_of(key) % SHARDS][key] = entry
    loaded = cache.shards.get(section) or [None] * SHARDS
    found = []
    for i, shard in enumerate(shards):
        old = loaded[i]
        same = old is not None and len(old) == len(shard)
        if same and all(old.get(k) is v for k, v in shard.items()):
            continue  # the same entries, the same objects: the file is current
        name = _shard_name(section, i)
        value = {"engine": cache.engine, "entries": shard}
        found.append(write_blob(site_dir / CACHE_DIR / name, value, shown(name)))
    return found


def save_sections(site_dir: Path, cache: BuildCache, sections: tuple[str, ...]) -> Problem | None:
    """Write these sharded memos now, once the build has made all it will of them, and let
    go of their entries: at 100,000 posts, the Markdown and the bodies as rendered are
    ~1.6 GB that nothing after the image stage reads. save() then leaves them as written.
    Early is safe: entries are found by content keys, whatever the build does next."""
    found = []
    for section in sections:
        found.extend(_save_shards(site_dir, cache, section))
        cache.saved.add(section)
        cache.memos[section] = Memo()  # this build asks it nothing more
        cache.shards.pop(section, None)
    return next((p for p in found if p is not None), None)


def load_words(site_dir: Path, engine: bytes) -> dict:
    """Post words by text key, from the last build that re-ranked related posts; a file
    that is missing, corrupt or from another quire only means tokenising again."""
    return words_of(read_words(site_dir), engine)


def read_words(site_dir: Path) -> object:
    """WORDS_FILE as stored, for words_of (the ranker reads it before it knows the engine)."""
    return read_blob(site_dir / CACHE_DIR / WORDS_FILE, shown(WORDS_FILE))[0]


def words_of(value: object, engine: bytes) -> dict:
    if isinstance(value, dict) and value.get("engine") == engine:
        return dict(value.get("words") or {})
    return {}
