"""Genes and consequences from BCSQ, VEP CSQ, snpEff ANN and GENMOD Annotation."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from helgenom.io.vcf import VcfHeader, read_header, read_variants
from helgenom.rank import consequence
from helgenom.rank.consequence import (
    SOURCES,
    annotate_bcsq,
    annotation_fields,
    annotation_source,
    gene_annotation,
    normalise,
)
from helpers import TEST_DATA, need_tools

DATA = TEST_DATA / "consequence"
FIXTURES = TEST_DATA / "genmod-fixtures"
COLUMNS = ["consequence", "gene", "genes", "protein_change", "severity", "impact"]


def frame(source: str, rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    """A variant table of (REF, ALT, value of INFO/source) rows."""
    return pd.DataFrame({"CHROM": "chr1", "POS": range(1, len(rows) + 1),
                         "REF": [r[0] for r in rows], "ALT": [r[1] for r in rows],
                         source: pd.array([r[2] for r in rows], dtype="string")})


def read_header_of(path: Path) -> VcfHeader:
    need_tools("bcftools")
    return read_header(path)


def annotated(path: Path) -> pd.DataFrame:
    """The file through the real reader, annotated, indexed by (POS, ALT)."""
    header = read_header_of(path)
    source = annotation_source(header)
    table, _ = read_variants(path, header.samples, annotation_fields(source), header)
    assert len(table), f"bcftools read no records from {path}"
    return table.join(gene_annotation(table, source, header)).set_index(["POS", "ALT"])


def declared_copy(path: Path, tmp_path: Path) -> Path:
    """`path` with header lines for undeclared INFO/FORMAT tags and contigs: the GENMOD
    fixtures lack some, and bcftools then writes BCF its own reader rejects."""
    lines = path.read_text().splitlines()
    head = "\n".join(line for line in lines if line.startswith("##"))
    records = [line.split("\t") for line in lines if not line.startswith("#")]
    extra = []
    for kind, keys in (("INFO", {kv.split("=")[0] for r in records for kv in r[7].split(";")}),
                       ("FORMAT", {k for r in records if len(r) > 8 for k in r[8].split(":")})):
        extra += [f'##{kind}=<ID={key},Number=.,Type=String,Description="{key}">'
                  for key in sorted(keys - {"."}) if not re.search(f"{kind}=<ID={key},", head)]
    extra += [f"##contig=<ID={c}>" for c in dict.fromkeys(r[0] for r in records)
              if f"##contig=<ID={c}," not in head]
    out = tmp_path / path.name
    out.write_text("\n".join([lines[0], *extra, *lines[1:]]) + "\n")
    return out


# ------------------------------------------------------------------ vocabulary, source choice

@pytest.mark.parametrize(("term", "ours"), [
    ("missense_variant", "missense"), ("stop_gained", "stop_gained"),
    ("frameshift_variant", "frameshift"), ("splice_donor_variant", "splice_donor"),
    ("splice_acceptor_variant", "splice_acceptor"), ("5_prime_UTR_variant", "5_prime_utr"),
    ("3_prime_UTR_variant", "3_prime_utr"), ("non_coding_transcript_exon_variant", "non_coding"),
    ("non_coding_exon_variant", "non_coding"), ("nc_transcript_variant", "non_coding"),
    ("upstream_gene_variant", "upstream"), ("downstream_gene_variant", "downstream"),
    ("intergenic_region", "intergenic"), ("intergenic_variant", "intergenic"),
    ("exon_loss_variant", "exon_loss"), ("transcript_ablation", "transcript_ablation"),
    ("feature_truncation", "feature_truncation"), ("intron_variant", "intron"),
    ("disruptive_inframe_deletion", "inframe_deletion"),
    ("conservative_inframe_insertion", "inframe_insertion"),
    ("splice_donor_5th_base_variant", "splice_region"),
    ("initiator_codon_variant", "start_retained"),
    ("NMD_transcript_variant", "nmd_transcript"), ("missense", "missense"),
])
def test_vep_and_snpeff_terms_map_to_our_vocabulary(term, ours):
    assert normalise(term) == ours
    assert ours in consequence.SEVERITY_ORDER


def test_every_term_has_one_impact_and_order_is_by_class():
    order = consequence.SEVERITY_ORDER
    assert len(order) == len(set(order))
    classes = [consequence.IMPACT_OF[t] for t in order]
    assert classes == sorted(classes, key=["HIGH", "MODERATE", "LOW", "MODIFIER"].index)


def test_annotation_source_prefers_the_requested_one_when_present():
    header = VcfHeader(samples=[], info={"ANN": "String", "CSQ": "String", "AF": "Float"})
    assert annotation_source(header) == "CSQ"
    assert annotation_source(header, prefer="ANN") == "ANN"
    assert annotation_source(header, prefer="BCSQ") == "CSQ"
    assert annotation_source(VcfHeader(samples=[], info={"AF": "Float"})) is None
    with pytest.raises(ValueError, match="unknown annotation source"):
        annotation_source(header, prefer="EFF")
    assert annotation_fields("CSQ") == ["CSQ"]
    assert annotation_fields(None) == []
    assert SOURCES == ("BCSQ", "CSQ", "ANN", "Annotation")


# ------------------------------------------------------------------------------------ BCSQ

def test_bcsq_most_severe_entry_gives_gene_and_change_all_genes_kept():
    table = frame("BCSQ", [
        ("C", "T", "missense|GENEA|ENST1|protein_coding|+|67A>67V|200C>T,"
                   "*stop_gained|GENEB|ENST2|protein_coding|-|120W>120*|360G>A"),
        ("C", "T", "@1234"),
        ("C", "T", "@1234,intron|GENEA|ENST1|protein_coding|+"),
        ("C", "T", "missense&inframe_altering|GENEA|ENST1|protein_coding|+|67A>67V|200C>T,"
                   "synonymous|GENEA|ENST3|protein_coding|+|60A|180C>T"),
        ("C", "T", "splice_region&intron|GENEC|ENST4|protein_coding|+|"),
        ("C", "T", None),
    ])
    out = gene_annotation(table, "BCSQ", VcfHeader(samples=[], info={"BCSQ": "String"}))
    assert list(out.columns) == COLUMNS and out.index.equals(table.index)
    rows = out.to_dict("records")
    assert rows[0] == {"consequence": "stop_gained", "gene": "GENEB", "genes": ("GENEA", "GENEB"),
                       "protein_change": "120W>120*", "severity": rows[0]["severity"],
                       "impact": "HIGH"}
    assert (rows[1]["consequence"], rows[1]["genes"], rows[1]["impact"]) == ("", (), "MODIFIER")
    assert (rows[2]["consequence"], rows[2]["gene"], rows[2]["genes"]) == \
        ("intron", "GENEA", ("GENEA",))
    assert (rows[3]["consequence"], rows[3]["protein_change"], rows[3]["impact"]) == \
        ("missense&inframe_altering", "67A>67V", "MODERATE")
    assert (rows[4]["consequence"], rows[4]["impact"]) == ("splice_region&intron", "LOW")
    assert rows[5]["genes"] == () and rows[5]["severity"] == consequence.UNKNOWN_RANK
    assert rows[0]["severity"] < rows[3]["severity"] < rows[4]["severity"] < rows[2]["severity"]
    pd.testing.assert_frame_equal(annotate_bcsq(table["BCSQ"]), out)


# ------------------------------------------------------------------------------------- VEP

def test_vep_fixture_picks_the_entries_of_each_split_allele():
    out = annotated(DATA / "vep.vcf")
    get = out[COLUMNS].to_dict("index")
    # two genes hit (the downstream lncRNA is near, not hit)
    assert get[(1000, "T")] | {"severity": 0} == {
        "consequence": "missense", "gene": "GENEA", "genes": ("GENEA", "GENEB"),
        "protein_change": "p.Ala67Val", "severity": 0, "impact": "MODERATE"}
    # CTG>C is Allele '-' in VEP
    assert get[(2000, "C")]["consequence"] == "frameshift&splice_region"
    assert get[(2000, "C")]["protein_change"] == "p.Leu100ProfsTer5"
    assert get[(2000, "C")]["impact"] == "HIGH"
    # A>G,AT: no shared first base, VEP keeps G and AT
    assert (get[(3000, "G")]["consequence"], get[(3000, "G")]["gene"]) == ("stop_gained", "GENEA")
    assert get[(3000, "G")]["protein_change"] == "p.Trp120Ter"
    assert (get[(3000, "AT")]["consequence"], get[(3000, "AT")]["genes"]) == \
        ("5_prime_utr", ("GENEB",))
    # CA>C,CAA: shared C dropped, '-' and 'AA'
    assert (get[(4000, "C")]["consequence"], get[(4000, "C")]["impact"]) == \
        ("splice_acceptor", "HIGH")
    assert (get[(4000, "CAA")]["consequence"], get[(4000, "CAA")]["impact"]) == \
        ("intron", "MODIFIER")
    # a term we do not know keeps VEP's IMPACT; the gene falls back to the first one
    assert get[(5000, "A")] | {"severity": 0} == {
        "consequence": "regulatory_region_ablation", "gene": "GENEC", "genes": ("GENEC",),
        "protein_change": "", "severity": 0, "impact": "MODERATE"}
    # a known term takes our class, whatever VEP says (coding_sequence: LOW, VEP MODIFIER)
    assert get[(6000, "C")]["impact"] == "LOW"
    assert get[(7000, "C")] | {"severity": 0} == {
        "consequence": "", "gene": "", "genes": (), "protein_change": "", "severity": 0,
        "impact": "MODIFIER"}


def test_vep_allele_without_match_uses_all_entries_and_minimal_alleles_match():
    header = read_header_of(DATA / "vep.vcf")
    entry = "{}|{}|{}|{}|ENSG1|Transcript|ENST1|protein_coding|||||||||||||||"
    table = frame("CSQ", [
        # --minimal: ATG>ACG is Allele C
        ("ATG", "ACG", ",".join([entry.format("C", "missense_variant", "MODERATE", "G1"),
                                 entry.format("T", "stop_gained", "HIGH", "G1")])),
        # symbolic ALT annotated as 'deletion': no match, every entry counts
        ("A", "<DEL>", ",".join([entry.format("deletion", "intron_variant", "MODIFIER", "G1"),
                                 entry.format("deletion", "feature_truncation", "HIGH", "G2")])),
        # synonymous HGVSp is URI-escaped by VEP; protein change from the amino acids otherwise
        ("C", "T", "T|synonymous_variant|LOW|G3|ENSG3|Transcript|ENST3|protein_coding|||"
                   "ENST3.1:c.30C>T|ENSP3.1:p.Leu10%3D||||||||||||"),
        ("C", "T", "T|missense_variant|MODERATE|G3|ENSG3|Transcript|ENST3|protein_coding|||"
                   "||||10|L/P|||||||"),
    ])
    out = gene_annotation(table, "CSQ", header).to_dict("records")
    assert (out[0]["consequence"], out[0]["impact"]) == ("missense", "MODERATE")
    assert (out[1]["consequence"], out[1]["gene"], out[1]["genes"]) == \
        ("feature_truncation", "G2", ("G1", "G2"))
    assert out[2]["protein_change"] == "p.Leu10="
    assert out[3]["protein_change"] == "10L>10P"


@pytest.mark.parametrize(("ref", "alt", "vep", "forms"), [
    ("AT", "A", True, ["-", "A"]),
    ("A", "AT", True, ["T", "AT"]),
    ("A", "AT", False, ["AT", "T"]),
    ("A", "G", True, ["G"]),
    ("ATG", "ACG", True, ["ACG", "CG", "C"]),
])
def test_allele_spellings(ref, alt, vep, forms):
    assert consequence.allele_forms(ref, alt, vep) == forms


def test_vep_layout_default_when_the_header_has_no_format():
    header = VcfHeader(samples=[], info={"CSQ": "String"},
                       lines=['##INFO=<ID=CSQ,Number=.,Type=String,Description="VEP">'])
    table = frame("CSQ", [("C", "T", "T|stop_lost|HIGH|G1|ENSG1|Transcript|ENST1")])
    assert gene_annotation(table, "CSQ", header)["consequence"].tolist() == ["stop_lost"]


def test_small_vep_through_the_reader(tmp_path):
    out = annotated(declared_copy(FIXTURES / "small_vep.vcf", tmp_path))
    get = out[COLUMNS].to_dict("index")
    assert (get[(55073623, "G")]["consequence"], get[(55073623, "G")]["gene"],
            get[(55073623, "G")]["genes"]) == ("missense", "ACOT11", ("ACOT11",))
    assert get[(55073623, "G")]["protein_change"] == "p.Tyr504Cys"
    assert get[(152287169, "T")]["genes"] == ("FLG", "FLG-AS1")
    assert get[(241536279, "T")]["consequence"] == "missense"  # intron first, missense worse
    assert (get[(38049774, "A")]["gene"], get[(38049774, "A")]["genes"],
            get[(38049774, "A")]["impact"]) == ("PLCD1", ("PLCD1",), "MODERATE")


# ------------------------------------------------------------------------- snpEff, GENMOD

def test_snpeff_fixture():
    get = annotated(DATA / "snpeff.vcf")[COLUMNS].to_dict("index")
    assert (get[(1000, "T")]["consequence"], get[(1000, "T")]["genes"],
            get[(1000, "T")]["protein_change"]) == ("missense", ("GENEA",), "p.Ala67Val")
    assert (get[(2000, "A")]["consequence"], get[(2000, "A")]["impact"]) == ("stop_gained", "HIGH")
    assert (get[(2000, "G")]["consequence"], get[(2000, "G")]["impact"]) == ("synonymous", "LOW")
    assert get[(3000, "A")]["consequence"] == "frameshift&splice_region"
    assert (get[(4000, "T")]["consequence"], get[(4000, "T")]["gene"], get[(4000, "T")]["genes"]) \
        == ("intergenic", "GENEC-GENED", ())
    assert (get[(5000, "C")]["consequence"], get[(5000, "C")]["impact"]) == \
        ("5_prime_utr", "MODIFIER")
    # a term we do not know keeps snpEff's impact, and outranks a MODERATE known one
    assert (get[(6000, "G")]["consequence"], get[(6000, "G")]["impact"]) == \
        ("structural_interaction", "HIGH")


def test_genmod_annotation_gives_genes_without_consequence(tmp_path):
    get = annotated(declared_copy(FIXTURES / "test_vcf_regions.vcf", tmp_path))[COLUMNS] \
        .to_dict("index")
    assert get[(879537, "C")] == {"consequence": "", "gene": "SAMD11", "genes": ("SAMD11", "NOC2L"),
                                  "protein_change": "", "severity": consequence.UNKNOWN_RANK,
                                  "impact": "MODIFIER"}
    assert get[(880012, "G")]["genes"] == ("NOC2L",)
    assert get[(302253, "C")]["gene"] == "PPP2R3B"


# ------------------------------------------------------------------- unknown, distinct values

def test_no_annotation_gives_unknown_rows():
    table = frame("BCSQ", [("C", "T", "missense|G1|ENST1|protein_coding|+|1A>1T|1C>T")])
    for source in (None, "CSQ", "Annotation"):
        out = gene_annotation(table, source, VcfHeader(samples=[]))
        assert out.to_dict("records") == [{"consequence": "", "gene": "", "genes": (),
                                           "protein_change": "", "impact": "MODIFIER",
                                           "severity": consequence.UNKNOWN_RANK}]
    empty = gene_annotation(table.iloc[:0], "BCSQ", VcfHeader(samples=[]))
    assert list(empty.columns) == COLUMNS and empty.empty


def test_each_distinct_value_and_allele_is_parsed_once(monkeypatch):
    calls = []
    parse = consequence.parse_delimited
    monkeypatch.setattr(consequence, "parse_delimited", lambda *a: calls.append(a) or parse(*a))
    value = "A|missense_variant|MODERATE|G1,G|stop_gained|HIGH|G1"
    table = frame("CSQ", [("C", "A", value), ("C", "G", value)] * 5000)
    out = gene_annotation(table, "CSQ", VcfHeader(samples=[]))
    assert len(calls) == 2
    assert out["consequence"].tolist()[:2] == ["missense", "stop_gained"]
