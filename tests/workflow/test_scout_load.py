"""Scout loads the demo trio's case: the real workflow's results, the load config of
`helgenom scout-config`, and Scout's own loading (parse_case_data, then the adapter's
load_case, as `scout load case` does) into an in-memory database (mongomock). Every planted
variant is then in Scout with its gene, rank score, inheritance model and compound partner,
and the members with their checked sex and parenthood.

Scout knows genes by HGNC ID: the planted genes are loaded into its gene collection with
their real HGNC IDs (written here, from HGNC) on the demo's simulated coordinates, as a Scout
database holds them; Scout reads each variant's gene from the VCF's CSQ (SYMBOL, HGNC_ID).
"""

from __future__ import annotations

import datetime
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import WORKFLOW_TOOLS, need_tools, snakemake

pytestmark = pytest.mark.e2e
mongomock = pytest.importorskip("mongomock", reason="needs mongomock (test extra)")
pytest.importorskip("scout", reason="needs scout-browser (test extra)")
from scout.adapter import MongoAdapter  # noqa: E402
from scout.build.genes.hgnc_gene import build_hgnc_gene  # noqa: E402
from scout.build.hpo import build_hpo_term  # noqa: E402
from scout.load.institute import load_institute  # noqa: E402
from scout.parse.case import parse_case_data  # noqa: E402
from scout.parse.variant.compound import parse_compounds  # noqa: E402

FAMILY, OWNER, PANEL = "DEMO", "cust000", "HELGENOM-DEMO"
SAMPLES = ["demo-father", "demo-mother", "demo-proband"]
# HGNC's IDs of the planted genes
HGNC_IDS = {"MUTYH": 7527, "USH2A": 12601, "NRXN1": 8008, "SCN2A": 10588, "ALMS1": 428,
            "BMPR2": 1078, "TTN": 12403, "OTC": 8512, "MT-ND4": 7459}
HPO = {"HP:0001250": "Seizure", "HP:0001263": "Global developmental delay"}
# The GENMOD model a planted variant follows in the trio (inherited SVs follow none).
MODEL = {"AR_comp": "AR_comp", "AR_hom": "AR_hom", "AD_dn": "AD_dn", "XR": "XR",
         "de_novo": "AD_dn", "inherited_paternal": None, "MT": "MT"}
# The workflow writes the load config when the config names a Scout owner (the threshold
# lets every variant in, so that every planted one can be looked up).
SCOUT_CONFIG = "results/DEMO/DEMO.scout.yaml"
SCOUT = {"owner": OWNER, "rank_score_threshold": -100, "panels": [PANEL]}
SV_SLACK = 150  # bp between a planted SV's breakpoints and the call


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    need_tools(*WORKFLOW_TOOLS)
    from helgenom.simulate.demo import simulate

    workdir = tmp_path_factory.mktemp("scout-demo")
    simulate(workdir, seed=1)
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    (workdir / "config.yaml").write_text(yaml.safe_dump({**config, "scout": SCOUT}))
    result = snakemake(workdir, "--cores", "2", SCOUT_CONFIG)
    assert result.returncode == 0, result.stderr[-5000:]
    truth = pd.read_csv(workdir / "truth.tsv", sep="\t", dtype=str, keep_default_na=False)
    return workdir, truth


def gene_objects(gff3: Path) -> list[dict]:
    """Scout (build 38) gene objects of the planted genes, on the demo's coordinates."""
    genes = []
    for line in gff3.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) < 9 or fields[2] != "gene":
            continue
        symbol = re.search(r"Name=([^;]+)", fields[8]).group(1)
        if symbol in HGNC_IDS:
            start, end = int(fields[3]), int(fields[4])
            genes.append(build_hgnc_gene({
                "hgnc_id": HGNC_IDS[symbol], "hgnc_symbol": symbol,
                "chromosome": fields[0].removeprefix("chr"), "start": start, "end": end,
                "length": end - start + 1, "description": f"{symbol} (demo gene model)"},
                build="38"))
    return genes


@pytest.fixture(scope="module")
def loaded(demo: tuple[Path, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory
           ) -> tuple[MongoAdapter, dict, Path, pd.DataFrame]:
    """The demo's case loaded into Scout: its institute, genes, HPO terms and a panel of the
    planted genes first, then the case from the load config."""
    workdir, truth = demo
    config = workdir / SCOUT_CONFIG
    adapter = MongoAdapter(mongomock.MongoClient()["scout-test"])
    load_institute(adapter, OWNER, "helgenom demo clinic")
    adapter.load_hgnc_bulk(gene_objects(workdir / "reference" / "genes.gff3"))
    for hpo_id, description in HPO.items():
        adapter.load_hpo_term(build_hpo_term({"hpo_id": hpo_id, "description": description}))
    adapter.load_panel({
        "panel_id": PANEL, "institute": OWNER, "version": 1.0,
        "date": datetime.datetime(2024, 1, 1), "display_name": "helgenom demo genes",
        "genes": [{"hgnc_id": i, "hgnc_symbol": s} for s, i in HGNC_IDS.items()]})
    case_data = parse_case_data(config=yaml.safe_load(config.read_text()))
    case = adapter.load_case(case_data)
    return adapter, case, workdir, truth


def vcf_scores(vcf: Path) -> dict[tuple[str, int], float]:
    """RankScore of each record (chrom without 'chr', pos), read with bcftools."""
    out = subprocess.run(["bcftools", "query", "-f", "%CHROM\t%POS\t%INFO/RankScore\n",
                          str(vcf)], check=True, capture_output=True, text=True).stdout
    scores = {}
    for line in out.splitlines():
        chrom, pos, value = line.split("\t")
        if value != ".":
            scores[(chrom.removeprefix("chr"), int(pos))] = float(value.split(":")[1])
    return scores


def planted_in_scout(adapter: MongoAdapter, planted: pd.Series) -> dict:
    """The Scout variant of a planted variant (SVs: breakpoints within SV_SLACK)."""
    chrom = planted["chrom"].removeprefix("chr")
    query = {"case_id": FAMILY, "variant_type": "clinical", "chromosome": chrom}
    if planted["type"] in ("SNV", "MT"):
        query.update(category="snv", position=int(planted["pos"]), reference=planted["ref"],
                     alternative=planted["alt"])
        hits = list(adapter.variant_collection.find(query))
    else:
        hits = [v for v in adapter.variant_collection.find({**query, "category": "sv"})
                if v["alternative"] == planted["alt"]
                and abs(v["position"] - int(planted["pos"])) <= SV_SLACK
                and abs(v["end"] - int(planted["end"])) <= SV_SLACK]
    assert len(hits) == 1, (planted["id"], hits)
    return hits[0]


def genmod_name(variant: dict) -> str:
    """How Scout names a compound partner: chrom_pos_ref_alt without 'chr', and the symbolic
    ALT of an SV without <, >, [, ] and : (as GENMOD names variants)."""
    alt = re.sub(r"[<>\[\]:]", "", variant["alternative"])
    return f"{variant['chromosome']}_{variant['position']}_{variant['reference']}_{alt}"


def test_scout_reads_every_compounds_entry(demo: tuple[Path, pd.DataFrame]) -> None:
    """Scout splits each partner at its first '>' and reads the rest as the score: a partner
    name holding '>' (an SV's symbolic ALT, `chr1_85720_A_<DEL>>18`) makes Scout refuse the
    whole VCF, so SV partners are named as GENMOD names them (`chr1_85720_A_DEL>18`)."""
    workdir, _ = demo
    for vcf in ("DEMO.vcf.gz", "DEMO.sv.vcf.gz"):
        out = subprocess.run(["bcftools", "query", "-f", "%CHROM:%POS\t%INFO/Compounds\n",
                              str(workdir / "results/DEMO" / vcf)],
                             check=True, capture_output=True, text=True).stdout
        for record, value in (line.split("\t") for line in out.splitlines()):
            if value == ".":
                continue
            try:
                partners = parse_compounds(value, FAMILY, "clinical")
            except ValueError as error:
                pytest.fail(f"{vcf} {record}: Scout cannot read Compounds={value}: {error}")
            assert partners and all(re.fullmatch(r"[0-9XYMT]+_\d+_[A-Za-z]+_[A-Za-z0-9.]+",
                                                 p["display_name"]) for p in partners), value


def test_the_case_is_loaded_with_its_members_qc_phenotype_and_files(loaded) -> None:
    adapter, _, workdir, _ = loaded
    stored = adapter.case(FAMILY)
    assert stored is not None and stored["owner"] == OWNER and stored["genome_build"] == "38"
    members = {ind["individual_id"]: ind for ind in stored["individuals"]}
    assert sorted(members) == SAMPLES
    assert members["demo-proband"]["phenotype"] == 2 and members["demo-proband"]["sex"] == "1"
    # The demo trio passes every QC check: Scout shows each sex and parenthood as confirmed.
    assert all(ind["confirmed_sex"] is True for ind in members.values())
    assert members["demo-father"]["confirmed_parent"] is True
    assert members["demo-mother"]["confirmed_parent"] is True
    for sample, ind in members.items():
        assert ind["bam_file"] == str(workdir / f"results/alignment/{sample}.bam")
    assert [t["phenotype_id"] for t in stored["phenotype_terms"]] == list(HPO)
    assert [p["panel_name"] for p in stored["panels"]] == [PANEL]
    assert stored["panels"][0]["is_default"] is True
    assert stored["multiqc"] == str(workdir / "results/multiqc/multiqc_report.html")
    assert stored["has_svvariants"] is True and stored["rank_score_threshold"] == -100
    assert set(stored["vcf_files"]) == {"vcf_snv", "vcf_snv_research", "vcf_sv",
                                        "vcf_sv_research"}
    assert (stored["rank_model_version"], stored["sv_rank_model_version"]) == ("2.0", "1.0")


def test_every_planted_variant_has_its_rank_score_and_model(loaded) -> None:
    adapter, _, workdir, truth = loaded
    scores = {**vcf_scores(workdir / "results/DEMO/DEMO.vcf.gz"),
              **vcf_scores(workdir / "results/DEMO/DEMO.sv.vcf.gz")}
    for _, planted in truth.iterrows():
        variant = planted_in_scout(adapter, planted)
        key = (variant["chromosome"], variant["position"])
        assert variant["rank_score"] == scores[key], planted["id"]
        model = MODEL[planted["inheritance"]]
        models = variant.get("genetic_models") or []
        assert (model in models) if model else models == [], (planted["id"], models)


def test_every_planted_variant_has_its_gene(loaded) -> None:
    """Needs the ranked VCFs' CSQ (SYMBOL, HGNC_ID): Scout reads genes from nothing else."""
    adapter, _, _, truth = loaded
    for _, planted in truth[truth["gene"] != "."].iterrows():
        variant = planted_in_scout(adapter, planted)
        assert planted["gene"] in variant.get("hgnc_symbols", []), (planted["id"], variant.get(
            "hgnc_ids"))
        assert HGNC_IDS[planted["gene"]] in variant["hgnc_ids"], planted["id"]
        assert PANEL in variant.get("panels", []), planted["id"]


def test_every_compound_heterozygote_names_its_partner(loaded) -> None:
    """Needs SV partners named as GENMOD names them (no '>' in the name): Scout splits each
    partner at '>' to read its score, and refuses the whole VCF otherwise."""
    adapter, _, _, truth = loaded
    by_id = {row["id"]: row for _, row in truth.iterrows()}
    compounds = truth[truth["partner"] != "."]
    assert len(compounds) == 4  # MUTYH (SNV + SV) and USH2A (two SNVs)
    for _, planted in compounds.iterrows():
        variant = planted_in_scout(adapter, planted)
        partner = planted_in_scout(adapter, by_id[planted["partner"]])
        named = {c["display_name"]: c for c in variant.get("compounds", [])}
        assert genmod_name(partner) in named, (planted["id"], list(named))
        compound = named[genmod_name(partner)]
        assert isinstance(compound["combined_score"], float)
        if partner["category"] == "snv":
            # Scout links a small-variant partner to its variant (and its score); an SV
            # partner's ID keeps its symbolic ALT, which no partner name can spell.
            assert compound["variant"] == partner["_id"], planted["id"]
            assert adapter.variant(compound["variant"])["rank_score"] == partner["rank_score"]


def test_scout_shows_the_clinical_annotation_of_every_planted_snv(loaded) -> None:
    """The demo's ClinVar, CADD, REVEL and SpliceAI reach Scout through the ranked VCF: INFO
    CLNSIG/CLNREVSTAT/CLNVID and CADD, CSQ REVEL_score and SpliceAI_pred_DS_*."""
    from scout.constants import CLINSIG_MAP  # Scout stores significance as its code

    adapter, _, _, truth = loaded
    for _, planted in truth[truth["type"] == "SNV"].iterrows():
        variant = planted_in_scout(adapter, planted)
        (clnsig,) = variant["clnsig"]
        assert CLINSIG_MAP[clnsig["value"]] == "Pathogenic", (planted["id"], clnsig)
        assert "multiple_submitters" in clnsig["revstat"] and clnsig["accession"] > 900000
        assert variant["cadd_score"] >= 20, planted["id"]
        # Scout keeps the gene's highest SpliceAI delta score (from the CSQ's DS_* fields).
        genes = variant.get("genes") or []
        assert genes and max(g.get("spliceai_score") or 0 for g in genes) > 0, planted["id"]
        if planted["consequence"] == "missense":
            assert variant["revel"] >= 0.5, (planted["id"], variant.get("revel"))
