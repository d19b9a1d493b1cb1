"""quire deploy: dir and git targets for real, rsync mocked (and for real when installed)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import post, write

from quire.commands import main
from quire.deploy import DeployError, Plan
from quire.deploy.rsync import deploy_rsync

SITE_TOML = 'title = "Test Blog"\nbase_url = "https://blog.example.com/"\n'


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def with_target(site: Path, target: str, extra: str = "") -> None:
    write(site / "site.toml", SITE_TOML + f'\n[deploy]\ntarget = "{target}"\n{extra}')


@pytest.fixture
def blog(site: Path) -> Path:
    post(site, "first", "First post", "2025-01-01", "Hello.", tags="[mac]")
    post(site, "second", "Second post", "2025-01-02", "Again.", tags="[mac]")
    return site


# ---------------------------------------------------------------- dir:


def test_dir_target_copies_only_changes_and_deletes_stale(blog, tmp_path):
    dest = tmp_path / "www"
    with_target(blog, f"dir:{dest}")
    code, out, err = run("deploy", "--site", str(blog))
    assert code == 0, err
    assert tree(dest) == tree(blog / "output")
    assert "Deployed:" in out and " 0 changed, 0 deleted" in out

    # nothing changed: nothing is touched
    inode = (dest / "index.html").stat().st_ino
    code, out, _ = run("deploy", "--site", str(blog))
    assert code == 0 and "Already up to date" in out
    assert (dest / "index.html").stat().st_ino == inode

    # one post edited, one removed, a stale file on the host
    post(blog, "first", "First post, edited", "2025-01-01", "Hello.", tags="[mac]")
    (blog / "content" / "posts" / "second.md").unlink()
    write(dest / "old" / "stale.html", "old")
    untouched = (dest / "css" / "style.css").stat().st_ino
    code, out, err = run("deploy", "--site", str(blog))
    assert code == 0, err
    assert tree(dest) == tree(blog / "output")
    assert not (dest / "posts" / "second").exists() and not (dest / "old").exists()
    assert (dest / "css" / "style.css").stat().st_ino == untouched
    assert "First post, edited" in (dest / "posts" / "first" / "index.html").read_text()


def test_dir_dry_run_lists_and_changes_nothing(blog, tmp_path):
    dest = tmp_path / "www"
    with_target(blog, f"dir:{dest}")
    assert run("deploy", "--site", str(blog))[0] == 0
    post(blog, "third", "Third", "2025-01-03", "New.")
    write(dest / "stale.txt", "x")
    before = tree(dest)
    code, out, err = run("deploy", "--site", str(blog), "--dry-run")
    assert code == 0, err
    assert "+ posts/third/index.html" in out.splitlines()
    assert "~ index.html" in out.splitlines()
    assert "- stale.txt" in out.splitlines()
    assert "Dry run" in out
    assert tree(dest) == before


def test_failed_build_is_not_deployed(blog, tmp_path):
    dest = tmp_path / "www"
    with_target(blog, f"dir:{dest}")
    assert run("deploy", "--site", str(blog))[0] == 0
    before = tree(dest)
    post(blog, "bad", "Bad", "2025-01-05", '{{< buy "nope" >}}')
    code, out, err = run("deploy", "--site", str(blog))
    assert code == 1
    assert "content/posts/bad.md:" in err and "Not deployed" in err
    assert "Traceback" not in err
    assert tree(dest) == before


def test_deploy_table_is_validated_with_lines(blog):
    write(
        blog / "site.toml",
        SITE_TOML + '\n[deploy]\ntarget = "ftp:host"\nmesage = "typo"\n',
    )
    code, _, err = run("deploy", "--site", str(blog))
    assert code == 1
    lines = (blog / "site.toml").read_text().splitlines()
    target_line = lines.index('target = "ftp:host"') + 1
    typo_line = lines.index('mesage = "typo"') + 1
    assert f"site.toml:{typo_line}: unknown key 'deploy.mesage'" in err
    assert f"site.toml:{target_line}: 'deploy.target' 'ftp:host' must be" in err
    assert not (blog / "output").exists()  # nothing built either


def test_missing_target_says_how(blog):
    code, _, err = run("deploy", "--site", str(blog))
    assert code == 1 and 'target = "dir:/path"' in err


@pytest.mark.parametrize("where", ["{site}", "{site}/content", "{site}/output", "{site}/output/x"])
def test_dir_target_refuses_dangerous_folders(blog, where):
    before = tree(blog)
    code, _, err = run("deploy", "--site", str(blog), "--target", "dir:" + where.format(site=blog))
    assert code == 1 and "Not deployed" in err
    assert tree(blog) == before


# ---------------------------------------------------------------- git:


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(blog: Path) -> Path:
    git(blog, "init", "-q", "-b", "main")
    git(blog, "config", "user.name", "Writer")
    git(blog, "config", "user.email", "writer@example.com")
    write(blog / ".gitignore", "output/\n")
    with_target(blog, "git:gh-pages", 'message = "Publish the blog"\n')
    git(blog, "add", "-A")
    git(blog, "commit", "-q", "-m", "site")
    return blog


def branch_files(repo: Path, branch: str) -> dict[str, bytes]:
    names = git(repo, "ls-tree", "-r", "--name-only", branch).splitlines()
    return {
        n: subprocess.run(
            ["git", "-C", str(repo), "show", f"{branch}:{n}"], check=True, capture_output=True
        ).stdout
        for n in names
    }


def test_git_target_commits_output_without_touching_the_work_tree(repo):
    post(repo, "draftish", "Uncommitted work", "2025-01-03", "Not committed yet.")
    head, status = git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")
    index = (repo / ".git" / "index").read_bytes()
    code, out, err = run("deploy", "--site", str(repo))
    assert code == 0, err
    assert branch_files(repo, "gh-pages") == tree(repo / "output")
    assert git(repo, "log", "-1", "--format=%s", "gh-pages") == "Publish the blog"
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert git(repo, "status", "--porcelain") == status
    assert (repo / ".git" / "index").read_bytes() == index
    assert "git push origin gh-pages" in err

    # again without changes: no new commit
    first = git(repo, "rev-parse", "gh-pages")
    code, out, _ = run("deploy", "--site", str(repo))
    assert code == 0 and "Already up to date" in out
    assert git(repo, "rev-parse", "gh-pages") == first

    # an edit: one new commit on top, with the change and the deletion
    post(repo, "first", "First, edited", "2025-01-01", "Hello.", tags="[mac]")
    (repo / "content" / "posts" / "second.md").unlink()
    code, out, err = run("deploy", "--site", str(repo))
    assert code == 0, err
    assert git(repo, "rev-parse", "gh-pages^") == first
    files = branch_files(repo, "gh-pages")
    assert files == tree(repo / "output")
    assert "posts/second/index.html" not in files
    assert b"First, edited" in files["posts/first/index.html"]


def test_git_dry_run_moves_nothing(repo):
    assert run("deploy", "--site", str(repo))[0] == 0
    before = git(repo, "rev-parse", "gh-pages")
    post(repo, "third", "Third", "2025-01-03", "New.", tags="[mac]")
    code, out, err = run("deploy", "--site", str(repo), "--dry-run")
    assert code == 0, err
    assert "+ posts/third/index.html" in out.splitlines()
    assert "~ index.html" in out.splitlines()
    assert git(repo, "rev-parse", "gh-pages") == before


def test_git_target_refuses_the_checked_out_branch(repo):
    code, _, err = run("deploy", "--site", str(repo), "--target", "git:main")
    assert code == 1 and "checked out" in err


def test_git_target_outside_a_repo(blog):
    with_target(blog, "git:gh-pages")
    code, _, err = run("deploy", "--site", str(blog))
    assert code == 1 and "not inside a git repository" in err


def test_git_bad_branch_name(blog):
    with_target(blog, "git:bad..name")
    code, _, err = run("deploy", "--site", str(blog))
    assert code == 1 and "not a valid git branch name" in err


def test_git_without_a_configured_identity(repo, monkeypatch, tmp_path):
    git(repo, "config", "--unset", "user.name")
    git(repo, "config", "--unset", "user.email")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "EMAIL"):
        monkeypatch.delenv(key, raising=False)
    code, _, err = run("deploy", "--site", str(repo))
    assert code == 0, err
    assert git(repo, "log", "-1", "--format=%an", "gh-pages") == "quire deploy"


# ---------------------------------------------------------------- rsync:


def test_rsync_command_and_itemized_output(tmp_path):
    calls = []

    def fake(argv):
        calls.append(list(argv))
        stdout = (
            "cd+++++++++ posts/\n"
            ">f+++++++++ posts/new/index.html\n"
            ">fcst...... index.html\n"
            "*deleting   old/page.html\n"
        )
        return subprocess.CompletedProcess(argv, 0, stdout, "")

    plan = deploy_rsync(tmp_path / "out", "me@host:/var/www", True, runner=fake)
    argv = calls[0]
    assert argv[0] == "rsync" and "--delete" in argv and "--checksum" in argv
    assert "--dry-run" in argv
    assert argv[-3:] == ["--", f"{tmp_path / 'out'}/", "me@host:/var/www"]
    assert plan == Plan(("posts/new/index.html",), ("index.html",), ("old/page.html",))

    def failing(argv):
        return subprocess.CompletedProcess(argv, 23, "", "some files vanished")

    with pytest.raises(DeployError, match="exit 23"):
        deploy_rsync(tmp_path / "out", "me@host:/x", False, runner=failing)


def test_rsync_target_cannot_be_an_option(blog):
    with_target(blog, "rsync:-e sh -c x")
    code, _, err = run("deploy", "--site", str(blog))
    assert code == 1 and "must not start with '-'" in err


@pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync is not installed")
def test_rsync_to_a_local_folder(blog, tmp_path):
    dest = tmp_path / "mirror"
    dest.mkdir()
    (dest / "stale.html").write_text("old")
    with_target(blog, f"rsync:{dest}/")
    code, out, err = run("deploy", "--site", str(blog))
    assert code == 0, err
    assert tree(dest) == tree(blog / "output")
    post(blog, "first", "Edited", "2025-01-01", "Hello.", tags="[mac]")
    code, out, err = run("deploy", "--site", str(blog), "--dry-run")
    assert code == 0 and "~ posts/first/index.html" in out.splitlines()
    assert b"Edited" not in (dest / "posts" / "first" / "index.html").read_bytes()
    assert os.path.exists(dest / "index.html")
