"""The VCF reader (Arrow-streamed `bcftools query`, two region pipelines when indexed) and the
vectorised BCSQ parser: same table and genotypes as the rules they implement."""

from __future__ import annotations

import gzip
import random
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helgenom.errors import InputError
from helgenom.io import vcf as vcfio
from helgenom.io.bgzf import EOF, inflate_blocks
from helgenom.io.vcf import read_header, read_variants
from helgenom.rank import consequence
from helgenom.rank.consequence import gene_annotation, parse_bcsq
from helpers import TEST_DATA, bgzip_indexed, need_tools

SAMPLES = ["dad", "mum", "kid"]
HEADER = [
    "##fileformat=VCFv4.2",
    "##contig=<ID=chr1,length=1000000>",
    "##contig=<ID=chr2,length=1000000>",
    '##INFO=<ID=BCSQ,Number=.,Type=String,Description="csq">',
    '##INFO=<ID=GNOMADAF,Number=A,Type=Float,Description="AF">',
    '##FILTER=<ID=LowQual,Description="Low quality">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="GQ">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="AD">',
]


@pytest.fixture(autouse=True)
def tools():
    need_tools("bcftools", "bgzip", "tabix")


def vcf_text(records: list[str], header: list[str] = HEADER, samples: list[str] = SAMPLES
             ) -> str:
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples)
    return "\n".join([*header, columns, *records]) + "\n"


RECORDS = [
    "chr1\t100\t.\tA\tG\t50\tPASS\tBCSQ=missense|G1|T1|protein_coding|+|1A>1T|100A>G;GNOMADAF=0.001"
    "\tGT:GQ:AD\t0/0:60:20,0\t0/1:55:10,9\t0/1:40:8,8",
    "chr1\t200\t.\tC\tT,A\t30.5\tLowQual\tGNOMADAF=0.2,0.01\tGT:GQ:AD\t1/2:20:1,5,6\t./.:.:.\t0|1:.:3,4,0",
    "chr1\t300\t.\tAT\tA\t.\t.\t.\tGT:AD\t1\t0\t.",
    "chr2\t50\t.\tG\tC\t99\tPASS\tBCSQ=intron|G2|T2|protein_coding\tGT:GQ:AD\t0/1:99:5,5\t0/0:99:9\t1/1:3:0,7",
    "chr2\t60\t.\tT\tTA\t99\tPASS\t.\tGT:GQ\t0/1:12\t0/0:99\t1/1:7",
]


def read(path: Path, fields: tuple[str, ...] = ("BCSQ", "GNOMADAF", "Absent")
         ) -> tuple[pd.DataFrame, vcfio.Genotypes]:
    header = read_header(path)
    return read_variants(path, SAMPLES, list(fields), header)


def test_alleles_split_and_genotypes_decoded(tmp_path):
    path = tmp_path / "in.vcf"
    path.write_text(vcf_text(RECORDS))
    table, gts = read(path)
    assert list(table.columns) == ["CHROM", "POS", "REF", "ALT", "QUAL", "FILTER", "BCSQ",
                                   "GNOMADAF", "Absent"]
    assert list(zip(table["POS"], table["ALT"], strict=True)) == [
        (100, "G"), (200, "T"), (200, "A"), (300, "A"), (50, "C"), (60, "TA")]
    assert table["POS"].dtype == np.int64
    assert table["FILTER"].tolist() == ["PASS", "LowQual", "LowQual", ".", "PASS", "PASS"]
    assert table["QUAL"].iloc[:3].tolist() == ["50", "30.5", "30.5"]
    assert pd.isna(table["QUAL"].iloc[3])
    assert table["GNOMADAF"].tolist()[:3] == ["0.001", "0.2", "0.01"]
    assert table["Absent"].isna().all()
    # 1/2 split: het for each allele; haploid calls; no-calls
    assert gts.gt["dad"].tolist() == [0, 1, 1, 2, 1, 1]
    assert gts.ploidy["dad"].tolist() == [2, 2, 2, 1, 2, 2]
    assert gts.gt["mum"].tolist() == [1, -1, -1, 0, 0, 0]
    assert gts.gt["kid"].tolist() == [1, 1, 0, -1, 2, 2]
    assert gts.ref_depth["dad"][:3].tolist() == [20, 1, 1]
    assert gts.alt_depth["dad"][:3].tolist() == [0, 5, 6]
    assert np.isnan(gts.gq["mum"][1]) and gts.gq["kid"][4] == 3
    assert np.isnan(gts.alt_depth["mum"][4]) and np.isnan(gts.ref_depth["kid"][5])
    for values in (gts.gq, gts.ref_depth, gts.alt_depth):
        assert all(v.dtype == np.float64 for v in values.values())
    assert all(v.dtype == np.int8 for v in gts.gt.values())


def many_records(n: int = 4000) -> list[str]:
    rng = random.Random(3)
    return [f"chr{1 + (i >= n // 2)}\t{1000 + 37 * i}\t.\tA\t{rng.choice(['G', 'T,C'])}\t50"
            f"\tPASS\tBCSQ=intron|G{i % 50}|T|b\tGT:GQ:AD\t0/1:{i % 90}:{i % 7},3,1\t0/0:60:9,0,0"
            "\t./.:.:." for i in range(n)]


def assert_same_read(one: Path, two: Path) -> None:
    table_one, gts_one = read(one)
    table_two, gts_two = read(two)
    pd.testing.assert_frame_equal(table_one, table_two)
    for name in ("gt", "ploidy", "gq", "ref_depth", "alt_depth"):
        for s in SAMPLES:
            np.testing.assert_array_equal(getattr(gts_one, name)[s], getattr(gts_two, name)[s])


@pytest.mark.parametrize("kind", ["bgzf", "plain"])
def test_large_input_read_in_two_halves_gives_the_same_rows(tmp_path, monkeypatch, kind):
    text = vcf_text(many_records())
    path = (bgzip_indexed(text, tmp_path / "in.vcf.gz") if kind == "bgzf"
            else tmp_path / "in.vcf")
    if kind == "plain":
        path.write_text(text)
    serial = read(path)
    halves = []
    original = vcfio._halves
    monkeypatch.setattr(vcfio, "_halves", lambda *a: halves.append(original(*a)) or halves[-1])
    monkeypatch.setattr(vcfio, "SPLIT_BYTES", 10_000)
    table, gts = read(path)
    assert [len(h) for h in halves] == [2]
    pd.testing.assert_frame_equal(table, serial[0])
    for name in ("gt", "ploidy", "gq", "ref_depth", "alt_depth"):
        for s in SAMPLES:
            np.testing.assert_array_equal(getattr(gts, name)[s], getattr(serial[1], name)[s])


def test_halves_carry_header_fixes_and_declare_what_is_missing(tmp_path, monkeypatch):
    header = [line for line in HEADER if "ID=GQ" not in line and "chr2" not in line]
    text = vcf_text(many_records(), header)
    path = bgzip_indexed(text, tmp_path / "in.vcf.gz")
    monkeypatch.setattr(vcfio, "SPLIT_BYTES", 10_000)
    header_read = read_header(path)
    assert any("ID=GQ" in f for f in header_read.fixes)
    table, gts = read_variants(path, SAMPLES, ["BCSQ"], header_read)
    assert "##contig=<ID=chr2>" in header_read.fixes
    assert set(table["CHROM"]) == {"chr1", "chr2"} and not np.isnan(gts.gq["dad"]).all()
    monkeypatch.setattr(vcfio, "SPLIT_BYTES", 1 << 60)
    serial, serial_gts = read_variants(path, SAMPLES, ["BCSQ"], read_header(path))
    pd.testing.assert_frame_equal(table, serial)
    np.testing.assert_array_equal(gts.gq["dad"], serial_gts.gq["dad"])


def test_small_or_bcf_input_is_read_in_one_pipeline(tmp_path, monkeypatch):
    text = vcf_text(many_records(300))
    path = bgzip_indexed(text, tmp_path / "in.vcf.gz")
    assert vcfio._halves(path, read_header(path)) == []  # below SPLIT_BYTES
    bcf = tmp_path / "in.bcf"
    subprocess.run(["bcftools", "view", "-Ob", "-o", str(bcf), str(path)], check=True)
    monkeypatch.setattr(vcfio, "SPLIT_BYTES", 100)
    assert vcfio._halves(bcf, read_header(bcf)) == []
    table, _ = read(bcf)
    pd.testing.assert_frame_equal(table, read(path)[0])


def test_empty_input_gives_typed_empty_columns(tmp_path):
    path = tmp_path / "empty.vcf"
    path.write_text(vcf_text([]))
    table, gts = read(path)
    assert len(table) == 0 and table["POS"].dtype == np.int64
    assert len(gts.gt["kid"]) == 0 and len(gts.gq["kid"]) == 0


def test_non_numeric_format_values_become_nan(tmp_path):
    header = [line.replace("ID=GQ,Number=1,Type=Integer", "ID=GQ,Number=1,Type=String")
              for line in HEADER]
    path = tmp_path / "in.vcf"
    path.write_text(vcf_text(["chr1\t100\t.\tA\tG\t50\tPASS\t.\tGT:GQ\t0/1:high\t0/0:7\t0/0:.",
                              "chr1\t200\t.\tA\tG\t50\tPASS\t.\tGT:GQ\t0/1:3\t0/0:x\t0/0:9"],
                             header))
    _, gts = read(path)
    assert np.isnan(gts.gq["dad"][0]) and gts.gq["mum"][0] == 7 and np.isnan(gts.gq["kid"][0])
    assert gts.gq["dad"][1] == 3 and np.isnan(gts.gq["mum"][1]) and gts.gq["kid"][1] == 9


def test_truncated_input_is_an_input_error(tmp_path):
    records = [f"chr1\t{p}\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t0/0\t./." for p in range(1, 20000)]
    path = bgzip_indexed(vcf_text(records), tmp_path / "in.vcf.gz")
    data = path.read_bytes()
    broken = tmp_path / "broken.vcf.gz"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cannot be read to its end.*bgzf_read_block"):
        read(broken)
    # Cut at a block's end, bcftools reads the blocks before it, warns and exits 0: stderr
    # says it all the same.
    block_ends = [address for address, _ in inflate_blocks(data[:-len(EOF)])][1:]
    broken.write_bytes(data[:block_ends[len(block_ends) // 2]])
    with pytest.raises(InputError, match="cannot be read to its end"):
        read(broken)


def test_undeclared_tags_and_contigs_are_declared_and_kept(tmp_path):
    path = tmp_path / "in.vcf"
    header = [line for line in HEADER if "chr2" not in line]
    path.write_text(vcf_text(["chr1\t100\t.\tA\tG\t50\tPASS\tXX=1;BCSQ=intron|G|T|b\tGT:ZZ\t0/1:3"
                              "\t0/0:1\t0/0:2",
                              "chr2\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t0/0\t0/0"], header))
    header_read = read_header(path)
    table, _ = read_variants(path, SAMPLES, ["BCSQ"], header_read)
    assert table["CHROM"].tolist() == ["chr1", "chr2"]
    assert "##contig=<ID=chr2>" in header_read.fixes
    assert any("ID=XX," in f for f in header_read.fixes)
    assert any("ID=ZZ," in f for f in header_read.fixes)


# ------------------------------------------------------------------------- BCSQ, vectorised

ENTRY_PARTS = {
    "terms": ["missense", "intron", "synonymous", "stop_gained", "splice_region&intron",
              "upstream", "downstream", "intergenic", "Frameshift_variant", "novel_term",
              "missense&novel_term", "", "5_prime_UTR_variant&splice_region",
              "non_coding", "@12345"],
    "genes": ["GENEA", "GENEB", "", "GENEC", "GENEA"],
}


def random_bcsq(rng: random.Random) -> str | None:
    if rng.random() < 0.05:
        return None
    entries = []
    for _ in range(rng.randint(0, 4)):
        if rng.random() < 0.07:
            entries.append(f"@{rng.randint(1, 999)}")
            continue
        fields = [rng.choice(ENTRY_PARTS["terms"]), rng.choice(ENTRY_PARTS["genes"]),
                  f"ENST{rng.randint(1, 9)}", "protein_coding", rng.choice("+-"),
                  f"{rng.randint(1, 500)}A>{rng.randint(1, 500)}T", "1A>T", "extra|field"]
        entry = "|".join(fields[: rng.randint(1, 8)])
        entries.append(("*" * rng.randint(0, 2) if rng.random() < 0.2 else "") + entry)
    if rng.random() < 0.05:
        entries.append("")
    return ",".join(entries)


def expected(values: list[str | None]) -> pd.DataFrame:
    rows = [consequence.UNKNOWN if v is None else parse_bcsq(v) for v in values]
    return pd.DataFrame({
        "consequence": pd.array([r.consequence for r in rows], dtype="str"),
        "gene": pd.array([r.gene for r in rows], dtype="str"),
        "genes": pd.Series([r.genes for r in rows], dtype=object),
        "protein_change": pd.array([r.protein_change for r in rows], dtype="str"),
        "severity": np.array([r.severity for r in rows], dtype=np.int64),
        "impact": pd.array([r.impact for r in rows], dtype="str"),
    })


@pytest.mark.parametrize("dtype", ["str", "string", object])
def test_vectorised_bcsq_equals_parse_bcsq(dtype, monkeypatch):
    rng = random.Random(5)
    values = [random_bcsq(rng) for _ in range(3000)]
    values += values[:500]  # repeated values share their parse
    monkeypatch.setattr(consequence, "_ROWS_PER_PART", 700)  # several parts, two threads
    table = pd.DataFrame({"BCSQ": pd.Series(values, dtype=dtype)})
    out = gene_annotation(table, "BCSQ")
    pd.testing.assert_frame_equal(out, expected(values), check_index_type=False)
    ones = [g for g in out["genes"] if len(g) == 1]
    assert len({id(g) for g in ones}) == len(set(ones))  # equal tuples are one object


def test_vectorised_bcsq_of_no_rows_and_all_na():
    empty = gene_annotation(pd.DataFrame({"BCSQ": pd.Series([], dtype="str")}), "BCSQ")
    assert len(empty) == 0 and list(empty.columns) == list(consequence.Summary._fields)
    nothing = gene_annotation(pd.DataFrame({"BCSQ": [pd.NA, None]}), "BCSQ")
    assert nothing["genes"].tolist() == [(), ()]
    assert (nothing["severity"] == consequence.UNKNOWN_RANK).all()


def test_shared_fixture_through_reader_and_parser(tmp_path):
    source = Path(__file__).resolve().parents[1] / "data"
    found = [p for p in source.rglob("*.vcf") if "BCSQ" in p.read_text(errors="ignore")]
    if not found:
        pytest.skip("no BCSQ fixture")
    for path in found[:5]:
        copy = tmp_path / path.name
        shutil.copy(path, copy)
        try:
            header = read_header(copy)
            table, _ = read_variants(copy, header.samples, ["BCSQ"], header)
        except InputError:
            continue
        out = gene_annotation(table, "BCSQ")
        values = [None if pd.isna(v) else v for v in table["BCSQ"]]
        pd.testing.assert_frame_equal(out.reset_index(drop=True), expected(values))


def test_gzip_text_header_is_read(tmp_path):
    path = tmp_path / "in.vcf.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(vcf_text(RECORDS[:1]))
    assert read_header(path).samples == SAMPLES


def test_vectorised_bcsq_on_the_giab_trio():
    vcf = TEST_DATA / "giab-trio" / "ashk-trio.vcf.gz"
    header = read_header(vcf)
    table, _ = read_variants(vcf, header.samples, ["BCSQ"], header)
    values = [None if pd.isna(v) else v for v in table["BCSQ"]]
    pd.testing.assert_frame_equal(gene_annotation(table, "BCSQ", header), expected(values))

