"""helgenom upd: runs of homozygosity and UPD (engine: helgenom.sv.upd)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom.errors import InputError
from helgenom.sv import upd
from helgenom.sv.upd import UpdParams, run_upd


def run(args: argparse.Namespace) -> int:
    params = UpdParams(min_gq=args.min_gq, min_sites=args.min_sites,
                       min_fraction=args.min_fraction)
    try:
        upd, roh = run_upd(args.vcf, args.ped, args.family, args.af_tag, args.chrx, args.chry,
                           params)
    except InputError as error:
        print(f"helgenom upd: {error}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    upd.to_csv(args.out, sep="\t", index=False)
    if args.roh_out:
        roh.to_csv(args.roh_out, sep="\t", index=False)
    calls = upd[upd["call"].str.startswith("UPD")]
    found = ", ".join(f"{r.child} {r.chrom} {r.call}" for r in calls.itertuples()) or "none"
    print(f"helgenom upd: {len(roh)} ROH segments; UPD: {found} -> {args.out}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `upd` subcommand."""
    parser = sub.add_parser("upd", help="runs of homozygosity and uniparental disomy of trios",
                            description=upd.__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vcf", required=True, type=Path,
                        help="the family's joint small-variant VCF (GT, GQ; population AF)")
    parser.add_argument("--ped", required=True, type=Path, help="PED file")
    parser.add_argument("--out", required=True, type=Path, help="UPD table (TSV)")
    parser.add_argument("--roh-out", type=Path, help="ROH segments of every member (TSV)")
    parser.add_argument("--family", help="only this family of the PED")
    parser.add_argument("--af-tag", default="GNOMADAF",
                        help="INFO tag with the population allele frequency")
    parser.add_argument("--min-gq", type=float, default=UpdParams.min_gq)
    parser.add_argument("--min-sites", type=int, default=UpdParams.min_sites,
                        help="supporting sites needed for a call (default: %(default)s)")
    parser.add_argument("--min-fraction", type=float, default=UpdParams.min_fraction,
                        help="share of informative sites needed (default: %(default)s)")
    parser.add_argument("--chrx", default="chrX")
    parser.add_argument("--chry", default="chrY")
    parser.set_defaults(func=run)
