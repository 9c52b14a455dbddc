"""helgenom panel-vcf: a ranked VCF's records in the panel genes (Scout's clinical VCF)."""

from __future__ import annotations

import argparse
import sys

from helgenom.errors import InputError
from helgenom.rank.candidates import read_gene_list
from helgenom.report import panel_vcf
from helgenom.report.panel_vcf import panel_vcf as write_panel_vcf


def run(args: argparse.Namespace) -> int:
    try:
        genes = read_gene_list(args.panel)
        kept, total = write_panel_vcf(args.vcf, genes, args.out)
    except InputError as error:
        print(f"helgenom panel-vcf: {error}", file=sys.stderr)
        return 2
    print(f"helgenom panel-vcf: {kept} of {total} records in {len(genes)} panel genes -> "
          f"{args.out}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `panel-vcf` subcommand."""
    parser = sub.add_parser("panel-vcf", help="the records of a ranked VCF in the panel "
                            "genes (Scout's clinical VCF)", description=panel_vcf.__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vcf", required=True, help="ranked VCF(.gz) with INFO/CSQ")
    parser.add_argument("--panel", required=True, help="gene panel (one symbol per line)")
    parser.add_argument("--out", required=True, help="clinical VCF.gz to write (and .tbi)")
    parser.set_defaults(func=run)
