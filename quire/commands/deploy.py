"""`quire deploy`: build, then publish output/ to site.toml's [deploy] target (quire.deploy)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from quire.commands.common import add_site_options, options_from, report_failure
from quire.output import OutputError
from quire.problems import BuildFailed


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("deploy", help="build, then publish output/ to [deploy] target")
    add_site_options(p)
    p.add_argument("--dry-run", action="store_true", help="list what would change; change nothing")
    p.add_argument("--target", default=None, help="override [deploy] target, e.g. git:gh-pages")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from quire.deploy import DeployError, DeployOptions, deploy

    options = DeployOptions(options_from(args), dry_run=args.dry_run, target=args.target)
    started = dt.datetime.now()
    try:
        plan = deploy(options, log=lambda s: print(s, file=sys.stderr))
    except (BuildFailed, DeployError, OutputError) as err:
        return report_failure(err, "Not deployed: fix the problems above first.", "\nNot deployed.")
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
