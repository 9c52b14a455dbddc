"""VEP-style `INFO/CSQ` for the ranked VCFs and the candidate list's `transcript`, `hgvs_c`
and `hgvs_p`, from the GFF3's gene models (and the reference FASTA for small variants).

One CSQ entry per gene a variant lies in (its span), on the gene's chosen transcript (see
`helgenom.rank.gff3`: MANE Select, Ensembl canonical, else the longest CDS), which is
therefore always CANONICAL=YES. The fields, in the header's `Format:` order, are those Scout
reads (`scout/parse/variant/transcript.py`, keys upper-cased): Feature (the transcript ID
without version), SYMBOL, HGNC_ID ('HGNC:1234'), Consequence (SO terms joined by '&'), EXON
and INTRON ('3/8'), HGVSc ('ENST...:c.116T>A', the reference versioned when the GFF3 gives
a version), HGVSp ('ENSP...:p.Leu39His'), STRAND (1 / -1), CANONICAL (YES), BIOTYPE; then the
record's clinical annotation (`helgenom.rank.clinical.CSQ_EXTRA`: CLINVAR_CLNSIG,
CLINVAR_CLNREVSTAT, REVEL_score, SpliceAI_pred_DS_AG/AL/DG/DL, as VEP's ClinVar, REVEL and
SpliceAI plugins name them; the same in each gene's entry, empty where not annotated). Values
are percent-encoded where VCF INFO needs it ('p.Leu39=' is written 'p.Leu39%3D', as VEP does).
Small variants also get `most_severe_consequence` (the first SO term of the listed gene's
entry), the INFO key the Clinical Genomics rank models score.

SVs get one entry per gene they overlap: transcript_ablation (the whole transcript deleted),
feature_truncation (exons deleted, or any other SV type over exons), transcript_amplification,
feature_elongation (exons duplicated), intron_variant, upstream/downstream_gene_variant.
(`helgenom.rank.genes` calls partial deletions exon_loss; Scout knows no exon_loss_variant, so
CSQ says feature_truncation, VEP's term.)

Per variant the work is vectorised (numpy, Arrow); see `helgenom.rank.hgvs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import quote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helgenom.io.vcf import arrow_strings
from helgenom.rank.clinical import CSQ_EXTRA, CSQ_PREFIX
from helgenom.rank.consequence import impact, severity, str_array, text_column
from helgenom.rank.genes import SV_EFFECTS, overlaps, same_contig, svtype_group
from helgenom.rank.hgvs import EMPTY, Describer, Transcripts, choose, join, term_text
from helgenom.rank.sequence import open_fasta

CSQ_FORMAT = ("Allele", "Consequence", "IMPACT", "SYMBOL", "Gene", "Feature_type", "Feature",
              "BIOTYPE", "EXON", "INTRON", "HGVSc", "HGVSp", "STRAND", "CANONICAL", "HGNC_ID",
              *CSQ_EXTRA)
CSQ_DESCRIPTION = "Consequence annotations from helgenom. Format: " + "|".join(CSQ_FORMAT)
CSQ_HEADER = f'##INFO=<ID=CSQ,Number=.,Type=String,Description="{CSQ_DESCRIPTION}">\n'


def csq_header(padding: Sequence[str] = ()) -> str:
    """The ##INFO line of helgenom's CSQ, with the (always empty) `padding` columns after
    CSQ_FORMAT: those a rank model reads that helgenom does not fill (VEP plugins' MaxEntScan,
    PolyPhen, ...), so that `genmod score` can score the VCF with that model (GENMOD fails on
    a CSQ column the header does not declare)."""
    if not padding:
        return CSQ_HEADER
    return CSQ_HEADER.replace('">', "|" + "|".join(padding) + '">')
# The candidate list's columns from here.
HGVS_COLUMNS = ("transcript", "hgvs_c", "hgvs_p")
# Rows annotated at a time (bounds the memory of the per-pair arrays).
ROWS_PER_PART = 1 << 18

_SV_ALLELE = {"DEL": "deletion", "DUP": "duplication", "DUP:TANDEM": "tandem_duplication",
              "INV": "inversion", "INS": "insertion", "CNV": "copy_number_variation",
              "BND": "chromosome_breakpoint"}
_SV_TERM = {**SV_EFFECTS, ("loss", "exon"): "feature_truncation"}


def is_own_csq(description_line: str) -> bool:
    """Whether a `##INFO=<ID=CSQ,...>` line is helgenom's (a VEP CSQ is left as it is)."""
    return "Consequence annotations from helgenom" in description_line


def _encode(value: object) -> str:
    """A CSQ field value: characters with a meaning in INFO or CSQ percent-encoded."""
    return quote(str(value), safe="!#$'()*+-./:<>?@[]^_`{}~")


@dataclass
class Annotator:
    """What CSQ and HGVS come from: the chosen transcripts, the reference FASTA (None: SVs
    only), and whether the small variants' VCF gets a CSQ (not when the input has its own)."""

    transcripts: Transcripts
    fasta: str | None
    csq: bool
    padding: tuple[str, ...] = ()  # empty CSQ columns after CSQ_FORMAT (see `csq_header`)

    @property
    def csq_format(self) -> list[str]:
        """The Format columns of the CSQ written."""
        return [*CSQ_FORMAT, *self.padding]

    def for_contigs(self, contigs: list[str]) -> Annotator:
        """The transcripts on `contigs` only (VCF names; the GFF3 may say 1 for chr1)."""
        names = set(self.transcripts.chrom.tolist())
        wanted = {same_contig(c, names) for c in contigs}
        return replace(self, transcripts=self.transcripts.on_contigs(wanted))

    def _pairs(self, chrom: pd.Series, start: np.ndarray, end: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """(row, transcript) of every row whose span start..end lies in a gene (its chosen
        transcript's), by row, then transcript."""
        tr = self.transcripts
        names = set(tr.chrom.tolist())
        codes, contigs = pd.factorize(chrom)
        renamed = np.array([same_contig(str(c), names) for c in contigs] + [""],
                           dtype=object)[codes]
        hits = overlaps(renamed.astype(str), start, end, pd.DataFrame({
            "chrom": tr.chrom, "start": tr.gene_start, "end": tr.gene_end}))
        return hits["row"].to_numpy(dtype=np.int64), hits["idx"].to_numpy(dtype=np.int64)

    def small_variants(self, table: pd.DataFrame) -> pd.DataFrame:
        """Columns transcript, hgvs_c, hgvs_p and csq ('' for none) of small variants
        (CHROM, POS, REF, ALT and `gene`, the gene the row is listed under)."""
        assert self.fasta is not None
        describer = Describer(self.transcripts, open_fasta(self.fasta))
        texts = self._texts()
        parts = [self._small_part(table.iloc[start:start + ROWS_PER_PART], describer, texts)
                 for start in range(0, len(table), ROWS_PER_PART)]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype="str") for c in (
                *HGVS_COLUMNS, "csq", "most_severe_consequence")},
                                index=table.index)
        return pd.concat(parts)

    def _small_part(self, table: pd.DataFrame, describer: Describer,
                    texts: dict[str, pa.Array]) -> pd.DataFrame:
        n = len(table)
        ref, alt = _strings(table["REF"]), _strings(table["ALT"])
        plain = pc.and_(pc.match_substring_regex(ref, "^[ACGTN]+$"),
                        pc.match_substring_regex(alt, "^[ACGTN]+$"))
        plain = pc.fill_null(plain, False).to_numpy(zero_copy_only=False)
        pos = table["POS"].to_numpy(dtype=np.int64)
        ref_length = pc.utf8_length(pc.fill_null(ref, "")).to_numpy()
        row, t = self._pairs(table["CHROM"], pos, pos + np.maximum(ref_length, 1) - 1)
        keep = plain[row]
        row, t = row[keep], t[keep]
        tr = self.transcripts
        described = describer.describe(
            pos[row], ref.take(pa.array(row)), alt.take(pa.array(row)), t)
        index = pa.array(t, pa.int64())
        reference = texts["reference"].take(index)
        hgvs_c = join(reference, ":", described.hgvs_c)
        has_p = pc.greater(pc.utf8_length(described.hgvs_p), 0)
        hgvs_p = pc.if_else(has_p, join(texts["protein"].take(index), ":", pc.replace_substring(
            described.hgvs_p, "=", "%3D")), EMPTY)
        flags, term_codes = np.unique(described.flags, return_inverse=True)
        terms = [term_text(int(f)) for f in flags]
        consequence = choose(terms, term_codes)
        impacts = choose([impact(term) for term in terms], term_codes)
        entries = join(_allele(ref, alt).take(pa.array(row)), "|", consequence, "|",
                       impacts, "|", texts["middle"].take(index), "|", described.exon, "|",
                       described.intron, "|", hgvs_c, "|", hgvs_p, "|",
                       texts["tail"].take(index), "|", _take(_extras(table), row),
                       "|" * len(self.padding))
        out = pd.DataFrame(index=table.index)
        genes = table["gene"].astype(str).to_numpy(dtype=object)[row] if len(row) else []
        listed = np.asarray(tr.symbol[t] == genes, dtype=bool)
        rank = np.array([severity(term) for term in terms], dtype=np.int64)[term_codes]
        best = _first_per_row(row, np.lexsort((np.arange(len(row)), rank, ~listed, row)))
        chosen = np.full(n, -1, dtype=np.int64)
        chosen[row[best]] = best
        out["transcript"] = _str_column(reference, chosen)
        out["hgvs_c"] = _str_column(hgvs_c, chosen)
        out["hgvs_p"] = _str_column(described.hgvs_p, chosen)
        out["csq"] = _per_row(entries, row, n)
        first_term = pc.replace_substring_regex(consequence, "&.*$", "")
        out["most_severe_consequence"] = _str_column(first_term, chosen)
        return out

    def structural_variants(self, table: pd.DataFrame) -> pd.Series:
        """The CSQ of SVs (CHROM, POS, END, SVTYPE), '' for none."""
        tr = self.transcripts
        pos = table["POS"].to_numpy(dtype=np.int64)
        end = np.maximum(table["END"].to_numpy(dtype=np.int64), pos)
        row, t = self._pairs(table["CHROM"], pos, end)
        svtype = table["SVTYPE"].fillna("").astype(str).to_numpy(dtype=object)
        group = np.array([svtype_group(s) for s in svtype[row]], dtype=object)
        p, e = pos[row], end[row]
        whole = (tr.start[t] >= p) & (tr.end[t] <= e)
        # Exons are sorted and apart: the last one starting before the SV's end is the one
        # that reaches furthest into it.
        last = np.searchsorted(tr.ex_key, (t << 32) | e, side="right") - 1
        exon = (last >= tr.ex_first[t]) & (tr.ex_end[np.maximum(last, 0)] >= p)
        relation = np.where(whole, "whole", np.where(exon, "exon", ""))
        plus = tr.strand[t] > 0
        outside = np.where((e < tr.start[t]) == plus, "upstream_gene_variant",
                           "downstream_gene_variant")
        inside = (e >= tr.start[t]) & (p <= tr.end[t])
        terms = [(_SV_TERM[(g, r)] if r else ("intron_variant" if i else o))
                 for g, r, i, o in zip(group.tolist(), relation.tolist(), inside.tolist(),
                                       outside.tolist(), strict=True)]
        codes, distinct = pd.factorize(pd.Series(terms, dtype=object))
        texts = [str(d) for d in distinct]
        allele = np.array([_SV_ALLELE.get(s, s.lower() or "sv") for s in svtype],
                          dtype=object)[row]
        transcript = self._texts()
        index = pa.array(t, pa.int64())
        entries = join(pa.array(allele.tolist(), pa.large_string()), "|",
                       choose(texts, codes), "|", choose([impact(x) for x in texts], codes),
                       "|", transcript["middle"].take(index), "|||||",
                       transcript["tail"].take(index),
                       "|" * (len(CSQ_EXTRA) + len(self.padding)))
        return pd.Series(_per_row(entries, row, len(table)), index=table.index)

    def _texts(self) -> dict[str, pa.Array]:
        """Per transcript: the HGVS references of c. and p., and the CSQ fields
        SYMBOL|Gene|Feature_type|Feature|BIOTYPE ("middle") and STRAND|CANONICAL|HGNC_ID
        ("tail")."""
        tr = self.transcripts
        middle = [f"{_encode(s)}|{_encode(g)}|Transcript|{_encode(f)}|{_encode(b)}"
                  for s, g, f, b in zip(tr.symbol, tr.gene_id, tr.feature, tr.biotype,
                                        strict=True)]
        tail = [f"{int(s)}|YES|{_encode(h)}" for s, h in zip(tr.strand, tr.hgnc_id,
                                                              strict=True)]
        return {name: pa.array(list(values), pa.large_string()) for name, values in (
            ("reference", tr.reference.tolist()), ("protein", tr.protein.tolist()),
            ("middle", middle), ("tail", tail))}


def _extras(table: pd.DataFrame) -> pa.Array | str:
    """Per row the CSQ_EXTRA fields joined by '|' (empty where the table has no such column
    or no value), percent-encoded, a ',' as '&'; one text for every row when the table has
    none of them."""
    columns = [CSQ_PREFIX + key for key in CSQ_EXTRA]
    if not any(column in table for column in columns):
        return "|" * (len(CSQ_EXTRA) - 1)
    parts: list[pa.Array | str] = []
    for column in columns:
        if column in table:
            codes, distinct = pd.factorize(table[column], use_na_sentinel=True)
            # A list's ',' (CLNREVSTAT's) is '&' in CSQ, whose entries ',' separates (VEP).
            choices = ["&".join(map(_encode, str(v).split(","))) for v in distinct.tolist()]
            choices.append("")
            parts.append(choose(choices, np.where(codes < 0, len(choices) - 1, codes)))
        else:
            parts.append("")
    return join(*[x for part in parts for x in ("|", part)][1:])


def _take(values: pa.Array | str, rows: np.ndarray) -> pa.Array | str:
    return values if isinstance(values, str) else values.take(pa.array(rows))


def _strings(column: pd.Series) -> pa.Array:
    values = arrow_strings(column)
    if values is None:
        values = pa.chunked_array([pa.array(column.astype(str).tolist(), pa.large_string())])
    return values.combine_chunks()


def _allele(ref: pa.Array, alt: pa.Array) -> pa.Array:
    """The ALT as VEP writes it: an indel without the base it shares with REF ('-' for a
    deletion)."""
    shared = pc.and_(pc.equal(pc.utf8_slice_codeunits(ref, 0, 1),
                              pc.utf8_slice_codeunits(alt, 0, 1)),
                     pc.not_equal(pc.utf8_length(ref), pc.utf8_length(alt)))
    rest = pc.utf8_slice_codeunits(alt, 1)
    trimmed = pc.if_else(pc.equal(rest, ""), pa.scalar("-", pa.large_string()), rest)
    return pc.fill_null(pc.if_else(shared, trimmed, alt), "")


def _first_per_row(row: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The first pair of each row in `order` (sorted by row first)."""
    ordered = row[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]] if len(order) else np.zeros(0, bool)
    return order[first]


def _str_column(values: pa.Array, chosen: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """values[chosen] per row, '' where chosen is -1, as a pandas "str" column."""
    taken = pa.concat_arrays([values.cast(pa.large_string()), pa.array([""], pa.large_string())])
    return str_array(taken.take(pa.array(np.where(chosen < 0, len(values), chosen))))


def _per_row(entries: pa.Array, row: np.ndarray, n: int) -> pd.api.extensions.ExtensionArray:
    """The entries of each row (pairs sorted by row) joined by ','; '' for rows without."""
    counts = np.bincount(row, minlength=n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), entries.cast(pa.large_string()))
    return str_array(pc.binary_join(lists, pa.scalar(",", pa.large_string())))


def empty_columns(table: pd.DataFrame, hgvs_input: bool) -> pd.DataFrame:
    """transcript, hgvs_c, hgvs_p all '' (no gene models or reference); with `hgvs_input`
    (a VEP CSQ or snpEff ANN annotation) hgvs_p is its HGVSp, where there is one."""
    zeros = np.zeros(len(table), dtype=np.int64)
    out = pd.DataFrame({c: text_column([""], zeros) for c in HGVS_COLUMNS}, index=table.index)
    if hgvs_input and "protein_change" in table and len(table):
        protein = table["protein_change"].astype(str)
        out["hgvs_p"] = protein.where(protein.str.startswith("p."), "").astype("str")
    return out
