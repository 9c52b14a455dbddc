"""Variant keys, site hashes and the sex chromosomes.

A small variant is kept as (contig, key, REF, ALT), key = POS << 32 | allele code:

- a single-base substitution (REF and ALT one byte each) has the exact code
  `SNV_FLAG | REF byte << 8 | ALT byte`: two SNVs have equal keys only if they are the same;
- any other allele pair has a 31-bit hash of REF and ALT (SNV_FLAG clear; `indel_codes`).

Two different indels at one position can share a code (about 1 pair in 2^31); REF and ALT
are therefore kept next to every key and compared wherever two equal keys meet, so such a
pair stays two variants (see `helgenom.freqdb.store.combine`): keys sort and join fast, the
strings decide. The hashes are this module's own (a polynomial byte hash, splitmix64,
BLAKE2b for contig names), never Python's `hash` or pandas': a database outlives library
versions.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helgenom.errors import InputError, Problem

SNV_FLAG = np.uint32(1 << 31)
CHROM_X = ("X", "chrX")
CHROM_Y = ("Y", "chrY")
MITO = ("M", "MT", "chrM", "chrMT")


def strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous large_string array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.large_string())
    if values.type != pa.large_string():
        values = values.cast(pa.large_string())
    return values


def _first_bytes(values: pa.Array) -> np.ndarray:
    """The first byte of each (non-empty) string; 0 for an empty one."""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[
        values.offset:values.offset + len(values) + 1]
    data = values.buffers()[2]
    if data is None or len(data) == 0:
        return np.zeros(len(values), dtype=np.uint8)
    raw = np.frombuffer(data, dtype=np.uint8)
    start = np.minimum(offsets[:-1], len(raw) - 1)
    return np.where(offsets[1:] > offsets[:-1], raw[start], 0).astype(np.uint8)


_MULTIPLIER = np.uint64(0x100000001B3)


def _byte_hashes(values: pa.Array) -> np.ndarray:
    """uint64 per string: the polynomial sum of its bytes (+1) by powers of _MULTIPLIER
    (mod 2^64), mixed with its length (splitmix64)."""
    n = len(values)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[
        values.offset:values.offset + n + 1]
    lengths = np.diff(offsets)
    total = int(offsets[-1] - offsets[0]) if n else 0
    sums = np.zeros(n, dtype=np.uint64)
    if total:
        data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
        row = np.repeat(np.arange(n), lengths)
        within = np.arange(total) - np.repeat(offsets[:-1] - offsets[0], lengths)
        powers = np.full(int(lengths.max()), _MULTIPLIER, dtype=np.uint64)
        powers[0] = 1
        with np.errstate(over="ignore"):
            powers = np.multiply.accumulate(powers)
            terms = (data.astype(np.uint64) + np.uint64(1)) * powers[lengths[row] - 1 - within]
        filled = np.flatnonzero(lengths > 0)
        sums[filled] = np.add.reduceat(terms, (offsets[:-1] - offsets[0])[filled])
    return _splitmix64(sums ^ lengths.astype(np.uint64))


def indel_codes(ref: pa.Array, alt: pa.Array) -> np.ndarray:
    """uint32 allele code (top bit clear) of REF/ALT pairs that are not SNVs: 31 bits of a
    hash of both strings (helgenom's own: it must not change with library versions)."""
    with np.errstate(over="ignore"):
        mixed = _splitmix64(_byte_hashes(ref) * np.uint64(0x9E3779B97F4A7C15)
                            ^ _byte_hashes(alt))
    return (mixed & np.uint64(0x7FFFFFFF)).astype(np.uint32)


def allele_codes(ref: pa.Array | pa.ChunkedArray, alt: pa.Array | pa.ChunkedArray
                 ) -> np.ndarray:
    """uint32 allele code of each REF/ALT pair (see the module doc)."""
    ref, alt = strings(ref), strings(alt)
    ref = strings(pc.fill_null(ref, ""))
    alt = strings(pc.fill_null(alt, ""))
    snv = (pc.binary_length(ref).to_numpy() == 1) & (pc.binary_length(alt).to_numpy() == 1)
    codes = (SNV_FLAG | (_first_bytes(ref).astype(np.uint32) << 8)
             | _first_bytes(alt).astype(np.uint32))
    other = np.flatnonzero(~snv)
    if len(other):
        take = pa.array(other)
        codes[other] = indel_codes(ref.take(take), alt.take(take))
    return codes


def variant_keys(pos: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """uint64 key: POS in the high 32 bits, the allele code in the low 32."""
    return (pos.astype(np.uint64) << np.uint64(32)) | codes.astype(np.uint64)


def key_positions(keys: np.ndarray) -> np.ndarray:
    return (keys >> np.uint64(32)).astype(np.int64)


def is_snv_key(keys: np.ndarray) -> np.ndarray:
    return (keys & np.uint64(int(SNV_FLAG))) != 0


def _splitmix64(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def contig_hash(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def site_hashes(contig_hashes: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """uint64 hash of (contig name, POS, allele): the same site has the same hash in every
    VCF and every database (genotype profiles are compared by it)."""
    with np.errstate(over="ignore"):
        mixed = _splitmix64(keys) ^ contig_hashes.astype(np.uint64)
    return _splitmix64(mixed)


@dataclass(frozen=True)
class Par:
    """A pseudo-autosomal region: 1-based, inclusive."""

    contig: str
    start: int
    end: int


_PAR = re.compile(r"^([^:\s]+):(\d[\d,]*)-(\d[\d,]*)$")


def parse_par(text: str, source: str = "--par") -> Par:
    """`CHROM:START-END` (1-based, inclusive)."""
    match = _PAR.match(text.strip())
    if not match:
        raise InputError([Problem(source, None, None, text,
                                  "a PAR is CHROM:START-END, e.g. chrX:10001-2781479")])
    start, end = (int(match.group(i).replace(",", "")) for i in (2, 3))
    if start < 1 or end < start:
        raise InputError([Problem(source, None, None, text, "START must be >= 1 and <= END")])
    return Par(match.group(1), start, end)


def haploid_in_males(chrom: np.ndarray | pa.Array, pos: np.ndarray, pars: list[Par]
                     ) -> np.ndarray:
    """Per row: on chrY, or on chrX outside every PAR (a male's single copy)."""
    names = strings(pa.array(chrom) if not isinstance(chrom, pa.Array | pa.ChunkedArray)
                    else chrom)
    on_x = pc.is_in(names, value_set=pa.array(CHROM_X, pa.large_string())).to_numpy(
        zero_copy_only=False)
    on_y = pc.is_in(names, value_set=pa.array(CHROM_Y, pa.large_string())).to_numpy(
        zero_copy_only=False)
    in_par = np.zeros(len(pos), dtype=bool)
    for par in pars:
        same = pc.equal(names, par.contig).to_numpy(zero_copy_only=False)
        in_par |= same & (pos >= par.start) & (pos <= par.end)
    return (on_x | on_y) & ~in_par
