"""URLs are checked in one place: front matter, the catalogue and site.toml all give URLs."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

# Front matter fields (besides `image`) whose values are URLs and are checked like it.
URL_FIELDS = ("image", "images", "link", "links", "url", "canonical", "cover", "thumbnail")


_RELATIVE = re.compile(r"(?![/.])[\w.~%+-]+(?:/[\w.~%+-]+)*")  # hero.jpg, img/hero.jpg


def check_url(
    url: object, allow_site_path: bool = True, allow_relative: bool = False
) -> str | None:
    """Why a URL from user data is refused, or None. Only http(s) and site paths pass.

    Browsers drop tabs, newlines and leading spaces and ignore case before reading the
    scheme ("java\tscript:", " JavaScript:"), so any whitespace or control character is
    refused outright rather than stripped; quotes, angle brackets and backslashes too.
    """
    if not isinstance(url, str) or not url:
        return "must be a URL"
    if any(_bad_url_char(c) for c in url):
        return f"URL {url!r} contains characters a URL may not have (spaces, quotes, <>, \\)"
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc and url[:1].isalpha():
        return None
    if allow_site_path and url.startswith("/") and not url.startswith("//") and not parts.scheme:
        if ".." in url.split("?")[0].split("#")[0].split("/"):
            return f"URL {url!r} must not contain '..'"
        return None
    if allow_relative and _RELATIVE.fullmatch(url):
        # an image next to its post (front matter `image: hero.jpg`, in the post's bundle)
        if ".." in url.split("?")[0].split("#")[0].split("/"):
            return f"URL {url!r} must not contain '..'"
        return None
    allowed = (
        "an http(s) URL or a site path starting with /" if allow_site_path else "an http(s) URL"
    )
    return f"URL {url!r} is not allowed: use {allowed}"


def _bad_url_char(c: str) -> bool:
    if c in "\\<>\"'`" or c.isspace():
        return True
    # control (Cc), format (Cf: zero-width, bidi), surrogate, unassigned, private use
    return unicodedata.category(c) in ("Cc", "Cf", "Cs", "Cn", "Co")


def output_file(url: str) -> str:
    """The output file of a site path: /a/b/ -> a/b/index.html, /a/b.html -> a/b.html."""
    if url.endswith(".html"):
        return url.lstrip("/")
    return url.strip("/") + "/index.html" if url.strip("/") else "index.html"


# Site paths quire writes itself besides posts and pages: a post, page or alias may not
# take them (read/ reports a post or page that does, plan.redirect_problems an alias).
OWN_PATHS = ("index.html", "search/", "tags/", "categories/", "archive/", "page/", "404.html")
OWN_PATHS += ("feed.xml", "atom.xml", "sitemap.xml", "robots.txt", "_redirects")


def own_path(url: str) -> str | None:
    """The quire page a site path would overwrite (None: the path is free)."""
    path = output_file(url)
    for own in OWN_PATHS:
        if path == own or (own.endswith("/") and path.startswith(own)):
            return "/" + own
    return None
