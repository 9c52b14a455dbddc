"""helgenom fastq-check: a unit's FASTQ pair is whole and fastp read all of it
(helgenom.qc.fastq)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from helgenom.errors import InputError
from helgenom.qc import fastq
from helgenom.qc.fastq import check_unit


def run(args: argparse.Namespace) -> int:
    try:
        result = check_unit(args.fq1, args.fq2, args.fastp_json, args.fastp_log)
    except InputError as error:
        print(f"helgenom fastq-check: {error}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(out)
    print(f"helgenom fastq-check: {result['read_pairs']} read pairs, whole, all read by fastp",
          file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `fastq-check` subcommand."""
    parser = sub.add_parser("fastq-check", help="check a unit's FASTQ pair against fastp's "
                            "counts (fastp exits 0 on truncated or malformed input)",
                            description=fastq.__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fq1", required=True, help="R1 FASTQ(.gz)")
    parser.add_argument("--fq2", required=True, help="R2 FASTQ(.gz)")
    parser.add_argument("--fastp-json", required=True, help="fastp --json report of the unit")
    parser.add_argument("--fastp-log", help="fastp's stderr (its errors are checked too)")
    parser.add_argument("--out", required=True, help="JSON of the counts to write")
    parser.set_defaults(func=run)
