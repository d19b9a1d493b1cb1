"""site.toml, declared as a schema: every key's type and default in one place, exact errors for free."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from quire.images.encode import ImageSettings, settings_from_table
from quire.problems import Problem, display_path, key_line
from quire.urls import check_url

DEFAULT_WEIGHTS = MappingProxyType({"text": 1.0, "tags": 0.4, "category": 0.05, "date": 0.02})


@dataclass(frozen=True)
class RelatedSettings:
    """site.toml [related]; declared here so reading the config never loads numpy."""

    count: int = 5
    include_newer: bool = True
    min_score: float = 0.05
    title_boost: float = 2.0
    date_half_life_days: float = 365.0
    weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_WEIGHTS)


ENGINES = ("commonmark", "python-markdown")
# Python-Markdown's own extensions ([markdown] extensions; others would need installing)
PYMD_EXTENSIONS = ("abbr", "admonition", "attr_list", "codehilite", "def_list", "extra")
PYMD_EXTENSIONS += ("fenced_code", "footnotes", "legacy_attrs", "legacy_em", "md_in_html")
PYMD_EXTENSIONS += ("meta", "nl2br", "sane_lists", "smarty", "tables", "toc", "wikilinks")


@dataclass(frozen=True)
class MarkdownSettings:
    """site.toml [markdown]: which engine renders bodies, smart punctuation, the
    python-markdown extensions (as Pelican's MARKDOWN names them) and code line numbers."""

    engine: str = "commonmark"  # CommonMark + GFM (pyromark); or "python-markdown"
    smart: bool = True
    extensions: tuple[str, ...] = ()
    line_numbers: bool = False


@dataclass(frozen=True)
class MenuItem:
    name: str
    url: str


DEFAULT_PERMALINK = "/posts/{slug}/"
PREVIEW_BASE_URL = "http://localhost:8000/"
BASE_URL_MISSING = (
    "base_url is not set: canonical links, feeds, the sitemap and robots.txt point at "
    f'{PREVIEW_BASE_URL}; set base_url = "https://your.domain/" in site.toml'
)


@dataclass(frozen=True)
class SiteConfig:
    title: str
    base_url: str = PREVIEW_BASE_URL
    author: str = ""
    description: str = ""
    language: str = "en"
    timezone: str = "UTC"
    posts_per_page: int = 10
    permalink: str = DEFAULT_PERMALINK
    feed_size: int = 20
    feed_file: str = "feed.xml"  # each RSS feed's file name: index.xml keeps a Hugo site's feeds
    menu: tuple[MenuItem, ...] = ()
    related: RelatedSettings = field(default_factory=RelatedSettings)
    images: ImageSettings = field(default_factory=ImageSettings)
    markdown: MarkdownSettings = field(default_factory=MarkdownSettings)
    deploy: Any = field(default_factory=lambda: MappingProxyType({}))
    params: Any = field(default_factory=lambda: MappingProxyType({}))

    @property
    def base_path(self) -> str:
        """The path part of base_url ('/blog/' when the site lives in a sub folder)."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    def absolute(self, site_path: str) -> str:
        """An absolute URL for a site path like /posts/x/ (base_url always ends with /)."""
        return self.base_url + site_path.lstrip("/")

    def relative(self, site_path: str) -> str:
        """A root-relative URL for a site path, keeping base_url's sub folder."""
        return self.base_path + site_path.lstrip("/")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _positive_int(v: Any) -> str | None:
    return None if _is_int(v) and v > 0 else "must be a whole number above 0"


def _feed_file(v: Any) -> str | None:
    if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.xml", v):
        return "must be a file name ending in .xml, e.g. feed.xml or index.xml (Hugo's)"
    if v in ("atom.xml", "sitemap.xml"):
        return f"must not be {v}: quire writes that file itself"
    return None


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) else "must be text"


def _nonempty_text(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "must be non-empty text"


def _http_url(v: Any) -> str | None:
    if not isinstance(v, str):
        return "must be text"
    if check_url(v, allow_site_path=False):
        return "must be an http(s) URL such as https://example.org/"
    return None


def _timezone(v: Any) -> str | None:
    if not isinstance(v, str):
        return "must be text such as 'Europe/Berlin'"
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {v!r}"
    return None


PERMALINK_PLACEHOLDERS = ("slug", "year", "month", "day", "section", "category", "filename")


def _permalink(v: Any) -> str | None:
    if not isinstance(v, str) or ("{slug}" not in v and "{filename}" not in v):
        return (
            "must be a path pattern containing {slug} or {filename}, e.g. /{year}/{month}/{slug}/"
        )
    if ".." in v or "\\" in v:
        return "must not contain '..' or backslashes"
    # only {name} with a documented name: no format specs, attributes, indexes or stray braces
    bare = re.sub(r"\{(\w+)\}", lambda m: "" if m.group(1) in PERMALINK_PLACEHOLDERS else "\0", v)
    if "\0" in bare or "{" in bare or "}" in bare:
        bad = next(
            m.group(0)
            for m in re.finditer(r"\{[^{}]*\}?|\}", v)
            if m.group(0).strip("{}") not in PERMALINK_PLACEHOLDERS
        )
        return f"unknown placeholder {bad} (use {', '.join(PERMALINK_PLACEHOLDERS)})"
    if not re.fullmatch(r"[\w./~-]*", bare):
        return "may hold letters, digits, '/', '.', '-', '_' and placeholders only"
    return None


def _table(v: Any) -> str | None:
    return None if isinstance(v, dict) else "must be a table"


def _menu(v: Any) -> str | None:
    if not isinstance(v, list):
        return "must be a list of {name, url} tables"
    for item in v:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return "each menu item needs a 'name' and a 'url'"
        url = item.get("url")
        if check_url(url):
            return f"menu url {url!r} must be a site path (/about/) or an http(s) URL"
    return None


# key: its check. Every key is optional except title; defaults are SiteConfig's.
SCHEMA: dict[str, Callable[[Any], str | None]] = {
    "title": _nonempty_text,
    "base_url": _http_url,
    "author": _text,
    "description": _text,
    "language": _text,
    "timezone": _timezone,
    "posts_per_page": _positive_int,
    "permalink": _permalink,
    "feed_size": _positive_int,
    "feed_file": _feed_file,
    "menu": _menu,
    "related": _table,
    "images": _table,
    "markdown": _table,
    "deploy": _table,
    "params": _table,
}

RELATED_SCHEMA: dict[str, Callable[[Any], str | None]] = {
    "count": lambda v: None if _is_int(v) and v >= 0 else "must be a whole number, 0 or more",
    "include_newer": lambda v: None if isinstance(v, bool) else "must be true or false",
    "min_score": lambda v: (
        None if isinstance(v, int | float) and not isinstance(v, bool) else "must be a number"
    ),
    "title_boost": lambda v: (
        None
        if isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
        else "must be a number, 0 or more"
    ),
    "date_half_life_days": lambda v: (
        None
        if isinstance(v, int | float) and not isinstance(v, bool) and v > 0
        else "must be a number above 0"
    ),
    "weights": _table,
}
WEIGHT_KEYS = ("text", "tags", "category", "date")
MARKDOWN_SCHEMA: dict[str, Callable[[Any], str | None]] = {
    "engine": lambda v: (
        None if v in ENGINES else f"must be one of {', '.join(repr(e) for e in ENGINES)}"
    ),
    "smart": lambda v: None if isinstance(v, bool) else "must be true or false",
    "extensions": lambda v: (
        None
        if isinstance(v, list)
        and all(
            isinstance(x, str) and x.removeprefix("markdown.extensions.") in PYMD_EXTENSIONS
            for x in v
        )
        else f"must be a list of Python-Markdown's extensions ({', '.join(PYMD_EXTENSIONS)})"
    ),
    "line_numbers": lambda v: None if isinstance(v, bool) else "must be true or false",
}

DEFAULT_MENU = (
    MenuItem("Home", "/"),
    MenuItem("Archive", "/archive/"),
    MenuItem("Tags", "/tags/"),
)


def load_config(
    site_dir: Path, overrides: dict[str, Any] | None = None
) -> tuple[SiteConfig | None, list[Problem]]:
    path = site_dir / "site.toml"
    shown = display_path(path, site_dir)
    if not path.is_file():
        return None, [
            Problem(
                shown,
                None,
                'site.toml not found: a site folder needs one with at least title = "..."',
            )
        ]
    try:
        text = path.read_bytes().decode("utf-8-sig")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        return None, [Problem(shown, 1, "file is not UTF-8; save it as UTF-8")]
    except RecursionError:
        return None, [Problem(shown, 1, "invalid TOML: tables or arrays nested too deeply")]
    except tomllib.TOMLDecodeError as err:
        match = re.search(r"line (\d+)", str(err))
        return None, [Problem(shown, int(match.group(1)) if match else 1, f"invalid TOML: {err}")]
    data.update(overrides or {})
    return parse_config(data, shown, text)


def base_url_missing(config: SiteConfig) -> bool:
    """site.toml leaves base_url out (or sets it to the preview server's address)."""
    return config.base_url == PREVIEW_BASE_URL


def parse_config(
    data: dict[str, Any], shown: str, text: str = ""
) -> tuple[SiteConfig | None, list[Problem]]:
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in SCHEMA:
            problems.append(
                Problem(
                    shown, key_line(text, key), f"unknown key '{key}' (known: {', '.join(SCHEMA)})"
                )
            )
            continue
        error = SCHEMA[key](value)
        if error:
            problems.append(Problem(shown, key_line(text, key), f"'{key}' {error}"))
        else:
            values[key] = value
    if "title" not in data:
        problems.append(Problem(shown, 1, "missing required key 'title'"))
    related = _related_settings(values.pop("related", {}) or {}, shown, text, problems)
    images = _image_settings(values.pop("images", {}) or {}, shown, text, problems)
    markdown = _markdown_settings(values.pop("markdown", {}) or {}, shown, text, problems)
    if problems:
        return None, problems
    if "base_url" in values and not values["base_url"].endswith("/"):
        values["base_url"] += "/"  # absolute() and relative() join paths onto it
    menu = values.pop("menu", None)
    config = SiteConfig(
        **{k: v for k, v in values.items() if k not in ("deploy", "params")},
        menu=tuple(MenuItem(m["name"], m["url"]) for m in menu)
        if menu is not None
        else DEFAULT_MENU,
        related=related,
        images=images,
        markdown=markdown,
        deploy=MappingProxyType(values.get("deploy", {})),
        params=MappingProxyType(values.get("params", {})),
    )
    return config, []


def _image_settings(table: dict, shown: str, text: str, problems: list[Problem]) -> ImageSettings:
    """site.toml [images] (see quire/images/encode.py ImageSettings for the keys)."""
    try:
        return settings_from_table(table)
    except ValueError as error:
        message = str(error)
        key = message.split(":", 1)[0].removeprefix("images.")
        found = re.search(r"'(\w+)'", message) if key == "images" else None
        line = key_line(text, found.group(1) if found else key, "images")
        problems.append(Problem(shown, line, message))
        return ImageSettings()


def _checked(
    table: dict, schema: dict, name: str, shown: str, text: str, problems: list[Problem]
) -> dict[str, Any]:
    """The keys of a [name] table that pass their schema's check; the others are problems
    at their line."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        check = schema.get(key)
        line = key_line(text, key, name)
        if check is None:
            known = ", ".join(schema)
            problems.append(Problem(shown, line, f"unknown key '{name}.{key}' (known: {known})"))
        elif error := check(value):
            problems.append(Problem(shown, line, f"'{name}.{key}' {error}"))
        else:
            values[key] = value
    return values


def _markdown_settings(
    table: dict, shown: str, text: str, problems: list[Problem]
) -> MarkdownSettings:
    values = _checked(table, MARKDOWN_SCHEMA, "markdown", shown, text, problems)
    if "extensions" in values:
        values["extensions"] = tuple(values["extensions"])
    return MarkdownSettings(**values)


def _related_settings(
    table: dict, shown: str, text: str, problems: list[Problem]
) -> RelatedSettings:
    values = _checked(table, RELATED_SCHEMA, "related", shown, text, problems)
    weights = dict(RelatedSettings().weights)
    for key, value in (values.pop("weights", None) or {}).items():
        line = key_line(text, key, "related.weights")
        if key not in WEIGHT_KEYS:
            problems.append(
                Problem(
                    shown, line, f"unknown related weight '{key}' (known: {', '.join(WEIGHT_KEYS)})"
                )
            )
        elif not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            problems.append(
                Problem(shown, line, f"related weight '{key}' must be a number, 0 or more")
            )
        else:
            weights[key] = float(value)
    return RelatedSettings(**values, weights=MappingProxyType(weights))
