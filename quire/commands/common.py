"""What the commands share: the site options, declared once, and how a failed build is told.

Light on purpose: `quire build` with nothing to do imports this and must not wait for the
pipeline (Markdown, Jinja, the related-posts model), the records or pathlib.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from quire.errors import BuildFailed, OutputError

# what a build raises for bad input, a refused output folder or the disk: told, not a bug
BUILD_FAILURES = (BuildFailed, OutputError, OSError)


def add_site_options(parser: argparse.ArgumentParser, output: bool = True) -> None:
    """--site, and --output unless the command writes no output folder of its own."""
    parser.add_argument("--site", default=".", help="site folder (with site.toml); default: .")
    if output:
        parser.add_argument("--output", default=None, help="output folder; default: SITE/output")


def site_dir(args: argparse.Namespace):
    from pathlib import Path

    return Path(args.site)


def output_dir(args: argparse.Namespace):
    from pathlib import Path

    return Path(output_path(args))


def output_path(args: argparse.Namespace) -> str:
    """--output, else SITE/output, as given (the no-change check needs no Path)."""
    return args.output or os.path.join(args.site, "output")


# BuildOptions fields that change the output, as BuildOptions.settings() lists them: the
# no-change check reads them from the arguments, before the records are imported
SETTINGS = ("drafts", "base_url", "strict")
SETTING_DEFAULTS = {"drafts": False, "base_url": None, "strict": False}


def settings_from(args: argparse.Namespace) -> tuple:
    """options_from(args).settings(), without importing quire.model."""
    return tuple(getattr(args, name, SETTING_DEFAULTS[name]) for name in SETTINGS)


def options_from(args: argparse.Namespace, **more):
    """The pipeline's BuildOptions from --site/--output and whichever of --drafts,
    --base-url, --strict and --jobs the command has; `more` sets the rest."""
    from quire.model import BuildOptions

    return BuildOptions(
        site_dir=site_dir(args),
        output_dir=output_dir(args),
        jobs=getattr(args, "jobs", None),
        **{name: getattr(args, name, SETTING_DEFAULTS[name]) for name in SETTINGS},
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
        from quire.problems import error_count

        for problem in err.problems:
            write(str(problem))
        write(failed.replace("{errors}", str(error_count(err.problems))))
    elif isinstance(err, OSError):  # reading the site or writing: disk full, permissions
        where = f": {err.filename}" if err.filename else ""
        write(f"error: {err.strerror or err}{where}{after}")
    else:
        write(f"error: {err}{after}")
    return 1
