#!/usr/bin/env python3
"""The no-change build, this checkout against another, paired.

    python bench/nochange.py SITE OTHER_CHECKOUT [--runs 10]

Copies SITE (a folder with site.toml and content/) once per checkout into bench/work/
(each checkout keeps its own cache: a manifest written by one quire is a change for the
other), builds each copy cold, compiles both checkouts' bytecode (as `pip install`
leaves it), then runs `python build.py build --site COPY` alternately, A B A B, --runs
times each, checking that every timed run took the no-change path. Prints per checkout
the median and minimum wall time and user + system CPU (what to compare on a busy
machine), and checks that both cold outputs are byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work" / "nochange"


def build(checkout: Path, site: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "build.py", "build", "--site", str(site), *extra],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
    )


def digest_tree(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("other", type=Path, help="another quire checkout (e.g. a worktree of main)")
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    checkouts = {"this": ROOT, "other": args.other.resolve()}
    sites = {}
    for name, checkout in checkouts.items():
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "quire")])
        site = WORK / name
        shutil.rmtree(site, ignore_errors=True)
        shutil.copytree(args.site, site, ignore=shutil.ignore_patterns("output", ".quire-cache"))
        cold = build(checkout, site)
        assert cold.returncode == 0, cold.stderr
        sites[name] = site
    same = digest_tree(sites["this"] / "output") == digest_tree(sites["other"] / "output")
    print(f"cold outputs byte-identical: {same}")
    time.sleep(2.5)  # past the racy window: the next build writes a manifest it can trust
    for name, checkout in checkouts.items():
        build(checkout, sites[name])
    wall: dict[str, list[float]] = {name: [] for name in checkouts}
    cpu: dict[str, list[float]] = {name: [] for name in checkouts}
    for _ in range(args.runs):
        for name, checkout in checkouts.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = build(checkout, sites[name], "--timings")
            wall[name].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            assert "timings: no-change check" in done.stderr, (name, done.stderr)
    for name in checkouts:
        print(
            f"{name:6s} wall median {statistics.median(wall[name]) * 1000:5.0f} ms "
            f"(min {min(wall[name]) * 1000:4.0f}), user+sys median "
            f"{statistics.median(cpu[name]) * 1000:5.0f} ms (min {min(cpu[name]) * 1000:4.0f})"
        )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
