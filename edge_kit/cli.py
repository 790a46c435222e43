"""`edgekit` command line: a thin layer over the Python API.

Each sub-command lives in edge_kit/commands/<name>.py with `register(subparsers)` that adds its parser
and sets `func(args) -> int`. Errors derived from EdgekitError print as one line and exit non-zero.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from edge_kit import __version__
from edge_kit.errors import EdgekitError

COMMANDS = ("models", "convert", "inspect", "bench", "report", "bundle", "device_sim", "estimate", "devices", "eval",
            "import_trtexec", "trtexec_commands", "parity", "formats")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgekit", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"edgekit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"edge_kit.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except EdgekitError as err:
        print(f"edgekit: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("edgekit: interrupted; results already written are kept", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `edgekit models --json | head`: the reader left; not an error of ours
        _silence_stdout()
        return 141
    except OSError as err:  # a file or directory edgekit was told to write (or read) is not usable
        where = f" {err.filename}" if err.filename else ""
        print(f"edgekit: error: cannot use{where}: {err.strerror or err}", file=sys.stderr)
        return 2


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's exit flush would raise BrokenPipeError again
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
