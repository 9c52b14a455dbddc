"""Reference bases for HGVS notation: a FASTA file read through its .fai index (samtools
faidx), memory-mapped, so that a stretch of a contig costs one slice whatever its place."""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from helgenom.io.vcf import VcfHeader


@dataclass(frozen=True)
class _Contig:
    length: int
    offset: int  # byte of the first base
    bases: int  # bases per line
    width: int  # bytes per line


class Fasta:
    """Bases of an indexed, uncompressed FASTA file (`path`.fai next to it)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.contigs: dict[str, _Contig] = {}
        with open(f"{path}.fai", encoding="utf-8") as index:
            for line in index:
                fields = line.rstrip("\n").split("\t")
                if len(fields) >= 5:
                    self.contigs[fields[0]] = _Contig(*map(int, fields[1:5]))
        with open(path, "rb") as handle:
            self._data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)

    def name(self, chrom: str) -> str | None:
        """`chrom` as the FASTA names it (chr1 vs 1, chrM vs MT); None if it has no such
        contig."""
        bare = chrom.removeprefix("chr")
        for candidate in (chrom, bare, f"chr{bare}",
                          *(("MT", "chrM") if bare in ("M", "MT") else ())):
            if candidate in self.contigs:
                return candidate
        return None

    def length(self, chrom: str) -> int:
        return self.contigs[chrom].length

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Bases start..end (1-based, inclusive; clipped to the contig), upper case."""
        contig = self.contigs[chrom]
        start, end = max(start, 1), min(end, contig.length)
        if end < start:
            return ""

        def byte(position: int) -> int:  # 0-based base position -> file offset
            line, column = divmod(position, contig.bases)
            return contig.offset + line * contig.width + column

        raw = self._data[byte(start - 1):byte(end - 1) + 1]
        return raw.replace(b"\n", b"").replace(b"\r", b"").decode("ascii").upper()


@cache
def open_fasta(path: str) -> Fasta:
    """One `Fasta` per path and process."""
    return Fasta(path)


def fasta_problem(path: Path | str) -> str | None:
    """Why `path` cannot give bases (None: it can)."""
    if not Path(path).is_file():
        return "file not found"
    if not Path(f"{path}.fai").is_file():
        return "no .fai index next to it (samtools faidx)"
    with open(path, "rb") as handle:
        head = handle.read(2)
    if head == b"\x1f\x8b":
        return "compressed (HGVS needs an uncompressed FASTA with its .fai)"
    return None


def header_reference(header: VcfHeader, vcf: Path | str) -> str | None:
    """The reference FASTA the VCF's header names (`##reference=file://PATH` or a plain
    path, as bcftools mpileup and freebayes write it), resolved against the working folder,
    then the VCF's folder; None if it names none that exists."""
    for line in header.lines:
        if line.startswith("##reference="):
            value = line.removeprefix("##reference=").strip()
            value = value.removeprefix("file://")
            for candidate in (Path(value), Path(vcf).parent / value):
                if value and candidate.is_file():
                    return str(candidate)
    return None
