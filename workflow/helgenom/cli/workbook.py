"""helgenom workbook: the clinicians' Excel workbook (engine: helgenom.report.workbook)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom.errors import InputError
from helgenom.rank.candidates import RankOptions, parse_hpo
from helgenom.rank.model import RankModelError, load_rank_model
from helgenom.report import workbook
from helgenom.report.workbook import RankModelInfo, WorkbookInputs, write_workbook


def model_info(kind: str, path: str) -> RankModelInfo:
    """Name, version and categories of the rank model file `path` (RankModelError if bad)."""
    model = load_rank_model(path)
    return RankModelInfo(kind, model.name, model.version, Path(path).name,
                         tuple(model.categories))


def run(args: argparse.Namespace) -> int:
    try:
        inputs = WorkbookInputs(
            args.candidates, args.qc, args.ped, args.vcf, hpo=parse_hpo(args.hpo),
            rank_models=[model_info("SNV", args.rank_model or RankOptions.rank_model),
                         model_info("SV", args.sv_rank_model or RankOptions.sv_rank_model)])
        count = write_workbook(inputs, args.out)
    except InputError as error:
        for problem in error.problems:
            print(f"helgenom workbook: {problem}", file=sys.stderr)
        return 2
    except RankModelError as error:
        print(f"helgenom workbook: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # the output: a folder that cannot be made, a full disk
        print(f"helgenom workbook: {error.filename or args.out}: {error.strerror or error}",
              file=sys.stderr)
        return 2
    print(f"helgenom workbook: {count} candidates -> {args.out}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `workbook` subcommand."""
    parser = sub.add_parser("workbook", help="the candidate list, QC and run as an Excel "
                            "workbook for clinicians", description=workbook.__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", required=True, type=Path,
                        help="the family's candidate list (helgenom rank)")
    parser.add_argument("--qc", required=True, type=Path, help="the family's QC JSON (helgenom qc)")
    parser.add_argument("--ped", required=True, type=Path, help="PED file with the family")
    parser.add_argument("--vcf", required=True, type=Path,
                        help="the family's ranked VCF (helgenom rank): its header is read")
    parser.add_argument("--out", required=True, type=Path, help="the workbook (.xlsx)")
    parser.add_argument("--hpo", action="append", default=[], metavar="FAMILY:HP:0000001,...",
                        help="the affected members' HPO terms, per family, as given to "
                        "helgenom rank (repeatable)")
    parser.add_argument("--rank-model", help="the rank model (.ini) helgenom rank scored small "
                        "variants with, when the ranked VCF's header does not name it "
                        "(default: helgenom rank's)")
    parser.add_argument("--sv-rank-model", help="the same for SVs (default: helgenom rank's)")
    parser.set_defaults(func=run)
