#!/usr/bin/env python3
"""Benchmark the whole workflow against a plain shell script of its core tools, side by side.

    python tests/benchmarks/bench_workflow.py [--size-mb 4] [--depth 25] [--repeats 3]
        [--cores 2] [--workdir DIR] [--scatter-mb 0.5 1 2 0] [--skip-plain] [--keep]

1. Simulates a trio (`helgenom simulate --size-mb S --depth D`, seed 1; cached in the
   workdir) and builds its reference indexes once (`samtools faidx`, `bwa index`): both
   sides find them prebuilt, so neither pays for them.
2. Runs, REPEATS times and alternating (plain first in odd repeats, the workflow first in
   even ones), each from a fresh copy of the simulated folder:
   (a) `plain.sh`, the core tools one after another as a bioinformatician would write them
       without a workflow manager, using both cores where the tools can (printed by
       `--show-plain`): per unit `fastp --thread C | bwa mem -t C | samtools fixmate -m |
       samtools sort -@ C`; per sample `samtools merge | samtools markdup -@ C`, `samtools
       index`, `samtools stats -@ C`, `mosdepth -t C --fast-mode --by 1000`; per family
       `bcftools mpileup -a AD,DP | bcftools call -mv -Oz` over the whole genome and
       `bcftools index`, `delly call` of the trio, `bcftools view -Oz` + `bcftools index` of
       its BCF. The script checks that the VCFs hold records.
   (b) the workflow, `snakemake --cores C` (its default profile), every target.
   Each side's wall time and CPU time (user + system of the process tree, from wait4).
3. Prints the medians and the ratio workflow/plain (goal <= 0.8), and from the last workflow
   run: the sum of the jobs' wall and CPU time (benchmark files), the critical path (the
   longest chain of dependent jobs, with each job's wall time from Snakemake's metadata: the
   run's length on unlimited cores), per-rule figures, and the per-job overhead:
   Snakemake's own start-up (DAG built; first job started), the time from the last job to
   Snakemake's exit, and the Python start-up of `helgenom <cmd>` (`helgenom <cmd> --help`,
   `python -X importtime`) against the wall time of those jobs.
4. With `--scatter-mb` (when the workflow has `calling.scatter_mb`): the small-variant
   calling stage alone (`--until gather_calls`, in a copy of the last run's folder, its
   alignments kept) per scatter size: regions, their wall and CPU, the stage's critical path
   (longest region + gather) and its wall time on C cores.

Figures go to WORKDIR/bench_workflow.json too. A benchmark, not a test: pytest does not
collect it. Wall times on a shared machine are noisy: the alternation makes the comparison
fair, the CPU times are the steadier figures.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import csv
import itertools
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "workflow" / "Snakefile"
GOAL = 0.8


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal:")), 0)
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem / 2**20:.1f} GiB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, load {load:.2f}")


def commit() -> str:
    out = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def env() -> dict[str, str]:
    """The venv's bin first on PATH (snakemake, helgenom), unbuffered Python output."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "PYTHONUNBUFFERED": "1"}


# ---- the simulated trio ---------------------------------------------------------------------

def simulated(base: Path, size_mb: float, depth: float) -> Path:
    """The simulated trio with prebuilt reference indexes (cached: a stamp names the
    arguments and the helgenom commit it was made with)."""
    sim = base / f"sim-{size_mb:g}mb-{depth:g}x"
    stamp = sim / ".bench-stamp"
    want = json.dumps({"size_mb": size_mb, "depth": depth, "seed": 1})
    if stamp.exists() and stamp.read_text() == want:
        return sim
    shutil.rmtree(sim, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "helgenom.cli", "simulate", "--outdir", str(sim),
                    "--seed", "1", "--size-mb", str(size_mb), "--depth", str(depth)],
                   check=True, env=env(), stdout=subprocess.DEVNULL)
    fasta = reference_fasta(sim)
    subprocess.run(["samtools", "faidx", str(fasta)], check=True)
    subprocess.run(["bwa", "index", str(fasta)], check=True, capture_output=True)
    stamp.write_text(want)
    print(f"simulated {sim} in {time.perf_counter() - started:.0f} s (indexes prebuilt)")
    return sim


def reference_fasta(sim: Path) -> Path:
    config = yaml.safe_load((sim / "config.yaml").read_text())
    return sim / config["reference"]["fasta"]


def fresh_copy(sim: Path, dest: Path) -> Path:
    """A run folder: the simulated inputs hard-linked (read only by both sides), except
    folders a run writes into (the frequency database), which are copied."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(sim, dest, copy_function=os.link, ignore=shutil.ignore_patterns("freqdb"))
    for db in sim.rglob("freqdb"):
        if db.is_dir():
            shutil.copytree(db, dest / db.relative_to(sim))
    return dest


# ---- the plain script -------------------------------------------------------------------------

def plain_script(sim: Path, cores: int) -> str:
    """The core tools one after another, in bash, for the trio of `sim`."""
    config = yaml.safe_load((sim / "config.yaml").read_text())
    ref = config["reference"]["fasta"]
    with open(sim / config["units"]) as handle:
        units = list(csv.DictReader(handle, delimiter="\t"))
    with open(sim / config["samples"]) as handle:
        samples = list(csv.DictReader(handle, delimiter="\t"))
    family = samples[0]["family"]
    q = shlex.quote
    lines = [
        "#!/usr/bin/env bash",
        "# The core of the workflow as a plain script: no workflow manager, one step after",
        "# another, both cores used where a tool can.",
        "set -euo pipefail",
        f"T={cores}",
        f"REF={q(ref)}",
        "mkdir -p plain",
    ]
    for unit in units:
        s, u = unit["sample"], unit["unit"]
        rg = rf"@RG\tID:{s}.{u}\tSM:{s}\tLB:{s}\tPL:ILLUMINA\tPU:{u}"
        lines += [
            f"echo '== align {s} {u}'",
            f"fastp --in1 {q(unit['fq1'])} --in2 {q(unit['fq2'])} --stdout"
            f" --detect_adapter_for_pe --thread $T --json plain/{s}.{u}.fastp.json"
            f" --html plain/{s}.{u}.fastp.html 2> plain/{s}.{u}.fastp.log \\",
            f"  | bwa mem -t $T -p -Y -R '{rg}' \"$REF\" - 2> plain/{s}.{u}.bwa.log \\",
            "  | samtools fixmate -m -u - - \\",
            f"  | samtools sort -@ $T -m 1G -u -T plain/{s}.{u}.sort -o plain/{s}.{u}.bam -",
        ]
    bams = []
    for sample in dict.fromkeys(unit["sample"] for unit in units):
        parts = " ".join(f"plain/{sample}.{unit['unit']}.bam" for unit in units
                         if unit["sample"] == sample)
        bam = f"plain/{sample}.bam"
        bams.append(bam)
        lines += [
            f"echo '== markdup, stats {sample}'",
            f"samtools merge -@ $T -c -p -u -o - {parts}"
            f" | samtools markdup -@ $T -f plain/{sample}.markdup.txt - {bam}",
            f"samtools index -@ $T {bam}",
            f"samtools stats -@ $T {bam} > plain/{sample}.stats.txt",
            f"mosdepth -t $T -n --fast-mode --by 1000 plain/{sample} {bam}",
        ]
    trio = " ".join(bams)
    lines += [
        "echo '== call'",
        f"bcftools mpileup -f \"$REF\" -a FORMAT/AD,FORMAT/DP -Ou {trio}"
        f" | bcftools call -m -v -Oz -o plain/{family}.vcf.gz",
        f"bcftools index -t plain/{family}.vcf.gz",
        "echo '== delly'",
        f"delly call -g \"$REF\" -o plain/{family}.sv.bcf {trio} > plain/delly.log",
        f"bcftools view -Oz -o plain/{family}.sv.vcf.gz plain/{family}.sv.bcf",
        f"bcftools index -t plain/{family}.sv.vcf.gz",
        "echo '== end'",
        f"test \"$(bcftools view -H plain/{family}.vcf.gz | head -1)\" != ''",
        f"test \"$(bcftools view -H plain/{family}.sv.vcf.gz | head -1)\" != ''",
    ]
    return "\n".join(lines) + "\n"


# ---- running and timing -------------------------------------------------------------------

@dataclass
class Run:
    kind: str
    wall: float
    cpu: float
    folder: str
    launched: float  # epoch seconds
    lines: list[tuple[float, str]] = field(default_factory=list)  # (s since launch, line)
    returncode: int = 0


def timed(kind: str, cmd: list[str], cwd: Path, log: Path, check: bool = True) -> Run:
    """Run `cmd`, its output to `log` with each line's time since launch; wall and CPU time
    (user + system of the whole process tree, from wait4)."""
    launched, started = time.time(), time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env())
    lines: list[tuple[float, str]] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.perf_counter() - started, line.rstrip("\n")))

    reader = threading.Thread(target=read)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    log.write_text("".join(f"{t:9.2f} {line}\n" for t, line in lines))
    if proc.returncode and check:
        sys.exit(f"{kind} failed (exit {proc.returncode}) in {cwd}; see {log}:\n"
                 + "\n".join(line for _, line in lines[-40:]))
    return Run(kind, wall, usage.ru_utime + usage.ru_stime, str(cwd), launched, lines,
               proc.returncode)


def run_plain(sim: Path, folder: Path, cores: int) -> Run:
    fresh_copy(sim, folder)
    (folder / "plain.sh").write_text(plain_script(sim, cores))
    return timed("plain", ["bash", "plain.sh"], folder, folder / "plain.log")


def snakemake_cmd(folder: Path, cores: int, configfile: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory",
            str(folder), "--configfile", str(configfile), "--cores", str(cores), *extra]


def run_workflow(sim: Path, folder: Path, cores: int) -> Run:
    fresh_copy(sim, folder)
    return timed("workflow", snakemake_cmd(folder, cores, folder / "config.yaml"), folder,
                 folder / "snakemake.log")


# ---- what the workflow's jobs did -----------------------------------------------------------

@dataclass
class Job:
    rule: str
    start: float
    end: float
    inputs: list[str]
    outputs: list[str]
    log: str
    bench_s: float | None = None
    bench_cpu: float | None = None
    bench_rss_mb: float | None = None
    command: str = ""

    @property
    def wall(self) -> float:
        return self.end - self.start


def decode_name(name: str) -> str | None:
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            return decode(name.replace("@", "/") + "=" * (-len(name) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
    return None


def jobs_of(folder: Path) -> list[Job]:
    """Every job of the run in `folder`, from Snakemake's metadata (.snakemake/metadata: per
    output file the job's rule, inputs, log, start and end time) and its benchmark file
    (the log's path with logs/ -> benchmarks/ and .log -> .tsv)."""
    jobs: dict[tuple, Job] = {}
    for path in sorted((folder / ".snakemake" / "metadata").rglob("*")):
        if not path.is_file():
            continue
        output = decode_name(str(path.relative_to(folder / ".snakemake" / "metadata")))
        try:
            meta = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if output is None or meta.get("starttime") is None or meta.get("endtime") is None:
            continue
        # A job's outputs share its hash (their start and end times differ slightly).
        key = (meta["rule"], meta.get("job_hash"))
        job = jobs.get(key)
        if job is not None:
            job.start = min(job.start, meta["starttime"])
            job.end = max(job.end, meta["endtime"])
        else:
            logs = meta.get("log") or [""]
            job = jobs[key] = Job(meta["rule"], meta["starttime"], meta["endtime"],
                                  list(meta.get("input") or []), [], logs[0],
                                  command=meta.get("shellcmd") or "")
        job.outputs.append(output)
    for job in jobs.values():
        if job.log.startswith("logs/"):
            bench = folder / "benchmarks" / (job.log[len("logs/"):].removesuffix(".log")
                                               + ".tsv")
            if bench.exists():
                with open(bench) as handle:
                    row = list(csv.DictReader(handle, delimiter="\t"))[-1]
                job.bench_s = float(row["s"])
                job.bench_cpu = float(row.get("cpu_time") or "nan")
                job.bench_rss_mb = float(row.get("max_rss") or "nan")
    return sorted(jobs.values(), key=lambda j: j.start)


def critical_path(jobs: list[Job]) -> tuple[float, list[Job]]:
    """The longest chain of dependent jobs (a job depends on the jobs that wrote its inputs),
    each weighted with its wall time: the run's length on unlimited cores."""
    producer = {out: job for job in jobs for out in job.outputs}
    best: dict[int, tuple[float, Job | None]] = {}
    for job in sorted(jobs, key=lambda j: j.start):
        preds = {id(producer[i]): producer[i] for i in job.inputs
                 if i in producer and producer[i] is not job}
        before = max(((best[k][0], p) for k, p in preds.items() if k in best),
                     key=lambda item: item[0], default=(0.0, None))
        best[id(job)] = (before[0] + job.wall, before[1])
    if not best:
        return 0.0, []
    by_id = {id(job): job for job in jobs}
    end = max(best, key=lambda k: best[k][0])
    length, chain, key = best[end][0], [], end
    while key is not None:
        chain.append(by_id[key])
        previous = best[key][1]
        key = id(previous) if previous is not None else None
    return length, chain[::-1]


def helgenom_commands(jobs: list[Job]) -> dict[str, int]:
    """`helgenom <cmd>` calls in the run's shell commands, counted per command."""
    counts: dict[str, int] = {}
    for job in jobs:
        for command in re.findall(r"(?:^|[(;&|]\s*)helgenom ([a-z][a-z-]*)", job.command):
            counts[command] = counts.get(command, 0) + 1
    return counts


def startup(command: list[str], repeats: int = 5) -> float:
    """Median wall time of `command` (its output discarded)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())
        times.append(time.perf_counter() - started)
    return statistics.median(times)


HEAVY_IMPORTS = ("pandas", "numpy", "pyarrow", "scipy", "openpyxl", "xlsxwriter", "jinja2",
                 "isal", "yaml")


def import_time(module: str) -> tuple[float, dict[str, float]]:
    """Import time of `module` (s, with everything it imports) and of the heavy third-party
    packages among its imports, from python -X importtime (cumulative microseconds)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                         capture_output=True, text=True, env=env()).stderr
    total, heavy = 0.0, {}
    for line in out.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if not match:
            continue
        seconds, name = int(match[1]) / 1e6, match[3]
        if len(match[2]) <= 1:  # a top-level import of `python -c`
            total += seconds
        if name in HEAVY_IMPORTS:
            heavy[name] = seconds
    return total, heavy


# ---- the calling stage per scatter size ---------------------------------------------------------

def scatter_stage(folder: Path, cores: int, scatter_mb: float) -> dict:
    """The small-variant calling stage alone in `folder` (alignments done) with
    calling.scatter_mb = `scatter_mb`: its region jobs and gather, from their metadata."""
    config = yaml.safe_load((folder / "config.yaml").read_text())
    config.setdefault("calling", {})["scatter_mb"] = scatter_mb
    configfile = folder / f"config.scatter-{scatter_mb:g}.yaml"
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    for stale in ("benchmarks/bcftools_call", "benchmarks/gather_calls", "calling/bcftools"):
        shutil.rmtree(folder / stale, ignore_errors=True)
    before = {(j.rule, j.start) for j in jobs_of(folder)}
    run = timed("scatter", snakemake_cmd(folder, cores, configfile, "--until", "gather_calls",
                                         "--notemp", "--forcerun", "bcftools_call"),
                folder, folder / f"scatter-{scatter_mb:g}.log")
    new = [j for j in jobs_of(folder) if (j.rule, j.start) not in before
           and j.rule in ("bcftools_call", "freebayes_call", "mito_call", "gather_calls")]
    regions = [j for j in new if j.rule in ("bcftools_call", "freebayes_call")]
    gather = [j for j in new if j.rule == "gather_calls"]
    path, _ = critical_path(new)
    span = (max(j.end for j in new) - min(j.start for j in new)) if new else float("nan")
    return {"scatter_mb": scatter_mb, "regions": len(regions),
            "region_wall_sum": sum(j.wall for j in regions),
            "region_wall_max": max((j.wall for j in regions), default=0.0),
            "region_cpu_sum": sum(j.bench_cpu or 0 for j in regions),
            "gather_wall": sum(j.wall for j in gather), "critical_path": path,
            "stage_wall": span, "snakemake_wall": run.wall, "snakemake_cpu": run.cpu}


# ---- report -----------------------------------------------------------------------------------

def first_line_time(run: Run, pattern: str) -> float:
    return next((t for t, line in run.lines if re.search(pattern, line)), float("nan"))


def plain_phases(run: Run) -> list[tuple[str, float]]:
    """The plain script's steps ('== STEP' lines) and their wall times."""
    marks = [(t, line[3:]) for t, line in run.lines if line.startswith("== ")]
    return [(name, end - start) for (start, name), (end, _) in itertools.pairwise(marks)]


def report_workflow(run: Run, cores: int) -> dict:
    folder = Path(run.folder)
    jobs = jobs_of(folder)
    first_start = min(j.start for j in jobs)
    launch_epoch = run.launched
    last_end = max(j.end for j in jobs)
    length, chain = critical_path(jobs)
    rules: dict[str, dict] = {}
    for job in jobs:
        row = rules.setdefault(job.rule, {"jobs": 0, "wall": 0.0, "bench_s": 0.0, "cpu": 0.0,
                                          "max_rss_mb": 0.0})
        row["jobs"] += 1
        row["wall"] += job.wall
        row["bench_s"] += job.bench_s or 0
        row["cpu"] += job.bench_cpu or 0
        row["max_rss_mb"] = max(row["max_rss_mb"], job.bench_rss_mb or 0)
    counts = helgenom_commands(jobs)
    helgenom_jobs = [j for j in jobs if re.search(r"(?:^|[(;&|]\s*)helgenom ", j.command)]
    figures = {
        "jobs": len(jobs),
        "job_wall_sum": sum(j.wall for j in jobs),
        "job_bench_s_sum": sum(j.bench_s or 0 for j in jobs),
        "job_cpu_sum": sum(j.bench_cpu or 0 for j in jobs),
        "critical_path": length,
        "critical_chain": [(j.rule, round(j.wall, 2)) for j in chain],
        "dag_built": first_line_time(run, r"^Job stats:"),
        "first_job_started": first_start - launch_epoch,
        "exit_after_last_job": run.wall - (last_end - launch_epoch),
        "rules": rules,
        "helgenom_commands": counts,
        "helgenom_jobs": len(helgenom_jobs),
        "helgenom_jobs_wall": sum(j.wall for j in helgenom_jobs),
    }
    print(f"\nworkflow run {folder} ({len(jobs)} jobs, --cores {cores}):")
    print(f"  wall {run.wall:.1f} s, CPU {run.cpu:.1f} s ({run.cpu / run.wall / cores:.0%} of "
          f"{cores} cores)")
    print(f"  sum of job wall times {figures['job_wall_sum']:.1f} s (benchmark s "
          f"{figures['job_bench_s_sum']:.1f} s), jobs' CPU (benchmark cpu_time, sampled) "
          f"{figures['job_cpu_sum']:.1f} s")
    print(f"  critical path {length:.1f} s ({length / run.wall:.0%} of the wall time): "
          + " -> ".join(f"{r} {w:.1f}" for r, w in figures["critical_chain"]))
    print(f"  Snakemake: DAG built at {figures['dag_built']:.1f} s, first job at "
          f"{figures['first_job_started']:.1f} s, exit {figures['exit_after_last_job']:.1f} s "
          "after the last job")
    print(f"  {'rule':<18} {'jobs':>4} {'wall s':>8} {'bench s':>8} {'CPU s':>7} "
          f"{'max RSS MB':>10}")
    for name, row in sorted(rules.items(), key=lambda kv: -kv[1]["wall"]):
        print(f"  {name:<18} {row['jobs']:>4} {row['wall']:>8.1f} {row['bench_s']:>8.1f} "
              f"{row['cpu']:>7.1f} {row['max_rss_mb']:>10.0f}")
    return figures


def report_startup(counts: dict[str, int], helgenom_wall: float, jobs: int) -> dict:
    helgenom = [sys.executable, "-m", "helgenom.cli"]
    bare = startup([sys.executable, "-c", "pass"])
    top = startup([*helgenom, "--help"])
    per_command = {c: startup([*helgenom, c, "--help"], 3) for c in sorted(counts)}
    total = sum(per_command[c] * n for c, n in counts.items())
    print(f"\nPython start-up: bare interpreter {bare:.2f} s, `helgenom --help` (every "
          f"command's module) {top:.2f} s")
    imports = {}
    for command in sorted(counts):
        seconds, heavy = import_time(f"helgenom.cli.{command.replace('-', '_')}")
        imports[command] = seconds
        print(f"  import helgenom.cli.{command.replace('-', '_')}: {seconds:.2f} s"
              + (" (of it " + ", ".join(f"{name} {t:.2f}" for name, t in heavy.items()) + ")"
                 if heavy else ""))
    print("  `helgenom <cmd> --help` per command in the run (calls x s): "
          + ", ".join(f"{c} {n}x{per_command[c]:.2f}" for c, n in sorted(counts.items())))
    print(f"  {jobs} helgenom jobs: {helgenom_wall:.1f} s of job wall time, of it ~{total:.1f} s "
          f"Python start-up ({total / helgenom_wall if helgenom_wall else 0:.0%})")
    return {"bare": bare, "helgenom_help": top, "imports": imports,
            "per_command": per_command, "startup_total": total}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=4.0)
    parser.add_argument("--depth", type=float, default=25.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "helgenom-bench-workflow")
    parser.add_argument("--scatter-mb", type=float, nargs="*", default=[],
                        help="calling-stage runs at these calling.scatter_mb values")
    parser.add_argument("--skip-plain", action="store_true", help="only the workflow")
    parser.add_argument("--show-plain", action="store_true", help="print plain.sh and exit")
    parser.add_argument("--keep", action="store_true", help="keep the run folders")
    args = parser.parse_args(argv)
    base = args.workdir
    base.mkdir(parents=True, exist_ok=True)
    sim = simulated(base, args.size_mb, args.depth)
    if args.show_plain:
        print(plain_script(sim, args.cores), end="")
        return 0
    print(f"machine: {machine()}\nhelgenom {commit()}, workdir {base}")
    runs: dict[str, list[Run]] = {"plain": [], "workflow": []}
    for repeat in range(args.repeats):
        order = ["plain", "workflow"] if repeat % 2 == 0 else ["workflow", "plain"]
        for kind in order:
            if kind == "plain" and args.skip_plain:
                continue
            folder = base / f"run-{kind}-{repeat + 1}"
            run = (run_plain if kind == "plain" else run_workflow)(sim, folder, args.cores)
            runs[kind].append(run)
            print(f"  repeat {repeat + 1} {kind:<8} wall {run.wall:7.1f} s  CPU {run.cpu:7.1f} s"
                  f"  (load {os.getloadavg()[0]:.2f})", flush=True)
            if kind == "plain" and not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    median = {kind: (statistics.median(r.wall for r in rs), statistics.median(r.cpu for r in rs))
              for kind, rs in runs.items() if rs}
    print(f"\n{'':<10} {'wall s (median)':>16} {'CPU s (median)':>15}   runs")
    for kind, (wall, cpu) in median.items():
        print(f"{kind:<10} {wall:>16.1f} {cpu:>15.1f}   "
              + ", ".join(f"{r.wall:.1f}" for r in runs[kind]))
    result: dict = {"machine": machine(), "commit": commit(), "size_mb": args.size_mb,
                    "depth": args.depth, "cores": args.cores,
                    "runs": {k: [(r.wall, r.cpu) for r in rs] for k, rs in runs.items()}}
    if "plain" in median:
        ratio = median["workflow"][0] / median["plain"][0]
        print(f"workflow / plain: {ratio:.2f} by wall (goal <= {GOAL}), "
              f"{median['workflow'][1] / median['plain'][1]:.2f} by CPU -> "
              f"{'PASS' if ratio <= GOAL else 'FAIL'}")
        result["ratio_wall"] = ratio
        # Neither side can be faster than its CPU time spread over every core.
        floor = median["workflow"][1] / args.cores
        busy = {kind: cpu / wall / args.cores for kind, (wall, cpu) in median.items()}
        print(f"  the workflow's floor (its CPU s / {args.cores} cores): {floor:.1f} s = "
              f"{floor / median['plain'][0]:.2f}x the plain script's wall; cores kept busy: "
              f"plain {busy['plain']:.0%}, workflow {busy['workflow']:.0%}")
        result["floor_ratio"] = floor / median["plain"][0]
    if runs["plain"]:
        phases = plain_phases(runs["plain"][-1])
        print("plain script, last run, per step (wall s): "
              + ", ".join(f"{name} {t:.1f}" for name, t in phases))
        result["plain_phases"] = phases
    last = runs["workflow"][-1]
    figures = report_workflow(last, args.cores)
    result["workflow"] = figures
    result["startup"] = report_startup(figures["helgenom_commands"],
                                       figures["helgenom_jobs_wall"], figures["helgenom_jobs"])
    config = yaml.safe_load((Path(last.folder) / "config.yaml").read_text())
    if args.scatter_mb:
        schema = (REPO / "workflow" / "helgenom" / "data" / "schemas" / "config.schema.yaml")
        if "scatter_mb" not in schema.read_text():
            print("\ncalling.scatter_mb: not in this workflow's config schema; skipped")
        else:
            print(f"\nsmall-variant calling stage per calling.scatter_mb (default "
                  f"{config.get('calling', {}).get('scatter_mb', 'from config/config.yaml')}),"
                  f" --cores {args.cores}:")
            print(f"  {'scatter Mb':>10} {'regions':>7} {'sum wall':>8} {'longest':>8} "
                  f"{'gather':>7} {'crit. path':>10} {'stage wall':>10}")
            rows = []
            for value in args.scatter_mb:
                row = scatter_stage(Path(last.folder), args.cores, value)
                rows.append(row)
                print(f"  {value:>10g} {row['regions']:>7} {row['region_wall_sum']:>8.1f} "
                      f"{row['region_wall_max']:>8.1f} {row['gather_wall']:>7.1f} "
                      f"{row['critical_path']:>10.1f} {row['stage_wall']:>10.1f}", flush=True)
            result["scatter"] = rows
    out = base / "bench_workflow.json"
    out.write_text(json.dumps(result, indent=1, default=lambda o: asdict(o)))
    print(f"\nfigures: {out}")
    if not args.keep:
        for rs in runs.values():
            for run in rs[:-1]:
                shutil.rmtree(run.folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
