"""Bad or unusual input to `helgenom rank`: clear errors, or warnings and a degraded run."""

from __future__ import annotations

import pandas as pd
import pytest
from helgenom.cli import main
from helgenom.errors import InputError
from helgenom.rank.candidates import RankOptions
from helgenom.rank.run import rank
from helpers import TRIO, need_tools, write_ped, write_vcf

SAMPLES = ["dad", "mum", "kid"]
DE_NOVO = {"chrom": "chr1", "pos": 100, "ref": "A", "alt": "G", "gene": "G1",
           "gts": {"dad": "0/0", "mum": "0/0", "kid": "0/1"}}


@pytest.fixture(autouse=True)
def tools():
    need_tools("bcftools", "bgzip", "tabix")


def test_no_affected_individual_is_an_error(tmp_path):
    vcf = write_vcf(tmp_path / "in.vcf", SAMPLES, [DE_NOVO])
    ped = write_ped(tmp_path / "fam.ped", [(f, s, p, m, sex, 1) for f, s, p, m, sex, _ in TRIO])
    with pytest.raises(InputError, match="no family has an affected individual"):
        rank(vcf, ped, str(tmp_path / "out"), RankOptions())


def test_vcf_samples_outside_the_pedigree_are_ignored_with_a_warning(tmp_path, capsys):
    vcf = write_vcf(tmp_path / "in.vcf", [*SAMPLES, "stranger"], [DE_NOVO])
    ped = write_ped(tmp_path / "fam.ped", TRIO)
    table = rank(vcf, ped, str(tmp_path / "out"), RankOptions())
    assert "1 sample(s) not in" in capsys.readouterr().err
    assert list(table["models"]) == ["AD_dn"]
    assert "stranger_GT" not in table


def test_missing_ad_and_gq_degrade_with_a_warning(tmp_path, capsys):
    vcf = write_vcf(tmp_path / "in.vcf", SAMPLES, [DE_NOVO])
    text = vcf.read_text().replace("GT:GQ:AD", "GT")
    text = "\n".join(line if line.startswith("#") else "\t".join(
        [*line.split("\t")[:9], *(c.split(":")[0] for c in line.split("\t")[9:])])
        for line in text.splitlines())
    text = "\n".join(line for line in text.splitlines()
                     if not line.startswith(("##FORMAT=<ID=GQ", "##FORMAT=<ID=AD"))) + "\n"
    vcf.write_text(text)
    table = rank(vcf, write_ped(tmp_path / "fam.ped", TRIO), str(tmp_path / "out"),
                 RankOptions())
    err = capsys.readouterr().err
    assert "no FORMAT/GQ" in err and "no FORMAT/AD" in err
    assert list(table["models"]) == ["AD_dn"] and list(table["gates"]) == ["PASS"]


def test_x_without_chr_prefix_is_still_x_linked(tmp_path):
    record = {**DE_NOVO, "chrom": "X", "gts": {"dad": "0", "mum": "0/1", "kid": "1"}}
    vcf = write_vcf(tmp_path / "in.vcf", SAMPLES, [record], contigs=("1", "X"))
    table = rank(vcf, write_ped(tmp_path / "fam.ped", TRIO), str(tmp_path / "out"),
                 RankOptions(chrx="chrX"))
    assert set(table["models"].iloc[0].split("|")) == {"XR", "XD"}


def test_sv_gene_overlap_matches_gff3_named_without_chr(tmp_path):
    gff = tmp_path / "genes.gff3"
    gff.write_text("##gff-version 3\n"
                   "1\tx\tgene\t1000\t5000\t.\t+\t.\tID=gene:G1;Name=GENE1;biotype=protein_coding\n"
                   "1\tx\tmRNA\t1000\t5000\t.\t+\t.\tID=transcript:T1;Parent=gene:G1\n"
                   "1\tx\texon\t1000\t1200\t.\t+\t.\tParent=transcript:T1\n"
                   "1\tx\texon\t4800\t5000\t.\t+\t.\tParent=transcript:T1\n")
    sv = write_vcf(tmp_path / "sv.vcf", SAMPLES, [
        {"chrom": "chr1", "pos": 900, "ref": "A", "alt": "<DEL>",
         "gts": {"dad": "0/0", "mum": "0/0", "kid": "0/1"}}])
    text = sv.read_text().replace('##INFO=<ID=BCSQ', '##INFO=<ID=SVTYPE,Number=1,Type=String,'
                                  'Description="t">\n##INFO=<ID=END,Number=1,Type=Integer,'
                                  'Description="e">\n##INFO=<ID=BCSQ')
    sv.write_text(text.replace("\t50\tPASS\t.\t", "\t50\tPASS\tSVTYPE=DEL;END=1100\t"))
    snv = write_vcf(tmp_path / "in.vcf", SAMPLES, [DE_NOVO])
    table = rank(snv, write_ped(tmp_path / "fam.ped", TRIO), str(tmp_path / "out"),
                 RankOptions(sv=str(sv), gff3=str(gff)))
    row = table[table["type"] == "SV"].iloc[0]
    assert (row["gene"], row["consequence"], row["models"]) == ("GENE1", "exon_loss", "AD_dn")


def test_malformed_rank_model_names_section_and_key(tmp_path, capsys):
    vcf = write_vcf(tmp_path / "in.vcf", SAMPLES, [DE_NOVO])
    ped = write_ped(tmp_path / "fam.ped", TRIO)
    ini = tmp_path / "bad.ini"
    ini.write_text("[Version]\n  version = 1\n  name = bad\n[Categories]\n  [[c]]\n"
                   "    category_aggregation = max\n[p]\n  field = INFO\n  info_key = X\n"
                   "  data_type = float\n  category = c\n  record_rule = max\n"
                   "  separators = ',',\n  [[r]]\n    lower = 1\n    upper = zero\n"
                   "    score = 1\n")
    code = main(["rank", "--vcf", str(vcf), "--ped", str(ped), "--out", str(tmp_path / "o"),
                 "--rank-model", str(ini)])
    err = capsys.readouterr().err
    assert code == 2
    assert "[p][[r]]" in err and "upper" in err and "zero" in err


def test_bad_hpo_argument_is_an_error(tmp_path, capsys):
    vcf = write_vcf(tmp_path / "in.vcf", SAMPLES, [DE_NOVO])
    ped = write_ped(tmp_path / "fam.ped", TRIO)
    code = main(["rank", "--vcf", str(vcf), "--ped", str(ped), "--out", str(tmp_path / "o"),
                 "--hpo", "FAM:0001250"])
    assert code == 2 and "FAMILY:HP:0000001" in capsys.readouterr().err


def test_hpo_terms_reorder_candidates_by_phenotype(tmp_path):
    pytest.importorskip("pyhpo")
    records = [{**DE_NOVO, "gene": "USH2A"}, {**DE_NOVO, "pos": 200, "gene": "SCN2A"}]
    vcf = write_vcf(tmp_path / "in.vcf", SAMPLES, records)
    ped = write_ped(tmp_path / "fam.ped", TRIO)
    plain = rank(vcf, ped, str(tmp_path / "a"), RankOptions())
    assert list(plain["gene"]) == ["USH2A", "SCN2A"]  # equal scores: position order
    seizures = rank(vcf, ped, str(tmp_path / "b"),
                    RankOptions(hpo={"FAM": ["HP:0001250", "HP:0001263"]}))
    assert list(seizures["gene"]) == ["SCN2A", "USH2A"]
    assert "HP:0001250" in seizures["matched_hpo"].iloc[0]
    assert pd.api.types.is_float_dtype(seizures["combined_score"])


def test_records_with_undeclared_info_tags_and_contigs_are_not_lost(tmp_path):
    vcf = write_vcf(tmp_path / "in.vcf", SAMPLES, [DE_NOVO, {**DE_NOVO, "chrom": "chr2"}],
                    contigs=("chr1",))
    # bcftools drops such records from BCF and exits 0; the reader declares them and retries.
    text = vcf.read_text().replace("\t50\tPASS\tBCSQ=", "\t50\tPASS\tAA=A;BCSQ=")
    vcf.write_text(text)
    table = rank(vcf, write_ped(tmp_path / "fam.ped", TRIO), str(tmp_path / "out"),
                 RankOptions())
    assert list(table["chrom"]) == ["chr1", "chr2"]
