#!/usr/bin/env python3
"""Related posts on a real blog: how often a related link shares one of the post's tags,
with the tags kept and with them hidden from the ranking.

    python bench/related_real.py FOLDER [FOLDER ...] [--count 5]

FOLDER is a quire site (content/posts) or any folder of Markdown posts with YAML front
matter (Hugo, Jekyll, Pelican-style `tags:`); every `*.md` under it is read. Posts without
tags are left out of the measure (they have nothing to agree with) but stay in the ranking.
Reported per folder: posts, tagged posts, share of related slots that share an original
tag (tags kept / tags removed, and their ratio), and how many lists are short of `count`.

Public blogs used for the README figures are listed in bench/related_real_sources.txt
(repository and commit); their content is not part of quire.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quire.index.related import RelatedSettings, related_index  # noqa: E402
from quire.index.taxonomy import slugify  # noqa: E402
from quire.read.content import ReadOptions, parse_text  # noqa: E402


def read_folder(folder: Path) -> list:
    posts, seen = [], set()
    for path in sorted(folder.rglob("*.md")):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if not text.startswith("---"):
            continue
        post, _ = parse_text(text, path, str(path.relative_to(folder)), "post", ReadOptions())
        if post is None or post.draft or post.slug in seen:
            continue
        seen.add(post.slug)
        posts.append(post)
    posts.sort(key=lambda p: (p.date, p.slug), reverse=True)
    return posts


def agreement(posts, index, count) -> tuple[float, int]:
    tags = {p.slug: {slugify(t) for t in p.tags} - {""} for p in posts}
    hits = slots = short = 0
    for post in posts:
        if len(index[post.slug]) < count:
            short += 1
        if not tags[post.slug]:
            continue
        slots += count
        hits += sum(bool(tags[post.slug] & tags[s]) for s in index[post.slug][:count])
    return hits / max(slots, 1), short


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--count", type=int, default=5)
    args = ap.parse_args()
    settings = RelatedSettings(count=args.count)
    print(
        "| blog | posts | tagged | with tags | tags removed | ratio | short lists (kept/removed) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for folder in args.folders:
        posts = read_folder(folder)
        if len(posts) <= args.count:
            print(f"| {folder.name} | {len(posts)} | too few posts |")
            continue
        kept, short_kept = agreement(posts, related_index(posts, settings), args.count)
        bare = [dataclasses.replace(p, tags=()) for p in posts]
        removed, short_removed = agreement(posts, related_index(bare, settings), args.count)
        tagged = sum(bool(p.tags) for p in posts)
        print(
            f"| {folder.name} | {len(posts)} | {tagged} | {kept:.3f} | {removed:.3f} "
            f"| {removed / max(kept, 1e-9):.2f} | {short_kept}/{short_removed} |"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
