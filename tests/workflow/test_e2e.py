"""End to end: the real workflow on the simulated demo trio, checked against planted truth."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess

import pandas as pd
import pytest
from helpers import WORKFLOW_TOOLS, need_tools, read_candidates, snakemake

pytestmark = pytest.mark.e2e
SAMPLES = ["demo-father", "demo-mother", "demo-proband"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    need_tools(*WORKFLOW_TOOLS)
    from helgenom.simulate import simulate

    workdir = tmp_path_factory.mktemp("demo")
    simulate(workdir, seed=1)
    result = snakemake(workdir, "--cores", "2")
    assert result.returncode == 0, result.stderr[-5000:]
    truth = pd.read_csv(workdir / "truth.tsv", sep="\t", dtype=str, keep_default_na=False)
    return workdir, truth


def query(vcf, fmt: str) -> list[list[str]]:
    out = subprocess.run(["bcftools", "query", "-f", fmt, str(vcf)], check=True,
                         capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def same_gt(called: str, expected: str) -> bool:
    return sorted(called.replace("|", "/").split("/")) == sorted(expected.split("/"))


def test_every_planted_small_variant_is_called_with_the_trio_genotypes(demo_run):
    workdir, truth = demo_run
    calls = {(r[0], r[1], r[2], r[3]): r[4:] for r in query(
        workdir / "results/DEMO/DEMO.vcf.gz", "%CHROM\t%POS\t%REF\t%ALT[\t%GT]\n")}
    header = subprocess.run(["bcftools", "query", "-l", str(workdir / "results/DEMO/DEMO.vcf.gz")],
                            capture_output=True, text=True, check=True).stdout.split()
    for _, planted in truth[truth["type"] == "SNV"].iterrows():
        key = (planted["chrom"], planted["pos"], planted["ref"], planted["alt"])
        assert key in calls, f"planted {planted['id']} {key} not called"
        for sample, gt in zip(header, calls[key], strict=True):
            assert same_gt(gt, planted[sample]), (planted["id"], sample, gt, planted[sample])


def test_both_planted_deletions_are_called_with_their_carriers(demo_run):
    workdir, truth = demo_run
    svs = query(workdir / "results/DEMO/DEMO.sv.vcf.gz",
                "%CHROM\t%POS\t%INFO/END\t%INFO/SVTYPE[\t%SAMPLE=%GT]\n")
    for _, planted in truth[truth["type"] == "DEL"].iterrows():
        start, end = int(planted["pos"]), int(planted["end"])
        hits = [r for r in svs if r[0] == planted["chrom"] and r[3] == "DEL"
                and abs(int(r[1]) - start) <= 150 and abs(int(r[2]) - end) <= 150]
        assert hits, f"deletion {planted['id']} at {planted['chrom']}:{start}-{end} not called"
        genotypes = dict(cell.split("=") for cell in hits[0][4:])
        for sample in SAMPLES:
            assert same_gt(genotypes[sample], planted[sample]), (planted["id"], sample, genotypes)


def test_planted_variants_carry_their_model_and_rank_first(demo_run):
    workdir, truth = demo_run
    qc_lines, ranked = read_candidates(workdir / "results/DEMO/DEMO.candidates.tsv")
    # The QC verdict heads the list; the demo trio passes every gate.
    assert qc_lines and qc_lines[0].startswith("## QC: PASS"), qc_lines
    ranks = {}
    for _, planted in truth[truth["type"] == "SNV"].iterrows():
        row = ranked[(ranked["chrom"] == planted["chrom"]) & (ranked["pos"] == planted["pos"])
                     & (ranked["alt"] == planted["alt"])]
        assert len(row) == 1, f"{planted['id']} is not in the candidate list"
        assert planted["inheritance"] in row["models"].iloc[0].split("|"), (
            planted["id"], row["models"].iloc[0])
        assert planted["gene"] == row["gene"].iloc[0]
        ranks[planted["id"]] = int(row["rank"].iloc[0])
    de_novo_sv = truth[(truth["type"] == "DEL") & (truth["inheritance"] == "de_novo")].iloc[0]
    sv = ranked[(ranked["type"] == "SV") & (ranked["gene"] == de_novo_sv["gene"])]
    assert len(sv) == 1 and "AD_dn" in sv["models"].iloc[0].split("|")
    ranks[de_novo_sv["id"]] = int(sv["rank"].iloc[0])
    # The inherited deletion (from the unaffected father) fits no model: not a candidate.
    inherited = truth[truth["inheritance"] == "inherited_paternal"].iloc[0]
    assert not ((ranked["chrom"] == inherited["chrom"]) & (ranked["type"] == "SV")
                & (ranked["pos"].astype(int).sub(int(inherited["pos"])).abs() < 200)).any()
    # The six planted candidates are the top six rows, and with the proband's HPO terms
    # (seizure, global developmental delay) the SCN2A de novo is first.
    assert sorted(ranks.values()) == list(range(1, 7)), ranks
    assert ranks["SCN2A_missense_dn"] == 1, ranks
    # On variant evidence alone (the rank model's score) the planted small variants lead.
    by_score = ranked.assign(score=ranked["score"].astype(float)).sort_values(
        "score", ascending=False, kind="stable")
    top_small = by_score[by_score["type"] != "SV"].head(5)
    assert set(top_small["pos"]) == set(truth.loc[truth["type"] == "SNV", "pos"])


def test_qc_report_and_pedigree_are_delivered(demo_run):
    workdir, _ = demo_run
    report = (workdir / "results/multiqc/multiqc_report.html").read_text()
    assert "fastp" in report and "mosdepth" in report and "demo-proband" in report
    ped = (workdir / "results/DEMO/DEMO.ped").read_text().splitlines()
    assert "DEMO\tdemo-proband\tdemo-father\tdemo-mother\t1\t2" in ped


def test_family_qc_passes_the_demo_trio_and_reaches_multiqc(demo_run):
    workdir, _ = demo_run
    qc = pd.read_csv(workdir / "results/DEMO/DEMO.qc.tsv", sep="\t", dtype=str,
                     keep_default_na=False)
    verdicts = qc[qc["metric"] == "verdict"].set_index("unit")["verdict"].to_dict()
    assert verdicts == {"demo-father": "PASS", "demo-mother": "PASS", "demo-proband": "PASS",
                        "DEMO": "PASS"}
    kinship = qc[qc["metric"].str.startswith("kinship")]
    assert len(kinship) >= 3 and set(kinship["verdict"]) == {"PASS"}
    report = (workdir / "results/multiqc/multiqc_report.html").read_text()
    assert "helgenom_qc_verdicts" in report and "helgenom_qc_relatedness" in report


def test_depth_caller_finds_both_deletions_and_no_upd(demo_run):
    workdir, truth = demo_run
    cnvs = query(workdir / "results/DEMO/DEMO.cnv.vcf.gz",
                 "%CHROM\t%POS\t%INFO/END\t%INFO/SVTYPE[\t%SAMPLE=%GT]\n")
    for _, planted in truth[truth["type"] == "DEL"].iterrows():
        start, end = int(planted["pos"]), int(planted["end"])
        # 1-kb bins: the call may start and end up to a bin away from the breakpoints.
        hits = [r for r in cnvs if r[0] == planted["chrom"] and r[3] == "DEL"
                and abs(int(r[1]) - start) <= 1000 and abs(int(r[2]) - end) <= 1000]
        assert hits, f"{planted['id']} not called from depth: {cnvs}"
        genotypes = dict(cell.split("=") for cell in hits[0][4:])
        for sample in SAMPLES:
            assert same_gt(genotypes[sample], planted[sample]), (planted["id"], genotypes)
    upd = pd.read_csv(workdir / "results/DEMO/DEMO.upd.tsv", sep="\t")
    assert set(upd["call"]) == {"none"} and set(upd["chrom"]) == {"chr1", "chr2"}


def test_run_manifest_names_the_tools_run_and_checksums_the_results(demo_run):
    workdir, _ = demo_run
    manifest = json.loads((workdir / "results/manifest.json").read_text())
    tools = manifest["tools"]
    # The versions the jobs' tools report (no --sdm conda here: the ones on PATH).
    for tool in ("samtools", "bcftools"):
        reported = subprocess.run([tool, "--version"], capture_output=True, text=True,
                                  errors="replace", check=True).stdout.split()[1]
        assert tools[tool] == reported, (tool, tools)
    assert re.fullmatch(r"0\.7\.\d+\S*", tools["bwa"]), tools
    for tool in ("fastp", "mosdepth", "delly", "multiqc", "python", "snakemake"):
        assert re.match(r"\d+\.\d+", tools[tool]), (tool, tools)
    assert set(manifest["tools_by_env"]["bwa"]) == {"bwa", "samtools"}
    outputs = {record["path"]: record for record in manifest["outputs"]}
    for path in ("results/DEMO/DEMO.candidates.tsv", "results/DEMO/DEMO.vcf.gz",
                 "results/DEMO/DEMO.qc.tsv", "results/multiqc/multiqc_report.html",
                 "results/alignment/demo-proband.bam"):
        digest = hashlib.sha256((workdir / path).read_bytes()).hexdigest()
        assert outputs[path]["sha256"] == digest, path
    inputs = {record["path"] for record in manifest["inputs"]}
    assert {"config.yaml", "samples.tsv", "fastq/demo-proband_L002_R1.fastq.gz",
            "reference/genome.fa"} <= inputs
    assert manifest["summary"]["missing"] == [] and manifest["config"]["gmc"] == "demo"
    assert "--cores" in manifest["command"]  # the command as typed, not the job's


def test_a_finished_run_has_nothing_left_to_do(demo_run):
    workdir, _ = demo_run
    result = snakemake(workdir, "--dry-run", "--cores", "2")
    assert result.returncode == 0, result.stderr
    assert "Nothing to be done" in result.stdout + result.stderr, result.stdout[-3000:]
    assert not (workdir / "versions").exists() or not any((workdir / "versions").iterdir())
