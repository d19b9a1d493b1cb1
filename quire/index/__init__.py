"""Stage 2, index: what relates posts to each other (related posts; tags, categories and the
archive are built from views in taxonomy.py)."""

from __future__ import annotations

from pathlib import Path

from quire.incremental.digest import digest
from quire.incremental.memo import MISSING
from quire.incremental.store import BuildCache, load_words
from quire.index import words
from quire.model import Loaded, RelatedLists


def related_lists(loaded: Loaded, cache: BuildCache, site: Path) -> RelatedLists:
    """Related posts per post slug as (slug, filled) pairs, ranked again only when what
    ranking reads of the posts changed: an edit that adds no informative word keeps the
    lists without even importing numpy or scipy."""
    posts = loaded.posts
    keys = [words.text_key(p) for p in posts]
    word_digests = cache.memo("words")
    fresh: dict[bytes, tuple] = {}  # words tokenised in this build
    features = []
    for post, key in zip(posts, keys, strict=True):
        found = word_digests.recall(key)
        if found is MISSING:
            fresh[key] = words.post_words(post)
            found = digest(fresh[key])
            word_digests.keep(key, found)
        features.append((post.slug, post.date, post.tags, post.categories, post.related, found))

    def rank() -> RelatedLists:
        from quire.index import related  # numpy and scipy load only when ranking is redone

        known = load_words(site, cache.engine) if len(fresh) < len(set(keys)) else {}
        known.update(fresh)
        pairs = [known.get(k) or words.post_words(p) for k, p in zip(keys, posts, strict=True)]
        cache.words_file = dict(zip(keys, pairs, strict=True))
        return related.related_index(posts, loaded.config.related, pairs, with_filled=True)

    return cache.memo("related").get(digest((features, loaded.config.related)), rank)
