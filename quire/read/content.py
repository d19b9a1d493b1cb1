"""Posts and pages: read Markdown files with front matter into frozen Post objects.

Every problem is collected as `path:line: message` (line of the front matter key when
known) so that one run reports them all.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

import frontmatter
import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler

from quire.config import DEFAULT_PERMALINK
from quire.files import site_files
from quire.incremental.digest import digest, parts_digest
from quire.incremental.memo import Memo
from quire.index.taxonomy import slugify
from quire.model import Kind, Post
from quire.parallel import parallel_map
from quire.problems import Problem, display_path, key_lines

try:
    _YAML_LOADER = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _YAML_LOADER = yaml.SafeLoader

KNOWN_FIELDS = {
    "title",
    "date",
    "updated",
    "lastmod",
    "slug",
    "tags",
    "category",
    "categories",
    "summary",
    "description",
    "draft",
    "author",
    "image",
    "related",
    "url",
    "aliases",
}


# Every tag gets a page and a feed listing its posts with all their tags: 10,000 tags on
# one post meant 10,000 feeds of 10,000 categories each (the build never finished).
MAX_TERMS = 200
MAX_FRONT_MATTER = 256 * 1024  # characters: real front matter is a few hundred


class _TOMLHandler(BaseHandler):
    """python-frontmatter's TOML handler needs the `toml` package; the stdlib reads TOML now."""

    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str, **kwargs: object) -> dict:
        return tomllib.loads(fm)

    def export(self, metadata: dict, **kwargs: object) -> str:  # pragma: no cover - unused
        raise NotImplementedError


_HANDLERS = [YAMLHandler(), _TOMLHandler()]


@dataclass(frozen=True)
class ReadOptions:
    timezone: str = "UTC"
    now: dt.datetime | None = None
    permalink: str = DEFAULT_PERMALINK
    content_root: Path | None = None  # the site's content/ folder ({section}, {filename})


def read_sources(
    site_root: Path, options: ReadOptions, memo: Memo | None = None, jobs: int = 1
) -> tuple[list[Post], list[Problem]]:
    """Every post and page, drafts and future posts included (the caller filters); a file
    whose bytes did not change since the last build is not parsed again, the others are
    parsed in `jobs` processes."""
    memo = Memo() if memo is None else memo
    problems: list[Problem] = []
    sources: list[tuple[Path, bytes, Kind]] = []
    for kind, folder in ((Kind.POST, "posts"), (Kind.PAGE, "pages")):
        top = site_root / "content" / folder
        unreadable: list = []
        files = site_files(top, within=site_root / "content", pattern="*.md", errors=unreadable)
        for path, err in unreadable:
            shown = display_path(path, site_root)
            problems.append(Problem(shown, None, f"cannot read folder: {err.strerror or err}"))
        for path, _ in files:
            try:
                sources.append((path, path.read_bytes(), kind))
            except OSError as err:
                shown = display_path(path, site_root)
                problems.append(Problem(shown, None, f"cannot read file: {err.strerror}"))
    settings = digest((str(site_root), options))
    keys = [source_key(p, raw, kind, site_root, options, settings) for p, raw, kind in sources]

    def parse(missing: list[int]):
        state = ([(*sources[i], keys[i]) for i in missing], site_root, options)
        return parallel_map(_parse_at, state, len(missing), jobs, desc="Reading")

    posts: list[Post] = []
    for post, found in memo.get_many(keys, parse):
        problems.extend(found)
        if post is not None:
            posts.append(post)
    return posts, problems


def _parse_at(state, index: int) -> tuple[Post | None, list[Problem]]:
    todo, site_root, options = state
    path, raw, kind, key = todo[index]
    return parse_file(path, raw, kind, site_root, options, key)


def source_key(
    path: Path, raw: bytes, kind: str, site_root: Path, options: ReadOptions, settings=None
) -> bytes:
    """Everything a Post is made from: it becomes the Post's fingerprint. `settings`: the
    digest of (site_root, options), made once for all the files of a build."""
    settings = settings or digest((str(site_root), options))
    return parts_digest(settings, str(path), raw, str(kind))


def read_file(
    path: Path, kind: str, site_root: Path, options: ReadOptions
) -> tuple[Post | None, list[Problem]]:
    shown = display_path(path, site_root)
    try:
        raw = path.read_bytes()
    except OSError as err:
        return None, [Problem(shown, None, f"cannot read file: {err.strerror}")]
    key = source_key(path, raw, kind, site_root, options)
    return parse_file(path, raw, kind, site_root, options, key)


def parse_file(
    path: Path, raw: bytes, kind: str, site_root: Path, options: ReadOptions, fingerprint: bytes
) -> tuple[Post | None, list[Problem]]:
    shown = display_path(path, site_root)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        return None, [
            Problem(
                shown, line, f"file is not UTF-8 (byte 0x{raw[err.start]:02x}); save it as UTF-8"
            )
        ]
    # NUL is no character of any page, feed or search index (CommonMark replaces it, XML
    # forbids it): dropped once here, before the body reaches Markdown, summary or search.
    return parse_text(text.replace("\x00", ""), path, shown, kind, options, fingerprint)


def parse_text(
    text: str, path: Path, shown: str, kind: str, options: ReadOptions, fingerprint: bytes = b""
) -> tuple[Post | None, list[Problem]]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta, lines, body, body_line, problems = _split_front_matter(text, shown)
    if meta is None:
        return None, problems

    def problem(key: str | None, message: str) -> None:
        problems.append(Problem(shown, lines.get(key, 1) if key else 1, message))

    title = _title(meta, problem)
    date = _field_date(meta, "date", options, problem)
    if kind == Kind.POST and date is None and "date" not in meta:
        problem(None, "missing required front matter field 'date'")
    updated = _field_date(meta, "updated", options, problem) or _field_date(
        meta, "lastmod", options, problem
    )
    slug = _slug(meta, path, problem)
    tags, categories = _terms(meta, problem)
    summary = _typed(meta, "summary", str, problem, default=meta.get("description"))
    draft = _typed(meta, "draft", bool, problem, default=False, fallback=False)
    show_related, pinned = _related(meta, problem)
    author = _typed(meta, "author", str, problem)
    image = _typed(meta, "image", str, problem)
    own_url = _own_url(meta, problem)
    aliases = _aliases(meta, problem)

    if problems:
        return None, problems

    params = {k: v for k, v in meta.items() if k not in KNOWN_FIELDS}
    url = own_url or post_url(
        kind,
        slug,
        date,
        options.permalink,
        section=_section(path, options.content_root),
        category=slugify(categories[0]) if categories else "",
        filename=_filename(path),
    )

    post = Post(
        source=path,
        kind=Kind(kind),
        title=str(title).strip(),
        date=date,
        updated=updated,
        slug=slug,
        body=body,
        body_line=body_line,
        tags=tags,
        categories=categories,
        summary=(summary or "").strip() or first_paragraph_text(body),
        dek=(summary or "").strip(),
        draft=draft,
        author=author,
        image=image,
        related=pinned,
        show_related=show_related,
        params=MappingProxyType(params),
        url=url,
        aliases=aliases,
        field_lines=MappingProxyType(lines),
        fingerprint=fingerprint,
    )
    return post, []


def _title(meta: dict, problem: Callable) -> str:
    title = meta.get("title")
    if title is None or (isinstance(title, str) and not title.strip()):
        problem("title", "missing required front matter field 'title'")
        return ""
    if not isinstance(title, str | int | float):
        problem("title", "'title' must be text")
        return ""
    return title


# An explicit slug that is already one safe URL segment is kept as written (lower-cased, as
# Hugo does): `a_b` stays `a_b`, never silently becomes `a-b`.
_SAFE_SLUG = re.compile(r"[\w~-][\w.~-]*")


def slug_for(given: object, stem: str) -> str:
    """The slug quire gives a file: its `slug:` kept as written when it is one safe URL
    segment (lower-cased), else made into one; no slug: the file name's ('' if impossible)."""
    kept = isinstance(given, str) and _SAFE_SLUG.fullmatch(given.lower()) and len(given) <= 100
    if kept and not slugify(given).endswith("-"):  # slugify defuses 'con', 'nul'... with '-'
        return given.lower()
    return slugify(str(given or stem))


def _slug(meta: dict, path: Path, problem: Callable) -> str:
    slug_source = meta.get("slug") or (path.parent.name if path.name == "index.md" else path.stem)
    slug = slug_for(meta.get("slug"), slug_source)
    if not slug:
        problem("slug" if "slug" in meta else None, f"cannot make a URL slug from {slug_source!r}")
    return slug


_URL_PATH = re.compile(r"/(?:[\w.~%!$&'()*+,;=:@-]+/)*(?:[\w.~%!$&'()*+,;=:@-]+)?")


def clean_site_path(value: object) -> tuple[str | None, str | None]:
    """A site path from front matter (`url:`, `aliases:`) normalised, or (None, why).

    A leading / is added; a path with no file extension gets a trailing / (a folder)."""
    if not isinstance(value, str | int | float) or isinstance(value, bool) or not str(value):
        return None, "must be a site path such as /2019/old-post/"
    text = str(value).strip()
    if text.startswith(("http://", "https://", "//")):
        return None, f"{text!r} must be a site path (starting with /), not a full URL"
    path = "/" + text.lstrip("/")
    if ".." in path.split("/") or not _URL_PATH.fullmatch(path):
        return None, f"{text!r} is not a safe site path (no '..', spaces, quotes or backslashes)"
    last = path.rsplit("/", 1)[1]
    if last and "." not in last:
        path += "/"
    return path, None


def _own_url(meta: dict, problem: Callable) -> str | None:
    if meta.get("url") in (None, ""):
        return None
    path, why = clean_site_path(meta["url"])
    if why:
        problem("url", f"'url' {why}")
    return path


def _aliases(meta: dict, problem: Callable) -> tuple[str, ...]:
    value = meta.get("aliases")
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        problem("aliases", "'aliases' must be a list of site paths")
        return ()
    found: dict[str, None] = {}
    for item in items:
        path, why = clean_site_path(item)
        if why:
            problem("aliases", f"alias {why}")
        else:
            found.setdefault(path, None)
    return tuple(found)


def _section(path: Path, content_root: Path | None) -> str:
    """The folder under content/posts/ a post lives in ('posts' at the top; a bundle's
    own folder does not count)."""
    if content_root is None:
        return "posts"
    try:
        parts = path.relative_to(content_root / "posts").parts
    except ValueError:
        return "posts"
    if path.name == "index.md":
        parts = parts[:-1]
    return parts[0] if len(parts) > 1 else "posts"


def _filename(path: Path) -> str:
    stem = path.parent.name if path.name == "index.md" else path.stem
    return re.sub(r"\s+", "-", stem.strip()).lower()


def _terms(meta: dict, problem: Callable) -> tuple[tuple[str, ...], tuple[str, ...]]:
    tags = _string_list(meta.get("tags"), "tags", problem, MAX_TERMS)
    categories = _string_list(
        meta.get("categories", meta.get("category")), "category", problem, MAX_TERMS
    )
    category_key = "categories" if "categories" in meta else "category"
    raw = {"tags": meta.get("tags"), category_key: meta.get(category_key)}
    for key, names in (("tags", tags), (category_key, categories)):
        if len(names) > MAX_TERMS:  # checked before any slug is made: a million took 52 s
            given = raw[key]
            count = given.count(",") + 1 if isinstance(given, str) else len(given)
            problem(key, f"too many {key} ({count}; at most {MAX_TERMS} per post)")
            continue
        for name in names:
            if not slugify(name):
                problem(
                    key,
                    f"cannot make a URL from the name {name!r} in '{key}' (URL slugs use letters and digits)",
                )
    return tags, categories


_TYPE_NAMES = {str: "text", bool: "true or false"}


def _typed(meta: dict, key: str, kind: type, problem: Callable, default=None, fallback=None):
    """meta[key] (or default) when it has the right type, else `fallback` and a problem.
    None is fine where the default is None: the field is optional."""
    value = meta.get(key, default)
    if isinstance(value, kind) or (value is None and default is None):
        return value
    problem(key, f"'{key}' must be {_TYPE_NAMES[kind]}")
    return fallback


def _related(meta: dict, problem: Callable) -> tuple[bool, tuple[str, ...] | None]:
    related = meta.get("related")
    if isinstance(related, list | str):
        return True, tuple(slugify(s) for s in _string_list(related, "related", problem))
    if related not in (None, True, False):
        problem("related", "'related' must be a list of slugs, or false")
    return related is not False, None


def _line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _split_front_matter(text: str, shown: str):
    """Returns (meta, key -> line, body, line the body starts on, problems)."""
    handler = frontmatter.detect_format(text, _HANDLERS)
    if handler is None:
        return None, {}, text, 1, [Problem(shown, 1, "no front matter: start the file with ---")]
    delimiters = handler.FM_BOUNDARY.finditer(text)
    opening = next(delimiters, None)
    closing = next(delimiters, None)
    if opening is None or opening.start() != 0:
        return None, {}, text, 1, [Problem(shown, 1, "front matter must start on the first line")]
    if closing is None:
        return (
            None,
            {},
            text,
            1,
            [Problem(shown, 1, "front matter is not closed (missing closing delimiter)")],
        )
    fm_text = text[opening.end() : closing.start()]
    first = _line_at(text, opening.end())  # the line fm_text's first character is on
    body = text[closing.end() :].lstrip("\n")
    body_line = _line_at(text, len(text) - len(body))
    if len(fm_text) > MAX_FRONT_MATTER:  # parsing 9 MB of YAML (a million tags) takes ~20 s
        message = f"front matter is too large ({len(fm_text) // 1024} KB; at most 256 KB)"
        return None, {}, body, body_line, [Problem(shown, first, message)]
    try:
        if isinstance(handler, _TOMLHandler):
            meta = tomllib.loads(fm_text)
        else:
            meta, found = load_yaml(fm_text, first + 1, shown)
            if found:
                return None, {}, body, body_line, found
    except yaml.MarkedYAMLError as err:
        line, reason = _yaml_error_place(err, fm_text)
        return (
            None,
            {},
            body,
            body_line,
            [Problem(shown, first + line, f"invalid YAML front matter: {reason}")],
        )
    except yaml.YAMLError as err:
        return None, {}, body, body_line, [Problem(shown, 1, f"invalid YAML front matter: {err}")]
    except tomllib.TOMLDecodeError as err:
        return None, {}, body, body_line, [_toml_problem(err, fm_text, first + 1, shown)]
    except RecursionError:
        message = "invalid front matter: values nested too deeply"
        return None, {}, body, body_line, [Problem(shown, first, message)]
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        return (
            None,
            {},
            body,
            body_line,
            [Problem(shown, first, "front matter must be key: value pairs")],
        )
    meta = {str(clean_text(k)): clean_text(v) for k, v in meta.items()}
    lines = {key: first + line - 1 for key, line in key_lines(fm_text).items()}
    return meta, lines, body, body_line, []


def _yaml_error_place(err: yaml.MarkedYAMLError, fm_text: str) -> tuple[int, str]:
    """(0-based line in the front matter, reason) a writer can act on: an unclosed quote is
    placed where the quote opens (PyYAML marks the end of the front matter), and a tab
    that breaks indentation is called a tab."""
    if err.context and "quoted scalar" in err.context and err.context_mark:
        mark = err.context_mark
        quote = fm_text[mark.index : mark.index + 1] or "quote"
        return mark.line, f"the {quote} quote opened here is never closed"
    mark = err.problem_mark or err.context_mark
    if mark is None:
        return 0, err.problem or str(err)
    if fm_text[mark.index : mark.index + 1] == "\t" or "tab character" in (err.problem or ""):
        return mark.line, "a tab character: indent YAML with spaces, not tabs"
    return mark.line, err.problem or str(err)


MAX_YAML_NODES = 20_000  # after expanding aliases: stops "billion laughs" front matter
MAX_YAML_DEPTH = 50


def load_yaml(text: str, first_line: int, shown: str) -> tuple[object, list[Problem]]:
    """YAML to Python, refusing what PyYAML lets through: duplicate keys (it keeps the
    last one silently), self-referring or exploding aliases, and impossible dates
    (which raise ValueError, not YAMLError). Lines are the file's: `first_line` is the
    line after the opening delimiter. YAMLError propagates for the caller to place."""
    root = yaml.compose(text, Loader=_YAML_LOADER)
    if root is None:
        return None, []
    problems = yaml_node_problems(root, shown, first_line - 1)
    if problems:
        return None, problems
    try:
        return _YAML_LOADER("").construct_document(root), []
    except yaml.MarkedYAMLError:
        raise
    except (yaml.YAMLError, ValueError, OverflowError, TypeError) as err:
        line = failing_scalar_line(root)
        where = first_line - 1 + line if line else first_line
        return None, [Problem(shown, where, f"invalid value in front matter: {err}")]


def yaml_node_problems(root: yaml.Node, shown: str, line_offset: int) -> list[Problem]:
    """Duplicate keys, self-referring aliases and alias explosions in a composed document.

    `line_offset` + a node's 0-based mark line = its line in the file.
    """
    problems: list[Problem] = []
    visits = 0

    def walk(node: yaml.Node, path: tuple[int, ...], where: int) -> bool:
        nonlocal visits
        visits += 1
        if id(node) in path:
            problems.append(Problem(shown, where, "an alias refers to itself"))
            return False
        if visits > MAX_YAML_NODES or len(path) > MAX_YAML_DEPTH:
            problems.append(
                Problem(shown, where, "value too large or too deeply nested (aliases?)")
            )
            return False
        inner = (*path, id(node))
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                key_line = line_offset + key.start_mark.line
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    if (key.tag, key.value) in seen:
                        first = seen[(key.tag, key.value)]
                        message = f"duplicate key '{key.value}' (first on line {first})"
                        problems.append(Problem(shown, key_line, message))
                    else:
                        seen[(key.tag, key.value)] = key_line
                at = key_line if not path else where  # problems inside a value: its key's line
                if not (walk(key, inner, at) and walk(value, inner, at)):
                    return False
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                if not walk(item, inner, where):
                    return False
        return True

    walk(root, (), line_offset + root.start_mark.line)
    return problems


def failing_scalar_line(root: yaml.Node) -> int | None:
    """0-based line of the first scalar PyYAML cannot construct (e.g. date 2025-13-45)."""
    stack = [root]
    while stack:
        node = stack.pop(0)
        if isinstance(node, yaml.ScalarNode):
            try:
                _YAML_LOADER("").construct_object(node)
            except Exception:
                return node.start_mark.line
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: object) -> object:
    """Strings from YAML may hold NUL, control characters or lone surrogates (via escapes);
    no page, feed or file name wants them, and some crash XML writers or UTF-8 encoding."""
    if isinstance(value, str):  # printable: none of them (a C scan; most values are)
        return value if value.isprintable() else _UNPRINTABLE.sub("", value)
    if isinstance(value, list):
        return [clean_text(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k): clean_text(v) for k, v in value.items()}
    return value


def _toml_problem(
    err: tomllib.TOMLDecodeError, fm_text: str, fm_start_line: int, shown: str
) -> Problem:
    """tomllib's message counts lines from the delimiter and never names a duplicate key."""
    match = re.search(r"\(at line (\d+), column \d+\)", str(err))
    if not match:
        return Problem(shown, 1, f"invalid TOML front matter: {err}")
    fm_line = int(match.group(1))
    reason = str(err)[: match.start()].strip()
    if reason.startswith("Cannot overwrite a value"):
        text = (fm_text.split("\n") + [""] * fm_line)[fm_line - 1]
        key = re.match(r"\s*([\w.\"'-]+)\s*=", text)
        reason = f"duplicate key '{key.group(1) if key else text.strip()}'"
    return Problem(shown, fm_start_line + fm_line - 2, f"invalid TOML front matter: {reason}")


_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M%z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d %B %Y",
    "%B %d, %Y",
    "%a, %d %b %Y %H:%M:%S %z",
)


_ZONE_NAME = re.compile(r"\s*(?:Z|UTC|GMT)$", re.IGNORECASE)
_SPACED_OFFSET = re.compile(r"(\d)\s+([+-]\d{2}:?\d{2})$")


def parse_date(value: object, timezone: str = "UTC") -> dt.datetime | None:
    """Any common date form to an aware datetime; None when it cannot be read.

    ISO 8601 (with Z, offsets, or none: then the site's zone), YAML and TOML dates,
    '2025-01-31 10:00 +0200', '31 January 2025', RFC 2822 as in old RSS imports.
    Years outside 1000..9998 are refused: converting them between zones overflows.
    """
    zone = ZoneInfo(timezone)
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, dt.date):
        result = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        result = _parse_date_text(value.strip())
        if result is None:
            return None
    else:
        return None
    if not 1000 <= result.year <= 9998:
        return None
    if result.tzinfo is None:
        result = result.replace(tzinfo=zone)
    return result


def _parse_date_text(text: str) -> dt.datetime | None:
    iso = _SPACED_OFFSET.sub(
        r"\1\2", _ZONE_NAME.sub("+00:00", text) if text[:1].isdigit() else text
    )
    try:
        return dt.datetime.fromisoformat(iso)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(iso, fmt)
        except ValueError:
            continue
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _field_date(meta, key, options, problem):
    if key not in meta or meta[key] in (None, ""):
        return None
    value = parse_date(meta[key], options.timezone)
    if value is None:
        problem(key, f"cannot read '{key}' {meta[key]!r} as a date (use YYYY-MM-DD or ISO 8601)")
    return value


def _string_list(value, key, problem, limit: int | None = None) -> tuple[str, ...]:
    """The distinct non-empty names; with `limit`, reading stops at limit + 1 of them."""
    if value is None:
        return ()
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    elif isinstance(value, list | tuple):
        items = []
        for item in value:
            if isinstance(item, str | int | float) and not isinstance(item, bool):
                items.append(str(item).strip())
            else:
                problem(key, f"'{key}' must be a list of words")
                return ()
    else:
        problem(key, f"'{key}' must be a list or a comma-separated string")
        return ()
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
            if limit is not None and len(seen) > limit:
                break
    return tuple(seen)


# Bounded quantifiers: an unclosed `[` or `<` costs a bounded look-ahead, never a scan to
# the end of the block for each of 100,000 of them.
_MD_NOISE = re.compile(
    r"!\[[^\]]{0,500}\]\([^)]{0,2000}\)|\[([^\]]{0,500})\]\([^)]{0,2000}\)|[*_`#>]|<[^>]{1,500}>"
)
SUMMARY_SCAN = 4000  # characters of the first paragraph's markup read for the summary


def first_paragraph_text(body: str, limit: int = 300) -> str:
    """Plain text of the first paragraph: the default summary for lists and feeds.

    Linear in the body, whatever it holds: fences and shortcodes are skipped in one forward
    pass, and only the first SUMMARY_SCAN characters of the paragraph are read.
    """
    for block in _blocks(_without_shortcodes(_without_fences(body))):
        block = block.strip()
        if not block or block.startswith(("#", "|", "    ", "<")):
            continue
        cut = len(block) > SUMMARY_SCAN
        plain = " ".join(_MD_NOISE.sub(lambda m: m.group(1) or "", block[:SUMMARY_SCAN]).split())
        if plain:
            if len(plain) > limit:
                plain = plain[:limit].rsplit(" ", 1)[0] + "…"
            elif cut:
                plain += "…"
            return plain
    return ""


def _without_fences(text: str) -> str:
    """Text with fenced code blocks (``` or ~~~ at a line start, to the next such line)
    removed; an unclosed fence is left as text."""
    out: list[str] = []
    fenced: list[str] = []
    marker = ""
    for line in text.splitlines(keepends=True):
        if marker:
            if line.startswith(marker):
                out.append(line[3:])
                marker = ""
                fenced = []
            else:
                fenced.append(line)
        elif line.startswith(("```", "~~~")):
            marker = line[:3]
            fenced = [line]
        else:
            out.append(line)
    out.extend(fenced)
    return "".join(out)


def _without_shortcodes(text: str) -> str:
    """Text with `{{< ... >}}` and `{{% ... %}}` removed, in one forward pass: where each
    closer next occurs is remembered until passed, so a megabyte of unclosed `{{<` costs
    one scan, not one per opener."""
    out: list[str] = []
    ahead = {">}}": -2, "%}}": -2}
    pos = 0
    start = text.find("{{", pos)
    while start != -1:
        if text[start + 2 : start + 3] not in ("<", "%"):
            start = text.find("{{", start + 1)
            continue
        ends = []
        for closer, at in ahead.items():
            if at != -1 and at < start + 3:
                at = ahead[closer] = text.find(closer, start + 3)
            if at != -1:
                ends.append(at)
        if not ends:
            break  # no closer anywhere after: nothing more to remove
        end = min(ends)
        out.append(text[pos:start])
        pos = end + 3
        start = text.find("{{", pos)
    out.append(text[pos:])
    return "".join(out)


def _blocks(text: str):
    """Paragraphs: runs of lines between lines holding only whitespace."""
    lines: list[str] = []
    for line in text.split("\n"):
        if line.strip():
            lines.append(line)
        elif lines:
            yield "\n".join(lines)
            lines = []
    if lines:
        yield "\n".join(lines)


# The placeholders a permalink may use; anything else in braces is refused by config.py.
PERMALINK_FIELDS = ("slug", "year", "month", "day", "section", "category", "filename")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def post_url(
    kind: str,
    slug: str,
    date: dt.datetime | None,
    permalink: str,
    *,
    section: str = "posts",
    category: str = "",
    filename: str = "",
) -> str:
    """A post's site path from the permalink pattern; a page's is /slug/.

    Placeholders are replaced by plain substitution (never str.format: no format specs or
    attributes). A pattern ending in .html gives a file, anything else a folder."""
    if kind == Kind.PAGE:
        return f"/{slug}/"
    date = date or dt.datetime(1970, 1, 1)
    values = {
        "slug": slug,
        "year": f"{date.year:04d}",
        "month": f"{date.month:02d}",
        "day": f"{date.day:02d}",
        "section": section or "posts",
        "category": category or "uncategorized",
        "filename": filename or slug,
    }
    url = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), permalink)
    if not url.startswith("/"):
        url = "/" + url
    if not url.endswith(("/", ".html")):
        url += "/"
    return url
