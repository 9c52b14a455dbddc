"""A family's VCF annotated with the database's counts, the family's own case left out.

Each record gets INFO Obs, Hom, Hem and Frq as an export writes them (Hom/Hem only when not
0; Frq = Obs / NrCases with 5 decimals; helgenom.freqdb.export) from every case but
`case_id`: if that case is loaded, its observations are taken off and NrCases counts one
case less, so a family never sees itself. Records without observations get no keys. The
header gains the four INFO lines and `##helgenom_freqdb=<NrCases=..,Excluded=..>`. INFO
keys of those names already in the input are removed first (`bcftools annotate -x`), and
an input with multi-allelic records is split first (`bcftools norm -m -any`: one ALT per
record, as the workflow's VCFs are). A database not made yet (no folder, or one without a
manifest or any database file: a GMC's first run) counts as empty: NrCases=0, nothing
annotated. With `sv`, symbolic and breakend records get the counts of the nearest SV
cluster of their type with both ends within the database's SV distance
(helgenom.freqdb.sv); other records none.

How (5M records in 13-15 s on 2 cores, 1 to 1,000 cases): the record text is read once,
without bcftools. A bgzipped input with a .tbi is cut into two runs of whole contigs (the
.tbi's virtual offsets), each inflated (ISA-L), annotated and compressed by its own
process, and the parts are joined behind the new header (helgenom.io.vcfwrite's
join_vcf_parts, the .tbi from the parts' sections); another input is streamed through one
process. Per block of whole records, numpy finds the tabs; an SNV's key comes from its REF
and ALT bytes, other alleles' REF/ALT become Arrow strings; keys are looked up in the
contig's shard (one shard in memory at a time) and the INFO text is spliced in. The .tbi
uses INFO/END only when the header declares it.
"""

from __future__ import annotations

import gzip
import multiprocessing
import os
import queue
import shlex
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from isal.isal_zlib import error as zlib_error

from helgenom.errors import InputError, Problem
from helgenom.freqdb import keys, store
from helgenom.freqdb.export import INFO_LINES, info_text, read_case_svs
from helgenom.freqdb.keys import SNV_FLAG, variant_keys
from helgenom.freqdb.sv import cluster, cluster_counts, is_sv_allele, match_clusters
from helgenom.io.ahead import read_ahead
from helgenom.io.bgzf import BgzfWriter, text_between
from helgenom.io.tabix import (
    TBI_MAX_END,
    ContigIndex,
    contig_sections,
    index_vcf,
    pack_tbi,
    read_index,
    virtual_offsets,
)
from helgenom.io.vcf import RecordText, VcfHeader, read_header
from helgenom.io.vcfwrite import VcfPart, join_vcf_parts

TAGS = ("Obs", "Hom", "Hem", "Frq")
# Inputs with fewer records, or smaller files, are annotated in one process (a second one
# costs ~1 s to start).
PARALLEL_RECORDS = 300_000
PARALLEL_BYTES = 16 << 20
# Bytes of text per block handled at once.
BLOCK_BYTES = 1 << 22


@dataclass
class Annotated:
    path: Path
    records: int
    annotated: int
    cases: int
    excluded: bool
    processes: int = 1
    empty: bool = False  # no database yet: nothing counted


@dataclass
class _Db:
    """What a process needs to look counts up (picklable: it goes to a worker)."""

    db: str
    manifest: dict[str, Any]
    case_id: str | None  # the excluded case, if it is loaded
    cases: int  # NrCases without it
    sv: bool = False
    sv_distance: int = 500
    # The header declares INFO/END: records may end there (the .tbi is then tabix's).
    end_declared: bool = True


class _NeedsSplit(Exception):
    """A record holds several ALT alleles."""


def _problem(source: str, message: str) -> InputError:
    return InputError([Problem(source, None, None, None, message)])


# --------------------------------------------------------------------------- lookups


class _Counter:
    """Counts of the database per variant, one shard in memory at a time."""

    def __init__(self, db: _Db) -> None:
        self.db = db
        self.path = Path(db.db)
        contigs = db.manifest["contigs"]
        self.index = {c["name"]: i for i, c in enumerate(contigs)}
        names = sorted({c["shard"] for c in contigs})
        self.shard_names = names
        number = {name: i for i, name in enumerate(names)}
        self.shard_of = np.array([number[c["shard"]] for c in contigs] or [0], dtype=np.int64)
        self.loaded: tuple[str, store.Rows | None] | None = None
        own = db.manifest["cases"].get(db.case_id) if db.case_id else None
        self.own = (store.Rows.of(store.read_table(self.path, own["variants"]))
                    if own is not None and not db.sv else None)
        self.svs: pd.DataFrame | None = None
        if db.sv:
            self.svs = cluster_counts(cluster(read_case_svs(self.path, db.manifest,
                                                             exclude=db.case_id),
                                              db.sv_distance))

    def _shard(self, name: str) -> store.Rows | None:
        if self.loaded is None or self.loaded[0] != name:
            entry = self.db.manifest["shards"].get(name)
            self.loaded = None  # the old one goes before the new one comes
            rows = (store.Rows.of(store.read_table(self.path, entry)) if entry is not None
                    else None)
            self.loaded = (name, rows)
        return self.loaded[1]

    def counts(self, chrom: pa.Array, keys: np.ndarray, valid: np.ndarray, ref: pa.Array,
               alt: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """obs, hom, hem per row (the excluded case's taken off); `ref`/`alt` need values
        only where the key is not an SNV's."""
        n = len(keys)
        obs, hom, hem = (np.zeros(n, dtype=np.int64) for _ in range(3))
        encoded = pc.dictionary_encode(chrom)
        per_name = np.array([self.index.get(name, -1)
                             for name in encoded.dictionary.to_pylist()] or [-1], dtype=np.int64)
        contig = per_name[encoded.indices.to_numpy(zero_copy_only=False)]
        rows = np.flatnonzero(valid & (contig >= 0))
        if not len(rows):
            return obs, hom, hem
        take = pa.array(rows)
        w_ref, w_alt = ref.take(take), alt.take(take)
        w_contig = contig[rows].astype(np.uint32)
        w_keys = keys[rows]
        for number, part in store.groups(self.shard_of[w_contig]):
            table = self._shard(self.shard_names[int(number)])
            if table is None:
                continue
            found = store.lookup(table, w_contig[part], w_keys[part],
                                 w_ref.take(pa.array(part)), w_alt.take(pa.array(part)))
            hit = found >= 0
            target = rows[part[hit]]
            for values, column in ((obs, "obs"), (hom, "hom"), (hem, "hem")):
                values[target] = table.values[column][found[hit]]
        if self.own is not None:
            found = store.lookup(self.own, w_contig, w_keys, w_ref, w_alt)
            hit = found >= 0
            target = rows[hit]
            obs[target] -= 1
            hom[target] -= self.own.values["hom"][found[hit]].astype(np.int64)
            hem[target] -= self.own.values["hem"][found[hit]].astype(np.int64)
        return obs, hom, hem

    def sv_counts(self, chrom: pa.Array, pos: np.ndarray, ref: pa.Array, alt: pa.Array,
                  info: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(pos)
        obs, hom, hem = (np.zeros(n, dtype=np.int64) for _ in range(3))
        return self._sv_counts(chrom, pos, ref, alt, info, obs, hom, hem)

    def _sv_counts(self, chrom: pa.Array, pos: np.ndarray, ref: pa.Array, alt: pa.Array,
                   info: list[bytes], obs: np.ndarray, hom: np.ndarray, hem: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert self.svs is not None
        alts = alt.to_pylist()
        rows = [i for i, a in enumerate(alts) if is_sv_allele(a)]
        if not rows or self.svs.empty:
            return obs, hom, hem
        chroms, refs = chrom.to_pylist(), ref.to_pylist()
        query = []
        for i in rows:
            fields = dict(item.split("=", 1) for item in info[i].decode().split(";")
                          if "=" in item)
            mate = pd.Series([alts[i]]).str.extract(r"[\[\]]([^\[\]:]+):(\d+)[\[\]]").iloc[0]
            end_contig = mate[0] if isinstance(mate[0], str) else chroms[i]
            if isinstance(mate[1], str):
                end = int(mate[1])
            elif fields.get("END", "").isdigit():
                end = int(fields["END"])
            else:
                end = int(pos[i]) + len(refs[i]) - 1
            start = int(pos[i])
            if end_contig == chroms[i] and end < start:
                start, end = end, start
            svtype = fields.get("SVTYPE") or alts[i].strip("<>").split(":")[0]
            query.append((chroms[i], end_contig, svtype, start, end))
        frame = pd.DataFrame(query, columns=["contig", "end_contig", "svtype", "pos", "end"])
        found = match_clusters(self.svs, frame, self.db.sv_distance)
        hit = found >= 0
        target = np.array(rows)[hit]
        for values, column in ((obs, "obs"), (hom, "hom"), (hem, "hem")):
            values[target] = self.svs[column].to_numpy(np.int64)[found[hit]]
        return obs, hom, hem


# --------------------------------------------------------------------------- record text


def _parse_positions(data: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Decimal integers in data[start:end] per line; -1 where the field is not one."""
    width = end - start
    value = np.zeros(len(start), dtype=np.int64)
    bad = (width < 1) | (width > 18)
    for digit_at in range(int(width.max(initial=0))):
        active = digit_at < width
        digit = data[np.where(active, start + digit_at, 0)].astype(np.int64) - 48
        bad |= active & ((digit < 0) | (digit > 9))
        value = np.where(active, value * 10 + digit, value)
    value[bad] = -1
    return value


def _fields(buffer: pa.Buffer, start: np.ndarray, end: np.ndarray) -> pa.Array:
    """data[start:end] per row as strings (views of `buffer`, then one copy)."""
    if not len(start):
        return pa.array([], pa.large_string())
    offsets = np.empty(2 * len(start), dtype=np.int64)
    offsets[0::2], offsets[1::2] = start, end
    pieces = pa.Array.from_buffers(pa.large_binary(), max(2 * len(start) - 1, 0),
                                   [None, pa.py_buffer(offsets), buffer])
    return pieces.take(pa.array(np.arange(0, 2 * len(start) - 1, 2))).cast(pa.large_string())


@dataclass
class _Written:
    """Where a part's records went (for its .tbi)."""

    names: list[str] = field(default_factory=list)
    tid: list[np.ndarray] = field(default_factory=list)
    beg: list[np.ndarray] = field(default_factory=list)
    end: list[np.ndarray] = field(default_factory=list)
    starts: list[np.ndarray] = field(default_factory=list)
    bytes: int = 0
    records: int = 0
    annotated: int = 0
    has_end: bool = False


def _annotate_block(buf: bytes, counter: _Counter, written: _Written, source: str) -> bytes:
    """Whole records (each ending in a newline) with their INFO text; `written` learns
    where each went."""
    data = np.frombuffer(buf, dtype=np.uint8)
    marks = np.flatnonzero(data <= 13)
    kinds = data[marks]
    if ((kinds != 9) & (kinds != 10)).any():
        raise _problem(source, "control characters or CR LF line ends in the records")
    newline = kinds == 10
    ends = marks[newline]
    n = len(ends)
    if not n:
        return b""
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    tabs = marks[~newline]
    first = np.searchsorted(tabs, starts)
    if not len(tabs) or first[-1] + 6 >= len(tabs) or (tabs[first + 6] > ends).any():
        raise _problem(source, "a record has fewer than 8 columns")

    def tab(k: int) -> np.ndarray:
        return tabs[first + k]

    has_eighth = first + 7 < len(tabs)
    eighth = tabs[np.where(has_eighth, first + 7, 0)]
    info_end = np.where(has_eighth & (eighth < ends), eighth, ends)
    info_start = tab(6) + 1
    buffer = pa.py_buffer(buf)
    pos = _parse_positions(data, tab(0) + 1, tab(1))
    if (pos < 1).any():
        raise _problem(source, "a record's POS is not a number")
    longer = np.flatnonzero(tab(4) - tab(3) > 2)  # an ALT with a comma has 3 bytes or more
    if len(longer) and pc.any(pc.match_substring(
            _fields(buffer, tab(3)[longer] + 1, tab(4)[longer]), ",")).as_py():
        raise _NeedsSplit()
    chrom = _fields(buffer, starts, tab(0))
    if counter.db.sv:
        info = [bytes(buf[a:b]) for a, b in zip(info_start, info_end, strict=True)]
        obs, hom, hem = counter.sv_counts(chrom, pos, _fields(buffer, tab(2) + 1, tab(3)),
                                          _fields(buffer, tab(3) + 1, tab(4)), info)
    else:
        # SNV keys from the bytes themselves; REF and ALT as strings for the others only
        ref_len, alt_len = tab(3) - tab(2) - 1, tab(4) - tab(3) - 1
        first_ref = data[tab(2) + 1].astype(np.uint32)
        first_alt = data[tab(3) + 1].astype(np.uint32)
        valid = (ref_len >= 1) & (alt_len >= 1) & (first_alt != ord("<")) & ~(
            (alt_len == 1) & ((first_alt == ord("*")) | (first_alt == ord("."))))
        codes = SNV_FLAG | (first_ref << 8) | first_alt
        other = np.flatnonzero(valid & ((ref_len != 1) | (alt_len != 1)))
        ref_other = _fields(buffer, tab(2)[other] + 1, tab(3)[other])
        alt_other = _fields(buffer, tab(3)[other] + 1, tab(4)[other])
        if len(other):
            codes[other] = keys.indel_codes(ref_other, alt_other)  # as keys.allele_codes
        place = np.full(n, -1, dtype=np.int64)
        place[other] = np.arange(len(other))
        spread = pa.array(place, mask=place < 0)
        obs, hom, hem = counter.counts(chrom, variant_keys(pos, codes), valid,
                                       ref_other.take(spread), alt_other.take(spread))
    annotated = obs > 0
    rows = np.flatnonzero(annotated)
    texts = info_text(obs[rows], hom[rows], hem[rows], counter.db.cases).cast(pa.large_binary())
    texts = pa.concat_arrays([texts, pa.array([b""], pa.large_binary())])
    index = np.full(n, len(rows), dtype=np.int64)
    index[rows] = np.arange(len(rows))
    plain = texts.take(pa.array(index))
    # An empty INFO ('.') is replaced; else ';' and the keys are appended.
    dot = annotated & (info_end - info_start == 1) & (data[info_start] == ord("."))
    offsets = np.empty(3 * n + 1, dtype=np.int64)
    offsets[0:3 * n:3] = starts
    offsets[1:3 * n:3] = np.where(dot, info_start, info_end)
    offsets[2:3 * n:3] = info_end
    offsets[3 * n] = ends[-1] + 1
    pieces = pa.Array.from_buffers(pa.large_binary(), 3 * n,
                                   [None, pa.py_buffer(offsets), buffer])
    empty = pa.scalar(b"", pa.large_binary())
    separator = pc.if_else(pa.array(annotated & ~dot), pa.scalar(b";", pa.large_binary()), empty)
    out = pc.binary_join_element_wise(pieces.take(pa.array(np.arange(0, 3 * n, 3))), separator,
                                      plain, pieces.take(pa.array(np.arange(2, 3 * n, 3))),
                                      empty)
    value_offsets = np.frombuffer(out.buffers()[1], dtype=np.int64)[
        out.offset:out.offset + n + 1]
    text = memoryview(out.buffers()[2])[value_offsets[0]:value_offsets[-1]]
    # For the .tbi: contig, begin, end (POS + len(REF)) and place of each record.
    encoded = pc.dictionary_encode(chrom)
    for name in encoded.dictionary.to_pylist():
        if name not in written.names:
            written.names.append(name)
    local = np.array([written.names.index(name) for name in encoded.dictionary.to_pylist()],
                     dtype=np.int64)
    written.tid.append(local[encoded.indices.to_numpy(zero_copy_only=False)])
    written.beg.append(pos - 1)
    written.end.append(pos - 1 + np.maximum(tab(3) - tab(2) - 1, 1))
    written.starts.append(value_offsets[:-1] - value_offsets[0] + written.bytes)
    written.bytes += int(value_offsets[-1] - value_offsets[0])
    written.records += n
    written.annotated += int(annotated.sum())
    written.has_end = written.has_end or (counter.db.end_declared and buf.find(b"END=") >= 0)
    return bytes(text)


def _records(chunks: Iterator[bytes], counter: _Counter, sink: BinaryIO, written: _Written,
             source: str) -> None:
    """Annotate the record text of `chunks` (lines may be cut between chunks) into `sink`,
    compressed by a thread while the next block is made."""
    work: queue.Queue[bytes | None] = queue.Queue(maxsize=3)
    failed: list[BaseException] = []

    def write() -> None:
        while (data := work.get()) is not None:
            if not failed:
                try:
                    sink.write(data)
                except BaseException as error:  # raised in the caller's thread
                    failed.append(error)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        carry = b""
        for chunk in chunks:
            text = carry + chunk if carry else chunk
            cut = text.rfind(b"\n") + 1
            carry = text[cut:]
            if cut:
                work.put(_annotate_block(text[:cut], counter, written, source))
            if failed:
                raise failed[0]
        if carry.strip():
            work.put(_annotate_block(carry + b"\n", counter, written, source))
    finally:
        work.put(None)
        writer.join()
    if failed:
        raise failed[0]


def _sections(written: _Written, addresses: np.ndarray, block_starts: np.ndarray,
              header_bytes: int) -> list[ContigIndex] | None:
    """The .tbi sections of what was written; None when tabix must index it (INFO/END,
    positions beyond the .tbi's range, contigs not in one run each, unsorted)."""
    if not written.records:
        return []
    tid = np.concatenate(written.tid)
    beg = np.concatenate(written.beg)
    end = np.concatenate(written.end)
    runs = tid[np.r_[True, tid[1:] != tid[:-1]]]
    if (written.has_end or len(np.unique(runs)) != len(runs) or int(end.max()) > TBI_MAX_END
            or ((np.diff(beg) < 0) & (np.diff(tid) == 0)).any()):
        return None
    starts = np.concatenate(written.starts) + header_bytes
    total = header_bytes + written.bytes
    start = virtual_offsets(starts, addresses, block_starts)
    stop = virtual_offsets(np.r_[starts[1:], total].astype(np.int64), addresses, block_starts)
    header_end = int(virtual_offsets(np.array([header_bytes]), addresses, block_starts)[0])
    return contig_sections(written.names, tid, beg, end, start, stop, header_end)


# --------------------------------------------------------------------------- sources


def _bgzf_text(path: str, begin: int, end: int) -> Iterator[bytes]:
    """The text between two virtual offsets of a BGZF file, in chunks, inflated by a reader
    thread one chunk ahead."""
    return read_ahead(text_between(path, begin, end, BLOCK_BYTES))


def _annotate_part(db: _Db, vcf: str, begin: int, end: int, out: str) -> tuple[VcfPart, int,
                                                                                   int]:
    """A run of contigs (between two virtual offsets) annotated into the BGZF part `out`
    (no header, no end-of-file block): the part, its records and annotated records."""
    counter = _Counter(db)
    written = _Written()
    with open(out, "wb") as handle:
        sink = BgzfWriter(handle, eof=False)
        _records(_bgzf_text(vcf, begin, end), counter, sink, written, vcf)
        sink.close()
    addresses, block_starts = sink.layout()
    return (VcfPart(Path(out), sink.end, _sections(written, addresses, block_starts, 0)),
            written.records, written.annotated)


def _stream(path: Path) -> tuple[list[str] | None, Iterator[bytes]]:
    """The text of any VCF (plain, gzip/BGZF, BCF): (command or None, chunks)."""
    with open(path, "rb") as probe:
        magic = probe.read(4)
    command: list[str] | None = None
    if magic[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as handle:
            command = (["bcftools", "view", "-Ov", str(path)] if handle.read(3) == b"BCF"
                       else ["bgzip", "-dc", str(path)])
    elif magic[:3] == b"BCF":
        command = ["bcftools", "view", "-Ov", str(path)]

    def chunks() -> Iterator[bytes]:
        if command is None:
            with open(path, "rb") as handle:
                while chunk := handle.read(BLOCK_BYTES):
                    yield chunk
            return
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        try:
            while chunk := proc.stdout.read(BLOCK_BYTES):
                yield chunk
        finally:
            proc.stdout.close()
            errors = proc.stderr.read().decode(errors="replace")
            if proc.wait() != 0:
                raise _problem(str(path), "cannot be read: "
                               + " ".join(errors.strip().splitlines()[-1:]))

    return command, chunks()


def _new_header(header: bytes, lines: str) -> bytes:
    """`header` (the input's, ending in the #CHROM line) with `lines` before #CHROM."""
    at = header.rfind(b"\n#CHROM")
    at = 0 if header.startswith(b"#CHROM") else at + 1
    if at == 0 and not header.startswith(b"#CHROM"):
        raise _problem("header", "not a VCF header (no #CHROM line)")
    return header[:at] + lines.encode() + header[at:]


def _single(db: _Db, vcf: Path, out_tmp: Path, info_lines: str) -> tuple[Path, int, int]:
    """The whole input in this process; the index written."""
    counter = _Counter(db)
    _command, chunks = _stream(vcf)
    header = b""
    rest = b""
    for chunk in chunks:
        header += chunk
        at = header.find(b"\n#CHROM")
        at = 0 if header.startswith(b"#CHROM") else (at + 1 if at >= 0 else -1)
        if at >= 0:
            line_end = header.find(b"\n", at)
            if line_end >= 0:
                header, rest = header[:line_end + 1], header[line_end + 1:]
                break
    else:
        raise _problem(str(vcf), "not a VCF: no #CHROM line")
    head = _new_header(header, info_lines)
    written = _Written()
    with open(out_tmp, "wb") as handle:
        sink = BgzfWriter(handle)
        sink.write(head)
        sink.flush()

        def all_chunks() -> Iterator[bytes]:
            if rest:
                yield rest
            yield from chunks

        _records(all_chunks(), counter, sink, written, str(vcf))
        sink.close()
    addresses, block_starts = sink.layout()
    sections = _sections(written, addresses, block_starts, len(head))
    if sections is None:
        index = index_vcf(out_tmp)
    else:
        index = Path(f"{out_tmp}.tbi")
        index.write_bytes(pack_tbi(sections))
    return index, written.records, written.annotated


def _parallel(db: _Db, vcf: Path, out: Path, info_lines: str, tmp: Path,
              pool: ProcessPoolExecutor) -> tuple[int, int] | None:
    """The input in two runs of contigs, one in a worker process; None if its index does
    not allow it."""
    index = read_index(vcf)
    if not index.spans or len(index.contigs) < 2:
        return None
    total = sum(count for _, count in index.contigs)
    if total < PARALLEL_RECORDS:
        return None
    header_end = min(begin for begin, _ in index.spans.values())
    cut, seen = 1, 0
    for k, (_, count) in enumerate(index.contigs[:-1], start=1):
        seen += count
        cut = k
        if seen >= total / 2:
            break
    halves = [index.contigs[:cut], index.contigs[cut:]]
    spans = [(min(index.spans[c][0] for c, _ in half), max(index.spans[c][1] for c, _ in half))
             for half in halves]
    header = RecordText(vcf, header_end, header_end, header_end).header()
    outs = [str(tmp / f"part-{k}.bgzf") for k in range(2)]
    future: Future = pool.submit(_annotate_part, db, str(vcf), *spans[1], outs[1])
    try:
        first = _annotate_part(db, str(vcf), *spans[0], outs[0])
    except BaseException:
        future.cancel()
        with suppress(BaseException):
            future.result()
        raise
    second = future.result()
    records = first[1] + second[1]
    if records != total:
        raise _problem(str(vcf), f"{records} records read, its index counts {total}: "
                       "is the index older than the file?")
    join_vcf_parts(_new_header(header, info_lines), [first[0], second[0]], out)
    return records, first[2] + second[2]


def _prepare(vcf: Path, header: VcfHeader, tmp: Path, split: bool) -> tuple[Path, VcfHeader]:
    """The input without INFO keys of ours and, with `split`, one ALT per record
    (bgzipped, indexed, in `tmp`)."""
    present = [tag for tag in TAGS if tag in header.info]
    if not present and not split:
        return vcf, header
    q = shlex.quote
    out = tmp / f"input-{len(list(tmp.iterdir()))}.vcf.gz"
    steps = []
    if split:
        steps.append(f"bcftools norm -m -any -Ou {q(str(vcf))}")
    if present:
        source = "-" if split else q(str(vcf))
        steps.append(f"bcftools annotate -x {','.join(f'INFO/{t}' for t in present)} -Ou "
                     f"{source}")
    steps.append(f"bcftools view -Oz -o {q(str(out))}")
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", " | ".join(steps)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise _problem(str(vcf), "bcftools cannot read it: "
                       + " ".join(proc.stderr.strip().splitlines()[-1:]))
    index_vcf(out)
    return out, read_header(out)


def _start_worker() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


def _not_made_yet(db: Path) -> bool:
    """No database at `db` yet (no such folder, or one without a manifest and without any
    database file: a GMC's first run): it counts as empty."""
    if (db / store.MANIFEST).exists():
        return False
    if not db.exists():
        return True
    return db.is_dir() and not any(p.suffix == ".parquet" for p in db.rglob("*"))


def annotate(db: Path | str, vcf: Path | str, out: Path | str, case_id: str | None = None,
             sv: bool = False) -> Annotated:
    """Write `out` (bgzipped, with its .tbi): `vcf` with the database's counts."""
    db, vcf, out = Path(db), Path(vcf), Path(out)
    if not vcf.is_file():
        raise _problem(str(vcf), "file not found")
    pool = _start_worker() if not sv and os.path.getsize(vcf) >= PARALLEL_BYTES else None
    try:
        header = read_header(vcf)
        empty = _not_made_yet(db)
        with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as tmp_dir, \
                (nullcontext() if empty else store.locked(db, exclusive=False)):
            tmp = Path(tmp_dir)
            manifest = store.empty_manifest() if empty else store.read_manifest(db)
            excluded = bool(case_id) and case_id in manifest["cases"]
            cases = len(manifest["cases"]) - int(excluded)
            info = _Db(str(db), manifest, case_id if excluded else None, cases, sv,
                       manifest["sv_distance"] or 500, "END" in header.info)
            info_lines = "".join(f"{INFO_LINES[t]}\n" for t in TAGS) + (
                f"##helgenom_freqdb=<NrCases={cases},Excluded={case_id if excluded else '.'}>\n")
            source, header = _prepare(vcf, header, tmp, split=False)
            processes = 1
            for attempt in range(2):
                try:
                    done = _parallel(info, source, out, info_lines, tmp, pool) if pool else None
                    if done is None:
                        out_tmp = tmp / "annotated.vcf.gz"
                        index, records, annotated = _single(info, source, out_tmp, info_lines)
                        kind = index.suffix
                        Path(f"{out}{'.csi' if kind == '.tbi' else '.tbi'}").unlink(
                            missing_ok=True)
                        index.replace(f"{out}{kind}")
                        out_tmp.replace(out)
                    else:
                        records, annotated = done
                        processes = 2
                    break
                except _NeedsSplit:
                    if attempt:
                        raise _problem(str(vcf), "multi-allelic records remain after "
                                       "bcftools norm -m -any") from None
                    source, header = _prepare(source, header, tmp, split=True)
    except (ValueError, EOFError, zlib_error) as error:  # a BGZF block that does not inflate
        raise _problem(str(vcf), f"cannot be read to its end (truncated or corrupt?): "
                       f"{error}") from error
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    return Annotated(out, records, annotated, cases, excluded, processes, empty)
