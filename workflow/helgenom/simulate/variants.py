"""Population variation, the demo trio's haplotypes and the planted causal variants."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from helgenom.simulate.genome import (
    CHRM,
    CHRX,
    CODON_TABLE,
    COPY_GAIN,
    MITO_LHON_POSITION,
    N_CODE,
    TANDEM_DUPLICATION,
    WHOLE_GENE_DELETION,
    GeneModel,
    Interval,
    Reference,
    decode,
    encode,
    revcomp,
)

FATHER, MOTHER, PROBAND = "demo-father", "demo-mother", "demo-proband"
SAMPLES = (FATHER, MOTHER, PROBAND)
MALE = {FATHER: True, MOTHER: False, PROBAND: True}

# Background pool: each haplotype carries a variant about every HAPLOTYPE_SPACING bp.
HAPLOTYPE_SPACING = 1_200
INDEL_FRACTION = 0.10
COMMON_FRACTION = 0.85  # share of pool variants with AF in [0.01, 0.6]; the rest [0.001, 0.01]
PLANTED_FLANK = 300  # no background variant within this distance of a planted variant
RARE_IN_PLANTED_GENES = 0.05  # no background variant this rare in exons of planted genes
_MIN_SPACING = 10  # between background variants
_CROSSOVER_CLEARANCE = 5_000  # no crossover this close to a planted variant


@dataclass(frozen=True)
class Variant:
    """A sequence change in VCF style; ``pos`` is the 0-based position of REF's first base."""

    contig: str
    pos: int
    ref: str
    alt: str
    af: float = 0.0

    @property
    def end(self) -> int:
        return self.pos + len(self.ref)


@dataclass
class PlantedVariant:
    id: str
    type: str  # SNV, DEL or DUP
    variant: Variant
    gene: str
    consequence: str
    inheritance: str
    partner: str
    genotypes: dict[str, str]
    deletion: Interval | None = None  # deleted bases, for DEL
    duplication: Interval | None = None  # duplicated bases, for DUP (tandem: copy follows)
    heteroplasmy: dict[str, float] | None = None  # for MT: the share of chrM copies with it

    @property
    def sv(self) -> Interval | None:
        return self.deletion if self.deletion is not None else self.duplication

    @property
    def span(self) -> tuple[int, int]:
        if self.sv is not None:
            return self.sv.start - 1, self.sv.end
        return self.variant.pos, self.variant.end


@dataclass
class Haplotype:
    contig: str
    pool: np.ndarray  # bool, one per pool variant of this contig
    planted: list[Variant] = field(default_factory=list)
    # Reads drawn from it, relative to one nuclear haplotype: chrM molecules are many per cell.
    weight: float = 1.0


@dataclass
class Transmission:
    """Which parental haplotype (0/1) a gamete carries at a position: at most one crossover."""

    first: int
    crossover: int | None

    def source(self, pos: int) -> int:
        if self.crossover is None or pos < self.crossover:
            return self.first
        return 1 - self.first


@dataclass
class Trio:
    pool: dict[str, list[Variant]]  # contig -> sorted background variants
    haplotypes: dict[str, dict[str, list[Haplotype]]]  # sample -> contig -> haplotypes
    planted: list[PlantedVariant]

    def background_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for sample, by_contig in self.haplotypes.items():
            total = 0
            for haps in by_contig.values():
                total += int(np.logical_or.reduce([h.pool for h in haps]).sum())
            counts[sample] = total
        return counts


# --------------------------------------------------------------------------------------------
# Planted SNVs
# --------------------------------------------------------------------------------------------


def _codon_changes(gene: GeneModel, kind: str, min_edge: int = 12) -> list[tuple[int, str]]:
    """(CDS index, alternative base in transcript orientation) giving the wanted consequence."""
    cds = gene.cds_seq
    out: list[tuple[int, str]] = []
    for codon_index in range(1, len(cds) // 3 - 1):
        codon = cds[3 * codon_index : 3 * codon_index + 3]
        amino = CODON_TABLE[codon]
        for k in range(3):
            index = 3 * codon_index + k
            if gene.distance_to_exon_edge(gene.cds_genomic(index)) < min_edge:
                continue
            for base in "ACGT":
                if base == codon[k]:
                    continue
                new = CODON_TABLE[codon[:k] + base + codon[k + 1 :]]
                wanted = new == "*" if kind == "stop_gained" else new not in ("*", amino)
                if wanted:
                    out.append((index, base))
    return out


def _snv(reference: Reference, gene: GeneModel, index: int, tx_alt: str) -> Variant:
    pos = gene.cds_genomic(index)
    ref = reference.string(gene.contig, pos, pos + 1)
    alt = tx_alt if gene.strand == "+" else revcomp(tx_alt)
    expected_ref = gene.cds_seq[index] if gene.strand == "+" else revcomp(gene.cds_seq[index])
    assert ref == expected_ref, (gene.symbol, pos, ref, expected_ref)
    return Variant(gene.contig, pos, ref, alt)


def _pick_snv(
    rng: np.random.Generator,
    reference: Reference,
    gene: GeneModel,
    kind: str,
    rank_filter: range | None = None,
) -> Variant:
    candidates = _codon_changes(gene, kind)
    if rank_filter is not None:
        candidates = [
            c for c in candidates if gene.exon_rank(gene.cds_genomic(c[0])) in rank_filter
        ]
    if not candidates:
        raise RuntimeError(f"no {kind} site available in {gene.symbol}")
    index, base = candidates[int(rng.integers(len(candidates)))]
    return _snv(reference, gene, index, base)


def _deletion_variant(reference: Reference, deletion: Interval) -> Variant:
    anchor = deletion.start - 1
    return Variant(
        deletion.contig,
        anchor,
        reference.string(deletion.contig, anchor, deletion.end),
        reference.string(deletion.contig, anchor, anchor + 1),
    )


def _duplication_variant(reference: Reference, dup: Interval) -> Variant:
    """A tandem duplication as an insertion of the copy right after the original."""
    anchor = dup.end - 1
    base = reference.string(dup.contig, anchor, dup.end)
    copy = reference.string(dup.contig, dup.start, dup.end)
    return Variant(dup.contig, anchor, base, base + copy)


def plant_variants(rng: np.random.Generator, reference: Reference) -> list[PlantedVariant]:
    """Choose the causal variants (sites and alleles); genotypes are the intended ones."""
    scn2a, ush2a = reference.gene("SCN2A"), reference.gene("USH2A")
    alms1, otc = reference.gene("ALMS1"), reference.gene("OTC")
    het, ref_gt = "0/1", "0/0"

    # USH2A: maternal missense in an earlier exon than the paternal stop (transcript order),
    # so a phase-naive annotator never sees the missense downstream of the premature stop.
    stop_ranks = {
        ush2a.exon_rank(ush2a.cds_genomic(i)) for i, _ in _codon_changes(ush2a, "stop_gained")
    }
    if not stop_ranks or max(stop_ranks) < 2:
        raise RuntimeError("USH2A has no stop_gained site beyond its first exon")
    ush2a_mis = _pick_snv(rng, reference, ush2a, "missense", range(1, max(stop_ranks)))
    mis_rank = ush2a.exon_rank(ush2a_mis.pos)
    ush2a_stop = _pick_snv(
        rng, reference, ush2a, "stop_gained", range(mis_rank + 1, len(ush2a.exons) + 1)
    )

    planted = [
        PlantedVariant(
            "SCN2A_missense_dn",
            "SNV",
            _pick_snv(rng, reference, scn2a, "missense"),
            "SCN2A",
            "missense",
            "AD_dn",
            ".",
            {FATHER: ref_gt, MOTHER: ref_gt, PROBAND: het},
        ),
        PlantedVariant(
            "USH2A_stop_pat",
            "SNV",
            ush2a_stop,
            "USH2A",
            "stop_gained",
            "AR_comp",
            "USH2A_missense_mat",
            {FATHER: het, MOTHER: ref_gt, PROBAND: het},
        ),
        PlantedVariant(
            "USH2A_missense_mat",
            "SNV",
            ush2a_mis,
            "USH2A",
            "missense",
            "AR_comp",
            "USH2A_stop_pat",
            {FATHER: ref_gt, MOTHER: het, PROBAND: het},
        ),
        PlantedVariant(
            "ALMS1_stop_hom",
            "SNV",
            _pick_snv(rng, reference, alms1, "stop_gained"),
            "ALMS1",
            "stop_gained",
            "AR_hom",
            ".",
            {FATHER: het, MOTHER: het, PROBAND: "1/1"},
        ),
        PlantedVariant(
            "OTC_missense_xr",
            "SNV",
            _pick_snv(rng, reference, otc, "missense"),
            "OTC",
            "missense",
            "XR",
            ".",
            {FATHER: "0", MOTHER: het, PROBAND: "1"},
        ),
    ]
    pat_del = reference.deletions["DEL_chr1_pat"]
    dn_del = reference.deletions["NRXN1_del_dn"]
    planted += [
        PlantedVariant(
            "DEL_chr1_pat",
            "DEL",
            _deletion_variant(reference, pat_del),
            ".",
            ".",
            "inherited_paternal",
            ".",
            {FATHER: het, MOTHER: ref_gt, PROBAND: het},
            pat_del,
        ),
        PlantedVariant(
            "NRXN1_del_dn",
            "DEL",
            _deletion_variant(reference, dn_del),
            "NRXN1",
            ".",
            "de_novo",
            ".",
            {FATHER: ref_gt, MOTHER: ref_gt, PROBAND: het},
            dn_del,
        ),
    ]
    # Drawn after the planted variants above, so adding them left those unchanged.
    planted += _more_structural_variants(rng, reference)
    order = {c: i for i, c in enumerate(reference.contigs)}
    planted.sort(key=lambda p: (order[p.variant.contig], p.variant.pos))
    return planted


def _more_structural_variants(
    rng: np.random.Generator, reference: Reference
) -> list[PlantedVariant]:
    """The whole-gene deletion in trans with a paternal missense of the same gene, the exon
    duplication (de novo) and the copy-number gain (paternal), when the genome holds them."""
    het, ref_gt = "0/1", "0/0"
    out: list[PlantedVariant] = []
    wgd = reference.deletions.get(WHOLE_GENE_DELETION[0])
    if wgd is not None:
        symbol = WHOLE_GENE_DELETION[1]
        snv_id = f"{symbol}_missense_pat"
        out += [
            PlantedVariant(
                WHOLE_GENE_DELETION[0],
                "DEL",
                _deletion_variant(reference, wgd),
                symbol,
                "transcript_ablation",
                "AR_comp",
                snv_id,
                {FATHER: ref_gt, MOTHER: het, PROBAND: het},
                wgd,
            ),
            # The proband's only copy of the gene carries it: it is called homozygous.
            PlantedVariant(
                snv_id,
                "SNV",
                _pick_snv(rng, reference, reference.gene(symbol), "missense"),
                symbol,
                "missense",
                "AR_comp",
                WHOLE_GENE_DELETION[0],
                {FATHER: het, MOTHER: ref_gt, PROBAND: "1/1"},
            ),
        ]
    for (name, symbol), genotypes, inheritance in (
        (TANDEM_DUPLICATION, {FATHER: ref_gt, MOTHER: ref_gt, PROBAND: het}, "de_novo"),
        (COPY_GAIN, {FATHER: het, MOTHER: ref_gt, PROBAND: het}, "inherited_paternal"),
    ):
        dup = reference.duplications.get(name)
        if dup is not None:
            out.append(
                PlantedVariant(
                    name,
                    "DUP",
                    _duplication_variant(reference, dup),
                    symbol,
                    ".",
                    inheritance,
                    ".",
                    genotypes,
                    duplication=dup,
                )
            )
    return out


# --------------------------------------------------------------------------------------------
# Background pool
# --------------------------------------------------------------------------------------------


def _mean_af() -> float:
    def loguniform_mean(lo: float, hi: float) -> float:
        return (hi - lo) / math.log(hi / lo)

    return COMMON_FRACTION * loguniform_mean(0.01, 0.6) + (1 - COMMON_FRACTION) * loguniform_mean(
        0.001, 0.01
    )


def _draw_afs(rng: np.random.Generator, n: int) -> np.ndarray:
    common = rng.random(n) < COMMON_FRACTION
    lo = np.where(common, math.log(0.01), math.log(0.001))
    hi = np.where(common, math.log(0.6), math.log(0.01))
    return np.exp(lo + rng.random(n) * (hi - lo))


def _eligible_mask(
    reference: Reference, contig: str, planted: list[PlantedVariant]
) -> tuple[np.ndarray, np.ndarray]:
    """(positions where background variants may fall, positions in planted-gene exons)."""
    seq = reference.contigs[contig]
    mask = seq != N_CODE
    mask[:200] = False
    mask[-200:] = False
    for region in reference.protected():
        if region.contig == contig:
            mask[max(0, region.start - PLANTED_FLANK) : region.end + PLANTED_FLANK] = False
    for p in planted:
        if p.variant.contig == contig:
            start, end = p.span
            mask[max(0, start - PLANTED_FLANK) : end + PLANTED_FLANK] = False
    exonic = np.zeros(seq.size, dtype=bool)
    planted_genes = {p.gene for p in planted}
    for gene in reference.genes:
        if gene.contig == contig and gene.symbol in planted_genes:
            for start, end in gene.exons:
                exonic[max(0, start - 20) : end + 20] = True
    return mask, exonic


def _left_align_deletion(seq: str, start: int, end: int) -> tuple[int, int]:
    """Shift the deleted interval [start, end) left while the sequence allows it."""
    while start > 1 and seq[start - 1] == seq[end - 1]:
        start -= 1
        end -= 1
    return start, end


def _left_align_insertion(seq: str, anchor: int, inserted: str) -> tuple[int, str]:
    while anchor >= 1 and seq[anchor] == inserted[-1]:
        inserted = seq[anchor] + inserted[:-1]
        anchor -= 1
    return anchor, inserted


_TRANSITION = {"A": "G", "G": "A", "C": "T", "T": "C"}


def _pool_for_contig(
    rng: np.random.Generator, reference: Reference, contig: str, planted: list[PlantedVariant]
) -> list[Variant]:
    seq = reference.string(contig, 0, reference.lengths[contig])
    mask, exonic = _eligible_mask(reference, contig, planted)
    target = round(int(mask.sum()) / HAPLOTYPE_SPACING / _mean_af())
    eligible = np.flatnonzero(mask)
    n_draw = min(eligible.size, int(target * 1.3) + 10)
    positions = rng.choice(eligible, size=n_draw, replace=False)
    afs = _draw_afs(rng, n_draw)
    kinds = rng.random(n_draw)
    lengths_weights = 1.0 / np.arange(1, 11) ** 1.5
    indel_lengths = rng.choice(
        np.arange(1, 11), size=n_draw, p=lengths_weights / lengths_weights.sum()
    )
    base_draws = rng.integers(0, 4, size=(n_draw, 10))
    snv_draws = rng.random(n_draw)

    taken = np.zeros(len(seq), dtype=bool)
    out: list[Variant] = []
    for i in range(n_draw):
        if len(out) >= target:
            break
        pos = int(positions[i])
        af = float(afs[i])
        if kinds[i] >= INDEL_FRACTION:
            ref = seq[pos]
            # transitions twice as likely as transversions (Ti/Tv ~ 2)
            transversions = [b for b in "ACGT" if b not in (ref, _TRANSITION[ref])]
            u = float(snv_draws[i])
            alt = _TRANSITION[ref] if u < 2 / 3 else transversions[int(u * 6) - 4]
            variant = Variant(contig, pos, ref, alt, af)
        elif kinds[i] < INDEL_FRACTION / 2:
            length = int(indel_lengths[i])
            start, end = _left_align_deletion(seq, pos + 1, pos + 1 + length)
            variant = Variant(contig, start - 1, seq[start - 1 : end], seq[start - 1], af)
        else:
            inserted = decode(base_draws[i, : int(indel_lengths[i])].astype(np.uint8))
            anchor, inserted = _left_align_insertion(seq, pos, inserted)
            variant = Variant(contig, anchor, seq[anchor], seq[anchor] + inserted, af)
        lo, hi = variant.pos, variant.end
        if hi > len(seq) or not mask[lo:hi].all():
            continue
        if af < RARE_IN_PLANTED_GENES and exonic[lo:hi].any():
            continue
        if taken[max(0, lo - _MIN_SPACING) : hi + _MIN_SPACING].any():
            continue
        taken[lo:hi] = True
        out.append(variant)
    out.sort(key=lambda v: v.pos)
    return out


# --------------------------------------------------------------------------------------------
# Trio
# --------------------------------------------------------------------------------------------


def _transmission(
    rng: np.random.Generator, length: int, avoid: list[tuple[int, int]]
) -> Transmission:
    first = int(rng.integers(0, 2))
    if rng.random() < 0.5:
        return Transmission(first, None)
    while True:
        pos = int(rng.integers(1, length))
        if all(not (a - _CROSSOVER_CLEARANCE <= pos < b + _CROSSOVER_CLEARANCE) for a, b in avoid):
            return Transmission(first, pos)


def _gamete(parent: list[Haplotype], transmission: Transmission, pool_pos: np.ndarray) -> Haplotype:
    a, b = parent[transmission.first], parent[1 - transmission.first]
    if transmission.crossover is None:
        pool = a.pool.copy()
    else:
        pool = np.where(pool_pos < transmission.crossover, a.pool, b.pool)
    planted = [
        v for h, hap in enumerate(parent) for v in hap.planted if transmission.source(v.pos) == h
    ]
    return Haplotype(a.contig, pool, planted)


def build_trio(rng: np.random.Generator, reference: Reference) -> Trio:
    planted = plant_variants(rng, reference)
    pool = {
        contig: _pool_for_contig(rng, reference, contig, planted) for contig in reference.contigs
    }

    haps: dict[str, dict[str, list[Haplotype]]] = {FATHER: {}, MOTHER: {}, PROBAND: {}}
    for sample in (FATHER, MOTHER):
        for contig, variants in pool.items():
            afs = np.array([v.af for v in variants])
            n_haps = 1 if contig == CHRX and MALE[sample] else 2
            haps[sample][contig] = [
                Haplotype(contig, rng.random(afs.size) < afs) for _ in range(n_haps)
            ]

    transmissions: dict[tuple[str, str], Transmission] = {}
    for contig, length in reference.lengths.items():
        avoid = [p.span for p in planted if p.variant.contig == contig]
        for parent in (FATHER, MOTHER):
            if contig == CHRX and MALE[parent]:
                continue  # a son gets no X from his father
            transmissions[(parent, contig)] = _transmission(rng, length, avoid)

    by_id = {p.id: p for p in planted}

    def give(parent: str, planted_id: str) -> None:
        v = by_id[planted_id].variant
        hap = transmissions[(parent, v.contig)].source(v.pos)
        haps[parent][v.contig][hap].planted.append(v)

    give(FATHER, "USH2A_stop_pat")
    give(MOTHER, "USH2A_missense_mat")
    give(FATHER, "ALMS1_stop_hom")
    give(MOTHER, "ALMS1_stop_hom")
    give(MOTHER, "OTC_missense_xr")
    give(FATHER, "DEL_chr1_pat")
    if WHOLE_GENE_DELETION[0] in by_id:
        give(FATHER, f"{WHOLE_GENE_DELETION[1]}_missense_pat")
        give(MOTHER, WHOLE_GENE_DELETION[0])
    if COPY_GAIN[0] in by_id:
        give(FATHER, COPY_GAIN[0])

    for contig, variants in pool.items():
        positions = np.array([v.pos for v in variants], dtype=np.int64)
        child = []
        for parent in (FATHER, MOTHER):
            key = (parent, contig)
            if key in transmissions:
                child.append(_gamete(haps[parent][contig], transmissions[key], positions))
        haps[PROBAND][contig] = child  # paternal first (autosomes), maternal last

    # de novo events: SCN2A SNV on the paternal chr2, NRXN1 deletion on the maternal chr2
    haps[PROBAND]["chr2"][0].planted.append(by_id["SCN2A_missense_dn"].variant)
    haps[PROBAND]["chr2"][1].planted.append(by_id["NRXN1_del_dn"].variant)
    if TANDEM_DUPLICATION[0] in by_id:
        dup = by_id[TANDEM_DUPLICATION[0]].variant
        haps[PROBAND][dup.contig][0].planted.append(dup)

    trio = Trio(pool, haps, planted)
    for p in planted:  # the haplotypes must realise the intended genotypes
        for sample in SAMPLES:
            observed = genotype(trio, sample, p.variant)
            assert observed == p.genotypes[sample], (p.id, sample, observed)
    return trio


# --------------------------------------------------------------------------------------------
# Mitochondria
# --------------------------------------------------------------------------------------------

# chrM copies per nuclear haplotype in the reads: chrM depth is MT_COPIES times the haploid
# (half the diploid) nuclear depth: ~175x at the demo's 25x (real WGS: 100x-1000x and more).
MT_COPIES = 14.0
MT_VARIANT_ID = "MT-ND4_missense_mat"
# The planted heteroplasmy (m.11778G>A-like, LHON): maternal, at a higher level in the son.
MT_HETEROPLASMY = {FATHER: 0.0, MOTHER: 0.10, PROBAND: 0.40}
# A haplogroup-like homoplasmic variant of the maternal line (as m.263A>G of most people
# against the rCRS): common in the population, outside the gene.
MT_HAPLOGROUP_POSITION = 263
MT_HAPLOGROUP_AF = 0.35


def mito_genotype(level: float) -> str:
    """The genotype of a chrM call (`helgenom mito-call`): 0 absent, 0/1 heteroplasmic, 1
    homoplasmic."""
    return "0" if level <= 0 else "1" if level >= 1 else "0/1"


def plant_mitochondrial(reference: Reference, trio: Trio) -> PlantedVariant:
    """chrM molecules of the trio (`trio.haplotypes[sample][CHRM]`, weighted to MT_COPIES):
    the father's without variants, the mother's and the proband's with the homoplasmic
    haplogroup variant (in `trio.pool`, with its population frequency), and the planted
    heteroplasmic MT-ND4 missense (`MT_HETEROPLASMY`) added to `trio.planted`. No random
    draws: every other file of the demo is as without it."""
    gene = reference.gene("MT-ND4")
    pos = MITO_LHON_POSITION - 1
    ref = reference.string(CHRM, pos, pos + 1)
    assert ref == "G", ref
    variant = Variant(CHRM, pos, ref, "A")
    hap_pos = MT_HAPLOGROUP_POSITION - 1
    hap_ref = reference.string(CHRM, hap_pos, hap_pos + 1)
    trio.pool[CHRM] = [Variant(CHRM, hap_pos, hap_ref, _TRANSITION[hap_ref], MT_HAPLOGROUP_AF)]
    planted = PlantedVariant(MT_VARIANT_ID, "MT", variant, gene.symbol, "missense", "MT", ".",
                             {s: mito_genotype(MT_HETEROPLASMY[s]) for s in SAMPLES},
                             heteroplasmy=dict(MT_HETEROPLASMY))
    for sample in SAMPLES:
        haplogroup = np.array([sample != FATHER])
        level = MT_HETEROPLASMY[sample]
        molecules = [Haplotype(CHRM, haplogroup.copy(), [variant], MT_COPIES * level),
                     Haplotype(CHRM, haplogroup.copy(), [], MT_COPIES * (1 - level))]
        trio.haplotypes[sample][CHRM] = [m for m in molecules if m.weight > 0]
    trio.planted.append(planted)
    return planted


def genotype(trio: Trio, sample: str, variant: Variant) -> str:
    """The genotype a caller reports: a copy lost to a planted deletion on the other
    haplotype leaves the remaining allele looking homozygous (hemizygous over a deletion)."""
    haps = trio.haplotypes[sample][variant.contig]
    alleles = [
        "1" if variant in h.planted else "0"
        for h in haps
        if variant in h.planted or not _deleted(h, variant)
    ]
    if len(haps) == 1:
        return alleles[0] if alleles else "."
    if len(alleles) == 1:
        alleles *= 2
    return "/".join(sorted(alleles))


def _deleted(hap: Haplotype, variant: Variant) -> bool:
    """Whether a planted deletion on ``hap`` removes the position of ``variant``."""
    return any(
        len(d.alt) == 1 and len(d.ref) > 1 and d.pos < variant.pos and variant.end <= d.end
        for d in hap.planted
    )


def haplotype_sequence(reference: Reference, trio: Trio, hap: Haplotype) -> np.ndarray:
    """The haplotype's sequence as a code array (background + planted changes applied)."""
    seq = reference.contigs[hap.contig]
    pool = trio.pool[hap.contig]
    variants = [pool[int(i)] for i in np.flatnonzero(hap.pool)] + hap.planted
    variants.sort(key=lambda v: v.pos)
    pieces: list[np.ndarray] = []
    cursor = 0
    for v in variants:
        assert v.pos >= cursor, ("overlapping variants", v)
        assert decode(seq[v.pos : v.end]) == v.ref, ("REF mismatch", v)
        pieces.append(seq[cursor : v.pos])
        pieces.append(encode(v.alt))
        cursor = v.end
    pieces.append(seq[cursor:])
    return np.concatenate(pieces)


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def _contig_header(reference: Reference) -> list[str]:
    return [f"##contig=<ID={name},length={n}>\n" for name, n in reference.lengths.items()]


def population_vcf_text(reference: Reference, trio: Trio) -> str:
    lines = [
        "##fileformat=VCFv4.2\n",
        "##source=helgenom-simulate\n",
        *_contig_header(reference),
        '##INFO=<ID=GNOMADAF,Number=A,Type=Float,Description="Population allele frequency '
        '(simulated gnomAD-like)">\n',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n",
    ]
    for contig in reference.contigs:
        for v in trio.pool[contig]:
            lines.append(
                f"{contig}\t{v.pos + 1}\t.\t{v.ref}\t{v.alt}\t.\tPASS\tGNOMADAF={v.af:.4g}\n"
            )
    return "".join(lines)


# Population SVs (gnomAD-SV style): (planted id or None, contig fraction, length, type, AF).
_POPULATION_SVS = (
    (COPY_GAIN[0], 0.0, 0, "DUP", 0.031),  # the gain is a known, common CNV
    ("DEL_chr1_pat", 0.0, 0, "DEL", 0.0021),
    (None, 0.12, 2_500, "DEL", 0.18),
    (None, 0.47, 4_000, "DUP", 0.012),
    (None, 0.83, 3_200, "DEL", 0.0004),
)


def population_sv_vcf_text(reference: Reference, trio: Trio) -> str:
    """Population SV frequencies: two of the family's SVs are known, the rest are elsewhere."""
    by_id = {p.id: p for p in trio.planted}
    records = []
    for planted_id, fraction, length, svtype, af in _POPULATION_SVS:
        if planted_id is not None:
            if planted_id not in by_id:
                continue
            sv = by_id[planted_id].sv
            assert sv is not None
            records.append((sv.contig, sv.start, sv.end, svtype, af))
        else:
            for contig in ("chr1", "chr2"):
                start = int(reference.lengths[contig] * fraction)
                records.append((contig, start, start + length, svtype, af))
    order = {c: i for i, c in enumerate(reference.contigs)}
    records.sort(key=lambda r: (order[r[0]], r[1]))
    lines = [
        "##fileformat=VCFv4.2\n",
        "##source=helgenom-simulate\n",
        *_contig_header(reference),
        '##ALT=<ID=DEL,Description="Deletion">\n',
        '##ALT=<ID=DUP,Description="Duplication">\n',
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of structural variant">\n',
        '##INFO=<ID=END,Number=1,Type=Integer,Description="End position of the variant">\n',
        '##INFO=<ID=SVLEN,Number=1,Type=Integer,Description="Length of the SV">\n',
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Population allele frequency '
        '(simulated gnomAD-SV-like)">\n',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n",
    ]
    for k, (contig, start, end, svtype, af) in enumerate(records, 1):
        svlen = end - start if svtype == "DUP" else start - end
        ref = reference.string(contig, start - 1, start)
        lines.append(
            f"{contig}\t{start}\tpopsv{k}\t{ref}\t<{svtype}>\t.\tPASS\t"
            f"SVTYPE={svtype};END={end};SVLEN={svlen};AF={af:g}\n"
        )
    return "".join(lines)


def truth_vcf_text(reference: Reference, planted: list[PlantedVariant]) -> str:
    lines = [
        "##fileformat=VCFv4.2\n",
        "##source=helgenom-simulate\n",
        *_contig_header(reference),
        '##INFO=<ID=GENE,Number=1,Type=String,Description="Gene carrying the planted variant">\n',
        '##INFO=<ID=EXPECTED_CSQ,Number=1,Type=String,Description="Expected bcftools csq '
        'consequence">\n',
        '##INFO=<ID=INHERITANCE,Number=1,Type=String,Description="Planted inheritance model">\n',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(SAMPLES) + "\n",
    ]
    for p in planted:
        if p.type not in ("SNV", "MT"):
            continue
        v = p.variant
        info = f"GENE={p.gene};EXPECTED_CSQ={p.consequence};INHERITANCE={p.inheritance}"
        gts = "\t".join(p.genotypes[s] for s in SAMPLES)
        lines.append(
            f"{v.contig}\t{v.pos + 1}\t{p.id}\t{v.ref}\t{v.alt}\t.\tPASS\t{info}\tGT\t{gts}\n"
        )
    return "".join(lines)


TRUTH_COLUMNS = (
    "id",
    "type",
    "chrom",
    "pos",
    "end",
    "ref",
    "alt",
    "gene",
    "consequence",
    "inheritance",
    "partner",
    *SAMPLES,
    "heteroplasmy",
)


def reference_base(p: PlantedVariant) -> str:
    """The REF base of a symbolic SV record: the base before the affected interval."""
    if p.deletion is not None:
        return p.variant.alt  # the deletion's anchor base
    return "N"


def heteroplasmy_text(p: PlantedVariant) -> str:
    """'sample:level,...' of an MT variant (as the candidate list's heteroplasmy column), '.'
    for the others."""
    if p.heteroplasmy is None:
        return "."
    return ",".join(f"{s}:{p.heteroplasmy[s]:g}" for s in SAMPLES)


def truth_tsv_text(planted: list[PlantedVariant]) -> str:
    rows = ["\t".join(TRUTH_COLUMNS)]
    for p in planted:
        v = p.variant
        if p.sv is not None:
            pos, end = p.sv.start, p.sv.end
            ref, alt = reference_base(p), f"<{p.type}>"
        else:
            pos, end, ref, alt = v.pos + 1, v.end, v.ref, v.alt
        fields = [
            p.id,
            p.type,
            v.contig,
            str(pos),
            str(end),
            ref,
            alt,
            p.gene,
            p.consequence,
            p.inheritance,
            p.partner,
            *(p.genotypes[s] for s in SAMPLES),
            heteroplasmy_text(p),
        ]
        rows.append("\t".join(fields))
    return "\n".join(rows) + "\n"
