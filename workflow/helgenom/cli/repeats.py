"""helgenom repeats: a family's repeat expansions (engine: helgenom.repeats.expansions)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom.errors import InputError, Problem
from helgenom.io.atomic import write_atomic
from helgenom.repeats import expansions
from helgenom.repeats.expansions import (
    add_to_candidates,
    read_repeats,
    repeat_rows,
    repeats_by_id,
    table_columns,
)
from helgenom.repeats.files import tsv_text
from helgenom.report.inputs import family_in_ped


def run(args: argparse.Namespace) -> int:
    if (args.candidates is None) != (args.candidates_out is None):
        print("helgenom repeats: --candidates and --candidates-out go together", file=sys.stderr)
        return 2
    try:
        family = family_in_ped(args.ped, args.family)
        samples, repeats = read_repeats(args.vcf)
        if not repeats:
            raise InputError([Problem(str(args.vcf), None, None, None, "no repeat record: "
                                      "ExpansionHunter genotyped nothing (see its log and the "
                                      "catalog)")])
        rows = repeat_rows(family, samples, repeats, args.vcf)
        added = 0
        if args.candidates is not None:
            added = add_to_candidates(args.candidates, rows, repeats_by_id(repeats), family,
                                      args.candidates_out)
        write_atomic(tsv_text(table_columns(family), rows), args.out)
    except InputError as error:
        for problem in error.problems:
            print(f"helgenom repeats: {problem}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"helgenom repeats: {error.filename or args.out}: {error.strerror or error}",
              file=sys.stderr)
        return 2
    pathogenic = [str(r["repid"]) for r in rows if r["call"] == "pathogenic"]
    print(f"helgenom repeats: family {family.id}: {len(rows)} repeats, pathogenic: "
          f"{', '.join(pathogenic) or 'none'} -> {args.out}"
          + (f"; {added} added to {args.candidates_out}" if args.candidates else ""),
          file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `repeats` subcommand."""
    parser = sub.add_parser("repeats", help="a family's repeat expansions from its "
                            "Stranger-annotated ExpansionHunter VCF",
                            description=expansions.__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vcf", required=True, type=Path,
                        help="the family's ExpansionHunter VCF, annotated by Stranger")
    parser.add_argument("--ped", required=True, type=Path, help="PED file with the family")
    parser.add_argument("--family", required=True, help="family ID (as in the PED)")
    parser.add_argument("--out", required=True, type=Path, help="the family's repeats table (TSV)")
    parser.add_argument("--candidates", type=Path,
                        help="the family's candidate list (helgenom rank): with "
                        "--candidates-out, written again with the pathogenic repeats first")
    parser.add_argument("--candidates-out", type=Path,
                        help="where that candidate list with its repeat rows is written")
    parser.set_defaults(func=run)
