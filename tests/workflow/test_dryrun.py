"""The workflow parses, lints clean and plans the expected jobs; bad input stops it early."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml
from helpers import snakemake


def job_counts(stdout: str) -> dict[str, int]:
    """The 'Job stats' table of a dry-run: rule -> number of jobs."""
    table = stdout.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def dry_run(workdir, *args) -> dict[str, int]:
    result = snakemake(workdir, "--dry-run", "--cores", "2", *args)
    assert result.returncode == 0, result.stderr
    return job_counts(result.stdout)


def test_dry_run_plans_every_stage(small_demo):
    jobs = dry_run(small_demo)
    assert {"bwa_mem", "markdup", "alignment_qc", "bcftools_call",
            "annotate_snv", "delly_call", "rank", "multiqc", "pedigree"} <= set(jobs)
    # Sub-second steps share a job with the step they follow (a cluster job costs more).
    assert not {"ploidy", "gather_snv", "delly_vcf", "samtools_stats", "mosdepth"} & set(jobs)
    assert jobs["alignment_qc"] == 3
    # Four units (the proband has two lanes; fastp streams into bwa mem in the same job),
    # three samples, three contigs, one family.
    assert (jobs["bwa_mem"], jobs["markdup"]) == (4, 3) and "fastp" not in jobs
    assert (jobs["bcftools_call"], jobs["rank"]) == (3, 1)
    # The clinicians' deliverables: a workbook and a report per family, one index page.
    assert (jobs["workbook"], jobs["report"], jobs["report_index"]) == (1, 1, 1)
    # SVs: delly per family, TIDDIT per sample, the depth caller, one merge per family
    assert (jobs["delly_call"], jobs["tiddit_call"], jobs["cnv_call"], jobs["sv_merge"]) == (
        1, 3, 1, 1)
    assert "manta_call" not in jobs and "cnvnator_call" not in jobs
    # The run manifest, after everything, with the versions probed once per conda env (all
    # envs of workflow/envs/ but those of callers not configured: freebayes, manta, cnvnator).
    assert (jobs["manifest"], jobs["tool_versions"]) == (1, 7)


def test_cluster_sv_callers_are_planned_and_merged(small_demo, tmp_path):
    """Manta and CNVnator cannot run here (conda envs only): plan them, check the merge."""
    config = yaml.safe_load((small_demo / "config.yaml").read_text())
    config["calling"]["sv_callers"] = ["manta", "cnvnator", "delly"]
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    result = snakemake(small_demo, "--dry-run", "--cores", "2", "--printshellcmds",
                       configfile=configfile)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = job_counts(result.stdout)
    assert (jobs["manta_call"], jobs["cnvnator_call"], jobs["delly_call"]) == (1, 3, 1)
    assert "tiddit_call" not in jobs
    merge = next(line for line in result.stdout.splitlines()
                 if "helgenom svmerge --family" in line)
    assert "--call manta=calling/manta/DEMO.vcf.gz" in merge
    assert "--call cnvnator:demo-proband=calling/cnvnator/demo-proband.vcf.gz" in merge
    assert "--call delly=calling/delly/DEMO.vcf.gz" in merge
    assert "--population-sv reference/population_sv.vcf.gz" in merge
    config["calling"]["sv_callers"] = ["lumpy"]
    configfile.write_text(yaml.safe_dump(config))
    result = snakemake(small_demo, "--dry-run", "--cores", "2", configfile=configfile)
    assert result.returncode != 0 and "calling.sv_callers" in result.stdout + result.stderr


def test_manifest_depends_on_every_delivered_result(small_demo):
    result = snakemake(small_demo, "--forceall", "--rulegraph")
    assert result.returncode == 0, result.stderr
    names = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)"', result.stdout, re.M))
    edges = {(names[a], names[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)$",
                                                         result.stdout, re.M)}
    into_manifest = {a for a, b in edges if b == "manifest"}
    # Every rule writing under results/, and the version probes; the manifest feeds `all`.
    assert into_manifest == {"rank", "family_qc", "multiqc", "cnv_call", "upd", "pedigree",
                             "markdup", "workbook", "report", "report_index",
                             "tool_versions"}, into_manifest
    assert ("manifest", "all") in edges and not {b for a, b in edges if a == "manifest"} - {"all"}


def test_lint_is_clean(small_demo):
    result = snakemake(small_demo, "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr


@pytest.mark.parametrize(("section", "key", "value"), [("calling", "snv_caller", "freebayes"),
                                                   ("alignment", "cram", True)])
def test_config_choices_plan_their_rules(small_demo, tmp_path, section, key, value):
    config = yaml.safe_load((small_demo / "config.yaml").read_text())
    config[section][key] = value
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    result = snakemake(small_demo, "--dry-run", "--cores", "2", configfile=configfile)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = job_counts(result.stdout)
    if key == "snv_caller":
        assert jobs.get("freebayes_call") == 3 and "bcftools_call" not in jobs
        assert jobs["tool_versions"] == 8  # + the freebayes env
    else:
        assert "results/alignment/demo-proband.cram" in result.stdout


def test_config_error_names_the_key_and_stops(small_demo, tmp_path):
    config = yaml.safe_load((small_demo / "config.yaml").read_text())
    config["calling"]["snv_caller"] = "gatk"
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    result = snakemake(small_demo, "--dry-run", "--cores", "2", configfile=configfile)
    assert result.returncode != 0
    assert "calling.snv_caller" in result.stdout + result.stderr
    assert "'gatk'" in result.stdout + result.stderr


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


def test_scout_config_is_planned_with_clinical_vcfs_of_the_panel(small_demo, tmp_path):
    """With a Scout owner the family's load config is a target; with a gene panel too, its
    clinical VCFs are the ranked records in the panel's genes (research: all of them)."""
    config = yaml.safe_load((small_demo / "config.yaml").read_text())
    plain = snakemake(small_demo, "--dry-run", "--cores", "2")
    assert plain.returncode == 0 and "scout_config" not in job_counts(plain.stdout)
    config["scout"] = {"owner": "cust000", "panels": ["EPILEPSY"]}
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    result = snakemake(small_demo, "--dry-run", "--cores", "2", "--printshellcmds",
                       configfile=configfile)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = job_counts(result.stdout)
    assert jobs["scout_config"] == 1 and "panel_vcf" not in jobs
    command = next(line for line in result.stdout.splitlines()
                   if "helgenom scout-config --family" in line)
    assert "--snv-clinical results/DEMO/DEMO.vcf.gz" in command and "--owner cust000" in command
    assert "--panel EPILEPSY" in command
    panel = small_demo / "panel.txt"
    panel.write_text("SCN2A\n")
    try:
        config["prioritisation"]["panel"] = "panel.txt"
        configfile.write_text(yaml.safe_dump(config))
        result = snakemake(small_demo, "--dry-run", "--cores", "2", "--printshellcmds",
                           configfile=configfile)
    finally:
        panel.unlink()
    assert result.returncode == 0, result.stdout + result.stderr
    assert job_counts(result.stdout)["panel_vcf"] == 2
    command = next(line for line in result.stdout.splitlines()
                   if "helgenom scout-config --family" in line)
    assert "--snv-clinical results/DEMO/DEMO.clinical_snv.vcf.gz" in command
    assert "--sv-clinical results/DEMO/DEMO.clinical_sv.vcf.gz" in command
    assert "--snv-research results/DEMO/DEMO.vcf.gz" in command


@pytest.mark.parametrize(("freqdb", "expected"), [
    ({"path": "reference/freqdb"}, {"freqdb_annotate": 1, "freqdb_load": 1}),
    ({"path": "reference/freqdb", "load": False}, {"freqdb_annotate": 1, "freqdb_load": 0}),
    ({"path": ""}, {"freqdb_annotate": 0, "freqdb_load": 0}),
])
def test_frequency_database_plans_annotate_and_load(small_demo, tmp_path, freqdb, expected):
    """With freqdb.path the family is annotated before ranking and loaded after it; load:
    false annotates only; no path, neither."""
    config = yaml.safe_load((small_demo / "config.yaml").read_text())
    config["freqdb"] = freqdb
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    result = snakemake(small_demo, "--dry-run", "--cores", "2", configfile=configfile)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = job_counts(result.stdout)
    assert {rule: jobs.get(rule, 0) for rule in expected} == expected
