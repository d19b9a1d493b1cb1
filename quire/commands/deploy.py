"""`quire deploy`: build, then publish output/ to the target in site.toml's [deploy] table.

    [deploy]
    target = "dir:/var/www/blog"          # copy changed files, delete stale ones
    target = "rsync:me@host:/var/www/blog" # rsync --delete --checksum
    target = "git:gh-pages"                # commit output/ to a branch of this repo

A failed build is never deployed. The git target writes objects and moves one branch
ref only (temporary index, hash-object/write-tree/commit-tree/update-ref): the work tree,
the real index and the checked-out branch are left alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from quire import model, pipeline
from quire.config import load_config
from quire.output import OutputError, check_output_folder
from quire.problems import BuildFailed, Problem, key_line, print_problems

KEYS = {
    "target": "where to publish: dir:/path, rsync:user@host:/path or git:BRANCH",
    "message": "commit message for git targets",
}
KINDS = ("dir", "rsync", "git")


class DeployError(Exception):
    """The target cannot be used: a clear sentence, no traceback."""


@dataclass(frozen=True)
class Target:
    kind: str  # dir | rsync | git
    where: str
    message: str = "Deploy site with quire"


@dataclass(frozen=True)
class Plan:
    """What a deploy changes, as output-relative paths."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.deleted)

    def lines(self) -> list[str]:
        return (
            [f"+ {p}" for p in self.added]
            + [f"~ {p}" for p in self.changed]
            + [f"- {p}" for p in self.deleted]
        )

    def summary(self) -> str:
        return f"{len(self.added)} added, {len(self.changed)} changed, {len(self.deleted)} deleted"


# ---------------------------------------------------------------- configuration


def parse_target(table: Mapping, text: str, shown: str = "site.toml") -> tuple[Target | None, list]:
    """Validate [deploy]; every problem with its site.toml line."""
    problems = []

    def problem(key: str, message: str) -> None:
        problems.append(Problem(shown, key_line(text, key, "deploy"), message))

    for key in table:
        if key not in KEYS:
            problem(key, f"unknown key 'deploy.{key}' (known: {', '.join(KEYS)})")
    target = table.get("target")
    message = table.get("message", Target.message)
    if not isinstance(message, str) or not message.strip():
        problem("message", "'deploy.message' must be non-empty text")
    if target is None:
        problems.append(
            Problem(
                shown,
                key_line(text, "target", "deploy"),
                'no deploy target: add [deploy] target = "dir:/path", "rsync:user@host:/path" '
                'or "git:gh-pages" to site.toml',
            )
        )
        return None, problems
    if not isinstance(target, str):
        problem("target", "'deploy.target' must be text such as \"git:gh-pages\"")
        return None, problems
    kind, sep, where = target.partition(":")
    if not sep or kind not in KINDS or not where.strip():
        problem(
            "target",
            f"'deploy.target' {target!r} must be dir:/path, rsync:user@host:/path or git:BRANCH",
        )
        return None, problems
    if kind == "rsync" and where.startswith("-"):
        problem("target", "'deploy.target' rsync destination must not start with '-'")
    if kind == "git" and not _valid_branch(where):
        problem("target", f"'deploy.target' {where!r} is not a valid git branch name")
    if problems:
        return None, problems
    return Target(kind, where, message), []


def _valid_branch(name: str) -> bool:
    if name.startswith("-") or name == "HEAD":
        return False
    result = subprocess.run(
        ["git", "check-ref-format", f"refs/heads/{name}"], capture_output=True, check=False
    )
    return result.returncode == 0


# ---------------------------------------------------------------- dir:


def _files(root: Path) -> dict[str, Path]:
    found = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            found[path.relative_to(root).as_posix()] = path
        for name in dirs:  # a link to a folder is an entry to replace or delete, not to enter
            path = Path(folder) / name
            if path.is_symlink():
                found[path.relative_to(root).as_posix()] = path
    return found


def plan_dir(output: Path, dest: Path) -> Plan:
    new = _files(output)
    old = _files(dest) if dest.is_dir() else {}
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
        target = dest / rel
        for parent in reversed(target.relative_to(dest).parents):
            folder = dest / parent
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                folder.unlink()  # a file or link where a folder must be
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.is_file():
            pass  # replaced atomically below
        elif target.is_dir():
            shutil.rmtree(target)
        fd, temp = tempfile.mkstemp(prefix=".quire-deploy-", dir=target.parent)
        os.close(fd)
        try:
            shutil.copy2(output / rel, temp)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    for rel in plan.deleted:
        path = dest / rel
        if path.is_symlink() or path.is_file():
            path.unlink()
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


# ---------------------------------------------------------------- rsync:

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


# ---------------------------------------------------------------- git:


def git(repo: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None):
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


def deploy_git(output: Path, site: Path, target: Target, dry_run: bool) -> tuple[Plan, str]:
    """Commit output/ as the whole tree of a branch; returns the plan and the new commit."""
    if shutil.which("git") is None:
        raise DeployError("git is not installed")
    probe = subprocess.run(
        ["git", "-C", str(site), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        raise DeployError(f"{site} is not inside a git repository (git:{target.where} needs one)")
    repo = Path(probe.stdout.strip())
    ref = f"refs/heads/{target.where}"
    head = subprocess.run(
        ["git", "-C", str(repo), "symbolic-ref", "-q", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if head == ref:
        raise DeployError(
            f"'{target.where}' is the branch checked out in {repo}; deploy to another branch"
        )
    parent = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    files = _files(output)
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
        tree = git(repo, "write-tree", *(["--missing-ok"] if dry_run else []), env=env).strip()
    plan = _tree_plan(repo, parent, tree)
    if dry_run or plan.empty:
        return plan, parent
    identity = {}
    if not _git_config(repo, "user.name") or not _git_config(repo, "user.email"):
        identity = {
            "GIT_AUTHOR_NAME": "quire deploy",
            "GIT_AUTHOR_EMAIL": "quire@localhost",
            "GIT_COMMITTER_NAME": "quire deploy",
            "GIT_COMMITTER_EMAIL": "quire@localhost",
        }
    parents = ["-p", parent] if parent else []
    commit = git(repo, "commit-tree", tree, *parents, "-m", target.message, env=identity).strip()
    # old value: the parent we built on, or "" (must not exist): a concurrent change fails
    git(repo, "update-ref", "-m", "quire deploy", ref, commit, parent or "")
    return plan, commit


def _mode(path: Path) -> str:
    if path.is_symlink():
        raise DeployError(f"{path}: symbolic links are not deployed to git")
    return "100755" if os.access(path, os.X_OK) else "100644"


def _git_config(repo: Path, key: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "config", key], capture_output=True, text=True, check=False
    ).stdout.strip()


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


# ---------------------------------------------------------------- the command


@dataclass(frozen=True)
class DeployOptions:
    site_dir: Path
    output_dir: Path | None = None
    dry_run: bool = False
    target: str | None = None  # overrides [deploy] target


def deploy(options: DeployOptions, log: Callable[[str], None] = print) -> Plan:
    """Validate the target, build, publish. Raises BuildFailed or DeployError."""
    site = options.site_dir
    config, problems = load_config(site)
    if config is None:
        raise BuildFailed(problems)
    table = dict(config.deploy)
    if options.target:
        table["target"] = options.target
    text = (site / "site.toml").read_text(encoding="utf-8-sig")
    target, problems = parse_target(table, text)
    if target is None:
        raise BuildFailed(problems)
    output = (options.output_dir or site / "output").absolute()
    dest = dir_destination(target.where, site, output) if target.kind == "dir" else None

    result = pipeline.build(model.BuildOptions(site_dir=site, output_dir=output))
    log(result.summary())

    if target.kind == "dir":
        plan = plan_dir(output, dest)
        if not options.dry_run:
            apply_dir(output, dest, plan)
    elif target.kind == "rsync":
        plan = deploy_rsync(output, target.where, options.dry_run)
    else:
        plan, commit = deploy_git(output, site, target, options.dry_run)
        if not options.dry_run and not plan.empty:
            log(f"Committed {commit[:12]} to branch {target.where}; publish it with:")
            log(f"  git push origin {target.where}")
    return plan


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("deploy", help="build, then publish output/ to [deploy] target")
    p.add_argument("--site", default=".", help="site folder (with site.toml); default: .")
    p.add_argument("--output", default=None, help="output folder; default: SITE/output")
    p.add_argument("--dry-run", action="store_true", help="list what would change; change nothing")
    p.add_argument("--target", default=None, help="override [deploy] target, e.g. git:gh-pages")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    options = DeployOptions(
        site_dir=Path(args.site),
        output_dir=Path(args.output) if args.output else None,
        dry_run=args.dry_run,
        target=args.target,
    )
    started = dt.datetime.now()
    try:
        plan = deploy(options, log=lambda s: print(s, file=sys.stderr))
    except BuildFailed as failed:
        print_problems(failed.problems, sys.stderr)
        print("Not deployed: fix the problems above first.", file=sys.stderr)
        return 1
    except (DeployError, OutputError) as err:
        print(f"error: {err}", file=sys.stderr)
        print("Not deployed.", file=sys.stderr)
        return 1
    if options.dry_run:
        for line in plan.lines():
            print(line)
    seconds = (dt.datetime.now() - started).total_seconds()
    if options.dry_run:
        print(f"Dry run: would deploy {plan.summary()}; nothing changed.")
    elif plan.empty:
        print("Already up to date: nothing to deploy.")
    else:
        print(f"Deployed: {plan.summary()} in {seconds:.1f} s.")
    return 0
