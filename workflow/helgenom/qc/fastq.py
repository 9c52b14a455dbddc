"""A unit's FASTQ pair checked against what fastp read from it.

fastp 0.23.2 exits 0 on a truncated gzip, on an R2 with fewer reads than its R1, on a quality
line shorter than its sequence (it logs an error and stops reading the unit) and on a text
file in place of reads. So after fastp, each file of the pair is read here in one stream
(ISA-L inflate, records counted by their line breaks): the gzip must be whole (every member
complete, CRC and size checked), the text must be FASTQ records of 4 lines starting with '@'
and '+', both files must hold the same number of records, at least one, and fastp must have
read all of them (its JSON `read1_before_filtering`/`read2_before_filtering` totals), with no
error in its log. A unit that fails is an error naming the file; its reads never reach the
family.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from isal import isal_zlib

from helgenom.errors import InputError, Problem

CHUNK_BYTES = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
# fastp reports problems in its log as "ERROR: ..." (0.23.x) and sometimes "error" lowercase.
FASTP_ERROR = re.compile(r"\berror\b", re.IGNORECASE)


@dataclass(frozen=True)
class FastqCount:
    path: str
    records: int
    compressed: bool


def _text_chunks(path: Path):
    """The decompressed text of `path` (gzip, any number of members, or plain) in chunks;
    ValueError when the gzip is truncated or corrupt."""
    with path.open("rb") as handle:
        head = handle.read(2)
        handle.seek(0)
        if head != GZIP_MAGIC:
            while chunk := handle.read(CHUNK_BYTES):
                yield chunk
            return
        inflater = isal_zlib.decompressobj(wbits=31)
        while True:
            chunk = handle.read(CHUNK_BYTES)
            if not chunk:
                break
            while chunk:
                try:
                    out = inflater.decompress(chunk)
                except (isal_zlib.error, zlib.error) as error:
                    raise ValueError(f"corrupt gzip data ({error})") from None
                if out:
                    yield out
                if inflater.eof:  # a member ended: the next one (bgzip, cat'ed gzips) follows
                    chunk = inflater.unused_data
                    inflater = isal_zlib.decompressobj(wbits=31)
                    if not chunk:
                        chunk = handle.read(CHUNK_BYTES)
                        if not chunk:
                            return
                else:
                    chunk = b""
        if not inflater.eof:
            raise ValueError("the gzip stream ends early (truncated file?)")


def count_records(path: Path | str) -> FastqCount:
    """Records of a FASTQ(.gz) file, checked for whole gzip and FASTQ line structure
    (record starts '@', third line '+'); InputError naming the file otherwise."""
    path = Path(path)
    lines = 0
    first = b""
    last_byte = b""
    compressed = False
    try:
        with path.open("rb") as handle:
            compressed = handle.read(2) == GZIP_MAGIC
        for chunk in _text_chunks(path):
            if len(first) < 4096:
                first += chunk[:4096]
            lines += chunk.count(b"\n")
            last_byte = chunk[-1:]
    except OSError as error:
        raise InputError([Problem(str(path), None, None, None,
                                  f"cannot read: {error.strerror}")]) from None
    except ValueError as error:
        raise InputError([Problem(str(path), None, None, None, str(error))]) from None
    if last_byte and last_byte != b"\n":
        lines += 1  # a last line without its line break
    head = first.split(b"\n", 4)
    if lines and (not head[0].startswith(b"@") or len(head) < 3 or not head[2].startswith(b"+")):
        shown = head[0][:40].decode("utf-8", "replace")
        raise InputError([Problem(str(path), 1, None, shown,
                                  "not FASTQ: a record starts with '@' and its third line "
                                  "with '+'")])
    if lines % 4:
        raise InputError([Problem(str(path), lines, None, None,
                                  f"{lines} lines: not a whole number of 4-line FASTQ records "
                                  "(truncated file?)")])
    return FastqCount(str(path), lines // 4, compressed)


def _fastp_totals(json_path: Path) -> tuple[int, int]:
    data = json.loads(json_path.read_text())
    return (int(data["read1_before_filtering"]["total_reads"]),
            int(data.get("read2_before_filtering", {}).get("total_reads", 0)))


def check_unit(fq1: Path | str, fq2: Path | str, fastp_json: Path | str,
               fastp_log: Path | str | None = None) -> dict[str, object]:
    """The unit's counts when its pair is whole and fastp read all of it; InputError with
    every problem found (naming the file) otherwise."""
    problems: list[Problem] = []
    counts: list[FastqCount] = []
    for path in (fq1, fq2):
        try:
            counts.append(count_records(path))
        except InputError as error:
            problems += error.problems
    if problems:
        raise InputError(problems)
    r1, r2 = counts
    if r1.records == 0:
        problems.append(Problem(r1.path, None, None, None, "no reads (empty unit)"))
    if r1.records != r2.records:
        problems.append(Problem(r2.path, None, None, str(r2.records),
                                f"{r2.records} reads, but its R1 {r1.path} has {r1.records}: "
                                "the pair does not match (truncated or wrong file?)"))
    log_errors: list[str] = []
    if fastp_log and Path(fastp_log).is_file():
        log_errors = [line.strip() for line in Path(fastp_log).read_text(errors="replace")
                      .splitlines() if FASTP_ERROR.search(line)]
    try:
        read1, read2 = _fastp_totals(Path(fastp_json))
    except (OSError, ValueError, KeyError) as error:
        problems.append(Problem(str(fastp_json), None, None, None,
                                f"no fastp read counts ({error})"))
    else:
        for count, read in ((r1, read1), (r2, read2)):
            if not problems and read != count.records:
                why = f"; fastp's log: {log_errors[0]}" if log_errors else ""
                problems.append(Problem(count.path, None, None, str(count.records),
                                        f"fastp read {read} of its {count.records} reads "
                                        f"(malformed record?){why}"))
    if not problems and log_errors:
        problems.append(Problem(str(fastp_log), None, None, None,
                                f"fastp reported an error: {log_errors[0]}"))
    if problems:
        raise InputError(problems)
    return {"read_pairs": r1.records, "files": [asdict(c) for c in counts],
            "fastp_reads": [read1, read2]}
