"""`quire init [DIR]`: start a new site folder (the files are in quire.starter)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "init", help="start a new site in DIR (default: .), ready to build and serve"
    )
    p.add_argument("dir", nargs="?", default=".", metavar="DIR", help="the new site's folder")
    p.add_argument("--title", default=None, help='the site title; default: "My tech blog"')
    p.add_argument("--author", default=None, help="the author shown on posts and in feeds")
    p.add_argument(
        "--base-url", default=None, help="where the site will live, e.g. https://example.org/"
    )
    p.add_argument("--interactive", "-i", action="store_true", help="ask for the settings")
    p.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    p.set_defaults(run=run)


def _ask(question: str, default: str | None) -> str | None:
    shown = f" [{default}]" if default else ""
    try:
        answer = input(f"{question}{shown}: ").strip()
    except EOFError:
        answer = ""
    return answer or default


def run(args: argparse.Namespace) -> int:
    from quire.starter import InitError, SiteSettings, create_site

    defaults = SiteSettings()
    title, author, base_url = args.title, args.author, args.base_url
    if args.interactive:
        title = _ask("Site title", title or defaults.title)
        author = _ask("Author", author)
        base_url = _ask("Base URL (blank: fill it in site.toml later)", base_url)
    settings = SiteSettings(
        title=defaults.title if title is None else title,
        author=author or "",
        base_url=base_url or None,
    )
    folder = Path(args.dir)
    try:
        create_site(folder, settings, force=args.force)
    except (InitError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"Created a quire site in {folder}. Next:")
    if folder.resolve() != Path.cwd().resolve():
        print(f"  cd {args.dir}")
    print("  quire serve    # preview at http://localhost:8000/, reloads on save")
    print("  quire build    # write the site to output/")
    if not settings.base_url:
        print("Set base_url in site.toml before you deploy.")
    return 0
