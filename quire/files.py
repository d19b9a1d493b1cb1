"""The one way quire walks a folder of the user's: hidden files are not content, and a link
must not smuggle in a file from outside the site."""

from __future__ import annotations

import os
from fnmatch import fnmatchcase
from pathlib import Path


def site_files(
    folder: Path,
    within: Path | None = None,
    pattern: str = "*",
    errors: list[tuple[Path, OSError]] | None = None,
) -> list[tuple[Path, str]]:
    """(path, relative posix path) of the files under folder matching pattern, sorted.

    Hidden files and folders are skipped; links leading outside `within` (default: folder)
    are not followed, be they files, folders inside, or the folder itself. A folder that
    cannot be read is added to `errors` (path, error) when given, else skipped."""
    if not folder.is_dir():
        return []
    root = (within or folder).resolve()
    if not folder.resolve().is_relative_to(root):
        return []
    found = []
    seen: set[tuple[int, int]] = set()  # folders walked: a link loop is walked once
    stack = [(folder, "")]  # (folder, its path relative to `folder` with a trailing /)
    while stack:
        top, prefix = stack.pop()
        try:
            st = top.stat()
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(top) as it:
                entries = list(it)
        except OSError as err:
            if errors is not None:
                errors.append((top, err))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = top / entry.name
            try:
                if entry.is_dir():
                    if not entry.is_symlink() or path.resolve().is_relative_to(root):
                        stack.append((path, f"{prefix}{entry.name}/"))
                elif (
                    entry.is_file()
                    and fnmatchcase(entry.name, pattern)
                    and (not entry.is_symlink() or path.resolve().is_relative_to(root))
                ):
                    found.append((path, prefix + entry.name))
            except OSError as err:
                if errors is not None:
                    errors.append((path, err))
    # the order of the paths (part by part), from strings: comparing Path objects and
    # making each relative cost ~0.1 s for a 1000-post site, walked twice a build
    found.sort(key=lambda item: item[1].split("/"))
    return found
