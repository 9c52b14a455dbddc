"""What an annotation file says of itself, read from its first blocks and its index only:
compression, index, header (a VCF's INFO tags and contig lengths; a TSV's column names),
contig names, the columns a TSV was indexed on, and the genome build it names.

Used at start (`checks`) and by the engine when it builds its `bcftools annotate` calls.
"""

from __future__ import annotations

import gzip
import re
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from helgenom.errors import InputError
from helgenom.io.bgzf import inflate_blocks
from helgenom.io.reference import guess_format
from helgenom.io.tabix import read_index
from helgenom.io.vcf import read_header

TBX_GENERIC, TBX_VCF, TBX_UCSC = 0, 2, 0x10000
# How many lines of a TSV's start may be comments before its column header.
MAX_HEADER_LINES = 1000
# How many of a VCF source's first records are read for a multi-allelic one.
MULTIALLELIC_SAMPLE = 2_000
# Builds named in headers (##reference, ##contig assembly=, a TSV's '##' comments): the
# lower-cased text matched -> build.
BUILD_PATTERNS = (
    (re.compile(r"grch37|hg19|hs37|g1k_v37|ncbi37|(?<![a-z0-9])b37(?![0-9])"), "GRCh37"),
    (re.compile(r"grch38|hg38|hs38|ncbi38|(?<![a-z0-9])b38(?![0-9])"), "GRCh38"),
)
# Lengths of contigs that tell the build of a reference FASTA (either naming).
BUILD_LENGTHS = {
    "GRCh38": {"1": 248_956_422, "2": 242_193_529, "X": 156_040_895},
    "GRCh37": {"1": 249_250_621, "2": 243_199_373, "X": 155_270_560},
}


class SourceFileError(Exception):
    """The file cannot be read as an annotation source (the message says why and how to fix
    it)."""


@dataclass
class SourceFile:
    """An annotation file's header and index, as read by `read_source_file`."""

    path: Path
    kind: str  # "vcf" or "tsv"
    info: dict[str, str] = field(default_factory=dict)  # VCF: INFO ID -> Type
    columns: list[str] = field(default_factory=list)  # TSV: the header's column names
    header_line: int = 0  # TSV: the 1-based line of the column header
    contigs: list[str] = field(default_factory=list)  # from the index (else the header)
    lengths: dict[str, int] = field(default_factory=dict)  # VCF: ##contig lengths
    builds: list[tuple[str, str]] = field(default_factory=list)  # (build, header text)
    seq_column: int = 1  # 1-based columns the index was built on
    pos_column: int = 2
    end_column: int = 2  # the same as pos_column: a position, not an interval
    # VCF: a multi-allelic record among its first records ("CHROM:POS REF>ALT"), if any
    multiallelic: str = ""
    zero_based: bool = False  # the index says 0-based (BED-like) positions


def other_names(name: str) -> tuple[str, ...]:
    """The same contig in the other common naming: chr1 <-> 1, chrX <-> X, chrM <-> MT."""
    if name in ("chrM", "chrMT"):
        return ("MT", "M")
    if name in ("MT", "M"):
        return ("chrM",)
    return (name[3:],) if name.startswith("chr") else (f"chr{name}",)


def contig_map(names: list[str], reference: list[str] | set[str]) -> dict[str, str]:
    """Each of `names` (a source's contigs) -> the reference's contig it is: itself when the
    reference has it, else its other naming when the reference has that; others left out."""
    known = set(reference)
    out = {}
    for name in names:
        if name in known:
            out[name] = name
        else:
            match = next((other for other in other_names(name) if other in known), None)
            if match is not None:
                out[name] = match
    return out


def is_bgzf(path: Path) -> bool | None:
    """True: BGZF (what bgzip writes); False: gzip but not BGZF; None: not gzip at all."""
    with open(path, "rb") as handle:
        head = handle.read(18)
    if head[:2] != b"\x1f\x8b":
        return None
    return head[3:4] == b"\x04" and head[12:14] == b"BC"


def index_of(path: Path) -> Path | None:
    """The file's .tbi or .csi, if it has one."""
    for ext in (".tbi", ".csi"):
        candidate = Path(f"{path}{ext}")
        if candidate.is_file():
            return candidate
    return None


def _inflated(path: Path) -> bytes:
    return b"".join(block for _, block in inflate_blocks(path.read_bytes(), name=str(path)))


def read_tabix_conf(index: Path) -> tuple[int, int, int, int, list[str]] | None:
    """(format, seq column, begin column, end column, contig names) of a tabix index (.tbi,
    or a .csi with tabix's configuration; a BCF's .csi has none: None)."""
    try:
        data = _inflated(index)
    except (OSError, ValueError) as error:
        raise SourceFileError(f"cannot read its index {index.name}: {error}") from None
    try:
        if data[:4] == b"TBI\x01":
            conf = data[8:36]
        elif data[:4] == b"CSI\x01":
            (l_aux,) = struct.unpack_from("<i", data, 12)
            if l_aux < 28:
                return None
            conf = data[16:16 + l_aux]
        else:
            raise SourceFileError(f"{index.name} is not a tabix index (.tbi/.csi)")
        fmt, seq, beg, end, _meta, _skip, l_nm = struct.unpack_from("<7i", conf, 0)
        start = 8 + 28 if data[:4] == b"TBI\x01" else 16 + 28
        names = [n.decode() for n in data[start:start + l_nm].split(b"\0") if n]
    except (struct.error, UnicodeDecodeError) as error:
        raise SourceFileError(f"cannot read its index {index.name}: {error}") from None
    return fmt, seq, beg, end, names


def _builds(lines: list[str]) -> list[tuple[str, str]]:
    found = []
    for line in lines:
        lower = line.lower()
        for pattern, build in BUILD_PATTERNS:
            if pattern.search(lower):
                found.append((build, line.strip()[:80]))
                break
    return found


def _vcf(path: Path, source: SourceFile) -> None:
    try:
        header = read_header(path)
    except InputError as error:
        raise SourceFileError(f"cannot read its header: {error.problems[0].message}") from None
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as error:
        raise SourceFileError(f"cannot read its header: {error}") from None
    if not any(line.startswith("#CHROM") for line in header.lines):
        kind = guess_format(_peek_text(path))
        raise SourceFileError("not a VCF: no '#CHROM' header line"
                              + (f" (it looks like {kind})" if kind else ""))
    source.info = dict(header.info)
    build_lines = []
    for line in header.lines:
        if line.startswith("##contig=<"):
            name = re.search(r"[<,]ID=([^,>]+)", line)
            length = re.search(r"[<,]length=(\d+)", line)
            if name and length:
                source.lengths[name.group(1)] = int(length.group(1))
            if re.search(r"[<,]assembly=", line):
                build_lines.append(line)
        elif line.startswith(("##reference=", "##assembly=")):
            build_lines.append(line)
    source.builds = _builds(build_lines)
    try:
        indexed = [name for name, _ in read_index(path).contigs]
    except (OSError, ValueError):
        indexed = []
    source.contigs = indexed or list(header.contigs)
    source.multiallelic = _first_multiallelic(path)


def _first_multiallelic(path: Path, records: int = MULTIALLELIC_SAMPLE) -> str:
    """'CHROM:POS REF>ALT,ALT' of the first multi-allelic record among the file's first
    `records` (bcftools annotate pairs a source record with one record of the calls: the
    other alleles of a multi-allelic source record would get no value)."""
    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
            seen = 0
            for line in handle:
                if line.startswith("#"):
                    continue
                fields = line.split("\t", 5)
                if len(fields) > 4 and "," in fields[4]:
                    return f"{fields[0]}:{fields[1]} {fields[3]}>{fields[4]}"
                seen += 1
                if seen >= records:
                    break
    except (OSError, EOFError, zlib.error):
        return ""
    return ""


def _peek_text(path: Path, size: int = 4096) -> bytes:
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(size)
    except (OSError, EOFError, zlib.error):
        return b""


def _tsv(path: Path, source: SourceFile, index: Path) -> None:
    conf = read_tabix_conf(index)
    if conf is None:
        raise SourceFileError(f"{index.name} holds no tabix configuration (a BCF index?): "
                              "index the TSV with tabix")
    fmt, seq, beg, end, names = conf
    if fmt & 0xFFFF == TBX_VCF:
        raise SourceFileError("indexed as a VCF (tabix -p vcf), but configured as a TSV "
                              "(columns): configure it with `fields` if it is a VCF")
    source.seq_column, source.pos_column = seq, beg
    source.end_column = end if end > 0 else beg
    source.zero_based = bool(fmt & TBX_UCSC)
    source.contigs = names
    comments: list[str] = []
    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.startswith("#"):
                    break
                comments.append(line.rstrip("\r\n"))
                if number >= MAX_HEADER_LINES:
                    break
    except (OSError, EOFError, zlib.error) as error:
        raise SourceFileError(f"cannot read it: {error}") from None
    if not comments:
        raise SourceFileError("no header line naming its columns: its first line must be "
                              "the column names, starting with '#' (e.g. '#Chrom<TAB>Pos"
                              "<TAB>Ref<TAB>Alt<TAB>...')")
    source.header_line = len(comments)
    source.columns = [c.strip() for c in comments[-1].lstrip("#").split("\t")]
    source.builds = _builds(comments[:-1])


def read_source_file(path: Path | str, kind: str) -> SourceFile:
    """The header and index of an existing, bgzipped, indexed annotation file; a
    SourceFileError says what keeps it from being read as one of `kind` ("vcf", "tsv")."""
    path = Path(path)
    index = index_of(path)
    if index is None:
        raise SourceFileError("no .tbi/.csi index")
    source = SourceFile(path, kind)
    if kind == "vcf":
        _vcf(path, source)
    else:
        _tsv(path, source, index)
    return source


def fasta_build(lengths: dict[str, int]) -> tuple[str, str] | None:
    """(build, evidence) of a reference FASTA from its contigs' lengths (either naming)."""
    for build, known in BUILD_LENGTHS.items():
        for short, length in known.items():
            for name in (short, f"chr{short}"):
                if lengths.get(name) == length:
                    return build, f"{name} is {length:,} bp"
    return None
