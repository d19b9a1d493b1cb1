"""Texts a build makes early and shows late, kept on disk rather than in memory.

A post's body HTML is made by the bodies and image stages and shown much later, by its page,
its feed entry and its search entry; a feed entry's XML is made once and spliced into every
feed that shows the post. Held in the build's process until then, they were most of its
memory at 100,000 posts (~1 GB of bodies, ~0.5 GB of feed entries), and every forked worker
copied the pages it touched. In a `Spill` (an unnamed temporary file in the cache folder,
gone when closed or when the build dies) each costs the parent a small `Spilled` handle, and
whoever shows it (a page worker) reads it back with one `pread`, which forked workers can do
at once: it does not move a shared file offset.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup


class Spill:
    """An append-only temporary file of UTF-8 texts: `add` returns a handle, `str()` of the
    handle reads the text back (in this process or a forked one). The file is made by the
    first `add` (a build that fails before it makes none) and closed with the Spill."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._file = None
        self._end = 0
        self._lock = threading.Lock()  # only where os.pread is missing (Windows)

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def add(self, text: str, kind: type[Spilled] | None = None) -> Spilled:
        data = text.encode("utf-8", "surrogatepass")
        with self._lock:
            if self._file is None:
                self._file = self._open()
            if isinstance(self._file, bytearray):
                self._file += data
            else:
                self._file.seek(self._end)
                left = memoryview(data)
                while left:  # a raw file's write may take part of it
                    left = left[self._file.write(left) :]
            start, self._end = self._end, self._end + len(data)
        return (kind or Spilled)(self, start, len(data))

    def _open(self):
        # unbuffered: what add() wrote is in the file, for workers forked at any time
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            return tempfile.TemporaryFile(dir=self.folder, prefix="spill-", buffering=0)
        except OSError:  # .quire-cache is a file, or read-only: nothing is written outside
            return bytearray()  # the site's folders, so the texts stay in memory (as before)

    def read(self, offset: int, size: int) -> str:
        if isinstance(self._file, bytearray):
            data = bytes(self._file[offset : offset + size])
        elif hasattr(os, "pread"):
            data = os.pread(self._file.fileno(), size, offset)
        else:
            with self._lock:
                self._file.seek(offset)
                data = self._file.read(size)
        return data.decode("utf-8", "surrogatepass")

    def close(self) -> None:
        if self._file is not None and not isinstance(self._file, bytearray):
            self._file.close()
        self._file = None


@dataclass(frozen=True)
class Spilled:
    """One text in a Spill: `str()` reads it."""

    spill: Spill
    offset: int
    size: int  # bytes of UTF-8

    def __str__(self) -> str:
        return self.spill.read(self.offset, self.size)


class SpilledHtml(Spilled):
    """HTML in a Spill, shown as it is: a template's `{{ post.content }}` reads it through
    `__html__`, as it would a `Markup`; anything else a template asks of it (a filter's
    `len()`, `.striptags()`) is asked of that Markup."""

    def __html__(self) -> Markup:
        return Markup(str(self))

    def __len__(self) -> int:
        return len(str(self))

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("spill", "offset", "size"):  # copy, pickle...
            raise AttributeError(name)
        return getattr(self.__html__(), name)


class Texts(Mapping):
    """A mapping of Spilled handles, read back as their texts."""

    def __init__(self, handles: Mapping):
        self.handles = handles

    def __getitem__(self, key) -> str:
        return str(self.handles[key])

    def __iter__(self) -> Iterator:
        return iter(self.handles)

    def __len__(self) -> int:
        return len(self.handles)
