"""The command line: `quire build|...`; bad input becomes `path:line: message` and exit 1."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from quire import __version__
from quire.commands import build

# command -> (module, one-line help). `quire --help` lists these without importing the
# modules: serve, check and import pull in Markdown, Jinja and feedgen, which took --help
# to 1.6 s. A command's own module is imported once it is the command being run.
COMMANDS = {
    "init": ("init", "start a new site in DIR (default: .), ready to build and serve"),
    "new": ("new", "start a new post (or --page) as a draft"),
    "serve": ("serve", "live preview: build, serve, rebuild on save"),
    "check": ("check", "check the site like a build, plus every internal link; writes nothing"),
    "deploy": ("deploy", "build, then publish output/ to [deploy] target"),
    "import": ("import_", "convert a Hugo or Pelican site into a quire site"),
}


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line: `command`'s subparser when it names one (only its module is
    imported: build's is light, the others import the pipeline, with the related-posts
    model's numpy and scipy, which a rebuild with nothing to do must not wait for); every
    command, listed for --help, when it does not."""
    ap = argparse.ArgumentParser(
        prog="quire", description="A fast static site generator for tech blogs."
    )
    ap.add_argument("--version", action="version", version=f"quire {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    if command == "build":
        build.add_parser(sub)
    elif command in COMMANDS:
        command_module(command).add_parser(sub)
    else:  # --help, --version or a typo: list them all; none is parsed
        build.add_parser(sub)
        for name, (_, help_text) in COMMANDS.items():
            sub.add_parser(name, help=help_text)
    return ap


def command_module(name: str):
    """The module with add_parser(subparsers) and run(args) for a command other than build."""
    import importlib

    return importlib.import_module(f"quire.commands.{COMMANDS[name][0]}")


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

    def terminate(signum, frame):
        raise Terminated()

    try:
        return signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread (importing threading to ask costs a no-change build)
        return None
