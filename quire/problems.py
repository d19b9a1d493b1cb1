"""Build problems: every stage reports `path:line: message` and keeps going, so one run shows all."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from quire.errors import BuildFailed  # re-exported: raised by every stage


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        kind = "warning: " if self.warning else ""
        return f"{where}: {kind}{self.message}"


def display_path(path: Path | str, root: Path | None = None) -> str:
    """Paths in messages are relative to the site folder when they can be: shorter and clickable."""
    path = Path(path)
    if root is not None:
        if ".." not in path.parts and path.is_relative_to(root):  # no file system calls:
            return str(path.relative_to(root))  # every post and body asks, ~0.2 ms each
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    return str(path)


def print_problems(problems: list[Problem], stream) -> int:
    """Print each problem on its own line; returns how many are errors (all, if none is)."""
    for problem in problems:
        print(problem, file=stream)
    return error_count(problems)


def error_count(problems: list[Problem]) -> int:
    """How many problems fail the build: the errors, or all of them if none is one."""
    return sum(1 for p in problems if not p.warning) or len(problems)


def errors_only(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if not p.warning]


_TOP_KEY = re.compile(r"""^["']?([A-Za-z_][\w.-]*)["']?[ \t]*[:=]""", re.MULTILINE)


def key_lines(text: str, first_line: int = 1, fold_case: bool = False) -> dict[str, int]:
    """Line of each top-level key of a YAML, TOML or Pelican header, for path:line messages."""
    lines: dict[str, int] = {}
    for match in _TOP_KEY.finditer(text):
        key = match.group(1).lower() if fold_case else match.group(1)
        lines.setdefault(key, first_line + text.count("\n", 0, match.start()))
    return lines


def key_line(text: str, key: str, table: str | None = None) -> int | None:
    """Line of `key = ...` in a TOML file (inside [table] when given), else of a [key] table,
    else of the [table] header itself: the nearest place to point a message at."""
    start = 0
    header = None
    if table:
        header = re.search(rf"^\s*\[{re.escape(table)}\]", text, re.MULTILINE)
        if not header:
            return None
        start = header.end()
    match = re.compile(rf"^\s*{re.escape(key)}\s*=", re.MULTILINE).search(text, start)
    if not match:
        match = re.search(rf"^\s*\[\[?{re.escape(key)}\]", text, re.MULTILINE) or header
    return text.count("\n", 0, match.start()) + 1 if match else None


@dataclass
class ProblemList:
    """Problems gathered across a stage, raised together: one run shows them all."""

    items: list[Problem] = field(default_factory=list)

    def extend(self, found: Sequence[Problem]) -> None:
        self.items.extend(found)

    def raise_errors(self, strict: bool) -> None:
        errors = self.items if strict else errors_only(self.items)
        if errors:
            raise BuildFailed(sorted(errors, key=_problem_order))

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.items if p.warning)


def _problem_order(p: Problem) -> tuple:
    return (p.path, p.line or 0, p.message)
