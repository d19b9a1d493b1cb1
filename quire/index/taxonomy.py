"""Tags, categories, archive and pagination: the indexes built from the list of posts."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}


@functools.lru_cache(maxsize=65536)  # a build slugifies each tag thousands of times
def slugify(text: str) -> str:
    """URL- and file-safe slug: lowercase ASCII words joined by '-' (letters of other
    scripts when a name has no Latin ones).

    Never yields '.', '..', separators or Windows device names, so a slug is always
    one safe path segment inside the output folder.
    """
    source = str(text).lower().replace("+", " plus ").replace("&", " and ")
    ascii_text = unicodedata.normalize("NFKD", source).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if not slug:  # a name in another script (日本, Ελλάδα) keeps its letters, as Hugo does
        slug = re.sub(r"[\W_]+", "-", unicodedata.normalize("NFKC", source)).strip("-")
    slug = slug[:100].strip("-")
    if slug in _RESERVED:
        slug = f"{slug}-"
    return slug


@dataclass(frozen=True)
class Term:
    """A tag or category with the posts that carry it, newest first."""

    kind: str  # "tags" or "categories"
    name: str
    slug: str
    posts: tuple  # tuple[Post, ...]

    @property
    def url(self) -> str:
        return f"/{self.kind}/{self.slug}/"

    @property
    def count(self) -> int:
        return len(self.posts)

    @functools.cached_property
    def fingerprint(self) -> bytes:
        """Digest of the term and its posts' fingerprints, made once: a page that holds the
        term (each of a tag's N/10 list pages, the tags index) digests these 16 bytes, not the
        term's N posts again (which made list-page fingerprints grow as N squared)."""
        from quire.incremental.digest import digest  # index must not import the cache eagerly

        return digest(("term", self.kind, self.name, self.slug, self.posts))


def build_terms(posts: Sequence, kind: str) -> tuple[Term, ...]:
    """Groups posts (already newest first) by tag or category; names that slugify alike merge."""
    groups: dict[str, tuple[str, list]] = {}
    for post in posts:
        names = post.tags if kind == "tags" else post.categories
        for item in names:
            name = getattr(item, "name", item)  # Post holds names, PostView holds links
            slug = slugify(name)
            if not slug:
                continue
            first_name, members = groups.setdefault(slug, (name, []))
            if not members or members[-1] is not post:
                members.append(post)
    terms = [Term(kind, name, slug, tuple(members)) for slug, (name, members) in groups.items()]
    return tuple(sorted(terms, key=lambda t: (t.name.lower(), t.slug)))


@dataclass(frozen=True)
class Paginator:
    """What a list template needs to draw one page of a paginated list."""

    number: int
    total: int
    items: tuple
    base_url: str

    def url_for(self, number: int) -> str:
        return self.base_url if number == 1 else f"{self.base_url}page/{number}/"

    @property
    def url(self) -> str:
        return self.url_for(self.number)

    @property
    def prev_url(self) -> str | None:
        return self.url_for(self.number - 1) if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url_for(self.number + 1) if self.number < self.total else None

    @property
    def window(self) -> tuple[int | None, ...]:
        """Page numbers to link: first, last and two either side of this one; None marks a gap.

        Listing every page made each list page O(pages) and a whole site O(pages^2).
        """
        near = range(max(1, self.number - 2), min(self.total, self.number + 2) + 1)
        shown = sorted({1, self.total, *near})
        numbers: list[int | None] = []
        for n in shown:
            if numbers and n - numbers[-1] > 2:
                numbers.append(None)
            elif numbers and n - numbers[-1] == 2:
                numbers.append(n - 1)
            numbers.append(n)
        return tuple(numbers)


def paginate(items: Sequence[T], per_page: int, base_url: str) -> list[Paginator]:
    per_page = max(1, per_page)
    chunks = [tuple(items[i : i + per_page]) for i in range(0, len(items), per_page)] or [()]
    return [Paginator(n, len(chunks), chunk, base_url) for n, chunk in enumerate(chunks, 1)]


@dataclass(frozen=True)
class ArchiveMonth:
    year: int
    month: int
    posts: tuple

    @property
    def anchor(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class ArchiveYear:
    year: int
    months: tuple[ArchiveMonth, ...]

    @property
    def count(self) -> int:
        return sum(len(m.posts) for m in self.months)


def build_archive(posts: Sequence) -> tuple[ArchiveYear, ...]:
    """Years and months, newest first, for /archive/."""
    by_year: dict[int, dict[int, list]] = {}
    for post in posts:
        by_year.setdefault(post.date.year, {}).setdefault(post.date.month, []).append(post)
    return tuple(
        ArchiveYear(
            year,
            tuple(
                ArchiveMonth(year, m, tuple(ps)) for m, ps in sorted(months.items(), reverse=True)
            ),
        )
        for year, months in sorted(by_year.items(), reverse=True)
    )
