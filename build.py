#!/usr/bin/env python3
"""Entry point: `python build.py` builds the sample site; `python build.py CMD ...` = `quire CMD ...`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from quire.commands import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
