"""MultiQC custom content for `helgenom qc` (JSON `*_mqc.json` files, MultiQC >= 1.2x).

All sections sit under one report module, "helgenom QC" (anchor `helgenom_qc`); the same file
names and section ids are used for every family, so MultiQC merges several families' folders
into one table/plot each. Section ids:

- `helgenom_qc_verdicts`: table, one row per sample, trio/duo and family, with the verdict,
  key metrics and the reasons for WARN/FAIL; plus General Statistics columns per sample
  (`helgenom_qc_generalstats`: verdict, contamination, inferred sex)
- `helgenom_qc_depth`: line plot, fraction of autosomal bases at >= X depth per sample
- `helgenom_qc_sex`: scatter, chrX vs chrY depth relative to the autosomes (chrY 0 when the
  reference has none), coloured by declared sex
- `helgenom_qc_relatedness`: scatter, observed (KING-robust) vs expected (pedigree) kinship
  per pair; `helgenom_qc_relatedness_table`: the same pairs as a table
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from helgenom.qc.result import QcResult, Row

PARENT = {"parent_id": "helgenom_qc", "parent_name": "helgenom QC",
          "parent_description": "Sample and family QC verdicts from <code>helgenom qc</code>: "
          "read, alignment and coverage gates, sex check, contamination, relatedness and "
          "Mendelian consistency. Every WARN/FAIL has a reason."}
SEX_COLOURS = {"male": "#1f77b4", "female": "#d62728", "unknown": "#7f7f7f"}
MAX_DEPTH_PLOTTED = 100

# verdict table columns: metric -> MultiQC column config
TABLE_COLUMNS: dict[str, dict[str, Any]] = {
    "verdict": {"title": "QC", "description": "Worst verdict of the unit's checks"},
    "mean_depth": {"title": "Depth", "description": "Mean autosomal depth", "suffix": "X",
                   "format": "{:,.1f}"},
    "fraction_20x": {"title": ">= 20X", "description": "Fraction of the genome at >= 20X",
                     "min": 0, "max": 1, "format": "{:,.3f}"},
    "duplicate_rate": {"title": "Dups", "description": "Duplicate rate (samtools markdup)",
                       "min": 0, "max": 1, "format": "{:,.3f}"},
    "contamination": {"title": "Contam.", "description": "Estimated contamination fraction",
                      "min": 0, "max": 0.5, "format": "{:,.3f}", "scale": "OrRd"},
    "sex": {"title": "Sex", "description": "Inferred sex (declared in the sex check details)"},
    "mendelian_error_rate": {"title": "ME rate", "description": "Mendelian error rate",
                             "format": "{:,.4f}"},
    "de_novo_candidates": {"title": "De novo", "description": "De novo candidates",
                           "format": "{:,.0f}"},
    "reasons": {"title": "Reasons", "description": "Why the unit is WARN/FAIL"},
}


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def escaped(value: Any) -> Any:
    """`value` with every string in it (keys too) HTML-escaped: MultiQC puts these into its
    report as HTML, and names, paths and reasons come from the run's inputs."""
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, dict):
        return {escaped(k): escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escaped(v) for v in value]
    return value


def _write(mqc_dir: Path, name: str, section: dict[str, Any]) -> None:
    document = {**PARENT, **escaped(section)}  # PARENT's own markup stays markup
    (mqc_dir / f"{name}_mqc.json").write_text(json.dumps(document, indent=1) + "\n")


def _unit_key(row: Row, family: str) -> str:
    return {"family": f"family {family}", "trio": f"{row.unit} (trio)",
            "duo": f"{row.unit} (duo)"}.get(row.level, row.unit)


def write_multiqc(result: QcResult, mqc_dir: Path) -> list[Path]:
    """Write the custom content files; returns their paths."""
    mqc_dir.mkdir(parents=True, exist_ok=True)
    table: dict[str, dict[str, Any]] = {}
    for row in result.rows:
        if row.level == "pair":
            continue
        cells = table.setdefault(_unit_key(row, result.family), {})
        if row.metric in TABLE_COLUMNS:
            cells[row.metric] = _clean(row.value)
        if row.reason and row.metric != "verdict":
            cells["reasons"] = "; ".join(filter(None, [cells.get("reasons"), row.reason]))
    table = {unit: {k: cells.get(k) for k in TABLE_COLUMNS}  # MultiQC keeps this order
             for unit, cells in table.items()}
    _write(mqc_dir, "helgenom_qc_verdicts", {
        "id": "helgenom_qc_verdicts", "section_name": "Checks and verdicts", "plot_type": "table",
        "description": f"Verdicts of family {result.family} and its members "
                       f"(details: {result.tsv}).",
        "pconfig": {"id": "helgenom_qc_verdicts_table", "title": "helgenom QC: verdicts",
                    "col1_header": "Sample / unit"},
        "headers": TABLE_COLUMNS, "data": table})

    samples = {r.unit: r for r in result.rows if r.level == "sample" and r.metric == "sex"}
    general = {s: {"helgenom_qc": result.sample_verdicts[s],
                   "helgenom_sex": row.value if row.value is not None else "NA"}
               for s, row in samples.items()}
    for row in result.rows:
        if row.level == "sample" and row.metric == "contamination":
            general[row.unit]["helgenom_contamination"] = _clean(row.value)
    _write(mqc_dir, "helgenom_qc_generalstats", {
        "id": "helgenom_qc_generalstats", "plot_type": "generalstats",
        "headers": {"helgenom_qc": {"title": "QC", "description": "helgenom QC verdict"},
                    "helgenom_contamination": {**TABLE_COLUMNS["contamination"],
                                               "hidden": False},
                    "helgenom_sex": {"title": "Sex", "description": "Inferred sex"}},
        "data": general})

    _write(mqc_dir, "helgenom_qc_depth", {
        "id": "helgenom_qc_depth", "section_name": "Depth distribution", "plot_type": "linegraph",
        "description": "Fraction of the autosomal genome (reference gaps excluded) covered at "
                       "least X times (mosdepth).",
        "pconfig": {"id": "helgenom_qc_depth_plot", "title": "helgenom QC: cumulative depth",
                    "xlab": "Depth (X)", "ylab": "Fraction of bases >= X", "ymin": 0,
                    "ymax": 1},
        # [x, y] pairs: JSON object keys would be strings, which MultiQC sorts as text
        "data": {s: [[d, f] for d, f in enumerate(curve[: MAX_DEPTH_PLOTTED + 1])]
                 for s, curve in result.depth_curves.items()}})

    _write(mqc_dir, "helgenom_qc_sex", {
        "id": "helgenom_qc_sex", "section_name": "Sex check", "plot_type": "scatter",
        "description": "chrX and chrY depth relative to the autosomes, coloured by declared sex "
                       "(blue male, red female, grey unknown): males near (0.5, >0), females "
                       "near (1, 0). chrY is 0 when the reference has no chrY.",
        "pconfig": {"id": "helgenom_qc_sex_plot", "title": "helgenom QC: sex check",
                    "xlab": "chrX / autosome depth", "ylab": "chrY / autosome depth",
                    "xmin": 0, "ymin": 0},
        "data": {s: {"x": _clean(r.data.get("x_ratio")), "y": r.data.get("y_ratio") or 0.0,
                     "color": SEX_COLOURS.get(r.data.get("declared", "unknown"), "#7f7f7f")}
                 for s, r in samples.items() if r.data}})

    pairs = [r for r in result.rows if r.level == "pair" and r.value is not None]
    names = {r.unit: r.unit.replace("~", " vs ") for r in pairs}
    _write(mqc_dir, "helgenom_qc_relatedness", {
        "id": "helgenom_qc_relatedness", "section_name": "Relatedness", "plot_type": "scatter",
        "description": "Observed (KING-robust) vs pedigree-expected kinship per pair: points "
                       "should lie on the diagonal (0.25 parent-child and full siblings, "
                       "0.125 second-degree, 0 unrelated).",
        "pconfig": {"id": "helgenom_qc_relatedness_plot", "title": "helgenom QC: relatedness",
                    "xlab": "Expected kinship", "ylab": "Observed kinship", "xmin": -0.05,
                    "xmax": 0.55, "ymin": -0.1, "ymax": 0.55},
        "data": {names[r.unit]: {"x": r.data["expected"], "y": r.value} for r in pairs}})
    _write(mqc_dir, "helgenom_qc_relatedness_table", {
        "id": "helgenom_qc_relatedness_table", "section_name": "Relatedness pairs",
        "plot_type": "table",
        "pconfig": {"id": "helgenom_qc_relatedness_pairs", "title": "helgenom QC: pairs",
                    "col1_header": "Pair"},
        "headers": {"relationship": {"title": "Declared"},
                    "expected": {"title": "Expected", "format": "{:,.3f}"},
                    "observed": {"title": "Observed", "format": "{:,.3f}"},
                    "verdict": {"title": "QC"}, "reason": {"title": "Reason"}},
        "data": {names[r.unit]: {"relationship": r.data["relationship"],
                                 "expected": r.data["expected"], "observed": r.value,
                                 "verdict": r.verdict, "reason": r.reason} for r in pairs}})
    return sorted(mqc_dir.glob("helgenom_qc_*_mqc.json"))
