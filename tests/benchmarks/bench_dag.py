#!/usr/bin/env python3
"""Benchmark the DAG build: `snakemake --dry-run` on sample sheets of 10, 100 and 1,000 samples.

    python tests/benchmarks/bench_dag.py [--sizes 10 100 1000] [--repeats 3] [--lanes 4]
                                         [--workdir DIR] [--keep] [--profile]

Writes, per size, a working directory with samples.tsv (trios FAMnnnn-P/-F/-M, a singleton for
the remainder), units.tsv (LANES units per sample) and empty placeholder FASTQs (validation only
checks that they exist), all sharing one tiny reference, GFF3 and population VCF from
`helgenom simulate` (size_mb=0.2). Times `snakemake --dry-run --cores 2` REPEATS times per size
and prints, per size, the medians of two points in each run: when the DAG is built
(Snakemake prints its job table, "Job stats:", and a real run would start its first jobs) and
when the dry run ends (after listing every job with its files, resources and shell command),
in wall and CPU seconds, per 100 samples, and the machine. Goal: the DAG of 1,000 samples
built in <= 20 s, growing no worse than linearly. --profile runs the largest size once more
under cProfile and prints where the time goes.

A benchmark, not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "workflow" / "Snakefile"
GOAL_SAMPLES, GOAL_S = 1000, 20.0
FLOWCELL = "HBENCHDSX"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal:")), 0)
    from snakemake import __version__ as snakemake_version

    return (f"{os.cpu_count()} CPUs ({cpu}), {mem / 2**20:.1f} GiB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, "
            f"Snakemake {snakemake_version}")


def reference(base: Path) -> dict:
    """Simulate the tiny reference once; the demo config with absolute reference paths."""
    from helgenom.simulate.demo import simulate

    paths = simulate(base / "sim", seed=1, size_mb=0.2, depth=0.5)
    config = yaml.safe_load(paths["config"].read_text())
    config["reference"].update(fasta=str(paths["fasta"]), gff3=str(paths["gff3"]))
    config["annotation"]["population_vcf"] = str(paths["population_vcf"])
    config["annotation"]["population_sv_vcf"] = str(paths["population_sv_vcf"])
    return config


def families(n: int) -> list[list[tuple[str, str, str, str, str]]]:
    """(sample, sex, phenotype, father, mother) per member: trios, a singleton for the rest."""
    out = []
    for i in range((n + 2) // 3):
        fam = f"FAM{i + 1:04d}"
        trio = [(f"{fam}-P", "male", "affected", f"{fam}-F", f"{fam}-M"),
                (f"{fam}-F", "male", "unaffected", "", ""),
                (f"{fam}-M", "female", "unaffected", "", "")]
        out.append(trio[: n - 3 * i] if n - 3 * i < 3 else trio)
    for fam in out:  # a lone proband has no parents in the sheet
        if len(fam) < 3:
            fam[:] = [(s, sex, "affected", "", "") for s, sex, *_ in fam]
    return out


def workdir_of(base: Path, n: int, lanes: int, config: dict) -> Path:
    work = base / f"n{n}"
    (work / "fastq").mkdir(parents=True, exist_ok=True)
    samples = ["family\tsample\tsex\tphenotype\tfather\tmother\tgmc\thpo"]
    units = ["sample\tunit\tfq1\tfq2"]
    # One read per file: the start checks read each FASTQ's first records (an empty one is
    # refused), as on a real run.
    read = gzip.compress(b"@r1\nACGT\n+\nIIII\n", mtime=0)
    for i, fam in enumerate(families(n)):
        for sample, sex, phenotype, father, mother in fam:
            hpo = "HP:0001250" if phenotype == "affected" else ""
            samples.append("\t".join([f"FAM{i + 1:04d}", sample, sex, phenotype, father, mother,
                                      "demo", hpo]))
            for lane in range(1, lanes + 1):
                fq = [f"fastq/{sample}_S1_L{lane:03d}_R{r}_001.fastq.gz" for r in (1, 2)]
                for path in fq:
                    (work / path).write_bytes(read)
                units.append("\t".join([sample, f"{FLOWCELL}-L{lane:03d}", *fq]))
    (work / "samples.tsv").write_text("\n".join(samples) + "\n")
    (work / "units.tsv").write_text("\n".join(units) + "\n")
    (work / "config.yaml").write_text(yaml.safe_dump(
        {**config, "samples": "samples.tsv", "units": "units.tsv"}, sort_keys=False))
    return work


def snakemake_args(work: Path, cores: int, snakefile: Path = SNAKEFILE) -> list[str]:
    return ["--dry-run", "--cores", str(cores), "--snakefile", str(snakefile), "--directory",
            str(work), "--configfile", str(work / "config.yaml")]


def env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a running process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class DryRun:
    wall: float  # the whole dry run, start to exit
    cpu: float
    dag_wall: float  # start until the DAG is built: Snakemake prints its job table
    dag_cpu: float
    jobs: int


def dry_run(work: Path, cores: int, snakefile: Path = SNAKEFILE) -> DryRun:
    """Time one dry run, and the point in it where the DAG is built.

    Snakemake prints "Job stats:" (the table of jobs per rule) once the DAG is complete and
    scheduling starts; in a real run the first jobs start then. A dry run then goes on to
    list every job (input, output, resources, shell command): that listing is timed too.
    """
    start, cpu = time.perf_counter(), _cpu()
    proc = subprocess.Popen([sys.executable, "-m", "snakemake",
                             *snakemake_args(work, cores, snakefile)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**env(), "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    lines, dag_wall, dag_cpu = [], float("nan"), float("nan")
    for line in proc.stdout:
        if line.startswith("Job stats:") and dag_wall != dag_wall:
            dag_wall, dag_cpu = time.perf_counter() - start, _process_cpu(proc.pid)
        lines.append(line)
    proc.wait()
    wall, cpu = time.perf_counter() - start, _cpu() - cpu
    out = "".join(lines)
    if proc.returncode:
        sys.exit(f"dry run of {work} failed:\n{out[-6000:]}")
    match = re.search(r"^total\s+(\d+)$", out, re.M)
    return DryRun(wall, cpu, dag_wall, dag_cpu, int(match[1]) if match else -1)


def profile(work: Path, cores: int, top: int, snakefile: Path = SNAKEFILE) -> None:
    out = work / "dryrun.pstats"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "snakemake",
           *snakemake_args(work, cores, snakefile)]
    subprocess.run(cmd, capture_output=True, text=True, env=env(), check=True)
    for key in ("cumulative", "tottime"):
        print(f"\n--- cProfile of the dry run ({work.name}), top {top} by {key} ({out}) ---")
        pstats.Stats(str(out)).strip_dirs().sort_stats(key).print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lanes", type=int, default=4)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", type=Path, help="default: a temporary folder, removed")
    parser.add_argument("--keep", action="store_true", help="keep the working folders")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest size")
    parser.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    parser.add_argument("--snakefile", type=Path, default=SNAKEFILE,
                        help="Snakefile to time (default: the workflow's; e.g. a patched copy)")
    args = parser.parse_args(argv)
    base = args.workdir or Path(tempfile.mkdtemp(prefix="helgenom-bench-dag-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}\nworkdir: {base}")
    try:
        config = reference(base)
        rows = []
        for n in args.sizes:
            work = workdir_of(base, n, args.lanes, config)
            runs = [dry_run(work, args.cores, args.snakefile) for _ in range(args.repeats)]
            rows.append((n, runs))
            print(f"  {n} samples: DAG built at "
                  f"{', '.join(f'{r.dag_wall:.2f}' for r in runs)} s; dry run "
                  f"{', '.join(f'{r.wall:.2f}' for r in runs)} s", flush=True)

        def med(runs: list[DryRun], field: str) -> float:
            return statistics.median(getattr(r, field) for r in runs)

        print(f"\n{'':>16} {'DAG built (job table)':>32}   {'whole dry run (lists every job)':>32}")
        print(f"{'samples':>8} {'jobs':>7} {'wall s':>10} {'CPU s':>10} {'s/100 smp':>10}   "
              f"{'wall s':>10} {'CPU s':>10} {'s/100 smp':>10}")
        for n, runs in rows:
            print(f"{n:>8} {runs[0].jobs:>7} {med(runs, 'dag_wall'):>10.2f} "
                  f"{med(runs, 'dag_cpu'):>10.2f} {100 * med(runs, 'dag_wall') / n:>10.3f}   "
                  f"{med(runs, 'wall'):>10.2f} {med(runs, 'cpu'):>10.2f} "
                  f"{100 * med(runs, 'wall') / n:>10.3f}")
        print(f"medians of {args.repeats} runs; CPU s of the DAG build is the snakemake process's"
              " own; of the whole run, with its children")
        load = os.getloadavg()[0]
        if load > (os.cpu_count() or 1) * 0.5:
            print(f"note: load average {load:.1f} on {os.cpu_count()} CPUs: other processes "
                  "were running; CPU s is closer to the wall time of a quiet machine")
        by_n = dict(rows)
        if GOAL_SAMPLES in by_n:
            dag, whole = med(by_n[GOAL_SAMPLES], "dag_wall"), med(by_n[GOAL_SAMPLES], "wall")
            print(f"\ngoal: DAG of {GOAL_SAMPLES} samples built in <= {GOAL_S:.0f} s: "
                  f"{'met' if dag <= GOAL_S else 'MISSED'} ({dag:.2f} s); the whole dry run, "
                  f"listing all {by_n[GOAL_SAMPLES][0].jobs} jobs, took {whole:.2f} s")
        if len(rows) >= 2:
            (n0, r0), (n1, r1) = rows[-2], rows[-1]
            for label, field in (("DAG built", "dag_wall"), ("whole dry run", "wall")):
                w0, w1 = med(r0, field), med(r1, field)
                print(f"growth {n0} -> {n1} samples (x{n1 / n0:.0f}), {label}: wall "
                      f"x{w1 / w0:.1f}; per-sample cost x{(w1 / n1) / (w0 / n0):.2f} (<= ~1 is "
                      "linear or better; start-up dominates small sheets)")
        if args.profile:
            profile(workdir_of(base, max(args.sizes), args.lanes, config), args.cores, args.top,
                    args.snakefile)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
