"""`quire import hugo|pelican SRC --site DST`: turn another generator's site into a quire site.

The source folder is only ever read. Everything that maps cleanly is converted; everything
else is kept where harmless and always listed as `path:line: message`, so a move never
loses content silently.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import posixpath
import re
import shutil
import sys
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from quire.config import SCHEMA
from quire.files import site_files
from quire.index.taxonomy import slugify
from quire.problems import key_lines
from quire.read.content import parse_date, post_url
from quire.render.markdown import code_ranges

MARKDOWN_EXTS = {".md", ".markdown", ".mdown", ".mkd", ".mkdn"}
OTHER_MARKUP_EXTS = {".rst", ".adoc", ".asciidoc", ".org", ".pandoc", ".pdc", ".ipynb"}
QUIRE_SHORTCODES = {"buy", "related"}
FIELD_ORDER = ("title", "date", "updated", "slug", "tags", "category", "categories", "summary")
FIELD_ORDER += ("draft", "author", "image")


@dataclass(frozen=True)
class Note:
    """Something that could not be mapped, with where it is in SRC."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


@dataclass(frozen=True)
class ImportReport:
    """What an import did: the counts, what mapped to what, and what needs a human."""

    flavour: str
    src: str
    dst: str
    posts: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    copied: tuple[str, ...] = ()
    mapped: tuple[tuple[str, int], ...] = ()
    notes: tuple[Note, ...] = ()

    def render(self) -> str:
        name = {"hugo": "Hugo", "pelican": "Pelican"}.get(self.flavour, self.flavour)
        out = [
            f"Imported a {name} site from {self.src} into {self.dst}",
            f"  posts converted: {len(self.posts)}",
            f"  pages converted: {len(self.pages)}",
            f"  files copied:    {len(self.copied)}",
            "Fields mapped:",
        ]
        out += [f"  {text}" + (f" ({count}x)" if count > 1 else "") for text, count in self.mapped]
        out.append(f"Not mapped ({len(self.notes)}):" if self.notes else "Not mapped: nothing")
        out += [f"  {note}" for note in self.notes]
        out.append(f"Next: python build.py build --site {self.dst}")
        return "\n".join(out)


class ImportRefused(Exception):
    """Raised before anything is written: a missing SRC, a non-empty DST, or DST inside SRC."""


@dataclass
class _Log:
    """The report while it is being collected; frozen into ImportReport at the end."""

    posts: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)
    mapped: Counter = field(default_factory=Counter)
    notes: list[Note] = field(default_factory=list)

    def note(self, path: str, line: int | None, message: str) -> None:
        self.notes.append(Note(path, line, message))

    def freeze(self, flavour: str, src: Path, dst: Path) -> ImportReport:
        return ImportReport(
            flavour,
            str(src),
            str(dst),
            tuple(self.posts),
            tuple(self.pages),
            tuple(self.copied),
            tuple(self.mapped.items()),
            tuple(self.notes),
        )


@dataclass(frozen=True)
class _Doc:
    """A Markdown source on its way out: post or page, output name (= slug), new front matter."""

    rel: str
    kind: str
    name: str
    meta: dict
    body: str
    body_line: int
    bundle: Path | None = None


# --------------------------------------------------------------------------- shared helpers


def _prepare(src: Path, dst: Path, force: bool) -> tuple[Path, Path]:
    """Refuse anything that could touch SRC or clobber a folder the user did not offer."""
    src, dst = src.resolve(), dst.resolve()
    if not src.is_dir():
        raise ImportRefused(f"{src}: source folder not found")
    if dst == src or src in dst.parents or dst in src.parents:
        raise ImportRefused(
            f"{dst}: the new site must be outside the source folder (and not contain it)"
        )
    if dst.exists() and not dst.is_dir():
        raise ImportRefused(f"{dst}: exists and is not a folder")
    if dst.is_dir() and any(dst.iterdir()) and not force:
        raise ImportRefused(f"{dst}: folder is not empty; pass --force to write into it anyway")
    dst.mkdir(parents=True, exist_ok=True)
    return src, dst


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _copy(source: Path, target: Path, label: str, log: _Log) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    log.copied.append(label)


def _plain(value: Any) -> Any:
    """Values yaml.safe_dump can write (TOML times, tuples and the like become text or lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.time):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool | dt.date):
        return value
    return str(value)


def _ordered(meta: dict) -> dict:
    first = {k: meta[k] for k in FIELD_ORDER if k in meta}
    return first | {k: v for k, v in meta.items() if k not in first}


def _front_matter_text(meta: dict, body: str) -> str:
    dumped = yaml.safe_dump(_plain(_ordered(meta)), sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{dumped}---\n\n{body.lstrip(chr(10))}"


def _string_list(value: Any, split: bool) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        if not split:
            return [value.strip()] if value.strip() else []
        sep = ";" if ";" in value else ","
        return [v.strip() for v in value.split(sep) if v.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def _check_date(meta: dict, key: str, rel: str, lines: dict[str, int], log: _Log) -> None:
    if key in meta and parse_date(meta[key]) is None:
        log.note(
            rel, lines.get(key), f"cannot read {key} {meta[key]!r} as a date; quire will refuse it"
        )


def _unique_name(name: str, used: set[str], prefix: str, rel: str, log: _Log) -> str:
    """Output file names are the slug; two sources with one slug would overwrite each other."""
    name = name or "untitled"
    if name not in used:
        used.add(name)
        return name
    candidate = f"{prefix}-{name}" if prefix else name
    n = 2
    while candidate in used:
        candidate, n = f"{name}-{n}", n + 1
    used.add(candidate)
    log.note(
        rel, None, f"slug '{name}' is already taken; written as '{candidate}' (its URL changes)"
    )
    return candidate


def _site_value(
    key: str, value: Any, where: str, line: int | None, log: _Log, site: dict, what: str
) -> None:
    """Keep a site.toml value only if quire's own schema accepts it."""
    error = SCHEMA[key][0](value)
    if error:
        log.note(where, line, f"{what} = {value!r} not mapped: quire's {key} {error}")
    else:
        site[key] = value
        log.mapped[f"{where}: {what} -> site.toml {key}"] += 1


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _write_site(dst: Path, site: dict, where: str, log: _Log) -> None:
    if "title" not in site:
        site["title"] = dst.name or "My Site"
        log.note(where, None, f"no site title found; site.toml title set to {site['title']!r}")
    lines = [f"# Written by `quire import` from {where}; see README 'Moving from Hugo or Pelican'."]
    tables = {}
    for key, value in site.items():
        if isinstance(value, dict):
            tables[key] = value
        elif key == "menu":
            continue
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in tables.items():
        lines += ["", f"[{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    for item in site.get("menu", ()):
        lines += [
            "",
            "[[menu]]",
            f"name = {_toml_value(item['name'])}",
            f"url = {_toml_value(item['url'])}",
        ]
    (dst / "site.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_docs(dst: Path, docs: list[_Doc], log: _Log) -> None:
    for doc in docs:
        folder = dst / "content" / ("posts" if doc.kind == "post" else "pages")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{doc.name}.md").write_text(
            _front_matter_text(doc.meta, doc.body), encoding="utf-8"
        )
        (log.posts if doc.kind == "post" else log.pages).append(doc.rel)


def _doc_url(doc: _Doc, permalink: str) -> str:
    date = parse_date(doc.meta.get("date")) if doc.kind == "post" else None
    return post_url(doc.kind, slugify(doc.meta.get("slug") or doc.name), date, permalink)


# --------------------------------------------------------------------------- Hugo

_HUGO_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml")
_HUGO_CONFIGS += ("config.yml", "config.json")
_HUGO_IGNORED_FIELDS = {
    "url": "quire builds URLs from site.toml permalink and the slug",
    "aliases": "quire writes no redirects",
    "layout": "quire has one post template",
    "type": "quire has one post template",
    "weight": "quire orders posts by date",
    "expirydate": "quire does not expire posts",
    "publishdate": "quire publishes by date",
    "outputs": "quire has fixed outputs",
    "cascade": "quire has no front matter cascade",
    "build": "quire has no build options per post",
    "headless": "quire has no headless pages",
    "markup": "quire renders Markdown only",
    "translationkey": "quire sites have one language",
    "resources": "bundle files are copied; resource metadata is not",
}
_HUGO_CONFIG_IGNORED = {"theme", "markup", "outputs", "outputformats", "mediatypes", "module"}
_HUGO_PERMALINK_TOKENS = {
    ":year": "{year}",
    ":month": "{month}",
    ":day": "{day}",
    ":slug": "{slug}",
    ":filename": "{slug}",
    ":contentbasename": "{slug}",
}


def import_hugo(src: Path, dst: Path, force: bool = False) -> ImportReport:
    """Hugo site folder -> quire site folder. See README 'Moving from Hugo or Pelican'."""
    src, dst = _prepare(src, dst, force)
    log = _Log()
    config, config_name, config_text = _hugo_read_config(src, log)
    site = _hugo_site(config, config_name, config_text, log)
    permalink = site.get("permalink", SCHEMA["permalink"][1])
    content = src / str(_ci(config, "contentdir") or "content")
    docs = _hugo_content(src, content, dst, log) if content.is_dir() else []
    if not content.is_dir():
        log.note(
            _rel(content, src) if content.is_relative_to(src) else str(content),
            None,
            "content folder not found",
        )
    refs = _hugo_ref_index(docs, permalink)
    docs = [_hugo_shortcodes(doc, refs, log) for doc in docs]
    _write_docs(dst, docs, log)
    _hugo_data(src, dst, log)
    _hugo_static(src, dst, log)
    _hugo_leftovers(src, log)
    _write_site(dst, site, config_name, log)
    return log.freeze("hugo", src, dst)


def _ci(table: Any, key: str) -> Any:
    """Hugo config keys are case-insensitive."""
    if not isinstance(table, dict):
        return None
    for k, v in table.items():
        if k.lower() == key:
            return v
    return None


def _hugo_read_config(src: Path, log: _Log) -> tuple[dict, str, str]:
    candidates = [src / n for n in _HUGO_CONFIGS]
    candidates += [src / "config" / "_default" / n for n in _HUGO_CONFIGS]
    for path in candidates:
        if not path.is_file():
            continue
        shown = _rel(path, src)
        text = path.read_text(encoding="utf-8-sig")
        try:
            if path.suffix == ".toml":
                data = tomllib.loads(text)
            elif path.suffix == ".json":
                data = json.loads(text)
            else:
                data = yaml.safe_load(text) or {}
        except (tomllib.TOMLDecodeError, yaml.YAMLError, json.JSONDecodeError) as err:
            log.note(shown, None, f"cannot read config: {err}")
            return {}, shown, text
        if path.parent.name == "_default":
            log.note(
                "config/",
                None,
                "only config/_default/hugo|config.* was read; other config files are not merged",
            )
        return (data if isinstance(data, dict) else {}), shown, text
    log.note(".", None, "no hugo.toml/config.toml/hugo.yaml found; site.toml gets defaults")
    return {}, "hugo.toml", ""


def _hugo_site(config: dict, where: str, text: str, log: _Log) -> dict:
    site: dict[str, Any] = {}

    def line(key: str) -> int | None:
        match = re.search(rf"^\s*(?:\[+\s*)?{re.escape(key)}\s*[=:\].]", text, re.M | re.I)
        return text.count("\n", 0, match.start()) + 1 if match else None

    handled = {
        "title",
        "baseurl",
        "pagination",
        "paginate",
        "languagecode",
        "defaultcontentlanguage",
    }
    handled |= {
        "timezone",
        "params",
        "author",
        "permalinks",
        "menu",
        "menus",
        "related",
        "taxonomies",
    }
    handled |= {"contentdir"}
    if (title := _ci(config, "title")) is not None:
        _site_value("title", title, where, line("title"), log, site, "title")
    if (base := _ci(config, "baseurl")) is not None:
        _site_value("base_url", base, where, line("baseURL"), log, site, "baseURL")
    pager = _ci(_ci(config, "pagination"), "pagersize")
    if pager is not None:
        _site_value(
            "posts_per_page", pager, where, line("pagerSize"), log, site, "pagination.pagerSize"
        )
    elif (pager := _ci(config, "paginate")) is not None:
        _site_value("posts_per_page", pager, where, line("paginate"), log, site, "paginate")
    if (lang := _ci(config, "languagecode") or _ci(config, "defaultcontentlanguage")) is not None:
        _site_value("language", lang, where, line("languageCode"), log, site, "languageCode")
    if (zone := _ci(config, "timezone")) is not None:
        _site_value("timezone", zone, where, line("timeZone"), log, site, "timeZone")
    params = _ci(config, "params") or {}
    author = _ci(params, "author") or _ci(config, "author")
    if isinstance(author, dict):
        author = _ci(author, "name")
    if author is not None:
        _site_value("author", author, where, line("author"), log, site, "author")
    if (desc := _ci(params, "description")) is not None:
        _site_value(
            "description", desc, where, line("description"), log, site, "params.description"
        )
    _hugo_permalink(_ci(config, "permalinks"), where, log, site)
    _hugo_menu(_ci(config, "menus") or _ci(config, "menu"), where, log, site)
    related = _ci(config, "related")
    if isinstance(related, dict):
        newer = _ci(related, "includenewer")
        if isinstance(newer, bool):
            site["related"] = {"include_newer": newer}
            log.mapped[f"{where}: related.includeNewer -> site.toml related.include_newer"] += 1
        log.note(
            where,
            line("related"),
            "related indices/threshold not mapped: quire scores by text, tags, category and "
            "date; tune [related] weights in site.toml",
        )
    taxonomies = _ci(config, "taxonomies")
    if isinstance(taxonomies, dict):
        extra = sorted(set(taxonomies.values()) - {"tags", "categories"})
        if set(taxonomies.values()) & {"tags", "categories"}:
            log.mapped[
                f"{where}: taxonomies tags/categories -> quire's built-in tags and categories"
            ] += 1
        if extra:
            log.note(
                where,
                line("taxonomies"),
                f"taxonomies {', '.join(extra)} not mapped: quire has tags and categories only",
            )
    for key in config:
        if key.lower() not in handled:
            why = "not used by quire" if key.lower() in _HUGO_CONFIG_IGNORED else "not mapped"
            log.note(where, line(key), f"config key '{key}' {why}")
    return site


def _hugo_permalink(permalinks: Any, where: str, log: _Log, site: dict) -> None:
    if not isinstance(permalinks, dict):
        return
    pattern = _ci(permalinks, "posts") or _ci(permalinks, "post")
    if pattern is None and isinstance(_ci(permalinks, "page"), dict):
        pattern = _ci(_ci(permalinks, "page"), "posts")
    if not isinstance(pattern, str):
        log.note(where, None, "permalinks has no pattern for 'posts'; quire uses /posts/{slug}/")
        return
    out = pattern
    for token, repl in _HUGO_PERMALINK_TOKENS.items():
        out = out.replace(token, repl)
    out = out.replace(":section", "posts")
    if ":" in out:
        log.note(
            where,
            None,
            f"permalinks.posts = {pattern!r} not mapped: quire knows slug, year, month, day",
        )
        return
    _site_value("permalink", "/" + out.strip("/") + "/", where, None, log, site, "permalinks.posts")


def _hugo_menu(menus: Any, where: str, log: _Log, site: dict) -> None:
    main = _ci(menus, "main") if isinstance(menus, dict) else None
    if not isinstance(main, list):
        return
    items = []
    for entry in sorted(
        (e for e in main if isinstance(e, dict)), key=lambda e: _ci(e, "weight") or 0
    ):
        name = _ci(entry, "name")
        url = _ci(entry, "url") or _ci(entry, "pageref")
        if isinstance(url, str) and not url.startswith(("http://", "https://")):
            url = "/" + url.strip("/") + ("/" if url.strip("/") else "")
        if isinstance(name, str) and isinstance(url, str):
            items.append({"name": name, "url": url})
        else:
            log.note(where, None, f"menu entry {entry!r} not mapped (needs name and url/pageRef)")
    if items and SCHEMA["menu"][0](items) is None:
        site["menu"] = items
        log.mapped[f"{where}: menus.main -> site.toml [[menu]]"] += 1


_FM_YAML = re.compile(r"^---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.S | re.M)
_FM_TOML = re.compile(r"^\+\+\+[ \t]*\n(.*?)^\+\+\+[ \t]*$\n?", re.S | re.M)


def _split_hugo(text: str) -> tuple[dict, dict[str, int], str, int]:
    """(front matter, key lines, body, body's first line). Raises ValueError(message, line)."""
    text = text.replace("\r\n", "\n")
    for pattern, load in ((_FM_YAML, yaml.safe_load), (_FM_TOML, tomllib.loads)):
        match = pattern.match(text)
        if match:
            try:
                meta = load(match.group(1)) or {}
            except yaml.MarkedYAMLError as err:
                mark = err.problem_mark or err.context_mark
                line = 2 + (mark.line if mark else 0)
                raise ValueError(f"cannot read YAML front matter: {err.problem}", line) from err
            except (yaml.YAMLError, tomllib.TOMLDecodeError) as err:
                found = re.search(r"line (\d+)", str(err))
                line = 1 + int(found.group(1)) if found else 1
                reason = str(err).split(" (at line")[0]
                raise ValueError(f"cannot read front matter: {reason}", line) from err
            body_line = match.group(0).count("\n") + 1
            return (
                meta,
                key_lines(match.group(1), 2, fold_case=True),
                text[match.end() :],
                body_line,
            )
    if text.startswith("{"):
        try:
            meta, end = json.JSONDecoder().raw_decode(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"cannot read JSON front matter: {err}", err.lineno) from err
        head = text[:end]
        return meta, key_lines(head, fold_case=True), text[end:], head.count("\n") + 1
    return {}, {}, text, 1


def _hugo_content(src: Path, content: Path, dst: Path, log: _Log) -> list[_Doc]:
    """Sections flatten into posts (dated) and pages (undated or at the content root)."""
    docs: list[_Doc] = []
    used: dict[str, set[str]] = {"post": set(), "page": set()}
    bundles: dict[Path, _Doc] = {}
    for path, _ in site_files(content):
        rel = _rel(path, src)
        inner = path.relative_to(content)
        bundle_root = next(
            (p for p in [path.parent, *path.parent.parents] if p in bundles or _is_leaf_bundle(p)),
            None,
        )
        is_index = path.stem == "index" and path.suffix.lower() in MARKDOWN_EXTS
        if bundle_root is not None and content in bundle_root.parents and not is_index:
            doc = bundles.get(bundle_root)
            if path.suffix.lower() in MARKDOWN_EXTS:
                log.note(rel, None, "Markdown resource inside a page bundle not converted")
            elif doc is not None:
                target = dst / "content" / f"{doc.kind}s" / doc.name / path.relative_to(bundle_root)
                _copy(path, target, rel, log)
            continue
        suffix = path.suffix.lower()
        if path.stem == "_index":
            log.note(
                rel, None, "section list page (_index) not converted: quire makes its own lists"
            )
            continue
        if suffix in MARKDOWN_EXTS:
            doc = _hugo_doc(src, path, inner, used, log)
            if doc is not None:
                docs.append(doc)
                if is_index:
                    bundles[path.parent] = doc
            continue
        if suffix in OTHER_MARKUP_EXTS or suffix in {".html", ".htm"}:
            log.note(rel, None, f"{suffix} content not converted: quire reads Markdown only")
            continue
        _copy(path, dst / "content" / inner, rel, log)
    # resources listed before their index.md in walk order were skipped; copy them now
    for root, doc in bundles.items():
        for path, _ in site_files(root):
            if path.suffix.lower() not in MARKDOWN_EXTS:
                target = dst / "content" / f"{doc.kind}s" / doc.name / path.relative_to(root)
                if not target.exists():
                    _copy(path, target, _rel(path, src), log)
    return docs


def _is_leaf_bundle(folder: Path) -> bool:
    return any((folder / f"index{ext}").is_file() for ext in MARKDOWN_EXTS)


def _hugo_doc(src: Path, path: Path, inner: Path, used: dict, log: _Log) -> _Doc | None:
    rel = _rel(path, src)
    try:
        meta, lines, body, body_line = _split_hugo(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        log.note(rel, None, "not UTF-8; not converted")
        return None
    except ValueError as err:
        log.note(rel, err.args[1], f"{err.args[0]}; not converted")
        return None
    if not isinstance(meta, dict):
        log.note(rel, 1, "front matter is not key: value pairs; not converted")
        return None
    out = _hugo_fields(meta, rel, lines, log)
    bundle = path.stem == "index"
    stem = path.parent.name if bundle else path.stem
    in_section = len(inner.parts) > (2 if bundle else 1)
    if "title" not in out:
        out["title"] = stem.replace("-", " ").replace("_", " ").capitalize()
        log.note(rel, None, f"no title; set to {out['title']!r}")
    kind = "post" if in_section and "date" in out else "page"
    if in_section and kind == "page":
        log.note(rel, None, "no date: imported as a page (quire posts need a date)")
    elif not in_section:
        log.mapped["content root .md -> pages"] += 1
    section = inner.parts[0] if in_section else ""
    if in_section and section not in ("posts", "post") and kind == "post":
        log.mapped[f"section '{section}' -> posts"] += 1
    name = slugify(str(out.get("slug") or stem))
    name = _unique_name(name, used[kind], slugify(section), rel, log)
    if "slug" in out and slugify(str(out["slug"])) != name:
        out["slug"] = name
    return _Doc(rel, kind, name, out, body, body_line, path.parent if bundle else None)


def _hugo_fields(meta: dict, rel: str, lines: dict[str, int], log: _Log) -> dict:
    out: dict[str, Any] = {}
    keys = {k.lower(): k for k in meta}
    for key, value in meta.items():
        k = key.lower()
        if k in ("title", "slug", "summary", "draft", "author", "image", "date"):
            if k == "draft" and str(value).lower() in ("true", "false"):
                value = str(value).lower() == "true"  # Hugo accepts "true" as text; quire does not
            out[k] = value
            log.mapped[f"{k} -> {k}"] += 1
        elif k == "tags":
            out["tags"] = _string_list(value, split=False)
            log.mapped["tags -> tags (a list)"] += 1
        elif k == "lastmod":
            out["updated"] = value
            log.mapped["lastmod -> updated"] += 1
        elif k == "publishdate" and "date" not in keys:
            out["date"] = value
            log.mapped["publishDate -> date (no date given)"] += 1
        elif k in ("categories", "category"):
            cats = _string_list(value, split=False)
            if len(cats) == 1:
                out["category"] = cats[0]
                log.mapped[f"{key} (one) -> category"] += 1
            elif cats:
                out["categories"] = cats
        elif k == "description" and "summary" not in keys:
            out["summary"] = value
            log.mapped["description -> summary"] += 1
        elif k == "authors" and "author" not in keys:
            authors = _string_list(value, split=False)
            if authors:
                out["author"] = authors[0]
                log.mapped["authors -> author"] += 1
            if len(authors) > 1:
                log.note(
                    rel, lines.get(k), f"authors {authors}: quire keeps one author, kept the first"
                )
        elif k == "images" and "image" not in keys and isinstance(value, list) and value:
            out["image"] = str(value[0])
            log.mapped["images (first) -> image"] += 1
        else:
            out[key] = value
            if k in _HUGO_IGNORED_FIELDS:
                log.note(
                    rel, lines.get(k), f"'{key}' kept but has no effect: {_HUGO_IGNORED_FIELDS[k]}"
                )
    for key in ("date", "updated"):
        _check_date(out, key, rel, lines, log)
    return out


_SHORTCODE = re.compile(
    r"\{\{(?P<o>[<%])\s*highlight\s+(?P<lang>[\w+#-]+)[^}]*?[>%]\}\}\n?(?P<code>.*?)"
    r"\{\{[<%]\s*/highlight\s*[>%]\}\}"
    r"|\{\{(?P<open>[<%])\s*(?P<close>/?)\s*(?P<name>[A-Za-z0-9_][\w/.-]*)(?P<args>.*?)\s*[>%]\}\}",
    re.S,
)
_ATTR = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_POSITIONAL = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")


def _hugo_ref_index(docs: list[_Doc], permalink: str) -> dict[str, str]:
    """What a {{< ref >}} can name: path under content/, with or without .md, or a bare name."""
    index: dict[str, str] = {}
    for doc in docs:
        url = _doc_url(doc, permalink)
        path = doc.rel.split("/", 1)[1] if "/" in doc.rel else doc.rel
        for key in (
            path,
            posixpath.splitext(path)[0],
            posixpath.dirname(path) if doc.bundle else None,
        ):
            if key:
                index[key.strip("/")] = url
        index.setdefault(doc.name, url)
        index.setdefault(posixpath.basename(posixpath.splitext(path)[0]), url)
    return index


def _hugo_shortcodes(doc: _Doc, refs: dict[str, str], log: _Log) -> _Doc:
    """Keep buy/related, turn figure/highlight/ref into Markdown, report the rest by line."""

    def line_of(pos: int) -> int:
        return doc.body_line + doc.body.count("\n", 0, pos)

    skip = code_ranges(doc.body)

    def replace(m: re.Match) -> str:
        if any(start <= m.start() < end for start, end in skip):
            return m.group(0)  # quire leaves shortcodes in code alone too
        if m.group("code") is not None:
            log.mapped["{{< highlight >}} -> fenced code block"] += 1
            code = m.group("code")
            return f"```{m.group('lang')}\n{code}{'' if code.endswith(chr(10)) else chr(10)}```"
        name, args = m.group("name"), m.group("args")
        if m.group("close") or name in QUIRE_SHORTCODES:
            if name in QUIRE_SHORTCODES:
                log.mapped[f"{{{{< {name} >}}}} kept"] += 1
            return m.group(0)
        if name == "figure":
            attrs = {
                a.group(1).lower(): a.group(2) or a.group(3) or a.group(4)
                for a in _ATTR.finditer(args)
            }
            if attrs.get("src"):
                log.mapped["{{< figure >}} -> Markdown image"] += 1
                alt = (attrs.get("alt") or attrs.get("caption") or "").replace("]", "")
                image = f"![{alt}]({attrs['src']})"
                return image + (f"\n*{attrs['caption']}*" if attrs.get("caption") else "")
        if name in ("ref", "relref"):
            first = _POSITIONAL.match(args)
            target = (first.group(1) or first.group(2) or first.group(3)) if first else ""
            path, _, anchor = target.partition("#")
            key = path.strip("/")
            url = (
                refs.get(key)
                or refs.get(posixpath.splitext(key)[0])
                or refs.get(posixpath.basename(key))
            )
            url = url or (refs.get(posixpath.basename(posixpath.splitext(key)[0])) if key else None)
            if url:
                log.mapped["{{< ref >}} -> site path"] += 1
                return url + (f"#{anchor}" if anchor else "")
            log.note(
                doc.rel,
                line_of(m.start()),
                f"{{{{< {name} {target!r} >}}}}: target not found, kept",
            )
            return m.group(0)
        log.note(
            doc.rel,
            line_of(m.start()),
            f"shortcode '{name}' kept but quire has no such shortcode: add "
            f"templates/shortcodes/{name}.html or edit the post (the build stops on it)",
        )
        return m.group(0)

    body = _SHORTCODE.sub(replace, doc.body)
    return _Doc(doc.rel, doc.kind, doc.name, doc.meta, body, doc.body_line, doc.bundle)


def _hugo_data(src: Path, dst: Path, log: _Log) -> None:
    data = src / "data"
    if not data.is_dir():
        return
    for path, _ in site_files(data):
        rel = _rel(path, src)
        if path.stem == "products" and path.parent == data:
            target = dst / "content" / "products.yaml"
            if target.exists():
                log.note(rel, None, "a second products file; not imported")
                continue
            try:
                text = path.read_text(encoding="utf-8-sig")
                if path.suffix in (".yaml", ".yml"):
                    loaded = yaml.safe_load(text)
                elif path.suffix == ".toml":
                    loaded = tomllib.loads(text)
                    text = yaml.safe_dump(_plain(loaded), sort_keys=False, allow_unicode=True)
                else:
                    loaded = json.loads(text)
                    text = yaml.safe_dump(_plain(loaded), sort_keys=False, allow_unicode=True)
            except (ValueError, yaml.YAMLError) as err:
                log.note(rel, None, f"cannot read products: {err}")
                continue
            if not isinstance(loaded, dict):
                log.note(rel, None, "products must map id -> product; not imported")
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            log.mapped[f"{rel} -> content/products.yaml"] += 1
        else:
            log.note(
                rel,
                None,
                "data file not imported: quire reads only products (content/products.yaml)",
            )


def _hugo_static(src: Path, dst: Path, log: _Log) -> None:
    static = src / "static"
    if not static.is_dir():
        return
    count = 0
    for path, _ in site_files(static):
        target = dst / "content" / path.relative_to(static)
        rel = _rel(path, src)
        if target.exists() or target.relative_to(dst / "content").parts[0] in ("posts", "pages"):
            log.note(
                rel,
                None,
                f"not copied: content/{target.relative_to(dst / 'content').as_posix()} "
                "is taken by converted content",
            )
            continue
        _copy(path, target, rel, log)
        count += 1
    if count:
        log.mapped["static/* -> content/* (copied as is, same URLs)"] += count


def _hugo_leftovers(src: Path, log: _Log) -> None:
    for name in ("layouts", "themes", "assets", "archetypes", "i18n"):
        if (src / name).is_dir():
            log.note(
                name + "/",
                None,
                "not imported: Go templates and assets do not carry over; quire uses its own theme",
            )
    for folder in ("layouts/shortcodes", "layouts/_shortcodes"):
        for path in sorted((src / folder).glob("*.html")) if (src / folder).is_dir() else []:
            if path.stem not in QUIRE_SHORTCODES:
                log.note(
                    _rel(path, src),
                    None,
                    f"shortcode template '{path.stem}' not converted; write "
                    f"templates/shortcodes/{path.stem}.html (Jinja) in the new site",
                )


# --------------------------------------------------------------------------- Pelican

_PELICAN_SITE_KEYS = {
    "SITENAME": "title",
    "SITEURL": "base_url",
    "AUTHOR": "author",
    "SITESUBTITLE": "description",
    "DEFAULT_PAGINATION": "posts_per_page",
    "TIMEZONE": "timezone",
    "DEFAULT_LANG": "language",
    "FEED_MAX_ITEMS": "feed_size",
}
_PELICAN_USED = {
    "PATH",
    "PAGE_PATHS",
    "ARTICLE_PATHS",
    "STATIC_PATHS",
    "ARTICLE_URL",
    "ARTICLE_SAVE_AS",
}
_PELICAN_USED |= {
    "MENUITEMS",
    "USE_FOLDER_AS_CATEGORY",
    "SLUGIFY_SOURCE",
    "PAGE_EXCLUDES",
    "ARTICLE_EXCLUDES",
}
_PELICAN_IGNORED_FIELDS = {
    "lang": "quire sites have one language",
    "translation": "quire sites have one language",
    "save_as": "quire builds URLs from site.toml permalink and the slug",
    "url": "quire builds URLs from site.toml permalink and the slug",
    "template": "quire has one post template",
}


def import_pelican(src: Path, dst: Path, force: bool = False) -> ImportReport:
    """Pelican site folder -> quire site folder. pelicanconf.py is parsed, never run."""
    src, dst = _prepare(src, dst, force)
    log = _Log()
    conf, lines = read_pelicanconf(src / "pelicanconf.py", log)
    publish, publish_lines = read_pelicanconf(src / "publishconf.py", log, quiet=True)
    site = _pelican_site(conf, lines, publish, publish_lines, log)
    permalink = site.get("permalink", SCHEMA["permalink"][1])
    content = src / str(conf.get("PATH", "content"))
    if not content.is_dir() or not content.resolve().is_relative_to(src):
        log.note(
            "pelicanconf.py",
            lines.get("PATH"),
            f"content folder {conf.get('PATH', 'content')!r} not found",
        )
        docs, statics = [], {}
    else:
        docs, statics = _pelican_content(src, content, dst, conf, log)
    docs = [_pelican_links(doc, docs, statics, content, src, permalink, log) for doc in docs]
    _write_docs(dst, docs, log)
    _write_site(dst, site, "pelicanconf.py", log)
    return log.freeze("pelican", src, dst)


def read_pelicanconf(
    path: Path, log: _Log, quiet: bool = False
) -> tuple[dict[str, Any], dict[str, int]]:
    """Literal top-level assignments only, via ast: a settings file is code, never executed."""
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    if not path.is_file():
        if not quiet:
            log.note(path.name, None, "not found; site.toml gets defaults")
        return values, lines
    try:
        tree = ast.parse(path.read_text(encoding="utf-8-sig"), filename=path.name)
    except (SyntaxError, UnicodeDecodeError) as err:
        log.note(path.name, getattr(err, "lineno", None), f"cannot parse: {err}")
        return values, lines
    for node in tree.body:
        targets: list[ast.expr] = []
        value = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if value is not None and names:
            try:
                literal = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                log.note(
                    path.name,
                    node.lineno,
                    f"{', '.join(names)} is not a literal value; not evaluated",
                )
                continue
            for name in names:
                values[name], lines[name] = literal, node.lineno
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring
        elif isinstance(node, ast.Import | ast.ImportFrom):
            if not quiet or not (isinstance(node, ast.ImportFrom) and node.module == "pelicanconf"):
                log.note(
                    path.name,
                    node.lineno,
                    "import not followed: settings files are parsed, not run",
                )
        else:
            log.note(
                path.name, node.lineno, f"{type(node).__name__.lower()} statement not executed"
            )
    return values, lines


def _pelican_site(conf: dict, lines: dict, publish: dict, publish_lines: dict, log: _Log) -> dict:
    site: dict[str, Any] = {}
    where = "pelicanconf.py"
    for key, value in conf.items():
        line = lines.get(key)
        if key in _PELICAN_SITE_KEYS:
            if key == "SITEURL" and publish.get("SITEURL"):
                continue
            if key == "SITEURL" and value == "":
                log.note(
                    where, line, "SITEURL is empty (a development value); set base_url in site.toml"
                )
                continue
            if key == "DEFAULT_PAGINATION" and value is False:
                log.note(
                    where,
                    line,
                    "DEFAULT_PAGINATION = False: quire always paginates (posts_per_page)",
                )
                continue
            if key == "SITEURL" and isinstance(value, str) and not value.endswith("/"):
                value += "/"
            _site_value(_PELICAN_SITE_KEYS[key], value, where, line, log, site, key)
        elif "FEED" in key:
            if value not in (None, False, ""):
                log.note(
                    where,
                    line,
                    f"{key} not mapped: quire writes one site feed (feed_size sets its length)",
                )
        elif key not in _PELICAN_USED:
            log.note(where, line, f"{key} not mapped")
    if isinstance(publish.get("SITEURL"), str) and publish["SITEURL"]:
        url = publish["SITEURL"].rstrip("/") + "/"
        _site_value(
            "base_url", url, "publishconf.py", publish_lines.get("SITEURL"), log, site, "SITEURL"
        )
    pattern = _pelican_permalink(conf)
    if pattern:
        _site_value("permalink", pattern, where, lines.get("ARTICLE_URL"), log, site, "ARTICLE_URL")
    elif "ARTICLE_URL" in conf or "ARTICLE_SAVE_AS" in conf:
        key = "ARTICLE_URL" if "ARTICLE_URL" in conf else "ARTICLE_SAVE_AS"
        log.note(
            where,
            lines.get(key),
            f"{key} = {conf[key]!r} not mapped: quire permalinks are folders "
            "built from {slug}, {year}, {month}, {day}; using /posts/{slug}/",
        )
    else:
        log.note(
            where, None, "Pelican's default article URL is /{slug}.html; quire uses /posts/{slug}/"
        )
    menu = conf.get("MENUITEMS")
    if isinstance(menu, list | tuple) and menu:
        items = [
            {"name": str(m[0]), "url": str(m[1])}
            for m in menu
            if isinstance(m, list | tuple) and len(m) == 2
        ]
        if SCHEMA["menu"][0](items) is None:
            site["menu"] = items
            log.mapped[f"{where}: MENUITEMS -> site.toml [[menu]]"] += 1
        else:
            log.note(
                where, lines.get("MENUITEMS"), f"MENUITEMS not mapped: {SCHEMA['menu'][0](items)}"
            )
    return site


def _pelican_permalink(conf: dict) -> str | None:
    url = conf.get("ARTICLE_URL")
    if not isinstance(url, str):
        save = conf.get("ARTICLE_SAVE_AS")
        if not isinstance(save, str) or not save.endswith("/index.html"):
            return None
        url = save[: -len("index.html")]
    if not url.endswith("/"):
        return None
    for token, repl in (("{date:%Y}", "{year}"), ("{date:%m}", "{month}"), ("{date:%d}", "{day}")):
        url = url.replace(token, repl)
    url = "/" + url.lstrip("/")
    return url if SCHEMA["permalink"][0](url) is None else None


def _in_paths(inner: Path, paths: Any) -> bool:
    paths = [paths] if isinstance(paths, str) else list(paths or [])
    for p in paths:
        p = str(p).strip("/")
        if p == "" or inner.as_posix() == p or inner.as_posix().startswith(p + "/"):
            return True
    return False


def _pelican_content(src: Path, content: Path, dst: Path, conf: dict, log: _Log):
    """Articles anywhere under PATH, pages under PAGE_PATHS, other files copied by their path."""
    page_paths = conf.get("PAGE_PATHS", ["pages"])
    article_paths = conf.get("ARTICLE_PATHS", [""])
    docs: list[_Doc] = []
    statics: dict[str, str] = {}
    used: dict[str, set[str]] = {"post": set(), "page": set()}
    output = (src / str(conf.get("OUTPUT_PATH", "output"))).resolve()
    for path, _ in site_files(content):
        inner = path.relative_to(content)
        rel = _rel(path, src)
        suffix = path.suffix.lower()
        if path.resolve().is_relative_to(output) or "__pycache__" in inner.parts:
            continue  # PATH = "." holds Pelican's own output and caches: not content
        if (
            content.resolve() == src
            and len(inner.parts) == 1
            and suffix in (".py", ".cfg", ".toml")
        ):
            continue  # pelicanconf.py, tasks.py... beside the content when PATH = "."
        if suffix in MARKDOWN_EXTS:
            if _in_paths(inner, page_paths):
                kind = "page"
            elif _in_paths(inner, article_paths):
                kind = "post"
            else:
                log.note(rel, None, "outside ARTICLE_PATHS and PAGE_PATHS; not converted")
                continue
            doc = _pelican_doc(src, path, inner, kind, conf, used, log)
            if doc is not None:
                docs.append(doc)
        elif suffix in OTHER_MARKUP_EXTS or (
            suffix in (".html", ".htm")
            and not _in_paths(inner, conf.get("STATIC_PATHS", ["images"]))
        ):
            log.note(
                rel,
                None,
                f"{suffix} source not converted: quire reads Markdown only (convert it by hand)",
            )
        else:
            target = dst / "content" / inner
            if inner.parts[0] in ("posts", "pages") and len(inner.parts) > 1:
                log.note(
                    rel,
                    None,
                    f"not copied: content/{inner.as_posix()} is where quire keeps posts/pages",
                )
                continue
            _copy(path, target, rel, log)
            statics[inner.as_posix()] = "/" + inner.as_posix()
    return docs, statics


_PELICAN_META = re.compile(r"^([A-Za-z][\w-]*)\s*:\s*(.*)$")


def _split_pelican(text: str) -> tuple[dict[str, str], dict[str, int], str, int]:
    """Pelican's `Key: value` header (Markdown meta rules: indented lines continue a value)."""
    text = text.replace("\r\n", "\n")
    if text.startswith("---\n"):
        meta, lines, body, body_line = _split_hugo(text)
        return {str(k).lower(): v for k, v in meta.items()}, lines, body, body_line
    meta: dict[str, Any] = {}
    lines: dict[str, int] = {}
    all_lines = text.split("\n")
    key = None
    n = 0
    for n, line in enumerate(all_lines):
        match = _PELICAN_META.match(line)
        if not line.strip():
            break
        if match:
            key = match.group(1).lower()
            meta[key] = match.group(2).strip()
            lines.setdefault(key, n + 1)
        elif key and line.startswith(("    ", "\t")):
            meta[key] = f"{meta[key]} {line.strip()}".strip()
        else:
            if n == 0:
                return {}, {}, text, 1
            break
    else:
        n = len(all_lines)
    body = "\n".join(all_lines[n:])
    return meta, lines, body.lstrip("\n"), n + 1 + (len(body) - len(body.lstrip("\n")))


_PELICAN_DATES = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d %b %Y %H:%M",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d.%m.%Y",
)


def _pelican_date(value: Any) -> Any:
    """Pelican dates are naive local times; keep them naive so site.toml timezone applies."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    for fmt in _PELICAN_DATES:
        try:
            parsed = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if "%H" in fmt else parsed.date()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text


def _pelican_doc(src, path, inner, kind, conf, used, log) -> _Doc | None:
    rel = _rel(path, src)
    try:
        meta, lines, body, body_line = _split_pelican(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        log.note(rel, None, "not UTF-8; not converted")
        return None
    except ValueError as err:
        log.note(rel, err.args[1], f"{err.args[0]}; not converted")
        return None
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if key in ("title", "slug", "summary", "author", "image"):
            out[key] = value
            log.mapped[f"{key.capitalize()} -> {key}"] += 1
        elif key == "date":
            out["date"] = _pelican_date(value)
            log.mapped["Date -> date"] += 1
        elif key == "modified":
            out["updated"] = _pelican_date(value)
            log.mapped["Modified -> updated"] += 1
        elif key == "category":
            out["category"] = str(value).strip()
            log.mapped["Category -> category"] += 1
        elif key == "tags":
            out["tags"] = _string_list(value, split=True)
            log.mapped["Tags (comma-separated) -> tags (a list)"] += 1
        elif key == "authors" and "author" not in meta:
            authors = _string_list(value, split=True)
            if authors:
                out["author"] = authors[0]
                log.mapped["Authors -> author"] += 1
            if len(authors) > 1:
                log.note(
                    rel,
                    lines.get(key),
                    f"Authors {authors}: quire keeps one author, kept the first",
                )
        elif key == "status":
            status = str(value).strip().lower()
            if status == "draft":
                out["draft"] = True
                log.mapped["Status: draft -> draft: true"] += 1
            elif status == "hidden" and kind == "post":
                out["draft"] = True
                log.note(
                    rel,
                    lines.get(key),
                    "Status: hidden imported as draft: true (quire has no unlisted "
                    "posts); set draft: false to publish it, listed",
                )
            elif status not in ("published", "hidden"):
                log.note(rel, lines.get(key), f"Status: {value} not mapped")
        else:
            out[key] = value
            if key in _PELICAN_IGNORED_FIELDS:
                log.note(
                    rel,
                    lines.get(key),
                    f"'{key}' kept but has no effect: {_PELICAN_IGNORED_FIELDS[key]}",
                )
    if not out.get("title"):
        out["title"] = path.stem.replace("-", " ").replace("_", " ").capitalize()
        log.note(rel, None, f"no Title; set to {out['title']!r}")
    if (
        kind == "post"
        and "category" not in out
        and len(inner.parts) > 1
        and conf.get("USE_FOLDER_AS_CATEGORY", True)
    ):
        out["category"] = inner.parts[0]
        log.mapped["folder -> category (USE_FOLDER_AS_CATEGORY)"] += 1
    if kind == "post" and "date" not in out:
        log.note(rel, None, "no Date: quire posts need one; imported as a page")
        kind = "page"
    if "slug" not in out:
        source = path.stem if conf.get("SLUGIFY_SOURCE") == "basename" else str(out["title"])
        out["slug"] = slugify(source)
        log.mapped["no Slug -> slug from title (as Pelican does)"] += 1
    name = _unique_name(slugify(str(out["slug"])), used[kind], "", rel, log)
    out["slug"] = name
    for key in ("date", "updated"):
        _check_date(out, key, rel, lines, log)
    if kind == "page":
        log.mapped["content/pages/* -> content/pages/*"] += 1
    return _Doc(rel, kind, name, out, body, body_line)


_PELICAN_LINK = re.compile(
    r"(\{|\|)(static|filename|attach|tag|category|author|index)(\}|\|)([^\s)\"'<>]*)"
)


def _pelican_links(doc, docs, statics, content, src, permalink, log) -> _Doc:
    """{static}/{filename}/{attach}/{tag}/{category} links become site paths where possible."""
    by_path = {_rel(src / d.rel, content): d for d in docs}
    here = posixpath.dirname(_rel(src / doc.rel, content))

    def replace(m: re.Match) -> str:
        kind, target = m.group(2), m.group(4)
        line = doc.body_line + doc.body.count("\n", 0, m.start())
        if m.group(1) == "{" and m.group(3) != "}" or m.group(1) == "|" and m.group(3) != "|":
            return m.group(0)
        cut = re.search(r"[#?]", target)
        path, suffix = (target[: cut.start()], target[cut.start() :]) if cut else (target, "")
        if kind == "index":
            return "/" + suffix
        if kind in ("tag", "category"):
            log.mapped[
                f"{{{kind}}} links -> /{'tags' if kind == 'tag' else 'categories'}/SLUG/"
            ] += 1
            return f"/{'tags' if kind == 'tag' else 'categories'}/{slugify(path)}/" + suffix
        if kind == "author":
            log.note(doc.rel, line, f"{m.group(0)}: quire has no author pages; link kept")
            return m.group(0)
        resolved = posixpath.normpath(
            path.lstrip("/") if path.startswith("/") else posixpath.join(here, path)
        )
        if kind in ("static", "attach", "filename") and resolved in statics:
            log.mapped[f"{{{kind}}} links -> site paths"] += 1
            return statics[resolved] + suffix
        if kind == "filename" and resolved in by_path:
            log.mapped["{filename} links -> site paths"] += 1
            return _doc_url(by_path[resolved], permalink) + suffix
        log.note(doc.rel, line, f"{m.group(0)}: target not found or not converted; link kept")
        return m.group(0)

    body = _PELICAN_LINK.sub(replace, doc.body)
    return _Doc(doc.rel, doc.kind, doc.name, doc.meta, body, doc.body_line, doc.bundle)


# --------------------------------------------------------------------------- CLI

IMPORTERS: dict[str, Callable[..., ImportReport]] = {"hugo": import_hugo, "pelican": import_pelican}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """`quire import hugo|pelican SRC --site DST [--force]`."""
    parser = subparsers.add_parser(
        "import",
        help="convert a Hugo or Pelican site into a quire site",
        description="Convert a Hugo or Pelican site folder into a new quire site folder. "
        "SRC is only read; DST must be empty unless --force.",
    )
    parser.add_argument(
        "flavour", choices=sorted(IMPORTERS), help="the generator SRC was written for"
    )
    parser.add_argument("src", type=Path, help="the Hugo or Pelican site folder")
    parser.add_argument("--site", type=Path, required=True, help="the quire site folder to write")
    parser.add_argument("--force", action="store_true", help="write into a non-empty --site folder")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """0 when the site was written (read the report for what needs a hand), 2 when refused."""
    try:
        report = IMPORTERS[args.flavour](Path(args.src), Path(args.site), force=args.force)
    except ImportRefused as err:
        print(f"quire import: {err}", file=sys.stderr)
        return 2
    print(report.render())
    return 0
