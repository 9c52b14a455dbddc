"""Checks of `helgenom rank`'s input files before any work is done, each finding a `Problem`
naming the file and what is wrong: a VCF/BCF that is something else, cut short (its BGZF
end-of-file block missing), without genotypes or with a sample twice; a PED member's line;
records out of order or fewer than the index counts once they are read."""

from __future__ import annotations

import gzip
import subprocess
import zlib
from collections import Counter
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd

from helgenom.errors import InputError, Problem
from helgenom.io.bgzf import EOF
from helgenom.io.tabix import read_index
from helgenom.io.vcf import read_header

# Bytes read to tell what a file is; records looked at for FORMAT/GT.
SNIFF_BYTES = 1 << 16
GT_RECORDS = 100


def _leading(path: Path) -> tuple[str, bytes]:
    """How `path` is compressed ('bgzf', 'gzip' or 'plain') and the first bytes of its
    content (inflated)."""
    with open(path, "rb") as handle:
        raw = handle.read(SNIFF_BYTES)
    if raw[:2] != b"\x1f\x8b":
        return "plain", raw
    kind = "bgzf" if len(raw) >= 18 and raw[3] & 4 and raw[12:14] == b"BC" else "gzip"
    try:
        return kind, zlib.decompressobj(31).decompress(raw, SNIFF_BYTES)
    except zlib.error:
        return kind, b""


def _what_it_is(text: bytes, compressed: bool) -> str:
    """What the start of a file that is not a VCF looks like, for the message."""
    if not text:
        return "gzip data that does not inflate" if compressed else "the file is empty"
    first = text.split(b"\n", 1)[0][:40].decode("utf-8", "replace")
    if not first.isprintable():
        return "binary data"
    return f"it starts with {first!r}, not ##fileformat=VCF"


def _first_records(path: Path, bcf: bool, count: int = GT_RECORDS) -> list[list[str]]:
    """The columns of the first `count` records."""
    if bcf:
        with subprocess.Popen(["bcftools", "view", "-H", str(path)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) as proc:
            assert proc.stdout is not None
            lines = list(islice(proc.stdout, count))
            proc.kill()
    else:
        opener = gzip.open if _leading(path)[0] != "plain" else open
        try:
            with opener(path, "rt", errors="replace") as handle:
                lines = list(islice((line for line in handle if not line.startswith("#")),
                                    count))
        except (OSError, EOFError, zlib.error):
            lines = []
    return [line.rstrip("\r\n").split("\t") for line in lines if line.strip()]


def vcf_problems(path: Path | str, option: str = "--vcf") -> list[Problem]:
    """What makes `path` (given as `option`) unusable as the genotypes of the samples: not
    there, not VCF/BCF, BGZF without its end-of-file block (truncated), no #CHROM line, a
    sample ID twice, no FORMAT/GT in its first records."""
    file = str(path)
    path = Path(path)
    if not path.exists():
        return [Problem(file, 0, None, None, f"file not found ({option})")]
    if not path.is_file():
        return [Problem(file, 0, None, None, f"not a file ({option})")]
    kind, text = _leading(path)
    bcf = text[:3] == b"BCF"
    if not bcf and not text.startswith(b"##fileformat=VCF"):
        return [Problem(file, 0, None, None,
                        f"not a VCF/BCF ({_what_it_is(text, kind != 'plain')})")]
    if kind == "bgzf":
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - len(EOF)))
            if handle.read() != EOF:
                return [Problem(file, 0, None, None,
                                "truncated: it does not end with the BGZF end-of-file block "
                                "(cut short while written or copied?)")]
    try:
        header = read_header(path)
    except InputError as error:
        return error.problems
    if not any(line.startswith("#CHROM") for line in header.lines):
        return [Problem(file, 0, None, None, "not a VCF/BCF (no #CHROM header line)")]
    problems = [Problem(file, 0, None, sample, "sample ID twice in the #CHROM line: sample IDs "
                        "must be unique")
                for sample, n in Counter(header.samples).items() if n > 1]
    records = _first_records(path, bcf)
    if records and not any(len(f) > 8 and "GT" in f[8].split(":") for f in records):
        problems.append(Problem(file, 0, None, None,
                                "has no FORMAT/GT: genotypes are needed to rank"))
    return problems


def ped_lines(ped: Path | str) -> dict[str, int]:
    """The line of each individual ID in the PED file (its first)."""
    lines: dict[str, int] = {}
    try:
        text = Path(ped).read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return lines
    for number, line in enumerate(text.split("\n"), start=1):
        fields = line.split()
        if len(fields) > 1 and not fields[0].startswith("#"):
            lines.setdefault(fields[1], number)
    return lines


def order_problems(table: pd.DataFrame, path: Path | str) -> list[Problem]:
    """Records (rows in file order) out of order: a contig whose records are not together,
    or a position lower than the one before it on its contig (bcftools sort fixes both)."""
    if not len(table):
        return []
    codes, names = pd.factorize(table["CHROM"], use_na_sentinel=False)  # first seen, first
    codes = np.asarray(codes)
    pos = table["POS"].to_numpy(dtype=np.int64)
    new_run = np.r_[True, codes[1:] != codes[:-1]]
    starts = np.flatnonzero(new_run)
    # In sorted records the k-th run of a contig is the k-th contig seen.
    back = np.flatnonzero(codes[starts] != np.arange(len(starts)))
    if len(back):
        row = int(starts[back[0]])
        name = str(names[codes[row]])
        return [Problem(str(path), 0, None, f"{name}:{pos[row]}",
                        f"records of {name} come again after another contig's: the VCF "
                        "is not sorted (bcftools sort)")]
    down = np.flatnonzero(~new_run[1:] & (pos[1:] < pos[:-1]))
    if len(down):
        row = int(down[0]) + 1
        name = str(names[codes[row]])
        return [Problem(str(path), 0, None, f"{name}:{pos[row]}",
                        f"comes after {name}:{pos[row - 1]}: the VCF is not sorted "
                        "(bcftools sort)")]
    return []


def count_problems(rows: int, path: Path | str) -> list[Problem]:
    """Fewer rows read than the input's index counts records (rows may be more: multi-allelic
    records are split): the file lost records since it was indexed."""
    indexed = sum(count for _, count in read_index(path).contigs)
    if rows < indexed:
        return [Problem(str(path), 0, None, None,
                        f"{rows} records read, but its index counts {indexed}: the file is "
                        "truncated, or the index is of another file (index it again)")]
    return []
