"""helgenom ped: one family of samples.tsv as a PED file."""

from __future__ import annotations

import argparse
import sys

from helgenom.errors import InputError, Problem
from helgenom.sheets.pedigree import build_families, write_ped
from helgenom.sheets.samplesheet import load_samples, pedigree_problems


def run(args: argparse.Namespace) -> int:
    samples, problems = load_samples(args.samples)
    errors, _ = pedigree_problems(samples, args.samples)
    families = build_families(samples)
    if args.family not in families:
        errors.append(Problem(args.samples, None, "family", args.family, "no such family; "
                              f"families in the sheet: {', '.join(families) or 'none'}"))
    if problems or errors:
        print(InputError(problems + errors), file=sys.stderr)
        return 2
    write_ped(families[args.family], args.out)
    print(f"{args.out}: family {args.family}, {len(families[args.family].members)} individuals")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `ped` subcommand."""
    p = sub.add_parser("ped", help="write one family of samples.tsv as a PED file",
                       description="Validate samples.tsv and write FAMILY as a 6-column PED.")
    p.add_argument("--samples", required=True, help="samples.tsv")
    p.add_argument("--family", required=True, help="family ID")
    p.add_argument("--out", required=True, help="PED file to write")
    p.set_defaults(func=run)
