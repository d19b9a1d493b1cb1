"""`quire init [DIR]`: a new site folder that builds, serves and shows what quire does."""

from __future__ import annotations

import contextlib
import io
import signal
import socket
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, build_site
from lxml import html

from quire.commands import main


def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        if stdin is not None:
            old = sys.stdin
            sys.stdin = io.StringIO(stdin)
            stack.callback(setattr, sys, "stdin", old)
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def page(path: Path) -> html.HtmlElement:
    return html.fromstring(path.read_bytes())


def test_init_asks_nothing_and_the_site_builds(tmp_path: Path):
    folder = tmp_path / "blog"
    code, out, err = run("init", str(folder))
    assert code == 0, err
    assert "quire serve" in out and "quire build" in out
    for rel in (
        "site.toml",
        ".gitignore",
        "content/products.yaml",
        "content/posts/welcome.md",
        "templates/README.md",
        "theme/README.md",
    ):
        assert (folder / rel).is_file(), rel
    assert (folder / ".gitignore").read_text().split() == ["output/", ".quire-cache/"]
    toml_text = (folder / "site.toml").read_text()
    config = tomllib.loads(toml_text)
    assert config["title"] == "My tech blog"
    assert "base_url" not in config and '# base_url = "https://' in toml_text
    assert sum(1 for line in toml_text.splitlines() if line.startswith("#")) >= 5

    code, stdout, stderr = build_site(folder, folder / "output")
    assert code == 0, stderr
    assert stdout.startswith("Built 3 posts,")
    assert "base_url is not set" in stderr  # and nothing else to warn about
    assert len(stderr.strip().splitlines()) == 1
    out = folder / "output"
    welcome = page(out / "posts" / "welcome" / "index.html")
    buy = welcome.xpath("//aside[contains(@class, 'buy-box')]")
    assert buy and "Seven-port USB-C hub" in buy[0].text_content()
    assert buy[0].xpath(".//img/@src") == ["/images/products/usb-c-hub.svg"]
    assert (out / "images" / "products" / "usb-c-hub.svg").is_file()
    related = welcome.xpath("//aside[contains(@class, 'related')]//li/a/@href")
    assert set(related) == {"/posts/my-desk-setup/", "/posts/writing-with-quire/"}
    assert not (out / "README.md").exists()  # theme/README.md explains, is not published


def test_flags_fill_site_toml(tmp_path: Path):
    folder = tmp_path / "b"
    code, _, err = run(
        "init", str(folder), "--title", 'Ann\'s "Mac" Notes', "--author", "Ann",
        "--base-url", "https://ann.example/blog/",
    )  # fmt: skip
    assert code == 0, err
    config = tomllib.loads((folder / "site.toml").read_text())
    assert config["title"] == 'Ann\'s "Mac" Notes'
    assert config["author"] == "Ann"
    assert config["base_url"] == "https://ann.example/blog/"
    code, _, stderr = build_site(folder, folder / "output")
    assert code == 0 and stderr == ""  # base_url given: no warning
    home = page(folder / "output" / "index.html")
    assert home.xpath("//link[@rel='canonical']/@href") == ["https://ann.example/blog/"]


def test_interactive_asks_for_the_settings(tmp_path: Path):
    folder = tmp_path / "i"
    code, out, err = run(
        "init", str(folder), "--interactive", stdin="Q Blog\nQuinn\nhttps://q.example/\n"
    )
    assert code == 0, err
    assert "Site title" in out and "Base URL" in out
    config = tomllib.loads((folder / "site.toml").read_text())
    assert (config["title"], config["author"], config["base_url"]) == (
        "Q Blog",
        "Quinn",
        "https://q.example/",
    )


def test_bad_base_url_is_refused(tmp_path: Path):
    code, _, err = run("init", str(tmp_path / "x"), "--base-url", "ftp://nope")
    assert code == 1 and "--base-url" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_refuses_a_folder_that_is_not_empty_unless_forced(tmp_path: Path):
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    code, _, err = run("init", str(folder))
    assert code == 1 and "not empty" in err and "--force" in err
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    code, _, err = run("init", str(folder), "--force")
    assert code == 0, err
    assert (folder / "notes.txt").read_text() == "mine"
    assert (folder / "site.toml").is_file()


def test_init_in_the_current_folder_then_build_with_no_arguments(tmp_path: Path, monkeypatch):
    folder = tmp_path / "here"
    folder.mkdir()
    monkeypatch.chdir(folder)
    code, out, _ = run("init")
    assert code == 0 and "cd " not in out
    code, stdout, _ = run("build")
    assert code == 0 and stdout.startswith("Built 3 posts")
    assert (folder / "output" / "posts" / "welcome" / "index.html").is_file()


def test_serve_works_in_a_new_site(tmp_path: Path):
    folder = tmp_path / "s"
    assert run("init", str(folder))[0] == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "build.py"), "serve", "--port", str(port)],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert f"127.0.0.1:{port}" in line, proc.stderr.read() if proc.poll() else line
        url = f"http://127.0.0.1:{port}/posts/welcome/"
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read().decode()
        assert response.status == 200 and "buy-box" in body
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


@pytest.mark.parametrize("name", ["README.md", "README"])
def test_a_readme_in_theme_is_not_published(tmp_path: Path, name: str):
    folder = tmp_path / "t"
    assert run("init", str(folder), "--base-url", "https://t.example/")[0] == 0
    (folder / "theme" / name).write_text("notes")
    (folder / "theme" / "extra.txt").write_text("published")
    code, _, _ = build_site(folder, folder / "output")
    assert code == 0
    assert not (folder / "output" / name).exists()
    assert (folder / "output" / "extra.txt").read_text() == "published"
