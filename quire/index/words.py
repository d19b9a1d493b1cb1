"""The words related posts compare, kept apart from related.py so that a build can
tokenise (and cache) posts without importing numpy and scipy."""

from __future__ import annotations

import hashlib
import marshal
import re
from collections import Counter

_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1", re.MULTILINE | re.DOTALL)
_PASSES = (  # (cheap test, pattern): each pattern is only run when its test finds something
    ("```", _FENCE),
    ("~~~", _FENCE),
    ("{{", re.compile(r"\{\{[<%].*?[>%]\}\}", re.DOTALL)),  # Hugo shortcodes
    ("`", re.compile(r"`[^`\n]*`")),  # inline code
    ("](", re.compile(r"\]\([^)\n]*\)")),  # the URL of [text](url) and ![alt](url)
    ("]:", re.compile(r"^[ \t]*\[[^\]\n]+\]:[^\n]*", re.MULTILINE)),  # [ref]: url
    ("<", re.compile(r"<!--.*?-->|<[^>\n]*>", re.DOTALL)),  # HTML and <autolinks>
    ("://", re.compile(r"\S+://\S+")),  # bare URLs
    ("www.", re.compile(r"\bwww\.\S+")),
)
# bytes.translate keeps ASCII letters (lower-cased) and digits and every non-ASCII byte (so
# UTF-8 words stay whole) and turns everything else into a space; split() gives the words.
_KEEP = bytes(c if chr(c).isalnum() or c >= 128 else 32 for c in range(256)).lower()
# English function words: they link every post to every other. Kept here rather than
# imported from scikit-learn, whose import alone cost more than ranking 1000 posts.
ENGLISH_STOP_WORDS = frozenset(
    """a about above across after afterwards again against all almost alone along already also
    although always am among amongst an and another any anyhow anyone anything anyway anywhere
    are around as at back be became because become becomes becoming been before beforehand
    behind being below beside besides between beyond both but by can cannot could did do does
    doing done down due during each eg either else elsewhere enough etc even ever every
    everyone everything everywhere except few first for former formerly from further get gets
    got had has have having he hence her here hereafter hereby herein hers herself him himself
    his how however i ie if in indeed into is it its itself just last latter least less let
    like made make many may me meanwhile might mine more moreover most mostly much must my
    myself namely neither never nevertheless next no nobody none noone nor not nothing now
    nowhere of off often on once one only onto or other others otherwise our ours ourselves
    out over own per perhaps please put quite rather re really same see seem seemed seeming
    seems several she should since so some somehow someone something sometime sometimes
    somewhere still such than that the their theirs them themselves then thence there
    thereafter thereby therefore therein these they this those though through throughout thru
    thus to together too toward towards under until up upon us use used very via was we well
    were what whatever when whence whenever where whereafter whereas whereby wherein whether
    which while whither who whoever whole whom whose why will with within without would yet
    you your yours yourself yourselves""".split()
)
_STOP = frozenset(w.encode() for w in ENGLISH_STOP_WORDS) | {b"amp", b"nbsp", b"quot"}


def plain_text(markdown: str) -> str:
    """Markdown without code, URLs, HTML or shortcodes: the prose whose words are compared."""
    for test, pattern in _PASSES:
        if test in markdown:
            markdown = pattern.sub(" ", markdown)
    return markdown


def is_word(word: bytes) -> bool:
    return len(word) > 1 and word not in _STOP and not word[:1].isdigit()


def words(text: str) -> Counter:
    """Counts of the informative words (UTF-8 bytes, lower case) of a Markdown text.

    Only these reach the ranking, so an edit that adds no such word leaves it unchanged."""
    counts = Counter(plain_text(text).encode().translate(_KEEP).split())
    return Counter({w: n for w, n in counts.items() if is_word(w)})


def post_words(post) -> tuple[Counter, Counter]:
    """(title words, summary and body words): everything related.py reads of a post's text."""
    return words(post.title), words(f"{post.summary}\n\n{post.body}")


def words_digest(pair: tuple[Counter, Counter]) -> bytes:
    """Content digest of post_words' pair, what decides whether ranking is redone: marshal
    (format 2: no back-references, so equal counts in the same order give equal bytes in
    any process) is a fifth of the cost of pickling the Counters."""
    title, body = pair
    data = marshal.dumps((dict(title), dict(body)), 2)
    return hashlib.blake2b(data, digest_size=16).digest()


def text_key(post) -> bytes:
    """Cheap key of the text post_words reads (no pickling: hashed once per post per build)."""
    title, summary, body = post.title, post.summary or "", post.body
    data = f"{len(title)}:{len(summary)}:{title}{summary}{body}"
    return hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=16).digest()
