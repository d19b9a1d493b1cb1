"""Related posts ranked in a forked process, started as an incremental build begins.

Ranking again after an edit costs ~0.6 s, most of it importing numpy and scipy (~0.45 s);
the build only learns that it must rank once it has loaded its cache and read the posts.
A Ranker is forked first: it imports numpy and scipy on the other core meanwhile, then
loads the stored words, ranks and encodes the words file there while the build goes on.
When ranking is not needed after all, it is killed (what it spent is bounded by the time
loading and reading take). Anything that goes wrong in it only means ranking in the build's
own process, as without it: the lists are the same either way (same code, same inputs).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from quire.parallel import ForkingPickler, child_of


@dataclass(frozen=True)
class Ranked:
    """What ranking reads of a post (index/related.py): the rest stays in the build."""

    slug: str
    date: object
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    related: tuple[str, ...] | None


@dataclass
class Ranker:
    pid: int
    requests: int  # write end: the parent's one request
    answers: int  # read end: the child's one answer

    @classmethod
    def start(cls, site: Path) -> Ranker | None:
        """Fork the ranking process for the site (None where there is no fork, or where
        other threads run, as in `serve`: a lock one of them held would stay held in the
        child, and the build would wait for it)."""
        if not hasattr(os, "fork") or not sys.platform.startswith("linux"):
            return None
        if threading.active_count() > 1:
            return None
        parent = os.getpid()
        request_r, request_w = os.pipe()
        answer_r, answer_w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (request_r, request_w, answer_r, answer_w):
                os.close(fd)
            return None
        if pid == 0:  # pragma: no cover - runs in the child, which never returns
            code = 0
            try:
                os.close(request_w)
                os.close(answer_r)
                _serve(request_r, answer_w, site, parent)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(request_r)
        os.close(answer_w)
        return cls(pid, request_w, answer_r)

    def rank(
        self,
        posts: Sequence[Ranked],
        settings: object,
        keys: Sequence[bytes],
        fresh: dict,
        site: Path,
        engine: bytes,
    ) -> tuple[dict, bytes] | None:
        """(related lists, the words file's payload), or None: rank in this process then."""
        try:
            message = (list(posts), settings, list(keys), fresh, site, engine)
            request = ForkingPickler.dumps(message)  # read-only mappings too (parallel.py)
            with os.fdopen(self.requests, "wb", closefd=True) as out:
                self.requests = -1
                out.write(request)
            with os.fdopen(self.answers, "rb", closefd=True) as answer:
                self.answers = -1
                data = answer.read()
            found = pickle.loads(data) if data else None
        except (OSError, pickle.PickleError, EOFError, ValueError, TypeError):
            return None
        finally:
            self.stop()
        return found if isinstance(found, tuple) else None

    def stop(self) -> None:
        """End the process (done, or not needed) and reap it."""
        for fd in (self.requests, self.answers):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.requests = self.answers = -1
        if self.pid:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(self.pid, 0)
            self.pid = 0


def _serve(
    requests: int, answers: int, site: Path, parent: int
) -> None:  # pragma: no cover - in the child
    """In the child: import, read the stored words, wait for the request, rank, answer
    (None: rank it yourself)."""
    child_of(parent)
    from quire.incremental import codec
    from quire.incremental.store import read_words, words_of
    from quire.index import related

    stored = read_words(site)
    with os.fdopen(requests, "rb") as incoming:
        data = incoming.read()
    answer = None
    if data:
        posts, settings, keys, fresh, site, engine = pickle.loads(data)
        known = words_of(stored, engine)
        known.update(fresh)
        pairs = [known.get(k) for k in keys]
        if all(p is not None for p in pairs):  # else words must be read from the posts
            lists = related.related_index(posts, settings, pairs, with_filled=True)
            payload = codec.dumps({"engine": engine, "words": dict(zip(keys, pairs, strict=True))})
            answer = (lists, payload)
    with os.fdopen(answers, "wb") as out:
        out.write(ForkingPickler.dumps(answer))
