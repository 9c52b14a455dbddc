"""End to end: the real workflow on the simulated demo trio, checked against planted truth."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess

import pandas as pd
import pytest
from helpers import TEST_DATA, WORKFLOW_TOOLS, genmod, need_tools, read_candidates, snakemake

pytestmark = pytest.mark.e2e
SAMPLES = ["demo-father", "demo-mother", "demo-proband"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    need_tools(*WORKFLOW_TOOLS)
    from helgenom.cli.simulate import fill_freqdb
    from helgenom.simulate.demo import simulate

    workdir = tmp_path_factory.mktemp("demo")
    paths = simulate(workdir, seed=1)
    # as `helgenom simulate` does: the 24 background families in the demo's database
    assert fill_freqdb(paths, workdir / "reference" / "freqdb") == 24
    result = snakemake(workdir, "--cores", "2")
    assert result.returncode == 0, result.stderr[-5000:]
    truth = pd.read_csv(workdir / "truth.tsv", sep="\t", dtype=str, keep_default_na=False)
    return workdir, truth


def query(vcf, fmt: str) -> list[list[str]]:
    out = subprocess.run(["bcftools", "query", "-f", fmt, str(vcf)], check=True,
                         capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def same_gt(called: str, expected: str) -> bool:
    return sorted(called.replace("|", "/").split("/")) == sorted(expected.split("/"))


def test_every_planted_small_variant_is_called_with_the_trio_genotypes(demo_run):
    workdir, truth = demo_run
    calls = {(r[0], r[1], r[2], r[3]): r[4:] for r in query(
        workdir / "results/DEMO/DEMO.vcf.gz", "%CHROM\t%POS\t%REF\t%ALT[\t%GT]\n")}
    header = subprocess.run(["bcftools", "query", "-l", str(workdir / "results/DEMO/DEMO.vcf.gz")],
                            capture_output=True, text=True, check=True).stdout.split()
    for _, planted in truth[truth["type"] == "SNV"].iterrows():
        key = (planted["chrom"], planted["pos"], planted["ref"], planted["alt"])
        assert key in calls, f"planted {planted['id']} {key} not called"
        for sample, gt in zip(header, calls[key], strict=True):
            assert same_gt(gt, planted[sample]), (planted["id"], sample, gt, planted[sample])


def sv_hits(records: list[list[str]], planted, slack: int) -> list[list[str]]:
    """Calls of the planted SV's type whose breakpoints are within `slack` bp of the truth."""
    start, end = int(planted["pos"]), int(planted["end"])
    return [r for r in records if r[0] == planted["chrom"] and r[3].startswith(planted["type"])
            and abs(int(r[1]) - start) <= slack and abs(int(r[2]) - end) <= slack]


SV_FORMAT = "%CHROM\t%POS\t%INFO/END\t%INFO/SVTYPE[\t%SAMPLE=%GT]\n"


def test_every_planted_sv_is_called_by_each_breakpoint_caller_and_merged(demo_run):
    workdir, truth = demo_run
    planted_svs = truth[truth["type"].isin(["DEL", "DUP"])]
    # deletions (inherited, de novo, whole-gene), the exon duplication and the gain
    assert len(planted_svs) == 5, planted_svs
    delly = query(workdir / "calling/delly/DEMO.vcf.gz", SV_FORMAT)
    tiddit = {s: query(workdir / f"calling/tiddit/{s}.vcf.gz", SV_FORMAT) for s in SAMPLES}
    merged = query(workdir / "results/DEMO/DEMO.sv.vcf.gz",
                   "%CHROM\t%POS\t%INFO/END\t%INFO/SVTYPE\t%INFO/CALLERS[\t%SAMPLE=%GT]\n")
    origins = {tuple(r[:2]): r[2] for r in query(workdir / "results/DEMO/DEMO.sv.vcf.gz",
                                                 "%CHROM\t%POS\t%INFO/ORIGIN\n")}
    expected_origin = {"de_novo": "de_novo", "inherited_paternal": "paternal",
                       "AR_comp": "maternal"}  # the whole-gene deletion is the mother's
    for _, planted in planted_svs.iterrows():
        assert sv_hits(delly, planted, 150), f"delly missed {planted['id']}"
        carriers = [s for s in SAMPLES if planted[s] != "0/0"]
        for sample in SAMPLES:  # TIDDIT runs per sample: a call in each carrier, none else
            assert bool(sv_hits(tiddit[sample], planted, 150)) == (sample in carriers), (
                planted["id"], sample)
        hits = [r for r in merged if sv_hits([r[:4]], planted, 150)]
        assert len(hits) == 1, f"{planted['id']}: {hits}"
        genotypes = dict(cell.split("=") for cell in hits[0][5:])
        for sample in SAMPLES:
            assert same_gt(genotypes[sample], planted[sample]), (planted["id"], genotypes)
        assert origins[tuple(hits[0][:2])] == (
            f"demo-proband:{expected_origin[planted['inheritance']]}"), planted["id"]
        callers = set(hits[0][4].split(","))
        assert {"delly", "tiddit"} <= callers, (planted["id"], callers)
        if int(planted["end"]) - int(planted["pos"]) >= 3000:  # big enough for 1-kb bins
            assert "cnv" in callers, (planted["id"], callers)
    # Nothing else: every merged call is a planted SV.
    assert len(merged) == len(planted_svs), merged


def test_sv_population_frequency_is_annotated(demo_run):
    workdir, truth = demo_run
    merged = query(workdir / "results/DEMO/DEMO.sv.vcf.gz",
                   "%CHROM\t%POS\t%INFO/END\t%INFO/SVTYPE\t%INFO/SVAF\n")
    by_id = {row["id"]: row for _, row in truth.iterrows()}
    # The simulated population knows the gain (AF 0.031) and the paternal deletion (0.0021).
    expected = {"BMPR2_dup_pat": "0.031", "DEL_chr1_pat": "0.0021", "NRXN1_del_dn": "0",
                "MUTYH_del_mat": "0", "TTN_dup_dn": "0"}
    for planted_id, af in expected.items():
        (hit,) = sv_hits(merged, by_id[planted_id], 150)
        assert hit[4] == af, (planted_id, hit)


def test_planted_variants_carry_their_model_and_rank_first(demo_run):
    workdir, truth = demo_run
    qc_lines, ranked = read_candidates(workdir / "results/DEMO/DEMO.candidates.tsv")
    # The QC verdict heads the list; the demo trio passes every gate.
    assert qc_lines and qc_lines[0].startswith("## QC: PASS"), qc_lines
    ranks, rows = {}, {}
    # the small variants, chrM's heteroplasmic one (model MT) too
    for _, planted in truth[truth["type"].isin(["SNV", "MT"])].iterrows():
        row = ranked[(ranked["chrom"] == planted["chrom"]) & (ranked["pos"] == planted["pos"])
                     & (ranked["alt"] == planted["alt"])]
        assert len(row) == 1, f"{planted['id']} is not in the candidate list"
        assert planted["inheritance"] in row["models"].iloc[0].split("|"), (
            planted["id"], row["models"].iloc[0])
        assert planted["gene"] == row["gene"].iloc[0]
        ranks[planted["id"]] = int(row["rank"].iloc[0])
        rows[planted["id"]] = row.iloc[0]
    for _, planted in truth[truth["type"].isin(["DEL", "DUP"])].iterrows():
        sv = ranked[(ranked["type"] == "SV") & (ranked["chrom"] == planted["chrom"])
                    & (ranked["pos"].astype(int).sub(int(planted["pos"])).abs() < 200)]
        if planted["inheritance"].startswith("inherited"):
            # Inherited from the unaffected father: fits no model, not a candidate.
            assert sv.empty, (planted["id"], sv)
            continue
        assert len(sv) == 1, (planted["id"], sv)
        model = "AD_dn" if planted["inheritance"] == "de_novo" else planted["inheritance"]
        assert model in sv["models"].iloc[0].split("|"), (planted["id"], sv["models"].iloc[0])
        assert sv["gene"].iloc[0] == planted["gene"]
        # the list shows the callers behind the SV and where the proband's copy came from
        assert {"delly", "tiddit"} <= set(sv["sv_callers"].iloc[0].split(","))
        origin = {"de_novo": "de_novo", "AR_comp": "maternal"}[planted["inheritance"]]
        assert sv["sv_origin"].iloc[0] == f"demo-proband:{origin}", sv["sv_origin"].iloc[0]
        ranks[planted["id"]] = int(sv["rank"].iloc[0])
        rows[planted["id"]] = sv.iloc[0]
    # The whole-gene deletion and the paternal SNV of the same gene (called 1/1: the proband's
    # only copy) are one compound heterozygote, each naming the other as its partner.
    deletion, snv = rows["MUTYH_del_mat"], rows["MUTYH_missense_pat"]
    assert "AR_comp" in deletion["models"].split("|") and "AR_comp" in snv["models"].split("|")
    assert snv["compound_partners"].startswith(f"{deletion['chrom']}_{deletion['pos']}_")
    assert deletion["compound_partners"].startswith(f"{snv['chrom']}_{snv['pos']}_")
    assert snv["demo-proband_GT"] == "1/1"
    # The planted candidates are the top rows, and with the proband's HPO terms (seizure,
    # global developmental delay) the SCN2A de novo is first.
    assert sorted(ranks.values()) == list(range(1, len(ranks) + 1)), ranks
    assert ranks["SCN2A_missense_dn"] == 1, ranks
    # On variant evidence alone (the rank model's score) the planted small variants lead.
    by_score = ranked.assign(score=ranked["score"].astype(float)).sort_values(
        "score", ascending=False, kind="stable")
    snvs = truth.loc[truth["type"].isin(["SNV", "MT"]), "pos"]
    top_small = by_score[by_score["type"] != "SV"].head(len(snvs))
    assert set(top_small["pos"]) == set(snvs)


def test_the_heteroplasmic_mt_variant_is_called_and_ranked_with_the_mt_model(demo_run):
    """chrM is called on its own (helgenom mito-call): the planted MT-ND4 missense (~40% of
    the proband's chrM, ~10% of his mother's, none of his father's) reaches the candidate list
    with the MT model and the heteroplasmy of each member, and the ranked VCF with FORMAT/HL;
    the maternal line's homoplasmic haplogroup variant, common in the population, is called
    but ranks nowhere near it."""
    workdir, truth = demo_run
    (planted,) = truth[truth["type"] == "MT"].to_dict("records")
    _, ranked = read_candidates(workdir / "results/DEMO/DEMO.candidates.tsv")
    (row,) = ranked[(ranked["chrom"] == "chrM") & (ranked["pos"] == planted["pos"])
                    & (ranked["alt"] == planted["alt"])].to_dict("records")
    assert (row["gene"], row["models"], row["gates"]) == ("MT-ND4", "MT", "PASS"), row
    assert row["hgvs_p"] == "p.Arg340His" and row["clinvar"] == "Pathogenic"
    expected = {s: float(v) for s, v in (c.split(":") for c in planted["heteroplasmy"].split(","))}
    levels = {s: float(v) for s, v in (c.split(":") for c in row["heteroplasmy"].split(","))}
    assert levels["demo-father"] == 0
    assert levels["demo-mother"] == pytest.approx(expected["demo-mother"], abs=0.06), levels
    assert levels["demo-proband"] == pytest.approx(expected["demo-proband"], abs=0.12), levels
    for sample in SAMPLES:
        assert row[f"{sample}_GT"] == planted[sample], (sample, row[f"{sample}_GT"])
        assert int(row[f"{sample}_DP"]) >= 100  # chrM at ~7 times the nuclear depth
    calls = {(r[0], r[1]): r[2:] for r in query(
        workdir / "results/DEMO/DEMO.vcf.gz",
        "%CHROM\t%POS\t%INFO/GeneticModels[\t%GT:%HL]\n")}
    models, *cells = calls[("chrM", planted["pos"])]
    assert models == "DEMO:MT"
    assert [c.split(":")[0] for c in cells] == [planted[s] for s in SAMPLES]
    assert float(cells[2].split(":")[1]) == pytest.approx(levels["demo-proband"], abs=0.02)
    # the haplogroup variant: homoplasmic (1) in mother and son, absent in the father
    haplogroup = [key for key in calls if key[0] == "chrM" and key[1] != planted["pos"]]
    assert [[c.split(":")[0] for c in calls[k][1:]] for k in haplogroup] == [["0", "1", "1"]]
    others = ranked[(ranked["chrom"] == "chrM") & (ranked["pos"] != planted["pos"])]
    assert (others["rank"].astype(int) > int(row["rank"])).all(), others


def test_the_clinicians_workbook_report_and_index_are_delivered(demo_run):
    """The workbook and the HTML report hold every candidate of the list; the index links the
    family's report."""
    import openpyxl

    workdir, _ = demo_run
    family = workdir / "results" / "DEMO"
    _, ranked = read_candidates(family / "DEMO.candidates.tsv")
    wb = openpyxl.load_workbook(family / "DEMO.candidates.xlsx")
    assert wb.sheetnames == ["Candidates", "QC", "Run"]
    ws = wb["Candidates"]
    header = next(c.row for c in ws["A"] if c.value == "rank")
    column = {c.value: c.column for c in ws[header] if c.value}
    assert ws.max_row - header == len(ranked)
    assert "proband demo-proband GT" in column
    assert ws.cell(header + 1, column["gene"]).value == ranked["gene"].iloc[0]
    assert isinstance(ws.cell(header + 1, column["score"]).value, int | float)
    hpo = [row[0] for row in wb["Run"].iter_rows(values_only=True)
           if str(row[0]).startswith("HP:")]
    assert hpo == ["HP:0001250", "HP:0001263"]  # the proband's terms of the sample sheet
    report = (family / "DEMO.report.html").read_text()
    assert '<meta name="helgenom-family" content="DEMO">' in report
    assert '<meta name="helgenom-verdict" content="PASS">' in report
    assert f'<meta name="helgenom-candidates" content="{len(ranked)}">' in report
    # the top candidate's evidence: each member's pileup, the proband's with reads of the ALT
    top = report.split('id="ev-c1"', 1)[1].split('<tr id="c2"', 1)[0]
    assert top.count('class="pileup"') >= 3
    proband = top.split('data-sample="demo-proband"', 1)[1]
    alt = re.search(r'class="read-counts" data-ref="\d+" data-alt="(\d+)"', proband)
    assert alt and int(alt.group(1)) > 0, proband[-400:]
    index = (workdir / "results" / "index.html").read_text()
    assert 'href="DEMO/DEMO.report.html"' in index


CSQ_FORMAT = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|"
              "HGVSc|HGVSp|STRAND|CANONICAL|HGNC_ID|CLINVAR_CLNSIG|CLINVAR_CLNREVSTAT|"
              "REVEL_score|SpliceAI_pred_DS_AG|SpliceAI_pred_DS_AL|SpliceAI_pred_DS_DG|"
              "SpliceAI_pred_DS_DL")


def csq(vcf, chrom: str, pos: str) -> list[dict[str, str]]:
    """The CSQ entries of the record at chrom:pos, by the header's Format."""
    header = subprocess.run(["bcftools", "view", "-h", str(vcf)], capture_output=True,
                            text=True, check=True).stdout
    line = next(x for x in header.splitlines() if x.startswith("##INFO=<ID=CSQ,"))
    keys = line.split("Format: ", 1)[1].rstrip('">').split("|")
    (value,) = [r[2] for r in query(vcf, "%CHROM\t%POS\t%INFO/CSQ\n") if r[:2] == [chrom, pos]]
    return [] if value == "." else [dict(zip(keys, e.split("|"), strict=True))
                                    for e in value.split(",")]


def test_candidates_and_vcfs_carry_hgvs_and_csq(demo_run):
    """The rank job finds the reference through the VCF header (bcftools mpileup names it):
    HGVS on each gene's canonical transcript in the candidate list, VEP-style CSQ in both
    ranked VCFs."""
    workdir, truth = demo_run
    _, ranked = read_candidates(workdir / "results/DEMO/DEMO.candidates.tsv")
    assert "protein_change" not in ranked.columns
    snv_vcf, sv_vcf = (workdir / f"results/DEMO/DEMO.{k}vcf.gz" for k in ("", "sv."))
    for vcf in (snv_vcf, sv_vcf):
        header = subprocess.run(["bcftools", "view", "-h", str(vcf)], capture_output=True,
                                text=True, check=True).stdout
        assert f"Consequence annotations from helgenom. Format: {CSQ_FORMAT}" in header
    for _, planted in truth[truth["type"] == "SNV"].iterrows():
        row = ranked[(ranked["chrom"] == planted["chrom"]) & (ranked["pos"] == planted["pos"])
                     ].iloc[0]
        assert re.fullmatch(r"ENST99\d{9}\.1", row["transcript"]), row["transcript"]
        assert re.fullmatch(rf"{row['transcript']}:c\.\d+[ACGT]>[ACGT]", row["hgvs_c"])
        ending = "Ter" if planted["consequence"] == "stop_gained" else "[A-Z][a-z]{2}"
        assert re.fullmatch(rf"p\.[A-Z][a-z]{{2}}\d+{ending}", row["hgvs_p"]), row["hgvs_p"]
        (entry,) = csq(snv_vcf, planted["chrom"], planted["pos"])
        assert entry["SYMBOL"] == planted["gene"] and entry["CANONICAL"] == "YES"
        assert entry["Consequence"] == {"missense": "missense_variant",
                                        "stop_gained": "stop_gained"}[planted["consequence"]]
        assert entry["Gene"].startswith("ENSG99") and entry["HGNC_ID"].startswith("HGNC:")
        assert entry["HGVSc"] == row["hgvs_c"]
        assert entry["HGVSp"].split(":")[-1] == row["hgvs_p"]
    scn2a = ranked[ranked["gene"] == "SCN2A"].iloc[0]
    assert scn2a["hgvs_c"].endswith(":c.116T>A") and scn2a["hgvs_p"] == "p.Leu39His"
    svs = ranked[ranked["type"] == "SV"]
    assert set(svs["hgvs_c"]) == set(svs["hgvs_p"]) == {""}
    deletion = truth[truth["id"] == "MUTYH_del_mat"].iloc[0]
    (call,) = sv_hits(query(sv_vcf, SV_FORMAT), deletion, 150)
    (entry,) = csq(sv_vcf, call[0], call[1])
    assert (entry["SYMBOL"], entry["Consequence"]) == ("MUTYH", "transcript_ablation")


def test_clinical_sources_reach_the_candidate_list_and_the_ranked_vcf(demo_run):
    """The demo's simulated ClinVar lists every planted SNV as Pathogenic (multiple
    submitters, 2 stars), CADD/REVEL/SpliceAI score them: the workflow's annotation carries
    them to the candidate list, the ranked VCF's INFO and CSQ, and into the score."""
    workdir, truth = demo_run
    _, ranked = read_candidates(workdir / "results/DEMO/DEMO.candidates.tsv")
    clinvar = {(r[0], r[1], r[3], r[4]): r[2] for r in query(
        workdir / "reference/clinvar.vcf.gz", "%CHROM\t%POS\t%ID\t%REF\t%ALT\n")}
    snv_vcf = workdir / "results/DEMO/DEMO.vcf.gz"
    for _, planted in truth[truth["type"] == "SNV"].iterrows():
        row = ranked[(ranked["chrom"] == planted["chrom"]) & (ranked["pos"] == planted["pos"])
                     ].iloc[0]
        bare = planted["chrom"].removeprefix("chr")  # ClinVar names contigs 1, 2, X
        assert row["clinvar"] == "Pathogenic" and row["clinvar_stars"] == "2", row
        assert row["clinvar_id"] == clinvar[(bare, planted["pos"], planted["ref"],
                                             planted["alt"])]
        assert float(row["cadd"]) >= 20 and float(row["score_clinical_significance"]) == 10
        (entry,) = csq(snv_vcf, planted["chrom"], planted["pos"])
        assert entry["CLINVAR_CLNSIG"] == "Pathogenic"
        assert entry["CLINVAR_CLNREVSTAT"] == "criteria_provided&_multiple_submitters&_no_conflicts"
        if planted["consequence"] == "missense":
            assert float(row["revel"]) >= 0.5 and entry["REVEL_score"] == row["revel"]
    info = {tuple(r[:2]): r[2:] for r in query(snv_vcf, "%CHROM\t%POS\t%INFO/HGClinVar\t"
                                                 "%INFO/most_severe_consequence\n")}
    for _, planted in truth[truth["type"] == "SNV"].iterrows():
        assert info[(planted["chrom"], planted["pos"])][0] == "P_reviewed"
    # Benign ClinVar entries and common gnomAD grpmax frequencies reach the VCF too.
    benign = [r for r in query(snv_vcf, "%INFO/CLNSIG\t%INFO/GNOMADAF_grpmax\n")
              if r[0].startswith("Benign")]
    assert benign and all(float(r[1]) >= 0.01 for r in benign if r[1] != ".")


def test_clinical_genomics_model_scores_the_workflows_vcf_as_genmod_does(demo_run, tmp_path):
    """The Clinical Genomics GRCh38 SNV model v0.4 runs unchanged on the family VCF the
    workflow annotated: RankScore and every category equal the real genmod score 3.12.0's on
    the ranked VCF, record by record."""
    from helgenom.cli import main

    workdir, _ = demo_run
    model = TEST_DATA / "rank-models" / "clinicalgenomics_grch38_rank_model_-v0.4-.ini"
    prefix = tmp_path / "cg"
    assert main(["rank", "--vcf", str(workdir / "annotation/DEMO.snv.vcf.gz"),
                 "--ped", str(workdir / "results/DEMO/DEMO.ped"),
                 "--gff3", str(workdir / "reference/genes.gff3"),
                 "--fasta", str(workdir / "reference/genome.fa"),
                 "--rank-model", str(model), "--out", str(prefix)]) == 0
    stripped, scored = tmp_path / "stripped.vcf", tmp_path / "genmod.vcf"
    subprocess.run(["bcftools", "annotate", "-x", "INFO/RankScore,INFO/RankScoreNormalized,"
                    "INFO/RankResult", "-Ov", "-o", str(stripped), f"{prefix}.vcf.gz"],
                   check=True)
    subprocess.run([genmod(), "score", "--skip_plugin_check", "-f",
                    str(workdir / "results/DEMO/DEMO.ped"), "-r", "-c", str(model), "-o",
                    str(scored), str(stripped)], check=True, capture_output=True)
    fmt = "%CHROM:%POS:%REF:%ALT\t%INFO/RankScore\t%INFO/RankResult\n"
    # RankScore as a number: GENMOD writes -6.0 where helgenom writes -6.
    ours = {r[0]: (float(r[1].split(":")[1]), r[2]) for r in query(f"{prefix}.vcf.gz", fmt)}
    theirs = {r[0]: (float(r[1].split(":")[1]), r[2]) for r in query(scored, fmt)}
    assert len(ours) == len(theirs) > 1000 and ours == theirs
    # ClinVar, REVEL, SpliceAI (CSQ), CADD and the consequence are scored, not all absent.
    categories = [list(map(int, v[1].split("|"))) for v in ours.values()]
    assert len({tuple(c) for c in categories}) > 20


def test_the_gmcs_frequency_database_exposes_the_recurrent_artefact(demo_run, tmp_path):
    """The proband carries a de novo looking missense (LMNA) that 20 of the 24 earlier
    families of the demo GMC carry too: its local counts reach the candidate list and demote
    it below every planted variant. After the run the family is in the database, once."""
    from helgenom.cli import main

    workdir, truth = demo_run
    _, ranked = read_candidates(workdir / "results/DEMO/DEMO.candidates.tsv")
    db = workdir / "reference" / "freqdb"
    backgrounds = query(workdir / "reference/population.vcf.gz", "%CHROM\t%POS\n")
    artefact = ranked[(ranked["gene"] == "LMNA") & (ranked["local_obs"] != ".")]
    assert len(artefact) == 1, ranked[ranked["gene"] == "LMNA"]
    row = artefact.iloc[0]
    assert [row["chrom"], row["pos"]] not in backgrounds  # gnomAD has never seen it
    carriers = sum(1 for vcf in sorted((workdir / "background").glob("BG*.vcf.gz"))
                   if query(vcf, "%CHROM\t%POS\n").count([row["chrom"], row["pos"]]))
    assert carriers >= 12
    assert int(row["local_obs"]) == carriers and row["population_af"] == "."
    assert float(row["local_frq"]) == pytest.approx(carriers / 24, abs=1e-4)
    assert row["score_allele_frequency"] == "-10" and "AD_dn" in row["models"]
    planted_ranks = [int(r) for r in ranked.loc[ranked["pos"].isin(truth["pos"]), "rank"]]
    assert int(row["rank"]) > max(planted_ranks)
    # The ranked VCF carries the counts for Scout (loqusdb's INFO names).
    (counts,) = [r for r in query(workdir / "results/DEMO/DEMO.vcf.gz",
                                  "%CHROM\t%POS\t%INFO/Obs\t%INFO/Frq\n")
                 if r[:2] == [row["chrom"], row["pos"]]]
    assert counts[2] == str(carriers)
    # Loaded after ranking: 25 cases, and the export counts the proband's call too.
    receipt = json.loads((workdir / "freqdb/DEMO.load.json").read_text())
    assert receipt["case"] == "DEMO" and receipt["status"] == "loaded" and receipt["cases"] == 25
    export = tmp_path / "export.vcf.gz"
    assert main(["freqdb", "export", "--db", str(db), "--out", str(export)]) == 0
    header = subprocess.run(["bcftools", "view", "-h", str(export)], capture_output=True,
                            text=True, check=True).stdout
    assert "##NrCases=25" in header
    (exported,) = [r for r in query(export, "%CHROM\t%POS\t%INFO/Obs\n")
                   if r[:2] == [row["chrom"], row["pos"]]]
    assert exported[2] == str(carriers + 1)
    # Annotating DEMO again leaves DEMO itself out: the same counts as before it was loaded.
    again = tmp_path / "again.vcf.gz"
    assert main(["freqdb", "annotate", "--db", str(db), "--vcf",
                 str(workdir / "annotation/DEMO.snv.vcf.gz"), "--out", str(again),
                 "--case-id", "DEMO"]) == 0
    (reannotated,) = [r for r in query(again, "%CHROM\t%POS\t%INFO/Obs\n")
                      if r[:2] == [row["chrom"], row["pos"]]]
    assert reannotated[2] == str(carriers)


def test_qc_report_and_pedigree_are_delivered(demo_run):
    workdir, _ = demo_run
    report = (workdir / "results/multiqc/multiqc_report.html").read_text()
    assert "fastp" in report and "mosdepth" in report and "demo-proband" in report
    ped = (workdir / "results/DEMO/DEMO.ped").read_text().splitlines()
    assert "DEMO\tdemo-proband\tdemo-father\tdemo-mother\t1\t2" in ped


def test_family_qc_passes_the_demo_trio_and_reaches_multiqc(demo_run):
    workdir, _ = demo_run
    qc = pd.read_csv(workdir / "results/DEMO/DEMO.qc.tsv", sep="\t", dtype=str,
                     keep_default_na=False)
    verdicts = qc[qc["metric"] == "verdict"].set_index("unit")["verdict"].to_dict()
    assert verdicts == {"demo-father": "PASS", "demo-mother": "PASS", "demo-proband": "PASS",
                        "DEMO": "PASS"}
    kinship = qc[qc["metric"].str.startswith("kinship")]
    assert len(kinship) >= 3 and set(kinship["verdict"]) == {"PASS"}
    report = (workdir / "results/multiqc/multiqc_report.html").read_text()
    assert "helgenom_qc_verdicts" in report and "helgenom_qc_relatedness" in report


def test_depth_caller_finds_the_large_svs_and_no_upd(demo_run):
    workdir, truth = demo_run
    cnvs = query(workdir / "results/DEMO/DEMO.cnv.vcf.gz", SV_FORMAT)
    svs = truth[truth["type"].isin(["DEL", "DUP"])]
    large = svs[svs["end"].astype(int) - svs["pos"].astype(int) >= 3000]
    assert len(large) == 4, large  # all but the ~1 kb exon duplication
    for _, planted in large.iterrows():
        # 1-kb bins: the call may start and end up to a bin away from the breakpoints.
        hits = sv_hits(cnvs, planted, 1000)
        assert hits, f"{planted['id']} not called from depth: {cnvs}"
        genotypes = dict(cell.split("=") for cell in hits[0][4:])
        for sample in SAMPLES:
            assert same_gt(genotypes[sample], planted[sample]), (planted["id"], genotypes)
    assert len(cnvs) == len(large), cnvs
    upd = pd.read_csv(workdir / "results/DEMO/DEMO.upd.tsv", sep="\t")
    assert set(upd["call"]) == {"none"} and set(upd["chrom"]) == {"chr1", "chr2"}


@pytest.fixture(scope="module")
def upd_run(tmp_path_factory):
    need_tools(*WORKFLOW_TOOLS)
    from helgenom.simulate.demo import simulate

    workdir = tmp_path_factory.mktemp("upd")
    simulate(workdir, seed=1, size_mb=0.6, depth=15, scenario="upd")
    result = snakemake(workdir, "--cores", "2", "results/DEMO/DEMO.upd.tsv")
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


def test_uniparental_isodisomy_is_detected(upd_run):
    upd = pd.read_csv(upd_run / "results/DEMO/DEMO.upd.tsv", sep="\t").set_index("chrom")
    # The proband's chr1 is two copies of his mother's: maternal isodisomy; chr2 is biparental.
    assert upd.loc["chr1", "call"] == "UPD-mat iso", upd
    assert upd.loc["chr2", "call"] == "none", upd


def test_run_manifest_names_the_tools_run_and_checksums_the_results(demo_run):
    workdir, _ = demo_run
    manifest = json.loads((workdir / "results/manifest.json").read_text())
    tools = manifest["tools"]
    # The versions the jobs' tools report (no --sdm conda here: the ones on PATH).
    for tool in ("samtools", "bcftools"):
        reported = subprocess.run([tool, "--version"], capture_output=True, text=True,
                                  errors="replace", check=True).stdout.split()[1]
        assert tools[tool] == reported, (tool, tools)
    assert re.fullmatch(r"0\.7\.\d+\S*", tools["bwa"]), tools
    for tool in ("fastp", "mosdepth", "delly", "multiqc", "python", "snakemake"):
        assert re.match(r"\d+\.\d+", tools[tool]), (tool, tools)
    assert set(manifest["tools_by_env"]["bwa"]) == {"bwa", "samtools", "fastp"}
    outputs = {record["path"]: record for record in manifest["outputs"]}
    for path in ("results/DEMO/DEMO.candidates.tsv", "results/DEMO/DEMO.vcf.gz",
                 "results/DEMO/DEMO.qc.tsv", "results/multiqc/multiqc_report.html",
                 "results/alignment/demo-proband.bam", "results/DEMO/DEMO.candidates.xlsx",
                 "results/DEMO/DEMO.report.html", "results/index.html"):
        digest = hashlib.sha256((workdir / path).read_bytes()).hexdigest()
        assert outputs[path]["sha256"] == digest, path
    inputs = {record["path"] for record in manifest["inputs"]}
    assert {"config.yaml", "samples.tsv", "fastq/demo-proband_L002_R1.fastq.gz",
            "reference/genome.fa"} <= inputs
    assert manifest["summary"]["missing"] == [] and manifest["config"]["gmc"] == "demo"
    assert "--cores" in manifest["command"]  # the command as typed, not the job's


def test_touching_the_sample_sheet_reruns_nothing(demo_run):
    workdir, _ = demo_run
    sheet = workdir / "samples.tsv"
    sheet.write_text(sheet.read_text())  # new mtime, same families
    result = snakemake(workdir, "--dry-run", "--cores", "2")
    assert result.returncode == 0, result.stderr
    assert "Nothing to be done" in result.stdout + result.stderr, result.stdout[-3000:]


def test_a_finished_run_has_nothing_left_to_do(demo_run):
    workdir, _ = demo_run
    result = snakemake(workdir, "--dry-run", "--cores", "2")
    assert result.returncode == 0, result.stderr
    assert "Nothing to be done" in result.stdout + result.stderr, result.stdout[-3000:]
    assert not (workdir / "versions").exists() or not any((workdir / "versions").iterdir())
