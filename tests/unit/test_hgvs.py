"""HGVS c./n./p. notation and consequences (helgenom.rank.hgvs, through the CSQ annotator):
every notation kind on a hand-made genome with a plus-strand, a minus-strand and a
non-coding transcript; the demo's planted variants against c./p. positions computed here from
its GFF3 and FASTA; bcftools csq's protein changes on the demo's population variants."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest
from helgenom.rank.csq import CSQ_FORMAT, Annotator
from helgenom.rank.gff3 import read_gene_set
from helgenom.rank.hgvs import BIT, Transcripts, protein_change
from helpers import need_tools

# --------------------------------------------------------------------- a hand-made genome

_BASES = "TCAG"
_AMINO = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODONS = {a + b + c: _AMINO[16 * i + 4 * j + k] for i, a in enumerate(_BASES)
          for j, b in enumerate(_BASES) for k, c in enumerate(_BASES)}
THREE = dict(zip("ACDEFGHIKLMNPQRSTVWY*", [
    "Ala", "Cys", "Asp", "Glu", "Phe", "Gly", "His", "Ile", "Lys", "Leu", "Met", "Asn", "Pro",
    "Gln", "Arg", "Ser", "Thr", "Val", "Trp", "Tyr", "Ter"], strict=True))


def revcomp(seq: str) -> str:
    return seq.translate(str.maketrans("ACGT", "TGCA"))[::-1]


# Plus strand, ENSTP0001: exons 101-130, 201-250, 301-340; CDS c.1-20 = 111-130,
# c.21-70 = 201-250, c.71-90 = 301-320; 5'UTR c.-10..-1 = 101-110; 3'UTR c.*1.. = 321-340.
UTR5 = "GAGCTCAGCC"
CDS = ("ATG AAA AAA GCT CTG TCA GGC TGG GAA CGT GAT CCA GTT ACC TAC CAT ATC TTC AAC CAG AGC "
       "GCA GGA CTC ATG TGC AAG GAG GTC TAA").replace(" ", "")  # MKKALSGWERDPVTYHIFNQSAGLMCKEV*
UTR3 = "GCATTCCCGTAGGGAAATTT"  # read on from the stop: Ala Phe Pro Ter
INTRON1 = "GTAAGCTTCC" + "ACTGACTGAC" * 5 + "CTTTTCCCAG"  # 131-200
INTRON2 = "GTGAGT" + "CATG" * 10 + "CTAG"  # 251-300
# Minus strand, ENSTM0001: exon 1 = 701-740 (transcript 1-40), intron 641-700, exon 2 =
# 601-640; c.1 = 732, c.32 = 701, c.33 = 640, c.60 = 613, c.-1 = 733, c.*1 = 612.
M_UTR5 = "CCACCGCC"
M_CDS = ("ATG GCT CGA TTT TTT TGG AAA CCC GAG CAT GGC ACA GTA AAC TCC ATC CAG GAT CTT TGA"
         ).replace(" ", "")  # MARFFWKPEHGTVNSIQDL*
M_UTR3 = "GCCTTAAGGCCC"
M_INTRON = "GTAAGT" + "ACGT" * 12 + "TTTCAG"
# Non-coding (lncRNA), ENSTN0001: exons 1001-1030 and 1071-1100.
N_EXON1, N_INTRON, N_EXON2 = "GCGCATATGC" * 3, "GT" + "CA" * 18 + "AG", "TTGGCCAATT" * 3


def genome() -> str:
    plus = UTR5 + CDS + UTR3
    minus = M_UTR5 + M_CDS + M_UTR3
    seq = ("TCAG" * 25 + plus[:30] + INTRON1 + plus[30:80] + INTRON2 + plus[80:]
           + "GATC" * 65 + revcomp(minus[:40] + M_INTRON + minus[40:]) + "ACTG" * 65
           + N_EXON1 + N_INTRON + N_EXON2 + "TTGA" * 25)
    assert len(seq) == 1200
    return seq


def gff3() -> str:
    """Contig '1' (the FASTA and the VCF say chr1). Gene GP has a longer untagged
    transcript too; the tagged one is chosen."""
    rows = [
        ("gene", 95, 345, "+", "ID=gene:ENSGP;Name=GP;biotype=protein_coding;"
         "description=plus gene [Source:HGNC Symbol%3BAcc:HGNC:1001];version=3"),
        ("mRNA", 101, 340, "+", "ID=transcript:ENSTP0001;Parent=gene:ENSGP;"
         "biotype=protein_coding;tag=basic,Ensembl_canonical;version=2"),
        *(("exon", a, b, "+", "Parent=transcript:ENSTP0001")
          for a, b in ((101, 130), (201, 250), (301, 340))),
        *(("CDS", a, b, "+", "ID=CDS:ENSPP0001;Parent=transcript:ENSTP0001;"
           "protein_id=ENSPP0001") for a, b in ((111, 130), (201, 250), (301, 320))),
        ("mRNA", 101, 340, "+", "ID=transcript:ENSTP0002;Parent=gene:ENSGP;"
         "biotype=protein_coding;tag=basic"),
        ("exon", 101, 340, "+", "Parent=transcript:ENSTP0002"),
        ("CDS", 111, 335, "+", "Parent=transcript:ENSTP0002;protein_id=ENSPP0002"),
        ("gene", 601, 740, "-", "ID=gene:ENSGM;Name=GM;biotype=protein_coding;"
         "description=minus gene [Source:HGNC Symbol%3BAcc:HGNC:2002]"),
        ("mRNA", 601, 740, "-", "ID=transcript:ENSTM0001;Parent=gene:ENSGM;"
         "biotype=protein_coding"),
        ("exon", 601, 640, "-", "Parent=transcript:ENSTM0001"),
        ("exon", 701, 740, "-", "Parent=transcript:ENSTM0001"),
        ("CDS", 613, 640, "-", "Parent=transcript:ENSTM0001;protein_id=ENSPM0001"),
        ("CDS", 701, 732, "-", "Parent=transcript:ENSTM0001;protein_id=ENSPM0001"),
        ("ncRNA_gene", 1001, 1100, "+", "ID=gene:ENSGN;Name=GN;biotype=lncRNA"),
        ("lnc_RNA", 1001, 1100, "+", "ID=transcript:ENSTN0001;Parent=gene:ENSGN;"
         "biotype=lncRNA"),
        ("exon", 1001, 1030, "+", "Parent=transcript:ENSTN0001"),
        ("exon", 1071, 1100, "+", "Parent=transcript:ENSTN0001"),
    ]
    return "##gff-version 3\n" + "".join(
        f"1\ttest\t{kind}\t{a}\t{b}\t.\t{strand}\t.\t{attributes}\n"
        for kind, a, b, strand, attributes in rows)


@pytest.fixture(scope="module")
def annotator(tmp_path_factory) -> Annotator:
    folder = tmp_path_factory.mktemp("hgvs")
    fasta = folder / "genome.fa"
    seq = genome()
    fasta.write_text(">chr1\n" + "\n".join(seq[i:i + 60] for i in range(0, len(seq), 60))
                     + "\n")
    (folder / "genome.fa.fai").write_text(f"chr1\t{len(seq)}\t6\t60\t61\n")
    gff = folder / "genes.gff3"
    gff.write_text(gff3())
    return Annotator(Transcripts.chosen(read_gene_set(gff)), str(fasta), csq=True)


def annotate(annotator: Annotator, variants: list[tuple[int, str, str]], gene: str = ""
             ) -> pd.DataFrame:
    """Per variant (POS, REF, ALT on chr1): transcript, hgvs_c, hgvs_p and its CSQ entries."""
    seq = genome()
    for pos, ref, _ in variants:
        assert seq[pos - 1:pos - 1 + len(ref)] == ref, (pos, ref)  # the test's own check
    table = pd.DataFrame({"CHROM": "chr1", "POS": [v[0] for v in variants],
                          "REF": [v[1] for v in variants], "ALT": [v[2] for v in variants],
                          "gene": gene})
    out = annotator.small_variants(table)
    out["entries"] = [[dict(zip(CSQ_FIELDS, e.split("|"), strict=True)) for e in c.split(",")]
                      if c else [] for c in out["csq"]]
    return out


CSQ_FIELDS = list(CSQ_FORMAT)  # helgenom's CSQ layout (the clinical columns empty here)

# (POS, REF, ALT, c., p., consequence) on the plus-strand transcript ENSTP0001.2.
PLUS = [
    (124, "T", "A", "c.14T>A", "p.Leu5Gln", "missense_variant"),
    (205, "G", "T", "c.25G>T", "p.Glu9Ter", "stop_gained"),
    (122, "T", "C", "c.12T>C", "p.Ala4=", "synonymous_variant"),
    (112, "T", "C", "c.2T>C", "p.Met1?", "start_lost"),
    (320, "A", "C", "c.90A>C", "p.Ter30TyrextTer5", "stop_lost"),
    (319, "A", "G", "c.89A>G", "p.Ter30=", "stop_retained_variant"),  # TAA -> TGA
    (125, "GT", "G", "c.16del", "p.Ser6GlnfsTer?", "frameshift_variant"),
    # 3' rule: one A of AAAAAA (c.4-9) deleted / duplicated is c.9del / c.9dup
    (113, "GA", "G", "c.9del", "p.Ala4LeufsTer?", "frameshift_variant"),
    (113, "G", "GA", "c.9dup", "p.Ala4SerfsTer8", "frameshift_variant"),
    (113, "GAAA", "G", "c.7_9del", "p.Lys3del", "inframe_deletion"),
    (113, "G", "GAAA", "c.7_9dup", "p.Lys3dup", "inframe_insertion"),
    (122, "T", "TGGC", "c.12_13insGGC", "p.Ala4_Leu5insGly", "inframe_insertion"),
    (123, "CT", "AA", "c.13_14delinsAA", "p.Leu5Lys", "missense_variant"),
    # the shared last base C is not part of the change
    (123, "CTGTC", "AAGCC", "c.13_16delinsAAGC", "p.Leu5_Ser6delinsLysPro",
     "missense_variant"),
    (130, "G", "A", "c.20G>A", "p.Gly7Asp", "missense_variant&splice_region_variant"),
    (131, "G", "A", "c.20+1G>A", "", "splice_donor_variant"),
    (199, "A", "G", "c.21-2A>G", "", "splice_acceptor_variant"),
    (135, "G", "A", "c.20+5G>A", "", "splice_region_variant&intron_variant"),
    (150, "C", "T", "c.20+20C>T", "", "intron_variant"),
    (190, "C", "T", "c.21-11C>T", "", "intron_variant"),
    (104, "C", "T", "c.-7C>T", "", "5_prime_UTR_variant"),
    (325, "T", "C", "c.*5T>C", "", "3_prime_UTR_variant"),
    (97, "T", "G", "c.-14T>G", "", "upstream_gene_variant"),  # in the gene, before the
    # transcript
]


# The same kinds on the minus-strand transcript ENSTM0001 (no version in the GFF3).
MINUS = [
    (728, "G", "T", "c.5C>A", "p.Ala2Asp", "missense_variant"),
    (716, "C", "T", "c.17G>A", "p.Trp6Ter", "stop_gained"),
    # the run c.10-16 (TTTTTTT) is AAAAAAA at 717-723: left-aligned in the VCF, which is
    # 3' on this strand
    (716, "CA", "C", "c.16del", "p.Trp6GlyfsTer8", "frameshift_variant"),
    (716, "C", "CA", "c.16dup", "p.Trp6LeufsTer?", "frameshift_variant"),
    (700, "C", "T", "c.32+1G>A", "", "splice_donor_variant"),
    (642, "T", "C", "c.33-2A>G", "", "splice_acceptor_variant"),
    (735, "C", "T", "c.-3G>A", "", "5_prime_UTR_variant"),
    (611, "G", "A", "c.*2C>T", "", "3_prime_UTR_variant"),
    (732, "T", "C", "c.1A>G", "p.Met1?", "start_lost"),
]


@pytest.mark.parametrize(("strand", "cases", "reference", "protein"), [
    ("+", PLUS, "ENSTP0001.2", "ENSPP0001"), ("-", MINUS, "ENSTM0001", "ENSPM0001")])
def test_every_notation_kind_on_both_strands(annotator, strand, cases, reference, protein):
    out = annotate(annotator, [c[:3] for c in cases])
    for (pos, ref, alt, c_text, p_text, consequence), (_, row) in zip(
            cases, out.iterrows(), strict=True):
        assert row["transcript"] == reference, pos
        assert (row["hgvs_c"], row["hgvs_p"]) == (f"{reference}:{c_text}", p_text), (pos, ref, alt)
        (entry,) = row["entries"]
        assert entry["Consequence"] == consequence, (pos, ref, alt, entry)
        assert entry["HGVSc"] == f"{reference}:{c_text}"
        assert entry["HGVSp"] == (f"{protein}:{p_text.replace('=', '%3D')}" if p_text else "")
        assert entry["STRAND"] == ("1" if strand == "+" else "-1")
        assert entry["CANONICAL"] == "YES" and entry["Feature_type"] == "Transcript"
        assert entry["Feature"] == reference.split(".")[0]


def test_exon_and_intron_numbers_follow_the_transcript(annotator):
    out = annotate(annotator, [(124, "T", "A"), (150, "C", "T"), (325, "T", "C"),
                               (728, "G", "T"), (700, "C", "T"), (611, "G", "A")])
    fields = [(e["EXON"], e["INTRON"]) for entries in out["entries"] for e in entries]
    assert fields == [("1/3", ""), ("", "1/2"), ("3/3", ""), ("1/2", ""), ("", "1/1"),
                      ("2/2", "")]


def test_non_coding_transcripts_get_n_notation(annotator):
    out = annotate(annotator, [(1010, "C", "T"), (1035, "C", "G"), (1075, "C", "A")])
    assert out["hgvs_c"].tolist() == ["ENSTN0001:n.10C>T", "ENSTN0001:n.30+5C>G",
                                      "ENSTN0001:n.35C>A"]
    assert out["hgvs_p"].tolist() == ["", "", ""]
    assert [r[0]["Consequence"] for r in out["entries"]] == [
        "non_coding_transcript_exon_variant", "splice_region_variant&intron_variant",
        "non_coding_transcript_exon_variant"]
    assert {r[0]["BIOTYPE"] for r in out["entries"]} == {"lncRNA"}


def test_gene_fields_and_outside_genes(annotator):
    out = annotate(annotator, [(124, "T", "A"), (500, "C", "G")])
    (entry,) = out["entries"][0]
    assert (entry["SYMBOL"], entry["Gene"], entry["HGNC_ID"], entry["BIOTYPE"]) == (
        "GP", "ENSGP", "HGNC:1001", "protein_coding")
    assert entry["IMPACT"] == "MODERATE" and entry["Allele"] == "A"
    assert out["csq"].iloc[1] == "" and out["hgvs_c"].iloc[1] == ""
    deletion = annotate(annotator, [(113, "GAAA", "G")])["entries"][0][0]
    assert deletion["Allele"] == "-"  # as VEP writes an indel allele


def test_splice_sites_inside_a_deletion_across_an_exon_border(annotator):
    out = annotate(annotator, [(127, "CAGGGTAAGC", "C")])  # c.18-c.20+6 deleted
    (entry,) = out["entries"][0]
    assert entry["Consequence"].split("&")[0] == "splice_donor_variant"
    assert out["hgvs_c"].iloc[0] == "ENSTP0001.2:c.18_20+6del"
    assert out["hgvs_p"].iloc[0] == "p.?"


def test_the_row_takes_its_listed_gene(tmp_path):
    """Two genes over one variant: an entry each; the row's transcript is its gene's, else
    the most severely hit one."""
    seq = genome()
    fasta = tmp_path / "g.fa"
    fasta.write_text(">chr1\n" + seq + "\n")
    (tmp_path / "g.fa.fai").write_text(f"chr1\t{len(seq)}\t6\t{len(seq)}\t{len(seq) + 1}\n")
    gff = tmp_path / "g.gff3"
    gff.write_text(gff3() + "1\tt\tgene\t90\t400\t.\t-\t.\tID=gene:ENSGX;Name=GX;biotype=lncRNA\n"
                   "1\tt\tlnc_RNA\t90\t400\t.\t-\t.\tID=transcript:ENSTX;Parent=gene:ENSGX\n"
                   "1\tt\texon\t90\t400\t.\t-\t.\tParent=transcript:ENSTX\n")
    annotator = Annotator(Transcripts.chosen(read_gene_set(gff)), str(fasta), csq=True)
    table = pd.DataFrame({"CHROM": "chr1", "POS": [124, 124], "REF": "T", "ALT": "A",
                          "gene": ["GX", ""]})
    out = annotator.small_variants(table)
    assert [e.split("|")[3] for e in out["csq"].iloc[0].split(",")] == ["GP", "GX"]
    assert out["transcript"].tolist() == ["ENSTX", "ENSTP0001.2"]  # listed gene; most severe


def test_transcript_choice_mane_then_canonical_then_longest_cds(tmp_path):
    def chosen(tags: list[str]) -> str:
        lines = ["##gff-version 3", "1\tt\tgene\t1\t900\t.\t+\t.\tID=gene:G;Name=G"]
        for k, tag in enumerate(tags):
            lines += [f"1\tt\tmRNA\t1\t900\t.\t+\t.\tID=transcript:T{k};Parent=gene:G"
                      + (f";tag={tag}" if tag else ""),
                      f"1\tt\texon\t1\t900\t.\t+\t.\tParent=transcript:T{k}",
                      f"1\tt\tCDS\t10\t{100 + 100 * k}\t.\t+\t0\tParent=transcript:T{k}"]
        path = tmp_path / "choice.gff3"
        path.write_text("\n".join(lines) + "\n")
        table = read_gene_set(path).transcripts
        return table.loc[table["chosen"], "transcript_id"].item()

    assert chosen(["", "basic,MANE_Select,Ensembl_canonical", "Ensembl_canonical"]) == "T1"
    assert chosen(["", "Ensembl_canonical", "basic"]) == "T1"
    assert chosen(["", "basic", ""]) == "T2"  # the longest CDS
    assert chosen(["basic", "basic,MANE_Select"]) == "T1"


def test_protein_change_edge_cases():
    """Straight on the protein function: an mRNA of 5'UTR 'CC' + CDS + 3'UTR."""
    from helgenom.rank.hgvs import _Coding, translate

    cds = "ATGGCTTGGAAAGCTTAA"  # M A W K A *
    mrna = "CC" + cds + "GGGTAGCC"
    coding = _Coding(mrna, translate(cds))
    first, last = 3, 20
    # an in-frame insertion of a stop after codon 2: the protein ends there, a nonsense
    assert protein_change(coding, first, last, 9, 8, "TAG") == ("p.Trp3Ter",
                                                                 BIT["stop_gained"])
    # a stop among inserted residues: delins / ins with Ter
    assert protein_change(coding, first, last, 9, 8, "GGGTAG")[0] == "p.Ala2_Trp3insGlyTer"
    assert protein_change(coding, first, last, 9, 11, "GGGTAG")[0] == "p.Trp3delinsGlyTer"
    # a deletion from the 5'UTR into the start codon
    assert protein_change(coding, first, last, 2, 4, "")[0] == "p.Met1?"
    # deletion of the whole stop codon: the protein runs into the 3'UTR (GGG TAG)
    assert protein_change(coding, first, last, 18, 20, "")[0] == "p.Ter6GlyextTer2"


# --------------------------------------------------------------------- the demo's truth


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    need_tools("samtools", "bgzip", "tabix")
    from helgenom.simulate.demo import simulate

    out = tmp_path_factory.mktemp("demo")
    simulate(out, seed=1, depth=0.5)
    return out


def _models(gff3_path: Path) -> dict[str, dict]:
    """Per transcript (ID without prefix): contig, strand, CDS parts — read here, simply."""
    out: dict[str, dict] = {}
    for line in gff3_path.read_text().splitlines():
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        attributes = dict(item.split("=", 1) for item in fields[8].split(";"))
        if fields[2] == "CDS":
            tid = attributes["Parent"].removeprefix("transcript:")
            model = out.setdefault(tid, {"chrom": fields[0], "strand": fields[6], "cds": []})
            model["cds"].append((int(fields[3]), int(fields[4])))
    return out


def _fasta(path: Path) -> dict[str, str]:
    seqs: dict[str, list[str]] = {}
    name = ""
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            seqs[name] = []
        else:
            seqs[name].append(line.strip())
    return {n: "".join(parts) for n, parts in seqs.items()}


def _expected(model: dict, seqs: dict[str, str], pos: int, ref: str, alt: str
              ) -> tuple[str, str]:
    """c. and p. of an SNV in a CDS, from the CDS string built base by base."""
    minus = model["strand"] == "-"
    positions = [p for a, b in sorted(model["cds"]) for p in range(a, b + 1)]
    if minus:
        positions = positions[::-1]
    seq = seqs[model["chrom"]]
    cds = "".join(seq[p - 1] for p in positions)
    if minus:
        cds = cds.translate(str.maketrans("ACGT", "TGCA"))
        ref, alt = revcomp(ref), revcomp(alt)
    index = positions.index(pos)
    assert cds[index] == ref
    codon = index // 3
    before = cds[3 * codon:3 * codon + 3]
    after = before[:index % 3] + alt + before[index % 3 + 1:]
    return (f"c.{index + 1}{ref}>{alt}",
            f"p.{THREE[CODONS[before]]}{codon + 1}{THREE[CODONS[after]]}")


def test_planted_variants_against_the_cds_built_from_the_gff3(demo):
    truth = pd.read_csv(demo / "truth.tsv", sep="\t", dtype=str)
    snvs = truth[truth["type"] == "SNV"].reset_index(drop=True)
    gff = demo / "reference/genes.gff3"
    genes = read_gene_set(gff)
    annotator = Annotator(Transcripts.chosen(genes), str(demo / "reference/genome.fa"), True)
    table = pd.DataFrame({"CHROM": snvs["chrom"], "POS": snvs["pos"].astype(int),
                          "REF": snvs["ref"], "ALT": snvs["alt"], "gene": snvs["gene"]})
    out = annotator.small_variants(table)
    models, seqs = _models(gff), _fasta(demo / "reference/genome.fa")
    symbols = dict(zip(genes.genes["symbol"], genes.genes["gene_id"], strict=True))
    for (_, planted), (_, row) in zip(snvs.iterrows(), out.iterrows(), strict=True):
        pos = int(planted["pos"])
        tid = next(t for t, m in models.items() if m["chrom"] == planted["chrom"]
                   and any(a <= pos <= b for a, b in m["cds"]))
        c_text, p_text = _expected(models[tid], seqs, pos, planted["ref"], planted["alt"])
        assert row["transcript"] == f"{tid}.1" and tid.startswith("ENST99")
        assert row["hgvs_c"] == f"{tid}.1:{c_text}", planted["id"]
        assert row["hgvs_p"] == p_text, planted["id"]
        assert p_text.endswith("Ter") == (planted["consequence"] == "stop_gained")
        entry = dict(zip(CSQ_FIELDS, row["csq"].split("|"), strict=True))
        assert entry["Consequence"] == {"missense": "missense_variant",
                                        "stop_gained": "stop_gained"}[planted["consequence"]]
        assert entry["Gene"] == symbols[planted["gene"]]
    scn2a = out.loc[snvs["gene"] == "SCN2A"].iloc[0]
    assert scn2a["hgvs_p"] == "p.Leu39His"  # bcftools csq: 39L>39H


def test_protein_changes_agree_with_bcftools_csq(demo):
    """bcftools csq's amino-acid changes ('39L>39H', '119G') on the demo's population
    variants are ours in HGVS; its consequence classes are ours in SO terms."""
    need_tools("bcftools")
    ref = demo / "reference"
    text = subprocess.run(
        f"bcftools csq -f {ref}/genome.fa -g {ref}/genes.gff3 -p a {ref}/population.vcf.gz "
        "-Ou 2>/dev/null | bcftools query -f '%CHROM\\t%POS\\t%REF\\t%ALT\\t%BCSQ\\n'",
        shell=True, capture_output=True, text=True, check=True).stdout
    rows = [line.split("\t") for line in text.splitlines()]
    table = pd.DataFrame(rows, columns=["CHROM", "POS", "REF", "ALT", "BCSQ"])
    table["POS"] = table["POS"].astype(int)
    table["gene"] = table["BCSQ"].str.split("|").str[1].fillna("")
    out = table.join(Annotator(Transcripts.chosen(read_gene_set(ref / "genes.gff3")),
                               str(ref / "genome.fa"), True).small_variants(table))
    ours = out["csq"].str.split("|").str[1].fillna("")
    kinds = {"missense": "missense_variant", "synonymous": "synonymous_variant",
             "stop_gained": "stop_gained", "intron": "intron_variant",
             "5_prime_utr": "5_prime_UTR_variant", "3_prime_utr": "3_prime_UTR_variant",
             "splice_donor": "splice_donor_variant", "start_lost": "start_lost"}
    checked = 0
    for (_, row), our_terms in zip(out.iterrows(), ours, strict=True):
        term = row["BCSQ"].split("|")[0]
        if term not in kinds or "," in row["BCSQ"]:
            continue
        assert kinds[term] in our_terms.split("&"), (row["POS"], row["BCSQ"], our_terms)
        change = row["BCSQ"].split("|")[5] if term in ("missense", "synonymous",
                                                      "stop_gained") else ""
        if ">" in change:  # 39L>39H
            before, after = change.split(">")
            expected = (f"p.{THREE[before[-1]]}{before[:-1]}{THREE[after[-1]]}")
            assert row["hgvs_p"] == expected, (row["POS"], change, row["hgvs_p"])
        elif change:  # 119G
            assert row["hgvs_p"] == f"p.{THREE[change[-1]]}{change[:-1]}=", row["POS"]
        checked += 1
    assert checked > 400  # intronic, UTR and coding SNVs and indels of the 20 genes
