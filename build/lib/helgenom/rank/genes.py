"""Gene models from GFF3 and the gene-level effect of structural variants.

Only what SV annotation needs: gene spans and their exons (coding or not). GFF3 is read as
Ensembl/GENCODE write it (`gene`/`ncRNA_gene` lines with `Name=`, transcripts whose `Parent`
is the gene, `exon` lines whose `Parent` is the transcript).
"""

from __future__ import annotations

import gzip
import warnings
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pyranges as pr

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


def _overlaps(chroms: np.ndarray, starts: np.ndarray, ends: np.ndarray,
              table: pd.DataFrame) -> pd.DataFrame:
    """(row, idx) pairs: SV `row` overlaps `table` row `idx` (1-based closed intervals on both
    sides), joined with pyranges; sorted by row, then table order."""
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
    names = {c: _same_contig(c, set(chroms)) for c in models.genes["chrom"].unique()}
    gene_table = models.genes.assign(chrom=models.genes["chrom"].map(names))
    exon_table = models.exons.assign(chrom=models.exons["chrom"].map(names).fillna(
        models.exons["chrom"]))
    gene_hits = _overlaps(chroms.astype(str), starts, ends, gene_table)
    exon_hits = _overlaps(chroms.astype(str), starts, ends, exon_table)
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
        group = _svtype_group(str(types[i]))
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
