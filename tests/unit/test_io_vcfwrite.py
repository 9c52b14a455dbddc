"""The ranked-VCF writer: every record source gives the same records and INFO values, the
.tbi it builds is tabix's, and what it cannot handle falls back to bcftools/tabix."""

from __future__ import annotations

import gzip
import random
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helgenom.io import vcfwrite
from helgenom.io.vcf import read_header, read_variants
from helgenom.io.vcfwrite import INFO_FIELDS, write_vcf
from helpers import TEST_DATA, bgzip_indexed, need_tools

SAMPLES = ["dad", "mum", "kid"]
HEADER = [
    "##fileformat=VCFv4.2",
    "##contig=<ID=chr1,length=100000000>",
    "##contig=<ID=chr2,length=100000000>",
    "##contig=<ID=chr3,length=100000000>",
    '##INFO=<ID=BCSQ,Number=.,Type=String,Description="csq">',
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="depth">',
    '##INFO=<ID=END,Number=1,Type=Integer,Description="end">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="AD">',
]
CATEGORIES = ["consequence", "inheritance"]


@pytest.fixture(autouse=True)
def tools():
    need_tools("bcftools", "bgzip", "tabix")


def vcf_text(records: list[str], header: list[str] = HEADER) -> str:
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(SAMPLES)
    return "\n".join([*header, columns, *records]) + "\n"


def record(chrom: str, pos: int, ref: str = "A", alt: str = "G", info: str = "DP=9") -> str:
    depths = ",".join(["5"] * (alt.count(",") + 2))
    return (f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t50\tPASS\t{info}\tGT:AD\t0/1:{depths}\t0/0:9,0"
            "\t./.:.")


def rows_and_results(path: Path, seed: int = 1) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The reader's table (with `impact`) and made-up results of two families."""
    header = read_header(path)
    table, _ = read_variants(path, SAMPLES, [], header)
    rng = random.Random(seed)
    n = len(table)
    table["impact"] = [rng.choice(["HIGH", "MODERATE", "LOW", "MODIFIER"]) for _ in range(n)]
    results = {}
    for family in ("F1", "F2"):
        results[family] = pd.DataFrame({
            "models": [rng.choice(["", "AD_dn", "AR_hom|AR_comp"]) for _ in range(n)],
            "compounds_info": [rng.choice(["", "", "chr1_5_A_G>3|chr1_9_C_T>-1.5"])
                               for _ in range(n)],
            "score": [rng.choice([1.0, -2.5, 12.0, float("nan")]) for _ in range(n)],
            "score_normalized": [rng.choice([0.12345, 0.5, 1.0]) for _ in range(n)],
            "quality": [rng.choice(["PASS", "FILTERED", "GATE_FAIL"]) for _ in range(n)],
            "consequence": [rng.choice([1, 5, None]) for _ in range(n)],
            "inheritance": [rng.choice([-12, 0, 3]) for _ in range(n)],
        }, index=table.index)
    return table, results


def body(path: Path) -> list[str]:
    return subprocess.run(["bcftools", "view", "-H", str(path)], capture_output=True,
                          text=True, check=True).stdout.splitlines()


def info_lines(path: Path) -> list[str]:
    with gzip.open(path, "rt") as handle:
        return [line.rstrip("\n") for line in handle if line.startswith("##INFO")]


def tbi(path: Path) -> tuple[list[bytes], list[tuple[dict[int, list[tuple[int, int]]], tuple]]]:
    """A .tbi decoded: contig names and, per contig, {bin: chunks} and the linear index."""
    with gzip.open(path) as handle:
        data = handle.read()
    n_ref, *_, l_nm = struct.unpack_from("<8i", data, 4)
    pos = 36 + l_nm
    names = data[36:pos].split(b"\0")[:-1]
    refs = []
    for _ in range(n_ref):
        (n_bin,), pos = struct.unpack_from("<i", data, pos), pos + 4
        bins = {}
        for _ in range(n_bin):
            key, count = struct.unpack_from("<Ii", data, pos)
            bins[key] = [struct.unpack_from("<QQ", data, pos + 8 + 16 * i) for i in range(count)]
            pos += 8 + 16 * count
        (n_intv,), pos = struct.unpack_from("<i", data, pos), pos + 4
        refs.append((bins, struct.unpack_from(f"<{n_intv}Q", data, pos)))
        pos += 8 * n_intv
    return names, refs


def assert_tabix_index(out: Path, tmp_path: Path) -> None:
    """`out`.tbi has exactly the content `tabix -p vcf` gives the same file."""
    copy = tmp_path / "tabix-copy.vcf.gz"
    shutil.copy(out, copy)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(copy)], check=True)
    assert tbi(Path(f"{out}.tbi")) == tbi(Path(f"{copy}.tbi"))


def write(source: Path, out: Path, table: pd.DataFrame, results: dict[str, pd.DataFrame]
          ) -> Path:
    write_vcf(source, table, results, out, read_header(source), CATEGORIES)
    return out


def test_sources_give_the_same_records_and_tabix_index(tmp_path, monkeypatch):
    records = [record(c, p, alt=a, info=i) for c in ("chr1", "chr2") for p, a, i in
               ((100, "G", "DP=9"), (200, "G", "."), (300, "G", "BCSQ=x|y"), (300, "T", "DP=1"))]
    source = bgzip_indexed(vcf_text(records), tmp_path / "in.vcf.gz")
    table, results = rows_and_results(source)
    used = []
    for name in ("_write_streamed", "_write_annotated"):
        original = getattr(vcfwrite, name)

        def spy(*args, _name=name, _original=original):
            used.append(_name)
            return _original(*args)

        monkeypatch.setattr(vcfwrite, name, spy)
    raw = write(source, tmp_path / "raw.vcf.gz", table, results)
    monkeypatch.setattr(vcfwrite, "_is_text_vcf", lambda path: None)  # as for BCF input
    split = write(source, tmp_path / "split.vcf.gz", table, results)
    annotated = tmp_path / "annotated.vcf.gz"
    with vcfwrite.tempfile.TemporaryDirectory() as tmp:
        vcfwrite._write_annotated(source, table, vcfwrite.annotation(table, results, CATEGORIES),
                                  annotated, read_header(source), Path(tmp),
                                  vcfwrite.info_header(CATEGORIES))
    assert used == ["_write_streamed", "_write_streamed", "_write_annotated"]
    assert body(raw) == body(split) == body(annotated)
    lines = body(raw)
    assert "\t.\tGT:AD" not in "".join(lines)  # empty INFO replaced, not appended to
    assert lines[1].split("\t")[7].startswith("RankScore=F1:") or \
        lines[1].split("\t")[7].startswith("GeneticModels=")
    declared = vcfwrite.info_header(CATEGORIES).strip().split("\n")
    assert info_lines(raw)[-len(INFO_FIELDS):] == declared
    assert 'ID=RankResult,Number=.,Type=String,Description="consequence|inheritance"' in declared[4]
    for out in (raw, split):
        assert_tabix_index(out, tmp_path)


def test_info_values_are_the_per_family_texts(tmp_path):
    source = tmp_path / "in.vcf"
    source.write_text(vcf_text([record("chr1", p) for p in range(100, 160, 10)]))
    table, results = rows_and_results(source, seed=3)
    out = write(source, tmp_path / "out.vcf.gz", table, results)
    expected = vcfwrite._field_texts(table, results, CATEGORIES, list(INFO_FIELDS))
    for i, line in enumerate(body(out)):
        info = dict(item.split("=", 1) for item in line.split("\t")[7].split(";"))
        assert info.pop("DP") == "9"
        # NA (an empty cell for bcftools annotate) and '.' set nothing
        want = {key: expected[key].iloc[i] for key in INFO_FIELDS}
        assert info == {k: str(v) for k, v in want.items() if not pd.isna(v) and v != "."}


def test_multi_allelic_input_is_written_split(tmp_path):
    records = [record("chr1", 100), record("chr1", 200, "C", "T,A"), record("chr1", 300)]
    source = bgzip_indexed(vcf_text(records), tmp_path / "in.vcf.gz")
    table, results = rows_and_results(source)
    assert len(table) == 4
    out = write(source, tmp_path / "out.vcf.gz", table, results)
    lines = body(out)
    assert [line.split("\t")[4] for line in lines] == ["G", "T", "A", "G"]
    assert all("HGImpact=" in line for line in lines)
    assert_tabix_index(out, tmp_path)


def test_input_with_our_keys_or_a_subset_of_rows_goes_through_annotate(tmp_path, monkeypatch):
    header = [*HEADER, '##INFO=<ID=RankScore,Number=.,Type=String,Description="old">']
    source = tmp_path / "in.vcf"
    source.write_text(vcf_text([record("chr1", 100, info="RankScore=old:1"),
                                record("chr1", 200)], header))
    table, results = rows_and_results(source)
    used = []
    original = vcfwrite._write_annotated
    monkeypatch.setattr(vcfwrite, "_write_annotated",
                        lambda *a: used.append(1) or original(*a))
    out = write(source, tmp_path / "out.vcf.gz", table, results)
    assert used and "RankScore=old:1" not in "".join(body(out))
    # rows that are not the records in order: matched on CHROM/POS/REF/ALT instead
    plain = tmp_path / "plain.vcf"
    plain.write_text(vcf_text([record("chr1", p) for p in (100, 200, 300)]))
    table, results = rows_and_results(plain)
    keep = [2, 0]  # reordered too: the annotation table is sorted for tabix
    out = write(plain, tmp_path / "subset.vcf.gz", table.iloc[keep],
                {f: r.iloc[keep] for f, r in results.items()})
    lines = body(out)
    assert len(lines) == 3 and "HGImpact" in lines[0] + lines[2] and "HGImpact" not in lines[1]
    assert len(used) == 2


def test_records_with_info_end_are_indexed_by_tabix(tmp_path, monkeypatch):
    records = [record("chr1", 100, info="END=70000"), record("chr1", 150)]
    source = bgzip_indexed(vcf_text(records), tmp_path / "in.vcf.gz")
    table, results = rows_and_results(source)
    runs = []
    original = vcfwrite.subprocess.run
    monkeypatch.setattr(vcfwrite.subprocess, "run", lambda cmd, **kw: runs.append(cmd) or
                        original(cmd, **kw))
    out = write(source, tmp_path / "out.vcf.gz", table, results)
    assert any(cmd[0] == "tabix" for cmd in runs)
    assert_tabix_index(out, tmp_path)


def test_unsorted_records_fail_as_tabix_does(tmp_path):
    source = tmp_path / "in.vcf"  # bcftools norm sorts nearby records, not contigs
    source.write_text(vcf_text([record("chr1", 300), record("chr2", 100), record("chr1", 400)]))
    table, results = rows_and_results(source)
    with pytest.raises(subprocess.CalledProcessError):
        write(source, tmp_path / "out.vcf.gz", table, results)


def test_index_matches_tabix_across_bins_windows_and_contigs(tmp_path):
    """Dense and sparse stretches, long alleles over 16 kb windows and bin edges, many
    contigs: the index built from the record layout is tabix's, bin for bin."""
    rng = random.Random(11)
    records = []
    for chrom in ("chr1", "chr2", "chr3"):
        positions = sorted({rng.randint(1, 3_000_000) for _ in range(3000)}
                           | {rng.randint(5_000_000, 5_020_000) for _ in range(2000)}
                           | {16384 * k for k in range(1, 40)} | {131072 - 3, 1048576 - 2})
        for pos in positions:
            ref = "A" * (rng.choice([1, 1, 1, 2, 40, 20000]) if rng.random() < 0.3 else 1)
            records.append(record(chrom, pos, ref, "G"))
    source = tmp_path / "in.vcf"
    source.write_text(vcf_text(records))
    table, results = rows_and_results(source)
    out = write(source, tmp_path / "out.vcf.gz", table, results)
    assert_tabix_index(out, tmp_path)
    region = subprocess.run(["tabix", str(out), "chr2:2000000-2100000"], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    assert region and all(line.startswith("chr2\t") for line in region)


def test_giab_trio_round_trip(tmp_path):
    vcf = TEST_DATA / "giab-trio" / "ashk-trio.vcf.gz"
    header = read_header(vcf)
    table, _ = read_variants(vcf, header.samples, [], header)
    table["impact"] = "MODIFIER"
    n = len(table)
    results = {"ash": pd.DataFrame({
        "models": np.where(np.arange(n) % 3 == 0, "AD_dn", ""), "compounds_info": "",
        "score": np.arange(n) % 7 - 2.0, "score_normalized": (np.arange(n) % 5) / 4,
        "quality": "PASS", "consequence": 1, "inheritance": np.arange(n) % 2})}
    out = tmp_path / "giab.vcf.gz"
    write_vcf(vcf, table, results, out, header, CATEGORIES)
    assert len(body(out)) == n
    assert_tabix_index(out, tmp_path)


def test_a_late_multi_allelic_record_switches_source_cleanly(tmp_path, monkeypatch):
    """Blocks of a few records each: the raw source is abandoned many blocks in (reader and
    writer threads stop), the split source then writes every record."""
    monkeypatch.setattr(vcfwrite, "READ_AHEAD_BYTES", 2000)
    records = [record("chr1", p) for p in range(100, 5100, 10)]
    records.append(record("chr1", 6000, "C", "T,A"))
    source = bgzip_indexed(vcf_text(records), tmp_path / "in.vcf.gz")
    table, results = rows_and_results(source)
    out = write(source, tmp_path / "out.vcf.gz", table, results)
    lines = body(out)
    assert len(lines) == len(table) == 502
    assert [line.split("\t")[4] for line in lines[-2:]] == ["T", "A"]
    assert_tabix_index(out, tmp_path)


def test_positions_beyond_the_tbi_range_get_a_csi_index(tmp_path):
    """A record past 2^29 (a .tbi cannot hold it): the output is indexed as CSI, by every
    route (streamed, and bcftools annotate), and an earlier run's .tbi does not stay."""
    header = [line.replace("ID=chr2,length=100000000", "ID=chr2,length=600000000")
              for line in HEADER]
    source = tmp_path / "in.vcf"
    source.write_text(vcf_text([record("chr1", 100), record("chr2", 550_000_000)], header))
    table, results = rows_and_results(source)
    out = tmp_path / "out.vcf.gz"
    Path(f"{out}.tbi").write_bytes(b"an earlier run's index")
    index = write_vcf(source, table, results, out, read_header(source), CATEGORIES)
    assert index == Path(f"{out}.csi") and index.exists() and not Path(f"{out}.tbi").exists()
    hits = subprocess.run(["tabix", str(out), "chr2:549999999-550000001"], capture_output=True,
                          text=True, check=True).stdout.splitlines()
    assert [line.split("\t")[1] for line in hits] == ["550000000"]
    with_key = tmp_path / "with-key.vcf"  # our INFO key in the input: bcftools annotate
    with_key.write_text(vcf_text([record("chr2", 550_000_000, info="RankScore=old:1")],
                                 [*header, '##INFO=<ID=RankScore,Number=.,Type=String,'
                                  'Description="old">']))
    table, results = rows_and_results(with_key)
    out = tmp_path / "annotated.vcf.gz"
    assert write_vcf(with_key, table, results, out, read_header(with_key),
                     CATEGORIES) == Path(f"{out}.csi")
    assert len(body(out)) == 1 and not Path(f"{out}.tbi").exists()


def test_csq_goes_last_by_every_route(tmp_path, monkeypatch):
    """The table's `csq` column is INFO/CSQ, after helgenom's fields, declared by the header
    line given; rows without one get none; the three record sources agree."""
    records = [record("chr1", p, info=i) for p, i in ((100, "DP=9"), (200, "."), (300, "DP=1"))]
    source = bgzip_indexed(vcf_text(records), tmp_path / "in.vcf.gz")
    table, results = rows_and_results(source)
    csq = ["G|missense_variant|A|ENST1:c.1A>G|ENSP1:p.Leu1%3D,G|intron_variant|B|ENST2:c.5+1A>G|",
           "", None]
    table["csq"] = pd.array(csq, dtype="str")
    line = '##INFO=<ID=CSQ,Number=.,Type=String,Description="test. Format: A|B|C|D|E">\n'
    raw = tmp_path / "raw.vcf.gz"
    write_vcf(source, table, results, raw, read_header(source), CATEGORIES, line)
    monkeypatch.setattr(vcfwrite, "_is_text_vcf", lambda path: None)  # as for BCF input
    split = tmp_path / "split.vcf.gz"
    write_vcf(source, table, results, split, read_header(source), CATEGORIES, line)
    annotated = tmp_path / "annotated.vcf.gz"
    with vcfwrite.tempfile.TemporaryDirectory() as tmp:
        vcfwrite._write_annotated(source, table, vcfwrite.annotation(
            table, results, CATEGORIES, csq=True), annotated, read_header(source), Path(tmp),
            vcfwrite.info_header(CATEGORIES) + line)
    assert body(raw) == body(split) == body(annotated)
    infos = [dict(item.split("=", 1) for item in row.split("\t")[7].split(";"))
             for row in body(raw)]
    assert list(infos[0])[-1] == "CSQ" and infos[0]["CSQ"] == csq[0]
    assert "CSQ" not in infos[1] and "CSQ" not in infos[2]
    assert info_lines(raw)[-1] == line.strip()
    assert_tabix_index(raw, tmp_path)
    # without a header line, no CSQ
    plain = tmp_path / "plain.vcf.gz"
    write_vcf(source, table, results, plain, read_header(source), CATEGORIES)
    assert "CSQ=" not in "".join(body(plain))
