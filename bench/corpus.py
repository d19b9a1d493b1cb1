#!/usr/bin/env python3
"""Deterministic synthetic tech-blog corpora, for the tests and the benchmarks (stdlib only).

    python bench/corpus.py N DIR --flavour quire|hugo|pelican [--seed S] [--news F] [--jobs J]

or, from Python (the tests load it through the `make_corpus` fixture in tests/conftest.py):

    generate(300, Path("site"), flavour="quire", seed=7, news=0.0)

Flavours:
  quire    DIR/site.toml, DIR/content/posts/post-NNNNNN.md (YAML front matter, Hugo-style
           shortcodes {{< buy "product-NNN" >}} and {{< related >}}), DIR/content/products.yaml
           whose every product image exists as an SVG under DIR/content/images/.
  hugo     a whole Hugo site: hugo.toml, content/posts/*.md, data/products.yaml,
           static/images/*.svg and minimal layouts (with buy and related shortcodes) so that
           `hugo` builds it.
  pelican  a whole Pelican site: pelicanconf.py and content/*.md (Pelican metadata headers,
           no shortcodes: Pelican has none).

A long post is about 700 words: two opening paragraphs, then 3 to 5 H2 sections with
emphasis, inline code, links (external, and to earlier posts), a bulleted or numbered list in
the first section, a fenced code block in about 60 % of posts and a table in about 20 %.
Each post has 2 to 6 tags (Zipf-like: a few tags on many posts, a long tail of rare ones), one
category, a summary and a date in 2015-2024. Body words lean towards the post's category, so
posts of one category share vocabulary (something for related posts to find).

--news F makes a fraction F of the posts short news items: one or two paragraphs, no headings.

Post i depends only on (seed, i), never on N: post-000123 is the same file in a 200-post
corpus and in a 100,000-post one, and any --jobs gives the same bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import random
import sys
from pathlib import Path

DEFAULT_SEED = 20261125
FLAVOURS = ("quire", "hugo", "pelican")
N_PRODUCTS = 60
PRODUCTS = [f"product-{i:03d}" for i in range(N_PRODUCTS)]
START = dt.datetime(2015, 1, 1, 8, 0)
HOURS = 24 * 365 * 10

# Words every post uses. Plain, lower-case, safe in YAML flow lists and in URLs.
COMMON = """
the the the a a and and of of to to in in with for on is is that this it as by from
new more than just now also but not every each which when while after before about
apple chip silicon performance battery display keyboard thermal fan benchmark core gpu
memory storage ssd kernel driver update release firmware design aluminium port usb wireless
network latency cache compiler server cloud privacy security patch browser camera sensor
lens video codec audio speaker price market sales launch model generation upgrade workflow
developer studio creative professional laptop desktop tablet phone watch health app store
subscription service music streaming review test score power efficiency screen build
software hardware feature support version system user setting option data file speed
""".split()

# Per category: words that make its posts look alike.
CATEGORIES = {
    "Mac: Hardware": "macbook imac mini studio thunderbolt retina hinge trackpad chassis",
    "Mac: Software": "macos finder spotlight sonoma sequoia terminal dock menubar automator",
    "iPhone": "iphone ios camera dynamic island lightning magsafe cellular modem",
    "iPad": "ipad pencil ipados stage manager magic folio multitasking sidecar",
    "Watch": "watchos complication crown strap workout heart sleep ecg",
    "Services": "icloud music tv arcade fitness bundle family sharing pricing",
    "Developers": "swift xcode swiftui api sdk testflight simulator framework playground",
    "Security": "encryption passkey vulnerability exploit sandbox notarization malware keychain",
    "Deals": "discount coupon refurbished bargain clearance bundle voucher cashback",
    "Opinion": "argument future strategy critique essay vision trend industry",
    "Linux": "distro debian ubuntu systemd wayland gnome package terminal asahi",
    "Windows": "microsoft surface copilot arm snapdragon update insider driver",
}
CATEGORY_NAMES = list(CATEGORIES)

# Tags: plain words first (the frequent ones), then numbered ones (the long tail).
TAG_WORDS = """
apple macos ios ipados watchos linux windows swift python rust security privacy battery
display camera benchmark performance chip silicon gpu memory storage network wireless
audio video music health fitness developer review rumour deal update release keyboard
laptop desktop tablet phone server cloud
""".split()
N_TAGS = 200
_ZIPF = [1 / (rank + 1) for rank in range(N_TAGS)]
ZIPF_CUM = [sum(_ZIPF[: i + 1]) for i in range(N_TAGS)]

LANG_SNIPPETS = {
    "python": [
        "def {a}_{b}(items, runs=10):",
        '    """Average {c} over several runs."""',
        "    scores = [item.{d}() for item in items for _ in range(runs)]",
        "    return sum(scores) / max(len(scores), 1)",
    ],
    "bash": [
        "#!/usr/bin/env bash",
        "set -euo pipefail",
        'for f in ./{a}/*.log; do grep -c "{b}" "$f"; done',
        "sysctl -n hw.{c} | tee {d}.txt",
    ],
    "swift": [
        "struct {A}{B}: Codable {{",
        "    var {c}: Int",
        "    func {d}() -> Double {{ Double({c}) * 1.5 }}",
        "}}",
    ],
    "json": [
        "{{",
        '  "{a}": {n},',
        '  "{b}": ["{c}", "{d}"],',
        '  "enabled": true',
        "}}",
    ],
}
LANGS = list(LANG_SNIPPETS)
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" viewBox="0 0 400 300">'
    '<rect width="400" height="300" fill="hsl({hue},35%,88%)"/>'
    '<rect x="90" y="70" width="220" height="150" rx="14" fill="hsl({hue},45%,38%)"/>'
    '<circle cx="200" cy="145" r="28" fill="hsl({hue},60%,75%)"/></svg>\n'
)


@functools.cache
def word_table(category: str) -> tuple[list[str], list[str]]:
    """(marked, bare): 256 words each, one per random byte, for posts of `category`.

    bare: three quarters common words, one quarter the category's own. marked: the same, with
    about one word in ten in bold, in italics, as inline code or as an external link (a writer's
    proportions). Small tables on purpose: a byte per word, and they stay in the CPU cache.
    """
    rng = random.Random(f"table:{category}")
    bare = (COMMON * 2)[:192] + (CATEGORIES[category].split() * 8)[:64]
    marked = bare[:]
    slots = rng.sample(range(256), 27)
    for k, slot in enumerate(slots):
        word = bare[slot]
        if k < 10:
            marked[slot] = f"**{word}**"
        elif k < 20:
            marked[slot] = f"*{word}*"
        elif k < 22:
            marked[slot] = f"`{word}()`"
        else:
            marked[slot] = f"[{word}](https://example.com/{word}/{rng.randrange(1000)})"
    return marked, bare


def tag_pool(seed: int) -> list[str]:
    rng = random.Random(f"tags:{seed}")
    return [
        TAG_WORDS[i] if i < len(TAG_WORDS) else f"{rng.choice(TAG_WORDS)}-{i}"
        for i in range(N_TAGS)
    ]


class _Writer:
    """Builds one post's text; every random draw comes from the post's own generator."""

    def __init__(self, rng: random.Random, category: str, index: int):
        self.rng = rng
        self.rand = rng.random
        marked, bare = word_table(category)
        self.pick, self.pick_bare = marked.__getitem__, bare.__getitem__
        self.index = index

    def words(self, n: int) -> list[str]:
        return list(map(self.pick, self.rng.randbytes(n)))

    def bare_words(self, n: int) -> list[str]:
        return list(map(self.pick_bare, self.rng.randbytes(n)))

    def between(self, lo: int, hi: int) -> int:
        return lo + int(self.rand() * (hi - lo + 1))

    def plain(self, lo: int, hi: int) -> str:
        """Words without markup, first one capitalised (titles, summaries, headings)."""
        w = self.bare_words(self.between(lo, hi))
        w[0] = w[0].capitalize()
        return " ".join(w)

    def sentences(self, count: int, lo: int = 8, hi: int = 18) -> list[str]:
        """`count` sentences of lo..hi words (markup comes with the words drawn)."""
        rand = self.rand
        span = hi - lo + 1
        lengths = [lo + int(rand() * span) for _ in range(count)]
        w = self.words(sum(lengths))
        out = []
        pos = 0
        for n in lengths:
            end = pos + n
            out.append(" ".join(w[pos:end]).capitalize() + ".")
            pos = end
        return out

    def paragraph(self) -> str:
        text = " ".join(self.sentences(self.between(3, 6)))
        if self.index and self.rand() < 0.25:  # a link to an earlier post: it exists for any N
            text += f" See [this earlier post](/posts/post-{int(self.rand() * self.index):06d}/)."
        return text

    def listing(self) -> str:
        items = self.sentences(self.between(3, 5), 4, 8)
        if self.rand() < 0.3:
            return "\n".join(f"{k}. {item}" for k, item in enumerate(items, 1))
        return "\n".join(f"- {item}" for item in items)

    def code(self) -> str:
        lang = LANGS[int(self.rand() * len(LANGS))]
        a, b, c, d = self.bare_words(4)
        lines = LANG_SNIPPETS[lang]
        names = {"a": a, "b": b, "c": c, "d": d, "A": a.capitalize(), "B": b.capitalize()}
        names["n"] = int(self.rand() * 1000)
        return f"```{lang}\n" + "\n".join(line.format(**names) for line in lines) + "\n```"

    def table(self) -> str:
        rows = ["| Model | Cores | Score |", "|-------|------:|------:|"]
        for _ in range(self.between(3, 6)):
            name = " ".join(self.bare_words(2)).title()
            rows.append(f"| {name} | {self.between(4, 24)} | {self.between(800, 3000)} |")
        return "\n".join(rows)

    def long_body(self) -> list[str]:
        rand = self.rand
        parts = [self.paragraph(), self.paragraph()]
        for s in range(self.between(3, 5)):
            parts.append("## " + self.plain(3, 5))
            parts.append(self.paragraph())
            if s == 0:
                parts.append(self.listing())
            elif s == 1 and rand() < 0.6:
                parts.append(self.code())
            elif s == 2 and rand() < 0.2:
                parts.append(self.table())
            parts.append(self.paragraph())
        return parts

    def news_body(self) -> list[str]:
        return [self.paragraph() for _ in range(self.between(1, 2))]


def post_text(index: int, seed: int, flavour: str, news: float, tags: list[str]) -> tuple[str, str]:
    """(file name, text) of post `index`."""
    rng = random.Random(seed * 1_000_003 + index)
    rand = rng.random
    category = CATEGORY_NAMES[int(rand() * len(CATEGORY_NAMES))]
    writer = _Writer(rng, category, index)
    is_news = rand() < news
    title = writer.plain(4, 9)
    summary = writer.plain(10, 16) + "."
    date = START + dt.timedelta(hours=int(rand() * HOURS))
    post_tags = sorted(set(rng.choices(tags, cum_weights=ZIPF_CUM, k=writer.between(2, 6))))
    parts = writer.news_body() if is_news else writer.long_body()
    product = PRODUCTS[int(rand() * N_PRODUCTS)]
    buy = not is_news or rand() < 0.25
    slug = f"post-{index:06d}"
    if flavour == "pelican":
        head = (
            f"Title: {title}\nDate: {date:%Y-%m-%d %H:%M}\nCategory: {category}\n"
            f"Tags: {', '.join(post_tags)}\nSlug: {slug}\nSummary: {summary}\n\n"
        )
    else:
        if buy:
            parts.append(f'{{{{< buy "{product}" >}}}}')
        parts.append("{{< related >}}")
        cat = f'categories: ["{category}"]' if flavour == "hugo" else f'category: "{category}"'
        head = (
            f'---\ntitle: "{title}"\ndate: {date:%Y-%m-%dT%H:%M:%S}+00:00\n'
            f"tags: [{', '.join(post_tags)}]\n{cat}\nslug: {slug}\n"
            f'summary: "{summary}"\n---\n\n'
        )
    return slug + ".md", head + "\n\n".join(parts) + "\n"


def _write_posts(args: tuple[int, int, str, int, str, float]) -> None:
    lo, hi, folder, seed, flavour, news = args
    tags = tag_pool(seed)
    for i in range(lo, hi):
        name, text = post_text(i, seed, flavour, news, tags)
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            f.write(text)


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def products_yaml(with_images: bool) -> str:
    out = []
    for p in PRODUCTS:
        out.append(f'{p}:\n  name: "Gadget {p[-3:]}"\n  price: "{199 + int(p[-3:]) * 20} USD"\n')
        if with_images:
            out.append(f"  image: /images/{p}.svg\n")
        out.append(
            "  links:\n"
            f"    - store: Apple\n      url: https://www.apple.com/shop/{p}\n"
            f"    - store: Amazon\n      url: https://www.amazon.com/dp/{p}\n"
        )
    return "".join(out)


def _images(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, p in enumerate(PRODUCTS):
        (folder / f"{p}.svg").write_text(SVG.format(hue=i * 6), encoding="utf-8")


HUGO_TOML = """\
baseURL = "https://example.org/"
title = "Bench Blog"
languageCode = "en"
[pagination]
  pagerSize = 10
[taxonomies]
  tag = "tags"
  category = "categories"
[markup.highlight]
  noClasses = false
[related]
  includeNewer = true
  threshold = 80
  toLower = false
  [[related.indices]]
    name = "tags"
    weight = 100
  [[related.indices]]
    name = "categories"
    weight = 50
  [[related.indices]]
    name = "date"
    weight = 10
"""
HUGO_LAYOUTS = {
    "baseof.html": """<!doctype html>
<html lang="{{ site.LanguageCode }}"><head><meta charset="utf-8">
<title>{{ if not .IsHome }}{{ .Title }} | {{ end }}{{ site.Title }}</title>
{{ with .OutputFormats.Get "rss" }}<link rel="alternate" type="application/rss+xml" href="{{ .Permalink }}">{{ end }}
</head><body>
<header><a href="{{ "/" | relURL }}">{{ site.Title }}</a></header>
<main>{{ block "main" . }}{{ end }}</main>
</body></html>
""",
    "single.html": """{{ define "main" }}<article>
<h1>{{ .Title }}</h1>
<time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2 January 2006" }}</time>
<ul class="tags">{{ range .GetTerms "tags" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
{{ .Content }}
</article>{{ end }}
""",
    "list.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
{{ range .Paginator.Pages }}<article><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
<p>{{ .Summary }}</p></article>{{ end }}
{{ template "_internal/pagination.html" . }}{{ end }}
""",
    "_shortcodes/buy.html": """{{ with index site.Data.products (.Get 0) }}<aside class="buy">
{{ with .image }}<img src="{{ . | relURL }}" alt="" width="400" height="300">{{ end }}
<strong>{{ .name }}</strong> {{ .price }}
{{ range .links }}<a rel="sponsored noopener" href="{{ .url }}">Buy at {{ .store }}</a> {{ end }}
</aside>{{ end }}
""",
    "_shortcodes/related.html": """{{ with site.RegularPages.Related .Page | first 5 }}<aside class="related">
<h2>Related</h2><ul>{{ range . }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>
</aside>{{ end }}
""",
}
# Pelican: importer tests name settings by line (SITEURL on 3, FEED_ALL_ATOM on 8): keep the order.
PELICANCONF = """\
AUTHOR = "Bench"
SITENAME = "Bench Blog"
SITEURL = ""
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_PAGINATION = 10
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
TAG_FEED_RSS = "feeds/{slug}.tag.rss.xml"
CATEGORY_FEED_ATOM = "feeds/{slug}.atom.xml"
ARTICLE_URL = "posts/{slug}/"
ARTICLE_SAVE_AS = "posts/{slug}/index.html"
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.codehilite": {"css_class": "highlight"},
        "markdown.extensions.extra": {},
        "markdown.extensions.toc": {},
    },
    "output_format": "html5",
}
LOAD_CONTENT_CACHE = False
"""


def generate(
    n: int,
    dest: Path | str,
    flavour: str = "quire",
    seed: int = DEFAULT_SEED,
    news: float = 0.0,
    jobs: int = 1,
) -> Path:
    """Write an n-post site of `flavour` into `dest` (created; existing posts are overwritten)."""
    if flavour not in FLAVOURS:
        raise ValueError(f"flavour must be one of {', '.join(FLAVOURS)}, not {flavour!r}")
    if not 0.0 <= news <= 1.0:
        raise ValueError("news is a fraction between 0 and 1")
    root = Path(dest)
    posts = root / "content" if flavour == "pelican" else root / "content" / "posts"
    posts.mkdir(parents=True, exist_ok=True)
    chunks = max(1, min(jobs, n // 2000))
    bounds = [n * k // chunks for k in range(chunks + 1)]
    work = [(bounds[k], bounds[k + 1], str(posts), seed, flavour, news) for k in range(chunks)]
    if chunks == 1:
        _write_posts(work[0])
    else:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(chunks) as pool:
            pool.map(_write_posts, work)
    if flavour == "quire":
        _write(root, "site.toml", 'title = "Bench Blog"\nbase_url = "https://example.org/"\n')
        _write(root, "content/products.yaml", products_yaml(with_images=True))
        _images(root / "content" / "images")
    elif flavour == "hugo":
        _write(root, "hugo.toml", HUGO_TOML)
        for name, text in HUGO_LAYOUTS.items():
            _write(root, f"layouts/{name}", text)
        _write(root, "data/products.yaml", products_yaml(with_images=True))
        _images(root / "static" / "images")
    else:
        _write(root, "pelicanconf.py", PELICANCONF)
    return root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="number of posts")
    ap.add_argument("dir", type=Path, help="site folder to write (created)")
    ap.add_argument("--flavour", default="quire", choices=FLAVOURS)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--news", type=float, default=0.0, help="fraction of short news posts (0-1)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    args = ap.parse_args(argv)
    if args.n < 0:
        ap.error("N must be 0 or more")
    try:
        generate(args.n, args.dir, args.flavour, args.seed, args.news, args.jobs)
    except ValueError as err:
        ap.error(str(err))
    return 0


if __name__ == "__main__":
    sys.exit(main())
