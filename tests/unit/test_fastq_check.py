"""Broken FASTQs that fastp 0.23.2 reads with exit status 0 are caught after it.

Each case runs the real fastp (as the bwa_mem rule does) on a broken copy of a small
simulated unit and then `helgenom fastq-check`: a whole pair passes with its counts, every
broken one is an error naming the file.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helgenom.cli import main
from helgenom.qc.fastq import check_unit, count_records
from helpers import need_tools

PAIRS = 500


def fastq_text(prefix: str, pairs: int, mate: int) -> str:
    seq = "ACGTTGCAAC" * 10
    return "".join(f"@{prefix}{i}/{mate}\n{seq}\n+\n{'I' * len(seq)}\n" for i in range(pairs))


def write_gz(path: Path, text: str) -> Path:
    with gzip.open(path, "wt") as handle:
        handle.write(text)
    return path


def fastp(tmp: Path, fq1: Path, fq2: Path) -> tuple[Path, Path, int]:
    """fastp as the bwa_mem rule runs it; its JSON, its log and its exit status."""
    json_path, log = tmp / "fastp.json", tmp / "fastp.log"
    with log.open("w") as err:
        proc = subprocess.run(["fastp", "--in1", str(fq1), "--in2", str(fq2), "--stdout",
                               "--detect_adapter_for_pe", "--thread", "2", "--json",
                               str(json_path), "--html", str(tmp / "fastp.html")],
                              stdout=subprocess.DEVNULL, stderr=err, timeout=120)
    return json_path, log, proc.returncode


def good_pair(tmp: Path) -> tuple[Path, Path]:
    return (write_gz(tmp / "u_R1.fastq.gz", fastq_text("r", PAIRS, 1)),
            write_gz(tmp / "u_R2.fastq.gz", fastq_text("r", PAIRS, 2)))


def truncate(path: Path, fraction: float = 0.6) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])


def truncated_gzip(tmp: Path) -> tuple[Path, Path]:
    fq1, fq2 = good_pair(tmp)
    truncate(fq2)
    return fq1, fq2


def fewer_r2_reads(tmp: Path) -> tuple[Path, Path]:
    fq1, _ = good_pair(tmp)
    return fq1, write_gz(tmp / "u_R2.fastq.gz", fastq_text("r", PAIRS - 40, 2))


def short_quality_line(tmp: Path) -> tuple[Path, Path]:
    fq1, fq2 = good_pair(tmp)
    lines = fastq_text("r", PAIRS, 1).splitlines(keepends=True)
    lines[4 * 200 + 3] = "IIII\n"  # record 201: quality shorter than its sequence
    return write_gz(fq1, "".join(lines)), fq2


def text_file(tmp: Path) -> tuple[Path, Path]:
    _, fq2 = good_pair(tmp)
    readme = tmp / "u_R1.fastq.gz"
    readme.write_text("These are not reads.\nJust a README someone saved here.\n" * 20)
    return readme, fq2


def empty_unit(tmp: Path) -> tuple[Path, Path]:
    return write_gz(tmp / "u_R1.fastq.gz", ""), write_gz(tmp / "u_R2.fastq.gz", "")


@pytest.mark.parametrize(("make", "broken", "expected"), [
    (truncated_gzip, "u_R2.fastq.gz", "truncated"),
    (fewer_r2_reads, "u_R2.fastq.gz", f"{PAIRS - 40} reads, but its R1"),
    (short_quality_line, "u_R1.fastq.gz", f"fastp read 200 of its {PAIRS} reads"),
    (text_file, "u_R1.fastq.gz", "not FASTQ"),
    (empty_unit, "u_R1.fastq.gz", "no reads (empty unit)"),
])
def test_broken_unit_that_fastp_passes_is_an_error_naming_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        make: Callable[[Path], tuple[Path, Path]], broken: str, expected: str) -> None:
    need_tools("fastp")
    fq1, fq2 = make(tmp_path)
    json_path, log, status = fastp(tmp_path, fq1, fq2)
    out = tmp_path / "check.json"
    code = main(["fastq-check", "--fq1", str(fq1), "--fq2", str(fq2), "--fastp-json",
                 str(json_path), "--fastp-log", str(log), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(tmp_path / broken) in err and expected in err, err
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob("check.json*"))
    # fastp itself did not fail on these (the reason for the check), except where it can't
    # even start: the empty and text files.
    if make in (truncated_gzip, fewer_r2_reads, short_quality_line):
        assert status == 0


def test_whole_unit_passes_with_its_counts(tmp_path: Path) -> None:
    need_tools("fastp")
    fq1, fq2 = good_pair(tmp_path)
    json_path, log, status = fastp(tmp_path, fq1, fq2)
    assert status == 0
    out = tmp_path / "check.json"
    assert main(["fastq-check", "--fq1", str(fq1), "--fq2", str(fq2), "--fastp-json",
                 str(json_path), "--fastp-log", str(log), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["read_pairs"] == PAIRS and result["fastp_reads"] == [PAIRS, PAIRS]


def test_counts_plain_multi_member_and_unterminated_fastq(tmp_path: Path) -> None:
    text = fastq_text("r", 30, 1)
    plain = tmp_path / "plain.fastq"
    plain.write_text(text[:-1])  # no final line break
    assert count_records(plain).records == 30 and not count_records(plain).compressed
    members = tmp_path / "members.fastq.gz"  # two gzip members, as bgzip or cat write them
    members.write_bytes(gzip.compress(text.encode()) + gzip.compress(text.encode()))
    assert count_records(members).records == 60 and count_records(members).compressed


def test_fastp_counts_must_match(tmp_path: Path) -> None:
    """A fastp JSON from another unit (or a run cut short) does not match the files."""
    fq1, fq2 = good_pair(tmp_path)
    report = tmp_path / "fastp.json"
    report.write_text(json.dumps({"read1_before_filtering": {"total_reads": PAIRS - 1},
                                  "read2_before_filtering": {"total_reads": PAIRS - 1}}))
    with pytest.raises(Exception, match=f"fastp read {PAIRS - 1} of its {PAIRS} reads"):
        check_unit(fq1, fq2, report)
