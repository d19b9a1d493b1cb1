#!/usr/bin/env python3
"""Entry point: `python build.py` builds the sample site; `python build.py CMD ...` = `quire CMD ...`."""

import os
import sys

# this checkout's quire first (os.path, not pathlib: a no-change build imports little else)
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from quire.commands import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
