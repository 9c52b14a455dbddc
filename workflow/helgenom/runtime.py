"""Process environment for the workflow's jobs (called once from workflow/rules/common.smk),
and the jobs' resources (threads, memory, run time), sized by their inputs."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COMMAND_VARIABLE = "HELGENOM_SNAKEMAKE_COMMAND"
SOURCE_VARIABLE = "HELGENOM_SRC"


def workflow_root() -> Path:
    """The workflow checkout (Snakefile, envs, site overlays): HELGENOM_SRC when set (the
    Snakefile sets it), else the checkout this package is imported from. For a package
    installed from a wheel outside a checkout, paths under it do not exist."""
    source = os.environ.get(SOURCE_VARIABLE)
    return Path(source) if source else Path(__file__).resolve().parents[2]


def prepare_job_environment(workflow_dir: str | Path) -> None:
    """Make `helgenom` callable from every job.

    Without --sdm conda, jobs find `helgenom` next to the Python that runs Snakemake; with
    --sdm conda, envs/helgenom.post-deploy.sh installs this checkout (HELGENOM_SRC) into the
    rule's env.
    """
    os.environ.setdefault(SOURCE_VARIABLE, str(Path(workflow_dir).resolve().parent))
    # The command line as typed, for the run manifest: `run:` jobs (the manifest's) run in a
    # Snakemake subprocess, which inherits this variable but has an argv of its own.
    os.environ.setdefault(COMMAND_VARIABLE, json.dumps(sys.argv))
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{path}" if path else bin_dir


def snakemake_command() -> list[str]:
    """The command line that started the run (recorded by `prepare_job_environment`)."""
    return json.loads(os.environ.get(COMMAND_VARIABLE) or json.dumps(sys.argv))


# ---- Job resources (threads, mem_mb, runtime) sized for a 30x genome -----------------------
# Each rule's figures are a base plus terms that grow with the size of the job's own inputs,
# times the attempt: the demo asks little, a 30x genome enough, and a job killed for memory
# or time is retried with twice as much. How the coefficients were measured and scaled:
# docs/resources.md (tests/benchmarks/bench_resources.py).

GB = 1 << 30


def _input_gb(input: Any, names: Iterable[str]) -> float:
    """GB of the job's inputs named `names` that exist (0 for a dry run's missing files)."""
    total = 0
    for name in names:
        value = input.get(name, []) if hasattr(input, "get") else []
        for path in [value] if isinstance(value, str) else value:
            with suppress(OSError):
                total += os.stat(path).st_size
    return total / GB


@dataclass(frozen=True)
class JobResources:
    """A rule's threads, and its memory (MB) and run time (minutes) for a first attempt:

    mem_mb  = mem_base + mem_per_thread x threads + sum(mem_per_gb[name] x GB of input name)
    runtime = time_base + sum(cpu_min_per_gb[name] x GB of input name) / threads

    both times the attempt (runtime with a `time_min` floor). `cpu_min_per_gb` is CPU minutes
    per GB of input: a job given fewer threads (--max-threads, --cores) asks for more time.
    """

    threads: int = 1
    mem_base: int = 1000
    mem_per_thread: int = 0
    mem_per_gb: Mapping[str, float] = field(default_factory=dict)
    time_base: int = 10
    cpu_min_per_gb: Mapping[str, float] = field(default_factory=dict)

    def mem_mb(self, wildcards: Any, input: Any, threads: int, attempt: int) -> int:
        extra = sum(mb * _input_gb(input, [name]) for name, mb in self.mem_per_gb.items())
        return attempt * math.ceil(self.mem_base + self.mem_per_thread * threads + extra)

    def runtime(self, wildcards: Any, input: Any, threads: int, attempt: int) -> int:
        cpu = sum(m * _input_gb(input, [name]) for name, m in self.cpu_min_per_gb.items())
        return attempt * math.ceil(self.time_base + cpu / max(threads, 1))


# Per rule (workflow/rules/*.smk; snv.smk, mito.smk and repeats.smk set their own): see
# docs/resources.md for the measurements, the fit and the 30x figures these give.
JOB_RESOURCES: dict[str, JobResources] = {
    # fastp (1 thread) | bwa mem | fixmate | sort, per sequencing unit: fastp's ~1.5 GB, the
    # BWA index in memory (~1.15x its files), samtools sort's 1 GB per thread; ~85 CPU-h per
    # 30x sample (~65 GB of FASTQ.gz), of it ~80 for bwa mem on human reads (assumed).
    "bwa_mem": JobResources(threads=16, mem_base=1500, mem_per_thread=1100,
                            mem_per_gb={"index": 1150}, time_base=20,
                            cpu_min_per_gb={"fq1": 80, "fq2": 80}),
    # Inflates both FASTQs once (ISA-L, one thread).
    "fastq_check": JobResources(mem_base=500, time_base=10,
                                cpu_min_per_gb={"fq1": 0.4, "fq2": 0.4}),
    # samtools merge | markdup -@ | index, per sample, on the units' uncompressed BAMs.
    "markdup": JobResources(threads=4, mem_base=2000, time_base=20,
                            cpu_min_per_gb={"bams": 1.0}),
    # samtools stats and flagstat, mosdepth (per-base depth of the longest contig in memory,
    # 4 bytes a base) on the sample's BAM; samtools stats works on one thread.
    "alignment_qc": JobResources(threads=4, mem_base=1000, mem_per_gb={"fasta": 1400},
                                 time_base=20, cpu_min_per_gb={"aln": 4}),
    # delly call of the family (one thread; memory grows with the longest contig).
    "delly_call": JobResources(mem_base=1000, mem_per_gb={"fasta": 2500}, time_base=30,
                               cpu_min_per_gb={"alns": 5}),
    "tiddit_call": JobResources(threads=2, mem_base=1000, mem_per_gb={"fasta": 1300},
                                time_base=30, cpu_min_per_gb={"aln": 3}),
    # Conda envs only (not run here): the tools' documented needs.
    "manta_call": JobResources(threads=16, mem_base=2000, mem_per_thread=1000, time_base=30,
                               cpu_min_per_gb={"alns": 3}),
    "cnvnator_call": JobResources(mem_base=2000, mem_per_gb={"fasta": 2000}, time_base=30,
                                  cpu_min_per_gb={"aln": 4}),
    # helgenom cnv: the family's 1-kb depth bins (~3.1M per sample on GRCh38).
    "cnv_call": JobResources(mem_base=1000, mem_per_gb={"fasta": 1000}, time_base=30),
}
