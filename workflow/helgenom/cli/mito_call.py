"""helgenom mito-call: chrM calls with heteroplasmy levels (engine: helgenom.mito.call)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom.errors import InputError, Problem
from helgenom.mito import call
from helgenom.mito.call import MitoParams, write_calls


def run(args: argparse.Namespace) -> int:
    params = MitoParams(min_af=args.min_af, min_alt_reads=args.min_alt_reads)
    try:
        problems = params.problems()
        if problems:
            raise InputError(problems)
        if str(args.pileup) == "-":
            counts = write_calls(sys.stdin, args.out, params, "-")
        else:
            if not args.pileup.is_file():
                raise InputError([Problem(str(args.pileup), 0, "--pileup", None,
                                          "file not found")])
            with args.pileup.open(encoding="utf-8", errors="replace") as handle:
                counts = write_calls(handle, args.out, params, str(args.pileup))
    except InputError as error:
        print(f"helgenom mito-call: {error}", file=sys.stderr)
        return 2
    print(f"helgenom mito-call: {counts.records} calls at {counts.positions} positions "
          f"(heteroplasmy >= {params.min_af:g}, >= {params.min_alt_reads} reads) -> {args.out}",
          file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `mito-call` subcommand."""
    parser = sub.add_parser("mito-call", help="mitochondrial calls with heteroplasmy levels",
                            description=call.__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pileup", required=True, type=Path,
                        help="VCF text of `bcftools mpileup -a FORMAT/AD,FORMAT/DP` over chrM "
                             "(all sites), '-' for standard input")
    parser.add_argument("--out", required=True, type=Path, help="the calls (BCF, indexed)")
    parser.add_argument("--min-af", type=float, default=MitoParams.min_af,
                        help="lowest heteroplasmy level called (default: %(default)s)")
    parser.add_argument("--min-alt-reads", type=int, default=MitoParams.min_alt_reads,
                        help="fewest ALT reads of a call (default: %(default)s)")
    parser.set_defaults(func=run)
