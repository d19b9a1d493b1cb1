#!/usr/bin/env python3
"""How long from saving a post to the reload event, and until the background full build
after it lands, on a generated site (1000 posts unless told).

  python bench/serve_latency.py [--posts 5000] [--edits 5]

Starts `quire serve` in-process on 127.0.0.1 (free port), listens to its event stream
like a browser tab does, edits a few posts and times each write -> `state` event.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_GENCORPUS = ROOT.parent / "shared" / "bench" / "gencorpus.py"
GENCORPUS = SHARED_GENCORPUS if SHARED_GENCORPUS.exists() else ROOT / "bench" / "corpus.py"

from quire.commands.serve import ServeOptions, start  # noqa: E402


def next_state(resp) -> dict:
    data = None
    while True:
        line = resp.fp.readline().decode()
        if not line:
            raise EOFError("event stream closed")
        if line.startswith("data: "):
            data = json.loads(line[6:])
        elif line == "\n" and data is not None:
            return data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1000)
    ap.add_argument("--edits", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        subprocess.run(
            [sys.executable, str(GENCORPUS), str(args.posts), str(site), "--flavour", "quire"],
            check=True,
        )
        started = time.perf_counter()
        server = start(ServeOptions(site, port=0, log=lambda s: None))
        print(f"first build and serve: {time.perf_counter() - started:.1f} s")
        try:
            while server.preview.snapshot is None:  # the quick path is ready after this
                time.sleep(0.1)
            print(f"ready for quick previews: {time.perf_counter() - started:.1f} s")
            host, port = server.url.split("//")[1].rstrip("/").split(":")
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            conn.request("GET", "/__quire/events")
            resp = conn.getresponse()
            state = next_state(resp)
            posts = sorted((site / "content" / "posts").glob("*.md"))
            times = []
            for i in range(args.edits):
                path = posts[i * 97 % len(posts)]
                text = path.read_text()
                written = time.perf_counter()
                path.write_text(text + f"\nEdit number {i}.\n")
                while True:
                    new = next_state(resp)
                    if new["version"] > state["version"]:
                        break
                times.append(time.perf_counter() - written)
                state = new
                assert not new["problems"], new["problems"]
                time.sleep(1.0)
            conn.close()
            full = written  # the last save
            while server.preview.building or server.preview.dirty.is_set():
                time.sleep(0.1)  # let the background full build land before cleaning up
            print(
                f"background full build landed {time.perf_counter() - full:.1f} s after the last save"
            )
            ms = [round(t * 1000) for t in times]
            print(f"save -> reload event, ms: {ms}; mean {statistics.mean(times) * 1000:.0f} ms")
        finally:
            server.close()


if __name__ == "__main__":
    main()
