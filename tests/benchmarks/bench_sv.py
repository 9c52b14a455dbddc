#!/usr/bin/env python3
"""SV calling on simulated trios: sensitivity per caller and after merging, false calls, time.

    python tests/benchmarks/bench_sv.py [--seeds 1 2 3] [--size-mb 1.0] [--depth 25]
                                        [--workdir DIR]

For each seed, `helgenom simulate` writes a demo trio with five planted SVs (a paternal ~3 kb
deletion, a de novo ~5 kb NRXN1 deletion over exons, a maternal whole-gene MUTYH deletion, a
de novo ~1 kb TTN exon duplication and a paternal ~12 kb BMPR2 gain), and the real workflow
runs up to the merged family SV VCF (`calling/DEMO.sv.vcf.gz`). Each caller's output is then
compared with the truth:

- found: a call of the planted type whose breakpoints are both within 150 bp of the truth
  (1,000 bp for the read-depth caller, which works in 1-kb bins), in any member (TIDDIT: in
  each carrier's own VCF);
- genotypes: found with every member's genotype right (joint callers and the merge);
- false: calls that match no planted SV (TIDDIT: per-sample records).

It prints a table per caller, summed over the seeds, and the SV stage's run time from the
workflow's own benchmark files (delly_call, tiddit_call summed over samples, cnv_call,
sv_merge; wall seconds). A benchmark, not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "workflow" / "Snakefile"
SAMPLES = ("demo-father", "demo-mother", "demo-proband")
SV_RULES = ("delly_call", "tiddit_call", "cnv_call", "sv_merge")
FORMAT = "%CHROM\t%POS\t%INFO/END\t%INFO/SVTYPE[\t%SAMPLE=%GT]\n"


def query(path: Path) -> list[list[str]]:
    out = subprocess.run(["bcftools", "query", "-f", FORMAT, str(path)], check=True,
                         capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def matches(call: list[str], sv: dict[str, str], slack: int) -> bool:
    return (call[0] == sv["chrom"] and call[3].split(":")[0] == sv["type"]
            and abs(int(call[1]) - int(sv["pos"])) <= slack
            and abs(int(call[2]) - int(sv["end"])) <= slack)


def same_gt(called: str, expected: str) -> bool:
    return sorted(called.replace("|", "/").split("/")) == sorted(expected.split("/"))


def evaluate(calls: list[list[str]], truth: list[dict[str, str]], slack: int,
             genotyped: bool) -> dict[str, int]:
    found = gts = 0
    for sv in truth:
        hits = [c for c in calls if matches(c, sv, slack)]
        if hits:
            found += 1
            cells = dict(cell.split("=") for cell in hits[0][4:])
            if genotyped and all(same_gt(cells.get(s, "."), sv[s]) for s in SAMPLES):
                gts += 1
    false = sum(not any(matches(c, sv, slack) for sv in truth) for c in calls)
    return {"planted": len(truth), "found": found, "genotypes": gts, "false": false}


def run_seed(workdir: Path, seed: int, size_mb: float, depth: float) -> dict:
    from helgenom.simulate.demo import simulate

    run = workdir / f"seed{seed}"
    if not (run / "calling/DEMO.sv.vcf.gz").is_file():
        simulate(run, seed=seed, size_mb=size_mb, depth=depth)
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory",
               str(run), "--configfile", str(run / "config.yaml"), "--cores", "2", "--quiet",
               "all", "--", "calling/DEMO.sv.vcf.gz"]
        started = time.monotonic()
        subprocess.run(cmd, check=True, env=env)
        print(f"seed {seed}: workflow to the merged SV VCF in {time.monotonic() - started:.0f} s",
              file=sys.stderr)
    with (run / "truth.tsv").open() as handle:
        truth = [r for r in csv.DictReader(handle, delimiter="\t") if r["type"] in ("DEL", "DUP")]
    tiddit = [c for s in SAMPLES for c in query(run / f"calling/tiddit/{s}.vcf.gz")]
    tiddit_found = 0
    for sv in truth:  # TIDDIT is per sample: it must find the SV in every carrier
        carriers = [s for s in SAMPLES if sv[s] != "0/0"]
        tiddit_found += all(any(matches(c, sv, 150) for c in query(
            run / f"calling/tiddit/{s}.vcf.gz")) for s in carriers)
    result = {
        "delly": evaluate(query(run / "calling/delly/DEMO.vcf.gz"), truth, 150, True),
        "tiddit": {**evaluate(tiddit, truth, 150, False), "found": tiddit_found},
        "cnv (depth)": evaluate(query(run / "results/DEMO/DEMO.cnv.vcf.gz"), truth, 1000, True),
        "merged": evaluate(query(run / "calling/DEMO.sv.vcf.gz"), truth, 150, True),
    }
    seconds = {}
    for rule in SV_RULES:
        total = 0.0
        for path in (run / "benchmarks" / rule).glob("*.tsv"):
            rows = list(csv.DictReader(path.open(), delimiter="\t"))
            total += float(rows[-1]["s"])
        seconds[rule] = total
    return {"calls": result, "seconds": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--size-mb", type=float, default=1.0)
    parser.add_argument("--depth", type=float, default=25.0)
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "helgenom-bench-sv")
    args = parser.parse_args()
    runs = [run_seed(args.workdir, seed, args.size_mb, args.depth) for seed in args.seeds]
    print(f"\nSV calling on {len(runs)} simulated trios (seeds {args.seeds}, "
          f"{args.size_mb} Mb, {args.depth}x)")
    print(f"{'caller':<13}{'planted':>8}{'found':>7}{'sens.':>7}{'GT right':>10}{'false':>7}")
    for caller in runs[0]["calls"]:
        total = {k: sum(r["calls"][caller][k] for r in runs) for k in runs[0]["calls"][caller]}
        gts = "-" if caller == "tiddit" else str(total["genotypes"])
        print(f"{caller:<13}{total['planted']:>8}{total['found']:>7}"
              f"{total['found'] / total['planted']:>7.0%}{gts:>10}{total['false']:>7}")
    print("\nSV stage wall seconds per trio (workflow benchmark files), mean over seeds:")
    for rule in SV_RULES:
        mean = sum(r["seconds"][rule] for r in runs) / len(runs)
        print(f"  {rule:<12} {mean:6.1f} s")
    print(f"  {'total':<12} {sum(sum(r['seconds'].values()) for r in runs) / len(runs):6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
