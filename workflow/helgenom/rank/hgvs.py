"""HGVS notation of small variants on one transcript per gene: `c.` (coding) or `n.`
(non-coding) and the predicted protein change `p.`, with Sequence Ontology consequences.

Conventions (HGVS nomenclature, varnomen.hgvs.org):

- `c.` numbering from the A of the ATG (c.1); 5'UTR c.-14, 3'UTR c.*5 (from the stop codon's
  last base); intronic positions from the nearer exon, c.123+1 / c.124-2 (the middle base of
  an odd-sized intron takes +). Positions beyond the transcript continue the numbering
  (c.-250, c.*900). Non-coding transcripts: n.123, n.123+5.
- strand-aware: on minus-strand transcripts bases are complemented and positions counted from
  the transcript's start.
- deletions and insertions are shifted 3' (in the transcript's direction) as far as the
  reference allows, but not out of the exon or intron they lie in; an insertion that repeats
  the bases 5' of it is a duplication (c.12_14dup). Deleted bases are not listed (c.12del);
  ins/delins list the new bases (c.12_13insAT, c.12delinsGT).
- `p.` in three-letter code, predicted (without the parentheses): missense p.Leu39His,
  nonsense p.Ser193Ter, synonymous p.Leu39=, stop retained p.Ter120=, in-frame p.Lys4del,
  p.Lys4_Ala6del, p.Lys4dup, p.Lys4_Ala5insGly, p.Cys28delinsTrpVal; start loss p.Met1?;
  frameshifts in the long form p.Arg97ProfsTer23 (the first changed residue, its
  replacement, and the new stop counted from that residue as 1; fsTer? when no stop follows
  in the transcript), an immediate stop as nonsense (p.Arg97Ter); stop loss as an extension,
  p.Ter110GlnextTer17 (counted the same way). Changes that reach into an intron and touch
  the CDS are p.? (effect unknown).

The position arithmetic runs on numpy arrays for every (variant, transcript) pair at once;
per pair in Python only what needs the reference bases: the 3' shift of indels and the
protein change of variants in a CDS, with each transcript's sequence built once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helgenom.rank.gff3 import GeneSet
from helgenom.rank.sequence import Fasta

# ------------------------------------------------------------------------ genetic code

_BASES = "TCAG"
_AMINO = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODE = {a + b + c: _AMINO[16 * i + 4 * j + k] for i, a in enumerate(_BASES)
        for j, b in enumerate(_BASES) for k, c in enumerate(_BASES)}
THREE = {"A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu",
         "G": "Gly", "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe",
         "P": "Pro", "S": "Ser", "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "Ter",
         "X": "Xaa"}
_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def revcomp(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


def translate(seq: str, to_stop: bool = False) -> str:
    """One-letter protein of `seq` (whole codons; X for a codon with other bases than ACGT);
    with `to_stop`, up to and including the first stop."""
    out = []
    for i in range(0, len(seq) - 2, 3):
        amino = CODE.get(seq[i:i + 3], "X")
        out.append(amino)
        if to_stop and amino == "*":
            break
    return "".join(out)


def three(protein: str) -> str:
    return "".join(THREE.get(a, "Xaa") for a in protein)


# ------------------------------------------------------------------ consequence terms

# Sequence Ontology terms, in the order they are joined ('&') in a consequence.
TERMS = ("transcript_ablation", "splice_acceptor_variant", "splice_donor_variant",
         "stop_gained", "frameshift_variant", "stop_lost", "start_lost",
         "transcript_amplification", "feature_elongation", "feature_truncation",
         "inframe_insertion", "inframe_deletion", "missense_variant",
         "protein_altering_variant", "splice_region_variant", "synonymous_variant",
         "stop_retained_variant", "coding_sequence_variant", "5_prime_UTR_variant",
         "3_prime_UTR_variant", "non_coding_transcript_exon_variant", "intron_variant",
         "upstream_gene_variant", "downstream_gene_variant")
BIT = {term: 1 << i for i, term in enumerate(TERMS)}
_ACCEPTOR, _DONOR = BIT["splice_acceptor_variant"], BIT["splice_donor_variant"]
_SPLICE_REGION, _CODING = BIT["splice_region_variant"], BIT["coding_sequence_variant"]
_INTRON = BIT["intron_variant"]


def term_text(flags: int) -> str:
    """'&'-joined terms of a flag set."""
    return "&".join(term for i, term in enumerate(TERMS) if flags >> i & 1)


# --------------------------------------------------------------------------- transcripts


@dataclass
class Transcripts:
    """The chosen transcript of each gene, as arrays (one entry per transcript; exons flat,
    in genomic order per transcript). Coordinates 1-based, closed; `cds_first`/`cds_last`:
    the transcript positions of c.1 and of the stop codon's last base (0: non-coding)."""

    chrom: np.ndarray
    start: np.ndarray  # transcript span
    end: np.ndarray
    gene_start: np.ndarray  # its gene's span (which variants count as in the gene)
    gene_end: np.ndarray
    strand: np.ndarray  # +1 / -1
    feature: np.ndarray  # transcript ID
    reference: np.ndarray  # the HGVS reference: the ID with its version, if the GFF3 has one
    protein: np.ndarray  # protein ID (HGVSp), else the reference
    biotype: np.ndarray
    symbol: np.ndarray
    gene_id: np.ndarray
    hgnc_id: np.ndarray
    length: np.ndarray  # exonic bases
    cds_first: np.ndarray
    cds_last: np.ndarray
    ex_first: np.ndarray  # index of the first exon in the flat arrays
    ex_count: np.ndarray
    ex_start: np.ndarray  # flat exon arrays
    ex_end: np.ndarray
    ex_before: np.ndarray  # exonic bases of the transcript before this exon (genomic order)
    ex_key: np.ndarray = field(init=False)  # transcript << 32 | exon start: sorted

    def __post_init__(self) -> None:
        owner = np.repeat(np.arange(len(self.chrom), dtype=np.int64), self.ex_count)
        self.ex_key = (owner << 32) | self.ex_start

    def __len__(self) -> int:
        return len(self.chrom)

    @classmethod
    def chosen(cls, genes: GeneSet) -> Transcripts:
        """The chosen transcript of every gene of `genes` (with at least one exon)."""
        table = genes.transcripts
        exons = genes.exons
        counts = np.bincount(exons["transcript"], minlength=len(table))
        keep = np.flatnonzero(table["chosen"].to_numpy() & (counts > 0))
        chosen = table.iloc[keep]
        mask = np.zeros(len(table), dtype=bool)
        mask[keep] = True
        ex = exons[mask[exons["transcript"].to_numpy()]]
        ex_start = ex["start"].to_numpy(dtype=np.int64)
        ex_end = ex["end"].to_numpy(dtype=np.int64)
        ex_count = counts[keep].astype(np.int64)
        ex_first = np.cumsum(ex_count) - ex_count
        sizes = ex_end - ex_start + 1
        before = np.cumsum(sizes) - sizes
        ex_before = before - np.repeat(before[ex_first], ex_count)
        gene = chosen["gene"].to_numpy()
        g = genes.genes
        versions = chosen["version"].to_numpy(dtype=object)
        ids = chosen["transcript_id"].to_numpy(dtype=object)
        reference = np.array([f"{i}.{v}" if v and "." not in i else i
                              for i, v in zip(ids, versions, strict=True)], dtype=object)
        protein = chosen["protein_id"].to_numpy(dtype=object)
        out = cls(
            chrom=chosen["chrom"].to_numpy(dtype=object),
            start=chosen["start"].to_numpy(dtype=np.int64),
            end=chosen["end"].to_numpy(dtype=np.int64),
            gene_start=np.minimum(g["start"].to_numpy()[gene], chosen["start"].to_numpy()),
            gene_end=np.maximum(g["end"].to_numpy()[gene], chosen["end"].to_numpy()),
            strand=chosen["strand"].to_numpy(dtype=np.int8),
            feature=ids, reference=reference,
            protein=np.where(protein != "", protein, reference),
            biotype=chosen["biotype"].to_numpy(dtype=object),
            symbol=g["symbol"].to_numpy(dtype=object)[gene],
            gene_id=g["gene_id"].to_numpy(dtype=object)[gene],
            hgnc_id=g["hgnc_id"].to_numpy(dtype=object)[gene],
            length=np.bincount(np.repeat(np.arange(len(keep)), ex_count), weights=sizes,
                               minlength=len(keep)).astype(np.int64),
            cds_first=np.zeros(len(keep), dtype=np.int64),
            cds_last=np.zeros(len(keep), dtype=np.int64),
            ex_first=ex_first, ex_count=ex_count, ex_start=ex_start, ex_end=ex_end,
            ex_before=ex_before.astype(np.int64))
        # The CDS ends in transcript positions (both are exonic).
        coding = np.flatnonzero(chosen["cds_end"].to_numpy() > 0)
        ends = [locate(out, coding, chosen[c].to_numpy(dtype=np.int64)[coding]).tpos
                for c in ("cds_start", "cds_end")]
        plus = out.strand[coding] > 0
        out.cds_first[coding] = np.where(plus, ends[0], ends[1])
        out.cds_last[coding] = np.where(plus, ends[1], ends[0])
        return out

    def subset(self, rows: np.ndarray) -> Transcripts:
        """The transcripts `rows` (ascending)."""
        rows = np.asarray(rows, dtype=np.int64)
        exon_rows = np.concatenate([np.arange(self.ex_first[r], self.ex_first[r]
                                              + self.ex_count[r]) for r in rows.tolist()]
                                   ) if len(rows) else np.zeros(0, dtype=np.int64)
        counts = self.ex_count[rows]
        values = {name: getattr(self, name)[rows] for name in (
            "chrom", "start", "end", "gene_start", "gene_end", "strand", "feature",
            "reference", "protein", "biotype", "symbol", "gene_id", "hgnc_id", "length",
            "cds_first", "cds_last")}
        return Transcripts(**values, ex_first=np.cumsum(counts) - counts, ex_count=counts,
                           ex_start=self.ex_start[exon_rows], ex_end=self.ex_end[exon_rows],
                           ex_before=self.ex_before[exon_rows])

    def on_contigs(self, contigs: set[str]) -> Transcripts:
        """The transcripts on `contigs` (named as the GFF3 names them)."""
        return self.subset(np.flatnonzero(np.isin(self.chrom, list(contigs))))


# ------------------------------------------------------------------- positions in them

# Where a position lies: exon, intron, 5' of the transcript, 3' of it.
EXON, INTRON, UPSTREAM, DOWNSTREAM = 0, 1, 2, 3
_FAR = np.int64(1) << 40


@dataclass
class Located:
    """Positions on transcripts (arrays, one per (transcript, position) pair)."""

    kind: np.ndarray  # EXON, INTRON, UPSTREAM, DOWNSTREAM
    tpos: np.ndarray  # transcript position (intron: of the nearer exon's edge base)
    offset: np.ndarray  # intron: +d from the 5' exon, -d from the 3' exon; else 0
    number: np.ndarray  # exon or intron number in transcript order
    edge: np.ndarray  # exon: bases to the nearest exon edge that borders an intron
    low: np.ndarray  # genomic bounds of the exon, intron or flank holding the position
    high: np.ndarray


def locate(tr: Transcripts, t: np.ndarray, g: np.ndarray) -> Located:
    """Where genomic positions `g` lie on transcripts `t`."""
    t = np.asarray(t, dtype=np.int64)
    g = np.asarray(g, dtype=np.int64)
    first = tr.ex_first[t]
    last = first + tr.ex_count[t] - 1
    index = np.searchsorted(tr.ex_key, (t << 32) | g, side="right") - 1
    before = index < first
    i = np.clip(index, first, last)
    s, e = tr.ex_start[i], tr.ex_end[i]
    in_exon = ~before & (g <= e)
    after = ~before & ~in_exon & (i == last)
    intron = ~(before | in_exon | after)
    nxt = np.minimum(i + 1, last)
    length = tr.length[t]
    plus = tr.strand[t] > 0
    # Exonic position in genomic order, extended linearly beyond the transcript.
    gpos = np.where(in_exon, tr.ex_before[i] + g - s + 1,
                    np.where(before, g - tr.ex_start[first] + 1, length + g - e))
    tpos = np.where(plus, gpos, length + 1 - gpos)
    left = tr.ex_before[i] + (e - s + 1)  # last base of exon i, genomic order
    to_left, to_right = g - e, tr.ex_start[nxt] - g
    five, three_ = np.where(plus, to_left, to_right), np.where(plus, to_right, to_left)
    use_five = five <= three_
    anchor = np.where(use_five, np.where(plus, left, length - left),
                      np.where(plus, left + 1, length + 1 - left))
    tpos = np.where(intron, anchor, tpos)
    offset = np.where(intron, np.where(use_five, five, -three_), 0)
    kind = np.where(in_exon, EXON, np.where(intron, INTRON, np.where(
        before == plus, UPSTREAM, DOWNSTREAM)))
    exon_number = np.where(plus, i - first + 1, last - i + 1)
    intron_number = np.where(plus, exon_number, exon_number - 1)  # the intron after exon i
    number = np.where(in_exon, exon_number, np.where(intron, intron_number, 0))
    edge = np.minimum(np.where(i > first, g - s, _FAR), np.where(i < last, e - g, _FAR))
    low = np.where(in_exon, s, np.where(intron, e + 1, np.where(before, 1, e + 1)))
    high = np.where(in_exon, e, np.where(intron, tr.ex_start[nxt] - 1,
                                         np.where(before, tr.ex_start[first] - 1, _FAR)))
    return Located(kind.astype(np.int8), tpos, offset, number, np.where(in_exon, edge, _FAR),
                   low, high)


EMPTY = pa.scalar("", pa.large_string())


def _strings(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.large_string())


def choose(choices: list[str], codes: np.ndarray) -> pa.Array:
    """choices[code] per code, as Arrow strings."""
    return pa.array(choices, pa.large_string()).take(pa.array(np.asarray(codes, np.int64)))


def join(*parts: pa.Array | str) -> pa.Array:
    """The parts (arrays, or one text for every row) concatenated row by row."""
    arrays = [pa.scalar(p, pa.large_string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*arrays, EMPTY)


def position_text(tr: Transcripts, t: np.ndarray, loc: Located) -> pa.Array:
    """'123', '-14', '*5', '123+1', '124-2' per pair (c. numbering on coding transcripts,
    n. numbering on others)."""
    coding = tr.cds_first[t] > 0
    first = np.where(coding, tr.cds_first[t], 1)
    last = np.where(coding, tr.cds_last[t], tr.length[t])
    tpos = loc.tpos
    where = np.where(tpos < first, 1, np.where(tpos <= last, 0, 2))
    number = np.where(where == 1, first - tpos, np.where(where == 0, tpos - first + 1,
                                                         tpos - last))
    sign = np.sign(loc.offset)
    offset_text = pc.if_else(pa.array(sign == 0), EMPTY, _strings(np.abs(loc.offset)))
    return join(choose(["", "-", "*"], where), _strings(number),
                 choose(["", "+", "-"], np.where(sign < 0, 2, sign)), offset_text)


# ------------------------------------------------------------------ indels, normalised

SNV, DEL, INS, DUP, DELINS = 0, 1, 2, 3, 4
_WINDOW = 64


def trim(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """VCF alleles without their shared bases: (first changed position, deleted, inserted);
    an insertion lies before the position."""
    start = 0
    while start < min(len(ref), len(alt)) and ref[start] == alt[start]:
        start += 1
    end = 0
    while (end < min(len(ref), len(alt)) - start
           and ref[len(ref) - 1 - end] == alt[len(alt) - 1 - end]):
        end += 1
    return pos + start, ref[start:len(ref) - end], alt[start:len(alt) - end]


def _base(fasta: Fasta, chrom: str, cache: dict[int, str], position: int) -> str:
    """One base, read a window at a time."""
    block = position // _WINDOW
    if block not in cache:
        cache[block] = fasta.fetch(chrom, block * _WINDOW, block * _WINDOW + _WINDOW - 1)
    text = cache[block]
    offset = position - max(block * _WINDOW, 1)
    return text[offset] if 0 <= offset < len(text) else ""


def normalise(fasta: Fasta, chrom: str, start: int, deleted: str, inserted: str, strand: int,
              low: int, high: int) -> tuple[int, int, int, str]:
    """A trimmed change (deleted bases from `start`, or an insertion before `start`) shifted
    3' on the transcript's strand within low..high; (op, first, last, bases): the genomic
    span described (for INS the two bases around it) and the new bases (+ strand)."""
    cache: dict[int, str] = {}

    def base(position: int) -> str:
        return _base(fasta, chrom, cache, position)

    if deleted and inserted:
        return DELINS, start, start + len(deleted) - 1, inserted
    if deleted:
        first, last = start, start + len(deleted) - 1
        if low <= first and last <= high:
            if strand > 0:
                while last + 1 <= high and base(last + 1) == base(first):
                    first, last = first + 1, last + 1
            else:
                while first - 1 >= low and base(first - 1) == base(last):
                    first, last = first - 1, last - 1
        return DEL, first, last, ""
    after = start - 1  # the insertion lies between `after` and `after` + 1
    if low - 1 <= after <= high:
        if strand > 0:
            while after + 1 <= high and base(after + 1) == inserted[0]:
                inserted, after = inserted[1:] + inserted[0], after + 1
        else:
            while after >= low and base(after) == inserted[-1]:
                inserted, after = inserted[-1] + inserted[:-1], after - 1
    n = len(inserted)
    if strand > 0:
        if "".join(base(p) for p in range(after - n + 1, after + 1)) == inserted:
            return DUP, after - n + 1, after, inserted
    elif "".join(base(p) for p in range(after + 1, after + n + 1)) == inserted:
        return DUP, after + 1, after + n, inserted
    return INS, after, after + 1, inserted


# ---------------------------------------------------------------------- protein change


@dataclass
class _Coding:
    """A transcript's exonic sequence (transcript orientation) and reference protein."""

    mrna: str
    protein: str


def protein_change(coding: _Coding, first: int, last: int, a: int, b: int, inserted: str
                   ) -> tuple[str, int]:
    """The p. text and consequence flags of replacing transcript bases a..b (1-based; b =
    a - 1: an insertion before a) with `inserted`, on a transcript whose CDS is bases
    first..last."""
    mrna, ref = coding.mrna, coding.protein
    start0, end0 = a - first, b - first  # 0-based CDS positions
    delta = len(inserted) - (b - a + 1)
    touches_start = (start0 <= 2 and end0 >= 0) if b >= a else 1 <= start0 <= 2
    if touches_start:
        return f"p.{three(ref[:1] or 'M')}1?", BIT["start_lost"]
    i0 = start0 // 3
    j0 = max(end0, start0 - 1) // 3  # last reference codon changed
    tail = mrna[first - 1 + 3 * i0:a - 1] + inserted + mrna[b:]
    stop_codon = len(ref) - 1 if ref.endswith("*") else len(ref)
    same_end = 0  # residues known to be equal at the C-terminal ends
    if delta % 3 == 0 and j0 < stop_codon:
        middle = translate(tail[:3 * (j0 - i0 + 1) + delta])
        mutant = ref[:i0] + middle + ref[j0 + 1:]
        same_end = len(ref) - j0 - 1
        if "*" in middle:
            mutant = mutant[:mutant.index("*") + 1]
    else:
        mutant = ref[:i0] + translate(tail, to_stop=True)
    if mutant == ref:
        i = len(ref)
    else:
        i, limit = i0, min(len(ref), len(mutant))
        while i < limit and ref[i] == mutant[i]:
            i += 1
    if i == len(ref) == len(mutant):  # unchanged
        if i0 < len(ref) and ref[i0] == "*":
            return f"p.Ter{i0 + 1}=", BIT["stop_retained_variant"]
        return f"p.{three(ref[i0:i0 + 1])}{i0 + 1}=", BIT["synonymous_variant"]
    if i >= len(ref) or i >= len(mutant):
        return "p.?", BIT["frameshift_variant" if delta % 3 else "coding_sequence_variant"]
    frame = BIT["frameshift_variant"] if delta % 3 else 0
    if ref[i] == "*":  # the stop is lost: the protein runs on
        stop = mutant.find("*", i)
        return (f"p.Ter{i + 1}{three(mutant[i])}ext"
                f"Ter{stop - i + 1 if stop >= 0 else '?'}"), BIT["stop_lost"] | frame
    if mutant[i] == "*":
        return f"p.{three(ref[i])}{i + 1}Ter", frame or BIT["stop_gained"]
    if frame:
        stop = mutant.find("*", i)
        return (f"p.{three(ref[i])}{i + 1}{three(mutant[i])}"
                f"fsTer{stop - i + 1 if stop >= 0 else '?'}"), frame
    if mutant.endswith("*") and len(mutant) - 1 < stop_codon + delta // 3:  # stop gained
        replaced = ref[i:max(j0, i - 1) + 1]
        return _protein_delins(ref, i, replaced, mutant[i:]), BIT["stop_gained"]
    k = max(0, min(same_end, len(ref) - i, len(mutant) - i))
    while k < len(ref) - i and k < len(mutant) - i and ref[-1 - k] == mutant[-1 - k]:
        k += 1
    removed, added = ref[i:len(ref) - k], mutant[i:len(mutant) - k]
    if len(removed) == 1 and len(added) == 1:
        return f"p.{three(removed)}{i + 1}{three(added)}", BIT["missense_variant"]
    if not removed:
        n = len(added)
        if i >= n and ref[i - n:i] == added:
            span = f"{three(ref[i - n])}{i - n + 1}"
            if n > 1:
                span += f"_{three(ref[i - 1])}{i}"
            return f"p.{span}dup", BIT["inframe_insertion"]
        return _protein_delins(ref, i, "", added), BIT["inframe_insertion"]
    if not added:
        span = f"{three(removed[0])}{i + 1}"
        if len(removed) > 1:
            span += f"_{three(removed[-1])}{i + len(removed)}"
        return f"p.{span}del", BIT["inframe_deletion"]
    term = ("inframe_insertion" if len(added) > len(removed) else
            "inframe_deletion" if len(added) < len(removed) else "missense_variant")
    return _protein_delins(ref, i, removed, added), BIT[term]


def _protein_delins(ref: str, i: int, removed: str, added: str) -> str:
    """p.Xaa5_Yaa6insZaa (nothing removed) or p.Xaa5[_Yaa7]delinsZaa."""
    if not removed:
        return f"p.{three(ref[i - 1])}{i}_{three(ref[i])}{i + 1}ins{three(added)}"
    span = f"{three(removed[0])}{i + 1}"
    if len(removed) > 1:
        span += f"_{three(removed[-1])}{i + len(removed)}"
    return f"p.{span}delins{three(added)}"


# -------------------------------------------------------------- describing the changes


@dataclass
class Described:
    """Per (variant, transcript) pair: the HGVS c./n. (without the reference), p. ('' for
    none), the consequence flags, and the exon and intron fields ('3/8', '2-3/8', '')."""

    hgvs_c: pa.Array
    hgvs_p: pa.Array
    flags: np.ndarray
    exon: pa.Array
    intron: pa.Array


class Describer:
    """HGVS of variants on `transcripts` with the bases of `fasta` (contigs matched by name:
    chr1 vs 1)."""

    def __init__(self, transcripts: Transcripts, fasta: Fasta) -> None:
        self.tr = transcripts
        self.fasta = fasta
        self._coding: dict[int, _Coding] = {}

    def coding(self, t: int) -> _Coding:
        """Transcript `t`'s sequence and protein, made once."""
        if t not in self._coding:
            tr = self.tr
            chrom = self.fasta.name(str(tr.chrom[t])) or str(tr.chrom[t])
            rows = range(tr.ex_first[t], tr.ex_first[t] + tr.ex_count[t])
            mrna = "".join(self.fasta.fetch(chrom, int(tr.ex_start[r]), int(tr.ex_end[r]))
                           for r in rows)
            if tr.strand[t] < 0:
                mrna = revcomp(mrna)
            first, last = int(tr.cds_first[t]), int(tr.cds_last[t])
            self._coding[t] = _Coding(mrna, translate(mrna[first - 1:last]) if first else "")
        return self._coding[t]

    def describe(self, pos: np.ndarray, ref: pa.Array, alt: pa.Array, t: np.ndarray
                 ) -> Described:
        """Pairs of variants (pos, ref, alt: the VCF's, one entry per pair) and transcripts
        `t`."""
        tr = self.tr
        n = len(t)
        plus = tr.strand[t] > 0
        snv = (pc.utf8_length(ref).to_numpy() == 1) & (pc.utf8_length(alt).to_numpy() == 1)
        op = np.full(n, SNV, dtype=np.int8)
        g_first = np.asarray(pos, dtype=np.int64).copy()
        g_last = g_first.copy()
        others = np.flatnonzero(~snv)
        texts = []  # per row of `others`: REF>ALT (an MNV trimmed to one base) or new bases
        if len(others):
            trimmed = [trim(p, r, a) for p, r, a in zip(
                g_first[others].tolist(), ref.take(others).to_pylist(),
                alt.take(others).to_pylist(), strict=True)]
            loc = locate(tr, t[others], np.array([s for s, _, _ in trimmed], dtype=np.int64))
            for k, row in enumerate(others.tolist()):
                tt = int(t[row])
                o, a, b, seq = self._change(tt, *trimmed[k], int(loc.low[k]),
                                            int(loc.high[k]))
                op[row], g_first[row], g_last[row] = o, a, b
                if o == SNV:
                    _, deleted, inserted = trimmed[k]
                    seq = f"{deleted}>{inserted}"
                texts.append(seq if plus[row] else _revcomp_change(seq))
        added = _scatter(_snv_text(ref, alt, plus), others, texts)
        added = pc.if_else(pa.array(np.isin(op, (SNV, INS, DELINS))), added, EMPTY)
        loc_a, loc_b = locate(tr, t, g_first), locate(tr, t, g_last)
        # 5'-most and 3'-most ends in transcript order.
        text_a, text_b = position_text(tr, t, loc_a), position_text(tr, t, loc_b)
        p1 = pc.if_else(pa.array(plus), text_a, text_b)
        p2 = pc.if_else(pa.array(plus), text_b, text_a)
        ranged = pa.array((op != SNV) & ((g_first != g_last) | (op == INS)))
        hgvs_c = join(choose(["n.", "c."], tr.cds_first[t] > 0), p1,
                       pc.if_else(ranged, pa.scalar("_", pa.large_string()), EMPTY),
                       pc.if_else(ranged, p2, EMPTY),
                       choose(["", "del", "ins", "dup", "delins"], op), added)
        flags = self._region_flags(t, op, g_first, g_last, loc_a, loc_b)
        rows, texts = self._protein(t, op, loc_a, loc_b, added, flags)
        hgvs_p = _scatter(pa.array([""] * n, pa.large_string()) if n else _NO_TEXT, rows,
                          texts)
        exon, intron = _numbers(tr, t, loc_a, loc_b)
        return Described(hgvs_c, hgvs_p, flags, exon, intron)

    def _change(self, t: int, start: int, deleted: str, inserted: str, low: int, high: int
                ) -> tuple[int, int, int, str]:
        """`normalise` a trimmed change on transcript `t` (without the contig's bases: as
        it is)."""
        tr = self.tr
        if len(deleted) == 1 == len(inserted):
            return SNV, start, start, ""
        name = self.fasta.name(str(tr.chrom[t]))
        if name is None or (deleted and inserted) or not (deleted or inserted):
            if deleted and not inserted:
                return DEL, start, start + len(deleted) - 1, ""
            if inserted and not deleted:
                return INS, start - 1, start, inserted
            return DELINS, start, start + max(len(deleted), 1) - 1, inserted
        return normalise(self.fasta, name, start, deleted, inserted, int(tr.strand[t]), low,
                         high)

    def _region_flags(self, t: np.ndarray, op: np.ndarray, g_first: np.ndarray,
                      g_last: np.ndarray, a: Located, b: Located) -> np.ndarray:
        """Consequence flags from where the ends lie (the CDS marked coding_sequence_variant,
        for `_protein` to refine)."""
        fa, fb = self._position_flags(t, a), self._position_flags(t, b)
        insertion = op == INS
        splice_site = _DONOR | _ACCEPTOR
        both_site = fa & fb & splice_site
        union = fa | fb
        flags = np.where(insertion, (union & ~splice_site) | both_site, union)
        # An insertion next to a splice site (not in it) is in the splice region.
        near_site = insertion & ((union & splice_site) != 0) & (both_site == 0)
        flags = np.where(near_site, flags | _SPLICE_REGION, flags)
        # A deletion across an exon-intron border removes the intron's end base.
        crossing = ~insertion & ((a.kind != b.kind) | (a.number != b.number))
        if crossing.any():
            flags[crossing] |= self._crossed(t[crossing], g_first[crossing], g_last[crossing])
        return flags

    def _position_flags(self, t: np.ndarray, loc: Located) -> np.ndarray:
        tr = self.tr
        coding = tr.cds_first[t] > 0
        exon, intron = loc.kind == EXON, loc.kind == INTRON
        tpos = loc.tpos
        flags = np.zeros(len(t), dtype=np.int64)
        in_cds = exon & coding & (tpos >= tr.cds_first[t]) & (tpos <= tr.cds_last[t])
        flags |= np.where(in_cds, _CODING, 0)
        flags |= np.where(exon & coding & (tpos < tr.cds_first[t]), BIT["5_prime_UTR_variant"], 0)
        flags |= np.where(exon & coding & (tpos > tr.cds_last[t]), BIT["3_prime_UTR_variant"], 0)
        flags |= np.where(exon & ~coding, BIT["non_coding_transcript_exon_variant"], 0)
        flags |= np.where(exon & (loc.edge < 3), _SPLICE_REGION, 0)
        distance = np.abs(loc.offset)
        site = intron & (distance <= 2)
        flags |= np.where(site & (loc.offset > 0), _DONOR, 0)
        flags |= np.where(site & (loc.offset < 0), _ACCEPTOR, 0)
        flags |= np.where(intron & (distance > 2), _INTRON, 0)
        flags |= np.where(intron & (distance > 2) & (distance <= 8), _SPLICE_REGION, 0)
        flags |= np.where(loc.kind == UPSTREAM, BIT["upstream_gene_variant"], 0)
        flags |= np.where(loc.kind == DOWNSTREAM, BIT["downstream_gene_variant"], 0)
        return flags

    def _crossed(self, t: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Splice sites inside deletions starts..ends that cross exon borders (few: a
        loop)."""
        tr = self.tr
        out = np.zeros(len(t), dtype=np.int64)
        for k, (tt, low, high) in enumerate(zip(t.tolist(), starts.tolist(), ends.tolist(),
                                                 strict=True)):
            first = int(tr.ex_first[tt])
            count = int(tr.ex_count[tt])
            for e in range(first, first + count):
                # The intron base after this exon and the one before it (genomic order).
                if e < first + count - 1 and low <= tr.ex_end[e] + 1 <= high:
                    out[k] |= _DONOR if tr.strand[tt] > 0 else _ACCEPTOR
                if e > first and low <= tr.ex_start[e] - 1 <= high:
                    out[k] |= _ACCEPTOR if tr.strand[tt] > 0 else _DONOR
        return out

    def _protein(self, t: np.ndarray, op: np.ndarray, a: Located, b: Located,
                 added: pa.Array, flags: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """p. and the coding consequence (into `flags`) of the pairs whose change touches a
        CDS: those pairs and their p. texts."""
        tr = self.tr
        touching = (flags & _CODING) != 0
        same_exon = (a.kind == EXON) & (b.kind == EXON) & (a.number == b.number)
        rows = np.flatnonzero(touching)
        texts = ["p.?"] * len(rows)
        new_bases = added.take(pa.array(rows)).to_pylist()
        for k, row in enumerate(rows.tolist()):
            if not same_exon[row]:
                continue
            tt = int(t[row])
            low, high = sorted((int(a.tpos[row]), int(b.tpos[row])))
            first, last = int(tr.cds_first[tt]), int(tr.cds_last[tt])
            kind, new = int(op[row]), new_bases[k]
            if kind == INS:  # between low and high
                start, end = high, high - 1
                inside = first < high <= last
            elif kind == DUP:  # a copy after high
                start, end, new = high + 1, high, None
                inside = first <= high < last
            else:
                start, end = low, high
                inside = True
                new = new.split(">")[1] if kind == SNV else new
            if not inside:  # next to the CDS: UTR
                texts[k] = ""
                flags[row] &= ~_CODING
                flags[row] |= BIT["3_prime_UTR_variant" if high > last - (kind == DUP)
                                  else "5_prime_UTR_variant"]
                continue
            coding = self.coding(tt)
            if new is None:
                new = coding.mrna[low - 1:high]
            texts[k], effect = protein_change(coding, first, last, start, end, new)
            flags[row] = (flags[row] & ~_CODING) | effect
        return rows, texts


def _revcomp_change(seq: str) -> str:
    """New bases, or REF>ALT, on the other strand."""
    if ">" in seq:
        before, _, after = seq.partition(">")
        return f"{revcomp(before)}>{revcomp(after)}"
    return revcomp(seq)


_NO_TEXT = pa.array([], pa.large_string())


def _scatter(base: pa.Array, rows: np.ndarray, values: list[str]) -> pa.Array:
    """`base` with `values` at `rows`."""
    if not len(rows):
        return base
    index = np.arange(len(base), dtype=np.int64)
    index[rows] = len(base) + np.arange(len(rows))
    return pa.concat_arrays([base, pa.array(values, pa.large_string())]).take(pa.array(index))


def _snv_text(ref: pa.Array, alt: pa.Array, plus: np.ndarray) -> pa.Array:
    """'REF>ALT' per pair, complemented on minus-strand transcripts (each distinct pair of
    alleles formatted once)."""
    encoded = pc.dictionary_encode(join(ref, ">", alt))
    forward = encoded.dictionary.to_pylist()
    both = pa.array(forward + [_revcomp_change(v) for v in forward], pa.large_string())
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return both.take(pa.array(np.where(plus, codes, codes + len(forward))))


def _numbers(tr: Transcripts, t: np.ndarray, a: Located, b: Located) -> tuple[pa.Array,
                                                                              pa.Array]:
    """EXON and INTRON fields: 'n/total' or 'n-m/total' of the exons (introns) the ends lie
    in; '' for none."""
    out = []
    for kind, total in ((EXON, tr.ex_count[t]), (INTRON, tr.ex_count[t] - 1)):
        in_a, in_b = a.kind == kind, b.kind == kind
        low = np.where(in_a & in_b, np.minimum(a.number, b.number),
                       np.where(in_a, a.number, b.number))
        high = np.where(in_a & in_b, np.maximum(a.number, b.number), low)
        any_end = in_a | in_b
        text = join(_strings(low), pc.if_else(
            pa.array(high != low), join("-", _strings(high)), pa.scalar("", pa.large_string())),
            "/", _strings(total))
        out.append(pc.if_else(pa.array(any_end), text, pa.scalar("", pa.large_string())))
    return out[0], out[1]
