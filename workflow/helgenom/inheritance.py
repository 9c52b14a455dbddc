"""Genotype gates and inheritance models for one family, vectorised over variants.

Model names follow GENMOD: AD, AD_dn, AR_hom, AR_hom_dn, AR_comp, AR_comp_dn, XR, XR_dn, XD,
XD_dn, plus MT (maternal, mitochondrial). Rules, per family:

- Affected individuals must carry the variant as the model says (no-calls do not exclude),
  unaffected individuals must not (no-calls do not exclude).
- `_dn` means the variant (or, for AR_hom_dn, one allele) is absent from both called parents
  of an affected carrier; without both parents in the pedigree a variant is never de novo.
- Compound heterozygotes are phased by parental origin. A pair is rejected when both alleles
  come from the same parent, when both are de novo (two de novo hits in one gene are reported
  as AD_dn each, not AR_comp), or when an unaffected member carries both without phase
  showing them in cis. A parent no-call leaves the origin unknown: the pair is kept, unphased.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helgenom.pedigree import Family
from helgenom.vcfio import Genotypes

MODELS = ("AD", "AD_dn", "AR_hom", "AR_hom_dn", "AR_comp", "AR_comp_dn",
          "XR", "XR_dn", "XD", "XD_dn", "MT")

# Chromosome classes.
AUTOSOMAL, XLINKED, YLINKED, MITO = 0, 1, 2, 3

# Parental origin codes used for compound phasing.
UNKNOWN, PATERNAL, MATERNAL, DE_NOVO, NOT_PATERNAL, NOT_MATERNAL = range(6)
_SAME_PARENT = {PATERNAL, MATERNAL, NOT_PATERNAL, NOT_MATERNAL}


@dataclass(frozen=True)
class Gates:
    """Per-genotype quality gates (slivar-like defaults). No-calls are never gated."""

    min_gq: float = 20
    min_dp: int = 6
    het_ab_min: float = 0.2
    het_ab_max: float = 0.8
    homref_max_alt_fraction: float = 0.02
    homalt_min_alt_fraction: float = 0.98
    # Hemizygous (haploid) calls: mapping noise on chrX is common, so the gate is relaxed.
    hemi_min_alt_fraction: float = 0.8
    enabled: bool = True


_REASONS = ("GQ", "DP", "AB")


def gate_failures(samples: list[str], gts: Genotypes, gates: Gates) -> np.ndarray:
    """Per variant: '' when every called genotype passes, else 'sample:GQ,AB;sample:DP'."""
    n = len(next(iter(gts.gt.values()))) if gts.gt else 0
    if not gates.enabled or n == 0:
        return np.full(n, "", dtype=object)
    masks = {}
    for s in samples:
        gt, ploidy, ab = gts.gt[s], gts.ploidy[s], gts.allele_balance(s)
        called = gt >= 0
        bad_gq = called & (gts.gq[s] < gates.min_gq)
        bad_dp = called & (gts.depth(s) < gates.min_dp)
        bad_ab = called & ~np.isnan(ab) & (
            ((gt == 0) & (ab > gates.homref_max_alt_fraction))
            | ((gt == 1) & ((ab < gates.het_ab_min) | (ab > gates.het_ab_max)))
            | ((gt == 2) & (ploidy == 2) & (ab < gates.homalt_min_alt_fraction))
            | ((gt == 2) & (ploidy == 1) & (ab < gates.hemi_min_alt_fraction))
        )
        masks[s] = bad_gq.astype(np.int8) | (bad_dp.astype(np.int8) << 1) | (bad_ab << 2)
    failing = np.flatnonzero(np.any(np.stack(list(masks.values())), axis=0))
    out = np.full(n, "", dtype=object)
    for row in failing:
        parts = []
        for s in samples:
            bits = int(masks[s][row])
            if bits:
                parts.append(f"{s}:" + ",".join(r for i, r in enumerate(_REASONS) if bits >> i & 1))
        out[row] = ";".join(parts)
    return out


def chromosome_classes(chrom: pd.Series, pos: pd.Series, chrx: str, chry: str,
                       par: list[tuple[str, int, int]]) -> np.ndarray:
    """AUTOSOMAL (incl. the pseudo-autosomal regions), XLINKED, YLINKED or MITO per row."""
    chrom_values = chrom.to_numpy(dtype=object)
    classes = np.full(len(chrom_values), AUTOSOMAL, dtype=np.int8)
    classes[chrom_values == chrx] = XLINKED
    classes[chrom_values == chry] = YLINKED
    classes[np.isin(chrom_values, ["chrM", "chrMT", "MT", "M"])] = MITO
    positions = pos.to_numpy()
    for region_chrom, start, end in par:
        in_par = (chrom_values == region_chrom) & (positions >= start) & (positions <= end)
        classes[in_par] = AUTOSOMAL
    return classes


class FamilyGenotypes:
    """Boolean views of one family's genotypes; members missing from the VCF are no-calls."""

    def __init__(self, family: Family, gts: Genotypes) -> None:
        self.family = family
        self.gts = gts
        self.n = len(next(iter(gts.gt.values())))

    def gt(self, sample: str) -> np.ndarray:
        return self.gts.gt[sample]

    def carrier(self, s: str) -> np.ndarray:
        return self.gt(s) > 0

    def ref(self, s: str) -> np.ndarray:
        return self.gt(s) == 0

    def het(self, s: str) -> np.ndarray:
        return self.gt(s) == 1

    def hom(self, s: str) -> np.ndarray:
        return self.gt(s) == 2

    def missing(self, s: str) -> np.ndarray:
        return self.gt(s) < 0

    def all_of(self, values: list[np.ndarray]) -> np.ndarray:
        return np.logical_and.reduce(values) if values else np.ones(self.n, dtype=bool)

    def any_of(self, values: list[np.ndarray]) -> np.ndarray:
        return np.logical_or.reduce(values) if values else np.zeros(self.n, dtype=bool)

    def parents(self, sample: str) -> list[str]:
        return [p.sample for p in self.family.parents(sample) if p is not None]


def _denovo(fg: FamilyGenotypes, child: str, carries: np.ndarray) -> np.ndarray:
    """Rows where `child` carries and both parents are in the pedigree, called hom-ref."""
    parents = fg.parents(child)
    if len(parents) < 2:
        return np.zeros(fg.n, dtype=bool)
    return carries & fg.all_of([fg.ref(p) for p in parents])


def single_variant_models(fg: FamilyGenotypes, classes: np.ndarray,
                          reduced_penetrance: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Boolean arrays per model name (all models but the compound ones)."""
    fam = fg.family
    affected = [i.sample for i in fam.affected]
    unaffected = [i.sample for i in fam.unaffected]
    males = {i.sample for i in fam.members if i.sex == "male"}
    auto, xlinked = classes == AUTOSOMAL, classes == XLINKED
    models = {name: np.zeros(fg.n, dtype=bool) for name in MODELS}
    if not affected:
        return models
    rp = reduced_penetrance if reduced_penetrance is not None else np.zeros(fg.n, dtype=bool)

    # Autosomal dominant: affected het, unaffected without it (unless reduced penetrance).
    ad = (auto & fg.all_of([fg.het(a) | fg.missing(a) for a in affected])
          & fg.any_of([fg.het(a) for a in affected])
          & (fg.all_of([~fg.carrier(u) for u in unaffected]) | rp))
    ad_dn = [_denovo(fg, a, fg.het(a)) for a in affected]
    ad_unknown = [fg.het(a) & fg.any_of([fg.missing(p) for p in fg.parents(a)])
                  & ~fg.any_of([fg.carrier(p) for p in fg.parents(a)]) for a in affected]
    models["AD_dn"] = ad & fg.any_of([d | u for d, u in zip(ad_dn, ad_unknown, strict=True)])
    models["AD"] = ad & ~fg.any_of(ad_dn)

    # Autosomal recessive homozygous: each parent of an affected must carry one copy.
    ar = (auto & fg.all_of([fg.hom(a) | fg.missing(a) for a in affected])
          & fg.any_of([fg.hom(a) for a in affected])
          & fg.all_of([~fg.hom(u) for u in unaffected]))
    ar_dn = [fg.hom(a) & fg.any_of([fg.ref(p) for p in fg.parents(a)]) for a in affected]
    models["AR_hom_dn"] = ar & fg.any_of(ar_dn)
    models["AR_hom"] = ar & ~fg.any_of(ar_dn)

    # X-linked: males are hemizygous; a son's X comes from his mother.
    def x_affected_ok(a: str, recessive: bool) -> np.ndarray:
        if a in males or not recessive:
            return fg.carrier(a) | fg.missing(a)
        return fg.hom(a) | fg.missing(a)

    def x_unaffected_ok(u: str, recessive: bool) -> np.ndarray:
        return ~fg.hom(u) if recessive and u not in males else ~fg.carrier(u)

    def x_denovo(a: str, recessive: bool) -> np.ndarray:
        father, mother = fam.parents(a)
        if a in males:
            if mother is None:
                return np.zeros(fg.n, dtype=bool)
            return fg.carrier(a) & fg.ref(mother.sample)
        if father is None or mother is None:
            return np.zeros(fg.n, dtype=bool)
        carries = fg.hom(a) if recessive else fg.carrier(a)
        parents_ref = [fg.ref(father.sample), fg.ref(mother.sample)]
        return carries & (fg.any_of(parents_ref) if recessive else fg.all_of(parents_ref))

    for name, recessive in (("XR", True), ("XD", False)):
        pattern = (xlinked & fg.all_of([x_affected_ok(a, recessive) for a in affected])
                   & fg.any_of([x_affected_ok(a, recessive) & ~fg.missing(a) for a in affected])
                   & fg.all_of([x_unaffected_ok(u, recessive) for u in unaffected]))
        dn = fg.any_of([x_denovo(a, recessive) for a in affected])
        models[f"{name}_dn"] = pattern & dn
        models[name] = pattern & ~dn

    # Mitochondrial: maternal transmission (heteroplasmy lets unaffected relatives carry).
    mito = classes == MITO
    mt_ok = [fg.carrier(a) | fg.missing(a) for a in affected]
    maternal = [~fg.ref(fam.parents(a)[1].sample) if fam.parents(a)[1] else np.ones(fg.n, bool)
                for a in affected]
    models["MT"] = (mito & fg.all_of(mt_ok) & fg.any_of([fg.carrier(a) for a in affected])
                    & fg.all_of(maternal))
    return models


def compound_candidates(fg: FamilyGenotypes, classes: np.ndarray) -> np.ndarray:
    """Rows that may be one allele of a compound het: affected het, unaffected not hom."""
    affected = [i.sample for i in fg.family.affected]
    unaffected = [i.sample for i in fg.family.unaffected]
    if not affected:
        return np.zeros(fg.n, dtype=bool)
    return ((classes == AUTOSOMAL) & fg.all_of([fg.het(a) | fg.missing(a) for a in affected])
            & fg.any_of([fg.het(a) for a in affected])
            & fg.all_of([~fg.hom(u) for u in unaffected]))


def origins(fg: FamilyGenotypes, child: str, rows: np.ndarray) -> np.ndarray:
    """Parental origin code of the child's allele at `rows` (see the module constants)."""
    father, mother = fg.family.parents(child)
    out = np.full(len(rows), UNKNOWN, dtype=np.int8)
    if father and mother:
        fc, fr = fg.carrier(father.sample)[rows], fg.ref(father.sample)[rows]
        mc, mr = fg.carrier(mother.sample)[rows], fg.ref(mother.sample)[rows]
        out[fc & mr] = PATERNAL
        out[mc & fr] = MATERNAL
        out[fr & mr] = DE_NOVO
    elif father or mother:
        parent = (father or mother).sample
        carrier_code, other_code = (PATERNAL, NOT_PATERNAL) if father else (MATERNAL, NOT_MATERNAL)
        out[fg.carrier(parent)[rows]] = carrier_code
        out[fg.ref(parent)[rows]] = other_code
    return out


def _compatible(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairs of origins that can be in trans (broadcast over a[:, None], b[None, :])."""
    same_parent = (a == b) & np.isin(a, list(_SAME_PARENT))
    return ~same_parent & ~((a == DE_NOVO) & (b == DE_NOVO))


def compound_pairs(fg: FamilyGenotypes, rows: np.ndarray, genes: pd.Series
                   ) -> tuple[dict[int, list[int]], set[int]]:
    """Partners per row among candidate `rows`, grouped by gene, and rows with a de novo pair.

    `genes` gives, per candidate row (same order as `rows`), a tuple of gene symbols. Work is
    linear in the number of candidates plus the pairs found inside each gene.
    """
    fam = fg.family
    affected = [i.sample for i in fam.affected]
    unaffected = [i.sample for i in fam.unaffected]
    long = pd.DataFrame({"row": rows, "gene": list(genes)}).explode("gene").dropna()
    partners: dict[int, list[int]] = {}
    with_dn: set[int] = set()
    for _, group in long.groupby("gene", sort=False):
        if len(group) < 2:
            continue
        idx = group["row"].to_numpy(dtype=np.int64)
        ok = ~np.eye(len(idx), dtype=bool)
        dn = np.zeros_like(ok)
        for a in affected:
            orig = origins(fg, a, idx)
            het = fg.het(a)[idx] | fg.missing(a)[idx]
            ok &= _compatible(orig[:, None], orig[None, :]) & het[:, None] & het[None, :]
            dn |= (orig[:, None] == DE_NOVO) | (orig[None, :] == DE_NOVO)
        for u in unaffected:
            carries = fg.carrier(u)[idx]
            both = carries[:, None] & carries[None, :]
            if fam.parents(u) != (None, None):
                orig = origins(fg, u, idx)
                cis = ~_compatible(orig[:, None], orig[None, :])
                both &= ~cis
            ok &= ~both
        for i, j in zip(*np.nonzero(ok), strict=True):
            partners.setdefault(int(idx[i]), []).append(int(idx[j]))
            if dn[i, j]:
                with_dn.add(int(idx[i]))
    return partners, with_dn
