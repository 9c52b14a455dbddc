"""Genotype gates and inheritance models for one family, vectorised over variants.

Model names follow GENMOD: AD, AD_dn, AR_hom, AR_hom_dn, AR_comp, AR_comp_dn, XR, XR_dn, XD,
XD_dn, plus MT (mitochondrial: maternal or de novo). Rules, per family:

- Affected individuals must carry the variant as the model says (no-calls do not exclude),
  unaffected individuals must not (no-calls do not exclude).
- Origins (`origins`): a parent in the pedigree called hom-ref did not pass the allele on; a
  parent who is a no-call or absent from the pedigree may have. `_dn` means no parent in the
  pedigree carries it (so a singleton is never de novo, a duo child may be). For AR_hom, a
  hom-ref or no-call parent (or a missing one in a duo) makes AR_hom_dn possible.
- MT: chrM/MT only. An affected member carries the variant (heteroplasmic 0/1 or homoplasmic
  1; see `helgenom mito-call`), no affected member is called without it; the mother may carry
  it at any level or not at all (de novo mtDNA variants are common) and the father is ignored
  (paternal mtDNA is not transmitted); unaffected maternal relatives may carry it (a lower
  heteroplasmy, or reduced penetrance as in LHON).
- Compound heterozygotes are phased by those origins (an allele both parents carry cannot
  be phased and is not paired, as in GENMOD and slivar). A pair is rejected when both alleles
  must come from the same parent, when both are de novo (two de novo hits in one gene are
  reported as AD_dn each, not AR_comp), or when an unaffected member carries both without
  phase showing them in cis. A parent no-call leaves the origin open: the pair is kept,
  unphased (GENMOD drops such compounds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helgenom.io.vcf import Genotypes
from helgenom.sheets.pedigree import Family

MODELS = ("AD", "AD_dn", "AR_hom", "AR_hom_dn", "AR_comp", "AR_comp_dn",
          "XR", "XR_dn", "XD", "XD_dn", "MT")

# Chromosome classes.
AUTOSOMAL, XLINKED, YLINKED, MITO = 0, 1, 2, 3
MITO_CONTIGS = ("chrM", "chrMT", "MT", "M")

# Possible origins of a child's allele, as a bit set (used to phase compound hets).
PATERNAL, MATERNAL, DE_NOVO = 1, 2, 4


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
    # chrM/MT (with `classes`): a heteroplasmy level is no diploid allele balance. A called
    # genotype needs mito_min_dp reads; a carrier (0/1, 1) an ALT fraction of at least
    # mito_min_hl, a non-carrier (0) less than it (helgenom mito-call's min_af). GQ is not
    # gated there: at ~100-200x no call can exclude a heteroplasmy at the threshold with
    # GQ 20 (0.97^150 = 1%), so DP and HL are the evidence.
    mito_min_dp: int = 20
    mito_min_hl: float = 0.03
    enabled: bool = True


_REASONS = ("GQ", "DP", "AB")


def gate_failures(samples: list[str], gts: Genotypes, gates: Gates,
                  classes: np.ndarray | None = None) -> np.ndarray:
    """Per variant: '' when every called genotype passes, else 'sample:GQ,AB;sample:DP'.
    Rows of class MITO (`classes`) get the chrM gates (Gates.mito_*: DP and AB, no GQ)."""
    n = len(next(iter(gts.gt.values()))) if gts.gt else 0
    if not gates.enabled or n == 0 or not samples:
        return np.full(n, "", dtype=object)
    mito = np.zeros(n, dtype=bool) if classes is None else classes == MITO
    masks = {}
    for s in samples:
        gt, ploidy, ab = gts.gt[s], gts.ploidy[s], gts.allele_balance(s)
        called = gt >= 0
        bad_gq = called & ~mito & (gts.gq[s] < gates.min_gq)
        bad_dp = called & (gts.depth(s) < np.where(mito, gates.mito_min_dp, gates.min_dp))
        with np.errstate(invalid="ignore"):
            bad_ab = called & ~np.isnan(ab) & np.where(
                mito,
                ((gt == 0) & (ab >= gates.mito_min_hl)) | ((gt > 0) & (ab < gates.mito_min_hl)),
                ((gt == 0) & (ab > gates.homref_max_alt_fraction))
                | ((gt == 1) & ((ab < gates.het_ab_min) | (ab > gates.het_ab_max)))
                | ((gt == 2) & (ploidy == 2) & (ab < gates.homalt_min_alt_fraction))
                | ((gt == 2) & (ploidy == 1) & (ab < gates.hemi_min_alt_fraction)))
        masks[s] = bad_gq.astype(np.int8) | (bad_dp.astype(np.int8) << 1) | (bad_ab << 2)
    # Each failing row's combination of per-sample reason bits, spelled out once.
    bits = np.stack([masks[s].astype(np.int8) for s in samples], axis=1)
    out = np.full(n, "", dtype=object)
    failing = np.flatnonzero(bits.any(axis=1))
    if not len(failing):
        return out
    found, which = np.unique(bits[failing], axis=0, return_inverse=True)
    texts = [";".join(f"{s}:" + ",".join(r for i, r in enumerate(_REASONS) if b >> i & 1)
                      for s, b in zip(samples, combination, strict=True) if b)
             for combination in found.tolist()]
    out[failing] = np.array(texts, dtype=object)[which.reshape(-1)]
    return out


def chromosome_classes(chrom: pd.Series, pos: pd.Series, chrx: str, chry: str,
                       par: list[tuple[str, int, int]]) -> np.ndarray:
    """AUTOSOMAL (incl. the pseudo-autosomal regions), XLINKED, YLINKED or MITO per row."""
    chrom_values = chrom.to_numpy(dtype=object)
    classes = np.full(len(chrom_values), AUTOSOMAL, dtype=np.int8)
    classes[chrom_values == chrx] = XLINKED
    classes[chrom_values == chry] = YLINKED
    classes[np.isin(chrom_values, MITO_CONTIGS)] = MITO
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
    # Origin of each affected carrier's allele (see `origins`): de novo when no parent in the
    # pedigree carries it; inherited unless every parent in the pedigree is called hom-ref.
    rows = np.arange(fg.n)
    ad_dn, ad_inherited = [], []
    for a in affected:
        orig = origins(fg, a, rows)
        ad_dn.append(fg.het(a) & ((orig & DE_NOVO) > 0))
        ad_inherited.append(fg.het(a) & ((orig & (PATERNAL | MATERNAL)) > 0))
    het_affected = [fg.het(a) for a in affected]
    models["AD_dn"] = ad & fg.any_of(ad_dn)
    models["AD"] = ad & fg.all_of([i | ~h for i, h in zip(ad_inherited, het_affected,
                                                           strict=True)])

    # Autosomal recessive homozygous: each parent of an affected must carry one copy.
    ar = (auto & fg.all_of([fg.hom(a) | fg.missing(a) for a in affected])
          & fg.any_of([fg.hom(a) for a in affected])
          & fg.all_of([~fg.hom(u) for u in unaffected]))
    # A parent called hom-ref makes one allele de novo (or the child UPD); a parent no-call
    # leaves both readings open (as GENMOD does).
    ar_dn = [fg.hom(a) & fg.any_of([fg.ref(p) | fg.missing(p) for p in fg.parents(a)]
                                   + ([np.ones(fg.n, dtype=bool)]
                                      if len(fg.parents(a)) == 1 else []))
             for a in affected]
    ar_not_inherited = [fg.hom(a) & fg.any_of([fg.ref(p) for p in fg.parents(a)])
                        for a in affected]
    models["AR_hom_dn"] = ar & fg.any_of(ar_dn)
    models["AR_hom"] = ar & ~fg.any_of(ar_not_inherited)

    # X-linked: males are hemizygous; a son's X comes from his mother.
    def x_affected_ok(a: str, recessive: bool) -> np.ndarray:
        if a in males or not recessive:
            return fg.carrier(a) | fg.missing(a)
        return fg.hom(a) | fg.missing(a)

    # Unaffected females may be heterozygous under XD too (skewed X inactivation; GENMOD
    # allows it); unaffected males must not carry.
    def x_unaffected_ok(u: str) -> np.ndarray:
        return ~fg.carrier(u) if u in males else ~fg.hom(u)

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
                   & fg.all_of([x_unaffected_ok(u) for u in unaffected]))
        dn = fg.any_of([x_denovo(a, recessive) for a in affected])
        models[f"{name}_dn"] = pattern & dn
        models[name] = pattern & ~dn

    # Mitochondrial: maternal or de novo; the father is not asked (paternal mtDNA is not
    # transmitted) and heteroplasmy lets unaffected maternal relatives carry it.
    mito = classes == MITO
    models["MT"] = (mito & fg.all_of([fg.carrier(a) | fg.missing(a) for a in affected])
                    & fg.any_of([fg.carrier(a) for a in affected]))
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
    """Bit set of the possible origins of the child's allele at `rows`.

    A parent in the pedigree who is called hom-ref cannot have passed it on; a parent who is a
    no-call, or not in the pedigree, may have. De novo is possible only when the child has a
    parent in the pedigree and no parent is a carrier.
    """
    father, mother = fg.family.parents(child)
    out = np.zeros(len(rows), dtype=np.int8)
    carrier_parent = np.zeros(len(rows), dtype=bool)
    for parent, bit in ((father, PATERNAL), (mother, MATERNAL)):
        if parent is None:
            out |= bit
            continue
        out[~fg.ref(parent.sample)[rows]] |= bit
        carrier_parent |= fg.carrier(parent.sample)[rows]
    if father or mother:
        out[~carrier_parent] |= DE_NOVO
    return out


def phaseable_origins(fg: FamilyGenotypes, child: str, rows: np.ndarray) -> np.ndarray:
    """`origins` for compound pairing: an allele both parents carry cannot be phased, so (as
    in GENMOD and slivar) it gets the empty set and pairs with nothing in this child."""
    out = origins(fg, child, rows)
    father, mother = fg.family.parents(child)
    if father and mother:
        out[fg.carrier(father.sample)[rows] & fg.carrier(mother.sample)[rows]] = 0
    return out


def _pair_labels(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inherited in trans possible, one-de-novo possible) for origin sets a x b (matrix).

    Two alleles from the same parent are in cis; two de novo alleles are not called AR_comp.
    """
    def has(x: np.ndarray, bit: int) -> np.ndarray:
        return (x & bit) > 0

    a, b = a[:, None], b[None, :]
    inherited = (has(a, PATERNAL) & has(b, MATERNAL)) | (has(a, MATERNAL) & has(b, PATERNAL))
    parent_a = has(a, PATERNAL | MATERNAL)
    parent_b = has(b, PATERNAL | MATERNAL)
    de_novo = (has(a, DE_NOVO) & parent_b) | (has(b, DE_NOVO) & parent_a)
    return inherited, de_novo


def _pair_matrices(affected: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                   unaffected: list[tuple[np.ndarray, np.ndarray | None]]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ok, inherited, de novo) for every pair of the given alleles (matrices), from each
    affected member's (het, no-call, phaseable origins) and each unaffected member's
    (carrier, origins or None). The diagonal is not excluded."""
    n = len(affected[0][0]) if affected else len(unaffected[0][0]) if unaffected else 0
    ok = np.ones((n, n), dtype=bool)
    inherited = np.ones_like(ok)
    de_novo = np.zeros_like(ok)
    for het, missing, orig in affected:
        both = het[:, None] & het[None, :]
        inh, dn = _pair_labels(orig, orig)
        ok &= (both & (inh | dn)) | missing[:, None] | missing[None, :]
        inherited &= inh | ~both
        de_novo |= dn & both
    for carrier, orig in unaffected:
        both = carrier[:, None] & carrier[None, :]
        if orig is not None:  # phased in cis (same single parent): still healthy
            a, b = orig[:, None], orig[None, :]
            both &= ~(np.isin(a, (PATERNAL, MATERNAL)) & (a == b))
        ok &= ~both
    return ok, inherited, de_novo


def _gene_entries(genes: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(candidate position, gene code) of every gene of every candidate, grouped by gene
    (candidates ascending within a gene); only genes with two or more candidates.

    Rows share their tuple objects (one per distinct gene set, see consequence._GeneSets), so
    the names are read once per distinct object."""
    values = genes.to_numpy(dtype=object)
    identity = np.fromiter(map(id, values), dtype=np.int64, count=len(values))
    _, first, which = np.unique(identity, return_index=True, return_inverse=True)
    distinct = values[first]
    lengths = np.fromiter(map(len, distinct), dtype=np.int64, count=len(distinct))
    names = [name for g in distinct for name in g]
    if not names:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    name_codes = pd.factorize(pd.Series(names, dtype=object))[0].astype(np.int64)
    starts = np.cumsum(lengths) - lengths
    # Per candidate: its distinct tuple's names.
    count = lengths[which]
    owner = np.repeat(np.arange(len(values), dtype=np.int64), count)
    offset = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    codes = name_codes[np.repeat(starts[which], count) + offset]
    order = np.argsort(codes, kind="stable")
    codes, owner = codes[order], owner[order]
    counts = np.bincount(codes)
    keep = counts[codes] > 1
    return owner[keep], codes[keep]


@dataclass
class CompoundPairs:
    """Compound-het pairs of one family: `row` and `mate` (table rows, one entry per pair and
    gene they share: duplicates possible), and the rows with an inherited pair (AR_comp) and
    with a pair holding one de novo allele (AR_comp_dn), ascending."""

    row: np.ndarray
    mate: np.ndarray
    inherited: np.ndarray
    de_novo: np.ndarray


# Pairs are formed for genes holding at most about this many (candidate x candidate) pairs
# at a time; a bigger gene goes alone.
PAIRS_PER_STEP = 1 << 22


def _state_codes(features: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate, the code (0..S-1) of its combination of (small, non-negative) feature
    values, and one candidate holding each combination."""
    n = len(features[0]) if features else 0
    state = np.zeros(n, dtype=np.int64)
    for values in features:
        state = state * 16 + values.astype(np.int64)
        if int(state.max(initial=0)) >= 1 << 55:
            state = pd.factorize(state)[0].astype(np.int64)
    _, representative, code = np.unique(state, return_index=True, return_inverse=True)
    return code.reshape(-1).astype(np.int64), representative


def compound_pairs(fg: FamilyGenotypes, rows: np.ndarray, genes: pd.Series) -> CompoundPairs:
    """Partners among candidate `rows`, grouped by gene; rows with an inherited pair (AR_comp)
    and rows with a pair holding one de novo allele (AR_comp_dn).

    `genes` gives, per candidate row (same order as `rows`), a tuple of gene symbols. Each
    candidate's genotype features (per member: het/carrier, no-call, origins) are reduced to
    one state code; the pair rules are evaluated once per pair of states (`_pair_matrices`),
    and the pairs inside each gene look their verdict up, so the work is linear in the
    candidates plus the pairs each gene holds.
    """
    fam = fg.family
    rows = np.asarray(rows, dtype=np.int64)
    affected = [
        (fg.het(a)[rows], fg.missing(a)[rows], phaseable_origins(fg, a, rows))
        for a in (i.sample for i in fam.affected)
    ]
    unaffected = []
    for u in (i.sample for i in fam.unaffected):
        orig = origins(fg, u, rows) if fam.parents(u) != (None, None) else None
        unaffected.append((fg.carrier(u)[rows], orig))
    empty = np.zeros(0, dtype=np.int64)
    entry, gene = _gene_entries(genes)
    if not len(entry) or not affected:
        return CompoundPairs(empty, empty, empty, empty)
    features = [f for het, missing, orig in affected for f in (het, missing, orig)]
    features += [f for carrier, orig in unaffected for f in (carrier, orig) if f is not None]
    state, rep = _state_codes(features)
    ok, inherited, de_novo = _pair_matrices(
        [(h[rep], m[rep], o[rep]) for h, m, o in affected],
        [(c[rep], None if o is None else o[rep]) for c, o in unaffected])
    n_states = len(rep)
    verdict = (ok.astype(np.int8) | (ok & inherited).astype(np.int8) << 1
               | (ok & de_novo).astype(np.int8) << 2).reshape(-1)
    # Genes (runs of `gene`) in steps of about PAIRS_PER_STEP pairs.
    bounds = np.flatnonzero(np.r_[True, gene[1:] != gene[:-1], True])
    sizes = np.diff(bounds)
    cumulative = np.cumsum(sizes * sizes)
    row_parts, mate_parts, inh_parts, dn_parts = [], [], [], []
    first = 0
    while first < len(sizes):
        done = int(cumulative[first - 1]) if first else 0
        last = max(first + 1, int(np.searchsorted(cumulative, done + PAIRS_PER_STEP,
                                                  side="right")))
        lo, hi = bounds[first], bounds[last]
        size = np.repeat(sizes[first:last], sizes[first:last])  # per entry: its gene's size
        start = np.repeat(bounds[first:last] - lo, sizes[first:last])
        left = np.repeat(np.arange(hi - lo), size)
        shift = np.repeat(np.cumsum(size) - size, size)
        right = np.repeat(start, size) + (np.arange(len(left)) - shift)
        a, b = entry[lo:hi][left], entry[lo:hi][right]
        v = verdict[state[a] * n_states + state[b]]
        keep = (v & 1).astype(bool) & (a != b)
        a, b, v = a[keep], b[keep], v[keep]
        row_parts.append(rows[a])
        mate_parts.append(rows[b])
        inh_parts.append(rows[a[(v & 2) > 0]])
        dn_parts.append(rows[a[(v & 4) > 0]])
        first = last
    return CompoundPairs(np.concatenate(row_parts), np.concatenate(mate_parts),
                         np.unique(np.concatenate(inh_parts)),
                         np.unique(np.concatenate(dn_parts)))
