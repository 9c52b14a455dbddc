"""`helgenom rank` in groups of contigs, on two worker processes.

Every step of `helgenom rank` but the candidate list's order is local to a contig: genes, and
so compound-het pairs, never span contigs (checked, see below), models and scores are per
record, and an SV recodes the SNVs under it on its own contig. So an indexed, bgzipped VCF
is ranked a group of whole contigs at a time (contigs in file order, ~`RECORDS_PER_GROUP`
records per group, smaller towards the end), each group in a worker process: read (the
BGZF blocks between the group's first and last virtual offsets in the .tbi, inflated here
and fed to `bcftools query`; `tabix` when there is no .tbi), annotate, rank, then write the
group's output records (the input's own text, kept from the read, annotated) as a BGZF part
and its candidate rows, sorted within the group, as a TSV part. Workers send back only
compact values: per candidate its sort keys and its place in the group's sorted part. The
main process then

- joins the VCF parts behind the header (BGZF blocks concatenate) and puts the .tbi
  together from the parts' index sections (in a thread, while the next two steps run);
- sorts all candidates by the same keys (and, on ties, the order of the rows of the whole
  genome, as `rank` does);
- has the workers write the TSV, a slice of ranks each at its byte offset, by merging the
  groups' sorted parts in that order and numbering the ranks;
- writes the SV VCF (the SVs are read once, in the main process, and each goes to the group
  of its contig).

The outputs are byte for byte those of the single pass (`rank._rank`), which runs instead
when this does not apply: fewer than MIN_RECORDS records, one contig, no index, input that
is not bgzipped VCF text or needs header fixes, the input already holding helgenom's INFO
keys, more than one family to rank, records that are not the rows (multi-allelic records:
the single pass writes them from the allele split), or a gene symbol whose compound-het
candidates lie in two groups.
"""

from __future__ import annotations

import ctypes
import gc
import io
import itertools
import multiprocessing
import os
import sys
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helgenom.io.reference import Region
from helgenom.io.tabix import TabixIndex, read_index
from helgenom.io.tsv import write_tsv
from helgenom.io.vcf import (
    Genotypes,
    RecordText,
    UndeclaredInRegions,
    VcfHeader,
    concat_variants,
    prefer_jemalloc,
    read_header,
)
from helgenom.io.vcfwrite import (
    CSQ_KEY,
    INFO_FIELDS,
    NotStreamable,
    VcfPart,
    join_vcf_parts,
    vcf_header_text,
    write_vcf_part,
)
from helgenom.rank.candidates import (
    CANDIDATE_ROWS_PER_STEP,
    CandidateList,
    RankOptions,
    annotator,
    candidate_keys,
    categories_of,
    check_inputs,
    csq_header_of,
    input_csq_format,
    input_notes,
    load_small_variants,
    load_structural_variants,
    match_contig,
    qc_lines,
    rank_family_pairing,
    row_info_of,
    sort_codes,
    write_sv_vcf,
)
from helgenom.rank.csq import Annotator
from helgenom.rank.hemizygous import hemizygous_over_deletions
from helgenom.rank.inheritance import chromosome_classes
from helgenom.rank.model import RankModel, load_rank_model
from helgenom.rank.outputs import Staging, staged_outputs
from helgenom.rank.phenotype import HPOTermWarning, gene_phenotype_scores
from helgenom.sheets.pedigree import Family

# Records (as the index counts them, before the allele split) per group of contigs: a worker
# holds about 1.5 kB per record at its peak.
RECORDS_PER_GROUP = 200_000
# Worker processes (each also runs its bcftools and bgzip pipelines).
WORKERS = 2
# Candidate rows merged at a time (each worker writing its slice of the list holds a few
# copies of this many rows).
TSV_ROWS_PER_STEP = 1 << 16
# Smaller inputs (records, as the index counts them) take the single pass: starting the
# workers costs more than they save there, and the single pass reads in two halves at once.
MIN_RECORDS = 500_000
# The workers start before the index is read when the input's compressed bytes could hold
# MIN_RECORDS records at this many bytes each (a trio's VCF.gz takes ~90 bytes a record).
MIN_BYTES_PER_RECORD = 20


# HELGENOM_RANK_TRACE=1: each step's wall and CPU seconds (this process; its finished
# children) and RSS, on stderr.
TRACE = os.environ.get("HELGENOM_RANK_TRACE") == "1"


class _Clock:
    def __init__(self, name: str) -> None:
        self.name = name
        self.last = self._now()

    @staticmethod
    def _now() -> tuple[float, float, float]:
        t = os.times()
        return time.monotonic(), t.user + t.system, t.children_user + t.children_system

    def __call__(self, step: str) -> None:
        if not TRACE:
            return
        now = self._now()
        wall, cpu, children = (a - b for a, b in zip(now, self.last, strict=True))
        with open("/proc/self/status") as status:
            rss = next((int(line.split()[1]) // 1024 for line in status
                        if line.startswith("VmRSS")), 0)
        print(f"trace {self.name} {step}: {wall:.1f} s wall, {cpu:.1f} s CPU, "
              f"{children:.1f} s children CPU, RSS {rss} MB", file=sys.stderr, flush=True)
        self.last = now


class _Fallback(Exception):
    """The single pass must rank this input."""


@dataclass
class _Task:
    index: int
    vcf: str
    header: VcfHeader
    contigs: list[str]
    samples: list[str]
    family: Family
    opts: RankOptions
    par: list[tuple[str, int, int]]
    sv: tuple[pd.DataFrame, Genotypes] | None  # this group's SVs (column `sv_row`: their row)
    workdir: str
    contig_order: np.ndarray  # every contig name, sorted
    # From the .tbi: the header's end and the group's first and last virtual offsets, and
    # its records (the index's count); None: read through `tabix`.
    span: tuple[int, int, int, int] | None = None
    genes: Annotator | None = None  # the transcripts of the group's contigs (HGVS, CSQ)


@dataclass
class _Group:
    """What a worker sends back about one group of contigs."""

    index: int
    vcf: VcfPart
    tsv: str
    header_line: bytes
    line_lengths: np.ndarray  # bytes of each line of the TSV part (in the group's order)
    snv_keys: list[np.ndarray]  # sort key values of the small-variant candidates, row order
    snv_place: np.ndarray  # their place in the TSV part
    sv_keys: list[np.ndarray]
    sv_place: np.ndarray
    sv_rows: np.ndarray  # the SV candidates' rows in the SV table
    sv_result: pd.DataFrame | None  # the group's SV rows' results (by `sv_row`)
    paired_genes: set[str]  # gene symbols of the compound-het candidates
    rows: int
    no_gq: bool
    no_ad: bool


def _group_spans(index: TabixIndex, groups: list[list[str]]
                 ) -> list[tuple[int, int, int, int] | None]:
    """Per group: (the header's end, the virtual offsets of its first record and past its
    last one, its records), from the .tbi; None where its contigs are not in the .tbi. A
    group's contigs are neighbours in the file, so its records lie between the two offsets
    (the reader checks that it finds as many as the index counts)."""
    spans, counts = index.spans, dict(index.contigs)
    if not spans:
        return [None] * len(groups)
    header_end = min(begin for begin, _ in spans.values())
    out: list[tuple[int, int, int, int] | None] = []
    for group in groups:
        if not all(c in spans for c in group):
            out.append(None)
            continue
        out.append((header_end, min(spans[c][0] for c in group),
                    max(spans[c][1] for c in group), sum(counts[c] for c in group)))
    return out


def _groups(contigs: list[tuple[str, int]], together: set[str]) -> list[list[str]]:
    """Contigs in file order, cut into groups of about RECORDS_PER_GROUP records; two
    neighbours both in `together` (chrX, chrY) stay in one group. Near the end, and for
    small inputs, a group takes at most a quarter of the records left (not less than
    RECORDS_PER_GROUP / 4): the last groups are smaller, so that the two workers finish at
    about the same time (groups are handed out in order, to whichever worker is free)."""
    left = sum(count for _, count in contigs)
    floor = max(1, RECORDS_PER_GROUP // 4)
    groups: list[list[str]] = []
    size = limit = 0
    for name, count in contigs:
        joined = bool(groups) and name in together and groups[-1][-1] in together
        if groups and (size + count <= limit or joined or size == 0):
            groups[-1].append(name)
            size += count
        else:
            limit = min(RECORDS_PER_GROUP, max(floor, -(-left // (2 * WORKERS))))
            groups.append([name])
            size = count
        left -= count
    return groups


@cache
def _scorers(snv_model: str, sv_model: str | None) -> dict[str, RankModel]:
    scorers = {"SNV": load_rank_model(snv_model)}
    if sv_model is not None:
        scorers["SV"] = load_rank_model(sv_model)
    return scorers


def _no_values(gts: Genotypes, name: str) -> bool:
    return all(np.isnan(v).all() for v in getattr(gts, name).values())


def _rank_group(task: _Task) -> _Group:
    """Rank one group of contigs and write its parts (in a worker process). The cycle
    collector waits until the group is done: its passes over the group's millions of
    objects cost ~2% of the CPU time, and the group's garbage goes at its end anyway."""
    gc.disable()
    try:
        return _rank_group_here(task)
    finally:
        _release_memory()
        gc.enable()


def _rank_group_here(task: _Task) -> _Group:
    warnings.simplefilter("ignore", HPOTermWarning)  # the main process issued them once
    clock = _Clock(f"group {task.index}")
    opts = task.opts
    scorers = _scorers(opts.rank_model, opts.sv_rank_model if opts.sv else None)
    text: Path | RecordText
    if task.span is not None:  # the records as read, kept in memory
        text = RecordText(task.vcf, *task.span[:3])
    else:  # as `tabix -h` printed them
        text = Path(task.workdir) / f"group-{task.index}.vcf"
    try:
        small = load_small_variants(task.vcf, task.header, task.samples, opts,
                                    scorers["SNV"].info_keys(), regions=task.contigs,
                                    text=text, genes=task.genes)
    except UndeclaredInRegions as error:
        raise _Fallback(f"undeclared contigs or tags: {error}") from error
    n_small = len(small[0])
    if task.span is not None and (n_small != task.span[3] or not set(
            small[0]["CHROM"].unique()) <= set(task.contigs)):
        raise _Fallback(f"group {task.index}: {n_small} records read, the index counts "
                        f"{task.span[3]} on its contigs")
    clock("read")
    if task.sv is not None:
        sv_table, sv_gts = task.sv
        table, gts = concat_variants([small, (sv_table.drop(columns="sv_row"), sv_gts)])
        sv_rows = sv_table["sv_row"].to_numpy(dtype=np.int64)
    else:
        table, gts = concat_variants([small])
        sv_rows = np.zeros(0, dtype=np.int64)
    del small
    table["af"] = pd.to_numeric(table[opts.af_tag], errors="coerce")
    classes = chromosome_classes(table["CHROM"], table["POS"], opts.chrx, opts.chry, task.par)
    model_gts, _ = hemizygous_over_deletions(table, gts, classes)
    result, paired = rank_family_pairing(task.family, table, gts, classes, opts, scorers,
                                         model_gts)
    del model_gts
    clock("rank")
    paired_genes = {g for genes in table["genes"].iloc[paired] for g in genes}
    categories = categories_of(scorers)
    family = task.family.id
    # The group's output records.
    is_sv = np.zeros(len(table), dtype=bool)
    is_sv[n_small:] = True
    small_table = table.iloc[:n_small] if len(sv_rows) else table
    small_result = result.iloc[:n_small] if len(sv_rows) else result
    try:
        part = write_vcf_part(task.vcf, task.contigs, small_table, {family: small_result},
                              categories, Path(task.workdir) / f"group-{task.index}.vcf.gz",
                              text if isinstance(text, RecordText) or text.exists() else None,
                              end_declared="END" in task.header.info,
                              csq=csq_header_of(task.genes) is not None,
                              row_info=tuple(row_info_of(task.header, task.genes)))
    except NotStreamable as error:
        raise _Fallback(str(error)) from error
    finally:
        if isinstance(text, Path):
            text.unlink(missing_ok=True)
        del text
    clock("vcf")
    sv_result = None
    if task.sv is not None:
        sv_result = result.iloc[n_small:].copy()
        sv_result.index = pd.Index(sv_rows, name="sv_row")
    # The group's candidate list, sorted, as a TSV part (no rank column).
    rows, keys, pheno = candidate_keys(task.family, table, result, opts)
    order = np.lexsort([_sort_key(values, up) for values, up in keys][::-1])
    place = np.empty(len(order), dtype=np.int64)
    place[order] = np.arange(len(order))
    cl = CandidateList(task.family, table, gts, result, opts, categories, rows[order], pheno)
    tsv = Path(task.workdir) / f"group-{task.index}.tsv"
    lengths = []
    buffer = io.BytesIO()
    write_tsv(cl.frame(0, 0), buffer, na_rep=".", header=True)
    header_line = buffer.getvalue()
    with tsv.open("wb") as handle:
        for start in range(0, len(cl), CANDIDATE_ROWS_PER_STEP):
            frame = cl.frame(start, start + CANDIDATE_ROWS_PER_STEP).drop(columns="rank")
            buffer = io.BytesIO()
            write_tsv(frame, buffer, na_rep=".", header=False)
            data = buffer.getvalue()
            ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
            if len(ends) != len(frame):
                raise _Fallback("a candidate row spans lines")
            lengths.append(np.diff(np.r_[-1, ends]))
            handle.write(data)
    line_lengths = (np.concatenate(lengths) if lengths else np.zeros(0)).astype(np.int32)
    # Sort key values per candidate (row order) for the whole genome's sort; contigs by their
    # place among all contig names in sorted order (what the sort compares).
    values = []
    for v, _ in keys:
        if isinstance(v, pd.Series):  # CHROM
            codes, names = pd.factorize(v)
            v = np.searchsorted(task.contig_order, np.asarray(names, dtype=object))[codes]
        values.append(_compact(np.asarray(v)))
    place = place.astype(np.int32)
    small_cand = rows < n_small
    clock("candidates")
    return _Group(
        task.index, part, str(tsv), header_line, line_lengths,
        [v[small_cand] for v in values], place[small_cand],
        [v[~small_cand] for v in values], place[~small_cand],
        sv_rows[rows[~small_cand] - n_small], sv_result, paired_genes, len(table),
        _no_values(gts, "gq"), _no_values(gts, "alt_depth"))


def _sort_key(values: object, ascending: bool) -> np.ndarray:
    """What to lexsort by for `rank.sort_codes(values, ascending)`'s order, cheaper: numbers
    as they are (negated if descending; NaN sorts last either way, and equal values tie, as
    their codes do), anything else by its codes."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        if values.dtype.kind == "f":
            values = values.astype(np.float64, copy=False)
        else:
            values = values.astype(np.int64)
        return values if ascending else -values
    return sort_codes(values, ascending)


def _compact(values: np.ndarray) -> np.ndarray:
    """Integers as int32 when they fit (what the main process holds per candidate)."""
    if values.dtype.kind in "iu" and len(values) and (
            int(values.min()) >= -(1 << 31) and int(values.max()) < 1 << 31):
        return values.astype(np.int32)
    return values


def _release_memory() -> None:
    """Hand freed memory back to the system between groups (a worker ranks many): glibc's
    heap is trimmed. Arrow's pool (jemalloc) hands its pages back on its own schedule;
    purging it here too cost ~5 CPU s over 5M records, for the same peak."""
    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _line_array(data: bytes, lengths: np.ndarray) -> pa.Array:
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(pa.large_binary(), len(lengths),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _write_candidates(handle: BinaryIO, parts: dict[int, tuple[str, int, np.ndarray]],
                      group_of: np.ndarray, place: np.ndarray, first_rank: int = 1) -> None:
    """Candidate rows in the whole genome's order (`group_of`, `place` per rank, from rank
    `first_rank` on): each group's part holds its rows in that order already, so the parts
    are merged. `parts`: per group, its TSV part, where its first row here starts and the
    lengths of its rows from there; `place` counts from that row."""
    files = {}
    for g, (path, start, _) in parts.items():
        files[g] = open(path, "rb")  # noqa: SIM115
        files[g].seek(start)
    taken = {g: 0 for g in parts}
    lengths = {g: part[2] for g, part in parts.items()}
    try:
        for start in range(0, len(group_of), TSV_ROWS_PER_STEP):
            which = group_of[start:start + TSV_ROWS_PER_STEP]
            where = place[start:start + TSV_ROWS_PER_STEP]
            arrays, base, position = [], {}, 0
            for g in np.unique(which).tolist():
                count = int(np.count_nonzero(which == g))
                first = taken[g]
                size = lengths[g][first:first + count]
                data = files[g].read(int(size.sum()))
                arrays.append(_line_array(data, size))
                base[g] = position - first
                position += count
                taken[g] = first + count
            lines = pa.concat_arrays(arrays)
            shift = np.zeros(len(which), dtype=np.int64)
            for g, b in base.items():
                shift[which == g] = b
            picked = lines.take(pa.array(where + shift))
            rank = first_rank + start
            ranks = pc.cast(pa.array(np.arange(rank, rank + len(which))),
                            pa.large_string()).cast(pa.large_binary())
            text = pc.binary_join_element_wise(ranks, picked, pa.scalar(b"\t", pa.large_binary()))
            offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[
                text.offset:text.offset + len(text) + 1]
            handle.write(memoryview(text.buffers()[2])[offsets[0]:offsets[-1]])
    finally:
        for f in files.values():
            f.close()


@dataclass
class _TsvSlice:
    """Ranks first_rank.. of the candidate list, written at byte `offset` of `path` (by a
    worker process: the main process cuts the list in WORKERS slices)."""

    path: str
    offset: int
    parts: dict[int, tuple[str, int, np.ndarray]]
    group_of: np.ndarray
    place: np.ndarray
    first_rank: int


def _write_tsv_slice(piece: _TsvSlice) -> None:
    with open(piece.path, "r+b") as handle:
        handle.seek(piece.offset)
        _write_candidates(handle, piece.parts, piece.group_of, piece.place, piece.first_rank)


def _tsv_slices(path: Path, head: int, groups: list[_Group], group_of: np.ndarray,
                place: np.ndarray, pieces: int) -> tuple[int, list[_TsvSlice]]:
    """The candidate list (ranks in `group_of`/`place`) behind `head` bytes of header, cut
    in `pieces` slices of about the same bytes; and the file's size."""
    lengths = {g.index: g.line_lengths.astype(np.int64) for g in groups}
    starts = np.zeros(len(groups) + 1, dtype=np.int64)  # each group's first line, all parts
    for g in groups:
        starts[g.index + 1] = len(g.line_lengths)
    np.cumsum(starts, out=starts)
    every = np.concatenate([lengths[i] for i in range(len(groups))]) if groups else starts[:0]
    line = every[starts[group_of] + place]
    # The rank and its tab.
    line += np.searchsorted(10 ** np.arange(1, 19, dtype=np.int64),
                            np.arange(1, len(group_of) + 1), side="right") + 2
    ends = head + np.cumsum(line)
    total = int(ends[-1]) if len(ends) else head
    cuts = [0, *np.searchsorted(ends, [head + (total - head) * k // pieces
                                       for k in range(1, pieces)]).tolist(), len(group_of)]
    out = []
    for start, stop in itertools.pairwise(cuts):
        if stop <= start:
            continue
        before = np.bincount(group_of[:start], minlength=len(groups))
        here = np.bincount(group_of[start:stop], minlength=len(groups))
        parts = {}
        for g in groups:
            first, count = int(before[g.index]), int(here[g.index])
            if count:
                parts[g.index] = (g.tsv, int(lengths[g.index][:first].sum()),
                                  lengths[g.index][first:first + count].astype(np.int32))
        out.append(_TsvSlice(str(path), int(ends[start - 1]) if start else head, parts,
                             group_of[start:stop],
                             (place[start:stop] - before[group_of[start:stop]]).astype(np.int32),
                             start + 1))
    return total, out


def rank_in_chunks(vcf: Path | str, ped: Path | str, prefix: str, opts: RankOptions,
                   families: dict[str, Family]) -> int | None:
    """Rank as `helgenom.rank.run.rank_to_files` does, in groups of contigs on worker
    processes (`families` as read from `ped`); the number of candidates, or None (nothing
    written) when the single pass must do it."""
    affected = [fam for fam in families.values() if fam.affected]
    if len(affected) != 1 or WORKERS < 2:
        return None
    # The workers start (spawn, imports) while this process reads the index, the header and
    # the SVs; first the index, if the input is not large enough to be worth them.
    early = Path(vcf).is_file() and (
        Path(vcf).stat().st_size >= MIN_RECORDS * MIN_BYTES_PER_RECORD)
    pool = _start_workers() if early else None
    try:
        check_inputs(vcf, ped, families, opts)
        index = read_index(vcf)
        if len(index.contigs) < 2 or sum(count for _, count in index.contigs) < MIN_RECORDS:
            return None
        pool = pool or _start_workers()
        return _rank_with(pool, vcf, ped, prefix, opts, families, affected[0], index)
    finally:
        if pool is not None:  # idle workers still importing are not waited for
            pool.shutdown(wait=False, cancel_futures=True)


def _start_workers() -> ProcessPoolExecutor:
    pool = ProcessPoolExecutor(max_workers=WORKERS,
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=prefer_jemalloc)
    for _ in range(WORKERS):
        pool.submit(_started)
    return pool


def _started() -> None:
    """Nothing: a worker that ran it has imported this module."""


def _rank_with(pool: ProcessPoolExecutor, vcf: Path | str, ped: Path | str, prefix: str,
               opts: RankOptions, families: dict[str, Family], family: Family,
               index: TabixIndex) -> int | None:
    header = read_header(vcf)
    genes, gene_notes = annotator(vcf, header, opts)
    csq_header = csq_header_of(genes)
    row_info = row_info_of(header, genes)
    ours = set(INFO_FIELDS) | ({CSQ_KEY} if csq_header else set()) | set(row_info)
    if header.fixes or {line[len("##INFO=<ID="):].split(",", 1)[0] for line in header.lines
                        if line.startswith("##INFO=<ID=")} & ours:
        return None
    try:
        head = vcf_header_text(vcf, categories_of(_scorers(
            opts.rank_model, opts.sv_rank_model if opts.sv else None)),
            (csq_header or "") + "".join(row_info.values()))
    except NotStreamable:
        return None
    with staged_outputs(prefix, opts.candidates_out) as stage:
        try:
            return _rank_in_chunks(pool, vcf, ped, stage, opts, families, family, index,
                                   header, head, (genes, gene_notes))
        except BaseException as error:
            # No worker may still be writing a part into the folder as it is removed.
            pool.shutdown(wait=True, cancel_futures=True)
            if isinstance(error, _Fallback):
                return None
            raise


def _rank_in_chunks(pool: ProcessPoolExecutor, vcf: Path | str, ped: Path | str,
                    stage: Staging, opts: RankOptions, families: dict[str, Family],
                    family: Family, index: TabixIndex, header: VcfHeader, head: bytes,
                    annotation: tuple[Annotator | None, list[str]]) -> int:
    """The outputs are staged in `stage` (its folder holds the groups' parts too) and put in
    place at the end. `annotation`: what HGVS and CSQ come from, and its warnings."""
    clock = _Clock("main")
    workdir = stage.folder
    scorers = _scorers(opts.rank_model, opts.sv_rank_model if opts.sv else None)
    genes = annotation[0]
    notes = input_notes(vcf, ped, families, header, scorers) + annotation[1]
    samples = [m.sample for fam in families.values() for m in fam.members]
    sv: tuple[pd.DataFrame, Genotypes] | None = None
    if opts.sv:
        sv = load_structural_variants(opts.sv, samples, opts, scorers["SV"].info_keys(),
                                      genes)
        sv = (sv[0].reset_index(drop=True), sv[1])
    names = [name for name, _ in index.contigs]
    present = [*header.contigs, *names, *(sv[0]["CHROM"].unique() if sv else [])]
    opts = replace(opts)
    opts.chrx, opts.chry = match_contig(opts.chrx, present), match_contig(opts.chry, present)
    opts.csq_format = input_csq_format(header)
    opts.csq_padding = genes.padding if genes is not None else ()
    par = [Region.parse(p) for p in opts.par]
    par_regions = [(match_contig(r.chrom, present), r.start, r.end) for r in par]
    terms = opts.hpo.get(family.id, [])
    if terms:  # its term warnings and errors once, here
        gene_phenotype_scores(terms, [])
    groups = _groups(index.contigs, {opts.chrx, opts.chry})
    spans = _group_spans(index, groups)
    contig_order = np.array(sorted(set(present)), dtype=object)
    tasks = []
    for number, group in enumerate(groups):
        sv_part = None
        if sv is not None:
            chosen = sv[0]["CHROM"].isin(group).to_numpy()
            if number == len(groups) - 1:  # SVs on contigs without small variants
                chosen = chosen | ~sv[0]["CHROM"].isin(names).to_numpy()
            rows = np.flatnonzero(chosen)
            table = sv[0].iloc[rows].copy()
            table["sv_row"] = rows
            gts = Genotypes(*({s: v[rows] for s, v in getattr(sv[1], name).items()}
                              for name in ("gt", "ploidy", "gq", "ref_depth", "alt_depth")))
            sv_part = (table.reset_index(drop=True), gts)
        tasks.append(_Task(number, str(vcf), header, group, samples, family, opts,
                           par_regions, sv_part, str(workdir), contig_order, spans[number],
                           genes.for_contigs(group) if genes is not None else None))
    results = list(pool.map(_rank_group, tasks))
    clock("groups")
    return _merge_groups(vcf, stage, opts, family, sv, scorers, notes, head, results, pool,
                         clock, genes)


def _merge_groups(vcf: Path | str, stage: Staging, opts: RankOptions, family: Family,
                  sv: tuple[pd.DataFrame, Genotypes] | None, scorers: dict[str, RankModel],
                  notes: list[str], head: bytes, results: list[_Group],
                  pool: ProcessPoolExecutor, clock: _Clock, genes: Annotator | None) -> int:
    """The whole genome's outputs from the groups' (the candidate list written by the
    pool's processes, a slice each)."""
    # Compound pairs are formed per gene symbol over the whole genome: a symbol with
    # candidates in two groups needs the single pass.
    seen: set[str] = set()
    for group in results:
        if seen & group.paired_genes:
            raise _Fallback("a gene symbol in two groups of contigs")
        seen |= group.paired_genes
    rows = sum(g.rows for g in results)
    if rows and all(g.no_gq for g in results):
        notes.append(f"{vcf} has no FORMAT/GQ values: the gates that need it are skipped")
    if rows and all(g.no_ad for g in results):
        notes.append(f"{vcf} has no FORMAT/AD values: the gates that need it are skipped")

    def write_vcfs() -> None:
        join_vcf_parts(head, [g.vcf for g in results], stage.path(".vcf.gz"))
        for g in results:
            os.unlink(g.vcf.path)
        if opts.sv and sv is not None:
            sv_results = pd.concat([g.sv_result for g in results if g.sv_result is not None])
            sv_results = sv_results.sort_index().reset_index(drop=True)
            write_sv_vcf(opts.sv, sv[0], {family.id: sv_results}, stage.path(".sv.vcf.gz"),
                         categories_of(scorers), genes)

    # The candidates are sorted first, then the VCFs are joined while the candidate list is
    # merged (by the pool's processes); the list is put in place once the VCFs are.
    with _small_pages():
        group_of, place = _genome_order(results, opts)
    clock("sort")
    tmp_tsv = stage.path(".candidates.tsv")
    with ThreadPoolExecutor(max_workers=1) as background:
        vcfs = background.submit(write_vcfs)
        try:
            for note in notes:
                print(f"warning: {note}", file=sys.stderr)
            with tmp_tsv.open("wb") as handle:
                for path in opts.qc:
                    handle.writelines(f"{line}\n".encode()
                                      for line in qc_lines(path))
                handle.write(results[0].header_line)
                header_bytes = handle.tell()
            size, pieces = _tsv_slices(tmp_tsv, header_bytes, results, group_of, place,
                                       WORKERS)
            os.truncate(tmp_tsv, size)
            for done in [pool.submit(_write_tsv_slice, piece) for piece in pieces]:
                done.result()
            clock("tsv")
        finally:
            error = vcfs.exception()
        if error is not None:
            raise error
    for note in stage.commit():
        print(f"note: {note}", file=sys.stderr)
    clock("vcf (joined in the background)")
    return len(group_of)


@contextmanager
def _small_pages() -> Iterator[None]:
    """numpy's large arrays in ordinary pages meanwhile: numpy asks for transparent huge pages
    for arrays of 4 MB and more, and on this kind of VM faulting them in took the genome's
    candidate sort (a dozen arrays of millions of values) 1.3 s instead of 0.5 s, most of it
    in the kernel."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage  # numpy's own switch
    except ImportError:
        yield
        return
    before = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(before)


def _genome_order(results: list[_Group], opts: RankOptions) -> tuple[np.ndarray, np.ndarray]:
    """The whole genome's candidate order: per rank, its group and its place in the group's
    TSV part. The rows' order (the ties' order) is the small variants in file order, then
    the SVs in theirs."""
    sv_order = np.argsort(np.concatenate([g.sv_rows for g in results]), kind="stable") \
        if results else np.zeros(0, dtype=np.int64)
    n_keys = len(results[0].snv_keys)
    keys = []
    for k in range(n_keys):
        small = [g.snv_keys[k] for g in results]
        svs = np.concatenate([g.sv_keys[k] for g in results])[sv_order]
        keys.append(np.concatenate([*small, svs]))
    for g in results:  # in `keys` now
        g.snv_keys, g.sv_keys = [], []
    group_of = np.concatenate([*(np.full(len(g.snv_place), g.index, dtype=np.int32)
                                 for g in results),
                               np.concatenate([np.full(len(g.sv_place), g.index, dtype=np.int32)
                                               for g in results])[sv_order]])
    place = np.concatenate([*(g.snv_place for g in results),
                            np.concatenate([g.sv_place for g in results])[sv_order]])
    ascending = _key_directions(opts)
    order = None if len(sv_order) else _merged_runs(keys, ascending, group_of, place)
    if order is None:
        order = np.lexsort([_sort_key(values, up) for values, up in zip(keys, ascending,
                                                                           strict=True)][::-1])
    del keys
    group_of, place = group_of[order], place[order]
    for g in results:  # each group's rows come in its own order
        mine = place[group_of == g.index]
        if not np.array_equal(mine, np.arange(len(g.line_lengths))):
            raise AssertionError(f"group {g.index}: candidate order differs from the genome's")
    return group_of, place


def _merged_runs(keys: list[np.ndarray], ascending: list[bool], group_of: np.ndarray,
                 place: np.ndarray) -> np.ndarray | None:
    """The order `np.lexsort` gives the small-variant candidates (keys per candidate in row
    order, rows in file order), ~4x faster; None (lexsort them) unless the keys are the usual
    five (combined score with 4 decimals, rank score, severity, contig code, position; see
    `_key_directions`) with whole-number scores, severities and positions, and each contig's
    rows are one run with ascending positions.

    Then ordering by (contig, position, row) is ordering by (contig, row), so one int64 key
    packing the first four, sorted stably, gives lexsort's order. Each group's candidates
    are in that order already (its TSV part), so the concatenated runs are sorted by merging
    them (numpy's stable sort is a timsort for int64)."""
    if len(keys) != 5 or ascending != [False, False, True, True, True] or not len(place):
        return None
    combined, score, severity, contig, position = keys
    if combined.dtype.kind != "f" or contig.dtype.kind not in "iu" or any(
            v.dtype.kind not in "iuf" or (v.dtype.kind == "f" and not (
                np.isfinite(v).all() and np.array_equal(np.rint(v), v)))
            for v in (score, severity, position)):
        return None  # NaN, or not whole numbers
    step = np.rint(combined * 1e4)
    if not np.isfinite(step).all() or not np.array_equal(step / 1e4, combined):
        return None  # more than 4 decimals
    same = contig[1:] == contig[:-1]
    contig = contig.astype(np.int64)
    if (contig.min() < 0 or np.any(position[1:][same] < position[:-1][same])
            or np.count_nonzero(~same) + 1 != np.count_nonzero(np.bincount(contig))):
        return None  # a contig's positions descend somewhere, or the contig comes back
    # Descending keys as their distance from the largest value, ascending from the smallest.
    parts = [step.max() - step, score.max() - score, severity - severity.min(),
             contig - contig.min()]
    packed = np.zeros(len(place), dtype=np.int64)
    bits = 0
    for part in parts:
        part = part.astype(np.int64)
        width = int(part.max()).bit_length()
        bits += width
        if bits > 62:
            return None
        packed = (packed << width) | part
    counts = np.bincount(group_of)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    runs = np.empty(len(place), dtype=np.int64)  # the candidates, each group's in its order
    runs[starts[group_of] + place] = np.arange(len(place))
    return runs[np.argsort(packed[runs], kind="stable")]


def _key_directions(opts: RankOptions) -> list[bool]:
    """Ascending? per sort key of `rank.candidate_keys`."""
    directions = [False, False, True, True, True]
    if opts.panel and opts.panel_mode == "boost":
        directions.insert(0, False)
    return directions

