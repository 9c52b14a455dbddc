"""Small variants lying in a deletion that the same person carries on the other copy.

A caller sees only one copy of the region in a carrier of a heterozygous deletion, so an
allele on the remaining copy is called homozygous (1/1) although the person has exactly one
alt allele and no reference allele. Read as 1/1, the allele cannot pair with the deletion, and
a classic diagnosis - a whole-gene or exon deletion from one parent in trans with an SNV from
the other - is missed (GENMOD and slivar both miss it: to them the SNV is a homozygous call
that a hom-ref parent contradicts).

For inheritance models, such a call is counted as one alt allele (het): it then pairs with the
deletion as a compound heterozygote, phased by the parents as any other pair. Gates, the
genotypes shown to users and the output VCF keep the caller's genotype.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from helgenom.io.vcf import Genotypes
from helgenom.rank.inheritance import AUTOSOMAL


def _covered(starts: np.ndarray, ends: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Whether each position lies in the union of the closed intervals [start, end]."""
    if not len(starts) or not len(positions):
        return np.zeros(len(positions), dtype=bool)
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], np.maximum.accumulate(ends[order])
    k = np.searchsorted(starts, positions, side="right") - 1
    inside = k >= 0
    inside[inside] = positions[inside] <= ends[k[inside]]
    return inside


def hemizygous_over_deletions(table: pd.DataFrame, gts: Genotypes, classes: np.ndarray
                              ) -> tuple[Genotypes, dict[str, np.ndarray]]:
    """(genotypes for the models, per sample the rows recoded from 1/1 to one alt allele).

    A row is recoded for a sample when it is an autosomal small variant called diploid hom-alt
    and the sample is heterozygous for an SV deletion (SVTYPE DEL) that covers the variant's
    first base and does not start at it (the deletion's own anchor base)."""
    kind = table["kind"].to_numpy(dtype=object)
    if "SVTYPE" not in table or not (kind == "SV").any():
        return gts, {}
    is_del = (kind == "SV") & (table["SVTYPE"].astype(str).str.upper().str.startswith("DEL")
                               .to_numpy())
    small = (kind != "SV") & (classes == AUTOSOMAL)
    chrom = table["CHROM"].to_numpy(dtype=object)
    pos = table["POS"].to_numpy(dtype=np.int64)
    end = table["END"].to_numpy(dtype=np.int64)
    recoded: dict[str, np.ndarray] = {}
    new_gt = dict(gts.gt)
    for sample, gt in gts.gt.items():
        hom = small & (gt == 2) & (gts.ploidy[sample] == 2)
        carried = is_del & (gt == 1)
        if not hom.any() or not carried.any():
            continue
        rows = np.zeros(len(gt), dtype=bool)
        for contig in np.unique(chrom[carried]):
            dels = carried & (chrom == contig)
            candidates = np.flatnonzero(hom & (chrom == contig))
            rows[candidates] = _covered(pos[dels] + 1, end[dels], pos[candidates])
        if rows.any():
            recoded[sample] = rows
            new_gt[sample] = np.where(rows, np.int8(1), gt).astype(gt.dtype)
    if not recoded:
        return gts, {}
    return replace(gts, gt=new_gt), recoded
