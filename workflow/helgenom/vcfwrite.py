"""Writing the ranked VCF: the input, split per allele, with helgenom's INFO fields added
(GENMOD-compatible GeneticModels, Compounds, RankScore, RankScoreNormalized, RankResult, and
the HGImpact / HGQuality keys the default rank models read)."""

from __future__ import annotations

import shlex
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from helgenom.vcfio import VcfHeader, split_alleles_command

INFO_FIELDS = {
    "GeneticModels": "Inheritance models followed, per family (GENMOD names): FAM:MODEL|MODEL",
    "Compounds": "Compound heterozygous partners, per family: FAM:CHROM_POS_REF_ALT>score|...",
    "RankScore": "Rank score, per family: FAM:score",
    "RankScoreNormalized": "Rank score scaled to 0..1, per family: FAM:score",
    # As GENMOD writes it: no family prefix (the first family's), categories in the header.
    "RankResult": "{categories}",
    "HGImpact": "Impact class of the most severe consequence (HIGH, MODERATE, LOW, MODIFIER)",
    "HGQuality": "Genotype gates and FILTER, per family: FAM:PASS, FAM:FILTERED or FAM:GATE_FAIL",
}


def info_header(categories: list[str]) -> str:
    """The ##INFO lines; RankResult's Description lists the rank model's categories, which is
    how GENMOD (and Scout, reading it) names the parts of the value."""
    return "".join(
        f'##INFO=<ID={key},Number=.,Type=String,Description="{text} (helgenom rank)">\n'
        if key != "RankResult"
        else f'##INFO=<ID={key},Number=.,Type=String,Description="{"|".join(categories)}">\n'
        for key, text in INFO_FIELDS.items()
    )


def _join_families(values: dict[str, pd.Series], keep_empty: bool) -> pd.Series:
    """'FAM1:value,FAM2:value' per row (vectorised); '.' when no family has a value."""
    joined: pd.Series | None = None
    for family, column in values.items():
        text = column.astype(str)
        part = family + ":" + text
        if not keep_empty:
            part = part.where(text != "", "")
        if joined is None:
            joined = part
        else:
            both = (joined != "") & (part != "")
            joined = (joined + np.where(both, ",", "") + part).astype(object)
    assert joined is not None
    return joined.replace("", ".")


def write_vcf(vcf: Path | str, table: pd.DataFrame, results: dict[str, pd.DataFrame],
              out: Path, header: VcfHeader, categories: list[str]) -> None:
    """Annotate the (allele-split) input with the per-family fields via bcftools annotate."""
    ann = table[["CHROM", "POS", "REF", "ALT"]].copy()

    def per_family(column: str, keep_empty: bool = False) -> pd.Series:
        return _join_families({fam: res[column] for fam, res in results.items()}, keep_empty)

    for res in results.values():
        res["score_text"] = res["score"].map("{:g}".format)
        res["score_normalized_text"] = res["score_normalized"].round(4).astype(str)
        parts = [res[c].astype("Int64").astype(str).replace("<NA>", ".") for c in categories]
        res["rank_result"] = parts[0].str.cat(parts[1:], sep="|") if parts else ""
    ann["GeneticModels"] = per_family("models")
    ann["Compounds"] = per_family("compounds_info")
    ann["RankScore"] = per_family("score_text", keep_empty=True)
    ann["RankScoreNormalized"] = per_family("score_normalized_text", keep_empty=True)
    first = next(iter(results.values()), None)
    ann["RankResult"] = first["rank_result"] if first is not None else "."
    ann["HGImpact"] = table["impact"].replace("", ".")
    ann["HGQuality"] = per_family("quality", keep_empty=True)
    info_header_text = info_header(categories)
    with tempfile.TemporaryDirectory(prefix="helgenom-rank-") as tmp:
        tsv = Path(tmp) / "annotation.tsv"
        ann.to_csv(tsv, sep="\t", header=False, index=False)
        header_file = Path(tmp) / "info-header.txt"
        header_file.write_text(info_header_text)
        columns = ",".join(["CHROM", "POS", "REF", "ALT", *(f"INFO/{k}" for k in INFO_FIELDS)])
        q = shlex.quote
        ann_gz, tmp_out = q(f"{tsv}.gz"), q(f"{out}.tmp.vcf.gz")
        steps = [
            f"bgzip -f {q(str(tsv))} && tabix -f -s1 -b2 -e2 {ann_gz}",
            f"{split_alleles_command(vcf, header, Path(tmp))} | bcftools annotate -a {ann_gz}"
            f" -h {q(str(header_file))} -c {columns} -Oz -o {tmp_out}",
            f"bcftools index -t -f {tmp_out}",
        ]
        for step in steps:
            subprocess.run(["bash", "-o", "pipefail", "-c", step], check=True)
    Path(f"{out}.tmp.vcf.gz.tbi").replace(f"{out}.tbi")
    Path(f"{out}.tmp.vcf.gz").replace(out)
