"""Reference genome helpers: contig discovery, chrX/PAR handling and bcftools ploidy files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from helgenom.errors import InputError, Problem

PRIMARY_CONTIG = re.compile(r"^(chr)?([1-9]|1[0-9]|2[0-2]|X|Y|M|MT)$")


@dataclass(frozen=True)
class Region:
    chrom: str
    start: int  # 1-based, inclusive
    end: int  # 1-based, inclusive

    @classmethod
    def parse(cls, text: str) -> Region:
        match = re.fullmatch(r"([^:\s]+):(\d+)-(\d+)", text)
        if not match or int(match.group(2)) > int(match.group(3)) or int(match.group(2)) < 1:
            raise ValueError(f"not a region CHROM:START-END (1-based, START <= END): {text!r}")
        return cls(match.group(1), int(match.group(2)), int(match.group(3)))


def read_contigs(fasta: Path | str) -> list[tuple[str, int]]:
    """Contig names and lengths, from the .fai if present, else by scanning the FASTA."""
    fasta = Path(fasta)
    fai = Path(f"{fasta}.fai")
    if not fasta.is_file():
        raise InputError([Problem(str(fasta), 0, "reference.fasta", str(fasta), "file not found")])
    if fai.is_file() and fai.stat().st_mtime >= fasta.stat().st_mtime:
        with fai.open() as handle:
            return [(f[0], int(f[1])) for f in (line.split("\t") for line in handle) if f[0]]
    contigs: list[tuple[str, int]] = []
    with fasta.open() as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith(">"):
                name = line[1:].split(maxsplit=1)[0] if line[1:].strip() else ""
                if not name:
                    raise InputError([Problem(str(fasta), number, "header", line.strip(),
                                              "FASTA header without a sequence name")])
                contigs.append((name, 0))
            elif contigs:
                contigs[-1] = (contigs[-1][0], contigs[-1][1] + len(line.rstrip("\n\r")))
            elif line.strip():
                raise InputError([Problem(str(fasta), number, "sequence", line.strip()[:20],
                                          "sequence before the first '>' header: not FASTA")])
    if not contigs:
        raise InputError([Problem(str(fasta), 1, "header", "", "no '>' header: not a FASTA file")])
    return contigs


def calling_contigs(fasta: Path | str, wanted: list[str]) -> list[str]:
    """Contigs to scatter calling over: `wanted` (checked), else the primary human chromosomes."""
    contigs = [name for name, _ in read_contigs(fasta)]
    if wanted:
        missing = [name for name in wanted if name not in contigs]
        if missing:
            raise InputError([Problem("config", 0, "reference.contigs", name,
                                      f"not a contig of {fasta} (it has {', '.join(contigs[:10])}"
                                      f"{' ...' if len(contigs) > 10 else ''})")
                              for name in missing])
        return list(wanted)
    primary = [name for name in contigs if PRIMARY_CONTIG.match(name)]
    return primary or contigs


def ploidy_lines(chrx: str, chry: str, par: list[str]) -> list[str]:
    """A bcftools `--ploidy-file`: haploid X and Y in males outside the PARs, no Y in females."""
    regions = sorted((Region.parse(p) for p in par), key=lambda r: (r.chrom, r.start))
    lines = []
    cursor = 1
    for region in (r for r in regions if r.chrom == chrx):
        if region.start > cursor:
            lines.append(f"{chrx}\t{cursor}\t{region.start - 1}\tM\t1")
        cursor = max(cursor, region.end + 1)
    lines.append(f"{chrx}\t{cursor}\t999999999\tM\t1")
    lines += [f"{chry}\t1\t999999999\tM\t1", f"{chry}\t1\t999999999\tF\t0",
              "*\t*\t*\tM\t2", "*\t*\t*\tF\t2"]
    return lines


def cnv_map_lines(samples: list[tuple[str, str]], chrx: str, chry: str,
                  par: list[str]) -> list[str]:
    """A freebayes `--cnv-map` (BED-like: chrom, start0, end, sample, copies) for the same ploidy.

    `samples` are (sample, sex) pairs; unknown sex is treated as female (diploid X, no Y).
    """
    lines = []
    for sample, sex in samples:
        for row in ploidy_lines(chrx, chry, par)[:-2]:
            chrom, start, end, row_sex, copies = row.split("\t")
            if (row_sex == "M") == (sex == "male"):
                lines.append(f"{chrom}\t{int(start) - 1}\t{end}\t{sample}\t{copies}")
    return lines
