"""Related posts: for every published post, the slugs of the posts a reader should see next.

Kept behind one function, `related_index`, so the ranking can change without touching the
rest of the pipeline.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class RelatedSettings:
    count: int = 5
    include_newer: bool = True
    min_score: float = 0.0
    weights: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {"text": 1.0, "tags": 0.5, "category": 0.1, "date": 0.05}
        )
    )


def related_index(posts: Sequence, settings: RelatedSettings) -> dict[str, tuple[str, ...]]:
    """Ranked related slugs per post slug. `posts` holds only published posts, newest first.

    Pinned slugs (front matter `related: [...]`) come first; a post is never its own relative;
    ties break by date (newer first) then slug, so the order is deterministic.
    """
    by_slug = {p.slug: p for p in posts}
    tag_df = Counter(t for p in posts for t in set(p.tags))
    n = max(len(posts), 1)
    result: dict[str, tuple[str, ...]] = {}
    for post in posts:
        pinned = [s for s in (post.related or ()) if s in by_slug and s != post.slug]
        scored = []
        for other in posts:
            if other is post or other.slug in pinned:
                continue
            if not settings.include_newer and other.date > post.date:
                continue
            shared = set(post.tags) & set(other.tags)
            score = sum(math.log(1 + n / tag_df[t]) for t in shared)
            if set(post.categories) & set(other.categories):
                score += 0.5
            days = abs((post.date - other.date).total_seconds()) / 86400
            score += 0.1 / (1 + days / 30)
            if score > settings.min_score:
                scored.append((-score, -other.date.timestamp(), other.slug))
        scored.sort()
        ranked = pinned + [slug for _, _, slug in scored]
        result[post.slug] = tuple(ranked[: max(settings.count, len(pinned))])
    return result
