#!/usr/bin/env python3
"""Small-variant calling stage vs calling.scatter_mb, and the N-run scan of a FASTA.

    python tests/benchmarks/bench_scatter.py [--size-mb 4] [--depth 25] [--seed 1]
        [--scatter 0 2 1 0.5 0.25] [--caller bcftools] [--cores 2] [--workdir DIR]
    python tests/benchmarks/bench_scatter.py --scan-mb 300 [--workdir DIR]

The first form simulates a demo trio of `--size-mb` (helgenom simulate: chr1, chr2, chrX in
its proportions, with chrM), aligns it once with the workflow, then runs the workflow up to
the family's gathered calls (`calling/<caller>/DEMO.bcf`) once per scatter size (0: one job
per contig) and prints, from the workflow's own benchmark files: the calling jobs, the
longest one (the critical path of the stage on a cluster with enough slots), their sum (the
CPU the stage costs), the gather, and the stage's wall time on `--cores` here.

The second form writes a FASTA of `--scan-mb` Mb (three contigs, 60-column lines, soft-masked
lowercase, 30 N runs of up to 50 kb each plus 10 kb telomeres) and times
helgenom.io.regions.find_gaps on it (the file freshly written: in the page cache).

A benchmark, not a test: pytest does not collect it.
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

import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "workflow" / "Snakefile"
SAMPLES = ("demo-father", "demo-mother", "demo-proband")


def snakemake(workdir: Path, configfile: Path, *args: str) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory",
           str(workdir), "--configfile", str(configfile), *args]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode:
        sys.exit(result.stdout[-3000:] + result.stderr[-3000:])


def seconds(tsv: Path) -> float:
    with tsv.open() as handle:
        return float(next(csv.DictReader(handle, delimiter="\t"))["s"])


def stage(workdir: Path, caller: str, scatter_mb: float, cores: int) -> dict[str, float]:
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["calling"].update({"snv_caller": caller, "scatter_mb": scatter_mb})
    configfile = workdir / f"scatter-{scatter_mb}.yaml"
    configfile.write_text(yaml.safe_dump(config))
    jobs_dir = workdir / "benchmarks" / f"{caller}_call" / "DEMO"
    gather = workdir / "benchmarks" / "gather_calls" / "DEMO.tsv"
    for old in [*jobs_dir.glob("*.tsv"), gather, workdir / f"calling/{caller}/DEMO.bcf"]:
        old.unlink(missing_ok=True)
    start = time.perf_counter()
    snakemake(workdir, configfile, "--cores", str(cores), f"calling/{caller}/DEMO.bcf")
    wall = time.perf_counter() - start
    times = [seconds(tsv) for tsv in jobs_dir.glob("*.tsv")]
    return {"jobs": len(times), "longest": max(times), "sum": sum(times),
            "gather": seconds(gather), "wall": wall}


def calling_stage(args: argparse.Namespace, workdir: Path) -> None:
    from helgenom.simulate.demo import simulate

    paths = simulate(workdir, seed=args.seed, size_mb=args.size_mb, depth=args.depth)
    lengths = [line.split("\t")[:2] for line in paths["fai"].read_text().splitlines()]
    targets = [f"results/alignment/{s}.bam{ext}" for s in SAMPLES for ext in ("", ".bai")]
    start = time.perf_counter()
    snakemake(workdir, paths["config"], "--cores", str(args.cores), *targets)
    print(f"simulated trio: {', '.join(f'{c} {int(n):,}' for c, n in lengths)} bp, "
          f"{args.depth}x; aligned in {time.perf_counter() - start:.0f} s; caller "
          f"{args.caller}; {args.cores} cores; {os.cpu_count()} CPUs on this machine")
    # chrM (mito calling) and the pedigree files once, outside the timed runs.
    (workdir / "benchmarks").mkdir(exist_ok=True)
    stage(workdir, args.caller, 0, args.cores)
    print("| scatter_mb | calling jobs | longest job (s) | sum of jobs (s) | gather (s) "
          "| stage wall (s) |")
    print("|---|---|---|---|---|---|")
    for size in args.scatter:
        row = stage(workdir, args.caller, size, args.cores)
        label = "0 (per contig)" if size == 0 else f"{size:g}"
        print(f"| {label} | {row['jobs']} | {row['longest']:.1f} | {row['sum']:.1f} | "
              f"{row['gather']:.1f} | {row['wall']:.1f} |", flush=True)


def write_fasta(path: Path, size_mb: float) -> None:
    import numpy as np

    rng = np.random.default_rng(1)
    length = int(size_mb * 1e6) // 3
    with path.open("wb") as out:
        for contig in range(3):
            seq = rng.choice(np.frombuffer(b"ACGTacgt", dtype=np.uint8), length)
            for _ in range(30):
                start = int(rng.integers(0, length - 60_000))
                seq[start:start + int(rng.integers(1, 50_000))] = ord("N")
            seq[:10_000] = seq[-10_000:] = ord("N")
            raw = seq.tobytes()
            out.write(f">chr{contig + 1}\n".encode())
            out.write(b"\n".join(raw[i:i + 60] for i in range(0, length, 60)) + b"\n")


def gap_scan(args: argparse.Namespace, workdir: Path) -> None:
    from helgenom.io.regions import find_gaps

    fasta = workdir / "scan.fa"
    write_fasta(fasta, args.scan_mb)
    size = fasta.stat().st_size
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        gaps, _ = find_gaps(fasta)
        runs.append(time.perf_counter() - start)
    best = min(runs)
    print(f"find_gaps on {size / 1e6:,.0f} MB ({sum(map(len, gaps.values()))} N runs >= 1 kb): "
          f"{', '.join(f'{r:.2f}' for r in runs)} s ({size / 1e6 / best:,.0f} MB/s; "
          f"3.1 Gb at that rate: {3.1e3 / (size / 1e6 / best):.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mb", type=float, default=4.0)
    parser.add_argument("--depth", type=float, default=25.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scatter", type=float, nargs="+", default=[0, 2, 1, 0.5, 0.25])
    parser.add_argument("--caller", default="bcftools", choices=["bcftools", "freebayes"])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--scan-mb", type=float, help="time the N-run scan on this many Mb")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        if args.scan_mb:
            gap_scan(args, Path(tmp))
        else:
            calling_stage(args, Path(tmp))


if __name__ == "__main__":
    main()
