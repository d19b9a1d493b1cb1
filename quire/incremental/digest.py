"""Content digests: equal values give equal digests, in any process and any build.

A record with a `fingerprint` (a Post, a PostView: a digest of what it was made from)
counts as that fingerprint inside other values, so a page that lists 500 posts is
digested from 500 fingerprints rather than from 500 posts' fields.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import sys
from collections.abc import Iterable
from types import MappingProxyType

from quire.defaults import PACKAGE


def _mapping_proxy(items: dict) -> MappingProxyType:
    return MappingProxyType(items)


class _Pickler(pickle.Pickler):
    """Pickles read-only mappings (Post.params) as dicts."""

    def __init__(self, file):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)

    def reducer_override(self, obj):
        if type(obj) is MappingProxyType:
            return _mapping_proxy, (dict(obj),)
        return NotImplemented


class _DigestPickler(_Pickler):
    """Pickles a fingerprinted record as its fingerprint."""

    def persistent_id(self, obj):
        # called for every object pickled: the plain types (most of them) are answered
        # without an attribute lookup that fails
        if type(obj) in _PLAIN:
            return None
        return getattr(obj, "fingerprint", None) or None


_PLAIN = frozenset({str, bytes, int, float, bool, type(None), tuple, list, dict})


def digest(value: object) -> bytes:
    """A content digest of any picklable value.

    Pickling is by value (no memo: `fast` mode), so equal values give equal digests whether
    or not they share objects, in any process.
    """
    buffer = io.BytesIO()
    pickler = _DigestPickler(buffer)
    pickler.fast = True
    pickler.dump(value)
    return hashlib.sha256(buffer.getbuffer()).digest()[:16]


def parts_digest(*parts: str | bytes) -> bytes:
    """A content digest of strings and bytes (each length-prefixed, so parts never run
    together): hashing a Markdown body or a file's bytes directly costs a tenth of
    pickling it, and an edit build keys every post this way in several stages."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(b"%d%c:" % (len(data), 115 if isinstance(part, str) else 98))
        h.update(data)
    return h.digest()


def engine_digest(versions: Iterable[str]) -> bytes:
    """Digest of quire's own code and the library versions: a new quire starts a cold cache."""
    sources = sorted(
        (p.relative_to(PACKAGE).as_posix(), p.read_bytes()) for p in PACKAGE.rglob("*.py")
    )
    return digest((sources, tuple(versions), sys.version))
