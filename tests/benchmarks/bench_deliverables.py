#!/usr/bin/env python3
"""Benchmark the clinicians' deliverables of a whole-genome family: `helgenom report`,
`helgenom workbook` and `helgenom scout-config` on a 5M-record ranked VCF and its candidates.

    python tests/benchmarks/bench_deliverables.py [--ranked PREFIX] [--records 5000000]
                                                  [--workdir DIR]

What it does:

1. Takes the outputs of `bench_rank.py --records N --genmod-records 0 --keep`: PREFIX.vcf.gz
   (.tbi) and PREFIX.candidates.tsv, given as --ranked PREFIX, else the newest
   WORKDIR/out/run-*/helgenom-tiled-N.*; when there are none it runs bench_rank.py itself
   (several minutes and ~1.3 GB of disk).
2. Writes the other inputs: a QC JSON of the trio in the shape `helgenom qc` writes it (sample,
   sex, kinship, trio and family rows, a `## QC:` header line); the PED is the GIAB trio's.
   The report runs without UPD, ROH, CNV and SV files (they are optional).
3. Runs `helgenom report`, `helgenom workbook` and `helgenom scout-config` (with its peddy QC
   files) one after the other, each under `/usr/bin/time -v` (wall, CPU, peak RSS), with
   their default row caps, and prints them side by side with the total and the goal: all
   three in under 2 minutes and 2 GB (peak RSS of any one of them).

A benchmark, not a test: pytest does not collect it, and it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rank import (  # the script beside this one
    GOAL_RECORDS,
    GOAL_RSS_MB,
    TRIO_PED,
    Run,
    helgenom_exe,
    machine_info,
    other_load,
    table,
    timed,
    total_run,
)

GOAL_WALL_S = 120.0
SAMPLE_ROWS = {  # sample -> (declared sex, mean depth)
    "HG002": ("male", 34.2), "HG003": ("male", 31.8), "HG004": ("female", 33.1)}
KINSHIP = {("HG003", "HG004"): (0.004, 0.0, "unrelated"),
           ("HG002", "HG003"): (0.246, 0.25, "parent-child"),
           ("HG002", "HG004"): (0.251, 0.25, "parent-child")}


def qc_row(family: str, level: str, unit: str, metric: str, value: object, threshold: str = "",
           **data: object) -> dict[str, object]:
    return {"family": family, "level": level, "unit": unit, "metric": metric, "value": value,
            "threshold": threshold, "verdict": "PASS", "detail": "", "reason": "", "data": data}


def write_qc(family: str, out: Path) -> Path:
    """A passing trio QC JSON in the shape `helgenom qc` writes (qc/verdict.py `_write`)."""
    rows = []
    for sample, (sex, depth) in SAMPLE_ROWS.items():
        rows += [qc_row(family, "sample", sample, "mean_depth", depth, "PASS >= 20, WARN >= 12"),
                 qc_row(family, "sample", sample, "sex", sex, f"declared {sex}", declared=sex),
                 qc_row(family, "sample", sample, "verdict", "PASS")]
    rows += [qc_row(family, "pair", f"{a}~{b}", "kinship", kinship, f"expected {expected}",
                    expected=expected, relationship=relationship, sites=48_211)
             for (a, b), (kinship, expected, relationship) in KINSHIP.items()]
    rows += [qc_row(family, "trio", "HG002", "mendelian_error_rate", 0.004,
                    "PASS <= 0.02, WARN <= 0.05"),
             qc_row(family, "family", family, "verdict", "PASS")]
    tsv = out.with_suffix(".tsv").name
    out.write_text(json.dumps({
        "family": family, "verdict": "PASS", "sample_verdicts": dict.fromkeys(SAMPLE_ROWS,
                                                                              "PASS"),
        "reasons": [], "tsv": tsv, "thresholds": {}, "rows": rows, "depth_curves": {},
        "header_lines": [f"## QC: PASS - all checks of {len(SAMPLE_ROWS)} samples and family "
                         f"{family} passed; see {tsv}"]}, indent=1) + "\n")
    return out


def find_ranked(args: argparse.Namespace, workdir: Path) -> Path:
    """The prefix of the ranked VCF and candidate list: given, found or made by bench_rank."""
    if args.ranked:
        return args.ranked.resolve()
    name = f"helgenom-tiled-{args.records}"
    found = sorted((p.with_name(name) for p in workdir.glob(f"out/run-*/{name}.candidates.tsv")
                    if p.with_name(f"{name}.vcf.gz.tbi").exists()),
                   key=lambda p: p.with_name(f"{name}.candidates.tsv").stat().st_mtime)
    if found:
        return found[-1]
    print(f"no kept bench_rank outputs of {args.records:,} records in {workdir}: running "
          "bench_rank.py", flush=True)
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("bench_rank.py")), "--records",
         str(args.records), "--genmod-records", "0", "--keep", "--workdir", str(workdir)],
        capture_output=True, text=True, check=False)
    kept = re.search(r"^outputs kept in (.+)$", done.stdout, re.MULTILINE)
    if done.returncode or not kept:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        raise SystemExit("bench_rank.py failed: give --ranked PREFIX")
    return Path(kept.group(1)) / name


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ranked", type=Path, metavar="PREFIX",
                        help="PREFIX.vcf.gz(.tbi) and PREFIX.candidates.tsv of helgenom rank "
                        "(default: the newest kept bench_rank.py outputs, or a new run)")
    parser.add_argument("--records", type=int, default=GOAL_RECORDS,
                        help="records of the bench_rank.py run to find or make "
                        "(default %(default)s)")
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "helgenom-bench",
                        help="bench_rank.py's workdir; logs and outputs go under it "
                        "(default %(default)s)")
    return parser.parse_args(argv)


def verdict(total: Run) -> str:
    ok = total.exit_code == 0
    peak = max(total.max_rss_mb, total.tree_rss_mb)
    passed = ok and total.wall_s <= GOAL_WALL_S and peak <= GOAL_RSS_MB
    return (f"report + workbook + scout-config <= {GOAL_WALL_S:.0f} s and <= "
            f"{GOAL_RSS_MB:.0f} MB: {'PASS' if passed else 'FAIL'} ({total.wall_s:.1f} s wall, "
            f"{total.user_s + total.sys_s:.1f} s CPU, peak RSS {peak:,.0f} MB"
            f"{'' if ok else ', a step failed'})")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir: Path = args.workdir.resolve()
    prefix = find_ranked(args, workdir)
    vcf, candidates = Path(f"{prefix}.vcf.gz"), Path(f"{prefix}.candidates.tsv")
    missing = [str(p) for p in (vcf, Path(f"{vcf}.tbi"), candidates, TRIO_PED) if not p.exists()]
    if missing:
        raise SystemExit(f"missing: {', '.join(missing)}")
    outdir = workdir / "deliverables" / time.strftime(f"run-%Y%m%d-%H%M%S-{os.getpid()}")
    (outdir / "logs").mkdir(parents=True)
    family = TRIO_PED.read_text().split()[0]
    qc = write_qc(family, outdir / f"{family}.qc.json")
    with open(candidates, "rb") as handle:
        count = sum(1 for line in handle if not line.startswith(b"#")) - 1

    machine = machine_info()
    print(f"machine: {machine['nproc']} CPUs ({machine['cpu_model']}), "
          f"{machine['memory_gib']} GiB RAM, helgenom at {machine['helgenom_commit']}")
    busy = other_load()
    if busy > 0.2:
        print(f"WARNING: the machine is busy before the benchmark ({busy:.1f} cores used by "
              "other processes): wall times will be disturbed; compare CPU s, or rerun later")
    print(f"inputs: {vcf} ({vcf.stat().st_size / 1e6:,.0f} MB), {candidates.name} "
          f"({count:,} candidates, {candidates.stat().st_size / 1e6:,.0f} MB), {TRIO_PED.name}, "
          f"{qc.name} (written here)\n", flush=True)
    exe = helgenom_exe()
    records = args.records
    common = ["--qc", qc, "--ped", TRIO_PED]
    steps = {
        "report": [exe, "report", "--family", family, "--candidates", candidates, *common,
                   "--out", outdir / f"{family}.report.html"],
        "workbook": [exe, "workbook", "--candidates", candidates, *common, "--vcf", vcf,
                     "--out", outdir / f"{family}.candidates.xlsx"],
        "scout-config": [exe, "scout-config", "--family", family, *common, "--owner", "cust000",
                         "--snv-clinical", vcf, "--peddy-dir", outdir / "qc",
                         "--out", outdir / f"{family}.scout.yaml"],
    }
    runs = []
    for step, cmd in steps.items():
        run = timed(f"helgenom {step}", step, "WGS trio", records, cmd,
                    outdir / "logs" / f"{step}.log")
        run.extra["output_mb"] = round(Path(cmd[-1]).stat().st_size / 1e6, 2) if (
            Path(cmd[-1]).exists()) else 0
        runs.append(run)
    total = total_run(runs, "helgenom", "WGS trio", records)
    print("\n" + table([*runs, total]))
    print("outputs: " + ", ".join(f"{Path(steps[r.step][-1]).name} {r.extra['output_mb']} MB"
                                  for r in runs))
    print(f"machine: nproc {machine['nproc']}, {machine['cpu_model']}, "
          f"{machine['memory_gib']} GiB")
    print(f"goal:\n  {verdict(total)}")
    print(f"outputs and logs in {outdir}")
    return 0 if total.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
