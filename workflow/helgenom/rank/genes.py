"""The gene-level effect of structural variants, from the GFF3's gene models.

Gene spans and their exons (coding or not) come from `helgenom.rank.gff3`, which reads the
GFF3 once per run.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pyranges as pr

from helgenom.rank.gff3 import GeneSet, gene_set


@dataclass
class GeneModels:
    genes: pd.DataFrame  # chrom, start, end (1-based inclusive), gene
    exons: pd.DataFrame  # chrom, start, end, gene


def gene_models(genes: GeneSet) -> GeneModels:
    """The gene spans and exons of a read GFF3, as SV gene effects read them."""
    return GeneModels(genes.genes[["chrom", "start", "end", "symbol"]].rename(
        columns={"symbol": "gene"}), genes.gene_exons)


def read_gene_models(path: Path | str) -> GeneModels:
    """The gene models of the GFF3 `path` (read once per process)."""
    return gene_models(gene_set(path))


SV_EFFECTS = {  # (svtype group, relation) -> consequence term
    ("loss", "whole"): "transcript_ablation",
    ("loss", "exon"): "exon_loss",
    ("gain", "whole"): "transcript_amplification",
    ("gain", "exon"): "feature_elongation",
    ("other", "whole"): "feature_truncation",
    ("other", "exon"): "feature_truncation",
}


def svtype_group(svtype: str) -> str:
    """loss (DEL), gain (DUP, CNV, INS) or other."""
    if svtype.startswith("DEL"):
        return "loss"
    if svtype.startswith(("DUP", "CNV", "INS")):
        return "gain"
    return "other"


def same_contig(name: str, wanted: set[str]) -> str:
    """`name` as `wanted` spells it (chr1 vs 1), else `name`."""
    if name in wanted:
        return name
    other = name.removeprefix("chr") if name.startswith("chr") else f"chr{name}"
    return other if other in wanted else name


def overlaps(chroms: np.ndarray, starts: np.ndarray, ends: np.ndarray,
             table: pd.DataFrame) -> pd.DataFrame:
    """(row, idx) pairs: interval `row` (chroms, starts, ends) overlaps `table` row `idx`
    (1-based closed intervals on both sides), joined with pyranges; sorted by row, then
    table order."""
    if not len(chroms) or table.empty:
        return pd.DataFrame({"row": [], "idx": []}, dtype=np.int64)
    svs = pr.PyRanges(pd.DataFrame({"Chromosome": chroms, "Start": starts - 1, "End": ends,
                                    "row": np.arange(len(chroms))}))
    other = pr.PyRanges(pd.DataFrame({"Chromosome": table["chrom"].to_numpy(),
                                      "Start": table["start"].to_numpy() - 1,
                                      "End": table["end"].to_numpy(),
                                      "idx": np.arange(len(table))}))
    with warnings.catch_warnings():  # pyranges 0.1 calls a pandas keyword pandas deprecates
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        joined = svs.join(other).df
    if joined.empty:
        return pd.DataFrame({"row": [], "idx": []}, dtype=np.int64)
    return joined[["row", "idx"]].astype(np.int64).sort_values(["row", "idx"], kind="stable")


def sv_gene_effects(chrom: pd.Series, start: pd.Series, end: pd.Series, svtype: pd.Series,
                    models: GeneModels) -> pd.DataFrame:
    """Per SV: consequence, gene (most affected), genes (all overlapped), like gene_annotation.

    Genes and exons overlapping each SV come from one pyranges join each (not a scan per SV).
    The gene named is the first (in GFF3 order) wholly inside the SV, else the first whose
    exons it touches, else the first it overlaps (intron)."""
    n = len(chrom)
    consequence = np.full(n, "intergenic", dtype=object)
    gene = np.full(n, "", dtype=object)
    genes = np.empty(n, dtype=object)
    genes[:] = [()] * n
    starts, ends = start.to_numpy(dtype=np.int64), end.to_numpy(dtype=np.int64)
    chroms, types = chrom.to_numpy(dtype=object), svtype.fillna("").to_numpy(dtype=object)
    # chr1 vs 1: gene models named the other way round are matched to the VCF's contigs.
    names = {c: same_contig(c, set(chroms)) for c in models.genes["chrom"].unique()}
    gene_table = models.genes.assign(chrom=models.genes["chrom"].map(names))
    exon_table = models.exons.assign(chrom=models.exons["chrom"].map(names).fillna(
        models.exons["chrom"]))
    gene_hits = overlaps(chroms.astype(str), starts, ends, gene_table)
    exon_hits = overlaps(chroms.astype(str), starts, ends, exon_table)
    exon_genes: dict[int, set[str]] = {}
    exon_names = exon_table["gene"].to_numpy(dtype=object)
    for row, idx in zip(exon_hits["row"].to_numpy(), exon_hits["idx"].to_numpy(), strict=True):
        exon_genes.setdefault(int(row), set()).add(exon_names[idx])
    g_start = gene_table["start"].to_numpy(dtype=np.int64)
    g_end = gene_table["end"].to_numpy(dtype=np.int64)
    g_name = gene_table["gene"].to_numpy(dtype=object)
    rows, idxs = gene_hits["row"].to_numpy(), gene_hits["idx"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1], True]) if len(rows) else []
    for a, b in pairwise(bounds):
        i, hit = int(rows[a]), idxs[a:b]
        whole = hit[(g_start[hit] >= starts[i]) & (g_end[hit] <= ends[i])]
        group = svtype_group(str(types[i]))
        touched = exon_genes.get(i, set())
        if len(whole):
            consequence[i], gene[i] = SV_EFFECTS[(group, "whole")], g_name[whole[0]]
        elif touched:
            consequence[i] = SV_EFFECTS[(group, "exon")]
            gene[i] = next(g_name[k] for k in hit if g_name[k] in touched)
        else:
            consequence[i], gene[i] = "intron", g_name[hit[0]]
        genes[i] = tuple(dict.fromkeys(g_name[hit]))
    return pd.DataFrame({"consequence": consequence, "gene": gene, "genes": genes},
                        index=chrom.index)
