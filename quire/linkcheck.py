"""Link checking (`quire check`): everything a build checks, plus every link and image in the built pages.

The build runs for real into a temporary folder (deleted afterwards), so the checks are
exactly the build's. Then each page's href/src is resolved against the page URL and looked
up among the built files (and `#fragment`s among the target's ids). A broken link is
reported where a writer can fix it: the Markdown line of the post it is in, else the line
of products.yaml or the template that has it, else the built page.
"""

from __future__ import annotations

import concurrent.futures
import posixpath
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from quire import defaults, pipeline
from quire.problems import Problem, display_path

LINK_ATTRS = {
    "a": ("href",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "script": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "iframe": ("src",),
}
BUILT = " (built page)"  # a link only the built HTML has: no source line to point at
SKIPPED_SCHEMES = ("mailto:", "tel:", "javascript:", "data:", "sms:", "about:")


@dataclass(frozen=True)
class Ref:
    """One href/src in a built page."""

    url: str
    line: int
    tag: str
    text: str = ""


@dataclass
class PageScan:
    refs: list[Ref] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    moved_to: str | None = None  # a redirect page's <meta http-equiv="refresh"> target


class _Scanner(HTMLParser):
    """Collects links (with their line and, for <a>, their text) and ids of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = PageScan()
        self._open_a: list[tuple[str, int, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        line = self.getpos()[0]
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            _, _, target = (values.get("content") or "").partition("url=")
            self.scan.moved_to = target.strip() or None
        for key in ("id",) + (("name",) if tag == "a" else ()):
            if values.get(key):
                self.scan.ids.add(values[key])
        for attr in LINK_ATTRS.get(tag, ()):
            value = values.get(attr)
            if not value:
                continue
            urls = [u.strip().split()[0] for u in value.split(",") if u.strip()]
            if attr != "srcset":
                urls = [value.strip()]
            for url in urls:
                if tag == "a":
                    self._open_a.append((url, line, []))
                else:
                    self.scan.refs.append(Ref(url, line, tag))

    def handle_data(self, data: str) -> None:
        for _, _, text in self._open_a:
            text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open_a:
            url, line, text = self._open_a.pop()
            self.scan.refs.append(Ref(url, line, "a", " ".join("".join(text).split())))

    def close(self) -> None:
        super().close()
        while self._open_a:
            url, line, text = self._open_a.pop()
            self.scan.refs.append(Ref(url, line, "a", " ".join("".join(text).split())))


def scan_page(text: str) -> PageScan:
    scanner = _Scanner()
    scanner.feed(text)
    scanner.close()
    return scanner.scan


def is_external(url: str) -> bool:
    lowered = url.lower()
    return lowered.startswith(("http://", "https://", "//"))


def is_skipped(url: str) -> bool:
    return url.lower().startswith(SKIPPED_SCHEMES) or url.startswith("{")


@dataclass(frozen=True)
class Broken:
    page: str  # the built page's URL path, e.g. /posts/x/
    ref: Ref
    reason: str


def site_origin(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}/"


def internal_url(url: str, origin: str) -> str | None:
    """A link's site path if it points into the site (absolute URLs to base_url count)."""
    if is_skipped(url):
        return None
    if not is_external(url):
        return url
    absolute = urljoin(origin, url)
    return "/" + absolute[len(origin) :] if absolute.startswith(origin) else None


def check_internal(
    out: Path, pages: dict[str, PageScan], base_path: str, origin: str
) -> list[Broken]:
    """Every internal href/src must name a built file; every #fragment an id on its page."""
    broken = []
    for page_url, scan in pages.items():
        for ref in scan.refs:
            url = internal_url(ref.url, origin)
            if url is None:
                continue  # external: --external checks those
            target = urljoin(page_url, url)
            parts = urlsplit(target)
            path = unquote(parts.path)
            if not path.startswith(base_path):
                broken.append(Broken(page_url, ref, f"points outside the site ({base_path})"))
                continue
            rel = path[len(base_path) :]
            found = resolve(out, rel)
            if found is None:
                broken.append(Broken(page_url, ref, "no such page or file"))
                continue
            fragment = unquote(parts.fragment)
            if fragment and not _has_id(out, pages, found, fragment, base_path, origin):
                broken.append(Broken(page_url, ref, f"no id '{fragment}' on that page"))
    return broken


def _has_id(
    out: Path, pages: dict[str, PageScan], found: str, fragment: str, base_path: str, origin: str
) -> bool:
    """Whether #fragment is on the built file found (only HTML pages are looked into), or,
    for a redirect page (an alias), on the page it sends the reader to with the fragment."""
    if not found.endswith(".html") or fragment == "top":
        return True
    scan = _scan_of(pages, base_path, found)
    if scan is not None and scan.moved_to and fragment not in scan.ids:
        url = internal_url(scan.moved_to, origin)
        path = unquote(urlsplit(url).path) if url is not None else ""
        target = resolve(out, path[len(base_path) :]) if path.startswith(base_path) else None
        scan = _scan_of(pages, base_path, target) if target else scan
    return scan is None or fragment in scan.ids


def _scan_of(pages: dict[str, PageScan], base_path: str, found: str) -> PageScan | None:
    return pages.get(_served_at(base_path, found))


def _served_at(base_path: str, rel: str) -> str:
    """The URL path a built file is served at: x/index.html -> /x/, x.html -> /x.html."""
    return base_path + rel.removesuffix("index.html")


def resolve(out: Path, rel: str) -> str | None:
    """The built file a site path serves, as a static host would: x/ -> x/index.html."""
    rel = posixpath.normpath("/" + rel).lstrip("/") + ("/" if rel.endswith("/") else "")
    if rel in ("", "/"):
        rel = ""
    candidates = (
        [rel + "index.html"] if rel == "" or rel.endswith("/") else [rel, rel + "/index.html"]
    )
    for candidate in candidates:
        if (out / candidate).is_file():
            return candidate
    return None


# ---------------------------------------------------------------- external links


@dataclass(frozen=True)
class ExternalLimits:
    max_links: int = 200
    workers: int = 8
    timeout: float = 5.0  # per request
    total: float = 60.0  # for all of them


def check_external(urls: Iterable[str], limits: ExternalLimits) -> tuple[dict[str, str], int]:
    """HEAD each URL (GET if HEAD is refused); returns ({url: why broken}, skipped count)."""
    unique = sorted(set(urls))
    todo, skipped = unique[: limits.max_links], max(0, len(unique) - limits.max_links)
    failures: dict[str, str] = {}
    deadline = time.monotonic() + limits.total
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=limits.workers)
    try:
        futures = {pool.submit(_probe, url, limits.timeout, deadline): url for url in todo}
        try:
            for future in concurrent.futures.as_completed(
                futures, timeout=max(0.1, limits.total + 1)
            ):
                why = future.result()
                if why:
                    failures[futures[future]] = why
        except concurrent.futures.TimeoutError:
            for future, url in futures.items():
                if not future.done():
                    future.cancel()
                    failures.setdefault(url, "not checked: time limit reached")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return failures, skipped


def _probe(url: str, timeout: float, deadline: float) -> str | None:
    left = deadline - time.monotonic()
    if left <= 0:
        return "not checked: time limit reached"
    headers = {"User-Agent": "quire-check (link checker)"}
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=min(timeout, left)) as response:
                response.read(0)
                return None
        except urllib.error.HTTPError as err:
            if method == "HEAD" and err.code in (403, 405, 501):
                continue  # some servers refuse HEAD: ask again with GET
            return f"HTTP {err.code}"
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            return f"unreachable ({reason})"
    return None


# ---------------------------------------------------------------- where a link comes from


@dataclass(frozen=True)
class Origin:
    """Source files of the site, to find the line a link was written on."""

    site: Path
    config: object  # SiteConfig
    by_url: dict  # page URL -> Post
    extra_sources: tuple[Path, ...]  # products.yaml and templates, in search order

    def locate(self, broken: Broken) -> Problem:
        what = "image" if broken.ref.tag in ("img", "source", "video") else "link"
        message = f"broken {what} '{broken.ref.url}': {broken.reason}"
        post = self.by_url.get(broken.page)
        if post is not None:
            url = broken.ref.url
            base = self.config.base_path
            written = "/" + url[len(base) :] if base != "/" and url.startswith(base) else url
            line = _find_line(post.source, [url, unquote(url), f"({written}", unquote(written)])
            if line is None and broken.ref.text:
                line = _find_line(post.source, [f"[{broken.ref.text}]", broken.ref.text])
            if line is not None:
                return Problem(display_path(post.source, self.site), line, message)
        for source in self.extra_sources:
            line = _find_line(source, [broken.ref.url])
            if line is not None:
                return Problem(_shown(source, self.site), line, message)
        return Problem(f"{broken.page}{BUILT}", broken.ref.line, message)


def _shown(path: Path, site: Path) -> str:
    if path.is_relative_to(defaults.TEMPLATES):
        return "templates/" + path.relative_to(defaults.TEMPLATES).as_posix() + " (default)"
    return display_path(path, site)


def _find_line(path: Path, needles: list[str]) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for needle in needles:
        if not needle:
            continue
        for number, line in enumerate(lines, 1):
            if needle in line:
                return number
    return None


def make_origin(options: pipeline.BuildOptions) -> Origin:
    loaded = pipeline.load_site(options)
    by_url = {p.url: p for p in (*loaded.posts, *loaded.pages)}
    base = loaded.config.base_path.rstrip("/")
    by_url = {base + url: p for url, p in by_url.items()}
    extra = [options.site_dir / "content" / "products.yaml"]
    for folder in (options.site_dir / "templates", defaults.TEMPLATES):
        if folder.is_dir():
            extra.extend(sorted(folder.rglob("*.html")))
    extra_sources = tuple(p for p in extra if p.is_file())
    return Origin(options.site_dir, loaded.config, by_url, extra_sources)


# ---------------------------------------------------------------- the check


@dataclass(frozen=True)
class CheckOptions:
    site_dir: Path
    drafts: bool = False
    strict: bool = False
    external: bool = False
    limits: ExternalLimits = ExternalLimits()


@dataclass(frozen=True)
class CheckResult:
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    pages: int
    links: int
    external: int = 0
    external_skipped: int = 0


def check(options: CheckOptions) -> CheckResult:
    """Build into a temporary folder, check its links, delete it. Raises BuildFailed."""
    temp = Path(tempfile.mkdtemp(prefix="quire-check-"))
    try:
        build_options = pipeline.BuildOptions(
            site_dir=options.site_dir,
            output_dir=temp / "out",
            drafts=options.drafts,
            strict=options.strict,
            save_cache=False,  # the site's cache stays the real output's
        )
        result = pipeline.build(build_options)
        origin = make_origin(build_options)
        return _check_output(options, origin, temp / "out", result)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _check_output(options: CheckOptions, origin: Origin, out: Path, result) -> CheckResult:
    pages = _scan_pages(out, origin.config.base_path)
    own = site_origin(origin.config.base_url)
    broken = check_internal(out, pages, origin.config.base_path, own)
    external_count = skipped = 0
    if options.external:
        external, external_count, skipped = _external_broken(pages, own, options.limits)
        broken.extend(external)
    return CheckResult(
        problems=_problems(broken, origin),
        warnings=result.warnings,
        pages=len(pages),
        links=sum(len(s.refs) for s in pages.values()),
        external=external_count,
        external_skipped=skipped,
    )


def _scan_pages(out: Path, base_path: str) -> dict[str, PageScan]:
    """Every built HTML page, by the URL path it is served at."""
    pages: dict[str, PageScan] = {}
    for path in sorted(out.rglob("*.html")):
        rel = path.relative_to(out).as_posix()
        pages[_served_at(base_path, rel)] = scan_page(
            path.read_text(encoding="utf-8", errors="replace")
        )
    return pages


def _external_broken(
    pages: dict[str, PageScan], own: str, limits: ExternalLimits
) -> tuple[list[Broken], int, int]:
    """The broken external links, how many URLs were checked, how many were not."""
    wanted: dict[str, list[tuple[str, Ref]]] = {}
    for page_url, scan in pages.items():
        for ref in scan.refs:
            if is_external(ref.url) and internal_url(ref.url, own) is None:
                url = urljoin(own, ref.url).split("#", 1)[0]
                wanted.setdefault(url, []).append((page_url, ref))
    failures, skipped = check_external(wanted, limits)
    broken = [
        Broken(page_url, ref, why) for url, why in failures.items() for page_url, ref in wanted[url]
    ]
    return broken, min(len(wanted), limits.max_links), skipped


def _problems(broken: list[Broken], origin: Origin) -> tuple[Problem, ...]:
    """One line per place to fix, however many pages show it."""
    pages_of: dict[object, tuple[Problem, list[str]]] = {}
    for item in broken:
        problem = origin.locate(item)
        key = problem.message if problem.path.endswith(BUILT) else problem
        pages_of.setdefault(key, (problem, []))[1].append(item.page)
    return tuple(
        sorted(
            (_with_pages(problem, on, origin) for problem, on in pages_of.values()),
            key=lambda p: (p.path, p.line or 0, p.message),
        )
    )


def _with_pages(problem: Problem, pages: list[str], origin: Origin) -> Problem:
    unique = list(dict.fromkeys(pages))
    more = f" and {len(unique) - 1} more page(s)" if len(unique) > 1 else ""
    if problem.path.endswith(BUILT):
        return Problem(problem.path, problem.line, f"{problem.message}{more}")
    own = origin.by_url.get(unique[0])
    if len(unique) == 1 and own and display_path(own.source, origin.site) == problem.path:
        return problem  # in the Markdown of the page itself
    return Problem(problem.path, problem.line, f"{problem.message} (on {unique[0]}{more})")
