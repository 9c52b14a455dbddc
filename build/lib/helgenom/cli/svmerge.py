"""helgenom svmerge: one SV VCF from several callers (engine: helgenom.sv.merge)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom.errors import InputError, Problem
from helgenom.sheets.pedigree import read_ped
from helgenom.sv import merge
from helgenom.sv.merge import DEFAULT_PRIORITY, CallSet, svmerge


def run(args: argparse.Namespace) -> int:
    try:
        return _merge(args)
    except (InputError, OSError) as error:
        print(f"helgenom svmerge: {error}", file=sys.stderr)
        return 2


def _merge(args: argparse.Namespace) -> int:
    families = read_ped(args.ped)
    if args.family not in families:
        raise InputError([Problem(str(args.ped), 0, "family_id", args.family,
                                  "family not in the PED file")])
    family = families[args.family]
    members = [m.sample for m in family.members]
    trios = []
    for member in family.members:
        father, mother = family.parents(member.sample)
        if father is not None and mother is not None:
            trios.append((member.sample, father.sample, mother.sample))
    calls = [CallSet.parse(text) for text in args.call]
    merged = svmerge(calls, members, args.fasta, args.out, overlap=args.overlap,
                     distance=args.distance, priority=args.priority.split(","),
                     population_sv=args.population_sv,
                     population_af_tag=args.population_af_tag, trios=trios)
    by_callers = merged["CALLERS"].value_counts().to_dict() if len(merged) else {}
    print(f"helgenom svmerge: {len(merged)} SVs in {args.out}; by callers: {by_callers}",
          file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `svmerge` subcommand."""
    parser = sub.add_parser("svmerge", help="merge SV calls of several callers into one "
                            "family SV VCF (with population SV frequency)",
                            description=merge.__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", required=True)
    parser.add_argument("--ped", required=True, type=Path)
    parser.add_argument("--fasta", required=True, type=Path, help="reference (with .fai)")
    parser.add_argument("--call", action="append", required=True, metavar="CALLER[:SAMPLE]=VCF",
                        help="an SV VCF; per-sample callers name the member (repeatable)")
    parser.add_argument("--overlap", type=float, default=0.5,
                        help="minimum reciprocal overlap (default 0.5)")
    parser.add_argument("--distance", type=int, default=500,
                        help="maximum breakpoint distance in bp (default 500)")
    parser.add_argument("--priority", default=",".join(DEFAULT_PRIORITY),
                        help="callers in order of trust, for positions and genotypes")
    parser.add_argument("--population-sv", type=Path, default=None,
                        help="gnomAD-SV-style VCF of population SV frequencies")
    parser.add_argument("--population-af-tag", default="AF")
    parser.add_argument("--out", required=True, type=Path)
    parser.set_defaults(func=run)
