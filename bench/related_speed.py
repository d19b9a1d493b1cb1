#!/usr/bin/env python3
"""Time and peak memory of the related-posts step alone, on bench/corpus.py corpora.

    python bench/related_speed.py [N ...] [--news F] [--repeat R]

For each N (default 1000 5000 20000) a corpus is generated with
`bench/corpus.py N DIR --news F` (F = 0.5 by default: half the posts are short news items),
read with quire's own reader, and `related_index` is run on the published posts, newest
first, as the pipeline does. Wall-clock and CPU time are each the best of R runs (CPU time
is steadier on a shared machine); peak memory is measured in a
separate run with tracemalloc (which slows Python down, so it is not timed), and counts
every allocation made by the step (Python objects and numpy buffers).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quire.index.related import RelatedSettings, related_index  # noqa: E402
from quire.read.content import ReadOptions, read_sources  # noqa: E402


def load_posts(site: Path) -> list:
    posts, problems = read_sources(site, ReadOptions())
    if problems:
        raise SystemExit(f"{len(problems)} problems reading {site}, first: {problems[0]}")
    now = dt.datetime.now(dt.UTC)
    published = [p for p in posts if p.kind == "post" and not p.draft and p.date <= now]
    published.sort(key=lambda p: (p.date, p.slug), reverse=True)
    return published


def measure(posts: list, repeat: int) -> tuple[float, float, float]:
    settings = RelatedSettings()
    best = cpu = float("inf")
    for _ in range(repeat):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        related_index(posts, settings)
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    gc.collect()
    tracemalloc.start()
    related_index(posts, settings)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, cpu, peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("sizes", nargs="*", type=int, default=[1000, 5000, 20000])
    ap.add_argument("--news", type=float, default=0.5, help="share of short news posts")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"# related step, {platform.processor() or platform.machine()}, {dt.date.today()}")
    print(f"# load average before: {os.getloadavg()[0]:.1f}")
    print("| posts | wall time (s) | CPU time (s) | peak memory (MiB) | CPU µs per post |")
    print("|------:|--------------:|-------------:|------------------:|----------------:|")
    with tempfile.TemporaryDirectory(prefix="quire-related-") as tmp:
        for n in args.sizes:
            site = Path(tmp) / str(n)
            subprocess.run(
                [sys.executable, str(ROOT / "bench" / "corpus.py"), str(n), str(site)]
                + ["--news", str(args.news)],
                check=True,
            )
            posts = load_posts(site)
            wall, cpu, mib = measure(posts, args.repeat)
            per_post = cpu / len(posts) * 1e6
            print(f"| {len(posts)} | {wall:.2f} | {cpu:.2f} | {mib:.0f} | {per_post:.0f} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
