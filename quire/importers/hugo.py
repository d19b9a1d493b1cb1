"""`quire import hugo`: what a Hugo site's config, content, front matter and folders map to."""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import re
import tomllib
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from quire.files import site_files
from quire.importers import common
from quire.importers.common import Doc, Fields, ImportReport, Log, Rule, Source
from quire.index.taxonomy import slugify
from quire.render.shortcodes import code_ranges

_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml")
_CONFIGS += ("config.yml", "config.json")
_CONFIG_IGNORED = {"theme", "markup", "outputs", "outputformats", "mediatypes", "module"}
_PERMALINK_TOKENS = {
    ":year": "{year}",
    ":month": "{month}",
    ":day": "{day}",
    ":slug": "{slug}",
    ":filename": "{slug}",
    ":contentbasename": "{slug}",
}
_LEFTOVER_FOLDERS = ("layouts", "themes", "assets", "archetypes", "i18n")


def import_hugo(src: Path, dst: Path, force: bool = False) -> ImportReport:
    """Hugo site folder -> quire site folder. See README 'Moving from Hugo or Pelican'."""
    return common.run_import(src, dst, HugoSource, force)


def _ci(table: Any, key: str) -> Any:
    """Hugo config keys are case-insensitive."""
    if not isinstance(table, dict):
        return None
    for k, v in table.items():
        if k.lower() == key:
            return v
    return None


def _config_line(text: str, key: str) -> int | None:
    match = re.search(rf"^\s*(?:\[+\s*)?{re.escape(key)}\s*[=:\].]", text, re.M | re.I)
    return text.count("\n", 0, match.start()) + 1 if match else None


# --------------------------------------------------------------------------- config -> site.toml


def _author(config: dict) -> Any:
    author = _ci(_ci(config, "params") or {}, "author") or _ci(config, "author")
    return _ci(author, "name") if isinstance(author, dict) else author


# (site.toml key, config key as shown, key to find its line by, how to read it); the first
# setting found for a site.toml key wins.
_SITE = (
    ("title", "title", "title", lambda c: _ci(c, "title")),
    ("base_url", "baseURL", "baseURL", lambda c: _ci(c, "baseurl")),
    (
        "posts_per_page",
        "pagination.pagerSize",
        "pagerSize",
        lambda c: _ci(_ci(c, "pagination"), "pagersize"),
    ),
    ("posts_per_page", "paginate", "paginate", lambda c: _ci(c, "paginate")),
    (
        "language",
        "languageCode",
        "languageCode",
        lambda c: _ci(c, "languagecode") or _ci(c, "defaultcontentlanguage"),
    ),
    ("timezone", "timeZone", "timeZone", lambda c: _ci(c, "timezone")),
    ("author", "author", "author", _author),
    (
        "description",
        "params.description",
        "description",
        lambda c: _ci(_ci(c, "params") or {}, "description"),
    ),
)
_SITE_HANDLED = {"title", "baseurl", "pagination", "paginate", "languagecode", "params"}
_SITE_HANDLED |= {"defaultcontentlanguage", "timezone", "author", "permalinks", "menu", "menus"}
_SITE_HANDLED |= {"related", "taxonomies", "contentdir", "permalinks", "uglyurls", "markup"}


# --------------------------------------------------------------------------- front matter


def _draft(value: Any) -> Any:
    """Hugo accepts "true" as text; quire does not."""
    return str(value).lower() == "true" if str(value).lower() in ("true", "false") else value


def _categories(fields: Fields, key: str, value: Any) -> bool:
    cats = common.string_list(value, split=False)
    if len(cats) == 1:
        fields.put("category", cats[0], f"{key} (one) -> category")
    elif cats:
        fields.put("categories", cats, None)
    return True


def _images(fields: Fields, key: str, value: Any) -> bool:
    if "image" in fields.present or not isinstance(value, list) or not value:
        return False
    fields.put("image", str(value[0]), "images (first) -> image")
    return True


_FIELDS: dict[str, Rule] = {
    key: common.rename(key, f"{key} -> {key}")
    for key in ("title", "slug", "summary", "author", "image", "date")
}
_FIELDS |= {
    "draft": common.rename("draft", "draft -> draft", _draft),
    "tags": common.rename(
        "tags", "tags -> tags (a list)", partial(common.string_list, split=False)
    ),
    "lastmod": common.rename("updated", "lastmod -> updated"),
    "publishdate": common.rename("date", "publishDate -> date (no date given)", unless="date"),
    "categories": _categories,
    "category": _categories,
    "description": common.rename("summary", "description -> summary", unless="summary"),
    "authors": common.first_author("authors -> author", "authors", split=False),
    "images": _images,
}
_IGNORED_FIELDS = {
    "layout": common.ONE_TEMPLATE,
    "type": common.ONE_TEMPLATE,
    "weight": "quire orders posts by date",
    "expirydate": "quire does not expire posts",
    "publishdate": "quire publishes by date",
    "outputs": "quire has fixed outputs",
    "cascade": "quire has no front matter cascade",
    "build": "quire has no build options per post",
    "headless": "quire has no headless pages",
    "markup": "quire renders Markdown only",
    "translationkey": common.ONE_LANGUAGE,
    "resources": "bundle files are copied; resource metadata is not",
}


_IMAGE_KEYS = ("image", "cover", "thumbnail", "featured_image", "featureimage")


def _urlize(text: str) -> str:
    """Hugo's path sanitising: spaces to '-', no characters a path may not hold, lower case."""
    text = re.sub(r"\s+", "-", text.strip())
    return re.sub(r"[^\w.~+-]", "", text).lower()


def _alias_path(alias: str, url: str) -> str:
    """Hugo resolves an alias without a leading / against the page's folder."""
    if alias.startswith("/"):
        return alias
    base = url if url.endswith("/") else url.rsplit("/", 1)[0] + "/"
    return posixpath.normpath(posixpath.join(posixpath.dirname(base.rstrip("/")), alias)) + (
        "/" if alias.endswith("/") else ""
    )


_ONE_DIGIT_HOUR = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ])(\d)(:\d{2})")


def _one_digit_hour(text: str) -> str:
    return _ONE_DIGIT_HOUR.sub(r"\g<1>0\2\3", text.strip())


def _is_leaf_bundle(folder: Path) -> bool:
    return any((folder / f"index{ext}").is_file() for ext in common.MARKDOWN_EXTS)


class HugoSource(Source):
    """Sections flatten into posts (dated) and pages (undated or at the content root); page
    bundles keep their files; static/ is copied as is; shortcodes quire knows are kept."""

    flavour, label = "hugo", "Hugo"
    FIELDS, IGNORED_FIELDS = _FIELDS, _IGNORED_FIELDS

    def __init__(self, src: Path, dst: Path, log: Log):
        super().__init__(src, dst, log)
        self.config: dict = {}
        self.config_name = "hugo.toml"
        self.config_text = ""
        self.used: dict[str, set[str]] = {"post": set(), "page": set()}
        self.bundles: dict[Path, Doc] = {}

    # ----------------------------------------------------------------------- site

    def site(self) -> dict:
        self._read_config()
        config, where, log = self.config, self.config_name, self.log
        site: dict[str, Any] = {}
        tried: set[str] = set()
        for key, shown, line_key, read in _SITE:
            value = read(config) if key not in tried else None
            if value is not None:
                tried.add(key)
                common.site_value(key, value, where, self._line(line_key), log, site, shown)
        self._feeds(config, site)
        self._permalink(_ci(config, "permalinks"), site)
        self._menu(_ci(config, "menus") or _ci(config, "menu"), site)
        self._related(_ci(config, "related"), site)
        self._taxonomies(_ci(config, "taxonomies"))
        self._markup(_ci(config, "markup"), site)
        for key in config:
            if key.lower() not in _SITE_HANDLED:
                why = "not used by quire" if key.lower() in _CONFIG_IGNORED else "not mapped"
                log.note(where, self._line(key), f"config key '{key}' {why}")
        return site

    def _line(self, key: str) -> int | None:
        return _config_line(self.config_text, key)

    def _feeds(self, config: dict, site: dict) -> None:
        """Hugo's RSS feeds are index.xml files (/index.xml, /tags/x/index.xml): quire
        writes its feeds under that name, so subscribers keep the site."""
        rss = _ci(_ci(config, "outputformats"), "rss")
        name = f"{_ci(rss, 'basename') or 'index'}.xml"
        line = self._line("baseName") if _ci(rss, "basename") else None
        common.site_value("feed_file", name, self.config_name, line, self.log, site, "RSS feeds")

    def _read_config(self) -> None:
        src, log = self.src, self.log
        candidates = [src / n for n in _CONFIGS]
        candidates += [src / "config" / "_default" / n for n in _CONFIGS]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            log.note(".", None, "no hugo.toml/config.toml/hugo.yaml found; site.toml gets defaults")
            return
        self.config_name = self.rel(path)
        self.config_text = text = path.read_text(encoding="utf-8-sig")
        try:
            data = _parse_config(path.suffix, text)
        except (tomllib.TOMLDecodeError, yaml.YAMLError, json.JSONDecodeError) as err:
            log.note(self.config_name, None, f"cannot read config: {err}")
            return
        if path.parent.name == "_default":
            log.note(
                "config/",
                None,
                "only config/_default/hugo|config.* was read; other config files are not merged",
            )
        self.config = data if isinstance(data, dict) else {}

    def _permalink(self, permalinks: Any, site: dict) -> None:
        if not isinstance(permalinks, dict):
            return
        where = self.config_name
        pattern = _ci(permalinks, "posts") or _ci(permalinks, "post")
        if pattern is None and isinstance(_ci(permalinks, "page"), dict):
            pattern = _ci(_ci(permalinks, "page"), "posts")
        if not isinstance(pattern, str):
            self.log.note(
                where, None, "permalinks has no pattern for 'posts'; quire uses /posts/{slug}/"
            )
            return
        out = pattern
        for token, repl in _PERMALINK_TOKENS.items():
            out = out.replace(token, repl)
        out = out.replace(":section", "posts")
        if ":" in out:
            message = (
                f"permalinks.posts = {pattern!r} not mapped: quire knows slug, year, month, day"
            )
            self.log.note(where, None, message)
            return
        out = "/" + out.strip("/") + "/"
        common.site_value("permalink", out, where, None, self.log, site, "permalinks.posts")

    def _markup(self, markup: Any, site: dict) -> None:
        """Hugo renders with Goldmark (CommonMark, typographer on); code line numbers from
        markup.highlight.lineNos."""
        table: dict[str, Any] = {"engine": "commonmark"}
        goldmark = _ci(markup, "goldmark")
        typographer = _ci(_ci(goldmark, "extensions"), "typographer")
        if typographer is False or _ci(typographer, "disable") is True:
            table["smart"] = False
        if _ci(_ci(markup, "highlight"), "linenos") is True:
            table["line_numbers"] = True
            self.log.mapped[f"{self.config_name}: markup.highlight.lineNos -> line_numbers"] += 1
        site["markdown"] = table

    def _menu(self, menus: Any, site: dict) -> None:
        main = _ci(menus, "main") if isinstance(menus, dict) else None
        if not isinstance(main, list):
            return
        entries = sorted(
            (e for e in main if isinstance(e, dict)), key=lambda e: _ci(e, "weight") or 0
        )
        items = []
        for entry in entries:
            item = _menu_item(entry)
            if item is None:
                message = f"menu entry {entry!r} not mapped (needs name and url/pageRef)"
                self.log.note(self.config_name, None, message)
            else:
                items.append(item)
        if items:
            common.site_menu(items, self.config_name, "menus.main", site, self.log)

    def _related(self, related: Any, site: dict) -> None:
        if not isinstance(related, dict):
            return
        newer = _ci(related, "includenewer")
        if isinstance(newer, bool):
            site["related"] = {"include_newer": newer}
            self.log.mapped[
                f"{self.config_name}: related.includeNewer -> site.toml related.include_newer"
            ] += 1
        self.log.note(
            self.config_name,
            self._line("related"),
            "related indices/threshold not mapped: quire scores by text, tags, category and "
            "date; tune [related] weights in site.toml",
        )

    def _taxonomies(self, taxonomies: Any) -> None:
        if not isinstance(taxonomies, dict):
            return
        names = set(taxonomies.values())
        if names & {"tags", "categories"}:
            self.log.mapped[
                f"{self.config_name}: taxonomies tags/categories -> "
                "quire's built-in tags and categories"
            ] += 1
        if extra := sorted(names - {"tags", "categories"}):
            self.log.note(
                self.config_name,
                self._line("taxonomies"),
                f"taxonomies {', '.join(extra)} not mapped: quire has tags and categories only",
            )

    # ----------------------------------------------------------------------- documents

    def documents(self) -> list[Doc]:
        content = self.src / str(_ci(self.config, "contentdir") or "content")
        if not content.is_dir():
            shown = self.rel(content) if content.is_relative_to(self.src) else str(content)
            self.log.note(shown, None, "content folder not found")
            return []
        docs: list[Doc] = []
        for path, _ in site_files(content):
            doc = self._content_file(path, content)
            if doc is not None:
                docs.append(doc)
        self._copy_early_resources()
        return docs

    def _content_file(self, path: Path, content: Path) -> Doc | None:
        """A post or page, or None: a bundle resource, a copied file or a noted one."""
        shown, suffix = self.rel(path), path.suffix.lower()
        is_index = path.stem == "index" and suffix in common.MARKDOWN_EXTS
        bundle = self._bundle_of(path)
        if bundle is not None and content in bundle.parents and not is_index:
            self._bundle_resource(path, bundle)
        elif path.stem == "_index":
            message = "section list page (_index) not converted: quire makes its own lists"
            self.log.note(shown, None, message)
        elif suffix in common.MARKDOWN_EXTS:
            doc = self._document(path, path.relative_to(content))
            if doc is not None and is_index:
                self.bundles[path.parent] = doc
            return doc
        elif suffix in common.OTHER_MARKUP_EXTS or suffix in {".html", ".htm"}:
            self.log.note(shown, None, f"{suffix} content not converted: quire reads Markdown only")
        else:
            common.copy(path, self.dst / "content" / path.relative_to(content), shown, self.log)
        return None

    def _bundle_of(self, path: Path) -> Path | None:
        folders = [path.parent, *path.parent.parents]
        return next((p for p in folders if p in self.bundles or _is_leaf_bundle(p)), None)

    def _bundle_target(self, path: Path, root: Path, doc: Doc) -> Path:
        return self.dst / "content" / f"{doc.kind}s" / doc.name / path.relative_to(root)

    def _bundle_resource(self, path: Path, root: Path) -> None:
        doc = self.bundles.get(root)
        if path.suffix.lower() in common.MARKDOWN_EXTS:
            self.log.note(
                self.rel(path), None, "Markdown resource inside a page bundle not converted"
            )
        elif doc is not None:
            common.copy(path, self._bundle_target(path, root, doc), self.rel(path), self.log)

    def _copy_early_resources(self) -> None:
        """Resources listed before their index.md in walk order were skipped; common.copy them now."""
        for root, doc in self.bundles.items():
            for path, _ in site_files(root):
                target = self._bundle_target(path, root, doc)
                if path.suffix.lower() not in common.MARKDOWN_EXTS and not target.exists():
                    common.copy(path, target, self.rel(path), self.log)

    def _document(self, path: Path, inner: Path) -> Doc | None:
        shown, log = self.rel(path), self.log
        mapped = self.front_matter(path)
        if mapped is None:
            return None
        out = mapped.meta
        self._fix_date(out, shown, mapped.lines)
        common.check_dates(out, shown, mapped.lines, log)
        bundle = path.stem == "index"
        stem = path.parent.name if bundle else path.stem
        in_section = len(inner.parts) > (2 if bundle else 1)
        if "title" not in out:
            out["title"] = common.title_from(stem)
            log.note(shown, None, f"no title; set to {out['title']!r}")
        kind = "post" if in_section and "date" in out else "page"
        section = inner.parts[0] if in_section else ""
        self._report_kind(kind, section, shown)
        url = self.url_of(out, inner, stem)
        name = common.slug_for(out.get("slug"), stem) or slugify(stem) or "untitled"
        name = common.unique_name(name, self.used[kind], slugify(section), shown, log)
        if "slug" in out and common.slug_for(out["slug"], stem) != name:
            log.note(shown, mapped.lines.get("slug"), f"slug {out['slug']!r} written as {name!r}")
            out["slug"] = name
        aliases = tuple(
            _alias_path(a, url) for a in common.string_list(out.pop("aliases", None), False)
        )
        self._relative_images(out, url if bundle else None, shown, mapped.lines)
        bundle_dir = path.parent if bundle else None
        return Doc(shown, kind, name, out, mapped.body, mapped.body_line, bundle_dir, url, aliases)

    def _fix_date(self, out: dict, shown: str, lines: dict[str, int]) -> None:
        """Dates Hugo reads that quire's reader would refuse: one-digit hours, Unix times."""
        for key in ("date", "updated"):
            value = out.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                year = value if 1000 <= value <= 9998 else None
                fixed = f"{year}-01-01" if year else dt.datetime.fromtimestamp(value, dt.UTC)
                out[key] = fixed
                self.log.note(
                    shown,
                    lines.get(key),
                    f"{key}: {value} (a number; Hugo reads it as a Unix time) imported as "
                    f"{fixed if isinstance(fixed, str) else fixed.isoformat()}",
                )
            elif isinstance(value, str) and (fixed := _one_digit_hour(value)) != value:
                out[key] = fixed
                self.log.mapped[f"{key} with a one-digit hour -> ISO 8601"] += 1

    def _relative_images(self, out: dict, bundle_url: str | None, shown: str, lines) -> None:
        """cover:/image:/thumbnail: relative to the post (a bundle) or the site root."""
        for key in _IMAGE_KEYS:
            value = out.get(key)
            fixed = common.site_image(value, bundle_url)
            if fixed != value:
                out[key] = fixed
                self.log.mapped[f"relative {key}: -> site path"] += 1

    def url_of(self, out: dict, inner: Path, stem: str) -> str:
        """The URL Hugo publishes a page at: url:, else the section's permalink pattern,
        else /section/slug-or-file/ (uglyURLs: .html); paths lower-cased, as Hugo does."""
        ugly = _ci(self.config, "uglyurls") is True
        if isinstance(out.get("url"), str) and out["url"].strip():
            url = "/" + out.pop("url").strip().lstrip("/")
            return url.lower() if "." in url.rsplit("/", 1)[-1] else url.rstrip("/").lower() + "/"
        bundle = inner.name.rsplit(".", 1)[0] == "index"
        folders = inner.parts[:-2] if bundle else inner.parts[:-1]
        section = folders[0] if folders else ""
        pattern = self._pattern(section) if section else None
        slug = out.get("slug")
        if pattern is None:
            last = _urlize(str(slug) if slug else stem)
            url = "/" + "/".join([*(_urlize(f) for f in folders), last])
            return url + ".html" if ugly else url + "/"
        date = common.parse_date(out.get("date")) or dt.datetime(1970, 1, 1)
        title = _urlize(str(out.get("title", "")))
        values = {
            "year": f"{date.year:04d}",
            "month": f"{date.month:02d}",
            "monthname": date.strftime("%B").lower(),
            "day": f"{date.day:02d}",
            "weekday": str(date.isoweekday() % 7),
            "yearday": str(date.timetuple().tm_yday),
            "section": _urlize(section),
            "sections": "/".join(_urlize(f) for f in folders),
            "title": title,
            "slug": _urlize(str(slug)) if slug else title,
            "filename": _urlize(stem),
            "contentbasename": _urlize(stem),
            "slugorfilename": _urlize(str(slug) if slug else stem),
            "slugorcontentbasename": _urlize(str(slug) if slug else stem),
        }
        url = re.sub(r":(\w+)", lambda m: values.get(m.group(1).lower(), m.group(0)), pattern)
        url = "/" + re.sub(r"/+", "/", url).strip("/")
        if ugly and pattern.endswith("/"):
            return url + ".html"
        return url if "." in url.rsplit("/", 1)[-1] else url + "/"

    def _pattern(self, section: str) -> str | None:
        permalinks = _ci(self.config, "permalinks")
        if not isinstance(permalinks, dict):
            return None
        page = _ci(permalinks, "page")
        pattern = _ci(page, section.lower()) if isinstance(page, dict) else None
        pattern = pattern or _ci(permalinks, section.lower())
        return pattern if isinstance(pattern, str) else None

    def _report_kind(self, kind: str, section: str, shown: str) -> None:
        if section and kind == "page":
            self.log.note(shown, None, "no date: imported as a page (quire posts need a date)")
        elif not section:
            self.log.mapped["content root .md -> pages"] += 1
        elif section not in ("posts", "post"):
            self.log.mapped[f"section '{section}' -> posts"] += 1

    # ----------------------------------------------------------------------- bodies

    def rewrite(self, docs: list[Doc], permalink: str) -> list[Doc]:
        refs = _ref_index(docs, permalink)
        unknown: dict[str, tuple[str, int]] = {}
        closers: set[str] = set()
        out = [_shortcodes(doc, refs, self.log, unknown, closers) for doc in docs]
        write_passthroughs(self.dst, unknown, closers, self.log)
        return out

    # ----------------------------------------------------------------------- folders

    def data(self) -> None:
        data = self.src / "data"
        if not data.is_dir():
            return
        for path, _ in site_files(data):
            if path.stem == "products" and path.parent == data:
                self._products(path)
            else:
                self.log.note(
                    self.rel(path),
                    None,
                    "data file not imported: quire reads only products (content/products.yaml)",
                )

    def _products(self, path: Path) -> None:
        shown, log = self.rel(path), self.log
        target = self.dst / "content" / "products.yaml"
        if target.exists():
            log.note(shown, None, "a second products file; not imported")
            return
        try:
            text = path.read_text(encoding="utf-8-sig")
            loaded = _PRODUCT_READERS.get(path.suffix, json.loads)(text)
        except (ValueError, yaml.YAMLError) as err:
            log.note(shown, None, f"cannot read products: {err}")
            return
        if not isinstance(loaded, dict):
            log.note(shown, None, "products must map id -> product; not imported")
            return
        if path.suffix not in (".yaml", ".yml"):
            text = yaml.safe_dump(common.plain(loaded), sort_keys=False, allow_unicode=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        log.mapped[f"{shown} -> content/products.yaml"] += 1

    def static_folders(self) -> list[str]:
        return ["static"]

    def leftovers(self) -> None:
        for name in _LEFTOVER_FOLDERS:
            if (self.src / name).is_dir():
                self.log.note(
                    name + "/",
                    None,
                    "not imported: Go templates and assets do not carry over; "
                    "quire uses its own theme",
                )


def _parse_config(suffix: str, text: str) -> Any:
    """A Hugo config or data file by its suffix: TOML, JSON, else YAML."""
    if suffix == ".toml":
        return tomllib.loads(text)
    if suffix == ".json":
        return json.loads(text)
    return yaml.safe_load(text) or {}


_PRODUCT_READERS = {".yaml": yaml.safe_load, ".yml": yaml.safe_load, ".toml": tomllib.loads}


def _menu_item(entry: dict) -> dict | None:
    name = _ci(entry, "name")
    url = _ci(entry, "url") or _ci(entry, "pageref")
    if isinstance(url, str) and not url.startswith(("http://", "https://")):
        url = "/" + url.strip("/") + ("/" if url.strip("/") else "")
    if isinstance(name, str) and isinstance(url, str):
        return {"name": name, "url": url}
    return None


# --------------------------------------------------------------------------- shortcodes

_SHORTCODE = re.compile(
    r"\{\{(?P<o>[<%])\s*highlight\s+(?P<lang>[\w+#-]+)(?P<opts>[^}]*?)[>%]\}\}\n?(?P<code>.*?)"
    r"\{\{[<%]\s*/\s*highlight\s*[>%]\}\}"
    r"|\{\{(?P<open>[<%])\s*(?P<close>/?)\s*(?P<name>[A-Za-z0-9_][\w/.-]*)(?P<args>.*?)\s*[>%]\}\}",
    re.S,
)
_ATTR = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_POSITIONAL = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")


def _ref_index(docs: list[Doc], permalink: str) -> dict[str, str]:
    """What a {{< ref >}} can name: path under content/, with or without .md, or a bare name."""
    index: dict[str, str] = {}
    for doc in docs:
        url = common.doc_url(doc, permalink)
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


def _find_ref(refs: dict[str, str], key: str) -> str | None:
    url = refs.get(key) or refs.get(posixpath.splitext(key)[0]) or refs.get(posixpath.basename(key))
    return url or (refs.get(posixpath.basename(posixpath.splitext(key)[0])) if key else None)


def _shortcodes(
    doc: Doc,
    refs: dict[str, str],
    log: Log,
    unknown: dict[str, tuple[str, int]],
    closers: set[str],
) -> Doc:
    """Keep the shortcodes quire ships, turn highlight into fences and ref into site paths,
    collect the others (`unknown`: name -> first use) for passthrough templates."""

    def line_of(pos: int) -> int:
        return doc.body_line + doc.body.count("\n", 0, pos)

    skip = code_ranges(doc.body)

    def ref(m: re.Match, name: str) -> str:
        first = _POSITIONAL.match(m.group("args"))
        target = (first.group(1) or first.group(2) or first.group(3)) if first else ""
        path, _, anchor = target.partition("#")
        url = _find_ref(refs, path.strip("/"))
        if url:
            log.mapped["{{< ref >}} -> site path"] += 1
            return url + (f"#{anchor}" if anchor else "")
        message = f"{{{{< {name} {target!r} >}}}}: target not found, kept"
        log.note(doc.rel, line_of(m.start()), message)
        return m.group(0)

    def replace(m: re.Match) -> str:
        if any(start <= m.start() < end for start, end in skip):
            return m.group(0)  # quire leaves shortcodes in code alone too
        if m.group("code") is not None:
            log.mapped["{{< highlight >}} -> fenced code block"] += 1
            if opts := m.group("opts").strip().strip("\"'"):
                message = f"highlight options {opts!r} dropped (quire's fenced code has none)"
                log.note(doc.rel, line_of(m.start()), message)
            code = m.group("code")
            return f"```{m.group('lang')}\n{code}{'' if code.endswith(chr(10)) else chr(10)}```"
        name = m.group("name")
        if name in ("ref", "relref") and not m.group("close"):
            return ref(m, name)
        if m.group("close"):
            closers.add(name)
        elif name in common.QUIRE_SHORTCODES:
            log.mapped[f"{{{{< {name} >}}}} kept (quire ships it)"] += 1
        else:
            unknown.setdefault(name, (doc.rel, line_of(m.start())))
        return m.group(0)

    return common.with_body(doc, _SHORTCODE.sub(replace, doc.body))


_PASSTHROUGH_BLOCK = """{{#- Written by `quire import hugo`: Hugo's '{name}' shortcode has no quire
    equivalent yet; this shows its inner content as it is. Restyle it as you like. -#}}
<div class="shortcode shortcode--{name}">{{{{ inner or "" }}}}</div>
"""
_PASSTHROUGH_INLINE = """{{#- Written by `quire import hugo`: Hugo's '{name}' shortcode has no quire
    equivalent yet; this shows a visible placeholder. Write the real template here. -#}}
<span class="shortcode shortcode--{name}">[{name}{{% for a in args %}} {{{{ a }}}}{{% endfor %}}]</span>
"""


def write_passthroughs(
    dst: Path, unknown: dict[str, tuple[str, int]], closers: set[str], log: Log
) -> None:
    """A template for each shortcode quire does not ship, so the site builds; reported."""
    folder = dst / "templates" / "shortcodes"
    for name, (rel, line) in sorted(unknown.items()):
        if not re.fullmatch(r"[A-Za-z_][\w-]*", name):
            log.note(rel, line, f"shortcode '{name}': no template written (not a file name)")
            continue
        paired = name in closers
        folder.mkdir(parents=True, exist_ok=True)
        text = (_PASSTHROUGH_BLOCK if paired else _PASSTHROUGH_INLINE).format(name=name)
        (folder / f"{name}.html").write_text(text, encoding="utf-8")
        what = "shows its inner content" if paired else "shows a placeholder"
        log.note(
            rel,
            line,
            f"shortcode '{name}' has no quire equivalent: wrote templates/shortcodes/{name}.html "
            f"({what}); restyle it",
        )
