"""The `helgenom` command line: one subcommand per module, each registered by that module."""

from __future__ import annotations

import argparse
import importlib
import sys

from helgenom import __version__

# Each module exposes `register(subparsers)`, which adds its subcommand(s) and sets `func`.
_MODULES = ("simulate", "samplesheet", "sheetbuilder", "manifest", "reference", "rank", "qc", "cnv",
            "upd", "svmerge")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helgenom", description=__doc__)
    parser.add_argument("--version", action="version", version=f"helgenom {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _MODULES:
        importlib.import_module(f"helgenom.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
