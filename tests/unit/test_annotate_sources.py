"""The clinical annotation sources (helgenom.annotate): the real engine (chained `bcftools
annotate`) on small files in the real formats, values read back with `bcftools query`, and the
start checks of each source (index, fields, contig naming, genome build).

The ClinVar file is a real ClinVar slice (tests/data/annotation/clinvar_20191007.vcf.gz, see
tests/data/PROVENANCE.md): GRCh37, contigs named `1`, the variation ID in the ID column. The
other sources are written here in their formats: a gnomAD v2-like VCF (AF_popmax), a SweGen-
like VCF, CADD and REVEL TSVs and a SpliceAI VCF (named `1`, as the real ones), and the calls
are named `chr1`, as on the GRCh38 analysis set: every run below renames contigs on the way.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from helgenom.annotate.checks import reference_findings, source_findings, source_problems
from helgenom.annotate.engine import AnnotateError, annotate, plan
from helgenom.annotate.headers import SourceFile, contig_map, fasta_build, read_source_file
from helgenom.annotate.sources import Source, sources_from_config, sources_json
from helgenom.cli import main
from helgenom.errors import Problem
from helgenom.sheets.samplesheet import validate_config

DATA = Path(__file__).resolve().parents[1] / "data" / "annotation"
CLINVAR = DATA / "clinvar_20191007.vcf.gz"
CHR1 = 1_000_000  # the test reference's chr1: ClinVar's records lie at 949,392-976,665
GRCH38_CHR1 = 248_956_422

# --- fixtures -------------------------------------------------------------------------------


def bgzip(path: Path, text: str, *index: str) -> Path:
    """`text` bgzipped to `path` and indexed with tabix `index` options (default: VCF)."""
    with path.open("wb") as out:
        subprocess.run(["bgzip", "-c"], input=text.encode(), stdout=out, check=True)
    subprocess.run(["tabix", "-f", *(index or ("-p", "vcf")), str(path)], check=True)
    return path


def query(path: Path, tags: list[str]) -> dict[tuple[str, int, str, str], list[str]]:
    """(CHROM, POS, REF, ALT) -> the INFO values of `tags` ('.' when absent)."""
    fmt = "%CHROM\t%POS\t%REF\t%ALT" + "".join(f"\t%INFO/{t}" for t in tags) + "\n"
    out = subprocess.run(["bcftools", "query", "-f", fmt, str(path)], capture_output=True,
                         text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        chrom, pos, ref, alt, *values = line.split("\t")
        rows[(chrom, int(pos), ref, alt)] = values
    return rows


VCF_HEAD = "##fileformat=VCFv4.2\n"
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def calls_text(records: list[str]) -> str:
    """A trio VCF on chr1 (the test reference), one line per 'POS REF ALT'."""
    lines = [VCF_HEAD, f"##contig=<ID=chr1,length={CHR1}>\n",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tdad\tmum\tkid\n"]
    for record in records:
        pos, ref, alt = record.split()
        lines.append(f"chr1\t{pos}\t.\t{ref}\t{alt}\t50\tPASS\t.\tGT\t0/0\t0/1\t0/1\n")
    return "".join(lines)


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test reference: chr1 of 1 Mb (random bases, ClinVar's REF alleles where ClinVar's
    records are), named chr1 as the GRCh38 analysis set; indexed."""
    folder = tmp_path_factory.mktemp("annotate-ref")
    rng = np.random.default_rng(5)
    seq = np.array(list("ACGT"))[rng.integers(0, 4, CHR1)]
    with gzip.open(CLINVAR, "rt") as handle:
        for line in handle:
            if not line.startswith("#"):
                _chrom, pos, _id, ref_allele, *_ = line.split("\t", 5)
                start = int(pos) - 1
                seq[start:start + len(ref_allele)] = list(ref_allele)
    if seq[976_122] == "G":  # ClinVar's CAAG>C at 976,124 stays left-aligned
        seq[976_122] = "T"
    fasta = folder / "genome.fa"
    text = "".join(seq)
    fasta.write_text(">chr1\n" + "\n".join(text[i:i + 60] for i in range(0, CHR1, 60)) + "\n")
    Path(f"{fasta}.fai").write_text(f"chr1\t{CHR1}\t6\t60\t61\n")
    return fasta


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, ref: Path) -> dict[str, Path]:
    """Every source, in its real format, bgzipped and indexed."""
    d = tmp_path_factory.mktemp("annotate-sources")
    clinvar = d / "clinvar.vcf.gz"
    shutil.copy(CLINVAR, clinvar)
    subprocess.run(["tabix", "-p", "vcf", str(clinvar)], check=True)
    gnomad = bgzip(d / "gnomad.v2.vcf.gz", VCF_HEAD + (
        "##reference=GRCh37\n"  # the test FASTA's build is unknown: not refused for it
        f"##contig=<ID=1,length={CHR1}>\n"
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Alternate allele frequency">\n'
        '##INFO=<ID=AF_popmax,Number=A,Type=Float,Description="Maximum allele frequency '
        'across populations">\n'
        '##INFO=<ID=nhomalt,Number=A,Type=Integer,Description="Homozygous individuals">\n'
        + COLUMNS
        + "1\t949422\t.\tG\tA\t.\tPASS\tAF=0.0123;AF_popmax=0.05;nhomalt=3\n"
        "1\t949523\t.\tC\tT\t.\tPASS\tAF=1e-05;AF_popmax=2e-05;nhomalt=0\n"
        "1\t949523\t.\tC\tG\t.\tPASS\tAF=0.2;AF_popmax=0.4;nhomalt=7\n"))
    swegen = bgzip(d / "swegen.vcf.gz", VCF_HEAD + (
        f"##contig=<ID=chr1,length={CHR1}>\n"
        '##INFO=<ID=AF_swe,Number=A,Type=Float,Description="SweGen allele frequency">\n'
        + COLUMNS + "chr1\t949422\t.\tG\tA\t.\tPASS\tAF_swe=0.031\n"))
    cadd = bgzip(d / "cadd.tsv.gz", (
        "## CADD GRCh38-v1.7 (c) University of Washington, Hudson-Alpha Institute for "
        "Biotechnology and Berlin Institute of Health at Charite 2013-2023.\n"
        "#Chrom\tPos\tRef\tAlt\tRawScore\tPHRED\n"
        "1\t949422\tG\tA\t2.1\t22.5\n1\t949422\tG\tC\t0.4\t6.1\n1\t949422\tG\tT\t1.2\t14.0\n"
        "1\t976124\tCAAG\tC\t3.3\t31.0\n1\t976124\tCA\tC\t0.9\t9.9\n"),
        "-s", "1", "-b", "2", "-e", "2", "-c", "#")
    revel = bgzip(d / "revel.tsv.gz", (
        "#chr\thg19_pos\tgrch38_pos\tref\talt\taaref\taaalt\tREVEL\tEnsembl_transcriptid\n"
        # hg19 positions differ: the file is indexed (and matched) on grch38_pos
        "1\t884802\t949422\tG\tA\tR\tK\t0.512\tENST00000624697\n"
        "1\t884903\t949523\tC\tT\tR\tW\t0.731\tENST00000624697\n"
        "1\t884903\t949523\tC\tT\tR\tQ\t0.918\tENST00000649529\n"),
        "-s", "1", "-b", "3", "-e", "3", "-c", "#")
    spliceai = bgzip(d / "spliceai.vcf.gz", VCF_HEAD + (
        '##INFO=<ID=SpliceAI,Number=.,Type=String,Description="SpliceAIv1.3 variant '
        "annotation. Format: ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL"
        '">\n' + f"##contig=<ID=1,length={CHR1}>\n" + COLUMNS
        + "1\t949523\t.\tC\tT\t.\t.\tSpliceAI=T|ISG15|0.01|0.00|0.62|0.00|-9|33|2|-1,"
        "T|HES4|0.00|0.03|0.00|0.00|12|-40|7|3\n"))
    local = bgzip(d / "local.vcf.gz", VCF_HEAD + (
        f"##contig=<ID=chr1,length={CHR1}>\n"
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Local allele frequency">\n'
        + COLUMNS + "chr1\t949422\tlocal17\tG\tA\t.\tPASS\tAF=0.25\n"))
    scores = bgzip(d / "scores.tsv.gz", (  # intervals (start, end: 1-based, inclusive)
        "#chrom\tstart\tend\tscore\tlabel\n"
        "chr1\t949400\t949450\t0.3\tlow\nchr1\t949420\t949425\t0.9\thigh\n"
        "chr1\t976100\t976200\t0.5\tmid\n"),
        "-s", "1", "-b", "2", "-e", "3", "-c", "#")
    return {"clinvar": clinvar, "gnomad": gnomad, "swegen": swegen, "cadd": cadd,
            "revel": revel, "spliceai": spliceai, "local": local, "scores": scores}


@pytest.fixture(scope="module")
def annotation(files: dict[str, Path]) -> dict:
    return {
        "clinvar": {"path": str(files["clinvar"])},
        "gnomad": {"path": str(files["gnomad"]), "af_grpmax": "AF_popmax"},
        "swegen": {"path": str(files["swegen"]), "af": "AF_swe"},
        "cadd": {"path": str(files["cadd"])},
        "revel": {"path": str(files["revel"])},
        "spliceai": {"path": str(files["spliceai"])},
        "extra": [
            {"path": str(files["local"]), "fields": ["AF", "ID"],
             "names": ["LOCALAF", "LOCALID"]},
            {"path": str(files["scores"]), "columns": ["score", 5], "names": ["SCORE", "LABEL"],
             "ops": ["max", "concat"], "ref_column": "", "alt_column": ""},
        ],
    }


def normalised(folder: Path, fasta: Path, records: list[str]) -> Path:
    """The calls as rule annotate_snv gives them to the sources: split, left-aligned
    (bcftools norm -m -any -f FASTA), indexed BCF."""
    raw = bgzip(folder / "calls.vcf.gz", calls_text(records))
    norm = folder / "calls.norm.bcf"
    subprocess.run(["bcftools", "norm", "--no-version", "-f", str(fasta), "-m", "-any", "-Ob",
                    "-o", str(norm), str(raw)], check=True, capture_output=True)
    subprocess.run(["bcftools", "index", "-f", str(norm)], check=True)
    return norm


CALLS = ["949422 G A", "949523 C T,G", "976124 CAAG C", "976219 G A"]


@pytest.fixture(scope="module")
def annotated(tmp_path_factory: pytest.TempPathFactory, ref: Path, annotation: dict
              ) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("annotate-run")
    norm = normalised(folder, ref, CALLS)
    out = folder / "out.bcf"
    result = annotate(norm, out, sources_from_config(annotation))
    return out, result


TAGS = ["CLNSIG", "CLNREVSTAT", "CLNVID", "GNOMADAF", "GNOMADAF_grpmax", "gnomad_hom",
        "SWEGENAF", "CADD", "REVEL_score", "SpliceAI", "LOCALAF", "LOCALID", "SCORE", "LABEL"]


def values(out: Path, key: tuple[str, int, str, str]) -> dict[str, str]:
    return dict(zip(TAGS, query(out, TAGS)[key], strict=True))


# --- the engine on every source -----------------------------------------------------------------


def test_clinvar_fixture_gives_clnsig_clnrevstat_and_the_id_as_clnvid(annotated) -> None:
    out, _ = annotated
    pathogenic = values(out, ("chr1", 949523, "C", "T"))
    assert pathogenic["CLNSIG"] == "Pathogenic"
    assert pathogenic["CLNREVSTAT"] == "no_assertion_criteria_provided"
    assert pathogenic["CLNVID"] == "183381"  # ClinVar's ID column
    benign = values(out, ("chr1", 949422, "G", "A"))
    assert (benign["CLNSIG"], benign["CLNVID"]) == ("Benign", "475283")
    # a review status with commas is carried as ClinVar writes it
    assert benign["CLNREVSTAT"] == "criteria_provided,_single_submitter"
    indel = values(out, ("chr1", 976124, "CAAG", "C"))
    assert indel["CLNVID"] == "474163"
    assert values(out, ("chr1", 976219, "G", "A"))["CLNSIG"] == "Uncertain_significance"


def test_contigs_named_otherwise_are_matched_and_the_calls_keep_their_names(annotated) -> None:
    out, result = annotated
    assert {key[0] for key in query(out, [])} == {"chr1"}
    header = subprocess.run(["bcftools", "view", "-h", str(out)], capture_output=True,
                            text=True, check=True).stdout
    assert "##contig=<ID=chr1," in header and "##contig=<ID=1," not in header
    assert any("renamed chr1->1" in note for note in result.notes)


def test_multiallelic_calls_are_split_first_and_each_allele_gets_its_own_values(annotated
                                                                                ) -> None:
    out, result = annotated
    assert result.records == 5  # 4 records, one of them with two ALTs
    t, g = values(out, ("chr1", 949523, "C", "T")), values(out, ("chr1", 949523, "C", "G"))
    assert (t["GNOMADAF"], t["GNOMADAF_grpmax"], t["gnomad_hom"]) == ("1e-05", "2e-05", "0")
    assert (g["GNOMADAF"], g["GNOMADAF_grpmax"], g["gnomad_hom"]) == ("0.2", "0.4", "7")
    assert g["CLNSIG"] == "." and g["SpliceAI"] == "."


def test_gnomad_fields_are_configurable_and_swegen_takes_its_own_af_tag(annotated) -> None:
    out, _ = annotated
    row = values(out, ("chr1", 949422, "G", "A"))
    assert (row["GNOMADAF"], row["GNOMADAF_grpmax"], row["gnomad_hom"]) == ("0.0123", "0.05",
                                                                           "3")
    assert row["SWEGENAF"] == "0.031"


def test_cadd_tsv_is_matched_on_ref_and_alt_including_an_indel(annotated) -> None:
    out, _ = annotated
    assert values(out, ("chr1", 949422, "G", "A"))["CADD"] == "22.5"  # not G>C's, not G>T's
    assert values(out, ("chr1", 976124, "CAAG", "C"))["CADD"] == "31"  # not CA>C's 9.9
    assert values(out, ("chr1", 949523, "C", "T"))["CADD"] == "."  # no row for it


def test_revel_takes_the_highest_row_of_the_allele_at_its_grch38_position(annotated) -> None:
    out, _ = annotated
    assert values(out, ("chr1", 949523, "C", "T"))["REVEL_score"] == "0.918"
    assert values(out, ("chr1", 949422, "G", "A"))["REVEL_score"] == "0.512"
    assert values(out, ("chr1", 949523, "C", "G"))["REVEL_score"] == "."


def test_spliceai_is_carried_as_the_source_has_it(annotated) -> None:
    out, _ = annotated
    assert values(out, ("chr1", 949523, "C", "T"))["SpliceAI"] == (
        "T|ISG15|0.01|0.00|0.62|0.00|-9|33|2|-1,T|HES4|0.00|0.03|0.00|0.00|12|-40|7|3")
    header = subprocess.run(["bcftools", "view", "-h", str(out)], capture_output=True,
                            text=True, check=True).stdout
    assert "##INFO=<ID=SpliceAI,Number=.,Type=String" in header


def test_the_extra_mapping_takes_vcf_fields_and_tsv_columns_with_ops(annotated) -> None:
    out, _ = annotated
    row = values(out, ("chr1", 949422, "G", "A"))
    assert (row["LOCALAF"], row["LOCALID"]) == ("0.25", "local17")
    # intervals without REF/ALT (ref_column/alt_column ''): the overlapping rows' highest
    # score and their labels
    assert (row["SCORE"], row["LABEL"]) == ("0.9", "low,high")
    assert values(out, ("chr1", 976124, "CAAG", "C"))["SCORE"] == "0.5"
    assert values(out, ("chr1", 949523, "C", "T"))["SCORE"] == "."
    header = subprocess.run(["bcftools", "view", "-h", str(out)], capture_output=True,
                            text=True, check=True).stdout
    assert "##INFO=<ID=SCORE,Number=1,Type=Float" in header
    assert "##INFO=<ID=LABEL,Number=.,Type=String" in header
    assert "##helgenom_annotation_source=ClinVar VCF:" in header


def test_the_output_is_indexed_and_has_every_record(annotated) -> None:
    out, result = annotated
    assert Path(f"{out}.csi").is_file()
    assert len(query(out, [])) == result.records == 5


def test_vcf_gz_output_and_no_sources(tmp_path: Path, ref: Path) -> None:
    norm = normalised(tmp_path, ref, CALLS)
    out = tmp_path / "out.vcf.gz"
    result = annotate(norm, out, [])
    assert result.records == 5 and Path(f"{out}.tbi").is_file() and not result.applied


def test_a_bcftools_error_fails_the_run_and_nothing_is_written(tmp_path: Path, ref: Path
                                                              ) -> None:
    bad = bgzip(tmp_path / "bad.tsv.gz", "#Chrom\tPos\tRef\tAlt\tRawScore\tPHRED\n"
                "1\t949422\tG\tA\t1.5\tnot-a-number\n", "-s", "1", "-b", "2", "-e", "2", "-c",
                "#")
    norm = normalised(tmp_path, ref, CALLS)
    out = tmp_path / "result" / "out.bcf"
    with pytest.raises(AnnotateError, match="Could not parse CADD"):
        annotate(norm, out, sources_from_config({"cadd": {"path": str(bad)}}))
    assert list((tmp_path / "result").iterdir()) == []  # no output, no temporary files


def test_a_source_sharing_no_contig_with_the_calls_is_left_out(tmp_path: Path) -> None:
    other = bgzip(tmp_path / "other.vcf.gz", VCF_HEAD + "##contig=<ID=chr7,length=100>\n"
                  '##INFO=<ID=AF,Number=A,Type=Float,Description="x">\n' + COLUMNS
                  + "chr7\t10\t.\tA\tG\t.\tPASS\tAF=0.5\n")
    made = plan(sources_from_config({"swegen": {"path": str(other)}}), ["chr1"], tmp_path)
    assert made.calls == [] and "not used" in made.notes[0]


def test_the_command_line_writes_the_output(tmp_path: Path, ref: Path, annotation: dict,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    norm = normalised(tmp_path, ref, CALLS)
    out = tmp_path / "out.bcf"
    code = main(["annotate-sources", "--input", str(norm), "--output", str(out),
                 "--annotation", json.dumps(sources_json(annotation)), "--threads", "2"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "5 records" in err and "CLNSIG" in err and out.is_file()
    assert main(["annotate-sources", "--input", str(norm), "--output", str(out),
                 "--annotation", "[1]"]) == 2


# --- start checks -----------------------------------------------------------------------------


def problems(config: dict, workdir: Path = Path("/")) -> list[str]:
    def locate(key: tuple, value: str | None, message: str) -> Problem:
        dotted = ".".join(str(part) for part in key)
        return Problem("config.yaml", None, dotted, value, message, kind="key")

    errors, _ = source_problems(config, workdir, locate)
    return [str(problem) for problem in errors]


def config_with(ref: Path, annotation: dict) -> dict:
    return {"reference": {"fasta": str(ref)}, "annotation": annotation}


def test_the_configured_sources_pass_the_start_checks(ref: Path, annotation: dict) -> None:
    assert problems(config_with(ref, annotation)) == []


def test_the_schema_takes_the_annotation_keys(annotation: dict) -> None:
    config = {"samples": "s.tsv", "units": "u.tsv",
              "reference": {"fasta": "g.fa", "gff3": "g.gff3"}, "annotation": annotation}
    filled = validate_config(config)
    assert filled["annotation"]["revel"]["pos_column"] == "grch38_pos"
    assert filled["annotation"]["gnomad"]["nhomalt"] == "nhomalt"
    assert filled["annotation"]["population_af_tag"] == "GNOMADAF"
    with pytest.raises(Exception, match="unknown key"):
        validate_config({**config, "annotation": {"clinvar": {"path": "", "fields": []}}})


def test_a_missing_index_is_refused_with_the_command_that_makes_it(tmp_path: Path, ref: Path,
                                                                   files: dict) -> None:
    cadd = tmp_path / "cadd.tsv.gz"
    shutil.copy(files["cadd"], cadd)
    found = problems(config_with(ref, {"cadd": {"path": [str(files["cadd"]), str(cadd)]}}))
    assert len(found) == 1
    assert "key 'annotation.cadd.path.1'" in found[0] and "no .tbi/.csi index" in found[0]
    assert f"tabix -s 1 -b 2 -e 2 -c '#' {cadd}" in found[0]


def test_missing_and_not_bgzipped_files_are_refused(tmp_path: Path, ref: Path) -> None:
    plain = tmp_path / "clinvar.vcf"
    plain.write_text(VCF_HEAD + COLUMNS)
    gz = tmp_path / "clinvar.gz.vcf.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    assert "not found" in problems(config_with(ref, {"clinvar": {"path": "/no/such.vcf.gz"}}))[0]
    assert "not compressed: bgzip it" in problems(config_with(ref, {"clinvar": {
        "path": str(plain)}}))[0]
    assert "not with bgzip" in problems(config_with(ref, {"clinvar": {"path": str(gz)}}))[0]


def test_a_missing_field_is_refused_naming_file_and_field(ref: Path, files: dict) -> None:
    found = problems(config_with(ref, {"gnomad": {"path": str(files["gnomad"])}}))
    assert len(found) == 1  # AF_grpmax: a v4 tag, this file is v2 (AF_popmax)
    assert "key 'annotation.gnomad.af_grpmax'" in found[0]
    assert "value 'AF_grpmax'" in found[0] and f"not an INFO tag of {files['gnomad']}" in found[0]
    assert "AF_popmax" in found[0]  # its tags are listed
    found = problems(config_with(ref, {"cadd": {"path": str(files["cadd"]),
                                                "column": "CADD_PHRED"}}))
    assert "value 'CADD_PHRED'" in found[0] and "its columns are Chrom, Pos, Ref, Alt" in found[0]


def test_a_tsv_indexed_on_another_position_column_is_refused(tmp_path: Path, ref: Path,
                                                             files: dict) -> None:
    hg19 = tmp_path / "revel.tsv.gz"
    shutil.copy(files["revel"], hg19)
    subprocess.run(["tabix", "-f", "-s", "1", "-b", "2", "-e", "2", "-c", "#", str(hg19)],
                   check=True)
    found = problems(config_with(ref, {"revel": {"path": str(hg19)}}))
    assert len(found) == 1 and "key 'annotation.revel.pos_column'" in found[0]
    assert "indexed on column 2 (hg19_pos), not on grch38_pos" in found[0]
    assert f"tabix -s 1 -b 3 -e 3 -c '#' {hg19}" in found[0]


def test_a_tsv_without_ref_alt_columns_needs_them_named(tmp_path: Path, ref: Path) -> None:
    scores = bgzip(tmp_path / "s.tsv.gz", "#chrom\tpos\tscore\nchr1\t10\t1\n", "-s", "1", "-b",
                   "2", "-e", "2", "-c", "#")
    found = problems(config_with(ref, {"extra": [{"path": str(scores), "columns": ["score"]}]}))
    assert "no REF column" in found[0] and "'' to match on the position only" in found[0]
    on_position = {"path": str(scores), "columns": ["score"], "ref_column": "",
                   "alt_column": ""}
    assert problems(config_with(ref, {"extra": [on_position]})) == []
    found = problems(config_with(ref, {"extra": [{**on_position, "ops": ["max"]}]}))
    assert len(found) == 1 and "takes the first row there" in found[0]


def test_a_multiallelic_vcf_source_is_refused(tmp_path: Path, ref: Path) -> None:
    multi = bgzip(tmp_path / "swegen.vcf.gz", VCF_HEAD + f"##contig=<ID=1,length={CHR1}>\n"
                  '##INFO=<ID=AF,Number=A,Type=Float,Description="x">\n' + COLUMNS
                  + "1\t949422\t.\tG\tA\t.\tPASS\tAF=0.1\n"
                  + "1\t949523\t.\tC\tT,G\t.\tPASS\tAF=1e-05,0.2\n")
    found = problems(config_with(ref, {"swegen": {"path": str(multi)}}))
    assert len(found) == 1 and "multi-allelic records (e.g. 1:949523 C>T,G)" in found[0]
    assert "bcftools norm -m -any" in found[0]


def test_contigs_in_the_other_naming_pass_and_no_common_contig_is_refused(
        tmp_path: Path, ref: Path, files: dict) -> None:
    assert problems(config_with(ref, {"clinvar": {"path": str(files["clinvar"])}})) == []
    mouse = bgzip(tmp_path / "mouse.vcf.gz", VCF_HEAD + "##contig=<ID=NC_000067.7,length=9>\n"
                  '##INFO=<ID=CLNSIG,Number=.,Type=String,Description="x">\n'
                  '##INFO=<ID=CLNREVSTAT,Number=.,Type=String,Description="x">\n' + COLUMNS
                  + "NC_000067.7\t5\t1\tA\tG\t.\t.\tCLNSIG=Benign;CLNREVSTAT=x\n")
    found = problems(config_with(ref, {"clinvar": {"path": str(mouse)}}))
    assert len(found) == 1 and "its contigs are named NC_000067.7" in found[0]
    assert "FASTA's are chr1" in found[0] and "e.g. 'NC_000067.7'" in found[0]


def test_a_source_of_another_build_is_refused(tmp_path: Path, ref: Path) -> None:
    grch37 = bgzip(tmp_path / "swegen37.vcf.gz", VCF_HEAD + "##contig=<ID=1,length=249250621>\n"
                   '##INFO=<ID=AF,Number=A,Type=Float,Description="x">\n' + COLUMNS
                   + "1\t949422\t.\tG\tA\t.\tPASS\tAF=0.1\n")
    found = problems(config_with(ref, {"swegen": {"path": str(grch37)}}))
    assert len(found) == 1 and "from another genome build" in found[0]
    assert "contig 1 is 249,250,621 bp long, the reference FASTA's chr1 1,000,000 bp" in found[0]


def test_a_build_named_in_the_header_is_checked_against_the_fasta_s(files: dict) -> None:
    clinvar = Source("ClinVar VCF", ("annotation", "clinvar", "path"), str(files["clinvar"]),
                     "vcf", ())
    found = read_source_file(files["clinvar"], "vcf")
    assert found.builds == [("GRCh37", "##reference=GRCh37")]
    grch38 = {"chr1": GRCH38_CHR1}
    assert fasta_build(grch38) == ("GRCh38", "chr1 is 248,956,422 bp")
    findings = reference_findings(clinvar, found, grch38)
    assert len(findings) == 1 and "its header names GRCh37 ('##reference=GRCh37')" in (
        findings[0][2]) and "the reference FASTA is GRCh38" in findings[0][2]
    assert reference_findings(clinvar, found, {"chr1": 249_250_621}) == []  # a GRCh37 FASTA
    cadd38 = SourceFile(files["clinvar"], "tsv", contigs=["1"],
                        builds=[("GRCh38", "## CADD GRCh38-v1.7")])
    assert reference_findings(clinvar, cadd38, {"chr1": 249_250_621})[0][2].startswith(
        "from another genome build: its header names GRCh38")


def test_info_names_written_twice_or_reserved_are_refused(ref: Path, files: dict) -> None:
    found = problems(config_with(ref, {
        "population_vcf": str(files["swegen"]), "population_af_tag": "GNOMADAF",
        "gnomad": {"path": str(files["gnomad"]), "af_grpmax": "AF_popmax"},
        "extra": [{"path": str(files["local"]), "fields": ["AF"], "names": ["DP"]}]}))
    assert any("INFO/GNOMADAF is already written by annotation.population_vcf" in p
               for p in found)
    assert any("INFO/DP is a tag of the calls themselves" in p for p in found)


def test_an_extra_mapping_needs_fields_or_columns_and_matching_names(ref: Path, files: dict
                                                                     ) -> None:
    found = problems(config_with(ref, {"extra": [
        {"path": str(files["local"]), "fields": ["AF"], "columns": ["score"]},
        {"path": str(files["local"]), "fields": ["AF", "ID"], "names": ["X"]},
        {"path": str(files["scores"]), "columns": ["score"], "ops": ["self"],
         "ref_column": "", "alt_column": ""}]}))
    assert any("annotation.extra.0" in p and "not both" in p for p in found)
    assert any("annotation.extra.1.names" in p and "1 names for 2 fields" in p for p in found)
    assert any("annotation.extra.2.ops.0" in p and "self is for a VCF's fields" in p
               for p in found)


def test_legacy_population_vcf_is_a_population_source(files: dict) -> None:
    sources = sources_from_config({"population_vcf": "p.vcf.gz", "population_af_tag": "GAF"})
    assert [(s.path, s.names, s.fields[0].source, s.legacy) for s in sources] == [
        ("p.vcf.gz", ("GAF",), "GAF", True)]
    # its file checks stay with the sheets' (not repeated here): only the build is added
    legacy = sources[0]
    assert source_findings(legacy, "/nonexistent", {"chr1": CHR1}) == []


def test_contig_names_map_across_namings() -> None:
    assert contig_map(["1", "X", "MT", "GL000192.1"], {"chr1", "chrX", "chrM"}) == {
        "1": "chr1", "X": "chrX", "MT": "chrM"}
    assert contig_map(["chr1"], ["chr1", "1"]) == {"chr1": "chr1"}


# --- the demo's sources ---------------------------------------------------------------------


def test_the_demo_sources_pass_the_checks_and_annotate_the_planted_variants(tmp_path: Path
                                                                            ) -> None:
    import yaml
    from helgenom.simulate.genome import build_reference, write_fasta
    from helgenom.simulate.sources import DEMO_CONFIG, write_demo_sources
    from helgenom.simulate.variants import build_trio, truth_vcf_text

    genome_seed, variant_seed, *_ = np.random.SeedSequence(7).spawn(4)
    reference = build_reference(np.random.default_rng(genome_seed), 0.3)
    trio = build_trio(np.random.default_rng(variant_seed), reference)
    paths = write_demo_sources(tmp_path / "reference", reference, trio)
    again = write_demo_sources(tmp_path / "again", reference, trio)
    assert all(paths[k].read_bytes() == again[k].read_bytes() for k in paths)  # deterministic
    write_fasta(reference, tmp_path / "reference" / "genome.fa")
    annotation = yaml.safe_load("annotation:\n" + DEMO_CONFIG)["annotation"]
    config = {"reference": {"fasta": "reference/genome.fa"}, "annotation": annotation}
    assert problems(config, tmp_path) == []
    truth = bgzip(tmp_path / "truth.vcf.gz", truth_vcf_text(reference, trio.planted))
    out = tmp_path / "truth.annotated.bcf"
    result = annotate(truth, out, sources_from_config(annotation), workdir=tmp_path)
    rows = query(out, ["CLNSIG", "CLNREVSTAT", "CADD", "REVEL_score", "SpliceAI"])
    planted = [p for p in trio.planted if p.type == "SNV"]
    assert result.records == len(planted) == len(rows) >= 5
    for p in planted:
        v = p.variant
        clnsig, revstat, cadd, revel, spliceai = rows[(v.contig, v.pos + 1, v.ref, v.alt)]
        assert clnsig == "Pathogenic" and "multiple_submitters" in revstat
        assert float(cadd) >= 25
        assert (revel != ".") == (p.consequence == "missense")
        assert spliceai.startswith(f"{v.alt}|{p.gene}|")
    # ClinVar, CADD, REVEL and SpliceAI name contigs 1, 2, X, as the real files
    assert any("renamed chr1->1" in note for note in result.notes)
