"""`quire new`: start a post or page as a draft (the writing is in quire.scaffold)."""

from __future__ import annotations

import argparse
import sys

from quire.commands.common import add_site_options, site_dir
from quire.scaffold import NewPost, ScaffoldError, create


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("new", help="start a new post (or --page) as a draft")
    p.add_argument("title", help='the title, e.g. "Apple retires the iMac Pro"')
    add_site_options(p, output=False)
    p.add_argument("--category", default=None, help="the post's category")
    p.add_argument("--tags", default="", help="comma-separated tags, e.g. mac,hardware")
    p.add_argument("--slug", default=None, help="URL slug; default: made from the title")
    p.add_argument("--page", action="store_true", help="a standalone page in content/pages/")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    new = NewPost(
        title=args.title,
        kind="page" if args.page else "post",
        category=args.category,
        tags=tuple(t.strip() for t in args.tags.split(",") if t.strip()),
        slug=args.slug,
    )
    if not new.title.strip():
        print("error: the title must not be empty", file=sys.stderr)
        return 1
    try:
        path = create(site_dir(args), new)
    except ScaffoldError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(path)
    return 0
