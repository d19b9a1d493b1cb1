"""What the commands share: the site options, declared once, and how a failed build is told.

Light on purpose: `quire build` with nothing to do imports this and must not wait for the
pipeline (Markdown, Jinja, the related-posts model).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from quire.output import OutputError
from quire.problems import BuildFailed, error_count

# what a build raises for bad input, a refused output folder or the disk: told, not a bug
BUILD_FAILURES = (BuildFailed, OutputError, OSError)


def add_site_options(parser: argparse.ArgumentParser, output: bool = True) -> None:
    """--site, and --output unless the command writes no output folder of its own."""
    parser.add_argument("--site", default=".", help="site folder (with site.toml); default: .")
    if output:
        parser.add_argument("--output", default=None, help="output folder; default: SITE/output")


def site_dir(args: argparse.Namespace) -> Path:
    return Path(args.site)


def output_dir(args: argparse.Namespace) -> Path:
    return Path(args.output) if args.output else site_dir(args) / "output"


def options_from(args: argparse.Namespace, **more):
    """The pipeline's BuildOptions from --site/--output and whichever of --drafts,
    --base-url, --strict and --jobs the command has; `more` sets the rest."""
    from quire.model import BuildOptions  # light: no pipeline imported

    return BuildOptions(
        site_dir=site_dir(args),
        output_dir=output_dir(args),
        drafts=getattr(args, "drafts", False),
        base_url=getattr(args, "base_url", None),
        strict=getattr(args, "strict", False),
        jobs=getattr(args, "jobs", None),
        **more,
    )


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def report_failure(
    err: Exception,
    failed: str,
    after: str = "",
    write: Callable[[str], None] = _to_stderr,
) -> int:
    """Tell why a build did not finish, as every command does; returns the exit status, 1.

    BuildFailed: each problem on its own line, then `failed` with {errors} replaced by the
    number of errors (of problems, if all are warnings). Anything else (OutputError,
    OSError, a command's own error): one `error: ...` line ending with `after`."""
    if isinstance(err, BuildFailed):
        for problem in err.problems:
            write(str(problem))
        write(failed.replace("{errors}", str(error_count(err.problems))))
    elif isinstance(err, OSError):  # reading the site or writing: disk full, permissions
        where = f": {err.filename}" if err.filename else ""
        write(f"error: {err.strerror or err}{where}{after}")
    else:
        write(f"error: {err}{after}")
    return 1
