"""Reading VCF/BCF into columnar tables through `bcftools` (streamed, vectorised).

Records are split per ALT allele (`bcftools norm -m -any`) so every downstream step sees
bi-allelic rows. Genotypes are coded per sample as int8: -1 no-call, 0 hom-ref, 1 het,
2 hom-alt or hemizygous alt (haploid "1"); `ploidy` keeps 1 vs 2.

`bcftools query` output is parsed by Arrow block by block, and each block reduced at once
(genotype strings to codes, GQ/AD to floats), so memory holds only the compact result. Large
VCF inputs are read as two halves through two pipelines at once (see `_halves`).
"""

from __future__ import annotations

import gzip
import io
import os
import re
import shlex
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from helgenom.errors import InputError, Problem
from helgenom.io.bgzf import EOF, compress_blocks, inflate_blocks, text_between


@dataclass
class VcfHeader:
    samples: list[str]
    info: dict[str, str] = field(default_factory=dict)  # ID -> Type
    format: dict[str, str] = field(default_factory=dict)
    contigs: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    # Header lines the file lacks but its records use (hand-made fixtures, some old tools):
    # added on the fly so that bcftools can stream it as BCF.
    fixes: list[str] = field(default_factory=list)


# GENMOD names a variant CHROM_POS_REF_ALT with these dropped from ALT (symbolic and breakend
# alleles: <DEL> -> DEL, T[6:134717462[ -> T6134717462), so that the name can sit in a
# Compounds entry `NAME>SCORE`, which Scout splits on '>' (and ':', '|', ',').
ALT_NAME_DROPS = "<>[]:"


def variant_name(chrom: str, pos: int | str, ref: str, alt: str) -> str:
    """GENMOD's name of a variant, as Compounds entries carry it."""
    return f"{chrom}_{pos}_{ref}_{alt.translate(_ALT_NAME_TABLE)}"


_ALT_NAME_TABLE = str.maketrans("", "", ALT_NAME_DROPS)


def run_text(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise InputError([Problem(cmd[-1], 0, "", "", f"{' '.join(cmd[:2])} failed: "
                                  f"{proc.stderr.strip().splitlines()[-1:] or proc.returncode}")])
    return proc.stdout


def _header_text(path: Path | str) -> str:
    """The header as written in the file (bcftools view -h adds contigs it has seen)."""
    with open(path, "rb") as probe:
        magic = probe.read(4)
    if magic[:2] == b"\x1f\x8b":  # gzip/BGZF: BCF is BGZF too, and starts with 'BCF'
        with gzip.open(path, "rb") as handle:
            if handle.read(3) == b"BCF":
                return run_text(["bcftools", "view", "-h", str(path)])
    elif magic[:3] == b"BCF":
        return run_text(["bcftools", "view", "-h", str(path)])
    opener = gzip.open if magic[:2] == b"\x1f\x8b" else open
    lines = []
    with opener(path, "rt") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            lines.append(line)
            if line.startswith("#CHROM"):
                break
    return "".join(lines)


def read_header(path: Path | str) -> VcfHeader:
    if not Path(path).is_file():
        raise InputError([Problem(str(path), 0, "", "", "file not found")])
    text = _header_text(path)
    header = VcfHeader(samples=[])
    for line in text.splitlines():
        header.lines.append(line)
        if line.startswith("##INFO=<") or line.startswith("##FORMAT=<"):
            ident = re.search(r"ID=([^,>]+)", line)
            kind = re.search(r"Type=([^,>]+)", line)
            target = header.info if line.startswith("##INFO") else header.format
            if ident:
                target[ident.group(1)] = kind.group(1) if kind else "String"
        elif line.startswith("##contig=<"):
            ident = re.search(r"ID=([^,>]+)", line)
            if ident:
                header.contigs.append(ident.group(1))
        elif line.startswith("#CHROM"):
            header.samples = line.rstrip("\n").split("\t")[9:]
    for tag, definition in STANDARD_FORMAT.items():
        if tag not in header.format:
            header.fixes.append(f"##FORMAT=<ID={tag},{definition}>")
            header.format[tag] = definition.split("Type=")[1].split(",")[0]
    return header


STANDARD_FORMAT = {  # VCF 4.3 reserved FORMAT keys the reader uses
    "GT": 'Number=1,Type=String,Description="Genotype"',
    "GQ": 'Number=1,Type=Integer,Description="Conditional genotype quality"',
    "AD": 'Number=R,Type=Integer,Description="Read depth for each allele"',
}


def split_alleles_command(path: Path | str, header: VcfHeader, workdir: Path,
                          output_type: str = "u", regions: list[str] | None = None) -> str:
    """Shell pipeline printing `path` with one ALT allele per record: uncompressed BCF, or
    what `output_type` (bcftools -O) says. `regions` (whole contigs; the input must be
    indexed and need no header fixes) restricts it to the records of those contigs."""
    source = shlex.quote(str(path))
    out = f"-O{output_type}"
    if regions:
        if header.fixes:
            raise ValueError("regions of an input that needs header fixes")
        return f"bcftools norm -m -any {out} -r {shlex.quote(','.join(regions))} {source}"
    if header.fixes:
        full = workdir / "header.txt"
        meta = [line for line in header.lines if line.startswith("##")]
        column_line = next(line for line in header.lines if line.startswith("#CHROM"))
        full.write_text("\n".join([*meta, *header.fixes, column_line]) + "\n")
        return (f"bcftools reheader -h {shlex.quote(str(full))} {source}"
                f" | bcftools norm -m -any {out} -")
    return f"bcftools norm -m -any {out} {source}"


# Every distinct GT string is decoded once; columns are mapped through the table.
def _decode_gt(text: str) -> tuple[int, int]:
    alleles = re.split(r"[/|]", text)
    if any(a in (".", "") for a in alleles):
        return -1, len(alleles)
    alts = sum(a != "0" for a in alleles)
    if len(alleles) == 1:
        return (2 if alts else 0), 1
    return min(alts, 2), len(alleles)


_decode_gt_cached = cache(_decode_gt)


def decode_genotypes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    cat = column.fillna(".").astype("category")
    table = [_decode_gt(str(value)) for value in cat.cat.categories]
    codes = cat.cat.codes.to_numpy()
    gts = np.array([t[0] for t in table] or [-1], dtype=np.int8)[codes]
    ploidy = np.array([t[1] for t in table] or [2], dtype=np.int8)[codes]
    return gts, ploidy


@dataclass
class Genotypes:
    """Per-sample arrays aligned with the variant table's rows."""

    gt: dict[str, np.ndarray]
    ploidy: dict[str, np.ndarray]
    gq: dict[str, np.ndarray]
    ref_depth: dict[str, np.ndarray]
    alt_depth: dict[str, np.ndarray]

    def depth(self, sample: str) -> np.ndarray:
        return self.ref_depth[sample] + self.alt_depth[sample]

    def allele_balance(self, sample: str) -> np.ndarray:
        depth = self.depth(sample)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(depth > 0, self.alt_depth[sample] / depth, np.nan)


# htslib's warnings about records that do not match their header. BCF (which the allele split
# streams) cannot hold such records: bcftools drops them *and exits 0*, so they are caught here.
UNDECLARED = {
    "contig": (re.compile(r"Contig '([^']+)' is not defined in the header"), "##contig=<ID={}>"),
    "INFO": (re.compile(r"INFO '([^']+)' is not defined in the header"),
             '##INFO=<ID={},Number=.,Type=String,Description="Not declared in the input">'),
    "FORMAT": (re.compile(r"FORMAT '([^']+)' at \S+ is not defined in the header"),
               '##FORMAT=<ID={},Number=.,Type=String,Description="Not declared in the input">'),
}

# What htslib prints when it cannot read an input to its end (a truncated or corrupt file: a
# BGZF block that does not inflate or is cut short, a record cut in two). bcftools may still
# exit 0 with the records it did read, so its stderr is what tells. (Header lines htslib
# cannot parse, `[E::bcf_hdr_...]`, are skipped by it and not counted here.)
READ_ERRORS = re.compile(r"^\[E::(bgzf_|inflate|hread|hts_open|bcf_read|bcf_write|vcf_parse)"
                         r"|Failed to read|EOF marker is absent|No BGZF EOF marker"
                         r"|may be truncated", re.MULTILINE)


def read_error(messages: str) -> str | None:
    """The first line of htslib's `messages` saying that an input could not be read to its
    end (an error line before a warning one), or None."""
    found = [match.start() for match in READ_ERRORS.finditer(messages)]
    if not found:
        return None
    lines = [messages[messages.rfind("\n", 0, at) + 1:].split("\n", 1)[0] for at in found]
    return next((line for line in lines if line.startswith("[E::")), lines[0]).strip()


def prefer_jemalloc() -> None:
    """Make Arrow's jemalloc pool the process's default: it hands freed memory back more
    readily than Arrow's default (mimalloc), ~15% lower peak RSS for `helgenom rank`.
    ARROW_DEFAULT_MEMORY_POOL, when set, decides. Called by the command line (`helgenom.cli`)
    and the ranking workers, not on import: a library user's pool is theirs to choose."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    with suppress(NotImplementedError, pa.ArrowException):
        pa.set_memory_pool(pa.jemalloc_memory_pool())


# `bcftools query` output is parsed by Arrow in blocks of about this many bytes; every block is
# reduced at once (GT strings to int8 codes, GQ/AD text to floats) so that only the compact
# per-row values are kept, whatever the number of records.
CSV_BLOCK_BYTES = 1 << 24


class UndeclaredInRegions(Exception):
    """Records of the regions read use contigs or tags the header does not declare: the
    whole input must be read (streamed with the declarations added) instead."""


class _Unparsable(Exception):
    """Arrow could not parse the query output (the numbers, or the rows themselves)."""

    def __init__(self, message: str, conversion: bool) -> None:
        super().__init__(message)
        self.conversion = conversion


@dataclass
class _Query:
    """One `bcftools query` stream: the variant columns (Arrow) and per-sample arrays."""

    table: pa.Table
    arrays: dict[str, np.ndarray]  # "{sample}\t{GT|PLOIDY|GQ|AD{0}|AD{1}}" -> values per row


def _arrow_types(columns: list[str], numeric_as_text: bool) -> dict[str, pa.DataType]:
    types: dict[str, pa.DataType] = {}
    for name in columns:
        tag = name.rpartition("\t")[2] if "\t" in name else None
        if name == "POS":
            types[name] = pa.int64()
        elif tag == "GT":
            types[name] = pa.dictionary(pa.int32(), pa.string())
        elif tag is not None and not numeric_as_text:
            types[name] = pa.float64()
        else:
            types[name] = pa.large_string()
    return types


def _gt_codes(column: pa.DictionaryArray) -> tuple[np.ndarray, np.ndarray]:
    """int8 genotype codes and ploidy of a dictionary-encoded GT column (null = '.')."""
    table = [_decode_gt_cached(v) for v in column.dictionary.to_pylist()] + [(-1, 1)]
    index = pc.fill_null(column.indices, len(table) - 1).to_numpy()
    gts = np.array([t[0] for t in table], dtype=np.int8)[index]
    ploidy = np.array([t[1] for t in table], dtype=np.int8)[index]
    return gts, ploidy


def _float_values(column: pa.Array) -> np.ndarray:
    """float64 per row, NaN where missing or (like pandas' errors="coerce") not a number."""
    if pa.types.is_floating(column.type):
        return column.to_numpy(zero_copy_only=False)
    return pd.to_numeric(pd.Series(column.to_pylist(), dtype=object),
                         errors="coerce").to_numpy(dtype=float)


def _parse_stream(stream: io.BufferedReader, columns: list[str], numeric_as_text: bool) -> _Query:
    """Parse tab-separated query output block by block, reducing each block at once."""
    types = _arrow_types(columns, numeric_as_text)
    kept = [c for c in columns if "\t" not in c]
    per_sample = [c for c in columns if "\t" in c]
    parts: dict[str, list[np.ndarray]] = {}
    batches: list[pa.RecordBatch] = []
    schema = pa.schema([(c, types[c]) for c in kept])
    if stream.peek(1)[:1]:
        try:
            reader = pa_csv.open_csv(
                stream,
                read_options=pa_csv.ReadOptions(column_names=columns, block_size=CSV_BLOCK_BYTES),
                parse_options=pa_csv.ParseOptions(delimiter="\t", quote_char=False,
                                                  double_quote=False, escape_char=False),
                convert_options=pa_csv.ConvertOptions(column_types=types, null_values=["."],
                                                      strings_can_be_null=True),
            )
            for batch in reader:
                for name in per_sample:
                    column = batch.column(name)
                    if name.endswith("\tGT"):
                        gts, ploidy = _gt_codes(column)
                        parts.setdefault(name, []).append(gts)
                        parts.setdefault(name[:-2] + "PLOIDY", []).append(ploidy)
                    else:
                        parts.setdefault(name, []).append(_float_values(column))
                batches.append(batch.select(kept))
        except pa.ArrowInvalid as error:
            raise _Unparsable(str(error), "conversion error" in str(error)) from error
    arrays = {name: np.concatenate(values) for name, values in parts.items()}
    for name in per_sample:  # no records
        if name not in arrays:
            arrays[name] = np.zeros(0, dtype=np.int8 if name.endswith("\tGT") else float)
            if name.endswith("\tGT"):
                arrays[name[:-2] + "PLOIDY"] = np.zeros(0, dtype=np.int8)
    return _Query(pa.Table.from_batches(batches, schema=schema), arrays)


# Inputs (VCF text, plain or BGZF) of at least this many bytes are read in two halves, each
# through its own `bcftools norm | bcftools query` (two cores); the halves meet at a record
# boundary, so together they give the records in file order.
SPLIT_BYTES = 1 << 23


@dataclass
class _Half:
    """What one pipeline reads on stdin: `head`, the file's bytes start..stop, `tail`."""

    head: bytes
    path: str
    start: int
    stop: int
    tail: bytes = b""

    def feed(self, sink: io.BufferedIOBase) -> None:
        try:
            sink.write(self.head)
            with open(self.path, "rb") as handle:
                handle.seek(self.start)
                left = self.stop - self.start
                while left > 0:
                    chunk = handle.read(min(left, 1 << 20))
                    if not chunk:
                        break
                    sink.write(chunk)
                    left -= len(chunk)
            sink.write(self.tail)
        except BrokenPipeError:
            pass  # the pipeline stopped early: its exit status and stderr say why
        finally:
            with suppress(BrokenPipeError):
                sink.close()


def _bgzf_addresses(fd: int, size: int) -> list[int] | None:
    """Start of every BGZF block (plus `size`), None if the file is not plain BGZF."""
    addresses, position = [], 0
    while position < size:
        head = os.pread(fd, 18, position)
        if head[:4] != b"\x1f\x8b\x08\x04" or head[10:14] != b"\x06\x00BC":
            return None
        addresses.append(position)
        position += int.from_bytes(head[16:18], "little") + 1
    return [*addresses, size]


def _inflate(fd: int, start: int, stop: int) -> bytes:
    """The text of the BGZF block at `start` (the next one starts at `stop`)."""
    return next(inflate_blocks(os.pread(fd, stop - start, start), start))[1]


class RecordText:
    """The records of a bgzipped VCF between two virtual offsets (`begin`, `end`: from the
    .tbi, the records of some contigs), behind the file's header (the bytes before virtual
    offset `header_end`). Read without `tabix`: the BGZF blocks are inflated here, once; the
    text is kept (in chunks of about TEXT_CHUNK bytes) for a second reading (the writer)."""

    def __init__(self, path: Path | str, header_end: int, begin: int, end: int) -> None:
        self.path, self.header_end, self.begin, self.end = str(path), header_end, begin, end
        self._kept: list[bytes] | None = None

    def _inflated(self, begin: int, end: int) -> Iterator[bytes]:
        """The text between virtual offsets `begin` and `end`, in chunks."""
        return text_between(self.path, begin, end, TEXT_CHUNK)

    def header(self) -> bytes:
        return b"".join(self._inflated(0, self.header_end))

    def chunks(self) -> Iterator[bytes]:
        """The records' text (kept once it has been read to the end)."""
        if self._kept is not None:
            yield from self._kept
            return
        kept = []
        for chunk in self._inflated(self.begin, self.end):
            kept.append(chunk)
            yield chunk
        self._kept = kept

    def feed(self, sink: io.BufferedIOBase) -> None:
        """Header and records to `sink` (a pipe into bcftools), which is then closed."""
        try:
            sink.write(self.header())
            for chunk in self.chunks():
                sink.write(chunk)
        except BrokenPipeError:
            pass  # the pipeline stopped early: its exit status and stderr say why
        finally:
            with suppress(BrokenPipeError):
                sink.close()


# RecordText's chunks (about the block size the writer merges at a time).
TEXT_CHUNK = 1 << 22


def _halves(path: Path | str, header: VcfHeader) -> list[_Half]:
    """The input as two halves (see SPLIT_BYTES), each behind the header (with its fixes);
    none for BCF, small or unusual files."""
    size = os.path.getsize(path)
    column_line = next((line for line in header.lines if line.startswith("#CHROM")), None)
    if size < SPLIT_BYTES or column_line is None:
        return []
    meta = [line for line in header.lines if line.startswith("##")]
    text = ("\n".join([*meta, *header.fixes, column_line]) + "\n").encode()
    with open(path, "rb") as handle:
        fd = handle.fileno()
        magic = os.pread(fd, 4, 0)
        if magic[:2] != b"\x1f\x8b":  # VCF text: cut at the line end past the middle
            head = handle.read(len(text) + (1 << 20))
            body = head.find(b"\n#CHROM") + 1
            body = head.find(b"\n", body) + 1 if body else 0
            if not body or head[:3] == b"BCF":
                return []
            handle.seek(body + (size - body) // 2)
            handle.readline()
            middle = handle.tell()
            if middle >= size:
                return []
            return [_Half(text, str(path), body, middle), _Half(text, str(path), middle, size)]
        addresses = _bgzf_addresses(fd, size)
        if addresses is None or len(addresses) < 4:
            return []
        # The header's end (block `first`, offset `skip`), then a block in the middle.
        before, first, skip = b"", 0, -1
        while first < len(addresses) - 1:
            block = _inflate(fd, addresses[first], addresses[first + 1])
            if first == 0 and block[:3] == b"BCF":
                return []
            window = before + block
            at = window.find(b"\n#CHROM")
            end = window.find(b"\n", at + 1) if at >= 0 else -1
            if end >= 0:
                skip = end + 1 - len(before)
                break
            before = window[-(1 << 16):]
            first += 1
        middle = int(np.searchsorted(addresses, size // 2))
        if not first < middle < len(addresses) - 2 or skip < 0:
            return []
        cut = _inflate(fd, addresses[middle], addresses[middle + 1])
        line_end = cut.find(b"\n") + 1
        if not line_end:
            return []
        start = _inflate(fd, addresses[first], addresses[first + 1])[skip:]
        return [
            _Half(compress_blocks(text + start), str(path), addresses[first + 1], addresses[middle],
                  compress_blocks(cut[:line_end]) + EOF),
            _Half(compress_blocks(text + cut[line_end:]), str(path), addresses[middle + 1], size),
        ]


def _feed(source: _Half | RecordText, sink: io.BufferedIOBase,
          failed: list[BaseException]) -> None:
    """`source.feed(sink)` in a feeder thread; what it raises goes to `failed` (for the
    reading thread to raise) instead of ending the thread with a traceback."""
    try:
        source.feed(sink)
    except Exception as error:
        failed.append(error)


def _query_table(path: Path | str, header: VcfHeader, samples: list[str], fmt: str,
                 columns: list[str], numeric_as_text: bool = False,
                 regions: list[str] | None = None, split: bool = True,
                 text: Path | RecordText | None = None) -> _Query | None:
    """Split alleles and query; None when records use contigs or tags the header does not
    declare (they are then added to `header.fixes`, so that the caller can run it again).
    `split=False` (with `regions`) queries the records as they are (see `read_variants`),
    and copies their text (with the header) to `text` if given."""
    with tempfile.TemporaryDirectory(prefix="helgenom-vcf-") as tmp_dir:
        tmp = Path(tmp_dir)
        query = (f" | bcftools query -s {shlex.quote(','.join(samples))}"
                 f" -f {shlex.quote(fmt)} -")
        halves: list[_Half] | list[RecordText] = [] if regions else _halves(path, header)
        if regions and not split and isinstance(text, RecordText):
            halves = [text]
            commands = [query.removeprefix(" | ")]
        elif regions and not split and text is not None:
            commands = [f"tabix -h {shlex.quote(str(path))} {shlex.join(regions)}"
                        f" | tee {shlex.quote(str(text))}{query}"]
        elif regions and not split:
            commands = [f"bcftools query -r {shlex.quote(','.join(regions))}"
                        f" -s {shlex.quote(','.join(samples))} -f {shlex.quote(fmt)}"
                        f" {shlex.quote(str(path))}"]
        else:
            split_command = split_alleles_command(path, header, tmp, regions=regions)
            commands = ([f"bcftools norm -m -any -Ou -{query}" for _ in halves]
                        or [split_command + query])

        def run(index: int) -> tuple[_Query | _Unparsable, int, str]:
            errors = tmp / f"stderr-{index}.txt"
            with errors.open("wb") as err:
                proc = subprocess.Popen(["bash", "-o", "pipefail", "-c", commands[index]],
                                        stdin=subprocess.PIPE if halves else None,
                                        stdout=subprocess.PIPE, stderr=err)
                assert proc.stdout is not None
                feeder = None
                failed: list[BaseException] = []
                if halves:
                    assert proc.stdin is not None
                    feeder = threading.Thread(target=_feed, args=(halves[index], proc.stdin,
                                                                  failed), daemon=True)
                    feeder.start()
                try:
                    outcome: _Query | _Unparsable = _parse_stream(proc.stdout, columns,
                                                                  numeric_as_text)
                except _Unparsable as error:
                    outcome = error
                finally:
                    proc.stdout.close()
                status = proc.wait()
                if feeder is not None:
                    feeder.join()
            if failed:  # the input could not be read (a BGZF block that does not inflate)
                raise failed[0]
            return outcome, status, errors.read_text(errors="replace")

        if len(commands) == 1:
            runs = [run(0)]
        else:
            with ThreadPoolExecutor(max_workers=len(commands)) as pool:
                runs = list(pool.map(run, range(len(commands))))
    messages = "".join(r[2] for r in runs)
    unreadable = read_error(messages)
    if unreadable:
        raise InputError([Problem(str(path), 0, "", "", "cannot be read to its end (truncated "
                                  f"or corrupt?): {unreadable}")])
    fixes = [template.format(name) for kind, (pattern, template) in UNDECLARED.items()
             for name in dict.fromkeys(pattern.findall(messages))
             if template.format(name) not in header.fixes]
    if fixes:
        header.fixes += fixes
        header.contigs += [f[len("##contig=<ID="):-1] for f in fixes if f.startswith("##contig")]
        return None
    if "Bad BCF record" in messages:
        raise InputError([Problem(str(path), 0, "", "", "bcftools cannot read some records: "
                                  + messages.split("Bad BCF record", 1)[1].splitlines()[0])])
    failed = [outcome for outcome, _, _ in runs if isinstance(outcome, _Unparsable)]
    if any(error.conversion for error in failed) and not numeric_as_text:
        # A FORMAT value that is not a number (GQ declared as a String, say): read them as
        # text and coerce, as pandas' to_numeric(errors="coerce") would.
        return _query_table(path, header, samples, fmt, columns, numeric_as_text=True,
                            regions=regions, split=split, text=text)
    for outcome, status, text in runs:
        if status != 0 and (not isinstance(outcome, _Unparsable) or status not in (141, -13)):
            last = text.strip().splitlines()[-1:]
            raise InputError([Problem(str(path), 0, "", "",
                                      f"bcftools could not read it: {' '.join(last)}")])
    if failed:
        raise InputError([Problem(str(path), 0, "", "", f"cannot parse the records: {failed[0]}")])
    parts = [outcome for outcome, _, _ in runs if isinstance(outcome, _Query)]
    if len(parts) == 1:
        return parts[0]
    return _Query(pa.concat_tables([q.table for q in parts]),
                  {name: np.concatenate([q.arrays[name] for q in parts])
                   for name in parts[0].arrays})


def read_variants(
    path: Path | str,
    samples: list[str],
    info_fields: list[str],
    header: VcfHeader | None = None,
    regions: list[str] | None = None,
    text: Path | RecordText | None = None,
) -> tuple[pd.DataFrame, Genotypes]:
    """Variant table (CHROM POS REF ALT QUAL FILTER + requested INFO) and sample genotypes.

    INFO fields absent from the header become empty columns (no error); FORMAT GQ/AD absent
    become NaN (the caller warns and skips those gates). `regions`: only the records of these
    contigs (an indexed input whose header needs no fixes; see `UndeclaredInRegions`); with
    `text` a path, their text (`tabix -h`) is kept there as it is read; with `text` a
    `RecordText` (which must hold the records of `regions`), it is what is read.
    """
    header = header or read_header(path)
    info_present = [f for f in info_fields if f in header.info]
    per_sample = ["GT"]
    per_sample += ["GQ"] if "GQ" in header.format else []
    per_sample += ["AD{0}", "AD{1}"] if "AD" in header.format else []
    fmt = "%CHROM\t%POS\t%REF\t%ALT\t%QUAL\t%FILTER"
    fmt += "".join(f"\t%INFO/{name}" for name in info_present)
    fmt += "[\t" + "\t".join(f"%{tag}" for tag in per_sample) + "]\n"
    columns = ["CHROM", "POS", "REF", "ALT", "QUAL", "FILTER", *info_present]
    columns += [f"{s}\t{tag}" for s in samples for tag in per_sample]
    # The records of `regions` are queried as they are (one bcftools instead of two); if any
    # holds several ALT alleles, they are read again through the allele split.
    query = _query_table(path, header, samples, fmt, columns, regions=regions,
                         split=not regions, text=text)
    if query is not None and regions and pc.any(pc.match_substring(
            pc.fill_null(query.table.column("ALT"), ""), ",")).as_py():
        query = _query_table(path, header, samples, fmt, columns, regions=regions)
    if query is None and regions:
        raise UndeclaredInRegions(header.fixes)
    if query is None:  # declared what was missing: once more
        query = _query_table(path, header, samples, fmt, columns)
    if query is None:
        raise InputError([Problem(str(path), 0, "header", "", "records use undeclared "
                                  f"contigs or tags even after declaring {header.fixes}")])
    arrow = query.table
    arrow = arrow.set_column(arrow.schema.get_field_index("FILTER"), "FILTER",
                             pc.fill_null(arrow.column("FILTER"), "."))
    n = arrow.num_rows
    table = arrow.to_pandas(split_blocks=True, self_destruct=True)
    del arrow
    for name in info_fields:
        if name not in table:
            table[name] = pd.NA
    arrays = query.arrays
    gts = Genotypes({}, {}, {}, {}, {})
    for s in samples:
        gts.gt[s], gts.ploidy[s] = arrays.pop(f"{s}\tGT"), arrays.pop(f"{s}\tPLOIDY")
        gts.gq[s] = arrays.pop(f"{s}\tGQ", None)
        gts.ref_depth[s] = arrays.pop(f"{s}\tAD{{0}}", None)
        gts.alt_depth[s] = arrays.pop(f"{s}\tAD{{1}}", None)
        for values in (gts.gq, gts.ref_depth, gts.alt_depth):
            if values[s] is None:
                values[s] = np.full(n, np.nan)
    return table, gts


def arrow_strings(column: pd.Series) -> pa.ChunkedArray | None:
    """A string column as Arrow large strings, without copying when it is Arrow-backed
    already; None if it holds anything but strings and NA."""
    try:
        values = column.array
        if hasattr(values, "__arrow_array__"):
            arrow = values.__arrow_array__()
        else:
            arrow = pa.array(column.to_numpy(dtype=object), from_pandas=True)
        if isinstance(arrow, pa.Array):
            arrow = pa.chunked_array([arrow])
        if pa.types.is_dictionary(arrow.type):
            arrow = arrow.cast(arrow.type.value_type)
        if not (pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type)
                or pa.types.is_null(arrow.type)):
            return None
        return arrow.cast(pa.large_string())
    except (pa.ArrowException, TypeError, ValueError):
        return None


def concat_variants(parts: list[tuple[pd.DataFrame, Genotypes]]) -> tuple[pd.DataFrame, Genotypes]:
    """Stack variant tables (e.g. small variants and SVs) and their genotypes row-wise."""
    if len(parts) == 1:
        table, gts = parts[0]
        return table.reset_index(drop=True), gts
    table = pd.concat([p[0] for p in parts], ignore_index=True)
    first = parts[0][1]
    gts = Genotypes(
        *(
            {s: np.concatenate([getattr(p[1], name)[s] for p in parts]) for s in first.gt}
            for name in ("gt", "ploidy", "gq", "ref_depth", "alt_depth")
        )
    )
    return table, gts
