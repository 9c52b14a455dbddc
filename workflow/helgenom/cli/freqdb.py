"""helgenom freqdb: the GMC's variant frequency database (loqusdb-compatible, embedded).

    helgenom freqdb load --db DIR --vcf FAMILY.vcf.gz --ped FAMILY.ped --case-id ID
                         [--sv SV.vcf.gz] [--gq-threshold 20] [--qc FAMILY.qc.json]
                         [--par CHROM:START-END ...] [--profile-vcf SITES.vcf.gz]
                         [--sv-distance 500] [--build NAME] [--skip-failed-qc]
                         [--receipt LOAD.json]
    helgenom freqdb export --db DIR --out FILE.vcf.gz [--sv]
    helgenom freqdb merge --out FILE.vcf.gz EXPORT1.vcf.gz EXPORT2.vcf.gz ...
    helgenom freqdb annotate --db DIR --vcf IN.vcf.gz --out OUT.vcf.gz --case-id ID [--sv]
    helgenom freqdb stats --db DIR

(engine: helgenom.freqdb; see its modules for what is counted and how it is stored)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from helgenom.errors import InputError
from helgenom.freqdb import annotate as annotate_module
from helgenom.freqdb import export as export_module
from helgenom.freqdb import load as load_module
from helgenom.freqdb import store
from helgenom.freqdb.keys import parse_par


def _receipt(path: Path | None, document: dict[str, object]) -> None:
    """The load's outcome as JSON (written under a temporary name, then renamed)."""
    if path is None:
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(document, indent=1) + "\n")
    tmp.replace(path)


def _load(args: argparse.Namespace) -> int:
    pars = [parse_par(text) for text in args.par or []]
    common = {"case": args.case_id, "database": str(args.db), "vcf": str(args.vcf)}
    try:
        result = load_module.load_case(args.db, args.vcf, args.ped, args.case_id,
                                       sv_vcf=args.sv, gq_threshold=args.gq_threshold,
                                       qc=args.qc, pars=pars, profile_vcf=args.profile_vcf,
                                       sv_distance=args.sv_distance, build=args.build)
    except load_module.QcFailed as error:
        if not args.skip_failed_qc:
            raise
        print(f"helgenom freqdb: case {args.case_id} not loaded: {error.problems[0]}",
              file=sys.stderr)
        _receipt(args.receipt, {**common, "status": "skipped", "qc": "FAIL",
                                "reason": str(error.problems[0])})
        return 0
    _receipt(args.receipt, {**common, "status": "replaced" if result.replaced else "loaded",
                            "qc": result.qc, "samples": result.samples,
                            "variants": result.variants, "hom": result.hom, "hem": result.hem,
                            "svs": result.svs, "cases": result.cases})
    action = "replaced" if result.replaced else "loaded"
    svs = f", {result.svs:,} SVs" if args.sv else ""
    print(f"helgenom freqdb: {action} case {result.case} ({len(result.samples)} samples): "
          f"{result.variants:,} variants ({result.hom:,} hom, {result.hem:,} hem){svs}; "
          f"{result.cases:,} cases in {args.db}", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    written = export_module.export(args.db, args.out, sv=args.sv)
    print(f"helgenom freqdb: {written.records:,} {'SV clusters' if args.sv else 'variants'} "
          f"of {written.cases:,} cases -> {written.path}", file=sys.stderr)
    return 0


def _merge(args: argparse.Namespace) -> int:
    written = export_module.merge(args.out, args.exports, sv_distance=args.sv_distance)
    print(f"helgenom freqdb: {len(args.exports)} exports, {written.cases:,} cases, "
          f"{written.records:,} records -> {written.path}", file=sys.stderr)
    return 0


def _annotate(args: argparse.Namespace) -> int:
    done = annotate_module.annotate(args.db, args.vcf, args.out, case_id=args.case_id,
                                    sv=args.sv)
    if done.empty:
        print(f"helgenom freqdb: WARNING: no database at {args.db} yet (its first load makes "
              "it): no record annotated", file=sys.stderr)
    own = f"case {args.case_id} left out" if done.excluded else f"case {args.case_id} not loaded"
    print(f"helgenom freqdb: {done.annotated:,} of {done.records:,} records seen in "
          f"{done.cases:,} cases ({own}) -> {done.path}", file=sys.stderr)
    return 0


def _stats(args: argparse.Namespace) -> int:
    print(json.dumps(store.stats(args.db), indent=1))
    return 0


HANDLERS = {"load": _load, "export": _export, "merge": _merge, "annotate": _annotate,
            "stats": _stats}


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    try:
        code = HANDLERS[args.freqdb_command](args)
    except InputError as error:
        print(f"helgenom freqdb {args.freqdb_command}: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"helgenom freqdb {args.freqdb_command}: {error}", file=sys.stderr)
        return 2
    if args.freqdb_command != "stats":
        print(f"helgenom freqdb {args.freqdb_command}: {time.perf_counter() - start:.1f} s",
              file=sys.stderr)
    return code


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `freqdb` subcommand and its own subcommands."""
    parser = sub.add_parser("freqdb", help="the GMC's variant frequency database "
                            "(loqusdb-compatible): load, export, merge, annotate, stats",
                            description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=run)
    commands = parser.add_subparsers(dest="freqdb_command", required=True, metavar="COMMAND")

    load = commands.add_parser("load", help="count a family's variants as one case",
                               description=load_module.__doc__,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    load.add_argument("--db", required=True, type=Path, help="database directory (made "
                      "by the first load)")
    load.add_argument("--vcf", required=True, type=Path, help="the family's VCF(.gz)/BCF")
    load.add_argument("--ped", required=True, type=Path, help="the family's PED (sex, members)")
    load.add_argument("--case-id", required=True, help="the case ID (loading it again "
                      "replaces the case)")
    load.add_argument("--sv", type=Path, help="the family's SV VCF (symbolic ALT, INFO/SVTYPE "
                      "and END)")
    load.add_argument("--gq-threshold", type=int, default=load_module.DEFAULT_GQ,
                      help="a call counts with GQ >= this (default %(default)s)")
    load.add_argument("--qc", type=Path, help="helgenom qc JSON: a family that failed QC is "
                      "refused")
    load.add_argument("--par", action="append", metavar="CHROM:START-END",
                      help="a pseudo-autosomal region (repeatable; default none)")
    load.add_argument("--profile-vcf", type=Path, help="profile sites (biallelic SNVs); "
                      "default: sites taken from the VCF itself (see helgenom.freqdb.profile)")
    load.add_argument("--sv-distance", type=int, help="SVs cluster with both ends within "
                      "this many bp; set by the database's first load (default "
                      f"{load_module.DEFAULT_SV_DISTANCE})")
    load.add_argument("--build", help="the reference build's name (export's ##reference; "
                      "default: the VCF's ##reference file name)")
    load.add_argument("--skip-failed-qc", action="store_true", help="a family whose QC "
                      "verdict is FAIL is not loaded and the command succeeds (default: fails)")
    load.add_argument("--receipt", type=Path, help="write the outcome here as JSON (loaded, "
                      "replaced or skipped; counts)")

    export = commands.add_parser("export", help="the counts as a loqusdb-style VCF",
                                 description=export_module.__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument("--db", required=True, type=Path)
    export.add_argument("--out", required=True, type=Path, help="VCF.gz to write (and .tbi)")
    export.add_argument("--sv", action="store_true", help="the SV clusters instead")

    merge = commands.add_parser("merge", help="sum several GMCs' exports into one",
                                description=export_module.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    merge.add_argument("--out", required=True, type=Path, help="VCF.gz to write (and .tbi)")
    merge.add_argument("--sv-distance", type=int, default=500,
                       help="SV exports: clusters within this many bp join (default 500)")
    merge.add_argument("exports", nargs="+", type=Path, help="loqusdb-style exports")

    annotate = commands.add_parser("annotate", help="add Obs/Hom/Hem/Frq to a family's VCF",
                                   description=annotate_module.__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    annotate.add_argument("--db", required=True, type=Path)
    annotate.add_argument("--vcf", required=True, type=Path, help="VCF(.gz)/BCF to annotate")
    annotate.add_argument("--out", required=True, type=Path, help="VCF.gz to write (and .tbi)")
    annotate.add_argument("--case-id", required=True, help="the family's case: its own "
                          "observations are left out")
    annotate.add_argument("--sv", action="store_true", help="an SV VCF: counts of the SV "
                          "clusters")

    stats = commands.add_parser("stats", help="cases, variants, size on disk (JSON)")
    stats.add_argument("--db", required=True, type=Path)
    for command in (load, export, merge, annotate, stats):
        command.set_defaults(func=run)
