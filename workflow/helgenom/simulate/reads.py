"""Illumina-like 2x150 paired-end reads from haplotype sequences, written as gzip FASTQ."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helgenom.simulate.genome import COMPLEMENT, N_CODE, encode, to_ascii

READ_LENGTH = 150
FRAGMENT_MEAN = 350.0
FRAGMENT_SD = 60.0
SHORT_FRAGMENT_FRACTION = 0.025  # inserts shorter than a read: adapter read-through
DUPLICATE_FRACTION = 0.04  # of all pairs written
ADAPTER_R1 = "AGATCGGAAGAGCACACGTCTGAACTCCAGTCA"
ADAPTER_R2 = "AGATCGGAAGAGCGTCGTGTAGGGAAAGAGTGT"
INDEX_SEQUENCE = "ACGTACGT"
INSTRUMENT, RUN, FLOWCELL = "HGSIM", 1, "HGFC001"
R2_ERROR_SCALE = 1.3
GZIP_LEVEL = 2
_CHUNK = 20_000
_SPACER = 500  # N bases around haplotypes in the template (> READ_LENGTH: no bounds checks)
_MAX_TILES = 50

# Binned Phred scores (NovaSeq-like) and the substitution probability each one stands for.
QUALITY_BINS = (37, 23, 12, 2)
_PHRED_BY_BIN = np.array(QUALITY_BINS, dtype=np.uint8)
_ERROR_BY_BIN = np.array([10.0 ** (-q / 10.0) for q in QUALITY_BINS], dtype=np.float32)


def quality_thresholds(scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative per-cycle probabilities of Q2 (called N), Q12 and Q23; the rest is Q37.

    Low bins become more frequent along the read, so the expected substitution rate rises
    from about 0.1% at cycle 1 to about 1% at cycle 150 (times ``scale``). These are means
    over clusters: each cluster scales them by its own quality factor (`cluster_quality`).
    """
    t = np.arange(READ_LENGTH, dtype=np.float64) / (READ_LENGTH - 1)
    q2 = (0.0001 + 0.001 * t**2) * scale
    q12 = (0.006 + 0.13 * t**2) * scale
    q23 = (0.08 + 0.15 * t) * scale
    return (
        q2.astype(np.float32),
        (q2 + q12).astype(np.float32),
        (q2 + q12 + q23).astype(np.float32),
    )


@dataclass
class Template:
    """All haplotypes of one sample concatenated, separated by N spacers."""

    codes: np.ndarray
    stranded: np.ndarray  # codes followed by their complement (bottom strand, same coordinates)
    n_prefix: np.ndarray  # cumulative count of N codes, length codes.size + 1
    offsets: list[int]
    lengths: list[int]


def make_template(haplotypes: Sequence[np.ndarray]) -> Template:
    spacer = np.full(_SPACER, N_CODE, dtype=np.uint8)
    pieces: list[np.ndarray] = [spacer]
    offsets, lengths = [], []
    cursor = _SPACER
    for hap in haplotypes:
        offsets.append(cursor)
        lengths.append(int(hap.size))
        pieces += [hap, spacer]
        cursor += hap.size + _SPACER
    codes = np.concatenate(pieces)
    n_prefix = np.concatenate([[0], np.cumsum(codes == N_CODE, dtype=np.int64)])
    stranded = np.concatenate([codes, COMPLEMENT[codes]])
    return Template(codes, stranded, n_prefix, offsets, lengths)


@dataclass
class Fragments:
    start: np.ndarray  # int64, into Template.codes
    length: np.ndarray  # int64
    flip: np.ndarray  # bool: R1 reads the reverse strand

    def __len__(self) -> int:
        return int(self.start.size)

    def take(self, index: np.ndarray) -> Fragments:
        return Fragments(self.start[index], self.length[index], self.flip[index])


def _fragment_lengths(rng: np.random.Generator, n: int) -> np.ndarray:
    normal = np.clip(np.rint(rng.normal(FRAGMENT_MEAN, FRAGMENT_SD, n)), 160, 800)
    short = rng.integers(40, READ_LENGTH, size=n)
    use_short = rng.random(n) < SHORT_FRAGMENT_FRACTION
    return np.where(use_short, short, normal).astype(np.int64)


def sample_fragments(
    rng: np.random.Generator,
    template: Template,
    depth_per_hap: float,
    weights: Sequence[float] | None = None,
) -> Fragments:
    """Unique fragments (no N inside) giving ``depth_per_hap`` mean read depth per haplotype
    (times its weight, if given: a mixture of samples), plus PCR duplicates of a random subset,
    in random order."""
    starts, lengths = [], []
    scales = [1.0] * len(template.offsets) if weights is None else list(weights)
    for offset, hap_len, scale in zip(template.offsets, template.lengths, scales, strict=True):
        wanted = round(depth_per_hap * scale * hap_len / (2 * READ_LENGTH))
        got = 0
        while got < wanted:
            m = int((wanted - got) * 1.1) + 64
            f = _fragment_lengths(rng, m)
            s = offset + np.floor(rng.random(m) * (hap_len - f + 1)).astype(np.int64)
            ok = template.n_prefix[s + f] == template.n_prefix[s]
            s, f = s[ok][: wanted - got], f[ok][: wanted - got]
            starts.append(s)
            lengths.append(f)
            got += s.size
    start = np.concatenate(starts)
    length = np.concatenate(lengths)
    flip = rng.random(start.size) < 0.5
    # PCR duplicates: copies of the same molecule, read in the same orientation
    n_unique = start.size
    n_dup = round(n_unique * DUPLICATE_FRACTION / (1 - DUPLICATE_FRACTION))
    dup = rng.choice(n_unique, size=n_dup, replace=False)
    start = np.concatenate([start, start[dup]])
    length = np.concatenate([length, length[dup]])
    flip = np.concatenate([flip, flip[dup]])
    order = rng.permutation(start.size)
    return Fragments(start[order], length[order], flip[order])


def cluster_quality(rng: np.random.Generator, n: int) -> np.ndarray:
    """Per-cluster multipliers (mean ~1) of the low-quality bin rates.

    Real runs mix many clean clusters with a few poor ones; with a skewed multiplier most
    pairs are error-free while the per-cycle mean error profile is unchanged, so exact-match
    duplicate detection (as in fastp) still recognises a fair share of PCR duplicates.
    """
    return np.minimum(rng.gamma(0.3, 1 / 0.3, size=n), 10.0).astype(np.float32)


def _read_codes(
    rng: np.random.Generator,
    template: Template,
    frags: Fragments,
    forward: np.ndarray,
    adapter: np.ndarray,
    thresholds: tuple[np.ndarray, np.ndarray, np.ndarray],
    quality: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Base codes and Phred scores (n x READ_LENGTH) for one mate of each fragment.

    ``forward`` rows read the fragment's top strand from its start, the others its bottom
    strand from its end; ``quality`` is the per-cluster multiplier of the low-bin rates.
    """
    size = template.codes.size
    index_type = np.int32 if 2 * size < 2**31 else np.int64
    cycle = np.arange(READ_LENGTH, dtype=index_type)
    # index into template.stranded: top strand, then its complement at the same coordinates
    first = np.where(forward, frags.start, frags.start + frags.length - 1 + size)
    step = np.where(forward, 1, -1).astype(index_type)
    bases = template.stranded[first.astype(index_type)[:, None] + step[:, None] * cycle]

    short = np.flatnonzero(frags.length < READ_LENGTH)
    if short.size:  # read-through: adapter, then random bases
        tail = rng.integers(0, 4, size=(short.size, READ_LENGTH), dtype=np.uint8)
        tail[:, : adapter.size] = adapter
        k = cycle[None, :] - frags.length[short][:, None]
        rows, cols = np.nonzero(k >= 0)
        block = bases[short]
        block[rows, cols] = tail[rows, k[rows, cols]]
        bases[short] = block

    # quality bin per base: u < threshold * cluster factor  <=>  u / factor < threshold
    t2, t12, t23 = thresholds
    u = rng.random(bases.shape, dtype=np.float32)
    u /= np.maximum(quality, np.float32(1e-6))[:, None]
    bin_index = (u < t23).view(np.uint8)
    bin_index += u < t12
    bin_index += u < t2
    error = rng.random(bases.shape, dtype=np.float32) < _ERROR_BY_BIN[bin_index]
    n_err = int(error.sum())
    bases[error] = (bases[error] + rng.integers(1, 4, size=n_err, dtype=np.uint8)) % 4
    bases[bin_index == len(QUALITY_BINS) - 1] = N_CODE
    return bases, _PHRED_BY_BIN[bin_index]


_RECORD_WIDTH = 2 * READ_LENGTH + 5


def _fastq_block(names: list[bytes], tag: bytes, bases: np.ndarray, qual: np.ndarray) -> bytes:
    """FASTQ text for reads named ``names`` (each followed by ``tag``)."""
    n = bases.shape[0]
    body = np.empty((n, _RECORD_WIDTH), dtype=np.uint8)
    body[:, 0] = ord("\n")
    body[:, 1 : 1 + READ_LENGTH] = to_ascii(bases)
    body[:, 1 + READ_LENGTH : 4 + READ_LENGTH] = np.frombuffer(b"\n+\n", dtype=np.uint8)
    body[:, 4 + READ_LENGTH : 4 + 2 * READ_LENGTH] = qual + 33
    body[:, -1] = ord("\n")
    view = memoryview(body.tobytes())
    w = _RECORD_WIDTH
    parts: list[bytes | memoryview] = []
    for i, name in enumerate(names):
        parts += (name, tag, view[i * w : (i + 1) * w])
    return b"".join(parts)


def _cluster_names(rng: np.random.Generator, n: int, lane: int, tile_surface: int) -> list[bytes]:
    """Unique Casava 1.8 read names, ordered by tile then y as a sequencer writes them."""
    per_tile = max(1, -(-n // _MAX_TILES))
    index = np.arange(n)
    tile = tile_surface * 100 + 1 + index // per_tile
    x = rng.integers(1_000, 32_000, size=n)
    step = rng.integers(1, 25, size=n)
    y = np.empty(n, dtype=np.int64)
    for t0 in range(0, n, per_tile):
        y[t0 : t0 + per_tile] = 1_000 + np.cumsum(step[t0 : t0 + per_tile])
    prefix = f"@{INSTRUMENT}:{RUN}:{FLOWCELL}:{lane}:"
    return [
        f"{prefix}{t}:{a}:{b}".encode()
        for t, a, b in zip(tile.tolist(), x.tolist(), y.tolist(), strict=True)
    ]


class _GzipSink:
    """A gzip file (mtime 0, no name) whose writes run on a worker thread, one at a time;
    `append`: a further gzip member after what the file holds."""

    def __init__(self, path: Path, pool: ThreadPoolExecutor, append: bool = False) -> None:
        self._raw = path.open("ab" if append else "wb")
        self._gz = gzip.GzipFile(
            filename="", mode="wb", fileobj=self._raw, compresslevel=GZIP_LEVEL, mtime=0
        )
        self._pool = pool
        self._pending: Future[int] | None = None

    def write(self, data: bytes) -> None:
        if self._pending is not None:
            self._pending.result()
        self._pending = self._pool.submit(self._gz.write, data)

    def close(self) -> None:
        if self._pending is not None:
            self._pending.result()
        self._gz.close()
        self._raw.close()


def write_unit(
    rng: np.random.Generator,
    template: Template,
    frags: Fragments,
    lane: int,
    tile_surface: int,
    r1_path: Path,
    r2_path: Path,
    pool: ThreadPoolExecutor,
    append: bool = False,
) -> int:
    """Write one lane's FASTQ pair (`append`: after the reads the files hold, as a further
    gzip member); returns the number of read pairs."""
    n = len(frags)
    names = _cluster_names(rng, n, lane, tile_surface)
    adapter1, adapter2 = encode(ADAPTER_R1), encode(ADAPTER_R2)
    th1, th2 = quality_thresholds(1.0), quality_thresholds(R2_ERROR_SCALE)
    tag1 = f" 1:N:0:{INDEX_SEQUENCE}".encode()
    tag2 = f" 2:N:0:{INDEX_SEQUENCE}".encode()
    sink1, sink2 = _GzipSink(r1_path, pool, append), _GzipSink(r2_path, pool, append)
    try:
        for lo in range(0, n, _CHUNK):
            chunk = frags.take(np.arange(lo, min(n, lo + _CHUNK)))
            quality = cluster_quality(rng, len(chunk))
            b1, q1 = _read_codes(rng, template, chunk, ~chunk.flip, adapter1, th1, quality)
            b2, q2 = _read_codes(rng, template, chunk, chunk.flip, adapter2, th2, quality)
            heads = names[lo : lo + len(chunk)]
            sink1.write(_fastq_block(heads, tag1, b1, q1))
            sink2.write(_fastq_block(heads, tag2, b2, q2))
    finally:
        sink1.close()
        sink2.close()
    return n
