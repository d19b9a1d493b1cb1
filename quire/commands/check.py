"""`quire check`: build into a temporary folder and check every link (see quire.linkcheck)."""

from __future__ import annotations

import argparse
import sys

from quire.commands.common import add_site_options, report_failure, site_dir
from quire.output import OutputError
from quire.problems import BuildFailed


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "check", help="check the site like a build, plus every internal link; writes nothing"
    )
    add_site_options(p, output=False)
    p.add_argument("--drafts", action="store_true", help="include drafts and future posts")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument(
        "--external", action="store_true", help="also check external links (HEAD requests)"
    )
    p.add_argument("--max-external", type=int, default=200, help="external URLs checked at most")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per external request")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from quire import linkcheck

    options = linkcheck.CheckOptions(
        site_dir=site_dir(args),
        drafts=args.drafts,
        strict=args.strict,
        external=args.external,
        limits=linkcheck.ExternalLimits(max_links=max(0, args.max_external), timeout=args.timeout),
    )
    try:
        result = linkcheck.check(options)
    except (BuildFailed, OutputError) as err:
        return report_failure(err, "Check failed: {errors} problem(s) (links not checked).")
    for problem in (*result.warnings, *result.problems):
        print(problem, file=sys.stderr)
    summary = f"Checked {result.pages} pages, {result.links} links"
    if args.external:
        summary += f", {result.external} external URLs"
        if result.external_skipped:
            summary += f" ({result.external_skipped} more not checked: --max-external)"
    if result.problems:
        print(f"{summary}: {len(result.problems)} problem(s).", file=sys.stderr)
        return 1
    print(f"{summary}: all good.")
    return 0
