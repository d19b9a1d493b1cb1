"""`quire build`: the site folder into the output folder.

A rebuild with nothing to do is the common case: it asks the fast path first, from the
parsed arguments, and imports the records and the pipeline (Markdown, Jinja, the
related-posts model) only when there is work.
"""

from __future__ import annotations

import argparse
import sys
import time

from quire.commands.common import (
    BUILD_FAILURES,
    add_site_options,
    options_from,
    output_dir,
    output_path,
    report_failure,
    settings_from,
)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("build", help="build a site folder into an output folder")
    add_site_options(p)
    p.add_argument("--drafts", action="store_true", help="include drafts and future-dated posts")
    p.add_argument("--base-url", default=None, help="override base_url from site.toml")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=None,
        metavar="N",
        help="processes rendering Markdown; default: one per core (1: no worker processes)",
    )
    p.add_argument("--timings", action="store_true", help="print seconds per stage to stderr")
    p.set_defaults(run=run_build)


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def run_build(args: argparse.Namespace) -> int:
    from quire.incremental.fastpath import quick_check

    output = output_path(args)
    try:
        started = time.perf_counter()
        result, probe = quick_check(args.site, output, settings_from(args), started)
        if result is None:  # there is work: only now import the pipeline (Markdown, Jinja...)
            from quire.pipeline import build

            options = options_from(args, progress=sys.stderr.isatty())
            result = build(options, probe, started)
    except BUILD_FAILURES as err:
        left = f"; {output_dir(args)} left as it was."
        return report_failure(err, "Build failed: {errors} problem(s)" + left, left)
    print_warnings(result.warnings)
    if args.timings:
        print(result.timings(), file=sys.stderr)
    print(result.summary())
    return 0


MAX_WARNINGS_SHOWN = 20


def print_warnings(warnings) -> None:
    """Warnings do not fail the build; a few are useful, a thousand bury the summary."""
    for warning in warnings[:MAX_WARNINGS_SHOWN]:
        print(warning, file=sys.stderr)
    if len(warnings) > MAX_WARNINGS_SHOWN:
        hidden = len(warnings) - MAX_WARNINGS_SHOWN
        print(
            f"... and {hidden} more warning(s); --strict lists them all as errors", file=sys.stderr
        )
