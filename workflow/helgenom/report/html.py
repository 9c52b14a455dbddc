"""The clinicians' HTML report of a family, and the run's index page of those reports.

`write_report` reads what the run delivered for one family and writes one self-contained page:

  QC          the family verdict and its reasons first (coloured PASS/WARN/FAIL), the members
              with their role (from the PED) and sample verdicts, every QC check on demand
  candidates  the ranked candidate list as a table sorted by a click on a header, filtered by
              text, inheritance model and variant type; a click on a row opens its evidence:
              each member's genotype with depth, allele balance and GQ, the models and the
              compound partners (links to their rows), the score category by category, the
              matched HPO terms and diseases, the population frequency, the SV callers and
              origin, HGVS (transcript, hgvs_c, hgvs_p) when the list has them, and any
              other column of the list
  clinical    when the list has them (lists of older versions do not, and a cell is empty
              where a source was not configured or has no record of the variant): a ClinVar
              column (P, LP, VUS, LB, B, Conflicting with review stars, the full text on
              hover; pathogenic or likely pathogenic as a red badge and a marked row) and in
              the evidence ClinVar (significance, review status, a link to the record),
              gnomAD grpmax AF and homozygotes, SweGen AF, the GMC's earlier cases with the
              variant, CADD, REVEL and SpliceAI; an empty cell is called absent only when
              the source gave another candidate a value
  chromosomes ROH segments, depth CNVs and UPD calls along the chromosomes (inline SVG), with
              the UPD table, an ROH summary, the CNV and SV tables
  repeats     when given: the family's repeat expansions (helgenom repeats: each repeat's
              alleles per member against its normal and pathogenic sizes, pathogenic ones
              marked) and SMN1/SMN2 copy numbers (helgenom smn), after the QC
  reads       each member's reads at the top `reads_top` candidates (helgenom.report.reads):
              an inline SVG pileup per member in the candidate's evidence, with the
              counts of ref and alt reads; a marked place for the other candidates

It needs nothing else: the CSS and JavaScript of `assets/` are inline, the plot is SVG, and a
Content-Security-Policy allows exactly those inline blocks (by SHA-256), so that no other
script runs and nothing is requested from anywhere (a ClinVar record is a link the reader
may follow, never loaded by the page). Every value read from an input is HTML-escaped
(`esc`; `Html` marks text built here from escaped parts). The same inputs give the same
bytes: no times, no random IDs, inputs named by file name and SHA-256. Files are written
under a hidden name and renamed into place.

`write_index` lists the reports of a run (family, verdict, candidates, top candidate), read
back from the `helgenom-*` meta tags every report carries.

Inputs are read as files: the candidate list, QC JSON, PED family and roles as the workbook
reads them (`helgenom.report.inputs`), TSVs and small SV/CNV VCFs here; no other stage is
imported, nor any spreadsheet library.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import os
import re
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from helgenom import __version__
from helgenom.errors import InputError, Problem
from helgenom.io.atomic import write_atomic
from helgenom.io.vcf import variant_name
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
from helgenom.report.markup import Html, esc, join, tag
from helgenom.report.reads import (
    DEFAULT_TOP,
    MAX_READS,
    Alignment,
    Variant,
    check_alignments,
    pileups,
)
from helgenom.sheets.pedigree import Family

T = TypeVar("T")
VERDICTS = ("PASS", "WARN", "FAIL")
MAX_CANDIDATES = 1000  # candidate rows on the page by default (0: all)
MAX_TABLE_ROWS = 500  # rows of each CNV, SV and ROH-segment table
MEMBER_FIELDS = ("GT", "DP", "AB", "GQ")
HGVS_COLUMNS = ("transcript", "hgvs_c", "hgvs_p")
# The clinical annotation of the candidate list (each column may be absent, each cell empty).
CLINVAR_COLUMNS = ("clinvar", "clinvar_stars", "clinvar_id")
FREQUENCY_COLUMNS = ("gnomad_grpmax_af", "gnomad_hom", "swegen_af", "local_obs", "local_hom",
                     "local_frq")
PREDICTION_COLUMNS = ("cadd", "revel", "spliceai")
CLINICAL_COLUMNS = (*CLINVAR_COLUMNS, *FREQUENCY_COLUMNS, *PREDICTION_COLUMNS)
# Candidate-list columns the page places itself; any other column shows in the evidence.
PLACED = frozenset({
    "rank", "family", "chrom", "pos", "end", "ref", "alt", "type", "gene", "consequence",
    "impact", "protein_change", "population_af", "models", "compound_partners", "score",
    "score_normalized", "gates", "filter", "in_panel", "phenotype_score", "matched_hpo",
    "diseases", "combined_score", "sv_callers", "sv_origin", *HGVS_COLUMNS,
    *CLINICAL_COLUMNS})
# ClinVar: the link of a variation ID (a link the reader follows; the page loads nothing),
# the terms of CLNSIG abbreviated (in this order when several) and what each star count means.
CLINVAR_URL = "https://www.ncbi.nlm.nih.gov/clinvar/variation/{}/"
CLNSIG_TERMS = {"pathogenic": "P", "likely_pathogenic": "LP", "uncertain_significance": "VUS",
                "benign": "B", "likely_benign": "LB"}
CLNSIG_ORDER = ("P", "LP", "VUS", "B", "LB")
CLNSIG_RANK = {"P": 60, "LP": 50, "VUS": 30, "B": 10, "LB": 20}  # sorting: most severe first
CONFLICTING_RANK, OTHER_RANK = 35, 5
REVIEW_STARS = 4
REVIEW_STATUS = {4: "practice guideline", 3: "reviewed by expert panel",
                 2: "criteria provided, multiple submitters, no conflicts",
                 1: "criteria provided, single submitter or conflicting classifications",
                 0: "no assertion criteria provided"}
SUPERSCRIPT = str.maketrans("-0123456789",
                            "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")
UPD_REQUIRED = ("child", "chrom", "call")
REPEATS_REQUIRED = ("family", "repid", "gene", "chrom", "pos", "disease", "inheritance",
                    "normal_max", "pathologic_min", "call", "note")
SMN_REQUIRED = ("family", "Sample", "role", "SMN1_CN", "SMN2_CN", "SMN2delta7-8_CN", "call")
ROH_REQUIRED = ("sample", "chrom", "start", "end")
PRIMARY = re.compile(r"^(?:chr)?(?:[0-9]+|X|Y)$", re.IGNORECASE)
META = "helgenom-"  # name prefix of the summary meta tags the run index reads
READS_NOTE = ("Read-level evidence (alignments of every member at the variant, split and "
              "discordant reads for SVs) is not in this report: open the members' BAM/CRAM "
              "files of results/alignment/ in IGV at the position above.")
ASSETS = files(__package__).joinpath("assets")
PLOT_WIDTH, PLOT_LEFT, LANE, LANE_GAP, CHROM_GAP, AXIS = 980, 150, 9, 2, 9, 22


def _asset(name: str) -> str:
    return ASSETS.joinpath(name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def page(title: str, body: Html, meta: Mapping[str, object]) -> str:
    """A whole HTML document: `body`, the inline CSS and script of assets/, `meta` as
    `<meta name="helgenom-KEY">` tags, and a policy that allows nothing else."""
    css, script = _asset("report.css"), _asset("report.js")
    policy = (f"default-src 'none'; script-src {_csp_hash(script)}; "
              f"style-src {_csp_hash(css)}; img-src 'none'; base-uri 'none'; form-action 'none'")
    head = join([
        tag("meta", charset="utf-8"),
        tag("meta", http_equiv="Content-Security-Policy", content=policy),
        tag("meta", name="viewport", content="width=device-width, initial-scale=1"),
        tag("meta", name="generator", content=f"helgenom {__version__}"),
        *(tag("meta", name=f"{META}{key}", content=value) for key, value in meta.items()),
        tag("title", title),
        Html(f"<style>{css}</style>"),
    ], "\n")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{head}\n</head>\n<body>\n{body}\n'
            f"<script>{script}</script>\n</body>\n</html>\n")


# ------------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = False
    title: str | None = None
    first: str | None = None  # the first click sorts "asc" or "desc" (numbers: desc; text: asc)


@dataclass(frozen=True)
class Cell:
    """A table cell: `content` (escaped unless Html), the value it sorts by (`sort`; else its
    text) and a class."""

    content: object
    sort: object = None
    cls: str | None = None
    title: str | None = None


def cell(value: object) -> Cell:
    return value if isinstance(value, Cell) else Cell(value)


def _th(column: Column, sort: str = "none") -> Html:
    return tag("th", tag("button", column.label, type="button", class_="sort"),
               class_="num" if column.numeric else None, title=column.title,
               data_type="num" if column.numeric else "text", data_first=column.first,
               aria_sort=sort)


def _td(value: object, column: Column) -> Html:
    c = cell(value)
    classes = " ".join(k for k in (c.cls, "num" if column.numeric else None) if k)
    return tag("td", c.content, data_sort=c.sort, title=c.title, class_=classes or None)


def table(columns: Sequence[Column], rows: Iterable[Sequence[object]], id_: str | None = None,
          cls: str = "sortable", row_classes: Sequence[str | None] = ()) -> Html:
    """A table sorted by a click on a header (report.js); cells are values or `Cell`s."""
    body = []
    for index, values in enumerate(rows):
        flag = row_classes[index] if index < len(row_classes) else None
        body.append(tag("tr", *(_td(v, c) for v, c in zip(values, columns, strict=True)),
                        class_=flag))
    return tag("table", tag("thead", tag("tr", *map(_th, columns))), tag("tbody", *body),
               id=id_, class_=cls)


def fields(pairs: Iterable[tuple[str, object]]) -> Html:
    """A `<dl>` of the pairs whose value is not empty."""
    items = [Html(tag("dt", key) + tag("dd", value)) for key, value in pairs
             if value not in (None, "")]
    return tag("dl", *items, class_="fields") if items else Html("")


def bullets(values: Iterable[object]) -> Html:
    items = [tag("li", v) for v in values if v not in (None, "")]
    return tag("ul", *items, class_="plain") if items else Html("")


def bp(length: float) -> str:
    """A length for people: 950 bp, 9.5 kb, 1.25 Mb."""
    if abs(length) >= 1_000_000:
        return f"{length / 1_000_000:.2f} Mb"
    if abs(length) >= 1_000:
        return f"{length / 1_000:.1f} kb"
    return f"{int(length)} bp"


def number_text(value: object) -> str:
    """A QC value as text: whole floats without decimals, others to 4 significant digits."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def chrom_order(chrom: str) -> str:
    """A text key sorting contigs as people do: 1..22, X, Y, M, then the others by name."""
    name = re.sub(r"^chr", "", chrom, flags=re.IGNORECASE)
    if name.isdigit():
        return f"0{int(name):04d}"
    special = {"X": "1", "Y": "2", "M": "3", "MT": "3"}
    return special.get(name.upper(), "9") + ("" if name.upper() in special else name)


def locus_key(chrom: str, pos: int | None) -> str:
    return f"{chrom_order(chrom)}:{pos if pos is not None else 0:012d}"


def as_int(text: object) -> int | None:
    try:
        return int(str(text))
    except ValueError:
        return None


# ------------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class ReportInputs:
    family: str
    candidates: Path
    qc: Path
    ped: Path
    upd: Path | None = None
    roh: Path | None = None
    cnv: Path | None = None
    sv: Path | None = None
    max_rows: int = MAX_CANDIDATES
    alignments: tuple[Alignment, ...] = ()  # members' BAM/CRAM, for the pileups
    fasta: Path | None = None  # the reference (needed for CRAM)
    reads_top: int = DEFAULT_TOP  # candidates with pileups, best first
    repeats: Path | None = None  # the family's repeats table (helgenom repeats)
    smn: Path | None = None  # the family's SMN table (helgenom smn)

    def files(self) -> list[tuple[str, Path]]:
        named = [("candidate list", self.candidates), ("QC", self.qc), ("PED", self.ped),
                 ("UPD", self.upd), ("ROH", self.roh), ("depth CNVs", self.cnv),
                 ("SVs", self.sv), ("repeat expansions", self.repeats),
                 ("SMN copy numbers", self.smn)]
        return [(what, Path(path)) for what, path in named if path is not None]


def _text(path: Path, what: str) -> str:
    """A (gzip or plain) text file whole; errors name the file."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise input_error(path, f"no such file (the {what})") from None
    except OSError as error:
        raise input_error(path, f"cannot read the {what} ({error.strerror or error})") from None
    except (EOFError, zlib.error):
        raise input_error(path, f"truncated or damaged gzip: not a readable {what}") from None
    except UnicodeDecodeError:
        raise input_error(path, f"not a text file: not a {what}") from None


def read_tsv(path: Path, what: str, required: Sequence[str],
             integers: Sequence[str] = ()) -> list[dict[str, str]]:
    """The rows of a TSV with a header line (text cells); `required` columns must be there
    and `integers` hold whole numbers (errors name file, line, column and value)."""
    lines = [line.rstrip("\r") for line in _text(path, what).split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise input_error(path, f"empty: no header line (the {what})")
    header = lines[0].split("\t")
    missing = [c for c in required if c not in header]
    if missing:
        raise input_error(path, f"no column {', '.join(map(repr, missing))}: not a {what}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        values = line.split("\t")
        if len(values) != len(header):
            raise input_error(path, f"{len(values)} fields, the header has {len(header)}", number)
        row = dict(zip(header, values, strict=True))
        for column in integers:
            if as_int(row[column]) is None:
                raise input_error(path, "not a whole number", number, column, row[column])
        rows.append(row)
    return rows


@dataclass(frozen=True)
class VcfRecord:
    chrom: str
    pos: int
    id: str
    ref: str
    alt: str
    qual: str
    filter: str
    info: dict[str, str]
    calls: dict[str, dict[str, str]]  # sample -> FORMAT key -> value

    @property
    def end(self) -> int:
        return as_int(self.info.get("END")) or self.pos + max(len(self.ref) - 1, 0)

    @property
    def svtype(self) -> str:
        return self.info.get("SVTYPE") or self.alt.strip("<>").split(":")[0]

    @property
    def key(self) -> str:
        """The variant's ID in the candidate list's `compound_partners` (GENMOD's
        CHROM_POS_REF_ALT, `io.vcf.variant_name`)."""
        return variant_name(self.chrom, self.pos, self.ref, self.alt)


@dataclass
class Vcf:
    contigs: dict[str, int] = field(default_factory=dict)  # name -> length (0: not given)
    samples: list[str] = field(default_factory=list)
    records: list[VcfRecord] = field(default_factory=list)


def read_sv_vcf(path: Path, what: str) -> Vcf:
    """A small text VCF of SVs or CNVs (plain or bgzipped) whole; its records must be SVs
    (INFO/SVTYPE or a symbolic ALT). Errors name file and line."""
    vcf, seen_header = Vcf(), False
    for number, line in enumerate(_text(path, what).split("\n"), start=1):
        line = line.rstrip("\r")
        if line.startswith("##contig=<"):
            name = re.search(r"[<,]ID=([^,>]+)", line)
            length = re.search(r"[<,]length=(\d+)", line)
            if name:
                vcf.contigs[name.group(1)] = int(length.group(1)) if length else 0
        elif line.startswith("#CHROM"):
            vcf.samples, seen_header = line.split("\t")[9:], True
        elif line and not line.startswith("#"):
            if not seen_header:
                raise input_error(path, f"a record before the #CHROM line: not a {what}",
                                  number)
            record = _vcf_record(path, number, line.split("\t"), vcf.samples)
            if "SVTYPE" not in record.info and not record.alt.startswith("<"):
                raise input_error(path, f"a record without INFO/SVTYPE or symbolic ALT: not a "
                                  f"{what}", number, "ALT", record.alt)
            vcf.records.append(record)
    if not seen_header:
        raise input_error(path, f"no #CHROM header line: not a {what}")
    return vcf


def _vcf_record(path: Path, number: int, cols: list[str], samples: list[str]) -> VcfRecord:
    if len(cols) < 8 or as_int(cols[1]) is None:
        raise input_error(path, "not a VCF record (8+ tab-separated fields, POS a number)",
                          number)
    info = dict(item.partition("=")[::2] for item in cols[7].split(";") if item not in MISSING)
    if "END" in info and as_int(info["END"]) is None:
        raise input_error(path, "INFO END is not a whole number", number, "INFO", info["END"])
    keys = cols[8].split(":") if len(cols) > 8 else []
    calls = {s: dict(zip(keys, value.split(":"), strict=False))
             for s, value in zip(samples, cols[9:], strict=False)}
    return VcfRecord(cols[0], int(cols[1]), cols[2], cols[3], cols[4], cols[5], cols[6], info,
                     calls)


def family_value(text: str, family: str) -> str:
    """This family's part of a per-family INFO value (`FAM:AR_comp,OTHER:AD` -> AR_comp)."""
    for part in text.split(","):
        name, sep, value = part.partition(":")
        if sep and name == family:
            return value
    return ""


def carries(gt: str | None) -> bool:
    """Whether a genotype holds a non-reference allele."""
    return any(a not in ("0", ".", "") for a in re.split(r"[/|]", gt or ""))


@dataclass
class Loaded:
    """The inputs of one family's report, read and checked."""

    inputs: ReportInputs
    candidates: CandidateList
    qc: QcReport
    family: Family
    roles: dict[str, str]  # sample -> role, proband first
    upd: list[dict[str, str]] | None
    roh: list[dict[str, str]] | None
    cnv: Vcf | None
    sv: Vcf | None
    repeats: list[dict[str, str]] | None = None
    smn: list[dict[str, str]] | None = None


def load(inputs: ReportInputs) -> Loaded:
    """Read every input and check they are of one family; an InputError holds the problems
    of every bad file."""
    problems: list[Problem] = []

    def attempt(read: Callable[[], T]) -> T:
        try:
            return read()
        except InputError as error:
            problems.extend(error.problems)
            return None  # type: ignore[return-value]  # never used: the problems are raised

    def optional(path: Path | None, read: Callable[[Path], T]) -> T | None:
        return None if path is None else attempt(lambda: read(Path(path)))

    candidates = attempt(lambda: read_candidate_list(inputs.candidates, keep=inputs.max_rows))
    qc = attempt(lambda: read_qc(inputs.qc))
    family = attempt(lambda: family_in_ped(inputs.ped, inputs.family))
    upd = optional(inputs.upd, lambda p: read_tsv(p, "UPD table", UPD_REQUIRED))
    roh = optional(inputs.roh, lambda p: read_tsv(p, "ROH table", ROH_REQUIRED,
                                                  ("start", "end")))
    cnv = optional(inputs.cnv, lambda p: read_sv_vcf(p, "depth-CNV VCF"))
    sv = optional(inputs.sv, lambda p: read_sv_vcf(p, "structural-variant VCF"))
    repeats = optional(inputs.repeats, lambda p: read_tsv(p, "repeats table (helgenom "
                                                          "repeats)", REPEATS_REQUIRED))
    smn = optional(inputs.smn, lambda p: read_tsv(p, "SMN table (helgenom smn)",
                                                  SMN_REQUIRED))
    attempt(lambda: check_alignments(inputs.alignments, inputs.fasta))
    if problems:
        raise InputError(problems)
    run = Loaded(inputs, candidates, qc, family, member_roles(family), upd, roh, cnv, sv,
                 repeats, smn)
    _check_family(run)
    return run


def _check_family(run: Loaded) -> None:
    """The QC JSON, the candidates and their genotype columns must be of the report's
    family."""
    name, inputs = run.inputs.family, run.inputs
    if run.qc.family != name:
        raise input_error(inputs.qc, f"the QC of family {run.qc.family}, not of {name}")
    check_candidates(run.candidates, inputs.candidates, run.family, run.roles, inputs.ped)
    for path, rows, column in ((inputs.repeats, run.repeats, "family"),
                               (inputs.smn, run.smn, "family")):
        for number, row in enumerate(rows or (), start=2):
            if row[column] != name:
                raise input_error(path or "", f"a row of another family (this is family "
                                  f"{name})", number, column, row[column])
    if run.repeats is not None:
        absent = [s for s in run.roles if f"{s}_REPCN" not in run.repeats[0]] \
            if run.repeats else []
        if absent:
            raise input_error(inputs.repeats or "", f"no repeat sizes of {', '.join(absent)} "
                              f"(no column {absent[0]}_REPCN): not family {name}'s table")
    if run.smn is not None:
        absent = [s for s in run.roles if s not in {row["Sample"] for row in run.smn}]
        if absent:
            raise input_error(inputs.smn or "", f"no copy numbers of {', '.join(absent)}: not "
                              f"family {name}'s table")
    seen: set[str] = set()
    for a in inputs.alignments:
        if a.sample not in run.roles:
            raise input_error(a.path, f"the alignment of {a.sample}: not a member of family "
                              f"{name} ({', '.join(run.roles)})")
        if a.sample in seen:
            raise input_error(a.path, f"a second alignment of {a.sample}")
        seen.add(a.sample)


# -------------------------------------------------------------------------------- QC
def qc_reasons(rows: Sequence[Mapping[str, object]]) -> list[tuple[str, str]]:
    """(verdict, reason) of the checks that did not pass: FAILs first, then WARNs, each once;
    the members' and family's summary rows left out (their checks are listed)."""
    graded = [(str(r.get("verdict")), str(r.get("reason") or "")) for r in rows
              if r.get("metric") != "verdict"]
    return list(dict.fromkeys((v, reason) for level in ("FAIL", "WARN")
                              for v, reason in graded if v == level and reason))


def _qc_row_cells(row: Mapping[str, object]) -> list[object]:
    verdict = str(row.get("verdict", ""))
    return [row.get("level", ""), row.get("unit", ""), row.get("metric", ""),
            Cell(number_text(row.get("value")), sort=row.get("value")
                 if isinstance(row.get("value"), int | float) else None),
            row.get("threshold", ""), Cell(verdict, cls=f"v-{verdict}"),
            row.get("reason", "") or row.get("detail", "")]


QC_COLUMNS = [Column("level"), Column("unit"), Column("metric"), Column("value", True),
              Column("threshold"), Column("verdict"), Column("reason / detail")]


def qc_section(run: Loaded) -> Html:
    qc, verdict = run.qc, run.qc.verdict
    reasons = qc_reasons(qc.rows)
    items = [tag("li", tag("span", v, class_=f"v-{v}"), " ", reason) for v, reason in reasons]
    summary = (tag("ul", *items) if items
               else tag("p", f"All QC checks of family {run.family.id} passed."))
    banner = tag("div", tag("span", verdict, class_="badge"),
                 tag("strong", f"QC verdict of family {run.family.id}"), summary,
                 id="verdict", class_=f"verdict verdict-{verdict}", role="status")
    listed = qc_text(run.candidates.qc_lines)
    stale = [line for line in listed if line.startswith("QC:") and verdict not in line.split()]
    note = (tag("p", "The candidate list was ranked under another QC verdict: ",
                tag("code", stale[0]), f" (the QC JSON says {verdict}): rerun the ranking.",
                class_="alert") if stale and verdict in VERDICTS else Html(""))
    by_unit = {str(r.get("unit")): str(r.get("verdict")) for r in qc.rows
               if r.get("level") == "sample" and r.get("metric") == "verdict"}
    members = table([Column("sample"), Column("role"), Column("sex"), Column("phenotype"),
                     Column("father"), Column("mother"), Column("QC")],
                    [[m.sample, run.roles.get(m.sample, ""), m.sex, m.phenotype,
                      m.father or "", m.mother or "",
                      Cell(by_unit.get(m.sample, ""), cls=f"v-{by_unit.get(m.sample, '')}")]
                     for m in ordered_members(run.family, run.roles)], id_="members")
    failed = [r for r in qc.rows if r.get("verdict") in ("WARN", "FAIL")
              and r.get("metric") != "verdict"]
    checks = (Html(tag("h3", "Checks that did not pass")
                   + table(QC_COLUMNS, [_qc_row_cells(r) for r in failed], id_="qc-failed"))
              if failed else Html(""))
    every = tag("details", tag("summary", f"All {len(qc.rows)} QC rows"),
                table(QC_COLUMNS, [_qc_row_cells(r) for r in qc.rows], id_="qc-all"))
    return tag("section", tag("h2", "Quality control"), banner, note, tag("h3", "Members"),
               members, checks, every, id="qc")


# ---------------------------------------------------------------------------- candidates
@dataclass(frozen=True)
class Candidate:
    number: int  # 1-based place in the list
    values: dict[str, str]

    @property
    def anchor(self) -> str:
        return f"c{self.number}"

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    @property
    def key(self) -> str:
        """Its name in `compound_partners` (`io.vcf.variant_name`)."""
        return variant_name(*(self.get(c) for c in ("chrom", "pos", "ref", "alt")))

    @property
    def is_sv(self) -> bool:
        return self.get("type").upper() == "SV" or self.get("alt").startswith("<")

    def variant_text(self) -> str:
        pos, end = as_int(self.get("pos")), as_int(self.get("end"))
        where = f"{self.get('chrom')}:{pos:,}" if pos is not None else self.get("chrom")
        if self.is_sv:
            span = f"-{end:,}" if end is not None and pos is not None and end > pos else ""
            size = f" ({bp(end - pos + 1)})" if span else ""
            return f"{where}{span} {self.get('alt')}{size}"
        return f"{where} {self.get('ref')}>{self.get('alt')}"

    def variant(self) -> Variant | None:
        """The variant for its pileups (None without a position)."""
        pos, end = as_int(self.get("pos")), as_int(self.get("end"))
        if pos is None or not self.get("chrom"):
            return None
        return Variant(self.get("chrom"), pos, end if end is not None else pos,
                       self.get("ref"), self.get("alt"), self.is_sv)


def hgvs_short(text: str) -> str:
    """HGVS without its sequence's accession, '=' for VEP's '%3D' (ENST1.2:c.35G>A ->
    c.35G>A; ENSP1.2:p.(Leu39%3D) -> p.(Leu39=))."""
    return re.sub(r"^[^:\s]+:(?=[cgmnopr]\.)", "", text.replace("%3D", "="))


def score_columns(columns: Sequence[str]) -> list[str]:
    return [c for c in columns if c.startswith("score_") and c != "score_normalized"]


def _af_cell(text: str) -> Cell:
    if text in MISSING:
        return Cell("absent", sort=0, title="not in the population frequency source")
    return Cell(text)


def _partner_links(text: str, rows: Mapping[str, Candidate]) -> Html:
    """`ID>score,...` as links to the partners' rows (text for partners not on the page)."""
    items = []
    for part in (p for p in text.split(",") if p):
        ident, _, score = part.rpartition(">")
        if as_float(score) is None:  # no '>score' after the ID
            ident, score = part, ""
        partner = rows.get(ident)
        label = f"{ident} (score {score})" if score else ident
        if partner is not None:
            gene = partner.get("gene")
            items.append(tag("a", f"#{partner.number} {gene} {label}", href=f"#{partner.anchor}",
                             class_="jump partner", data_target=partner.anchor))
        else:
            items.append(Html(esc(label) + tag("span", " (not on this page)", class_="muted")))
    return bullets(items)


def _origin_text(text: str, roles: Mapping[str, str]) -> list[str]:
    """`demo-proband:maternal` -> 'demo-proband (proband): maternal'."""
    out = []
    for part in (p for p in text.split(",") if p):
        sample, sep, origin = part.rpartition(":")
        role = roles.get(sample)
        out.append(f"{sample} ({role}): {origin.replace('_', ' ')}" if sep and role else part)
    return out


def _signed(value: str) -> Cell:
    number = as_float(value)
    cls = None if number is None or number == 0 else ("pos" if number > 0 else "neg")
    return Cell(value, cls=cls)


def as_float(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


# ----------------------------------------------------------------- clinical annotation
def whole(text: str) -> int | None:
    """A whole number of a cell ('3', also '3.0'), else None."""
    number = as_int(text.strip())
    if number is None:
        value = as_float(text)
        number = int(value) if value is not None and value.is_integer() else None
    return number


def af_text(text: str) -> str:
    """An allele frequency for people: 3 significant digits, scientific below 0.001
    (0.0123, 1.2×10⁻⁵); text that is not a number as it is."""
    value = as_float(text)
    if value is None:
        return text
    if value == 0 or abs(value) >= 0.001:
        return f"{value:.3g}"
    mantissa, exponent = f"{value:.2e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}\u00d710{str(int(exponent)).translate(SUPERSCRIPT)}"


def fixed_text(text: str, decimals: int) -> str:
    """A score with `decimals` decimals (CADD 24.5, REVEL 0.812); other text as it is."""
    value = as_float(text)
    return text if value is None else f"{value:.{decimals}f}"


def count_text(text: str) -> str:
    """A count with thousands separators; other text as it is."""
    number = whole(text)
    return text if number is None else f"{number:,}"


def _last_place(text: str) -> int | None:
    """The power of ten of the last digit written ('0.0024' -4, '2.4e-03' -4)."""
    found = re.fullmatch(r"\s*[-+]?\d*(?:\.(\d*))?(?:[eE]([-+]?\d+))?\s*", text)
    return None if found is None else int(found.group(2) or 0) - len(found.group(1) or "")


def earlier_cases(observations: int, frequency: str) -> int | None:
    """The number of earlier cases M of a frequency database, from a variant's observations
    and its frequency (observations / M) as written: the one M that gives the frequency to
    the digits written, None when no or several do."""
    value, place = as_float(frequency), _last_place(frequency)
    if value is None or place is None or value <= 0 or observations <= 0:
        return None
    tolerance = 0.5 * 10.0 ** place + value * 1e-9
    if value - tolerance <= 0:
        return None
    smallest = math.ceil(observations / (value + tolerance))
    largest = math.floor(observations / (value - tolerance))
    return smallest if smallest == largest and smallest >= observations else None


def local_text(obs: str, hom: str, frq: str) -> str:
    """'seen in N of M earlier cases at this GMC (H homozygous)'; M only when the frequency
    pins it down ('seen in N earlier cases ...' else)."""
    count = whole(obs)
    if count is None:
        return obs
    if count == 0:
        text = "not seen in earlier cases at this GMC"
    else:
        cases = earlier_cases(count, frq)
        of = f" of {cases:,}" if cases is not None else ""
        plural = "s" if (cases if cases is not None else count) != 1 else ""
        text = f"seen in {count:,}{of} earlier case{plural} at this GMC"
    if hom not in MISSING:
        text += f" ({count_text(hom)} homozygous)"
    return text


@dataclass(frozen=True)
class ClinVar:
    """A candidate's ClinVar record: CLNSIG as listed, its review stars and variation ID."""

    significance: str
    stars: int | None = None
    id: str = ""

    @property
    def terms(self) -> list[str]:
        """The classification terms (lower case), without their qualifiers ('pathogenic' of
        'Pathogenic,_low_penetrance'); values joined by '|' (or VEP's '&') each give theirs."""
        text = self.significance.strip().lower().replace(" ", "_")
        return [term.split(",")[0].strip("_") for part in re.split(r"[|;&]", text)
                for term in part.split("/") if term.strip("_")]

    @property
    def conflicting(self) -> bool:
        return any(term.startswith("conflicting") for term in self.terms)

    @property
    def classes(self) -> list[str]:
        """P, LP, VUS, B, LB of its terms, in that order."""
        found = {CLNSIG_TERMS.get(term) for term in self.terms}
        return [] if self.conflicting else [c for c in CLNSIG_ORDER if c in found]

    @property
    def short(self) -> str:
        """P, LP, P/LP, VUS, LB, B, B/LB, Conflicting, else its first term."""
        if self.conflicting:
            return "Conflicting"
        if self.classes:
            return "/".join(self.classes)
        return (self.terms or [self.significance])[0].replace("_", " ")

    @property
    def pathogenic(self) -> bool:
        """Pathogenic or likely pathogenic (not conflicting)."""
        return bool({"P", "LP"} & set(self.classes))

    @property
    def text(self) -> str:
        """The significance as words: 'Pathogenic/Likely pathogenic, low penetrance'."""
        return self.significance.replace("_", " ").replace("|", "; ")

    @property
    def rank(self) -> int:
        """Sorting key: the more severe and the better reviewed, the higher."""
        if self.conflicting:
            severity = CONFLICTING_RANK
        elif self.classes:
            severity = sum(CLNSIG_RANK[c] for c in self.classes) // len(self.classes)
        else:
            severity = OTHER_RANK
        return severity * 10 + (self.stars or 0)

    @property
    def review(self) -> str:
        """'2 of 4 review stars (criteria provided, multiple submitters, no conflicts)'."""
        if self.stars is None:
            return ""
        meaning = REVIEW_STATUS.get(self.stars)
        return (f"{self.stars} of {REVIEW_STARS} review stars"
                + (f" ({meaning})" if meaning else ""))

    @property
    def url(self) -> str:
        """Its ClinVar page (only of a variation ID that is a number)."""
        return CLINVAR_URL.format(int(self.id)) if re.fullmatch("[0-9]+", self.id) else ""

    def badge(self) -> Html:
        """The short form, flagged when (likely) pathogenic."""
        kind = "cv-plp" if self.pathogenic else "cv-conflicting" if self.conflicting else None
        return tag("span", self.short, class_=" ".join(filter(None, ("cv", kind))))

    def star_marks(self) -> Html:
        if self.stars is None or not 0 <= self.stars <= REVIEW_STARS:
            return Html("")
        return tag("span", "\u2605" * self.stars + "\u2606" * (REVIEW_STARS - self.stars),
                   class_="stars")


def clinvar_of(row: Candidate) -> ClinVar | None:
    """The row's ClinVar record (None when it has no ClinVar significance)."""
    significance = row.get("clinvar").strip()
    if significance in MISSING:
        return None
    identifier = row.get("clinvar_id").strip()
    number = whole(identifier)
    return ClinVar(significance, whole(row.get("clinvar_stars")),
                   str(number) if number is not None and number > 0 else identifier)


def hint(label: str, title: str) -> Html:
    """A field's label with an explanation on hover."""
    return tag("span", label, title=title, class_="hint")


class CandidateView:
    """The candidate table of one family: its columns chosen from those the list has."""

    def __init__(self, run: Loaded) -> None:
        frame = run.candidates.table
        limit = run.inputs.max_rows
        self.total = run.candidates.total
        self.columns = list(frame.columns)
        self.rows = [Candidate(i, {k: str(v) for k, v in record.items()})
                     for i, record in enumerate(top_rows(frame, limit).to_dict("records"), 1)]
        self.by_key: dict[str, Candidate] = {}
        for row in self.rows:
            self.by_key.setdefault(row.key, row)
        self.roles = run.roles
        self.phenotypes = {m.sample: m.phenotype for m in run.family.members}
        self.samples = list(run.roles)
        owned = {f"{s}_{name}" for s in self.samples for name in MEMBER_FIELDS}
        self.categories = score_columns(self.columns)
        self.hgvs = [c for c in HGVS_COLUMNS  # columns with a value (none without GFF3)
                     if any(row.get(c) not in MISSING for row in self.rows)]
        # The clinical columns the list has, and those with a value in some row: a source
        # that gave no row a value may not have been configured.
        self.clinical = {c for c in CLINICAL_COLUMNS if c in self.columns}
        self.valued = {c for c in self.clinical
                       if any(row.get(c) not in MISSING for row in self.rows)}
        self.extra = [c for c in self.columns
                      if c not in PLACED and c not in owned and c not in self.categories]
        inputs = run.inputs
        self.reads: dict[str, Html] = {}  # anchor -> the pileups of its evidence
        for row in self.rows[:inputs.reads_top] if inputs.alignments else []:
            variant = row.variant()
            if variant is not None:
                self.reads[row.anchor] = pileups(variant, inputs.alignments, inputs.fasta,
                                                 self.roles)

    def has(self, column: str) -> bool:
        return column in self.columns

    def role_text(self, sample: str) -> str:
        """The member's role, with 'affected' when the role does not say it."""
        role = self.roles.get(sample, "")
        affected = self.phenotypes.get(sample) == "affected" and role != "proband" and (
            "affected" not in role)
        return f"{role}, affected" if affected else role

    def member(self, sample: str) -> str:
        return f"{sample} ({self.roles.get(sample, '')})"

    def header(self) -> list[Column]:
        columns = [Column("#", True, "rank in the candidate list; click a row for its evidence",
                          "asc"),
                   Column("gene"), Column("variant"), Column("type"), Column("consequence")]
        if self.hgvs:
            columns.append(Column("HGVS", title="hgvs_c, hgvs_p (the transcript on hover)"))
        elif self.has("protein_change"):
            columns.append(Column("protein"))
        if "clinvar" in self.valued:
            columns.append(Column("ClinVar", title="ClinVar significance (P, LP, VUS, LB, B, "
                                  "Conflicting) and review stars; the full text on hover",
                                  first="desc"))
        columns += [Column("models"), Column("pop. AF", True, "population allele frequency"),
                    Column("score", True, "rank score: the sum of the categories")]
        if self.has("phenotype_score"):
            columns.append(Column("phenotype", True, "phenotype match of the gene (0-1)"))
        if self.has("combined_score"):
            columns.append(Column("combined", True, "the score the list is ordered by"))
        columns.append(Column("genotypes", title=", ".join(map(self.member, self.samples))))
        return columns

    def main_cells(self, row: Candidate) -> list[object]:
        get = row.get
        toggle = tag("button", "\u25b8", type="button", class_="toggle", aria_expanded="false",
                     aria_controls=f"ev-{row.anchor}", title="show the evidence")
        rank = get("rank") or str(row.number)
        cells: list[object] = [
            Cell(Html(toggle + esc(f" {rank}")), sort=rank), get("gene"),
            Cell(row.variant_text(), sort=locus_key(get("chrom"), as_int(get("pos")))),
            get("type"),
            Cell(get("consequence"), cls=f"impact-{get('impact')}" if get("impact") else None,
                 title=get("impact") or None)]
        if self.hgvs:
            full = [get(c) for c in ("hgvs_c", "hgvs_p") if get(c) not in MISSING]
            cells.append(Cell(" ".join(map(hgvs_short, full)), sort=" ".join(full),
                              title=" ".join([get("transcript"), *full]).strip() or None))
        elif self.has("protein_change"):
            cells.append(get("protein_change"))
        if "clinvar" in self.valued:
            cells.append(self.clinvar_cell(row))
        cells += [get("models").replace("|", ", "), _af_cell(get("population_af")),
                  get("score")]
        cells += [get(c) for c in ("phenotype_score", "combined_score") if self.has(c)]
        gts = [tag("span", get(f"{s}_GT") or ".", class_="gt", title=self.member(s))
               for s in self.samples]
        cells.append(Cell(join(gts), sort=" ".join(get(f"{s}_GT") for s in self.samples)))
        return cells

    def evidence(self, row: Candidate) -> Html:
        get = row.get
        variant = fields([
            ("position", row.variant_text()), ("reference", get("ref")),
            ("alternate", get("alt")), ("type", get("type")), ("gene", get("gene")),
            ("consequence", get("consequence")), ("impact", get("impact")),
            ("protein change", get("protein_change")),
            *((name.replace("hgvs_", "HGVS "), get(name).replace("%3D", "="))
              for name in self.hgvs),
            ("FILTER", get("filter")), ("genotype gates", get("gates")),
            ("in the panel", get("in_panel"))])
        genotypes = table(
            [Column("member"), Column("role"), Column("GT"), Column("DP", True, "read depth"),
             Column("AB", True, "allele balance: alt/depth"),
             Column("GQ", True, "genotype quality")],
            [[s, self.role_text(s), *(get(f"{s}_{name}") for name in MEMBER_FIELDS)]
             for s in self.samples], cls="sortable genotypes")
        inheritance = fields([
            ("models", get("models").replace("|", ", ") or "none"),
            ("compound partners", _partner_links(get("compound_partners"), self.by_key))])
        scores = table([Column("category"), Column("points", True)],
                       [[c.removeprefix("score_").replace("_", " "), _signed(get(c))]
                        for c in self.categories] + [["total", _signed(get("score"))]],
                       cls="sortable score-categories", row_classes=[
                           *([None] * len(self.categories)), "total"])
        summary = fields([("normalised score", get("score_normalized")),
                          ("phenotype score", get("phenotype_score")),
                          ("combined score", get("combined_score"))])
        phenotype = fields([
            ("matched HPO terms", bullets(t.strip() for t in get("matched_hpo").split(";"))),
            ("diseases", bullets(d.strip() for d in get("diseases").split(";")))])
        clinvar = [("ClinVar", self.clinvar_fields(row))] if "clinvar" in self.clinical else []
        predictions = ([("Pathogenicity predictions", self.prediction_fields(row))]
                       if self.clinical & set(PREDICTION_COLUMNS) else [])
        sections = [
            ("Variant", variant), *clinvar, ("Genotypes", genotypes),
            ("Inheritance", inheritance), ("Score by category", Html(scores + summary)),
            ("Phenotype match", phenotype or tag("p", "no HPO term matched", class_="muted")),
            ("Population frequency", self.frequency_fields(row)), *predictions]
        if row.is_sv or get("sv_callers") or get("sv_origin"):
            sections.append(("Structural variant", fields([
                ("callers", bullets(get("sv_callers").split(","))),
                ("origin", bullets(_origin_text(get("sv_origin"), self.roles)))])))
        other = fields((c, get(c)) for c in self.extra if get(c) not in MISSING)
        if other:
            sections.append(("Other columns", other))
        sections.append(("Read-level evidence", self.reads.get(row.anchor) or tag(
            "p", "Not in this report (see Read-level evidence below).",
            class_="placeholder reads-placeholder")))
        return tag("div", *(tag("section", tag("h4", title), content)
                            for title, content in sections), class_="evidence-grid")

    def clinvar_cell(self, row: Candidate) -> Cell:
        """The table's ClinVar cell: the short significance (a badge when pathogenic or likely
        pathogenic) and the review stars; the full text on hover; sorted most severe first."""
        record = clinvar_of(row)
        if record is None:
            return Cell("", cls="clinvar")
        title = f"ClinVar: {record.text}" + (f"; {record.review}" if record.review else "")
        return Cell(Html(record.badge() + record.star_marks()), sort=f"{record.rank:04d}",
                    cls="clinvar", title=title)

    def clinvar_fields(self, row: Candidate) -> Html:
        record = clinvar_of(row)
        if record is None:
            return tag("p", "not in ClinVar" if "clinvar" in self.valued
                       else "no ClinVar annotation in the candidate list", class_="muted")
        link = (tag("a", f"variation {record.id}", href=record.url, class_="external",
                    target="_blank", rel="noopener noreferrer", referrerpolicy="no-referrer",
                    title="the ClinVar record at NCBI (online; this page loads nothing)")
                if record.url else record.id)
        return fields([
            ("significance", Html(record.badge() + esc(" ") + esc(record.text))),
            ("review status", Html(record.star_marks() + esc(" ") + esc(record.review))
             if record.review else ""),
            ("ClinVar record", link)])

    def _absent(self, row: Candidate, column: str, text: str) -> str:
        """`text` for an empty cell of a source that gave other rows a value (not said of
        SVs: the small-variant sources do not annotate them)."""
        return text if column in self.valued and not row.is_sv else ""

    def frequency_fields(self, row: Candidate) -> Html:
        get = row.get
        af = get("population_af")

        def frequency(column: str, source: str) -> str:
            return (af_text(get(column)) if get(column) not in MISSING
                    else self._absent(row, column, f"absent (not in {source})"))

        obs, frq = get("local_obs"), get("local_frq")
        cases = whole(obs)
        local = (local_text(obs, get("local_hom"), frq) if obs not in MISSING else
                 self._absent(row, "local_obs", "not seen in earlier cases at this GMC"))
        pinned = cases is not None and earlier_cases(cases, frq) is not None
        return fields([
            ("population AF", "absent (not in the source)" if af in MISSING else af),
            (hint("gnomAD grpmax AF", "gnomAD: the highest allele frequency of its genetic "
                  "ancestry groups (grpmax)"), frequency("gnomad_grpmax_af", "gnomAD")),
            (hint("gnomAD homozygotes", "gnomAD: individuals homozygous for the variant"),
             count_text(get("gnomad_hom")) if get("gnomad_hom") not in MISSING else ""),
            (hint("SweGen AF", "SweGen: allele frequency in the Swedish population"),
             frequency("swegen_af", "SweGen")),
            (hint("local observations", "earlier cases at this GMC with the variant, from "
                  "its frequency database"), local),
            (hint("local frequency", "observations / cases of the GMC's frequency database"),
             af_text(frq) if frq not in MISSING and not pinned else "")])

    def prediction_fields(self, row: Candidate) -> Html:
        get = row.get

        def score(column: str, decimals: int) -> str:
            return fixed_text(get(column), decimals) if get(column) not in MISSING else ""

        shown = fields([
            (hint("CADD", "CADD PHRED-scaled deleteriousness score"), score("cadd", 1)),
            (hint("REVEL", "REVEL missense pathogenicity score, 0-1"), score("revel", 3)),
            (hint("SpliceAI", "SpliceAI: the largest of its four delta scores (acceptor and "
                  "donor gain and loss), 0-1"), score("spliceai", 2))])
        return shown or tag("p", "no score for this variant", class_="muted")

    def search_text(self, row: Candidate) -> str:
        """What the text filter finds besides the row's own text."""
        record = clinvar_of(row)
        return " ".join([*(row.get(c) for c in (*HGVS_COLUMNS, "protein_change", "matched_hpo",
                                                "diseases", "sv_callers", "sv_origin", "impact")
                           if row.get(c) not in MISSING),
                         *((f"ClinVar {record.text}",) if record else ())])

    def render(self) -> Html:
        columns = self.header()
        lines = []
        for row in self.rows:
            cells = zip(self.main_cells(row), columns, strict=True)
            record = clinvar_of(row)
            flag = "cand clinvar-plp" if record is not None and record.pathogenic else "cand"
            lines.append(tag("tr", *(_td(v, c) for v, c in cells), id=row.anchor, class_=flag,
                             data_evidence=f"ev-{row.anchor}", data_key=row.key,
                             data_type=row.get("type"), data_models=row.get("models"),
                             data_search=self.search_text(row)))
            lines.append(tag("tr", tag("td", self.evidence(row), colspan=len(columns)),
                             id=f"ev-{row.anchor}", class_="evidence", hidden=True))
        head = tag("tr", *(_th(c, "ascending" if i == 0 else "none")
                           for i, c in enumerate(columns)))
        return tag("table", tag("thead", head), tag("tbody", *lines), id="candidates",
                   class_="sortable")


def _select(id_: str, label: str, values: Iterable[str]) -> Html:
    options = [tag("option", "any", value=""), *(tag("option", v, value=v) for v in values)]
    return tag("label", f"{label} ", tag("select", *options, id=id_))


def candidates_section(run: Loaded, view: CandidateView) -> Html:
    rows = view.rows
    models = sorted({m for r in rows for m in r.get("models").split("|") if m})
    types = sorted({r.get("type") for r in rows if r.get("type")})
    controls = tag(
        "div",
        tag("label", "Filter ", tag("input", type="search", id="filter-text",
                                    placeholder="gene, variant, HPO term, disease ...",
                                    autocomplete="off")),
        _select("filter-model", "model", models), _select("filter-type", "type", types),
        tag("button", "clear filters", type="button", id="filter-clear"),
        tag("button", "open all", type="button", id="open-all"),
        tag("button", "close all", type="button", id="close-all"),
        tag("span", tag("span", f"{len(rows)} of {len(rows)}", id="shown-count"), " shown",
            class_="muted"),
        class_="controls")
    name = Path(run.inputs.candidates).name
    note = shown_note(len(rows), view.total, name)
    shown = (f"{note[:1].upper()}{note[1:]}." if view.total > len(rows)
             else f"{view.total} candidates, from {name}.")
    intro = tag("p", shown, " In rank order (combined score, then score); click a row for its "
                "evidence, a header to sort.", class_="note")
    body = view.render() if rows else tag("p", "No candidates.", class_="muted")
    return tag("section", tag("h2", "Ranked candidates"), intro, controls, body,
               id="candidates-section")


# ---------------------------------------------------------------------------- chromosomes
@dataclass(frozen=True)
class Segment:
    chrom: str
    start: int
    end: int
    sample: str
    kind: str  # roh, del, dup, cnv
    label: str


def genome_segments(run: Loaded) -> list[Segment]:
    """ROH segments of every member and the depth CNVs each member carries."""
    out = []
    for r in run.roh or []:
        start, end = int(r["start"]), int(r["end"])
        out.append(Segment(r["chrom"], start, end, r["sample"], "roh",
                           f"ROH, {r['sample']}, {r['chrom']}:{start:,}-{end:,} "
                           f"({bp(end - start + 1)})"))
    for rec in run.cnv.records if run.cnv else []:
        kind = {"DEL": "del", "DUP": "dup"}.get(rec.svtype, "cnv")
        for sample, call in rec.calls.items():
            if carries(call.get("GT")):
                out.append(Segment(rec.chrom, rec.pos, rec.end, sample, kind,
                                   f"{rec.svtype}, {sample}, {rec.chrom}:{rec.pos:,}-"
                                   f"{rec.end:,} ({bp(rec.end - rec.pos + 1)}), "
                                   f"copy number {call.get('CN', '?')}"))
    return out


def upd_calls(run: Loaded) -> dict[tuple[str, str], str]:
    return {(r["child"], r["chrom"]): r["call"] for r in run.upd or []
            if r["call"].upper().startswith("UPD")}


def plot_contigs(run: Loaded, segments: Sequence[Segment]) -> list[tuple[str, int]]:
    """(contig, length) to draw: the primary chromosomes of the VCF headers and every contig
    with an event, in header order (else as people sort them); lengths from the headers,
    else the last event's end."""
    header: dict[str, int] = {}
    for vcf in (run.cnv, run.sv):
        for name, length in (vcf.contigs.items() if vcf else []):
            header[name] = max(header.get(name, 0), length)
    used = {s.chrom for s in segments} | {c for _, c in upd_calls(run)}
    names = [c for c in header if PRIMARY.match(c) or c in used]
    names += sorted(used - set(header), key=chrom_order)
    ends = {c: max((s.end for s in segments if s.chrom == c), default=0) for c in names}
    return [(c, header.get(c) or ends[c]) for c in names if header.get(c) or ends[c]]


def _ticks(longest: int) -> list[tuple[int, str]]:
    step = next(s for s in (m * 10 ** k for k in range(0, 12) for m in (1, 2, 5))
                if longest / s <= 8)
    unit, scale = ("Mb", 1e6) if step >= 1_000_000 else ("kb", 1e3) if step >= 1000 else (
        "bp", 1)
    return [(v, f"{v / scale:g} {unit}" if v else "0")
            for v in range(0, longest + 1, step)]


def genome_plot(contigs: Sequence[tuple[str, int]], lanes: Sequence[tuple[str, str]],
                segments: Sequence[Segment], upd: Mapping[tuple[str, str], str]) -> Html:
    """Inline SVG: per contig one lane per member, ROH and CNV segments on it, UPD calls
    outlined and named; hover shows each segment."""
    right = 110
    longest = max(length for _, length in contigs)
    scale = (PLOT_WIDTH - PLOT_LEFT - right) / longest
    by_lane: dict[tuple[str, str], list[Segment]] = {}
    for seg in segments:
        by_lane.setdefault((seg.chrom, seg.sample), []).append(seg)
    parts = []
    for value, label in _ticks(longest):
        x = f"{PLOT_LEFT + value * scale:.1f}"
        parts += [tag("line", x1=x, x2=x, y1=AXIS - 6, y2=AXIS - 2, class_="axis"),
                  tag("text", label, x=x, y=AXIS - 9, text_anchor="middle")]
    y = AXIS
    for chrom, length in contigs:
        parts.append(tag("text", chrom, x=4, y=y + LANE, font_weight="700"))
        width = f"{length * scale:.1f}"
        for sample, role in lanes:
            parts += [tag("text", role or sample, x=60, y=y + LANE - 1, font_size=9),
                      tag("rect", tag("title", f"{sample} ({role}), {chrom}"), x=PLOT_LEFT, y=y,
                          width=width, height=LANE, class_="lane")]
            for seg in by_lane.get((chrom, sample), []):
                start = max(min(seg.start, length), 1)
                size = max((min(seg.end, length) - start + 1) * scale, 1.5)
                parts.append(tag("rect", tag("title", seg.label),
                                 x=f"{PLOT_LEFT + start * scale:.1f}", y=y,
                                 width=f"{size:.1f}", height=LANE, class_=seg.kind))
            call = upd.get((sample, chrom))
            if call:
                parts += [tag("rect", tag("title", f"{call}, {sample}, {chrom}"), x=PLOT_LEFT,
                              y=y, width=width, height=LANE, class_="upd"),
                          tag("text", call, x=f"{PLOT_LEFT + length * scale + 6:.1f}",
                              y=y + LANE - 1, class_="upd-label")]
            y += LANE + LANE_GAP
        y += CHROM_GAP
    return tag("svg", *parts, xmlns="http://www.w3.org/2000/svg", class_="genome",
               width=PLOT_WIDTH, height=y, viewBox=f"0 0 {PLOT_WIDTH} {y}", role="img",
               aria_label="ROH, CNV and UPD along the chromosomes")


def _capped(items: list, limit: int, key: Callable, what: str, where: str
            ) -> tuple[list, Html]:
    """The `limit` first items by `key`, and a note when some were left out."""
    if len(items) <= limit:
        return items, Html("")
    return sorted(items, key=key)[:limit], tag(
        "p", f"The {limit} {what} of {len(items)} are shown; all are in {where}.", class_="note")


def chromosomes_section(run: Loaded) -> Html:
    segments = genome_segments(run)
    contigs = plot_contigs(run, segments)
    lanes = [(s, r) for s, r in run.roles.items()]
    lanes += [(s, "") for s in sorted({seg.sample for seg in segments} - set(run.roles))]
    legend = tag("p", *(tag("span", tag("span", class_=f"swatch {k}"), label) for k, label in (
        ("roh", "run of homozygosity"), ("del", "deletion (depth)"),
        ("dup", "duplication (depth)"), ("upd", "uniparental disomy call"))), class_="legend")
    given = [p for p in (run.inputs.roh, run.inputs.cnv, run.inputs.upd, run.inputs.sv) if p]
    plot = (Html(legend + genome_plot(contigs, lanes, segments, upd_calls(run))) if contigs
            else tag("p", "Nothing to draw: no ROH, CNV or UPD input" if not given
                     else "No ROH segment, CNV or UPD call.", class_="muted"))
    return tag("section", tag("h2", "Chromosomes: ROH, UPD and CNVs"), plot, upd_block(run),
               roh_block(run), id="chromosomes")


UPD_SHOWN = ("informative", "biparental", "maternal", "paternal", "maternal_fraction",
             "paternal_fraction", "uniparent_het_fraction", "roh_fraction")


def upd_block(run: Loaded) -> Html:
    if run.upd is None:
        return Html(tag("h3", "Uniparental disomy") + tag("p", "No UPD table given.",
                                                           class_="muted"))
    rows = sorted(run.upd, key=lambda r: (r["child"], chrom_order(r["chrom"])))
    shown = [c for c in UPD_SHOWN if rows and c in rows[0]]
    columns = [Column("child"), Column("chromosome"), *(Column(c.replace("_", " "), True)
                                                        for c in shown), Column("call")]
    calls = sum(r["call"].upper().startswith("UPD") for r in rows)
    intro = tag("p", f"{calls} UPD call{'s' if calls != 1 else ''} in {len(rows)} "
                "chromosome(s) of children with both parents.", class_="note")
    body = table(columns, [[f"{r['child']} ({run.roles.get(r['child'], '')})",
                            Cell(r["chrom"], sort=chrom_order(r["chrom"])),
                            *(r[c] for c in shown), r["call"]] for r in rows], id_="upd",
                 row_classes=["flag" if r["call"].upper().startswith("UPD") else None
                              for r in rows])
    return Html(tag("h3", "Uniparental disomy") + intro + body)


def roh_block(run: Loaded) -> Html:
    if run.roh is None:
        return Html(tag("h3", "Runs of homozygosity") + tag("p", "No ROH table given.",
                                                             class_="muted"))
    segments = [(r, int(r["end"]) - int(r["start"]) + 1) for r in run.roh]
    summary = []
    for sample in dict.fromkeys([*run.roles, *(r["sample"] for r in run.roh)]):
        mine = [length for r, length in segments if r["sample"] == sample]
        summary.append([f"{sample} ({run.roles.get(sample, '')})", len(mine),
                        Cell(bp(sum(mine)), sort=sum(mine)),
                        Cell(bp(max(mine, default=0)), sort=max(mine, default=0))])
    shown, note = _capped(segments, MAX_TABLE_ROWS, lambda s: -s[1], "longest segments",
                          Path(run.inputs.roh or "").name)
    details = tag("details", tag("summary", f"{len(segments)} ROH segments, longest first"),
                  note, table([Column("sample"), Column("position"), Column("length", True),
                               Column("markers", True), Column("quality", True)],
                              [[r["sample"], Cell(f"{r['chrom']}:{int(r['start']):,}-"
                                                  f"{int(r['end']):,}",
                                                  sort=locus_key(r["chrom"], int(r["start"]))),
                                Cell(bp(length), sort=length), r.get("markers", ""),
                                r.get("quality", "")]
                               for r, length in sorted(shown, key=lambda s: -s[1])],
                              id_="roh-segments"))
    return Html(tag("h3", "Runs of homozygosity")
                + table([Column("member"), Column("segments", True), Column("total", True),
                         Column("longest", True)], summary, id_="roh-summary") + details)


# --------------------------------------------------------------------- repeats and SMN
def _repeat_rows(run: Loaded) -> tuple[list[list[object]], list[str | None]]:
    rows, flags = [], []
    for r in run.repeats or ():
        pos = as_int(r["pos"])
        sizes = f"\u2264 {r['normal_max']} / \u2265 {r['pathologic_min']}"
        members = [Cell(f"{r.get(f'{s}_REPCN', '.')} ({r.get(f'{s}_status', '')})",
                        cls="v-FAIL" if r.get(f"{s}_status") == "full_mutation" else
                        "v-WARN" if r.get(f"{s}_status") == "pre_mutation" else None)
                   for s in run.roles]
        rows.append([Cell(r["gene"], title=r["repid"]), r["disease"], r["inheritance"],
                     Cell(f"{r['chrom']}:{pos:,}" if pos is not None else r["chrom"],
                          sort=locus_key(r["chrom"], pos)), r.get("repeat_unit", ""), sizes,
                     *members, Cell(r["call"], sort=REPEAT_CALLS.index(r["call"])
                                    if r["call"] in REPEAT_CALLS else len(REPEAT_CALLS)),
                     r["note"] if r["note"] != "." else ""])
        flags.append("flag" if r["call"] == "pathogenic" else None)
    return rows, flags


REPEAT_CALLS = ("pathogenic", "full_mutation", "pre_mutation", "normal", "unclassified",
                "no_call")


def repeats_section(run: Loaded) -> Html:
    """The family's repeat expansions and SMN copy numbers (only when given)."""
    parts: list[Html] = []
    if run.repeats is not None:
        found = [r for r in run.repeats if r["call"] == "pathogenic"]
        summary = (tag("p", "At or over the pathogenic size, fitting the disease's "
                       "inheritance in an affected member: ",
                       join([Html(tag("strong", f"{r['gene']}") + esc(f" ({r['disease']}, "
                                                                      f"{r['inheritance']})"))
                             for r in found], ", "), ".", class_="alert")
                   if found else tag("p", f"No expansion at or over the pathogenic size in "
                                     f"the {len(run.repeats)} repeats genotyped.",
                                     class_="note"))
        rows, flags = _repeat_rows(run)
        columns = [Column("gene"), Column("disease"), Column("inheritance"),
                   Column("position"), Column("unit"),
                   Column("normal / pathogenic", title="repeat units: normal up to, "
                          "pathogenic from"),
                   *(Column(f"{s} units", title=f"{s} ({role})") for s, role in run.roles.items()),
                   Column("call"), Column("note")]
        parts += [tag("h3", "Repeat expansions (ExpansionHunter, Stranger)"), summary,
                  table(columns, rows, id_="repeats-table", row_classes=flags)]
    if run.smn is not None:
        flags = ["flag" if r["isSMA"] == "True" or r["isCarrier"] == "True" else None
                 for r in run.smn]
        parts += [tag("h3", "SMN1 and SMN2 copy numbers (SMNCopyNumberCaller)"),
                  table([Column("member"), Column("SMN1", True), Column("SMN2", True),
                         Column("SMN2\u03947-8", True), Column("call")],
                        [[f"{r['Sample']} ({r['role']})", r["SMN1_CN"], r["SMN2_CN"],
                          r["SMN2delta7-8_CN"], r["call"]] for r in run.smn],
                        id_="smn-table", row_classes=flags)]
    if not parts:
        return Html("")
    return tag("section", tag("h2", "Repeat expansions and SMN"), *parts, id="repeats")


# ------------------------------------------------------------------------------ CNV, SV
def _record_cells(rec: VcfRecord) -> list[object]:
    length = rec.end - rec.pos + 1
    return [Cell(f"{rec.chrom}:{rec.pos:,}-{rec.end:,}", sort=locus_key(rec.chrom, rec.pos)),
            rec.svtype, Cell(bp(length), sort=length)]


RECORD_COLUMNS = [Column("position"), Column("type"), Column("length", True)]


def cnv_section(run: Loaded) -> Html:
    title = tag("h2", "Copy-number variants (read depth)")
    if run.cnv is None:
        return tag("section", title, tag("p", "No CNV VCF given.", class_="muted"), id="cnv")
    samples = list(dict.fromkeys([*run.roles, *run.cnv.samples]))
    records, note = _capped(run.cnv.records, MAX_TABLE_ROWS, lambda r: r.pos - r.end,
                            "largest CNVs", Path(run.inputs.cnv or "").name)
    records = sorted(records, key=lambda r: locus_key(r.chrom, r.pos))
    columns = [*RECORD_COLUMNS, *(Column(f"{s} CN (GT)", title=f"{s} ({run.roles.get(s, '')})")
                                  for s in samples), Column("called in"), Column("QUAL", True)]
    rows = [[*_record_cells(r), *(f"{r.calls.get(s, {}).get('CN', '.')} "
                                  f"({r.calls.get(s, {}).get('GT', '.')})" for s in samples),
             r.info.get("CALLERS", "").replace(",", ", "), r.qual] for r in records]
    body = table(columns, rows, id_="cnv-table") if rows else tag("p", "No CNV called.",
                                                                  class_="muted")
    return tag("section", title, note, body, id="cnv")


def sv_section(run: Loaded, view: CandidateView) -> Html:
    title = tag("h2", "Structural variants (all callers, merged)")
    if run.sv is None:
        return tag("section", title, tag("p", "No SV VCF given.", class_="muted"), id="sv")
    family = run.family.id
    samples = list(dict.fromkeys([*run.roles, *run.sv.samples]))

    def score(rec: VcfRecord) -> float:
        return as_float(family_value(rec.info.get("RankScore", ""), family)) or -math.inf

    records, note = _capped(run.sv.records, MAX_TABLE_ROWS, lambda r: -score(r),
                            "highest-scoring SVs", Path(run.inputs.sv or "").name)
    columns = [*RECORD_COLUMNS, Column("callers"), Column("origin"),
               Column("pop. AF", True, "highest AF of matching population SVs"),
               Column("models"), Column("score", True),
               *(Column(f"{s} GT", title=f"{s} ({run.roles.get(s, '')})") for s in samples),
               Column("candidate")]
    rows = []
    for rec in sorted(records, key=lambda r: (-score(r), locus_key(r.chrom, r.pos))):
        listed = view.by_key.get(rec.key)
        link = (tag("a", f"#{listed.number}", href=f"#{listed.anchor}", class_="jump",
                    data_target=listed.anchor) if listed else "")
        rows.append([*_record_cells(rec), rec.info.get("CALLERS", "").replace(",", ", "),
                     "; ".join(_origin_text(rec.info.get("ORIGIN", ""), run.roles)),
                     rec.info.get("SVAF", ""),
                     family_value(rec.info.get("GeneticModels", ""), family).replace("|", ", "),
                     family_value(rec.info.get("RankScore", ""), family),
                     *(rec.calls.get(s, {}).get("GT", ".") for s in samples),
                     Cell(link, sort=listed.number if listed else None)])
    body = table(columns, rows, id_="sv-table") if rows else tag("p", "No SV called.",
                                                                 class_="muted")
    return tag("section", title, tag("p", "Highest rank score first.", class_="note"), note,
               body, id="sv")


# ------------------------------------------------------------------------------- the page
def reads_section(run: Loaded, view: CandidateView) -> Html:
    inputs = run.inputs
    note = tag("p", READS_NOTE, class_="placeholder reads-placeholder")
    if not view.reads:
        return tag("section", tag("h2", "Read-level evidence"), note, id="reads")
    members = ", ".join(f"{a.sample} ({a.path.name})" for a in inputs.alignments)
    shown = tag("p", f"The evidence of the top {len(view.reads)} candidates shows each "
                f"member's reads at the variant (at most {MAX_READS} per member and window, "
                f"the first by position; SVs: both breakpoints), from the alignments of "
                f"{members}. The other candidates:", class_="note")
    return tag("section", tag("h2", "Read-level evidence"), shown, note, id="reads")


def inputs_footer(inputs: ReportInputs) -> Html:
    rows = [[what, path.name, Cell(sha256(path), cls="mono")] for what, path in inputs.files()]
    return tag("footer", tag("h2", "Inputs"),
               table([Column("input"), Column("file"), Column("SHA-256")], rows, id_="inputs"),
               tag("p", f"helgenom {__version__}. This page is self-contained: it loads "
                   "nothing from anywhere.", class_="note"), id="inputs-footer", class_="page")


def top_text(view: CandidateView) -> str:
    if not view.rows:
        return ""
    top = view.rows[0]
    record = clinvar_of(top)
    parts = [top.get("gene"), top.get("consequence"), top.get("models").replace("|", ", "),
             top.variant_text(), f"score {top.get('score')}" if top.get("score") else "",
             f"ClinVar {record.short}" if record else ""]
    return " ".join(p for p in parts if p)


def render_report(run: Loaded) -> str:
    """The whole HTML page of a family's report."""
    view = CandidateView(run)
    name, verdict = run.family.id, run.qc.verdict
    proband = next((s for s, role in run.roles.items() if role == "proband"), "")
    repeats = (("repeats", "Repeats / SMN"),) if run.repeats is not None or \
        run.smn is not None else ()
    nav = tag("nav", *(tag("a", label, href=f"#{target}") for target, label in (
        ("qc", "QC"), *repeats, ("candidates-section", "Candidates"),
        ("chromosomes", "ROH / UPD"), ("cnv", "CNVs"), ("sv", "SVs"), ("reads", "Reads"),
        ("inputs-footer", "Inputs"))), class_="sections")
    header = tag("header", tag("h1", f"Family {name}"), tag(
        "p", f"QC {verdict} \u00b7 {view.total} candidates \u00b7 proband {proband or 'none'}"
        f" \u00b7 helgenom {__version__}", class_="muted"), nav, class_="page")
    main = tag("main", qc_section(run), repeats_section(run), candidates_section(run, view),
               chromosomes_section(run), cnv_section(run), sv_section(run, view),
               reads_section(run, view))
    reasons = [reason for _, reason in qc_reasons(run.qc.rows)]
    meta = {"family": name, "verdict": verdict, "reasons": " | ".join(reasons),
            "candidates": view.total, "top": top_text(view),
            "top-anchor": view.rows[0].anchor if view.rows else ""}
    body = join([header, main, inputs_footer(run.inputs)], "\n")
    return page(f"{name}: helgenom report (QC {verdict})", body, meta)


def write_report(inputs: ReportInputs, out: Path | str) -> Loaded:
    """Write the report of `inputs` to `out` (renamed into place when complete)."""
    run = load(inputs)
    write_atomic(render_report(run).encode("utf-8"), Path(out))
    return run


# ------------------------------------------------------------------------------ the index
@dataclass(frozen=True)
class ReportSummary:
    path: Path
    family: str
    verdict: str
    reasons: str
    candidates: str
    top: str
    top_anchor: str


class _MetaReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}

    def handle_starttag(self, name: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        key = values.get("name") or ""
        if name == "meta" and key.startswith(META):
            self.found[key.removeprefix(META)] = values.get("content") or ""


def read_summary(path: Path) -> ReportSummary:
    """What a report's meta tags say about its family."""
    reader = _MetaReader()
    reader.feed(_text(path, "helgenom report").split("</head>", 1)[0])  # the meta tags only
    found = reader.found
    if "family" not in found or "verdict" not in found:
        raise input_error(path, "no helgenom-family meta tag: not a report of helgenom report")
    return ReportSummary(path, found["family"], found["verdict"], found.get("reasons", ""),
                         found.get("candidates", ""), found.get("top", ""),
                         found.get("top-anchor", ""))


def families(count: int) -> str:
    return f"{count} famil{'y' if count == 1 else 'ies'}"


def render_index(summaries: Sequence[ReportSummary], out: Path) -> str:
    """The run's index page: one row per family, linking to its report."""
    rows = []
    for s in sorted(summaries, key=lambda s: s.family):
        href = quote(Path(os.path.relpath(s.path.resolve(), out.resolve().parent)).as_posix())
        top = (tag("a", s.top, href=f"{href}#{s.top_anchor}") if s.top and s.top_anchor
               else s.top)
        rows.append([Cell(tag("a", s.family, href=href), sort=s.family),
                     Cell(s.verdict, cls=f"v-{s.verdict}"),
                     bullets(r for r in s.reasons.split(" | ")), s.candidates, top])
    counts = ", ".join(f"{sum(s.verdict == v for s in summaries)} {v}" for v in VERDICTS)
    body = join([
        tag("header", tag("h1", "helgenom run: family reports"),
            tag("p", f"{families(len(summaries))}: {counts}", class_="muted"), class_="page"),
        tag("main", table([Column("family"), Column("QC"), Column("QC reasons"),
                           Column("candidates", True), Column("top candidate")], rows,
                          id_="families")),
        tag("footer", tag("p", f"helgenom {__version__}", class_="note"), class_="page")], "\n")
    return page("helgenom run: family reports", body, {"index": len(summaries)})


def write_index(reports: Sequence[Path | str], out: Path | str) -> list[ReportSummary]:
    """Write the run's index page of `reports` to `out`; every bad report is named."""
    summaries, problems = [], []
    for path in map(Path, reports):
        try:
            summaries.append(read_summary(path))
        except InputError as error:
            problems += error.problems
    seen: dict[str, Path] = {}
    for s in summaries:
        if s.family in seen:
            problems.append(Problem(str(s.path), None, None, None,
                                    f"a second report of family {s.family} (the first: "
                                    f"{seen[s.family]})"))
        seen.setdefault(s.family, s.path)
    if problems:
        raise InputError(problems)
    write_atomic(render_index(summaries, Path(out)).encode("utf-8"), Path(out))
    return summaries
