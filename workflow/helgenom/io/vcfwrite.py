"""Writing the ranked VCF: the input, split per allele, with helgenom's INFO fields added
(GENMOD-compatible GeneticModels, Compounds, RankScore, RankScoreNormalized, RankResult, and
the HGImpact / HGQuality keys the default rank models read).

The table rows are the input's records in order (as `read_variants` split them), so the
fields are appended to each record's INFO as the record text streams past, block by block,
into a BGZF writer (helgenom.io.bgzf); the .tbi is then built from what the writer knows of
each record (see `_write_index`). Each distinct combination of field values is formatted
once. Three sources for the record text, the first that fits:

1. the input's own text (VCF or VCF.gz) when its records are the table's rows already (no
   multi-allelic records: what the workflow gives, it splits them upstream);
2. the allele split of the input as text (`bcftools norm -m -any -Ov`), for BCF input or when
   (1) meets a record that is not the next row;
3. `bcftools annotate` with an indexed annotation table matched on CHROM/POS/REF/ALT, when the
   rows are not the records in order (a caller's subset) or the input already has one of our
   INFO keys (annotate replaces the old value).

Every record of (1) and (2) is checked against its row (POS, the byte lengths of CHROM, REF
and ALT, CHROM at the ends of each block) before it is written; a mismatch abandons that
source for the next.
"""

from __future__ import annotations

import gzip
import io
import os
import queue
import shlex
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helgenom.io import bgzf
from helgenom.io.ahead import read_ahead
from helgenom.io.bgzf import BgzfWriter, compress_blocks, copy_file
from helgenom.io.tabix import (
    TBI_MAX_END,
    ContigIndex,
    contig_sections,
    index_vcf,
    pack_tbi,
    virtual_offsets,
)
from helgenom.io.vcf import RecordText, VcfHeader, arrow_strings, split_alleles_command

INFO_FIELDS = {
    "GeneticModels": "Inheritance models followed, per family (GENMOD names): FAM:MODEL|MODEL",
    "Compounds": "Compound heterozygous partners, per family: FAM:CHROM_POS_REF_ALT>score|...",
    "RankScore": "Rank score, per family: FAM:score",
    "RankScoreNormalized": "Rank score scaled to 0..1, per family: FAM:score",
    # As GENMOD writes it: no family prefix (the first family's), categories in the header.
    "RankResult": "{categories}",
    "HGImpact": "Impact class of the most severe consequence (HIGH, MODERATE, LOW, MODIFIER)",
    "HGQuality": "Genotype gates and FILTER, per family: FAM:PASS, FAM:FILTERED or FAM:GATE_FAIL",
}
# Consequences per transcript (VEP's key; the header line comes with the values, from
# helgenom.rank.csq), after helgenom's fields; from the table's `csq` column.
CSQ_KEY = "CSQ"


def info_header(categories: list[str]) -> str:
    """The ##INFO lines; RankResult's Description lists the rank model's categories, which is
    how GENMOD (and Scout, reading it) names the parts of the value."""
    return "".join(
        f'##INFO=<ID={key},Number=.,Type=String,Description="{text} (helgenom rank)">\n'
        if key != "RankResult"
        else f'##INFO=<ID={key},Number=.,Type=String,Description="{"|".join(categories)}">\n'
        for key, text in INFO_FIELDS.items()
    )


# Bytes of record text handled per block; a little over three times this is held at once.
READ_AHEAD_BYTES = 1 << 22


def _join_families(values: dict[str, pd.Series], keep_empty: bool) -> pd.Series:
    """'FAM1:value,FAM2:value' per row (vectorised); '.' when no family has a value."""
    joined: pd.Series | None = None
    for family, column in values.items():
        text = column.astype(str)
        part = family + ":" + text
        if not keep_empty:
            part = part.where(text != "", "")
        if joined is None:
            joined = part
        else:
            both = (joined != "") & (part != "")
            joined = (joined + np.where(both, ",", "") + part).astype(object)
    assert joined is not None
    return joined.replace("", ".")


def _field_texts(table: pd.DataFrame, results: dict[str, pd.DataFrame], categories: list[str],
                 keys: list[str]) -> dict[str, pd.Series]:
    """The INFO value of each field in `keys` per row of `table` ('.' = not set)."""
    texts: dict[str, pd.Series] = {}
    derived = {}
    for family, res in results.items():
        parts = [res[c].astype("Int64").astype(str).replace("<NA>", ".") for c in categories]
        derived[family] = {
            "score_text": res["score"].map("{:g}".format),
            "score_normalized_text": res["score_normalized"].round(4).astype(str),
            "rank_result": parts[0].str.cat(parts[1:], sep="|") if parts else "",
        }

    def per_family(column: str, keep_empty: bool = False) -> pd.Series:
        return _join_families({fam: derived[fam].get(column, res.get(column))
                               for fam, res in results.items()}, keep_empty)

    sources = {"GeneticModels": ("models", False), "Compounds": ("compounds_info", False),
               "RankScore": ("score_text", True),
               "RankScoreNormalized": ("score_normalized_text", True),
               "HGQuality": ("quality", True)}
    for key in keys:
        if key == "HGImpact":
            texts[key] = table["impact"].replace("", ".")
        elif key == "RankResult":  # the first family's, no prefix ('' sets nothing)
            first = next(iter(derived.values()), None)
            texts[key] = (pd.Series(first["rank_result"], index=table.index).replace("", ".")
                          if first is not None else
                          pd.Series(".", index=table.index, dtype=object))
        elif results:
            texts[key] = per_family(*sources[key])
        else:
            texts[key] = pd.Series(".", index=table.index, dtype=object)
    return texts


def _combination_codes(columns: list[pd.Series]) -> np.ndarray:
    """Per-row code of the combination of values of `columns` (codes in first-seen order)."""
    n = len(columns[0]) if columns else 0
    codes, width = np.zeros(n, dtype=np.int64), 1
    for column in columns:
        values: pd.Series | np.ndarray = column
        if isinstance(column.dtype, np.dtype) and column.dtype.kind in "fiub":
            values = column.to_numpy()
            if values.dtype.kind == "f":  # by bit pattern: -0.0 and 0.0 print differently
                values = values.astype(np.float64).view(np.int64)
        part, uniques = pd.factorize(values, use_na_sentinel=False)
        size = len(uniques) + 1
        if width * size >= 1 << 62:
            codes, combined = pd.factorize(codes)
            width = len(combined)
        codes = codes * size + part
        width *= size
    return pd.factorize(codes)[0] if n else codes


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """Row of the first occurrence of each code 0..max."""
    first = np.full(int(codes.max()) + 1 if len(codes) else 0, -1, dtype=np.int64)
    rows = np.arange(len(codes) - 1, -1, -1)
    first[codes[::-1]] = rows
    return first


@dataclass
class Annotation:
    """helgenom's INFO fields of every row, as text.

    `fields[key][k]` is the value of `key` ('.' = not set) for combination `k` of the values
    of every field but Compounds; `combo` gives each row's combination. Compounds, rare and
    nearly always distinct, is per row (`compounds`: 'Compounds=...' or None), and so is CSQ
    (`csq`: 'CSQ=...' or null; None when not written).
    """

    combo: np.ndarray
    fields: dict[str, list[str]]
    compounds: np.ndarray
    csq: pa.Array | None = None
    # Further per-row keys (`row_info`): (key, 'KEY=value' or null per row).
    extra: list[tuple[str, pa.Array]] = field(default_factory=list)

    def __post_init__(self) -> None:
        keys = list(INFO_FIELDS)
        split = keys.index("Compounds")
        combos = range(len(next(iter(self.fields.values()), [])))

        def joined(part: list[str]) -> pa.Array:
            return pa.array([";".join(f"{k}={self.fields[k][i]}" for k in part
                                      if self.fields[k][i] != ".") or None for i in combos],
                            pa.large_binary())

        self._before = joined([k for k in keys[:split] if k in self.fields])
        self._after = joined([k for k in keys[split + 1:] if k in self.fields])

    def info_text(self, start: int, stop: int) -> pa.Array:
        """'Key=value;Key=value' for rows start..stop-1 ('' when no field is set)."""
        combo = pa.array(self.combo[start:stop])
        compounds = pa.array(self.compounds[start:stop], pa.large_binary())
        parts = [self._before.take(combo), compounds, self._after.take(combo)]
        if self.csq is not None:
            parts.append(self.csq.slice(start, stop - start))
        parts += [values.slice(start, stop - start) for _, values in self.extra]
        text = pc.binary_join_element_wise(*parts, pa.scalar(b";", pa.large_binary()),
                                           null_handling="skip")
        return pc.fill_null(text, b"")


def _csq_values(column: pd.Series, key: str = CSQ_KEY) -> pa.Array:
    """'CSQ=value' (`key`=value) per row of the table's `csq` column (another column: its
    values; null where it is '' or NA)."""
    values = arrow_strings(column)
    if values is None:
        values = pa.chunked_array([pa.array(column.astype(object).where(column.notna(), None)
                                            .tolist(), pa.large_string())])
    values = values.combine_chunks().cast(pa.large_binary())
    present = pc.fill_null(pc.greater(pc.binary_length(values), 0), False)
    text = pc.binary_join_element_wise(pa.scalar(f"{key}=".encode(), pa.large_binary()),
                                       values, pa.scalar(b"", pa.large_binary()))
    return pc.if_else(present, text, pa.scalar(None, pa.large_binary()))


def annotation(table: pd.DataFrame, results: dict[str, pd.DataFrame], categories: list[str],
               csq: bool = False, row_info: tuple[str, ...] = ()) -> Annotation:
    """The INFO values of every row, each distinct combination formatted once; with `csq`,
    the table's `csq` column as INFO/CSQ; each of `row_info`, a column of the table, as the
    INFO key of its name (rows without a value: not set)."""
    csq_values = _csq_values(table["csq"]) if csq else None
    extra = [(key, _csq_values(table[key], key)) for key in row_info if key in table]
    combined = [table["impact"]]
    for res in results.values():
        combined += [res["models"], res["score"], res["score_normalized"], res["quality"],
                     *(res[c] for c in categories)]
    combo = _combination_codes(combined)
    first = _first_rows(combo)
    used = ["models", "compounds_info", "score", "score_normalized", "quality", *categories]
    results = {family: res[list(dict.fromkeys(used))] for family, res in results.items()}
    table = table[["impact"]]
    texts = _field_texts(table.iloc[first], {f: r.iloc[first] for f, r in results.items()},
                         categories, [k for k in INFO_FIELDS if k != "Compounds"])
    # NA (written as an empty cell by the annotate route) sets nothing, like '.'.
    fields = {key: ["." if pd.isna(v) else str(v) for v in values.tolist()]
              for key, values in texts.items()}
    compounds = np.full(len(table), None, dtype=object)
    with_partners = np.zeros(len(table), dtype=bool)
    for res in results.values():
        with_partners |= ~res["compounds_info"].isin([""]).to_numpy(dtype=bool)
    rows = np.flatnonzero(with_partners)
    if len(rows):
        text = _field_texts(table.iloc[rows], {f: r.iloc[rows] for f, r in results.items()},
                            categories, ["Compounds"])["Compounds"]
        compounds[rows] = [None if pd.isna(v) or v == "." else f"Compounds={v}".encode()
                           for v in text.tolist()]
    return Annotation(combo, fields, compounds, csq_values, extra)


# ----------------------------------------------------------------------- record text merge


class _Misaligned(Exception):
    """The source's records are not the table's rows in order."""


@dataclass
class _Rows:
    """What each record must show: the table's CHROM, POS, REF and ALT (checked: POS, the
    byte lengths of CHROM, REF and ALT, and CHROM at the ends of each block)."""

    chrom: pa.ChunkedArray
    pos: np.ndarray
    ref: pa.ChunkedArray
    alt: pa.ChunkedArray

    @classmethod
    def of(cls, table: pd.DataFrame) -> _Rows:
        def strings(column: str) -> pa.ChunkedArray:
            values = arrow_strings(table[column])
            if values is None:
                values = pa.chunked_array([pa.array(table[column].astype(str).to_numpy(
                    dtype=object), pa.large_string())])
            return values

        return cls(strings("CHROM"), table["POS"].to_numpy(dtype=np.int64), strings("REF"),
                   strings("ALT"))


def _lengths(values: pa.ChunkedArray, start: int, stop: int) -> np.ndarray:
    return pc.fill_null(pc.binary_length(values.slice(start, stop - start)), -1).to_numpy()


def _parse_positions(data: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Decimal integers in data[start:end] per line; -1 where the field is not one."""
    width = end - start
    value = np.zeros(len(start), dtype=np.int64)
    bad = (width < 1) | (width > 18)
    for d in range(int(width.max(initial=0))):
        active = d < width
        digit = data[np.where(active, start + d, 0)].astype(np.int64) - 48
        bad |= active & ((digit < 0) | (digit > 9))
        value = np.where(active, value * 10 + digit, value)
    value[bad] = -1
    return value


class _Merger:
    """Appends each row's INFO text to its record, checking the record is that row."""

    def __init__(self, rows: _Rows, ann: Annotation, sink: _Behind) -> None:
        self.rows, self.ann, self.sink = rows, ann, sink
        self.next_row = 0
        self.layout = _Layout(record_starts=[])

    def block(self, buf: bytes | memoryview) -> None:
        """Whole records (each ending in a newline): annotate and write them."""
        data = np.frombuffer(buf, dtype=np.uint8)
        # Tabs and newlines in one pass (no other byte below 11 belongs in a VCF record).
        marks = np.flatnonzero(data <= 10)
        if len(marks) and data[marks].min() < 9:
            raise _Misaligned("control characters in a record")
        newline = data[marks] == 10
        ends = marks[newline]
        n = len(ends)
        if n == 0:
            return
        first_row, rows = self.next_row, self.rows
        last_row = first_row + n
        if last_row > len(rows.pos):
            raise _Misaligned("more records than rows")
        starts = np.empty(n, dtype=np.int64)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        tabs = marks[~newline]
        first_tab = np.searchsorted(tabs, starts)
        if len(tabs) == 0 or first_tab[-1] + 6 >= len(tabs) or np.any(tabs[first_tab + 6] > ends):
            raise _Misaligned("a record has fewer than 8 columns")
        if np.any(data[np.maximum(ends - 1, 0)] == 13):
            raise _Misaligned("CR LF line ends")

        def tab(k: int) -> np.ndarray:
            return tabs[first_tab + k]

        if (np.any(_parse_positions(data, tab(0) + 1, tab(1)) != rows.pos[first_row:last_row])
                or np.any(tab(0) - starts != _lengths(rows.chrom, first_row, last_row))
                or np.any(tab(3) - tab(2) - 1 != _lengths(rows.ref, first_row, last_row))
                or np.any(tab(4) - tab(3) - 1 != _lengths(rows.alt, first_row, last_row))):
            raise _Misaligned("a record is not the next row")
        for line in (0, n - 1):
            chrom = bytes(data[starts[line]:tab(0)[line]]).decode(errors="replace")
            if chrom != rows.chrom[first_row + line].as_py():
                raise _Misaligned("a record is on another contig than its row")
        # INFO is column 8: it ends at the 8th tab, or at the line end (no FORMAT column).
        has_eighth = first_tab + 7 < len(tabs)
        eighth = tabs[np.where(has_eighth, first_tab + 7, 0)]
        info_end = np.where(has_eighth & (eighth < ends), eighth, ends)
        info_start = tab(6) + 1
        plain = self.ann.info_text(first_row, last_row)
        added = pc.greater(pc.binary_length(plain), 0).to_numpy(zero_copy_only=False)
        # An empty INFO ('.') is replaced; else ';' and the fields are appended.
        dot = added & (info_end - info_start == 1) & (data[info_start] == ord("."))
        offsets = np.empty(3 * n + 1, dtype=np.int64)
        offsets[0:3 * n:3] = starts
        offsets[1:3 * n:3] = np.where(dot, info_start, info_end)
        offsets[2:3 * n:3] = info_end
        offsets[3 * n] = ends[-1] + 1
        pieces = pa.Array.from_buffers(pa.large_binary(), 3 * n,
                                       [None, pa.py_buffer(offsets), pa.py_buffer(buf)])
        empty = pa.scalar(b"", pa.large_binary())
        semicolon = pc.if_else(pa.array(added & ~dot), pa.scalar(b";", pa.large_binary()), empty)
        out = pc.binary_join_element_wise(
            pieces.take(pa.array(np.arange(0, 3 * n, 3))), semicolon, plain,
            pieces.take(pa.array(np.arange(2, 3 * n, 3))), empty)
        value_offsets = np.frombuffer(out.buffers()[1], dtype=np.int64)[
            out.offset:out.offset + len(out) + 1]
        self.sink.write(memoryview(out.buffers()[2])[value_offsets[0]:value_offsets[-1]])
        layout = self.layout
        assert layout.record_starts is not None
        layout.record_starts.append(value_offsets[:-1] - value_offsets[0] + layout.total_bytes)
        layout.total_bytes += int(value_offsets[-1] - value_offsets[0])
        self.next_row = last_row

    def finish(self) -> None:
        if self.next_row != len(self.rows.pos):
            raise _Misaligned(f"{self.next_row} records for {len(self.rows.pos)} rows")


class _Behind:
    """Writes to `sink` from a thread: the next block is made while this one is compressed
    and goes out (both without the GIL)."""

    def __init__(self, sink: io.BufferedIOBase) -> None:
        self.sink = sink
        self.queue: queue.Queue[bytes | memoryview | None] = queue.Queue(maxsize=3)
        self.error: BaseException | None = None
        self.discard = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (data := self.queue.get()) is not None:
            if self.error is None and not self.discard:
                try:
                    self.sink.write(data)
                except BaseException as error:  # raised again in the caller's thread
                    self.error = error

    def write(self, data: bytes | memoryview) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(data)

    def close(self, discard: bool = False) -> None:
        self.discard = discard
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and not discard:
            raise self.error


def _copy_header(source: io.BufferedIOBase, sink: io.BufferedIOBase, extra_header: list[str]
                 ) -> int:
    """The header of `source` (with `extra_header` lines before #CHROM) to `sink`; its bytes."""
    header_bytes = 0
    while True:
        line = source.readline()
        if not line:
            raise _Misaligned("no #CHROM line")
        if line.startswith(b"#CHROM"):
            extra = "".join(extra_header).encode()
            sink.write(extra)
            sink.write(line)
            header_bytes += len(extra) + len(line)
            break
        if not line.startswith(b"##"):
            raise _Misaligned("not a VCF header")
        sink.write(line)
        header_bytes += len(line)
    return header_bytes


def _merge(source: io.BufferedIOBase, sink: io.BufferedIOBase, rows: _Rows, ann: Annotation,
           extra_header: list[str]) -> _Layout:
    """Header (with `extra_header` lines before #CHROM), then the records, annotated; where
    each record went."""
    return _merge_records(source, sink, rows, ann, _copy_header(source, sink, extra_header))


def _merge_records(source: io.BufferedIOBase, sink: io.BufferedIOBase, rows: _Rows,
                   ann: Annotation, header_bytes: int, find_end: bool = True) -> _Layout:
    """The records of `source` (past its header, if any), annotated; where each went.
    `find_end=False`: the records hold no INFO/END (not looked for)."""
    behind = _Behind(sink)
    merger = _Merger(rows, ann, behind)
    merger.layout.header_bytes = header_bytes
    try:
        # Records go into one reused buffer; the part line at its end moves to the front.
        buffer, filled = bytearray(2 * READ_AHEAD_BYTES), 0
        for chunk in read_ahead(iter(lambda: source.read(READ_AHEAD_BYTES), b"")):
            if len(buffer) - filled < len(chunk):  # a record longer than a block
                buffer = buffer[:filled] + bytearray(len(chunk) + len(buffer))
            buffer[filled:filled + len(chunk)] = chunk
            filled += len(chunk)
            cut = buffer.rfind(b"\n", 0, filled) + 1
            if cut:
                if find_end and not merger.layout.has_end_tag:
                    merger.layout.has_end_tag = buffer.find(b"END=", 0, cut) >= 0
                with memoryview(buffer) as view:
                    merger.block(view[:cut])
                buffer[:filled - cut] = buffer[cut:filled]
                filled -= cut
        if bytes(buffer[:filled]).strip():
            rest = bytes(buffer[:filled]) + b"\n"
            merger.layout.has_end_tag |= find_end and b"END=" in rest
            merger.block(rest)
        merger.finish()
    except BaseException:
        behind.close(discard=True)
        raise
    behind.close()
    return merger.layout


@dataclass
class _Layout:
    """Where the writer put each record in the uncompressed output."""

    header_bytes: int = 0
    record_starts: list[np.ndarray] | None = None
    total_bytes: int = 0
    has_end_tag: bool = False
    # The output's BGZF blocks (`BgzfWriter.layout`), once it is written.
    blocks: tuple[np.ndarray, np.ndarray] | None = None


def _write_index(out: Path, rows: _Rows, layout: _Layout) -> Path:
    """`out`.tbi from the rows (contig, POS, REF length) and where each record went; tabix
    when that cannot be done here (INFO/END, unsorted), a .csi for positions beyond the .tbi
    range. The index written."""
    sections = _index_sections(rows, layout)
    if sections is None:
        return index_vcf(out, csi=_beyond_tbi(rows))
    Path(f"{out}.tbi").write_bytes(pack_tbi(sections))
    return Path(f"{out}.tbi")


def _beyond_tbi(rows: _Rows) -> bool:
    """A record starts where a .tbi cannot index it (a .csi can)."""
    return bool(len(rows.pos)) and int(rows.pos.max()) >= TBI_MAX_END


def _put_in_place(tmp_out: Path, index: Path, out: Path) -> Path:
    """`tmp_out` renamed to `out`, its `index` (.tbi or .csi) to `out`'s; an index of the other
    kind at `out` (an earlier run's) is removed. The index's new path."""
    kind = index.suffix
    other = Path(f"{out}{'.csi' if kind == '.tbi' else '.tbi'}")
    other.unlink(missing_ok=True)
    placed = index.replace(f"{out}{kind}")
    tmp_out.replace(out)
    return placed


def _index_sections(rows: _Rows, layout: _Layout) -> list[ContigIndex] | None:
    """The .tbi sections of the output (see `_write_index`); None when tabix must index it."""
    starts = (np.concatenate(layout.record_starts) if layout.record_starts
              else np.zeros(0, dtype=np.int64)) + layout.header_bytes
    chrom = rows.chrom.combine_chunks() if rows.chrom.num_chunks else pa.array(
        [], pa.large_string())
    encoded = pc.dictionary_encode(chrom)
    tid = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    names = encoded.dictionary.to_pylist()
    beg = np.maximum(rows.pos - 1, 0)
    ref = _lengths(rows.ref, 0, len(rows.pos))
    end = np.maximum(np.where(ref > 0, beg + ref, rows.pos), 1)
    # Each contig in one run, positions ascending in it (else tabix says what is wrong).
    runs = tid[np.r_[True, tid[1:] != tid[:-1]]] if len(tid) else tid
    indexable = (not layout.has_end_tag and len(np.unique(runs)) == len(runs)
                 and not np.any((np.diff(beg) < 0) & (np.diff(tid) == 0))
                 and (not len(end) or int(end.max()) <= TBI_MAX_END))
    if not indexable:
        return None
    assert layout.blocks is not None
    addresses, block_starts = layout.blocks
    start = virtual_offsets(starts, addresses, block_starts)
    stop = virtual_offsets(np.r_[starts[1:], layout.header_bytes + layout.total_bytes],
                            addresses, block_starts)
    header_end = int(virtual_offsets(np.array([layout.header_bytes]), addresses,
                                      block_starts)[0])
    return contig_sections(names, tid, beg, end, start, stop, header_end)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextmanager
def _bgzip(out: Path, eof: bool = True) -> Iterator[BgzfWriter]:
    """A BGZF writer into `out` (compressed in process, see helgenom.io.bgzf)."""
    with open(out, "wb") as handle:
        sink = BgzfWriter(handle, eof=eof)
        yield sink
        sink.close()


def _is_text_vcf(path: Path | str) -> bool | None:
    """True for VCF text, False for gzip/BGZF-compressed VCF text, None for BCF."""
    with open(path, "rb") as probe:
        magic = probe.read(3)
    if magic[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as handle:
            return None if handle.read(3) == b"BCF" else False
    return None if magic == b"BCF" else True


@contextmanager
def _source(command: list[str] | None, path: Path | str) -> Iterator[io.BufferedIOBase]:
    """The file itself (command None) or what `command` prints."""
    if command is None:
        with open(path, "rb") as handle:
            yield handle  # type: ignore[misc]
        return
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    assert proc.stdout is not None
    try:
        yield proc.stdout  # type: ignore[misc]
    finally:
        proc.stdout.close()
        _kill(proc)


def _write_streamed(vcf: Path | str, header: VcfHeader, rows: _Rows, ann: Annotation,
                    out: Path, tmp: Path, info_lines: str) -> Path | None:
    """Sources (1) and (2) of the module doc, into `out`; its index, or None if neither
    source lines up with the rows."""
    sources: list[tuple[list[str] | None, list[str]]] = []
    kind = _is_text_vcf(vcf)
    if kind is not None:
        raw = None if kind else ["bgzip", "-dc", str(vcf)]
        sources.append((raw, [f"{line}\n" for line in header.fixes] + [info_lines]))
    split = split_alleles_command(vcf, header, tmp, output_type="v")
    sources.append((["bash", "-o", "pipefail", "-c", split], [info_lines]))
    for command, extra in sources:
        try:
            with _source(command, vcf) as source, _bgzip(out) as sink:
                layout = _merge(source, sink, rows, ann, extra)
        except _Misaligned:
            continue
        layout.blocks = sink.layout()
        return _write_index(out, rows, layout)
    return None


def _write_annotated(vcf: Path | str, table: pd.DataFrame, ann: Annotation, out: Path,
                     header: VcfHeader, tmp: Path, info_lines: str) -> Path:
    """Source (3): bcftools annotate from an indexed table matched on CHROM/POS/REF/ALT; the
    output's index."""
    tsv = tmp / "annotation.tsv.gz"
    rows = _Rows.of(table)
    combo = pa.array(ann.combo)
    values = {key: pa.array(texts, pa.large_string()).take(combo)
              for key, texts in ann.fields.items()}
    compounds = pa.array(ann.compounds, pa.large_binary()).cast(pa.large_string())
    values["Compounds"] = pc.fill_null(pc.utf8_slice_codeunits(compounds, len("Compounds=")),
                                       ".")
    keys = list(INFO_FIELDS)
    if ann.csq is not None:
        keys.append(CSQ_KEY)
        values[CSQ_KEY] = pc.fill_null(pc.utf8_slice_codeunits(
            ann.csq.cast(pa.large_string()), len(CSQ_KEY) + 1), ".")
    for key, texts in ann.extra:
        keys.append(key)
        values[key] = pc.fill_null(pc.utf8_slice_codeunits(texts.cast(pa.large_string()),
                                                           len(key) + 1), ".")
    pos = pc.cast(pa.array(rows.pos), pa.large_string())
    parts = [rows.chrom.combine_chunks(), pos, rows.ref.combine_chunks(),
             rows.alt.combine_chunks(), *(values[k] for k in keys)]
    # tabix wants each contig in one block, positions ascending: the rows' order if it is so.
    contig = pc.dictionary_encode(parts[0]).indices.to_numpy(zero_copy_only=False)
    order = pa.array(np.lexsort((rows.pos, contig)))
    parts = [part.take(order) for part in parts]
    line = pc.binary_join_element_wise(*parts, pa.scalar("\t", pa.large_string()))
    line = pc.binary_join_element_wise(line, pa.scalar("\n", pa.large_string()),
                                       pa.scalar("", pa.large_string()))
    q = shlex.quote
    with subprocess.Popen(["bash", "-c", f"bgzip -c > {q(str(tsv))}"],
                          stdin=subprocess.PIPE) as proc:
        assert proc.stdin is not None
        if len(line):
            offsets = np.frombuffer(line.buffers()[1], dtype=np.int64)[
                line.offset:line.offset + len(line) + 1]
            proc.stdin.write(memoryview(line.buffers()[2])[offsets[0]:offsets[-1]])
        proc.stdin.close()
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, "bgzip")
    header_file = tmp / "info-header.txt"
    header_file.write_text(info_lines)
    columns = ",".join(["CHROM", "POS", "REF", "ALT", *(f"INFO/{k}" for k in keys)])
    tmp_out = out.with_name(out.name + ".tmp.vcf.gz")
    steps = [
        f"tabix -f{' -C' if _beyond_tbi(rows) else ''} -s1 -b2 -e2 {q(str(tsv))}",
        f"{split_alleles_command(vcf, header, tmp)} | bcftools annotate -a {q(str(tsv))}"
        f" -h {q(str(header_file))} -c {columns} -Ov"
        f" | bgzip -l 1 -@ 2 -c > {q(str(tmp_out))}",
    ]
    for step in steps:
        subprocess.run(["bash", "-o", "pipefail", "-c", step], check=True)
    return _put_in_place(tmp_out, index_vcf(tmp_out), out)


def write_vcf(vcf: Path | str, table: pd.DataFrame, results: dict[str, pd.DataFrame],
              out: Path, header: VcfHeader, categories: list[str],
              csq_header: str | None = None, row_info: dict[str, str] | None = None) -> Path:
    """Annotate the (allele-split) input with the per-family fields; the index written next
    to `out` (`out`.tbi, or `out`.csi for positions beyond the .tbi range).

    `table` holds the rows as `read_variants` gave them (CHROM, POS, REF, ALT and `impact`);
    `results` per family the columns models, compounds_info, score, score_normalized,
    quality and the rank model's categories, aligned with `table`. With `csq_header` (its
    ##INFO line), the table's `csq` column is written as INFO/CSQ (replacing an input's);
    `row_info` (INFO key -> its ##INFO line): those columns of the table, per row.
    """
    out = Path(out)
    row_info = row_info or {}
    ann = annotation(table, results, categories, csq=csq_header is not None,
                     row_info=tuple(row_info))
    info_lines = info_header(categories) + (csq_header or "") + "".join(row_info.values())
    ours = set(INFO_FIELDS) | ({CSQ_KEY} if csq_header else set()) | set(row_info)
    declared = {line[len("##INFO=<ID="):].split(",", 1)[0]
                for line in [*header.lines, *header.fixes] if line.startswith("##INFO=<ID=")}
    tmp_out = out.with_name(out.name + ".tmp.vcf.gz")
    with tempfile.TemporaryDirectory(prefix="helgenom-rank-") as tmp_dir:
        tmp = Path(tmp_dir)
        index = None if declared & ours else _write_streamed(
            vcf, header, _Rows.of(table), ann, tmp_out, tmp, info_lines)
        if index is not None:
            return _put_in_place(tmp_out, index, out)
        tmp_out.unlink(missing_ok=True)
        return _write_annotated(vcf, table, ann, out, header, tmp, info_lines)


# ------------------------------------------------------------- a contig group's records
#
# `helgenom rank` may rank the genome in groups of contigs (see helgenom.rank.chunked): each
# group's records are written as a BGZF part without header or end-of-file block, and the
# parts are then joined behind the header (BGZF blocks concatenate), with the .tbi put
# together from the parts' sections.


class NotStreamable(Exception):
    """The group's records cannot be written from the input's own text (not bgzipped VCF
    text, or its records are not the rows: multi-allelic records, say)."""


@dataclass
class VcfPart:
    """A written group: `path` (BGZF, no header, no end-of-file block), its byte size, and
    its .tbi sections with offsets relative to the part (None: tabix must index the
    joined file)."""

    path: Path
    size: int
    sections: list[ContigIndex] | None


def vcf_header_text(vcf: Path | str, categories: list[str], csq_header: str | None = None
                    ) -> bytes:
    """The header the streamed writer gives the output of bgzipped VCF text `vcf` (its own
    header lines and helgenom's INFO lines, with `csq_header`, before #CHROM)."""
    if _is_text_vcf(vcf) is not False:
        raise NotStreamable(f"{vcf} is not bgzipped VCF text")
    sink = io.BytesIO()
    with _source(["bgzip", "-dc", str(vcf)], vcf) as source:
        try:
            _copy_header(source, sink, [info_header(categories) + (csq_header or "")])
        except _Misaligned as error:
            raise NotStreamable(str(error)) from error
    return sink.getvalue()


class _ChunkReader:
    """`read` gives the next chunk of `chunks` (whatever the size asked), b"" at the end."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks

    def read(self, size: int = -1) -> bytes:
        return next(self.chunks, b"")


def write_vcf_part(vcf: Path | str, contigs: list[str], table: pd.DataFrame,
                   results: dict[str, pd.DataFrame], categories: list[str], out: Path,
                   text: Path | RecordText | None = None, end_declared: bool = True,
                   csq: bool = False, row_info: tuple[str, ...] = ()) -> VcfPart:
    """The records of `contigs` of bgzipped, indexed VCF text `vcf` (`tabix`; or `text`:
    what `tabix -h` printed of them, or their `RecordText`), annotated as `write_vcf`
    annotates them (`table`/`results` are those contigs' rows), as a part.
    `end_declared=False`: the header declares no INFO/END, and the records were read by
    bcftools without a word about undeclared keys, so none holds an END (its text is not
    searched for one; the .tbi takes each record's end from POS and REF). `csq`: the
    table's `csq` column as INFO/CSQ (the header, `vcf_header_text`, declares it); and
    `row_info` per row (`write_vcf`)."""
    ann = annotation(table, results, categories, csq=csq, row_info=row_info)
    rows = _Rows.of(table)
    try:
        if isinstance(text, RecordText):
            with _bgzip(out, eof=False) as sink:
                layout = _merge_records(_ChunkReader(text.chunks()),  # type: ignore[arg-type]
                                        sink, rows, ann, 0, find_end=end_declared)
        else:
            command = None if text is not None else ["tabix", str(vcf), *contigs]
            with _source(command, text or vcf) as source, _bgzip(out, eof=False) as sink:
                if text is not None:
                    _copy_header(source, io.BytesIO(), [])
                layout = _merge_records(source, sink, rows, ann, 0, find_end=end_declared)
    except _Misaligned as error:
        raise NotStreamable(str(error)) from error
    layout.blocks = sink.layout()
    return VcfPart(out, sink.end, _index_sections(rows, layout))


def join_vcf_parts(header: bytes, parts: list[VcfPart], out: Path) -> Path:
    """`out`: `header`, then the parts in order; its index (`out`.tbi, or `out`.csi for
    positions beyond the .tbi range)."""
    out = Path(out)
    tmp_out = out.with_name(out.name + ".tmp.vcf.gz")
    head = compress_blocks(header)
    with open(tmp_out, "wb") as sink:
        sink.write(head)
        for part in parts:
            copy_file(part.path, sink)
        sink.write(bgzf.EOF)
    if any(part.sections is None for part in parts):
        index = index_vcf(tmp_out)
    else:
        sections, address = [], len(head)
        for part in parts:
            assert part.sections is not None
            sections += [s.shifted(address) for s in part.sections]
            address += part.size
        index = Path(f"{tmp_out}.tbi")
        index.write_bytes(pack_tbi(sections))
    return _put_in_place(tmp_out, index, out)
