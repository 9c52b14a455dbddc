"""helgenom ploidy: bcftools ploidy and sex files (helgenom.io.reference)."""

from __future__ import annotations

import argparse
from pathlib import Path

from helgenom.io.reference import cnv_map_lines, ploidy_lines


def run(args: argparse.Namespace) -> int:
    if args.out:
        Path(args.out).write_text("\n".join(ploidy_lines(args.chrx, args.chry, args.par)) + "\n")
    if args.ped:
        from helgenom.sheets.pedigree import read_ped

        samples = [(ind.sample, ind.sex) for family in read_ped(args.ped).values()
                   for ind in family.members]
        if args.sexes_out:
            # bcftools call -S: one `sample sex` line per sample; unknown sex is called diploid.
            rows = [f"{sample}\t{'M' if sex == 'male' else 'F'}" for sample, sex in samples]
            Path(args.sexes_out).write_text("\n".join(rows) + "\n")
        if args.cnv_map_out:
            lines = cnv_map_lines(samples, args.chrx, args.chry, args.par)
            Path(args.cnv_map_out).write_text("\n".join(lines) + "\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ploidy", help="write a bcftools --ploidy-file (male X/Y haploid)")
    parser.add_argument("--chrx", default="chrX")
    parser.add_argument("--chry", default="chrY")
    parser.add_argument("--par", action="append", default=[], help="PAR region CHROM:START-END")
    parser.add_argument("--out", help="bcftools --ploidy-file to write")
    parser.add_argument("--ped", help="PED file of the samples (for --sexes-out, --cnv-map-out)")
    parser.add_argument("--sexes-out", help="write `sample M|F` lines for bcftools call -S")
    parser.add_argument("--cnv-map-out", help="write a freebayes --cnv-map with the same ploidy")
    parser.set_defaults(func=run)
