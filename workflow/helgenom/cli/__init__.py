"""The `helgenom` command line: argument parsing and one handler module per subcommand.

Each module here is named after its command (`helgenom rank` -> `helgenom.cli.rank`) and
exposes `register(subparsers)`, which adds the subcommand, and `run(args)`, its handler. The
engines (rank, qc, sv, report) and the layers below them expose functions; they register no
commands.
"""

from __future__ import annotations

import argparse
import importlib

from helgenom import __version__
from helgenom.io.vcf import prefer_jemalloc

COMMANDS = ("simulate", "samplesheet", "validate", "ped", "manifest", "ploidy", "fastq-check",
            "rank", "qc", "cnv", "upd", "svmerge", "workbook", "report", "report-index",
            "scout-config", "panel-vcf", "annotate-sources", "freqdb")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helgenom", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--version", action="version", version=f"helgenom {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"helgenom.cli.{name.replace('-', '_')}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    prefer_jemalloc()
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        return 130
