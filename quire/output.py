"""Atomic output: build into a temporary folder beside the output, swap it in only on success.

Files whose bytes did not change are hard-linked from the previous output instead of
rewritten, so their mtimes survive (rsync and static hosts upload only what changed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

TEMP_PREFIX = ".quire-tmp-"
OLD_PREFIX = ".quire-old-"


class OutputError(Exception):
    """A path or folder problem that must stop the build before anything is touched."""


def check_output_folder(output: Path, site_dir: Path) -> None:
    """Refuse outputs whose swap would delete something precious."""
    out = output.resolve()
    site = site_dir.resolve()
    forbidden = {
        Path("/"): "the root folder",
        Path.home().resolve(): "your home folder",
        site: "the site folder itself",
        (site / "content").resolve(): "the content folder",
        (site / "templates").resolve(): "the templates folder",
        (site / "theme").resolve(): "the theme folder",
    }
    if out in forbidden:
        raise OutputError(f"refusing to use {forbidden[out]} ({out}) as the output folder")
    if site.is_relative_to(out):
        raise OutputError(
            f"refusing to use {out} as the output folder: it contains the site folder"
        )
    for folder in ("content", "templates", "theme"):
        if out.is_relative_to((site / folder).resolve()):
            raise OutputError(
                f"refusing to put the output inside the site's {folder}/ folder ({out})"
            )


def safe_relpath(relpath: str) -> PurePosixPath:
    """A relative output path that cannot leave the output folder."""
    if "\x00" in relpath or "\\" in relpath:
        raise OutputError(f"refusing to write {relpath!r}: bad characters in path")
    path = PurePosixPath(relpath.lstrip("/"))
    if path.is_absolute() or any(part in ("..", ".", "") for part in path.parts) or not path.parts:
        raise OutputError(f"refusing to write {relpath!r}: path leaves the output folder")
    return path


@dataclass
class StagedOutput:
    """The new output being written; `commit` swaps it in, `discard` throws it away."""

    final: Path
    staging: Path
    previous: Path | None
    written: int = 0
    unchanged: int = 0
    paths: set[str] = field(default_factory=set)

    def write(self, relpath: str, data: bytes | str) -> None:
        path = safe_relpath(relpath)
        key = str(path)
        if key in self.paths:
            raise OutputError(f"two pages want the same output file {key}")
        self.paths.add(key)
        if isinstance(data, str):
            data = data.encode("utf-8")
        target = self.staging / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.previous is not None and _same_bytes(self.previous / path, data):
            try:
                os.link(self.previous / path, target)
                self.unchanged += 1
                return
            except OSError:
                pass
        target.write_bytes(data)
        self.written += 1

    def keep(self, relpath: str, signature: tuple[int, int, int]) -> bool:
        """Link the previous output's file, unread, when the build cache proves it current
        and its (size, mtime_ns, inode) show nobody touched it since; False if it cannot."""
        if self.previous is None:
            return False
        path = safe_relpath(relpath)
        key = str(path)
        if key in self.paths:
            raise OutputError(f"two pages want the same output file {key}")
        old = self.previous / path
        try:
            st = old.stat(follow_symlinks=False)
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns, st.st_ino) != tuple(signature):
            return False
        target = self.staging / path
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(old, target)
        except OSError:
            return False
        self.paths.add(key)
        self.unchanged += 1
        return True

    def copy(self, relpath: str, source: Path) -> None:
        """Copy a static file (theme asset, image); linked from the old output when unchanged."""
        path = safe_relpath(relpath)
        key = str(path)
        if key in self.paths:
            return  # an earlier source (the site's) wins over a later one (the default theme's)
        self.paths.add(key)
        target = self.staging / path
        target.parent.mkdir(parents=True, exist_ok=True)
        old = self.previous / path if self.previous is not None else None
        if old is not None and old.is_file():
            st_old, st_new = old.stat(), source.stat()
            if st_old.st_size == st_new.st_size and st_old.st_mtime_ns == st_new.st_mtime_ns:
                try:
                    os.link(old, target)
                    self.unchanged += 1
                    return
                except OSError:
                    pass
        shutil.copy2(source, target)
        self.written += 1

    def commit(self) -> None:
        """Swap: the old output is renamed away, the new one renamed in, the old one deleted."""
        old = None
        if self.final.exists():
            old = Path(tempfile.mkdtemp(prefix=OLD_PREFIX, dir=self.final.parent))
            old.rmdir()
            os.replace(self.final, old)
        os.replace(self.staging, self.final)
        if old is not None:
            remove_later(old)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def stage(output: Path) -> StagedOutput:
    """A fresh staging folder beside `output` (same file system, so the swap is a rename)."""
    output = output.absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(output.parent)
    staging = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=output.parent))
    previous = output if output.is_dir() else None
    return StagedOutput(output, staging, previous)


def remove_stale_temps(parent: Path) -> None:
    """Temp folders left by a killed build are removed on the next run."""
    for leftover in parent.glob(f"{TEMP_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in parent.glob(f"{OLD_PREFIX}*"):
        remove_later(leftover)


def remove_later(folder: Path) -> None:
    """Delete a swapped-out output in a detached `rm -rf`: removing thousands of folders can
    take seconds on some disks, and the new output is already in place. Whatever it leaves
    (a killed build) is removed by the next build's remove_stale_temps."""
    rm = shutil.which("rm") if os.name == "posix" else None
    if rm:
        try:
            subprocess.Popen(
                [rm, "-rf", "--", str(folder)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            return
        except OSError:
            pass
    shutil.rmtree(folder, ignore_errors=True)
