"""An SNV called 1/1 over a deletion on the other copy pairs with it as a compound het."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helgenom.io.vcf import Genotypes
from helgenom.rank.candidates import RankOptions
from helgenom.rank.hemizygous import _covered, hemizygous_over_deletions
from helgenom.rank.inheritance import AUTOSOMAL, XLINKED
from helgenom.rank.run import rank
from helpers import TRIO, need_tools, write_ped, write_vcf

SAMPLES = ["dad", "mum", "kid"]
GFF = ("##gff-version 3\n"
       "chr1\tx\tgene\t10000\t20000\t.\t+\t.\tID=gene:G1;Name=GENE1;biotype=protein_coding\n"
       "chr1\tx\tmRNA\t10000\t20000\t.\t+\t.\tID=transcript:T1;Parent=gene:G1\n"
       "chr1\tx\texon\t10000\t10500\t.\t+\t.\tParent=transcript:T1\n"
       "chr1\tx\texon\t19500\t20000\t.\t+\t.\tParent=transcript:T1\n")


@pytest.fixture(autouse=True)
def _tools() -> None:
    need_tools("bcftools", "bgzip", "tabix")


def sv_file(tmp_path: Path, gts: dict[str, str], start: int = 9000, end: int = 21000) -> Path:
    sv = write_vcf(tmp_path / "sv.vcf", SAMPLES, [
        {"chrom": "chr1", "pos": start, "ref": "N", "alt": "<DEL>", "gts": gts}])
    text = sv.read_text().replace(
        "##INFO=<ID=BCSQ", '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="t">\n'
        '##INFO=<ID=END,Number=1,Type=Integer,Description="e">\n##INFO=<ID=BCSQ')
    sv.write_text(text.replace("\t50\tPASS\t.\t", f"\t50\tPASS\tSVTYPE=DEL;END={end}\t"))
    return sv


def run(tmp_path: Path, snv_gts: dict[str, str], del_gts: dict[str, str] | None,
        **sv_args: int) -> pd.DataFrame:
    gff = tmp_path / "genes.gff3"
    gff.write_text(GFF)
    snv = write_vcf(tmp_path / "in.vcf", SAMPLES, [
        {"chrom": "chr1", "pos": 15000, "ref": "G", "alt": "C", "gene": "GENE1",
         "gts": snv_gts}])
    opts = RankOptions(gff3=str(gff))
    if del_gts is not None:
        opts.sv = str(sv_file(tmp_path, del_gts, **sv_args))
    return rank(snv, write_ped(tmp_path / "fam.ped", TRIO), str(tmp_path / "out"), opts)


PATERNAL_SNV = {"dad": "0/1", "mum": "0/0", "kid": "1/1"}
MATERNAL_DEL = {"dad": "0/0", "mum": "0/1", "kid": "0/1"}


def test_paternal_snv_over_maternal_whole_gene_deletion_is_a_compound_het(tmp_path):
    table = run(tmp_path, PATERNAL_SNV, MATERNAL_DEL)
    snv = table[table["type"] == "SNV"].iloc[0]
    sv = table[table["type"] == "SV"].iloc[0]
    assert snv["models"] == "AR_comp" and sv["models"] == "AR_comp"
    assert snv["compound_partners"].startswith("chr1_9000_")
    assert sv["compound_partners"].startswith("chr1_15000_G_C")
    # users still see what the caller called, and the gates judged that call
    assert snv["kid_GT"] == "1/1" and snv["gates"] == "PASS"
    vcf = (tmp_path / "out.vcf.gz")
    assert vcf.is_file()


def test_without_the_deletion_the_same_snv_fits_no_model(tmp_path):
    # a hom-alt child of a hom-ref mother: neither AR_hom nor anything else
    table = run(tmp_path, PATERNAL_SNV, None)
    assert table.empty or "AR_comp" not in set(table["models"])


def test_snv_and_deletion_from_the_same_parent_are_in_cis_and_do_not_pair(tmp_path):
    # the father carries both and the mother neither: both of the child's alleles came from
    # the father (in cis), which is no compound heterozygote
    table = run(tmp_path, PATERNAL_SNV, {"dad": "0/1", "mum": "0/0", "kid": "0/1"})
    assert "AR_comp" not in set(table["models"])


def test_deletion_that_does_not_cover_the_snv_changes_nothing(tmp_path):
    table = run(tmp_path, PATERNAL_SNV, MATERNAL_DEL, start=16000, end=21000)
    snvs = table[table["type"] == "SNV"]
    assert snvs.empty or "AR_comp" not in set(snvs["models"])


def _gts(gt: dict[str, list[int]], ploidy: int = 2) -> Genotypes:
    n = len(next(iter(gt.values())))
    return Genotypes(
        {s: np.array(v, dtype=np.int8) for s, v in gt.items()},
        {s: np.full(n, ploidy, dtype=np.int8) for s in gt},
        {s: np.full(n, 60.0) for s in gt}, {s: np.zeros(n) for s in gt},
        {s: np.full(n, 20.0) for s in gt})


def test_recoding_rules():
    table = pd.DataFrame({
        "CHROM": ["chr1", "chr1", "chr1", "chr1", "chrX", "chr1"],
        "POS": [100, 150, 100, 300, 120, 99],
        "END": [100, 150, 200, 300, 120, 500],
        "kind": ["SNV", "SNV", "SV", "SNV", "SNV", "SV"],
        "SVTYPE": [None, None, "DEL", None, None, "DUP"],
    })
    classes = np.array([AUTOSOMAL] * 4 + [XLINKED, AUTOSOMAL], dtype=np.int8)
    gts = _gts({"kid": [2, 2, 1, 2, 2, 1], "mum": [2, 0, 0, 2, 1, 0]})
    model_gts, recoded = hemizygous_over_deletions(table, gts, classes)
    # row 0 sits on the deletion's anchor base (its first base is not deleted), row 1 inside,
    # row 3 outside, row 4 on chrX; the duplication never recodes; mum has no deletion
    assert list(recoded) == ["kid"]
    assert recoded["kid"].tolist() == [False, True, False, False, False, False]
    assert model_gts.gt["kid"].tolist() == [2, 1, 1, 2, 2, 1]
    assert gts.gt["kid"].tolist() == [2, 2, 1, 2, 2, 1]  # the input is not modified
    assert model_gts.gt["mum"] is gts.gt["mum"]


def test_interval_union_lookup():
    starts, ends = np.array([10, 12, 50]), np.array([40, 20, 60])
    positions = np.array([9, 10, 25, 40, 41, 55, 61])
    assert _covered(starts, ends, positions).tolist() == [
        False, True, True, True, False, True, False]
