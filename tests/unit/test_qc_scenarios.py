"""`helgenom qc` on real tool outputs: the simulated demo trio and its failure scenarios.

Each scenario is simulated (0.3 Mb, 25x), then the workflow's QC inputs are made with the rules'
commands (fastp; bwa mem | fixmate | sort; merge | markdup; samtools stats/flagstat; mosdepth
1-kb bins; joint bcftools mpileup | call with the sex ploidy file; norm; population AF) and
`run_qc` runs with the demo thresholds. Alignments are cached by FASTQ content: a scenario only
re-aligns the sample whose reads it changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helgenom.cli.qc import register
from helgenom.io.reference import ploidy_lines
from helgenom.qc.result import QcResult, Row
from helgenom.qc.verdict import header_lines, run_qc
from helgenom.sheets.pedigree import build_families, write_ped
from helgenom.sheets.samplesheet import load_samples, load_units
from helgenom.sheets.thresholds import DEMO_THRESHOLDS
from helgenom.simulate.demo import simulate
from helpers import need_tools

TOOLS = ("bwa", "samtools", "bcftools", "tabix", "bgzip", "fastp", "mosdepth")
SEED, SIZE_MB, DEPTH = 7, 0.3, 25.0
FAMILY, FATHER, MOTHER, PROBAND = "DEMO", "demo-father", "demo-mother", "demo-proband"
SAMPLES = (FATHER, MOTHER, PROBAND)
FASTA = "reference/genome.fa"


def sh(command: str, cwd: Path) -> None:
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{command}\n{proc.stderr[-2000:]}"


def digest(paths: list[Path]) -> str:
    h = hashlib.sha1()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def sample_outputs(sample: str) -> list[str]:
    mosdepth = f"qc/mosdepth/{sample}"
    return [f"qc/samtools/{sample}.stats.txt", f"qc/samtools/{sample}.flagstat.txt",
            f"qc/markdup/{sample}.markdup.txt", f"{mosdepth}.mosdepth.summary.txt",
            f"{mosdepth}.mosdepth.global.dist.txt", f"{mosdepth}.regions.bed.gz",
            f"results/alignment/{sample}.bam", f"results/alignment/{sample}.bam.bai"]


def align(run: Path, sample: str, units: list[tuple[str, str, str]]) -> None:
    """The align.smk and qc.smk commands for one sample (trimmed reads kept uncompressed)."""
    for folder in (f"qc/fastp/{sample}", "qc/samtools", "qc/markdup", "qc/mosdepth",
                   "results/alignment", "tmp"):
        (run / folder).mkdir(parents=True, exist_ok=True)
    bams = []
    for unit, fq1, fq2 in units:
        tmp = f"tmp/{sample}.{unit}"
        rg = rf"@RG\tID:{sample}.{unit}\tSM:{sample}\tLB:{sample}\tPL:ILLUMINA\tPU:{unit}"
        sh(f"fastp --in1 {fq1} --in2 {fq2} --out1 {tmp}.R1.fq --out2 {tmp}.R2.fq"
           f" --detect_adapter_for_pe --thread 1 --json qc/fastp/{sample}/{unit}.fastp.json"
           f" --html {tmp}.html"
           f" && bwa mem -t 1 -Y -R '{rg}' {FASTA} {tmp}.R1.fq {tmp}.R2.fq 2> /dev/null"
           f" | samtools fixmate -m -u - - | samtools sort -u -T {tmp}.sort -o {tmp}.bam -", run)
        bams.append(f"{tmp}.bam")
    bam = f"results/alignment/{sample}.bam"
    sh(f"samtools merge -u -o - {' '.join(bams)}"
       f" | samtools markdup -f qc/markdup/{sample}.markdup.txt -T tmp/{sample}.md"
       f" --reference {FASTA} - {bam} && samtools index {bam}"
       f" && samtools stats --reference {FASTA} {bam} > qc/samtools/{sample}.stats.txt"
       f" && samtools flagstat {bam} > qc/samtools/{sample}.flagstat.txt"
       f" && mosdepth --no-per-base --fast-mode --by 1000 --fasta {FASTA}"
       f" qc/mosdepth/{sample} {bam}", run)


def make_qc_inputs(run: Path, cache: Path) -> None:
    """Everything `helgenom qc` reads, under `run` (the scenario's working directory)."""
    reference = cache / f"reference-{digest([run / FASTA])}"
    if not reference.is_dir():
        staging = cache / "reference-staging"
        staging.mkdir(parents=True)
        shutil.copy(run / FASTA, staging)
        sh("bwa index genome.fa 2> /dev/null", staging)
        staging.rename(reference)
    for index in reference.iterdir():
        shutil.copy(index, run / "reference")
    samples, _ = load_samples(run / "samples.tsv")
    units, _ = load_units(run / "units.tsv", {s.sample for s in samples}, run)
    todo = {}
    for s in samples:
        mine = [(u.unit, u.fq1, u.fq2) for u in units if u.sample == s.sample]
        key = cache / f"{s.sample}-{digest([run / f for _, *fq in mine for f in fq])}"
        todo[s.sample] = (key, mine)
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda s: align(run, s, todo[s][1]),
                      [s for s, (key, _) in todo.items() if not key.is_dir()]))
    for sample, (key, _) in todo.items():
        if not key.is_dir():
            for rel in [*sample_outputs(sample), f"qc/fastp/{sample}"]:
                copy = shutil.copytree if (run / rel).is_dir() else shutil.copy
                (key / rel).parent.mkdir(parents=True, exist_ok=True)
                copy(run / rel, key / rel)
        shutil.copytree(key, run, dirs_exist_ok=True)

    family = build_families(samples)[FAMILY]
    write_ped(family, run / f"results/{FAMILY}/{FAMILY}.ped")
    (run / "tmp").mkdir(exist_ok=True)
    (run / "tmp/ploidy.txt").write_text("\n".join(ploidy_lines("chrX", "chrY", [])) + "\n")
    (run / "tmp/sexes.txt").write_text("".join(
        f"{m.sample}\t{'M' if m.sex == 'male' else 'F'}\n" for m in family.members))
    (run / "annotation").mkdir(exist_ok=True)
    bams = " ".join(f"results/alignment/{m.sample}.bam" for m in family.members)
    vcf = f"annotation/{FAMILY}.snv.vcf.gz"
    sh(f"bcftools mpileup -f {FASTA} -q 20 -Q 13 -a FORMAT/AD,FORMAT/DP -Ou {bams}"
       " | bcftools call -m -v -a GQ --ploidy-file tmp/ploidy.txt -S tmp/sexes.txt -Ou"
       f" | bcftools norm -f {FASTA} -m -any -Oz -o tmp/calls.vcf.gz"
       " && bcftools index -t tmp/calls.vcf.gz"
       " && bcftools annotate -a reference/population.vcf.gz -c INFO/GNOMADAF"
       f" -Oz -o {vcf} tmp/calls.vcf.gz && bcftools index -t {vcf}", run)


def qc_args(run: Path) -> dict[str, Path]:
    return {"ped": run / f"results/{FAMILY}/{FAMILY}.ped",
            "vcf": run / f"annotation/{FAMILY}.snv.vcf.gz", "qc_dir": run / "qc",
            "out": run / f"results/{FAMILY}/{FAMILY}.qc.tsv",
            "mqc_dir": run / f"qc/multiqc/{FAMILY}"}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, QcResult]]:
    """scenario(name) -> (working directory, QC result); 'demo' is the default simulation."""
    need_tools(*TOOLS)
    root = tmp_path_factory.mktemp("qc-scenarios")
    done: dict[str, tuple[Path, QcResult]] = {}

    def get(name: str) -> tuple[Path, QcResult]:
        if name not in done:
            run = root / name
            simulate(run, seed=SEED, size_mb=SIZE_MB, depth=DEPTH,
                     scenario=None if name == "demo" else name)
            make_qc_inputs(run, root / "cache")
            done[name] = run, run_qc(FAMILY, thresholds=DEMO_THRESHOLDS, **qc_args(run))
        return done[name]

    return get


def rows_of(result: QcResult) -> dict[tuple[str, str], Row]:
    return {(r.unit, r.metric): r for r in result.rows}


def graded(result: QcResult, verdict: str) -> list[tuple[str, str]]:
    return [(r.unit, r.metric) for r in result.rows if r.verdict == verdict]


def test_demo_trio_passes_every_gate(scenario: Callable) -> None:
    run, result = scenario("demo")
    assert result.family_verdict == "PASS", result.reasons
    assert result.sample_verdicts == dict.fromkeys(SAMPLES, "PASS")
    assert graded(result, "WARN") == graded(result, "FAIL") == [] and result.reasons == []
    rows = rows_of(result)
    for s in SAMPLES:
        assert 22 < rows[(s, "mean_depth")].value < 27
        assert rows[(s, "mapped_fraction")].value > 0.99
        assert 0.02 < rows[(s, "duplicate_rate")].value < 0.06  # the simulator's 4%
        assert rows[(s, "contamination")].value < 0.01
        assert 330 < rows[(s, "mean_insert_size")].value < 370
    assert rows[(FATHER, "sex")].value == rows[(PROBAND, "sex")].value == "male"
    assert rows[(MOTHER, "sex")].value == "female"
    assert rows[(MOTHER, "x_ratio")].value == pytest.approx(1.0, abs=0.1)
    assert rows[(FATHER, "x_ratio")].value == pytest.approx(0.5, abs=0.1)
    assert rows[(FATHER, "y_ratio")].value is None  # the demo reference has no chrY
    assert rows[(f"{FATHER}~{PROBAND}", "kinship")].value == pytest.approx(0.25, abs=0.05)
    assert rows[(f"{MOTHER}~{PROBAND}", "kinship")].value == pytest.approx(0.25, abs=0.05)
    assert rows[(f"{FATHER}~{MOTHER}", "kinship")].value == pytest.approx(0.0, abs=0.05)
    assert rows[(PROBAND, "mendelian_error_rate")].value < 0.01
    # The simulation plants one de novo small variant (SCN2A_missense_dn; its de novo
    # deletion and duplication are SVs, not in this VCF): it is called as one, and nothing
    # else is.
    assert rows[(PROBAND, "de_novo_candidates")].value == 1
    truth = [line.split("\t") for line in (run / "truth.tsv").read_text().splitlines()[1:]]
    dn = [t for t in truth if t[0].endswith("_dn") and t[1] == "SNV"]
    assert [t[0] for t in dn] == ["SCN2A_missense_dn"]
    _, _, chrom, pos, _, ref, alt, *_ = dn[0]
    site = subprocess.run(
        ["bcftools", "query", "-r", f"{chrom}:{pos}", "-s", f"{PROBAND},{FATHER},{MOTHER}",
         "-f", "%REF %ALT[ %GT]\n", str(run / f"annotation/{FAMILY}.snv.vcf.gz")],
        capture_output=True, text=True, check=True).stdout
    assert site == f"{ref} {alt} 0/1 0/0 0/0\n", site
    assert header_lines(result.tsv) == [
        f"## QC: PASS - all checks of 3 samples and family DEMO passed; see {result.tsv}"]


def test_swap_fails_kinship_naming_both_parent_pairs(scenario: Callable) -> None:
    _, result = scenario("swap")
    rows = rows_of(result)
    assert result.family_verdict == "FAIL"
    for parent in (FATHER, MOTHER):
        row = rows[(f"{parent}~{PROBAND}", "kinship")]
        assert row.verdict == "FAIL" and abs(row.value) < 0.08
        assert row.reason.startswith(f"{parent} vs {PROBAND}: kinship ")
        assert f"{PROBAND} is unrelated to both declared parents" in row.reason
    assert rows[(f"{FATHER}~{MOTHER}", "kinship")].verdict == "PASS"
    assert rows[(PROBAND, "mendelian_error_rate")].verdict == "FAIL"
    # the swapped-in sample is a good sample: its own checks pass
    assert result.sample_verdicts == dict.fromkeys(SAMPLES, "PASS")
    assert result.reasons[0].startswith(f"{FATHER} vs {PROBAND}: kinship")


def test_sex_mismatch_fails_the_father_only(scenario: Callable) -> None:
    _, result = scenario("sex")
    rows = rows_of(result)
    sex = rows[(FATHER, "sex")]
    assert (sex.value, sex.verdict) == ("female", "FAIL")
    assert sex.reason.startswith(f"{FATHER}: declared male, inferred female (chrX/autosome depth")
    assert rows[(FATHER, "x_ratio")].value == pytest.approx(1.0, abs=0.1)
    assert rows[(FATHER, "x_het_fraction")].value > 0.5
    assert result.sample_verdicts == {FATHER: "FAIL", MOTHER: "PASS", PROBAND: "PASS"}
    assert graded(result, "FAIL") == [(FATHER, "sex"), (FATHER, "verdict"), (FAMILY, "verdict")]


def test_contamination_is_estimated_near_ten_percent(scenario: Callable) -> None:
    _, result = scenario("contamination")
    rows = rows_of(result)
    row = rows[(PROBAND, "contamination")]
    assert 0.05 <= row.value <= 0.15 and row.verdict == "FAIL"
    assert row.data["ci_low"] <= 0.10 <= row.data["ci_high"]
    assert row.reason == f"{PROBAND}: contamination {row.value:.3f} (> 0.05)"
    for s in (FATHER, MOTHER):
        assert rows[(s, "contamination")].value < 0.01
    assert result.sample_verdicts == {FATHER: "PASS", MOTHER: "PASS", PROBAND: "FAIL"}
    lines = header_lines(result.json)
    assert lines[0].startswith(f"## QC: FAIL - {row.reason}") and lines[-1].endswith(
        f"see {result.tsv}")
    # The contaminant's alleles can also blur the proband's chrX heterozygosity (sex check):
    # a further reason is about him, never about his parents.
    assert all(line.startswith(f"## QC: also {PROBAND}:") for line in lines[1:-1]), lines


def test_low_depth_fails_that_sample_only(scenario: Callable) -> None:
    _, result = scenario("lowdepth")
    rows = rows_of(result)
    depth = rows[(MOTHER, "mean_depth")]
    assert depth.verdict == "FAIL" and 6 < depth.value < 11
    assert depth.reason == f"{MOTHER}: mean autosomal depth {depth.value:.1f} (< 12)"
    assert rows[(MOTHER, "fraction_20x")].verdict == "FAIL"
    assert rows[(MOTHER, "verdict")].reason == (
        f"{MOTHER}: FAIL: mean autosomal depth (FAIL), fraction of genome >= 20x (FAIL)")
    for s in (FATHER, PROBAND):
        assert rows[(s, "mean_depth")].verdict == "PASS"
    assert result.sample_verdicts == {FATHER: "PASS", MOTHER: "FAIL", PROBAND: "PASS"}
    assert {u for u, _ in graded(result, "FAIL")} == {MOTHER, FAMILY}


def test_scenarios_change_only_their_sample(scenario: Callable) -> None:
    changed = {"swap": PROBAND, "sex": FATHER, "contamination": PROBAND, "lowdepth": MOTHER}
    demo, _ = scenario("demo")
    for name, sample in changed.items():
        run, _ = scenario(name)
        for path in [*sorted((demo / "fastq").iterdir()), demo / "samples.tsv",
                     demo / "truth.tsv"]:
            same = path.read_bytes() == (run / path.relative_to(demo)).read_bytes()
            assert same != path.name.startswith(sample), (name, path.name)
        summary = json.loads((run / "simulation.json").read_text())
        assert summary["scenario"]["name"] == name
    assert "scenario" not in json.loads((demo / "simulation.json").read_text())


def test_scenario_simulation_is_deterministic(tmp_path: Path) -> None:
    need_tools("samtools", "bgzip", "tabix")
    for name in ("a", "b"):
        simulate(tmp_path / name, seed=3, size_mb=0.2, depth=3.0, scenario="contamination")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*"))
    for rel in files:
        if (tmp_path / "a" / rel).is_file():
            assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    with pytest.raises(ValueError, match="unknown scenario"):
        simulate(tmp_path / "c", seed=3, size_mb=0.2, depth=3.0, scenario="typo")


def test_cli_and_multiqc_report(scenario: Callable, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    run, _ = scenario("contamination")
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    thresholds = tmp_path / "thresholds.json"
    thresholds.write_text(json.dumps(DEMO_THRESHOLDS))
    a = qc_args(run)
    out, mqc = tmp_path / "DEMO.qc.tsv", tmp_path / "mqc"
    args = parser.parse_args([
        "qc", "--family", FAMILY, "--ped", str(a["ped"]), "--vcf", str(a["vcf"]),
        "--qc-dir", str(a["qc_dir"]), "--chrx", "chrX", "--chry", "chrY",
        "--af-tag", "GNOMADAF", "--thresholds", str(thresholds), "--out", str(out),
        "--mqc-dir", str(mqc)])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"QC {FAMILY}: FAIL - {PROBAND}: contamination 0.")
    assert out.read_text() == a["out"].read_text()  # the same as run_qc's
    assert json.loads(out.with_suffix(".json").read_text())["verdict"] == "FAIL"

    bad = parser.parse_args(["qc", "--family", "NOPE", "--ped", str(a["ped"]), "--vcf",
                             str(a["vcf"]), "--qc-dir", str(a["qc_dir"]), "--out", str(out)])
    assert bad.func(bad) == 2
    assert "no such family" in capsys.readouterr().err

    multiqc = Path(sys.executable).parent / "multiqc"
    if not multiqc.exists():
        pytest.skip("MultiQC is not installed in this environment")
    report = tmp_path / "report"
    proc = subprocess.run([str(multiqc), "--force", "--no-ai", "-o", str(report), str(mqc),
                           str(a["qc_dir"] / "samtools"), str(a["qc_dir"] / "mosdepth")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (report / "multiqc_report.html").read_text()
    for section in ("helgenom_qc_verdicts", "helgenom_qc_depth", "helgenom_qc_sex",
                    "helgenom_qc_relatedness", "helgenom_qc_relatedness_table"):
        assert f'id="{section}' in html, section
    general = (report / "multiqc_data" / "multiqc_general_stats.txt").read_text()
    assert "helgenom_qc" in general and "FAIL" in general
