#!/usr/bin/env python3
"""Markdown engines for issue 12, measured side by side in one process.

    python bench/markdown_engines.py [--posts 20] [--repeat 30] [--hostile-timeout 20]

Needs: pip install pyromark cmarkgfm markdown-it-py mdit-py-plugins linkify-it-py
(plus quire itself for the Python-Markdown baseline). For every engine it prints:

- CommonMark 0.31.2 and GFM extension example pass counts (tests/fixtures/commonmark/,
  compared with tests/html_normalize.py: `"` == `&quot;`, highlighting wrappers and heading
  ids ignored); each engine in its plain CommonMark mode for the spec and its GFM mode for
  the extensions;
- ms per post on generated ~700-word posts with code blocks, a table and a list
  (median of --repeat passes over --posts posts), with and without Pygments highlighting
  where that applies;
- import time (`python -X importtime -c "import X"`, cumulative microseconds of X);
- seconds on hostile input (each case in a subprocess, killed after --hostile-timeout);
- which constructs each supports natively (footnotes, definition lists, heading
  attributes, GitHub alerts, math).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from html_normalize import normalize  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "commonmark"

# ---------------------------------------------------------------- posts

WORDS = (
    "build cache server deploy release memory thread compiler module package runtime "
    "latency request queue index render template feed search static site config test "
    "the a of to and in is it for on with that this as are by be we you can was not"
).split()
CODE = {
    "python": 'def handler(event, context):\n    """Return the "answer"."""\n    items = [x * 2 for x in event["items"] if x]\n    for item in items:\n        print(f"item={item}")\n    return {"status": 200, "count": len(items)}\n',
    "go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfor i := 0; i < 3; i++ {\n\t\tfmt.Println("hi", i)\n\t}\n}\n',
    "bash": "#!/bin/sh\nset -eu\nssh --login host 'make -j4 && rm -rf build/'\ncurl -fsSL https://example.com/install.sh | sh\n",
    "yaml": "site:\n  title: My blog\n  base_url: https://example.com/\nmarkdown:\n  smart: true\n",
}


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    words[0] = words[0].capitalize()
    if rng.random() < 0.3:
        words[3] = f"`{words[3]}`"
    if rng.random() < 0.2:
        words[5] = f"*{words[5]}*"
    if rng.random() < 0.15:
        words[6] = f"[{words[6]}](https://example.com/{words[6]})"
    if rng.random() < 0.1:
        words[2] = f'"{words[2]}"'
    if rng.random() < 0.1:
        words[1] = "it's"
    return " ".join(words) + rng.choice([".", ".", ".", "?", "..."])


def make_post(seed: int) -> str:
    """About 700 words: headings, paragraphs, 3 code blocks, a table, a list, a quote."""
    rng = random.Random(seed)
    parts = []
    langs = list(CODE)
    for section in range(4):
        parts.append(f"## Section {section + 1}: {rng.choice(WORDS)} {rng.choice(WORDS)}")
        for _ in range(3):
            parts.append(" ".join(sentence(rng) for _ in range(rng.randint(3, 5))))
        if section < 3:
            lang = langs[(seed + section) % len(langs)]
            parts.append(f"```{lang}\n{CODE[lang]}```")
        if section == 1:
            rows = "\n".join(
                f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} ms | {rng.choice(WORDS)} |"
                for _ in range(5)
            )
            parts.append("| name | time | note |\n|------|-----:|------|\n" + rows)
        if section == 2:
            parts.append("\n".join(f"- {sentence(rng)}" for _ in range(4)))
            parts.append("> " + sentence(rng))
    return "\n\n".join(parts) + "\n"


def body_of(text: str) -> str:
    """A post without its front matter (--- YAML --- or +++ TOML +++)."""
    for fence in ("---", "+++"):
        if text.startswith(fence + "\n"):
            end = text.find("\n" + fence + "\n", len(fence))
            if end != -1:
                return text[end + len(fence) + 2 :]
    return text


# ---------------------------------------------------------------- engines


def highlight_callback(lang, code):
    from quire_commonmark_proto import highlight_block

    return highlight_block(code, lang or "")


def engines():
    """name -> (commonmark_fn, gfm_fn, post_fn_plain, post_fn_highlighted)."""
    found = {}
    try:
        import pyromark

        o = pyromark.Options
        gfm_opts = o.ENABLE_TABLES | o.ENABLE_STRIKETHROUGH | o.ENABLE_TASKLISTS
        full = (
            gfm_opts
            | o.ENABLE_FOOTNOTES
            | o.ENABLE_HEADING_ATTRIBUTES
            | o.ENABLE_MATH
            | o.ENABLE_GFM
            | o.ENABLE_DEFINITION_LIST
        )
        plain = pyromark.Markdown()
        gfm = pyromark.Markdown(options=gfm_opts)
        fullm = pyromark.Markdown(options=full)
        hl = pyromark.Markdown(options=full, highlight=highlight_callback)
        found["pyromark (pulldown-cmark), html()"] = (plain.html, gfm.html, fullm.html, hl.html)
    except ImportError:
        pass
    try:
        import cmarkgfm
        from cmarkgfm.cmark import Options as CO

        unsafe = CO.CMARK_OPT_UNSAFE

        def cm(t):
            return cmarkgfm.markdown_to_html(t, unsafe)

        def gf(t):
            return cmarkgfm.github_flavored_markdown_to_html(t, unsafe)

        def gf_full(t):
            return cmarkgfm.github_flavored_markdown_to_html(t, unsafe | CO.CMARK_OPT_FOOTNOTES)

        found["cmarkgfm (cmark-gfm)"] = (cm, gf, gf_full, None)
    except ImportError:
        pass
    try:
        from markdown_it import MarkdownIt
        from mdit_py_plugins.deflist import deflist_plugin
        from mdit_py_plugins.gfm import gfm_plugin

        cmk = MarkdownIt("commonmark")
        gfm_md = MarkdownIt("commonmark").use(gfm_plugin)
        full_md = MarkdownIt("commonmark").use(gfm_plugin, dollarmath=True).use(deflist_plugin)
        try:
            from mdit_py_plugins.attrs import attrs_block_plugin

            full_md.use(attrs_block_plugin)
        except ImportError:
            pass
        found["markdown-it-py (+mdit-py-plugins)"] = (
            cmk.render,
            gfm_md.render,
            full_md.render,
            None,
        )
    except ImportError:
        pass
    try:
        from quire import markdown as qmd

        def pm(t):
            return qmd.to_html(t).html

        found["Python-Markdown (quire today)"] = (pm, pm, None, pm)
    except ImportError:
        pass
    try:
        import quire_commonmark_proto as proto

        def p_cm(t):
            return proto.to_html(t, smart=False, autolink=False)[0]

        def p_gfm(t):
            return proto.to_html(t, smart=False)[0]

        def p_plain(t):
            return proto.to_html(t, smart=True, highlight=False)[0]

        def p_hl(t):
            return proto.to_html(t, smart=True)[0]

        found["prototype (pyromark events + quire rules)"] = (p_cm, p_gfm, p_plain, p_hl)
    except ImportError:
        pass
    return found


# ---------------------------------------------------------------- measures


def pass_count(fn, examples) -> int:
    ok = 0
    for e in examples:
        try:
            got = fn(e["markdown"])
        except Exception:
            continue
        if normalize(got, ignore_heading_ids=True) == normalize(e["html"]):
            ok += 1
    return ok


def ms_per_post(fn, posts, repeat) -> float:
    for p in posts:
        fn(p)  # warm caches (lexers, formatters)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for p in posts:
            fn(p)
        runs.append((time.perf_counter() - start) / len(posts) * 1000)
    return statistics.median(runs)


def import_us(module: str) -> int | None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    best = None
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            best = int(parts[1])
    return best


HOSTILE = {
    "100 KB of '['": "'[' * 100_000",
    "1 MB of '*a '": "'*a ' * 350_000",
    "10,000 nested '>'": "'>' * 10_000 + ' x'",
    "nested quotes, 2000 lines": "''.join('>' * i + ' x\\n' for i in range(2000))",
    "100 KB of '<!--'": "'<!--' * 25_000",
    "50,000 '- ' list markers": "'- ' * 50_000",
    "5.5 MB of real posts": "POSTS",
}
RUNNERS = {
    "pyromark": "import pyromark as p; O = p.Options; f = p.Markdown(options=O.ENABLE_TABLES | O.ENABLE_FOOTNOTES | O.ENABLE_STRIKETHROUGH | O.ENABLE_TASKLISTS | O.ENABLE_HEADING_ATTRIBUTES | O.ENABLE_MATH | O.ENABLE_GFM | O.ENABLE_DEFINITION_LIST).html",
    "cmarkgfm": "import cmarkgfm; f = cmarkgfm.github_flavored_markdown_to_html",
    "markdown-it-py": "from markdown_it import MarkdownIt; from mdit_py_plugins.gfm import gfm_plugin; f = MarkdownIt('commonmark').use(gfm_plugin).render",
    "Python-Markdown": "from quire import markdown as m; f = lambda t: m.to_html(t).html",
    "prototype": "import quire_commonmark_proto as p; f = lambda t: p.to_html(t, smart=True)[0]",
}


def hostile_seconds(runner: str, expr: str, timeout: float) -> str:
    if expr == "POSTS":  # ~5.5 MB: 1100 generated posts in one body
        expr = "'\\n'.join(__import__('markdown_engines').make_post(s % 50) for s in range(1100))"
    code = (
        f"import sys, time; sys.path[:0] = [{str(HERE)!r}, {str(ROOT)!r}]\n"
        f"{RUNNERS[runner]}\n"
        f"t = {expr}\n"
        "s = time.perf_counter(); f(t); print(time.perf_counter() - s)\n"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return f"> {timeout:g} s"
    if proc.returncode:
        return "error: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:60]
    return f"{float(proc.stdout):.3f} s"


PROBES = {
    "footnotes": ("a[^1]\n\n[^1]: note\n", lambda h: "[^1]" not in h),
    "definition lists": ("Term\n: def\n", lambda h: "<dl>" in h),
    "heading {#id .class}": ("# H {#x .c}\n", lambda h: 'id="x"' in h and "{#x" not in h),
    "GitHub alerts": ("> [!NOTE]\n> x\n", lambda h: "[!NOTE]" not in h),
    "math $..$": ("$a*b*c$\n", lambda h: "<em>" not in h and "math" in h),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--hostile-timeout", type=float, default=20.0)
    ap.add_argument("--skip-hostile", action="store_true")
    ap.add_argument(
        "--corpus",
        type=Path,
        help="a generated site (e.g. from the shared gencorpus.py): time its posts' bodies "
        "instead of this script's own code-heavy posts",
    )
    args = ap.parse_args()

    spec = json.loads((FIXTURES / "spec-0.31.2.json").read_text(encoding="utf-8"))
    gfm = json.loads((FIXTURES / "gfm-extensions.json").read_text(encoding="utf-8"))
    if args.corpus:
        files = sorted((args.corpus / "content" / "posts").glob("*.md"))[: args.posts]
        posts = [body_of(f.read_text(encoding="utf-8")) for f in files]
    else:
        posts = [make_post(s) for s in range(args.posts)]
    blocks = statistics.mean(p.count("```") / 2 for p in posts)
    words = statistics.mean(len(p.split()) for p in posts)
    print(
        f"{len(posts)} posts, {words:.0f} words, {blocks:.1f} code blocks each on average; python {sys.version.split()[0]}"
    )

    print("\n| engine | CommonMark | GFM ext | ms/post | ms/post +Pygments |")
    print("| --- | --- | --- | --- | --- |")
    baseline = None
    rows = []
    for name, (cm, gf, plain, hl) in engines().items():
        cm_ok = pass_count(cm, spec)
        gfm_ok = pass_count(gf, gfm)
        t_plain = ms_per_post(plain, posts, args.repeat) if plain else None
        t_hl = ms_per_post(hl, posts, max(3, args.repeat // 3)) if hl else None
        if name.startswith("Python-Markdown"):
            baseline = t_hl
        rows.append((name, t_plain, t_hl))
        print(
            f"| {name} | {cm_ok}/{len(spec)} | {gfm_ok}/{len(gfm)} | "
            f"{'-' if t_plain is None else f'{t_plain:.3f}'} | "
            f"{'-' if t_hl is None else f'{t_hl:.3f}'} |"
        )
    if baseline:
        print("\nspeed-up over Python-Markdown (with highlighting, same run):")
        for name, _, t_hl in rows:
            if t_hl:
                print(f"  {name}: {baseline / t_hl:.1f}x")

    print("\nnative support (probe renders):")
    for name, (_, _, full, _) in engines().items():
        if full is None:
            continue
        have = [k for k, (md, ok) in PROBES.items() if ok(full(md))]
        print(f"  {name}: {', '.join(have) or 'none'}")

    print("\nimport time (python -X importtime, cumulative):")
    for module in (
        "pyromark",
        "cmarkgfm",
        "markdown_it",
        "markdown",
        "quire_commonmark_proto",
        "pygments",
    ):
        us = import_us(module)
        print(f"  {module}: {'?' if us is None else f'{us / 1000:.1f} ms'}")

    if args.skip_hostile:
        return
    print(f"\nhostile input, seconds (subprocess, killed after {args.hostile_timeout:g} s):")
    print("| input | " + " | ".join(RUNNERS) + " |")
    print("| --- |" + " --- |" * len(RUNNERS))
    for label, expr in HOSTILE.items():
        cells = [hostile_seconds(r, expr, args.hostile_timeout) for r in RUNNERS]
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
