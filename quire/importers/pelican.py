"""`quire import pelican`: what a Pelican site's settings, content and headers map to.

pelicanconf.py is parsed (literal assignments only), never run.
"""

from __future__ import annotations

import ast
import datetime as dt
import posixpath
import re
import unicodedata
from functools import partial
from pathlib import Path
from typing import Any

from quire.config import PYMD_EXTENSIONS, SCHEMA
from quire.files import site_files
from quire.importers import common
from quire.importers.common import Doc, Fields, ImportReport, Log, Rule, Source
from quire.index.taxonomy import slugify
from quire.render.shortcodes import code_ranges

CONF = "pelicanconf.py"
_SITE_KEYS = {
    "SITENAME": "title",
    "SITEURL": "base_url",
    "AUTHOR": "author",
    "SITESUBTITLE": "description",
    "DEFAULT_PAGINATION": "posts_per_page",
    "TIMEZONE": "timezone",
    "DEFAULT_LANG": "language",
    "FEED_MAX_ITEMS": "feed_size",
}
_USED = {"PATH", "PAGE_PATHS", "ARTICLE_PATHS", "STATIC_PATHS", "ARTICLE_URL", "ARTICLE_SAVE_AS"}
_USED |= {"MENUITEMS", "USE_FOLDER_AS_CATEGORY", "SLUGIFY_SOURCE", "PAGE_EXCLUDES"}
_USED |= {"ARTICLE_EXCLUDES", "PAGE_URL", "PAGE_SAVE_AS", "DEFAULT_CATEGORY", "EXTRA_PATH_METADATA"}
_USED |= {"MARKDOWN", "OUTPUT_PATH", "TYPOGRIFY", "ARTICLE_LANG_URL", "ARTICLE_LANG_SAVE_AS"}
_USED |= {"PAGE_LANG_URL", "PAGE_LANG_SAVE_AS"}
# Pelican's defaults for the settings that decide URLs
_PELICAN_EXTENSIONS = (
    "markdown.extensions.codehilite",
    "markdown.extensions.extra",
    "markdown.extensions.meta",
)
_URL_DEFAULTS = {
    "ARTICLE_URL": "{slug}.html",
    "ARTICLE_SAVE_AS": "{slug}.html",
    "PAGE_URL": "pages/{slug}.html",
    "PAGE_SAVE_AS": "pages/{slug}.html",
    "ARTICLE_LANG_URL": "{slug}-{lang}.html",
    "ARTICLE_LANG_SAVE_AS": "{slug}-{lang}.html",
    "PAGE_LANG_URL": "pages/{slug}-{lang}.html",
    "PAGE_LANG_SAVE_AS": "pages/{slug}-{lang}.html",
}
_PERMALINK_TOKENS = (("{date:%Y}", "{year}"), ("{date:%m}", "{month}"), ("{date:%d}", "{day}"))


def import_pelican(src: Path, dst: Path, force: bool = False) -> ImportReport:
    """Pelican site folder -> quire site folder. pelicanconf.py is parsed, never run."""
    return common.run_import(src, dst, PelicanSource, force)


# --------------------------------------------------------------------------- pelicanconf.py


def read_pelicanconf(
    path: Path, log: Log, quiet: bool = False
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
        targets, value = _assignment(node)
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if value is not None and names:
            try:
                literal = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                message = f"{', '.join(names)} is not a literal value; not evaluated"
                log.note(path.name, node.lineno, message)
                continue
            for name in names:
                values[name], lines[name] = literal, node.lineno
        elif message := _statement_note(node, quiet):
            log.note(path.name, node.lineno, message)
    return values, lines


def _assignment(node: ast.stmt) -> tuple[list[ast.expr], ast.expr | None]:
    if isinstance(node, ast.Assign):
        return node.targets, node.value
    if isinstance(node, ast.AnnAssign) and node.value is not None:
        return [node.target], node.value
    return [], None


def _statement_note(node: ast.stmt, quiet: bool) -> str | None:
    """What to say about a statement that is not a literal assignment (None: nothing)."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return None  # a docstring
    if isinstance(node, ast.Import | ast.ImportFrom):
        from_conf = isinstance(node, ast.ImportFrom) and node.module == "pelicanconf"
        if quiet and from_conf:
            return None  # publishconf.py's `from pelicanconf import *`
        return "import not followed: settings files are parsed, not run"
    return f"{type(node).__name__.lower()} statement not executed"


def _setting_note(key: str, value: Any) -> str | None:
    """Why a setting quire has is not taken as it stands (None: it is)."""
    if key == "SITEURL" and value == "":
        return "SITEURL is empty (a development value); set base_url in site.toml"
    if key == "DEFAULT_PAGINATION" and value is False:
        return "DEFAULT_PAGINATION = False: quire always paginates (posts_per_page)"
    return None


def _permalink(conf: dict) -> str | None:
    url = conf.get("ARTICLE_URL", _URL_DEFAULTS["ARTICLE_URL"])
    if not isinstance(url, str):
        return None
    for token, repl in _PERMALINK_TOKENS:
        url = url.replace(token, repl)
    url = "/" + url.lstrip("/")
    return url if SCHEMA["permalink"](url) is None else None


def _in_paths(inner: Path, paths: Any) -> bool:
    paths = [paths] if isinstance(paths, str) else list(paths or [])
    for p in paths:
        p = str(p).strip("/")
        if p == "" or inner.as_posix() == p or inner.as_posix().startswith(p + "/"):
            return True
    return False


# --------------------------------------------------------------------------- headers

_META = re.compile(r"^([A-Za-z][\w-]*)\s*:\s*(.*)$")


def split_pelican(text: str) -> tuple[dict[str, Any], dict[str, int], str, int]:
    """Pelican's `Key: value` header (Markdown meta rules: indented lines continue a value)."""
    text = text.replace("\r\n", "\n")
    if text.startswith("---\n"):
        meta, lines, body, body_line = common.split_front_matter(text)
        if isinstance(meta, dict):
            meta = {str(k).lower(): v for k, v in meta.items()}
        return meta, lines, body, body_line
    meta: dict[str, Any] = {}
    lines: dict[str, int] = {}
    all_lines = text.split("\n")
    key = None
    n = 0
    for n, line in enumerate(all_lines):
        match = _META.match(line)
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


_DATES = (
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


def pelican_slugify(text: str) -> str:
    """Pelican's default slugify: ASCII, lower case, word characters (underscores kept)
    and '-', runs of spaces and dashes to one '-'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text.lower()).strip()
    return re.sub(r"[-\s]+", "-", text)


_ORDINAL = re.compile(r"(\d)(st|nd|rd|th)\b", re.I)
_SEPT = re.compile(r"\bSept\b", re.I)
_WEEKDAY = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", re.I)
_FREE_FORMS = (
    "%d %B %Y",
    "%d %b %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%m-%d-%Y %H:%M",
    "%m-%d-%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d-%m-%Y %H:%M",  # month first failed: day first, as dateutil then reads it
    "%d-%m-%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d %B %Y %H:%M",
    "%B %d %Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d.%m.%Y",
)


def free_form_date(text: str) -> dt.datetime | dt.date | None:
    """The free-form dates Pelican's dateutil reading accepts and quire's does not:
    '21st of July 2025', 'Thu 9th of October 2025', '07-19-2023 13:00' (month first, as
    dateutil reads it). ISO dates are left alone (None), and so is what this cannot read."""
    value = text.strip()
    if common.parse_date(value) is not None and value[:4].isdigit():
        return None
    cleaned = _WEEKDAY.sub("", value)
    cleaned = _SEPT.sub("Sep", _ORDINAL.sub(r"\1", cleaned))
    cleaned = re.sub(r"\bof\b|,", " ", cleaned, flags=re.I)
    cleaned = " ".join(cleaned.split())
    return _first_format(cleaned, _FREE_FORMS)


def _first_format(text: str, formats) -> dt.datetime | dt.date | None:
    """text read by the first format that fits: a datetime when it has a time, else a date."""
    for fmt in formats:
        try:
            parsed = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if "%H" in fmt else parsed.date()
    return None


def pelican_date(value: Any) -> Any:
    """Pelican dates are naive local times; keep them naive so site.toml timezone applies."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if (parsed := _first_format(text, _DATES)) is not None:
        return parsed
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text


def _status(fields: Fields, key: str, value: Any) -> bool:
    status = str(value).strip().lower()
    if status == "draft":
        fields.put("draft", True, "Status: draft -> draft: true")
    elif status == "hidden" and fields.kind == "post":
        fields.put("draft", True, None)
        fields.note(
            key,
            "Status: hidden imported as draft: true (quire has no unlisted "
            "posts); set draft: false to publish it, listed",
        )
    elif status not in ("published", "hidden"):
        fields.note(key, f"Status: {value} not mapped")
    return True


_tag_list = partial(common.string_list, split=True)
_FIELDS: dict[str, Rule] = {
    key: common.rename(key, f"{key.capitalize()} -> {key}")
    for key in ("title", "slug", "summary", "author", "image")
}
_FIELDS |= {
    "date": common.rename("date", "Date -> date", pelican_date),
    "modified": common.rename("updated", "Modified -> updated", pelican_date),
    "category": common.rename("category", "Category -> category", lambda v: str(v).strip()),
    "tags": common.rename("tags", "Tags (comma-separated) -> tags (a list)", _tag_list),
    "authors": common.first_author("Authors -> author", "Authors", split=True),
    "status": _status,
}
_IGNORED_FIELDS = {
    "lang": common.ONE_LANGUAGE,
    "translation": common.ONE_LANGUAGE,
    "template": common.ONE_TEMPLATE,
}


class PelicanSource(Source):
    """Articles anywhere under PATH become posts, PAGE_PATHS pages; every other file under
    PATH is copied by its path; {filename}/{static}/... links become site paths."""

    flavour, label = "pelican", "Pelican"
    FIELDS, IGNORED_FIELDS = _FIELDS, _IGNORED_FIELDS
    split = staticmethod(split_pelican)
    config_name = CONF

    def __init__(self, src: Path, dst: Path, log: Log):
        super().__init__(src, dst, log)
        self.conf, self.lines = read_pelicanconf(src / CONF, log)
        self.content = src / str(self.conf.get("PATH", "content"))
        self.statics: dict[str, str] = {}
        self.saved_at: dict[str, str] = {}  # doc.rel -> the file an explicit save_as wrote
        self.used: dict[str, set[str]] = {"post": set(), "page": set()}

    # ----------------------------------------------------------------------- site

    def site(self) -> dict:
        publish, publish_lines = read_pelicanconf(self.src / "publishconf.py", self.log, True)
        site: dict[str, Any] = {}
        for key, value in self.conf.items():
            self._setting(key, value, publish, site)
        if isinstance(publish.get("SITEURL"), str) and publish["SITEURL"]:
            url = publish["SITEURL"].rstrip("/") + "/"
            line = publish_lines.get("SITEURL")
            common.site_value("base_url", url, "publishconf.py", line, self.log, site, "SITEURL")
        self._permalink(site)
        self._menu(site)
        self._markdown(site)
        return site

    def _markdown(self, site: dict) -> None:
        """Bodies render as Pelican rendered them: Python-Markdown with the site's extensions
        (Pelican's default: codehilite, extra, meta) and no smart punctuation (TYPOGRIFY)."""
        conf = self.conf.get("MARKDOWN")
        names: list[str] = []
        if isinstance(conf, dict):
            names += [str(e) for e in conf.get("extensions", ()) if isinstance(e, str)]
            configs = conf.get("extension_configs")
            names += (
                [str(k) for k in configs if str(k) not in names]
                if isinstance(configs, dict)
                else []
            )
        else:
            names = list(_PELICAN_EXTENSIONS)
        known = [n for n in names if n.removeprefix("markdown.extensions.") in PYMD_EXTENSIONS]
        for name in names:
            if name not in known:
                self.log.note(
                    CONF,
                    self.lines.get("MARKDOWN"),
                    f"Markdown extension {name!r} not carried over: quire's python-markdown "
                    "engine takes Python-Markdown's own extensions only",
                )
        names = known
        site["markdown"] = {
            "engine": "python-markdown",
            "smart": self.conf.get("TYPOGRIFY") is True,
            "extensions": names,
        }
        where = "MARKDOWN" if isinstance(conf, dict) else "Pelican's default MARKDOWN"
        self.log.mapped[f"{CONF}: {where} -> site.toml [markdown] python-markdown"] += 1

    def _setting(self, key: str, value: Any, publish: dict, site: dict) -> None:
        line = self.lines.get(key)
        if key in _SITE_KEYS:
            if key == "SITEURL" and publish.get("SITEURL"):
                return  # publishconf.py's wins
            if message := _setting_note(key, value):
                self.log.note(CONF, line, message)
                return
            if key == "SITEURL" and isinstance(value, str) and not value.endswith("/"):
                value += "/"
            common.site_value(_SITE_KEYS[key], value, CONF, line, self.log, site, key)
        elif "FEED" in key:
            if value not in (None, False, ""):
                message = (
                    f"{key} not mapped: quire writes one site feed (feed_size sets its length)"
                )
                self.log.note(CONF, line, message)
        elif key not in _USED:
            self.log.note(CONF, line, f"{key} not mapped")

    def _permalink(self, site: dict) -> None:
        conf, lines = self.conf, self.lines
        pattern = _permalink(conf)
        if pattern:
            common.site_value(
                "permalink", pattern, CONF, lines.get("ARTICLE_URL"), self.log, site, "ARTICLE_URL"
            )
        else:
            key = "ARTICLE_URL"
            self.log.note(
                CONF,
                lines.get(key),
                f"{key} = {conf.get(key)!r} has no quire permalink equivalent: every post "
                "keeps its URL through its own url: front matter",
            )

    def _menu(self, site: dict) -> None:
        menu = self.conf.get("MENUITEMS")
        if not isinstance(menu, list | tuple) or not menu:
            return
        items = [
            {"name": str(m[0]), "url": str(m[1])}
            for m in menu
            if isinstance(m, list | tuple) and len(m) == 2
        ]
        if error := common.site_menu(items, CONF, "MENUITEMS", site, self.log):
            self.log.note(CONF, self.lines.get("MENUITEMS"), f"MENUITEMS not mapped: {error}")

    # ----------------------------------------------------------------------- documents

    def documents(self) -> list[Doc]:
        content = self.content
        if not content.is_dir() or not content.resolve().is_relative_to(self.src):
            message = f"content folder {self.conf.get('PATH', 'content')!r} not found"
            self.log.note(CONF, self.lines.get("PATH"), message)
            return []
        output = (self.src / str(self.conf.get("OUTPUT_PATH", "output"))).resolve()
        docs = []
        for path, _ in site_files(content):
            inner = path.relative_to(content)
            if path.resolve().is_relative_to(output) or "__pycache__" in inner.parts:
                continue  # PATH = "." holds Pelican's own output and caches: not content
            if self._is_settings(inner):
                continue  # pelicanconf.py, tasks.py... beside the content when PATH = "."
            doc = self._content_file(path, inner)
            if doc is not None:
                docs.append(doc)
        return docs

    def _is_settings(self, inner: Path) -> bool:
        return (
            self.content.resolve() == self.src
            and len(inner.parts) == 1
            and inner.suffix.lower() in (".py", ".cfg", ".toml")
        )

    def _content_file(self, path: Path, inner: Path) -> Doc | None:
        """Articles anywhere under PATH, pages under PAGE_PATHS, other files copied by path."""
        shown, suffix, conf = self.rel(path), path.suffix.lower(), self.conf
        if suffix in common.MARKDOWN_EXTS:
            if _in_paths(inner, conf.get("PAGE_PATHS", ["pages"])):
                return self._document(path, inner, "page")
            if _in_paths(inner, conf.get("ARTICLE_PATHS", [""])):
                return self._document(path, inner, "post")
            self.log.note(shown, None, "outside ARTICLE_PATHS and PAGE_PATHS; not converted")
        elif suffix in common.OTHER_MARKUP_EXTS or (
            suffix in (".html", ".htm")
            and not _in_paths(inner, conf.get("STATIC_PATHS", ["images"]))
        ):
            message = (
                f"{suffix} source not converted: quire reads Markdown only (convert it by hand)"
            )
            self.log.note(shown, None, message)
        elif inner.parts[0] in ("posts", "pages") and len(inner.parts) > 1:
            message = f"not copied: content/{inner.as_posix()} is where quire keeps posts/pages"
            self.log.note(shown, None, message)
        else:
            target = self._extra_path(inner)
            common.copy(path, self.dst / "content" / target, shown, self.log)
            self.statics[inner.as_posix()] = "/" + target
        return None

    def _extra_path(self, inner: Path) -> str:
        """Where Pelican publishes a static file: EXTRA_PATH_METADATA's path, else its own."""
        extra = self.conf.get("EXTRA_PATH_METADATA")
        meta = extra.get(inner.as_posix()) if isinstance(extra, dict) else None
        target = meta.get("path") if isinstance(meta, dict) else None
        if isinstance(target, str) and target.strip("/") and ".." not in target.split("/"):
            self.log.mapped["EXTRA_PATH_METADATA path -> published there"] += 1
            return target.strip("/")
        return inner.as_posix()

    def _document(self, path: Path, inner: Path, kind: str) -> Doc | None:
        shown, log, conf = self.rel(path), self.log, self.conf
        mapped = self.front_matter(path, kind)
        if mapped is None:
            return None
        out = mapped.meta
        if not out.get("title"):
            out["title"] = common.title_from(path.stem)
            log.note(shown, None, f"no Title; set to {out['title']!r}")
        if kind == "post" and "category" not in out and len(inner.parts) > 1:
            self._folder_category(out, inner)
        if kind == "post" and "date" not in out:
            log.note(shown, None, "no Date: quire posts need one; imported as a page")
            kind = "page"
        if "slug" not in out or not str(out["slug"]).strip():
            source = path.stem if conf.get("SLUGIFY_SOURCE") == "basename" else str(out["title"])
            out["slug"] = pelican_slugify(source)
            log.mapped["no Slug -> slug from title (as Pelican does)"] += 1
        pelican_slug = str(out["slug"]).strip()
        if kind == "post" and not out.get("category"):
            out["category"] = str(conf.get("DEFAULT_CATEGORY", "misc"))
            log.mapped["no Category -> DEFAULT_CATEGORY"] += 1
        self._date(out, shown, mapped.lines)
        for key in ("cover", "image", "thumbnail", "featured_image", "og_image"):
            if (fixed := common.site_image(out.get(key), None)) != out.get(key):
                out[key] = fixed
                log.mapped[f"relative {key}: -> site path (as themes print it after SITEURL/)"] += 1
        wanted = common.slug_for(pelican_slug, path.stem) or slugify(path.stem) or "untitled"
        name = common.unique_name(wanted, self.used[kind], "", shown, log)
        if name != pelican_slug:
            log.note(
                shown,
                mapped.lines.get("slug"),
                f"slug {pelican_slug!r} written as {name!r}; its URL is kept",
            )
        out["slug"] = name
        url, aliases = self._urls(out, pelican_slug, kind, shown)
        common.check_dates(out, shown, mapped.lines, log)
        if kind == "page":
            log.mapped["content/pages/* -> content/pages/*"] += 1
        return Doc(shown, kind, name, out, mapped.body, mapped.body_line, None, url, aliases)

    def _date(self, out: dict, shown: str, lines: dict[str, int]) -> None:
        for key in ("date", "updated"):
            value = out.get(key)
            if isinstance(value, str):
                fixed = free_form_date(value)
                if fixed is None:
                    continue  # check_dates reports it
                out[key] = fixed
                self.log.note(shown, lines.get(key), f"{key} {value!r} read as {fixed.isoformat()}")

    def _urls(self, out: dict, slug: str, kind: str, shown: str) -> tuple[str | None, tuple]:
        """(URL Pelican links to, other URL it answers at: the file SAVE_AS writes)."""
        given = out.get("url")
        if isinstance(given, str) and given.strip().startswith(("http://", "https://", "//")):
            # a link post: the theme links elsewhere, the page is still written at SAVE_AS
            out.pop("url")
            out.setdefault("link", common.site_image(given.strip(), None))
            self.log.mapped["url: (an external link) -> link: (the page keeps its own URL)"] += 1
        elif isinstance(given, str) and given.strip():
            url = "/" + out.pop("url").strip().lstrip("/")
            return url, ()
        save_as = out.pop("save_as", None)
        if isinstance(save_as, str) and save_as.strip():
            # Pelican wrote this one elsewhere (save_as: index.html makes it the home page):
            # its relative links were read from there; rewrite() makes them site paths
            self.saved_at[shown] = "/" + save_as.strip().lstrip("/")
            self.log.note(
                shown,
                None,
                f"save_as: {save_as} not kept: the page is at its URL; relative links in it "
                "now point where they pointed from there",
            )
        prefix = "ARTICLE" if kind == "post" else "PAGE"
        date = common.parse_date(out.get("date")) or dt.datetime(1970, 1, 1)
        values = {
            "slug": slug,
            "date": date,
            "category": pelican_slugify(str(out.get("category", ""))),
            "author": pelican_slugify(str(out.get("author", self.conf.get("AUTHOR", "")))),
            "lang": str(self.conf.get("DEFAULT_LANG", "en")),
        }
        lang = str(out.get("lang") or "").strip()
        if lang and lang != str(self.conf.get("DEFAULT_LANG", "en")):
            prefix += "_LANG"  # a translation: ARTICLE_LANG_URL, default {slug}-{lang}.html
            values["lang"] = lang
        found = []
        for key in (f"{prefix}_URL", f"{prefix}_SAVE_AS"):
            pattern = self.conf.get(key, _URL_DEFAULTS[key])
            try:
                path = "/" + str(pattern).format(**values).lstrip("/")
            except (KeyError, ValueError, AttributeError, IndexError) as err:
                self.log.note(CONF, self.lines.get(key), f"{key} cannot be applied: {err}")
                return None, ()
            found.append(path.removesuffix("index.html"))
        url, saved = found
        return url, (saved,) if saved != url else ()

    def _folder_category(self, out: dict, inner: Path) -> None:
        if self.conf.get("USE_FOLDER_AS_CATEGORY", True):
            out["category"] = inner.parts[0]
            self.log.mapped["folder -> category (USE_FOLDER_AS_CATEGORY)"] += 1

    # ----------------------------------------------------------------------- bodies

    def rewrite(self, docs: list[Doc], permalink: str) -> list[Doc]:
        by_path = {common.rel(self.src / d.rel, self.content): d for d in docs}
        return [self._links(doc, by_path, permalink) for doc in docs]

    def _links(self, doc: Doc, by_path: dict[str, Doc], permalink: str) -> Doc:
        """{static}/{filename}/{attach}/{tag}/{category} links become site paths where possible."""
        here = posixpath.dirname(common.rel(self.src / doc.rel, self.content))
        if doc.rel in self.saved_at:
            doc = common.with_body(doc, _rebase(doc.body, self.saved_at[doc.rel]))

        skip = code_ranges(doc.body)

        def replace(m: re.Match) -> str:
            kind, target = m.group(2), m.group(4)
            if any(start <= m.start() < end for start, end in skip):
                return m.group(0)  # in code: Pelican leaves it as written too
            if m.group(1) == "{" and m.group(3) != "}" or m.group(1) == "|" and m.group(3) != "|":
                return m.group(0)
            cut = re.search(r"[#?]", target)
            path, suffix = (target[: cut.start()], target[cut.start() :]) if cut else (target, "")
            if kind == "index":
                return "/" + suffix
            if kind in ("tag", "category"):
                folder = "tags" if kind == "tag" else "categories"
                self.log.mapped[f"{{{kind}}} links -> /{folder}/SLUG/"] += 1
                return f"/{folder}/{slugify(path)}/" + suffix
            if kind != "author":
                resolved = posixpath.normpath(
                    path.lstrip("/") if path.startswith("/") else posixpath.join(here, path)
                )
                if url := self._link_target(kind, resolved, by_path, permalink):
                    return url + suffix
            line = doc.body_line + doc.body.count("\n", 0, m.start())
            why = (
                "quire has no author pages"
                if kind == "author"
                else "target not found or not converted"
            )
            self.log.note(doc.rel, line, f"{m.group(0)}: {why}; link kept")
            return m.group(0)

        return common.with_body(doc, _LINK.sub(replace, doc.body))

    def _link_target(
        self, kind: str, resolved: str, by_path: dict[str, Doc], permalink: str
    ) -> str | None:
        if resolved in self.statics:  # {static}, {attach} or {filename} of a copied file
            self.log.mapped[f"{{{kind}}} links -> site paths"] += 1
            return self.statics[resolved]
        if kind == "filename" and resolved in by_path:
            self.log.mapped["{filename} links -> site paths"] += 1
            return common.doc_url(by_path[resolved], permalink)
        return None


_RELATIVE_REF = re.compile(
    r"""((?:src|href)=["']|\]\()(?![a-z][\w+.-]*:|[/#{|]|\.\./)([^"')\s]+)"""
)


def _rebase(body: str, saved_as: str) -> str:
    """Relative src/href/Markdown link targets -> site paths, resolved against the folder
    of the file Pelican wrote (outside code)."""
    folder = saved_as.rsplit("/", 1)[0] + "/"
    skip = code_ranges(body)

    def fix(m: re.Match) -> str:
        if any(start <= m.start() < end for start, end in skip):
            return m.group(0)
        return m.group(1) + posixpath.normpath(folder + m.group(2))

    return _RELATIVE_REF.sub(fix, body)


_LINK = re.compile(
    r"(\{|\|)(static|filename|attach|tag|category|author|index)(\}|\|)([^\s)\"'<>]*)"
)
