"""Faults found by breaking quire on purpose (issue 13), each end to end: build, change,
build, compare with a cold build byte for byte; and kill points (QUIRE_FAULT) that prove a
killed build never costs the user their site."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, age, build_site, post, write

from quire.faults import KILLED, POINTS
from quire.incremental import store

SITE_TOML = 'title = "Desk"\nbase_url = "https://d.example.com/"\nposts_per_page = 2\n'


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def cold(site: Path, tmp: Path, *extra: str) -> dict[str, bytes]:
    """The output of a cold build of the same sources: a copy of the site, no cache."""
    copy = tmp / "cold-site"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns(store.CACHE_DIR))
    out = tmp / "cold-out"
    shutil.rmtree(out, ignore_errors=True)
    code, _, stderr = build_site(copy, out, "--jobs", "1", *extra)
    assert code == 0, stderr
    return tree(out)


def ok(site: Path, out: Path, *extra: str) -> str:
    code, stdout, stderr = build_site(site, out, *extra)
    assert code == 0, stderr
    return stdout + stderr


@pytest.fixture
def blog(site: Path) -> Path:
    write(site / "site.toml", SITE_TOML)
    post(site, "one", "One", "2025-03-01", "First post.", tags="[mac]")
    post(site, "two", "Two", "2025-03-02", "Second post.", tags="[mac, tips]")
    post(site, "three", "Three", "2025-03-03", "Third post.", tags="[tips]")
    write(site / "content" / "pages" / "about.md", '---\ntitle: "About"\n---\nWe write.\n')
    write(site / "theme" / "img" / "logo.txt", "logo version A\n")
    return site


# ---------------------------------------------------------------- 1. settings baked in


def test_base_url_change_equals_cold_build(blog: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok(blog, out)
    post(blog, "four", "Four", "2025-03-04", "Fourth.")
    ok(blog, out)  # compiled with templates from the bytecode cache, which now exists
    write(blog / "site.toml", SITE_TOML.replace("d.example.com/", "x.example.org/blog/"))
    ok(blog, out)
    assert tree(out) == cold(blog, tmp_path)
    assert "/blog/css/" in (out / "index.html").read_text()


def test_base_url_option_does_not_stick(blog: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok(blog, out)
    ok(blog, out, "--base-url", "http://127.0.0.1:8123/preview/")
    assert tree(out) == cold(blog, tmp_path, "--base-url", "http://127.0.0.1:8123/preview/")
    ok(blog, out)
    assert tree(out) == cold(blog, tmp_path)
    assert b"127.0.0.1" not in b"".join(tree(out).values())


# ---------------------------------------------------------------- 2. output modes


def test_output_gets_the_modes_of_a_normal_mkdir(blog: Path, tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        out = tmp_path / "out"
        ok(blog, out)
        ok(blog, out)  # the second build stages into the spare
        post(blog, "four", "Four", "2025-03-04", "Fourth.")
        ok(blog, out)
        for path in [out, *out.rglob("*")]:
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))
    finally:
        os.umask(mask)


# ---------------------------------------------------------------- 3. same size, same mtime


def _same_size_edit(path: Path, old: str, new: str) -> None:
    st = path.stat()
    text = path.read_text()
    assert len(old) == len(new) and old in text
    path.write_text(text.replace(old, new))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # editors and `touch -r` do this
    assert path.stat().st_size == st.st_size


def test_same_size_edit_with_mtime_put_back_is_seen(blog: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    age(blog)
    ok(blog, out)
    ok(blog, out)  # the no-change path: a manifest is written
    _same_size_edit(blog / "content" / "posts" / "two.md", "Second", "Edited")
    _same_size_edit(blog / "theme" / "img" / "logo.txt", "version A", "version B")
    ok(blog, out)
    assert "Edited post." in (out / "posts" / "two" / "index.html").read_text()
    assert (out / "img" / "logo.txt").read_text() == "logo version B\n"
    assert tree(out) == cold(blog, tmp_path)


def test_static_file_edit_seen_without_the_cache(blog: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok(blog, out)
    _same_size_edit(blog / "theme" / "img" / "logo.txt", "version A", "version C")
    shutil.rmtree(blog / store.CACHE_DIR)
    ok(blog, out)
    assert (out / "img" / "logo.txt").read_text() == "logo version C\n"


# ---------------------------------------------------------------- 5. hostile posts


def _growth(function, unit: str, small: int) -> float:
    """How much longer `function` takes on 8x the input: ~8 if linear, ~64 if quadratic.
    CPU time, the best of three runs each, and at least 5 ms for the small input, against
    a busy machine's noise; no absolute time is asserted."""

    def best(size: int) -> float:
        text = unit * (size // len(unit))
        runs = []
        for _ in range(3):
            started = time.process_time()
            function(text)
            runs.append(time.process_time() - started)
        return min(runs)

    best(small)  # warm up
    return best(8 * small) / max(best(small), 0.005)


SUMMARY_HOSTILE = ["[", "![", "<", "{{< buy ", "{{<x>}}", "\n \n", "```\n", "[a](", "{{% "]


@pytest.mark.parametrize("unit", SUMMARY_HOSTILE)
def test_default_summary_is_linear_on_hostile_bodies(unit: str) -> None:
    from quire.read.content import first_paragraph_text

    assert _growth(first_paragraph_text, unit, 50_000) < 30


@pytest.mark.parametrize("unit", ["{{< buy ", "{{< buy >}}", "{{<", "{{< /x >}}", '{{< b "'])
def test_shortcode_scan_is_bounded_on_hostile_bodies(unit: str) -> None:
    from quire.render.shortcodes import MAX_SHORTCODES, expand_shortcodes

    def scan(text: str) -> None:
        expand_shortcodes(text, 1, lambda shortcode: "", "post.md")

    # past MAX_SHORTCODES tags the scan stops: 8x the input costs about the same
    assert _growth(scan, unit, 16 * MAX_SHORTCODES * len(unit)) < 4


def test_hostile_post_is_read_with_a_summary(blog: Path) -> None:
    from quire import read
    from quire.model import BuildOptions

    body = "[" * 100_000 + "\n\n" + "{{< buy " * 125_000
    text = f'---\ntitle: "Evil"\ndate: 2025-01-01\n---\n{body}\n'
    write(blog / "content" / "posts" / "evil.md", text)
    loaded = read.load_site(BuildOptions(blog, blog.parent / "out"))
    [evil] = [p for p in loaded.posts if p.slug == "evil"]
    assert len(evil.summary) <= 301


# ---------------------------------------------------------------- 8. path:line, never a traceback


def test_unreadable_folder_under_content_is_a_problem(blog: Path, tmp_path: Path, monkeypatch):
    secret = blog / "content" / "posts" / "secret"
    post(blog, "secret/hidden", "Hidden", "2025-03-05", "Hidden.")
    real_scandir = os.scandir

    def scandir(path=".", *args):
        if Path(path) == secret:  # as a non-root user sees a chmod 000 folder
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path, *args)

    monkeypatch.setattr(os, "scandir", scandir)
    code, _, stderr = build_site(blog, tmp_path / "out")
    assert code == 1
    assert "content/posts/secret: cannot read folder: Permission denied" in stderr
    assert "Traceback" not in stderr


def test_toml_nested_ten_thousand_deep_is_a_clean_error(blog: Path, tmp_path: Path) -> None:
    write(blog / "site.toml", SITE_TOML + "deep = " + "[" * 10_000 + "]" * 10_000 + "\n")
    code, _, stderr = build_site(blog, tmp_path / "out")
    assert code == 1 and "site.toml:1: invalid TOML: " in stderr and "Traceback" not in stderr
    write(blog / "site.toml", SITE_TOML)
    deep = "x = " + "[" * 10_000 + "]" * 10_000
    write(blog / "content" / "posts" / "deep.md", f'+++\ntitle = "Deep"\n{deep}\n+++\nBody.\n')
    code, _, stderr = build_site(blog, tmp_path / "out")
    assert code == 1 and "content/posts/deep.md:" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize(
    "permalink",
    [
        "/{slug}/{slug:%}/",
        "/{year:.>2.0}/{slug}/",
        "/{slug.__class__}/{slug}/",
        "/{slug!r}/{slug}/",
        "/{0}{slug}/",
        "/{slug}/{{x}}/",
    ],
)
def test_permalink_allows_only_the_documented_placeholders(blog: Path, tmp_path, permalink):
    write(blog / "site.toml", SITE_TOML + f'permalink = "{permalink}"\n')
    code, _, stderr = build_site(blog, tmp_path / "out")
    assert code == 1, stderr
    assert "site.toml:4: " in stderr and "permalink" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "out").exists()


def test_documented_permalink_placeholders_still_work(blog: Path, tmp_path: Path) -> None:
    write(blog / "site.toml", SITE_TOML + 'permalink = "/{year}/{month}/{day}/{slug}/"\n')
    ok(blog, tmp_path / "out")
    assert (tmp_path / "out" / "2025" / "03" / "02" / "two" / "index.html").is_file()


# ---------------------------------------------------------------- 10. smaller


def test_nul_bytes_never_reach_the_output(blog: Path, tmp_path: Path) -> None:
    path = blog / "content" / "posts" / "zero.md"
    path.write_bytes(b'---\ntitle: "Nul"\ndate: 2025-03-05\n---\nA\x00B and `c\x00d`.\n')
    out = tmp_path / "out"
    ok(blog, out)
    for name, data in tree(out).items():
        assert b"\x00" not in data, name
    [page] = [p for p in out.rglob("index.html") if "zero" in p.parts]
    assert "AB and" in page.read_text()
    assert tree(out) == cold(blog, tmp_path)


def test_a_million_tags_is_a_quick_clean_error(monkeypatch) -> None:
    from quire.index import taxonomy
    from quire.read import content

    made = 0
    real = taxonomy.slugify

    def counting(name: str) -> str:
        nonlocal made
        made += 1
        return real(name)

    tags = ", ".join(f"t{i}" for i in range(1_000_000))
    for front in (
        f"tags: {tags}\n",
        f"tags: [{tags}]\n",
        "tags: " + ", ".join(f"u{i}" for i in range(300)) + "\n",
    ):
        raw = f'---\ntitle: "x"\ndate: 2025-01-01\n{front}---\nBody\n'.encode()
        monkeypatch.setattr(content, "slugify", counting)
        post, problems = content.parse_file(
            Path("/s/content/posts/x.md"), raw, "post", Path("/s"), content.ReadOptions(), b""
        )
        assert post is None and problems
        assert problems[0].path == "content/posts/x.md" and problems[0].line
        assert made < 1000  # no slug made for a million names


def test_cache_corruption_warning_comes_first(blog: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok(blog, out)
    stored = blog / store.CACHE_DIR / store.STORE_FILE
    stored.write_bytes(stored.read_bytes()[:-10] + b"corrupted!")
    write(blog / "site.toml", 'title = "Desk"\n')  # no base_url: a warning of its own
    text = ok(blog, out)
    lines = [line for line in text.splitlines() if "warning" in line]
    assert len(lines) >= 2 and ".quire-cache/store.bin" in lines[0], text


# ---------------------------------------------------------------- 6. a full cache folder


def _refuse_writes_under(monkeypatch, folders: list[Path], error: int) -> None:
    """Every create, write, rename or link into `folders` fails with `error` (ENOSPC:
    the disk is full; EROFS: read-only), as for a non-root user; reads still work."""
    import builtins
    import errno

    roots = [str(f.absolute()) for f in folders]

    def inside(path) -> bool:
        text = os.path.abspath(os.fsdecode(path)) if not isinstance(path, int) else ""
        return any(text == r or text.startswith(r + os.sep) for r in roots)

    def fail(path):
        raise OSError(error, os.strerror(error), os.fsdecode(path))

    real_open, real_os_open = builtins.open, os.open
    real_mkdir, real_replace, real_rename, real_link = os.mkdir, os.replace, os.rename, os.link

    def fake_open(file, mode="r", *args, **kwargs):
        if inside(file) and any(c in mode for c in "wax+"):
            fail(file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            fail(path)
        return real_os_open(path, flags, *args, **kwargs)

    def guard(real):
        def call(src, dst, *args, **kwargs):
            if inside(dst) or (inside(src) and error == errno.EROFS):
                fail(dst)
            return real(src, dst, *args, **kwargs)

        return call

    def fake_mkdir(path, *args, **kwargs):
        if inside(path):
            fail(path)
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    monkeypatch.setattr(os, "mkdir", fake_mkdir)
    monkeypatch.setattr(os, "replace", guard(real_replace))
    monkeypatch.setattr(os, "rename", guard(real_rename))
    monkeypatch.setattr(os, "link", guard(real_link))


@pytest.mark.parametrize("error", ["ENOSPC", "EROFS"])
def test_full_or_read_only_cache_folder_is_a_warning(blog, tmp_path, monkeypatch, error):
    import errno

    out = tmp_path / "out"
    ok(blog, out)
    post(blog, "four", "Four", "2025-03-04", "Fourth.")
    ok(blog, out)  # the cache exists now
    with monkeypatch.context() as patch:
        _refuse_writes_under(patch, [blog / store.CACHE_DIR], getattr(errno, error))
        post(blog, "five", "Five", "2025-03-05", "Fifth.")
        write(blog / "templates" / "404.html", "<p>{{ page.title }} lost</p>\n")
        code, stdout, stderr = build_site(blog, out)
    assert code == 0, stderr
    assert "warning" in stderr and ".quire-cache" in stderr
    assert "Fifth." in (out / "posts" / "five" / "index.html").read_text()
    assert tree(out) == cold(blog, tmp_path)
    ok(blog, out)  # and the next build, with the disk freed, is right too
    assert tree(out) == cold(blog, tmp_path)


# ---------------------------------------------------------------- 7. recovery races


def test_quire_cache_that_is_a_file_is_a_warning(blog: Path, tmp_path: Path) -> None:
    (blog / store.CACHE_DIR).write_text("not a folder\n")
    out = tmp_path / "out"
    code, stdout, stderr = build_site(blog, out)
    assert code == 0, stderr
    assert "left as it was" not in stderr and "warning" in stderr
    (blog / store.CACHE_DIR).unlink()
    assert tree(out) == cold(blog, tmp_path)


def test_recovery_never_restores_an_output_being_deleted(blog, tmp_path, monkeypatch) -> None:
    from quire import output

    out = tmp_path / "out"
    ok(blog, out)
    previous = tree(out)
    # an output-before-last that a detached `rm -rf` is still emptying...
    removing = tmp_path / f"{output.OLD_PREFIX}removing"
    shutil.copytree(out, removing)
    started = []
    monkeypatch.setattr(output.subprocess, "Popen", lambda args, **kw: started.append(args))
    output.remove_later(removing)
    [rm] = started
    being_deleted = Path(rm[-1])
    for path in sorted(being_deleted.rglob("*.html"))[: len(previous) // 2]:
        path.unlink()  # ...half way through, its folders' mtimes newer than anything
    # ...when a build is killed between the swap's two renames
    os.replace(out, tmp_path / f"{output.OLD_PREFIX}killed")
    os.utime(tmp_path / f"{output.OLD_PREFIX}killed", (1, 1))
    output.recover_output(out)
    assert tree(out) == previous
    monkeypatch.undo()
    post(blog, "four", "Four", "2025-03-04", "Fourth.")
    ok(blog, out)
    assert tree(out) == cold(blog, tmp_path)


def test_leftover_cache_temp_files_are_removed(blog: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok(blog, out)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    leftover = blog / store.CACHE_DIR / f"store.bin.tmp{dead}"
    leftover.write_bytes(b"half a cache")
    post(blog, "four", "Four", "2025-03-04", "Fourth.")
    ok(blog, out)
    assert not leftover.exists()


# ---------------------------------------------------------------- kill points


def _cli(site: Path, out: Path, fault: str | None = None, *extra: str):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("QUIRE_FAULT", None)
    if fault:
        env["QUIRE_FAULT"] = fault
    script = "import sys; from quire.commands import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", script, "build", "--site", str(site), "--output", str(out), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> tuple[Path, Path, dict[str, bytes], dict[str, bytes]]:
    """A site of 70 posts (enough for worker processes) built once, the edit the killed
    builds were making, and the cold outputs before and after that edit."""
    base = tmp_path_factory.mktemp("many")
    site = base / "site"
    write(site / "site.toml", SITE_TOML)
    for i in range(70):
        post(site, f"p{i:02d}", f"Post {i}", f"2025-01-{i % 28 + 1:02d}", f"Body {i}.", tags="[a]")
    write(site / "theme" / "img" / "logo.txt", "logo A\n")
    out = base / "out"
    assert _cli(site, out).returncode == 0
    before = tree(out)
    edited = base / "edited"
    shutil.copytree(site, edited, ignore=shutil.ignore_patterns(store.CACHE_DIR))
    _edit(edited)
    after = cold(edited, base)
    return site, out, before, after


def _edit(site: Path) -> None:
    post(site, "p03", "Post 3, edited", "2025-01-04", "New body.", tags="[a, b]")
    post(site, "extra", "Extra", "2025-02-01", "Added.", tags="[a]")
    (site / "content" / "posts" / "p05.md").unlink()
    write(site / "theme" / "img" / "logo.txt", "logo B\n")


@pytest.mark.parametrize("point", POINTS)
def test_a_killed_build_never_costs_the_site(many, tmp_path: Path, point: str) -> None:
    template, template_out, before, after = many
    site, out = tmp_path / "site", tmp_path / "out"
    shutil.copytree(template, site, symlinks=True)
    shutil.copytree(template_out, out, symlinks=True)
    _edit(site)
    killed = _cli(site, out, point, "--jobs", "2")
    assert killed.returncode == KILLED, (killed.stdout, killed.stderr)
    assert "Traceback" not in killed.stderr
    # the previous output, whole (or the new one, whole, once swapped), never a mix
    if (out).exists():
        assert tree(out) in (before, after)
    else:  # killed between the renames: the next build puts the old one back
        assert point == "swap"
    again = _cli(site, out, None, "--jobs", "2")
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert tree(out) == after
    assert not list((site / store.CACHE_DIR).glob("*.tmp*"))
    assert not list(tmp_path.glob(".quire-old-*")) and not list(tmp_path.glob(".quire-tmp-*"))
    # and the build after that takes the no-change path, still right
    third = _cli(site, out)
    assert third.returncode == 0 and tree(out) == after


# ---------------------------------------------------------------- 4. data-only cache


class _Exploit:
    """Unpickling this runs code: what a hostile `.quire-cache/` shipped in a repo holds."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code ran"))


def _sealed(payload: bytes, magic: bytes) -> bytes:
    import hashlib

    return magic + hashlib.sha256(payload).digest() + payload


def test_old_pickle_cache_is_ignored_with_a_warning_and_never_run(blog, tmp_path) -> None:
    import pickle

    out = tmp_path / "out"
    age(blog)
    ok(blog, out)
    ok(blog, out)  # a manifest: the next build would take the no-change path
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"engine": b"", "memos": {"x": _Exploit(marker)}})
    for name in (store.STORE_FILE, "manifest.bin", "posts-00.bin", store.WORDS_FILE):
        (blog / store.CACHE_DIR / name).write_bytes(_sealed(payload, b"QUIRE-CACHE-4\n"))
    text = ok(blog, out)
    assert not marker.exists()
    assert "older quire" in text and ".quire-cache/store.bin" in text
    post(blog, "four", "Four", "2025-03-04", "Fourth.")
    ok(blog, out)
    assert not marker.exists()
    assert tree(out) == cold(blog, tmp_path)


@pytest.mark.parametrize("hostile", ["code object", "unknown record", "Ellipsis alone", "deep"])
def test_cache_holding_anything_but_data_is_ignored(blog, tmp_path, hostile) -> None:
    import marshal

    trees = {
        "code object": {"engine": compile("open('x','w')", "x", "exec")},
        "unknown record": (..., "Popen", ["touch", "x"]),
        "Ellipsis alone": (..., ...),
        "deep": "X",
    }
    payload = marshal.dumps(trees[hostile])
    if hostile == "deep":  # nested deeper than the decoder can follow: a clean refusal
        payload = b"[\x01\x00\x00\x00" * 1500 + b"N"
    out = tmp_path / "out"
    ok(blog, out)
    (blog / store.CACHE_DIR / store.STORE_FILE).write_bytes(_sealed(payload, store.MAGIC))
    post(blog, "four", "Four", "2025-03-04", "Fourth.")
    text = ok(blog, out)
    assert ".quire-cache/store.bin: warning: build cache file cannot be read back" in text
    assert tree(out) == cold(blog, tmp_path)


def test_every_cached_value_round_trips_exactly(blog: Path, tmp_path: Path) -> None:
    """All the record types the memos hold, with every kind of front matter value."""
    import datetime as dt

    from quire.incremental import codec

    write(blog / "site.toml", SITE_TOML + 'timezone = "Europe/Paris"\n')
    post(
        blog,
        "odd",
        "Odd",
        "2025-03-05T10:30:00",
        "Body.",
        when="2024-02-29",
        nested="{a: [1, 2.5, true, null], b: {c: x}}",
    )
    write(blog / "content" / "products.yaml", 'air:\n  name: Air\n  price: "$1"\n')
    out = tmp_path / "out"
    ok(blog, out)
    values = [store.read_blob(p, p.name) for p in sorted((blog / store.CACHE_DIR).glob("*.bin"))]
    assert all(w is None for _, w in values)
    for value, _ in values:
        assert codec.loads(codec.dumps(value)) == value
    tz = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")
    odd = (dt.datetime(2025, 1, 1, tzinfo=tz), dt.date(2025, 1, 2), {(1, "a"): [b"x", None]})
    assert codec.loads(codec.dumps(odd)) == odd
    assert codec.loads(codec.dumps(odd))[0].tzname() == "IST"
