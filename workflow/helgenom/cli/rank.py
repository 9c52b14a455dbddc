"""helgenom rank: inheritance models and a ranked candidate list (engine: helgenom.rank)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from concurrent.futures import BrokenExecutor
from dataclasses import fields

from helgenom.errors import InputError
from helgenom.rank import candidates
from helgenom.rank.candidates import RankOptions, parse_hpo, read_gene_list
from helgenom.rank.inheritance import Gates
from helgenom.rank.model import RankModelError
from helgenom.rank.run import rank_to_files


def run(args: argparse.Namespace) -> int:
    gates = Gates(**{f.name: getattr(args, f.name) for f in fields(Gates)
                     if f.name != "enabled" and getattr(args, f.name, None) is not None},
                  enabled=not args.no_gates)
    try:
        opts = RankOptions(af_tag=args.af_tag, max_af=args.max_af, gates=gates, chrx=args.chrx,
                           chry=args.chry, par=args.par, sv=args.sv, gff3=args.gff3,
                           fasta=args.fasta,
                           reduced_penetrance=read_gene_list(args.reduced_penetrance),
                           panel=read_gene_list(args.panel), panel_mode=args.panel_mode,
                           hpo=parse_hpo(args.hpo), qc=args.qc,
                           candidates_out=args.candidates_out)
        opts.rank_model = args.rank_model or opts.rank_model
        opts.sv_rank_model = args.sv_rank_model or opts.sv_rank_model
        count = rank_to_files(args.vcf, args.ped, args.out, opts)
    except (InputError, RankModelError, ValueError, OSError, subprocess.CalledProcessError,
            BrokenExecutor) as error:
        for line in _error_lines(error):
            print(f"helgenom rank: {line}", file=sys.stderr)
        return 2
    print(f"helgenom rank: {count} candidates -> "
          f"{args.candidates_out or args.out + '.candidates.tsv'}, "
          f"{args.out}.vcf.gz", file=sys.stderr)
    return 0


def _error_lines(error: Exception) -> list[str]:
    """One line per problem, each naming the file (or option) it is about."""
    if isinstance(error, InputError):
        return [str(problem) for problem in error.problems]
    if isinstance(error, OSError) and error.filename:
        return [f"{error.filename}: {error.strerror or error}"]
    if isinstance(error, subprocess.CalledProcessError):
        command = error.cmd if isinstance(error.cmd, str) else " ".join(map(str, error.cmd))
        said = (error.stderr or "").strip().splitlines()[-1:] if isinstance(
            error.stderr, str) else []
        return [f"{command}: exit status {error.returncode}{': ' + said[0] if said else ''}"]
    if isinstance(error, BrokenExecutor):
        return [f"a worker process ended abruptly (out of memory?): {error}"]
    return [str(error).replace("\n", " ")]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("rank", help="inheritance models and a ranked candidate list",
                            description=candidates.__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vcf", required=True, help="joint VCF/BCF (bcftools csq annotated)")
    parser.add_argument("--ped", required=True, help="PED file: one or many families")
    parser.add_argument("--out", required=True, help="output prefix")
    parser.add_argument("--candidates-out", metavar="TSV",
                        help="the candidate list (default: PREFIX.candidates.tsv)")
    parser.add_argument("--sv", help="SV VCF of the same samples, ranked with the small variants")
    parser.add_argument("--gff3", help="gene models (Ensembl-style GFF3): HGVS, the VEP-style "
                        "CSQ of the ranked VCFs, SV gene overlap")
    parser.add_argument("--fasta", help="reference FASTA (with .fai) for HGVS (default: the "
                        "one the VCF header's ##reference names)")
    parser.add_argument("--reduced-penetrance", metavar="GENES",
                        help="genes (one per line) where AD allows unaffected carriers")
    parser.add_argument("--panel", metavar="GENES", help="gene panel (one symbol per line)")
    parser.add_argument("--hpo", action="append", default=[], metavar="FAMILY:HP:0000001,...",
                        help="the affected members' HPO terms, per family (repeatable)")
    parser.add_argument("--qc", action="append", default=[], metavar="QC.json",
                        help="helgenom qc result(s): the verdict heads the candidate list")
    parser.add_argument("--rank-model", help="GENMOD rank model (.ini) for small variants "
                        "(default: resources/rank_model/helgenom_snv_v2.ini)")
    parser.add_argument("--sv-rank-model", help="GENMOD rank model (.ini) for SVs "
                        "(default: resources/rank_model/helgenom_sv_v1.ini)")
    parser.add_argument("--panel-mode", choices=("boost", "restrict"), default="boost",
                        help="panel genes first (boost) or only panel genes (restrict)")
    parser.add_argument("--af-tag", default="GNOMADAF", help="INFO tag with population AF")
    parser.add_argument("--max-af", type=float, default=0.01,
                        help="population AF above which a variant is not a candidate")
    parser.add_argument("--chrx", default="chrX")
    parser.add_argument("--chry", default="chrY")
    parser.add_argument("--par", action="append", default=[],
                        help="pseudo-autosomal region CHROM:START-END (repeatable)")
    parser.add_argument("--no-gates", action="store_true", help="turn genotype gates off")
    for f in fields(Gates):
        if f.name != "enabled":
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default),
                                default=None, help=f"genotype gate (default {f.default})")
    parser.set_defaults(func=run)
