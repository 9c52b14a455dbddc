"""The clinicians' workbook: a family's ranked candidates, its QC and the run, as one .xlsx.

It is built from what the run delivered: the candidate list (with the QC lines that head it),
the QC JSON and the PED (read as `helgenom.report.inputs` reads them for the HTML report too)
and the header of the ranked VCF. Three sheets:

  Candidates  the top-ranked candidates (10,000 by default; never more than Excel's 1,048,576
              rows: a line above the table says so and names the full list) in rank order
              under the QC verdict line(s); header row and the
              columns up to the gene frozen, a filter over the table, numbers as numbers,
              each member's genotype columns named after the member's role in the family
              ("proband demo-proband GT"); transcript, hgvs_c and hgvs_p follow the gene;
              the clinical annotation (ClinVar significance, review stars and variation ID,
              gnomAD grpmax AF and homozygotes, SweGen AF, the GMC's local observations,
              homozygotes and frequency, CADD, REVEL, SpliceAI) follows population_af under
              headers for people: the significance text, the others number cells; a cell
              not annotated is empty
  QC          every QC row, the family verdict first, verdicts coloured
  Run         helgenom version, family, members, HPO terms, rank models and the inputs (file
              name and SHA-256); no date
  Repeats     only when a repeats table (helgenom repeats) or SMN table (helgenom smn) is
              given: each repeat with its disease, inheritance, normal and pathogenic sizes,
              every member's repeat units and status and the family call (pathogenic rows
              marked), then each member's SMN1/SMN2 copy numbers and call

The same inputs give the same bytes: the document dates and the zip entries' times are
SOURCE_DATE_EPOCH (1980-01-01 when it is not set) and the entries are in a fixed order. Text
is written as text, never as a formula: a value such as "=HYPERLINK(...)" from a sheet or a
VCF stays that string. The workbook is written under a hidden name and renamed into place.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from helgenom import __version__
from helgenom.io.atomic import write_atomic
from helgenom.io.vcf import read_header
from helgenom.report.inputs import (
    MISSING,
    CandidateList,
    QcReport,
    check_candidates,
    family_in_ped,
    input_error,
    member_roles,
    ordered_members,
    qc_text,
    read_candidate_list,
    read_qc,
    shown_note,
    top_rows,
)
from helgenom.report.manifest import sha256
from helgenom.sheets.pedigree import Family

SHEETS = ("Candidates", "QC", "Run")
REPEATS_SHEET = "Repeats"  # a fourth sheet, when repeat or SMN results are given
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_INTEGER = re.compile(r"[-+]?\d+")
# Candidate-list columns that stay text even when every value looks like a number.
TEXT_COLUMNS = frozenset({
    "family", "chrom", "ref", "alt", "type", "gene", "transcript", "hgvs_c", "hgvs_p",
    "consequence", "impact", "protein_change", "models", "compound_partners", "gates", "filter",
    "matched_hpo", "diseases", "sv_callers", "sv_origin", "clinvar"})
TEXT_FIELDS = frozenset({"GT"})  # per-member fields that stay text
AFTER_GENE = ("transcript", "hgvs_c", "hgvs_p")  # placed right after `gene` when present
# The clinical annotation: placed right after `population_af` (in this order) when present,
# each with its header and number type (a cell that is not a number stays text).
CLINICAL = {  # column -> (header, int or float)
    "clinvar": ("ClinVar significance", str), "clinvar_stars": ("ClinVar review stars", int),
    "clinvar_id": ("ClinVar variation ID", int),
    "gnomad_grpmax_af": ("gnomAD grpmax AF", float), "gnomad_hom": ("gnomAD homozygotes", int),
    "swegen_af": ("SweGen AF", float),
    "local_obs": ("local observations (earlier cases)", int),
    "local_hom": ("local homozygotes", int), "local_frq": ("local frequency", float),
    "cadd": ("CADD PHRED", float), "revel": ("REVEL", float),
    "spliceai": ("SpliceAI max delta score", float)}
AFTER_AF = tuple(CLINICAL)
QC_COLUMNS = ("level", "unit", "metric", "value", "threshold", "verdict", "reason", "detail")
VCF_MODEL_LINE = "##helgenom_rank_model=<"  # ID=SNV,Name=...,Version=...,File=...
# What Excel would read as the start of a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_TEXT = 32767
EXCEL_MAX_ROWS = 1_048_576  # rows of a sheet
MAX_ROWS = 10_000  # candidate rows of the Candidates sheet by default (0: all that fit)
TRUNCATED = " [truncated: the full text is in the candidate list]"
WIDTH_CAP = 50  # characters; longer text wraps
NARROW = {"ref": 15, "alt": 15}  # frozen allele columns: long alleles are cut off, not wrapped
HEADER_WIDTH = 16  # a longer header wraps rather than widening its column
EPOCH_VARIABLE = "SOURCE_DATE_EPOCH"
ZIP_EPOCH = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)  # the earliest time a zip entry holds
VERDICT_STYLE = {  # fill, font colour (Excel's Good / Neutral / Bad)
    "PASS": ("FFC6EFCE", "FF006100"),
    "WARN": ("FFFFEB9C", "FF9C5700"),
    "FAIL": ("FFFFC7CE", "FF9C0006"),
}
BOLD = Font(bold=True)
HEADER_FILL = PatternFill(fill_type="solid", fgColor="FFD9D9D9")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="top")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")


@dataclass(frozen=True)
class RankModelInfo:
    """A rank model the ranked VCF was scored with: `source` is the model file's name, or the
    ranked VCF's header when it names the model."""

    kind: str  # SNV or SV
    name: str
    version: str
    source: str
    categories: tuple[str, ...] = ()


@dataclass
class WorkbookInputs:
    candidates: Path
    qc: Path
    ped: Path
    vcf: Path
    hpo: Mapping[str, Sequence[str]] = field(default_factory=dict)  # family -> HPO term IDs
    rank_models: Sequence[RankModelInfo] = ()  # used when the VCF header names none
    max_rows: int = MAX_ROWS  # candidate rows, best first; 0: all that fit in a sheet
    repeats: Path | None = None  # the family's repeats table (helgenom repeats)
    smn: Path | None = None  # the family's SMN table (helgenom smn)


@dataclass
class RankedVcf:
    samples: list[str]
    categories: list[str]
    models: list[RankModelInfo]


# -------------------------------------------------------------------------- the ranked VCF
def _header_fields(text: str) -> dict[str, str]:
    """KEY=value pairs of a structured header line's <...> part (quotes removed)."""
    return {key: value.strip('"') for key, value in
            re.findall(r'([A-Za-z_]\w*)=("[^"]*"|[^,>]*)', text[text.find("<") + 1:])}


def read_ranked_vcf(path: Path | str) -> RankedVcf:
    """Samples, rank categories (RankResult's Description) and the rank models named by the
    header of the ranked VCF that `helgenom rank` wrote."""
    try:
        header = read_header(path)
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as error:
        raise input_error(path, f"cannot read the VCF header ({error})") from None
    if not header.lines or not header.lines[0].startswith("##fileformat=VCF"):
        raise input_error(path, "not a VCF (no ##fileformat line): give the ranked VCF")
    if "RankScore" not in header.info:
        raise input_error(path, "no RankScore INFO in the header: not a VCF ranked by "
                          "helgenom rank")
    categories: list[str] = []
    models = []
    for line in header.lines:
        if line.startswith("##INFO=<ID=RankResult,"):
            categories = _header_fields(line).get("Description", "").split("|")
        elif line.startswith(VCF_MODEL_LINE):
            found = _header_fields(line)
            models.append(RankModelInfo(found.get("ID", ""), found.get("Name", ""),
                                        found.get("Version", ""), "ranked VCF header"))
    return RankedVcf(header.samples, [c for c in categories if c], models)


# ------------------------------------------------------------------------------ cell writing
def excel_text(value: str) -> str:
    """`value` as a cell can hold it: without the control characters XML forbids, cut to
    Excel's 32,767 characters."""
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    return text if len(text) <= EXCEL_MAX_TEXT else text[:EXCEL_MAX_TEXT - len(TRUNCATED)] + (
        TRUNCATED)


def put(ws: Worksheet, row: int, column: int, value: object) -> Cell:
    """Write one cell; text is always a string cell (never a formula, error or number), and
    text Excel would take for a formula on editing is also marked as quoted text."""
    cell = ws.cell(row=row, column=column)
    text = excel_text(value) if isinstance(value, str) else None
    if text:
        cell.value = text
        cell.data_type = "s"
        if text.startswith(FORMULA_START):
            cell.quotePrefix = True
    elif not isinstance(value, str):  # an empty text stays an empty cell
        cell.value = value
    return cell


def number(text: str) -> int | float | str:
    """A number cell's value for `text`, or `text` itself when it is not a number."""
    if _INTEGER.fullmatch(text):
        return int(text)
    return float(text) if _NUMBER.fullmatch(text) else text


def typed(text: str, kind: type) -> int | float | str | None:
    """The cell value of `text` in a column of `kind` numbers: int (also of '3.0') or float
    ('25' too); None when empty; text that is not a number as it is."""
    if text in MISSING:
        return None
    if not _NUMBER.fullmatch(text):
        return text
    if kind is int:
        value = number(text)
        return int(value) if isinstance(value, float) and value.is_integer() else value
    return float(text)


def _is_numeric(values: pd.Series) -> bool:
    present = values[~values.isin(MISSING)]
    return bool(len(present)) and bool(present.str.fullmatch(_NUMBER.pattern).all())


def _verdict_style(cell: Cell, verdict: str) -> None:
    style = VERDICT_STYLE.get(verdict)
    if style:
        cell.fill = PatternFill(fill_type="solid", fgColor=style[0])
        cell.font = Font(bold=True, color=style[1])


def _line_verdict(line: str) -> str:
    found = re.search(r"\b(PASS|WARN|FAIL)\b", line)
    return found.group(1) if found else ""


def _header_row(ws: Worksheet, row: int, labels: Sequence[str]) -> None:
    for column, label in enumerate(labels, start=1):
        cell = put(ws, row, column, label)
        cell.font, cell.fill, cell.alignment = BOLD, HEADER_FILL, HEADER_ALIGN


def _set_widths(ws: Worksheet, labels: Sequence[str], texts: Sequence[Iterable[str]],
                caps: Sequence[int]) -> list[bool]:
    """Column widths from the longest text (bounded by `caps`); whether each column wraps."""
    wraps = []
    for column, (label, values, cap) in enumerate(zip(labels, texts, caps, strict=True), 1):
        longest = max((len(v) for v in values), default=0)
        width = min(max(longest, min(len(label), HEADER_WIDTH), 4) + 2, cap)
        ws.column_dimensions[get_column_letter(column)].width = width
        wraps.append(longest + 2 > cap and cap == WIDTH_CAP)
    return wraps


def _fill_column(ws: Worksheet, first_row: int, column: int, values: Iterable[object],
                 wrap: bool, float_format: str | None = None) -> None:
    """One column of a table, from `first_row` down; text top-aligned (wrapped with `wrap`)."""
    for row, value in enumerate(values, start=first_row):
        cell = put(ws, row, column, value)
        cell.alignment = WRAP if wrap else TOP
        if float_format and isinstance(value, float):
            cell.number_format = float_format


def _table_frame(ws: Worksheet, header_row: int, columns: int, rows: int, freeze_column: int
                 ) -> None:
    """Freeze the header row (and columns up to `freeze_column`), filter over the table."""
    last = get_column_letter(max(columns, 1))
    ws.auto_filter.ref = f"A{header_row}:{last}{header_row + rows}"
    ws.freeze_panes = ws.cell(row=header_row + 1, column=freeze_column + 1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"


# ----------------------------------------------------------------------------------- sheets
def candidate_columns(columns: Sequence[str], roles: Mapping[str, str]
                      ) -> list[tuple[str, str, str]]:
    """(column, header label, per-member field or '') in workbook order: the list's own
    columns (transcript, hgvs_c, hgvs_p right after gene; the clinical annotation, labelled
    as `CLINICAL` says, right after population_af), then each member's columns in role order,
    labelled "<role> <sample> <field>"."""
    members = sorted(roles, key=len, reverse=True)  # longest first: IDs may hold '_'
    owner = {c: next((m for m in members if c.startswith(f"{m}_")), None) for c in columns}
    plain = [c for c in columns if owner[c] is None]
    for after, placed in (("gene", AFTER_GENE), ("population_af", AFTER_AF)):
        if after in plain:
            moved = [c for c in placed if c in columns]
            plain = [c for c in plain if c not in moved]
            at = plain.index(after) + 1
            plain[at:at] = moved
    out = [(c, CLINICAL[c][0] if c in CLINICAL else c, "") for c in plain]
    for member, role in roles.items():
        for column in columns:
            if owner[column] == member:
                name = column[len(member) + 1:]
                out.append((column, f"{role} {member} {name}", name))
    return out


def _candidates_sheet(ws: Worksheet, table: pd.DataFrame, roles: Mapping[str, str],
                      intro: Sequence[str]) -> None:
    for row, line in enumerate(intro, start=1):
        cell = put(ws, row, 1, line)
        cell.font = BOLD
        _verdict_style(cell, _line_verdict(line) if line.startswith("QC") else "")
    header = len(intro) + 1
    layout = candidate_columns(list(table.columns), roles)
    _header_row(ws, header, [label for _, label, _ in layout])
    caps = [NARROW.get(column, WIDTH_CAP) for column, _, _ in layout]
    wraps = _set_widths(ws, [label for _, label, _ in layout],
                        [table[column] for column, _, _ in layout], caps)
    for index, ((column, _, name), wrap) in enumerate(zip(layout, wraps, strict=True), 1):
        values = table[column]
        text_only = (name in TEXT_FIELDS) if name else column in TEXT_COLUMNS
        kind = None if name else CLINICAL.get(column, ("", None))[1]
        if kind in (int, float):
            values = [typed(text, kind) for text in values]
        elif not text_only and _is_numeric(values):
            values = [None if text in MISSING else number(text) for text in values]
        _fill_column(ws, header + 1, index, values, wrap)
    gene = next(i for i, (column, _, _) in enumerate(layout, 1) if column == "gene")
    _table_frame(ws, header, len(layout), len(table), gene)


def _qc_value(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int | float) else "" if value is None else str(value)


def _qc_sheet(ws: Worksheet, qc: QcReport) -> None:
    rows = sorted(qc.rows, key=lambda r: r["level"] != "family")  # stable: family first
    _header_row(ws, 1, QC_COLUMNS)
    values = [[_qc_value(r.get(key)) for r in rows] for key in QC_COLUMNS]
    shown = [[f"{v:.4f}" if isinstance(v, float) else str(v) for v in column]
             for column in values]  # as the 0.0000 format shows them
    wraps = _set_widths(ws, QC_COLUMNS, shown, [WIDTH_CAP] * len(QC_COLUMNS))
    for index, (column, wrap) in enumerate(zip(values, wraps, strict=True), start=1):
        _fill_column(ws, 2, index, column, wrap, float_format="0.0000")
    verdicts = QC_COLUMNS.index("verdict") + 1
    for row in range(2, len(rows) + 2):
        _verdict_style(ws.cell(row=row, column=verdicts), str(ws.cell(row, verdicts).value))
    _table_frame(ws, 1, len(QC_COLUMNS), len(rows), 0)


def _section(ws: Worksheet, row: int, title: str, header: Sequence[str],
             rows: Iterable[Sequence[object]]) -> int:
    """A titled table of the Run sheet from `row`; the row after it and a blank line."""
    put(ws, row, 1, title).font = Font(bold=True, size=12)
    _header_row(ws, row + 1, header)
    row += 2
    for values in rows:
        for column, value in enumerate(values, start=1):
            put(ws, row, column, value).alignment = TOP
        row += 1
    return row + 1


def hpo_names(table: pd.DataFrame) -> dict[str, str]:
    """HPO term -> name, from the candidate list's `matched_hpo` ("HP:0001250 Seizure;...")."""
    names: dict[str, str] = {}
    for cell in table.get("matched_hpo", pd.Series(dtype=str)):
        for item in cell.split(";"):
            term, _, name = item.strip().partition(" ")
            if term.startswith("HP:") and name:
                names.setdefault(term, name)
    return names


def _run_sheet(ws: Worksheet, run: LoadedRun) -> None:
    inputs, family = run.inputs, run.family
    names = hpo_names(run.candidates.table)
    files = [("candidate list", inputs.candidates), ("QC", inputs.qc), ("PED", inputs.ped),
             ("ranked VCF", inputs.vcf),
             *((what, path) for what, path in (("repeat expansions", inputs.repeats),
                                               ("SMN copy numbers", inputs.smn)) if path)]
    row = _section(ws, 1, "Run", ("field", "value"), [
        ("QC verdict", run.qc.verdict), ("helgenom version", __version__),
        ("family", family.id), *(("QC", line) for line in run.qc_lines),
        ("candidates", run.candidates.total),
        ("Candidates sheet", run.shown_line or "all candidates"),
        ("rank categories", "|".join(run.vcf.categories))])
    _verdict_style(ws.cell(row=3, column=2), run.qc.verdict)  # the first row under the header
    row = _section(ws, row, "Members", ("sample", "role", "sex", "phenotype", "father", "mother"),
                   [(m.sample, run.roles[m.sample], m.sex, m.phenotype, m.father or "",
                     m.mother or "") for m in ordered_members(family, run.roles)])
    row = _section(ws, row, "HPO terms", ("term", "name"),
                   [(term, names.get(term, "")) for term in inputs.hpo.get(family.id, [])])
    row = _section(ws, row, "Rank models", ("kind", "name", "version", "source"),
                   [(m.kind, m.name, m.version, m.source) for m in run.models])
    _section(ws, row, "Inputs", ("input", "file", "SHA-256"),
             [(what, Path(path).name, sha256(Path(path))) for what, path in files])
    for letter, width in zip("ABCDEF", (18, 40, 14, 14, 16, 16), strict=True):
        ws.column_dimensions[letter].width = width


# ----------------------------------------------------------------------- repeats and SMN
REPEATS_REQUIRED = ("family", "repid", "gene", "chrom", "pos", "disease", "inheritance",
                    "normal_max", "pathologic_min", "call", "note")
SMN_REQUIRED = ("family", "Sample", "role", "SMN1_CN", "SMN2_CN", "SMN2delta7-8_CN", "isSMA",
                "isCarrier", "call")


def read_table(path: Path, what: str, required: Sequence[str], family: Family
               ) -> list[dict[str, str]]:
    """The rows of a repeats or SMN table of `family` (text cells); InputError naming the
    file (and line, column, value) when it is not one."""
    try:
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except OSError as error:
        raise input_error(path, f"cannot read the {what} ({error.strerror or error})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise input_error(path, f"not a {what} ({str(error).strip().splitlines()[-1]})"
                          ) from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise input_error(path, f"no column {', '.join(map(repr, missing))}: not a {what}")
    rows = frame.to_dict("records")
    for number, row in enumerate(rows, start=2):
        if row["family"] != family.id:
            raise input_error(path, f"a row of another family (this is family {family.id})",
                              number, "family", row["family"])
    return rows


def _repeats_sheet(ws: Worksheet, run: LoadedRun) -> None:
    row = 1
    members = list(run.roles)
    if run.repeats is not None:
        header = ["gene", "repeat", "disease", "inheritance", "position", "unit",
                  "normal up to", "pathogenic from", "call",
                  *(f"{run.roles[s]} {s} {field}" for s in members for field in ("units",
                                                                                 "status")),
                  "note"]
        first = row + 2
        row = _section(ws, row, "Repeat expansions (ExpansionHunter, Stranger)", header, [
            [r["gene"], r["repid"], r["disease"], r["inheritance"], f"{r['chrom']}:{r['pos']}",
             r.get("repeat_unit", ""), number(r["normal_max"]), number(r["pathologic_min"]),
             r["call"], *(r.get(f"{s}_{field}", "") for s in members
                          for field in ("REPCN", "status")),
             "" if r["note"] == "." else r["note"]] for r in run.repeats])
        for offset, r in enumerate(run.repeats):
            if r["call"] == "pathogenic":
                _verdict_style(ws.cell(row=first + offset, column=9), "FAIL")
    if run.smn is not None:
        first = row + 2
        _section(ws, row, "SMN1 and SMN2 copy numbers (SMNCopyNumberCaller)",
                 ("sample", "role", "SMN1", "SMN2", "SMN2\u03947-8", "call"),
                 [[r["Sample"], r["role"], number(r["SMN1_CN"]), number(r["SMN2_CN"]),
                   number(r["SMN2delta7-8_CN"]), r["call"]] for r in run.smn])
        for offset, r in enumerate(run.smn):
            if r["isSMA"] == "True" or r["isCarrier"] == "True":
                _verdict_style(ws.cell(row=first + offset, column=6),
                               "FAIL" if r["isSMA"] == "True" else "WARN")
    for letter, width in zip("ABCDEFGHI", (12, 12, 18, 12, 18, 8, 12, 14, 14), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A1"


# ------------------------------------------------------------------------------ writing
def source_date() -> dt.datetime:
    """SOURCE_DATE_EPOCH (UTC, not before 1980), or 1980-01-01: the workbook's only time."""
    raw = os.environ.get(EPOCH_VARIABLE, "").strip()
    if not raw:
        return ZIP_EPOCH
    if not raw.isdigit():
        raise input_error(EPOCH_VARIABLE, f"value '{raw}' is not a whole number of seconds")
    return max(dt.datetime.fromtimestamp(int(raw), dt.UTC), ZIP_EPOCH)


def workbook_bytes(wb: Workbook, when: dt.datetime) -> bytes:
    """The .xlsx bytes of `wb` with `when` as its only time: document created/modified and
    every zip entry's date; entries in a fixed order ([Content_Types].xml first)."""
    wb.properties.creator = "helgenom"
    wb.properties.lastModifiedBy = None
    wb.properties.created = wb.properties.modified = when.replace(tzinfo=None)
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()  # not wb.save: it stamps the current time
    stable = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(stable, "w") as sink:
        names = sorted(source.namelist(), key=lambda n: (n != "[Content_Types].xml", n))
        for name in names:
            entry = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3
            entry.external_attr = 0o644 << 16
            sink.writestr(entry, source.read(name), compresslevel=6)
    return stable.getvalue()


@dataclass
class LoadedRun:
    """The inputs, read and checked to be of one family and one ranking."""

    inputs: WorkbookInputs
    candidates: CandidateList
    qc: QcReport
    family: Family
    roles: dict[str, str]  # sample -> role, in column order
    vcf: RankedVcf
    models: list[RankModelInfo]
    repeats: list[dict[str, str]] | None = None
    smn: list[dict[str, str]] | None = None

    @property
    def qc_lines(self) -> list[str]:
        """The QC lines heading the candidate list (the QC JSON's when it has none)."""
        return qc_text(self.candidates.qc_lines or self.qc.header_lines)

    @property
    def shown(self) -> pd.DataFrame:
        """The candidates of the Candidates sheet: the top `max_rows` (0: all) that fit in a
        sheet under the QC lines, the shown-rows line, the summary line and the header."""
        room = EXCEL_MAX_ROWS - (len(self.qc_lines) + 3)
        return top_rows(self.candidates.table, self.inputs.max_rows, room)

    @property
    def shown_line(self) -> str:
        """'top N of M candidates; the full list is in ...', or '' when all are shown."""
        shown, total = len(self.shown), self.candidates.total
        return shown_note(shown, total, self.inputs.candidates) if shown < total else ""


def _check_consistent(run: LoadedRun) -> None:
    """Raise an InputError naming the odd file when the inputs are not of one family and
    ranking."""
    inputs, family, vcf = run.inputs, run.family, run.vcf
    check_candidates(run.candidates, inputs.candidates, family, run.roles, inputs.ped)
    absent = [m.sample for m in family.members if m.sample not in vcf.samples]
    if absent:
        raise input_error(inputs.vcf, f"no sample {', '.join(absent)} of family {family.id}: "
                          "not this family's ranked VCF")
    for model in run.models:
        unknown = [c for c in model.categories if c not in vcf.categories]
        if unknown:
            raise input_error(inputs.vcf, f"its rank categories ({'|'.join(vcf.categories)}) "
                              f"lack {', '.join(unknown)} of rank model {model.source}: give "
                              "the rank model(s) the VCF was ranked with")


def load_run(inputs: WorkbookInputs) -> LoadedRun:
    """Read and check the inputs; an InputError names the first bad file."""
    # Never more rows than a sheet holds are kept in memory, whatever the list's length.
    candidates = read_candidate_list(
        inputs.candidates, keep=inputs.max_rows if inputs.max_rows > 0 else EXCEL_MAX_ROWS)
    qc = read_qc(inputs.qc)
    family = family_in_ped(inputs.ped, qc.family)
    vcf = read_ranked_vcf(inputs.vcf)
    run = LoadedRun(inputs, candidates, qc, family, member_roles(family), vcf,
                    vcf.models or list(inputs.rank_models))
    if inputs.repeats is not None:
        run.repeats = read_table(Path(inputs.repeats), "repeats table (helgenom repeats)",
                                 REPEATS_REQUIRED, family)
        absent = [s for s in run.roles if run.repeats and f"{s}_REPCN" not in run.repeats[0]]
        if absent:
            raise input_error(inputs.repeats, f"no repeat sizes of {', '.join(absent)}: not "
                              f"family {family.id}'s table")
    if inputs.smn is not None:
        run.smn = read_table(Path(inputs.smn), "SMN table (helgenom smn)", SMN_REQUIRED, family)
        absent = [s for s in run.roles if s not in {r["Sample"] for r in run.smn}]
        if absent:
            raise input_error(inputs.smn, f"no copy numbers of {', '.join(absent)}: not family "
                              f"{family.id}'s table")
    _check_consistent(run)
    return run


def build_workbook(run: LoadedRun) -> Workbook:
    """The sheets of the workbook of `run` (three, and Repeats when given)."""
    table = run.shown
    count = run.candidates.total
    intro = [*run.qc_lines, *filter(None, [run.shown_line]),
             f"{count} candidate{'s' if count != 1 else ''} of family {run.family.id} in rank "
             f"order (helgenom {__version__}); QC and Run sheets: the checks, members, models "
             "and inputs"]
    wb = Workbook()
    sheets = [wb.active, wb.create_sheet(), wb.create_sheet()]
    for sheet, title in zip(sheets, SHEETS, strict=True):
        sheet.title = title
    _candidates_sheet(sheets[0], table, run.roles, intro)
    _qc_sheet(sheets[1], run.qc)
    _run_sheet(sheets[2], run)
    if run.repeats is not None or run.smn is not None:
        sheet = wb.create_sheet()
        sheet.title = REPEATS_SHEET
        _repeats_sheet(sheet, run)
    return wb


def write_workbook(inputs: WorkbookInputs, out: Path | str) -> LoadedRun:
    """Write the workbook of `inputs` to `out` (.xlsx); the run it was built from."""
    when = source_date()
    run = load_run(inputs)
    write_atomic(workbook_bytes(build_workbook(run), when), Path(out))
    return run
