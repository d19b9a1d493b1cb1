"""Light views: their fingerprint changes whenever what they show changes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from types import MappingProxyType

from quire.config import MarkdownSettings
from quire.incremental.memo import Memo
from quire.model import Kind, OgImage, Post
from quire.render import views

POST = Post(
    source=Path("content/posts/a.md"),
    kind=Kind.POST,
    title='A "title"',
    date=dt.datetime(2025, 1, 2, tzinfo=dt.UTC),
    slug="a",
    body="Body.",
    updated=dt.datetime(2025, 2, 3, tzinfo=dt.UTC),
    tags=("Python", "Web"),
    categories=("Code",),
    summary="A summary -- with dashes.",
    dek="A dek.",
    author="Ann",
    image="/posts/a/hero.jpg",
    params=MappingProxyType({"image_alt": "A hero", "n": 1}),
    url="/posts/a/",
    fingerprint=b"file-a",
    og_image=OgImage("/posts/a/hero-1200w.jpg", "image/jpeg", 10, 1200, 600),
)

OTHER = {  # another value for every field of a Post
    "source": Path("content/posts/b.md"),
    "kind": Kind.PAGE,
    "title": "B",
    "date": dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
    "slug": "b",
    "body": "Other body.",
    "body_line": 7,
    "updated": None,
    "tags": ("Python",),
    "categories": ("Other",),
    "summary": "Other.",
    "dek": "",
    "draft": True,
    "author": "Bo",
    "image": None,
    "related": ("x",),
    "show_related": False,
    "params": MappingProxyType({"image_alt": "Other"}),
    "url": "/b/",
    "aliases": ("/old/",),
    "field_lines": MappingProxyType({"title": 2}),
    "fingerprint": b"file-b",
    "og_image": OgImage("/posts/a/hero-1200w.jpg", "image/webp", 10, 1200, 600),
}


def _shown(view) -> dict:
    return {
        f.name: getattr(view, f.name) for f in dataclasses.fields(view) if f.name != "fingerprint"
    }


def test_every_field_a_light_view_shows_is_in_its_fingerprint():
    assert set(OTHER) == {f.name for f in dataclasses.fields(Post)}
    base = views.light_view(POST)
    for name, value in OTHER.items():
        changed = views.light_view(dataclasses.replace(POST, **{name: value}))
        if _shown(changed) != _shown(base):
            assert changed.fingerprint != base.fingerprint, name
        else:  # a field the view does not show (the body, the file): same fingerprint
            assert changed.fingerprint == base.fingerprint, name
    smart_off = MarkdownSettings(smart=False)
    assert _shown(views.light_view(POST, smart_off)) != _shown(base)
    assert views.light_view(POST, smart_off).fingerprint != base.fingerprint


def test_a_memo_gives_the_same_fingerprint():
    memo = Memo()
    first = views.light_view(POST, memo=memo)
    assert first == views.light_view(POST)
    assert views.light_view(POST, memo=memo) == first
