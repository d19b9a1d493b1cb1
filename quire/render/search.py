"""The client-side search index: a compact JSON file any static host can serve.

Each post contributes its title, URL, date, tags, summary and a bounded list of its most
frequent words, so the index stays small (under 2 KB a post) however long posts are.
Words are split and folded exactly as theme/js/search.js splits a query, so both sides agree.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from quire.render.templates import format_date

MAX_TERMS = 60  # words per post
MAX_TERM_LENGTH = 24  # longer "words" are hashes, URLs, base64: noise that bloats the index
MAX_TITLE = 200  # characters
MAX_SUMMARY = 240  # characters, cut at a word boundary
_STOP = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just me more
    most my no nor not now of off on once only or other our out over own same she should so some
    such than that the their them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your""".split()
)
_SKIPPED = re.compile(r"<(pre|script|style)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[^\W_]+")  # letters and digits: what search.js keeps of a query


def plain_text(rendered_html: str) -> str:
    """Readable text of a post body: code blocks, scripts and styles say little about a post."""
    return html.unescape(_TAG.sub(" ", _SKIPPED.sub(" ", rendered_html)))


def fold(text: str) -> str:
    """Lower case without accents ('Café' -> 'cafe'), as search.js folds the query."""
    if text.isascii():  # nothing to decompose: the per-character filter below costs ~20 ms a post
        return text.lower()
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def key_terms(text: str, limit: int = MAX_TERMS) -> list[str]:
    """The post's most frequent meaningful words, most frequent first (ties alphabetical)."""
    if text.isascii():  # nearly every post: as bytes, ~4x cheaper than the regex below
        return [w.decode("ascii") for w in _top(_ascii_words(text), _STOP_BYTES, limit)]
    return _top(_WORD.findall(fold(text)), _STOP, limit)


def _top(words: list, stop: frozenset, limit: int) -> list:
    counts = [
        (-n, w)
        for w, n in Counter(words).items()
        if 2 < len(w) <= MAX_TERM_LENGTH and w not in stop
    ]  # counted first, filtered per distinct word: the same terms, a third of the work
    return [w for _, w in sorted(counts)[:limit]]


_STOP_BYTES = frozenset(w.encode("ascii") for w in _STOP)
# ASCII letters and digits as themselves (upper case folded), anything else a space: for
# ASCII text, what `_WORD.findall(fold(text))` finds, as bytes (which sort as the str do)
_ASCII_WORDS = bytes(
    c | 0x20 if 65 <= c <= 90 else c if 97 <= c <= 122 or 48 <= c <= 57 else 32 for c in range(256)
)


def _ascii_words(text: str) -> list[bytes]:
    return text.encode("ascii").translate(_ASCII_WORDS).split()


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + "…"


def search_doc(v) -> dict:
    """One post's entry: the same view gives the same entry, so builds can keep it."""
    return {
        "t": shorten(v.title, MAX_TITLE),
        "u": v.url,
        "d": v.date.date().isoformat() if v.date else "",
        "f": format_date(v.date),  # shown as lists show it; "d" is the machine-readable date
        "g": [t.name for t in v.tags],
        "c": v.category.name if v.category else "",
        "s": shorten(v.summary, MAX_SUMMARY),
        "k": key_terms(plain_text(str(v.content))),
    }


def search_entry(v) -> str:
    """search_doc's entry as the JSON text the index holds: one string a post (~0.7 KB)
    kept by the cache, where the dict of 60 key terms took ~4.5 KB of objects."""
    return _inert(json.dumps(search_doc(v), ensure_ascii=False, separators=(",", ":")))


def search_index(entries: Sequence[str]) -> bytes:
    """JSON for /search/index.json (from search_entry's texts): exactly json.dumps of
    {"version": 1, "docs": [...]}, with '<', '>' and '&' escaped so it is inert anywhere."""
    return ('{"version":1,"docs":[' + ",".join(entries) + "]}").encode("utf-8")


def _inert(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
