"""What a served HTML page gets before </body>: the reload script and, while the site is
broken, the error box. Build output never sees either: only the preview server injects them.

A problem is a JSON-able mapping with at least "text" (what the box shows, always escaped).
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources

EVENTS_PATH = "/__quire/events"
HASH_PATH = "/__quire/hash"
TITLE = "quire: the last save did not build"

# The box sets its own colours on every element it makes, so a theme's `pre` or `h2` rules
# (a light-grey code background, say) cannot leave white text on a pale ground.
STYLES = {
    "box": "position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;"
    "background:rgba(20,0,0,.92);color:#fff;font:14px/1.5 ui-monospace,monospace;padding:2em",
    "title": "color:#fff;background:transparent;font:bold 1.3em/1.3 system-ui,sans-serif;"
    "margin:0 0 1em",
    "item": "white-space:pre-wrap;color:#fff;background:#1a0000;border:1px solid #a33;"
    "border-radius:4px;font:inherit;margin:0 0 1em;padding:.75em 1em;overflow:visible",
}


@cache
def live_js() -> str:
    return resources.files(__package__).joinpath("live.js").read_text(encoding="utf-8")


def page_hash(data: bytes | None) -> str:
    """What a tab compares to learn whether its own page changed (and so must reload)."""
    return hashlib.sha1(data or b"").hexdigest()[:16]


def overlay_html(problems: Sequence[Mapping]) -> str:
    """The error box as HTML, for a page loaded while the site is broken."""
    if not problems:
        return ""
    items = "".join(
        f'<pre style="{STYLES["item"]}">{html.escape(str(p["text"]))}</pre>' for p in problems
    )
    return (
        f'<div id="quire-errors" role="alert" style="{STYLES["box"]}">'
        f'<h2 style="{STYLES["title"]}">{html.escape(TITLE)}</h2>{items}</div>'
    )


def live_script(version: int, page: bytes) -> str:
    config = {
        "version": version,
        "hash": page_hash(page),
        "events": EVENTS_PATH,
        "hashPath": HASH_PATH,
        "title": TITLE,
        "styles": STYLES,
    }
    attr = html.escape(json.dumps(config), quote=True)
    return f'\n<script id="quire-live" data-config="{attr}">\n{live_js()}</script>\n'


def inject(page: bytes, version: int, problems: Sequence[Mapping]) -> bytes:
    """The page with the error box (if any) and the live script added before </body>."""
    extra = (overlay_html(problems) + live_script(version, page)).encode("utf-8")
    index = page.lower().rfind(b"</body>")
    if index < 0:
        return page + extra
    return page[:index] + extra + page[index:]
