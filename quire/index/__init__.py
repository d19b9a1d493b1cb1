"""Stage 2, index: what relates posts to each other (related posts; tags, categories and the
archive are built from views in taxonomy.py)."""

from __future__ import annotations

from pathlib import Path

from quire.incremental.digest import digest
from quire.incremental.memo import MISSING
from quire.incremental.store import BuildCache, Packed, load_words
from quire.index import words
from quire.index.ranker import Ranked, Ranker
from quire.model import Loaded, RelatedLists
from quire.parallel import parallel_map


def related_lists(
    loaded: Loaded, cache: BuildCache, site: Path, jobs: int = 1, ranker: Ranker | None = None
) -> RelatedLists:
    """Related posts per post slug as (slug, filled) pairs, ranked again only when what
    ranking reads of the posts changed: an edit that adds no informative word keeps the
    lists without even importing numpy or scipy. New posts are tokenised in `jobs` processes.
    A `ranker` (ranker.py, forked as the build began) ranks when it must; else this process."""
    posts = loaded.posts
    keys = [words.text_key(p) for p in posts]
    word_digests = cache.memo("words")
    missing = [i for i, key in enumerate(keys) if word_digests.recall(key) is MISSING]
    cold = not cache.memo("related").old  # ranking ahead for sure: load numpy meanwhile
    tokenised = parallel_map(
        _words_at,
        [posts[i] for i in missing],
        len(missing),
        jobs,
        meanwhile=_ranking if cold else None,
    )
    fresh: dict[bytes, tuple] = {}  # words tokenised in this build
    for i, (found, found_digest) in zip(missing, tokenised, strict=True):
        fresh[keys[i]] = found
        word_digests.keep(keys[i], found_digest)
    features = [
        (p.slug, p.date, p.tags, p.categories, p.related, word_digests.recall(key))
        for p, key in zip(posts, keys, strict=True)
    ]

    def rank() -> RelatedLists:
        if ranker is not None:
            ranked = [Ranked(*feature[:5]) for feature in features]
            answer = ranker.rank(ranked, loaded.config.related, keys, fresh, site, cache.engine)
            if answer is not None:
                lists, payload = answer
                cache.words_file = Packed(payload)
                return lists
        related = _ranking()
        known = load_words(site, cache.engine) if len(fresh) < len(set(keys)) else {}
        known.update(fresh)
        pairs = [known.get(k) or words.post_words(p) for k, p in zip(keys, posts, strict=True)]
        cache.keep_words(dict(zip(keys, pairs, strict=True)))
        return related.related_index(posts, loaded.config.related, pairs, with_filled=True)

    try:
        return cache.memo("related").get(digest((features, loaded.config.related)), rank)
    finally:
        if ranker is not None:
            ranker.stop()  # not needed (or done): killed at once


def _ranking():
    """The ranking module: numpy and scipy load only when ranking is redone (0.4 s)."""
    from quire.index import related

    return related


def _words_at(posts, index: int) -> tuple[tuple, bytes]:
    found = words.post_words(posts[index])
    return found, words.words_digest(found)
