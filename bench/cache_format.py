#!/usr/bin/env python3
"""The build cache's file format, measured: load + save of a 1000-post site's whole cache.

    python bench/cache_format.py [--posts 1000] [--runs 5]

Builds a synthetic site (shared/bench/gencorpus.py) once into bench/work/cache-format/,
reads back every value its cache holds, then times, per format, writing all of them
(encode + serialize) and reading all of them (deserialize + decode), best of --runs:

- pickle: the format before (runs code on load: not an option any more, the baseline);
- marshal: codec.py's tagged tree written with marshal (what quire uses);
- msgpack / msgspec / json: the same tagged tree through those libraries; they have no
  tuple, so tuples become tagged lists (and bytes hex strings for json) in one more pass,
  timed with them. Missing libraries are skipped.

The checksum and file I/O are the same for every format and left out.
"""

from __future__ import annotations

import argparse
import io
import json
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from quire.incremental import codec, store  # noqa: E402
from quire.incremental.digest import _Pickler  # noqa: E402

GENCORPUS = ROOT.parent / "shared" / "bench" / "gencorpus.py"


def _site(posts: int) -> Path:
    work = HERE / "work" / "cache-format"
    site = work / f"site-{posts}"
    if not (site / store.CACHE_DIR / store.STORE_FILE).exists():
        shutil.rmtree(site, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(GENCORPUS), str(posts), str(site)], check=True)
        script = "import sys; from quire.commands import main; sys.exit(main(sys.argv[1:]))"
        args = ["build", "--site", str(site), "--output", str(work / f"out-{posts}")]
        subprocess.run([sys.executable, "-c", script, *args], check=True, cwd=ROOT)
    return site


def _values(site: Path) -> list[object]:
    values = []
    for path in sorted((site / store.CACHE_DIR).glob("*.bin")):
        value, warning = store.read_blob(path, path.name)
        assert warning is None, warning
        values.append(value)
    return values


def _listy(tree, hexed: bool):
    """Tuples and dicts as tagged lists, bytes as hex (json): what msgpack and json need
    on top of the codec's tree (no tuple; no tuple keys)."""
    kind = type(tree)
    if kind is tuple:
        return ["\x00t", *[_listy(v, hexed) for v in tree]]
    if kind is list:
        return [_listy(v, hexed) for v in tree]
    if kind is dict:  # keys may be tuples: pairs, turned back into a dict on load
        return ["\x00d", *[[_listy(k, hexed), _listy(v, hexed)] for k, v in tree.items()]]
    if kind is bytes and hexed:
        return ["\x00b", tree.hex()]
    if tree is ...:
        return ["\x00e"]
    return tree


def _unlisty(tree):
    if type(tree) is list:
        if tree and tree[0] == "\x00t":
            return tuple(_unlisty(v) for v in tree[1:])
        if tree and tree[0] == "\x00d":
            return {_unlisty(k): _unlisty(v) for k, v in tree[1:]}
        if tree and tree[0] == "\x00b":
            return bytes.fromhex(tree[1])
        if tree == ["\x00e"]:
            return ...
        return [_unlisty(v) for v in tree]
    if type(tree) is dict:
        return {k: _unlisty(v) for k, v in tree.items()}
    return tree


def _pickle(value) -> bytes:
    """As quire wrote its cache before (read-only mappings pickled as dicts)."""
    buffer = io.BytesIO()
    _Pickler(buffer).dump(value)
    return buffer.getvalue()


def formats() -> dict:
    found = {
        "pickle (before)": (_pickle, pickle.loads),
        "marshal (after)": (codec.dumps, codec.loads),
    }
    try:
        import msgpack

        found["msgpack"] = (
            lambda v: msgpack.packb(_listy(codec.encode(v), False), use_bin_type=True),
            lambda b: codec.decode(_unlisty(msgpack.unpackb(b, raw=False, strict_map_key=False))),
        )
    except ImportError:
        pass
    try:
        import msgspec

        enc, dec = msgspec.msgpack.Encoder(), msgspec.msgpack.Decoder()
        found["msgspec"] = (
            lambda v: enc.encode(_listy(codec.encode(v), False)),
            lambda b: codec.decode(_unlisty(dec.decode(b))),
        )
    except ImportError:
        pass
    found["json"] = (
        lambda v: json.dumps(_listy(codec.encode(v), True), separators=(",", ":")).encode(),
        lambda b: codec.decode(_unlisty(json.loads(b))),
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    values = _values(_site(args.posts))
    print(f"{args.posts} posts, {len(values)} cache files; best of {args.runs} runs\n")
    print("| format | save (s) | load (s) | load+save (s) | bytes |")
    print("|---|---:|---:|---:|---:|")
    for name, (dump, load) in formats().items():
        saves, loads = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            blobs = [dump(v) for v in values]
            saves.append(time.perf_counter() - started)
            started = time.perf_counter()
            back = [load(b) for b in blobs]
            loads.append(time.perf_counter() - started)
        assert back == values, name
        save, load_ = min(saves), min(loads)
        size = sum(len(b) for b in blobs)
        print(f"| {name} | {save:.3f} | {load_:.3f} | {save + load_:.3f} | {size:,} |")


if __name__ == "__main__":
    main()
