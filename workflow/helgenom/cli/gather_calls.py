"""helgenom gather-calls: a family's calls of its calling regions, concatenated in order and
checked (helgenom.io.regions.gather_calls)."""

from __future__ import annotations

import argparse
import sys

from helgenom.io.regions import GatherError, gather_calls


def run(args: argparse.Namespace) -> int:
    try:
        records = gather_calls(args.parts, args.out)
    except GatherError as error:
        print(f"helgenom gather-calls: {args.out}: {error}", file=sys.stderr)
        return 1
    print(f"{args.out}: {records} records from {len(args.parts)} parts")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "gather-calls", help="concatenate per-region BCFs in order, checking record counts",
        description="Concatenate BCFs of disjoint, ordered regions (bcftools concat, not -a) "
        "into one indexed BCF; fails when the records written differ from the sum of the "
        "parts' records (from their indexes) or bcftools reports an error.")
    parser.add_argument("--out", required=True, help="BCF to write (and its .csi)")
    parser.add_argument("parts", nargs="+", help="BCFs in the order to concatenate")
    parser.set_defaults(func=run)
