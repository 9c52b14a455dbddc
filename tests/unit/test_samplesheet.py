"""Input validation: sheets, config and the `validate` / `ped` commands."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from helgenom import ID_PATTERN
from helgenom.errors import InputError, Problem
from helgenom.sheets.pedigree import PHENOTYPES, SEXES, build_families, check_families
from helgenom.sheets.samplesheet import (
    SCHEMA_DIR,
    load_run,
    load_samples,
    load_units,
    validate_config,
)

SHEETS = Path(__file__).resolve().parents[1] / "data" / "sheets"
HEADER = "family\tsample\tsex\tphenotype\tfather\tmother\tgmc\thpo"
TRIO = [
    "FAM1\tP1\tmale\taffected\tF1\tM1\tKS\tHP:0001250",
    "FAM1\tF1\tmale\tunaffected\t\t\tKS\t",
    "FAM1\tM1\tfemale\tunaffected\t\t\tKS\t",
]
MINIMAL_CONFIG = {"samples": "config/samples.tsv", "units": "config/units.tsv",
                  "gmc_dir": "gmc",
                  "reference": {"fasta": "ref/genome.fa", "gff3": "ref/genes.gff3"}}


def write(path: Path, *lines: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def sample_problems(tmp_path: Path, *lines: str) -> list[str]:
    """Every problem of a samples.tsv, through load_run (sheet, rows and pedigree)."""
    write(tmp_path / "config" / "samples.tsv", *lines)
    units = ["sample\tunit\tfq1\tfq2"]
    for sample in dict.fromkeys(line.split("\t")[1].strip() for line in lines[1:]):
        units.append(f"{sample}\tL1\tfq/{sample}_1.fq\tfq/{sample}_2.fq")
        for mate in (1, 2):
            write(tmp_path / "fq" / f"{sample}_{mate}.fq", "@r")
    write(tmp_path / "config" / "units.tsv", *units)
    write_reference(tmp_path)
    with pytest.raises(InputError) as caught:
        load_run(MINIMAL_CONFIG, tmp_path)
    return [str(p) for p in caught.value.problems]


@pytest.fixture
def trio_dir(tmp_path: Path) -> Path:
    """A workdir with the trio fixture sheets and empty FASTQ files."""
    shutil.copy(SHEETS / "trio.samples.tsv", write(tmp_path / "config" / "samples.tsv"))
    shutil.copy(SHEETS / "trio.units.tsv", tmp_path / "config" / "units.tsv")
    for line in (SHEETS / "trio.units.tsv").read_text().splitlines()[2:]:
        for fastq in line.split("\t")[2:]:
            write(tmp_path / fastq, "@r")
    write_reference(tmp_path)
    return tmp_path


def write_reference(workdir: Path) -> None:
    """The files MINIMAL_CONFIG names (their contents are checked by other modules) and an
    empty site overlay for the fixtures' GMC."""
    write(workdir / "ref" / "genome.fa", ">chr1", "ACGT", ">chrX", "ACGT")
    write(workdir / "ref" / "genes.gff3", "##gff-version 3",
          "chr1\ttest\tgene\t1\t4\t.\t+\t.\tID=gene:G1;Name=G1")
    write(workdir / "gmc" / "Karolinska.yaml", "{}")


# --- valid input -----------------------------------------------------------------------------


def test_jobs_read_the_sheets_without_the_file_checks(trio_dir: Path) -> None:
    """Snakemake reads the Snakefile again in every job: there the run, checked in full when
    it started, is read without probing FASTQs and reference files (files=False)."""
    (trio_dir / "ref" / "genome.fa").write_text("not a FASTA\n")
    fastq = trio_dir / "fastq" / "P1_L001_R1.fq.gz"
    fastq.write_bytes(b"")
    with pytest.raises(InputError) as error:
        load_run(MINIMAL_CONFIG, trio_dir)
    assert "genome.fa" in str(error.value) and fastq.name in str(error.value)
    run = load_run(MINIMAL_CONFIG, trio_dir, files=False)
    assert list(run.samples) == ["P1", "F1", "M1"] and len(run.units) == 4


def test_valid_trio_loads(trio_dir: Path) -> None:
    run = load_run(MINIMAL_CONFIG, trio_dir)
    assert list(run.samples) == ["P1", "F1", "M1"]
    family = run.families["FAM1"]
    father, mother = family.parents("P1")
    assert (father.sample, mother.sample) == ("F1", "M1")
    assert [m.sample for m in family.affected] == ["P1"]
    assert [m.sample for m in family.children("M1")] == ["P1"]
    assert run.family_of("M1") == "FAM1"
    assert run.hpo_of("FAM1") == {"P1": ("HP:0001250", "HP:0001263")}
    assert run.samples["F1"].father is None and run.samples["F1"].hpo == ()
    assert run.samples["P1"].line == 3  # the comment line counts
    assert run.warnings == []


def test_multi_unit_samples_have_absolute_fastq_paths(trio_dir: Path) -> None:
    run = load_run(MINIMAL_CONFIG, trio_dir)
    units = run.units_of("P1")
    assert [(u.unit, u.line) for u in units] == [("L001", 3), ("L002", 4)]
    assert units[1].fq2 == str(trio_dir / "fastq" / "P1_L002_R2.fq.gz")
    assert len(run.units) == 4
    assert run.unit("P1", "L002") == units[1] and run.units_of("nobody") == []
    with pytest.raises(KeyError, match="no unit 'L009'"):
        run.unit("P1", "L009")
    units.clear()  # a copy: the run's index is not changed by its callers
    assert len(run.units_of("P1")) == 2


def test_multi_family_sheet() -> None:
    samples, problems = load_samples(SHEETS / "multi.samples.tsv", name="multi.samples.tsv")
    assert problems == []
    families = build_families(samples)
    assert list(families) == ["FAM1", "FAM2", "FAM3"]
    assert [m.sample for m in families["FAM2"].affected] == ["P2", "F2"]
    assert [m.sample for m in families["FAM2"].unaffected] == ["S2"]
    assert families["FAM2"].parents("S2") == (families["FAM2"].by_id["F2"], None)
    assert [c.sample for c in families["FAM2"].children("F2")] == ["P2", "S2"]
    errors, warnings = check_families(samples, "multi.samples.tsv",
                                      {s.sample: s.line for s in samples})
    assert errors == []
    assert [str(w) for w in warnings] == [
        "multi.samples.tsv:11: column 'phenotype': family 'FAM3' has no affected member; it is "
        "processed but nothing can be prioritised for it"]


def test_bom_crlf_blank_and_comment_lines_are_tolerated(tmp_path: Path) -> None:
    text = "\ufeff# comment\r\n" + HEADER + "\r\n\r\n" + "\r\n".join(TRIO) + "\r\n\t\t\n"
    (tmp_path / "s.tsv").write_text(text, encoding="utf-8")
    samples, problems = load_samples(tmp_path / "s.tsv")
    assert problems == []
    assert [(s.sample, s.line) for s in samples] == [("P1", 4), ("F1", 5), ("M1", 6)]


def test_schemas_match_package_constants() -> None:
    for name in ("samples", "units"):
        schema = yaml.safe_load((SCHEMA_DIR / f"{name}.schema.yaml").read_text())
        assert schema["$defs"]["id"]["pattern"] == ID_PATTERN
    samples = yaml.safe_load((SCHEMA_DIR / "samples.schema.yaml").read_text())
    assert tuple(samples["properties"]["sex"]["enum"]) == SEXES
    assert tuple(samples["properties"]["phenotype"]["enum"]) == PHENOTYPES


# --- header and file problems ------------------------------------------------------------


@pytest.mark.parametrize(("header", "expected"), [
    (HEADER.replace("\tgmc", ""), "s.tsv:1: column 'gmc': missing column; expected the "
     "tab-separated columns family, sample, sex, phenotype, father, mother, gmc, hpo"),
    (HEADER.replace("phenotype", "phenotpye"), "s.tsv:1: column 'phenotpye': unknown column; "
     "did you mean 'phenotype'?"),
    (HEADER + "\tsex", "s.tsv:1: column 'sex': duplicated column (columns 3 and 9)"),
    (HEADER.replace("\t", ","), "s.tsv:1: value 'family,sample,sex,phenotype,father,mother,"
     "gmc,hpo': column names separated by commas; the sheet must be tab-separated (TSV)"),
    (HEADER.replace("\t", " "), "s.tsv:1: value 'family sample sex phenotype father mother gmc "
     "hpo': column names separated by spaces"),
    (HEADER.replace("sex", "sex "), "s.tsv:1: column 'sex': value 'sex ': leading/trailing "
     "whitespace in the column name"),
])
def test_header_problems_name_line_1_and_column(tmp_path: Path, header: str, expected: str) -> None:
    _, problems = load_samples(write(tmp_path / "s.tsv", header, *TRIO), name="s.tsv")
    assert len(problems) == 1
    assert str(problems[0]).startswith(expected)


@pytest.mark.parametrize("lines", [(), ("# only a comment", "")])
def test_empty_sheet(tmp_path: Path, lines: tuple[str, ...]) -> None:
    _, problems = load_samples(write(tmp_path / "s.tsv", *lines))
    assert [str(p) for p in problems] == [
        f"{tmp_path / 's.tsv'}:1: empty sheet: expected a tab-separated header line with the "
        "columns family, sample, sex, phenotype, father, mother, gmc, hpo"]


@pytest.mark.parametrize("rows", [(), TRIO])
def test_commented_out_header(tmp_path: Path, rows: list[str]) -> None:
    _, problems = load_samples(write(tmp_path / "s.tsv", "# sheet", f"#{HEADER}", *rows),
                               name="s.tsv")
    assert [str(p) for p in problems] == ["s.tsv:2: the header line is commented out; remove "
                                          "the leading '#' (lines starting with '#' are comments)"]


def test_missing_sheet_names_the_resolved_path(tmp_path: Path) -> None:
    _, problems = load_units(tmp_path / "units.tsv", None, tmp_path, name="config/units.tsv")
    assert str(problems[0]) == (f"config/units.tsv: cannot read the sheet: file not found "
                                f"(looked for {tmp_path / 'units.tsv'})")


# --- row problems ------------------------------------------------------------------------


@pytest.mark.parametrize(("row", "expected"), [
    ("FAM1\tP2\tM\taffected\t\t\tKS\t",
     "samples.tsv:5: column 'sex': value 'M': must be one of male, female, unknown"),
    ("FAM1\tP2\tmale\tAffected\t\t\tKS\t", "samples.tsv:5: column 'phenotype': value "
     "'Affected': must be one of affected, unaffected, unknown (did you mean 'affected'?)"),
    ("FAM1\tP2.1\tmale\taffected\t\t\tKS\t", "samples.tsv:5: column 'sample': value 'P2.1': "
     "must be an ID of letters, digits, '_' and '-', starting with a letter or digit"),
    ("FAM1\tP2\tmale\taffected\t\t\tKS\tHP:0001250, HP:0001263", "samples.tsv:5: column 'hpo': "
     "value 'HP:0001250, HP:0001263': must be empty or comma-separated HPO terms without spaces"),
    ("FAM1\t P2\tmale\taffected\t\t\tKS\t", "samples.tsv:5: column 'sample': value ' P2': "
     "leading/trailing whitespace; remove it"),
    ("FAM1\tP2\tmale\taffected\t\t\t\t", "samples.tsv:5: column 'gmc': must be an ID"),
    ("FAM1\tP2\tmale\taffected\t\t\tKS\t\tx", "samples.tsv:5: 9 tab-separated cells, but the "
     "header has 8 columns"),
    ("FAM1 P2 male affected", "samples.tsv:5: 1 tab-separated cell, but the header has 8"),
])
def test_row_problems_name_line_column_and_value(tmp_path: Path, row: str, expected: str) -> None:
    _, problems = load_samples(write(tmp_path / "s.tsv", "# c", HEADER, *TRIO[:2], row),
                               name="samples.tsv")
    assert [str(p)[: len(expected)] for p in problems] == [expected]


def test_all_problems_of_a_file_are_reported_together(tmp_path: Path) -> None:
    problems = sample_problems(tmp_path, HEADER, "FAM1\tP1\tM\taffected\t\t\tKS\tHP:1",
                               "FAM1\tP2\tmale\tsick\t\t\tKS\t")
    assert [p.split(": value")[0] for p in problems] == [
        "config/samples.tsv:2: column 'sex'", "config/samples.tsv:2: column 'hpo'",
        "config/samples.tsv:3: column 'phenotype'"]


# --- pedigree problems (samples.tsv) -----------------------------------------------------


@pytest.mark.parametrize(("rows", "expected"), [
    (["FAM1\tP1\tmale\taffected\tF9\t\tKS\t", "FAM1\tM1\tfemale\tunaffected\t\t\tKS\t"],
     "config/samples.tsv:2: column 'father': value 'F9': unknown father: no such sample in "
     "family 'FAM1' (samples: P1, M1)"),
    (["FAM1\tP1\tmale\taffected\t0\t\tKS\t"],
     "config/samples.tsv:2: column 'father': value '0': unknown father: no such sample in "
     "family 'FAM1' (samples: P1); leave the cell empty for an unknown parent"),
    (["FAM1\tP1\tmale\taffected\tF2\t\tKS\t", "FAM2\tF2\tmale\tunaffected\t\t\tKS\t"],
     "config/samples.tsv:2: column 'father': value 'F2': father 'F2' belongs to family 'FAM2' "
     "(line 3), not 'FAM1'; parents must be in the same family"),
    (["FAM1\tP1\tmale\taffected\tF1\t\tKS\t", "FAM1\tF1\tunknown\tunaffected\t\t\tKS\t"],
     "config/samples.tsv:2: column 'father': value 'F1': father 'F1' has sex 'unknown' "
     "(line 3); a father must be male"),
    (["FAM1\tP1\tmale\taffected\t\tM1\tKS\t", "FAM1\tM1\tmale\tunaffected\t\t\tKS\t"],
     "config/samples.tsv:2: column 'mother': value 'M1': mother 'M1' has sex 'male' (line 3); "
     "a mother must be female"),
    (["FAM1\tP1\tmale\taffected\t\tP1\tKS\t"],
     "config/samples.tsv:2: column 'mother': value 'P1': sample 'P1' cannot be its own mother"),
    (["FAM1\tP1\tmale\taffected\tF1\t\tKS\t", "FAM1\tF1\tmale\tunaffected\tP1\t\tKS\t"],
     "config/samples.tsv:2: column 'father': value 'F1': ancestry cycle P1 -> F1 -> P1 (each "
     "sample followed by its parent); a sample cannot be its own ancestor"),
    (["FAM1\tP1\tmale\taffected\t\t\tKS\t", "FAM2\tP1\tmale\taffected\t\t\tKS\t"],
     "config/samples.tsv:3: column 'sample': value 'P1': duplicate sample ID, already defined "
     "on line 2 (family 'FAM1'); sample IDs must be unique across all families"),
    (["FAM1\tP1\tmale\tunaffected\t\t\tKS\t", "FAM2\tP2\tmale\tunknown\t\t\tKS\t"],
     "config/samples.tsv: column 'phenotype': no family has an affected individual, so there "
     "is nothing to analyse; mark each proband as 'affected'"),
])
def test_pedigree_problems(tmp_path: Path, rows: list[str], expected: str) -> None:
    assert sample_problems(tmp_path, HEADER, *rows) == [expected]


def test_invalid_values_are_reported_once(tmp_path: Path) -> None:
    """A bad sex/phenotype/ID is a row problem only, not also a pedigree one."""
    problems = sample_problems(tmp_path, HEADER, "FAM1\tP1\tmale\tsick\tF.1\tM1\tKS\t",
                               "FAM1\tM1\tF\tunaffected\t\t\tKS\t")
    assert [p.split(": value")[0] for p in problems] == [
        "config/samples.tsv:2: column 'phenotype'", "config/samples.tsv:2: column 'father'",
        "config/samples.tsv:3: column 'sex'"]


# --- units.tsv ---------------------------------------------------------------------------


@pytest.mark.parametrize(("row", "expected"), [
    ("X1\tL9\tfastq/x_1.fq.gz\tfastq/x_2.fq.gz", "units.tsv:7: column 'sample': "
     "value 'X1': unknown sample: not in samples.tsv (samples: P1, F1, M1)"),
    ("P1\tL001\tfastq/x_1.fq.gz\tfastq/x_2.fq.gz", "units.tsv:7: column 'unit': value 'L001': "
     "duplicate unit of sample 'P1', already on line 3"),
    ("P1\tL003\tfastq/x_1.fq.gz\tfastq/x_1.fq.gz", "units.tsv:7: column 'fq2': value "
     "'fastq/x_1.fq.gz': same file as fq1; fq2 must be the mate file (read 2)"),
    ("P1\tL003\tfastq/x_1.fq.gz\t", "units.tsv:7: column 'fq2': must not be empty; expected "
     "path to a FASTQ file (gzipped or not)"),
    ("P1\tL003\tfastq/x_1.fq.gz\tfastq/M1_L001_R2.fq.gz", "units.tsv:7: column 'fq2': value "
     "'fastq/M1_L001_R2.fq.gz': file already used on line 6 (column fq2)"),
])
def test_unit_problems(trio_dir: Path, row: str, expected: str) -> None:
    write(trio_dir / "fastq" / "x_1.fq.gz", "@r")
    write(trio_dir / "fastq" / "x_2.fq.gz", "@r")
    with (trio_dir / "config" / "units.tsv").open("a") as handle:
        handle.write(row + "\n")
    samples, _ = load_samples(trio_dir / "config" / "samples.tsv")
    _, problems = load_units(trio_dir / "config" / "units.tsv", samples, trio_dir,
                             name="units.tsv")
    assert [str(p) for p in problems] == [expected]


def test_missing_fastq_gives_resolved_path_and_sample_without_units(trio_dir: Path) -> None:
    (trio_dir / "fastq" / "F1_L001_R2.fq.gz").unlink()
    write(trio_dir / "config" / "units.tsv", "sample\tunit\tfq1\tfq2",
          "P1\tL001\tfastq/P1_L001_R1.fq.gz\tfastq/P1_L001_R2.fq.gz",
          "F1\tL001\tfastq/F1_L001_R1.fq.gz\tfastq/F1_L001_R2.fq.gz")
    with pytest.raises(InputError) as caught:
        load_run(MINIMAL_CONFIG, trio_dir)
    assert [str(p) for p in caught.value.problems] == [
        "config/units.tsv: column 'sample': value 'M1': no units for this sample of "
        "config/samples.tsv; every sample needs at least one FASTQ pair",
        "config/units.tsv:3: column 'fq2': value 'fastq/F1_L001_R2.fq.gz': FASTQ file not "
        f"found: {trio_dir / 'fastq' / 'F1_L001_R2.fq.gz'}",
    ]


def test_load_run_reports_all_files_at_once(trio_dir: Path) -> None:
    config = {**MINIMAL_CONFIG, "calling": {"snv_caller": "gatk"}}
    with (trio_dir / "config" / "samples.tsv").open("a") as handle:
        handle.write("FAM1\tP9\tmale\taffected\tF1\tM1\tKS\tHP:12\n")
    with (trio_dir / "config" / "units.tsv").open("a") as handle:
        handle.write("P9\tL001\tfastq/P9_R1.fq.gz\tfastq/P9_R2.fq.gz\n")
    with pytest.raises(InputError) as caught:
        load_run(config, trio_dir)
    message = str(caught.value)
    assert message.splitlines()[0] == ("4 problems in config, config/samples.tsv, "
                                       "config/units.tsv (fix them and run again):")
    assert [p.file for p in caught.value.problems] == [
        "config", "config/samples.tsv", "config/units.tsv", "config/units.tsv"]


# --- config ------------------------------------------------------------------------------


def test_config_defaults_are_filled_without_touching_the_input() -> None:
    config = {**MINIMAL_CONFIG, "prioritisation": {"gates": {"min_dp": 3}}}
    filled = validate_config(config, "config")
    assert filled["calling"] == {
        "snv_caller": "bcftools", "sv_callers": ["delly", "tiddit", "cnv"],
        "sv_merge": {"overlap": 0.5, "distance": 500,
                     "priority": ["delly", "manta", "tiddit", "cnv", "cnvnator"]},
        "min_mapq": 20, "min_baseq": 13, "scatter_mb": 50,
        "mito": {"contig": "auto", "min_af": 0.03, "min_alt_reads": 5, "min_baseq": 20,
                 "max_depth": 20000}}
    assert filled["prioritisation"]["gates"]["min_dp"] == 3
    assert filled["prioritisation"]["gates"]["min_gq"] == 20
    assert filled["reference"]["chrx"] == "chrX" and filled["gmc"] == ""
    assert "calling" not in config and config["prioritisation"] == {"gates": {"min_dp": 3}}


def test_repository_config_is_valid() -> None:
    path = Path(__file__).resolve().parents[2] / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text())
    assert validate_config(config, str(path)) == config


@pytest.mark.parametrize(("text", "expected"), [
    ("calling:\n  snv_caller: gatk\n", "c.yaml:6: key 'calling.snv_caller': value 'gatk': must "
     "be one of bcftools, freebayes"),
    ("calling:\n  snv_calller: freebayes\n", "c.yaml:6: key 'calling.snv_calller': unknown key "
     "(did you mean 'calling.snv_caller'?); allowed here: snv_caller, sv_callers, sv_merge, "
     "min_mapq, min_baseq, scatter_mb, mito"),
    ("calling:\n  min_mapq: '20'\n", "c.yaml:6: key 'calling.min_mapq': value '20': must be an "
     "integer, not a string"),
    ("calling:\n  min_mapq: 99\n", "c.yaml:6: key 'calling.min_mapq': value '99': must be "
     "between 0 and 60"),
    ("reference:\n  fasta: x.fa\n", "c.yaml:5: key 'reference.gff3': missing required key"),
    ("reference:\n  fasta: x.fa\n  gff3: g\n  par: [chrX-1]\n", "c.yaml:8: key "
     "'reference.par[0]': value 'chrX-1': must be a region CHROM:START-END (1-based, START "
     "<= END), like chrX:10001-2781479"),
    ("cohort: x\n", "c.yaml:5: key 'cohort': unknown key; allowed here: samples, units, gmc, "
     "gmc_dir, reference, annotation, alignment, calling, prioritisation, qc, manifest, scout, "
     "freqdb, repeats"),
])
def test_config_errors_name_key_path_value_and_yaml_line(tmp_path: Path, text: str,
                                                         expected: str) -> None:
    base = "samples: s.tsv\nunits: u.tsv\n# the reference\n"
    if not text.startswith("reference"):
        base += "reference: {fasta: a.fa, gff3: b.gff3}\n"
    else:
        base += "\n"
    path = write(tmp_path / "c.yaml", base + text.rstrip("\n"))
    with pytest.raises(InputError) as caught:
        validate_config(yaml.safe_load(path.read_text()), str(path))
    assert [str(p) for p in caught.value.problems] == [f"{tmp_path}/{expected}"]


def test_config_errors_without_a_yaml_source_have_no_line() -> None:
    with pytest.raises(InputError) as caught:
        validate_config({**MINIMAL_CONFIG, "alignment": {"cram": "yes"}}, "config")
    assert caught.value.problems == [Problem("config", None, "alignment.cram", "yes",
                                             "must be true or false, not a string", kind="key")]


# --- command line ------------------------------------------------------------------------


def cli(argv: list[str]) -> int:
    """The `helgenom` command line, in process."""
    from helgenom.cli import main

    return main(argv)


def test_cli_validate_exit_codes(trio_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(trio_dir / "config" / "config.yaml", yaml.safe_dump(MINIMAL_CONFIG))
    assert cli(["validate", "--config", str(config), "--workdir", str(trio_dir)]) == 0
    out = capsys.readouterr().out
    assert "1 family, 3 samples, 4 units, 0 warnings" in out
    assert "FAM1: 3 samples, 4 units, affected: P1" in out
    (trio_dir / "fastq" / "M1_L001_R1.fq.gz").unlink()
    assert cli(["validate", "--config", str(config), "--workdir", str(trio_dir)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[1].startswith("config/units.tsv:6: column 'fq1': value "
                                          "'fastq/M1_L001_R1.fq.gz': FASTQ file not found: ")


def test_cli_validate_reports_bad_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path / "c.yaml", "samples: [a", "units: b")
    assert cli(["validate", "--config", str(config)]) == 2
    assert f"{config}:2: invalid YAML: expected ',' or ']', but got ':'" in capsys.readouterr().err


def test_cli_ped_writes_codes(trio_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    samples, out = trio_dir / "config" / "samples.tsv", trio_dir / "ped" / "FAM1.ped"
    assert cli(["ped", "--samples", str(samples), "--family", "FAM1", "--out", str(out)]) == 0
    assert out.read_text().splitlines() == [
        "#family_id\tindividual_id\tpaternal_id\tmaternal_id\tsex\tphenotype",
        "FAM1\tP1\tF1\tM1\t1\t2", "FAM1\tF1\t0\t0\t1\t1", "FAM1\tM1\t0\t0\t2\t1"]
    assert cli(["ped", "--samples", str(samples), "--family", "FAM9", "--out", str(out)]) == 2
    assert (f"{samples}: column 'family': value 'FAM9': no such family; families in the sheet: "
            "FAM1") in capsys.readouterr().err


def test_configured_files_are_checked_at_start(tmp_path):
    from helgenom.cli.validate import FILE_CHECKS
    from helgenom.sheets.samplesheet import _config_file_problems, key_locator

    (tmp_path / "pop.vcf.gz").write_text("")
    (tmp_path / "bad.ini").write_text("[Version]\n  version = 1\n")
    (tmp_path / "panels").mkdir()
    config = {"reference": {"fasta": "missing.fa"},
              "annotation": {"population_vcf": "pop.vcf.gz"},
              "prioritisation": {"rank_model": "bad.ini", "panel": "panels"}}
    errors, warnings = _config_file_problems(config, tmp_path, key_locator(["run.yaml"]),
                                             FILE_CHECKS)
    problems = [str(p) for p in errors]
    assert len(problems) == 4 and warnings == []
    assert "reference.fasta" in problems[0] and "not found" in problems[0]
    assert "annotation.population_vcf" in problems[1] and "tabix -p vcf" in problems[1]
    assert "prioritisation.rank_model" in problems[2] and "[Categories]" in problems[2]
    assert "prioritisation.panel" in problems[3] and "a folder, not a file" in problems[3]


def test_site_overlay_from_the_gmc_column_is_merged(trio_dir: Path) -> None:
    write(trio_dir / "gmc" / "Karolinska.yaml", "prioritisation:", "  panel_mode: restrict",
          "  max_population_af: 0.001")
    run = load_run(MINIMAL_CONFIG, trio_dir)
    assert run.config["gmc"] == "Karolinska"
    assert run.config["prioritisation"]["panel_mode"] == "restrict"
    assert run.config["prioritisation"]["max_population_af"] == 0.001
    assert run.config["prioritisation"]["gates"]["min_gq"] == 20  # base defaults kept


def test_invalid_site_overlay_names_its_file_and_key(trio_dir: Path) -> None:
    write(trio_dir / "gmc" / "Karolinska.yaml", "calling:", "  snv_caller: gatk")
    with pytest.raises(InputError) as caught:
        load_run(MINIMAL_CONFIG, trio_dir)
    message = str(caught.value)
    assert "gmc/Karolinska.yaml:2" in message and "calling.snv_caller" in message
    assert "'gatk'" in message


def test_sheet_mixing_sites_without_a_choice_is_an_error(trio_dir: Path) -> None:
    sheet = trio_dir / "config" / "samples.tsv"
    sheet.write_text(sheet.read_text().replace("\tKarolinska\t\n", "\tUppsala\t\n", 1))
    with pytest.raises(InputError, match="mixes sites"):
        load_run(MINIMAL_CONFIG, trio_dir)
    # an explicit choice settles it (and a site without an overlay is a warning only)
    run = load_run({**MINIMAL_CONFIG, "gmc": "Uppsala"}, trio_dir)
    assert run.config["gmc"] == "Uppsala" and "no site overlay" in str(run.warnings[-1])
