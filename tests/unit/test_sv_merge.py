"""helgenom svmerge: merging SV calls across callers and samples, genotypes, population AF."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helgenom.cli import main
from helgenom.errors import InputError
from helgenom.sv.merge import CallSet, normalise_gt, normalise_type, origin, svmerge
from helpers import need_tools

MEMBERS = ["dad", "mum", "kid"]


@pytest.fixture(autouse=True)
def _tools() -> None:
    need_tools("bcftools", "tabix")


def sv_vcf(path: Path, samples: list[str], records: list[tuple], fmt: str = "GT") -> Path:
    """records: (chrom, pos, id, alt, info, filter, [sample values])."""
    lines = [
        "##fileformat=VCFv4.2",
        "##contig=<ID=chr1,length=1000000>",
        "##contig=<ID=chr2,length=1000000>",
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="t">',
        '##INFO=<ID=END,Number=1,Type=Integer,Description="e">',
        '##INFO=<ID=AF,Number=A,Type=Float,Description="af">',
        '##INFO=<ID=CHR2,Number=1,Type=String,Description="c2">',
        '##INFO=<ID=POS2,Number=1,Type=Integer,Description="p2">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">',
        '##FORMAT=<ID=CN,Number=1,Type=Integer,Description="cn">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                   *(["FORMAT", *samples] if samples else [])]),
    ]
    for chrom, pos, ident, alt, info, filt, values in records:
        row = [chrom, str(pos), ident, "N", alt, "50", filt, info]
        if samples:
            row += [fmt, *values]
        lines.append("\t".join(row))
    path.write_text("\n".join(lines) + "\n")
    return path


def fasta(tmp_path: Path) -> Path:
    path = tmp_path / "ref.fa"
    path.write_text(">chr1\nACGT\n>chr2\nACGT\n")
    (tmp_path / "ref.fa.fai").write_text("chr1\t1000000\t6\t4\t5\nchr2\t1000000\t17\t4\t5\n")
    return path


def records(path: Path) -> list[dict[str, str]]:
    out = subprocess.run(
        ["bcftools", "query", "-f", "%CHROM\t%POS\t%INFO/END\t%INFO/SVTYPE\t%INFO/CALLERS"
         "[\t%SAMPLE=%GT:%CN]\n", str(path)], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        chrom, pos, end, svtype, callers, *cells = line.split("\t")
        row = {"chrom": chrom, "pos": pos, "end": end, "svtype": svtype, "callers": callers}
        row.update(cell.split("=") for cell in cells)
        rows.append(row)
    return rows


def test_joint_and_depth_calls_of_one_deletion_merge_with_the_priority_callers_breakpoints(
        tmp_path):
    delly = sv_vcf(tmp_path / "delly.vcf", MEMBERS, [
        ("chr1", 10_000, "DEL1", "<DEL>", "SVTYPE=DEL;END=15000", "PASS",
         ["0/0", "0/1", "0/1"])])
    cnv = sv_vcf(tmp_path / "cnv.vcf", MEMBERS, [  # bin resolution: ~200 bp off each side
        ("chr1", 10_200, "CNV1", "<DEL>", "SVTYPE=DEL;END=15200", "PASS",
         ["0/0:2", "0/1:1", "0/1:1"])], fmt="GT:CN")
    out = tmp_path / "m.vcf.gz"
    svmerge([CallSet("cnv", cnv), CallSet("delly", delly)], MEMBERS, fasta(tmp_path), out)
    (row,) = records(out)
    assert (row["pos"], row["end"], row["svtype"]) == ("10000", "15000", "DEL")
    assert row["callers"] == "delly,cnv"  # priority order, not input order
    # genotypes from delly, copy number from the depth caller
    assert (row["dad"], row["mum"], row["kid"]) == ("0/0:2", "0/1:1", "0/1:1")
    assert Path(f"{out}.tbi").is_file()


def test_reciprocal_overlap_threshold_decides(tmp_path):
    a = sv_vcf(tmp_path / "a.vcf", MEMBERS, [
        ("chr1", 10_000, "A", "<DEL>", "SVTYPE=DEL;END=20000", "PASS", ["0/1", "0/0", "0/1"])])
    b = sv_vcf(tmp_path / "b.vcf", MEMBERS, [  # overlap 6 kb of 10 kb and of 10 kb: 0.6
        ("chr1", 14_000, "B", "<DEL>", "SVTYPE=DEL;END=24000", "PASS", ["0/1", "0/0", "0/1"])])
    ref = fasta(tmp_path)
    calls = [CallSet("delly", a), CallSet("manta", b)]
    merged = svmerge(calls, MEMBERS, ref, tmp_path / "x.vcf.gz", overlap=0.5)
    assert len(merged) == 1
    merged = svmerge(calls, MEMBERS, ref, tmp_path / "y.vcf.gz", overlap=0.7)
    assert len(merged) == 2


def test_types_must_agree_and_tandem_duplications_are_duplications(tmp_path):
    tiddit = sv_vcf(tmp_path / "t.vcf", ["kid"], [
        ("chr1", 5_000, "T1", "<DUP:TANDEM>", "SVTYPE=DUP:TANDEM;END=6000", "PASS", ["0/1"])])
    delly = sv_vcf(tmp_path / "d.vcf", MEMBERS, [
        ("chr1", 5_010, "D1", "<DUP>", "SVTYPE=DUP;END=6005", "PASS", ["0/0", "0/0", "0/1"]),
        ("chr1", 5_010, "D2", "<DEL>", "SVTYPE=DEL;END=6005", "PASS", ["0/0", "0/0", "0/1"])])
    merged = svmerge([CallSet("delly", delly), CallSet("tiddit", tiddit, "kid")], MEMBERS,
                     fasta(tmp_path), tmp_path / "m.vcf.gz")
    assert sorted(zip(merged["SVTYPE"], merged["CALLERS"], strict=True)) == [
        ("DEL", "delly"), ("DUP", "delly,tiddit")]


def test_insertions_and_breakends_merge_by_breakpoint_distance_and_mate(tmp_path):
    calls = sv_vcf(tmp_path / "a.vcf", MEMBERS, [
        ("chr1", 1_000, "I1", "<INS>", "SVTYPE=INS;END=1001", "PASS", ["0/0", "0/0", "0/1"]),
        ("chr1", 50_000, "B1", "N[chr2:7000[", "SVTYPE=BND", "PASS", ["0/0", "0/1", "0/1"]),
    ])
    other = sv_vcf(tmp_path / "b.vcf", MEMBERS, [
        ("chr1", 1_300, "I2", "<INS>", "SVTYPE=INS;END=1301", "PASS", ["0/0", "0/0", "0/1"]),
        ("chr1", 50_100, "B2", "N[chr2:7100[", "SVTYPE=BND", "PASS", ["0/0", "0/1", "0/1"]),
        ("chr1", 50_050, "B3", "N]chr1:90000]", "SVTYPE=BND", "PASS", ["0/0", "0/1", "0/1"]),
    ])
    ref = fasta(tmp_path)
    sets = [CallSet("delly", calls), CallSet("manta", other)]
    merged = svmerge(sets, MEMBERS, ref, tmp_path / "m.vcf.gz", distance=500)
    # INS merged; BND merged only with the call whose mate is on the same chromosome
    assert sorted(merged["CALLERS"]) == ["delly,manta", "delly,manta", "manta"]
    merged = svmerge(sets, MEMBERS, ref, tmp_path / "n.vcf.gz", distance=200)
    # the insertions 300 bp apart split; the breakends 100 bp apart still merge
    assert sorted(merged["CALLERS"]) == ["delly", "delly,manta", "manta", "manta"]
    text = subprocess.run(["bcftools", "view", "-H", str(tmp_path / "m.vcf.gz")],
                          capture_output=True, text=True, check=True).stdout
    assert "N[chr2:7000[" in text  # a breakend keeps its mate notation


def test_breakends_of_one_chromosome_join_the_interval_call_they_outline(tmp_path):
    delly = sv_vcf(tmp_path / "d.vcf", MEMBERS, [
        ("chr2", 51_916, "D", "<DUP>", "SVTYPE=DUP;END=52514", "PASS", ["0/0", "0/0", "0/1"])])
    tiddit = sv_vcf(tmp_path / "t.vcf", ["kid"], [  # the same duplication as two breakends
        ("chr2", 51_917, "B1", "N]chr2:52515]", "SVTYPE=BND", "PASS", ["0/1"]),
        ("chr2", 52_515, "B2", "[chr2:51917[N", "SVTYPE=BND", "PASS", ["0/1"]),
        ("chr2", 90_000, "B3", "N]chr2:95000]", "SVTYPE=BND", "PASS", ["0/1"]),  # elsewhere
        ("chr2", 51_917, "B4", "N]chr1:52515]", "SVTYPE=BND", "PASS", ["0/1"]),  # other chrom
    ])
    merged = svmerge([CallSet("delly", delly), CallSet("tiddit", tiddit, "kid")], MEMBERS,
                     fasta(tmp_path), tmp_path / "m.vcf.gz")
    assert sorted(zip(merged["SVTYPE"], merged["CALLERS"], strict=True)) == [
        ("BND", "tiddit"), ("BND", "tiddit"), ("DUP", "delly,tiddit")]
    dup = merged[merged["SVTYPE"] == "DUP"].iloc[0]
    assert dup["CALLER_IDS"] == "delly:D|tiddit:kid:B1|tiddit:kid:B2"


def test_per_sample_caller_genotypes_others_as_reference_only_where_it_ran(tmp_path):
    kid = sv_vcf(tmp_path / "kid.vcf", ["HG002_rg"], [  # TIDDIT names the read group
        ("chr2", 3_000, "SV_1", "<DEL>", "SVTYPE=DEL;END=4000", "PASS", ["0/1"])])
    dad = sv_vcf(tmp_path / "dad.vcf", ["dad"], [])
    merged = svmerge([CallSet("tiddit", kid, "kid"), CallSet("tiddit", dad, "dad")], MEMBERS,
                     fasta(tmp_path), tmp_path / "m.vcf.gz")
    (row,) = records(tmp_path / "m.vcf.gz")
    # the kid's call; the dad's run saw nothing there; the mum was not run at all
    assert (row["kid"], row["dad"], row["mum"]) == ("0/1:.", "0/0:.", ".:.")
    assert merged["CALLER_IDS"].iloc[0] == "tiddit:kid:SV_1"


def test_higher_priority_genotype_wins_and_priority_is_configurable(tmp_path):
    delly = sv_vcf(tmp_path / "d.vcf", MEMBERS, [
        ("chr1", 10_000, "D", "<DEL>", "SVTYPE=DEL;END=12000", "PASS", ["0/0", "0/0", "1/1"])])
    tiddit = sv_vcf(tmp_path / "t.vcf", ["kid"], [
        ("chr1", 10_003, "T", "<DEL>", "SVTYPE=DEL;END=12004", "PASS", ["0/1"])])
    sets = [CallSet("delly", delly), CallSet("tiddit", tiddit, "kid")]
    ref = fasta(tmp_path)
    first = svmerge(sets, MEMBERS, ref, tmp_path / "a.vcf.gz")
    assert first["GT:kid"].iloc[0] == "1/1" and first["POS"].iloc[0] == 10_000
    second = svmerge(sets, MEMBERS, ref, tmp_path / "b.vcf.gz", priority=["tiddit", "delly"])
    assert second["GT:kid"].iloc[0] == "0/1" and second["POS"].iloc[0] == 10_003
    # members the per-sample caller did not run on fall back to the next caller
    assert second["GT:dad"].iloc[0] == "0/0"


def test_population_frequency_matches_type_and_overlap(tmp_path):
    calls = sv_vcf(tmp_path / "d.vcf", MEMBERS, [
        ("chr1", 10_000, "D1", "<DEL>", "SVTYPE=DEL;END=20000", "PASS", ["0/0", "0/1", "0/1"]),
        ("chr1", 50_000, "D2", "<DUP>", "SVTYPE=DUP;END=60000", "PASS", ["0/1", "0/0", "0/1"]),
        ("chr2", 50_000, "D3", "<DEL>", "SVTYPE=DEL;END=51000", "PASS", ["0/0", "0/0", "0/1"]),
    ])
    population = sv_vcf(tmp_path / "pop.vcf", [], [
        ("chr1", 10_500, "p1", "<DEL>", "SVTYPE=DEL;END=19500;AF=0.02", "PASS", []),
        ("chr1", 11_000, "p2", "<DEL>", "SVTYPE=DEL;END=20000;AF=0.3", "PASS", []),
        ("chr1", 50_000, "p3", "<DEL>", "SVTYPE=DEL;END=60000;AF=0.5", "PASS", []),  # type
        ("chr2", 50_000, "p4", "<DEL>", "SVTYPE=DEL;END=58000;AF=0.4", "PASS", []),  # overlap
    ])
    subprocess.run(["bgzip", "-f", str(population)], check=True)
    subprocess.run(["tabix", "-p", "vcf", f"{population}.gz"], check=True)
    merged = svmerge([CallSet("delly", calls)], MEMBERS, fasta(tmp_path),
                     tmp_path / "m.vcf.gz", population_sv=Path(f"{population}.gz"))
    assert list(merged["SVAF"]) == [0.3, 0.0, 0.0]  # the highest matching AF
    assert list(merged["SVAF_ID"]) == ["p2", ".", "."]
    out = subprocess.run(["bcftools", "query", "-f", "%INFO/SVAF\n", str(tmp_path / "m.vcf.gz")],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0.3", "0", "0"]


def test_empty_inputs_give_a_valid_header_only_vcf(tmp_path):
    empty = sv_vcf(tmp_path / "e.vcf", MEMBERS, [])
    out = tmp_path / "m.vcf.gz"
    merged = svmerge([CallSet("delly", empty)], MEMBERS, fasta(tmp_path), out)
    assert merged.empty and records(out) == []


def test_bad_inputs_name_the_file_and_value(tmp_path, capsys):
    ref = fasta(tmp_path)
    with pytest.raises(InputError, match="CALLER=PATH"):
        CallSet.parse("delly")
    with pytest.raises(InputError, match="CALLER=PATH"):
        CallSet.parse("del ly=x.vcf")
    joint = sv_vcf(tmp_path / "j.vcf", ["dad", "kid"], [])
    with pytest.raises(InputError) as error:
        svmerge([CallSet("delly", joint)], MEMBERS, ref, tmp_path / "m.vcf.gz")
    assert "j.vcf" in str(error.value) and "mum" in str(error.value)
    stranger = sv_vcf(tmp_path / "s.vcf", ["x"], [])
    with pytest.raises(InputError, match="not a member"):
        svmerge([CallSet("tiddit", stranger, "nobody")], MEMBERS, ref, tmp_path / "m.vcf.gz")
    off = sv_vcf(tmp_path / "o.vcf", MEMBERS, [
        ("chr1", 10, "D", "<DEL>", "SVTYPE=DEL;END=900", "PASS", ["0/0", "0/0", "0/1"])])
    (tmp_path / "ref.fa.fai").write_text("chr2\t1000000\t17\t4\t5\n")
    with pytest.raises(InputError, match="chr1"):
        svmerge([CallSet("delly", off)], MEMBERS, ref, tmp_path / "m.vcf.gz")
    ped = tmp_path / "f.ped"
    ped.write_text("F\tdad\t0\t0\t1\t1\nF\tmum\t0\t0\t2\t1\nF\tkid\tdad\tmum\t1\t2\n")
    code = main(["svmerge", "--family", "G", "--ped", str(ped), "--fasta", str(ref),
                 "--call", f"delly={off}", "--out", str(tmp_path / "z.vcf.gz")])
    assert code != 0 and "G" in capsys.readouterr().err
    assert not (tmp_path / "z.vcf.gz").exists()


def test_origin_of_each_childs_sv():
    assert origin("0/1", "0/0", "0/0") == "de_novo"
    assert origin("0/1", "0/1", "0/0") == "paternal"
    assert origin("0/1", "0/0", "1/1") == "maternal"
    assert origin("1/1", "0/1", "0/1") == "biparental"
    assert origin("0/1", "0/1", "0/1") == "ambiguous"
    assert origin("0/1", ".", "0/0") == "unknown"
    assert origin("0/0", "0/1", "0/0") == ""


def test_cli_writes_origin_for_the_trio_child(tmp_path):
    calls = sv_vcf(tmp_path / "d.vcf", MEMBERS, [
        ("chr1", 1_000, "A", "<DEL>", "SVTYPE=DEL;END=5000", "PASS", ["0/0", "0/0", "0/1"]),
        ("chr1", 9_000, "B", "<DUP>", "SVTYPE=DUP;END=19000", "PASS", ["0/0", "0/1", "0/1"]),
        ("chr1", 30_000, "C", "<DEL>", "SVTYPE=DEL;END=35000", "PASS", ["0/1", "0/0", "0/0"]),
    ])
    ped = tmp_path / "f.ped"
    ped.write_text("F\tdad\t0\t0\t1\t1\nF\tmum\t0\t0\t2\t1\nF\tkid\tdad\tmum\t1\t2\n")
    out = tmp_path / "m.vcf.gz"
    assert main(["svmerge", "--family", "F", "--ped", str(ped), "--fasta", str(fasta(tmp_path)),
                 "--call", f"delly={calls}", "--out", str(out)]) == 0
    values = subprocess.run(["bcftools", "query", "-f", "%INFO/ORIGIN\n", str(out)],
                            capture_output=True, text=True, check=True).stdout.split()
    assert values == ["kid:de_novo", "kid:maternal", "."]


def test_ref_is_the_reference_base_at_pos(tmp_path):
    ref = tmp_path / "r.fa"
    ref.write_text(">chr1\nACGTA\nCCGTT\nG\n")
    (tmp_path / "r.fa.fai").write_text("chr1\t11\t6\t5\t6\n")
    calls = sv_vcf(tmp_path / "d.vcf", MEMBERS, [
        ("chr1", 7, "D", "<DEL>", "SVTYPE=DEL;END=9", "PASS", ["0/0", "0/0", "0/1"]),
        ("chr1", 11, "B", "N[chr1:5000[", "SVTYPE=BND", "PASS", ["0/0", "0/0", "0/1"])])
    svmerge([CallSet("delly", calls)], MEMBERS, ref, tmp_path / "m.vcf.gz")
    out = subprocess.run(["bcftools", "query", "-f", "%POS %REF %ALT\n",
                          str(tmp_path / "m.vcf.gz")],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["7 C <DEL>", "11 N N[chr1:5000["]


def test_normalisation_helpers():
    assert normalise_type("DUP:TANDEM", "<DUP:TANDEM>") == "DUP"
    assert normalise_type("", "<DEL>") == "DEL"
    assert normalise_type("TRA", "N[chr2:5[") == "BND"
    assert normalise_type(".", "N]chr3:100]") == "BND"
    assert normalise_gt("1|0") == "0/1" and normalise_gt("./.") == "."
    assert normalise_gt("1") == "1" and normalise_gt("0/2") == "0/1"


def test_a_callers_filter_kept_on_a_record_is_declared_so_htslib_reads_it(tmp_path):
    # A 4 Mb 40x demo stopped in rank: "Invalid FILTER id" for TIDDIT's BelowExpectedLinks,
    # kept on the merged record but not declared in the merged header.
    tiddit = sv_vcf(tmp_path / "t.vcf", ["kid"], [
        ("chr1", 5_000, "T1", "<DEL>", "SVTYPE=DEL;END=9000", "BelowExpectedLinks", ["0/1"]),
        ("chr2", 5_000, "T2", "<DEL>", "SVTYPE=DEL;END=9000", "PASS", ["0/1"])])
    out = tmp_path / "m.vcf.gz"
    svmerge([CallSet("tiddit", tiddit, sample="kid")], MEMBERS, fasta(tmp_path), out)
    result = subprocess.run(["bcftools", "view", "-H", str(out)], capture_output=True,
                            text=True, check=True)
    assert "Invalid FILTER" not in result.stderr and "[W::" not in result.stderr
    assert [line.split("\t")[6] for line in result.stdout.splitlines()] == [
        "BelowExpectedLinks", "PASS"]
    header = subprocess.run(["bcftools", "view", "-h", str(out)], capture_output=True,
                            text=True, check=True).stdout
    assert "##FILTER=<ID=BelowExpectedLinks," in header
