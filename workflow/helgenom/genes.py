"""Gene models from GFF3 and the gene-level effect of structural variants.

Only what SV annotation needs: gene spans and their exons (coding or not). GFF3 is read as
Ensembl/GENCODE write it (`gene`/`ncRNA_gene` lines with `Name=`, transcripts whose `Parent`
is the gene, `exon` lines whose `Parent` is the transcript).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd

from helgenom.errors import InputError, Problem

GENE_TYPES = {"gene", "ncRNA_gene", "pseudogene"}


@dataclass
class GeneModels:
    genes: pd.DataFrame  # chrom, start, end (1-based inclusive), gene
    exons: pd.DataFrame  # chrom, start, end, gene


def _attributes(text: str) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in text.strip().split(";") if "=" in item)
    return {key: unquote(value) for key, value in pairs}


def read_gene_models(path: Path | str) -> GeneModels:
    opener = gzip.open if str(path).endswith(".gz") else open
    genes, exons, parent_gene, transcript_parent = [], [], {}, {}
    with opener(path, "rt") as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 9:
                raise InputError([Problem(str(path), number, "line", line.strip()[:60],
                                          f"GFF3 lines have 9 tab-separated columns, not "
                                          f"{len(fields)}")])
            chrom, kind, start, end, attrs = fields[0], fields[2], fields[3], fields[4], fields[8]
            info = _attributes(attrs)
            if kind in GENE_TYPES:
                name = info.get("Name") or info.get("gene_name") or info.get("ID", "")
                name = name.removeprefix("gene:")
                parent_gene[info.get("ID", name)] = name
                genes.append((chrom, int(start), int(end), name))
            elif kind == "exon":
                exons.append((chrom, int(start), int(end), info.get("Parent", "")))
            elif "Parent" in info and "ID" in info:
                transcript_parent[info["ID"]] = info["Parent"]
    exon_table = pd.DataFrame(exons, columns=["chrom", "start", "end", "parent"])
    exon_table["gene"] = exon_table["parent"].map(
        lambda p: parent_gene.get(transcript_parent.get(p, p), ""))
    return GeneModels(pd.DataFrame(genes, columns=["chrom", "start", "end", "gene"]),
                      exon_table.drop(columns="parent"))


SV_EFFECTS = {  # (svtype group, relation) -> consequence term
    ("loss", "whole"): "transcript_ablation",
    ("loss", "exon"): "exon_loss",
    ("gain", "whole"): "transcript_amplification",
    ("gain", "exon"): "feature_elongation",
    ("other", "whole"): "feature_truncation",
    ("other", "exon"): "feature_truncation",
}


def _svtype_group(svtype: str) -> str:
    if svtype.startswith("DEL"):
        return "loss"
    if svtype.startswith(("DUP", "CNV", "INS")):
        return "gain"
    return "other"


def _same_contig(name: str, wanted: set[str]) -> str:
    if name in wanted:
        return name
    other = name.removeprefix("chr") if name.startswith("chr") else f"chr{name}"
    return other if other in wanted else name


def sv_gene_effects(chrom: pd.Series, start: pd.Series, end: pd.Series, svtype: pd.Series,
                    models: GeneModels) -> pd.DataFrame:
    """Per SV: consequence, gene (most affected), genes (all overlapped), like gene_annotation."""
    n = len(chrom)
    consequence = np.full(n, "intergenic", dtype=object)
    gene = np.full(n, "", dtype=object)
    genes = np.empty(n, dtype=object)
    genes[:] = [()] * n
    starts, ends = start.to_numpy(dtype=np.int64), end.to_numpy(dtype=np.int64)
    chroms, types = chrom.to_numpy(dtype=object), svtype.fillna("").to_numpy(dtype=object)
    # chr1 vs 1: gene models named the other way round are matched to the VCF's contigs.
    names = {c: _same_contig(c, set(chroms)) for c in models.genes["chrom"].unique()}
    by_chrom_genes = dict(tuple(models.genes.assign(chrom=models.genes["chrom"].map(names))
                                .groupby("chrom")))
    by_chrom_exons = dict(tuple(models.exons.assign(chrom=models.exons["chrom"].map(names))
                                .groupby("chrom")))
    for i in range(n):
        g = by_chrom_genes.get(chroms[i])
        if g is None:
            continue
        hit = g[(g["start"] <= ends[i]) & (g["end"] >= starts[i])]
        if hit.empty:
            continue
        whole = hit[(hit["start"] >= starts[i]) & (hit["end"] <= ends[i])]
        ex = by_chrom_exons.get(chroms[i])
        exon_genes = set()
        if ex is not None:
            exon_hit = ex[(ex["start"] <= ends[i]) & (ex["end"] >= starts[i])]
            exon_genes = set(exon_hit["gene"])
        group = _svtype_group(str(types[i]))
        if not whole.empty:
            consequence[i], gene[i] = SV_EFFECTS[(group, "whole")], whole["gene"].iloc[0]
        elif exon_genes:
            consequence[i] = SV_EFFECTS[(group, "exon")]
            gene[i] = next(name for name in hit["gene"] if name in exon_genes)
        else:
            consequence[i], gene[i] = "intron", hit["gene"].iloc[0]
        genes[i] = tuple(dict.fromkeys(hit["gene"]))
    return pd.DataFrame({"consequence": consequence, "gene": gene, "genes": genes},
                        index=chrom.index)
