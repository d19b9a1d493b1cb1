"""File watching for the preview (watchfiles): saved paths go to a callback, in batches.

Two watches: ROOT/<folder> recursively for each of `folders` that exists (restarted when
one appears or goes), and ROOT itself, not recursively, for `files` (often saved by
rename, which a watch on the file itself loses) and for folders appearing. start() returns
only once both are in place, so a save made after it is never missed.
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

OnChange = Callable[[set[Path]], None]


def editor_temp_file(path: str) -> bool:
    """Editors' swap, backup and probe files: not a save of anything served."""
    name = posixpath.basename(path.replace("\\", "/"))
    return (
        name.startswith((".#", "~"))
        or name.endswith(("~", ".swp", ".swx", ".tmp"))
        or name == "4913"
    )


class _Either:
    """A stop flag for watchfiles that trips on either of two events."""

    def __init__(self, *events: threading.Event):
        self.events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


def _watch(ready: threading.Event, stop, *paths: Path, recursive: bool) -> Iterator[set]:
    """watchfiles.watch, setting `ready` once the watch is surely in place (its first
    yield, at the latest the first timeout: the watch is set up before that)."""
    import watchfiles

    for changes in watchfiles.watch(
        *paths,
        recursive=recursive,
        stop_event=stop,
        step=30,
        debounce=400,
        rust_timeout=200,
        yield_on_timeout=True,
    ):
        ready.set()
        if changes:
            yield changes


class Watcher:
    """Calls on_change(paths) from its own threads for each batch of saves under `root`."""

    def __init__(
        self,
        root: Path,
        on_change: OnChange,
        folders: Iterable[str] = (),
        files: Iterable[str] = (),
        ignored: Callable[[str], bool] = editor_temp_file,
    ):
        self.root = Path(root)
        self.on_change = on_change
        self.folders = tuple(folders)
        self.files = tuple(files)
        self.ignored = ignored
        self.closing = threading.Event()
        self.restart = threading.Event()
        self.threads: tuple[threading.Thread, ...] = ()

    def start(self, timeout: float = 10.0) -> None:
        """Start watching; returns once the watches are in place (or after `timeout`)."""
        ready = (threading.Event(), threading.Event())
        self.threads = (
            threading.Thread(
                target=self._watch_tree, args=(ready[0],), name="livereload-watch", daemon=True
            ),
            threading.Thread(
                target=self._watch_root, args=(ready[1],), name="livereload-root", daemon=True
            ),
        )
        for thread in self.threads:
            thread.start()
        for event in ready:
            event.wait(timeout)

    def close(self) -> None:
        self.closing.set()
        self.restart.set()
        for thread in self.threads:
            thread.join(timeout=5)

    def _watch_root(self, ready: threading.Event) -> None:
        named = {*self.files, *self.folders}
        for changes in _watch(ready, self.closing, self.root, recursive=False):
            names = {Path(p).name for _, p in changes} & named
            if names & set(self.folders):
                self.restart.set()
            if names:
                self.on_change({self.root / n for n in names})

    def _watch_tree(self, ready: threading.Event) -> None:
        while not self.closing.is_set():
            self.restart.clear()
            folders = [self.root / d for d in self.folders if (self.root / d).is_dir()]
            if not folders:
                ready.set()
                self.restart.wait(1.0)
                continue
            stop = _Either(self.closing, self.restart)
            for changes in _watch(ready, stop, *folders, recursive=True):
                paths = {Path(p) for _, p in changes if not self.ignored(p)}
                if paths:
                    self.on_change(paths)
