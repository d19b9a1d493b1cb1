"""What goes into a build and what comes out, and the no-change check that needs nothing else.

Kept apart from site.py (which imports Markdown, Jinja, feedgen and the related-posts
model) so that `quire build` with nothing changed answers in a few stats.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

from quire import output
from quire.incremental import cache
from quire.problems import Problem


@dataclass(frozen=True)
class BuildOptions:
    site_dir: Path
    output_dir: Path
    drafts: bool = False
    base_url: str | None = None
    strict: bool = False
    now: dt.datetime | None = None
    jobs: int | None = None  # processes rendering Markdown; None: one per core
    progress: bool = False  # a progress bar on stderr while rendering

    def settings(self) -> tuple:
        """The options that change the output (jobs and progress do not)."""
        return (self.drafts, self.base_url, self.strict)

    def moment(self) -> dt.datetime:
        return self.now or dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class BuildResult:
    posts: int
    pages: int
    written: int  # output files written
    unchanged: int  # output files kept from the previous output
    seconds: float
    warnings: tuple[Problem, ...] = ()
    rendered: int = 0  # pages rendered by Jinja
    cached: int = 0  # pages the cache proved unchanged, kept without rendering
    stages: tuple[tuple[str, float], ...] = ()  # (stage, seconds), in build order

    def summary(self) -> str:
        return (
            f"Built {self.posts} posts, {self.pages} pages "
            f"({self.rendered} rendered, {self.cached} cached) in {self.seconds:.2f} s"
        )

    def timings(self) -> str:
        laps = self.stages or (("no-change check", self.seconds),)
        return "timings: " + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in laps)


def quick_result(options: BuildOptions, started: float | None = None) -> BuildResult | None:
    """The result of a build that has nothing to do: no input changed and the output is
    exactly as the last build left it. None when there is work."""
    return quick_check(options, started)[0]


def quick_check(
    options: BuildOptions, started: float | None = None
) -> tuple[BuildResult | None, cache.Probe]:
    """quick_result, with the probe of the inputs: the build that follows reuses it
    instead of scanning every input again."""
    started = time.perf_counter() if started is None else started
    output.check_output_folder(options.output_dir, options.site_dir)
    manifest, probe = cache.unchanged(
        options.site_dir, options.output_dir, options.settings(), options.moment()
    )
    if manifest is None:
        return None, probe
    return unchanged_result(manifest, started), probe


def unchanged_result(manifest: cache.Manifest, started: float) -> BuildResult:
    files = sum(1 for entry in manifest.outputs if entry[1] is not None)
    return BuildResult(
        posts=manifest.posts,
        pages=manifest.pages,
        written=0,
        unchanged=files,
        seconds=time.perf_counter() - started,
        warnings=manifest.warnings,
        rendered=0,
        cached=manifest.pages,
    )
