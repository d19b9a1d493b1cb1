"""Instruction counts of one build stage, steady under load (wall and CPU time are not).

    python bench/pages_stage.py SITE [STAGE]
    valgrind --tool=callgrind --toggle-collect=closure_fcn python bench/pages_stage.py SITE

Builds SITE once with --jobs 1 into a fresh temporary output folder (the site's cache, if a
build made one, answers the stages before), with the named pipeline function (default
`_write_pages`: render and write every page; or a function of a module pipeline
imports, `views.light_view`) run inside a C library call, so that
callgrind's `--toggle-collect=closure_fcn` counts that stage alone. Without valgrind it prints
the stage's CPU time."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import tempfile
import time
from pathlib import Path

from quire import pipeline
from quire.model import BuildOptions

_libc = ctypes.CDLL(ctypes.util.find_library("c"))
_COMPARE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


def in_bsearch(function, *args, **kwargs):
    """function(*args) called from inside libc's bsearch (one key, one element)."""
    out: list = []

    def compare(_a, _b):
        out.append(function(*args, **kwargs))
        return 0

    key, base = ctypes.c_int(0), (ctypes.c_int * 1)(0)
    _libc.bsearch(ctypes.byref(key), base, 1, ctypes.sizeof(ctypes.c_int), _COMPARE(compare))
    return out[0]


def main() -> None:
    site = Path(sys.argv[1]).resolve()
    stage = sys.argv[2] if len(sys.argv) > 2 else "_write_pages"
    owner = pipeline  # "_write_pages", or a module pipeline imports: "views.light_view"
    *path, name = stage.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)
    spent: list[float] = []

    def measured(*args, **kwargs):
        start = time.process_time()
        result = in_bsearch(original, *args, **kwargs)
        spent.append(time.process_time() - start)
        return result

    setattr(owner, name, measured)
    with tempfile.TemporaryDirectory() as out:
        result = pipeline.build(BuildOptions(site, Path(out) / "public", jobs=1))
    print(
        f"{stage}: {sum(spent):.3f} CPU s in {len(spent)} calls; {result.pages} pages, {result.rendered} rendered"
    )


if __name__ == "__main__":
    main()
