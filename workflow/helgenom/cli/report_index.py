"""helgenom report-index: the run's index page of the family reports (engine:
helgenom.report.html)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom.cli.report import error_lines
from helgenom.errors import InputError
from helgenom.report.html import families, write_index


def run(args: argparse.Namespace) -> int:
    try:
        summaries = write_index(args.reports, args.out)
    except (InputError, OSError) as error:
        print("\n".join(error_lines("report-index", error)), file=sys.stderr)
        return 2
    failed = sum(s.verdict == "FAIL" for s in summaries)
    print(f"helgenom report-index: {families(len(summaries))} ({failed} failing QC) -> "
          f"{args.out}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `report-index` subcommand."""
    parser = sub.add_parser("report-index", help="the run's index page of the family reports",
                            description="One HTML page listing the families of a run with "
                            "their QC verdict, candidate count and top candidate, linking to "
                            "each family's report (helgenom report).")
    parser.add_argument("--reports", required=True, nargs="+", type=Path,
                        help="the families' reports (results/*/*.report.html)")
    parser.add_argument("--out", required=True, type=Path,
                        help="the index page to write (links are relative to its folder)")
    parser.set_defaults(func=run)
