#!/usr/bin/env python3
"""How quire's build grows with the number of posts (issue 16: 100,000 posts in <= 10 minutes,
<= 2 GB peak memory, nothing growing faster than linearly).

    python bench/scale.py [SIZES...] [--jobs N] [--work DIR] [--stages]

Default sizes: 5000 20000 100000. Per size it generates a corpus with bench/corpus.py (post i
is the same file at every size), then runs `quire build` in a subprocess three times: cold
(output and cache deleted), no change, and one post edited (a sentence with new words appended,
2.1 s after the previous build so the no-change check cannot trust mtimes). Per run it prints
wall seconds, CPU seconds (user + system of the build and the workers it forked), peak RSS of
the largest process (what `/usr/bin/time -v` calls maximum resident set size) and of the
process tree (summed PSS, sampled every 50 ms: forked workers share their parent's pages), and
the cold build's per-stage laps (`--timings`).

--stages: instead, one cold build per size in this process's child with `--jobs 1` and the
stage laps in CPU seconds (time.process_time), printed as CPU microseconds per post: the
column that must stay flat for linear growth.

Everything it makes lives in bench/work/scale/ (git-ignored) unless --work says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from compare import TreeSampler, compile_quire  # noqa: E402
from corpus import generate  # noqa: E402

EDIT = "\nA late correction mentions zanzibar quokka marmalade and a xylophone benchmark.\n"


def corpus(size: int, work: Path) -> Path:
    """The size-post corpus, generated once (the generator is deterministic per post)."""
    site = work / f"posts-{size}"
    posts = site / "content" / "posts"
    if not posts.is_dir() or len(os.listdir(posts)) != size:
        shutil.rmtree(site, ignore_errors=True)
        started = time.perf_counter()
        generate(size, site, "quire", jobs=os.cpu_count() or 1)
        print(f"# generated {size} posts in {time.perf_counter() - started:.1f} s", flush=True)
    return site


def reset(site: Path) -> None:
    for folder in (site / "output", site / ".quire-cache"):
        shutil.rmtree(folder, ignore_errors=True)
    for leftover in site.glob(".quire-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def run(command: list[str], cwd: Path) -> dict:
    """One build: wall s, CPU s, peak RSS MB (largest process, and the tree's PSS), stderr."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    sampler.stop()
    out = proc.stdout.read().decode(errors="replace")
    err = proc.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"build failed:\n{out[-1000:]}\n{err[-3000:]}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss": usage.ru_maxrss / 1024,
        "tree": max(usage.ru_maxrss, sampler.peak_kb) / 1024,
        "stderr": err,
        "stdout": out.strip(),
    }


def build_command(site: Path, jobs: int | None) -> list[str]:
    command = [sys.executable, str(ROOT / "build.py"), "build", "--site", str(site), "--timings"]
    return command + (["--jobs", str(jobs)] if jobs else [])


def edit(site: Path, size: int) -> None:
    path = site / "content" / "posts" / f"post-{size // 2:06d}.md"
    with path.open("a", encoding="utf-8") as f:
        f.write(EDIT)


def laps(stderr: str) -> str:
    for line in stderr.splitlines():
        if line.startswith("timings:"):
            return line[len("timings: ") :]
    return ""


def measure(size: int, work: Path, jobs: int | None) -> dict:
    site = corpus(size, work)
    reset(site)
    command = build_command(site, jobs)
    time.sleep(2.1)  # files written in the 2 s before a build make it distrust the no-change check
    cold = run(command, site)
    time.sleep(2.1)
    same = run(command, site)
    edit(site, size)
    time.sleep(2.1)
    one = run(command, site)
    return {"size": size, "cold": cold, "no change": same, "one edit": one}


def row(r: dict) -> str:
    c, s, e = r["cold"], r["no change"], r["one edit"]
    peak = max(x["tree"] for x in (c, s, e))
    largest = max(x["rss"] for x in (c, s, e))
    return (
        f"| {r['size']} | {c['wall']:.1f} | {c['cpu']:.1f} | {1e3 * c['cpu'] / r['size']:.2f} "
        f"| {s['wall']:.2f} | {s['cpu']:.2f} | {e['wall']:.1f} | {e['cpu']:.1f} "
        f"| {largest:.0f} | {peak:.0f} |"
    )


HEADER = (
    "| posts | cold s | cold CPU s | CPU ms/post | no-change s | no-change CPU s "
    "| one edit s | one edit CPU s | peak RSS MB (largest process) | peak MB (tree PSS) |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


# ---------------------------------------------------------------- --stages


def stage_child(site: str) -> None:
    """In a fresh process: one cold build, --jobs 1, laps in CPU seconds, as JSON on stdout."""
    from quire import pipeline
    from quire.model import BuildOptions

    class CpuClock:
        perf_counter = staticmethod(time.process_time)

    pipeline.time = CpuClock  # Stopwatch and build() read pipeline.time.perf_counter
    memory = []
    lap = pipeline.Stopwatch.lap

    def lap_with_memory(self, name):
        lap(self, name)
        with open("/proc/self/statm") as f:  # resident pages after the stage
            memory.append(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20)

    pipeline.Stopwatch.lap = lap_with_memory
    collector = {"seconds": 0.0, "full": 0, "started": 0.0}

    def on_gc(phase, info):  # the cyclic garbage collector's CPU time: it scans live objects
        if phase == "start":
            collector["started"] = time.process_time()
        else:
            collector["seconds"] += time.process_time() - collector["started"]
            collector["full"] += info["generation"] == 2

    import gc

    gc.callbacks.append(on_gc)
    options = BuildOptions(site_dir=Path(site), output_dir=Path(site) / "output", jobs=1)
    result = pipeline.build(options, started=time.process_time())
    del collector["started"]
    report = {"laps": result.stages, "rss": memory, "cpu": time.process_time(), "gc": collector}
    print(json.dumps(report))


def stages(sizes: list[int], work: Path) -> None:
    got = {}
    for size in sizes:
        site = corpus(size, work)
        reset(site)
        r = run([sys.executable, __file__, "--child", str(site)], ROOT)
        got[size] = json.loads(r["stdout"].splitlines()[-1])
        gc = got[size]["gc"]
        print(
            f"# {size}: {r['cpu']:.1f} CPU s, peak RSS {r['rss']:.0f} MB, cyclic GC "
            f"{gc['seconds']:.1f} CPU s ({gc['full']} full collections)",
            flush=True,
        )
    names = [name for name, _ in got[sizes[0]]["laps"]]
    print("| stage | " + " | ".join(f"{s} CPU s | µs/post | RSS MB after" for s in sizes) + " |")
    print("|---|" + "---:|---:|---:|" * len(sizes))
    for i, name in enumerate(names):
        cells = []
        for s in sizes:
            seconds = got[s]["laps"][i][1]
            rss = got[s]["rss"][i] if len(got[s]["rss"]) > i else 0
            cells.append(f"{seconds:.2f} | {1e6 * seconds / s:.0f} | {rss:.0f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sizes", type=int, nargs="*", default=[5000, 20000, 100000])
    ap.add_argument("--jobs", type=int, default=None, help="quire build --jobs (default: cores)")
    ap.add_argument("--work", type=Path, default=HERE / "work" / "scale")
    ap.add_argument("--stages", action="store_true", help="CPU per stage, --jobs 1")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    compile_quire()
    if args.child:
        stage_child(args.child)
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    if args.stages:
        stages(args.sizes, args.work)
        return 0
    print(f"# quire build --jobs {args.jobs or os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    print(HEADER, flush=True)
    results = []
    for size in args.sizes:
        r = measure(size, args.work, args.jobs)
        results.append(r)
        print(row(r), flush=True)
    for r in results:
        print(f"# {r['size']} cold: {laps(r['cold']['stderr'])}")
        print(f"# {r['size']} one edit: {laps(r['one edit']['stderr'])}")
        print(f"# {r['size']}: {r['one edit']['stdout']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
