"""The preview's HTTP side: a folder served on a local address, plus Server-Sent Events.

GET/HEAD only; clean URLs (/a/ serves a/index.html, /a redirects to /a/ when a is a
folder); the folder's 404.html for anything missing; nothing outside the folder (no `..`,
no encoded tricks, no symlink out); the live script injected into HTML only. The caller
owns the content: `page_override(relpath)` may answer instead of the folder, and
`publish(problems)` tells every open tab that something changed.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import mimetypes
import posixpath
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from quire.livereload.script import EVENTS_PATH, HASH_PATH, inject, page_hash

KEEPALIVE_SECONDS = 10.0  # an idle event stream gets a comment this often
IDLE_SECONDS = 30.0  # a connection that sends no request for this long is closed
MAX_CONNECTIONS = 64  # one thread each; more are answered 503 at once
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

PageOverride = Callable[[str], bytes | None]


def content_type(relpath: str) -> str:
    suffix = posixpath.splitext(relpath)[1].lower()
    if suffix in TYPES:
        return TYPES[suffix]
    guessed = mimetypes.guess_type(relpath)[0] or "application/octet-stream"
    return guessed + ("; charset=utf-8" if guessed.startswith("text/") else "")


class BadPath(Exception):
    """A request path that tries to leave the served folder or is not a clean path."""


def request_relpath(raw_path: str) -> str:
    """The folder-relative path for a URL path; decoding first, so %2e%2e is caught too."""
    path = unquote(urlsplit(raw_path).path, errors="strict")
    while "%" in path and unquote(path) != path:  # double encoding: %252e%252e
        path = unquote(path)
    if "\x00" in path or "\\" in path or not path.startswith("/"):
        raise BadPath(path)
    parts = path.split("/")[1:]
    if any(part in (".", "..") for part in parts) or "" in parts[:-1]:
        raise BadPath(path)  # also //host: no empty segments, no open redirect
    return "/".join(parts)


def host_allowed(header: str | None, names: frozenset[str]) -> bool:
    """Against DNS rebinding: a page on evil.example whose name now points at 127.0.0.1
    still sends `Host: evil.example`. Allowed: localhost and *.localhost, the extra `names`,
    and any IP literal (a page can only send those for its own IP origin). No Host at all
    is an HTTP/1.0 client, not a browser."""
    if header is None:
        return True
    host = header.strip().lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":")[0]
    host = host.rstrip(".")
    if host == "localhost" or host.endswith(".localhost") or host in names:
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except OSError:
        return False


class LiveServer:
    """Serves `root` on host:port (bound at once: port 0 picks a free one; errors are
    OSError) until close(). start() begins answering, in a thread of its own.

    page_override(relpath) -> bytes | None is asked before the folder for every file
    (e.g. pages re-rendered in memory); publish(problems) moves the version every tab
    watches and sets the errors shown over every page (empty: none, tabs reload as needed).
    """

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        page_override: PageOverride | None = None,
        allowed_hosts: Iterable[str] = (),
        max_connections: int = MAX_CONNECTIONS,
    ):
        self.root = Path(root).absolute()
        self.page_override = page_override
        self.allowed_hosts = frozenset(h.lower().strip("[]").rstrip(".") for h in allowed_hosts)
        self.cond = threading.Condition()
        self.version = 0
        self.problems: tuple[Mapping, ...] = ()
        self.closing = threading.Event()
        self.httpd = _HTTPServer((host, port), _Handler, max_connections)
        self.httpd.live = self
        bound, port = self.httpd.server_address[:2]
        self.url = f"http://{f'[{bound}]' if ':' in str(bound) else bound}:{port}/"
        self.thread: threading.Thread | None = None

    # ------------------------------------------------------------ state for tabs

    def publish(self, problems: Iterable[Mapping] = ()) -> None:
        with self.cond:
            self.version += 1
            self.problems = tuple(problems)
            self.cond.notify_all()

    def state(self) -> tuple[int, tuple[Mapping, ...]]:
        with self.cond:
            return self.version, self.problems

    def wait(self, seen: int, timeout: float) -> tuple[int, tuple[Mapping, ...]]:
        with self.cond:
            self.cond.wait_for(lambda: self.version != seen or self.closing.is_set(), timeout)
            return self.version, self.problems

    # ------------------------------------------------------------ files

    def page(self, relpath: str) -> bytes | None:
        """A file's current bytes: the override first, then the folder."""
        if self.page_override and (data := self.page_override(relpath)) is not None:
            return data
        path = self.root / relpath
        for _ in range(3):
            try:
                if path.is_file() and _inside(path, self.root):
                    return path.read_bytes()
                if self.root.is_dir():
                    return None  # else a build is swapping folders: retry the short gap
            except OSError as err:
                if err.errno in (errno.ENAMETOOLONG, errno.EINVAL):
                    return None  # a name no file can have (e.g. a segment over 255 bytes)
            time.sleep(0.05)
        return None

    def is_dir(self, relpath: str) -> bool:
        rel = relpath.rstrip("/")
        if self.page_override and self.page_override(rel + "/index.html") is not None:
            return True
        path = self.root / rel
        try:
            return path.is_dir() and _inside(path, self.root)
        except OSError:  # e.g. a name too long to be a file
            return False

    # ------------------------------------------------------------ running

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, args=(0.05,), name="livereload-http", daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.closing.set()
        with self.cond:
            self.cond.notify_all()
        if self.thread is not None:
            self.httpd.shutdown()
            self.thread.join(timeout=5)
        self.httpd.server_close()


class _HTTPServer(ThreadingHTTPServer):
    """One thread per connection, at most `max_connections` at once; a browser closing a
    tab mid-response is normal (no traceback for that)."""

    daemon_threads = True
    request_queue_size = 128  # listen backlog: a burst of connections waits, not SYN-retries
    live: LiveServer

    def __init__(self, address, handler, max_connections: int):
        self.slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            return self._refuse(request)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def _refuse(self, request) -> None:
        body = b"too many connections\n"
        try:
            request.settimeout(1.0)
            request.sendall(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                b"Retry-After: 1\r\nConnection: close\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server_version = "quire-serve"
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    server: _HTTPServer

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # the terminal is for the caller's messages

    def do_HEAD(self) -> None:
        self.respond(head=True)

    def do_GET(self) -> None:
        self.respond(head=False)

    def respond(self, head: bool) -> None:
        live = self.server.live
        if not host_allowed(self.headers.get("Host"), live.allowed_hosts):
            body = f"host not allowed; open {live.url}\n".encode()
            return self.send(HTTPStatus.FORBIDDEN, body, "text/plain; charset=utf-8", head)
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
        if page is None and rel is not None and live.is_dir(rel):
            location = split.path + "/" + (f"?{split.query}" if split.query else "")
            return self.send(HTTPStatus.MOVED_PERMANENTLY, b"", "text/plain", head, location)
        if page is None:
            body = live.page("404.html") or b"<h1>Not found</h1>"
            return self.send_page(HTTPStatus.NOT_FOUND, body, "404.html", head)
        return self.send_page(HTTPStatus.OK, page, rel, head)

    def find(self, rel: str) -> tuple[bytes | None, str | None]:
        live = self.server.live
        if rel == "" or rel.endswith("/"):
            return live.page(rel + "index.html"), rel + "index.html"
        if live.is_dir(rel):
            return None, rel
        return live.page(rel), rel

    def send_page(self, status: HTTPStatus, body: bytes, rel: str, head: bool) -> None:
        ctype = content_type(rel)
        if ctype.startswith("text/html"):
            body = inject(body, *self.server.live.state())
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
            page = self.server.live.page("404.html")
        self.send(HTTPStatus.OK, page_hash(page).encode(), "text/plain; charset=utf-8", False)

    def events(self) -> None:
        """Server-Sent Events: the current state now, then each change, until the tab goes."""
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        live = self.server.live
        version, problems = live.state()
        try:
            self.wfile.write(b"retry: 500\n\n" + _event(version, problems))
            self.wfile.flush()
            while not live.closing.is_set():
                new, problems = live.wait(version, KEEPALIVE_SECONDS)
                if live.closing.is_set():
                    break
                self.wfile.write(_event(new, problems) if new != version else b": ping\n\n")
                self.wfile.flush()
                version = new
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            pass


def _event(version: int, problems: tuple[Mapping, ...]) -> bytes:
    data = {"version": version, "problems": list(problems)}
    return f"event: state\ndata: {json.dumps(data)}\n\n".encode()
