"""The command line: `quire build|...`; bad input becomes `path:line: message` and exit 1."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from quire import __version__
from quire.commands import build


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """All subcommands; only `build` when that is the command: the others import the
    pipeline (and the related-posts model with numpy and scipy), which a rebuild
    with nothing to do must not wait for."""
    ap = argparse.ArgumentParser(
        prog="quire", description="A fast static site generator for tech blogs."
    )
    ap.add_argument("--version", action="version", version=f"quire {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    build.add_parser(sub)
    if command == "build":
        return ap
    for module in _command_modules():
        module.add_parser(sub)
    return ap


def _command_modules() -> list:
    """Commands other than build, each a module with add_parser(subparsers) and run(args)."""
    from quire.commands import check, deploy, import_, new, serve

    return [import_, new, serve, check, deploy]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        argv = ["build", "--site", ".", "--output", "output"]
    args = parser(argv[0]).parse_args(argv)
    if not getattr(args, "run", None):
        parser().print_help()
        return 2
    previous = _terminate_as_interrupt()
    try:
        return args.run(args)
    except Terminated:
        print("terminated; the previous output is left as it was", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("interrupted; the previous output is left as it was", file=sys.stderr)
        return 130
    except Exception as err:  # a bug, not bad input: one line, the traceback on request
        if os.environ.get("QUIRE_DEBUG"):
            raise
        print(
            f"quire: internal error: {type(err).__name__}: {err} "
            "(this is a bug; QUIRE_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that staging folders are discarded on the way out."""


def _terminate_as_interrupt():
    """Install the SIGTERM handler (main thread only); returns the previous one, or None."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def terminate(signum, frame):
        raise Terminated()

    return signal.signal(signal.SIGTERM, terminate)
