"""`quire serve`: a live preview that shows each save within a second, errors included.

Two paths keep it fast and correct. A saved post or page is re-rendered on its own
(one file read, one Markdown body, one template: milliseconds) into an in-memory overlay,
and open tabs are told at once. A full build (quire.pipeline.build, into a folder of serve's
own) then runs in the background; when it lands, the overlay entries it covers are
dropped. Serving, telling tabs and watching files is quire.livereload's job; this module
is the wiring: what to build when a file is saved, and what to show meanwhile.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from quire import model, pipeline
from quire.commands.common import add_site_options
from quire.livereload import LiveServer, Watcher
from quire.model import Kind
from quire.output import OutputError
from quire.problems import BuildFailed, Problem, display_path, error_count
from quire.read import content

RERANK_BUDGET = 0.1  # s: dearer re-ranking waits for the full build (a save shows in ~0.1 s)
WATCHED_DIRS = ("content", "templates", "theme")


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


class Preview:
    """What serve shows on top of its built folder: pages re-rendered on save (the overlay)
    and the problems of those quick renders and of the last full build. Shared by the
    watcher, the builder and request threads: guarded by one lock. Each change is
    published to the live server, whose tabs reload or show the problems."""

    def __init__(self, options: ServeOptions):
        self.options = options
        self.output = options.output.absolute()
        self.live: LiveServer | None = None
        self.lock = threading.Lock()
        self.generation = 0  # counts change batches; builds cover all batches before they start
        self.overlay: dict[str, tuple[int, bytes]] = {}  # output path -> (generation, bytes)
        self.quick_problems: dict[str, tuple[int, tuple[Problem, ...]]] = {}
        self.full_problems: tuple[int, tuple[Problem, ...]] = (0, ())
        self.printed: set[str] = set()  # problems already in the terminal for this batch
        self.snapshot: pipeline.Snapshot | None = None
        self.dirty = threading.Event()
        self.closing = threading.Event()
        self.building = False

    @property
    def base_url(self) -> str:
        return self.live.url if self.live else ""

    # ------------------------------------------------------------ what tabs see

    def overlay_page(self, relpath: str) -> bytes | None:
        with self.lock:
            entry = self.overlay.get(relpath)
        return entry[1] if entry else None

    def _problems(self) -> tuple[Problem, ...]:
        full_gen, full = self.full_problems
        newer = {path for path, (gen, _) in self.quick_problems.items() if gen > full_gen}
        found = [p for p in full if p.path not in newer]
        for path in sorted(newer):
            found.extend(self.quick_problems[path][1])
        return tuple(p for p in found if not p.warning)

    def _changed(self) -> None:  # under the lock: tabs must see the overlay it describes
        if self.live is not None:
            self.live.publish(
                {"path": p.path, "line": p.line, "message": p.message, "text": str(p)}
                for p in self._problems()
            )

    # ------------------------------------------------------------ updates

    def next_generation(self) -> int:
        with self.lock:
            self.generation += 1
            self.printed.clear()  # a new save: its problems are news again
            return self.generation

    def report(self, problems: Iterable[Problem]) -> None:
        """Print each problem once: the quick path and the full build after it find the same."""
        with self.lock:
            new = [p for p in problems if str(p) not in self.printed]
            self.printed.update(str(p) for p in new)
        for problem in new:
            self.options.log(str(problem))

    def quick_result(
        self, gen: int, source: str, page: tuple[str, bytes] | None, problems: Iterable[Problem]
    ) -> None:
        with self.lock:
            if page is not None:
                self.overlay[page[0]] = (gen, page[1])
            self.quick_problems[source] = (gen, tuple(problems))
            self._changed()

    def full_result(self, gen: int, problems: Iterable[Problem], succeeded: bool) -> None:
        with self.lock:
            self.full_problems = (gen, tuple(problems))
            if succeeded:
                self.overlay = {k: v for k, v in self.overlay.items() if v[0] > gen}
            self.quick_problems = {k: v for k, v in self.quick_problems.items() if v[0] > gen}
            self._changed()

    def close(self) -> None:
        self.closing.set()
        self.dirty.set()


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
    with preview.lock:
        gen = preview.generation
        preview.building = True
    log = preview.options.log
    try:
        result = pipeline.build(build_options(preview))
    except BuildFailed as failed:
        preview.report(failed.problems)
        errors = error_count(failed.problems)
        log(f"Build failed: {errors} problem(s); still serving the last good pages.")
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
        with preview.lock:
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
    return related.related_index(posts, snapshot.loaded.config.related, with_filled=True)


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


# ---------------------------------------------------------------- saves


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
            preview.report(problems)
            preview.quick_result(gen, shown, page, problems)
            if page is not None:
                ms = (time.perf_counter() - started) * 1000
                preview.options.log(f"{shown}: preview updated in {ms:.0f} ms")
    preview.dirty.set()


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


# ---------------------------------------------------------------- running


@dataclass
class Server:
    """A running preview: its URL, state and threads; close() stops all of them."""

    url: str
    preview: Preview
    live: LiveServer
    watcher: Watcher
    builder: threading.Thread

    def close(self) -> None:
        self.preview.close()
        self.watcher.close()
        self.live.close()
        self.builder.join(timeout=5)


def start(options: ServeOptions) -> Server:
    """Bind, watch, build once, then serve. Watching starts before the first build, so a
    save made during it is seen (it triggers a second build), and the server answers only
    once saves are watched."""
    preview = Preview(options)
    live = LiveServer(
        preview.output,
        host=options.host,
        port=options.port,
        page_override=preview.overlay_page,
        allowed_hosts=(options.host,),
    )
    preview.live = live
    watcher = Watcher(
        options.site_dir,
        lambda paths: on_changes(preview, paths),
        folders=WATCHED_DIRS,
        files=("site.toml",),
    )
    try:
        watcher.start()
        options.log(
            f"Building {options.site_dir} (drafts {'shown' if options.drafts else 'hidden'})..."
        )
        built = full_build(preview)
        thread = threading.Thread(
            target=builder, args=(preview, built), name="quire-build", daemon=True
        )
        thread.start()
        live.start()
    except BaseException:
        preview.close()
        watcher.close()
        live.close()
        raise
    return Server(live.url, preview, live, watcher, thread)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("serve", help="live preview: build, serve, rebuild on save")
    add_site_options(p, output=False)
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
