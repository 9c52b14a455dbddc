"""Repeat expansions and SMN copy number (helgenom repeats, helgenom smn, the start check).

A trio's ExpansionHunter v5 VCFs are written here in EH's own format (INFO END, REF, RL, RU,
VARID, REPID; FORMAT GT:SO:REPCN:REPCI:ADSP:ADFL:ADIR:LC; no contig lines), made indexed and
merged with bcftools as the workflow does (reheader --fai, sort, merge -m all), annotated by
the real Stranger with its bundled GRCh38 catalog, and read by helgenom: HTT normal in
everyone, an FMR1 premutation in the mother, a DMPK (DM1) expansion over the pathogenic size
in the affected son (his mother carrying a premutation), and an FXN (FRDA, recessive)
expansion on one allele of the unaffected father.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helgenom.cli import main
from helgenom.errors import InputError
from helgenom.repeats import checks, expansions, smn
from helgenom.repeats.catalog import bundled_catalog, catalog_problems, read_catalog
from helgenom.sheets.pedigree import read_ped
from helpers import TRIO, need_tools, write_ped

# ExpansionHunter v5's header lines: (kind, ID, Number, Type, Description).
HEADER_LINES = [
    ("INFO", "SVTYPE", "1", "String", "Type of structural variant"),
    ("INFO", "END", "1", "Integer", "End position of the variant"),
    ("INFO", "REF", "1", "Integer", "Reference copy number"),
    ("INFO", "RL", "1", "Integer", "Reference length in bp"),
    ("INFO", "RU", "1", "String", "Repeat unit in the reference orientation"),
    ("INFO", "VARID", "1", "String", "Variant identifier as specified in the variant catalog"),
    ("INFO", "REPID", "1", "String", "Repeat identifier as specified in the variant catalog"),
    ("FILTER", "PASS", "", "", "All filters passed"),
    ("FILTER", "LowDepth", "", "", "The overall locus depth is below 10x or number of reads "
     "spanning one or both breakends is below 5"),
    ("FORMAT", "GT", "1", "String", "Genotype"),
    ("FORMAT", "SO", "1", "String", "Type of reads that support the allele; can be SPANNING, "
     "FLANKING, or INREPEAT meaning that the reads span, flank, or are fully contained in the "
     "repeat"),
    ("FORMAT", "REPCN", "1", "String", "Number of repeat units spanned by the allele"),
    ("FORMAT", "REPCI", "1", "String", "Confidence interval for REPCN"),
    ("FORMAT", "ADSP", "1", "String", "Number of spanning reads consistent with the allele"),
    ("FORMAT", "ADFL", "1", "String", "Number of flanking reads consistent with the allele"),
    ("FORMAT", "ADIR", "1", "String", "Number of in-repeat reads consistent with the allele"),
    ("FORMAT", "LC", "1", "Float", "Locus coverage"),
]
HEADER = "##fileformat=VCFv4.1\n" + "".join(
    f'##{kind}=<ID={id_},Number={number},Type={type_},Description="{text}">\n' if number
    else f'##{kind}=<ID={id_},Description="{text}">\n'
    for kind, id_, number, type_, text in HEADER_LINES)
# (VARID, chrom, POS (the catalog region's 0-based start + 1), END, reference units, unit)
LOCI = {"HTT": ("chr4", 3074877, 3074933, 19, "CAG"),
        "FXN": ("chr9", 69037287, 69037304, 6, "GAA"),
        "DMPK": ("chr19", 45770205, 45770264, 20, "CAG"),
        "FMR1": ("chrX", 147912051, 147912110, 20, "CGG")}
# Repeat units per allele of each member (one allele: a male's chrX).
TRIO_UNITS = {
    "dad": {"HTT": (17, 19), "FXN": (9, 600), "DMPK": (5, 13), "FMR1": (29,)},
    "mum": {"HTT": (19, 22), "FXN": (9, 21), "DMPK": (12, 45), "FMR1": (30, 80)},
    "kid": {"HTT": (17, 22), "FXN": (9, 21), "DMPK": (5, 120), "FMR1": (30,)},
}
FAI = {"chr4": 190214555, "chr9": 138394717, "chr19": 58617616, "chrX": 156040895}


def eh_vcf(sample: str, units: dict[str, tuple[int, ...]]) -> str:
    """The VCF ExpansionHunter v5 writes for one sample."""
    alts = sorted({n for locus, alleles in units.items() for n in alleles
                   if n != LOCI[locus][3]})
    lines = [HEADER.rstrip("\n"),
             *(f'##ALT=<ID=STR{n},Description="Allele comprised of {n} repeat units">'
               for n in alts),
             "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT",
                        sample])]
    for locus, alleles in units.items():
        chrom, pos, end, ref_units, unit = LOCI[locus]
        alt = sorted({n for n in alleles if n != ref_units})
        gt = "/".join("0" if n == ref_units else str(alt.index(n) + 1) for n in alleles)
        so = "/".join("INREPEAT" if n > 50 else "SPANNING" for n in alleles)
        fields = [gt, so, "/".join(map(str, alleles)),
                  "/".join(f"{n - 1 if n > 50 else n}-{n + 2 if n > 50 else n}" for n in alleles),
                  "/".join("0" if n > 50 else "12" for n in alleles),
                  "/".join("5" for _ in alleles), "/".join("9" if n > 50 else "0" for n in alleles),
                  "31.5"]
        info = (f"SVTYPE=STR;END={end};REF={ref_units};RL={ref_units * len(unit)};RU={unit};"
                f"VARID={locus};REPID={locus}")
        lines.append("\t".join([chrom, str(pos), ".", "N",
                                ",".join(f"<STR{n}>" for n in alt) or ".", ".", "PASS", info,
                                "GT:SO:REPCN:REPCI:ADSP:ADFL:ADIR:LC", ":".join(fields)]))
    return "\n".join(lines) + "\n"


def run(*cmd: str, stdout: Path | None = None) -> None:
    with open(stdout, "w") if stdout else open("/dev/null", "w") as out:
        subprocess.run(list(cmd), check=True, stdout=out, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def stranger_vcf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trio's EH VCFs, indexed and merged as the workflow does, annotated by Stranger."""
    need_tools("bcftools", "bgzip", "tabix", "stranger")
    folder = tmp_path_factory.mktemp("repeats")
    fai = folder / "genome.fa.fai"
    fai.write_text("".join(f"{c}\t{n}\t0\t60\t61\n" for c, n in FAI.items()))
    merged_inputs = []
    for sample, units in TRIO_UNITS.items():
        raw = folder / f"{sample}.vcf"
        raw.write_text(eh_vcf(sample, units))
        headed = folder / f"{sample}.headed.vcf"
        run("bcftools", "reheader", "--fai", str(fai), "-o", str(headed), str(raw))
        out = folder / f"{sample}.vcf.gz"
        run("bcftools", "sort", "-Oz", "-o", str(out), str(headed))
        run("tabix", "-f", "-p", "vcf", str(out))
        merged_inputs.append(str(out))
    merged = folder / "FAM.eh.vcf.gz"
    run("bcftools", "merge", "-m", "all", "-Oz", "-o", str(merged), *merged_inputs)
    annotated = folder / "FAM.str.vcf"
    run("stranger", "--repeats-file", str(bundled_catalog("38", True)), "--family_id", "FAM",
        str(merged), stdout=annotated)
    return annotated


@pytest.fixture
def family(tmp_path: Path):
    return read_ped(write_ped(tmp_path / "FAM.ped", TRIO))["FAM"]


def records(path: Path) -> dict[str, dict[str, str]]:
    out = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            cols = line.split("\t")
            info = dict(item.partition("=")[::2] for item in cols[7].split(";"))
            out[info["REPID"]] = info
    return out


def test_stranger_classifies_each_repeat_of_the_merged_trio(stranger_vcf: Path) -> None:
    annotated = records(stranger_vcf)
    assert {repid: info["STR_STATUS"] for repid, info in annotated.items()} == {
        "HTT": "normal", "FXN": "full_mutation", "DMPK": "full_mutation",
        "FMR1": "pre_mutation"}
    assert (annotated["DMPK"]["STR_NORMAL_MAX"], annotated["DMPK"]["STR_PATHOLOGIC_MIN"],
            annotated["DMPK"]["Disease"], annotated["DMPK"]["InheritanceMode"]) == (
        "34", "50", "DM1", "AD")


def test_the_family_list_holds_exactly_the_expansion_over_threshold_in_the_proband(
        stranger_vcf: Path, family, tmp_path: Path) -> None:
    out = tmp_path / "FAM.repeats.tsv"
    rows = expansions.write_repeats(stranger_vcf, family, out)
    calls = {r["repid"]: r["call"] for r in rows}
    assert calls == {"DMPK": "pathogenic", "FXN": "full_mutation", "FMR1": "pre_mutation",
                     "HTT": "normal"}
    dmpk = rows[0]  # pathogenic first
    assert (dmpk["repid"], dmpk["disease"], dmpk["inheritance"], dmpk["kid_REPCN"],
            dmpk["kid_status"], dmpk["mum_status"]) == (
        "DMPK", "DM1", "AD", "5/120", "full_mutation", "pre_mutation")
    assert "mother mum 12/45 (pre_mutation)" in str(dmpk["note"])
    header = out.read_text().splitlines()[0].split("\t")
    assert header[:3] == ["family", "repid", "gene"] and "kid_REPCN" in header
    # The father's FXN expansion is on one allele of a recessive disease, in an unaffected
    # member: listed, never a candidate.
    fxn = next(r for r in rows if r["repid"] == "FXN")
    assert fxn["dad_status"] == "full_mutation" and fxn["dad_REPCN"] == "9/600"


def test_pathogenic_repeats_head_the_candidate_list(stranger_vcf: Path, tmp_path: Path) -> None:
    write_ped(tmp_path / "FAM.ped", TRIO)
    ranked = tmp_path / "ranked.candidates.tsv"
    columns = ["rank", "family", "chrom", "pos", "end", "ref", "alt", "type", "gene",
               "models", "diseases", "score", "kid_GT", "kid_DP", "dad_GT", "dad_DP",
               "mum_GT", "mum_DP"]
    ranked.write_text("## QC: PASS - all checks passed\n" + "\t".join(columns) + "\n"
                      "1\tFAM\tchr2\t100\t100\tA\tT\tSNV\tSCN2A\tAD_dn\t.\t20\t0/1\t30\t0/0\t30"
                      "\t0/0\t30\n")
    out = tmp_path / "FAM.candidates.tsv"
    assert main(["repeats", "--vcf", str(stranger_vcf), "--ped", str(tmp_path / "FAM.ped"),
                 "--family", "FAM", "--out", str(tmp_path / "FAM.repeats.tsv"),
                 "--candidates", str(ranked), "--candidates-out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "## QC: PASS - all checks passed"
    rows = [dict(zip(columns, line.split("\t"), strict=True)) for line in lines[2:]]
    assert [(r["rank"], r["type"], r["gene"]) for r in rows] == [
        ("1", "STR", "DMPK"), ("2", "SNV", "SCN2A")]
    assert rows[0]["alt"] == "<STR120>" and rows[0]["models"] == "AD"
    assert rows[0]["diseases"].startswith("DM1 (DMPK CTG: proband 5/120 units; pathogenic from "
                                          "50")
    assert rows[0]["score"] == "." and rows[0]["kid_DP"] == "31"


@pytest.mark.parametrize(("mode", "sex", "chrom", "alleles", "fits"), [
    ("AD", "male", "chr19", (5, 60), True),
    ("AR", "female", "chr9", (9, 600), False),  # one expanded allele: a carrier
    ("AR", "female", "chr9", (600, 700), True),
    ("XR", "male", "chrX", (250,), True),  # hemizygous
    ("XR", "female", "chrX", (30, 250), False),
    ("", "male", "chr1", (60, 60), True),  # inheritance unknown: one allele is enough
])
def test_an_expansion_fits_the_inheritance_of_its_disease(mode, sex, chrom, alleles, fits):
    repeat = expansions.Repeat("R", chrom, 1, 10, "N", "CAG", "10", {
        "STR_NORMAL_MAX": "34", "STR_PATHOLOGIC_MIN": "50", "InheritanceMode": mode}, "PASS", 1)
    member = type("M", (), {"sex": sex})()
    assert expansions.fits_inheritance(repeat, member, expansions.Genotype(alleles)) is fits


def test_a_vcf_not_annotated_by_stranger_is_refused(tmp_path: Path, family) -> None:
    raw = tmp_path / "raw.vcf"
    raw.write_text(eh_vcf("kid", TRIO_UNITS["kid"]))
    with pytest.raises(InputError, match="not annotated by Stranger"):
        expansions.read_repeats(raw)


def test_a_vcf_without_a_member_is_refused(stranger_vcf: Path, tmp_path: Path) -> None:
    rows = [("FAM", "dad", "0", "0", 1, 1), ("FAM", "mum", "0", "0", 2, 1),
            ("FAM", "kid", "dad", "mum", 1, 2), ("FAM", "sis", "dad", "mum", 2, 1)]
    family = read_ped(write_ped(tmp_path / "FAM.ped", rows))["FAM"]
    with pytest.raises(InputError, match="no genotypes of sis"):
        expansions.write_repeats(stranger_vcf, family, tmp_path / "out.tsv")
    assert not (tmp_path / "out.tsv").exists()


def test_bad_repcn_names_line_and_value(stranger_vcf: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.vcf"
    text = stranger_vcf.read_text()
    bad.write_text(text.replace(":5/120:", ":5/1x0:"))
    with pytest.raises(InputError) as caught:
        expansions.read_repeats(bad)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if ":5/120:" in t)
    assert f"bad.vcf:{line}: column 'REPCN': value '5/1x0'" in str(caught.value)


# ---------------------------------------------------------------------------------- SMN
# SMNCopyNumberCaller 1.1's TSV (its columns as it writes them; Scout's demo has one).
SMN_TSV = ("Sample\tisSMA\tisCarrier\tSMN1_CN\tSMN2_CN\tSMN2delta7-8_CN\tTotal_CN_raw\t"
           "Full_length_CN_raw\tg.27134T>G_CN\tSMN1_CN_raw\n"
           "dad\tFalse\tTrue\t1\t2\t0\t3.012\t3.020\t0\t1.01,1.05,0.98\n"
           "mum\tFalse\tFalse\t2\t2\t0\t4.010\t4.100\t1\t2.02,1.98,2.1\n"
           "kid\tTrue\tFalse\t0\t3\t0\t2.950\t3.010\t0\t0.02,0.0,0.05\n")


def test_smn_table_keeps_the_callers_columns_and_adds_the_call(tmp_path: Path) -> None:
    tsv = tmp_path / "FAM.smn_caller.tsv"
    tsv.write_text(SMN_TSV)
    write_ped(tmp_path / "FAM.ped", TRIO)
    out = tmp_path / "FAM.smn.tsv"
    assert main(["smn", "--tsv", str(tsv), "--ped", str(tmp_path / "FAM.ped"), "--family",
                 "FAM", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].split("\t") == [*SMN_TSV.split("\n")[0].split("\t"), "family", "role",
                                    "call"]
    rows = [dict(zip(lines[0].split("\t"), line.split("\t"), strict=True)) for line in lines[1:]]
    assert [(r["Sample"], r["role"], r["call"].split(";")[0]) for r in rows] == [
        ("kid", "proband", "SMA: no SMN1 copy"), ("dad", "father", "carrier: one SMN1 copy"),
        ("mum", "mother", "SMN1 2 copies")]
    assert "g.27134T>G present" in rows[2]["call"]
    from scout.parse.smn import parse_smn_file  # Scout reads the family's table as it is

    parsed = {r["sample_id"]: r for r in parse_smn_file(out.read_text().splitlines())}
    assert (parsed["kid"]["is_sma"], parsed["dad"]["is_sma_carrier"], parsed["mum"]["smn1_cn"]
            ) == (True, True, 2)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda t: t.replace("kid\tTrue", "kid\tyes"), "FAM.smn_caller.tsv:4: column 'isSMA': "
     "value 'yes': must be one of True, False, None"),
    (lambda t: t.replace("\t3\t0\t2.950", "\tx\t0\t2.950"), "FAM.smn_caller.tsv:4: column "
     "'SMN2_CN': value 'x'"),
    (lambda t: "\n".join(t.split("\n")[:3]) + "\n", "no copy numbers of kid"),
    (lambda t: t.replace("SMN1_CN\t", "SMN_CN\t", 1), "no column 'SMN1_CN'"),
])
def test_bad_smn_tsv_names_file_line_column_value(tmp_path: Path, family, change, expected):
    tsv = tmp_path / "FAM.smn_caller.tsv"
    tsv.write_text(change(SMN_TSV))
    with pytest.raises(InputError, match=None) as caught:
        smn.write_smn(tsv, family, tmp_path / "out.tsv")
    assert expected in str(caught.value)
    assert not (tmp_path / "out.tsv").exists()


# ----------------------------------------------------------------------- start checks
def test_bundled_catalogs_match_the_fastas_naming() -> None:
    need_tools("stranger")
    hg38 = read_catalog(bundled_catalog("38", True))
    grch38 = read_catalog(bundled_catalog("38", False))
    assert {locus.locus_id for locus in hg38} >= {"HTT", "FMR1", "DMPK", "FXN", "RFC1"}
    assert all(r.startswith("chr") for locus in hg38 for r in locus.regions)
    assert not any(r.startswith("chr") for locus in grch38 for r in locus.regions)
    dmpk = next(locus for locus in hg38 if locus.locus_id == "DMPK")
    assert (dmpk.normal_max, dmpk.pathologic_min, dmpk.disease) == (34, 50, "DM1")


def write_catalog(path: Path, loci: list[dict]) -> Path:
    path.write_text(json.dumps(loci, indent=2))
    return path


def test_catalog_loci_off_the_reference_are_named_with_their_line(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "catalog.json", [
        {"LocusId": "A", "LocusStructure": "(CAG)*", "ReferenceRegion": "chr1:100-130",
         "VariantType": "Repeat", "NormalMax": 30, "PathologicMin": 40},
        {"LocusId": "B", "LocusStructure": "(CAG)*", "ReferenceRegion": "4:3074876-3074933",
         "VariantType": "Repeat", "NormalMax": 30, "PathologicMin": 40},
        {"LocusId": "C", "LocusStructure": "(CAG)*", "ReferenceRegion": "chr1:999990-1000030",
         "VariantType": "Repeat"}])
    errors, warnings = catalog_problems(catalog, {"chr1": 1_000_000, "chr4": 190_000_000})
    text = [str(e) for e in errors]
    assert text == [
        f"{catalog}:11: column 'ReferenceRegion': value '4:3074876-3074933': locus B: contig 4 "
        "is not in the reference FASTA: the FASTA names it chr4 (take the catalog of that "
        "naming)",
        f"{catalog}:19: column 'ReferenceRegion': value 'chr1:999990-1000030': locus C: past "
        "the end of chr1 (1,000,000 bp): a catalog of another build?"]
    assert "1 loci without NormalMax/PathologicMin" in str(warnings[0]) and ": C" in str(
        warnings[0])


@pytest.mark.parametrize(("text", "expected"), [
    ("[{\"LocusId\": \"A\",", "not JSON"),
    ("{}", "non-empty JSON list of loci"),
    ('[{"LocusId": "A", "ReferenceRegion": "chr1-100"}]', "value 'chr1-100'"),
    ('[{"LocusId": "A", "ReferenceRegion": "chr1:1-9", "NormalMax": "x"}]',
     "column 'NormalMax': value 'x'"),
])
def test_a_malformed_catalog_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_catalog(path)
    assert expected in str(caught.value)


def test_start_check_of_the_repeats_section(tmp_path: Path) -> None:
    fasta = tmp_path / "genome.fa"
    fasta.write_text(">chr1\n" + "ACGT" * 50 + "\n")
    catalog = write_catalog(tmp_path / "catalog.json", [
        {"LocusId": "A", "LocusStructure": "(CAG)*", "ReferenceRegion": "chr1:100-130",
         "VariantType": "Repeat", "NormalMax": 30, "PathologicMin": 40}])
    seen = []

    def problem(path, value, message):
        seen.append((".".join(map(str, path)), value, message))
        return seen[-1]

    config = {"reference": {"fasta": str(fasta)},
              "repeats": {"expansionhunter": True, "catalog": str(catalog), "smn": True,
                          "build": "38"}}
    errors, _ = checks.repeat_problems(config, tmp_path, problem)
    assert errors == [("repeats.smn", "true", "SMNCopyNumberCaller reads SMN1 and SMN2 on chr5 "
                       "of GRCh38: the reference FASTA has no such contig")]
    config["repeats"]["catalog"] = "missing.json"
    errors, _ = checks.repeat_problems(config, tmp_path, problem)
    assert errors[0][:2] == ("repeats.catalog", "missing.json")
    assert "variant catalog not found" in errors[0][2]
    assert checks.repeat_problems({"repeats": {"expansionhunter": False}}, tmp_path,
                                  problem) == ([], [])
    assert checks.smn_genome("37", ["chr1"]) == "19" and checks.smn_genome("37", ["1"]) == "37"
