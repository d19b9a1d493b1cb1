"""Kill points for fault-injection tests: with QUIRE_FAULT=NAME in the environment, the
build dies at the point named NAME as a SIGKILL or power cut would leave it (os._exit:
no cleanup, no `finally`, no atexit). tests/test_faults.py kills a build at every point and
checks that the previous output survives and that the next build equals a cold one.

A new stage that writes anything the next build reads (output, cache) adds a point here
and a call to `point()`: the test then covers it. Unset, a point costs one dict lookup.
"""

from __future__ import annotations

import os

POINTS = (
    "read",  # sources read, nothing written
    "pages",  # on the first page rendered (workers still running)
    "staged",  # the new output complete beside the old one, before the swap
    "swap",  # between the swap's two renames: no output folder at all
    "swapped",  # the new output in place, cache not saved
    "cache-write",  # a cache file's temp written, not renamed
    "cache-saved",  # cache saved, manifest not written
)
KILLED = 137  # the exit status of a process killed by SIGKILL, as shells report it


def point(name: str) -> None:
    """Die here when the environment asks for it."""
    if os.environ.get("QUIRE_FAULT") == name:
        os._exit(KILLED)
