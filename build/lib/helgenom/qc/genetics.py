"""Genotype-based QC estimators: kinship, Mendelian errors, de novo counts, contamination, sex.

All work on plain numpy arrays (genotype codes -1 no-call, 0 hom-ref, 1 het, 2 hom-alt, as
`helgenom.io.vcf` decodes them; allele depths; population allele frequencies), so that each is
unit-tested on hand-built inputs with known answers.

Kinship (KING-robust, Manichaikul et al. 2010, Bioinformatics 26:2867), over sites where both
samples are confidently called:

    phi_ij = (N_het,het - 2 N_opposite-hom) / (N_het_i + N_het_j)

Identical samples or monozygotic twins give 0.5, parent-child and full siblings 0.25, second-
degree relatives 0.125, unrelated ~0 (negative for different ancestries). Sites where both are
hom-ref add nothing, so a variant-only VCF loses nothing. The within-family form assumes both
samples come from one homogeneous population; with few sites (the demo: a few hundred) the
estimate scatters by about +-0.03.

Contamination: a maximum-likelihood mixture of the sample's genome (fraction 1 - c) and one
unrelated genome of the same population (fraction c), fitted to the allele depths at called
autosomal SNVs with a known population allele frequency p (the model of VerifyBamID's
"freemix", Jun et al. 2012, AJHG 91:839; CHARR, Lu et al. 2023, uses the same idea restricted
to hom-alt sites). Per site, with r ref and a alt reads,

    L_site(c) = sum_{g,h in 0..2} P(g) P(h) q^a (1 - q)^r,   q = e + (1 - 2e) ((1-c) g/2 + c h/2)

with Hardy-Weinberg P(g) = P(h) = binomial(2, p) and a read error rate e that turns one allele
into the other; (c, e) maximise sum log L_site, c in [0, 0.5] (errors add stray reads at every
site, contamination in proportion to p or 1 - p, which separates the two). Unlike counting
reference reads at called hom-alt sites (CHARR), it does not depend on the caller's genotypes,
which at 10% contamination and 25x already call many contaminated hom-alt sites het and hide
them.
Assumptions: the contaminant is unrelated (a relative shares alleles and is underestimated,
by about half for a first-degree relative), of the same population as the AF source, and the
sites are not enriched for sites the contamination itself made variant. Limits: at low depth
each site carries less information; the 95% likelihood interval is reported with the estimate,
and fewer than `min_sites` usable sites give no estimate.

Sex: chrX/autosome depth ratio (about 0.5 in males, 1.0 in females), the fraction of chrX
(non-PAR) alt-carrying sites whose allele balance looks heterozygous (from allele depths, so
that haploid calls in declared males do not hide a second X), and the chrY/autosome depth ratio
when the reference has a chrY.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from helgenom.sheets.pedigree import Family

# KING's degree boundaries (Manichaikul et al. 2010): 2^-1.5, 2^-2.5, 2^-3.5, 2^-4.5
KING_DEGREES = ((0.354, "duplicate or MZ twin"), (0.177, "first-degree"),
                (0.0884, "second-degree"), (0.0442, "third-degree"))


# ---------------------------------------------------------------------------------------------
# Kinship
# ---------------------------------------------------------------------------------------------


def king_kinship(gt_i: np.ndarray, gt_j: np.ndarray) -> tuple[float, int]:
    """KING-robust kinship and the number of sites used (both called: codes >= 0)."""
    both = (gt_i >= 0) & (gt_j >= 0)
    a, b = gt_i[both], gt_j[both]
    het_i, het_j = int((a == 1).sum()), int((b == 1).sum())
    if het_i + het_j == 0:
        return float("nan"), int(both.sum())
    het_het = int(((a == 1) & (b == 1)).sum())
    opposite = int((np.abs(a.astype(np.int16) - b) == 2).sum())
    return (het_het - 2 * opposite) / (het_i + het_j), int(both.sum())


def king_degree(kinship: float) -> str:
    for bound, label in KING_DEGREES:
        if kinship >= bound:
            return label
    return "unrelated"


def expected_kinship(family: Family) -> dict[tuple[str, str], float]:
    """Kinship coefficients implied by the pedigree for every pair of members (founders
    unrelated; parents named but not members count as unrelated founders)."""
    by_id = family.by_id
    order: list[str] = []

    def place(sample: str) -> None:  # parents before children
        if sample in order:
            return
        for parent in (by_id[sample].father, by_id[sample].mother):
            if parent in by_id:
                place(parent)
        order.append(sample)

    for member in family.members:
        place(member.sample)
    rank = {s: i for i, s in enumerate(order)}
    memo: dict[tuple[str, str], float] = {}

    def phi(a: str | None, b: str | None) -> float:
        if a not in by_id or b not in by_id:
            return 0.0
        if rank[a] < rank[b]:
            a, b = b, a  # a is not an ancestor of b
        if (a, b) not in memo:
            father, mother = by_id[a].father, by_id[a].mother
            memo[(a, b)] = (0.5 * (1 + phi(father, mother)) if a == b
                            else 0.5 * (phi(father, b) + phi(mother, b)))
        return memo[(a, b)]

    samples = [m.sample for m in family.members]
    return {(a, b): phi(a, b) for k, a in enumerate(samples) for b in samples[k + 1:]}


def relationship(family: Family, a: str, b: str, kinship: float) -> str:
    """A name for the declared relationship of two members with expected `kinship`."""
    by_id = family.by_id

    def parents(sample: str | None) -> set[str]:
        ind = by_id.get(sample or "")
        return {p for p in (ind.father, ind.mother) if p} if ind else set()

    if a in parents(b) or b in parents(a):
        return "parent-child"
    shared = parents(a) & parents(b)
    if shared:
        return "full siblings" if len(shared) == 2 else "half-siblings"
    if any(b in parents(p) for p in parents(a)) or any(a in parents(p) for p in parents(b)):
        return "grandparent-grandchild"
    return "unrelated" if kinship == 0 else f"{king_degree(kinship)} relatives"


# ---------------------------------------------------------------------------------------------
# Mendelian errors and de novo candidates
# ---------------------------------------------------------------------------------------------

# Alt alleles a parent of each genotype code can transmit; a missing parent may give either.
_TRANSMITS = {0: (0,), 1: (0, 1), 2: (1,)}


def mendelian_errors(child: np.ndarray, father: np.ndarray | None,
                     mother: np.ndarray | None) -> np.ndarray:
    """Per site: True where the child's genotype cannot come from the parents' (autosomal,
    diploid codes; a missing parent, None, constrains nothing). Sites with a no-call in a
    given member are False; the caller masks them out."""
    possible = np.zeros((3, child.size), dtype=bool)  # child alt count 0/1/2 possible?
    pat = np.ones((2, child.size), dtype=bool) if father is None else _allowed(father)
    mat = np.ones((2, child.size), dtype=bool) if mother is None else _allowed(mother)
    for x in (0, 1):
        for y in (0, 1):
            possible[x + y] |= pat[x] & mat[y]
    called = child >= 0
    ok = np.zeros(child.size, dtype=bool)
    ok[called] = possible[child[called], np.flatnonzero(called)]
    return called & ~ok


def _allowed(parent: np.ndarray) -> np.ndarray:
    """(2, n): can the parent transmit allele 0 / allele 1 at each site."""
    allowed = np.ones((2, parent.size), dtype=bool)
    for code, alleles in _TRANSMITS.items():
        rows = parent == code
        for allele in (0, 1):
            if allele not in alleles:
                allowed[allele, rows] = False
    return allowed


def de_novo_candidates(child: np.ndarray, father: np.ndarray, mother: np.ndarray,
                       child_ab: np.ndarray, parent_alt: np.ndarray,
                       ab_range: tuple[float, float] = (0.2, 0.8)) -> np.ndarray:
    """Child het with a balanced allele ratio, both parents hom-ref without alt reads."""
    lo, hi = ab_range
    with np.errstate(invalid="ignore"):
        balanced = (child_ab >= lo) & (child_ab <= hi)
    return (child == 1) & (father == 0) & (mother == 0) & balanced & (parent_alt == 0)


# ---------------------------------------------------------------------------------------------
# Contamination
# ---------------------------------------------------------------------------------------------


@dataclass
class Contamination:
    estimate: float  # NaN when not estimable
    low: float  # 95% likelihood interval
    high: float
    sites: int
    error: float  # fitted read error rate


ERROR_RATES = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02)
MAX_DEPTH_FACTOR = 3.0  # sites deeper than this times the median depth are left out


def contamination(ref: np.ndarray, alt: np.ndarray, af: np.ndarray, min_sites: int = 50,
                  max_sites: int = 20_000) -> Contamination:
    """Maximum-likelihood contamination fraction (see the module docstring).

    `ref`, `alt`: the sample's allele depths per site; `af`: population alt allele frequency.
    Sites without depth, deeper than MAX_DEPTH_FACTOR x the median, or with AF outside (0, 1)
    are ignored; more than `max_sites` are thinned evenly (deterministic). The read error rate
    is fitted jointly (on a grid): errors add the same stray reads at every site, contamination
    adds stray alt reads in proportion to p at hom-ref sites and stray ref reads in proportion
    to 1 - p at hom-alt sites.
    """
    depth = ref + alt
    use = (depth > 0) & (af > 0) & (af < 1) & np.isfinite(depth)
    if use.any():  # collapsed repeats pile up mismapped reads that look like contamination
        use &= depth <= MAX_DEPTH_FACTOR * np.median(depth[use])
    idx = np.flatnonzero(use)
    if idx.size > max_sites:
        idx = idx[np.linspace(0, idx.size - 1, max_sites).astype(int)]
    if idx.size < min_sites:
        nan = float("nan")
        return Contamination(nan, nan, nan, int(idx.size), nan)
    r, a, p = ref[idx], alt[idx], af[idx]
    # log P(genotype with 0/1/2 alt alleles) under Hardy-Weinberg
    log_hwe = np.log(np.stack([(1 - p) ** 2, 2 * p * (1 - p), p**2]))

    def loglik(c: float, error: float) -> float:
        terms = np.stack([
            log_hwe[g] + log_hwe[h] + a * np.log(q) + r * np.log1p(-q)
            for g in range(3) for h in range(3)
            for q in [error + (1 - 2 * error) * ((1 - c) * g / 2 + c * h / 2)]])
        top = terms.max(axis=0)  # log-sum-exp: deep sites do not underflow
        return float((top + np.log(np.exp(terms - top).sum(axis=0))).sum())

    # coarse grid over (c, error), then a fine c grid at the best error rate
    coarse = [(loglik(c, e), c, e) for c in np.linspace(0.0, 0.5, 51) for e in ERROR_RATES]
    _, best, error = max(coarse)
    fine = np.unique(np.clip(np.round(np.arange(best - 0.02, best + 0.0205, 0.001), 6), 0, 0.5))
    values = np.array([loglik(c, error) for c in fine])
    top = int(np.argmax(values))
    inside = fine[values >= values[top] - 1.92]  # chi2(1) 95% / 2
    return Contamination(float(fine[top]), float(inside.min()), float(inside.max()),
                         int(idx.size), error)


# ---------------------------------------------------------------------------------------------
# Sex
# ---------------------------------------------------------------------------------------------


@dataclass
class SexEvidence:
    x_ratio: float  # chrX (non-PAR) / autosomal depth
    x_het: float  # het-looking fraction of chrX alt-carrying sites (NaN: too few sites)
    x_sites: int
    y_ratio: float | None  # None: no chrY in the reference

    def describe(self) -> str:
        parts = [f"chrX/autosome depth {self.x_ratio:.2f}"]
        if not np.isnan(self.x_het):
            parts.append(f"chrX het fraction {self.x_het:.3f} of {self.x_sites} sites")
        if self.y_ratio is not None:
            parts.append(f"chrY/autosome depth {self.y_ratio:.3f}")
        return ", ".join(parts)


def x_heterozygosity(ref: np.ndarray, alt: np.ndarray, min_dp: int,
                     ab_range: tuple[float, float] = (0.2, 0.8)) -> tuple[float, int]:
    """Fraction of alt-carrying sites (alt fraction >= the lower bound, depth >= min_dp) whose
    alt fraction is within `ab_range`, and the number of alt-carrying sites."""
    depth = ref + alt
    with np.errstate(invalid="ignore", divide="ignore"):
        ab = np.where(depth > 0, alt / depth, np.nan)
    carrying = (depth >= min_dp) & (ab >= ab_range[0])
    n = int(carrying.sum())
    het = int((carrying & (ab <= ab_range[1])).sum())
    return (het / n if n else float("nan")), n


def infer_sex(evidence: SexEvidence, rules: Mapping[str, float]) -> str:
    """'male', 'female' or 'ambiguous' (conflicting or in-between evidence).

    `rules`: male_max_x_ratio, female_min_x_ratio, male_max_x_het, female_min_x_het,
    min_x_sites, male_min_y_ratio, female_max_y_ratio.
    """
    def level(value: float | None, low: float, high: float) -> str | None:
        """'low' at or below `low`, 'high' at or above `high`, '?' between; None: no data."""
        if value is None or np.isnan(value):
            return None
        return "low" if value <= low else "high" if value >= high else "?"

    x = level(evidence.x_ratio, rules["male_max_x_ratio"], rules["female_min_x_ratio"])
    het = (level(evidence.x_het, rules["male_max_x_het"], rules["female_min_x_het"])
           if evidence.x_sites >= rules["min_x_sites"] else None)
    y = level(evidence.y_ratio, rules["female_max_y_ratio"], rules["male_min_y_ratio"])
    if x == "low" and het in (None, "low") and y in (None, "high"):
        return "male"
    if x == "high" and het in (None, "high") and y in (None, "low"):
        return "female"
    return "ambiguous"
