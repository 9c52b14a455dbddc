"""The workflow parses, lints clean and plans the expected jobs; bad input stops it early."""

from __future__ import annotations

import json
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


def repeats_config(small_demo, tmp_path, **repeats):
    """The demo's config with `repeats` set; ExpansionHunter's catalog: two loci on the
    demo's contigs (the bundled GRCh38 catalog's are far beyond its ends)."""
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps([
        {"LocusId": "DMPK", "LocusStructure": "(CAG)*", "ReferenceRegion": "chr1:1000-1030",
         "VariantType": "Repeat", "NormalMax": 34, "PathologicMin": 50, "Disease": "DM1",
         "InheritanceMode": "AD"},
        {"LocusId": "FMR1", "LocusStructure": "(CGG)*", "ReferenceRegion": "chrX:2000-2060",
         "VariantType": "Repeat", "NormalMax": 55, "PathologicMin": 200,
         "Disease": "FragileX", "InheritanceMode": "XR"}]))
    config = yaml.safe_load((small_demo / "config.yaml").read_text())
    config["repeats"] = {"catalog": str(catalog), **repeats}
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    return config, configfile


def test_repeat_expansions_are_planned_and_reach_the_clinicians_outputs(small_demo, tmp_path):
    """ExpansionHunter per sample, one merge, Stranger and helgenom repeats per family; the
    report, workbook and Scout config take the family's repeats (not run here: conda envs)."""
    config, configfile = repeats_config(small_demo, tmp_path, expansionhunter=True)
    config["scout"] = {"owner": "cust000"}
    configfile.write_text(yaml.safe_dump(config))
    result = snakemake(small_demo, "--dry-run", "--cores", "2", "--printshellcmds",
                       configfile=configfile)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = job_counts(result.stdout)
    assert (jobs["expansionhunter"], jobs["expansionhunter_vcf"], jobs["expansionhunter_merge"],
            jobs["stranger"], jobs["repeats"]) == (3, 3, 1, 1, 1)
    assert "smn_caller" not in jobs and "smn" not in jobs
    lines = result.stdout.splitlines()
    hunter = next(line for line in lines if "(ExpansionHunter --reads" in line
                  and "demo-mother" in line)
    assert f"--variant-catalog {tmp_path}/catalog.json" in hunter and "--sex female" in hunter
    assert "--sex male" in next(line for line in lines if "(ExpansionHunter --reads" in line
                                and "demo-father" in line)
    assert any("bcftools merge -m all" in line for line in lines)
    assert any("(stranger --repeats-file" in line and "--family_id DEMO" in line
               for line in lines)
    # The pathogenic repeats head the delivered candidate list: rank writes its list under
    # prioritisation/, helgenom repeats writes results/DEMO/DEMO.candidates.tsv.
    repeats = next(line for line in lines if "helgenom repeats --vcf" in line)
    assert ("--candidates prioritisation/DEMO.candidates.tsv --candidates-out "
            "results/DEMO/DEMO.candidates.tsv") in repeats
    assert "--candidates-out prioritisation/DEMO.candidates.tsv" in next(
        line for line in lines if "helgenom rank --vcf" in line)
    report = next(line for line in lines if "helgenom report --family" in line)
    assert "--repeats results/DEMO/DEMO.repeats.tsv" in report and "--smn" not in report
    workbook = next(line for line in lines if "helgenom workbook --candidates" in line)
    assert "--repeats results/DEMO/DEMO.repeats.tsv" in workbook
    scout = next(line for line in lines if "helgenom scout-config --family" in line)
    assert "--str-vcf results/DEMO/DEMO.str.vcf.gz" in scout and "--smn-tsv" not in scout


def test_smn_copy_number_is_planned_per_family(small_demo, tmp_path):
    """SMNCopyNumberCaller once per family on its alignments, then helgenom smn; the start
    check wants chr5 (where the caller reads SMN1/SMN2), which the demo reference lacks."""
    config, configfile = repeats_config(small_demo, tmp_path, smn=True)
    result = snakemake(small_demo, "--dry-run", "--cores", "2", configfile=configfile)
    assert result.returncode != 0
    assert "repeats.smn" in result.stdout + result.stderr
    assert "no such contig" in result.stdout + result.stderr
    fasta = tmp_path / "genome.fa"
    fasta.write_text((small_demo / "reference" / "genome.fa").read_text()
                     + ">chr5\n" + "ACGT" * 25 + "\n")
    config["reference"]["fasta"] = str(fasta)
    configfile.write_text(yaml.safe_dump(config))
    result = snakemake(small_demo, "--dry-run", "--cores", "2", "--printshellcmds",
                       configfile=configfile)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = job_counts(result.stdout)
    assert (jobs["smn_caller"], jobs["smn"]) == (1, 1) and "expansionhunter" not in jobs
    caller = next(line for line in result.stdout.splitlines() if "smn_caller.py" in line)
    assert "--genome 38 --prefix DEMO --outDir calling/smn" in caller
    report = next(line for line in result.stdout.splitlines() if "helgenom report --family"
                  in line)
    assert "--smn results/DEMO/DEMO.smn.tsv" in report and "--repeats" not in report


def test_a_catalog_off_the_reference_stops_the_run(small_demo, tmp_path):
    _, configfile = repeats_config(small_demo, tmp_path, expansionhunter=True)
    catalog = tmp_path / "catalog.json"
    catalog.write_text(catalog.read_text().replace("chr1:1000-1030", "chr4:3074876-3074933"))
    result = snakemake(small_demo, "--dry-run", "--cores", "2", configfile=configfile)
    assert result.returncode != 0
    assert (f"{catalog}:1: column 'ReferenceRegion': value 'chr4:3074876-3074933': locus DMPK: "
            "contig chr4 is not in the reference FASTA") in result.stdout + result.stderr
