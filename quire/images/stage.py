"""The image stage for a whole site: find the images it uses, make their variants, draw them.

Images come from front matter `image` (relative to the post's folder, where its bundle files
are published), `content/products.yaml` (relative to the site root) and the `<img>` tags of
rendered bodies (Markdown images and shortcode templates, relative to the page's URL). Each
one resolves to a site path ("/posts/x/hero.jpg") and through the static files to its source
file; a local image that is not there is an error at the file and line that names it.

Every local raster image is planned and encoded (encode.py) into the variant cache; a
`(size, mtime_ns, ctime_ns)` stat of the source finds its content digest in the `images`
memo, so an unchanged image is not even read. Only images whose variants the cache lacks
are encoded, in the worker pool. Body `<img>` tags become `<picture>` (a pass over the
rendered HTML: the Markdown engine is not involved), posts' `image` becomes a site path and
gets an `og_image` (the 1200w variant), and templates draw images with `picture(src, ...)`.

`Pictures(lazy=True)` is the preview's: nothing is encoded, every image is its original
(with width and height read from its header), so a preview never waits for encoding.
"""

from __future__ import annotations

import html as html_lib
import mimetypes
import os
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markupsafe import Markup, escape

from quire.config import SiteConfig
from quire.images import encode
from quire.images.encode import ImageError, ImagePlan, ImageSettings
from quire.incremental.digest import digest, parts_digest
from quire.incremental.memo import MISSING, Memo
from quire.model import Kind, OgImage, Post, Rendered
from quire.parallel import parallel_map
from quire.problems import Problem, display_path
from quire.urls import check_url

CATALOG = Path("content") / "products.yaml"
# The theme's article column is 42rem (~670 px) wide from 48rem screens up.
BODY_SIZES = "(min-width: 48rem) 42rem, calc(100vw - 2rem)"


@dataclass(frozen=True)
class Entry:
    """One local image the site uses: its source, its plan and its cached variant files
    (empty when the original is served as it is: SVG, GIF, images off, the preview)."""

    key: str  # site path: /posts/x/hero.jpg
    source: Path
    plan: ImagePlan
    files: Mapping[str, Path]

    @property
    def folder(self) -> str:
        return self.key.rsplit("/", 1)[0] + "/"


def site_key(src: str, base: str = "/") -> str | None:
    """The site path an image reference points at, relative ones resolved against `base`
    (a URL folder, as a browser would); None for remote, data: and empty references."""
    src = str(src).strip()
    if not src or encode.is_remote(src) or src.lower().startswith("data:"):
        return None
    parts = urlsplit(src)
    if parts.scheme or parts.netloc:  # not a site path (a bad one is read/'s to report)
        return None
    path = unquote(parts.path)
    if not path:
        return None
    if not path.startswith("/"):
        if base.endswith(".html"):  # a page that is a file (/2020/x.html): its folder
            base = base.rsplit("/", 1)[0] + "/"
        path = posixpath.join(base if base.endswith("/") else base + "/", path)
    path = posixpath.normpath(path)
    return path if path.startswith("/") else "/" + path


def source_map(static: Iterable[tuple[str, Path]]) -> dict[str, Path]:
    """Site path -> source file, from plan.static_files (the first source of a path wins)."""
    found: dict[str, Path] = {}
    for rel, path in static:
        found.setdefault("/" + rel, path)
    return found


class Pictures:
    """The site's images by site path, and the HTML for them (the `picture()` of templates)."""

    def __init__(
        self,
        config: SiteConfig,
        sources: Mapping[str, Path],
        lazy: bool = False,
        refresh=None,
    ):
        self.config = config
        self.settings: ImageSettings = config.images
        if lazy:
            self.settings = replace(self.settings, enabled=False)
        self.sources = dict(sources)
        self.lazy = lazy
        self.refresh = refresh  # lazy: a callable giving the source map again (new files)
        self.entries: dict[str, Entry] = {}
        self._resolved: dict[str, tuple] = {}
        self.reported: set[str] = (
            set()
        )  # missing in products.yaml: reported there, once  # site path -> (og_image, digest): once per image
        self.encoded = 0  # variants encoded by this build (0 when the cache had them all)

    # ------------------------------------------------------------ looking up

    def source(self, key: str) -> Path | None:
        found = self.sources.get(key)
        if found is None and self.lazy and self.refresh is not None:
            self.sources = dict(self.refresh())
            found = self.sources.get(key)
        return found

    def entry(self, key: str) -> Entry | None:
        found = self.entries.get(key)
        if found is None and self.lazy:
            path = self.source(key)
            if path is None:
                return None
            try:
                info = encode.inspect_image(path, self.settings)
            except ImageError:
                return None
            found = self.entries[key] = Entry(
                key, path, encode.plan_variants(info, self.settings), {}
            )
        return found

    def og(self, src: str | None, base: str = "/") -> OgImage | None:
        if not src:
            return None
        key = site_key(src, base)
        if key is None:
            return OgImage(src) if encode.is_remote(src) else None
        entry = self.entry(key)
        if entry is None:
            return None
        plan = entry.plan
        if plan.og is not None and plan.og.name in entry.files:
            og, file = plan.og, entry.files[plan.og.name]
            return OgImage(entry.folder + og.name, og.mime, _size(file), og.width, og.height)
        mime = mimetypes.guess_type(entry.source.name)[0]
        return OgImage(key, mime, _size(entry.source), plan.width, plan.height)

    # ------------------------------------------------------------ HTML

    def html(
        self,
        src: str | None,
        alt: str = "",
        *,
        sizes: str = "100vw",
        first: bool = False,
        css_class: str | None = None,
        title: str | None = None,
        base: str = "/",
        root: bool = False,
    ) -> Markup:
        """`<picture>` (or `<img>`) for an image reference. URLs keep base_url's sub folder,
        except with `root` (body HTML, whose root links views.py rebases itself)."""
        if not src:
            return Markup("")
        src = str(src)
        alt = "" if alt is None else str(alt)
        url = (lambda p: p) if root else self.config.relative
        key = site_key(src, base)
        entry = self.entry(key) if key else None
        if entry is None:
            shown = url(key) if key else src
            attrs = {"src": shown, "alt": alt, "title": title, "class": css_class}
            return Markup(f"<img{_attrs({**attrs, **encode.img_attrs(first)})}>")
        if entry.plan.passthrough or not entry.files:
            plan = ImagePlan(entry.plan.source)
        else:
            plan = entry.plan
        return encode.picture_html(
            plan,
            url(entry.folder),
            alt,
            original_url=url(key),
            sizes=sizes,
            first=first,
            title=title,
            css_class=css_class,
        )

    def picture(self, src=None, alt="", sizes="100vw", first=False, **attrs) -> Markup:
        """Templates: `picture(post.image, post.title, sizes="...", first=true, class="x")`."""
        css_class = attrs.get("class") or attrs.get("class_")
        return self.html(
            src, alt, sizes=sizes, first=bool(first), css_class=css_class, title=attrs.get("title")
        )

    # ------------------------------------------------------------ posts and bodies

    def resolve_post(self, post: Post) -> Post:
        """The post with `image` as a site path and its og_image; its fingerprint now covers
        the image's plan (pages showing it are drawn again when the image changes size)."""
        if not post.image:
            return post
        key = site_key(post.image, post.url)
        image = key if key and (self.lazy or key in self.entries) else post.image
        found = self._resolved.get(image)
        if found is None:
            og = self.og(image)
            entry = self.entries.get(key) if key else None
            found = self._resolved[image] = (og, digest((entry.plan if entry else None, og)))
        og, image_key = found
        return replace(
            post,
            image=image,
            og_image=og,
            fingerprint=digest((post.fingerprint or digest(post), "image", image_key)),
        )

    def rewrite(self, item: Rendered, site: Path) -> tuple[Rendered, list[Problem]]:
        """The body's `<img>` tags as `<picture>`, and its problems (missing images, empty alt)."""
        post = self.resolve_post(item.post)
        text = item.body.html
        if "<img" not in text:
            return Rendered(post, item.body), []
        problems: list[Problem] = []
        shown = _LazyPath(post.source, site)
        hero = post.kind is Kind.POST and bool(post.image)
        parts: list[str] = []
        last = 0
        first = not hero
        for tag, start, end in _img_tags(text):
            attrs = _parse_attrs(tag)
            src = attrs.get("src", "")
            line = _line_of(post, src)
            written = src in post.body  # not a template's (a decorative thumbnail's) own
            if written and ("alt" not in attrs or not attrs["alt"].strip()):
                problems.append(
                    Problem(str(shown), line, f"image '{src}' has no alt text (describe it)", True)
                )
            key = site_key(src, post.url)
            if key is None:
                new = _with_loading(tag, first) if encode.is_remote(src) else tag
            elif self.entry(key) is None:
                from_shortcode = key in self.reported and src not in post.body
                if self.source(key) is None and not from_shortcode:
                    problems.append(Problem(str(shown), line, _missing(src, key)))
                new = tag
            else:
                new = self.html(
                    key,
                    attrs.get("alt", ""),
                    sizes=attrs.get("sizes") or BODY_SIZES,
                    first=first,
                    css_class=attrs.get("class"),
                    title=attrs.get("title"),
                    root=True,
                )
            parts.append(text[last:start])
            parts.append(new)
            last = end
            first = False
        parts.append(text[last:])
        # Markup once here: the view shows this very object (views.full_view), and the
        # pictures memo keeps it; a plain str would be copied into a Markup there
        body = replace(item.body, html=Markup("".join(parts)))
        return Rendered(post, body), problems


class _LazyPath:
    """display_path(path, site) when first needed: most bodies have nothing to report."""

    def __init__(self, path: Path, site: Path):
        self.path, self.site, self.text = path, site, None

    def __str__(self) -> str:
        if self.text is None:
            self.text = display_path(self.path, self.site)
        return self.text


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _missing(src: str, key: str) -> str:
    return f"image not found: '{src}' (no file for {key} in content/ or theme/)"


def _attrs(pairs: Mapping[str, object]) -> str:
    return "".join(f' {k}="{escape(v)}"' for k, v in pairs.items() if v is not None)


_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_PICTURE = re.compile(r"<picture\b.*?</picture\s*>", re.IGNORECASE | re.DOTALL)
_ATTR = re.compile(r"""([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")


def _img_tags(text: str) -> list[tuple[str, int, int]]:
    """Every <img> not already inside a <picture>: (tag, start, end)."""
    inside = [(m.start(), m.end()) for m in _PICTURE.finditer(text)]
    found = []
    for match in _IMG.finditer(text):
        if any(a <= match.start() < b for a, b in inside):
            continue
        found.append((match.group(0), match.start(), match.end()))
    return found


def _parse_attrs(tag: str) -> dict[str, str]:
    inner = tag[4:].rstrip(">").rstrip("/")
    attrs = {}
    for name, dq, sq, bare in _ATTR.findall(inner):
        value = dq or sq or bare
        attrs.setdefault(name.lower(), html_lib.unescape(value))
    return attrs


def _with_loading(tag: str, first: bool) -> str:
    """A remote <img> passes through, with loading/decoding added when it has none (and no
    `sizes` without a srcset: the buy box template writes one for its local images)."""
    if " sizes=" in tag and " srcset=" not in tag:
        tag = re.sub(r"""\ssizes=("[^"]*"|'[^']*')""", "", tag)
    lower = tag.lower()
    extra = {k: v for k, v in encode.img_attrs(first).items() if f"{k}=" not in lower}
    if not extra:
        return tag
    end = -2 if tag.endswith("/>") else -1
    return tag[:end].rstrip() + _attrs(extra) + tag[end:]


def _line_of(post: Post, src: str) -> int:
    """The line of the Markdown that names `src` (the body's first line if none does)."""
    at = post.body.find(src) if src else -1
    if at < 0:
        at = post.body.find(html_lib.escape(src)) if src else -1
    return post.body_line + (post.body.count("\n", 0, at) if at >= 0 else 0)


def _catalog_line(text: str, start: int) -> int:
    lines = text.splitlines()
    for i in range(max(0, start - 1), len(lines)):
        if re.match(r"\s*image\s*:", lines[i]):
            return i + 1
    return start


# ---------------------------------------------------------------- the stage


def _encode_at(state: tuple[ImageSettings, Path, Sequence[Path]], index: int):
    settings, cache_dir, paths = state
    try:
        return encode.encode_image(paths[index], settings, cache_dir)
    except ImageError as error:
        return error


def run(
    loaded,
    rendered: Sequence[Rendered],
    site: Path,
    pictures: Pictures,
    cache_dir: Path,
    memo: Memo | None = None,
    workers: int = 1,
    progress: bool = False,
    blocked: bool = False,
    rewrite_memo: Memo | None = None,
) -> tuple[list[Rendered], list[Problem]]:
    """Resolve every image the site uses, encode what the cache lacks (not when `blocked`
    by earlier errors: the build fails anyway), and rewrite the bodies. Fills `pictures`."""
    memo = memo if memo is not None else Memo()
    refs, problems = _wanted(loaded, rendered, site, pictures)
    if not blocked and not any(not p.warning for p in problems):
        problems.extend(_make(pictures, refs, cache_dir, memo, workers, progress, site))
    rewrites = rewrite_memo if rewrite_memo is not None else Memo()
    out, found = _rewrite_all(rendered, site, pictures, rewrites)
    problems.extend(p for p in found if p not in problems)
    return out, problems


def _wanted(
    loaded, rendered: Sequence[Rendered], site: Path, pictures: Pictures
) -> tuple[dict[str, tuple[str, int | None]], list[Problem]]:
    """Every local image the site names (front matter, the catalogue, bodies) with where it
    is first named; a missing one is a problem at that place."""
    problems: list[Problem] = []
    refs: dict[str, tuple[str, int | None]] = {}  # site path -> where it is first named

    def want(src: str, base: str, shown, line: int | None) -> None:
        key = site_key(src, base)
        if key is None or check_url(src, allow_relative=True):
            return  # remote, or refused by the read stage already
        if pictures.source(key) is None:
            problems.append(Problem(str(shown), line, _missing(src, key)))
        else:
            refs.setdefault(key, (shown, line))

    for post in (*loaded.posts, *loaded.pages):
        if post.image:
            want(post.image, post.url, _LazyPath(post.source, site), post.line_of("image"))
    catalog = None
    for product in loaded.products.values():
        if product.image:
            if catalog is None:
                try:
                    catalog = (site / CATALOG).read_text(encoding="utf-8")
                except OSError:
                    catalog = ""
            want(product.image, "/", str(CATALOG), _catalog_line(catalog, product.line))
            if (key := site_key(product.image)) and pictures.source(key) is None:
                pictures.reported.add(key)  # the buy boxes showing it say nothing more
    for item in rendered:
        for tag, _, _ in _img_tags(item.body.html):
            src = _parse_attrs(tag).get("src", "")
            # missing ones are reported by rewrite(), with the Markdown line
            key = site_key(src, item.post.url)
            if key is not None and pictures.source(key) is not None:
                refs.setdefault(key, (_LazyPath(item.post.source, site), None))
    return refs, problems


def _rewrite_all(
    rendered: Sequence[Rendered], site: Path, pictures: Pictures, rewrites: Memo
) -> tuple[list[Rendered], list[Problem]]:
    """Each body rewritten; a list is rewritten in place, so that each body as rendered can
    go as soon as its rewrite exists (not all of them only at the end)."""
    out = rendered if isinstance(rendered, list) else list(rendered)
    problems: list[Problem] = []
    epoch = digest(sorted((k, e.plan, tuple(e.files)) for k, e in pictures.entries.items()))
    for n, item in enumerate(out):
        if "<img" not in item.body.html:
            new, found = pictures.rewrite(item, site)
        else:  # ~0.5 ms a body: remembered while the body and every image's plan are the same
            key = parts_digest("rewrite", item.post.fingerprint, item.body.html, epoch)
            html_text, found = rewrites.get(key, lambda i=item: _rewritten(pictures, i, site))
            new = Rendered(pictures.resolve_post(item.post), replace(item.body, html=html_text))
        out[n] = new
        problems.extend(p for p in found if p not in problems)
    return out, problems


def _rewritten(pictures: Pictures, item: Rendered, site: Path) -> tuple[str, list[Problem]]:
    new, found = pictures.rewrite(item, site)
    return new.body.html, found


def _make(
    pictures: Pictures,
    refs: Mapping[str, tuple[str, int | None]],
    cache_dir: Path,
    memo: Memo,
    workers: int,
    progress: bool,
    site: Path,
) -> list[Problem]:
    settings = pictures.settings
    problems: list[Problem] = []
    todo: list[tuple[str, tuple]] = []
    for key in refs:
        path = pictures.sources[key]
        if path.suffix.lower() in encode.PASSTHROUGH_SUFFIXES:
            try:
                info = encode.inspect_image(path, settings)
            except ImageError as error:
                problems.append(_problem(refs[key], error))
                continue
            pictures.entries[key] = Entry(key, path, encode.plan_variants(info, settings), {})
            continue
        try:
            st = path.stat()
        except OSError:
            todo.append((key, ()))
            continue
        stat_key = ("source", str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        hit = memo.recall(stat_key)
        if hit is not MISSING:
            sha, info = hit
            plan = encode.plan_variants(info, settings)
            folder = cache_dir / sha[:2] / sha
            files = {v.name: folder / v.cache_name for v in plan.variants}
            try:
                present = set(os.listdir(folder))  # one call, not a stat per variant
            except OSError:
                present = set()
            if all(v.cache_name in present for v in plan.variants):
                pictures.entries[key] = Entry(key, path, plan, files)
                continue
        todo.append((key, stat_key))
    paths = [pictures.sources[key] for key, _ in todo]
    results = parallel_map(
        _encode_at, (settings, cache_dir, paths), len(paths), workers, progress, "Images", 1
    )
    for (key, stat_key), result in zip(todo, results, strict=True):
        if isinstance(result, ImageError):
            problems.append(_problem(refs[key], result, site))
            continue
        pictures.encoded += result.encoded
        pictures.entries[key] = Entry(key, pictures.sources[key], result.plan, result.files)
        if stat_key:
            memo.keep(stat_key, (result.digest, result.plan.source))
    clashes = encode.name_clashes((e.key.lstrip("/"), e.plan) for e in pictures.entries.values())
    for name, first, second in clashes:
        shown, line = refs.get("/" + second, (second, None))
        problems.append(
            Problem(
                str(shown), line, f"images {first} and {second} would both make {name}: rename one"
            )
        )
    return problems


def _problem(where: tuple[str, int | None], error: ImageError, site: Path | None = None):
    shown, line = where
    shown = str(shown)
    path = Path(error.path)
    absolute = site is not None and path.is_absolute()
    path_text = display_path(path, site) if absolute else error.path
    return Problem(shown, line, f"image {path_text}: {error.message}")


def publish(staged, pictures: Pictures) -> None:
    """Every variant next to its original in the output; StagedOutput.copy keeps a file
    (hard link, mtime kept) when the cached variant did not change."""
    for entry in pictures.entries.values():
        folder = entry.folder.lstrip("/")
        for name, cached in entry.files.items():
            staged.copy(folder + name, cached)
