"""Caching as one abstraction: a Memo remembers results by a content key from one build to
the next, and records what this build used so that entries nobody uses drop out.

A call site reads like this:

    posts = cache.memo("posts")
    post = posts.get(source_key, lambda: read_file(path))

An entry may also carry a stamp: a digest of inputs that are only known once the value
exists (the products a body's shortcodes looked up). `get(key, compute, stamp=f)` then
checks f(old value) against the stamp saved with it before reusing it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

V = TypeVar("V")
MISSING = object()  # recall() found nothing usable


@dataclass
class Memo(Generic[V]):
    old: dict = field(default_factory=dict)  # key -> (stamp, value), as the last build saved
    new: dict = field(default_factory=dict)  # what this build used: what the next one gets

    def get(
        self,
        key: Hashable,
        compute: Callable[[], V],
        stamp: Callable[[V], bytes] | None = None,
    ) -> V:
        """The remembered value for key, else compute()'s, remembered."""
        value = self.recall(key, stamp)
        if value is MISSING:
            value = compute()
            self.keep(key, value, stamp(value) if stamp else None)
        return value

    def get_many(
        self, keys: Sequence[Hashable], compute: Callable[[list[int]], Iterable[V]]
    ) -> list[V]:
        """Values for all keys; compute(indexes) makes the missing ones as one batch, so the
        caller can spread a cold build's work over processes."""
        values = [self.recall(key) for key in keys]
        missing = [i for i, value in enumerate(values) if value is MISSING]
        for i, value in zip(missing, compute(missing), strict=True):
            self.keep(keys[i], value)
            values[i] = value
        return values

    def recall(self, key: Hashable, stamp: Callable[[V], bytes] | None = None):
        """The value for key from this build or the last, or MISSING."""
        entry = self.new.get(key) or self.old.get(key)
        if entry is None:
            return MISSING
        saved, value = entry
        if stamp is not None and stamp(value) != saved:
            return MISSING
        self.new[key] = entry  # the same object: a shard holding only such entries is current
        return value

    def keep(self, key: Hashable, value: V, stamp: bytes | None = None) -> None:
        self.new[key] = (stamp, value)
