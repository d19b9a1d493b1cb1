"""`quire serve`: a live preview that shows each save within a second, errors included.

Two paths keep it fast and correct. A saved post or page is re-rendered on its own
(one file read, one Markdown body, one template: milliseconds) into an in-memory overlay,
and open tabs are told at once. A full build (quire.pipeline.build, into a folder of serve's
own) then runs in the background; when it lands, the overlay entries it covers are
dropped. Tabs learn of changes by Server-Sent Events from a script injected into served
HTML only (never into build output); a page reloads only when its own bytes changed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import html
import json
import mimetypes
import posixpath
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from quire import model, pipeline
from quire.model import Kind
from quire.output import OutputError
from quire.problems import BuildFailed, Problem, display_path
from quire.read import content

EVENTS_PATH = "/__quire/events"
HASH_PATH = "/__quire/hash"
KEEPALIVE_SECONDS = 10.0
RERANK_BUDGET = 0.1  # s: dearer re-ranking waits for the full build (a save shows in ~0.1 s)
WATCHED_DIRS = ("content", "templates", "theme")
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".webp": "image/webp",
    ".avif": "image/avif",
}


@dataclass(frozen=True)
class ServeOptions:
    site_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    drafts: bool = True
    output_dir: Path | None = None  # default: SITE/.quire-cache/serve-output
    log: Callable[[str], None] = print

    @property
    def output(self) -> Path:
        return self.output_dir or self.site_dir / ".quire-cache" / "serve-output"


@dataclass(frozen=True)
class State:
    """What a tab is told: a version number that moves on every change, and current errors."""

    version: int
    problems: tuple[Problem, ...]

    def event(self) -> bytes:
        data = {
            "version": self.version,
            "problems": [
                {"path": p.path, "line": p.line, "message": p.message, "text": str(p)}
                for p in self.problems
            ],
        }
        return f"event: state\ndata: {json.dumps(data)}\n\n".encode()


class Preview:
    """Shared by request threads, the watchers and the builder: guarded by one condition."""

    def __init__(self, options: ServeOptions, base_url: str):
        self.options = options
        self.base_url = base_url
        self.output = options.output.absolute()
        self.cond = threading.Condition()
        self.version = 0
        self.generation = 0  # counts change batches; builds cover all batches before they start
        self.overlay: dict[str, tuple[int, bytes]] = {}  # output path -> (generation, bytes)
        self.quick_problems: dict[str, tuple[int, tuple[Problem, ...]]] = {}
        self.full_problems: tuple[int, tuple[Problem, ...]] = (0, ())
        self.snapshot: pipeline.Snapshot | None = None
        self.dirty = threading.Event()
        self.closing = threading.Event()
        self.building = False

    # ------------------------------------------------------------ state for tabs

    def state(self) -> State:
        with self.cond:
            return State(self.version, self._problems())

    def _problems(self) -> tuple[Problem, ...]:
        full_gen, full = self.full_problems
        newer = {path for path, (gen, _) in self.quick_problems.items() if gen > full_gen}
        found = [p for p in full if p.path not in newer]
        for path in sorted(newer):
            found.extend(self.quick_problems[path][1])
        return tuple(p for p in found if not p.warning)

    def wait(self, seen: int, timeout: float) -> State:
        with self.cond:
            self.cond.wait_for(lambda: self.version != seen or self.closing.is_set(), timeout)
            return State(self.version, self._problems())

    def _changed(self) -> None:
        self.version += 1
        self.cond.notify_all()

    # ------------------------------------------------------------ updates

    def next_generation(self) -> int:
        with self.cond:
            self.generation += 1
            return self.generation

    def quick_result(
        self, gen: int, source: str, page: tuple[str, bytes] | None, problems: Iterable[Problem]
    ) -> None:
        with self.cond:
            if page is not None:
                self.overlay[page[0]] = (gen, page[1])
            self.quick_problems[source] = (gen, tuple(problems))
            self._changed()

    def full_result(self, gen: int, problems: Iterable[Problem], succeeded: bool) -> None:
        with self.cond:
            self.full_problems = (gen, tuple(problems))
            if succeeded:
                self.overlay = {k: v for k, v in self.overlay.items() if v[0] > gen}
            self.quick_problems = {k: v for k, v in self.quick_problems.items() if v[0] > gen}
            self._changed()

    def close(self) -> None:
        self.closing.set()
        self.dirty.set()
        with self.cond:
            self.cond.notify_all()

    # ------------------------------------------------------------ files

    def page_bytes(self, relpath: str) -> bytes | None:
        """The current bytes of an output file: the overlay first, then the built folder."""
        with self.cond:
            if relpath in self.overlay:
                return self.overlay[relpath][1]
        path = self.output / relpath
        for _ in range(3):  # a finishing build swaps folders: retry the short gap
            try:
                if path.is_file() and _inside(path, self.output):
                    return path.read_bytes()
                if not self.building:
                    return None
            except OSError:
                pass
            time.sleep(0.05)
        return None

    def is_dir(self, relpath: str) -> bool:
        with self.cond:
            if any(k.startswith(relpath.rstrip("/") + "/") for k in self.overlay):
                return True
        path = self.output / relpath
        return path.is_dir() and _inside(path, self.output)


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except OSError:
        return False


# ---------------------------------------------------------------- building


def build_options(preview: Preview) -> model.BuildOptions:
    return model.BuildOptions(
        site_dir=preview.options.site_dir,
        output_dir=preview.output,
        drafts=preview.options.drafts,
        base_url=preview.base_url,
    )


def full_build(preview: Preview) -> bool:
    """One full build into serve's folder; its problems replace the previous build's."""
    with preview.cond:
        gen = preview.generation
        preview.building = True
    log = preview.options.log
    try:
        result = pipeline.build(build_options(preview))
    except BuildFailed as failed:
        for problem in failed.problems:
            log(str(problem))
        errors = [p for p in failed.problems if not p.warning] or failed.problems
        log(f"Build failed: {len(errors)} problem(s); still serving the last good pages.")
        preview.full_result(gen, failed.problems, succeeded=False)
        return False
    except OutputError as err:
        log(f"error: {err}")
        preview.full_result(gen, [Problem("(output)", None, str(err))], False)
        return False
    except Exception as err:  # a bug must not stop the preview: say where, keep serving
        log(traceback.format_exc())
        preview.full_result(gen, [Problem("(build)", None, f"internal error: {err!r}")], False)
        return False
    finally:
        with preview.cond:
            preview.building = False
    log(result.summary())
    preview.full_result(gen, (), succeeded=True)
    return True


def take_snapshot(preview: Preview) -> pipeline.Snapshot | None:
    """Read the site again and index it: the quick path renders one post against this."""
    try:
        return pipeline.snapshot(build_options(preview))
    except Exception:  # the full build reports what is wrong; without a snapshot, no quick path
        return None


def _related_with(snapshot: pipeline.Snapshot, post: model.Post) -> dict:
    """Related lists with the saved post's new text, when ranking is cheap enough to redo
    per save (so the preview matches the build); else the last build's lists."""
    from quire.index import related

    if snapshot.rank_seconds > RERANK_BUDGET or post.kind is not Kind.POST:
        return snapshot.related
    others = [p for p in snapshot.loaded.posts if p.source != post.source and p.slug != post.slug]
    posts = sorted([*others, post], key=lambda p: (p.date, p.slug), reverse=True)
    return related.related_index(posts, snapshot.loaded.config.related)


def quick_page(
    snapshot: pipeline.Snapshot, source: Path, kind: str, drafts: bool
) -> tuple[tuple[str, bytes] | None, list[Problem]]:
    """Render one saved post or page as the full build would: (output path, bytes), problems."""
    config = snapshot.loaded.config
    read_options = content.ReadOptions(timezone=config.timezone, permalink=config.permalink)
    post, problems = content.read_file(source, kind, snapshot.site, read_options)
    if post is None:
        return None, problems
    now = dt.datetime.now(dt.UTC)
    if not drafts and (post.draft or (post.date and post.date > now)):
        return None, []
    return pipeline.render_one(snapshot, post, _related_with(snapshot, post))


# ---------------------------------------------------------------- watching


class _Either:
    """A stop flag for watchfiles that trips on either of two events."""

    def __init__(self, *events: threading.Event):
        self.events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


def _ignored(path: str) -> bool:
    name = posixpath.basename(path.replace("\\", "/"))
    return (
        name.startswith((".#", "~"))
        or name.endswith(("~", ".swp", ".swx", ".tmp"))
        or name == "4913"
    )


def on_changes(preview: Preview, paths: set[Path]) -> None:
    """A batch of saved files: re-render saved posts at once, then ask for a full build."""
    gen = preview.next_generation()
    site = preview.options.site_dir.absolute()
    snapshot = preview.snapshot
    quick = []
    for path in sorted(paths):
        try:
            rel = path.absolute().relative_to(site).parts
        except ValueError:
            continue
        if (
            rel[:1] == ("content",)
            and rel[1:2] in (("posts",), ("pages",))
            and path.suffix == ".md"
        ):
            quick.append((path, Kind.POST if rel[1] == "posts" else Kind.PAGE))
        elif rel[:1] in (("templates",), ("site.toml",)) or rel[-1:] == ("products.yaml",):
            snapshot = None  # the quick path would use the old templates or data
            preview.snapshot = None
    if snapshot is not None:
        for path, kind in quick:
            if not path.is_file():
                continue
            started = time.perf_counter()
            try:
                page, problems = quick_page(snapshot, path, kind, preview.options.drafts)
            except Exception:  # the full build that follows reports it properly
                preview.options.log(traceback.format_exc())
                continue
            shown = display_path(path, site)
            for problem in problems:
                preview.options.log(str(problem))
            preview.quick_result(gen, shown, page, problems)
            if page is not None:
                ms = (time.perf_counter() - started) * 1000
                preview.options.log(f"{shown}: preview updated in {ms:.0f} ms")
    preview.dirty.set()


def _watch(preview: Preview, ready: threading.Event, stop, *paths: Path, recursive: bool):
    """watchfiles.watch, setting `ready` once the watch is surely in place (first timeout)."""
    import watchfiles

    for changes in watchfiles.watch(
        *paths,
        recursive=recursive,
        stop_event=stop,
        step=30,
        debounce=400,
        rust_timeout=200,
        yield_on_timeout=True,
    ):
        ready.set()
        if changes:
            yield changes


def watch_root(preview: Preview, ready: threading.Event, restart_tree: threading.Event) -> None:
    """site.toml (saved by rename, which loses a file watch) and top folders appearing."""
    site = preview.options.site_dir
    for changes in _watch(preview, ready, preview.closing, site, recursive=False):
        names = {Path(p).name for _, p in changes}
        if names & set(WATCHED_DIRS):
            restart_tree.set()
        if "site.toml" in names or names & set(WATCHED_DIRS):
            on_changes(preview, {site / n for n in names if n in ("site.toml", *WATCHED_DIRS)})


def watch_tree(preview: Preview, ready: threading.Event, restart: threading.Event) -> None:
    """content/, templates/, theme/, recursively; restarted when one appears or goes."""
    site = preview.options.site_dir
    while not preview.closing.is_set():
        restart.clear()
        folders = [site / d for d in WATCHED_DIRS if (site / d).is_dir()]
        if not folders:
            ready.set()
            restart.wait(1.0)
            continue
        stop = _Either(preview.closing, restart)
        for changes in _watch(preview, ready, stop, *folders, recursive=True):
            paths = {Path(p) for _, p in changes if not _ignored(p)}
            if paths:
                on_changes(preview, paths)


def builder(preview: Preview, built: bool) -> None:
    """Full builds, one at a time; saves during a build are collected into the next one."""
    while not preview.closing.is_set():
        if built or preview.snapshot is None:
            preview.snapshot = take_snapshot(preview)
        preview.dirty.wait()
        if preview.closing.is_set():
            return
        preview.dirty.clear()
        built = full_build(preview)


# ---------------------------------------------------------------- HTTP


LIVE_SCRIPT = """
<script id="quire-live">(function () {
  var me = %(config)s;
  var box = null;
  function show(problems) {
    if (!box) {
      box = document.createElement("div");
      box.id = "quire-errors";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;" +
        "background:rgba(20,0,0,.92);color:#fff;font:14px/1.5 ui-monospace,monospace;padding:2em";
    }
    box.textContent = "";
    var h = document.createElement("h2");
    h.textContent = "quire: the last save did not build";
    box.appendChild(h);
    problems.forEach(function (p) {
      var line = document.createElement("pre");
      line.style.whiteSpace = "pre-wrap";
      line.textContent = p.text;
      box.appendChild(line);
    });
    if (!box.parentNode) document.body.appendChild(box);
  }
  function hide() {
    var old = document.getElementById("quire-errors");
    if (old) old.remove();
    box = null;
  }
  function check(version) {
    fetch("%(hash)s?path=" + encodeURIComponent(location.pathname), {cache: "no-store"})
      .then(function (r) { return r.text(); })
      .then(function (h) {
        if (h !== me.hash) location.reload(); else me.version = version;
      });
  }
  var events = new EventSource("%(events)s");
  events.addEventListener("state", function (e) {
    var s = JSON.parse(e.data);
    document.documentElement.dataset.quireLive = String(s.version);
    if (s.problems.length) show(s.problems); else hide();
    if (s.version !== me.version && !s.problems.length) check(s.version);
  });
})();</script>
"""


def overlay_html(problems: tuple[Problem, ...]) -> str:
    """The error box as served HTML, for a page loaded while the site is broken."""
    if not problems:
        return ""
    items = "".join(
        f'<pre style="white-space:pre-wrap">{html.escape(str(p))}</pre>' for p in problems
    )
    return (
        '<div id="quire-errors" role="alert" style="position:fixed;inset:0;z-index:2147483647;'
        "overflow:auto;background:rgba(20,0,0,.92);color:#fff;"
        'font:14px/1.5 ui-monospace,monospace;padding:2em">'
        f"<h2>quire: the last save did not build</h2>{items}</div>"
    )


def page_hash(data: bytes | None) -> str:
    return hashlib.sha1(data or b"").hexdigest()[:16]


def inject(page: bytes, state: State) -> bytes:
    """Add the live script (and the error box, if any) before </body>."""
    config = json.dumps({"version": state.version, "hash": page_hash(page)})
    script = LIVE_SCRIPT % {"config": config, "events": EVENTS_PATH, "hash": HASH_PATH}
    extra = (overlay_html(state.problems) + script).encode("utf-8")
    index = page.lower().rfind(b"</body>")
    if index < 0:
        return page + extra
    return page[:index] + extra + page[index:]


def content_type(relpath: str) -> str:
    suffix = posixpath.splitext(relpath)[1].lower()
    if suffix in TYPES:
        return TYPES[suffix]
    guessed = mimetypes.guess_type(relpath)[0] or "application/octet-stream"
    return guessed + ("; charset=utf-8" if guessed.startswith("text/") else "")


class BadPath(Exception):
    """A request path that tries to leave the output folder or is not a clean path."""


def request_relpath(raw_path: str) -> str:
    """The output-relative path for a URL path; decoding first, so %2e%2e is caught too."""
    path = unquote(urlsplit(raw_path).path, errors="strict")
    while "%" in path and unquote(path) != path:  # double encoding: %252e%252e
        path = unquote(path)
    if "\x00" in path or "\\" in path or not path.startswith("/"):
        raise BadPath(path)
    parts = path.split("/")[1:]
    if any(part in (".", "..") for part in parts) or "" in parts[:-1]:
        raise BadPath(path)  # also //host: no empty segments, no open redirect
    return "/".join(parts)


class Handler(BaseHTTPRequestHandler):
    """GET/HEAD for the preview: clean URLs, theme 404 page, live script in HTML only."""

    server_version = "quire-serve"
    protocol_version = "HTTP/1.1"
    preview: Preview  # set on the subclass made for each server

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # the terminal is for build results and errors

    def do_HEAD(self) -> None:
        self.respond(head=True)

    def do_GET(self) -> None:
        self.respond(head=False)

    def respond(self, head: bool) -> None:
        split = urlsplit(self.path)
        if split.path == EVENTS_PATH:
            return self.events()
        if split.path == HASH_PATH:
            return self.hash_of(parse_qs(split.query).get("path", ["/"])[0])
        try:
            rel = request_relpath(self.path)
        except (BadPath, UnicodeDecodeError):
            return self.send(HTTPStatus.BAD_REQUEST, b"bad path\n", "text/plain", head)
        page, rel = self.find(rel)
        if page is None and rel is not None and self.preview.is_dir(rel):
            location = split.path + "/" + (f"?{split.query}" if split.query else "")
            return self.send(HTTPStatus.MOVED_PERMANENTLY, b"", "text/plain", head, location)
        if page is None:
            body = self.preview.page_bytes("404.html") or b"<h1>Not found</h1>"
            return self.send_page(HTTPStatus.NOT_FOUND, body, "404.html", head)
        return self.send_page(HTTPStatus.OK, page, rel, head)

    def find(self, rel: str) -> tuple[bytes | None, str | None]:
        if rel == "" or rel.endswith("/"):
            return self.preview.page_bytes(rel + "index.html"), rel + "index.html"
        if self.preview.is_dir(rel):
            return None, rel
        return self.preview.page_bytes(rel), rel

    def send_page(self, status: HTTPStatus, body: bytes, rel: str, head: bool) -> None:
        ctype = content_type(rel)
        if ctype.startswith("text/html"):
            body = inject(body, self.preview.state())
        self.send(status, body, ctype, head)

    def send(
        self, status: HTTPStatus, body: bytes, ctype: str, head: bool, location: str | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if location:
            self.send_header("Location", location)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def hash_of(self, url_path: str) -> None:
        try:
            rel = request_relpath(url_path)
        except (BadPath, UnicodeDecodeError):
            return self.send(HTTPStatus.BAD_REQUEST, b"bad path\n", "text/plain", False)
        page, _ = self.find(rel)
        if page is None:
            page = self.preview.page_bytes("404.html")
        self.send(HTTPStatus.OK, page_hash(page).encode(), "text/plain; charset=utf-8", False)

    def events(self) -> None:
        """Server-Sent Events: the current state now, then each change, until the tab goes."""
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        preview = self.preview
        state = preview.state()
        try:
            self.wfile.write(b"retry: 500\n\n" + state.event())
            self.wfile.flush()
            while not preview.closing.is_set():
                new = preview.wait(state.version, KEEPALIVE_SECONDS)
                if preview.closing.is_set():
                    break
                self.wfile.write(new.event() if new.version != state.version else b": ping\n\n")
                self.wfile.flush()
                state = new
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            pass


# ---------------------------------------------------------------- running


class PreviewHTTPServer(ThreadingHTTPServer):
    """A browser closing a tab mid-response is normal: no traceback for that."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


@dataclass
class Server:
    """A running preview: its URL, state and threads; close() stops all of them."""

    url: str
    preview: Preview
    httpd: PreviewHTTPServer
    threads: tuple[threading.Thread, ...]

    def close(self) -> None:
        self.preview.close()
        self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self.threads:
            thread.join(timeout=5)


def start(options: ServeOptions) -> Server:
    """Bind, build once, then serve and watch in background threads."""
    httpd = PreviewHTTPServer((options.host, options.port), Handler)
    host, port = httpd.server_address[:2]
    shown_host = f"[{host}]" if ":" in str(host) else host
    url = f"http://{shown_host}:{port}/"
    preview = Preview(options, url)
    httpd.RequestHandlerClass = type("BoundHandler", (Handler,), {"preview": preview})
    options.log(
        f"Building {options.site_dir} (drafts {'shown' if options.drafts else 'hidden'})..."
    )
    built = full_build(preview)
    restart = threading.Event()
    ready = (threading.Event(), threading.Event())
    threads = (
        threading.Thread(target=httpd.serve_forever, args=(0.05,), name="quire-http", daemon=True),
        threading.Thread(target=builder, args=(preview, built), name="quire-build", daemon=True),
        threading.Thread(
            target=watch_tree, args=(preview, ready[0], restart), name="quire-watch", daemon=True
        ),
        threading.Thread(
            target=watch_root,
            args=(preview, ready[1], restart),
            name="quire-watch-root",
            daemon=True,
        ),
    )
    for thread in threads:
        thread.start()
    for event in ready:  # saves made after start() returns are seen
        event.wait(timeout=10)
    return Server(url, preview, httpd, threads)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("serve", help="live preview: build, serve, rebuild on save")
    p.add_argument("--site", default=".", help="site folder (with site.toml); default: .")
    p.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one")
    p.add_argument("--host", default="127.0.0.1", help="address to bind; default: 127.0.0.1")
    p.add_argument(
        "--drafts",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="show drafts and future posts (default: shown)",
    )
    p.set_defaults(run=run)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    site = Path(args.site)
    if not (site / "site.toml").is_file():
        print(f"{site / 'site.toml'}: not found: serve needs a site folder", file=sys.stderr)
        return 1

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl+C
    try:
        server = start(ServeOptions(site, args.host, args.port, args.drafts, log=log))
    except OSError as err:
        print(f"error: cannot listen on {args.host}:{args.port}: {err.strerror}", file=sys.stderr)
        return 1
    try:  # from the first line printed on, a signal means a clean stop
        print(f"Serving {site} at {server.url} (Ctrl+C to stop)", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    finally:
        server.close()
    return 0
