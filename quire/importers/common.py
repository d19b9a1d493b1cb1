"""What every `quire import` shares: one skeleton, `run_import`, driven by a `Source`.

The source folder is only ever read. Everything that maps cleanly is converted; everything
else is kept where harmless and always listed as `path:line: message`, so a move never
loses content silently.

`run_import(src, dst, SourceClass, force)` does the same steps for every generator: refuse an
unsafe DST, read the config into site settings, find and convert the documents, rewrite
their bodies once all are known, write them, copy data and static folders, note leftovers,
write site.toml and freeze the report. A `Source` subclass only maps fields.

Adding an importer (say Jekyll) is one module, quire/importers/jekyll.py:

    class JekyllSource(Source):
        flavour, label = "jekyll", "Jekyll"
        FIELDS = {"title": rename("title", "title -> title"), ...}  # key -> Rule
        IGNORED_FIELDS = {"layout": ONE_TEMPLATE}  # kept as is, noted with the reason
        # split = staticmethod(...) only if its front matter is not YAML/TOML/JSON

        def site(self) -> dict: ...  # read _config.yml; site_value() each setting
        def documents(self) -> list[Doc]: ...  # walk _posts/: front_matter(path, "post"),
                                               # unique_name(), check_dates(), Doc(...)
        def static_folders(self): return ["assets"]

then one line in quire/importers/__init__.py's SOURCES. `rewrite`, `data` and `leftovers`
default to doing nothing. A Rule is `rename(to, label, convert, unless)` or a function
(fields, key, value) -> bool for a key that maps by its value (see hugo._categories).
Everything a source finds that does not map goes to `self.log.note(path, line, message)`;
the report prints those as quire.problems.Problem lines.
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import re
import shutil
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from quire import defaults
from quire.config import DEFAULT_PERMALINK, SCHEMA
from quire.files import site_files
from quire.index.taxonomy import slugify
from quire.problems import Problem, key_lines
from quire.read.content import clean_site_path, parse_date, post_url, slug_for
from quire.urls import own_path

MARKDOWN_EXTS = {".md", ".markdown", ".mdown", ".mkd", ".mkdn"}
OTHER_MARKUP_EXTS = {".rst", ".adoc", ".asciidoc", ".org", ".pandoc", ".pdc", ".ipynb"}
# the shortcodes quire ships (quire/defaults/templates/shortcodes/)
QUIRE_SHORTCODES = {p.stem for p in (defaults.TEMPLATES / "shortcodes").glob("*.html")}
FIELD_ORDER = ("title", "date", "updated", "slug", "tags", "category", "categories", "summary")
FIELD_ORDER += ("draft", "author", "image")


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
    notes: tuple[Problem, ...] = ()
    label: str = ""

    def render(self) -> str:
        out = [
            f"Imported a {self.label or self.flavour} site from {self.src} into {self.dst}",
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
class Log:
    """The report while it is being collected; frozen into ImportReport at the end."""

    posts: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)
    mapped: Counter = field(default_factory=Counter)
    notes: list[Problem] = field(default_factory=list)

    def note(self, path: str, line: int | None, message: str) -> None:
        self.notes.append(Problem(path, line, message))

    def freeze(self, source: Source) -> ImportReport:
        return ImportReport(
            source.flavour,
            str(source.src),
            str(source.dst),
            tuple(self.posts),
            tuple(self.pages),
            tuple(self.copied),
            tuple(self.mapped.items()),
            tuple(self.notes),
            source.label,
        )


@dataclass(frozen=True)
class Doc:
    """A Markdown source on its way out: post or page, output name (= slug), new front matter."""

    rel: str
    kind: str
    name: str
    meta: dict
    body: str
    body_line: int
    bundle: Path | None = None
    source_url: str | None = None  # the URL the source generator published it at
    aliases: tuple[str, ...] = ()  # other URLs it answered at (Hugo aliases, a SAVE_AS)


def prepare(src: Path, dst: Path, force: bool) -> tuple[Path, Path]:
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


# --------------------------------------------------------------------------- documents


def read_document(
    path: Path, shown: str, split: Callable[[str], tuple], log: Log
) -> tuple[dict, dict[str, int], str, int] | None:
    """(front matter, key lines, body, body's first line), or None (noted) when unreadable."""
    try:
        meta, lines, body, body_line = split(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        log.note(shown, None, "not UTF-8; not converted")
        return None
    except ValueError as err:
        log.note(shown, err.args[1], f"{err.args[0]}; not converted")
        return None
    if not isinstance(meta, dict):
        log.note(shown, 1, "front matter is not key: value pairs; not converted")
        return None
    return meta, lines, body, body_line


_FM_YAML = re.compile(r"^---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.S | re.M)
_FM_TOML = re.compile(r"^\+\+\+[ \t]*\n(.*?)^\+\+\+[ \t]*$\n?", re.S | re.M)


def split_front_matter(text: str) -> tuple[dict, dict[str, int], str, int]:
    """YAML (---), TOML (+++) or JSON ({) front matter: (front matter, key lines, body,
    body's first line). Raises ValueError(message, line)."""
    text = text.replace("\r\n", "\n")
    for pattern, load in ((_FM_YAML, yaml.safe_load), (_FM_TOML, tomllib.loads)):
        match = pattern.match(text)
        if match:
            meta = _load_front_matter(match.group(1), load)
            body_line = match.group(0).count("\n") + 1
            lines = key_lines(match.group(1), 2, fold_case=True)
            return meta, lines, text[match.end() :], body_line
    if text.startswith("{"):
        try:
            meta, end = json.JSONDecoder().raw_decode(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"cannot read JSON front matter: {err}", err.lineno) from err
        head = text[:end]
        return meta, key_lines(head, fold_case=True), text[end:], head.count("\n") + 1
    return {}, {}, text, 1


def _load_front_matter(text: str, load: Callable[[str], Any]) -> Any:
    try:
        return load(text) or {}
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = 2 + (mark.line if mark else 0)
        raise ValueError(f"cannot read YAML front matter: {err.problem}", line) from err
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as err:
        found = re.search(r"line (\d+)", str(err))
        line = 1 + int(found.group(1)) if found else 1
        reason = str(err).split(" (at line")[0]
        raise ValueError(f"cannot read front matter: {reason}", line) from err


# --------------------------------------------------------------------------- front matter


@dataclass
class Fields:
    """One document's front matter on its way through a source's FIELDS rules."""

    rel: str
    lines: dict[str, int]
    log: Log
    present: set[str]
    kind: str = ""
    out: dict[str, Any] = field(default_factory=dict)

    def put(self, to: str, value: Any, label: str | None) -> None:
        self.out[to] = value
        if label:
            self.log.mapped[label] += 1

    def note(self, key: str, message: str) -> None:
        self.log.note(self.rel, self.lines.get(key.lower()), message)


# Why quire ignores a front matter key, where generators share the reason.
URL_FROM_SLUG = "quire builds URLs from site.toml permalink and the slug"
ONE_TEMPLATE = "quire has one post template"
ONE_LANGUAGE = "quire sites have one language"


@dataclass(frozen=True)
class Mapped:
    """A document read and its front matter mapped: what the source decides kind and name by."""

    meta: dict[str, Any]
    lines: dict[str, int]
    body: str
    body_line: int


# A rule maps one source key: it fills Fields.out (and the report) and returns True, or
# returns False to keep the key as it is.
Rule = Callable[[Fields, str, Any], bool]


def _same(value: Any) -> Any:
    return value


def rename(to: str, label: str, convert: Callable[[Any], Any] = _same, unless: str = "") -> Rule:
    """key -> `to` (value through `convert`), reported as `label` ({key}: the key as written);
    not applied when the document also has `unless` (that key wins, this one is kept)."""

    def rule(fields: Fields, key: str, value: Any) -> bool:
        if unless and unless in fields.present:
            return False
        fields.put(to, convert(value), label.format(key=key))
        return True

    return rule


def first_author(label: str, shown: str, split: bool) -> Rule:
    """A list of authors -> author (the first), unless the document names `author`."""

    def rule(fields: Fields, key: str, value: Any) -> bool:
        if "author" in fields.present:
            return False
        authors = string_list(value, split=split)
        if authors:
            fields.put("author", authors[0], label)
        if len(authors) > 1:
            fields.note(key, f"{shown} {authors}: quire keeps one author, kept the first")
        return True

    return rule


def map_fields(fields: Fields, meta: dict, rules: dict[str, Rule], ignored: dict[str, str]):
    """Every key through its rule (by lower-case name); the rest kept, noted when quire
    ignores it. Returns the new front matter."""
    for key, value in meta.items():
        rule = rules.get(key.lower())
        if rule is None or not rule(fields, key, value):
            fields.out[key] = value
            if key.lower() in ignored:
                fields.note(key, f"'{key}' kept but has no effect: {ignored[key.lower()]}")
    return fields.out


def string_list(value: Any, split: bool) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    if not isinstance(value, str):
        return [str(value)]
    if not split:
        return [value.strip()] if value.strip() else []
    sep = ";" if ";" in value else ","
    return [v.strip() for v in value.split(sep) if v.strip()]


def check_dates(meta: dict, rel: str, lines: dict[str, int], log: Log) -> None:
    """Dates quire cannot read would stop its build: say so now, by line."""
    for key in ("date", "updated"):
        if key in meta and parse_date(meta[key]) is None:
            message = f"cannot read {key} {meta[key]!r} as a date; quire will refuse it"
            log.note(rel, lines.get(key), message)


def title_from(stem: str) -> str:
    return stem.replace("-", " ").replace("_", " ").capitalize()


def unique_name(name: str, used: set[str], prefix: str, rel: str, log: Log) -> str:
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


def doc_url(doc: Doc, permalink: str) -> str:
    """The URL quire will give the written document (its `url:` if it has one)."""
    if doc.meta.get("url"):
        path, _ = clean_site_path(doc.meta["url"])
        if path:
            return path
    return quire_url(doc, permalink)


def quire_url(doc: Doc, permalink: str) -> str:
    """The URL quire's permalink gives the written document, ignoring its `url:`."""
    date = parse_date(doc.meta.get("date")) if doc.kind == "post" else None
    categories = string_list(doc.meta.get("categories") or doc.meta.get("category"), False)
    return post_url(
        doc.kind,
        slug_for(doc.meta.get("slug"), doc.name),
        date,
        permalink,
        category=slugify(categories[0]) if categories else "",
        filename=doc.name,
    )


def site_image(value: Any, base_url: str | None) -> Any:
    """An image field as quire accepts it: relative paths resolved against `base_url` (the
    post's own folder URL, for a bundle) or else the site root, as themes print them;
    protocol-relative //host/x becomes https://host/x."""
    if not isinstance(value, str) or not value.strip():
        return value
    text = value.strip()
    if text.startswith("//"):
        return "https:" + text
    if text.startswith(("/", "http://", "https://", "data:")) or ":" in text.split("/")[0]:
        return text
    base = base_url if base_url and base_url.endswith("/") else "/"
    return posixpath.normpath(base + text.removeprefix("./"))


def with_body(doc: Doc, body: str) -> Doc:
    return replace(doc, body=body)


def keep_urls(docs: list[Doc], permalink: str, log: Log) -> list[Doc]:
    """Every document keeps the URL its generator published it at: `url:` where quire's
    permalink would give another; its other URLs (and a URL that had to change) become
    `aliases:`, each a redirect page."""
    out = []
    taken: set[str] = set()
    for doc in docs:
        meta = dict(doc.meta)
        meta.pop("url", None)
        default = quire_url(replace(doc, meta=meta), permalink)
        url = doc.source_url or default
        aliases = list(doc.aliases)
        if own := own_path(url):
            moved = _free_url(url, taken)
            message = f"URL {url} is taken by quire's own page {own}: moved to {moved}"
            log.note(doc.rel, None, message + " (no redirect: quire's page stays there)")
            url = moved
        if url in taken:
            moved = _free_url(url, taken)
            log.note(doc.rel, None, f"URL {url} is another document's too: moved to {moved}")
            url = moved
        taken.add(url)
        if url != default:
            meta["url"] = url
            log.mapped["URL kept as the source published it -> url:"] += 1
        aliases = [a for a in dict.fromkeys(aliases) if a != url and not own_path(a)]
        if aliases:
            meta["aliases"] = aliases
            log.mapped["old URLs -> aliases: (redirect pages)"] += len(aliases)
        else:
            meta.pop("aliases", None)
        out.append(replace(doc, meta=meta))
    return out


def _free_url(url: str, taken: set[str]) -> str:
    stem, html = (url[:-5], ".html") if url.endswith(".html") else (url.rstrip("/"), "/")
    n = 1
    candidate = f"{stem}-page{html}"
    while candidate in taken or own_path(candidate):
        n += 1
        candidate = f"{stem}-page-{n}{html}"
    return candidate


# --------------------------------------------------------------------------- the skeleton


class Source:
    """One generator's mapping; see the module docstring. `run_import` calls, in order:
    site(), documents(), rewrite(), data(), static_folders(), leftovers()."""

    flavour = ""  # the CLI name: `quire import FLAVOUR`
    label = ""  # the report's name for the generator
    config_name = "site.toml"  # where the site settings came from (notes, site.toml header)
    FIELDS: dict[str, Rule] = {}  # front matter key (lower case) -> how it maps
    # front matter keys kept as they are, but noted: key (lower case) -> why quire ignores it
    IGNORED_FIELDS: dict[str, str] = {}
    split = staticmethod(split_front_matter)  # text -> (front matter, key lines, body, body line)

    def __init__(self, src: Path, dst: Path, log: Log):
        self.src, self.dst, self.log = src, dst, log

    def site(self) -> dict:
        """The config read into site.toml settings (checked by `site_value`)."""
        return {}

    def documents(self) -> list[Doc]:
        """The Markdown sources as Docs; files that travel with them are copied here."""
        return []

    def rewrite(self, docs: list[Doc], permalink: str) -> list[Doc]:
        """Bodies rewritten once every document's URL is known (links, shortcodes)."""
        return docs

    def data(self) -> None:
        """Data files that become quire's (the product catalogue); runs after the documents."""

    def static_folders(self) -> Iterable[str]:
        """Folders under SRC copied as is into content/ (same URLs)."""
        return ()

    def leftovers(self) -> None:
        """Notes on what a generator has that quire does not take (themes, layouts)."""

    def rel(self, path: Path) -> str:
        return rel(path, self.src)

    def front_matter(self, path: Path, kind: str = "") -> Mapped | None:
        """Read one document with `split` and map its front matter by FIELDS (None: it could
        not be read, and the log says why)."""
        shown = self.rel(path)
        read = read_document(path, shown, type(self).split, self.log)
        if read is None:
            return None
        meta, lines, body, body_line = read
        fields = Fields(shown, lines, self.log, {str(k).lower() for k in meta}, kind)
        return Mapped(
            map_fields(fields, meta, self.FIELDS, self.IGNORED_FIELDS), lines, body, body_line
        )


def run_import(
    src: Path, dst: Path, source_class: type[Source], force: bool = False
) -> ImportReport:
    """SRC (another generator's site) -> DST (a new quire site); returns the ImportReport."""
    src, dst = prepare(src, dst, force)
    log = Log()
    source = source_class(src, dst, log)
    site = source.site()
    permalink = site.get("permalink", DEFAULT_PERMALINK)
    docs = keep_urls(source.documents(), permalink, log)
    docs = source.rewrite(docs, permalink)
    write_docs(dst, docs, log)
    source.data()
    for folder in source.static_folders():
        copy_static(src, folder, dst, log)
    source.leftovers()
    write_site(dst, site, source.config_name, log)
    return log.freeze(source)


# --------------------------------------------------------------------------- site settings


def site_value(
    key: str, value: Any, where: str, line: int | None, log: Log, site: dict, what: str
) -> None:
    """Keep a site.toml value only if quire's own schema accepts it."""
    error = SCHEMA[key](value)
    if error:
        log.note(where, line, f"{what} = {value!r} not mapped: quire's {key} {error}")
    else:
        site[key] = value
        log.mapped[f"{where}: {what} -> site.toml {key}"] += 1


def site_menu(items: list[dict], where: str, what: str, site: dict, log: Log) -> str | None:
    """[[menu]] entries when quire's schema accepts them; else the schema's complaint."""
    error = SCHEMA["menu"](items)
    if error is None:
        site["menu"] = items
        log.mapped[f"{where}: {what} -> site.toml [[menu]]"] += 1
    return error


# --------------------------------------------------------------------------- writing


def rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def copy(source: Path, target: Path, label: str, log: Log) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    log.copied.append(label)


def copy_static(src: Path, folder: str, dst: Path, log: Log) -> None:
    """SRC/folder/* -> content/* (same URLs), never over converted posts and pages."""
    static = src / folder
    if not static.is_dir():
        return
    content = dst / "content"
    count = 0
    for path, _ in site_files(static):
        target = content / path.relative_to(static)
        shown = rel(path, src)
        if target.exists() or target.relative_to(content).parts[0] in ("posts", "pages"):
            log.note(
                shown,
                None,
                f"not copied: content/{target.relative_to(content).as_posix()} "
                "is taken by converted content",
            )
            continue
        copy(path, target, shown, log)
        count += 1
    if count:
        log.mapped[f"{folder}/* -> content/* (copied as is, same URLs)"] += count


def plain(value: Any) -> Any:
    """Values yaml.safe_dump can write (TOML times, tuples and the like become text or lists)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.time):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool | dt.date):
        return value
    return str(value)


def _ordered(meta: dict) -> dict:
    first = {k: meta[k] for k in FIELD_ORDER if k in meta}
    return first | {k: v for k, v in meta.items() if k not in first}


def _front_matter_text(meta: dict, body: str) -> str:
    dumped = yaml.safe_dump(plain(_ordered(meta)), sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{dumped}---\n\n{body.lstrip(chr(10))}"


def write_docs(dst: Path, docs: list[Doc], log: Log) -> None:
    for doc in docs:
        folder = dst / "content" / ("posts" if doc.kind == "post" else "pages")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{doc.name}.md").write_text(
            _front_matter_text(doc.meta, doc.body), encoding="utf-8"
        )
        (log.posts if doc.kind == "post" else log.pages).append(doc.rel)


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


def write_site(dst: Path, site: dict, where: str, log: Log) -> None:
    if "title" not in site:
        site["title"] = dst.name or "My Site"
        log.note(where, None, f"no site title found; site.toml title set to {site['title']!r}")
    lines = [f"# Written by `quire import` from {where}; see README 'Moving from Hugo or Pelican'."]
    tables = {}
    for key, value in site.items():
        if isinstance(value, dict):
            tables[key] = value
        elif key != "menu":
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
