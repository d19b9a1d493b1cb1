"""The client-side search index: a compact JSON file any static host can serve.

Each post contributes its title, URL, date, tags, summary and a bounded list of its most
frequent words, so the index stays small (about 0.5 KB a post) however long posts are.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Sequence

MAX_TERMS = 60
_STOP = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just me more
    most my no nor not now of off on once only or other our out over own same she should so some
    such than that the their them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your""".split()
)
_CODE = re.compile(r"<pre\b.*?</pre>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[^\W_][\w'-]*[^\W_]|[^\W_]", re.UNICODE)


def plain_text(rendered_html: str) -> str:
    return html.unescape(_TAG.sub(" ", _CODE.sub(" ", rendered_html)))


def key_terms(text: str, limit: int = MAX_TERMS) -> list[str]:
    """The post's most frequent meaningful words, most frequent first (ties alphabetical)."""
    counts = Counter(
        w
        for w in (m.group(0).lower() for m in _WORD.finditer(text))
        if len(w) > 2 and w not in _STOP
    )
    return [w for w, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]]


def search_index(views: Sequence) -> bytes:
    """JSON for /search/index.json; '<', '>' and '&' are escaped so it is inert anywhere."""
    docs = [
        {
            "t": v.title,
            "u": v.url,
            "d": v.date.date().isoformat() if v.date else "",
            "g": [t.name for t in v.tags],
            "c": v.category.name if v.category else "",
            "s": v.summary,
            "k": key_terms(plain_text(str(v.content))),
        }
        for v in views
    ]
    text = json.dumps({"version": 1, "docs": docs}, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.encode("utf-8")
