"""Reference genome helpers: contigs (from the .fai or the FASTA), bounded format checks of a
FASTA and a GFF3 for the start check, chrX/PAR handling and bcftools ploidy files."""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from helgenom.errors import InputError, Problem

PRIMARY_CONTIG = re.compile(r"^(chr)?([1-9]|1[0-9]|2[0-2]|X|Y|M|MT)$")
# Never called by default, even on a reference without primary-named chromosomes: alt
# haplotypes, decoys, HLA alleles, EBV, unplaced and unlocalised scaffolds.
EXCLUDED_CONTIG = re.compile(r"(_alt|_decoy|_random)$|^(chr)?Un_|^(chr)?EBV$|^HLA-|^hs37d5$")


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


SCAN_BYTES = 1 << 24  # a FASTA without a .fai is scanned for its headers this much at a time
PREFIX_BYTES = 1 << 20  # format checks read this much of a FASTA or GFF3, never the whole file
GFF3_LINES = 2000  # feature lines read from the top of a GFF3
GFF3_SAMPLES = 8  # places further into an uncompressed GFF3 that a few lines are read from
_NOT_NUCLEOTIDE = re.compile(rb"[^ACGTUNRYKMSWBDHVacgtunrykmswbdhv]")
_GTF_ATTRIBUTE = re.compile(r'\b(gene_id|transcript_id) "')
_MAGIC = ((b"\x1f\x8b", "gzip-compressed data"), (b"BAM\x01", "a BAM file"),
          (b"CRAM", "a CRAM file"), (b"BCF", "a BCF file"))
_TEXT_STARTS = ((b"##gff-version", "a GFF3 file"), (b"##fileformat=VCF", "a VCF file"),
                (b"@HD\t", "a SAM file"), (b">", "a FASTA file"), (b"@", "a FASTQ file"))


def guess_format(head: bytes) -> str:
    """What a file's first bytes look like, for messages ("" when they are not recognised)."""
    text = head.lstrip()
    kind = next((k for magic, k in _MAGIC if head.startswith(magic)), "") or next(
        (k for start, k in _TEXT_STARTS if text.startswith(start)), "")
    if kind or b"\0" in head:
        return kind or "binary data"
    first = text.split(b"\n", 1)[0].decode("utf-8", "replace")
    return "a GTF file" if _GTF_ATTRIBUTE.search(first) else ""


def _show(data: bytes, limit: int = 40) -> str:
    text = data.decode("utf-8", "replace").rstrip("\r\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _head(path: Path | str, size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def peek(path: Path | str, size: int = 4096) -> bytes:
    """The first `size` bytes of a file, inflated when it is gzip-compressed (a read of at most
    64 KiB); zlib.error when it does not inflate."""
    with open(path, "rb") as handle:
        raw = handle.read(max(size, 1 << 16))
    if raw.startswith(b"\x1f\x8b"):
        return zlib.decompressobj(wbits=31).decompress(raw, size)
    return raw[:size]


def fresh_fai(fasta: Path | str) -> Path | None:
    """`<fasta>.fai` when it exists and is not older than the FASTA, else None."""
    fai = Path(f"{fasta}.fai")
    if fai.is_file() and fai.stat().st_mtime >= Path(fasta).stat().st_mtime:
        return fai
    return None


def read_fai(fai: Path) -> list[tuple[str, int]]:
    """Contig names and lengths of a .fai; InputError naming its line when one does not read."""
    contigs = []
    with fai.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 2 and fields[0] and fields[1].isdigit():
                contigs.append((fields[0], int(fields[1])))
            elif line.strip():
                raise InputError([Problem(str(fai), number, None, _show(line.encode()),
                                          "not a FASTA index line (NAME, LENGTH, OFFSET, ... "
                                          "tab-separated): delete the .fai, the workflow "
                                          "rebuilds it with samtools faidx")])
    return contigs


def _scan_contigs(fasta: Path) -> list[tuple[str, int]]:
    """Contig names and lengths from the FASTA itself, read in large blocks (headers are found
    with bytes.find, bases counted as bytes minus line ends: no loop over lines)."""
    contigs: list[tuple[str, int]] = []
    lines_before, carry = 0, b""
    with fasta.open("rb") as handle:
        while True:
            block = handle.read(SCAN_BYTES)
            data = carry + block
            cut = len(data) if not block else data.rfind(b"\n") + 1
            data, carry = data[:cut], data[cut:]
            position = 0
            while position < len(data):
                if data.startswith(b">", position):
                    end = data.find(b"\n", position)
                    end = len(data) if end < 0 else end
                    name = data[position + 1:end].split(maxsplit=1)
                    if not name:
                        line = lines_before + data.count(b"\n", 0, position) + 1
                        raise InputError([Problem(str(fasta), line, "header", ">",
                                                  "FASTA header without a sequence name")])
                    contigs.append((name[0].decode("utf-8", "replace"), 0))
                    position = end + 1
                    continue
                header = data.find(b"\n>", position)
                end = len(data) if header < 0 else header + 1
                bases = end - position - data.count(b"\n", position, end) - data.count(
                    b"\r", position, end)
                if contigs:
                    contigs[-1] = (contigs[-1][0], contigs[-1][1] + bases)
                elif data[position:end].strip():
                    line = lines_before + data.count(b"\n", 0, position) + 1
                    raise InputError([Problem(str(fasta), line, "sequence",
                                              _show(data[position:end].strip()[:20]),
                                              "sequence before the first '>' header: not FASTA")])
                position = end
            lines_before += data.count(b"\n")
            if not block:
                break
    if not contigs:
        raise InputError([Problem(str(fasta), 1, "header", "", "no '>' header: not a FASTA file")])
    return contigs


def read_contigs(fasta: Path | str) -> list[tuple[str, int]]:
    """Contig names and lengths, from the .fai if present and fresh, else by scanning the
    FASTA (in blocks: a 3 GB genome takes seconds)."""
    fasta = Path(fasta)
    if not fasta.is_file():
        raise InputError([Problem(str(fasta), 0, "reference.fasta", str(fasta), "file not found")])
    if _head(fasta, 2) == b"\x1f\x8b":
        raise InputError([Problem(str(fasta), None, None, None, "compressed FASTA: the "
                                  "workflow needs it uncompressed")])
    fai = fresh_fai(fasta)
    return read_fai(fai) if fai else _scan_contigs(fasta)


def fasta_problem(fasta: Path | str, contigs: list[tuple[str, int]] | None = None) -> str | None:
    """What is wrong with a FASTA, from its first PREFIX_BYTES (None: nothing found): not
    FASTA at all (a GFF3, a VCF, ...), compressed, a header without a name, characters that are
    not nucleotide codes, lines of uneven length within a contig (samtools faidx refuses
    those), or `contigs` (from its .fai) not starting with its first contig."""
    head = _head(fasta, PREFIX_BYTES)
    if not head:
        return "empty file"
    if head.startswith(b"\x1f\x8b"):
        return ("compressed FASTA: the workflow reads the reference uncompressed (helgenom cnv "
                f"reads it by .fai offsets); decompress it: gzip -dc {fasta} > "
                f"{str(fasta).removesuffix('.gz')}, and configure that file")
    lines = head.split(b"\n")
    if len(head) == PREFIX_BYTES:
        lines.pop()  # cut off by the prefix
    if not lines[0].startswith(b">"):
        kind = guess_format(head)
        return (f"line 1 is '{_show(lines[0])}', not a '>' header: not a FASTA file"
                + (f" (it looks like {kind})" if kind else ""))
    width = short = 0  # sequence line width of the contig, and the line of a short line
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip(b"\r")
        if line.startswith(b">"):
            name = line[1:].split(maxsplit=1)
            if not name:
                return f"line {number}: '>' header without a sequence name"
            if number == 1 and contigs and contigs[0][0] != name[0].decode("utf-8", "replace"):
                return (f"its .fai does not belong to it (first contig '{_show(name[0])}' in "
                        f"the FASTA, '{contigs[0][0]}' in the .fai): delete {fasta}.fai, the "
                        "workflow rebuilds it")
            width = short = 0
            continue
        bad = _NOT_NUCLEOTIDE.search(line)
        if bad:
            return (f"line {number}, column {bad.start() + 1}: "
                    f"'{_show(line[bad.start():bad.start() + 1])}' is not a nucleotide code "
                    "(IUPAC: ACGTN, RYKMSWBDHV): not a DNA FASTA")
        if short and line:
            return (f"line {number}: sequence lines of uneven length within a contig (line "
                    f"{short} is shorter): samtools faidx cannot index it; rewrap the FASTA to "
                    "one line length (e.g. seqtk seq -l 60)")
        if not width:
            width = len(line)
        elif len(line) > width:
            return (f"line {number}: a sequence line longer than the ones before it in the "
                    "contig: samtools faidx cannot index it; rewrap the FASTA to one line "
                    "length (e.g. seqtk seq -l 60)")
        elif len(line) < width:
            short = number
    return None


@dataclass
class Gff3Sample:
    """Seqids of a GFF3 as far as they were read (pragmas, first lines, a few places further
    on), and the first problem found in the lines read ("" when none)."""

    seqids: dict[str, None]  # in the order met
    features: int
    problem: str = ""


def _gff3_lines(path: Path, compressed: bool) -> list[tuple[int | None, str]]:
    """(line number or None when unknown, text) of the first GFF3_LINES lines and, for an
    uncompressed file, of a few lines at each of GFF3_SAMPLES offsets further on."""
    opener = gzip.open if compressed else open
    out: list[tuple[int | None, str]] = []
    budget = 4 * PREFIX_BYTES  # characters: a file of a few huge lines is not read whole
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for number in range(1, GFF3_LINES + 1):
            line = handle.readline(budget)
            budget -= len(line)
            if not line or budget <= 0:
                break
            out.append((number, line))
    size = path.stat().st_size
    if compressed or size <= PREFIX_BYTES:
        return out
    with path.open("rb") as handle:
        for k in range(1, GFF3_SAMPLES + 1):
            handle.seek(size * k // (GFF3_SAMPLES + 1))
            handle.readline()  # the rest of a line begun before the offset
            out += [(None, handle.readline().decode("utf-8", "replace")) for _ in range(5)]
    return out


def sample_gff3(path: Path | str) -> Gff3Sample:
    """Seqids and the first problem of a GFF3, from a bounded read (see _gff3_lines)."""
    path = Path(path)
    try:
        compressed = _head(path, 2) == b"\x1f\x8b"
        if compressed != path.name.endswith(".gz"):
            state = "gzip-compressed but named" if compressed else "not gzip-compressed but named"
            return Gff3Sample({}, 0, f"{state} '{path.name}': the workflow reads the gene "
                              "models by the name (.gz: gzip); rename it")
        lines = _gff3_lines(path, compressed)
    except (OSError, EOFError, zlib.error) as error:
        return Gff3Sample({}, 0, f"cannot read it: {error}")
    sample = Gff3Sample({}, 0)
    for number, line in lines:
        text = line.rstrip("\r\n")
        if text.startswith("##sequence-region"):
            sample.seqids.update(dict.fromkeys(text.split()[1:2]))
        if text.startswith("##FASTA") and number is not None:
            break
        if not text.strip() or text.startswith("#"):
            continue
        fields = text.split("\t")
        if len(fields) == 9 and fields[3].isdigit() and fields[4].isdigit():
            if _GTF_ATTRIBUTE.search(fields[8]) and "=" not in fields[8].split(";")[0]:
                sample.problem = sample.problem or (
                    f"line {number}: GTF attributes ({_show(fields[8].encode(), 30)}), not "
                    "GFF3 (key=value;...): bcftools csq needs GFF3 (e.g. Ensembl's .gff3.gz)")
            sample.seqids[fields[0]] = None
            sample.features += 1
        elif number is not None and not sample.problem:
            kind = guess_format(line.encode()) if number == 1 else ""
            sample.problem = (f"line {number} is '{_show(text.encode())}', not a GFF3 feature "
                              "line (9 tab-separated columns, START and END numbers)"
                              + (f": it looks like {kind}" if kind else ""))
    if not sample.features and not sample.problem:
        sample.problem = "no feature lines: bcftools csq needs gene models"
    return sample


def calling_contigs(fasta: Path | str, wanted: list[str]) -> list[str]:
    """Contigs to scatter calling over: `wanted` (checked), else the primary human chromosomes
    (PRIMARY_CONTIG: 1-22, X, Y, M/MT, with or without 'chr'), else (a reference without
    them) every contig but alt, decoy, HLA, EBV and unplaced ones (EXCLUDED_CONTIG)."""
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
    return primary or [name for name in contigs if not EXCLUDED_CONTIG.search(name)] or contigs


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
