"""The [deploy] table of site.toml, and what every target speaks: Target, Plan, DeployError."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from quire.problems import Problem, key_line

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


def parse_target(table: Mapping, text: str, shown: str = "site.toml") -> tuple[Target | None, list]:
    """Validate [deploy]; every problem with its site.toml line."""
    problems = []

    def problem(key: str, message: str) -> None:
        problems.append(Problem(shown, key_line(text, key, "deploy"), message))

    for key in table:
        if key not in KEYS:
            problem(key, f"unknown key 'deploy.{key}' (known: {', '.join(KEYS)})")
    message = table.get("message", Target.message)
    if not isinstance(message, str) or not message.strip():
        problem("message", "'deploy.message' must be non-empty text")
    target = table.get("target")
    wrong = _target_error(target)
    if wrong:
        problem("target", wrong)
    if problems:
        return None, problems
    kind, _, where = target.partition(":")
    return Target(kind, where, message), []


def _target_error(target: object) -> str | None:
    """Why `target = ...` cannot be used, or None."""
    if target is None:
        return (
            'no deploy target: add [deploy] target = "dir:/path", "rsync:user@host:/path" '
            'or "git:gh-pages" to site.toml'
        )
    if not isinstance(target, str):
        return "'deploy.target' must be text such as \"git:gh-pages\""
    kind, sep, where = target.partition(":")
    if not sep or kind not in KINDS or not where.strip():
        return f"'deploy.target' {target!r} must be dir:/path, rsync:user@host:/path or git:BRANCH"
    if kind == "rsync" and where.startswith("-"):
        return "'deploy.target' rsync destination must not start with '-'"
    if kind == "git" and not _valid_branch(where):
        return f"'deploy.target' {where!r} is not a valid git branch name"
    return None


def _valid_branch(name: str) -> bool:
    if name.startswith("-") or name == "HEAD":
        return False
    result = subprocess.run(
        ["git", "check-ref-format", f"refs/heads/{name}"], capture_output=True, check=False
    )
    return result.returncode == 0
