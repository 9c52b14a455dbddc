"""`helgenom samplesheet`: units.tsv and a samples.tsv template from a folder of FASTQs."""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import pytest
from helgenom.cli.samplesheet import register
from helgenom.errors import InputError
from helgenom.sheets.builder import build_sheets, read_header, scan_fastq_dir
from helgenom.sheets.samplesheet import load_samples, load_units

FC1, FC2 = "HV2LKDSX3", "H5TTGBGXY"


def fastq(directory: Path, name: str, flowcell: str = FC1, lane: int = 1, read: int | None = None,
          instrument: str = "A00123") -> Path:
    """A one-read gzipped FASTQ with a Casava 1.8 header (read number from the name)."""
    read = read if read is not None else int(name.split("_R")[-1][0])
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"@{instrument}:42:{flowcell}:{lane}:1101:1000:2000 {read}:N:0:ACGTACGT+TTGCAAGC"
    path.write_bytes(gzip.compress(f"{header}\nACGTN\n+\nFFFF#\n".encode()))
    return path


def pair(directory: Path, sample: str, number: int, lane: int, flowcell: str = FC1) -> None:
    for read in (1, 2):
        fastq(directory, f"{sample}_S{number}_L{lane:03d}_R{read}_001.fastq.gz", flowcell, lane)


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["samplesheet", *argv])
    return args.func(args)


def problems_of(directory: Path) -> list[str]:
    return [str(p) for p in scan_fastq_dir(directory)[1]]


def test_valid_multi_lane_multi_sample_folder(tmp_path: Path, capsys) -> None:
    runs = tmp_path / "fastq"
    for number, sample in enumerate(["FAM1-P", "FAM1-F", "FAM1-M"], start=1):
        for lane in (1, 2):
            pair(runs / "run1", sample, number, lane)
    pair(runs / "run2" / "deep", "FAM1-P", 1, 3, flowcell=FC2)  # a top-up run, nested folder
    fastq(runs / "run1", "Undetermined_S0_L001_R1_001.fastq.gz")
    fastq(runs / "run1", "FAM1-P_S1_L001_I1_001.fastq.gz", read=3)
    units, samples = tmp_path / "out" / "units.tsv", tmp_path / "out" / "samples.tsv"
    assert run_cli("--fastq-dir", str(runs), "--units-out", str(units), "--samples-out",
                   str(samples), "--gmc", "karolinska") == 0
    out, err = capsys.readouterr()
    assert "3 samples, 7 units from 14 FASTQ files" in out
    assert f"flowcells {FC2}, {FC1}" in out and "instruments A00123" in out
    assert "fill family, sex, phenotype (and father" in out
    assert "Undetermined_S0_L001_R1_001.fastq.gz (reads of no sample)" in err
    assert "FAM1-P_S1_L001_I1_001.fastq.gz (index reads)" in err
    rows = [line.split("\t") for line in units.read_text().splitlines()
            if not line.startswith("#")]
    assert rows[0] == ["sample", "unit", "fq1", "fq2"]
    assert [r[:2] for r in rows[1:]] == [
        ["FAM1-P", f"{FC2}-L003"], ["FAM1-P", f"{FC1}-L001"], ["FAM1-P", f"{FC1}-L002"],
        ["FAM1-F", f"{FC1}-L001"], ["FAM1-F", f"{FC1}-L002"],
        ["FAM1-M", f"{FC1}-L001"], ["FAM1-M", f"{FC1}-L002"]]
    assert rows[1][2] == str((runs / "run2/deep/FAM1-P_S1_L003_R1_001.fastq.gz").resolve())
    assert all(Path(r[2]).is_absolute() and r[3].endswith("_R2_001.fastq.gz") for r in rows[1:])
    # units.tsv is a valid sheet as it is; the template lists the samples and fails validation
    # on exactly the cells the facility has to fill.
    loaded, found = load_units(units, ["FAM1-P", "FAM1-F", "FAM1-M"], tmp_path)
    assert not found and len(loaded) == 7
    template, found = load_samples(samples)
    assert [s.sample for s in template] == ["FAM1-P", "FAM1-F", "FAM1-M"]
    assert {s.gmc for s in template} == {"karolinska"}
    assert sorted({p.column for p in found}) == ["family", "phenotype", "sex"]
    assert {p.line for p in found} == {3, 4, 5}


def test_family_option_fills_the_family(tmp_path: Path) -> None:
    pair(tmp_path / "fq", "S-1", 1, 1)
    build_sheets(tmp_path / "fq", tmp_path / "u.tsv", tmp_path / "s.tsv", family="FAM9")
    template, found = load_samples(tmp_path / "s.tsv")
    assert template[0].family == "FAM9"
    assert sorted({p.column for p in found}) == ["gmc", "phenotype", "sex"]


def test_missing_mates_are_named(tmp_path: Path) -> None:
    pair(tmp_path, "A", 1, 1)
    fastq(tmp_path, "B_S2_L001_R1_001.fastq.gz")
    fastq(tmp_path, "C_S3_L002_R2_001.fastq.gz", lane=2)
    found = problems_of(tmp_path)
    assert len(found) == 2
    assert found[0].startswith(f"{tmp_path}/B_S2_L001_R1_001.fastq.gz: no R2 mate: expected "
                               f"{tmp_path}/B_S2_L001_R2_001.fastq.gz")
    assert found[1].endswith(f"no R1 mate: expected {tmp_path}/C_S3_L002_R1_001.fastq.gz")


def test_header_lane_must_match_the_file_name(tmp_path: Path) -> None:
    fastq(tmp_path, "A_S1_L001_R1_001.fastq.gz", lane=1)
    fastq(tmp_path, "A_S1_L001_R2_001.fastq.gz", lane=2)
    assert problems_of(tmp_path) == [f"{tmp_path}/A_S1_L001_R2_001.fastq.gz:1: the read header "
                                     "says lane 2 but the file name says L001"]


def test_mates_must_agree_on_flowcell(tmp_path: Path) -> None:
    fastq(tmp_path, "A_S1_L001_R1_001.fastq.gz", flowcell=FC1)
    fastq(tmp_path, "A_S1_L001_R2_001.fastq.gz", flowcell=FC2)
    [problem] = problems_of(tmp_path)
    assert problem.startswith(f"{tmp_path}/A_S1_L001_R1_001.fastq.gz:1: R1 and R2 are not mates")
    assert f"flowcell {FC1} lane 1, its R2 {tmp_path}/A_S1_L001_R2_001.fastq.gz" in problem
    assert f"flowcell {FC2} lane 1" in problem


def test_r2_that_is_a_copy_of_r1(tmp_path: Path) -> None:
    fastq(tmp_path, "A_S1_L001_R1_001.fastq.gz")
    fastq(tmp_path, "A_S1_L001_R2_001.fastq.gz", read=1)
    [problem] = problems_of(tmp_path)
    assert "R2_001.fastq.gz:1: its reads are read 1 like those of" in problem


def test_invalid_sample_name_suggests_a_fix(tmp_path: Path) -> None:
    pair(tmp_path, "FAM1.P+x", 4, 1)
    pair(tmp_path, "_tmp", 5, 1)
    found = problems_of(tmp_path)
    assert len(found) == 2
    assert found[0].startswith(f"{tmp_path}/FAM1.P+x_S4_L001_R1_001.fastq.gz: value 'FAM1.P+x': "
                               "invalid sample name")
    assert "(e.g. 'FAM1-P-x')" in found[0] and "(e.g. 'tmp')" in found[1]


def test_duplicate_sample_unit(tmp_path: Path) -> None:
    pair(tmp_path / "copy1", "A", 1, 1)
    pair(tmp_path / "copy2", "A", 1, 1)
    pair(tmp_path / "copy2", "B", 2, 1)  # another sample on the same lane is fine
    [problem] = problems_of(tmp_path)
    assert problem == (f"{tmp_path}/copy2/A_S1_L001_R1_001.fastq.gz: duplicate unit {FC1}-L001: "
                       f"sample 'A' on flowcell {FC1} lane 1 is also in "
                       f"{tmp_path}/copy1/A_S1_L001_R1_001.fastq.gz; keep one copy of the files")


@pytest.mark.parametrize(("content", "expected"), [
    (gzip.compress(b""), "empty FASTQ (no reads)"),
    (b"@r1\nACGT\n+\nFFFF\n", "cannot read the first read as gzip"),
    (gzip.compress(b"@SRR123.1 1 length=150\nACGT\n+\nFFFF\n"),
     "first read header '@SRR123.1 1 length=150' is not in Casava 1.8 form"),
])
def test_unreadable_headers(tmp_path: Path, content: bytes, expected: str) -> None:
    pair(tmp_path, "A", 1, 1)
    (tmp_path / "A_S1_L001_R2_001.fastq.gz").write_bytes(content)
    [problem] = problems_of(tmp_path)
    assert problem.startswith(f"{tmp_path}/A_S1_L001_R2_001.fastq.gz:1: {expected}")


def test_read_header_fields(tmp_path: Path) -> None:
    path = fastq(tmp_path, "A_S1_L004_R2_001.fastq.gz", lane=4, instrument="NB501")
    header = read_header(path)
    assert (header.instrument, header.run, header.flowcell, header.lane, header.read) == (
        "NB501", "42", FC1, 4, 2)


def test_badly_named_and_empty_folders(tmp_path: Path) -> None:
    fastq(tmp_path / "a", "sample1_R1.fastq.gz", read=1)
    assert "not named like an Illumina FASTQ" in problems_of(tmp_path / "a")[0]
    (tmp_path / "b").mkdir()
    assert problems_of(tmp_path / "b") == [
        f"{tmp_path}/b: no *_R1_001.fastq.gz / *_R2_001.fastq.gz files in the folder or its "
        "subfolders"]
    assert problems_of(tmp_path / "c") == [f"{tmp_path}/c: not a folder"]


def test_all_problems_are_reported_together_and_nothing_is_written(tmp_path: Path, capsys
                                                                   ) -> None:
    fastq(tmp_path / "fq", "A_S1_L001_R1_001.fastq.gz")
    pair(tmp_path / "fq", "B.1", 2, 1)
    pair(tmp_path / "fq", "C", 3, 1)
    fastq(tmp_path / "fq", "C_S3_L002_R1_001.fastq.gz", lane=3)
    fastq(tmp_path / "fq", "C_S3_L002_R2_001.fastq.gz", lane=2)
    units = tmp_path / "units.tsv"
    code = run_cli("--fastq-dir", str(tmp_path / "fq"), "--units-out", str(units),
                   "--samples-out", str(tmp_path / "samples.tsv"), "--family", "bad family")
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("4 problems in ")
    for text in ("no R2 mate", "invalid sample name", "says lane 3 but the file name says L002",
                 "--family: value 'bad family': must be an ID"):
        assert text in err
    assert not units.exists() and not (tmp_path / "samples.tsv").exists()


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    pair(tmp_path / "fq", "A", 1, 1)
    units, samples = tmp_path / "units.tsv", tmp_path / "samples.tsv"
    units.write_text("keep me\n")
    with pytest.raises(InputError) as error:
        build_sheets(tmp_path / "fq", units, samples)
    assert str(error.value).endswith(f"{units}: already exists; use --force to overwrite")
    assert units.read_text() == "keep me\n" and not samples.exists()
    build_sheets(tmp_path / "fq", units, samples, force=True)
    assert "\tA\t" in samples.read_text() and f"A\t{FC1}-L001\t" in units.read_text()


def test_symlinked_folders_are_followed_and_paths_kept(tmp_path: Path) -> None:
    pair(tmp_path / "storage" / "run7", "A", 1, 2)
    (tmp_path / "fq").mkdir()
    (tmp_path / "fq" / "run7").symlink_to(tmp_path / "storage" / "run7")
    build_sheets(tmp_path / "fq", tmp_path / "units.tsv", None)
    assert f"A\t{FC1}-L002\t{tmp_path}/fq/run7/A_S1_L002_R1_001.fastq.gz\t" in (
        tmp_path / "units.tsv").read_text()


def test_invalid_sample_name_is_reported_even_when_its_files_are_broken(tmp_path: Path) -> None:
    fastq(tmp_path, "A.1_S1_L001_R1_001.fastq.gz")
    found = problems_of(tmp_path)
    assert len(found) == 2
    assert "no R2 mate" in found[0] and "value 'A.1': invalid sample name" in found[1]
