"""The command line: `quire build|...`; bad input becomes `path:line: message` and exit 1."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from quire import __version__
from quire.output import OutputError
from quire.problems import BuildFailed, print_problems


def _add_build(subparsers) -> None:
    p = subparsers.add_parser("build", help="build a site folder into an output folder")
    p.add_argument("--site", default=".", help="site folder (with site.toml); default: .")
    p.add_argument("--output", default=None, help="output folder; default: SITE/output")
    p.add_argument("--drafts", action="store_true", help="include drafts and future-dated posts")
    p.add_argument("--base-url", default=None, help="override base_url from site.toml")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=None,
        metavar="N",
        help="processes rendering Markdown; default: one per core (1: no worker processes)",
    )
    p.add_argument("--timings", action="store_true", help="print seconds per stage to stderr")
    p.set_defaults(run=run_build)


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def run_build(args: argparse.Namespace) -> int:
    from quire.incremental.fastpath import BuildOptions, quick_check

    site = Path(args.site)
    out = Path(args.output) if args.output else site / "output"
    options = BuildOptions(
        site_dir=site,
        output_dir=out,
        drafts=args.drafts,
        base_url=args.base_url,
        strict=args.strict,
        jobs=args.jobs,
        progress=sys.stderr.isatty(),
    )
    try:
        started = time.perf_counter()
        result, probe = quick_check(options, started)
        if result is None:  # there is work: only now import the pipeline (Markdown, Jinja...)
            from quire.pipeline import build

            result = build(options, probe, started)
    except BuildFailed as failed:
        errors = print_problems(failed.problems, sys.stderr)
        print(f"Build failed: {errors} problem(s); {out} left as it was.", file=sys.stderr)
        return 1
    except OutputError as err:
        print(f"error: {err}; {out} left as it was.", file=sys.stderr)
        return 1
    except OSError as err:  # reading the site or writing the cache: disk full, permissions
        where = f": {err.filename}" if err.filename else ""
        print(f"error: {err.strerror or err}{where}; {out} left as it was.", file=sys.stderr)
        return 1
    print_warnings(result.warnings)
    if args.timings:
        print(result.timings(), file=sys.stderr)
    print(result.summary())
    return 0


MAX_WARNINGS_SHOWN = 20


def print_warnings(warnings) -> None:
    """Warnings do not fail the build; a few are useful, a thousand bury the summary."""
    for warning in warnings[:MAX_WARNINGS_SHOWN]:
        print(warning, file=sys.stderr)
    if len(warnings) > MAX_WARNINGS_SHOWN:
        hidden = len(warnings) - MAX_WARNINGS_SHOWN
        print(
            f"... and {hidden} more warning(s); --strict lists them all as errors", file=sys.stderr
        )


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """All subcommands; only `build` when that is the command: the others import the
    pipeline (and the related-posts model with numpy and scipy), which a rebuild
    with nothing to do must not wait for."""
    ap = argparse.ArgumentParser(
        prog="quire", description="A fast static site generator for tech blogs."
    )
    ap.add_argument("--version", action="version", version=f"quire {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    _add_build(sub)
    if command == "build":
        return ap
    for module in _command_modules():
        module.add_parser(sub)
    return ap


def _command_modules() -> list:
    """Commands other than build live in their own module with an add_parser(subparsers)."""
    from quire import scaffold
    from quire.commands import check, deploy, serve
    from quire.commands import import_ as importer

    return [importer, scaffold, serve, check, deploy]


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
