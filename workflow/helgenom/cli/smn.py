"""helgenom smn: a family's SMN1/SMN2 copy numbers (engine: helgenom.repeats.smn)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom.errors import InputError
from helgenom.repeats import smn
from helgenom.repeats.smn import write_smn
from helgenom.report.inputs import family_in_ped


def run(args: argparse.Namespace) -> int:
    try:
        rows = write_smn(args.tsv, family_in_ped(args.ped, args.family), args.out)
    except InputError as error:
        for problem in error.problems:
            print(f"helgenom smn: {problem}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"helgenom smn: {error.filename or args.out}: {error.strerror or error}",
              file=sys.stderr)
        return 2
    calls = "; ".join(f"{r['Sample']} ({r['role']}): {r['call']}" for r in rows)
    print(f"helgenom smn: family {args.family}: {calls} -> {args.out}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `smn` subcommand."""
    parser = sub.add_parser("smn", help="a family's SMN1/SMN2 copy numbers from "
                            "SMNCopyNumberCaller", description=smn.__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tsv", required=True, type=Path,
                        help="SMNCopyNumberCaller's TSV of the family's alignments")
    parser.add_argument("--ped", required=True, type=Path, help="PED file with the family")
    parser.add_argument("--family", required=True, help="family ID (as in the PED)")
    parser.add_argument("--out", required=True, type=Path, help="the family's SMN table (TSV)")
    parser.set_defaults(func=run)
