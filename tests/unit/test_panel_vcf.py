"""Scout's clinical VCF: the ranked records in the panel genes, by their CSQ SYMBOL."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest
from helgenom.cli import main
from helgenom.rank.csq import CSQ_HEADER
from helpers import bgzip_indexed, need_tools

FIELDS = CSQ_HEADER.split("Format: ")[1].split('"')[0].split("|")


def csq(symbol: str) -> str:
    values = {"Allele": "T", "Consequence": "missense_variant", "IMPACT": "MODERATE",
              "SYMBOL": symbol, "Feature": f"ENST_{symbol}", "CANONICAL": "YES"}
    return "CSQ=" + "|".join(values.get(field, "") for field in FIELDS)


def ranked(tmp_path: Path, with_csq: bool = True) -> Path:
    header = ["##fileformat=VCFv4.2", "##contig=<ID=chr1,length=10000>",
              '##INFO=<ID=RankScore,Number=.,Type=String,Description="score">']
    if with_csq:
        header.append(CSQ_HEADER.rstrip("\n"))
    header.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tkid")
    records = [("100", f"RankScore=F:20;{csq('SCN2A')}"), ("200", f"RankScore=F:9;{csq('TTN')}"),
               ("300", "RankScore=F:3"), ("400", f"RankScore=F:12;{csq('SCN2A')},{csq('X1')}")]
    text = "\n".join(header + [f"chr1\t{pos}\t.\tC\tT\t50\tPASS\t{info}\tGT\t0/1"
                               for pos, info in records]) + "\n"
    return bgzip_indexed(text, tmp_path / "F.vcf.gz")


def test_clinical_vcf_keeps_the_records_in_panel_genes(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    need_tools("bgzip", "tabix")
    panel = tmp_path / "panel.txt"
    panel.write_text("# epilepsy\nSCN2A\nKCNQ2\n")
    out = tmp_path / "F.clinical_snv.vcf.gz"
    assert main(["panel-vcf", "--vcf", str(ranked(tmp_path)), "--panel", str(panel),
                 "--out", str(out)]) == 0
    assert "2 of 4 records in 2 panel genes" in capsys.readouterr().err
    with gzip.open(out, "rt") as handle:
        lines = handle.read().splitlines()
    assert [line.split("\t")[1] for line in lines if not line.startswith("#")] == ["100", "400"]
    assert any(line.startswith("##INFO=<ID=CSQ") for line in lines)
    listed = subprocess.run(["tabix", str(out), "chr1:1-1000"], capture_output=True, text=True,
                            check=True).stdout
    assert listed.count("\n") == 2  # indexed
    assert not list(tmp_path.glob(".*part*"))


def test_a_vcf_without_csq_is_refused(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    need_tools("bgzip", "tabix")
    panel = tmp_path / "panel.txt"
    panel.write_text("SCN2A\n")
    out = tmp_path / "F.clinical_snv.vcf.gz"
    vcf = ranked(tmp_path, with_csq=False)
    assert main(["panel-vcf", "--vcf", str(vcf), "--panel", str(panel), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(vcf) in err and "no INFO/CSQ with a SYMBOL field" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".*part*"))
