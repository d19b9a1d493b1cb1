"""The exceptions that stop a build, and the output folder check that runs before any work.

This module imports only `os`: `quire build` with nothing to do (commands/build.py,
incremental/fastpath.py) needs these, and must not wait for the output stage, the records
or dataclasses to be imported. output.py and problems.py re-export them.
"""

from __future__ import annotations

import os


class OutputError(Exception):
    """A path or folder problem that must stop the build before anything is touched."""


class BuildFailed(Exception):
    """Raised once at the end of a stage that found errors; carries all of them."""

    def __init__(self, problems: list):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _inside(path: str, folder: str) -> bool:
    """Path.is_relative_to on resolved paths: path is folder or below it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_output_folder(output: os.PathLike | str, site_dir: os.PathLike | str) -> None:
    """Refuse outputs whose swap would delete something precious."""
    out = os.path.realpath(output)
    site = os.path.realpath(site_dir)
    home = os.path.realpath(os.path.expanduser("~"))
    forbidden = {
        os.sep: "the root folder",
        home: "your home folder",
        site: "the site folder itself",
        os.path.realpath(os.path.join(site, "content")): "the content folder",
        os.path.realpath(os.path.join(site, "templates")): "the templates folder",
        os.path.realpath(os.path.join(site, "theme")): "the theme folder",
    }
    if out in forbidden:
        raise OutputError(f"refusing to use {forbidden[out]} ({out}) as the output folder")
    if _inside(site, out):
        raise OutputError(
            f"refusing to use {out} as the output folder: it contains the site folder"
        )
    if _inside(home, out):
        raise OutputError(f"refusing to use {out} as the output folder: it contains your home")
    if os.path.exists(out) and not os.path.isdir(out):
        raise OutputError(f"refusing to use {out} as the output folder: it is a file")
    for precious in (".git", "site.toml", ".hg", ".svn"):
        if os.path.exists(os.path.join(out, precious)):
            raise OutputError(
                f"refusing to use {out} as the output folder: it holds {precious}, and each "
                "build replaces the whole folder"
            )
    for folder in ("content", "templates", "theme"):
        if _inside(out, os.path.realpath(os.path.join(site, folder))):
            raise OutputError(
                f"refusing to put the output inside the site's {folder}/ folder ({out})"
            )
