"""The Scout load config (helgenom scout-config): valid for Scout's own models, QC in the peddy
files Scout reads (parsed here with Scout's parsers), relative paths, byte-identical reruns and
one-line errors.

The inputs are written here (a trio's PED, QC JSON in the shape `helgenom qc` writes it, small
VCFs, alignments and a MultiQC report); loading the demo trio's case into Scout is
tests/workflow/test_scout_load.py.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest
import yaml
from helgenom.cli.scout_config import register
from helgenom.report.scout import peddy_files
from helpers import TRIO, bgzip_indexed, need_tools, write_ped, write_vcf

scout_case = pytest.importorskip("scout.parse.case", reason="needs scout-browser (test extra)")
from scout.models.case.case_loading_models import CaseLoader  # noqa: E402
from scout.parse.pedqc import (  # noqa: E402
    parse_peddy_ped,
    parse_peddy_ped_check,
    parse_peddy_sex_check,
)

SAMPLES = ["dad", "mum", "kid"]
GTS = {"dad": "0/1", "mum": "0/0", "kid": "0/1"}


def qc_row(level: str, unit: str, metric: str, value: object, verdict: str, **data: object
           ) -> dict:
    return {"family": "FAM", "level": level, "unit": unit, "metric": metric, "value": value,
            "threshold": "", "verdict": verdict, "detail": "", "reason": "", "data": data}


# dad's sex was not measured (no coverage); the kid is declared male but looks female; the
# mother-child kinship fails its gate (a sample mix-up) while the father's passes.
QC_ROWS = [
    qc_row("sample", "dad", "mean_depth", 31.0, "PASS"),
    qc_row("sample", "dad", "sex", None, "WARN"),
    qc_row("sample", "mum", "sex", "female", "PASS", declared="female"),
    qc_row("sample", "kid", "sex", "female", "FAIL", declared="male"),
    qc_row("pair", "dad~mum", "kinship", 0.012, "PASS", expected=0.0, relationship="unrelated",
           sites=1200),
    qc_row("pair", "dad~kid", "kinship", 0.2437, "PASS", expected=0.25,
           relationship="parent-child", sites=1201),
    qc_row("pair", "mum~kid", "kinship", 0.0031, "FAIL", expected=0.25,
           relationship="parent-child", sites=1202),
    qc_row("family", "FAM", "verdict", "FAIL", "FAIL"),
]


def indexed_vcf(path: Path, samples: list[str], records: list[dict]) -> Path:
    """A small bgzipped VCF with its tabix index (Scout queries VCFs by region)."""
    text = write_vcf(path.with_suffix(".txt"), samples, records).read_text()
    return bgzip_indexed(text, path)


def write_inputs(folder: Path) -> dict[str, Path]:
    need_tools("bgzip", "tabix")
    folder.mkdir(parents=True, exist_ok=True)
    record = {"chrom": "chr1", "pos": 100, "ref": "A", "alt": "T", "gts": GTS, "gene": "G1"}
    paths = {"ped": write_ped(folder / "FAM.ped", TRIO), "qc": folder / "FAM.qc.json",
             "snv": indexed_vcf(folder / "FAM.vcf.gz", SAMPLES, [record]),
             "sv": indexed_vcf(folder / "FAM.sv.vcf.gz", SAMPLES, [record]),
             "multiqc": folder / "multiqc_report.html"}
    paths["qc"].write_text(json.dumps({"family": "FAM", "verdict": "FAIL", "rows": QC_ROWS}))
    paths["multiqc"].write_text("<html>MultiQC</html>")
    for sample in SAMPLES:
        paths[sample] = folder / f"{sample}.bam"
        paths[sample].write_bytes(b"BAM\x01")
    return paths


def arguments(paths: dict[str, Path], out: Path) -> list[str]:
    return ["scout-config", "--family", "FAM", "--ped", str(paths["ped"]), "--qc",
            str(paths["qc"]), "--owner", "cust000", "--snv-clinical", str(paths["snv"]),
            "--snv-research", str(paths["snv"]), "--sv-clinical", str(paths["sv"]),
            "--sv-research", str(paths["sv"]), "--alignments",
            *(f"{s}={paths[s]}" for s in SAMPLES), "--multiqc", str(paths["multiqc"]),
            "--hpo", "FAM:HP:0001250,HP:0001263", "--hpo", "OTHER:HP:0000118",
            "--panel", "OMIM-AUTO", "--rank-score-threshold", "-10", "--out", str(out)]


def run_cli(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="helgenom")
    register(parser.add_subparsers())
    parsed = parser.parse_args(args)
    return parsed.func(parsed)


@pytest.fixture
def written(tmp_path: Path) -> tuple[dict[str, Path], Path]:
    paths = write_inputs(tmp_path / "in")
    out = tmp_path / "results" / "FAM" / "FAM.scout.yaml"
    assert run_cli(arguments(paths, out)) == 0
    return paths, out


def test_the_config_is_a_valid_scout_case(written: tuple[dict[str, Path], Path]) -> None:
    paths, out = written
    config = yaml.safe_load(out.read_text())
    CaseLoader(**config)  # Scout's own model of a load config
    case = scout_case.parse_case_data(config=config)
    assert (case["case_id"], case["display_name"], case["owner"]) == ("FAM", "FAM", "cust000")
    assert case["genome_build"] == "38" and case["track"] == "rare"
    assert (case["rank_model_version"], case["sv_rank_model_version"]) == ("2.0", "1.0")
    assert case["rank_score_threshold"] == -10
    assert case["phenotype_terms"] == ["HP:0001250", "HP:0001263"]  # this family's only
    assert case["gene_panels"] == case["default_panels"] == ["OMIM-AUTO"]
    assert case["multiqc"] == str(paths["multiqc"].resolve())
    assert case["vcf_files"] == {
        "vcf_snv": str(paths["snv"].resolve()), "vcf_snv_research": str(paths["snv"].resolve()),
        "vcf_sv": str(paths["sv"].resolve()), "vcf_sv_research": str(paths["sv"].resolve())}
    members = {ind["individual_id"]: ind for ind in case["individuals"]}
    assert list(members) == SAMPLES
    kid, dad, mum = members["kid"], members["dad"], members["mum"]
    assert (kid["sex"], kid["phenotype"], kid["father"], kid["mother"]) == (
        "male", "affected", "dad", "mum")
    assert (dad["father"], dad["mother"], mum["sex"]) == ("0", "0", "female")
    assert {ind["analysis_type"] for ind in members.values()} == {"wgs"}
    assert dad["bam_file"] == str(paths["dad"].resolve())
    # The QC as Scout reads it from the peddy files: the kid's sex and the mother's
    # parenthood failed, the father's passed, and dad's sex was not checked.
    assert (mum["confirmed_sex"], kid["confirmed_sex"]) == (True, False)
    assert "confirmed_sex" not in dad
    assert (dad["confirmed_parent"], mum["confirmed_parent"]) == (True, False)
    assert {ind["predicted_ancestry"] for ind in members.values()} == {"UNKNOWN"}


def test_the_qc_files_parse_with_scouts_peddy_parsers(
        written: tuple[dict[str, Path], Path]) -> None:
    _, out = written
    ped, check, sex = peddy_files("FAM", out.parent)
    with open(ped) as handle:
        peddy = parse_peddy_ped(handle)
    assert [(r["family_id"], r["sample_id"], r["paternal_id"], r["maternal_id"], r["sex"],
             r["phenotype"]) for r in peddy] == [
        ("FAM", "dad", "0", "0", "1", "1"), ("FAM", "mum", "0", "0", "2", "1"),
        ("FAM", "kid", "dad", "mum", "1", "2")]
    with open(check) as handle:
        pairs = {(r["sample_a"], r["sample_b"]): r for r in parse_peddy_ped_check(handle)}
    assert list(pairs) == [("dad", "mum"), ("dad", "kid"), ("mum", "kid")]
    father, mother, parents = pairs[("dad", "kid")], pairs[("mum", "kid")], pairs[("dad", "mum")]
    assert (father["rel"], father["pedigree_relatedness"], father["n"]) == (0.4874, 0.5, 1201)
    assert father["rel_difference"] == pytest.approx(0.0126)
    assert (father["pedigree_parents"], father["predicted_parents"],
            father["parent_error"]) == (True, True, False)
    assert (mother["parent_error"], mother["predicted_parents"]) == (True, False)
    assert (parents["pedigree_parents"], parents["parent_error"], parents["rel"]) == (
        False, False, 0.024)
    assert not any(r["sample_duplication_error"] for r in pairs.values())
    with open(sex) as handle:
        sexes = {r["sample_id"]: r for r in parse_peddy_sex_check(handle)}
    assert list(sexes) == ["mum", "kid"]  # dad's sex was not measured
    assert (sexes["kid"]["ped_sex"], sexes["kid"]["predicted_sex"], sexes["kid"]["error"]) == (
        "male", "female", True)
    assert sexes["mum"]["error"] is False


def test_relative_paths_load_from_the_configs_folder(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    paths = write_inputs(tmp_path / "in")
    out = tmp_path / "results" / "FAM.scout.yaml"
    assert run_cli([*arguments(paths, out), "--paths", "relative"]) == 0
    config = yaml.safe_load(out.read_text())
    assert config["vcf_snv"] == "../in/FAM.vcf.gz" and config["peddy_ped"] == "FAM.peddy.ped"
    monkeypatch.chdir(out.parent)  # `scout load case` resolves paths where it runs
    case = scout_case.parse_case_data(config=config)
    assert case["vcf_files"]["vcf_snv"] == str(paths["snv"].resolve())
    assert {ind["confirmed_sex"] for ind in case["individuals"] if "confirmed_sex" in ind} == {
        True, False}


def test_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    paths = write_inputs(tmp_path / "in")
    out = tmp_path / "FAM.scout.yaml"
    files = [out, *peddy_files("FAM", tmp_path / "qc")]
    contents = []
    for _ in range(2):
        assert run_cli([*arguments(paths, out), "--peddy-dir", str(tmp_path / "qc")]) == 0
        contents.append([f.read_bytes() for f in files])
    assert contents[0] == contents[1]
    assert sorted(p.name for p in (tmp_path / "qc").iterdir()) == sorted(f.name for f in files[1:])
    assert not [p for p in tmp_path.rglob(".*")]  # no temporary file left


def test_options_shape_the_case(tmp_path: Path) -> None:
    """The least a case needs: no research VCFs, SVs, alignments, MultiQC or panels; the build
    and the rank model versions as given."""
    paths = write_inputs(tmp_path / "in")
    out = tmp_path / "FAM.scout.yaml"
    assert run_cli(["scout-config", "--family", "FAM", "--ped", str(paths["ped"]), "--qc",
                    str(paths["qc"]), "--owner", "cust000", "--snv-clinical", str(paths["snv"]),
                    "--genome-build", "37", "--rank-model-version", "2.1",
                    "--sv-rank-model-version", "1.5", "--out", str(out)]) == 0
    config = yaml.safe_load(out.read_text())
    assert [k for k in config if k.startswith("vcf_")] == ["vcf_snv"]
    assert not {"multiqc", "gene_panels", "phenotype_terms"} & set(config)
    assert not any("alignment_path" in s for s in config["samples"])
    case = scout_case.parse_case_data(config=config)
    assert (case["genome_build"], case["rank_model_version"], case["sv_rank_model_version"],
            case["rank_score_threshold"]) == ("37", "2.1", "1.5", 5)


def test_a_threshold_of_zero_is_warned_about(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_inputs(tmp_path / "in")
    args = arguments(paths, tmp_path / "FAM.scout.yaml")
    args[args.index("--rank-score-threshold") + 1] = "0"
    assert run_cli(args) == 0
    assert "reads a rank score threshold of 0 as unset" in capsys.readouterr().err


def _replace(args: list[str], option: str, value: str) -> list[str]:
    index = args.index(option)
    return [*args[:index + 1], value, *args[index + 2:]]


def _spoil_qc(paths: dict[str, Path], change: dict) -> None:
    document = json.loads(paths["qc"].read_text())
    document.update(change)
    paths["qc"].write_text(json.dumps(document))


BAD_INPUTS = {  # case: (spoil the inputs, change the arguments, named in the error, words)
    "family not in the PED": (None, lambda a, p: _replace(a, "--family", "OTHER"),
                              "FAM.ped", "no family OTHER"),
    "PED is not a PED": (lambda p: p["ped"].write_text("FAM dad\n"), None, "FAM.ped",
                         "columns"),
    "QC of another family": (lambda p: _spoil_qc(p, {"family": "OTHER"}), None, "FAM.qc.json",
                             "QC of family OTHER"),
    "QC not JSON": (lambda p: p["qc"].write_text("family\tFAM\n"), None, "FAM.qc.json",
                    "not JSON"),
    "QC of a stranger": (lambda p: _spoil_qc(p, {"rows": [
        qc_row("pair", "dad~stranger", "kinship", 0.2, "PASS", expected=0.0, sites=9)]}), None,
        "FAM.qc.json", "dad~stranger is not of family FAM"),
    "QC kinship not a number": (lambda p: _spoil_qc(p, {"rows": [
        qc_row("pair", "dad~kid", "kinship", "high", "PASS", expected=0.25, sites=9)]}), None,
        "FAM.qc.json", "kinship is not a number"),
    "VCF without a member": (lambda p: indexed_vcf(p["sv"], ["dad", "kid"], []), None,
                             "FAM.sv.vcf.gz", "no genotypes of mum"),
    "VCF not found": (lambda p: p["snv"].unlink(), None, "FAM.vcf.gz", "file not found"),
    "VCF not indexed": (lambda p: Path(f"{p['sv']}.tbi").unlink(), None, "FAM.sv.vcf.gz",
                        "no tabix index"),
    "alignment of a stranger": (None, lambda a, p: [*a, "--alignments", "aunt=x.bam"],
                                "--alignments", "not a member of family FAM"),
    "alignment not SAMPLE=PATH": (None, lambda a, p: [*a, "--alignments", "dad.bam"],
                                  "--alignments", "expected SAMPLE=PATH"),
    "alignment not found": (lambda p: p["mum"].unlink(), None, "mum.bam", "file not found"),
    "MultiQC report not found": (lambda p: p["multiqc"].unlink(), None, "multiqc_report.html",
                                 "file not found"),
    "bad HPO term": (None, lambda a, p: [*a, "--hpo", "FAM:HP:12"], "--hpo", "not an HPO"),
    "owner of two words": (None, lambda a, p: _replace(a, "--owner", "cust 000"), "--owner",
                           "one word"),
    "bad rank model": (lambda p: (p["ped"].parent / "model.ini").write_text("[Version]\n"),
                       lambda a, p: [*a, "--rank-model", str(p["ped"].parent / "model.ini")],
                       "model.ini", "missing section"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_line_naming_the_file(case: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_inputs(tmp_path / "in")
    out = tmp_path / "out" / "FAM.scout.yaml"
    spoil, change, named, words = BAD_INPUTS[case]
    if spoil:
        spoil(paths)
    args = arguments(paths, out)
    if change:
        args = change(args, paths)
    assert run_cli(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("helgenom scout-config: ") and named in err and words in err, err
    assert not out.parent.exists()  # nothing written


def test_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_inputs(tmp_path / "in")
    (tmp_path / "taken").write_text("a file where the folder should be")
    assert run_cli(arguments(paths, tmp_path / "taken" / "FAM.scout.yaml")) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "taken" in err and "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == ["in", "taken"]
