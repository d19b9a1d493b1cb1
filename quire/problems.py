"""Build problems: every stage reports `path:line: message` and keeps going, so one run shows all."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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


class BuildFailed(Exception):
    """Raised once at the end of a stage that found errors; carries all of them."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def display_path(path: Path | str, root: Path | None = None) -> str:
    """Paths in messages are relative to the site folder when they can be: shorter and clickable."""
    path = Path(path)
    if root is not None:
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    return str(path)


def print_problems(problems: list[Problem], stream) -> int:
    """Print each problem on its own line; returns how many are errors (all, if none is)."""
    for problem in problems:
        print(problem, file=stream)
    return sum(1 for p in problems if not p.warning) or len(problems)


def errors_only(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if not p.warning]
