"""Calling regions (helgenom.io.regions): the FASTA's N runs, their cache, the splitter that
cuts contigs at them, region names, contig selection and the checked gather."""

from __future__ import annotations

import itertools
import os
import random
import re
import subprocess
from pathlib import Path

import pytest
from helgenom.errors import Problem
from helgenom.io import regions
from helgenom.io.reference import calling_contigs
from helgenom.io.regions import (
    CallRegion,
    GatherError,
    cache_paths,
    cached_gaps,
    call_regions,
    calling_layout,
    find_gaps,
    gather_calls,
    mito_contig,
    scatter_problems,
    split_contig,
)
from helgenom.sheets.samplesheet import validate_config
from helpers import need_tools


def write_fasta(path: Path, contigs: dict[str, str], width: int = 7, newline: str = "\n"
                ) -> Path:
    text = ""
    for name, seq in contigs.items():
        text += f">{name} some description{newline}"
        if width:
            text += "".join(seq[i:i + width] + newline for i in range(0, len(seq), width))
        elif seq:
            text += seq + newline
    path.write_bytes(text.encode())
    return path


def naive_gaps(seq: str, min_length: int) -> list[tuple[int, int]]:
    runs = [(m.start(), m.end()) for m in re.finditer("[Nn]+", seq)]
    return [(s, e) for s, e in runs if e - s >= min_length or (s == 0 and e == len(seq))]


# --- N runs ---------------------------------------------------------------------------------


def test_gaps_at_edges_across_lines_in_either_case(tmp_path):
    seq = "N" * 12 + "ACGT" * 5 + "nnnNNnnn" + "ACG" + "N" * 4 + "AC" + "N" * 9
    fasta = write_fasta(tmp_path / "g.fa", {"chr1": seq, "chr2": "ACGTACGT"})
    gaps, lengths = find_gaps(fasta, min_length=5)
    assert lengths == {"chr1": len(seq), "chr2": 8}
    assert gaps == {"chr1": [(0, 12), (32, 40), (49, 58)], "chr2": []}


def test_runs_shorter_than_the_minimum_are_no_gaps_but_a_contig_of_only_n_is(tmp_path):
    fasta = write_fasta(tmp_path / "g.fa", {"a": "ACGT" + "N" * 999 + "ACGT" + "N" * 1000 + "A",
                                            "allN": "N" * 30, "empty": "", "b": "ACGT"})
    gaps, lengths = find_gaps(fasta)
    assert gaps == {"a": [(1007, 2007)], "allN": [(0, 30)], "empty": [], "b": []}
    assert lengths == {"a": 2008, "allN": 30, "empty": 0, "b": 4}


@pytest.mark.parametrize(("width", "newline", "block"), [(60, "\n", 64), (7, "\r\n", 50),
                                                         (0, "\n", 37), (60, "\n", 1 << 20)])
def test_gaps_equal_a_plain_scan_whatever_the_blocks_and_lines(tmp_path, monkeypatch, width,
                                                                 newline, block):
    """Blocks smaller than a line, runs across block and line ends, one-line contigs."""
    monkeypatch.setattr(regions, "BLOCK_BYTES", block)
    rng = random.Random(width * 1000 + block)
    contigs = {}
    for number in range(5):
        parts = []
        for _ in range(rng.randint(0, 12)):
            parts.append("".join(rng.choice("ACGTacgt") for _ in range(rng.randint(1, 80))))
            parts.append(rng.choice("Nn") * rng.randint(1, 60))
        contigs[f"c{number}"] = "".join(parts)
    contigs["allN"] = "N" * 150
    fasta = write_fasta(tmp_path / "g.fa", contigs, width=width, newline=newline)
    gaps, lengths = find_gaps(fasta, min_length=20)
    assert lengths == {name: len(seq) for name, seq in contigs.items()}
    assert gaps == {name: naive_gaps(seq, 20) for name, seq in contigs.items()}


def test_a_contig_named_twice_or_no_header_is_refused(tmp_path):
    from helgenom.errors import InputError

    (tmp_path / "twice.fa").write_text(">x\nACGT\n>x desc\nACGT\n")
    with pytest.raises(InputError, match="twice") as raised:
        find_gaps(tmp_path / "twice.fa")
    assert raised.value.problems[0].line == 3
    (tmp_path / "b.fa").write_text("ACGT\n")
    with pytest.raises(InputError, match="before the first"):
        find_gaps(tmp_path / "b.fa")


# --- the cache ------------------------------------------------------------------------------


def test_cache_next_to_the_fasta_is_reused_until_the_fasta_changes(tmp_path, monkeypatch):
    (tmp_path / "ref").mkdir()
    fasta = write_fasta(tmp_path / "ref" / "g.fa", {"c": "AC" * 600 + "N" * 1500 + "GT" * 600})
    first = cached_gaps(fasta, tmp_path / "run")
    beside, fallback = cache_paths(fasta, tmp_path / "run")
    assert beside == Path(f"{fasta}.ngaps.bed") and beside.is_file()
    assert not fallback.exists() and first == ({"c": [(1200, 2700)]}, {"c": 3900})
    assert [p.name for p in beside.parent.iterdir()] == ["g.fa", "g.fa.ngaps.bed"]

    def no_scan(*args, **kwargs):
        raise AssertionError("rescanned")

    monkeypatch.setattr(regions, "find_gaps", no_scan)
    assert cached_gaps(fasta, tmp_path / "run") == first
    monkeypatch.undo()
    write_fasta(fasta, {"c": "AC" * 600 + "N" * 1500 + "GT" * 600, "d": "N" * 2000})
    stat = fasta.stat()
    os.utime(fasta, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cached_gaps(fasta, tmp_path / "run")[0] == {"c": [(1200, 2700)], "d": [(0, 2000)]}
    beside.write_text("garbage\n")  # a damaged cache is rebuilt
    assert cached_gaps(fasta, tmp_path / "run")[0]["d"] == [(0, 2000)]


def test_cache_goes_under_the_run_when_the_fasta_folder_cannot_be_written(tmp_path, monkeypatch):
    (tmp_path / "ref").mkdir()
    fasta = write_fasta(tmp_path / "ref" / "g.fa", {"c": "ACGT" * 100 + "N" * 1000})
    beside, fallback = cache_paths(fasta, tmp_path / "run")
    write = regions._write_cache

    def read_only(path, *args):
        if path == beside:
            raise PermissionError(13, "Permission denied", str(path))
        write(path, *args)

    monkeypatch.setattr(regions, "_write_cache", read_only)
    assert cached_gaps(fasta, tmp_path / "run")[0] == {"c": [(400, 1400)]}
    assert fallback.is_file() and not beside.exists()
    assert fallback.parent == tmp_path / "run" / ".helgenom" / "ngaps"
    monkeypatch.setattr(regions, "find_gaps", lambda *a, **k: pytest.fail("rescanned"))
    assert cached_gaps(fasta, tmp_path / "run")[0] == {"c": [(400, 1400)]}


# --- splitting ------------------------------------------------------------------------------


def covered(pieces: list[tuple[int, int]]) -> list[int]:
    return [pos for start, end in pieces for pos in range(start, end + 1)]


def test_without_gaps_a_contig_is_cut_at_even_targets():
    assert split_contig(100, [], 25) == [(1, 25), (26, 50), (51, 75), (76, 100)]
    assert split_contig(100, [], 30) == [(1, 33), (34, 67), (68, 100)]


def test_a_cut_goes_to_the_middle_of_the_nearest_gap_within_the_tolerance():
    # Targets 1000 and 2000 (size 1000, tolerance 250): a gap near 1000, none near 2000.
    gaps = [(500, 560), (1100, 1200), (1220, 1240), (1700, 1720)]
    pieces = split_contig(3000, gaps, 1000)
    assert pieces == [(1, 1150), (1151, 2000), (2001, 3000)]
    # Only gaps: the second cut is not made, the region runs on.
    assert split_contig(3000, gaps, 1000, gaps_only=True) == [(1, 1150), (1151, 3000)]


def test_gaps_at_contig_edges_and_all_n_contigs():
    # Telomere-like gaps: regions wholly inside one are dropped, no cut at 0 or the end.
    pieces = split_contig(10_000, [(0, 3000), (9000, 10_000)], 1000)
    assert pieces[0][0] > 1 and pieces[-1][1] < 10_000
    assert covered(pieces)[0] <= 3001 and covered(pieces)[-1] >= 9000
    assert split_contig(5000, [(0, 5000)], 1000) == []
    assert split_contig(5000, [(0, 5000)], 0) == []


def test_tiny_contigs_and_size_zero_are_one_region():
    assert split_contig(1, [], 1000) == [(1, 1)]
    assert split_contig(1400, [], 1000) == [(1, 1400)]
    assert split_contig(10**8, [(100, 2000)], 0) == [(1, 10**8)]
    assert split_contig(0, [], 1000) == []


@pytest.mark.parametrize("seed", range(30))
def test_regions_cover_each_contig_once_in_order(seed):
    rng = random.Random(seed)
    length = rng.randint(1, 200_000)
    gaps, position = [], 0
    while position < length:
        position += rng.randint(0, 30_000)
        end = min(length, position + rng.randint(1, 20_000))
        if position < end:
            gaps.append((position, end))
        position = end + 1
    size = rng.choice([0, 500, 5_000, 20_000, 300_000])
    gaps_only = rng.random() < 0.3
    pieces = split_contig(length, gaps, size, gaps_only=gaps_only)
    positions = covered(pieces)
    assert positions == sorted(set(positions))  # in order, none twice
    in_gap = {p for s, e in gaps for p in range(s + 1, e + 1)}
    assert set(range(1, length + 1)) - set(positions) <= in_gap  # only gaps are left out
    for (_, end), (start, _) in itertools.pairwise(pieces):
        # Consecutive, or the left-out stretch is gap (a dropped region).
        assert start == end + 1 or set(range(end + 1, start)) <= in_gap
    if size and length >= 3 * size and not gaps_only:
        assert max(e - s + 1 for s, e in pieces) <= 2 * size + 1


# --- names and region strings ---------------------------------------------------------------


def test_region_names_are_safe_unique_and_ordered():
    contigs = [("chr1", 300), ("HLA-A*01:01:01:01", 100), ("HLA-A_01_01_01_01", 100),
               ("chrX", 50)]
    found = call_regions(contigs, {}, 100)
    assert [r.name for r in found] == [
        "chr1.0001", "chr1.0002", "chr1.0003", "HLA-A_01_01_01_01_2.0001",
        "HLA-A_01_01_01_01_3.0001", "chrX.0001"]
    assert all(re.fullmatch(regions.REGION_NAME, r.name) for r in found)
    assert [r.name for r in call_regions([("c", 12_000)], {}, 1)][-1] == "c.12000"


def test_region_strings_for_bcftools_and_freebayes_padded_within_the_contig():
    region = CallRegion("chr1.0002", "chr1", 1001, 2000, 2500)
    assert (region.bcftools(), region.freebayes(), region.length) == (
        "chr1:1001-2000", "chr1:1000-2000", 1000)
    assert (region.bcftools(300), region.freebayes(300)) == ("chr1:701-2300", "chr1:700-2300")
    assert (region.bcftools(5000), region.freebayes(5000)) == ("chr1:1-2500", "chr1:0-2500")
    assert CallRegion("x", "HLA-A*01:01", 1, 5, 9).bcftools() == "{HLA-A*01:01}:1-5"


# --- contig selection -----------------------------------------------------------------------

GRCH38_LIKE = [*(f"chr{n}" for n in range(1, 23)), "chrX", "chrY", "chrM",
               "chr1_KI270706v1_random", "chrUn_KI270302v1", "chr1_KI270762v1_alt",
               "HLA-A*01:01:01:01", "chrEBV", "chr22_KI270879v1_alt"]


def test_default_contigs_are_the_primary_chromosomes(tmp_path):
    fasta = write_fasta(tmp_path / "g.fa", {name: "ACGT" for name in GRCH38_LIKE})
    contigs = calling_contigs(fasta, [])
    assert contigs == [*(f"chr{n}" for n in range(1, 23)), "chrX", "chrY", "chrM"]
    assert mito_contig(contigs) == "chrM" and mito_contig(["1", "MT"]) == "MT"
    assert mito_contig(["chr1"]) is None


def test_without_primary_names_alt_decoy_hla_and_unplaced_contigs_are_left_out(tmp_path):
    names = ["scaffold1", "scaffold2_alt", "hs37d5", "NC_007605_decoy", "HLA-B*07:02",
             "chrEBV", "Un_KN707606v1", "scaffold3_random", "scaffold4"]
    fasta = write_fasta(tmp_path / "g.fa", {name: "ACGT" for name in names})
    assert calling_contigs(fasta, []) == ["scaffold1", "scaffold4"]
    assert calling_contigs(fasta, ["HLA-B*07:02"]) == ["HLA-B*07:02"]  # asked for: called


def test_layout_follows_the_fasta_order_and_size_zero_reads_no_sequence(tmp_path):
    fasta = write_fasta(tmp_path / "g.fa", {"chr2": "A" * 3000, "chrM": "C" * 50,
                                            "chr1": "G" * 2000 + "N" * 1000 + "G" * 2000})
    found, order = calling_layout(fasta, ["chr1", "chr2"], 0, tmp_path)
    assert [r.name for r in found] == ["chr2.0001", "chr1.0001"] and order == ["chr2", "chrM",
                                                                                "chr1"]
    assert not Path(f"{fasta}.ngaps.bed").exists()
    found, _ = calling_layout(fasta, ["chr1", "chr2"], 0.002, tmp_path)
    assert [(r.contig, r.start, r.end) for r in found] == [
        ("chr2", 1, 1500), ("chr2", 1501, 3000), ("chr1", 1, 2500), ("chr1", 2501, 5000)]
    assert Path(f"{fasta}.ngaps.bed").is_file()


# --- config ---------------------------------------------------------------------------------


def _locate(path, value, message):
    return Problem("config.yaml", 3, ".".join(path), value, message, kind="key")


def test_scatter_size_is_zero_or_at_least_ten_kb():
    errors, _ = scatter_problems({"calling": {"scatter_mb": 0.001}}, ".", _locate)
    assert len(errors) == 1 and errors[0].column == "calling.scatter_mb"
    assert "0.001" in str(errors[0]) and "at least 0.01" in str(errors[0])
    for fine in (0, 0.01, 50):
        assert scatter_problems({"calling": {"scatter_mb": fine}}, ".", _locate) == ([], [])
    base = {"samples": "s.tsv", "units": "u.tsv", "reference": {"fasta": "g.fa",
                                                                  "gff3": "g.gff3"}}
    assert validate_config(base)["calling"]["scatter_mb"] == 50
    from helgenom.errors import InputError

    for bad in (-1, "big"):
        with pytest.raises(InputError, match=r"calling\.scatter_mb"):
            validate_config({**base, "calling": {"scatter_mb": bad}})


# --- gathering ------------------------------------------------------------------------------

VCF_HEAD = ("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n"
            "##contig=<ID=chr2,length=1000>\n"
            '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t")
GT = {"s1": "0/1", "s2": "1/1", "s3": "0/0"}


def part(tmp_path: Path, name: str, records: list[tuple[str, int]],
         samples: tuple[str, ...] = ("s1",)) -> Path:
    vcf = tmp_path / f"{name}.vcf"
    vcf.write_text(VCF_HEAD + "\t".join(samples) + "\n" + "".join(
        f"{c}\t{p}\t.\tA\tG\t50\tPASS\t.\tGT\t" + "\t".join(GT[s] for s in samples) + "\n"
        for c, p in records))
    bcf = tmp_path / f"{name}.bcf"
    subprocess.run(["bcftools", "view", "--no-version", "-Ob", "-o", str(bcf), str(vcf)],
                   check=True)
    subprocess.run(["bcftools", "index", "-f", str(bcf)], check=True)
    return bcf


def test_gather_concatenates_in_the_given_order_and_indexes(tmp_path):
    need_tools("bcftools")
    parts = [part(tmp_path, "a", [("chr1", 5), ("chr1", 400)]), part(tmp_path, "b", []),
             part(tmp_path, "c", [("chr1", 600), ("chr2", 3)])]
    out = tmp_path / "all.bcf"
    assert gather_calls(parts, out) == 4
    text = subprocess.run(["bcftools", "query", "-f", "%CHROM:%POS\n", str(out)],
                          capture_output=True, text=True, check=True).stdout
    assert text.split() == ["chr1:5", "chr1:400", "chr1:600", "chr2:3"]
    assert Path(f"{out}.csi").is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_part_cut_short_after_its_job_fails_the_gather_and_leaves_nothing(tmp_path):
    need_tools("bcftools")
    big = part(tmp_path, "big", [("chr1", p) for p in range(1, 1000)])
    small = part(tmp_path, "small", [("chr2", 5)])
    data = big.read_bytes()
    big.write_bytes(data[: len(data) // 2])  # its index still says 999 records
    out = tmp_path / "all.bcf"
    with pytest.raises(GatherError):
        gather_calls([big, small], out)
    assert not out.exists() and not Path(f"{out}.csi").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".all.bcf")]


def test_gather_command_reports_a_failure(tmp_path, capsys):
    need_tools("bcftools")
    from helgenom.cli import main

    good = part(tmp_path, "good", [("chr1", 5)])
    assert main(["gather-calls", "--out", str(tmp_path / "o.bcf"), str(good)]) == 0
    assert "1 records from 1 parts" in capsys.readouterr().out
    missing = tmp_path / "missing.bcf"
    assert main(["gather-calls", "--out", str(tmp_path / "p.bcf"), str(missing)]) == 1
    assert "missing.bcf" in capsys.readouterr().err


def test_a_part_with_the_samples_in_another_order_is_reordered_other_samples_refused(
        tmp_path):
    need_tools("bcftools")
    first = part(tmp_path, "first", [("chr1", 5)], ("s1", "s2", "s3"))
    shuffled = part(tmp_path, "shuffled", [("chr2", 7)], ("s3", "s1", "s2"))
    out = tmp_path / "all.bcf"
    assert gather_calls([first, shuffled], out) == 2
    text = subprocess.run(["bcftools", "query", "-H", "-f", "%CHROM[\t%SAMPLE=%GT]\n",
                           str(out)], capture_output=True, text=True, check=True).stdout
    assert text.splitlines()[1:] == ["chr1\ts1=0/1\ts2=1/1\ts3=0/0",
                                     "chr2\ts1=0/1\ts2=1/1\ts3=0/0"]
    other = part(tmp_path, "other", [("chr2", 9)], ("s1", "s2"))
    with pytest.raises(GatherError, match="has samples s1, s2, but"):
        gather_calls([first, other], tmp_path / "bad.bcf")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".all", ".bad"))]
