"""The previous output survives everything: bad input, Ctrl-C, SIGTERM, SIGKILL, full disks,
concurrent builds, and output folders that must never be replaced."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, build_site, post, write

from quire import output
from quire.errors import OutputError, check_output_folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def leftovers(parent: Path) -> list[str]:
    return sorted(
        p.name for p in parent.iterdir() if p.name.startswith((".quire-tmp-", ".quire-old-"))
    )


def cli(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "build.py"), *args]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, make_corpus) -> Path:
    """A 300-post generated site: big enough that a build takes a noticeable moment."""
    return make_corpus(300, tmp_path_factory.mktemp("corpus") / "site", "quire")


def _fresh_copy(corpus: Path, tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(corpus, site, ignore=shutil.ignore_patterns(".quire-cache", "output"))
    return site


def _kill_mid_build(site: Path, out: Path, sig: int) -> subprocess.Popen:
    """Start a cold build and send `sig` once its staging folder exists (retry if too late)."""
    for _ in range(5):
        shutil.rmtree(site / ".quire-cache", ignore_errors=True)
        for path in (site / "content" / "posts").glob("*.md"):
            path.write_text(path.read_text() + "\nEdited.\n")
        proc = subprocess.Popen(
            cli("build", "--site", str(site), "--output", str(out)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if any(p.name.startswith(".quire-tmp-") for p in out.parent.iterdir()):
                proc.send_signal(sig)
                proc.wait(30)
                return proc
            time.sleep(0.002)
        proc.wait(30)
    pytest.fail("the build always finished before it could be interrupted")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_build_keeps_previous_output_and_leaves_no_temp(corpus, tmp_path, sig):
    site = _fresh_copy(corpus, tmp_path)
    out = tmp_path / "out"
    subprocess.run(
        cli("build", "--site", str(site), "--output", str(out)), check=True, capture_output=True
    )
    before = snapshot(out)
    proc = _kill_mid_build(site, out, sig)
    stderr = proc.stderr.read()
    assert proc.returncode == (143 if sig == signal.SIGTERM else 130), stderr
    assert "Traceback" not in stderr
    assert "previous output is left as it was" in stderr
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_sigkill_mid_build_is_cleaned_up_by_the_next_build(corpus, tmp_path):
    site = _fresh_copy(corpus, tmp_path)
    out = tmp_path / "out"
    subprocess.run(
        cli("build", "--site", str(site), "--output", str(out)), check=True, capture_output=True
    )
    before = snapshot(out)
    _kill_mid_build(site, out, signal.SIGKILL)
    assert snapshot(out) == before
    assert any(name.startswith(".quire-tmp-") for name in leftovers(tmp_path))
    done = subprocess.run(
        cli("build", "--site", str(site), "--output", str(out)), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert leftovers(tmp_path) == [] or all(
        n.startswith(".quire-old-") for n in leftovers(tmp_path)
    )
    assert "Edited." in (out / "posts" / "post-000001" / "index.html").read_text()


def test_output_left_aside_by_a_kill_between_renames_is_restored(site, tmp_path):
    out = tmp_path / "out"
    post(site, "a", "A")
    assert build_site(site, out)[0] == 0
    before = snapshot(out)
    # what a SIGKILL between commit's two renames leaves: the old output aside, no output
    os.replace(out, tmp_path / ".quire-old-x1")
    (tmp_path / ".quire-tmp-x2").mkdir()
    post(site, "b", "B", date="not a date")  # and this build fails on bad input
    code, _, err = build_site(site, out)
    assert code == 1
    assert snapshot(out) == before


def test_disk_full_is_a_message_and_the_output_is_untouched(site, tmp_path, monkeypatch):
    out = tmp_path / "out"
    post(site, "a", "A")
    assert build_site(site, out)[0] == 0
    before = snapshot(out)
    post(site, "a", "A changed", body="New text.")
    real = Path.write_bytes
    calls = {"n": 0}

    def full(self, data):
        calls["n"] += 1
        if ".quire-tmp-" in str(self) and calls["n"] > 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    code, _, err = build_site(site, out)
    assert code == 1
    assert "No space left on device" in err and "left as it was" in err, err
    assert "Traceback" not in err
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_read_only_parent_is_a_message(site, tmp_path, monkeypatch):
    out = tmp_path / "out"
    post(site, "a", "A")
    assert build_site(site, out)[0] == 0
    before = snapshot(out)

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path))

    monkeypatch.setattr(output.tempfile, "mkdtemp", read_only)
    post(site, "b", "B")
    code, _, err = build_site(site, out)
    assert code == 1
    assert "Read-only file system" in err and "Traceback" not in err, err
    assert snapshot(out) == before


def test_failed_swap_puts_the_old_output_back(site, tmp_path, monkeypatch):
    out = tmp_path / "out"
    post(site, "a", "A")
    assert build_site(site, out)[0] == 0
    before = snapshot(out)
    real = os.replace

    def replace(src, dst):
        if ".quire-tmp-" in str(src):
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(src))
        return real(src, dst)

    monkeypatch.setattr(output.os, "replace", replace)
    post(site, "b", "B")
    code, _, err = build_site(site, out)
    assert code == 1 and "cannot swap in the new output" in err, err
    assert snapshot(out) == before


def test_a_second_build_waits_for_the_first(site, tmp_path):
    out = tmp_path / "out"
    post(site, "a", "A")
    with output.build_lock(out):  # a build in progress
        proc = subprocess.Popen(
            cli("build", "--site", str(site), "--output", str(out)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = proc.stderr.readline()
        assert "waiting for another quire build" in line
        time.sleep(0.3)
        assert proc.poll() is None, "the second build must wait"
        assert not out.exists()
    assert proc.wait(60) == 0, proc.stderr.read()
    assert (out / "posts" / "a" / "index.html").is_file()


def test_two_real_builds_at_once_both_succeed(corpus, tmp_path):
    site = _fresh_copy(corpus, tmp_path)
    out = tmp_path / "out"
    args = cli("build", "--site", str(site), "--output", str(out))
    procs = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p.wait(120), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0, 0], results
    assert len(list((out / "posts").glob("*/index.html"))) == 300
    assert [n for n in leftovers(tmp_path) if n.startswith(".quire-tmp-")] == []


# ---------------------------------------------------------------- refused output folders


@pytest.mark.parametrize(
    "where",
    ["site", "content", "templates", "parent", "home", "above-home", "git", "site-toml", "file"],
)
def test_precious_folders_are_refused_before_anything_is_touched(
    site, tmp_path, monkeypatch, where
):
    home = tmp_path / "home" / "me"
    write(home / "notes.txt", "mine")
    monkeypatch.setenv("HOME", str(home))
    post(site, "a", "A")
    write(site / "templates" / "x.html", "x")
    targets = {
        "site": site,
        "content": site / "content",
        "templates": site / "templates",
        "parent": tmp_path,
        "home": home,
        "above-home": home.parent,
        "git": tmp_path / "repo",
        "site-toml": tmp_path / "other-site",
        "file": tmp_path / "a-file",
    }
    write(tmp_path / "repo" / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(tmp_path / "other-site" / "site.toml", 'title = "Other"\n')
    write(tmp_path / "a-file", "not a folder")
    before = snapshot(tmp_path)
    code, _, err = build_site(site, targets[where])
    assert code == 1
    assert err.startswith("error: refusing"), err
    assert snapshot(tmp_path) == before
    assert leftovers(tmp_path) == [] and leftovers(site) == []


def test_root_is_refused(site):
    with pytest.raises(OutputError, match="root folder"):
        check_output_folder(Path("/"), site)


def test_plain_keys_are_what_safe_relpath_makes_of_them() -> None:
    """keep() checks an output path as a string: a path it accepts as it is must be the one
    safe_relpath gives, and every other path goes through safe_relpath."""
    from quire.output import OutputError, _plain_key, safe_relpath

    for path in ("index.html", "a/b/index.html", "posts/ü/index.html", "x.y/z"):
        assert _plain_key(path) == str(safe_relpath(path))
    for path in ("/a", "a//b", "a/./b", "a/../b", "..", "a\\b", "a\x00b", "", "a/"):
        assert _plain_key(path) is None
    with pytest.raises(OutputError):
        safe_relpath("a/../b")
