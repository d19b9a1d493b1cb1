"""The lines a build prints about itself: its summary and its timings.

Imports nothing: model.BuildResult and the no-change check's result
(incremental/fastpath.py, which must not import the records) print through these.
"""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """ "1 post", "2 posts" (every noun quire counts takes an s)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def summary(result) -> str:
    """`result`: a BuildResult, or anything with its posts, pages, rendered, cached, seconds."""
    return (
        f"Built {plural(result.posts, 'post')}, {plural(result.pages, 'page')} "
        f"({result.rendered} rendered, {result.cached} cached) in {result.seconds:.2f} s"
    )


def timings(result) -> str:
    """Wall and CPU seconds a stage: on a busy machine only the CPU figures compare. A
    result without stages stopped at the no-change check."""
    laps = result.stages or (("no-change check", result.seconds),)
    cpu = result.cpu if len(result.cpu) == len(laps) else (None,) * len(laps)
    return "timings: " + ", ".join(
        f"{name} {seconds:.3f} s" + (f" ({used:.2f} CPU)" if used is not None else "")
        for (name, seconds), used in zip(laps, cpu, strict=True)
    )
