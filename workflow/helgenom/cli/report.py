"""helgenom report: a family's clinical report as one HTML file (engine: helgenom.report.html)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom.errors import InputError
from helgenom.report import html
from helgenom.report.html import MAX_CANDIDATES, ReportInputs, write_report
from helgenom.report.reads import DEFAULT_TOP, Alignment


def error_lines(command: str, error: InputError | OSError) -> list[str]:
    """One line per problem, each naming its file."""
    if isinstance(error, InputError):
        return [f"helgenom {command}: {problem}" for problem in error.problems]
    where = f"{error.filename}: " if error.filename else ""
    return [f"helgenom {command}: {where}{error.strerror or error}"]


def run(args: argparse.Namespace) -> int:
    inputs = ReportInputs(args.family, args.candidates, args.qc, args.ped, upd=args.upd,
                          roh=args.roh, cnv=args.cnv, sv=args.sv, max_rows=args.max_rows,
                          alignments=tuple(args.alignment), fasta=args.fasta,
                          reads_top=args.reads_top, repeats=args.repeats, smn=args.smn)
    try:
        loaded = write_report(inputs, args.out)
    except (InputError, OSError) as error:
        print("\n".join(error_lines("report", error)), file=sys.stderr)
        return 2
    count = loaded.candidates.total
    shown = f"{args.max_rows} of {count}" if 0 < args.max_rows < count else str(count)
    print(f"helgenom report: family {args.family}, QC {loaded.qc.verdict}, {shown} candidates "
          f"-> {args.out}", file=sys.stderr)
    return 0


def row_count(text: str) -> int:
    """A --max-rows value: a whole number >= 0."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number >= 0: {text!r}")
    return int(text)


def alignment(text: str) -> Alignment:
    """An --alignment value: SAMPLE=PATH."""
    sample, sep, path = text.partition("=")
    if not sep or not sample or not path:
        raise argparse.ArgumentTypeError(f"not SAMPLE=PATH: {text!r}")
    return Alignment(sample, Path(path))


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `report` subcommand."""
    parser = sub.add_parser("report", help="a family's clinical report: one self-contained "
                            "HTML file", description=html.__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", required=True, help="family ID (as in the PED)")
    parser.add_argument("--candidates", required=True, type=Path,
                        help="the family's candidate list (helgenom rank)")
    parser.add_argument("--qc", required=True, type=Path, help="the family's QC JSON (helgenom qc)")
    parser.add_argument("--ped", required=True, type=Path, help="PED file with the family")
    parser.add_argument("--upd", type=Path, help="UPD table (helgenom upd)")
    parser.add_argument("--roh", type=Path, help="ROH segments (helgenom upd --roh-out)")
    parser.add_argument("--cnv", type=Path, help="depth CNV VCF (helgenom cnv)")
    parser.add_argument("--sv", type=Path, help="the family's ranked SV VCF")
    parser.add_argument("--max-rows", type=row_count, default=MAX_CANDIDATES,
                        help="candidates on the page, best first; 0: all (a whole-genome list "
                        "of thousands makes a page of tens of MB) (default: %(default)s)")
    parser.add_argument("--alignment", type=alignment, action="append", default=[],
                        metavar="SAMPLE=PATH", help="a member's BAM or CRAM (indexed), for the "
                        "read pileups of the top candidates; repeat for each member")
    parser.add_argument("--fasta", type=Path, help="the reference FASTA (needed for CRAM)")
    parser.add_argument("--reads-top", type=row_count, default=DEFAULT_TOP, metavar="N",
                        help="candidates with read pileups, best first (default: %(default)s)")
    parser.add_argument("--repeats", type=Path,
                        help="the family's repeat expansions (helgenom repeats)")
    parser.add_argument("--smn", type=Path,
                        help="the family's SMN1/SMN2 copy numbers (helgenom smn)")
    parser.add_argument("--out", required=True, type=Path, help="the HTML file to write")
    parser.set_defaults(func=run)
