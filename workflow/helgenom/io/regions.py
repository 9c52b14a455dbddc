"""Calling regions: small-variant calling scattered within chromosomes.

The reference's N runs (assembly gaps, centromeres, telomeres) are found by one streaming pass
over the FASTA (`find_gaps`: newlines removed and `n` upper-cased per 64 MiB block with
bytes.translate, runs found with bytes.find: a 3.1 Gb genome in seconds) and cached next to it
(`cached_gaps`: `<fasta>.ngaps.bed`, or under the run directory when the FASTA's folder is
read-only), so the workflow builds its jobs from the cache without rescanning.

`split_contig` cuts a contig into regions of about the scatter size: each cut at the middle of
the N run of at least MIN_GAP bases nearest to the target position (within GAP_TOLERANCE of
the size), else at the target position itself. A region is called on CALL_PAD bases more on
either side and keeps the records whose POS lies in it, so a cut anywhere neither loses nor
doubles nor changes a record; tests/workflow/test_scatter.py checks that against calling per
contig, for bcftools and freebayes, with cuts at N runs, plain positions and right at or
inside variants.

`gather_calls` concatenates the regions' calls in order and checks the records it wrote
against the records the parts hold.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helgenom.errors import InputError, Problem
from helgenom.io.reference import read_contigs

# Each region is called on this much more on both sides, then its records trimmed to those
# whose POS is in it: at a region's very end bcftools mpileup can weigh an overlapping read
# pair's bases differently (QS, BQBZ of a record at the last position; measured on the demo).
CALL_PAD = 1000
MIN_GAP = 1000  # bp: an N run at least this long is a place to cut (GATK/nf-core use 100-1000)
GAP_TOLERANCE = 0.25  # a gap this far (fraction of the scatter size) from a target is taken
BLOCK_BYTES = 1 << 26  # the FASTA is scanned this much at a time
CACHE_VERSION = 1
CACHE_SUFFIX = ".ngaps.bed"
FALLBACK_CACHE_DIR = Path(".helgenom") / "ngaps"  # under the run directory
MITO_CONTIG = re.compile(r"^(chr)?(M|MT)$")
# A region's name is its contig's (characters other than these replaced by '_') + '.' + its
# number: safe as a wildcard, a path component and a shell word.
REGION_NAME = r"[A-Za-z0-9_-]+\.[0-9]+"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_UPPER_N = bytes.maketrans(b"n", b"N")
_NOT_N = re.compile(rb"[^N]")

Gaps = dict[str, list[tuple[int, int]]]  # contig -> N runs, 0-based half-open, in order


@dataclass(frozen=True)
class CallRegion:
    name: str  # wildcard-safe, unique in the run
    contig: str
    start: int  # 1-based, inclusive
    end: int  # 1-based, inclusive
    contig_length: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def padded(self, pad: int) -> tuple[int, int]:
        """(start, end), 1-based inclusive, widened by `pad` within the contig."""
        return max(1, self.start - pad), min(self.contig_length, self.end + pad)

    def bcftools(self, pad: int = 0) -> str:
        """The region (widened by `pad`) as bcftools/htslib read it (a contig name with ':'
        in braces)."""
        start, end = self.padded(pad)
        contig = f"{{{self.contig}}}" if ":" in self.contig else self.contig
        return f"{contig}:{start}-{end}"

    def freebayes(self, pad: int = 0) -> str:
        """The region (widened by `pad`) as freebayes -r reads it: 0-based start, end not
        included (BED-like)."""
        start, end = self.padded(pad)
        return f"{self.contig}:{start - 1}-{end}"


# ---------------------------------------------------------------------------------------------
# N runs of the FASTA


class _GapScanner:
    """N runs of one FASTA, fed sequence bytes contig by contig (newlines already removed)."""

    def __init__(self, min_length: int) -> None:
        self.min_length = min_length
        self.gaps: Gaps = {}
        self.lengths: dict[str, int] = {}
        self.contig: str | None = None
        self.offset = 0  # bases of the contig seen so far
        self.open_run: int | None = None  # start of an N run that reaches `offset`

    def start_contig(self, name: str) -> None:
        self.end_contig()
        if name in self.lengths:
            raise ValueError(f"contig {name!r} twice in the FASTA")
        self.contig, self.offset, self.open_run = name, 0, None
        self.gaps[name] = []
        self.lengths[name] = 0

    def end_contig(self) -> None:
        if self.contig is None:
            return
        if self.open_run is not None:
            # A contig that is N from end to end is one gap, however short.
            self._close(self.open_run, self.offset, whole=self.open_run == 0)
        self.lengths[self.contig] = self.offset
        self.contig, self.open_run = None, None

    def _close(self, start: int, end: int, whole: bool = False) -> None:
        if end - start >= self.min_length or whole:
            self.gaps[self.contig].append((start, end))  # type: ignore[index]
        self.open_run = None

    def feed(self, seq: bytes) -> None:
        """Sequence bytes of the current contig, upper-cased N, without line ends."""
        if not seq:
            return
        position = 0
        if self.open_run is not None and seq[0] != 78:  # 'N': the open run ended before seq
            self._close(self.open_run, self.offset)
        while True:
            found = seq.find(b"N", position)
            if found < 0:
                break
            stop = _NOT_N.search(seq, found)
            end = stop.start() if stop else len(seq)
            start = self.offset + found
            if found == 0 and self.open_run is not None:
                start = self.open_run  # continues the run of the block before
            if end == len(seq):
                self.open_run = start
                break
            self._close(start, self.offset + end)
            position = end
        self.offset += len(seq)


def find_gaps(fasta: Path | str, min_length: int = MIN_GAP) -> tuple[Gaps, dict[str, int]]:
    """N runs (N or n) of at least `min_length` bases per contig of an uncompressed FASTA,
    0-based half-open, and the contigs' lengths; a contig that is all N is one gap whatever
    its length. One pass in BLOCK_BYTES blocks; line ends (LF or CRLF) do not break a run."""
    fasta = Path(fasta)
    scanner = _GapScanner(min_length)
    carry = b""
    lines_before = 0
    with fasta.open("rb") as handle:
        while True:
            block = handle.read(BLOCK_BYTES)
            data = carry + block
            carry = b""
            if block:
                cut = data.rfind(b"\n") + 1
                if cut:
                    data, carry = data[:cut], data[cut:]
                elif data.startswith(b">"):
                    carry = data  # a header longer than a block: read on
                    continue
                # else: a block within one long sequence line, all of it sequence
            _scan_block(data, scanner, fasta, lines_before)
            lines_before += data.count(b"\n")
            if not block:
                break
    scanner.end_contig()
    if not scanner.lengths:
        raise InputError([Problem(str(fasta), 1, "header", "",
                                  "no '>' header: not a FASTA file")])
    return scanner.gaps, scanner.lengths


def _scan_block(data: bytes, scanner: _GapScanner, fasta: Path, lines_before: int) -> None:
    """Feed a block of whole lines to the scanner: headers start contigs, the bytes between
    them are sequence."""
    position = 0
    while position < len(data):
        if data.startswith(b">", position):
            end = data.find(b"\n", position)
            end = len(data) if end < 0 else end
            name = data[position + 1:end].split(maxsplit=1)
            line = lines_before + data.count(b"\n", 0, position) + 1
            if not name:
                raise InputError([Problem(str(fasta), line, "header", ">",
                                          "FASTA header without a sequence name")])
            try:
                scanner.start_contig(name[0].decode("utf-8", "replace"))
            except ValueError as error:
                raise InputError([Problem(str(fasta), line, "header",
                                          name[0].decode("utf-8", "replace"), str(error))]
                                 ) from None
            position = end + 1
            continue
        header = data.find(b"\n>", position)
        end = len(data) if header < 0 else header + 1
        if scanner.contig is None:
            if data[position:end].strip():
                line = lines_before + data.count(b"\n", 0, position) + 1
                raise InputError([Problem(str(fasta), line, "sequence", "",
                                          "sequence before the first '>' header: not FASTA")])
        else:
            scanner.feed(data[position:end].translate(_UPPER_N, b"\r\n"))
        position = end


# ---------------------------------------------------------------------------------------------
# The cache of N runs


def _stamp(fasta: Path, min_length: int) -> str:
    stat = fasta.stat()
    return (f"#helgenom-ngaps\tversion={CACHE_VERSION}\tmin_gap={min_length}"
            f"\tsize={stat.st_size}\tmtime_ns={stat.st_mtime_ns}")


def cache_paths(fasta: Path | str, workdir: Path | str = ".") -> tuple[Path, Path]:
    """Where the N runs of `fasta` are cached: next to it, else (its folder read-only) under
    the run directory, named by the FASTA's absolute path."""
    fasta = Path(fasta)
    key = hashlib.sha256(str(fasta.resolve()).encode()).hexdigest()[:16]
    return (Path(f"{fasta}{CACHE_SUFFIX}"),
            Path(workdir) / FALLBACK_CACHE_DIR / f"{fasta.name}.{key}{CACHE_SUFFIX}")


def _read_cache(path: Path, stamp: str) -> tuple[Gaps, dict[str, int]] | None:
    """The cached gaps and lengths, or None when the file is missing, of another FASTA state
    (size, mtime) or minimum, or does not read."""
    try:
        with path.open(encoding="utf-8") as handle:
            if handle.readline().rstrip("\n") != stamp:
                return None
            gaps: Gaps = {}
            lengths: dict[str, int] = {}
            for line in handle:
                fields = line.rstrip("\n").split("\t")
                if fields[0] == "#contig" and len(fields) == 3:
                    gaps[fields[1]] = []
                    lengths[fields[1]] = int(fields[2])
                elif len(fields) == 3 and fields[0] in gaps:
                    gaps[fields[0]].append((int(fields[1]), int(fields[2])))
                else:
                    return None
            return gaps, lengths
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _write_cache(path: Path, stamp: str, gaps: Gaps, lengths: dict[str, int]) -> None:
    """The cache written to a temporary file in its folder, then renamed: never half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [stamp]
    for contig, length in lengths.items():
        lines.append(f"#contig\t{contig}\t{length}")
        lines += [f"{contig}\t{start}\t{end}" for start, end in gaps[contig]]
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def cached_gaps(fasta: Path | str, workdir: Path | str = ".", min_length: int = MIN_GAP
                ) -> tuple[Gaps, dict[str, int]]:
    """The N runs and contig lengths of `fasta` (see find_gaps), from the cache when it
    matches the FASTA's size and mtime, else scanned and cached (next to the FASTA, or under
    `workdir` when that folder cannot be written)."""
    fasta = Path(fasta)
    stamp = _stamp(fasta, min_length)
    beside, fallback = cache_paths(fasta, workdir)
    for path in (beside, fallback):
        cached = _read_cache(path, stamp)
        if cached is not None:
            return cached
    gaps, lengths = find_gaps(fasta, min_length)
    try:
        _write_cache(beside, stamp, gaps, lengths)
    except OSError:
        _write_cache(fallback, stamp, gaps, lengths)
    return gaps, lengths


# ---------------------------------------------------------------------------------------------
# Splitting


def split_contig(length: int, gaps: list[tuple[int, int]], size: int,
                 tolerance: float = GAP_TOLERANCE, gaps_only: bool = False
                 ) -> list[tuple[int, int]]:
    """A contig of `length` bases as (start, end) regions (1-based, inclusive) of about `size`
    bases, in order, together covering it exactly once but for regions wholly inside one N
    run (a contig that is all N has none). Each cut is at the middle of the gap (N run, 0-based
    half-open) nearest to its target position within `tolerance` * size, else at the target
    (`gaps_only`: no cut there, the region runs on to the next target). size <= 0: one
    region."""
    if length <= 0:
        return []
    if size <= 0 or length < 1.5 * size:
        cuts: list[int] = []
    else:
        pieces = round(length / size)
        window = tolerance * size
        middles = [start + (end - start) // 2 for start, end in gaps]
        cuts = []
        for i in range(1, pieces):
            target = round(i * length / pieces)
            near = [m for m in middles if abs(m - target) <= window and 0 < m < length
                    and (not cuts or m > cuts[-1])]
            if near:
                cuts.append(min(near, key=lambda m: (abs(m - target), m)))
            elif not gaps_only and (not cuts or target > cuts[-1]):
                cuts.append(target)
    bounds = [0, *cuts, length]
    regions = [(bounds[i] + 1, bounds[i + 1]) for i in range(len(bounds) - 1)]
    return [(start, end) for start, end in regions
            if not any(gs < start and end <= ge for gs, ge in gaps)]


def _safe(contig: str) -> str:
    return _UNSAFE.sub("_", contig) or "_"


def call_regions(contigs: Iterable[tuple[str, int]], gaps: Gaps, size: int,
                 gaps_only: bool = False) -> list[CallRegion]:
    """The calling regions of `contigs` (name, length), in their order: split_contig of
    each, named `<contig>.<number>` (numbers from 1, zero-padded to 4 digits or more; a
    contig's characters outside [A-Za-z0-9_-] replaced by '_', and its position in the list
    appended when two contigs would share a name)."""
    contigs = list(contigs)
    safe = [_safe(name) for name, _ in contigs]
    regions = []
    for index, ((contig, length), base) in enumerate(zip(contigs, safe, strict=True)):
        if safe.count(base) > 1:
            base = f"{base}_{index + 1}"
        pieces = split_contig(length, gaps.get(contig, []), size, gaps_only=gaps_only)
        width = max(4, len(str(len(pieces))))
        regions += [CallRegion(f"{base}.{number:0{width}d}", contig, start, end, length)
                    for number, (start, end) in enumerate(pieces, start=1)]
    return regions


def scatter_size(scatter_mb: float) -> int:
    """calling.scatter_mb in bases (0: one region per contig)."""
    return round(scatter_mb * 1_000_000)


def calling_layout(fasta: Path | str, contigs: Iterable[str], scatter_mb: float,
                   workdir: Path | str = ".", gaps_only: bool = False
                   ) -> tuple[list[CallRegion], list[str]]:
    """The calling regions of the contigs `contigs` of `fasta`, in the FASTA's contig order,
    and the FASTA's contigs in order. scatter_mb 0: one region per contig, without reading
    the FASTA's sequence; else split at its N runs (cached_gaps, `workdir`: the run's)."""
    wanted = set(contigs)
    size = scatter_size(scatter_mb)
    if size <= 0:
        lengths = dict(read_contigs(fasta))
        gaps: Gaps = {}
    else:
        gaps, lengths = cached_gaps(fasta, workdir)
    regions = call_regions([(name, length) for name, length in lengths.items()
                            if name in wanted], gaps, size, gaps_only=gaps_only)
    return regions, list(lengths)


MIN_SCATTER_MB = 0.01  # smaller regions would make hundreds of thousands of jobs per genome


def scatter_problems(config: Mapping[str, Any], workdir: Path | str,
                     problem: Callable[[tuple[str, ...], str | None, str], Problem]
                     ) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of calling.scatter_mb beyond its schema: 0 or at least
    MIN_SCATTER_MB."""
    value = (config.get("calling") or {}).get("scatter_mb", 0)
    if isinstance(value, int | float) and 0 < value < MIN_SCATTER_MB:
        return [problem(("calling", "scatter_mb"), str(value),
                        f"must be 0 (one region per contig) or at least {MIN_SCATTER_MB} "
                        f"({MIN_SCATTER_MB * 1000:g} kb): smaller regions make too many "
                        "calling jobs")], []
    return [], []


def mito_contig(contigs: Iterable[str]) -> str | None:
    """The mitochondrial contig (chrM, MT, ...) among `contigs`, if any."""
    return next((name for name in contigs if MITO_CONTIG.match(name)), None)


# ---------------------------------------------------------------------------------------------
# Gathering


class GatherError(RuntimeError):
    pass


def _bcftools(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bcftools", *args], capture_output=True, text=True)


def _stderr_problem(stderr: str) -> str:
    """The first htslib/bcftools error or truncation warning in `stderr` ("" when none)."""
    for line in stderr.splitlines():
        if line.startswith(("[E::", "Error", "[W::bgzf")) or (
                "truncated" in line or "EOF marker" in line):
            return line.strip()
    return ""


def record_count(path: Path | str) -> int:
    """Records of a BCF/VCF: from its index (written by the job that wrote it, so a part that
    was cut short later still shows its full count), else read through."""
    path = Path(path)
    for index in (Path(f"{path}.csi"), Path(f"{path}.tbi")):
        if index.is_file():
            proc = _bcftools("index", "-n", str(path))
            if proc.returncode == 0 and proc.stdout.strip().isdigit():
                return int(proc.stdout.strip())
    proc = subprocess.run(["bcftools", "view", "-H", "--no-version", str(path)],
                          capture_output=True)
    problem = _stderr_problem(proc.stderr.decode("utf-8", "replace"))
    if proc.returncode != 0 or problem:
        raise GatherError(f"{path}: cannot read it: {problem or proc.returncode}")
    return proc.stdout.count(b"\n")


def samples_of(path: Path | str) -> list[str]:
    proc = _bcftools("query", "-l", str(path))
    if proc.returncode != 0:
        raise GatherError(f"{path}: cannot read its header: {proc.stderr.strip()}")
    return proc.stdout.split()


def gather_calls(parts: list[Path | str], out: Path | str) -> int:
    """Concatenate `parts` (BCFs of disjoint regions, in order, the same samples) into the
    BCF `out`, indexed (.csi); the record count written must equal the sum of the parts'
    counts (bcftools can exit 0 on a broken part). A part with the samples in another order
    (freebayes orders them its own way) is reordered as the first part; other samples are an
    error. Written to a temporary name and renamed: nothing half written looks done. Returns
    the number of records."""
    if not parts:
        raise GatherError("no parts to gather")
    out = Path(out)
    counts = [record_count(part) for part in parts]
    temp = out.with_name(f".{out.name}.partial")
    temp_index = Path(f"{temp}.csi")
    reordered: list[Path] = []
    for stale in (temp, temp_index):
        stale.unlink(missing_ok=True)
    try:
        order = samples_of(parts[0])
        inputs = [str(parts[0])]
        for number, part in enumerate(parts[1:], start=1):
            samples = samples_of(part)
            if samples == order:
                inputs.append(str(part))
                continue
            if sorted(samples) != sorted(order):
                raise GatherError(f"{part} has samples {', '.join(samples)}, but {parts[0]} "
                                  f"has {', '.join(order)}")
            copy = out.with_name(f".{out.name}.part{number}.bcf")
            reordered.append(copy)
            proc = _bcftools("view", "--no-version", "-s", ",".join(order), "-Ob", "-o",
                             str(copy), str(part))
            problem = _stderr_problem(proc.stderr)
            if proc.returncode != 0 or problem:
                raise GatherError(f"{part}: reordering its samples failed: "
                                  f"{problem or proc.stderr.strip()[-500:]}")
            inputs.append(str(copy))
        proc = _bcftools("concat", "--no-version", "-Ob", "-o", str(temp), *inputs)
        problem = _stderr_problem(proc.stderr)
        if proc.returncode != 0 or problem:
            raise GatherError(f"bcftools concat failed ({proc.returncode}): "
                              f"{problem or proc.stderr.strip()[-500:]}")
        proc = _bcftools("index", "-f", "-o", str(temp_index), str(temp))
        if proc.returncode != 0:
            raise GatherError(f"bcftools index of the gathered calls failed: {proc.stderr}")
        written = record_count(temp)
        if written != sum(counts):
            detail = ", ".join(f"{part}: {n}" for part, n in zip(parts, counts, strict=True))
            raise GatherError(f"gathered {written} records but the parts hold {sum(counts)} "
                              f"({detail})")
        os.replace(temp, out)
        os.replace(temp_index, f"{out}.csi")
    finally:
        for leftover in (temp, temp_index, *reordered):
            leftover.unlink(missing_ok=True)
    return written


def region_lines(regions: Iterable[CallRegion]) -> Iterator[str]:
    """BED lines (contig, 0-based start, end, name) of regions."""
    for region in regions:
        yield f"{region.contig}\t{region.start - 1}\t{region.end}\t{region.name}"
