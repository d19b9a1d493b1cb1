"""`quire init`: a new site folder that builds at once and shows what quire does.

Like `hugo new site` with Pelican's quickstart questions made optional: a commented site.toml,
a welcome post with a buy box and related posts, two short posts for it to relate to, a
product catalogue with one product (and its picture), a .gitignore, and empty templates/ and
theme/ folders whose README says how overriding works.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class SiteSettings:
    title: str = "My tech blog"
    author: str = ""
    base_url: str | None = None  # None: left commented out for the user to fill in
    description: str = "Notes on the gear and software I use"


class InitError(Exception):
    """Refused: the folder is not empty (and --force was not given), or a setting is invalid."""


def toml_string(text: str) -> str:
    """A TOML basic string; JSON's escapes are TOML's for everything a title holds."""
    return json.dumps(text, ensure_ascii=False)


def site_toml(s: SiteSettings) -> str:
    base = (
        f"base_url = {toml_string(s.base_url)}\n"
        if s.base_url
        else '# base_url = "https://example.org/"\n'
    )
    author = f"author = {toml_string(s.author)}\n" if s.author else '# author = "Your Name"\n'
    return f"""\
# quire site settings. Every key is optional except title; the README lists them all.

title = {toml_string(s.title)}
# The address the site will live at. Canonical links, feeds, the sitemap and robots.txt
# are made from it: `quire build` warns while it is unset and `quire deploy` refuses.
{base}{author}description = {toml_string(s.description)}
language = "en"
# timezone = "UTC"          # for post dates written without a zone
# posts_per_page = 10
# permalink = "/posts/{{slug}}/"

[[menu]]
name = "Home"
url = "/"

[[menu]]
name = "Archive"
url = "/archive/"

[[menu]]
name = "Tags"
url = "/tags/"

# [related]
# count = 5                 # related posts under each post

# [deploy]
# target = "dir:/var/www/blog"   # or "rsync:me@host:/var/www/blog", or "git:gh-pages"
"""


PRODUCT_ID = "usb-c-hub"

PRODUCTS_YAML = f"""\
# Products for the {{{{< buy "id" >}}}} shortcode. Prices are text, shown as written.
{PRODUCT_ID}:
  name: Seven-port USB-C hub
  price: "$49"
  image: /images/products/usb-c-hub.svg
  note: An example product; replace it with something you recommend.
  links:
    - store: Example Store
      url: https://example.com/usb-c-hub
"""

PRODUCT_SVG = """\
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 120" width="160" height="120">
  <title>USB-C hub</title>
  <rect width="160" height="120" rx="12" fill="#eef1f5"/>
  <rect x="24" y="44" width="112" height="32" rx="8" fill="#8a94a6"/>
  <rect x="34" y="55" width="14" height="10" rx="3" fill="#2b3140"/>
  <rect x="56" y="55" width="14" height="10" rx="3" fill="#2b3140"/>
  <rect x="78" y="55" width="14" height="10" rx="3" fill="#2b3140"/>
  <rect x="100" y="55" width="24" height="10" rx="3" fill="#2b3140"/>
</svg>
"""

GITIGNORE = "output/\n.quire-cache/\n"

TEMPLATES_README = """\
# Templates

A file here overrides quire's default template of the same name, for this site only: copy
one from quire's `defaults/templates/` folder (`python -c "import quire.defaults as d;
print(d.TEMPLATES)"` prints where it is) and edit it. Leave this folder empty to use them all.
"""

THEME_README = """\
# Theme

A file here replaces quire's default theme file at the same path (for example
`css/style.css`); any other file here is copied to the output as it is. This README is not
published. `python -c "import quire.defaults as d; print(d.THEME)"` prints where the
defaults are.
"""


def _post(title: str, date: dt.datetime, tags: list[str], summary: str | None, body: str) -> str:
    meta: dict[str, object] = {"title": title, "date": date, "category": "Notes", "tags": tags}
    if summary:
        meta["summary"] = summary
    fm = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return f"---\n{fm}---\n\n{body}"


def posts(now: dt.datetime) -> dict[str, str]:
    day = dt.timedelta(days=1)
    return {
        "welcome.md": _post(
            "Welcome to your new quire site",
            now,
            ["quire", "desk setup"],
            "What is in this folder, and the three commands you need.",
            f"""\
This post lives in `content/posts/welcome.md`. Edit it, or delete it once you have written
your own: `quire new "My first post"` starts one as a draft.

## Writing

Posts are Markdown files with a few lines of front matter at the top (title, date, tags).
Run `quire serve` and this page reloads in your browser each time you save.

## Recommending things

The box below comes from `content/products.yaml`. Put `{{{{< buy "{PRODUCT_ID}" >}}}}` in any
post to show a product with its price and where to buy it.

{{{{< buy "{PRODUCT_ID}" >}}}}

## Publishing

Set `base_url` in `site.toml`, then `quire build` writes the site to `output/`, ready for
any web server, and `quire deploy` publishes it.

## Related posts

quire finds the posts that are most like this one from their words, tags and category:

{{{{< related >}}}}
""",
        ),
        "my-desk-setup.md": _post(
            "My desk setup",
            now - day,
            ["desk setup", "hardware"],
            None,
            """\
An example post. A post without a `summary` uses its first paragraph in lists and feeds.

One laptop, one monitor and a USB-C hub that holds it all together.
""",
        ),
        "writing-with-quire.md": _post(
            "Writing posts with quire",
            now - 2 * day,
            ["quire"],
            None,
            """\
An example post about writing: front matter, Markdown, and shortcodes like `buy` and
`related`.

Headings, lists, tables and code blocks with syntax highlighting all work as you expect.
""",
        ),
    }


def create_site(folder: Path, settings: SiteSettings, force: bool = False) -> list[Path]:
    """Write the starter site into folder (made if missing); return the files written.

    Refuses a folder with anything in it unless force: then only the starter's own files
    are written over, nothing else is touched."""
    if not settings.title.strip():
        raise InitError("the title must not be empty")
    if settings.base_url is not None:
        from quire.config import parse_config  # checks it as site.toml would

        _, problems = parse_config({"title": "t", "base_url": settings.base_url}, "--base-url")
        if problems:
            raise InitError(f"--base-url: {problems[0].message}")
    if folder.exists() and not folder.is_dir():
        raise InitError(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise InitError(
            f"{folder} is not empty; pick an empty or new folder, or pass --force to write "
            "the starter files into it (files with the same names are replaced)"
        )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0, second=0)
    files: dict[str, str] = {
        "site.toml": site_toml(settings),
        ".gitignore": GITIGNORE,
        "content/products.yaml": PRODUCTS_YAML,
        "content/images/products/usb-c-hub.svg": PRODUCT_SVG,
        "templates/README.md": TEMPLATES_README,
        "theme/README.md": THEME_README,
        **{f"content/posts/{name}": text for name, text in posts(now).items()},
    }
    written = []
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    (folder / "content" / "pages").mkdir(exist_ok=True)
    return written
