"""The one way quire walks a folder of the user's: hidden files are not content, and a link
must not smuggle in a file from outside the site."""

from __future__ import annotations

from pathlib import Path


def site_files(
    folder: Path, within: Path | None = None, pattern: str = "*"
) -> list[tuple[Path, str]]:
    """(path, relative posix path) of the files under folder matching pattern, sorted.

    Hidden files and folders are skipped; links leading outside `within` (default: folder)
    are not followed, be they files, folders inside, or the folder itself."""
    if not folder.is_dir():
        return []
    root = (within or folder).resolve()
    found = []
    for path in sorted(folder.rglob(pattern)):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.resolve().is_relative_to(root):
            found.append((path, rel.as_posix()))
    return found
