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


def test_rank_scores_equal_genmod_score_with_the_default_model(tmp_path):
    need_tools("bcftools", "bgzip", "tabix")
    rank(DATA / "helgenom_default_input.vcf", DATA / "trio.ped", str(tmp_path / "out"),
         RankOptions())
    keys = ("RankScore", "RankScoreNormalized", "RankResult")
    ours = info_values(tmp_path / "out.vcf.gz", keys)
    genmod = info_values(DATA / "helgenom_default.genmod-scored.vcf", keys)
    assert len(ours) == len(genmod) == 100
    for record, (score, normalized, result) in genmod.items():
        mine = ours[record]
        # RankScore and RankScoreNormalized are per family (FAM:value); RankResult is not.
        assert mine[0].split(":")[0] == score.split(":")[0] == "FAM"
        assert float(mine[0].split(":")[1]) == float(score.split(":")[1]), record
        assert abs(float(mine[1].split(":")[1]) - float(normalized.split(":")[1])) < 1e-3
        assert mine[2] == result, record
    scores = {float(v[0].split(":")[1]) for v in genmod.values()}
    assert max(scores) == 24.0 and min(scores) <= -16.0  # the fixture spans the model
