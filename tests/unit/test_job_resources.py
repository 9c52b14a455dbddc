"""Job resources sized by the job's inputs (helgenom.runtime.JOB_RESOURCES): the demo asks
little, a 30x genome enough, and every rule that names a table entry has one."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from helgenom.runtime import GB, JOB_RESOURCES, JobResources

RULES = Path(__file__).resolve().parents[2] / "workflow" / "rules"


class Inputs(dict):
    """What Snakemake passes as `input`: named entries, each a path or a list of paths."""


def sparse(path: Path, size: int) -> Path:
    """A file of `size` bytes that takes no disk (its size is all that is read)."""
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def test_memory_and_time_grow_with_the_named_inputs_and_the_attempt(tmp_path: Path) -> None:
    rule = JobResources(threads=4, mem_base=1000, mem_per_thread=100, mem_per_gb={"a": 500},
                        time_base=10, cpu_min_per_gb={"b": 40})
    a = sparse(tmp_path / "a", 2 * GB)
    b = [sparse(tmp_path / "b1", GB), sparse(tmp_path / "b2", GB)]
    inputs = Inputs(a=str(a), b=[str(p) for p in b], other=str(a))
    assert rule.mem_mb(None, inputs, 4, 1) == 1000 + 400 + 1000
    assert rule.mem_mb(None, inputs, 4, 2) == 2 * 2400
    assert rule.runtime(None, inputs, 4, 1) == 10 + 80 // 4
    # Fewer threads (--cores, --max-threads): more time.
    assert rule.runtime(None, inputs, 1, 1) == 10 + 80


def test_a_dry_run_without_the_inputs_gets_the_base(tmp_path: Path) -> None:
    rule = JOB_RESOURCES["bwa_mem"]
    missing = Inputs(fq1=str(tmp_path / "no.fq.gz"), fq2=str(tmp_path / "no2.fq.gz"),
                     index=[str(tmp_path / "no.bwt")])
    assert rule.mem_mb(None, missing, 2, 1) == rule.mem_base + 2 * rule.mem_per_thread
    assert rule.runtime(None, missing, 2, 1) == rule.time_base


@pytest.mark.parametrize("rule", sorted(JOB_RESOURCES))
def test_the_demo_asks_little(rule: str, tmp_path: Path) -> None:
    """Demo-sized inputs (a 1 Mb reference, ~60 MB FASTQs, ~100 MB BAMs): at most 4 GB and
    an hour on a first attempt, with 2 threads."""
    files = {"fasta": 1 << 20, "index": 2 << 20, "fq1": 30 << 20, "fq2": 30 << 20,
             "aln": 100 << 20, "alns": 300 << 20, "bams": 300 << 20}
    inputs = Inputs({name: str(sparse(tmp_path / name, size)) for name, size in files.items()})
    assert JOB_RESOURCES[rule].mem_mb(None, inputs, 2, 1) <= 4000
    assert JOB_RESOURCES[rule].runtime(None, inputs, 2, 1) <= 60


def test_a_30x_sample_gets_what_it_needs(tmp_path: Path) -> None:
    """bwa mem on a 30x sample (~65 GB of FASTQ.gz, a 5.5 GB GRCh38 BWA index) with 16
    threads: the index plus sort buffers in memory, ~85 CPU-h over 16 threads."""
    inputs = Inputs(fq1=str(sparse(tmp_path / "r1", 32 * GB)),
                    fq2=str(sparse(tmp_path / "r2", 33 * GB)),
                    index=[str(sparse(tmp_path / "bwt", int(5.5 * GB)))])
    rule = JOB_RESOURCES["bwa_mem"]
    assert 20_000 <= rule.mem_mb(None, inputs, 16, 1) <= 32_000
    assert 5 * 60 <= rule.runtime(None, inputs, 16, 1) <= 8 * 60


def test_every_rule_that_names_an_entry_has_one() -> None:
    named = set()
    for smk in RULES.glob("*.smk"):
        named |= set(re.findall(r'JOB_RESOURCES\["([a-z_]+)"\]', smk.read_text()))
    assert named, "no rule takes its resources from JOB_RESOURCES"
    assert named <= set(JOB_RESOURCES), named - set(JOB_RESOURCES)


def test_sparse_files_report_their_size(tmp_path: Path) -> None:
    assert os.stat(sparse(tmp_path / "x", 3 * GB)).st_size == 3 * GB
