"""The TIDDIT rule survives a sample without SV candidates and reruns; an empty BAM fails."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import need_tools, snakemake

SAMPLE = "demo-father"
TARGET = f"calling/tiddit/{SAMPLE}.vcf.gz"


def sh(command: str, cwd: Path) -> None:
    subprocess.run(command, shell=True, check=True, cwd=cwd, stderr=subprocess.DEVNULL,
                   executable="/bin/bash")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    need_tools("tiddit", "bwa", "samtools", "bcftools", "tabix", "bgzip")
    from helgenom.simulate.demo import simulate

    run = tmp_path_factory.mktemp("tiddit")
    simulate(run, seed=3, size_mb=0.2, depth=2.0)
    sh("mkdir -p results/alignment && bwa index reference/genome.fa", run)
    return run


def place_bam(run: Path, pairs: int) -> None:
    """The first `pairs` read pairs of the sample aligned, as the workflow's BAM."""
    lines = 4 * pairs
    sh(f"bwa mem -R '@RG\\tID:x\\tSM:{SAMPLE}' reference/genome.fa"
       f" <(zcat fastq/{SAMPLE}_L001_R1.fastq.gz | head -n {lines})"
       f" <(zcat fastq/{SAMPLE}_L001_R2.fastq.gz | head -n {lines})"
       f" | samtools sort -o results/alignment/{SAMPLE}.bam -"
       f" && samtools index results/alignment/{SAMPLE}.bam", run)


def run_tiddit(run: Path, *extra: str):
    return snakemake(run, "--cores", "2", "--allowed-rules", "tiddit_call", *extra, "--", TARGET)


def test_sample_without_candidates_gets_a_header_only_vcf_and_reruns(workdir):
    place_bam(workdir, 300)  # scattered reads: no discordant pair or split-read cluster
    result = run_tiddit(workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    vcf = workdir / TARGET
    records = subprocess.run(["bcftools", "view", "-H", str(vcf)], capture_output=True,
                             text=True, check=True).stdout
    header = subprocess.run(["bcftools", "view", "-h", str(vcf)], capture_output=True,
                            text=True, check=True).stdout
    assert records == "" and header.splitlines()[-1].endswith(SAMPLE)
    assert not (workdir / f"calling/tiddit/{SAMPLE}_tiddit").exists()
    # A leftover work folder from an interrupted run does not break a rerun.
    (workdir / f"calling/tiddit/{SAMPLE}_tiddit/clips").mkdir(parents=True)
    result = run_tiddit(workdir, "--forcerun", "tiddit_call")
    assert result.returncode == 0, result.stdout + result.stderr
    assert vcf.is_file() and not (workdir / f"calling/tiddit/{SAMPLE}_tiddit").exists()


def test_bam_without_reads_is_an_error_and_leaves_no_vcf(workdir):
    place_bam(workdir, 10)
    sh(f"samtools view -H results/alignment/{SAMPLE}.bam | samtools view -b -o empty.bam -"
       f" && mv empty.bam results/alignment/{SAMPLE}.bam"
       f" && samtools index results/alignment/{SAMPLE}.bam", workdir)
    result = run_tiddit(workdir, "--forcerun", "tiddit_call")
    assert result.returncode != 0
    assert not (workdir / TARGET).exists()
    log = (workdir / f"logs/tiddit_call/{SAMPLE}.log").read_text()
    assert "IndexError" in log
