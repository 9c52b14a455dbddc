"""helgenom workbook: the clinicians' Excel workbook (engine: helgenom.report.workbook)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom.cli.report import row_count
from helgenom.errors import InputError
from helgenom.rank.candidates import RankOptions, parse_hpo
from helgenom.rank.model import RankModelError, load_rank_model
from helgenom.report import workbook
from helgenom.report.workbook import MAX_ROWS, RankModelInfo, WorkbookInputs, write_workbook


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
                         model_info("SV", args.sv_rank_model or RankOptions.sv_rank_model)],
            max_rows=args.max_rows, repeats=args.repeats, smn=args.smn)
        loaded = write_workbook(inputs, args.out)
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
    total = loaded.candidates.total
    shown = f"{len(loaded.shown)} of {total}" if len(loaded.shown) < total else str(total)
    print(f"helgenom workbook: {shown} candidates -> {args.out}", file=sys.stderr)
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
    parser.add_argument("--repeats", type=Path,
                        help="the family's repeat expansions (helgenom repeats): a Repeats sheet")
    parser.add_argument("--smn", type=Path,
                        help="the family's SMN1/SMN2 copy numbers (helgenom smn): in the Repeats "
                        "sheet")
    parser.add_argument("--max-rows", type=row_count, default=MAX_ROWS,
                        help="candidates in the Candidates sheet, best first; 0: all, up to "
                        "Excel's 1,048,576 rows (the sheet says when the list is cut; the full "
                        "list stays in the candidate list) (default: %(default)s)")
    parser.add_argument("--hpo", action="append", default=[], metavar="FAMILY:HP:0000001,...",
                        help="the affected members' HPO terms, per family, as given to "
                        "helgenom rank (repeatable)")
    parser.add_argument("--rank-model", help="the rank model (.ini) helgenom rank scored small "
                        "variants with, when the ranked VCF's header does not name it "
                        "(default: helgenom rank's)")
    parser.add_argument("--sv-rank-model", help="the same for SVs (default: helgenom rank's)")
    parser.set_defaults(func=run)
