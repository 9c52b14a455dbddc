"""Inheritance models on hand-built trio genotypes, through the real VCF reader."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest
from helgenom.rank.candidates import RankOptions
from helgenom.rank.run import rank
from helpers import TRIO, need_tools, write_ped, write_vcf

SAMPLES = ["dad", "mum", "kid"]


def snv(pos: int, dad: str, mum: str, kid: str, chrom: str = "chr1", **extra) -> dict:
    return {"chrom": chrom, "pos": pos, "ref": "A", "alt": "G",
            "gts": {"dad": dad, "mum": mum, "kid": kid}, **extra}


def run_rank(tmp_path, records, ped_rows=TRIO, samples=SAMPLES, **opts) -> pd.DataFrame:
    need_tools("bcftools", "bgzip", "tabix")
    vcf = write_vcf(tmp_path / "in.vcf", samples, records)
    ped = write_ped(tmp_path / "fam.ped", ped_rows)
    rank(vcf, ped, str(tmp_path / "out"), RankOptions(**opts))
    return pd.read_csv(tmp_path / "out.candidates.tsv", sep="\t", keep_default_na=False)


def models_at(table: pd.DataFrame, pos: int) -> set[str]:
    rows = table[table["pos"] == pos]
    return set(rows["models"].iloc[0].split("|")) if len(rows) else set()


def test_de_novo_het_in_affected_child_is_ad_dn_not_ad(tmp_path):
    table = run_rank(tmp_path, [snv(100, "0/0", "0/0", "0/1", gene="G1")])
    assert models_at(table, 100) == {"AD_dn"}


def test_het_inherited_from_unaffected_parent_fits_no_dominant_model(tmp_path):
    table = run_rank(tmp_path, [snv(100, "0/1", "0/0", "0/1", gene="G1")])
    assert models_at(table, 100) == set()


def test_homozygous_child_of_carrier_parents_is_ar_hom(tmp_path):
    table = run_rank(tmp_path, [snv(100, "0/1", "0/1", "1/1", gene="G1"),
                                snv(200, "0/1", "0/0", "1/1", gene="G2")])
    assert models_at(table, 100) == {"AR_hom"}
    assert models_at(table, 200) == {"AR_hom_dn"}


def test_compound_het_needs_one_allele_from_each_parent(tmp_path):
    table = run_rank(tmp_path, [
        snv(100, "0/1", "0/0", "0/1", gene="TRANS"), snv(200, "0/0", "0/1", "0/1", gene="TRANS"),
        snv(300, "0/1", "0/0", "0/1", gene="CIS"), snv(400, "0/1", "0/0", "0/1", gene="CIS"),
    ])
    assert models_at(table, 100) == models_at(table, 200) == {"AR_comp"}
    row = table[table["pos"] == 100].iloc[0]
    assert row["compound_partners"] == "chr1_200_A_G>20"  # partner id > its rank score
    assert models_at(table, 300) == models_at(table, 400) == set()


def test_de_novo_plus_inherited_is_ar_comp_dn_but_two_de_novos_are_not_compound(tmp_path):
    table = run_rank(tmp_path, [
        snv(100, "0/1", "0/0", "0/1", gene="MIX"), snv(200, "0/0", "0/0", "0/1", gene="MIX"),
        snv(300, "0/0", "0/0", "0/1", gene="DN2"), snv(400, "0/0", "0/0", "0/1", gene="DN2"),
    ])
    assert models_at(table, 100) == {"AR_comp_dn"}
    assert models_at(table, 200) == {"AD_dn", "AR_comp_dn"}
    assert models_at(table, 300) == models_at(table, 400) == {"AD_dn"}


def test_parent_no_call_keeps_the_compound_unphased(tmp_path):
    table = run_rank(tmp_path, [snv(100, "0/1", "./.", "0/1", gene="G"),
                                snv(200, "0/0", "0/1", "0/1", gene="G")])
    assert "AR_comp" in models_at(table, 100)
    assert "AR_comp" in models_at(table, 200)


def test_unaffected_sibling_with_the_same_compound_excludes_it(tmp_path):
    ped = [*TRIO, ("FAM", "sib", "dad", "mum", 2, 1)]
    records = [
        {**snv(100, "0/1", "0/0", "0/1", gene="G"), "gts": {"dad": "0/1", "mum": "0/0",
                                                            "kid": "0/1", "sib": "0/1"}},
        {**snv(200, "0/0", "0/1", "0/1", gene="G"), "gts": {"dad": "0/0", "mum": "0/1",
                                                            "kid": "0/1", "sib": "0/1"}},
    ]
    table = run_rank(tmp_path, records, ped_rows=ped, samples=[*SAMPLES, "sib"])
    assert models_at(table, 100) == models_at(table, 200) == set()


def test_x_linked_from_carrier_mother_is_xr_and_from_nobody_is_de_novo(tmp_path):
    table = run_rank(tmp_path, [snv(100, "0", "0/1", "1", chrom="chrX", gene="OTC"),
                                snv(200, "0", "0/0", "1", chrom="chrX", gene="DMD"),
                                snv(300, "1", "0/0", "1", chrom="chrX", gene="F8")])
    # The unaffected carrier mother fits XD too (skewed X inactivation), as in GENMOD.
    assert models_at(table, 100) == {"XR", "XD"}
    assert models_at(table, 200) == {"XR_dn", "XD_dn"}
    # An unaffected hemizygous father excludes every X model.
    assert models_at(table, 300) == set()


def test_parent_no_call_leaves_ar_hom_both_inherited_and_de_novo(tmp_path):
    table = run_rank(tmp_path, [snv(100, "./.", "0/1", "1/1", gene="G")])
    assert models_at(table, 100) == {"AR_hom", "AR_hom_dn"}


def test_pseudo_autosomal_region_is_treated_as_autosomal(tmp_path):
    table = run_rank(tmp_path, [snv(100, "0/1", "0/1", "1/1", chrom="chrX", gene="PAR1")],
                     par=["chrX:1-1000"])
    assert models_at(table, 100) == {"AR_hom"}


def test_gate_failure_is_reported_not_dropped(tmp_path):
    table = run_rank(tmp_path, [snv(100, "0/0", "0/0", "0/1", gene="G", gq={"kid": 5},
                                    ad={"dad": "3,0"})])
    row = table[table["pos"] == 100].iloc[0]
    assert row["gates"] == "dad:DP;kid:GQ"
    assert row["score_variant_quality"] < 0


def test_common_variant_is_not_a_candidate(tmp_path):
    table = run_rank(tmp_path, [snv(100, "0/0", "0/0", "0/1", gene="G", af=0.2),
                                snv(200, "0/0", "0/0", "0/1", gene="G", af=0.0001)])
    assert list(table["pos"]) == [200]


def test_singleton_het_is_ad_without_de_novo(tmp_path):
    table = run_rank(tmp_path, [snv(100, "./.", "./.", "0/1", gene="G")],
                     ped_rows=[("S", "kid", "0", "0", 1, 2)], samples=["kid"])
    assert models_at(table, 100) == {"AD"}


def test_multiallelic_record_is_ranked_per_allele(tmp_path):
    record = {"chrom": "chr1", "pos": 100, "ref": "A", "alt": "G,T", "gene": "G",
              "gts": {"dad": "0/0", "mum": "0/0", "kid": "0/2"}}
    table = run_rank(tmp_path, [record])
    assert list(zip(table["alt"], table["models"], strict=True)) == [("T", "AD_dn")]


def test_ranked_vcf_carries_genmod_style_fields(tmp_path):
    run_rank(tmp_path, [snv(100, "0/1", "0/0", "0/1", gene="T"),
                        snv(200, "0/0", "0/1", "0/1", gene="T")])
    with gzip.open(tmp_path / "out.vcf.gz", "rt") as handle:
        body = [line for line in handle if not line.startswith("#")]
    info = dict(field.split("=", 1) for field in body[0].split("\t")[7].split(";") if "=" in field)
    assert info["GeneticModels"] == "FAM:AR_comp"
    assert info["Compounds"].startswith("FAM:chr1_200_A_G>")
    assert info["RankScore"].startswith("FAM:")


def test_ranking_puts_a_high_impact_rare_variant_above_a_moderate_one(tmp_path):
    table = run_rank(tmp_path, [snv(100, "0/0", "0/0", "0/1", gene="A", csq="missense"),
                                snv(200, "0/0", "0/0", "0/1", gene="B", csq="stop_gained")])
    assert list(table["pos"]) == [200, 100]
    assert list(table["rank"]) == [1, 2]


@pytest.mark.parametrize("missing", ["dad"])
def test_pedigree_sample_missing_from_vcf_is_an_error(tmp_path, missing):
    from helgenom.errors import InputError

    need_tools("bcftools")
    vcf = write_vcf(tmp_path / "in.vcf", ["mum", "kid"], [snv(100, "0/0", "0/0", "0/1")])
    ped = write_ped(tmp_path / "fam.ped", TRIO)
    with pytest.raises(InputError, match=missing):
        rank(vcf, ped, str(tmp_path / "out"), RankOptions())
