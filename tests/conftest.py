"""Shared test helpers: make and build small real sites in temporary folders."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # test this checkout's quire, whatever is installed

GENCORPUS = ROOT.parent / "shared" / "bench" / "gencorpus.py"


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
