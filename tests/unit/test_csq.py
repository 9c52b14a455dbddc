"""The ranked VCFs' INFO/CSQ (VEP's layout, read as Scout reads it) and the candidate list's
transcript/hgvs_c/hgvs_p, by `helgenom rank` on the demo's planted variants."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest
from helgenom.cli import main
from helgenom.io.vcf import VcfHeader
from helgenom.rank.csq import CSQ_FORMAT, CSQ_HEADER
from helgenom.rank.gff3 import read_gene_set
from helgenom.rank.hgvs import TERMS
from helgenom.rank.sequence import header_reference
from helpers import need_tools, read_candidates, write_ped

SAMPLES = ["demo-father", "demo-mother", "demo-proband"]
FORMAT = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|HGVSc|"
          "HGVSp|STRAND|CANONICAL|HGNC_ID|CLINVAR_CLNSIG|CLINVAR_CLNREVSTAT|REVEL_score|"
          "SpliceAI_pred_DS_AG|SpliceAI_pred_DS_AL|SpliceAI_pred_DS_DG|SpliceAI_pred_DS_DL")
# The consequence terms Scout knows (scout/constants/so_terms.py, SO_TERMS): any other term in
# a CSQ makes Scout's loader fail on the variant.
SCOUT_SO_TERMS = {
    "transcript_ablation", "splice_donor_variant", "splice_acceptor_variant", "stop_gained",
    "frameshift_variant", "stop_lost", "start_lost", "initiator_codon_variant",
    "inframe_insertion", "inframe_deletion", "missense_variant", "protein_altering_variant",
    "transcript_amplification", "regulatory_region_ablation", "splice_region_variant",
    "splice_donor_5th_base_variant", "splice_donor_region_variant",
    "splice_polypyrimidine_tract_variant", "incomplete_terminal_codon_variant",
    "synonymous_variant", "start_retained_variant", "stop_retained_variant",
    "coding_sequence_variant", "mature_miRNA_variant", "5_prime_UTR_variant",
    "3_prime_UTR_variant", "non_coding_transcript_exon_variant", "non_coding_exon_variant",
    "non_coding_transcript_variant", "nc_transcript_variant", "intron_variant",
    "NMD_transcript_variant", "coding_transcript_variant", "upstream_gene_variant",
    "downstream_gene_variant", "TFBS_ablation", "TFBS_amplification", "TF_binding_site_variant",
    "regulatory_region_amplification", "regulatory_region_variant", "feature_elongation",
    "feature_truncation", "intergenic_variant", "sequence_variant"}


def run(*args: str, **kwargs) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=True,
                          **kwargs).stdout


def csq_format(vcf: Path) -> list[str]:
    """The CSQ sub-field names from the header's Description, as Scout reads them."""
    line = next(x for x in run("bcftools", "view", "-h", str(vcf)).splitlines()
                if x.startswith("##INFO=<ID=CSQ,"))
    return line.split('Description="', 1)[1].rstrip('">').partition("Format:")[2].strip().split("|")


def csq_entries(vcf: Path) -> dict[tuple[str, str], list[dict[str, str]]]:
    """Per (CHROM, POS): its CSQ entries as Scout makes them (keys upper-cased)."""
    keys = [k.upper() for k in csq_format(vcf)]
    out = {}
    for line in run("bcftools", "query", "-f", "%CHROM\t%POS\t%INFO/CSQ\n", str(vcf)).splitlines():
        chrom, pos, value = line.split("\t")
        out[(chrom, pos)] = [] if value == "." else [
            dict(zip(keys, entry.split("|"), strict=True)) for entry in value.split(",")]
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    need_tools("samtools", "bcftools", "bgzip", "tabix")
    from helgenom.simulate.demo import simulate

    out = tmp_path_factory.mktemp("csq")
    simulate(out, seed=1, depth=0.5)
    return out


def sv_vcf(demo: Path, path: Path) -> Path:
    """The planted SVs as an SV VCF (SVTYPE, END) with their genotypes."""
    truth = pd.read_csv(demo / "truth.tsv", sep="\t", dtype=str)
    contigs = [line.split("\t")[:2] for line in (demo / "reference/genome.fa.fai").read_text()
               .splitlines()]
    lines = ["##fileformat=VCFv4.2", *(f"##contig=<ID={c},length={n}>" for c, n in contigs),
             '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="type">',
             '##INFO=<ID=END,Number=1,Type=Integer,Description="end">',
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(SAMPLES)]
    for _, sv in truth[truth["type"] != "SNV"].iterrows():
        lines.append("\t".join([sv["chrom"], sv["pos"], sv["id"], "N", f"<{sv['type']}>", "50",
                                "PASS", f"SVTYPE={sv['type']};END={sv['end']}", "GT",
                                *(sv[s] for s in SAMPLES)]))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def ranked(demo: Path, tmp_path_factory) -> Path:
    """`helgenom rank` as the workflow runs it: bcftools csq's BCSQ, the FASTA found through
    the VCF header's ##reference (the workflow's callers write one), --sv and --gff3."""
    folder = tmp_path_factory.mktemp("ranked")
    ref = demo / "reference"
    header = folder / "reference.txt"
    header.write_text(f"##reference=file://{ref / 'genome.fa'}\n")
    vcf = folder / "snv.vcf.gz"
    subprocess.run(f"bcftools csq -f {ref}/genome.fa -g {ref}/genes.gff3 -p a -Ou "
                   f"{demo}/truth.vcf.gz 2>/dev/null | bcftools annotate -h {header} -Oz "
                   f"-o {vcf} && tabix -p vcf {vcf}", shell=True, check=True)
    ped = write_ped(folder / "demo.ped", [("DEMO", "demo-father", "0", "0", 1, 1),
                                          ("DEMO", "demo-mother", "0", "0", 2, 1),
                                          ("DEMO", "demo-proband", "demo-father",
                                           "demo-mother", 1, 2)])
    prefix = folder / "DEMO"
    assert main(["rank", "--vcf", str(vcf), "--ped", str(ped), "--sv",
                 str(sv_vcf(demo, folder / "sv.vcf")), "--gff3", str(ref / "genes.gff3"),
                 "--out", str(prefix)]) == 0
    return prefix


def test_header_declares_the_vep_layout(ranked):
    for vcf in (Path(f"{ranked}.vcf.gz"), Path(f"{ranked}.sv.vcf.gz")):
        header = run("bcftools", "view", "-h", str(vcf))
        assert CSQ_HEADER.strip() in header.splitlines()
        assert "|".join(csq_format(vcf)) == FORMAT == "|".join(CSQ_FORMAT)


def test_planted_small_variants_carry_their_gene_transcript_and_hgvs(demo, ranked):
    truth = pd.read_csv(demo / "truth.tsv", sep="\t", dtype=str)
    genes = read_gene_set(demo / "reference/genes.gff3")
    gene_of = genes.genes.set_index("symbol")
    transcripts = genes.transcripts
    entries = csq_entries(Path(f"{ranked}.vcf.gz"))
    expected_term = {"missense": "missense_variant", "stop_gained": "stop_gained"}
    for _, planted in truth[truth["type"] == "SNV"].iterrows():
        (entry,) = entries[(planted["chrom"], planted["pos"])]
        gene = gene_of.loc[planted["gene"]]
        tx = transcripts[transcripts["gene"] == genes.genes.index[
            genes.genes["symbol"] == planted["gene"]][0]].iloc[0]
        assert entry["SYMBOL"] == planted["gene"]
        assert entry["GENE"] == gene["gene_id"] and entry["GENE"].startswith("ENSG99")
        assert entry["FEATURE"] == tx["transcript_id"] and entry["FEATURE_TYPE"] == "Transcript"
        assert entry["CONSEQUENCE"] == expected_term[planted["consequence"]]
        assert entry["IMPACT"] == ("HIGH" if planted["consequence"] == "stop_gained"
                                   else "MODERATE")
        assert entry["HGVSC"].startswith(f"{tx['transcript_id']}.1:c.")
        assert entry["HGVSP"].startswith(f"{tx['protein_id']}:p.")
        assert entry["CANONICAL"] == "YES" and entry["BIOTYPE"] == "protein_coding"
        assert entry["STRAND"] == ("1" if gene["strand"] > 0 else "-1")
        assert entry["HGNC_ID"] == gene["hgnc_id"] and int(entry["HGNC_ID"].split(":")[-1]) > 0
        assert entry["EXON"].count("/") == 1 and not entry["INTRON"]
        # what Scout keeps: the parts after ':'
        assert entry["HGVSC"].split(":")[-1].startswith("c.")
        assert entry["HGVSP"].split(":")[-1].startswith("p.")


def test_planted_svs_carry_their_gene_effect(demo, ranked):
    truth = pd.read_csv(demo / "truth.tsv", sep="\t", dtype=str).set_index("id")
    entries = csq_entries(Path(f"{ranked}.sv.vcf.gz"))
    expected = {"MUTYH_del_mat": ("MUTYH", "transcript_ablation", "deletion"),
                "NRXN1_del_dn": ("NRXN1", "feature_truncation", "deletion"),
                "TTN_dup_dn": ("TTN", "feature_elongation", "duplication"),
                "BMPR2_dup_pat": ("BMPR2", "transcript_amplification", "duplication")}
    for planted, (symbol, term, allele) in expected.items():
        sv = truth.loc[planted]
        (entry,) = entries[(sv["chrom"], sv["pos"])]
        assert (entry["SYMBOL"], entry["CONSEQUENCE"], entry["ALLELE"]) == (symbol, term, allele)
        assert entry["CANONICAL"] == "YES" and entry["HGNC_ID"].startswith("HGNC:")
        assert entry["HGVSC"] == entry["HGVSP"] == entry["EXON"] == ""
    intergenic = truth.loc["DEL_chr1_pat"]
    assert entries[(intergenic["chrom"], intergenic["pos"])] == []


def test_every_term_is_one_scout_knows():
    assert set(TERMS) <= SCOUT_SO_TERMS


def test_candidate_list_shows_transcript_and_hgvs(demo, ranked):
    _, table = read_candidates(Path(f"{ranked}.candidates.tsv"))
    assert "protein_change" not in table.columns
    columns = list(table.columns)
    assert columns[columns.index("impact") + 1:columns.index("impact") + 4] == [
        "transcript", "hgvs_c", "hgvs_p"]
    truth = pd.read_csv(demo / "truth.tsv", sep="\t", dtype=str)
    scn2a = truth[truth["id"] == "SCN2A_missense_dn"].iloc[0]
    row = table[(table["chrom"] == scn2a["chrom"]) & (table["pos"] == scn2a["pos"])].iloc[0]
    assert row["transcript"].startswith("ENST99") and row["transcript"].endswith(".1")
    assert row["hgvs_c"] == f"{row['transcript']}:c.116T>A"
    assert row["hgvs_p"] == "p.Leu39His"
    svs = table[table["type"] == "SV"]
    assert len(svs) and set(svs["transcript"]) == set(svs["hgvs_c"]) == set(svs["hgvs_p"]) == {""}


def test_without_a_reference_there_is_no_hgvs_but_svs_keep_their_csq(demo, tmp_path, capfd):
    ref = demo / "reference"
    vcf = tmp_path / "snv.vcf.gz"
    subprocess.run(f"bcftools csq -f {ref}/genome.fa -g {ref}/genes.gff3 -p a -Oz -o {vcf} "
                   f"{demo}/truth.vcf.gz 2>/dev/null && tabix -p vcf {vcf}", shell=True,
                   check=True)
    ped = write_ped(tmp_path / "demo.ped", [("DEMO", "demo-father", "0", "0", 1, 1),
                                            ("DEMO", "demo-mother", "0", "0", 2, 1),
                                            ("DEMO", "demo-proband", "demo-father",
                                             "demo-mother", 1, 2)])
    prefix = tmp_path / "out"
    assert main(["rank", "--vcf", str(vcf), "--ped", str(ped), "--sv",
                 str(sv_vcf(demo, tmp_path / "sv.vcf")), "--gff3", str(ref / "genes.gff3"),
                 "--out", str(prefix)]) == 0
    assert "reference FASTA for HGVS" in capfd.readouterr().err
    assert "ID=CSQ," not in run("bcftools", "view", "-h", f"{prefix}.vcf.gz")
    assert "ID=CSQ," in run("bcftools", "view", "-h", f"{prefix}.sv.vcf.gz")
    _, table = read_candidates(Path(f"{prefix}.candidates.tsv"))
    assert set(table["hgvs_c"]) <= {"", "."}


def test_a_vep_csq_in_the_input_is_kept(tmp_path):
    """A VEP-annotated VCF keeps its CSQ (no second one); its HGVSp reaches hgvs_p."""
    need_tools("bcftools")
    vep = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|"
           "HGVSc|HGVSp")
    text = "\n".join([
        "##fileformat=VCFv4.2", "##contig=<ID=chr1,length=100000>",
        f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
        f'Ensembl VEP. Format: {vep}">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tdad\tmum\tkid",
        "chr1\t1000\t.\tC\tT\t50\tPASS\tCSQ=T|missense_variant|MODERATE|GENEA|ENSG1|Transcript|"
        "ENST1|protein_coding|2/5||ENST1.1:c.200C>T|ENSP1.1:p.Ala67Val\tGT\t0/0\t0/0\t0/1"]) + "\n"
    vcf = tmp_path / "vep.vcf"
    vcf.write_text(text)
    gff = tmp_path / "g.gff3"
    gff.write_text("##gff-version 3\nchr1\tt\tgene\t900\t1100\t.\t+\t.\tID=gene:ENSG1;Name=GENEA\n"
                   "chr1\tt\tmRNA\t900\t1100\t.\t+\t.\tID=transcript:ENST1;Parent=gene:ENSG1\n"
                   "chr1\tt\texon\t900\t1100\t.\t+\t.\tParent=transcript:ENST1\n")
    ped = write_ped(tmp_path / "f.ped", [("F", "dad", "0", "0", 1, 1), ("F", "mum", "0", "0", 2, 1),
                                         ("F", "kid", "dad", "mum", 1, 2)])
    prefix = tmp_path / "out"
    assert main(["rank", "--vcf", str(vcf), "--ped", str(ped), "--gff3", str(gff),
                 "--out", str(prefix)]) == 0
    header = run("bcftools", "view", "-h", f"{prefix}.vcf.gz")
    assert header.count("##INFO=<ID=CSQ,") == 1 and "Ensembl VEP" in header
    assert run("bcftools", "query", "-f", "%CSQ", f"{prefix}.vcf.gz").startswith("T|missense")
    _, table = read_candidates(Path(f"{prefix}.candidates.tsv"))
    assert table["hgvs_p"].tolist() == ["p.Ala67Val"]


def test_the_reference_named_in_the_vcf_header_is_found(tmp_path, monkeypatch):
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "genome.fa").write_text(">c\nA\n")
    header = VcfHeader([], lines=["##reference=file://ref/genome.fa"])
    monkeypatch.chdir(tmp_path)  # relative to the working folder, as the workflow's jobs run
    assert header_reference(header, "/elsewhere/x.vcf.gz") == "ref/genome.fa"
    monkeypatch.chdir("/")
    assert header_reference(header, tmp_path / "x.vcf.gz") == str(tmp_path / "ref/genome.fa")
    assert header_reference(VcfHeader([], lines=["##reference=ref/missing.fa"]),
                            tmp_path / "x.vcf") is None
