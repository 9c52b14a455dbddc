"""The `helgenom` command line: argument parsing and one handler module per subcommand.

Each module here is named after its command (`helgenom rank` -> `helgenom.cli.rank`) and
exposes `register(subparsers)`, which adds the subcommand, and `run(args)`, its handler. The
engines (rank, qc, sv, report) and the layers below them expose functions; they register no
commands.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable

from helgenom import __version__

COMMANDS = ("simulate", "samplesheet", "validate", "ped", "manifest", "ploidy", "fastq-check",
            "rank", "qc", "cnv", "upd", "svmerge", "workbook", "report", "report-index",
            "scout-config", "panel-vcf", "annotate-sources", "freqdb", "gather-calls",
            "mito-call", "repeats", "smn", "resources")


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The `helgenom` parser with the subcommands `commands` (default: all of COMMANDS)."""
    parser = argparse.ArgumentParser(prog="helgenom", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--version", action="version", version=f"helgenom {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS if commands is None else commands:
        importlib.import_module(f"helgenom.cli.{name.replace('-', '_')}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Only the module of the command being run is imported (a workflow job runs one command:
    # importing all of them cost ~1 s per job); `helgenom --help`, a misspelt or no command
    # get the parser of every command, as before.
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(words[:1] if words and words[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    if "pyarrow" in sys.modules:
        # Arrow's jemalloc pool for the commands that use Arrow (helgenom.io.vcf imports it).
        from helgenom.io.vcf import prefer_jemalloc

        prefer_jemalloc()
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        return 130
