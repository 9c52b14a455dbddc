"""helgenom scout-config: a family's Scout load config (engine: helgenom.report.scout)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom.errors import InputError, Problem
from helgenom.rank.candidates import RankOptions, parse_hpo
from helgenom.rank.model import RankModelError, load_rank_model
from helgenom.report import scout
from helgenom.report.scout import GENOME_BUILDS, ScoutInputs, write_scout_config

PROG = "helgenom scout-config"


def parse_alignments(values: list[str]) -> dict[str, Path]:
    """['SAMPLE=PATH', ...] -> {SAMPLE: PATH}; InputError naming the option when malformed."""
    alignments: dict[str, Path] = {}
    for value in values:
        sample, sep, path = value.partition("=")
        if not sep or not sample or not path:
            raise InputError([Problem("--alignments", None, None, value,
                                      "expected SAMPLE=PATH")])
        if sample in alignments:
            raise InputError([Problem("--alignments", None, None, sample,
                                      "sample given twice")])
        alignments[sample] = Path(path)
    return alignments


def model_version(version: str | None, path: str | None, default: str) -> str:
    """The version given, else the one the rank model file (default: helgenom rank's) names."""
    return version or load_rank_model(path or default).version


def _inputs(args: argparse.Namespace) -> ScoutInputs:
    return ScoutInputs(
        family=args.family, ped=args.ped, qc=args.qc, owner=args.owner,
        snv_clinical=args.snv_clinical, snv_research=args.snv_research,
        sv_clinical=args.sv_clinical, sv_research=args.sv_research,
        alignments=parse_alignments(args.alignments), multiqc=args.multiqc,
        genome_build=args.genome_build,
        rank_model_version=model_version(args.rank_model_version, args.rank_model,
                                         RankOptions.rank_model),
        sv_rank_model_version=model_version(args.sv_rank_model_version, args.sv_rank_model,
                                            RankOptions.sv_rank_model),
        rank_score_threshold=args.rank_score_threshold,
        hpo=parse_hpo(args.hpo).get(args.family, []), panels=args.panel,
        str_vcf=args.str_vcf, smn_tsv=args.smn_tsv)


def run(args: argparse.Namespace) -> int:
    try:
        written = write_scout_config(_inputs(args), args.out, args.peddy_dir,
                                     relative=args.paths == "relative")
    except InputError as error:
        for problem in error.problems:
            print(f"{PROG}: {problem}", file=sys.stderr)
        return 2
    except RankModelError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # an output folder that cannot be made, a full disk
        print(f"{PROG}: {error.filename or args.out}: {error.strerror or error}",
              file=sys.stderr)
        return 2
    if args.rank_score_threshold == 0:
        print(f"{PROG}: warning: Scout reads a rank score threshold of 0 as unset and then "
              "loads only variants scoring above 5; give -1 to load every variant from 0 up",
              file=sys.stderr)
    print(f"{PROG}: family {args.family}: {written.members} members, {written.pairs} kinship "
          f"pairs, {written.sex_checks} sex checks -> {written.config} "
          f"(load with: scout load case {written.config})", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `scout-config` subcommand."""
    p = sub.add_parser("scout-config", help="a family's Scout load config, with its QC as the "
                       "peddy files Scout reads", description=scout.__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--family", required=True, help="the family (case) ID")
    p.add_argument("--ped", required=True, type=Path, help="PED file with the family")
    p.add_argument("--qc", required=True, type=Path, help="the family's QC JSON (helgenom qc)")
    p.add_argument("--owner", required=True,
                   help="the Scout institute that owns the case (it must exist in Scout)")
    p.add_argument("--snv-clinical", required=True, type=Path,
                   help="ranked small-variant VCF Scout loads with the case (helgenom rank)")
    p.add_argument("--snv-research", type=Path,
                   help="small-variant VCF Scout loads when research is requested")
    p.add_argument("--sv-clinical", type=Path, help="ranked SV VCF loaded with the case")
    p.add_argument("--sv-research", type=Path, help="SV VCF loaded when research is requested")
    p.add_argument("--str-vcf", type=Path, help="the family's repeat expansions: ExpansionHunter "
                   "calls annotated by Stranger (indexed VCF)")
    p.add_argument("--smn-tsv", type=Path, help="the family's SMN1/SMN2 copy numbers "
                   "(helgenom smn)")
    p.add_argument("--alignments", nargs="+", default=[], action="extend",
                   metavar="SAMPLE=PATH", help="each member's BAM or CRAM (shown in IGV)")
    p.add_argument("--multiqc", type=Path, help="the MultiQC report (HTML)")
    p.add_argument("--genome-build", choices=GENOME_BUILDS, default="38",
                   help="the reference build (default: 38)")
    for kind, name in (("", "small variants"), ("sv-", "SVs")):
        group = p.add_mutually_exclusive_group()
        group.add_argument(f"--{kind}rank-model", metavar="INI",
                           help=f"the rank model helgenom rank scored {name} with: its "
                           "[Version] is the case's version (default: helgenom rank's model)")
        group.add_argument(f"--{kind}rank-model-version", metavar="VERSION",
                           help=f"the version of the rank model of {name}, instead of a file")
    p.add_argument("--rank-score-threshold", type=int, default=5, metavar="N",
                   help="Scout loads the clinical variants scoring above N (default: 5, "
                   "Scout's own; Scout reads 0 as unset)")
    p.add_argument("--hpo", action="append", default=[], metavar="FAMILY:HP:0000001,...",
                   help="the affected members' HPO terms, per family, as given to helgenom "
                   "rank (repeatable; the family's are the case's phenotype terms)")
    p.add_argument("--panel", action="append", default=[], metavar="NAME",
                   help="a Scout gene panel of the case, shown by default (repeatable; "
                   "it must exist in Scout)")
    p.add_argument("--peddy-dir", type=Path,
                   help="folder of the QC files F.peddy.ped, F.ped_check.csv and "
                   "F.sex_check.csv (default: the config's)")
    p.add_argument("--paths", choices=("absolute", "relative"), default="absolute",
                   help="paths in the config: absolute (default), or relative to the config's "
                   "folder, for `scout load case` run in that folder")
    p.add_argument("--out", required=True, type=Path,
                   help="the load config to write (results/FAMILY/FAMILY.scout.yaml)")
    p.set_defaults(func=run)
