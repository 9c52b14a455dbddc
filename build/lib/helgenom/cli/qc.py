"""helgenom qc: per-sample and per-family QC verdicts (engine: helgenom.qc.verdict)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from helgenom.errors import InputError
from helgenom.qc import verdict
from helgenom.qc.verdict import run_qc
from helgenom.sheets.thresholds import PRESETS, merge_thresholds


def run(args: argparse.Namespace) -> int:
    try:
        thresholds = merge_thresholds(
            PRESETS[args.preset],
            json.loads(Path(args.thresholds).read_text()) if args.thresholds else None,
            json.loads(args.thresholds_json) if args.thresholds_json else None,
        )
        result = run_qc(args.family, args.ped, args.vcf, args.qc_dir, args.out, args.mqc_dir,
                        thresholds, chrx=args.chrx, chry=args.chry, par=args.par,
                        af_tag=args.af_tag)
    except (InputError, ValueError, OSError) as error:
        print(f"helgenom qc: {error}", file=sys.stderr)
        return 2
    summary = "; ".join(result.reasons[:3]) + (" ..." if len(result.reasons) > 3 else "")
    print(f"QC {result.family}: {result.family_verdict}" + (f" - {summary}" if summary else ""))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `qc` subcommand."""
    parser = sub.add_parser("qc", help="per-sample and per-family QC verdicts with reasons",
                            description=verdict.__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", required=True, help="family ID (as in the PED)")
    parser.add_argument("--ped", required=True, type=Path, help="PED file with the family")
    parser.add_argument("--vcf", required=True, type=Path,
                        help="the family's joint small-variant VCF (GT, GQ, AD; population AF)")
    parser.add_argument("--qc-dir", required=True, type=Path,
                        help="the workflow's qc/ folder (fastp, samtools, markdup, mosdepth)")
    parser.add_argument("--out", required=True, type=Path,
                        help="output TSV (the JSON is written next to it)")
    parser.add_argument("--mqc-dir", type=Path, help="folder for MultiQC custom content")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default",
                        help="threshold set: GMS-like clinical defaults, or the simulated demo's")
    parser.add_argument("--thresholds", type=Path,
                        help="JSON with thresholds overriding the preset, key by key")
    parser.add_argument("--thresholds-json", metavar="JSON",
                        help="the same, inline (the workflow passes config qc.thresholds)")
    parser.add_argument("--chrx", default="chrX")
    parser.add_argument("--chry", default="chrY")
    parser.add_argument("--par", action="append", default=[], metavar="CHROM:START-END",
                        help="pseudo-autosomal region (repeatable)")
    parser.add_argument("--af-tag", default="GNOMADAF",
                        help="INFO tag with the population allele frequency")
    parser.set_defaults(func=run)
