"""Tabix indexes (.tbi) of BGZF-compressed VCF: written from what a writer knows of its
records (`helgenom.io.vcfwrite`), and read back for the contigs, record counts and spans of
an indexed input (`helgenom.rank.chunked`). The format is htslib's (SAMv1/tabix spec)."""

from __future__ import annotations

import itertools
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helgenom.io import bgzf
from helgenom.io.bgzf import compress_blocks, inflate_blocks

# ---------------------------------------------------------------------- tabix index (.tbi)
#
# The writer knows every record's contig, start, end and place in the uncompressed output, so
# it builds the .tbi itself (as `tabix -p vcf` would: binning index with htslib's merging of
# small bins, linear index, per-contig pseudo-bin with the record count) once the compressed
# block layout is read back from the output's BGZF headers. `tabix` runs instead when a record
# has INFO/END (the record's end comes from it) or records are not sorted.

_TBI_SHIFT, _TBI_LEVELS = 14, 5
_TBI_BINS = ((1 << (3 * _TBI_LEVELS + 3)) - 1) // 7
# Each contig's pseudo-bin: its first and last virtual offsets, mapped and unmapped records.
TBI_PSEUDO_BIN = _TBI_BINS + 1
TBI_MAX_END = 1 << (_TBI_SHIFT + 3 * _TBI_LEVELS)
_MIN_MARKER_DIST = 0x10000


def _bin_first(level: int) -> int:
    return ((1 << (3 * level)) - 1) // 7


def _reg2bin(beg: np.ndarray, end: np.ndarray) -> np.ndarray:
    """htslib's hts_reg2bin for [beg, end) (0-based, end exclusive), vectorised."""
    last = end - 1
    out = np.zeros(len(beg), dtype=np.int64)
    done = np.zeros(len(beg), dtype=bool)
    for level in range(_TBI_LEVELS, 0, -1):
        shift = _TBI_SHIFT + 3 * (_TBI_LEVELS - level)
        same = ~done & ((beg >> shift) == (last >> shift))
        out[same] = _bin_first(level) + (beg[same] >> shift)
        done |= same
    return out


def virtual_offsets(offsets: np.ndarray, addresses: np.ndarray, starts: np.ndarray
                     ) -> np.ndarray:
    """BGZF virtual offsets of uncompressed `offsets` (a block end is the next block's
    start, as htslib's bgzf_tell reports it)."""
    block = np.searchsorted(starts, offsets, side="right") - 1
    return (addresses[block] << 16) | (offsets - starts[block])


def _bgzf(data: bytes) -> bytes:
    """`data` as BGZF, with the end-of-file block."""
    return compress_blocks(data) + bgzf.EOF


def _chunks_of(bins: np.ndarray, begin: np.ndarray, end: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """htslib's compress_binning: bins whose chunks span less than 64 kB of compressed file
    go to their parent bin (if it has chunks), deepest level first; then chunks of a bin that
    touch the same BGZF block are merged. Returns (bin, begin, end) per chunk, by bin."""
    present = np.unique(bins)
    for level in range(_TBI_LEVELS, 0, -1):
        low, high = _bin_first(level), _bin_first(level + 1)
        at_level = np.flatnonzero((bins >= low) & (bins < high))
        if not len(at_level):
            continue
        ids, group = np.unique(bins[at_level], return_inverse=True)
        first = np.full(len(ids), np.iinfo(np.int64).max, dtype=np.int64)
        last = np.zeros(len(ids), dtype=np.int64)
        np.minimum.at(first, group, begin[at_level])
        np.maximum.at(last, group, end[at_level])
        parent = (ids - 1) >> 3
        small = ((last >> 16) - (first >> 16) < _MIN_MARKER_DIST) & np.isin(parent, present)
        moving = small[group]
        bins = bins.copy()
        bins[at_level[moving]] = parent[group[moving]]
    order = np.lexsort((begin, bins))
    bins, begin, end = bins[order], begin[order], end[order]
    new = np.ones(len(bins), dtype=bool)
    new[1:] = (bins[1:] != bins[:-1]) | ((end[:-1] >> 16) < (begin[1:] >> 16))
    heads = np.flatnonzero(new)
    return bins[heads], begin[heads], np.maximum.reduceat(end, heads) if len(heads) else end


def _linear_index(beg: np.ndarray, end: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per 16 kb window, the virtual offset of the first record that overlaps it; a window
    no record overlaps takes the next window's (htslib's update_loff)."""
    first_window, last_window = beg >> _TBI_SHIFT, (end - 1) >> _TBI_SHIFT
    unset = np.iinfo(np.int64).max
    offsets = np.full(int(last_window.max()) + 1, unset, dtype=np.int64)
    span = last_window - first_window + 1
    rows = np.repeat(np.arange(len(beg)), span)
    within = np.arange(len(rows)) - np.repeat(np.cumsum(span) - span, span)
    np.minimum.at(offsets, first_window[rows] + within, start[rows])
    place = np.where(offsets != unset, np.arange(len(offsets)), len(offsets))
    return offsets[np.minimum.accumulate(place[::-1])[::-1]]


def _pack_bins(bins: np.ndarray, begin: np.ndarray, end: np.ndarray) -> bytes:
    """Binning index records: uint32 bin, int32 n_chunk, n_chunk x (uint64 beg, end)."""
    ids, counts = np.unique(bins, return_counts=True)
    words = np.zeros(2 * len(ids) + 4 * len(bins), dtype="<u4")
    record = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(2 + 4 * counts, out=record[1:])
    words[record[:-1]] = ids
    words[record[:-1] + 1] = counts
    slot = np.repeat(record[:-1] + 2, counts) + 4 * (
        np.arange(len(bins)) - np.repeat(np.cumsum(counts) - counts, counts))
    for k, values in enumerate((begin, end)):
        words[slot + 2 * k] = values & 0xFFFFFFFF
        words[slot + 2 * k + 1] = values >> 32
    return words.tobytes()


@dataclass
class ContigIndex:
    """The .tbi section of one contig: binning chunks and linear index (virtual offsets),
    the offsets of its first and past its last record, and its record count."""

    name: str
    bins: np.ndarray
    begin: np.ndarray
    end: np.ndarray
    first: int
    last: int
    records: int
    linear: np.ndarray

    def shifted(self, address: int) -> ContigIndex:
        """The same section for the file bytes moved `address` bytes further."""
        shift = np.int64(address) << 16
        return ContigIndex(self.name, self.bins, self.begin + shift, self.end + shift,
                           self.first + int(shift), self.last + int(shift), self.records,
                           self.linear + shift)


def contig_sections(names: list[str], tid: np.ndarray, beg: np.ndarray, end: np.ndarray,
                     start: np.ndarray, stop: np.ndarray, header_end: int
                     ) -> list[ContigIndex]:
    """Per contig run of the sorted records, its .tbi section."""
    sections = []
    bounds = np.flatnonzero(np.r_[True, tid[1:] != tid[:-1], True]) if len(tid) else [0]
    for a, b in itertools.pairwise(bounds):
        before = header_end if a == 0 else int(start[a])
        r_beg, r_end, r_start, r_stop = beg[a:b], end[a:b], start[a:b], stop[a:b]
        bins = _reg2bin(r_beg, r_end)
        run = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
        run_end = np.r_[run[1:], len(bins)] - 1
        chunk_bins, chunk_begin, chunk_end = _chunks_of(bins[run], r_start[run],
                                                        r_stop[run_end])
        linear = _linear_index(r_beg, r_end, r_start)
        sections.append(ContigIndex(names[int(tid[a])], chunk_bins, chunk_begin, chunk_end,
                                    before, int(r_stop[-1]), int(b - a), linear))
    return sections


def pack_tbi(sections: list[ContigIndex]) -> bytes:
    """The .tbi (BGZF) of the contig sections, in file order."""
    meta = b"".join(s.name.encode() + b"\0" for s in sections)
    parts = [b"TBI\1", struct.pack("<i7i", len(sections), 2, 1, 2, 0, ord("#"), 0, len(meta)),
             meta]
    for s in sections:
        parts += [struct.pack("<i", len(np.unique(s.bins)) + 1),
                  _pack_bins(s.bins, s.begin, s.end),
                  struct.pack("<IiQQQQ", TBI_PSEUDO_BIN, 2, s.first, s.last, s.records, 0),
                  struct.pack("<i", len(s.linear)), s.linear.astype("<u8").tobytes()]
    parts.append(struct.pack("<Q", 0))
    return _bgzf(b"".join(parts))


def index_vcf(path: Path | str, csi: bool = False) -> Path:
    """Index the bgzipped VCF `path` with `tabix`: a .tbi, or a .csi when `csi` or when a
    record lies beyond what a .tbi can index (TBI_MAX_END, 2^29: htslib then says so and
    writes nothing). The index written; an index of the other kind left by an earlier run is
    removed. `tabix` failing (unsorted records, say) raises CalledProcessError with its
    stderr."""
    def run(*options: str) -> subprocess.CompletedProcess:
        return subprocess.run(["tabix", "-f", *options, "-p", "vcf", str(path)],
                              capture_output=True, text=True, check=False)

    proc = run("-C") if csi else run()
    if not csi and proc.returncode != 0 and "cannot be stored in a tbi index" in proc.stderr:
        csi, proc = True, run("-C")
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout,
                                            proc.stderr)
    written, other = (Path(f"{path}.csi"), Path(f"{path}.tbi")) if csi else (
        Path(f"{path}.tbi"), Path(f"{path}.csi"))
    other.unlink(missing_ok=True)
    return written


# ---------------------------------------------------------------------- reading a .tbi


@dataclass
class TabixIndex:
    """What the index says of an indexed input: (contig, records) in the index's order,
    which is the file's (the index of bgzipped VCF text numbers contigs as it meets them);
    from a .tbi also each contig's virtual offsets of its first record and past its last."""

    contigs: list[tuple[str, int]]
    spans: dict[str, tuple[int, int]] | None = None


def read_index(vcf: Path | str) -> TabixIndex:
    """The input's index: its .tbi read here (one pass over the bins); `bcftools index -s`
    for a .csi or a .tbi that does not read as expected; no contigs when there is neither."""
    read = read_tbi(Path(f"{vcf}.tbi"))
    if read is not None:
        return read
    if not any(Path(f"{vcf}.{ext}").is_file() for ext in ("tbi", "csi")):
        return TabixIndex([])
    proc = subprocess.run(["bcftools", "index", "-s", str(vcf)], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        return TabixIndex([])
    contigs = []
    for line in proc.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].isdigit():
            contigs.append((parts[0], int(parts[2])))
    return TabixIndex(contigs)


def read_tbi(path: Path) -> TabixIndex | None:
    """The contigs with records, their counts and spans, from the .tbi at `path` (as htslib
    writes it: header, names, then per contig its bins, the pseudo-bin among them, and its
    linear index); None without a .tbi, or when it does not read so."""
    if not path.is_file():
        return None
    try:
        data = b"".join(block for _, block in inflate_blocks(path.read_bytes(), name=str(path)))
        if data[:4] != b"TBI\x01":
            return None
        n_ref, l_nm = struct.unpack_from("<i", data, 4)[0], struct.unpack_from("<i", data, 32)[0]
        names = data[36:36 + l_nm].split(b"\0")
        if n_ref < 0 or len(names) < n_ref:
            return None
        position, unpack = 36 + l_nm, struct.unpack_from
        contigs, spans = [], {}
        for ref in range(n_ref):
            (n_bin,) = unpack("<i", data, position)
            position += 4
            pseudo = None
            for _ in range(n_bin):
                bin_id, n_chunk = unpack("<Ii", data, position)
                if bin_id == TBI_PSEUDO_BIN and n_chunk == 2:  # htslib writes one per contig
                    pseudo = unpack("<4Q", data, position + 8)
                position += 8 + 16 * n_chunk
            (n_intv,) = unpack("<i", data, position)
            position += 4 + 8 * n_intv
            if n_bin and pseudo is None:
                return None  # records without htslib's count of them
            if pseudo is not None and pseudo[2]:
                name = names[ref].decode()
                contigs.append((name, pseudo[2]))
                spans[name] = (pseudo[0], pseudo[1])
        if position > len(data):
            return None
    except (OSError, ValueError, struct.error, UnicodeDecodeError):
        return None
    ends = [spans[name] for name, _ in contigs]
    if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(ends)) or any(
            begin >= end for begin, end in ends):
        return None  # contigs not one after the other in the file
    return TabixIndex(contigs, spans)
