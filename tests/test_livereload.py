"""quire.livereload on its own: a folder served with an override and events, no quire build."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT

from quire.livereload import LiveServer, Watcher
from quire.livereload.server import host_allowed


def get(url: str, path: str) -> tuple[int, dict, bytes]:
    address, port = url.split("//")[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(address, int(port), timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_knows_nothing_of_the_pipeline():
    code = (
        "import sys, quire.livereload; "
        "print('\\n'.join(m for m in sys.modules if m.startswith('quire')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert set(out) <= {"quire", "quire.livereload"} | {
        f"quire.livereload.{m}" for m in ("server", "watcher", "script")
    }, out


def test_serves_a_folder_with_an_override_and_events(tmp_path: Path):
    root = tmp_path / "www"
    (root / "docs").mkdir(parents=True)
    (root / "index.html").write_text("<html><body><h1>Home</h1></body></html>")
    (root / "docs" / "index.html").write_text("<html><body>Docs</body></html>")
    (root / "404.html").write_text("<html><body>Nope</body></html>")
    (root / "app.css").write_text("h1{}")
    overlay = {"new/index.html": b"<html><body>From memory</body></html>"}
    live = LiveServer(root, page_override=overlay.get, max_connections=8)
    live.start()
    try:
        status, headers, body = get(live.url, "/")
        assert status == 200 and b"Home" in body and b'id="quire-live"' in body
        assert get(live.url, "/docs")[1]["Location"] == "/docs/"
        assert get(live.url, "/new")[1]["Location"] == "/new/"
        assert b"From memory" in get(live.url, "/new/")[2]
        status, headers, body = get(live.url, "/app.css")
        assert headers["Content-Type"] == "text/css; charset=utf-8" and body == b"h1{}"
        status, _, body = get(live.url, "/missing")
        assert status == 404 and b"Nope" in body
        assert get(live.url, "/../etc/passwd")[0] == 400

        address, port = live.url.split("//")[1].rstrip("/").split(":")
        conn = http.client.HTTPConnection(address, int(port), timeout=5)
        conn.request("GET", "/__quire/events")
        stream = conn.getresponse()
        live.publish([{"text": "a.md:1: <bad>"}])
        state = {"problems": []}
        while not state["problems"]:  # the first state may or may not be from before
            line = stream.fp.readline().decode()
            if line.startswith("data: "):
                state = json.loads(line[6:])
        conn.close()
        assert state == {"version": 1, "problems": [{"text": "a.md:1: <bad>"}]}
        body = get(live.url, "/")[2]
        assert b"a.md:1: &lt;bad&gt;" in body and b"<bad>" not in body
    finally:
        live.close()


def test_host_allowed():
    names = frozenset({"mybox.lan"})
    for ok in (
        "localhost",
        "localhost:8000",
        "a.localhost",
        "127.0.0.1:1",
        "[::1]:80",
        "192.168.1.5:8000",
        "mybox.lan:8000",
        "MyBox.LAN.",
        None,
    ):
        assert host_allowed(ok, names), ok
    for bad in ("evil.example", "evil.example:8000", "localhost.evil.example", "", "[::1"):
        assert not host_allowed(bad, names), bad


def test_watcher_calls_back_with_saved_paths(tmp_path: Path):
    (tmp_path / "content").mkdir()
    seen: list[set[Path]] = []
    watcher = Watcher(tmp_path, seen.append, folders=("content", "theme"), files=("site.toml",))
    watcher.start()  # in place when it returns: no sleep needed before saving
    try:
        (tmp_path / "content" / "a.md").write_text("x")
        (tmp_path / "content" / "a.md.swp").write_text("x")
        (tmp_path / "site.toml").write_text("x")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = set().union(*seen) if seen else set()
            if {tmp_path / "content" / "a.md", tmp_path / "site.toml"} <= got:
                break
            time.sleep(0.05)
        got = set().union(*seen)
        assert tmp_path / "content" / "a.md" in got and tmp_path / "site.toml" in got
        assert not any(p.name.endswith(".swp") for p in got)
    finally:
        watcher.close()
