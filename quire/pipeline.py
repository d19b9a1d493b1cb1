"""The build, stage by stage: read -> index -> render -> plan -> output.

`build()` below is the whole of it, one call per stage, each timed for `--timings`.
Caching lives inside the stages (each asks the BuildCache for a memo by name); nothing
else in quire calls more than one stage: commands call `build()` or `render_one()`.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import gc
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from quire import faults, output, plan, read
from quire.config import SiteConfig
from quire.errors import check_output_folder
from quire.images import stage as images
from quire.incremental import fastpath, store
from quire.incremental.digest import digest, engine_digest
from quire.incremental.fingerprints import (
    keep_unchanged,
    shallow_context,
    stat_outputs,
    template_facts,
)
from quire.incremental.store import CACHE_DIR, BuildCache
from quire.index import related_lists, taxonomy
from quire.index.ranker import Ranker
from quire.model import (
    BuildOptions,
    BuildResult,
    FeedJob,
    Kind,
    Loaded,
    PageJob,
    Post,
    PostView,
    RelatedLists,
    Rendered,
)
from quire.parallel import forks, parallel_map
from quire.problems import BuildFailed, Problem, ProblemList
from quire.render import search, templates, views
from quire.render.bodies import render_bodies
from quire.render.templates import precompile
from quire.spill import Spill, Texts

load_site = read.load_site  # the read stage, for commands that only read (serve, check)


def build(
    options: BuildOptions, probe: fastpath.Probe | None = None, started: float | None = None
) -> BuildResult:
    """Build the site atomically: on any error the previous output stays exactly as it was.

    One build at a time writes next to an output folder; a second one waits for the lock.
    A `probe` from fastpath.quick_check (which found work to do) saves checking again,
    unless the build had to wait: the other build may have done the work meanwhile.
    """
    started = time.perf_counter() if started is None else started
    check_output_folder(options.output_dir, options.site_dir)
    waited: list[str] = []

    def on_wait(message: str) -> None:
        waited.append(message)
        print(message, file=sys.stderr, flush=True)

    with output.build_lock(options.output_dir, on_wait):
        if waited or probe is None:
            manifest, probe = fastpath.unchanged(
                options.site_dir, options.output_dir, options.settings(), options.moment()
            )
            if manifest is not None:
                return fastpath.unchanged_result(manifest, started)
        ranker = _ranker(options)
        frozen, thresholds = gc.get_freeze_count(), gc.get_threshold()
        # A build makes ~10^6 objects that mostly live to its end: the collector's default
        # (a look at the young ones every 700 allocations) cost an edit build ~0.3 s
        gc.set_threshold(20_000, *thresholds[1:])
        try:  # bodies and feed entries wait in the spill, on disk, until they are shown
            with Spill(options.site_dir / CACHE_DIR) as spill:
                return _build(options, probe, started, spill, ranker)
        finally:
            if ranker is not None:
                ranker.stop()
            gc.set_threshold(*thresholds)
            if not frozen:  # serve builds again in this process: its objects collect as usual
                gc.unfreeze()


def _ranker(options: BuildOptions) -> Ranker | None:
    """A process that gets numpy and scipy ready on another core, should this incremental
    build have to rank related posts again (the words file says an earlier build ranked)."""
    workers = options.jobs or os.cpu_count() or 1
    if workers < 2 or not (options.site_dir / CACHE_DIR / store.WORDS_FILE).is_file():
        return None
    return Ranker.start(options.site_dir)


def _build(
    options: BuildOptions,
    probe: fastpath.Probe,
    started: float,
    spill: Spill,
    ranker: Ranker | None = None,
) -> BuildResult:
    site = options.site_dir
    workers = options.jobs or os.cpu_count() or 1
    watch = Stopwatch(last=started)
    gc.disable()  # loading makes ~10^5 long-lived containers: nothing for a collection to find
    try:
        cache, cache_warnings = store.load(site, engine_digest(_versions()), options.output_dir)
    finally:
        gc.enable()
    # What the cache and then each stage made lives to the end of the build: frozen, the
    # collector stops walking it again and again (~0.3 s of an edit build; build() unfreezes);
    # what a stage freed goes back to the system (_settle)
    _settle()
    watch.lap("check and load cache")

    loaded = read.load_site(options, cache)
    faults.point("read")
    _settle()
    config = loaded.config
    env = templates.make_environment(site, config)
    watch.lap("read")

    # made before the related lists, which may wait for the ranker process meanwhile
    static = plan.static_files(site, (*loaded.posts, *loaded.pages))
    pictures = images.Pictures(config, images.source_map(static))
    env.globals["picture"] = pictures.picture
    light_memo = cache.memo("light")
    light = {p.slug: views.light_view(p, config.markdown, light_memo) for p in loaded.posts}
    related = related_lists(loaded, cache, site, workers, ranker)
    _settle()
    watch.lap("related")

    rendered, found = render_bodies(
        loaded, env, related, light, site, cache, workers, options.progress
    )
    # the posts and bodies memos are complete: into the cache files now, and out of memory
    # (the image stage then lets each body as rendered go once it has rewritten it)
    blocked = any(not p.warning for p in (*loaded.problems, *found))
    if not blocked and options.save_cache:  # a build that fails writes nothing
        early = store.save_sections(site, cache, ("posts", "bodies"))
        cache_warnings.extend([early] if early else [])
    _settle()
    watch.lap("bodies")

    rendered, found_images = images.run(
        loaded,
        rendered,
        site,
        pictures,
        images.encode.cache_folder(site / CACHE_DIR),
        cache.memo("images"),
        workers,
        options.progress,
        blocked,
        cache.memo("pictures"),
    )
    problems = ProblemList([*loaded.problems, *found, *found_images])
    problems.raise_errors(options.strict)  # all reading, rendering and image problems at once
    as_read = {p.slug: p for p in loaded.posts}  # posts without an image come back as they were
    for item in rendered:
        if item.post.kind is Kind.POST and item.post is not as_read.get(item.post.slug):
            light[item.post.slug] = views.light_view(item.post, config.markdown, light_memo)
    del as_read
    loaded, rendered = _without_markdown(loaded, rendered)  # nothing from here on reads it
    # no errors (raised above): the rewritten bodies' memo is complete, out of memory too
    if options.save_cache:
        early = store.save_sections(site, cache, ("pictures",))
        cache_warnings.extend([early] if early else [])
    _settle()
    watch.lap("images")

    # each view's body goes to the spill as the view is made: the bodies leave memory here
    site_views = SiteViews.of(rendered, light, related, config, spill)
    del rendered
    pages = plan.page_jobs(config, *site_views.for_pages())
    sources = (*loaded.posts, *loaded.pages)
    redirects = plan.redirect_jobs(config, sources)
    ProblemList(plan.redirect_problems(sources, pages, site)).raise_errors(options.strict)
    feed_jobs = plan.feed_jobs(config, site_views.posts, site_views.tags, site_views.categories)
    _settle()
    watch.lap("views and fingerprints")

    staged = output.stage(options.output_dir, site / CACHE_DIR)
    try:
        rendered = _write_pages(staged, env, [*pages, *redirects], cache, config, workers, options)
        rendered_pages = len(rendered - {job.path for job in redirects})  # as the summary counts
        watch.lap("pages")
        _write_search(staged, site_views.posts, cache, workers)
        _write_feeds(staged, config, feed_jobs, cache, workers, spill)
        staged.write("sitemap.xml", plan.sitemap_xml(config, plan.sitemap_urls(pages)))
        if not (site / "content" / "robots.txt").is_file():  # the site's own wins
            robots = plan.ROBOTS.format(sitemap=config.absolute("/sitemap.xml"))
            staged.write("robots.txt", robots)
        if redirects_text := plan.redirects_file(config, sources):
            staged.write("_redirects", redirects_text)
        images.publish(staged, pictures)
        for path, source in static:
            staged.copy(path, source)
        watch.lap("feeds, search, sitemap, images, static files")
        faults.point("staged")
        staged.commit()
        watch.lap("swap")
    except BaseException:
        staged.discard()
        raise

    warnings = problems.warnings
    faults.point("swapped")
    try:  # the new output is in place: nothing from here on may report the build failed
        if options.save_cache:
            saved = _save_cache(options, cache, probe, loaded, len(pages), warnings)
            cache_warnings.extend(saved)
    except OSError as err:
        where = store.shown("")
        cache_warnings.append(
            Problem(where, None, f"cannot save the build cache ({err.strerror or err})", True)
        )
    watch.lap("save cache")
    return BuildResult(
        posts=len(loaded.posts),
        pages=len(pages),
        written=staged.written,
        unchanged=staged.unchanged,
        seconds=time.perf_counter() - started,
        warnings=(*cache_warnings, *warnings),  # the cache first: it explains the rest
        rendered=rendered_pages,
        cached=len(pages) - rendered_pages,
        stages=tuple(watch.laps),
        images_encoded=pictures.encoded,
        cpu=tuple(watch.cpu),
    )


@dataclass(frozen=True)
class Snapshot:
    """A site read and indexed, against which `serve` renders one saved post at a time."""

    site: Path
    loaded: Loaded
    env: jinja2.Environment
    related: RelatedLists
    light: Mapping[str, PostView]
    rank_seconds: float  # what ranking related posts again for one saved post would cost
    pictures: images.Pictures | None = None  # originals only: a preview never waits to encode


def snapshot(options: BuildOptions) -> Snapshot:
    """Read and index the site without building it (raises BuildFailed like the build)."""
    from quire.index import related  # numpy and scipy: only the preview's first read pays

    loaded = read.load_site(options)
    env = templates.make_environment(options.site_dir, loaded.config)
    started = time.perf_counter()
    ranked = related.related_index(loaded.posts, loaded.config.related, with_filled=True)
    seconds = time.perf_counter() - started
    pictures = _preview_pictures(options.site_dir, loaded)
    env.globals["picture"] = pictures.picture
    light = {
        p.slug: views.light_view(pictures.resolve_post(p), loaded.config.markdown)
        for p in loaded.posts
    }
    return Snapshot(options.site_dir, loaded, env, ranked, light, seconds, pictures)


def _preview_pictures(site: Path, loaded: Loaded) -> images.Pictures:
    """The preview's images: the originals, their sizes read from headers on first use."""

    def sources():
        return images.source_map(plan.static_files(site, (*loaded.posts, *loaded.pages)))

    return images.Pictures(loaded.config, sources(), lazy=True, refresh=sources)


def render_one(
    snap: Snapshot, post: Post, related: RelatedLists | None = None
) -> tuple[tuple[str, bytes] | None, list[Problem]]:
    """One post or page rendered as the full build renders it: (output path, bytes) or the
    problems. `related` replaces the snapshot's lists (ranked again with the post's text)."""
    light = dict(snap.light)
    if post.kind is Kind.POST:
        light[post.slug] = views.light_view(post, snap.loaded.config.markdown)
    related = snap.related if related is None else related
    related = {k: tuple(x for x in v if x[0] in light) for k, v in related.items()}
    is_post = post.kind is Kind.POST
    one = Loaded(
        snap.loaded.config,
        (post,) if is_post else (),
        () if is_post else (post,),
        snap.loaded.products,
    )
    rendered, problems = render_bodies(one, snap.env, related, light, snap.site)
    if problems:
        return None, problems
    item = rendered[0]
    if snap.pictures is not None:  # the originals: variants are the full build's work
        item, found = snap.pictures.rewrite(item, snap.site)
        if any(not p.warning for p in found):
            return None, [p for p in found if not p.warning]
        if item.post.kind is Kind.POST:
            light[item.post.slug] = views.light_view(item.post, snap.loaded.config.markdown)
    view = views.full_view(item, light, related, snap.loaded.config)
    job = plan.page_job(snap.loaded.config, view)
    try:
        text = templates.render_template(snap.env, job.template, job.context)
    except templates.TemplateFailure as failure:
        return None, [failure.problem]
    return (job.path, text.encode("utf-8")), []


# ---------------------------------------------------------------- the stages' glue


@dataclass(frozen=True)
class SiteViews:
    """What templates see of the whole site: posts, pages and the terms that group them."""

    posts: tuple[PostView, ...]
    pages: tuple[PostView, ...]
    tags: tuple[taxonomy.Term, ...]
    categories: tuple[taxonomy.Term, ...]

    @classmethod
    def of(cls, rendered, light, related, config: SiteConfig, spill=None) -> SiteViews:
        def full(kind: Kind) -> tuple[PostView, ...]:
            return tuple(
                views.full_view(r, light, related, config, spill)
                for r in rendered
                if r.post.kind is kind
            )

        posts, pages = full(Kind.POST), full(Kind.PAGE)
        tags = taxonomy.build_terms(posts, "tags")
        categories = taxonomy.build_terms(posts, "categories")
        return cls(posts, pages, tags, categories)

    def for_pages(self) -> tuple:
        return self.posts, self.pages, self.tags, self.categories


def _without_markdown(loaded: Loaded, rendered: list) -> tuple[Loaded, list]:
    """The posts without their Markdown `body`, once it is rendered (every later stage sees
    views, or a post's fields but its body: redirects, the sitemap)."""
    slim: dict[int, Post] = {}

    def without(post: Post) -> Post:
        found = slim.get(id(post))
        if found is None:
            found = slim[id(post)] = dataclasses.replace(post, body="")
        return found

    posts = tuple(without(p) for p in loaded.posts)
    pages = tuple(without(p) for p in loaded.pages)
    rendered = [Rendered(without(r.post), r.body) for r in rendered]
    return dataclasses.replace(loaded, posts=posts, pages=pages), rendered


def _page_at(
    state: tuple[jinja2.Environment, Sequence[PageJob], output.StagedOutput | None], index: int
) -> tuple[bytes | None, str | None, Problem | None]:
    """What _deliver sends back for the page, and its template problem if it has one."""
    env, jobs, direct = state
    job = jobs[index]
    try:
        data = templates.render_template(env, job.template, job.context).encode("utf-8")
    except templates.TemplateFailure as failure:
        return None, None, failure.problem
    return (*_deliver(direct, job.path, data), None)


def _write_pages(
    staged: output.StagedOutput,
    env: jinja2.Environment,
    jobs: Sequence[PageJob],
    cache: BuildCache,
    config: SiteConfig,
    workers: int,
    options: BuildOptions,
) -> set[str]:
    """Render the pages whose fingerprint changed (their paths are returned); link the
    others from the old output."""
    template_keys, shallow = template_facts(env, cache.memo("templates"))
    config_key = digest(config)
    pages = cache.memo("pages")
    todo = [
        job
        for job in jobs
        if not keep_unchanged(
            staged,
            pages,
            job.path,
            digest(
                (
                    config_key,
                    template_keys.get(job.template),
                    job.path,
                    job.template,
                    job.made_from
                    if job.made_from is not None
                    else shallow_context(job.context, shallow.get(job.template, ())),
                )
            ),
        )
    ]
    if forks(len(todo), workers):
        precompile(env, (job.template for job in todo))
    failures: list[Problem] = []
    direct = _direct(staged, workers)
    state = (env, todo, direct)
    results = parallel_map(_page_at, state, len(todo), workers, options.progress, "Pages")
    for number, (job, (data, error, problem)) in enumerate(zip(todo, results, strict=True)):
        if number == 0:  # workers still busy with the rest
            faults.point("pages")
        if problem is None:
            _received(staged, job.path, data, error)
        elif problem not in failures:
            failures.append(problem)
    if failures:
        raise BuildFailed(failures)
    return {job.path for job in todo}


def _write_search(
    staged: output.StagedOutput, posts: Sequence[PostView], cache: BuildCache, workers: int
):
    pages = cache.memo("pages")
    if not keep_unchanged(staged, pages, "search/index.json", digest(("search", posts))):
        docs = cache.memo("search").get_many(
            [SEARCH_KEY + v.fingerprint for v in posts],
            lambda missing: parallel_map(
                _search_doc_at, [posts[i] for i in missing], len(missing), workers
            ),
        )
        staged.write("search/index.json", search.search_index(docs))


# the search memo holds each entry as its JSON text (older caches held dicts, by the bare
# fingerprint: the prefix keeps them from being read as text)
SEARCH_KEY = b"json:"


def _search_doc_at(views: Sequence[PostView], index: int) -> str:
    return search.search_entry(views[index])


def _entry_at(state: tuple[SiteConfig, Sequence[tuple[PostView, bool]], dict], index: int) -> str:
    from quire.render import feeds

    config, needed, scratch = state  # scratch: a feed per format, for entries to pass through
    view, rss = needed[index]
    return feeds.entry_xml(config, view, scratch[rss], rss)


def _write_feeds(
    staged, config: SiteConfig, jobs: Sequence[FeedJob], cache: BuildCache, workers, spill: Spill
):
    """Each post's entry is serialised once, by one worker, into the spill as it comes back
    (entries are body-sized: all of them at once were ~0.5 GB at 100,000 posts); the feeds
    are spliced here from the spill."""
    pages = cache.memo("pages")
    config_key = digest(config)
    todo = [
        job
        for job in jobs
        if not keep_unchanged(staged, pages, job.path, digest((config_key, job)))
    ]
    if not todo:
        return
    from quire.render import feeds  # feedgen: imported only when a feed changed

    needed = feeds.entries_needed(todo)
    scratch = {rss: feeds.scratch_channel(config, rss) for rss in (True, False)}
    made = parallel_map(_entry_at, (config, needed, scratch), len(needed), workers)
    entries = {
        (view.url, rss): spill.add(xml) for (view, rss), xml in zip(needed, made, strict=True)
    }
    for job in todo:
        staged.write(job.path, feeds.feed_bytes(config, job, Texts(entries)))


def _direct(staged: output.StagedOutput, workers: int) -> output.StagedOutput | None:
    """Where workers write their files themselves: a fresh staging folder, when there are
    workers (else the parent writes, with its checks against the previous output)."""
    return staged if staged.fresh and workers > 1 else None


def _deliver(
    direct: output.StagedOutput | None, path: str, data: bytes
) -> tuple[bytes | None, str | None]:
    """In a worker: (the file's bytes, None) for the parent to write, or, into a fresh
    staging folder, (None, None) once written here, or (None, the output error)."""
    if direct is None:
        return data, None
    try:
        direct.write_from_worker(path, data)
    except output.OutputError as err:
        return None, str(err)
    return None, None


def _received(staged: output.StagedOutput, path: str, data: bytes | None, error: str | None):
    """In the parent: what _deliver sent back."""
    if error is not None:
        raise output.OutputError(error)
    if data is None:
        staged.written_by_worker(path)
    else:
        staged.write(path, data)


def _save_cache(
    options: BuildOptions,
    cache: BuildCache,
    probe: fastpath.Probe,
    loaded: Loaded,
    pages: int,
    warnings: tuple[Problem, ...],
) -> list[Problem]:
    """After the swap: note what the output now holds, for the next build to trust."""
    signature = fastpath.output_signature(options.output_dir.absolute())
    stat_outputs(cache.memo("pages"), signature)
    problems = [store.save(options.site_dir, cache)]
    faults.point("cache-saved")
    manifest = None
    if not probe.racy:
        manifest = fastpath.Manifest.of(
            probe, signature, loaded.valid_until, len(loaded.posts), pages, warnings
        )
    problems.append(fastpath.save_manifest(options.site_dir, manifest))
    return [p for p in problems if p is not None]


ENGINE_LIBRARIES = ("markdown", "pyromark", "pygments", "jinja2")


def _versions() -> tuple[str, ...]:
    """From the installed packages' metadata: importing Python-Markdown (the other engine)
    and Pygments only to read their versions cost an edit build ~0.1 s, and importing
    importlib.metadata ~0.04 s, so the versions are read from the first `NAME-VERSION.dist-info`
    folder on sys.path, as importlib.metadata finds it (which answers when there is none)."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                project, _, version = name[: -len(".dist-info")].partition("-")
                project = re.sub(r"[-_.]+", "-", project).lower()
                if project in ENGINE_LIBRARIES and version:
                    found.setdefault(project, version)
    if len(found) < len(ENGINE_LIBRARIES):
        from importlib.metadata import version

        return tuple(version(name) for name in ENGINE_LIBRARIES)
    return tuple(found[name] for name in ENGINE_LIBRARIES)


def _settle() -> None:
    """After a stage: what it made lives to the end of the build, frozen out of the cyclic
    garbage collector's walks; the C heap's free pages go back to the system (glibc keeps
    the holes that freed texts leave, the Markdown, the bodies as rendered, the ranking's
    words and arrays, and a process's memory would stay at its highest: malloc_trim, on
    Linux with glibc; elsewhere only the freeze)."""
    gc.freeze()
    if sys.platform.startswith("linux"):  # (musl has no malloc_trim)
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).malloc_trim(0)


@dataclass
class Stopwatch:
    """Seconds per stage, for `quire build --timings` and the benchmark."""

    laps: list[tuple[str, float]] = field(default_factory=list)
    last: float = field(default_factory=time.perf_counter)
    cpu: list[float] = field(default_factory=list)
    last_cpu: float = field(default_factory=lambda: _cpu_seconds())

    def lap(self, name: str) -> None:
        now, used = time.perf_counter(), _cpu_seconds()
        self.laps.append((name, now - self.last))
        self.cpu.append(used - self.last_cpu)
        self.last, self.last_cpu = now, used


def _cpu_seconds() -> float:
    """This process's CPU time and its finished workers'."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


__all__ = [
    "BuildOptions",
    "BuildResult",
    "Snapshot",
    "build",
    "load_site",
    "render_one",
    "snapshot",
]
