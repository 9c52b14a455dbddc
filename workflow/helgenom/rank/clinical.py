"""Clinical annotation of the small variants, as `helgenom annotate-sources` and `helgenom
freqdb annotate` wrote it in INFO, turned into what the ranking, the candidate list and the
ranked VCF show.

INFO keys read (each only when the VCF header declares it; documented in config/README.md):

    CLNSIG, CLNREVSTAT, CLNVID     ClinVar significance, review status, variation ID
    GNOMADAF_grpmax, gnomad_hom    gnomAD group-max allele frequency and homozygotes
    SWEGENAF                       SweGen allele frequency
    CADD                           CADD PHRED
    REVEL_score                    REVEL
    SpliceAI                       SpliceAI's precomputed ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|..
    Obs, Hom, Hem, Frq             the GMC's frequency database (loqusdb's names)

Derived per record:

- ClinVar review stars from CLNREVSTAT, as ClinVar counts them (practice guideline 4, expert
  panel 3, multiple submitters without conflicts 2, single submitter or conflicting 1, else 0);
- `HGClinVar`, the class the default rank model scores: P_reviewed (pathogenic or likely
  pathogenic with >= 2 stars), P, conflicting, VUS, B, B_reviewed (benign or likely benign,
  >= 2 stars); INFO of the ranked VCF;
- `HGSpliceAI`, the largest of the four SpliceAI delta scores of the record's ALT allele over
  every gene SpliceAI scored it in; INFO of the ranked VCF;
- the VEP-style CSQ subfields the Clinical Genomics rank models and Scout read:
  CLINVAR_CLNSIG, CLINVAR_CLNREVSTAT (',' written '&', as VEP does), REVEL_score and
  SpliceAI_pred_DS_AG/AL/DG/DL (see `helgenom.rank.csq`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helgenom.io.vcf import VcfHeader

# INFO key -> candidate-list column (numbers) of the keys shown as they are.
NUMERIC = {"GNOMADAF_grpmax": "gnomad_grpmax_af", "gnomad_hom": "gnomad_hom",
           "SWEGENAF": "swegen_af", "Obs": "local_obs", "Hom": "local_hom", "Frq": "local_frq",
           "CADD": "cadd", "REVEL_score": "revel"}
INTEGER = {"gnomad_hom", "local_obs", "local_hom"}
INTEGER_COLUMNS = {*INTEGER, "clinvar_stars", "clinvar_id"}
INFO_KEYS = ("CLNSIG", "CLNREVSTAT", "CLNVID", *NUMERIC, "Hem", "SpliceAI")
STRING = "string[pyarrow]"
# The candidate list's columns from here, in order (after population_af).
COLUMNS = ("clinvar", "clinvar_stars", "clinvar_id", "gnomad_grpmax_af", "gnomad_hom",
           "swegen_af", "local_obs", "local_hom", "local_frq", "cadd", "revel", "spliceai")
SPLICEAI_KEYS = ("DS_AG", "DS_AL", "DS_DG", "DS_DL")
# CSQ subfields added to helgenom's CSQ (per record, the same in each of its genes' entries).
CSQ_EXTRA = ("CLINVAR_CLNSIG", "CLINVAR_CLNREVSTAT", "REVEL_score",
             *(f"SpliceAI_pred_{k}" for k in SPLICEAI_KEYS))
# The table columns of the CSQ subfields are named CSQ_PREFIX + subfield.
CSQ_PREFIX = "csq:"
# Per-record INFO keys of the ranked VCF (the default rank model scores them).
DERIVED_INFO = {
    "HGClinVar": "ClinVar class (helgenom rank): P_reviewed, P, conflicting, VUS, B, "
                 "B_reviewed (reviewed: >= 2 review stars)",
    "HGSpliceAI": "Largest SpliceAI delta score of the ALT allele (helgenom rank)",
}
STARS = (("practice_guideline", 4), ("reviewed_by_expert_panel", 3),
         ("criteria_provided,_multiple_submitters,_no_conflicts", 2),
         ("criteria_provided,_conflicting", 1), ("criteria_provided,_single_submitter", 1))


def info_keys(header: VcfHeader) -> list[str]:
    """The clinical INFO keys this VCF declares."""
    return [key for key in INFO_KEYS if key in header.info]


def review_stars(status: pd.Series) -> pd.Series:
    """ClinVar's review stars of CLNREVSTAT values (NA stays NA)."""
    text = status.astype(STRING)
    stars = pd.Series(np.where(text.notna(), 0, -1), index=status.index, dtype=np.int64)
    for prefix, count in STARS:
        stars = stars.where(~text.str.startswith(prefix).fillna(False), count)
    return stars.astype("Int64").where(stars >= 0, pd.NA)


def clinvar_class(significance: pd.Series, stars: pd.Series) -> pd.Series:
    """HGClinVar of each record (NA without ClinVar significance)."""
    text = significance.astype(STRING).str.lower()
    pathogenic = text.str.contains("pathogenic") & ~text.str.contains("conflicting")
    benign = text.str.contains("benign") & ~text.str.contains("conflicting") & ~pathogenic
    reviewed = stars.fillna(0).astype(np.int64) >= 2
    out = pd.Series(pd.NA, index=significance.index, dtype=STRING)
    out = out.mask(text.notna(), "VUS")
    out = out.mask(text.str.contains("conflicting").fillna(False), "conflicting")
    out = out.mask(pathogenic.fillna(False), "P").mask(pathogenic.fillna(False) & reviewed,
                                                       "P_reviewed")
    return out.mask(benign.fillna(False), "B").mask(benign.fillna(False) & reviewed,
                                                    "B_reviewed")


def spliceai_scores(values: pd.Series, alt: pd.Series) -> pd.DataFrame:
    """Per record the largest DS_AG, DS_AL, DS_DG and DS_DL of SpliceAI entries of its ALT
    allele (entries 'ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|...' joined by ','); NaN for none."""
    out = pd.DataFrame(np.nan, index=values.index, columns=list(SPLICEAI_KEYS))
    present = (values.notna() & (values.astype(STRING) != ".")).fillna(False)
    if not present.any():
        return out
    entries = values[present].astype(str).str.split(",").explode()
    parts = entries.str.split("|", expand=True)
    if parts.shape[1] < 6:
        return out
    same_allele = parts[0].to_numpy() == alt.loc[parts.index].astype(str).to_numpy()
    scores = parts.loc[same_allele, [2, 3, 4, 5]].apply(pd.to_numeric, errors="coerce")
    scores.columns = list(SPLICEAI_KEYS)
    best = scores.groupby(level=0).max()
    out.loc[best.index, list(SPLICEAI_KEYS)] = best.to_numpy()
    return out


def clinical_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Of the rows of `table`: the candidate-list columns (`COLUMNS`), the CSQ subfields
    (`CSQ_EXTRA`, text, named CSQ_PREFIX + subfield) and the derived INFO (`DERIVED_INFO`,
    text) that its INFO keys give;
    a column whose source key `table` lacks is left out (the candidate list shows it
    empty)."""
    index = table.index
    out = pd.DataFrame(index=index)

    def text(key: str) -> pd.Series:
        return table[key].astype(STRING).replace(".", pd.NA)

    if "CLNSIG" in table:
        significance = text("CLNSIG")
        status = (text("CLNREVSTAT") if "CLNREVSTAT" in table
                  else pd.Series(pd.NA, index=index, dtype=STRING))
        stars = review_stars(status)
        out["clinvar"] = significance
        out["clinvar_stars"] = stars.where(significance.notna(), pd.NA)
        out["HGClinVar"] = clinvar_class(significance, stars)
        out[CSQ_PREFIX + "CLINVAR_CLNSIG"] = significance
        if "CLNREVSTAT" in table:
            out[CSQ_PREFIX + "CLINVAR_CLNREVSTAT"] = status
    if "CLNVID" in table:
        out["clinvar_id"] = pd.to_numeric(text("CLNVID"), errors="coerce").astype("Int64")
    for key, name in NUMERIC.items():
        if key in table:
            values = pd.to_numeric(text(key), errors="coerce")
            out[name] = values.round().astype("Int64") if name in INTEGER else values
    if "REVEL_score" in table:
        out[CSQ_PREFIX + "REVEL_score"] = _texts(out["revel"])
    if "SpliceAI" in table:
        splice = spliceai_scores(table["SpliceAI"], table["ALT"])
        out["spliceai"] = splice.max(axis=1, skipna=True)
        out["HGSpliceAI"] = _texts(out["spliceai"])
        for key in SPLICEAI_KEYS:
            out[f"{CSQ_PREFIX}SpliceAI_pred_{key}"] = _texts(splice[key])
    return out


def _texts(values: pd.Series) -> pd.Series:
    """Numbers as VCF text ('%g'), NA kept."""
    return values.map(_number, na_action="ignore").astype(STRING)


def _number(value: float) -> str:
    return f"{value:g}"


def derived_header() -> str:
    """The ##INFO lines of `DERIVED_INFO`."""
    return "".join(f'##INFO=<ID={key},Number=1,Type={"String" if key == "HGClinVar" else "Float"}'
                   f',Description="{text}">\n' for key, text in DERIVED_INFO.items())
