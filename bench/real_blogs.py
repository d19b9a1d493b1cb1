"""Move real Hugo and Pelican blogs to quire with zero hand edits, and measure what survives.

For each blog in bench/real_blogs.toml (checked out, files only, under --blogs/NAME):

1. reference: build the blog with its own generator (Hugo or Pelican, from --ref-python's
   environment) using a minimal theme of ours, since themes are often missing git submodules
   and only the article body matters. The theme writes one JSON manifest: every post and page
   the source site publishes (URL, source file, title, rendered body); Hugo's alias redirect
   pages are collected from its output. Cached in --work/ref/NAME/manifest.json.
2. `quire import hugo|pelican SRC --site DST`, then `quire build --site DST`.
3. report: builds with zero hand edits (and the first errors), source URLs kept (each source
   URL, and each Hugo alias, resolves in quire's output to the page itself or to a redirect
   page pointing at it), and bodies equal (article text with whitespace and typography
   normalised: curly/straight quotes, dashes, ellipses, entities, non-breaking spaces).

Usage (from the repository root, with quire installed in .venv):

    python bench/real_blogs.py [--only NAME ...] [--quire .venv/bin/quire]
        [--ref-python .venv-ref/bin/python] [--blogs bench/work/blogs] [--work bench/work]

Details of every failure (unresolved URLs, differing bodies with a diff excerpt, import and
build output) go to --work/results/NAME/. Needs the blogs checked out; not part of the tests.
"""

from __future__ import annotations

import argparse
import difflib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import lxml.html

ROOT = Path(__file__).resolve().parent.parent
QUIRE: list[Path] = []

# Hugo's embedded shortcodes (0.168): anything else used in content needs a site or theme
# template; a missing theme template is stubbed in the reference build as its inner content.
HUGO_BUILTIN_SHORTCODES = {
    "comment", "details", "figure", "gist", "highlight", "instagram", "param", "qr", "ref",
    "relref", "tweet", "twitter", "vimeo", "x", "youtube",
}  # fmt: skip

HUGO_MANIFEST = """{{- $out := slice -}}
{{- range site.RegularPages -}}
{{- $out = $out | append (dict "url" .RelPermalink "src" .File.Path "title" .Title
    "section" .Section "type" .Type "aliases" .Aliases "body" (string .Content)) -}}
{{- end -}}
{{- $out | jsonify -}}
"""

PELICAN_MANIFEST = """{%- set out = [] -%}
{%- for kind, items in [("article", articles), ("page", pages), ("page", hidden_pages)] -%}
{%- for a in items -%}
{%- set _ = out.append({"kind": kind, "url": a.url, "save_as": a.save_as,
    "src": a.relative_source_path, "title": a.title, "slug": a.slug,
    "category": (a.category.name if a.category else ""), "body": a.content}) -%}
{%- endfor -%}{%- endfor -%}
{{ out | tojson }}
"""

PELICAN_TEMPLATES = (
    "article", "page", "tag", "tags", "category", "categories", "author", "authors",
    "archives", "period_archives", "base",
)  # fmt: skip


@dataclass
class Result:
    name: str
    repo: str
    commit: str
    generator: str
    posts: int = 0
    pages: int = 0
    import_rc: int | None = None
    import_notes: int = 0
    builds: bool = False
    build_errors: list[str] = field(default_factory=list)
    urls_total: int = 0
    urls_kept: int = 0
    bodies_total: int = 0
    bodies_equal: int = 0
    seconds: float = 0.0
    workarounds: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- reference


def run(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> tuple[int, str]:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, errors="replace"
    )
    return proc.returncode, proc.stdout + proc.stderr


def copy_site(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(
        src, dst, symlinks=True, ignore=shutil.ignore_patterns(".git", "public", "output")
    )


def hugo_reference(src: Path, work: Path, ref_python: Path) -> dict:
    """Build SRC with Hugo and our layouts; return the manifest."""
    build = work / "site"
    copy_site(src, build)
    layouts = build / "layouts"
    keep: dict[str, str] = {}
    folders = [
        f"{t}/{s}" for t in ("themes/*/layouts", "layouts") for s in ("shortcodes", "_shortcodes")
    ]
    for folder in [d.relative_to(build).as_posix() for f in folders for d in build.glob(f)]:
        for f in (build / folder).glob("*.html") if (build / folder).is_dir() else []:
            keep[f.name] = f.read_text(encoding="utf-8", errors="replace")
    if layouts.exists():
        shutil.rmtree(layouts)
    (layouts / "_shortcodes").mkdir(parents=True)
    for name, text in keep.items():
        (layouts / "_shortcodes" / name).write_text(text, encoding="utf-8")
    used: set[str] = set()
    closed: set[str] = set()
    for md in (build / "content").rglob("*.md"):
        text = md.read_text(encoding="utf-8", errors="replace")
        used |= set(re.findall(r"\{\{[<%]\s*/?\s*([A-Za-z][\w-]*)", text))
        closed |= set(re.findall(r"\{\{[<%]\s*/\s*([A-Za-z][\w-]*)", text))
    stubs = sorted(n for n in used if n not in HUGO_BUILTIN_SHORTCODES and f"{n}.html" not in keep)
    for n in stubs:  # paired ones render their inner text, inline ones nothing
        paired = '<div class="shortcode-stub">{{ .Inner }}</div>'
        (layouts / "_shortcodes" / f"{n}.html").write_text(
            paired if n in closed else '<span class="shortcode-stub"></span>', encoding="utf-8"
        )
    (layouts / "home.html").write_text(HUGO_MANIFEST, encoding="utf-8")
    for t in ("single.html", "list.html", "page.html", "section.html", "taxonomy.html",
              "term.html"):  # fmt: skip
        (layouts / t).write_text("<html><body>ref</body></html>\n", encoding="utf-8")
    # The theme (usually a git submodule) is absent: give Hugo empty theme folders.
    themes = work / "themes"
    themes.mkdir(exist_ok=True)
    cfg_text = "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in [*build.glob("hugo.*"), *build.glob("config.*"), *build.glob("config/**/*.*")]
    )
    for theme in re.findall(r"""(?mi)^\s*theme\s*[:=]\s*\[?\s*["']?([\w.-]+)""", cfg_text):
        (themes / theme).mkdir(exist_ok=True)
        (themes / theme / "hugo.toml").write_text("", encoding="utf-8")
    hugo = Path(ref_python).parent / "hugo"
    out = work / "public"
    if out.exists():
        shutil.rmtree(out)
    rc, log = run(
        [hugo, "--source", build, "--destination", out, "--themesDir", themes,
         "--enableGitInfo=false", "--ignoreCache", "--logLevel", "error"],
        env={**os.environ, "HUGO_ENVIRONMENT": "production"},
    )  # fmt: skip
    (work / "build.log").write_text(log, encoding="utf-8")
    if rc != 0:
        raise RuntimeError(f"hugo failed (see {work / 'build.log'}):\n{log[-2000:]}")
    pages = json.loads((out / "index.html").read_text(encoding="utf-8"))
    # Hugo writes one small redirect page per alias: collect them from the output.
    aliases: dict[str, str] = {}
    for f in out.rglob("*.html"):
        if f.stat().st_size > 2000:
            continue
        text = f.read_text(encoding="utf-8", errors="replace")
        m = re.search(r'http-equiv="?refresh"? content="0; url=([^"]+)"', text)
        if m:
            rel = "/" + f.relative_to(out).as_posix()
            aliases[rel.removesuffix("index.html")] = urlsplit(html.unescape(m.group(1))).path
    return {
        "generator": "hugo",
        "stubbed_shortcodes": stubs,
        "posts": [dict(p, kind="page") for p in pages],
        "aliases": aliases,
    }


def pelican_reference(src: Path, work: Path, ref_python: Path) -> dict:
    """Build SRC with Pelican (its own pelicanconf.py, plugins off) and our theme."""
    build = work / "site"
    copy_site(src, build)
    theme = work / "theme"
    (theme / "templates").mkdir(parents=True, exist_ok=True)
    for t in PELICAN_TEMPLATES:
        (theme / "templates" / f"{t}.html").write_text("<html>ref</html>\n", encoding="utf-8")
    (theme / "templates" / "index.html").write_text(PELICAN_MANIFEST, encoding="utf-8")
    out = work / "output"
    if out.exists():
        shutil.rmtree(out)
    extra = {
        "PLUGINS": [],
        "THEME": str(theme),
        "DEFAULT_PAGINATION": False,
        "INDEX_SAVE_AS": "ref-manifest.json",
        "DIRECT_TEMPLATES": ["index"],
        "LOAD_CONTENT_CACHE": False,
        "CACHE_CONTENT": False,
    }
    pelican = Path(ref_python).parent / "pelican"
    cmd = [pelican, "-s", "pelicanconf.py", "-o", out, "-t", theme, "-q"]
    cmd += ["-e", *(f"{k}={json.dumps(v)}" for k, v in extra.items())]  # one -e for all
    for _ in range(20):  # the site's own DIRECT_TEMPLATES / TEMPLATE_PAGES need a template
        rc, log = run(cmd, cwd=build)
        missing = re.search(r"unable to load ([\w/.-]+?)\[\.html\]", " ".join(log.split()))
        if rc == 0 or not missing:
            break
        page = theme / "templates" / f"{missing.group(1)}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text("<html>ref</html>\n", encoding="utf-8")
    (work / "build.log").write_text(log, encoding="utf-8")
    if rc != 0 or not (out / "ref-manifest.json").exists():
        raise RuntimeError(f"pelican failed (see {work / 'build.log'}):\n{log[-2000:]}")
    items = json.loads((out / "ref-manifest.json").read_text(encoding="utf-8"))
    for it in items:
        it["url"] = "/" + it["url"].lstrip("/")
        it["save_as"] = "/" + it["save_as"].lstrip("/")
    return {"generator": "pelican", "posts": items, "aliases": {}}


def reference(blog: dict, src: Path, work: Path, ref_python: Path, rebuild: bool) -> dict:
    path = work / "manifest.json"
    if path.exists() and not rebuild:
        return json.loads(path.read_text(encoding="utf-8"))
    work.mkdir(parents=True, exist_ok=True)
    make = hugo_reference if blog["generator"] == "hugo" else pelican_reference
    manifest = make(src, work, ref_python)
    manifest["repo"], manifest["commit"] = blog["repo"], blog["commit"]
    path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    shutil.rmtree(work / "site", ignore_errors=True)
    return manifest


# ---------------------------------------------------------------------------- comparison

TYPO = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"', "\u2013": "-", "\u2014": "-", "\u2012": "-",
        "\u2212": "-", "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u200b": "",
        "\ufe0e": "", "\ufe0f": "", "\u00ad": "",
    }
)  # fmt: skip


def norm_text(fragment_html: str) -> str:
    """The article's text, with whitespace and typography normalised."""
    if not fragment_html.strip():
        return ""
    root = lxml.html.fragment_fromstring(fragment_html, create_parent="div")
    # embeds are media, not article text: Hugo writes a player (an iframe), quire a
    # click-to-load link (figure.embed) whose label would count as a difference
    embeds = "//iframe|//figure[contains(concat(' ', @class, ' '), ' embed ')]"
    for bad in root.xpath(f"//script|//style|//noscript|{embeds}"):
        bad.drop_tree()
    text = html.unescape(root.text_content())
    text = unicodedata.normalize("NFKC", text).translate(TYPO).replace("\u2026", "...")
    text = re.sub(r"-{2,}", "-", text)
    return re.sub(r"\s+", " ", text).strip()


def candidates(url: str) -> list[str]:
    path = unquote(urlsplit(url).path).lstrip("/")
    if path == "" or path.endswith("/"):
        return [path + "index.html", path.rstrip("/") + ".html"]
    if path.endswith((".html", ".htm")):
        return [path]
    return [path, path + ".html", path + "/index.html"]


def resolve(out: Path, url: str, hops: int = 3) -> tuple[Path | None, list[str]]:
    """The output file URL serves, following redirect pages; and the chain of URLs."""
    chain = [url]
    for _ in range(hops + 1):
        for c in candidates(url):
            f = out / c
            if f.is_file():
                break
        else:
            return None, chain
        text = f.read_text(encoding="utf-8", errors="replace")
        m = re.search(
            r"""<meta[^>]+http-equiv=["']?refresh["']?[^>]*content=["']\s*\d+\s*;\s*url=([^"']+)""",
            text,
            re.I,
        )
        if not m:
            return f, chain
        url = urljoin(url, html.unescape(m.group(1).strip()))
        url = urlsplit(url).path
        chain.append(url)
    return None, chain


def quire_body(page: Path) -> tuple[str, str]:
    doc = lxml.html.fromstring(page.read_bytes())
    title = " ".join(doc.xpath("string(//h1)").split())
    body = doc.xpath('//div[contains(concat(" ", @class, " "), " post-content ")]')
    if not body:
        return title, ""
    inner = (body[0].text or "") + "".join(
        lxml.html.tostring(c, encoding="unicode") for c in body[0]
    )
    # quire's own "related posts" and similar blocks are outside .post-content already.
    return title, inner


def first_errors(log: str, n: int = 3) -> list[str]:
    lines = [ln for ln in log.splitlines() if re.match(r"^\S+:\d+: ", ln) or "rror" in ln]
    return lines[:n] or log.strip().splitlines()[-n:]


def fix_line(f: Path, line: int, msg: str) -> bool:
    """Stand-in edit for a front matter value quire refuses: a date it cannot read (read
    with dateutil, as Pelican does) or a relative / protocol-relative image URL."""
    lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
    if not 0 < line <= len(lines) or ":" not in lines[line - 1]:
        return False
    key, value = lines[line - 1].split(":", 1)
    value = value.strip().strip("'\"")
    if "as a date" in msg:
        try:
            from dateutil import parser  # only for this diagnostic pass
        except ImportError:
            return False
        try:
            new = f"{int(value)}-01-01" if value.isdigit() else parser.parse(value).isoformat()
        except (ValueError, OverflowError):
            return False
    elif "is not allowed" in msg and value:
        new = "https:" + value if value.startswith("//") else "/" + value.lstrip("./")
    else:
        return False
    lines[line - 1] = f"{key}: '{new}'\n"
    f.write_text("".join(lines), encoding="utf-8")
    return True


def work_around(site: Path, out: Path, log: str, res_dir: Path) -> list[str]:
    """Diagnostic only: stand in for the hand edits a failed build needs, to measure the rest.

    An unknown shortcode gets a template that renders its inner text; a date quire cannot
    read or a relative image field is rewritten in place; any other file named in an error is
    moved out of the site (a page clashing with quire's own pages too). Repeated until the build passes (at most 8 rounds). The
    edits are listed in workarounds.txt, and the table marks these figures with '*'.
    """
    done: list[str] = []
    dropped = res_dir / "dropped"
    for _ in range(8):
        for m in re.finditer(r"^(\S+?):(\d+): (.*)$", log, re.M):
            rel, msg = m.group(1), m.group(3)
            sc = re.search(r"unknown shortcode '([\w-]+)'", msg)
            if sc:
                t = site / "templates" / "shortcodes" / f"{sc.group(1)}.html"
                if not t.exists():
                    t.parent.mkdir(parents=True, exist_ok=True)
                    t.write_text("{{ inner|safe if inner else '' }}", encoding="utf-8")
                    done.append(f"stub shortcode {sc.group(1)}")
                continue
            f = site / rel
            if f.is_file() and fix_line(f, int(m.group(2)), msg):
                done.append(f"edited {rel}:{m.group(2)}: {msg}")
                continue
            if f.is_file():
                (dropped / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.move(f, dropped / rel)
                done.append(f"dropped {rel}: {msg}")
        for m in re.finditer(r"two pages want the same output file ([^/\s]+)/index\.html", log):
            for f in site.glob(f"content/*/{m.group(1)}.md"):  # a page clashing with quire's
                (dropped / "clash").mkdir(parents=True, exist_ok=True)
                shutil.move(f, dropped / "clash" / f.name)
                done.append(f"dropped {f.relative_to(site)}: clashes with quire's /{m.group(1)}/")
        rc, log = run([QUIRE[0], "build", "--site", site, "--output", out, "--jobs", "1"])
        if rc == 0:
            break
    else:
        done.append("still failing: " + "; ".join(first_errors(log)))
    (res_dir / "workarounds.txt").write_text("\n".join(done) + "\n", encoding="utf-8")
    return done


def compare(blog: dict, manifest: dict, src: Path, res_dir: Path, quire: Path) -> Result:
    r = Result(blog["name"], blog["repo"], blog["commit"], blog["generator"])
    posts = manifest["posts"]
    for p in posts:  # a Pelican link post (`url: https://…`) is still saved at save_as
        if "://" in p["url"] and p.get("save_as"):
            p["url"] = p["save_as"]
    r.posts = sum(1 for p in posts if p.get("kind") == "article" or blog["generator"] == "hugo")
    r.pages = len(posts) - r.posts
    site = res_dir / "site"
    if site.exists():
        shutil.rmtree(site)
    res_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    QUIRE[:] = [quire]
    r.import_rc, log = run([quire, "import", blog["generator"], src, "--site", site])
    (res_dir / "import.log").write_text(log, encoding="utf-8")
    r.import_notes = sum(1 for ln in log.splitlines() if re.match(r"^\s*\S+:\d+: ", ln))
    out = site / "output"
    rc, blog_log = run([quire, "build", "--site", site, "--output", out, "--jobs", "1"])
    (res_dir / "build.log").write_text(blog_log, encoding="utf-8")
    r.seconds = time.perf_counter() - t0
    r.builds = rc == 0
    if not r.builds:
        r.build_errors = first_errors(blog_log)
        r.workarounds = work_around(site, out, blog_log, res_dir)
    lost, differ = [], []
    targets: list[tuple[str, dict | None]] = [(p["url"], p) for p in posts]
    by_url = {p["url"]: p for p in posts}
    targets += [(a, by_url.get(t)) for a, t in manifest.get("aliases", {}).items()]
    r.urls_total = len(targets)
    r.bodies_total = len(posts)
    # Bodies are compared whether or not the URL was kept: a post whose URL moved is found
    # by its title among quire's pages.
    by_title: dict[str, list[str]] = {}
    for page in out.rglob("*.html") if out.is_dir() else []:
        title, body = quire_body(page)
        if body:
            by_title.setdefault(norm_text(html.escape(title)), []).append(body)
    for url, post in targets:
        if not out.is_dir():
            continue
        want = " ".join(html.unescape(post["title"]).split()) if post else None
        f, chain = resolve(out, url)
        title = body = None
        if f is None:
            lost.append(f"{url}\tmissing\t{' -> '.join(chain)}\t{post and post['src']}")
        else:
            title, body = quire_body(f)
            if want is not None and norm_text(title) != norm_text(html.escape(want)):
                lost.append(f"{url}\twrong page\t{f.relative_to(out)} ({title!r} != {want!r})")
                body = None
            else:
                r.urls_kept += 1
        if post and url == post["url"]:
            if body is None:
                found = by_title.get(norm_text(html.escape(want)), [])
                if len(found) != 1:
                    differ.append(f"{post['src']}\t{url}\tno quire page with this title")
                    continue
                body = found[0]
            got, exp = norm_text(body), norm_text(post["body"])
            if got == exp:
                r.bodies_equal += 1
            else:
                sm = difflib.SequenceMatcher(None, exp, got, autojunk=False)
                ops = [o for o in sm.get_opcodes() if o[0] != "equal"][:3]
                snippet = " | ".join(
                    f"{o[0]} src={exp[o[1] : o[2]][:80]!r} quire={got[o[3] : o[4]][:80]!r}"
                    for o in ops
                )
                differ.append(f"{post['src']}\t{url}\t{snippet}")
    (res_dir / "urls_lost.tsv").write_text("\n".join(lost) + "\n", encoding="utf-8")
    (res_dir / "bodies_differ.tsv").write_text("\n".join(differ) + "\n", encoding="utf-8")
    (res_dir / "result.json").write_text(json.dumps(r.__dict__, indent=1), encoding="utf-8")
    return r


def table(results: list[Result]) -> str:
    rows = [
        "| blog | generator | repo @ commit | posts+pages | import notes | builds? | "
        "URLs kept | bodies equal | first build errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        nb = "" if r.builds else "*"
        errs = "; ".join(e[:140].replace("|", "\\|") for e in r.build_errors[:2])
        rows.append(
            f"| {r.name} | {r.generator} | {r.repo} @ {r.commit[:12]} | {r.posts}+{r.pages} | "
            f"{r.import_notes} | {'yes' if r.builds else 'no'} | "
            f"{r.urls_kept}/{r.urls_total}{nb} | {r.bodies_equal}/{r.bodies_total}{nb} | {errs} |"
        )
    rows.append(
        "\n*: the build failed with zero hand edits; these figures are measured after the "
        "stand-in edits listed in results/NAME/workarounds.txt (unknown shortcodes stubbed, "
        "unreadable dates and relative image fields rewritten, other failing files and pages "
        "clashing with quire's own dropped), to show what else fails. Bodies are compared "
        "even when the URL moved (the quire page is found by title)."
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--manifest", type=Path, default=ROOT / "bench/real_blogs.toml")
    ap.add_argument("--blogs", type=Path, default=ROOT / "bench/work/blogs")
    ap.add_argument("--work", type=Path, default=ROOT / "bench/work")
    ap.add_argument("--quire", type=Path, default=ROOT / ".venv/bin/quire")
    ap.add_argument("--ref-python", type=Path, default=ROOT / ".venv-ref/bin/python")
    ap.add_argument("--rebuild-ref", action="store_true", help="rebuild the reference manifests")
    ap.add_argument("--only", nargs="*", default=None, help="blog names to run")
    args = ap.parse_args(argv)
    args.ref_python = args.ref_python.absolute()
    args.quire = args.quire.absolute()
    blogs = tomllib.loads(args.manifest.read_text(encoding="utf-8"))["blog"]
    results = []
    for blog in blogs:
        if args.only and blog["name"] not in args.only:
            continue
        src = args.blogs / blog["name"] / blog.get("subfolder", "")
        if not src.is_dir():
            print(f"{blog['name']}: not checked out at {src} (skipped)", file=sys.stderr)
            continue
        manifest = reference(
            blog, src, args.work / "ref" / blog["name"], args.ref_python, args.rebuild_ref
        )
        r = compare(blog, manifest, src, args.work / "results" / blog["name"], args.quire)
        print(
            f"{r.name}: builds={r.builds} urls={r.urls_kept}/{r.urls_total} "
            f"bodies={r.bodies_equal}/{r.bodies_total} ({r.seconds:.1f} s)",
            file=sys.stderr,
        )
        results.append(r)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
