"""render/lexing.py against Pygments' own loop: speed, and the same tokens everywhere.

    python bench/lexing.py                 # time highlighting code blocks both ways
    python bench/lexing.py --check FILE... # every Pygments regex lexer, every file: same tokens?

The timing highlights a Python, a Go and a shell block 600 times each (every state
combined once it found COMBINE_AFTER tokens, as in a build) and prints the CPU seconds,
best of 5. --check combines every state at once (the strictest case) and compares the
token streams of all of Pygments' lexers that the dispatch applies to on each file
(source files of several languages make a good mix); it prints the lexers that differ.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_all_lexers, get_lexer_by_name

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from quire.render import lexing  # noqa: E402

BLOCKS = {
    "python": 'def score(chip, runs=10):\n    """Mean."""\n    return sum(chip.run() for _ in range(runs)) / runs\n',
    "go": 'func main() {\n\tfor i := 0; i < 3; i++ {\n\t\tfmt.Printf("%d\\n", i)\n\t}\n}\n',
    "bash": 'for f in *.md; do\n  echo "${f%.md}" | tr a-z A-Z > "out/$f"\ndone\n',
}


def timing(repeat: int = 600) -> None:
    formatter = HtmlFormatter(cssclass="codehilite", wrapcode=True)
    for lang, code in BLOCKS.items():
        plain = get_lexer_by_name(lang, stripnl=False, ensurenl=False)
        fast = lexing.dispatching(get_lexer_by_name(lang, stripnl=False, ensurenl=False))
        assert highlight(code, plain, formatter) == highlight(code, fast, formatter)
        best = {}
        for _ in range(5):
            for name, lexer in (("pygments", plain), ("dispatching", fast)):
                started = time.process_time()
                for _ in range(repeat):
                    highlight(code, lexer, formatter)
                spent = time.process_time() - started
                best[name] = min(best.get(name, spent), spent)
        print(
            f"{lang:8} {repeat} blocks: Pygments {best['pygments']:.3f} s, "
            f"dispatching {best['dispatching']:.3f} s CPU"
        )


def check(files: list[Path]) -> int:
    lexing.COMBINE_AFTER = 0
    texts = [f.read_text(encoding="utf-8", errors="replace") for f in files]
    texts.append('x = "open\n\'a\' # c /* c */ <a b="1">&amp; $v @d 0x1F `t` {{x}} é 😀\t\r\n')
    compared = differ = 0
    for _, aliases, _, _ in get_all_lexers():
        if not aliases:
            continue
        try:
            plain = get_lexer_by_name(aliases[0], stripnl=False, ensurenl=False)
            fast = lexing.dispatching(get_lexer_by_name(aliases[0], stripnl=False, ensurenl=False))
        except Exception:  # a lexer that needs a missing plugin
            continue
        if "get_tokens_unprocessed" not in vars(fast):
            continue
        for text in texts:
            compared += 1
            if _tokens(plain, text) != _tokens(fast, text):
                differ += 1
                print(f"differs: {aliases[0]}", flush=True)
                break
    print(f"{compared} lexer x file comparisons, {differ} lexers differ")
    return 1 if differ else 0


def _tokens(lexer, text: str):
    try:
        return list(lexer.get_tokens(text))
    except Exception as err:  # a lexer bug must be the same bug both ways
        return type(err)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", nargs="+", type=Path, metavar="FILE")
    args = parser.parse_args()
    if args.check:
        return check(args.check)
    timing()
    return 0


if __name__ == "__main__":
    sys.exit(main())
