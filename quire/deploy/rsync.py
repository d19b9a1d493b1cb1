"""rsync: targets: rsync --delete --checksum, its itemized changes read back as the Plan."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from quire.deploy.target import DeployError, Plan

Runner = Callable[[Sequence[str]], subprocess.CompletedProcess]


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False)


def rsync_command(output: Path, where: str, dry_run: bool) -> list[str]:
    argv = [
        "rsync",
        "--recursive",
        "--links",
        "--times",
        "--compress",
        "--delete",
        "--checksum",
        "--itemize-changes",
    ]
    if dry_run:
        argv.append("--dry-run")
    return [*argv, "--", f"{output}/", where]


def deploy_rsync(output: Path, where: str, dry_run: bool, runner: Runner = _run) -> Plan:
    if runner is _run and shutil.which("rsync") is None:
        raise DeployError("rsync is not installed (apt-get install rsync)")
    result = runner(rsync_command(output, where, dry_run))
    if result.returncode != 0:
        raise DeployError(f"rsync failed (exit {result.returncode}): {result.stderr.strip()}")
    return parse_itemized(result.stdout)


def parse_itemized(text: str) -> Plan:
    """rsync --itemize-changes: '>f+++++++++ new', '>f.st...... changed', '*deleting old'."""
    added, changed, deleted = [], [], []
    for line in text.splitlines():
        if line.startswith("*deleting"):
            deleted.append(line.split(None, 1)[1].rstrip("/"))
        elif len(line) > 12 and line[1] in "fL" and line[0] in "<>ch":
            (added if "+++++++" in line[:12] else changed).append(line[12:])
    return Plan(tuple(added), tuple(changed), tuple(deleted))
