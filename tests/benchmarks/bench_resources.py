#!/usr/bin/env python3
"""Per-rule CPU time, peak memory and input size on simulated trios, and their scaling.

    python tests/benchmarks/bench_resources.py [--trios 1x25 4x25 4x40] [--cores 2]
        [--workdir DIR] [--genome-gb 3.1] [--depth 30] [--node-cores 32]

Runs the whole workflow (`--cores C --notemp`, so that every job's inputs can be measured
afterwards) on each simulated trio SIZE_MBxDEPTH (`helgenom simulate --size-mb --depth`,
cached in the workdir, indexes prebuilt), and reads per job: wall s, CPU s (`cpu_time`) and
peak RSS (`max_rss`) from its benchmark file, and the size of its inputs (from Snakemake's
metadata), without the reference FASTA and its indexes. Per rule it prints the figures per
trio and a fit of CPU s and peak RSS against the trio's sequenced bases (Gb x depth: reads
in, per sample) or its genome size (Mb), whichever the rule scales with (RULE_SCALE), and the
extrapolation to a GENOME_GB genome at DEPTH x. Figures go to WORKDIR/bench_resources.json.

The extrapolation is from a synthetic genome: it measures how each rule scales, not what
aligning human reads costs (see docs/resources.md for how the rules' resources were set from
these figures and from published whole-genome figures). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_workflow import (
    fresh_copy,
    jobs_of,
    machine,
    simulated,
    snakemake_cmd,
    timed,
)

# What a rule's cost grows with: "reads" (bases sequenced: genome x depth, per sample or per
# family as its inputs are), "genome" (genome size; e.g. depth bins, region lengths), or
# "calls" (the family's variant calls, which grow with the genome size).
RULE_SCALE = {
    "bwa_mem": "reads", "fastq_check": "reads", "markdup": "reads", "alignment_qc": "reads",
    "bcftools_call": "reads", "freebayes_call": "reads", "delly_call": "reads",
    "tiddit_call": "reads", "mito_call": "reads",
    "cnv_call": "genome", "annotate_snv": "calls", "gather_calls": "calls",
    "freqdb_annotate": "calls", "freqdb_load": "calls", "upd": "calls", "family_qc": "calls",
    "rank": "calls", "sv_merge": "calls", "workbook": "calls", "report": "calls",
    "multiqc": "genome", "report_index": "genome", "manifest": "reads",
}


def reference_files(folder: Path) -> set[str]:
    import yaml

    fasta = yaml.safe_load((folder / "config.yaml").read_text())["reference"]["fasta"]
    return {fasta, *(f"{fasta}{ext}" for ext in (".fai", ".amb", ".ann", ".bwt", ".pac",
                                                   ".sa", ".ngaps.bed"))}


def measure(base: Path, size_mb: float, depth: float, cores: int, reuse: bool) -> list[dict]:
    """The jobs of a whole-workflow run on the trio (`reuse`: of the run already in its
    folder, if any). A failed job is reported; the jobs that ran are measured all the same."""
    folder = base / f"res-{size_mb:g}mb-{depth:g}x"
    if not (reuse and (folder / ".snakemake" / "metadata").is_dir()):
        fresh_copy(simulated(base, size_mb, depth), folder)
        run = timed("workflow", snakemake_cmd(folder, cores, folder / "config.yaml",
                                              "--notemp", "--keep-going"),
                    folder, folder / "snakemake.log", check=False)
        print(f"  {size_mb:g} Mb at {depth:g}x: wall {run.wall:.0f} s, CPU {run.cpu:.0f} s"
              + (f"; FAILED (exit {run.returncode}, see {folder}/snakemake.log): measured "
                 "what ran" if run.returncode else ""), flush=True)
    skip = reference_files(folder)
    rows = []
    for job in jobs_of(folder):
        inputs = [folder / path for path in job.inputs if path not in skip]
        size = sum(path.stat().st_size for path in inputs if path.is_file())
        rows.append({"rule": job.rule, "size_mb": size_mb, "depth": depth, "wall": job.wall,
                     "bench_s": job.bench_s, "cpu": job.bench_cpu, "rss_mb": job.bench_rss_mb,
                     "input_mb": size / 2**20})
    return rows


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares a + b x (b = 0 with one distinct x)."""
    if len(set(xs)) < 2:
        return statistics.mean(ys), 0.0
    mx, my = statistics.mean(xs), statistics.mean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    b = sxy / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trios", nargs="+", default=["1x25", "4x25", "4x40"],
                        help="SIZE_MBxDEPTH of each simulated trio")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "helgenom-bench-workflow")
    parser.add_argument("--genome-gb", type=float, default=3.1)
    parser.add_argument("--depth", type=float, default=30.0)
    parser.add_argument("--reuse", action="store_true",
                        help="measure the runs already in the workdir instead of running again")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}\nworkdir: {args.workdir}")
    rows = []
    for trio in args.trios:
        size_mb, depth = (float(v) for v in trio.lower().split("x"))
        rows += measure(args.workdir, size_mb, depth, args.cores, args.reuse)
    target = {"reads": args.genome_gb * 1000 * args.depth, "genome": args.genome_gb * 1000,
              "calls": args.genome_gb * 1000}
    print("\nper rule, per job (mean over its jobs): CPU s / peak RSS MB / input MB per trio;"
          " CPU fitted on x = Mb x depth (reads) or Mb (genome, calls), RSS on Mb; "
          f"extrapolated to {args.genome_gb:g} Gb at {args.depth:g}x")
    trios = sorted({(r["size_mb"], r["depth"]) for r in rows})
    print(f"{'rule':<16} {'scale':<6} " + " ".join(f"{f'{s:g}Mb {d:g}x':>22}" for s, d in trios)
          + f" {'CPU s/job':>10} {'RSS MB':>8}")
    fits = {}
    for rule in sorted({r["rule"] for r in rows}):
        scale = RULE_SCALE.get(rule, "genome")
        cells, xs, cpus, rsss, genomes = [], [], [], [], []
        for size_mb, depth in trios:
            jobs = [r for r in rows if r["rule"] == rule and (r["size_mb"], r["depth"])
                    == (size_mb, depth)]
            if not jobs:
                cells.append(f"{'-':>22}")
                continue
            cpu = statistics.mean(j["cpu"] or 0 for j in jobs)
            rss = statistics.mean(j["rss_mb"] or 0 for j in jobs)
            size = statistics.mean(j["input_mb"] for j in jobs)
            cells.append(f"{cpu:>7.1f}/{rss:>6.0f}/{size:>7.1f}")
            xs.append(size_mb * depth if scale == "reads" else size_mb)
            cpus.append(cpu)
            rsss.append(rss)
            genomes.append(size_mb)
        # CPU grows with the rule's scale; peak memory is fitted against the genome size
        # (the reference, its index, per-contig arrays), the depth's effect shown as is.
        a, b = fit(xs, cpus)
        ra, rb = fit(genomes, rsss)
        cpu_30x = max(a + b * target[scale], 0.0)
        rss_30x = max(ra + rb * target["genome"], 0.0)
        fits[rule] = {"scale": scale, "cpu_a": a, "cpu_b": b, "rss_a": ra, "rss_b": rb,
                      "cpu_target_s": cpu_30x, "rss_target_mb": rss_30x}
        print(f"{rule:<16} {scale:<6} " + " ".join(cells) + f" {cpu_30x:>10.0f} {rss_30x:>8.0f}")
    out = args.workdir / "bench_resources.json"
    out.write_text(json.dumps({"machine": machine(), "rows": rows, "fits": fits}, indent=1))
    print(f"\nfigures: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
