"""helgenom cnv: read-depth CNVs of a family (engine: helgenom.sv.cnv)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom.errors import InputError
from helgenom.sv import cnv
from helgenom.sv.cnv import calls_table, run_cnv, vcf_lines, write_vcf
from helgenom.sv.cnv_model import CnvParams


def run(args: argparse.Namespace) -> int:
    params = CnvParams(min_bins=args.min_bins, switch=args.switch, min_qual=args.min_qual)
    cache = "auto" if args.gc_cache is None else (None if args.gc_cache == "none"
                                                  else Path(args.gc_cache))
    try:
        result, _, members = run_cnv(args.family, args.ped, args.bins, args.fasta, params,
                                     args.chrx, args.chry, args.par, cache)
        write_vcf(vcf_lines(result, members, args.fasta), args.out)
    except (InputError, ValueError) as error:  # ValueError: a malformed --par
        print(f"helgenom cnv: {error}", file=sys.stderr)
        return 2
    if args.calls_out:
        calls_table(result).to_csv(args.calls_out, sep="\t", index=False)
    noise = ", ".join(f"{s} {v:.3f}" for s, v in result.sigma.items())
    print(f"helgenom cnv: {len(result.records)} CNVs in family {args.family} "
          f"(per-bin ratio noise: {noise}) -> {args.out}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `cnv` subcommand."""
    parser = sub.add_parser("cnv", help="read-depth CNVs (DEL/DUP) of a family from mosdepth bins",
                            description=cnv.__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", required=True, help="family ID (as in the PED)")
    parser.add_argument("--ped", required=True, type=Path, help="PED file with the family")
    parser.add_argument("--bins", required=True, nargs="+", metavar="[SAMPLE=]BED",
                        help="mosdepth --by bins per member (<SAMPLE>.regions.bed.gz)")
    parser.add_argument("--fasta", required=True, type=Path, help="reference FASTA (with .fai)")
    parser.add_argument("--out", required=True, type=Path, help="output VCF (.vcf.gz, indexed)")
    parser.add_argument("--calls-out", type=Path, help="TSV of each member's own calls")
    parser.add_argument("--min-bins", type=int, default=CnvParams.min_bins,
                        help="minimum bins per call (default: %(default)s)")
    parser.add_argument("--switch", type=float, default=CnvParams.switch,
                        help="HMM probability of a copy-number change per bin "
                             "(default: %(default)s)")
    parser.add_argument("--min-qual", type=float, default=CnvParams.min_qual,
                        help="minimum phred-scaled log-odds of a call (default: %(default)s)")
    parser.add_argument("--chrx", default="chrX")
    parser.add_argument("--chry", default="chrY")
    parser.add_argument("--par", action="append", default=[], metavar="CHROM:START-END",
                        help="pseudo-autosomal region (repeatable)")
    parser.add_argument("--gc-cache", metavar="NPZ|none",
                        help="GC cache file (default: <fasta>.gc<bin>.npz when writable)")
    parser.set_defaults(func=run)
