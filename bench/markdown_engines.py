#!/usr/bin/env python3
"""Markdown engines, measured side by side in one process.

    python bench/markdown_engines.py [--corpus-posts 1000] [--rounds 3]
    python bench/markdown_engines.py --candidates [--posts 20] [--repeat 30]

By default: quire's body render (`render/markdown.py:render_body`: shortcodes expanded,
the engine, Pygments highlighting, restore, TOC, word count) over the 1000-post bench
corpus (bench/corpus.py, quire flavour; --generated for this script's own posts with
alerts, task lists, footnotes and a paired shortcode), with the default engine (CommonMark + GFM on pyromark) and with
`engine = "python-markdown"`, in the same run, rounds interleaved so machine load hits
both alike; CPU time (time.process_time) per post, median of the rounds, and the ratio.
Shortcodes are drawn by a small Python callback (the Jinja drawing is the same for both
engines and not the engine's cost).

With --candidates, the engine survey behind the choice (needs pip install pyromark
cmarkgfm markdown-it-py mdit-py-plugins linkify-it-py). For every engine it prints:

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
    from quire.render.markdown import highlight_block

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
    from quire.config import MarkdownSettings
    from quire.render import commonmark, pymd

    pymd_settings = MarkdownSettings(engine="python-markdown")

    def pm(t):
        return pymd.to_html(t, pymd_settings)[0]

    found["Python-Markdown (quire engine = python-markdown)"] = (pm, pm, None, pm)

    def p_cm(t):
        return commonmark.render(t, smart=False, autolink=False)[0]

    def p_gfm(t):
        return commonmark.render(t, smart=False)[0]

    def p_plain(t):
        return commonmark.render(t, smart=True, highlight=False)[0]

    def p_hl(t):
        return commonmark.render(t, smart=True)[0]

    found["quire default (pyromark events + quire rules)"] = (p_cm, p_gfm, p_plain, p_hl)
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
    "Python-Markdown": "from quire.render import pymd; from quire.config import MarkdownSettings as S; f = lambda t: pymd.to_html(t, S(engine='python-markdown'))",
    "quire default": "from quire.render import commonmark as c; f = lambda t: c.render(t, smart=True)",
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


# ---------------------------------------------------------------- quire's body render

SHORTCODES = (
    '{{< buy "widget-%d" >}}',
    "{{< note >}}\nA *paired* shortcode with `code`, --flags and https://example.com/x.\n"
    "{{< /note >}}",
)


def corpus(n: int, code_heavy: bool = False) -> list[str]:
    """n posts shaped like the bench corpus: ~700 words in 3-5 sections with links,
    emphasis and inline code, a list, one fenced code block in 60% of posts, a table in
    20%, a `buy` shortcode and a paired `note` shortcode; GFM bits (task list,
    strikethrough, bare URL, alert, footnote) in a third. --code-heavy: make_post's
    three code blocks per post instead."""
    posts = []
    langs = list(CODE)
    for seed in range(n):
        rng = random.Random(seed * 7919)
        if code_heavy:
            parts = [make_post(seed)]
        else:
            parts = []
            sections = rng.randint(3, 5)
            for k in range(sections):
                parts.append(f"## {sentence(rng).rstrip('.?')}")
                for _ in range(3 if sections > 3 else 4):
                    parts.append(" ".join(sentence(rng) for _ in range(rng.randint(3, 6))))
                if k == 0:
                    parts.append("\n".join(f"- {sentence(rng)}" for _ in range(4)))
                if k == 1 and rng.random() < 0.6:
                    lang = rng.choice(langs)
                    parts.append(f"```{lang}\n{CODE[lang]}```")
                if k == 2 and rng.random() < 0.2:
                    rows = "\n".join(
                        f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} |" for _ in range(5)
                    )
                    parts.append("| name | ms |\n|---|--:|\n" + rows)
        parts.append(SHORTCODES[0] % (seed % 20))
        parts.append(SHORTCODES[1])
        if seed % 3 == 0:
            parts += [
                f"- [x] {sentence(rng)}\n- [ ] ~~{rng.choice(WORDS)}~~ see "
                f"https://example.com/{seed}",
                f"> [!NOTE]\n> {sentence(rng)}",
                f"A claim[^{seed}].\n\n[^{seed}]: {sentence(rng)}",
            ]
        posts.append("\n\n".join(parts) + "\n")
    return posts


def _draw(shortcode) -> str:
    inner = shortcode.inner or ""
    return f'<aside class="sc-{shortcode.name}" data-args="{len(shortcode.args)}">{inner}</aside>'


def body_render(args) -> None:
    from quire import __name__ as _quire  # noqa: F401  (fail early without quire)
    from quire.config import MarkdownSettings
    from quire.render.markdown import render_body

    if args.generated or args.code_heavy:
        posts = corpus(args.corpus_posts, args.code_heavy)
        print("corpus: this script's generator")
    else:
        import tempfile

        from corpus import generate  # bench/corpus.py, the bench corpus

        folder = args.corpus
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="md-bench-")) / "site"
            generate(args.corpus_posts, folder, flavour="quire")
        files = sorted((folder / "content" / "posts").glob("*.md"))[: args.corpus_posts]
        posts = [body_of(f.read_text(encoding="utf-8")) for f in files]
        print("corpus: bench/corpus.py (quire flavour)")
    engines = {
        "commonmark (default)": MarkdownSettings(),
        "python-markdown": MarkdownSettings(engine="python-markdown"),
    }
    words = statistics.mean(len(p.split()) for p in posts)
    blocks = statistics.mean(p.count("```") / 2 for p in posts)
    print(
        f"{len(posts)} posts, {words:.0f} words, {blocks:.1f} code blocks each on average; "
        f"python {sys.version.split()[0]}; CPU time (time.process_time), {args.rounds} "
        "interleaved rounds, median"
    )
    for settings in engines.values():  # warm: imports, lexers, formatters, converter
        for text in posts[:20]:
            render_body(text, 5, "post.md", _draw, settings)
    times: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(args.rounds):
        for name, settings in engines.items():
            start = time.process_time()
            for text in posts:
                body, problems = render_body(text, 5, "post.md", _draw, settings)
                assert not problems, problems
            times[name].append((time.process_time() - start) / len(posts) * 1000)
    median = {name: statistics.median(t) for name, t in times.items()}
    print("\n| engine | ms/post (median) | rounds |")
    print("| --- | --- | --- |")
    for name, t in times.items():
        print(f"| {name} | {median[name]:.3f} | {', '.join(f'{x:.3f}' for x in t)} |")
    ratio = median["python-markdown"] / median["commonmark (default)"]
    print(f"\nratio: the default engine is {ratio:.1f}x faster than Python-Markdown (same run)")
    breakdown(posts)


def breakdown(posts: list[str]) -> None:
    """Where a default-engine body's time goes: the parts both engines share, and the
    engine's own (CPU ms per post, best of 3 passes each; shortcodes expanded first, as
    render_body does)."""
    import re

    from quire.render import commonmark
    from quire.render.markdown import count_words, highlight_block
    from quire.render.shortcodes import expand_shortcodes, restore

    fence = re.compile(r"^```([^\n]*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
    blocks = [(m.group(2), m.group(1)) for p in posts for m in fence.finditer(p)]
    expanded = [expand_shortcodes(p, 5, _draw, "post.md") for p in posts]
    bodies = [text for text, *_ in expanded]
    rendered = [commonmark.render(b, smart=True)[0] for b in bodies]

    def per_post(fn) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            fn()
            best = min(best, time.process_time() - start)
        return best / len(posts) * 1000

    def fast(b: str):
        return commonmark.fast(
            b, smart=True, highlight=False, css_class="codehilite", autolink=True
        )

    on_fast = sum(fast(b) is not None for b in bodies)
    parts = {
        "shortcodes: expand (shared)": per_post(
            lambda: [expand_shortcodes(p, 5, _draw, "post.md") for p in posts]
        ),
        "shortcodes: restore (shared)": per_post(
            lambda: [restore(r, e[1]) for r, e in zip(rendered, expanded, strict=True)]
        ),
        "word count (shared)": per_post(lambda: [count_words(r) for r in rendered]),
        "Pygments (shared)": per_post(lambda: [highlight_block(c, i) for c, i in blocks]),
        "pyromark html() only": per_post(lambda: [commonmark._PARSER.html(b) for b in bodies]),
        "engine, no highlighting (as used)": per_post(
            lambda: [commonmark.render(b, smart=True, highlight=False) for b in bodies]
        ),
        "engine fast path, no highlighting": per_post(lambda: [fast(b) for b in bodies]),
        "event walk, no highlighting (the fallback)": per_post(
            lambda: [commonmark.walk(b, smart=True, highlight=False) for b in bodies]
        ),
    }
    print("\nbreakdown, default engine (CPU ms per post, best of 3 passes):")
    for name, ms in parts.items():
        print(f"  {name}: {ms:.3f}")
    print(f"  posts on the fast path: {on_fast}/{len(bodies)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", action="store_true", help="the engine survey")
    ap.add_argument("--corpus-posts", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--code-heavy", action="store_true", help="3 code blocks in every post")
    ap.add_argument(
        "--generated", action="store_true", help="this script's posts, not bench/corpus.py's"
    )
    ap.add_argument("--posts", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--hostile-timeout", type=float, default=20.0)
    ap.add_argument("--skip-hostile", action="store_true")
    ap.add_argument(
        "--corpus",
        type=Path,
        help="a generated site folder: time its posts' bodies instead of generated ones",
    )
    args = ap.parse_args()
    if not args.candidates:
        body_render(args)
        return

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
        "quire.render.commonmark",
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
