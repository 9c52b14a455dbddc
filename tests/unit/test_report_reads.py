"""`helgenom report --alignment`: the read pileups of the top candidates (helgenom.report.reads).

Tiny BAMs are written here (SAM text -> `samtools view -b` + `samtools index`): at the top
candidate (SCN2A chr2:85290 T>A) the kid has reads with the ALT, with the REF and with another
base, the dad only REF reads; at the SV (chr1:85720 DEL) the kid has a soft-clipped read.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import test_report_html as base
from helgenom.errors import InputError
from helgenom.report import reads

pytestmark = pytest.mark.skipif(shutil.which("samtools") is None, reason="needs samtools")

HEADER = "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:500000\n@SQ\tSN:chr2\tLN:300000\n"
ODD_NAME = 'r<b>&"x'


def snv_read(name: str, base_at_variant: str, flag: int = 0, start: int = 85281) -> str:
    """A 20 bp read over chr2:85290 (its 10th base)."""
    offset = 85290 - start
    seq = "G" * offset + base_at_variant + "G" * (19 - offset)
    return f"{name}\t{flag}\tchr2\t{start}\t60\t20M\t*\t0\t0\t{seq}\t{'I' * 20}"


def write_bam(path: Path, records: list[str]) -> Path:
    sam = path.with_suffix(".sam")
    sam.write_text(HEADER + "".join(f"{r}\n" for r in records))
    subprocess.run(["samtools", "view", "-b", "-o", str(path), str(sam)], check=True)
    subprocess.run(["samtools", "index", str(path)], check=True)
    return path


KID = [
    "sv1\t0\tchr1\t85700\t60\t10S20M\t*\t0\t0\t" + "A" * 30 + "\t" + "I" * 30,
    "sv2\t0\tchr1\t85705\t60\t20M\t*\t0\t0\t" + "A" * 20 + "\t" + "I" * 20,
    snv_read("alt1", "A"), snv_read("alt2", "A", flag=16, start=85283),
    snv_read(ODD_NAME, "A", start=85285), snv_read("ref1", "T", start=85286),
    snv_read("ref2", "T", flag=16, start=85288), snv_read("oth1", "C", start=85289),
    snv_read("dup1", "A", flag=1024, start=85289),  # a duplicate: left out
]
DAD = [snv_read(f"d{i}", "T", start=85275 + i) for i in range(4)]


@pytest.fixture
def bams(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "aln"
    folder.mkdir()
    return {"kid": write_bam(folder / "kid.bam", KID), "dad": write_bam(folder / "dad.bam", DAD)}


def make_report(tmp_path: Path, bams: dict[str, Path], name: str, *extra: object) -> Path:
    paths = base.write_inputs(tmp_path / "in")
    out = tmp_path / name
    options = [x for sample, path in bams.items() for x in ("--alignment", f"{sample}={path}")]
    assert base.helgenom(*base.report_args(paths, out, *options, "--reads-top", 4, *extra)) == 0
    return out


def figures(evidence: base.Node, sample: str) -> list[base.Node]:
    return evidence.one("div", cls="pileup-member", data_sample=sample).find("figure")


def test_the_top_candidates_show_each_members_pileup(tmp_path: Path, bams) -> None:
    doc = base.parse(make_report(tmp_path, bams, "FAM.report.html"))
    top = doc.one("tr", id="ev-c1")
    details = top.one("details", cls="reads")
    assert "open" not in details.attrs  # closed by default
    assert not top.find(cls="reads-placeholder")
    (kid,) = figures(top, "kid")
    caption = kid.one("figcaption")
    assert (caption.attrs["data-alt"], caption.attrs["data-ref"]) == ("3", "2")
    assert "6 reads" in caption.text() and "2 ref, 3 alt, 1 other" in caption.text()
    svg = kid.one("svg", cls="pileup")
    assert len(svg.find("rect", cls="read")) == 6
    assert len(svg.find("rect", cls="alt-base")) == 3  # the ALT bases, highlighted
    assert len(svg.find("rect", cls="a-alt")) == 3 and len(svg.find("rect", cls="rev")) == 2
    assert len(svg.find("line", cls="variant-pos")) == 1
    (dad,) = figures(top, "dad")
    assert dad.one("figcaption").attrs["data-alt"] == "0"
    assert "4 ref, 0 alt" in dad.one("figcaption").text()
    assert not dad.find("rect", cls="alt-base")
    # the SV (4th): both breakpoints, the clipped read is split
    sv = doc.one("tr", id="ev-c4")
    start, end = figures(sv, "kid")
    assert "start breakpoint" in start.text() and "1 ref, 1 split/discordant" in start.text()
    assert "end breakpoint chr1:95,190: 0 reads" in end.text()
    # beyond the top 4: the placeholder
    assert doc.one("tr", id="ev-c5").find(cls="reads-placeholder")
    assert "top 4 candidates" in doc.one("section", id="reads").text()


def test_pileups_are_deterministic_and_escaped(tmp_path: Path, bams) -> None:
    first = make_report(tmp_path, bams, "a.html").read_bytes()
    assert make_report(tmp_path, bams, "b.html").read_bytes() == first
    raw = first.decode()
    assert ODD_NAME not in raw and "r&lt;b&gt;&amp;&quot;x (+) alt" in raw


def test_without_alignments_every_candidate_keeps_the_placeholder(tmp_path: Path) -> None:
    doc = base.parse(make_report(tmp_path, {}, "FAM.report.html"))
    assert not doc.find("svg", cls="pileup")
    assert len(doc.find("p", cls="reads-placeholder")) == len(base.main_rows(doc)) + 1


def test_a_missing_alignment_is_named(tmp_path: Path, bams,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    paths = base.write_inputs(tmp_path / "in")
    out = tmp_path / "FAM.report.html"
    gone = tmp_path / "aln" / "mum.bam"
    assert base.helgenom(*base.report_args(paths, out, "--alignment", f"mum={gone}")) == 2
    err = capsys.readouterr().err
    assert err == f"helgenom report: {gone}: no such file (the alignment of mum)\n", err
    assert not out.exists()


def test_a_cram_needs_the_fasta_and_strangers_are_refused(tmp_path: Path, bams) -> None:
    cram = tmp_path / "kid.cram"
    cram.write_bytes(b"")
    with pytest.raises(InputError, match="needs --fasta"):
        reads.check_alignments([reads.Alignment("kid", cram)], None)
    paths = base.write_inputs(tmp_path / "in")
    args = base.report_args(paths, tmp_path / "x.html", "--alignment", f"nobody={bams['dad']}")
    assert base.helgenom(*args) == 2


@pytest.mark.parametrize(("cigar", "seq", "ref", "alt", "allele"), [
    ("5M", "ACATA", "G", "T", "other"), ("5M", "ACTTA", "G", "T", "alt"),
    ("3M2I2M", "ACGTTTA", "G", "GTT", "alt"), ("3M1D2M", "ACGTA", "GT", "G", "alt"),
    ("2M1D3M", "ACGTA", "G", "T", "other"), ("5M", "ACGTA", "GT", "G", "ref"),
    ("2M", "AC", "G", "T", ""),
])
def test_the_allele_of_a_read_from_its_cigar(cigar: str, seq: str, ref: str, alt: str,
                                             allele: str) -> None:
    """The variant is at position 3 of a read starting at 1."""
    bases, _ = reads.aligned(cigar, 1, seq)
    assert reads.small_allele(bases, reads.Variant("c", 3, 3, ref, alt, False)) == allele
