"""dir: targets: copy new and changed files (each atomically), delete stale ones."""

from __future__ import annotations

import filecmp
import os
import shutil
import tempfile
from pathlib import Path

from quire.deploy.target import DeployError, Plan
from quire.errors import OutputError, check_output_folder


def output_files(root: Path) -> dict[str, Path]:
    """Every entry of a built or deployed tree, by relative path. Not files.site_files:
    hidden files are published too, and a link to a folder is an entry to replace or
    delete, not a folder to enter."""
    found = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            found[path.relative_to(root).as_posix()] = path
        for name in dirs:
            path = Path(folder) / name
            if path.is_symlink():
                found[path.relative_to(root).as_posix()] = path
    return found


def plan_dir(output: Path, dest: Path) -> Plan:
    new = output_files(output)
    old = output_files(dest) if dest.is_dir() else {}
    added, changed = [], []
    for rel, source in new.items():
        target = old.get(rel)
        if target is None:
            added.append(rel)
        elif (
            target.is_symlink()
            or not target.is_file()
            or not filecmp.cmp(source, target, shallow=False)
        ):
            changed.append(rel)
    deleted = sorted(rel for rel in old if rel not in new)
    return Plan(tuple(added), tuple(changed), tuple(deleted))


def apply_dir(output: Path, dest: Path, plan: Plan) -> None:
    """Copy new and changed files (each atomically), then delete stale ones."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel in (*plan.added, *plan.changed):
        _copy_in(output / rel, dest, dest / rel)
    for rel in plan.deleted:
        path = dest / rel
        if path.is_symlink() or path.is_file():
            path.unlink()
    _remove_empty_folders(dest)


def _copy_in(source: Path, dest: Path, target: Path) -> None:
    """Make room for target (a file or link where a folder must be, a folder where the file
    goes), then replace it atomically: a visitor sees the old file or the new, never half."""
    for parent in reversed(target.relative_to(dest).parents):
        folder = dest / parent
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            folder.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    fd, temp = tempfile.mkstemp(prefix=".quire-deploy-", dir=target.parent)
    os.close(fd)
    try:
        shutil.copy2(source, temp)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _remove_empty_folders(dest: Path) -> None:
    for folder, dirs, _ in os.walk(dest, topdown=False):
        for name in dirs:
            path = Path(folder) / name
            if not path.is_symlink() and not any(path.iterdir()):
                path.rmdir()


def dir_destination(where: str, site: Path, output: Path) -> Path:
    dest = Path(where).expanduser()
    if not dest.is_absolute():
        dest = site / dest
    try:
        check_output_folder(dest, site)
    except OutputError as err:
        raise DeployError(str(err).replace("output folder", "deploy folder")) from None
    a, b = dest.resolve(), output.resolve()
    if a == b or a.is_relative_to(b) or b.is_relative_to(a):
        raise DeployError(f"the deploy folder {dest} and the output folder {output} overlap")
    if dest.exists() and not dest.is_dir():
        raise DeployError(f"the deploy folder {dest} is a file")
    return dest
