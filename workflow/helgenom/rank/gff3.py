"""Gene models from a GFF3 file, read once per run: genes, their transcripts, exons and
coding parts, and the one transcript per gene that HGVS notation and the VCF's CSQ use.

GFF3 is read as Ensembl and GENCODE write it: `gene`/`ncRNA_gene`/`pseudogene` lines,
transcripts whose `Parent` is a gene, `exon` and `CDS` lines whose `Parent` is a transcript
(several parents, comma-separated, are allowed). Attributes used: ID, Parent, Name (or
gene_name), biotype (or gene_type / transcript_type), description (the HGNC accession,
`[Source:HGNC Symbol;Acc:HGNC:1234]`, or a `hgnc_id` attribute), tag (MANE_Select,
Ensembl_canonical), version, protein_id. `gene:` and `transcript:` ID prefixes are dropped.

The file is parsed by Arrow's CSV reader in blocks, attributes are cut out by regular
expressions over whole columns, and parents are matched to IDs by hashing: the cost is linear
in the file (an Ensembl GRCh38 GFF3, ~3 million lines, takes a few seconds).

The chosen transcript of a gene: MANE Select if one is tagged, else the Ensembl canonical one,
else the one with the longest CDS, then the longest exonic length, then the first in the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from helgenom.errors import InputError, Problem

GENE_TYPES = ("gene", "ncRNA_gene", "pseudogene")
_SUBFEATURES = ("exon", "CDS", "five_prime_UTR", "three_prime_UTR", "start_codon",
                "stop_codon", "UTR", "Selenocysteine", "stop_codon_redefined_as_selenocysteine")
_COLUMNS = ("seqid", "source", "type", "start", "end", "score", "strand", "phase", "attributes")
_BLOCK_BYTES = 1 << 22
# Lines read for their Parent (and these attributes) only.
_CHILDREN = {"exon": ("Parent",), "CDS": ("Parent", "protein_id"), "stop_codon": ("Parent",)}
_HGNC = re.compile(r"Acc:(HGNC:\d+)")
# Priority of a transcript's tags (lower first); untagged transcripts rank after both.
TAG_PRIORITY = {"MANE_Select": 0, "Ensembl_canonical": 1}


@dataclass
class GeneSet:
    """The genes of a GFF3 (1-based closed coordinates, GFF3 order).

    genes: chrom, start, end, strand, id (as in the file), gene_id (no `gene:` prefix),
        symbol, biotype, hgnc_id ('HGNC:1234' or '');
    transcripts: chrom, start, end, strand, id, transcript_id (no `transcript:` prefix),
        version, gene (row in `genes`), biotype, protein_id, tag_rank (0 MANE Select,
        1 Ensembl canonical, 2 none), cds_start, cds_end (0: non-coding), cds_length,
        exon_length, chosen (the gene's chosen transcript);
    exons: transcript (row in `transcripts`), start, end; sorted by transcript and start;
    gene_exons: chrom, start, end, gene symbol of every exon line, also of exons whose
        parent is the gene itself (what SV gene effects read).
    """

    genes: pd.DataFrame
    transcripts: pd.DataFrame
    exons: pd.DataFrame
    gene_exons: pd.DataFrame


def _attribute(column: pa.Array, key: str) -> pa.Array:
    """The value of attribute `key` per row ('' when absent; still %-encoded)."""
    found = pc.extract_regex(column, rf"(?:^|;)\s*{key}=(?P<v>[^;]*)")
    return pc.fill_null(pc.struct_field(found, [0]), "")


def _decoded(values: pa.Array) -> list[str]:
    """Attribute values as Python strings, %-escapes decoded (only where there are any)."""
    out = values.to_pylist()
    for i in np.flatnonzero(pc.match_substring(values, "%").to_numpy(zero_copy_only=False)):
        out[i] = unquote(out[i])
    return out


def _lines(path: Path | str) -> dict[str, pa.Table]:
    """The feature lines of the GFF3 that are read, by kind: "gene" and "other" lines (the
    transcripts among them) with their attributes, "exon", "CDS" and "stop_codon" lines with
    only their Parent (and protein_id); comment and directive lines, and everything after
    ##FASTA, skipped; InputError naming the lines that are not 9 columns."""
    problems: list[Problem] = []
    after_fasta = False

    def invalid(row: pacsv.InvalidRow) -> str:
        nonlocal after_fasta
        text = row.text or ""
        after_fasta = after_fasta or text.startswith("##FASTA")
        if not (after_fasta or text.startswith("#") or not text.strip()) and len(problems) < 5:
            problems.append(Problem(str(path), row.number or 0, "line", text.strip()[:60],
                                    "GFF3 lines have 9 tab-separated columns, not "
                                    f"{row.actual_columns}"))
        return "skip"

    names = list(_COLUMNS)
    parts: dict[str, list[pa.Table]] = {kind: [] for kind in ("gene", "other", *_CHILDREN)}
    with pa.input_stream(str(path), compression="detect") as stream:
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=names, use_threads=False,
                                               block_size=_BLOCK_BYTES),
                parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False,
                                                 double_quote=False, escape_char=False,
                                                 invalid_row_handler=invalid),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                    quoted_strings_can_be_null=False, include_columns=[
                        "seqid", "type", "start", "end", "strand", "attributes"]))
        except pa.ArrowInvalid as error:
            if "Empty CSV" not in str(error):
                raise InputError([Problem(str(path), 0, None, None,
                                          f"not a GFF3 file ({error})")]) from error
            reader = iter(())
        try:
            for batch in reader:
                kind = batch.column("type")
                feature = pc.invert(pc.starts_with(batch.column("seqid"), "#"))
                gene = pc.is_in(kind, pa.array(GENE_TYPES))
                parts["gene"].append(pa.table(batch.filter(pc.and_(gene, feature))))
                other = pc.invert(pc.or_(gene, pc.is_in(kind, pa.array(_SUBFEATURES))))
                parts["other"].append(pa.table(batch.filter(pc.and_(other, feature))))
                for name, keys in _CHILDREN.items():
                    rows = batch.filter(pc.and_(pc.equal(kind, name), feature))
                    attributes = rows.column("attributes")
                    parent = _attribute(attributes, "Parent")
                    columns = {"seqid": rows.column("seqid"), "start": rows.column("start"),
                               "end": rows.column("end"), "Parent": parent}
                    for key in keys[1:]:  # of the first line of each parent (in this batch)
                        first = np.r_[True, pc.not_equal(parent[1:], parent[:-1]).to_numpy(
                            zero_copy_only=False)] if len(parent) else np.zeros(0, dtype=bool)
                        where = np.flatnonzero(first)
                        values = np.full(len(parent), None, dtype=object)
                        values[where] = _attribute(attributes.take(pa.array(where)),
                                                   key).to_pylist()
                        columns[key] = pa.array(values, pa.string())
                    parts[name].append(pa.table(columns))
        except pa.ArrowInvalid as error:  # a line that is not text, say
            raise InputError([Problem(str(path), 0, None, None, f"not a GFF3 file ({error})")]
                             ) from error
    if problems:
        raise InputError(problems)
    schema = pa.schema([(n, pa.string()) for n in ("seqid", "type", "start", "end", "strand",
                                                  "attributes")])
    empty = {"gene": schema, "other": schema, **{
        name: pa.schema([(n, pa.string()) for n in ("seqid", "start", "end", *keys)])
        for name, keys in _CHILDREN.items()}}
    return {kind: pa.concat_tables(tables) if tables else empty[kind].empty_table()
            for kind, tables in parts.items()}


def _positions(table: pa.Table, path: Path | str) -> tuple[np.ndarray, np.ndarray]:
    try:
        return (pc.cast(table.column("start"), pa.int64()).to_numpy(),
                pc.cast(table.column("end"), pa.int64()).to_numpy())
    except pa.ArrowInvalid as error:
        raise InputError([Problem(str(path), 0, "start/end", "", f"not whole numbers ({error})")]
                         ) from error


def _strands(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.where(pc.equal(column, "-").to_numpy(zero_copy_only=False), -1, 1).astype(np.int8)


def _parents(table: pa.Table) -> tuple[np.ndarray, pa.Array]:
    """Per parent named by a line of `table` (a line may name several, comma-separated):
    the line's row and the parent's ID."""
    split = pc.split_pattern(table.column("Parent").combine_chunks(), ",")
    return pc.list_parent_indices(split).to_numpy(), pc.list_flatten(split)


def _index_in(values: pa.Array, ids: pd.Series) -> np.ndarray:
    """The place of each value in `ids`, -1 if absent (hashed in Arrow)."""
    found = pc.index_in(values, value_set=pa.array(ids.tolist(), pa.string()))
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _children(table: pa.Table, parents: tuple[np.ndarray, pa.Array], ids: pd.Series,
              path: Path | str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The lines of `table` (exon or CDS lines, their `_parents`) whose parent is in `ids`:
    row, the parent's place in `ids`, start, end."""
    row, names = parents
    which = _index_in(names, ids)
    known = which >= 0
    start, end = _positions(table, path)
    return row[known], which[known], start[row[known]], end[row[known]]


_READ: dict[tuple[str, int, int], GeneSet] = {}


def gene_set(path: Path | str) -> GeneSet:
    """`read_gene_set(path)`, read once per process (again if the file changed)."""
    stat = os.stat(path)
    key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _READ:
        _READ.clear()
        _READ[key] = read_gene_set(path)
    return _READ[key]


def read_gene_set(path: Path | str) -> GeneSet:
    """The genes, transcripts and exons of the GFF3 `path` (plain or gzip-compressed)."""
    lines = _lines(path)
    genes = _genes(lines["gene"], path)
    transcripts = _transcripts(lines["other"], genes, path)
    exon_lines, cds_lines, stop_lines = lines["exon"], lines["CDS"], lines["stop_codon"]
    del lines

    # Exons of transcripts; exons whose parent is a gene count for its SV effects.
    t_index, g_index = transcripts["id"], genes["id"]
    exon_parents = _parents(exon_lines)
    _, t_of, ex_start, ex_end = _children(exon_lines, exon_parents, t_index, path)
    row, g_of, g_start, g_end = _children(exon_lines, exon_parents, g_index, path)
    # Codes (no string per exon): ~1.6 million exon lines in an Ensembl GFF3.
    seqids = pc.dictionary_encode(exon_lines.column("seqid").combine_chunks())
    chroms = pd.Categorical.from_codes(seqids.indices.to_numpy(), seqids.dictionary.to_pylist())
    t_chrom = pd.Categorical(transcripts["chrom"], categories=chroms.categories.union(
        transcripts["chrom"].unique()))
    chroms = chroms.set_categories(t_chrom.categories)
    symbols = pd.Categorical(genes["symbol"])
    gene_code = symbols.codes[transcripts["gene"].to_numpy()]
    gene_exons = pd.DataFrame({
        "chrom": pd.Categorical.from_codes(
            np.concatenate([t_chrom.codes[t_of], chroms.codes[row]]), t_chrom.categories),
        "start": np.concatenate([ex_start, g_start]),
        "end": np.concatenate([ex_end, g_end]),
        "gene": pd.Categorical.from_codes(
            np.concatenate([gene_code[t_of], symbols.codes[g_of]]), symbols.categories),
    })

    # Coding parts: the CDS span and length of each transcript, and its protein ID.
    cds_row, c_of, c_start, c_end = _children(cds_lines, _parents(cds_lines), t_index, path)
    n = len(transcripts)
    cds_start = np.zeros(n, dtype=np.int64)
    cds_end = np.zeros(n, dtype=np.int64)
    has_cds = np.zeros(n, dtype=bool)
    has_cds[c_of] = True
    cds_start[has_cds] = np.iinfo(np.int64).max
    np.minimum.at(cds_start, c_of, c_start)
    np.maximum.at(cds_end, c_of, c_end)
    # GENCODE's CDS lines leave the stop codon out (a stop_codon line has it); Ensembl's
    # hold it.
    _, s_of, s_start, s_end = _children(stop_lines, _parents(stop_lines), t_index, path)
    coding_stop = has_cds[s_of]
    np.minimum.at(cds_start, s_of[coding_stop], s_start[coding_stop])
    np.maximum.at(cds_end, s_of[coding_stop], s_end[coding_stop])
    transcripts["cds_start"], transcripts["cds_end"] = cds_start, cds_end
    transcripts["cds_length"] = np.bincount(c_of, weights=c_end - c_start + 1,
                                            minlength=n).astype(np.int64)
    protein = np.full(n, "", dtype=object)
    if len(cds_row):
        ids = pc.fill_null(cds_lines.column("protein_id"), "")
        named = pc.not_equal(ids, "").to_numpy(zero_copy_only=False)[cds_row]
        rows = np.flatnonzero(named)[::-1]  # the first named line of a transcript wins
        protein[c_of[rows]] = np.asarray(ids.take(pa.array(cds_row[rows])).to_pylist(),
                                         dtype=object)
    transcripts["protein_id"] = protein

    # Transcripts without exon lines take their CDS parts as exons.
    no_exons = np.ones(n, dtype=bool)
    no_exons[t_of] = False
    from_cds = no_exons[c_of]
    exons = pd.DataFrame({"transcript": np.concatenate([t_of, c_of[from_cds]]),
                          "start": np.concatenate([ex_start, c_start[from_cds]]),
                          "end": np.concatenate([ex_end, c_end[from_cds]])})
    exons = exons.sort_values(["transcript", "start", "end"], kind="stable",
                              ignore_index=True).drop_duplicates(ignore_index=True)
    transcripts["exon_length"] = np.bincount(
        exons["transcript"], weights=exons["end"] - exons["start"] + 1,
        minlength=n).astype(np.int64)
    transcripts["chosen"] = _chosen(transcripts)
    return GeneSet(genes, transcripts, exons, gene_exons)


def _genes(table: pa.Table, path: Path | str) -> pd.DataFrame:
    attributes = table.column("attributes").combine_chunks()
    ids = _decoded(_attribute(attributes, "ID"))
    name = _decoded(_attribute(attributes, "Name"))
    alias = _decoded(_attribute(attributes, "gene_name"))
    biotype = _decoded(_attribute(attributes, "biotype"))
    gene_type = _decoded(_attribute(attributes, "gene_type"))
    description = _decoded(_attribute(attributes, "description"))
    hgnc = _decoded(_attribute(attributes, "hgnc_id"))
    start, end = _positions(table, path)
    gene_id = [i.removeprefix("gene:") for i in ids]
    symbols = [n or a or g for n, a, g in zip(name, alias, gene_id, strict=True)]
    return pd.DataFrame({
        "chrom": np.asarray(table.column("seqid").to_numpy(), dtype=object),
        "start": start, "end": end, "strand": _strands(table.column("strand")),
        "id": [i or s for i, s in zip(ids, symbols, strict=True)], "gene_id": gene_id,
        "symbol": [s.removeprefix("gene:") for s in symbols],
        "biotype": [b or t for b, t in zip(biotype, gene_type, strict=True)],
        "hgnc_id": [h or (m.group(1) if (m := _HGNC.search(d)) else "")
                    for h, d in zip(hgnc, description, strict=True)],
    })


def _transcripts(table: pa.Table, genes: pd.DataFrame, path: Path | str) -> pd.DataFrame:
    """Lines with an ID whose (first) Parent is a gene."""
    attributes = table.column("attributes").combine_chunks()
    parent = pc.split_pattern(_attribute(attributes, "Parent"), ",", max_splits=1)
    gene = _index_in(pc.list_element(parent, 0), genes["id"])
    ids = _attribute(attributes, "ID")
    keep = (gene >= 0) & pc.not_equal(ids, "").to_numpy(zero_copy_only=False)
    mask = pa.array(keep)
    table, attributes, ids = table.filter(mask), attributes.filter(mask), ids.filter(mask)
    start, end = _positions(table, path)
    raw_ids = ids.to_pylist()
    biotype = _decoded(_attribute(attributes, "biotype"))
    kind = _decoded(_attribute(attributes, "transcript_type"))
    tags = _attribute(attributes, "tag")
    tag_rank = np.full(len(raw_ids), len(TAG_PRIORITY), dtype=np.int64)
    for tag, rank in sorted(TAG_PRIORITY.items(), key=lambda item: -item[1]):
        tagged = pc.match_substring_regex(tags, rf"(?:^|,){tag}(?:,|$)")
        tag_rank[tagged.to_numpy(zero_copy_only=False)] = rank
    return pd.DataFrame({
        "chrom": np.asarray(table.column("seqid").to_numpy(), dtype=object),
        "start": start, "end": end, "strand": _strands(table.column("strand")),
        "id": raw_ids, "transcript_id": [i.removeprefix("transcript:") for i in raw_ids],
        "version": _decoded(_attribute(attributes, "version")),
        "gene": gene[keep],
        "biotype": [b or k for b, k in zip(biotype, kind, strict=True)],
        "tag_rank": tag_rank,
    })


def _chosen(transcripts: pd.DataFrame) -> np.ndarray:
    """One transcript per gene: best tag, longest CDS, longest exonic length, file order."""
    n = len(transcripts)
    order = np.lexsort((np.arange(n), -transcripts["exon_length"].to_numpy(),
                        -transcripts["cds_length"].to_numpy(),
                        transcripts["tag_rank"].to_numpy(), transcripts["gene"].to_numpy()))
    gene = transcripts["gene"].to_numpy()[order]
    first = np.r_[True, gene[1:] != gene[:-1]] if n else np.zeros(0, dtype=bool)
    chosen = np.zeros(n, dtype=bool)
    chosen[order[first]] = True
    return chosen
