"""`quire import hugo|pelican SRC --site DST [--force]`: the command line of quire.importers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from quire.importers import SOURCES, ImportRefused, run_import


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """`quire import hugo|pelican SRC --site DST [--force]`."""
    parser = subparsers.add_parser(
        "import",
        help="convert a Hugo or Pelican site into a quire site",
        description="Convert a Hugo or Pelican site folder into a new quire site folder. "
        "SRC is only read; DST must be empty unless --force.",
    )
    parser.add_argument(
        "flavour", choices=sorted(SOURCES), help="the generator SRC was written for"
    )
    parser.add_argument("src", type=Path, help="the Hugo or Pelican site folder")
    parser.add_argument("--site", type=Path, required=True, help="the quire site folder to write")
    parser.add_argument("--force", action="store_true", help="write into a non-empty --site folder")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """0 when the site was written (read the report for what needs a hand), 2 when refused."""
    try:
        report = run_import(Path(args.src), Path(args.site), SOURCES[args.flavour], args.force)
    except ImportRefused as err:
        print(f"quire import: {err}", file=sys.stderr)
        return 2
    print(report.render())
    return 0
