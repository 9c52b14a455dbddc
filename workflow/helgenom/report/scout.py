"""Scout load config: a family's results as a case for Scout (Clinical-Genomics/scout).

`write_scout_config` writes the family's load config, the YAML `scout load case` reads (the
keys of Scout's `parse_case_data` and `CaseLoader`): owner, family, the members (sex,
phenotype, parents, analysis type wgs, alignment), the ranked SNV and SV VCFs (clinical and
research), the Stranger-annotated repeat VCF (`vcf_str`) and the SMN table (`smn_tsv`: Scout
reads each member's SMN1/SMN2 copy numbers from it) when given, genome build, rank model
versions, rank score threshold, the family's HPO terms, gene panels and the MultiQC report.
The family's QC (`helgenom qc` JSON) goes beside it in the peddy formats Scout reads at
load, so that Scout shows each member's sex and parenthood as checked:

  F.peddy.ped       the PED with peddy's `sample_id` header and `ancestry-prediction` UNKNOWN
                    (helgenom predicts no ancestry; Scout reads the other two files only when
                    this one names the members)
  F.ped_check.csv   per pair with a measured kinship: rel (relatedness, twice the KING
                    kinship), pedigree_relatedness (twice the PED's expected kinship),
                    rel_difference (pedigree minus observed, as peddy), n (sites),
                    pedigree_parents, parent_error (a declared parent-child pair whose kinship
                    gate did not PASS), predicted_parents (a declared parent-child pair that
                    passed: parenthood is not predicted for other pairs),
                    sample_duplication_error (kinship >= 0.354, KING's duplicate bound)
  F.sex_check.csv   per member with an inferred sex: ped_sex (declared), predicted_sex
                    (inferred: male, female or ambiguous), error (the sex check did not PASS)

Scout sets `confirmed_parent` False for a parent in a pair with parent_error, True otherwise,
and `confirmed_sex` from `error`; a pair or member the QC could not measure is left out, and
Scout then shows the check as not done.

Paths are absolute unless relative ones are asked for: those are relative to the config's
folder, and `scout load case` resolves them against the folder it runs in. Every input file
must exist (Scout checks them at load), and each VCF must be indexed (Scout reads VCFs by
region: without an index it loads no variant, silently) and have a column for every member.
Scout loads the clinical variants scoring above the rank score threshold (and reads 0 as
unset: above 5). The same inputs give the same bytes (no date: Scout dates the analysis when
it loads the case); each file is written under a hidden name and renamed into place, the
config last.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helgenom import __version__
from helgenom.io.atomic import write_atomic
from helgenom.io.vcf import read_header
from helgenom.report.inputs import family_in_ped, input_error, read_qc
from helgenom.sheets.pedigree import Family, ped_text

GENOME_BUILDS = ("37", "38")
ANALYSIS_TYPE = "wgs"
HPO_TERM = re.compile(r"HP:\d{7}")
SCOUT_NAME = re.compile(r"[^\s,:|]+")  # institute IDs and panel names: one word
KING_DUPLICATE = 0.354  # KING kinship of duplicate samples or monozygotic twins
PEDDY_PED_COLUMNS = ("family_id", "sample_id", "paternal_id", "maternal_id", "sex", "phenotype",
                     "ancestry-prediction")
PED_CHECK_COLUMNS = ("sample_a", "sample_b", "n", "rel", "pedigree_relatedness",
                     "rel_difference", "pedigree_parents", "predicted_parents", "parent_error",
                     "sample_duplication_error")
SEX_CHECK_COLUMNS = ("sample_id", "ped_sex", "predicted_sex", "error")


@dataclass(frozen=True)
class ScoutInputs:
    """What goes into a family's Scout case. `alignments` maps members to BAM/CRAM files;
    `hpo` and `panels` may be empty; a research VCF may be None (Scout then offers no
    research variants for the case)."""

    family: str
    ped: Path
    qc: Path
    owner: str
    snv_clinical: Path
    snv_research: Path | None = None
    sv_clinical: Path | None = None
    sv_research: Path | None = None
    alignments: Mapping[str, Path] = field(default_factory=dict)
    multiqc: Path | None = None
    genome_build: str = "38"
    rank_model_version: str | None = None
    sv_rank_model_version: str | None = None
    rank_score_threshold: int = 5
    hpo: Sequence[str] = ()
    panels: Sequence[str] = ()
    str_vcf: Path | None = None  # the family's Stranger-annotated ExpansionHunter VCF
    smn_tsv: Path | None = None  # the family's SMN table (SMNCopyNumberCaller's columns)


@dataclass(frozen=True)
class ScoutFiles:
    """The files written for a family, and what the QC files hold."""

    config: Path
    peddy_ped: Path
    ped_check: Path
    sex_check: Path
    members: int
    pairs: int
    sex_checks: int


def peddy_files(family: str, folder: Path) -> tuple[Path, Path, Path]:
    """The family's peddy.ped, ped_check.csv and sex_check.csv in `folder`."""
    return (folder / f"{family}.peddy.ped", folder / f"{family}.ped_check.csv",
            folder / f"{family}.sex_check.csv")


# ------------------------------------------------------------------------------- checks
def _check_names(inputs: ScoutInputs, family: Family) -> None:
    if not SCOUT_NAME.fullmatch(inputs.owner):
        raise input_error("--owner", "the Scout institute ID must be one word",
                          value=inputs.owner)
    if inputs.genome_build not in GENOME_BUILDS:
        raise input_error("--genome-build", f"must be one of {', '.join(GENOME_BUILDS)}",
                          value=inputs.genome_build)
    for term in inputs.hpo:
        if not HPO_TERM.fullmatch(term):
            raise input_error("--hpo", "not an HPO term (HP: and 7 digits)", value=term)
    for panel in inputs.panels:
        if not SCOUT_NAME.fullmatch(panel):
            raise input_error("--panel", "a Scout gene panel name must be one word", value=panel)
    members = {m.sample for m in family.members}
    for sample in inputs.alignments:
        if sample not in members:
            raise input_error("--alignments", f"not a member of family {family.id} in "
                              f"{inputs.ped} (members: {', '.join(sorted(members))})",
                              value=sample)


def _check_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise input_error(path, f"{what}: file not found (Scout checks every file at load)")


def _check_vcf(path: Path, family: Family) -> None:
    if not any(Path(f"{path}.{kind}").is_file() for kind in ("tbi", "csi")):
        raise input_error(path, "no tabix index (.tbi or .csi) beside the VCF: Scout loads no "
                          "variant of a VCF it cannot query")
    try:
        samples = read_header(path).samples
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as error:
        raise input_error(path, f"cannot read the VCF header ({error})") from None
    missing = [m.sample for m in family.members if m.sample not in samples]
    if missing:
        raise input_error(path, f"no genotypes of {', '.join(missing)}: Scout needs a column "
                          f"for every member of family {family.id}")


def _vcfs(inputs: ScoutInputs) -> dict[str, Path]:
    """Scout's VCF keys -> the files given."""
    files = {"vcf_snv": inputs.snv_clinical, "vcf_snv_research": inputs.snv_research,
             "vcf_sv": inputs.sv_clinical, "vcf_sv_research": inputs.sv_research,
             "vcf_str": inputs.str_vcf}
    return {key: path for key, path in files.items() if path is not None}


# ------------------------------------------------------------------------------ QC files
def _qc_rows(path: Path, family: Family, level: str, metric: str) -> list[tuple[int, dict]]:
    """(row number, row) of the family's QC rows of `level` and `metric` with a value; a row of
    someone who is not a member is an error."""
    report = read_qc(path)
    if report.family != family.id:
        raise input_error(path, f"QC of family {report.family}, not {family.id}")
    members = set(family.by_id)
    rows = []
    for number, row in enumerate(report.rows, start=1):
        if row["level"] != level or row["metric"] != metric:
            continue
        unit = str(row["unit"])
        if not set(unit.split("~")) <= members:
            raise input_error(path, f"QC row {number}: {unit} is not of family {family.id}'s "
                              "members in the PED", value=unit)
        if row.get("value") is not None:
            rows.append((number, row))
    return rows


def _number(row: Mapping[str, Any], value: object, path: Path, number: int, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise input_error(path, f"QC row {number} ({row['unit']}): {what} is not a number",
                          value=str(value))
    return float(value)


def _flag(value: bool) -> str:
    return "True" if value else "False"


def _csv(columns: Sequence[str], rows: list[Sequence[str]]) -> str:
    return "".join(",".join(cells) + "\n" for cells in [columns, *rows])


def ped_check_text(path: Path, family: Family) -> tuple[str, int]:
    """The family's measured kinships as a peddy ped_check.csv, and the number of pairs."""
    rows = []
    for number, row in _qc_rows(path, family, "pair", "kinship"):
        a, b = str(row["unit"]).split("~")
        data = row.get("data") or {}
        kinship = _number(row, row["value"], path, number, "kinship")
        expected = _number(row, data.get("expected"), path, number, "the expected kinship")
        sites = data.get("sites")
        declared = a in (family.by_id[b].father, family.by_id[b].mother) or b in (
            family.by_id[a].father, family.by_id[a].mother)
        error = declared and row["verdict"] != "PASS"
        rows.append((a, b, str(sites) if isinstance(sites, int) else "",
                     f"{2 * kinship:.4f}", f"{2 * expected:.4f}",
                     f"{2 * (expected - kinship):.4f}", _flag(declared),
                     _flag(declared and not error), _flag(error),
                     _flag(kinship >= KING_DUPLICATE)))
    return _csv(PED_CHECK_COLUMNS, rows), len(rows)


def sex_check_text(path: Path, family: Family) -> tuple[str, int]:
    """The family's inferred sexes as a peddy sex_check.csv, and the number of members."""
    rows = [(str(row["unit"]), family.by_id[str(row["unit"])].sex, str(row["value"]),
             _flag(row["verdict"] != "PASS"))
            for _, row in _qc_rows(path, family, "sample", "sex")]
    return _csv(SEX_CHECK_COLUMNS, rows), len(rows)


def peddy_ped_text(family: Family) -> str:
    """The family as a peddy.ped: the PED's columns (peddy calls the individual sample_id)
    and an UNKNOWN ancestry prediction."""
    rows = ped_text(family).splitlines()[1:]
    return "\n".join(["#" + "\t".join(PEDDY_PED_COLUMNS),
                      *(f"{row}\tUNKNOWN" for row in rows)]) + "\n"


# --------------------------------------------------------------------------- the config
def _path_text(path: Path, base: Path | None) -> str:
    """`path` absolute, or relative to `base` when a base is given."""
    absolute = os.path.abspath(path)
    return os.path.relpath(absolute, os.path.abspath(base)) if base is not None else absolute


def scout_config(inputs: ScoutInputs, family: Family, peddy: Sequence[Path],
                 base: Path | None = None) -> dict[str, Any]:
    """The load config of the family (keys in the order written); paths relative to `base`
    when given, else absolute."""
    samples = []
    for member in family.members:
        sample: dict[str, Any] = {
            "sample_id": member.sample, "sex": member.sex, "phenotype": member.phenotype,
            "father": member.father or "0", "mother": member.mother or "0",
            "analysis_type": ANALYSIS_TYPE}
        if member.sample in inputs.alignments:
            sample["alignment_path"] = _path_text(inputs.alignments[member.sample], base)
        samples.append(sample)
    config: dict[str, Any] = {
        "owner": inputs.owner, "family": family.id, "family_name": family.id,
        "samples": samples, "human_genome_build": inputs.genome_build}
    versions = {"rank_model_version": inputs.rank_model_version,
                "sv_rank_model_version": inputs.sv_rank_model_version}
    config.update({key: value for key, value in versions.items() if value})
    config["rank_score_threshold"] = inputs.rank_score_threshold
    if inputs.hpo:
        config["phenotype_terms"] = list(dict.fromkeys(inputs.hpo))
    if inputs.panels:
        panels = list(dict.fromkeys(inputs.panels))
        config["gene_panels"], config["default_gene_panels"] = panels, list(panels)
    config.update({key: _path_text(path, base) for key, path in _vcfs(inputs).items()})
    if inputs.smn_tsv is not None:
        config["smn_tsv"] = _path_text(inputs.smn_tsv, base)
    if inputs.multiqc is not None:
        config["multiqc"] = _path_text(inputs.multiqc, base)
    for key, path in zip(("peddy_ped", "peddy_check", "peddy_sex"), peddy, strict=True):
        config[key] = _path_text(path, base)
    return config


def config_text(config: Mapping[str, Any]) -> str:
    """The config as YAML under a comment naming its writer and how to load it."""
    family = config["family"]
    body = yaml.safe_dump(dict(config), sort_keys=False, default_flow_style=False,
                          allow_unicode=True, width=1000)
    return (f"# Scout load config of family {family}, written by helgenom {__version__} "
            "(helgenom scout-config)\n# Load it with: scout load case <this file>\n" + body)


def write_scout_config(inputs: ScoutInputs, out: Path, peddy_dir: Path | None = None,
                       relative: bool = False) -> ScoutFiles:
    """Check the inputs and write the family's load config `out` and its QC as peddy files in
    `peddy_dir` (default: the config's folder); InputError naming the file of a problem."""
    out, folder = Path(out), Path(peddy_dir) if peddy_dir is not None else Path(out).parent
    family = family_in_ped(inputs.ped, inputs.family)
    _check_names(inputs, family)
    for key, path in _vcfs(inputs).items():
        _check_file(path, key)
        _check_vcf(path, family)
    for sample, path in inputs.alignments.items():
        _check_file(path, f"alignment of {sample}")
    if inputs.multiqc is not None:
        _check_file(inputs.multiqc, "MultiQC report")
    if inputs.smn_tsv is not None:
        _check_file(inputs.smn_tsv, "SMN table")
    pairs, n_pairs = ped_check_text(inputs.qc, family)
    sexes, n_sexes = sex_check_text(inputs.qc, family)
    peddy = peddy_files(family.id, folder)
    config = scout_config(inputs, family, peddy, out.parent if relative else None)
    for path, text in zip(peddy, (peddy_ped_text(family), pairs, sexes), strict=True):
        write_atomic(text.encode(), path)
    write_atomic(config_text(config).encode(), out)
    return ScoutFiles(out, *peddy, members=len(family.members), pairs=n_pairs,
                      sex_checks=n_sexes)

