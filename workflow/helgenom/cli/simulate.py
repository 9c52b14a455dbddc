"""helgenom simulate: the demo trio (helgenom.simulate.demo)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom.freqdb.load import load_case
from helgenom.simulate import demo
from helgenom.simulate.demo import simulate
from helgenom.simulate.scenarios import SCENARIOS


def fill_freqdb(paths: dict[str, Path], db: Path) -> int:
    """Load the demo's background families (`background:<case>:vcf|ped` of `paths`) into the
    frequency database `db`, as the demo config names it; the number of cases loaded."""
    cases = sorted({key.split(":")[1] for key in paths if key.startswith("background:")})
    for case in cases:
        load_case(db, paths[f"background:{case}:vcf"], paths[f"background:{case}:ped"], case)
    return len(cases)


def run(args: argparse.Namespace) -> int:
    paths = simulate(args.outdir, seed=args.seed, size_mb=args.size_mb, depth=args.depth,
                     scenario=args.scenario)
    db = Path(args.outdir) / "reference" / "freqdb"
    loaded = fill_freqdb(paths, db)
    print(f"helgenom simulate: wrote {len(paths)} files under {args.outdir}; {loaded} "
          f"background families in the frequency database {db}", file=sys.stderr)
    print(f"workflow config: {paths['config']} (paths relative to {args.outdir})", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `simulate` subcommand."""
    parser = sub.add_parser(
        "simulate",
        help="write a deterministic synthetic demo trio (reference, reads, truth, sheets)",
        description=demo.__doc__,
    )
    parser.add_argument(
        "--outdir",
        type=Path,
        required=True,
        metavar="DIR",
        help="output directory (the demo's Snakemake working directory)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument(
        "--size-mb",
        type=float,
        default=1.0,
        metavar="FLOAT",
        help="total reference size in Mb (default: 1.0)",
    )
    parser.add_argument(
        "--depth",
        type=float,
        default=25.0,
        metavar="FLOAT",
        help="diploid autosomal mean read depth (default: 25)",
    )
    parser.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default=None,
        help="plant a QC failure: "
        + "; ".join(f"{name}: {text}" for name, text in SCENARIOS.items()).replace("%", "%%")
        + " (default: none, the demo as designed)",
    )
    parser.set_defaults(func=run)
