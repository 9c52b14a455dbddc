"""helgenom's default rank model scores like `genmod score` does with the same .ini.

`tests/data/rankmodel/helgenom_default.genmod-scored.vcf` is GENMOD 3.12.0's output of
    genmod score -f trio.ped -r -c resources/rank_model/helgenom_snv_v1.ini IN.vcf
where IN.vcf is `helgenom rank`'s ranked VCF of `helgenom_default_input.vcf` (100 records:
every impact class x population AF bin x inheritance pattern x gate/FILTER failure) with its
own RankScore, RankScoreNormalized and RankResult removed. So GENMOD scored the INFO keys that
helgenom writes (HGImpact, GNOMADAF, GeneticModels, HGQuality) with the same model.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from helgenom.data import data_path
from helgenom.rank.candidates import RankOptions
from helgenom.rank.run import rank
from helpers import need_tools

DATA = Path(__file__).resolve().parents[1] / "data" / "rankmodel"


def info_values(path: Path, keys: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    opener = gzip.open if path.suffix == ".gz" else open
    out = {}
    with opener(path, "rt") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            f = line.split("\t")
            info = dict(i.split("=", 1) for i in f[7].split(";") if "=" in i)
            out[f"{f[0]}:{f[1]}"] = tuple(info[k] for k in keys)
    return out


@pytest.mark.parametrize(("model", "vcf", "scored"), [
    ("helgenom_snv_v1.ini", "helgenom_default_input.vcf", "helgenom_default.genmod-scored.vcf"),
    ("helgenom_snv_v2.ini", "helgenom_default_v2_input.vcf",
     "helgenom_default_v2.genmod-scored.vcf"),
])
def test_rank_scores_equal_genmod_score_with_the_default_model(tmp_path, model, vcf, scored):
    need_tools("bcftools", "bgzip", "tabix")
    opts = RankOptions(rank_model=str(data_path("rank_model", model)))
    rank(DATA / vcf, DATA / "trio.ped", str(tmp_path / "out"), opts)
    keys = ("RankScore", "RankScoreNormalized", "RankResult")
    ours = info_values(tmp_path / "out.vcf.gz", keys)
    genmod = info_values(DATA / scored, keys)
    assert len(ours) == len(genmod) == 100
    for record, (score, normalized, result) in genmod.items():
        mine = ours[record]
        # RankScore and RankScoreNormalized are per family (FAM:value); RankResult is not.
        assert mine[0].split(":")[0] == score.split(":")[0] == "FAM"
        assert float(mine[0].split(":")[1]) == float(score.split(":")[1]), record
        assert abs(float(mine[1].split(":")[1]) - float(normalized.split(":")[1])) < 1e-3
        assert mine[2] == result, record
    scores = {float(v[0].split(":")[1]) for v in genmod.values()}
    if model.endswith("v1.ini"):
        assert max(scores) == 24.0 and min(scores) <= -16.0  # the fixture spans the model
    else:  # every category and bin of version 2 is met
        results = [tuple(map(int, v[2].split("|"))) for v in genmod.values()]
        seen = [set(column) for column in zip(*results, strict=True)]
        assert seen[4] == {10, 6, 1, 0, -2, -6}  # clinical_significance, every ClinVar class
        assert seen[5] == {0, 1, 3, 4} and seen[6] == {0, 2, 4} and seen[7] == {0, 3, 6}
        assert {-10, 0, 3, 5} <= seen[1]  # allele_frequency: its bins met by one source or another


def test_default_model_is_version_2_and_degrades_to_version_1_without_annotation(tmp_path):
    """Without any clinical key in the VCF, version 2 ranks as version 1 did: every new
    category scores 0, so each record's RankScore is unchanged."""
    need_tools("bcftools", "bgzip", "tabix")
    assert Path(RankOptions().rank_model).name == "helgenom_snv_v2.ini"
    scores = {}
    for model in ("helgenom_snv_v1.ini", "helgenom_snv_v2.ini"):
        rank(DATA / "helgenom_default_input.vcf", DATA / "trio.ped", str(tmp_path / model),
             RankOptions(rank_model=str(data_path("rank_model", model))))
        scores[model] = info_values(tmp_path / f"{model}.vcf.gz", ("RankScore",))
    assert scores["helgenom_snv_v1.ini"] == scores["helgenom_snv_v2.ini"]
