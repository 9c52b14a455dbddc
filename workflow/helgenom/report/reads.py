"""Read-level evidence of a candidate: each member's reads at the variant as an inline SVG pileup.

For a small variant the window is READ_FLANK bp either side of it; for an SV (symbolic ALT) it
is each of its two breakpoints, SV_FLANK bp either side. `samtools view` reads the window of
each member's BAM or CRAM (a CRAM with the reference FASTA): mapped primary and supplementary
reads that are not duplicates nor QC failures, at most MAX_READS per member and window, the
first by position (so the same files give the same reads, and the same bytes).

Each read is classified here from its CIGAR and SEQ (nothing else is parsed):

  small variant  the read's sequence over the REF span (insertions after a position included,
                 deletions left out) is the ALT: alt; the REF: ref; anything else, or a read
                 that does not span it: other / not counted
  SV             a read with a soft clip of >= CLIP_MIN bp, a supplementary alignment (SA tag)
                 or a mate off its expected place (paired, not a proper pair): alt
                 (split/discordant), the others ref

The pileup draws reads as thin bars packed in rows (forward and reverse strand in two
shades), the variant's position as a line, and on the reads of the ALT the bases that show it
highlighted; the counts follow as text. Every value is escaped (`markup`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from helgenom.errors import InputError
from helgenom.report.inputs import input_error
from helgenom.report.markup import Html, join, tag

DEFAULT_TOP = 20  # candidates with a pileup by default
READ_FLANK = 50  # bp either side of a small variant
SV_FLANK = 200  # bp either side of each SV breakpoint
MAX_READS = 50  # reads per member and window
CLIP_MIN = 5  # soft-clipped bases that make an SV read a split read
EXCLUDED_FLAGS = 0x4 | 0x100 | 0x200 | 0x400  # unmapped, secondary, QC fail, duplicate
WIDTH, BAR, GAP, TOP = 460, 3, 1, 14  # SVG: width, bar height, row gap, space for the scale
MAX_ROWS = 40  # rows of bars; reads beyond them are counted, not drawn
CIGAR = re.compile(r"(\d+)([MIDNSHP=X])")


@dataclass(frozen=True)
class Variant:
    chrom: str
    pos: int
    end: int
    ref: str
    alt: str
    is_sv: bool


@dataclass(frozen=True)
class Window:
    chrom: str
    start: int  # 1-based, inclusive
    end: int
    mark: int  # the variant's (or breakpoint's) position
    label: str

    @property
    def region(self) -> str:
        return f"{self.chrom}:{self.start}-{self.end}"


@dataclass(frozen=True)
class Read:
    name: str
    start: int  # 1-based first reference base
    end: int  # last reference base
    reverse: bool
    allele: str  # "ref", "alt", "other" or "" (does not span the variant)
    highlight: tuple[int, int] | None  # reference span of the bases that show the ALT


@dataclass(frozen=True)
class Alignment:
    sample: str
    path: Path


def windows(variant: Variant) -> list[Window]:
    """Where to read: around a small variant; both breakpoints of an SV."""
    if not variant.is_sv:
        last = variant.pos + max(len(variant.ref), 1) - 1
        return [Window(variant.chrom, max(1, variant.pos - READ_FLANK), last + READ_FLANK,
                       variant.pos, f"{variant.chrom}:{variant.pos:,}")]
    ends = [variant.pos] if variant.end <= variant.pos else [variant.pos, variant.end]
    names = ["start", "end"]
    return [Window(variant.chrom, max(1, at - SV_FLANK), at + SV_FLANK, at,
                   f"{names[i]} breakpoint {variant.chrom}:{at:,}")
            for i, at in enumerate(ends)]


def check_alignments(alignments: Sequence[Alignment], fasta: Path | None) -> None:
    """Every alignment must be a file, a CRAM needs the FASTA; one problem per bad file."""
    problems = []
    for a in alignments:
        if not a.path.is_file():
            problems += input_error(a.path, f"no such file (the alignment of {a.sample})"
                                    ).problems
        elif a.path.suffix.lower() == ".cram" and fasta is None:
            problems += input_error(a.path, f"the alignment of {a.sample} is a CRAM: it needs "
                                    "--fasta (the reference it was written against)").problems
    if fasta is not None and not Path(fasta).is_file():
        problems += input_error(fasta, "no such file (the reference FASTA)").problems
    if problems:
        raise InputError(problems)


def sam_lines(alignment: Alignment, window: Window, fasta: Path | None) -> list[str]:
    """The first MAX_READS SAM records of `window` (samtools view; errors name the file)."""
    samtools = shutil.which("samtools")
    if samtools is None:
        raise input_error(alignment.path, "samtools is not on PATH: cannot read the alignment")
    command = [samtools, "view", "-F", str(EXCLUDED_FLAGS)]
    if fasta is not None:
        command += ["-T", str(fasta)]
    command += [str(alignment.path), window.region]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        why = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise input_error(alignment.path, f"samtools view {window.region} failed: {why}")
    return result.stdout.splitlines()[:MAX_READS]


def aligned(cigar: str, start: int, seq: str) -> tuple[dict[int, str], int]:
    """Per reference position, the read's bases there ('' for a deletion; an insertion after
    it appended), and the last reference position of the read."""
    bases: dict[int, str] = {}
    ref, query, last = start, 0, start - 1
    for length_text, op in CIGAR.findall(cigar):
        length = int(length_text)
        if op in "M=X":
            for i in range(length):
                bases[ref + i] = seq[query + i] if query + i < len(seq) else "N"
            ref, query = ref + length, query + length
        elif op == "I":
            if ref - 1 in bases:
                bases[ref - 1] += seq[query:query + length]
            query += length
        elif op in "DN":
            for i in range(length):
                bases[ref + i] = ""
            ref += length
        elif op == "S":
            query += length
        last = ref - 1
    return bases, last


def small_allele(bases: dict[int, str], variant: Variant) -> str:
    """The read's allele of a small variant: its sequence over the REF span."""
    span = range(variant.pos, variant.pos + max(len(variant.ref), 1))
    if any(p not in bases for p in span):
        return ""
    shown = "".join(bases[p] for p in span).upper()
    if shown == variant.alt.upper():
        return "alt"
    return "ref" if shown == variant.ref.upper() else "other"


def sv_allele(fields: Sequence[str], cigar: str) -> str:
    flag = int(fields[1])
    clipped = any(op == "S" and int(n) >= CLIP_MIN for n, op in CIGAR.findall(cigar))
    split = flag & 0x800 or any(f.startswith("SA:Z:") for f in fields[11:])
    discordant = flag & 0x1 and not flag & 0x2 and not flag & 0x8
    return "alt" if clipped or split or discordant else "ref"


def parse(line: str, variant: Variant, path: Path) -> Read:
    fields = line.split("\t")
    if len(fields) < 11 or not fields[1].isdigit() or not fields[3].isdigit():
        raise input_error(path, "samtools view gave a line that is not SAM", value=line[:80])
    flag, start, cigar, seq = int(fields[1]), int(fields[3]), fields[5], fields[9]
    if cigar == "*":
        cigar = f"{len(seq)}M" if seq != "*" else "1M"
    bases, last = aligned(cigar, start, "" if seq == "*" else seq)
    if variant.is_sv:
        allele, highlight = sv_allele(fields, cigar), None
    else:
        allele = small_allele(bases, variant)
        highlight = ((variant.pos, variant.pos + max(len(variant.ref), 1) - 1)
                     if allele == "alt" else None)
    return Read(fields[0], start, max(last, start), bool(flag & 0x10), allele, highlight)


def pack(reads: Sequence[Read]) -> list[int]:
    """Each read's row: the first whose last read ends before it starts (reads by position)."""
    ends: list[int] = []
    rows = []
    for read in reads:
        row = next((i for i, end in enumerate(ends) if end < read.start - 1), len(ends))
        if row == len(ends):
            ends.append(read.end)
        else:
            ends[row] = read.end
        rows.append(row)
    return rows


def counts(reads: Sequence[Read], sv: bool) -> dict[str, int]:
    names = {"ref": "ref", "alt": "split/discordant" if sv else "alt", "other": "other"}
    return {names[k]: sum(r.allele == k for r in reads) for k in ("ref", "alt", "other")
            if not (sv and k == "other")}


def svg(reads: Sequence[Read], window: Window, sample: str) -> Html:
    """The pileup of one member in one window."""
    span = window.end - window.start + 1
    scale = WIDTH / span

    def x(pos: int) -> float:
        return round((max(pos, window.start) - window.start) * scale, 1)

    def w(first: int, last: int) -> float:
        return max(round((min(last, window.end) - max(first, window.start) + 1) * scale, 1), 1)

    rows = pack(reads)
    drawn = [(read, row) for read, row in zip(reads, rows, strict=True) if row < MAX_ROWS]
    height = TOP + (min(max(rows, default=0) + 1, MAX_ROWS)) * (BAR + GAP) + 2
    parts = [tag("title", f"{sample}: {len(reads)} reads at {window.label}"),
             tag("text", f"{window.start:,}", x=0, y=10, class_="scale"),
             tag("text", f"{window.end:,}", x=WIDTH, y=10, class_="scale end")]
    for read, row in drawn:
        y = TOP + row * (BAR + GAP)
        strand = "rev" if read.reverse else "fwd"
        classes = " ".join(c for c in ("read", strand, read.allele and f"a-{read.allele}") if c)
        bar = tag("rect", tag("title", f"{read.name} ({'-' if read.reverse else '+'}) "
                              f"{read.allele or 'not spanning'}"),
                  x=x(read.start), y=y, width=w(read.start, read.end), height=BAR,
                  class_=classes)
        parts.append(bar)
        if read.highlight:
            parts.append(tag("rect", x=x(read.highlight[0]), y=y - 0.5,
                             width=max(w(*read.highlight), 3), height=BAR + 1,
                             class_="alt-base"))
    mark = round(x(window.mark) + scale / 2, 1)
    parts.append(tag("line", x1=mark, x2=mark, y1=TOP - 2, y2=height, class_="variant-pos"))
    return tag("svg", *parts, viewBox=f"0 0 {WIDTH} {height}", width=WIDTH, height=height,
               class_="pileup", role="img", data_sample=sample)


def member_pileup(alignment: Alignment, variant: Variant, fasta: Path | None,
                  role: str) -> Html:
    """One member's pileups (each window) with their counts."""
    blocks = []
    for window in windows(variant):
        lines = sam_lines(alignment, window, fasta)
        reads = [parse(line, variant, alignment.path) for line in lines]
        count = counts(reads, variant.is_sv)
        text = ", ".join(f"{n} {k}" for k, n in count.items())
        capped = f" (the first {MAX_READS} by position)" if len(lines) == MAX_READS else ""
        blocks.append(tag("figure", svg(reads, window, alignment.sample), tag(
            "figcaption", f"{window.label}: {len(reads)} reads{capped}; {text}",
            class_="read-counts", data_ref=count["ref"],
            data_alt=count["split/discordant" if variant.is_sv else "alt"])))
    who = f"{alignment.sample} ({role})" if role else alignment.sample
    return tag("div", tag("h5", who), *blocks, class_="pileup-member",
               data_sample=alignment.sample)


def pileups(variant: Variant, alignments: Sequence[Alignment], fasta: Path | None,
            roles: dict[str, str]) -> Html:
    """Every member's pileups of `variant`, in a <details> closed by default."""
    members = [member_pileup(a, variant, fasta, roles.get(a.sample, "")) for a in alignments]
    what = ("split/discordant reads at both breakpoints" if variant.is_sv
            else "reads carrying the ALT highlighted")
    legend = tag("p", "Bars: reads (dark: forward, light: reverse strand; red outline: split or "
                 "discordant); line: the breakpoint." if variant.is_sv else
                 "Bars: reads (dark: forward, light: reverse strand); line: the variant's "
                 "position; orange: the bases of the ALT (their reads outlined red).",
                 class_="note")
    return tag("details", tag("summary", f"Pileups of {len(members)} members ({what})"),
               legend, join(members), class_="reads")
