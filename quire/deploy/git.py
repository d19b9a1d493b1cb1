"""git: targets: commit output/ as the whole tree of a branch of the site's repository.

Objects and one branch ref only (temporary index, hash-object/write-tree/commit-tree/
update-ref): the work tree, the real index and the checked-out branch are left alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from quire.deploy.folder import output_files
from quire.deploy.target import DeployError, Plan, Target

# who commits when the repository names nobody
ANONYMOUS = {
    "GIT_AUTHOR_NAME": "quire deploy",
    "GIT_AUTHOR_EMAIL": "quire@localhost",
    "GIT_COMMITTER_NAME": "quire deploy",
    "GIT_COMMITTER_EMAIL": "quire@localhost",
}


def git(repo: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None):
    """git's output; a failure is a DeployError."""
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if result.returncode != 0:
        raise DeployError(f"git {args[0]} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def _ask(repo: Path, *args: str) -> str:
    """git's output, or "" when it fails: for questions whose answer may be no."""
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    ).stdout.strip()


def deploy_git(output: Path, site: Path, target: Target, dry_run: bool) -> tuple[Plan, str]:
    """Commit output/ as the whole tree of a branch; returns the plan and the new commit."""
    if shutil.which("git") is None:
        raise DeployError("git is not installed")
    top = _ask(site, "rev-parse", "--show-toplevel")
    if not top:
        raise DeployError(f"{site} is not inside a git repository (git:{target.where} needs one)")
    repo = Path(top)
    ref = f"refs/heads/{target.where}"
    if _ask(repo, "symbolic-ref", "-q", "HEAD") == ref:
        raise DeployError(
            f"'{target.where}' is the branch checked out in {repo}; deploy to another branch"
        )
    parent = _ask(repo, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}")
    tree = _write_tree(repo, output, dry_run)
    plan = _tree_plan(repo, parent, tree)
    if dry_run or plan.empty:
        return plan, parent
    named = _ask(repo, "config", "user.name") and _ask(repo, "config", "user.email")
    parents = ["-p", parent] if parent else []
    commit = git(
        repo, "commit-tree", tree, *parents, "-m", target.message, env=None if named else ANONYMOUS
    ).strip()
    # old value: the parent we built on, or "" (must not exist): a concurrent change fails
    git(repo, "update-ref", "-m", "quire deploy", ref, commit, parent or "")
    return plan, commit


def _write_tree(repo: Path, output: Path, dry_run: bool) -> str:
    """The tree of output/ through a temporary index (objects written unless dry_run)."""
    files = output_files(output)
    with tempfile.TemporaryDirectory(prefix="quire-deploy-") as temp:
        env = {"GIT_INDEX_FILE": str(Path(temp) / "index")}
        paths = [str(p) for p in files.values()]
        write = [] if dry_run else ["-w"]
        shas = git(
            repo, "hash-object", *write, "--no-filters", "--stdin-paths", stdin="\n".join(paths)
        ).split()
        entries = "".join(
            f"{_mode(path)} {sha}\t{rel}\n"
            for (rel, path), sha in zip(files.items(), shas, strict=True)
        )
        git(repo, "update-index", "--add", "--index-info", env=env, stdin=entries)
        return git(repo, "write-tree", *(["--missing-ok"] if dry_run else []), env=env).strip()


def _mode(path: Path) -> str:
    if path.is_symlink():
        raise DeployError(f"{path}: symbolic links are not deployed to git")
    return "100755" if os.access(path, os.X_OK) else "100644"


def _tree_plan(repo: Path, parent: str, tree: str) -> Plan:
    if not parent:
        names = git(repo, "ls-tree", "-r", "--name-only", "-z", tree, env=None)
        return Plan(added=tuple(sorted(n for n in names.split("\0") if n)))
    diff = git(repo, "diff-tree", "-r", "--no-renames", "--name-status", "-z", parent, tree)
    fields = [f for f in diff.split("\0") if f]
    added, changed, deleted = [], [], []
    for status, name in zip(fields[::2], fields[1::2], strict=True):
        {"A": added, "D": deleted}.get(status[0], changed).append(name)
    return Plan(tuple(added), tuple(changed), tuple(deleted))
