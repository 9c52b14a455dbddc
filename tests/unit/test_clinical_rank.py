"""Clinical annotation in `helgenom rank`: ClinVar, gnomAD grpmax, SweGen, the GMC's own
frequency, CADD, REVEL and SpliceAI reach the candidate list, the ranked VCF's INFO and CSQ,
and the scores -- of helgenom's default model and of the Clinical Genomics GRCh38 model v0.4,
run unchanged -- equal those of the real `genmod score` 3.12.0 on the ranked VCF.

The input is the simulated demo's population VCF (6,362 variants in and around ~20 real gene
models, bcftools csq consequences) genotyped in a trio, with each clinical INFO key assigned
from a fixed cycle (every bin of every plugin is met), plus the planted variants.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helgenom.cli import main
from helgenom.rank.clinical import clinical_columns, clinvar_class, review_stars, spliceai_scores
from helpers import TEST_DATA, genmod, need_tools, read_candidates, write_ped

CG_MODEL = TEST_DATA / "rank-models" / "clinicalgenomics_grch38_rank_model_-v0.4-.ini"
SAMPLES = ["demo-father", "demo-mother", "demo-proband"]
CLINICAL_HEADER = """\
##INFO=<ID=CLNSIG,Number=.,Type=String,Description="ClinVar significance">
##INFO=<ID=CLNREVSTAT,Number=.,Type=String,Description="ClinVar review status">
##INFO=<ID=CLNVID,Number=1,Type=Integer,Description="ClinVar variation ID">
##INFO=<ID=GNOMADAF_grpmax,Number=A,Type=Float,Description="gnomAD grpmax AF">
##INFO=<ID=gnomad_hom,Number=A,Type=Integer,Description="gnomAD homozygotes">
##INFO=<ID=SWEGENAF,Number=A,Type=Float,Description="SweGen AF">
##INFO=<ID=Obs,Number=A,Type=Integer,Description="Local observations">
##INFO=<ID=Hom,Number=A,Type=Integer,Description="Local homozygotes">
##INFO=<ID=Frq,Number=A,Type=Float,Description="Local frequency">
##INFO=<ID=CADD,Number=A,Type=Float,Description="CADD PHRED">
##INFO=<ID=REVEL_score,Number=A,Type=Float,Description="REVEL">
##INFO=<ID=SpliceAI,Number=.,Type=String,Description="SpliceAI \
ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL">
"""
CLINVAR = [None, None, ("Pathogenic", "criteria_provided,_multiple_submitters,_no_conflicts"),
           ("Likely_pathogenic", "criteria_provided,_single_submitter"),
           ("Conflicting_interpretations_of_pathogenicity",
            "criteria_provided,_conflicting_interpretations"),
           ("Uncertain_significance", "no_assertion_criteria_provided"),
           ("Benign", "reviewed_by_expert_panel"), ("Benign/Likely_benign", "practice_guideline")]
CYCLES = {"GNOMADAF_grpmax": [None, "0.0001", "0.003", "0.03"], "SWEGENAF": [None, "0.001"],
          "CADD": [None, "8", "18", "27", "38"], "REVEL_score": [None, "0.3", "0.6", "0.95"]}


def run(command: str) -> str:
    return subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """The annotated trio VCF, its PED, and the demo's reference and gene models."""
    need_tools("samtools", "bcftools", "bgzip", "tabix")
    from helgenom.simulate.demo import simulate

    demo = tmp_path_factory.mktemp("clinical-demo")
    simulate(demo, seed=1, depth=0.5)
    folder = tmp_path_factory.mktemp("clinical")
    ref = demo / "reference"
    rng = np.random.default_rng(5)
    records = [line.split("\t") for line in run(
        f"bcftools view -H {ref / 'population.vcf.gz'}").splitlines()]
    planted = {(r[0], r[1]): r for r in (line.split("\t") for line in run(
        f"bcftools view -H -i 'TYPE=\"snp\"' {demo / 'truth.vcf.gz'}").splitlines())}
    lines = []
    for n, fields in enumerate(records):
        chrom, pos, _, ref_allele, alt = fields[:5]
        info = [fields[7]] if fields[7] != "." else []
        clin = CLINVAR[n % len(CLINVAR)]
        if clin:
            info += [f"CLNSIG={clin[0]}", f"CLNREVSTAT={clin[1]}", f"CLNVID={10000 + n}"]
        for key, cycle in CYCLES.items():
            value = cycle[(n // 2 + len(key)) % len(cycle)]
            if value:
                info.append(f"{key}={value}")
                if key == "GNOMADAF_grpmax":
                    info.append(f"gnomad_hom={n % 3}")
        if n % 5 == 1:
            frq = ("0.01", "0.08", "0.3")[n % 3]
            info += [f"Obs={max(1, round(float(frq) * 40))}", f"Hom={n % 2}", f"Frq={frq}"]
        if n % 4 == 2:
            info.append(f"SpliceAI={alt}|GENE|0.{n % 10}0|0.05|0.00|0.0{n % 7}|1|-2|3|-4,"
                        f"{'A' if alt != 'A' else 'C'}|GENE|0.99|0.99|0.99|0.99|1|1|1|1")
        gts = rng.choice(["0/0", "0/1", "1/1"], size=3, p=[0.3, 0.5, 0.2])
        if (chrom, pos) in planted:
            continue
        lines.append("\t".join([chrom, pos, ".", ref_allele, alt, "50", "PASS",
                                ";".join(info) or ".", "GT:GQ:AD",
                                *(f"{g}:60:{ {'0/0': '20,0', '0/1': '10,10', '1/1': '0,20'}[g]}"
                                  for g in gts)]))
    header = [line for line in run(f"bcftools view -h {ref / 'population.vcf.gz'}").splitlines()
              if line.startswith("##")]
    header += ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
               '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="GQ">',
               '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="AD">',
               *CLINICAL_HEADER.splitlines(),
               "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(SAMPLES)]
    raw = folder / "raw.vcf"
    raw.write_text("\n".join(header + lines) + "\n")
    vcf = folder / "annotated.vcf.gz"
    # The planted variants (with their genotypes, no clinical keys) join the background.
    run(f"bcftools view -Oz -o {folder / 'truth.vcf.gz'} {demo / 'truth.vcf.gz'} && "
        f"bcftools index -t {folder / 'truth.vcf.gz'} && "
        f"bcftools sort -Oz -o {folder / 'raw.vcf.gz'} {raw} && "
        f"bcftools index -t {folder / 'raw.vcf.gz'} && "
        f"bcftools concat -a -Ou {folder / 'raw.vcf.gz'} {folder / 'truth.vcf.gz'} "
        f"| bcftools view -i 'TYPE=\"snp\" || TYPE=\"indel\"' -Ou "
        f"| bcftools csq -f {ref / 'genome.fa'} -g {ref / 'genes.gff3'} -p a -Oz -o {vcf} "
        f"2>/dev/null && bcftools index -t {vcf}")
    ped = write_ped(folder / "demo.ped", [("DEMO", "demo-father", "0", "0", 1, 1),
                                          ("DEMO", "demo-mother", "0", "0", 2, 1),
                                          ("DEMO", "demo-proband", "demo-father",
                                           "demo-mother", 1, 2)])
    return {"vcf": vcf, "ped": ped, "fasta": ref / "genome.fa", "gff3": ref / "genes.gff3",
            "folder": folder, "truth": demo / "truth.tsv"}


def rank_with(inputs: dict[str, Path], name: str, *extra: str) -> Path:
    prefix = inputs["folder"] / name
    if not Path(f"{prefix}.vcf.gz").exists():
        assert main(["rank", "--vcf", str(inputs["vcf"]), "--ped", str(inputs["ped"]),
                     "--gff3", str(inputs["gff3"]), "--fasta", str(inputs["fasta"]),
                     "--out", str(prefix), *extra]) == 0
    return prefix


def candidates(prefix: Path) -> pd.DataFrame:
    """The candidate list, '.' (not annotated) as NA, numbers as numbers."""
    table = read_candidates(Path(f"{prefix}.candidates.tsv"))[1].replace(".", pd.NA)
    for column in table.columns:
        if column.startswith(("score", "local_", "gnomad_", "clinvar_", "cadd", "revel",
                              "spliceai", "swegen")):
            table[column] = pd.to_numeric(table[column])
    return table


def scores(vcf: Path) -> dict[str, tuple[float, str]]:
    """RankScore (FAM:score) and RankResult per CHROM:POS:REF:ALT."""
    out = {}
    for line in run(f"bcftools query -f '%CHROM:%POS:%REF:%ALT\\t%INFO/RankScore\\t"
                    f"%INFO/RankResult\\n' {vcf}").splitlines():
        key, score, result = line.split("\t")
        out[key] = (float(score.split(":")[-1]), result)
    return out


def genmod_scores(inputs: dict[str, Path], prefix: Path, model: Path) -> dict:
    """`genmod score` of helgenom's ranked VCF, helgenom's own scores removed first."""
    stripped = Path(f"{prefix}.stripped.vcf")
    scored = Path(f"{prefix}.genmod.vcf")
    run(f"bcftools annotate -x INFO/RankScore,INFO/RankScoreNormalized,INFO/RankResult "
        f"-Ov -o {stripped} {prefix}.vcf.gz")
    subprocess.run([genmod(), "score", "--skip_plugin_check", "-f", str(inputs["ped"]), "-r",
                    "-c", str(model),
                    "-o", str(scored), str(stripped)], check=True, capture_output=True)
    return scores(scored)


@pytest.mark.parametrize("model", ["default", "cg-v0.4"])
def test_rank_scores_equal_real_genmod_on_the_annotated_vcf(inputs, model):
    """RankScore and every category of RankResult, record by record, equal those GENMOD
    3.12.0 computes from the ranked VCF (INFO CLNSIG..., HGClinVar, HGSpliceAI,
    most_severe_consequence and the CSQ subfields CLINVAR_CLNSIG, REVEL_score,
    SpliceAI_pred_DS_*)."""
    from helgenom.data import data_path

    path = CG_MODEL if model == "cg-v0.4" else data_path("rank_model", "helgenom_snv_v2.ini")
    prefix = rank_with(inputs, model, *(["--rank-model", str(CG_MODEL)]
                                        if model == "cg-v0.4" else []))
    ours = scores(Path(f"{prefix}.vcf.gz"))
    theirs = genmod_scores(inputs, prefix, Path(path))
    assert len(ours) == len(theirs) > 6000
    differing = [k for k in ours if ours[k] != theirs[k]]
    assert not differing, [(k, ours[k], theirs[k]) for k in differing[:5]]
    # The categories fed by the clinical annotation are scored, not all 'not reported'.
    header = run(f"bcftools view -h {prefix}.vcf.gz")
    categories = header.split("ID=RankResult,")[1].split('Description="')[1].split('"')[0]
    names = categories.split("|")
    results = pd.DataFrame([list(map(int, r.split("|"))) for _, r in ours.values()],
                           columns=names)
    for category in ("clinical_significance", "splicing", "protein_prediction",
                     "deleteriousness"):
        assert results[category].nunique() >= 3, (model, category)
    if model == "cg-v0.4":  # its consequence category reads most_severe_consequence
        assert results["consequence"].nunique() >= 4


def test_ranked_vcf_carries_csq_subfields_and_derived_info(inputs):
    prefix = rank_with(inputs, "default")
    header = run(f"bcftools view -h {prefix}.vcf.gz")
    csq_line = next(x for x in header.splitlines() if x.startswith("##INFO=<ID=CSQ,"))
    fmt = csq_line.split("Format: ")[1].split('"')[0].split("|")
    for key in ("CLINVAR_CLNSIG", "CLINVAR_CLNREVSTAT", "REVEL_score", "SpliceAI_pred_DS_AG",
                "SpliceAI_pred_DS_AL", "SpliceAI_pred_DS_DG", "SpliceAI_pred_DS_DL"):
        assert key in fmt
    for key in ("HGClinVar", "HGSpliceAI", "most_severe_consequence"):
        assert f"##INFO=<ID={key}," in header
    rows = run(f"bcftools query -i 'INFO/CLNSIG!=\".\" && INFO/CSQ!=\".\"' -f "
               f"'%INFO/CLNSIG\\t%INFO/CLNREVSTAT\\t%INFO/HGClinVar\\t%INFO/CSQ\\n' "
               f"{prefix}.vcf.gz").splitlines()
    assert len(rows) > 100
    seen = set()
    for row in rows:
        significance, status, klass, csq = row.split("\t")
        for entry in csq.split(","):
            fields = dict(zip(fmt, entry.split("|"), strict=True))
            assert fields["CLINVAR_CLNSIG"] == significance
            # ',' in the review status is '&' in CSQ (',' separates CSQ entries), as VEP writes
            assert fields["CLINVAR_CLNREVSTAT"] == status.replace(",", "&")
        seen.add(klass)
    assert seen == {"P_reviewed", "P", "conflicting", "VUS", "B_reviewed"}
    # SpliceAI: the largest delta of the ALT's own entries, the other allele's 0.99 ignored.
    splice = run(f"bcftools query -i 'INFO/SpliceAI!=\".\"' -f '%ALT\\t%INFO/SpliceAI\\t"
                 f"%INFO/HGSpliceAI\\n' {prefix}.vcf.gz").splitlines()
    assert len(splice) > 1000
    for row in splice:
        alt, value, best = row.split("\t")
        own = [e.split("|") for e in value.split(",") if e.split("|")[0] == alt]
        assert float(best) == max(float(x) for e in own for x in e[2:6])
        assert float(best) < 0.99


def test_candidate_list_shows_the_clinical_annotation(inputs):
    prefix = rank_with(inputs, "default")
    table = candidates(prefix)
    columns = list(table.columns)
    at = columns.index("population_af")
    assert columns[at + 1:at + 13] == [
        "clinvar", "clinvar_stars", "clinvar_id", "gnomad_grpmax_af", "gnomad_hom", "swegen_af",
        "local_obs", "local_hom", "local_frq", "cadd", "revel", "spliceai"]
    for c in ("score_clinical_significance", "score_deleteriousness",
              "score_protein_prediction", "score_splicing"):
        assert c in columns
    vcf = {line.split("\t")[0]: line.split("\t")[1:] for line in run(
        f"bcftools query -f '%CHROM:%POS:%REF:%ALT\\t%INFO/CLNSIG\\t%INFO/CLNVID\\t"
        f"%INFO/CADD\\t%INFO/Obs\\t%INFO/GNOMADAF_grpmax\\n' {inputs['vcf']}").splitlines()}
    checked = 0
    for _, row in table.iterrows():
        key = f"{row['chrom']}:{row['pos']}:{row['ref']}:{row['alt']}"
        clnsig, clnvid, cadd, obs, grpmax = vcf[key]
        assert (row["clinvar"] if pd.notna(row["clinvar"]) else ".") == clnsig
        assert (str(int(float(row["clinvar_id"]))) if pd.notna(row["clinvar_id"])
                else ".") == clnvid
        assert (float(row["cadd"]) if pd.notna(row["cadd"]) else ".") == (
            float(cadd) if cadd != "." else ".")
        assert (int(float(row["local_obs"])) if pd.notna(row["local_obs"]) else ".") == (
            int(obs) if obs != "." else ".")
        assert (float(row["gnomad_grpmax_af"]) if pd.notna(row["gnomad_grpmax_af"])
                else ".") == (float(grpmax) if grpmax != "." else ".")
        checked += 1
    assert checked > 100
    stars = table.loc[table["clinvar"] == "Benign/Likely_benign", "clinvar_stars"]
    assert set(stars.astype(int)) == {4}


def test_clinvar_benign_and_local_artefacts_rank_lower(inputs):
    """Same consequence, model and quality: ClinVar pathogenic (reviewed) ranks above the
    unannotated, benign (reviewed) and common-in-the-GMC variants below."""
    prefix = rank_with(inputs, "default")
    table = candidates(prefix)
    table = table[table["gates"] == "PASS"]
    base = ["score_consequence", "score_inheritance_models", "score_variant_quality"]
    groups = table.groupby(base)
    compared = 0
    for _, group in groups:
        p = group[group["clinvar_stars"].fillna(-1).astype(int).ge(2)
                  & group["clinvar"].fillna("").str.startswith("Pathogenic")]
        b = group[group["clinvar"].fillna("").str.startswith("Benign")]
        if len(p) and len(b):
            assert p["score_clinical_significance"].min() > b["score_clinical_significance"].max()
            compared += 1
    assert compared >= 1
    artefacts = table[table["local_frq"].astype(float) >= 0.25]
    assert len(artefacts) and (artefacts["score_allele_frequency"] == -10).all()


def test_review_stars_and_classes():
    status = pd.Series(["practice_guideline", "reviewed_by_expert_panel",
                        "criteria_provided,_multiple_submitters,_no_conflicts",
                        "criteria_provided,_conflicting_interpretations",
                        "criteria_provided,_single_submitter", "no_assertion_criteria_provided",
                        "no_classification_provided", None])
    assert review_stars(status).tolist()[:7] == [4, 3, 2, 1, 1, 0, 0]
    assert pd.isna(review_stars(status).iloc[7])
    significance = pd.Series(["Pathogenic", "Likely_pathogenic", "Pathogenic/Likely_pathogenic",
                              "Conflicting_classifications_of_pathogenicity", "Likely_benign",
                              "Uncertain_significance", "Benign", None])
    stars = pd.Series([2, 1, 3, 1, 1, 0, 3, pd.NA], dtype="Int64")
    assert clinvar_class(significance, stars).fillna("-").tolist() == [
        "P_reviewed", "P", "P_reviewed", "conflicting", "B", "VUS", "B_reviewed", "-"]


def test_spliceai_takes_the_alt_alleles_entries_across_genes():
    values = pd.Series(["A|G1|0.10|0.20|0.90|0.00|1|2|3|4,A|G2|0.50|0.00|0.00|0.30|1|1|1|1",
                        "C|G1|0.99|0.99|0.99|0.99|1|1|1|1", None, ".",
                        "T|G1|0.01|0.00|0.00|0.00|1|1|1|1,C|G1|0.99|0|0|0|1|1|1|1"])
    alt = pd.Series(["A", "T", "A", "A", "T"])
    out = spliceai_scores(values, alt)
    assert out.iloc[0].tolist() == [0.5, 0.2, 0.9, 0.3]
    assert out.iloc[1:4].isna().all().all()
    assert out.iloc[4].tolist() == [0.01, 0.0, 0.0, 0.0]
    table = pd.DataFrame({"ALT": alt, "SpliceAI": values})
    assert clinical_columns(table)["spliceai"].round(2).fillna(-1).tolist() == [
        0.9, -1, -1, -1, 0.01]
