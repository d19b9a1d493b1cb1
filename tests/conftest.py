"""Shared test helpers: make and build small real sites in temporary folders."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # test this checkout's quire, whatever is installed


def _load_corpus_module():
    """bench/corpus.py (inside the repository) as a module; bench/ is not a package."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "quire_bench_corpus", ROOT / "bench" / "corpus.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # worker processes find its functions by this name
    spec.loader.exec_module(module)
    return module


corpus_module = _load_corpus_module()


@pytest.fixture(scope="session")
def make_corpus():
    """generate(n, dest, flavour="quire", seed=..., news=0.0) from bench/corpus.py: writes a
    deterministic n-post site (quire, hugo or pelican flavour) into dest and returns dest."""
    return corpus_module.generate


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def post(
    site: Path, slug: str, title: str, date: str = "2025-01-01", body: str = "Hello.", **fields
) -> Path:
    lines = [f'title: "{title}"', f"date: {date}"]
    for key, value in fields.items():
        lines.append(f"{key}: {value}")
    text = "---\n" + "\n".join(lines) + "\n---\n\n" + textwrap.dedent(body).strip() + "\n"
    return write(site / "content" / "posts" / f"{slug}.md", text)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """An empty site folder with a minimal site.toml."""
    root = tmp_path / "site"
    write(root / "site.toml", 'title = "Test Blog"\nbase_url = "https://blog.example.com/"\n')
    return root


def build_site(site_dir: Path, out: Path | None = None, *extra: str) -> tuple[int, str, str]:
    """Run the real CLI in-process; returns (exit code, stdout, stderr)."""
    import contextlib
    import io

    from quire.commands import main

    out = out or site_dir.parent / "out"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["build", "--site", str(site_dir), "--output", str(out), *extra])
    return code, stdout.getvalue(), stderr.getvalue()


def image(path: Path, size: tuple[int, int] = (40, 30)) -> Path:
    """A small real image (its format from the suffix): the image stage decodes every local
    image a site uses, and a missing or undecodable one fails the build."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "RGBA" if path.suffix.lower() == ".png" else "RGB"
    Image.new(mode, size, (30, 90, 160)).save(path)
    return path


def assert_linear(make, run, size: int, factor: int = 8, margin: float = 30, tries: int = 3):
    """run(make(factor * size)) takes less than `margin` times run(make(size)), in CPU time.

    For "this never goes quadratic" checks without a wall-clock limit: both sizes are measured
    in the same test with time.process_time (other processes on a busy machine do not count),
    best of `tries`, and the margin is wide (linear is 8x; quadratic would be 64x). The small
    run counts as at least 5 ms, so timer noise on a very fast run cannot fail the check.
    """
    import time

    def best(data, limit=None):
        fastest = float("inf")
        for _ in range(tries):
            started = time.process_time()
            run(data)
            fastest = min(fastest, time.process_time() - started)
            if limit is not None and fastest < limit:
                break
        return fastest

    small = max(best(make(size)), 0.005)
    big = best(make(factor * size), limit=margin * small)
    assert big < margin * small, (
        f"{factor}x the input took {big / small:.0f}x the CPU time ({small:.3f} s -> {big:.3f} s)"
    )


def products_yaml(**products: tuple[str, str, str]) -> str:
    """A products.yaml: id=(name, price, Apple store URL) per product."""
    return "\n" + "".join(
        f'{pid}:\n  name: {name}\n  price: "{price}"\n  links:\n'
        f"    - store: Apple\n      url: {url}\n"
        for pid, (name, price, url) in products.items()
    )


def age(site: Path, seconds: float = 3600) -> None:
    """Backdate every source (mtime) so the no-change check trusts their stat (no racy
    files); the build cache is left as it is."""
    past = time.time() - seconds
    for path in [site, *site.rglob("*")]:
        if ".quire-cache" not in path.parts:
            os.utime(path, (past, past))
