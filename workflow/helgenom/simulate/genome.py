"""Synthetic reference genome and gene models for `helgenom simulate`.

Sequences are held as numpy ``uint8`` code arrays (0=A, 1=C, 2=G, 3=T, 4=N) so that the
read simulator can gather from them without conversions. Everything here is driven by one
``numpy.random.Generator``; the same generator state always yields the same genome.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# --------------------------------------------------------------------------------------------
# Sequence helpers
# --------------------------------------------------------------------------------------------

BASES = "ACGTN"
N_CODE = 4
_ASCII = np.frombuffer(b"ACGTN", dtype=np.uint8)
_ENCODE = np.full(256, N_CODE, dtype=np.uint8)
for _code, _base in enumerate(BASES):
    _ENCODE[ord(_base)] = _code
    _ENCODE[ord(_base.lower())] = _code
# complement of a code: A<->T, C<->G, N->N
COMPLEMENT = np.array([3, 2, 1, 0, 4], dtype=np.uint8)


def encode(seq: str) -> np.ndarray:
    """DNA string -> code array."""
    return _ENCODE[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]


def decode(codes: np.ndarray) -> str:
    """Code array -> DNA string."""
    return _ASCII[codes].tobytes().decode("ascii")


def to_ascii(codes: np.ndarray) -> np.ndarray:
    """Code array -> ASCII byte array of the same shape."""
    return _ASCII[codes]


def revcomp_codes(codes: np.ndarray) -> np.ndarray:
    return COMPLEMENT[codes[::-1]]


def revcomp(seq: str) -> str:
    return decode(revcomp_codes(encode(seq)))


# Standard genetic code, codons in TCAG order.
CODON_TABLE: dict[str, str] = {}
_ORDER = "TCAG"
_AMINO = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
for _i, _a in enumerate(_ORDER):
    for _j, _b in enumerate(_ORDER):
        for _k, _c in enumerate(_ORDER):
            CODON_TABLE[_a + _b + _c] = _AMINO[16 * _i + 4 * _j + _k]
STOP_CODONS = tuple(c for c in sorted(CODON_TABLE) if CODON_TABLE[c] == "*")
SENSE_CODONS = tuple(c for c in sorted(CODON_TABLE) if CODON_TABLE[c] != "*")


# --------------------------------------------------------------------------------------------
# Catalogue
# --------------------------------------------------------------------------------------------

CONTIG_FRACTIONS: tuple[tuple[str, float], ...] = (("chr1", 0.45), ("chr2", 0.30), ("chrX", 0.25))
CHRX = "chrX"

# Genes that carry planted causal variants, on their real chromosomes.
PLANTED_GENES: dict[str, str] = {
    "USH2A": "chr1",
    "SCN2A": "chr2",
    "ALMS1": "chr2",
    "NRXN1": "chr2",
    "OTC": "chrX",
}
# Filler genes (real disease genes on their real chromosomes, none seizure-related).
FILLER_GENES: dict[str, tuple[str, ...]] = {
    "chr1": ("LMNA", "RYR2", "NOTCH2", "CFH", "MUTYH", "DPYD", "F5"),
    "chr2": ("TTN", "COL4A3", "MSH2", "BMPR2"),
    "chrX": ("DMD", "F8", "GLA", "ABCD1"),
}

# HGNC IDs of the genes' symbols (the real genes'), written into the GFF3 gene descriptions as
# Ensembl writes them, so that tools keyed on HGNC IDs (Scout) know the genes.
HGNC_IDS: dict[str, int] = {
    "USH2A": 12601, "SCN2A": 10588, "ALMS1": 428, "NRXN1": 8008, "OTC": 8512,
    "LMNA": 6636, "RYR2": 10484, "NOTCH2": 7882, "CFH": 4883, "MUTYH": 7527, "DPYD": 3012,
    "F5": 3542, "TTN": 12403, "COL4A3": 2204, "MSH2": 7325, "BMPR2": 1078, "DMD": 2928,
    "F8": 3546, "GLA": 4296, "ABCD1": 61, "MT-ND4": 7459,
}
# Ensembl-style identifiers of the simulated models: ENSG99..., ENST99..., ENSP99..., ENSE99...
# (the 99 keeps them apart from real Ensembl IDs: these models are not the real genes').
ID_PREFIX = "99"

# The mitochondrial genome, last in the FASTA: a random sequence of the rCRS's length with one
# protein-coding gene, MT-ND4, at the rCRS's coordinates (1-based, inclusive; the model is its
# CDS, one exon on the + strand, completed to a whole stop codon). bcftools csq up to 1.21
# translates every contig with the standard code (--genetic-code came in 1.22), so the model's
# CDS holds no codon whose meaning differs in the vertebrate mitochondrial code (TGA, AGA, AGG,
# ATA) and ends in TAA or TAG (stops in both): any translation then agrees with the real one.
CHRM = "chrM"
MITO_LENGTH = 16_569
MITO_GC = 0.44
MITO_GENE = ("MT-ND4", 10_760, 12_136)
MITO_DIFFERENT_CODONS = frozenset({"TGA", "AGA", "AGG", "ATA"})
# The LHON site m.11778G>A (MT-ND4 p.Arg340His): its codon is made CGC, so the planted G>A
# at 11778 (the codon's second base) is the same missense change as the real one.
MITO_LHON_POSITION = 11_778
MITO_LHON_CODON = "CGC"

N_GAP_LENGTH = 5_000
SEGDUP_LENGTH = 8_000
SEGDUP_DIVERGENCE = 0.015
REPEAT_UNIT_LENGTH = 300
MIN_SIZE_MB = 0.2

# minimal spacing between laid-out features, and from the contig ends
_FEATURE_GAP = 1_500
_CONTIG_EDGE = 2_000


# --------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """Half-open 0-based interval on a contig."""

    contig: str
    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start


@dataclass
class GeneDesign:
    """Exon/intron structure in transcript orientation, before placement."""

    symbol: str
    contig: str
    exon_lengths: list[int]
    intron_lengths: list[int]
    utr5: int
    utr3: int

    @property
    def length(self) -> int:
        return sum(self.exon_lengths) + sum(self.intron_lengths)

    @property
    def cds_length(self) -> int:
        return sum(self.exon_lengths) - self.utr5 - self.utr3


@dataclass
class GeneModel:
    """A placed protein-coding gene with one transcript."""

    symbol: str
    contig: str
    strand: str
    start: int  # 0-based, inclusive
    end: int  # 0-based, exclusive
    number: int  # 1-based serial for the ENSG/ENST/ENSP identifiers
    exons: list[tuple[int, int]]  # genomic half-open, transcript order
    cds: list[tuple[int, int]]  # genomic half-open, transcript order
    mrna: str = ""  # spliced transcript sequence (5'UTR + CDS + 3'UTR)
    utr5: int = 0
    cds_len: int = 0

    @property
    def gene_id(self) -> str:
        return f"ENSG{ID_PREFIX}{self.number:09d}"

    @property
    def transcript_id(self) -> str:
        return f"ENST{ID_PREFIX}{self.number:09d}"

    @property
    def protein_id(self) -> str:
        return f"ENSP{ID_PREFIX}{self.number:09d}"

    def exon_id(self, rank: int) -> str:
        return f"ENSE{ID_PREFIX}{self.number:07d}{rank:02d}"

    @property
    def cds_seq(self) -> str:
        return self.mrna[self.utr5 : self.utr5 + self.cds_len]

    def cds_genomic(self, index: int) -> int:
        """Genomic 0-based position of CDS base ``index`` (transcript orientation)."""
        remaining = index
        for start, end in self.cds:
            size = end - start
            if remaining < size:
                return start + remaining if self.strand == "+" else end - 1 - remaining
            remaining -= size
        raise IndexError(index)

    def exon_rank(self, genomic_pos: int) -> int:
        """1-based transcript-order rank of the exon containing ``genomic_pos`` (0 if none)."""
        for rank, (start, end) in enumerate(self.exons, 1):
            if start <= genomic_pos < end:
                return rank
        return 0

    def distance_to_exon_edge(self, genomic_pos: int) -> int:
        for start, end in self.exons:
            if start <= genomic_pos < end:
                return min(genomic_pos - start, end - 1 - genomic_pos)
        return -1


@dataclass
class Reference:
    contigs: dict[str, np.ndarray]
    genes: list[GeneModel]
    n_gap: Interval
    segdup_source: Interval
    segdup_copy: Interval
    # planted deletions: name -> deleted bases (half-open, 0-based)
    deletions: dict[str, Interval] = field(default_factory=dict)
    # planted tandem duplications: name -> duplicated bases (the copy follows the original)
    duplications: dict[str, Interval] = field(default_factory=dict)

    @property
    def lengths(self) -> dict[str, int]:
        return {name: int(seq.size) for name, seq in self.contigs.items()}

    def gene(self, symbol: str) -> GeneModel:
        for gene in self.genes:
            if gene.symbol == symbol:
                return gene
        raise KeyError(symbol)

    def string(self, contig: str, start: int, end: int) -> str:
        return decode(self.contigs[contig][start:end])

    def protected(self) -> list[Interval]:
        """Regions in which nothing planted and no background variant may fall."""
        return [self.n_gap, self.segdup_source, self.segdup_copy]


# --------------------------------------------------------------------------------------------
# Gene design
# --------------------------------------------------------------------------------------------


def _design_gene(rng: np.random.Generator, symbol: str, contig: str, size_mb: float) -> GeneDesign:
    """Exon/intron sizes; introns are shorter in very small genomes so that everything fits."""
    planted = symbol in PLANTED_GENES
    if symbol == "NRXN1":
        n_exons = 6
    elif planted:
        n_exons = int(rng.integers(4, 9))
    else:
        n_exons = int(rng.integers(3, 9))
    exon_lengths = [int(x) for x in rng.integers(70, 250, size=n_exons)]
    utr5 = int(rng.integers(40, 120))
    utr3 = int(rng.integers(100, 300))
    exon_lengths[0] = utr5 + int(rng.integers(40, 160))
    exon_lengths[-1] = utr3 + int(rng.integers(40, 160))
    if symbol == "NRXN1":
        introns = [int(x) for x in rng.integers(1_800, 2_400, size=n_exons - 1)]
    else:
        longest = 200 + int(1_300 * min(1.0, size_mb / 0.6))
        introns = [int(x) for x in rng.integers(200, longest, size=n_exons - 1)]
    design = GeneDesign(symbol, contig, exon_lengths, introns, utr5, utr3)
    # make the CDS a whole number of codons by growing the coding part of the last exon
    design.exon_lengths[-1] += (3 - design.cds_length % 3) % 3
    return design


def _random_cds(rng: np.random.Generator, length: int) -> str:
    n_codons = length // 3
    inner = rng.integers(0, len(SENSE_CODONS), size=n_codons - 2)
    stop = STOP_CODONS[int(rng.integers(0, len(STOP_CODONS)))]
    cds = "ATG" + "".join(SENSE_CODONS[i] for i in inner) + stop
    assert len(cds) == length
    return cds


def _random_seq(rng: np.random.Generator, length: int, gc: float = 0.5) -> str:
    return decode(_gc_codes(rng, np.full(length, gc)))


def _place_gene(design: GeneDesign, strand: str, start: int) -> GeneModel:
    end = start + design.length
    rel: list[tuple[int, int]] = []
    cursor = 0
    for k, exon_len in enumerate(design.exon_lengths):
        rel.append((cursor, cursor + exon_len))
        cursor += exon_len
        if k < len(design.intron_lengths):
            cursor += design.intron_lengths[k]

    def genomic(a: int, b: int) -> tuple[int, int]:
        return (start + a, start + b) if strand == "+" else (end - b, end - a)

    exons = [genomic(a, b) for a, b in rel]
    # CDS pieces in transcript coordinates
    cds_start = design.utr5
    cds_end = sum(design.exon_lengths) - design.utr3
    cds: list[tuple[int, int]] = []
    offset = 0
    for a, b in rel:
        length = b - a
        lo = max(cds_start, offset)
        hi = min(cds_end, offset + length)
        if lo < hi:
            cds.append(genomic(a + lo - offset, a + hi - offset))
        offset += length
    return GeneModel(
        symbol=design.symbol,
        contig=design.contig,
        strand=strand,
        start=start,
        end=end,
        number=0,
        exons=exons,
        cds=cds,
        utr5=design.utr5,
        cds_len=design.cds_length,
    )


# --------------------------------------------------------------------------------------------
# Background sequence
# --------------------------------------------------------------------------------------------


def _gc_codes(rng: np.random.Generator, gc: np.ndarray) -> np.ndarray:
    """Random bases with a per-position GC probability."""
    u = rng.random(gc.size)
    half = gc / 2.0
    at_half = gc + (1.0 - gc) / 2.0
    codes = np.where(u < half, 1, np.where(u < gc, 2, np.where(u < at_half, 0, 3)))
    return codes.astype(np.uint8)


def _gc_blocks(rng: np.random.Generator, length: int) -> np.ndarray:
    sizes: list[int] = []
    total = 0
    while total < length:
        size = int(rng.integers(5_000, 50_001))
        sizes.append(size)
        total += size
    gcs = rng.uniform(0.35, 0.60, size=len(sizes))
    return np.repeat(gcs, sizes)[:length]


def _free(zones: list[tuple[int, int]], start: int, end: int) -> bool:
    return all(end <= a or start >= b for a, b in zones)


def _add_microsatellites(
    rng: np.random.Generator, seq: np.ndarray, zones: list[tuple[int, int]]
) -> int:
    count = seq.size // 2_500
    placed = 0
    for _ in range(count):
        unit_len = int(rng.choice([1, 2, 2, 3, 4, 4, 5, 6]))
        unit = rng.integers(0, 4, size=unit_len).astype(np.uint8)
        if unit_len > 1 and np.all(unit == unit[0]):
            unit[1] = (unit[0] + 1) % 4
        total = int(rng.integers(10, 26)) if unit_len == 1 else int(rng.integers(14, 61))
        pos = int(rng.integers(0, seq.size - total))
        if not _free(zones, pos, pos + total):
            continue
        seq[pos : pos + total] = np.resize(unit, total)
        placed += 1
    return placed


def _mutate(rng: np.random.Generator, codes: np.ndarray, rate: float) -> np.ndarray:
    out = codes.copy()
    hit = rng.random(out.size) < rate
    shift = rng.integers(1, 4, size=int(hit.sum())).astype(np.uint8)
    out[hit] = (out[hit] + shift) % 4
    return out


def _add_interspersed_repeats(
    rng: np.random.Generator, seq: np.ndarray, consensus: np.ndarray, zones: list[tuple[int, int]]
) -> int:
    count = seq.size // 4_000
    placed = 0
    for _ in range(count):
        element = consensus
        if rng.random() < 0.3:  # 5'-truncated copy
            element = element[int(rng.integers(50, 200)) :]
        element = _mutate(rng, element, float(rng.uniform(0.10, 0.15)))
        if rng.random() < 0.5:
            element = revcomp_codes(element)
        pos = int(rng.integers(0, seq.size - element.size))
        if not _free(zones, pos, pos + element.size):
            continue
        seq[pos : pos + element.size] = element
        placed += 1
    return placed


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------


def _layout(
    rng: np.random.Generator, contig: str, length: int, items: list[tuple[str, int]]
) -> dict[str, int]:
    """Start positions for features of the given sizes, in random order with random spacing."""
    n = len(items)
    free = length - sum(size for _, size in items) - 2 * _CONTIG_EDGE - (n - 1) * _FEATURE_GAP
    if free < 0:
        raise ValueError(
            f"{contig} ({length} bp) is too small for its genes and features; "
            f"use a larger --size-mb (at least {MIN_SIZE_MB})"
        )
    order = rng.permutation(n)
    weights = rng.random(n + 1)
    extra = np.floor(weights / weights.sum() * free).astype(int)
    starts: dict[str, int] = {}
    pos = _CONTIG_EDGE + int(extra[0])
    for k, idx in enumerate(order):
        name, size = items[int(idx)]
        starts[name] = pos
        pos += size + _FEATURE_GAP + int(extra[k + 1])
    return starts


def _choose_nrxn1_deletion(rng: np.random.Generator, gene: GeneModel, length: int) -> Interval:
    """A deletion of ``length`` bp with both breakpoints in introns, removing >= 1 exon."""
    exons = sorted(gene.exons)
    introns = [(exons[i][1], exons[i + 1][0]) for i in range(len(exons) - 1)]
    order = [int(i) for i in rng.permutation(len(introns))]
    for i in order:
        a, b = introns[i]
        for frac in (0.5, 0.35, 0.65, 0.2, 0.8):
            start = a + int((b - a) * frac)
            end = start + length
            in_intron = any(x + 150 <= end <= y - 150 for x, y in introns)
            removed = sum(1 for x, y in exons if start < x and y < end)
            if in_intron and removed >= 1 and start - a >= 150:
                return Interval(gene.contig, start, end)
    raise RuntimeError("could not place the NRXN1 deletion")


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------


def contig_lengths(size_mb: float) -> dict[str, int]:
    total = round(size_mb * 1_000_000)
    chr1 = round(total * CONTIG_FRACTIONS[0][1])
    chr2 = round(total * CONTIG_FRACTIONS[1][1])
    return {"chr1": chr1, "chr2": chr2, "chrX": total - chr1 - chr2}


_LAYOUT_ATTEMPTS = 25


def _plan(
    rng: np.random.Generator, lengths: dict[str, int], size_mb: float
) -> tuple[dict[str, GeneDesign], dict[str, str], dict[str, dict[str, int]], int, int]:
    """Gene structures, strands, deletion sizes and feature starts per contig.

    Rarely, randomly drawn genes do not fit a small contig; the plan is then redrawn from
    the same generator, so the result still depends on the seed alone.
    """
    error: ValueError | None = None
    for _ in range(_LAYOUT_ATTEMPTS):
        designs: dict[str, GeneDesign] = {}
        for contig in lengths:
            symbols = [s for s, c in PLANTED_GENES.items() if c == contig]
            for symbol in [*symbols, *FILLER_GENES[contig]]:
                designs[symbol] = _design_gene(rng, symbol, contig, size_mb)
        # strands: half on each, shuffled
        names = list(designs)
        pool = ["+", "-"] * (len(names) // 2 + 1)
        order = rng.permutation(len(names))
        strands = {s: pool[int(k)] for s, k in zip(names, order, strict=True)}
        del_len = 3_000 + int(rng.integers(-150, 151))
        nrxn1_del_len = 5_000 + int(rng.integers(-150, 151))
        starts: dict[str, dict[str, int]] = {}
        try:
            for contig, length in lengths.items():
                items = [(s, d.length) for s, d in designs.items() if d.contig == contig]
                if contig == "chr1":
                    items += [
                        ("n_gap", N_GAP_LENGTH),
                        ("segdup_source", SEGDUP_LENGTH),
                        ("del_slot", del_len + 2_000),
                    ]
                elif contig == "chr2":
                    items += [("segdup_copy", SEGDUP_LENGTH)]
                starts[contig] = _layout(rng, contig, length, items)
        except ValueError as exc:
            error = exc
            continue
        return designs, strands, starts, del_len, nrxn1_del_len
    assert error is not None
    raise error


def build_reference(rng: np.random.Generator, size_mb: float) -> Reference:
    """Generate the three contigs, their gene models, the N gap, the SD and the SV sites."""
    if size_mb < MIN_SIZE_MB:
        raise ValueError(f"--size-mb must be at least {MIN_SIZE_MB}")
    lengths = contig_lengths(size_mb)

    designs, strands, starts, del_len, nrxn1_del_len = _plan(rng, lengths, size_mb)
    genes = [_place_gene(d, strands[s], starts[d.contig][s]) for s, d in designs.items()]
    contig_rank = {c: i for i, c in enumerate(lengths)}
    genes.sort(key=lambda g: (contig_rank[g.contig], g.start))
    for number, gene in enumerate(genes, 1):
        gene.number = number

    n_gap = Interval("chr1", starts["chr1"]["n_gap"], starts["chr1"]["n_gap"] + N_GAP_LENGTH)
    sd_src = Interval(
        "chr1", starts["chr1"]["segdup_source"], starts["chr1"]["segdup_source"] + SEGDUP_LENGTH
    )
    sd_dst = Interval(
        "chr2", starts["chr2"]["segdup_copy"], starts["chr2"]["segdup_copy"] + SEGDUP_LENGTH
    )
    del_start = starts["chr1"]["del_slot"] + 1_000
    deletions = {"DEL_chr1_pat": Interval("chr1", del_start, del_start + del_len)}
    nrxn1 = next(g for g in genes if g.symbol == "NRXN1")
    deletions["NRXN1_del_dn"] = _choose_nrxn1_deletion(rng, nrxn1, nrxn1_del_len)

    # background sequence: GC blocks, microsatellites, interspersed repeats
    consensus = np.concatenate(
        [_gc_codes(rng, np.full(REPEAT_UNIT_LENGTH - 20, 0.52)), np.zeros(20, dtype=np.uint8)]
    )  # a 300 bp element ending in a poly-A tail
    contigs: dict[str, np.ndarray] = {}
    for contig, length in lengths.items():
        seq = _gc_codes(rng, _gc_blocks(rng, length))
        zones = [
            (d.start - 400, d.start + 400) for d in deletions.values() if d.contig == contig
        ] + [(d.end - 400, d.end + 400) for d in deletions.values() if d.contig == contig]
        _add_microsatellites(rng, seq, zones)
        _add_interspersed_repeats(rng, seq, consensus, zones)
        contigs[contig] = seq

    # segmental duplication (copied before genes/N are written; both copies gene-free)
    source = contigs[sd_src.contig][sd_src.start : sd_src.end]
    contigs[sd_dst.contig][sd_dst.start : sd_dst.end] = _mutate(rng, source, SEGDUP_DIVERGENCE)

    # gene sequences: exons with a designed ORF, GT..AG introns
    for gene in genes:
        _write_gene(rng, contigs[gene.contig], gene, designs[gene.symbol])

    # assembly gap
    contigs[n_gap.contig][n_gap.start : n_gap.end] = N_CODE

    # The SVs added later (drawn last, so everything above is unchanged by them). A genome too
    # small to hold one of them simply goes without it (the truth lists what was planted).
    taken = [n_gap, sd_src, sd_dst, *deletions.values()]
    duplications: dict[str, Interval] = {}
    with contextlib.suppress(RuntimeError):
        deletions[WHOLE_GENE_DELETION[0]] = _around_gene(
            _gene(genes, WHOLE_GENE_DELETION[1]), genes, taken, WHOLE_GENE_FLANK
        )
    with contextlib.suppress(RuntimeError):
        duplications[TANDEM_DUPLICATION[0]] = _choose_exon_duplication(
            rng, _gene(genes, TANDEM_DUPLICATION[1])
        )
    with contextlib.suppress(RuntimeError):
        duplications[COPY_GAIN[0]] = _around_gene(
            _gene(genes, COPY_GAIN[1]), genes, [*taken, *deletions.values()], COPY_GAIN_FLANK
        )
    return Reference(contigs, genes, n_gap, sd_src, sd_dst, deletions, duplications)


# Planted SVs beyond the two deletions: (name, gene). The whole-gene deletion removes a whole
# gene with flanks (maternal, in trans with a paternal SNV of the gene); the tandem duplication
# copies one or more exons of a gene (de novo); the copy-number gain duplicates a whole gene
# with flanks, large enough (>= 8 kb) for the read-depth caller (paternal).
WHOLE_GENE_DELETION = ("MUTYH_del_mat", "MUTYH")
TANDEM_DUPLICATION = ("TTN_dup_dn", "TTN")
COPY_GAIN = ("BMPR2_dup_pat", "BMPR2")
WHOLE_GENE_FLANK = 800
COPY_GAIN_FLANK = 4_000
_SV_CLEARANCE = 600  # from the next gene or feature


def _gene(genes: list[GeneModel], symbol: str) -> GeneModel:
    return next(g for g in genes if g.symbol == symbol)


def _around_gene(
    gene: GeneModel, genes: list[GeneModel], taken: list[Interval], flank: int
) -> Interval:
    """The gene plus up to ``flank`` bp each side, clear of every other gene and feature."""
    lo, hi = _CONTIG_EDGE // 2, None
    others = [(g.start, g.end) for g in genes if g.contig == gene.contig and g is not gene]
    others += [(t.start, t.end) for t in taken if t.contig == gene.contig]
    for a, b in others:
        if b <= gene.start:
            lo = max(lo, b + _SV_CLEARANCE)
        elif a >= gene.end:
            hi = a - _SV_CLEARANCE if hi is None else min(hi, a - _SV_CLEARANCE)
    start = max(lo, gene.start - flank)
    end = gene.end + flank if hi is None else min(hi, gene.end + flank)
    if start > gene.start - 200 or end < gene.end + 200:
        raise RuntimeError(f"no room around {gene.symbol} for a whole-gene SV")
    return Interval(gene.contig, start, end)


def _choose_exon_duplication(rng: np.random.Generator, gene: GeneModel) -> Interval:
    """A tandem duplication with both breakpoints in introns, copying >= 1 whole exon."""
    exons = sorted(gene.exons)
    introns = [(exons[i][1], exons[i + 1][0]) for i in range(len(exons) - 1)]
    usable = [(a + 100, b - 100) for a, b in introns if b - a >= 250]
    for i in [int(k) for k in rng.permutation(len(usable))]:
        for j in range(i + 1, len(usable)):
            start = (usable[i][0] + usable[i][1]) // 2
            end = (usable[j][0] + usable[j][1]) // 2
            if 500 <= end - start <= 6_000:
                return Interval(gene.contig, start, end)
    raise RuntimeError(f"could not place the {gene.symbol} exon duplication")


def add_mitochondrion(reference: Reference, rng: np.random.Generator) -> GeneModel:
    """Append chrM (MITO_LENGTH bp, GC MITO_GC) with the MT-ND4 model to `reference`; the
    gene. Its own generator: the nuclear genome is unchanged by it."""
    if CHRM in reference.contigs:
        raise ValueError(f"the reference has a {CHRM} already")
    seq = _gc_codes(rng, np.full(MITO_LENGTH, MITO_GC))
    symbol, first, last = MITO_GENE
    length = last - first + 1
    assert length % 3 == 0
    safe = [c for c in SENSE_CODONS if c not in MITO_DIFFERENT_CODONS]
    inner = [safe[int(i)] for i in rng.integers(0, len(safe), size=length // 3 - 2)]
    stop = ("TAA", "TAG")[int(rng.integers(0, 2))]
    lhon = (MITO_LHON_POSITION - first) // 3
    inner[lhon - 1] = MITO_LHON_CODON  # inner[0] is the CDS's second codon
    cds = "ATG" + "".join(inner) + stop
    gene = GeneModel(symbol=symbol, contig=CHRM, strand="+", start=first - 1, end=last,
                     number=max((g.number for g in reference.genes), default=0) + 1,
                     exons=[(first - 1, last)], cds=[(first - 1, last)], mrna=cds, utr5=0,
                     cds_len=length)
    seq[first - 1 : last] = encode(cds)
    reference.contigs[CHRM] = seq
    reference.genes.append(gene)
    return gene


def _write_gene(
    rng: np.random.Generator, seq: np.ndarray, gene: GeneModel, design: GeneDesign
) -> None:
    utr5 = _random_seq(rng, design.utr5)
    utr3 = _random_seq(rng, design.utr3)
    cds = _random_cds(rng, design.cds_length)
    gene.mrna = utr5 + cds + utr3
    tx_codes = encode(gene.mrna)
    offset = 0
    for start, end in gene.exons:
        piece = tx_codes[offset : offset + (end - start)]
        seq[start:end] = piece if gene.strand == "+" else revcomp_codes(piece)
        offset += end - start
    # splice sites: GT at the intron 5' end, AG at its 3' end (transcript orientation)
    donor, acceptor = encode("GT"), encode("AG")
    for k in range(len(gene.exons) - 1):
        if gene.strand == "+":
            a, b = gene.exons[k][1], gene.exons[k + 1][0]
            seq[a : a + 2] = donor
            seq[b - 2 : b] = acceptor
        else:
            hi, lo = gene.exons[k][0], gene.exons[k + 1][1]  # intron is [lo, hi)
            seq[hi - 2 : hi] = revcomp_codes(donor)
            seq[lo : lo + 2] = revcomp_codes(acceptor)


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def write_fasta(reference: Reference, path: Path, width: int = 60) -> None:
    with path.open("wb") as out:
        for name, codes in reference.contigs.items():
            out.write(f">{name}\n".encode())
            raw = to_ascii(codes).tobytes()
            out.write(b"\n".join(raw[i : i + width] for i in range(0, len(raw), width)))
            out.write(b"\n")


def _gff_line(
    contig: str, ftype: str, start: int, end: int, strand: str, phase: str, attrs: str
) -> str:
    return f"{contig}\thelgenom_sim\t{ftype}\t{start + 1}\t{end}\t.\t{strand}\t{phase}\t{attrs}\n"


def gff3_lines(reference: Reference) -> list[str]:
    """Ensembl-style GFF3 (the dialect `bcftools csq` reads): gene:ENSG... / transcript:ENST...
    IDs, one transcript per gene tagged Ensembl_canonical, versions, and gene descriptions
    ending in `[Source:HGNC Symbol%3BAcc:HGNC:n]` as Ensembl writes them."""
    lines = ["##gff-version 3\n"]
    for name, length in reference.lengths.items():
        lines.append(f"##sequence-region   {name} 1 {length}\n")
    for gene in reference.genes:
        tid = f"transcript:{gene.transcript_id}"
        features: list[tuple[int, int, str, str, str]] = []
        for rank, (start, end) in enumerate(gene.exons, 1):
            exon_id = gene.exon_id(rank)
            features.append(
                (
                    start,
                    end,
                    "exon",
                    ".",
                    f"Parent={tid};Name={exon_id};exon_id={exon_id};rank={rank};constitutive=1",
                )
            )
        done = 0
        for start, end in gene.cds:
            phase = (3 - done % 3) % 3
            features.append(
                (
                    start,
                    end,
                    "CDS",
                    str(phase),
                    f"ID=CDS:{gene.protein_id};Parent={tid};protein_id={gene.protein_id}",
                )
            )
            done += end - start
        cds_lo = min(s for s, _ in gene.cds)
        cds_hi = max(e for _, e in gene.cds)
        left, right = (
            ("five_prime_UTR", "three_prime_UTR")
            if gene.strand == "+"
            else ("three_prime_UTR", "five_prime_UTR")
        )
        for start, end in gene.exons:
            if start < cds_lo:
                features.append((start, min(end, cds_lo), left, ".", f"Parent={tid}"))
            if end > cds_hi:
                features.append((max(start, cds_hi), end, right, ".", f"Parent={tid}"))
        type_rank = {"five_prime_UTR": 0, "exon": 1, "CDS": 2, "three_prime_UTR": 3}
        features.sort(key=lambda f: (f[0], type_rank[f[2]]))
        lines.append(
            _gff_line(
                gene.contig,
                "gene",
                gene.start,
                gene.end,
                gene.strand,
                ".",
                f"ID=gene:{gene.gene_id};Name={gene.symbol};biotype=protein_coding;"
                f"description=simulated {gene.symbol} gene model [Source:HGNC Symbol%3BAcc:"
                f"HGNC:{HGNC_IDS[gene.symbol]}];gene_id={gene.gene_id};logic_name=helgenom_sim;"
                "version=1",
            )
        )
        lines.append(
            _gff_line(
                gene.contig,
                "mRNA",
                gene.start,
                gene.end,
                gene.strand,
                ".",
                f"ID={tid};Parent=gene:{gene.gene_id};Name={gene.symbol}-201;"
                f"biotype=protein_coding;tag=basic,Ensembl_canonical;"
                f"transcript_id={gene.transcript_id};version=1",
            )
        )
        for start, end, ftype, phase, attrs in features:
            lines.append(_gff_line(gene.contig, ftype, start, end, gene.strand, phase, attrs))
        lines.append("###\n")
    return lines


def write_gff3(reference: Reference, path: Path) -> None:
    path.write_text("".join(gff3_lines(reference)), encoding="ascii")
