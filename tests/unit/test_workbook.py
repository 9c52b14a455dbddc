"""The clinicians' workbook (helgenom workbook): sheets, numbers, roles, injection-safe text,
QC colours, the run sheet, byte-identical reruns, the row cap and one-line errors.

The inputs are written here (a trio's candidate list, QC JSON, PED and ranked VCF header in
the shape `helgenom rank` and `helgenom qc` write them); the workbook of the demo trio, as the
workflow writes it, is checked in tests/workflow/test_e2e.py.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from helgenom import __version__
from helgenom.cli.workbook import register
from helgenom.rank.candidates import RankOptions
from helgenom.rank.model import load_rank_model
from helgenom.report import workbook
from helgenom.report.inputs import member_roles
from helgenom.report.workbook import (
    VCF_MODEL_LINE,
    VERDICT_STYLE,
    candidate_columns,
    excel_text,
)
from helpers import TRIO, write_ped

SAMPLES = ["dad", "kid", "mum"]
FIELDS = ("GT", "DP", "AB", "GQ")
COLUMNS = ["rank", "family", "chrom", "pos", "end", "ref", "alt", "type", "gene", "consequence",
           "impact", "protein_change", "population_af", "models", "compound_partners", "score",
           "score_normalized", "gates", "filter", "phenotype_score", "matched_hpo", "diseases",
           "combined_score", "sv_callers", "sv_origin",
           *(f"{s}_{f}" for s in ("dad", "mum", "kid") for f in FIELDS)]
INJECTION = '=HYPERLINK("http://evil.example/x","click")'
HPO_INJECTION = f"HP:0001250 {INJECTION}"
QC_LINE = "## QC: WARN - sample mum: mean_depth 14.1 (WARN); see results/FAM/FAM.qc.tsv"
ROWS = [  # rank order; genotypes dad, mum, kid
    ["1", "FAM", "chr2", "85290", "85290", "T", "A", "SNV", "SCN2A", "missense", "MODERATE",
     "39L>39H", "0.00001", "AD_dn", "", "20.0", "0.92", "PASS", ".", "0.8933",
     "HP:0001250 Seizure;HP:0001263 Global developmental delay",
     "Epileptic encephalopathy, early infantile, 11 (OMIM:613721)" + ";x" * 40, "0.966", "", "",
     "0/0", "30", "0.0", "94", "0/0", "24", "0.0", "76", "0/1", "23", "0.478", "127"],
    ["2", "FAM", "chr1", "89315", "89315", "G", "C", "SNV", INJECTION, "missense", "MODERATE",
     "110W>110C", ".", "AR_comp", "chr1_85720_A_DEL>18", "12.0", "0.76", "dad:DP", ".",
     "0.6978", HPO_INJECTION, "@SUM(A1:A9)", "0.856", "", "",
     "0/1", "25", "0.44", "127", "0/1", "12", "0.5", "33", "1/1", "13", "1.0", "35"],
    ["3", "FAM", "chr1", "85720", "95190", "A", "<DEL>", "SV", "MUTYH", "transcript_ablation",
     "HIGH", "", "0.0", "AR_comp", "chr1_89315_G_C>12", "-6", "0.4", "PASS", "PASS", "0.6978",
     "", "-1 dup", "0.5", "delly,tiddit,cnv", "kid:maternal",
     "0/0", ".", ".", ".", "0/1", ".", ".", ".", "0/1", ".", ".", "."],
]
QC_ROWS = [
    ("sample", "dad", "mean_depth", 24.4, "PASS >= 20, WARN >= 12", "PASS", ""),
    ("sample", "mum", "mean_depth", 14.1, "PASS >= 20, WARN >= 12", "WARN", "mean_depth 14.1"),
    ("sample", "mum", "sex", "female", "declared female", "PASS", ""),
    ("sample", "kid", "total_reads", 152678.0, "", "INFO", ""),
    ("sample", "kid", "y_ratio", None, "", "INFO", ""),
    ("trio", "kid", "mendelian_error_rate", 0.07, "PASS <= 0.02, WARN <= 0.05", "FAIL",
     "=1+1 errors"),
    ("family", "FAM", "verdict", "WARN", "", "WARN", "sample mum: mean_depth 14.1"),
]
# The default rank models (the workbook names them when the VCF header does not), and their
# categories as the ranked VCF's RankResult lists them.
DEFAULT_MODELS = [(kind, load_rank_model(path), Path(path).name) for kind, path in
                  (("SNV", RankOptions.rank_model), ("SV", RankOptions.sv_rank_model))]
CATEGORIES = list(dict.fromkeys(c for _, model, _ in DEFAULT_MODELS for c in model.categories))
RANK_HEADER = [
    '##INFO=<ID=RankScore,Number=.,Type=String,Description="Rank score, per family: FAM:score '
    '(helgenom rank)">',
    f'##INFO=<ID=RankResult,Number=.,Type=String,Description="{"|".join(CATEGORIES)}">',
]


def write_inputs(directory: Path, rows: list[list[str]] | None = None,
                 columns: list[str] | None = None, vcf_extra: tuple[str, ...] = ()
                 ) -> dict[str, Path]:
    """A trio's candidate list, QC JSON, PED and ranked VCF (gzip) in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {kind: directory / f"FAM.{kind}" for kind in
             ("candidates.tsv", "qc.json", "ped", "vcf.gz")}
    table = [columns or COLUMNS, *(rows if rows is not None else ROWS)]
    paths["candidates.tsv"].write_text(
        QC_LINE + "\n" + "".join("\t".join(r) + "\n" for r in table))
    keys = ("level", "unit", "metric", "value", "threshold", "verdict", "reason")
    paths["qc.json"].write_text(json.dumps({
        "family": "FAM", "verdict": "WARN", "reasons": ["sample mum: mean_depth 14.1"],
        "rows": [{"family": "FAM", **dict(zip(keys, r, strict=True)), "detail": "", "data": {}}
                 for r in QC_ROWS],
        "header_lines": [QC_LINE]}, indent=1))
    write_ped(paths["ped"], TRIO)
    header = ["##fileformat=VCFv4.2", "##contig=<ID=chr1,length=1000000>", *RANK_HEADER,
              *vcf_extra, "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
              + "\t".join(SAMPLES)]
    record = "chr1\t89315\t.\tG\tC\t50\tPASS\tRankScore=FAM:12\tGT\t0/1\t1/1\t0/1"
    with gzip.open(paths["vcf.gz"], "wt") as handle:
        handle.write("\n".join([*header, record]) + "\n")
    return paths


def run_cli(paths: dict[str, Path], out: Path, *extra: str) -> int:
    parser = argparse.ArgumentParser(prog="helgenom")
    register(parser.add_subparsers())
    args = parser.parse_args([
        "workbook", "--candidates", str(paths["candidates.tsv"]), "--qc", str(paths["qc.json"]),
        "--ped", str(paths["ped"]), "--vcf", str(paths["vcf.gz"]), "--out", str(out), *extra])
    return args.func(args)


@pytest.fixture
def built(tmp_path: Path) -> tuple[dict[str, Path], Path]:
    paths = write_inputs(tmp_path / "in")
    out = tmp_path / "out" / "FAM.candidates.xlsx"
    assert run_cli(paths, out, "--hpo", "FAM:HP:0001250,HP:0001263") == 0
    return paths, out


def header_map(ws) -> tuple[int, dict[str, int]]:
    """The header row of the Candidates sheet (under the intro lines) and label -> column."""
    row = next(c.row for c in ws["A"] if c.value == "rank")
    return row, {c.value: c.column for c in ws[row] if c.value}


def test_candidates_sheet(built: tuple[dict[str, Path], Path]) -> None:
    _, out = built
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Candidates", "QC", "Run"]
    ws = wb["Candidates"]
    assert ws["A1"].value == QC_LINE.removeprefix("## ")
    assert ws["A1"].fill.fgColor.rgb == VERDICT_STYLE["WARN"][0]
    header, column = header_map(ws)
    assert header == 3  # the QC line, a summary line, then the table
    gene = column["gene"]
    assert ws.freeze_panes == f"{openpyxl.utils.get_column_letter(gene + 1)}{header + 1}"
    last = openpyxl.utils.get_column_letter(ws.max_column)
    assert ws.auto_filter.ref == f"A{header}:{last}{header + len(ROWS)}"
    assert ws.max_row - header == len(ROWS)
    assert [ws.cell(r, 1).value for r in range(header + 1, ws.max_row + 1)] == [1, 2, 3]
    # Genotype columns by role, the proband's first.
    labels = list(column)
    assert labels[-12:] == [f"{role} {sample} {f}" for role, sample in
                            (("proband", "kid"), ("father", "dad"), ("mother", "mum"))
                            for f in FIELDS]
    top = {label: ws.cell(header + 1, col).value for label, col in column.items()}
    assert top["gene"] == "SCN2A" and top["score"] == 20 and top["combined_score"] == 0.966
    assert (top["proband kid GT"], top["father dad GT"], top["mother mum GT"]) == (
        "0/1", "0/0", "0/0")
    # Numbers as numbers; '.' in a number column is an empty cell; text stays text.
    assert isinstance(top["pos"], int) and isinstance(top["end"], int)
    assert top["population_af"] == pytest.approx(1e-5)
    assert (top["proband kid DP"], top["proband kid GQ"], top["proband kid AB"]) == (
        23, 127, 0.478)
    sv = {label: ws.cell(header + 3, col).value for label, col in column.items()}
    assert sv["score"] == -6 and sv["proband kid DP"] is None and sv["chrom"] == "chr1"
    assert sv["filter"] == "PASS" and top["filter"] == "."
    assert sv["diseases"] == "-1 dup" and ws.cell(header + 3, column["diseases"]).quotePrefix
    # Widths bounded, long text wrapped.
    widths = [ws.column_dimensions[openpyxl.utils.get_column_letter(c)].width
              for c in column.values()]
    assert max(widths) <= 50 and min(widths) >= 6
    assert ws.cell(header + 1, column["diseases"]).alignment.wrap_text
    assert not ws.cell(header + 1, column["gene"]).alignment.wrap_text


def test_injection_stays_text(built: tuple[dict[str, Path], Path]) -> None:
    _, out = built
    ws = openpyxl.load_workbook(out)["Candidates"]
    header, column = header_map(ws)
    for label, expected in (("gene", INJECTION), ("matched_hpo", HPO_INJECTION),
                            ("diseases", "@SUM(A1:A9)")):
        cell = ws.cell(header + 2, column[label])
        assert cell.value == expected and cell.data_type == "s", label
    assert ws.cell(header + 2, column["gene"]).quotePrefix
    qc = openpyxl.load_workbook(out)["QC"]
    assert "=1+1 errors" in [c.value for c in qc["G"]]
    with zipfile.ZipFile(out) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)


def test_qc_sheet(built: tuple[dict[str, Path], Path]) -> None:
    _, out = built
    ws = openpyxl.load_workbook(out)["QC"]
    assert [c.value for c in ws[1]] == ["level", "unit", "metric", "value", "threshold",
                                        "verdict", "reason", "detail"]
    assert [c.value for c in ws[2]][:3] == ["family", "FAM", "verdict"]  # family verdict first
    assert ws.max_row == 1 + len(QC_ROWS)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:H{1 + len(QC_ROWS)}"
    colours = {row[5].value: row[5].fill.fgColor.rgb for row in ws.iter_rows(min_row=2)}
    assert colours["PASS"] == VERDICT_STYLE["PASS"][0]
    assert colours["WARN"] == VERDICT_STYLE["WARN"][0]
    assert colours["FAIL"] == VERDICT_STYLE["FAIL"][0]
    assert colours["INFO"] == "00000000"  # no fill
    values = {row[2].value: row[3].value for row in ws.iter_rows(min_row=2)}
    assert values["total_reads"] == 152678 and values["mean_depth"] == 14.1
    assert values["y_ratio"] is None and values["sex"] == "female"


def sections(ws) -> dict[str, list[tuple]]:
    """The Run sheet's tables: title -> rows under its header."""
    found: dict[str, list[tuple]] = {}
    current: list[tuple] | None = None
    for row in ws.iter_rows(values_only=True):
        if row[0] is None:
            current = None
        elif current is None and row[0] not in found:
            current = found.setdefault(row[0], [])
        elif current is not None:
            current.append(tuple(v for v in row if v is not None))
    return {title: rows[1:] for title, rows in found.items()}  # without the header row


def test_run_sheet(built: tuple[dict[str, Path], Path]) -> None:
    paths, out = built
    ws = openpyxl.load_workbook(out)["Run"]
    run = sections(ws)
    fields = dict(run["Run"])
    assert fields["helgenom version"] == __version__ and fields["family"] == "FAM"
    assert fields["QC verdict"] == "WARN" and fields["QC"] == QC_LINE.removeprefix("## ")
    assert fields["candidates"] == len(ROWS)
    assert fields["rank categories"] == "|".join(CATEGORIES)
    assert {"consequence", "allele_frequency", "inheritance_models",
            "variant_quality"} <= set(CATEGORIES)
    assert ws["B3"].fill.fgColor.rgb == VERDICT_STYLE["WARN"][0]
    assert run["Members"] == [("kid", "proband", "male", "affected", "dad", "mum"),
                              ("dad", "father", "male", "unaffected"),
                              ("mum", "mother", "female", "unaffected")]
    assert run["HPO terms"] == [("HP:0001250", "Seizure"),
                                ("HP:0001263", "Global developmental delay")]
    assert run["Rank models"] == [(kind, model.name, model.version, name)
                                  for kind, model, name in DEFAULT_MODELS]
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths.values()}
    assert {name: digest for _, name, digest in run["Inputs"]} == digests
    text = "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v)
    assert str(paths["qc.json"].parent) not in text  # file names, not where they lie


def test_rank_model_from_the_vcf_header(tmp_path: Path) -> None:
    line = f"{VCF_MODEL_LINE}ID=SNV,Name=lab_snv,Version=2.1,File=lab_snv_v2.ini>"
    paths = write_inputs(tmp_path, vcf_extra=(line,))
    assert run_cli(paths, tmp_path / "w.xlsx") == 0
    run = sections(openpyxl.load_workbook(tmp_path / "w.xlsx")["Run"])
    assert run["Rank models"] == [("SNV", "lab_snv", "2.1", "ranked VCF header")]


def test_byte_identical_reruns_without_a_date(built: tuple[dict[str, Path], Path],
                                              tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    paths, first = built
    again = tmp_path / "again.xlsx"
    assert run_cli(paths, again, "--hpo", "FAM:HP:0001250,HP:0001263") == 0
    assert first.read_bytes() == again.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist()[0] == "[Content_Types].xml"
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert core.count("1980-01-01T00:00:00Z") == 2  # created and modified
    assert not list(first.parent.glob(".*"))  # no temporary file left
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    dated = [tmp_path / "d1.xlsx", tmp_path / "d2.xlsx"]
    for out in dated:
        assert run_cli(paths, out) == 0
    assert dated[0].read_bytes() == dated[1].read_bytes() != first.read_bytes()
    with zipfile.ZipFile(dated[0]) as archive:
        assert archive.infolist()[0].date_time == (2023, 11, 14, 22, 13, 20)
        assert "2023-11-14T22:13:20Z" in archive.read("docProps/core.xml").decode()


def candidate_genes(out: Path) -> tuple[list[str], list[str]]:
    """The Candidates sheet's lines above the header and its genes, top to bottom."""
    ws = openpyxl.load_workbook(out)["Candidates"]
    row, columns = header_map(ws)
    intro = [ws.cell(r, 1).value for r in range(1, row)]
    return intro, [ws.cell(r, columns["gene"]).value for r in range(row + 1, ws.max_row + 1)]


def test_max_rows_keeps_the_top_ranked_and_says_so(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_inputs(tmp_path / "in", rows=[ROWS[2], ROWS[0], ROWS[1]])  # not in rank order
    outs = [tmp_path / "w1.xlsx", tmp_path / "w2.xlsx"]
    for out in outs:
        assert run_cli(paths, out, "--max-rows", "2") == 0
    assert "2 of 3 candidates" in capsys.readouterr().err
    assert outs[0].read_bytes() == outs[1].read_bytes()
    intro, genes = candidate_genes(outs[0])
    note = "top 2 of 3 candidates; the full list is in FAM.candidates.tsv"
    assert genes == ["SCN2A", INJECTION]  # ranks 1 and 2, in rank order
    assert intro[0] == QC_LINE.removeprefix("## ") and intro[1] == note
    assert dict(sections(openpyxl.load_workbook(outs[0])["Run"])["Run"])[
        "Candidates sheet"] == note


@pytest.mark.parametrize("extra", [(), ("--max-rows", "0"), ("--max-rows", "3")])
def test_no_note_when_every_candidate_is_shown(extra: tuple[str, ...], tmp_path: Path) -> None:
    paths = write_inputs(tmp_path)
    assert run_cli(paths, tmp_path / "w.xlsx", *extra) == 0
    intro, genes = candidate_genes(tmp_path / "w.xlsx")
    assert genes == [row[8] for row in ROWS] and not any("top " in line for line in intro)
    fields = dict(sections(openpyxl.load_workbook(tmp_path / "w.xlsx")["Run"])["Run"])
    assert fields["Candidates sheet"] == "all candidates"


def test_never_more_rows_than_excel_holds(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "EXCEL_MAX_ROWS", 6)  # QC line, note, summary, header, 2 rows
    paths = write_inputs(tmp_path)
    assert run_cli(paths, tmp_path / "w.xlsx", "--max-rows", "0") == 0
    intro, genes = candidate_genes(tmp_path / "w.xlsx")
    assert genes == ["SCN2A", INJECTION]
    assert "top 2 of 3 candidates; the full list is in FAM.candidates.tsv" in intro
    assert openpyxl.load_workbook(tmp_path / "w.xlsx")["Candidates"].max_row == 6


def test_new_columns_follow_the_gene(tmp_path: Path) -> None:
    columns = [*COLUMNS, "transcript", "hgvs_c", "hgvs_p", "lab_score"]
    rows = [[*row, "ENST00000375549", "c.116T>A", "p.Leu39His", "24.5"] for row in ROWS]
    paths = write_inputs(tmp_path, rows, columns)
    assert run_cli(paths, tmp_path / "w.xlsx") == 0
    ws = openpyxl.load_workbook(tmp_path / "w.xlsx")["Candidates"]
    header, column = header_map(ws)
    labels = list(column)
    at = labels.index("gene")
    assert labels[at:at + 4] == ["gene", "transcript", "hgvs_c", "hgvs_p"]
    assert ws.cell(header + 1, column["lab_score"]).value == 24.5  # an unknown numeric column
    assert ws.cell(header + 1, column["hgvs_c"]).value == "c.116T>A"
    assert ws.freeze_panes == f"{openpyxl.utils.get_column_letter(at + 2)}{header + 1}"


CLINICAL = ["clinvar", "clinvar_stars", "clinvar_id", "gnomad_grpmax_af", "gnomad_hom",
            "swegen_af", "local_obs", "local_hom", "local_frq", "cadd", "revel", "spliceai"]
CLINICAL_HEADERS = [
    "ClinVar significance", "ClinVar review stars", "ClinVar variation ID", "gnomAD grpmax AF",
    "gnomAD homozygotes", "SweGen AF", "local observations (earlier cases)",
    "local homozygotes", "local frequency", "CADD PHRED", "REVEL", "SpliceAI max delta score"]
CLINICAL_ROWS = [  # of ROWS: SCN2A, the injection row, the deletion (no annotation)
    ["Pathogenic/Likely_pathogenic", "2", "12345", "1.234e-05", "0", "0.0002", "3", "1",
     "0.0025", "25", "0.812", "0.02"],
    ["=HYPERLINK(\"http://evil.example/x\",\"c\")", "0", ".", "0.0123", "12", "", "2", "", "",
     "23.1", "1", "0.0"],
    [""] * len(CLINICAL),
]


def clinical_workbook(tmp_path: Path, columns: list[str],
                      annotation: list[list[str]] = CLINICAL_ROWS) -> tuple[object, int, dict]:
    """The Candidates sheet of ROWS with the clinical columns (`annotation`) in `columns`'
    order."""
    table = [dict(zip(COLUMNS + CLINICAL, row + extra, strict=True))
             for row, extra in zip(ROWS, annotation, strict=True)]
    paths = write_inputs(tmp_path, [[r[c] for c in columns] for r in table], columns)
    assert run_cli(paths, tmp_path / "w.xlsx") == 0
    ws = openpyxl.load_workbook(tmp_path / "w.xlsx")["Candidates"]
    header, column = header_map(ws)
    return ws, header, column


@pytest.mark.parametrize("where", ["after population_af", "at the end"])
def test_the_clinical_annotation_follows_the_population_af(where: str, tmp_path: Path) -> None:
    at = COLUMNS.index("population_af") + 1
    columns = ([*COLUMNS[:at], *CLINICAL, *COLUMNS[at:]] if where == "after population_af"
               else [*COLUMNS, *reversed(CLINICAL)])
    ws, header, column = clinical_workbook(tmp_path, columns)
    labels = list(column)
    at = labels.index("population_af") + 1
    assert labels[at:at + len(CLINICAL)] == CLINICAL_HEADERS
    assert labels[at + len(CLINICAL)] == "models"
    values = [{label: ws.cell(header + r, column[label]).value for label in CLINICAL_HEADERS}
              for r in (1, 2, 3)]
    assert values[0] == {
        "ClinVar significance": "Pathogenic/Likely_pathogenic", "ClinVar review stars": 2,
        "ClinVar variation ID": 12345, "gnomAD grpmax AF": pytest.approx(1.234e-05),
        "gnomAD homozygotes": 0, "SweGen AF": pytest.approx(0.0002),
        "local observations (earlier cases)": 3, "local homozygotes": 1,
        "local frequency": pytest.approx(0.0025), "CADD PHRED": 25,
        "REVEL": pytest.approx(0.812), "SpliceAI max delta score": pytest.approx(0.02)}
    for label in CLINICAL_HEADERS[1:]:  # numbers are number cells, never text
        assert ws.cell(header + 1, column[label]).data_type == "n", label
    assert isinstance(values[0]["ClinVar variation ID"], int)
    # empty and '.' cells are empty; text that Excel would run stays text
    assert values[1]["ClinVar variation ID"] is None and values[1]["SweGen AF"] is None
    assert values[1]["local homozygotes"] is None and values[1]["REVEL"] == 1
    assert values[2] == dict.fromkeys(CLINICAL_HEADERS)
    injected = ws.cell(header + 2, column["ClinVar significance"])
    assert injected.value == CLINICAL_ROWS[1][0] and injected.data_type == "s"
    assert injected.quotePrefix
    with zipfile.ZipFile(tmp_path / "w.xlsx") as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
        assert b"<f>" not in sheet and b"<f " not in sheet


def test_clinical_columns_of_text(tmp_path: Path) -> None:
    """A value that is not a number stays as it was written (as text), the others numbers."""
    at = COLUMNS.index("population_af") + 1
    annotation = [list(row) for row in CLINICAL_ROWS]
    annotation[2][CLINICAL.index("cadd")] = "n/a"
    annotation[2][CLINICAL.index("clinvar_stars")] = "2.0"
    ws, header, column = clinical_workbook(tmp_path, [*COLUMNS[:at], *CLINICAL, *COLUMNS[at:]],
                                           annotation)
    assert ws.cell(header + 3, column["CADD PHRED"]).value == "n/a"
    assert ws.cell(header + 1, column["CADD PHRED"]).value == 25
    stars = ws.cell(header + 3, column["ClinVar review stars"]).value
    assert stars == 2 and isinstance(stars, int)


def test_a_list_without_the_clinical_annotation(built: tuple[dict[str, Path], Path]) -> None:
    """Lists of earlier versions: no clinical column, the same columns as before."""
    ws = openpyxl.load_workbook(built[1])["Candidates"]
    labels = list(header_map(ws)[1])
    assert not set(CLINICAL_HEADERS) & set(labels) and not set(CLINICAL) & set(labels)
    assert labels[labels.index("population_af") + 1] == "models"


def test_empty_candidate_list(tmp_path: Path) -> None:
    paths = write_inputs(tmp_path, rows=[])
    assert run_cli(paths, tmp_path / "w.xlsx") == 0
    ws = openpyxl.load_workbook(tmp_path / "w.xlsx")["Candidates"]
    header, _ = header_map(ws)
    assert ws.max_row == header and ws.auto_filter.ref.endswith(f"{header}")
    assert ws["A2"].value.startswith("0 candidates of family FAM")


def test_roles_and_column_order() -> None:
    from helgenom.sheets.pedigree import Family, Individual

    members = [Individual("F", "dad", "male", "unaffected", None, None),
               Individual("F", "sis_1", "female", "affected", "dad", "mum"),
               Individual("F", "mum", "female", "unaffected", None, None),
               Individual("F", "sis", "female", "unaffected", "dad", "mum"),
               Individual("F", "aunt", "female", "affected", None, None)]
    roles = member_roles(Family("F", members))
    assert roles == {"sis_1": "proband", "dad": "father", "mum": "mother",
                     "sis": "sibling", "aunt": "affected"}
    layout = candidate_columns(["rank", "gene", "sis_GT", "sis_1_GT", "dad_GT", "hgvs_p"], roles)
    assert [label for _, label, _ in layout] == [
        "rank", "gene", "hgvs_p", "proband sis_1 GT", "father dad GT", "sibling sis GT"]


def test_excel_text_limits() -> None:
    assert excel_text("a\x00b\x1fc") == "abc"
    long = excel_text("x" * 40000)
    assert len(long) == 32767 and long.endswith("in the candidate list]")


def replace_line(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def gz_text(path: Path, text: str) -> None:
    with gzip.open(path, "wt") as handle:
        handle.write(text)


BAD_INPUTS = {  # case -> (break the inputs, the file the error names, words of the message)
    "no candidate list": (lambda p: p["candidates.tsv"].unlink(), "candidates.tsv",
                          "cannot read"),
    "candidates not a TSV": (lambda p: p["candidates.tsv"].write_bytes(b"\x1f\x8b\x08\xff\xfe"),
                             "candidates.tsv", "not a text file"),
    "candidates without rank": (lambda p: replace_line(p["candidates.tsv"], "rank\t", "rnk\t"),
                                "candidates.tsv", "no column 'rank'"),
    "rank not a number": (lambda p: replace_line(p["candidates.tsv"], "\n2\tFAM", "\nx\tFAM"),
                          "candidates.tsv:4", "whole number"),
    "candidates of another family": (
        lambda p: replace_line(p["candidates.tsv"], "\n3\tFAM", "\n3\tOTHER"), "candidates.tsv:5",
        "family FAM"),
    "QC not JSON": (lambda p: p["qc.json"].write_text("{"), "qc.json", "not JSON"),
    "QC without rows": (lambda p: p["qc.json"].write_text('{"family": "FAM"}'), "qc.json",
                        "not a helgenom qc result"),
    "PED without the family": (lambda p: replace_line(p["ped"], "FAM", "FAM2"), "ped",
                               "family FAM"),
    "PED malformed": (lambda p: p["ped"].write_text("FAM kid 0\n"), "ped", "columns"),
    "no VCF": (lambda p: p["vcf.gz"].unlink(), "vcf.gz", "not found"),
    "VCF not gzip": (lambda p: p["vcf.gz"].write_bytes(b"\x1f\x8bnot gzip"), "vcf.gz",
                     "cannot read the VCF header"),
    "VCF not ranked": (lambda p: gz_text(p["vcf.gz"], "##fileformat=VCFv4.2\n#CHROM\tPOS\n"),
                       "vcf.gz", "not a VCF ranked"),
    "a TSV as VCF": (lambda p: shutil.copy(p["candidates.tsv"], p["vcf.gz"]), "vcf.gz",
                     "not a VCF"),
    "VCF of other samples": (lambda p: p["vcf.gz"].write_bytes(gzip.compress(
        gzip.decompress(p["vcf.gz"].read_bytes()).replace(b"\tmum\n", b"\tmother\n"))),
        "vcf.gz", "no sample mum"),
    "genotypes of a stranger": (lambda p: replace_line(p["candidates.tsv"], "mum_GT", "eve_GT"),
                                "candidates.tsv", "eve"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_inputs_are_one_line_naming_the_file(case: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_inputs(tmp_path / "in")
    out = tmp_path / "FAM.candidates.xlsx"
    out.write_bytes(b"an earlier workbook")
    spoil, named, words = BAD_INPUTS[case]
    spoil(paths)
    assert run_cli(paths, out) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert named in err and words in err, err
    assert out.read_bytes() == b"an earlier workbook"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name, "in"]


@pytest.mark.parametrize(("extra", "named"), [
    (("--hpo", "HP:0001250"), "--hpo"),
    (("--rank-model", "missing.ini"), "missing.ini"),
])
def test_bad_options(extra: tuple[str, ...], named: str, tmp_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_inputs(tmp_path)
    assert run_cli(paths, tmp_path / "w.xlsx", *extra) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and named in err, err
    assert not (tmp_path / "w.xlsx").exists()


def test_rank_model_other_than_the_vcfs(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    paths = write_inputs(tmp_path)
    paths["vcf.gz"].write_bytes(gzip.compress(gzip.decompress(
        paths["vcf.gz"].read_bytes()).replace(b"|variant_quality", b"")))
    assert run_cli(paths, tmp_path / "w.xlsx") == 2
    err = capsys.readouterr().err
    assert "FAM.vcf.gz" in err and f"variant_quality of rank model {DEFAULT_MODELS[0][2]}" in err


def test_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_inputs(tmp_path / "in")
    (tmp_path / "taken").write_text("a file where the folder should be")
    assert run_cli(paths, tmp_path / "taken" / "w.xlsx") == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "taken" in err and "Traceback" not in err


def test_the_list_is_read_in_chunks_keeping_the_top_rows(tmp_path: Path, monkeypatch) -> None:
    """A whole genome's list is read a chunk at a time: only the top rows stay in memory,
    whatever the order of the file, and every row still counts and is checked."""
    from helgenom.report import inputs

    monkeypatch.setattr(inputs, "ROWS_PER_CHUNK", 3)
    ranks = [5, 1, 9, 2, 8, 3, 7, 4, 6, 10]
    path = tmp_path / "F.candidates.tsv"
    path.write_text("## QC: PASS\nrank\tfamily\tchrom\tpos\tref\talt\tgene\n" + "".join(
        f"{r}\tF\tchr1\t{100 + r}\tA\tC\tG{r}\n" for r in ranks))
    listed = inputs.read_candidate_list(path, keep=4)
    assert listed.total == 10 and listed.families == {"F"}
    assert list(listed.table["rank"]) == ["1", "2", "3", "4"]
    assert list(listed.table["gene"]) == ["G1", "G2", "G3", "G4"]
    assert len(inputs.read_candidate_list(path).table) == 10
    # A row of another family past the kept ones is still found.
    path.write_text(path.read_text() + "11\tOTHER\tchr1\t200\tA\tC\tG11\n")
    listed = inputs.read_candidate_list(path, keep=4)
    family = inputs.Family("F", [])
    with pytest.raises(inputs.InputError, match="a candidate of another family"):
        inputs.check_candidates(listed, path, family, {}, "F.ped")


# ---------------------------------------------------------------- repeats and SMN (issue #16)
REPEATS_TSV = (
    "family\trepid\tgene\tchrom\tpos\tend\trepeat_unit\treference_units\tdisease\tinheritance"
    "\tnormal_max\tpathologic_min\tcall\tstranger_status\tfilter\tnote"
    + "".join(f"\t{m}_{f}" for m in ("kid", "dad", "mum") for f in ("REPCN", "status", "REPCI",
                                                                     "LC")) + "\n"
    "FAM\tDMPK\tDMPK\tchr19\t45770205\t45770264\tCTG\t20\t=HYPERLINK(\"x\")\tAD\t34\t50"
    "\tpathogenic\tfull_mutation\tPASS\tAD: in proband kid 5/120"
    "\t5/120\tfull_mutation\t.\t31\t5/13\tnormal\t.\t30\t12/45\tpre_mutation\t.\t29\n"
    "FAM\tHTT\tHTT\tchr4\t3074877\t3074933\tCAG\t19\tHuntington\tAD\t34\t36\tnormal\tnormal"
    "\tPASS\t.\t17/22\tnormal\t.\t31\t17/19\tnormal\t.\t30\t19/22\tnormal\t.\t29\n")
SMN_TSV = ("Sample\tisSMA\tisCarrier\tSMN1_CN\tSMN2_CN\tSMN2delta7-8_CN\tTotal_CN_raw\t"
           "Full_length_CN_raw\tg.27134T>G_CN\tSMN1_CN_raw\tfamily\trole\tcall\n"
           "kid\tTrue\tFalse\t0\t3\t0\t3.0\t3.0\t0\t0.0\tFAM\tproband\tSMA: no SMN1 copy\n"
           "dad\tFalse\tTrue\t1\t2\t0\t3.0\t3.0\t0\t1.0\tFAM\tfather\tcarrier: one SMN1 copy\n"
           "mum\tFalse\tTrue\t1\t3\t0\t4.0\t4.0\t0\t1.0\tFAM\tmother\tcarrier: one SMN1 copy\n")


def test_repeats_sheet_when_repeats_and_smn_are_given(tmp_path: Path) -> None:
    paths = write_inputs(tmp_path / "in")
    (tmp_path / "in" / "FAM.repeats.tsv").write_text(REPEATS_TSV)
    (tmp_path / "in" / "FAM.smn.tsv").write_text(SMN_TSV)
    out = tmp_path / "FAM.candidates.xlsx"
    assert run_cli(paths, out, "--repeats", str(tmp_path / "in" / "FAM.repeats.tsv"),
                   "--smn", str(tmp_path / "in" / "FAM.smn.tsv")) == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Candidates", "QC", "Run", "Repeats"]
    found = sections(wb["Repeats"])
    repeats = found["Repeat expansions (ExpansionHunter, Stranger)"]
    assert repeats[0][:9] == ("DMPK", "DMPK", '=HYPERLINK("x")', "AD", "chr19:45770205", "CTG",
                              34, 50, "pathogenic")
    assert repeats[0][9:15] == ("5/120", "full_mutation", "5/13", "normal", "12/45",
                                "pre_mutation")
    cell = wb["Repeats"]["C3"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("x")'  # text, not a formula
    assert wb["Repeats"].cell(row=3, column=1 + 8).font.bold  # the pathogenic call marked
    assert found["SMN1 and SMN2 copy numbers (SMNCopyNumberCaller)"][0] == (
        "kid", "proband", 0, 3, 0, "SMA: no SMN1 copy")
    inputs = [r[0] for r in sections(wb["Run"])["Inputs"]]
    assert inputs[-2:] == ["repeat expansions", "SMN copy numbers"]


def test_no_repeats_sheet_without_them(built: tuple[dict[str, Path], Path]) -> None:
    assert openpyxl.load_workbook(built[1]).sheetnames == ["Candidates", "QC", "Run"]


def test_a_repeats_table_of_another_family_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_inputs(tmp_path / "in")
    table = tmp_path / "in" / "FAM.repeats.tsv"
    table.write_text(REPEATS_TSV.replace("\nFAM\tHTT", "\nOTHER\tHTT"))
    out = tmp_path / "FAM.candidates.xlsx"
    assert run_cli(paths, out, "--repeats", str(table)) == 2
    err = capsys.readouterr().err
    assert f"{table}:3: column 'family': value 'OTHER': a row of another family" in err
    assert not out.exists()
