"""The workflow parses, lints clean and plans the expected jobs; bad input stops it early."""

from __future__ import annotations

import re
import shutil

import pytest
from helpers import snakemake


def test_dry_run_plans_every_stage(small_demo):
    result = snakemake(small_demo, "--dry-run", "--cores", "2")
    assert result.returncode == 0, result.stderr
    planned = set(re.findall(r"^rule (\w+):", result.stdout, flags=re.M))
    assert {"fastp", "bwa_mem", "markdup", "samtools_stats", "mosdepth", "bcftools_call",
            "gather_snv", "annotate_snv", "delly_call", "rank", "multiqc", "pedigree"} <= planned
    # The proband has two lanes: two fastp and two bwa jobs, one merged markdup.
    assert result.stdout.count("rule markdup:") == 3


def test_lint_is_clean(small_demo):
    result = snakemake(small_demo, "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr


@pytest.mark.parametrize("setting", ["calling={'snv_caller': 'freebayes'}",
                                     "alignment={'cram': True}"])
def test_config_choices_plan_their_rules(small_demo, setting):
    result = snakemake(small_demo, "--dry-run", "--cores", "2", "--config", setting)
    assert result.returncode == 0, result.stderr
    if "freebayes" in setting:
        assert "rule freebayes_call:" in result.stdout
        assert "rule bcftools_call:" not in result.stdout
    else:
        assert "results/alignment/demo-proband.cram" in result.stdout


def test_bad_sample_sheet_stops_the_run_before_any_job(small_demo, tmp_path):
    workdir = tmp_path / "bad"
    shutil.copytree(small_demo, workdir)
    sheet = workdir / "samples.tsv"
    lines = sheet.read_text().splitlines()
    lines[2] = lines[2].replace("female", "F")
    sheet.write_text("\n".join(lines) + "\n")
    result = snakemake(workdir, "--cores", "2")
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "samples.tsv:3" in message and "'sex'" in message and "'F'" in message
    assert not (workdir / "results").exists()
    assert not (workdir / "qc").exists()
