"""Start a post or page with valid front matter, so writing starts at the body.

The front matter is written by yaml.safe_dump (titles with quotes, colons or `#` stay intact)
and the file is read back with quire's own reader before we say it is ready.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from quire.config import load_config
from quire.index.taxonomy import slugify
from quire.problems import display_path
from quire.read import content


@dataclass(frozen=True)
class NewPost:
    title: str
    kind: str = "post"  # "post" or "page"
    category: str | None = None
    tags: tuple[str, ...] = ()
    slug: str | None = None


class ScaffoldError(Exception):
    """Refused: the file exists, the title gives no slug, or the result does not read back."""


def front_matter(new: NewPost, now: dt.datetime, slug: str) -> dict:
    """The fields, in the order a writer expects to see them."""
    meta: dict[str, object] = {"title": new.title}
    if new.kind == "post":
        meta["date"] = now  # YAML writes it as a timestamp with its zone
    meta["slug"] = slug
    if new.kind == "post" and new.category:  # no `category: ''` for the writer to clean up
        meta["category"] = new.category
    if new.kind == "post" and new.tags:
        meta["tags"] = list(new.tags)
    meta["draft"] = True
    return meta


def render_file(meta: dict) -> str:
    fm = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False)
    body = "Write the first paragraph here: it is the summary in lists and feeds.\n"
    return f"---\n{fm}---\n\n{body}"


_APOSTROPHES = re.compile("['\u2019\u02bc]")


def title_slug(title: str) -> str:
    """The URL slug for a title; apostrophes are dropped, as Hugo does ("That's" -> "thats",
    not "that-s")."""
    return slugify(_APOSTROPHES.sub("", title))


def create(site: Path, new: NewPost, now: dt.datetime | None = None) -> Path:
    """Write content/posts/SLUG.md (or content/pages/); never overwrite; return the path."""
    config, problems = load_config(site)
    if config is None:
        raise ScaffoldError("\n".join(str(p) for p in problems))
    zone = ZoneInfo(config.timezone)
    now = (now or dt.datetime.now(zone)).astimezone(zone).replace(microsecond=0)
    slug = title_slug(new.slug or new.title)
    if not slug:
        raise ScaffoldError(f"cannot make a URL slug from {new.title!r}: pass --slug")
    folder = site / "content" / ("posts" if new.kind == "post" else "pages")
    path = folder / f"{slug}.md"
    text = render_file(front_matter(new, now, slug))
    _check_reads_back(text, path, site, new.kind, config)
    folder.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: refuse atomically, even if two `new` race for the same slug
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise ScaffoldError(
            f"{display_path(path, site)} already exists; not overwriting it "
            "(pick another title or pass --slug)"
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def _check_reads_back(text: str, path: Path, site: Path, kind: str, config) -> None:
    options = content.ReadOptions(timezone=config.timezone, permalink=config.permalink)
    post, problems = content.parse_text(text, path, display_path(path, site), kind, options)
    if post is None:  # would be a bug in this module: say so rather than write a broken file
        raise ScaffoldError("\n".join(str(p) for p in problems))


# ---------------------------------------------------------------- command line
