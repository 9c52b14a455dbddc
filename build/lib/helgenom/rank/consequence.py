"""Gene and consequence from variant annotations in INFO: bcftools csq `BCSQ`, VEP `CSQ`,
snpEff `ANN` or GENMOD `Annotation` (gene symbols only, no consequence).

Every term is normalised to the bcftools csq / Sequence Ontology vocabulary without the
`_variant` suffix (`missense_variant` -> `missense`, `intergenic_region` -> `intergenic`);
severity follows the VEP impact classes below. Only distinct annotation strings are parsed (for
CSQ/ANN distinct string, REF, ALT: the entries of the record's allele are picked), so the cost
grows with the number of distinct values, not rows.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helgenom.io.vcf import VcfHeader, arrow_strings

SOURCES = ("BCSQ", "CSQ", "ANN", "Annotation")

IMPACT = {
    "HIGH": ("transcript_ablation", "exon_loss", "splice_acceptor", "splice_donor",
             "stop_gained", "frameshift", "stop_lost", "start_lost", "transcript_amplification",
             "feature_truncation"),
    "MODERATE": ("inframe_insertion", "inframe_deletion", "inframe_altering", "missense",
                 "protein_altering", "coding_sequence_duplication"),
    "LOW": ("splice_region", "synonymous", "stop_retained", "start_retained", "coding_sequence"),
    "MODIFIER": ("5_prime_utr", "3_prime_utr", "non_coding", "intron", "feature_elongation",
                 "nmd_transcript", "intragenic", "regulatory_region", "upstream", "downstream",
                 "intergenic"),
}
# Most severe first; a lower index is more severe.
SEVERITY_ORDER: list[str] = [term for terms in IMPACT.values() for term in terms]
_RANK = {term: index for index, term in enumerate(SEVERITY_ORDER)}
IMPACT_OF = {term: impact for impact, terms in IMPACT.items() for term in terms}
UNKNOWN_RANK = len(SEVERITY_ORDER)
# A term we do not know ranks last of the class its source gives (VEP IMPACT, snpEff impact).
_CLASS_RANK = {impact: _RANK[terms[-1]] for impact, terms in IMPACT.items()}

# VEP / snpEff names (lower case, `_variant` removed) that differ from ours.
ALIASES = {
    "upstream_gene": "upstream", "downstream_gene": "downstream",
    "intergenic_region": "intergenic", "conserved_intergenic": "intergenic",
    "conserved_intron": "intron",
    "non_coding_transcript_exon": "non_coding", "non_coding_transcript": "non_coding",
    "non_coding_exon": "non_coding", "nc_transcript": "non_coding",
    "mature_mirna": "non_coding", "mirna": "non_coding",
    "5_prime_utr_premature_start_codon_gain": "5_prime_utr",
    "conservative_inframe_insertion": "inframe_insertion",
    "disruptive_inframe_insertion": "inframe_insertion",
    "conservative_inframe_deletion": "inframe_deletion",
    "disruptive_inframe_deletion": "inframe_deletion",
    "initiator_codon": "start_retained", "incomplete_terminal_codon": "coding_sequence",
    "splice_donor_5th_base": "splice_region", "splice_donor_region": "splice_region",
    "splice_polypyrimidine_tract": "splice_region",
    "feature_ablation": "transcript_ablation", "tf_binding_site": "regulatory_region",
}
# Entries only near a gene (not in it) do not count among the genes hit.
_NEAR_ONLY = frozenset({"upstream", "downstream", "intergenic"})

# Fields used per delimited source: allele, consequence, impact, gene (symbol, then id),
# HGVS protein, protein position and amino acids (VEP, when HGVSp is empty).
_FIELDS = {
    "CSQ": ("Allele", "Consequence", "IMPACT", "SYMBOL", "Gene", "HGVSp", "Protein_position",
            "Amino_acids"),
    "ANN": ("Allele", "Annotation", "Annotation_Impact", "Gene_Name", "Gene_ID", "HGVS.p", "",
            ""),
}
# Layouts when the header has no `Format:` (VEP's default --vcf fields; snpEff's fixed ANN).
_DEFAULT_LAYOUT = {
    "CSQ": "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|"
           "HGVSc|HGVSp|cDNA_position|CDS_position|Protein_position|Amino_acids|Codons|"
           "Existing_variation|DISTANCE|STRAND|FLAGS|SYMBOL_SOURCE|HGNC_ID",
    "ANN": "Allele|Annotation|Annotation_Impact|Gene_Name|Gene_ID|Feature_Type|Feature_ID|"
           "Transcript_BioType|Rank|HGVS.c|HGVS.p|cDNA.pos / cDNA.length|CDS.pos / CDS.length|"
           "AA.pos / AA.length|Distance|ERRORS / WARNINGS / INFO",
}


# One transcript/gene entry: (terms, gene, protein change, source impact, allele). A plain
# tuple: millions are made.
Entry = tuple[tuple[str, ...], str, str, str, str]


class Summary(NamedTuple):
    consequence: str
    gene: str
    genes: tuple[str, ...]
    protein_change: str
    severity: int
    impact: str


UNKNOWN = Summary("", "", (), "", UNKNOWN_RANK, "MODIFIER")


@cache
def normalise(term: str) -> str:
    """One consequence term in our vocabulary: `5_prime_UTR_variant` -> `5_prime_utr`."""
    term = term.strip().lower().removesuffix("_variant")
    return ALIASES.get(term, term)


@cache
def _terms(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(normalise(part) for part in text.split("&") if part.strip()))


def severity(term: str) -> int:
    """Rank of a (possibly `&`-combined) consequence: the most severe of its parts."""
    return _rank(_terms(term), "")


def impact(term: str) -> str:
    rank = severity(term)
    return IMPACT_OF[SEVERITY_ORDER[rank]] if rank < UNKNOWN_RANK else "MODIFIER"


@cache
def _rank(terms: tuple[str, ...], source_impact: str) -> int:
    """Most severe of `terms`; one we do not know ranks as the source's impact says."""
    ranks = [_RANK[t] for t in terms if t in _RANK]
    if len(ranks) < len(terms):
        ranks.append(_CLASS_RANK.get(source_impact.upper(), UNKNOWN_RANK))
    return min(ranks, default=UNKNOWN_RANK)


@cache
def _in_gene(terms: tuple[str, ...]) -> bool:
    return not terms or not set(terms) <= _NEAR_ONLY


def summarise(entries: list[Entry]) -> Summary:
    """The most severe entry (first on ties) with its gene, and every gene hit."""
    best, rank, genes = None, UNKNOWN_RANK + 1, {}
    for entry in entries:
        terms, gene = entry[0], entry[1]
        entry_rank = _rank(terms, entry[3])
        if entry_rank < rank:
            best, rank = entry, entry_rank
        if gene and _in_gene(terms):
            genes[gene] = None
    if best is None:
        return UNKNOWN
    gene = best[1] or next((e[1] for e in entries if e[1]), "")
    level = IMPACT_OF[SEVERITY_ORDER[rank]] if rank < UNKNOWN_RANK else "MODIFIER"
    return Summary("&".join(best[0]), gene, tuple(genes), best[2], rank, level)


def parse_bcsq(text: str) -> Summary:
    """One bcftools csq value: `Consequence|gene|transcript|biotype|strand|aa_change|dna_change`.

    `*` marks a consequence shared with a downstream variant and `@POS` points at the record
    that carries a combined consequence: both are stripped / skipped.
    """
    entries: list[Entry] = []
    for raw in text.split(","):
        if not raw or raw[0] == "@":
            continue
        fields = raw.lstrip("*").split("|", 6)
        n = len(fields)
        entries.append((_terms(fields[0]), fields[1] if n > 1 else "",
                        fields[5] if n > 5 else "", "", ""))
    return summarise(entries)


def parse_genes(text: str) -> Summary:
    """GENMOD `Annotation`: gene symbols only, comma-separated; consequence unknown."""
    genes = tuple(dict.fromkeys(g.strip() for g in text.split(",") if g.strip()))
    return UNKNOWN._replace(gene=genes[0] if genes else "", genes=genes)


def allele_forms(ref: str, alt: str, vep: bool) -> list[str]:
    """Ways an annotator may spell this ALT, most likely first.

    VEP drops the first base shared by REF and every ALT of an indel record (REF=AT ALT=A is
    `-`); on a record split from a multi-allelic one even an SNV may carry that trimming, and
    `--minimal` trims shared suffixes too. snpEff writes the ALT as is.
    """
    shared = ref[:1] == alt[:1] and max(len(ref), len(alt)) > 1
    trimmed = (alt[1:] or "-") if shared else ""
    r, a = ref, alt
    while r and a and r[-1] == a[-1]:
        r, a = r[:-1], a[:-1]
    while r and a and r[0] == a[0]:
        r, a = r[1:], a[1:]
    forms = [trimmed, alt] if vep and len(ref) != len(alt) else [alt, trimmed]
    return list(dict.fromkeys(f for f in [*forms, a or "-"] if f))


def parse_delimited(text: str, ref: str, alt: str, index: tuple[int, ...], vep: bool
                    ) -> Summary:
    """One VEP CSQ / snpEff ANN value, restricted to the entries of this record's ALT (all
    entries when none matches). `index` holds the positions of the `_FIELDS` (-1 absent)."""
    entries: list[Entry] = []
    last = max(index) + 1
    for raw in text.split(","):
        if not raw:
            continue
        fields = raw.split("|", last)
        n = len(fields)
        allele, term, level, symbol, gene_id, hgvsp, position, amino = (
            fields[i] if -1 < i < n else "" for i in index)
        protein = hgvsp.rpartition(":")[2]
        if "%" in protein:
            protein = unquote(protein)
        elif not protein and "/" in amino and position:
            before, _, after = amino.partition("/")
            protein = f"{position}{before}>{position}{after}"
        entries.append((_terms(term), symbol or gene_id, protein, level, allele))
    if len({e[4] for e in entries}) > 1:
        for form in allele_forms(ref, alt, vep):
            chosen = [e for e in entries if e[4] == form]
            if chosen:
                return summarise(chosen)
    return summarise(entries)


def layout(header: VcfHeader | None, source: str) -> list[str]:
    """Sub-field names of CSQ/ANN from the header Description ('... Format: A|B|C')."""
    prefix = f"##INFO=<ID={source},"
    for line in header.lines if header else []:
        if line.startswith(prefix):
            match = re.search(r'Description="((?:[^"\\]|\\.)*)"', line)
            text = match.group(1) if match else ""
            text = text.split("Format:", 1)[1] if "Format:" in text else text.partition(":")[2]
            names = [name.strip() for name in text.strip().strip("'\"").split("|")]
            if _FIELDS[source][1] in names:
                return names
    return _DEFAULT_LAYOUT[source].split("|")


def annotation_source(header: VcfHeader, prefer: str | None = None) -> str | None:
    """`prefer` if the header has it, else the first of SOURCES it has; None if none."""
    if prefer is not None and prefer not in SOURCES:
        raise ValueError(f"unknown annotation source {prefer!r}: use one of {', '.join(SOURCES)}")
    if prefer in header.info:
        return prefer
    return next((s for s in SOURCES if s in header.info), None)


def annotation_fields(source: str | None) -> list[str]:
    """INFO fields to request from `read_variants` for `source`."""
    return [source] if source else []


def _distinct(columns: list[pd.Series]) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Per-row codes of the distinct value combinations of `columns` (NA as ''), and those."""
    codes, keys = np.zeros(len(columns[0]), dtype=np.int64), [()]
    for column in columns:
        part, uniques = pd.factorize(column)  # NA -> -1, read as labels[-1]
        labels, width = [*map(str, uniques), ""], len(uniques) + 1
        codes, combined = pd.factorize(codes * width + part + 1)
        keys = [keys[c // width] + (labels[c % width - 1],) for c in combined.tolist()]
    return codes, keys


def gene_annotation(table: pd.DataFrame, source: str | None, header: VcfHeader | None = None
                    ) -> pd.DataFrame:
    """Columns consequence, gene, genes (tuple), protein_change, severity, impact per row.

    `table` has CHROM POS REF ALT and the `source` INFO column (strings or NA).
    """
    if source == "BCSQ" and source in table:
        values = arrow_strings(table[source])
        if values is not None:
            return _bcsq_annotation(values, table.index)
    parsed: list[Summary]
    if source is None or source not in table:
        codes, parsed = np.zeros(len(table), dtype=np.int64), [UNKNOWN]
    elif source in ("CSQ", "ANN"):
        names = layout(header, source)
        index = tuple(names.index(f) if f in names else -1 for f in _FIELDS[source])
        codes, keys = _distinct([table[source], table["REF"], table["ALT"]])
        parsed = [parse_delimited(v, r, a, index, source == "CSQ") for v, r, a in keys]
    else:
        codes, keys = _distinct([table[source]])
        parse = parse_bcsq if source == "BCSQ" else parse_genes
        parsed = [parse(value) for (value,) in keys]

    out = pd.DataFrame(index=table.index)
    for i, name in enumerate(Summary._fields):
        values = [p[i] for p in parsed]
        if name == "genes":
            array = np.empty(len(values), dtype=object)
            array[:] = values
            out[name] = array[codes]
        elif name == "severity":
            out[name] = np.array(values, dtype=np.int64)[codes]
        else:
            out[name] = pd.array(values, dtype="str").take(codes)
    return out


# ------------------------------------------------------------------ BCSQ, vectorised (Arrow)
#
# `parse_bcsq` per distinct value costs microseconds; whole-genome tables hold millions of
# distinct BCSQ strings (the DNA change makes nearly every one unique). The same rules run here
# on many values at once: entries are split out, their fields cut by regular expressions, the
# (few) distinct consequence strings ranked in Python, and the most severe entry (first on
# ties) and the genes hit picked per value with numpy. Rows go in parts (bounded memory), two
# at a time (Arrow and numpy release the GIL).

_ROWS_PER_PART = 1 << 18
# Fields 0 (consequence) and 1 (gene), and 5 (protein change) of `raw.split("|", 6)`; written
# so that RE2 matches them in one pass.
_BCSQ_HEAD = r"^(?P<c>[^|]*)(?:\|(?P<g>[^|]*))?"
_BCSQ_PROTEIN = r"^[^|]*(?:\|[^|]*(?:\|[^|]*(?:\|[^|]*(?:\|[^|]*(?:\|(?P<p>[^|]*))?)?)?)?)?"
_IMPACT_BY_RANK = pa.array([IMPACT_OF[term] for term in SEVERITY_ORDER] + ["MODIFIER"],
                           pa.large_string())
_STR_DTYPE = pd.array([], dtype="str").dtype


def str_array(values: pa.Array | pa.ChunkedArray) -> pd.api.extensions.ExtensionArray:
    """Arrow strings as the array `pd.array(list, dtype="str")` would make."""
    if hasattr(_STR_DTYPE, "__from_arrow__"):
        return _STR_DTYPE.__from_arrow__(values)
    return pd.array(values.to_numpy(zero_copy_only=False), dtype="str")


def text_column(choices: list[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """`choices[code]` per code, as a pandas "str" array made in Arrow: a DataFrame column
    from a numpy array of Python or numpy strings is converted string by string."""
    return str_array(pa.array(choices, pa.large_string()).take(
        pa.array(np.asarray(codes, dtype=np.int64))))


def _first_per_group(group: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted `group` labels: (groups, position of their first True in `mask`)."""
    where = np.flatnonzero(mask)
    labels = group[where]
    first = np.r_[True, labels[1:] != labels[:-1]] if len(where) else np.zeros(0, dtype=bool)
    return labels[first], where[first]


class _GeneSets:
    """Tuples of gene names, one object per distinct tuple (shared by every row)."""

    def __init__(self) -> None:
        self.tuples: dict[tuple[str, ...], tuple[str, ...]] = {(): ()}

    def of(self, n: int, owner: np.ndarray, gene: np.ndarray, names: list[str]) -> np.ndarray:
        """Per value 0..n-1: its distinct genes in order of first appearance, from (owner,
        gene code) pairs in entry order (owners ascending)."""
        key = owner.astype(np.int64) * (len(names) + 1) + gene
        _, first = np.unique(key, return_index=True)
        first.sort()
        owner, gene = owner[first], gene[first]
        counts = np.bincount(owner, minlength=n)
        out = np.empty(n, dtype=object)
        out.fill(())
        intern = self.tuples.setdefault
        single = counts[owner] == 1
        used = np.unique(gene[single])
        lookup = np.empty(len(names), dtype=object)
        lookup[used] = np.fromiter((intern((names[g],), (names[g],)) for g in used.tolist()),
                                   dtype=object, count=len(used))
        out[owner[single]] = lookup[gene[single]]
        multi = np.flatnonzero(counts > 1)
        if len(multi):
            # Each value's gene codes as one binary string: distinct lists by hashing.
            several = ~single
            offsets = np.zeros(len(multi) + 1, dtype=np.int32)
            np.cumsum(counts[multi], out=offsets[1:])
            packed = pa.BinaryArray.from_buffers(
                pa.binary(), len(multi),
                [None, pa.py_buffer(offsets * 4), pa.py_buffer(gene[several].astype("<i4"))])
            encoded = pc.dictionary_encode(packed)
            distinct = np.fromiter(
                (intern(t, t) for t in (
                    tuple(names[g] for g in np.frombuffer(b, dtype="<i4").tolist())
                    for b in encoded.dictionary.to_pylist())),
                dtype=object, count=len(encoded.dictionary))
            out[multi] = distinct[encoded.indices.to_numpy()]
        return out


def _take_or_empty(values: pa.Array, index: np.ndarray) -> pa.Array:
    """values[index], '' where index is -1."""
    if not len(values):
        return pa.array([""] * len(index), pa.large_string())
    taken = values.take(pa.array(np.maximum(index, 0), mask=index < 0))
    return pc.fill_null(taken, "")


@dataclass
class _BcsqPart:
    consequence: pa.Array
    gene: pa.Array
    genes: np.ndarray
    protein: pa.Array
    severity: np.ndarray


def _bcsq_values(values: pa.Array, gene_sets: _GeneSets) -> _BcsqPart:
    """`parse_bcsq` of every value (no NA)."""
    n = len(values)
    entries_lists = pc.split_pattern(values, ",")
    owner = pc.list_parent_indices(entries_lists).to_numpy()
    entries = pc.list_flatten(entries_lists)
    del entries_lists
    keep = pc.invert(pc.or_(pc.equal(entries, ""), pc.starts_with(entries, "@")))
    entries = pc.ascii_ltrim(entries.filter(keep), "*")
    owner = owner[keep.to_numpy(zero_copy_only=False)]
    head = pc.extract_regex(entries, _BCSQ_HEAD)
    terms = pc.dictionary_encode(head.field("c"))
    parsed_terms = [_terms(text) for text in terms.dictionary.to_pylist()]
    term_rank = np.array([_rank(t, "") for t in parsed_terms] + [UNKNOWN_RANK], dtype=np.int64)
    term_in_gene = np.array([_in_gene(t) for t in parsed_terms] + [False], dtype=bool)
    term_text = pa.array(["&".join(t) for t in parsed_terms] + [""], pa.large_string())
    term_code = terms.indices.to_numpy()
    rank = term_rank[term_code]
    gene_field = head.field("g")
    genes = pc.dictionary_encode(gene_field)
    gene_names = genes.dictionary.to_pylist()
    gene_code = genes.indices.to_numpy()
    named = np.array([bool(g) for g in gene_names] + [False], dtype=bool)[gene_code]

    # The most severe entry of each value, first on ties.
    best_rank = np.full(n, UNKNOWN_RANK + 1, dtype=np.int64)
    np.minimum.at(best_rank, owner, rank)
    with_entries, best = _first_per_group(owner, rank == best_rank[owner])
    choice = np.full(n, -1, dtype=np.int64)
    choice[with_entries] = best
    # Its gene, or else the first gene any entry names.
    gene_entry = choice.copy()
    unnamed = with_entries[~named[best]]
    holders, first_named = _first_per_group(owner, named)
    fallback = np.full(n, -1, dtype=np.int64)
    fallback[holders] = first_named
    gene_entry[unnamed] = fallback[unnamed]

    chosen = choice >= 0
    term_of_value = np.full(n, len(parsed_terms), dtype=np.int64)
    term_of_value[chosen] = term_code[choice[chosen]]
    # The protein change only of the chosen entries.
    protein_of_value = np.full(n, -1, dtype=np.int64)
    protein_of_value[chosen] = np.arange(int(chosen.sum()))
    protein = pc.extract_regex(entries.take(pa.array(choice[chosen])), _BCSQ_PROTEIN).field("p")
    hit = named & term_in_gene[term_code]
    return _BcsqPart(
        consequence=term_text.take(pa.array(term_of_value)),
        gene=_take_or_empty(gene_field, gene_entry),
        genes=gene_sets.of(n, owner[hit], gene_code[hit], gene_names),
        protein=_take_or_empty(protein, protein_of_value),
        severity=np.where(chosen, best_rank, UNKNOWN_RANK),
    )


def _bcsq_rows(values: pa.Array, gene_sets: _GeneSets) -> _BcsqPart:
    """`parse_bcsq` per row (NA allowed): each distinct value parsed once."""
    encoded = pc.dictionary_encode(values)
    distinct = pa.concat_arrays([encoded.dictionary, pa.array([""], encoded.dictionary.type)])
    codes = pc.fill_null(encoded.indices, len(distinct) - 1)
    part = _bcsq_values(distinct, gene_sets)
    return _BcsqPart(part.consequence.take(codes), part.gene.take(codes),
                     part.genes[codes.to_numpy()], part.protein.take(codes),
                     part.severity[codes.to_numpy()])


def _bcsq_annotation(values: pa.ChunkedArray, index: pd.Index) -> pd.DataFrame:
    """`gene_annotation` of BCSQ values (Arrow strings, NA allowed)."""
    n = len(values)
    spans = [(start, min(n, start + _ROWS_PER_PART)) for start in range(0, n, _ROWS_PER_PART)]
    gene_sets = _GeneSets()

    def work(span: tuple[int, int]) -> _BcsqPart:
        part = values.slice(span[0], span[1] - span[0]).combine_chunks()
        return _bcsq_rows(part, gene_sets)

    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(work, spans)) or [_bcsq_rows(pa.array([], pa.large_string()),
                                                           gene_sets)]
    out = pd.DataFrame(index=index)
    out["consequence"] = str_array(pa.chunked_array([p.consequence for p in parts]))
    out["gene"] = str_array(pa.chunked_array([p.gene for p in parts]))
    out["genes"] = np.concatenate([p.genes for p in parts])
    out["protein_change"] = str_array(pa.chunked_array([p.protein for p in parts]))
    severity = np.concatenate([p.severity for p in parts]).astype(np.int64)
    out["severity"] = severity
    out["impact"] = str_array(_IMPACT_BY_RANK.take(pa.array(severity)))
    return out


def annotate_bcsq(column: pd.Series) -> pd.DataFrame:
    """`gene_annotation` of a bcftools csq `BCSQ` column (kept for existing callers)."""
    return gene_annotation(column.rename("BCSQ").to_frame(), "BCSQ")
