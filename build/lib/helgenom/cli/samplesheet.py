"""helgenom samplesheet: sheets from a FASTQ folder (helgenom.sheets.builder)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom.errors import InputError
from helgenom.sheets import builder
from helgenom.sheets.builder import build_sheets


def run(args: argparse.Namespace) -> int:
    try:
        pairs, notes = build_sheets(args.fastq_dir, args.units_out, args.samples_out,
                                    args.family, args.gmc, args.force)
    except InputError as exc:
        print(exc, file=sys.stderr)
        return 2
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    samples = list(dict.fromkeys(p.sample for p in pairs))
    print(f"{args.units_out}: {len(samples)} samples, {len(pairs)} units from "
          f"{2 * len(pairs)} FASTQ files (instruments "
          f"{', '.join(sorted({p.instrument for p in pairs}))}; flowcells "
          f"{', '.join(sorted({p.flowcell for p in pairs}))})")
    empty = ["family"] * (args.family is None) + ["sex", "phenotype"] + ["gmc"] * (
        args.gmc is None)
    print(f"{args.samples_out}: template of {len(samples)} samples; fill {', '.join(empty)} "
          "(and father, mother, hpo), then run `helgenom validate`")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `samplesheet` subcommand."""
    p = sub.add_parser("samplesheet", help="build units.tsv and a samples.tsv template from a "
                       "folder of Illumina FASTQs", description=builder.__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fastq-dir", type=Path, required=True, metavar="DIR",
                   help="folder of {sample}_S{n}_L{lane}_R{1,2}_001.fastq.gz (searched "
                   "recursively)")
    p.add_argument("--units-out", type=Path, default=Path("units.tsv"), metavar="TSV",
                   help="units sheet to write (default: units.tsv)")
    p.add_argument("--samples-out", type=Path, default=Path("samples.tsv"), metavar="TSV",
                   help="samples template to write (default: samples.tsv)")
    p.add_argument("--family", help="family ID of every sample (default: left empty)")
    p.add_argument("--gmc", metavar="SITE", help="GMC site of every sample (default: empty)")
    p.add_argument("--force", action="store_true", help="overwrite existing output sheets")
    p.set_defaults(func=run)
