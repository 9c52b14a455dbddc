"""GENMOD rank models: loading, checks, and scores equal to `genmod score` 3.12.0 per record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helgenom.rank.model import RankModelError, csq_format, load_rank_model
from helpers import TEST_DATA

DATA = TEST_DATA / "rankmodel"
MODELS = TEST_DATA / "rank-models"
FIXTURES = TEST_DATA / "genmod-fixtures"
SNV_MODEL = MODELS / "clinicalgenomics_grch38_rank_model_-v0.4-.ini"
SV_MODEL = MODELS / "clinicalgenomics_grch38_sv_rank_model_-v0.2-.ini"
CMMS_MODEL = MODELS / "genmod_rank_model_cmms_v1.9.ini"
EXAMPLE_MODEL = FIXTURES / "genmod_example.ini"
SCORE_TEST_MODEL = DATA / "genmod_score_test.ini"  # GENMOD's examples/score_test.ini


def read_vcf(path: Path) -> tuple[pd.DataFrame, list[str] | None]:
    """Fixed columns plus one column per INFO key (strings; flags True; missing NA)."""
    rows, csq = [], None
    for line in path.read_text().splitlines():
        if line.startswith("##INFO=<ID=CSQ,"):
            csq = csq_format(line)
        if line.startswith("#"):
            continue
        chrom, pos, ident, ref, alt, qual, filt, info = line.split("\t")[:8]
        row: dict[str, object] = {"CHROM": chrom, "POS": int(pos), "ID": ident, "REF": ref,
                                  "ALT": alt, "QUAL": qual, "FILTER": filt}
        for item in info.split(";") if info != "." else []:
            key, equals, value = item.partition("=")
            row[key] = value if equals else True
        rows.append(row)
    return pd.DataFrame(rows), csq


def genmod_results(scored: pd.DataFrame, categories: list[str]) -> pd.DataFrame:
    """RankScore, RankScoreNormalized (if written) and RankResult categories from GENMOD."""
    out = pd.DataFrame(index=scored.index)
    for key in ("RankScore", "RankScoreNormalized"):
        if key in scored:
            out[key] = scored[key].str.split(":").str[-1].astype(float)
    if "RankResult" in scored:
        parts = scored["RankResult"].str.split("|", expand=True).astype(int)
        out[categories] = parts.to_numpy()
    return out


# Every GENMOD-scored VCF with its input, the model that scored it and the family scored.
CASES = {
    # GENMOD's own fixtures (written by GENMOD 2.0.5 and 3.2.6; 3.12.0 gives the same scores)
    "fixture-annotated/genmod_example": (
        FIXTURES / "test_vcf_annotated.vcf", FIXTURES / "test_vcf_annotated_scored.vcf",
        EXAMPLE_MODEL, "1"),
    "fixture-regions/score_test": (
        FIXTURES / "test_vcf_regions_models.vcf", FIXTURES / "test_vcf_regions_models_scored.vcf",
        SCORE_TEST_MODEL, "1"),
    # fresh references from genmod score 3.12.0 (tests/data/rankmodel/README.md)
    "fixture-regions/cg-snv-v0.4": (
        FIXTURES / "test_vcf_regions_models.vcf",
        DATA / "test_vcf_regions_models.cg-snv-v0.4.scored.vcf", SNV_MODEL, "1"),
    "fixture-sv/cg-sv-v0.2": (
        FIXTURES / "test_vcf_sv_same_pos.vcf", DATA / "test_vcf_sv_same_pos.cg-sv-v0.2.scored.vcf",
        SV_MODEL, "1"),
    "snv_edge/cg-snv-v0.4": (
        DATA / "snv_edge.vcf", DATA / "snv_edge.cg-snv-v0.4.scored.vcf", SNV_MODEL, "FAM1"),
    "snv_edge/cmms-v1.9": (
        DATA / "snv_edge.vcf", DATA / "snv_edge.cmms-v1.9.scored.vcf", CMMS_MODEL, "FAM1"),
    "snv_edge/genmod_example": (
        DATA / "snv_edge.vcf", DATA / "snv_edge.genmod-example.scored.vcf", EXAMPLE_MODEL, "FAM1"),
    "snv_edge/score_test": (
        DATA / "snv_edge.vcf", DATA / "snv_edge.score-test.scored.vcf", SCORE_TEST_MODEL, "FAM1"),
    "sv_edge/cg-sv-v0.2": (
        DATA / "sv_edge.vcf", DATA / "sv_edge.cg-sv-v0.2.scored.vcf", SV_MODEL, "FAM1"),
}

# Records where we differ from GENMOD on purpose: we score the requested family only
# (with family=None we read entries whole, as GENMOD does, and equal it on every record).
# - snv_edge IDs `fam2_only` (GeneticModels/ModelScore only for FAM2) and `two_families`
#   (FAM1 and FAM2 entries): GENMOD matches models and reads model scores of every family in
#   the entry; we must equal GENMOD on the twin record `<ID>.reduced`, which carries FAM1's part.
REDUCED_TWINS = ("fam2_only", "two_families")
# - fixture-regions/cg-snv-v0.4, every record with ModelScore=1:55.0: GENMOD splits it on ':'
#   and reads the family id 1 as a model score (min rule: 1, low quality, -5); family 1's own
#   value 55.0 is not an integer, so we score model_score as not reported (0): +5 in
#   variant_call_quality_filter and in RankScore.
FAMILY_ID_AS_SCORE = {"fixture-regions/cg-snv-v0.4": ("variant_call_quality_filter", 5)}


@pytest.mark.parametrize("case", list(CASES))
def test_scores_equal_genmod(case: str) -> None:
    source, scored_path, model_path, family = CASES[case]
    model = load_rank_model(model_path)
    records, csq = read_vcf(source)
    absent = [key for key in model.info_keys() if key not in records]
    records[absent] = pd.NA  # as genmod score --skip_plugin_check: not reported
    scored, _ = read_vcf(scored_path)
    assert (records[["CHROM", "POS", "REF", "ALT"]] == scored[["CHROM", "POS", "REF", "ALT"]]
            ).all().all()
    ours = model.score(records, family, csq_format=csq)
    expected = genmod_results(scored, list(model.categories))
    assert not differences(records, model.score(records, None, csq_format=csq), expected)
    ids = records["ID"].tolist()
    for twin in REDUCED_TWINS:
        if twin in ids:
            expected.iloc[ids.index(twin)] = expected.iloc[ids.index(f"{twin}.reduced")]
    if case in FAMILY_ID_AS_SCORE:
        category, shift = FAMILY_ID_AS_SCORE[case]
        shifted = records["ModelScore"].notna().to_numpy()
        assert shifted.sum() == 13
        expected.loc[shifted, [category, "RankScore"]] += shift
        low, high = model.min_score, model.max_score
        expected["RankScoreNormalized"] = (expected["RankScore"] - low) / (high - low)
    assert "RankScore" in expected
    assert list(ours.columns) == [*model.categories, "RankScore", "RankScoreNormalized"]
    assert ours["RankScore"].dtype == float
    assert differences(records, ours, expected) == []


def differences(records: pd.DataFrame, ours: pd.DataFrame, expected: pd.DataFrame) -> list[str]:
    return [f"{records['CHROM'][i]}:{records['POS'][i]} {records['ID'][i]} {column}: "
            f"ours {ours[column][i]!r} genmod {expected[column][i]!r}"
            for column in expected.columns for i in range(len(records))
            if ours[column][i] != expected[column][i]]


def test_min_max_equal_genmod_rank_score_min_max() -> None:
    for scored_path, model_path in [(DATA / "snv_edge.cg-snv-v0.4.scored.vcf", SNV_MODEL),
                                    (DATA / "snv_edge.cmms-v1.9.scored.vcf", CMMS_MODEL),
                                    (DATA / "snv_edge.score-test.scored.vcf", SCORE_TEST_MODEL),
                                    (DATA / "sv_edge.cg-sv-v0.2.scored.vcf", SV_MODEL)]:
        model = load_rank_model(model_path)
        written = set(read_vcf(scored_path)[0]["RankScoreMinMax"])
        assert written == {f"FAM1:{model.min_score}:{model.max_score}"}


@pytest.mark.parametrize("path, name, version, categories, plugins", [
    (CMMS_MODEL, "rank_model_cmms", "1.9", 8, 12),
    (SNV_MODEL, "rank_model", "0.4", 10, 28),
    (SV_MODEL, "svrank_model", "0.2", 8, 10),
    (EXAMPLE_MODEL, "genmod example", "0.1", 4, 4),
])
def test_load_models(path: Path, name: str, version: str, categories: int, plugins: int) -> None:
    model = load_rank_model(path)
    assert (model.name, model.version) == (name, version)
    assert (len(model.categories), len(model.plugins)) == (categories, plugins)
    text = path.read_text()
    assert all(f"[[{c}]]" in text for c in model.categories)
    assert all(f"[{p}]" in text for p in model.plugins)
    assert sorted(p for c in model.categories.values() for p in c.plugins) == sorted(model.plugins)


def test_model_details() -> None:
    snv = load_rank_model(SNV_MODEL)
    assert list(snv.categories)[:2] == ["allele_frequency", "protein_prediction"]
    assert snv.categories["allele_frequency"].plugins == ["swegen", "gnomad", "mtaf", "loqusdb"]
    assert snv.info_keys() == ["CSQ", "ModelScore", "SWEGENAF", "GNOMADAF_grpmax", "MTAF", "Frq",
                               "GeneticModels", "most_severe_consequence", "CADD"]
    revel = snv.plugins["revel"]
    assert (revel.csq_key, revel.separators) == ("REVEL_score", ("N", "o", "n", "e"))
    assert [(b.lower, b.upper, b.score) for b in snv.plugins["cadd"].bins][:2] == [
        (0, 10, 0), (10, 20, 2)]
    assert [r.string for r in snv.plugins["clnsig"].strings][:3] == [
        "Pathogenic", "Benign", "Likely_pathogenic"]  # priority 3, then 2 in file order
    assert snv.plugins["filter"].strings[0].string == "PASS"  # record_rule min: lowest first
    assert (snv.min_score, snv.max_score) == (-30.0, 51.0)
    sv = load_rank_model(SV_MODEL)
    assert sv.categories["variant_call_quality_filter"].aggregation == "min"  # misspelt key
    assert sv.categories["variant_type"].plugins == []
    assert sv.plugins["clinvar_pathogenic"].values == {"1": 6.0}
    assert load_rank_model(CMMS_MODEL).categories["Protein_prediction"].aggregation == "sum"


# ---------------------------------------------------------------- semantics, small models
def small_model(tmp_path: Path) -> Path:
    path = tmp_path / "small.ini"
    path.write_text(GOOD)
    return path


GOOD = """\
[Version]
  version = 1.0
  name = small  # a comment
[Categories]
  [[frequency]]
    category_aggregation = min
  [[inheritance]]
    category_aggregation = max
  [[quality]]
    category_aggregation = sum
[AF]
  field = INFO
  data_type = float
  category = frequency
  record_rule = max
  separators = ',',
  info_key = AF
  [[not_reported]]
    score = 3
  [[rare]]
    score = 2
    lower = 0
    upper = 0.01
  [[common]]
    score = -12
    lower = 0.01
    upper = 1.1
[GeneticModels]
  field = INFO
  data_type = string
  category = inheritance
  separators = ',', ':', '|',
  info_key = GeneticModels
  [[ar]]
    score = 3
    priority = 2
    string = 'AR_hom'
  [[ad_dn]]
    score = 1
    priority = 1
    string = "AD_dn"
  [[not_reported]]
    score = -5
[Clinvar]
  field = INFO
  data_type = flag
  category = quality
  info_key = CLNSIG
  [[reported]]
    score = 2
[FILTER]
  field = FILTER
  data_type = string
  category = quality
  record_rule = min
  separators = ';',
  [[pass]]
    score = 1
    priority = 1
    string = 'PASS'
  [[dot]]
    score = 1
    priority = 2
    string = '.'
"""


def test_small_model_semantics(tmp_path: Path) -> None:
    model = load_rank_model(small_model(tmp_path))
    assert model.info_keys() == ["AF", "GeneticModels", "CLNSIG"]
    assert (model.min_score, model.max_score) == (-12 + -5 + 0, 3 + 3 + 3)
    records = pd.DataFrame({
        "CHROM": "1", "POS": range(7), "REF": "A", "ALT": "T",
        "FILTER": ["PASS", None, "LowQual", "PASS", "PASS", "q10;PASS", "PASS"],
        "AF": ["0.001", "0", None, "0.001,0.5", "1.1", "x,0.009", "."],
        "GeneticModels": ["F1:AR_hom_dn,F2:AD_dn", "F2:AR_hom", "AD_dn", None, "F1:ad_DN",
                          "F1:XR", "AR_hom"],
        "CLNSIG": [True, None, "5", None, "", None, np.nan],
    })
    out = model.score(records, "F1")
    assert out["frequency"].tolist() == [2, 3, 3, -12, 0, 2, 3]  # 0 and '.' are not reported
    assert out["inheritance"].tolist() == [3, -5, 1, -5, 1, -5, 3]  # substring, other family
    assert out["quality"].tolist() == [3, 1, 2, 1, 3, 1, 1]  # FILTER NA is '.'
    assert out["RankScore"].tolist() == [8.0, -1.0, 6.0, -16.0, 4.0, -2.0, 7.0]
    assert out["RankScoreNormalized"].tolist() == pytest.approx(
        [(s + 17) / 26 for s in out["RankScore"]])
    assert out.index.equals(records.index)


def test_fractional_scores_truncate_like_genmod(tmp_path: Path) -> None:
    path = tmp_path / "fraction.ini"
    rare = "    score = 2\n    lower = 0\n"
    path.write_text(GOOD.replace(rare, rare.replace("2", "2.7"))
                    .replace("score = -12\n", "score = -12.5\n"))
    model = load_rank_model(path)
    records = pd.DataFrame({"FILTER": ["PASS", "PASS"], "AF": ["0.001", "0.5"],
                            "GeneticModels": ["F1:AR_hom", None], "CLNSIG": [None, None]})
    out = model.score(records, "F1")
    # genmod score 3.12.0 -i F1 -r on the same two records: RankResult 2|3|1 and -12|-5|1,
    # RankScoreNormalized 0.8867924528301887 and 0.05660377358490566, RankScoreMinMax -17.5:9.0
    assert (model.min_score, model.max_score) == (-17.5, 9.0)
    assert out.drop(columns="RankScoreNormalized").to_numpy().tolist() == [
        [2, 3, 1, 6.0], [-12, -5, 1, -16.0]]
    assert out["RankScoreNormalized"].tolist() == [0.8867924528301887, 0.05660377358490566]


def test_score_needs_columns_and_csq_format(tmp_path: Path) -> None:
    model = load_rank_model(small_model(tmp_path))
    with pytest.raises(KeyError, match="CLNSIG"):
        model.score(pd.DataFrame({"FILTER": ["PASS"], "AF": ["0.1"], "GeneticModels": [None]}),
                    "F1")
    csq_model = tmp_path / "csq.ini"
    csq_model.write_text(GOOD.replace("info_key = AF", "info_key = CSQ\n  csq_key = AF"))
    model = load_rank_model(csq_model)
    records = pd.DataFrame({"FILTER": ["PASS"] * 2, "GeneticModels": [None] * 2,
                            "CLNSIG": [None] * 2, "CSQ": ["T|0.5|x,T|0.001", "T|0|x"]})
    with pytest.raises(ValueError, match="pass csq_format"):
        model.score(records, "F1")
    # A column the CSQ lacks is not reported (genmod score --skip_plugin_check).
    not_reported = model.score(records.assign(CSQ=[None, None]), "F1",
                               csq_format=["Allele", "AF"])["frequency"].tolist()
    assert model.score(records, "F1", csq_format=["Allele", "REVEL"])["frequency"].tolist() == (
        not_reported)
    assert not_reported == [3, 3]
    assert model.score(records, "F1", csq_format=["Allele", "AF", "X"])["frequency"].tolist() == [
        -12, 3]


@pytest.mark.parametrize("old, new, section, key, value", [
    ("  data_type = float\n", "", "[AF]", "data_type", None),
    ("  category = frequency\n", "", "[AF]", "category", None),
    ("category = frequency", "category = rarity", "[AF]", "category", "rarity"),
    ("data_type = float", "data_type = str", "[AF]", "data_type", "str"),
    ("    upper = 0.01", "    upper = 0", "[AF][[rare]]", "upper", "0"),
    ("    lower = 0.01", "    lower = 0.005", "[AF][[common]]", "lower", "0.005"),
    ("    lower = 0.01", "    lower = 1%", "[AF][[common]]", "lower", "1%"),
    ("  [[inheritance]]", "  [[frequency]]", "[Categories]", "frequency", None),
    ("category_aggregation = sum", "category_aggregation = mean", "[Categories][[quality]]",
     "category_aggregation", "mean"),
    ("    priority = 2\n", "", "[GeneticModels][[ar]]", "priority", None),
    ("  separators = ',',\n", "", "[AF]", "separators", None),
    ("    score = 2\n    lower", "    score = eq\n    lower", "[AF][[rare]]", "score", "eq"),
    ("version = 1.0", "version = one", "[Version]", "version", "one"),
    ("  name = small  # a comment\n", "", "[Version]", "name", None),
    ("info_key = AF", "info_key = 'AF", "[AF]", "info_key", "'AF"),
    ("  field = INFO\n  data_type = float", "  field = FORMAT\n  data_type = float", "[AF]",
     "field", "FORMAT"),
])
def test_malformed_models(tmp_path: Path, old: str, new: str, section: str, key: str,
                          value: str | None) -> None:
    assert GOOD.count(old) >= 1
    path = tmp_path / "bad.ini"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(RankModelError) as caught:
        load_rank_model(path)
    error = caught.value
    assert (error.section, error.key, error.value) == (section, key, value)
    message = str(error)
    assert str(path) in message and section in message and f"key '{key}'" in message
    if value is not None:
        assert repr(value) in message


def test_malformed_structure(tmp_path: Path) -> None:
    path = tmp_path / "bad.ini"
    for text, section in [(GOOD.replace("[Categories]", "[Kategorien]"), "[Categories]"),
                          (GOOD.replace("[FILTER]", "[AF]"), "[AF]"),
                          ("stray = 1\n" + GOOD, ""),
                          (GOOD.replace("[[pass]]", "[[[pass]]]"), "[FILTER]")]:
        path.write_text(text)
        with pytest.raises(RankModelError) as caught:
            load_rank_model(path)
        assert caught.value.section == section
    with pytest.raises(RankModelError, match="cannot read"):
        load_rank_model(tmp_path / "absent.ini")
