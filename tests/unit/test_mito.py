"""Mitochondria: heteroplasmy calls (helgenom mito-call), the chrM gates and the MT model of
helgenom rank, the candidate list's heteroplasmy column, and the demo's planted MT variant."""

from __future__ import annotations

import gzip
import subprocess

import numpy as np
import pandas as pd
import pytest
from helgenom.errors import InputError
from helgenom.io.vcf import Genotypes
from helgenom.mito.call import (
    MitoParams,
    call_records,
    call_sample,
    resolve_contig,
    write_calls,
)
from helgenom.rank.candidates import RankOptions
from helgenom.rank.inheritance import AUTOSOMAL, MITO, Gates, gate_failures
from helgenom.rank.run import rank
from helpers import TRIO, need_tools, write_ped, write_vcf

SAMPLES = ["dad", "mum", "kid"]
PARAMS = MitoParams(min_af=0.03, min_alt_reads=5)


# ------------------------------------------------------------------------- helgenom mito-call


def test_genotype_follows_the_heteroplasmy_level():
    assert call_sample(200, 0, 200, PARAMS)[:2] == ("0", 0.0)
    gt, level, gq = call_sample(120, 80, 200, PARAMS)
    assert (gt, level) == ("0/1", 0.4) and gq == 99
    assert call_sample(180, 20, 200, PARAMS)[0] == "0/1"  # 10%
    assert call_sample(0, 200, 200, PARAMS)[0] == "1"  # homoplasmic
    assert call_sample(4, 196, 200, PARAMS)[0] == "1"  # 98% >= 1 - min_af
    assert call_sample(10, 190, 200, PARAMS)[0] == "0/1"  # 95%
    assert call_sample(0, 0, 0, PARAMS) == (".", None, None)


def test_an_allele_needs_both_the_level_and_the_reads():
    assert call_sample(96, 4, 100, PARAMS)[0] == "0"  # 4% but 4 reads
    assert call_sample(990, 10, 1000, PARAMS)[0] == "0"  # 10 reads but 1%
    assert call_sample(95, 5, 100, PARAMS)[0] == "0/1"


def test_genotype_quality_grows_with_depth():
    # no ALT read: how sure that there is no heteroplasmy at the threshold
    assert call_sample(50, 0, 50, PARAMS)[2] < call_sample(150, 0, 150, PARAMS)[2] < 99
    assert call_sample(1000, 0, 1000, PARAMS)[2] == 99
    # 5 ALT reads of 100: a call, but errors could give it
    assert call_sample(95, 5, 100, PARAMS)[2] < call_sample(90, 10, 100, PARAMS)[2]


PILEUP = """\
##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##reference=file://ref.fa
##contig=<ID=chrM,length=16569>
##INFO=<ID=DP,Number=1,Type=Integer,Description="Raw read depth">
##FORMAT=<ID=PL,Number=G,Type=Integer,Description="List of Phred-scaled genotype likelihoods">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Number of high-quality bases">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths (high-quality bases)">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tdad\tmum\tkid
chrM\t10\t.\tA\t<*>\t0\t.\tDP=300\tPL:DP:AD\t0,0,0:100:100,0\t0,0,0:100:100,0\t0,0,0:100:100,0
chrM\t11\t.\tC\tT,<*>\t0\t.\tDP=300\tPL:DP:AD\t0:100:100,0,0\t0:100:90,10,0\t0:100:60,40,0
chrM\t12\t.\tG\tA,C,<*>\t0\t.\tDP=300\tPL:DP:AD\t0:100:1,0,99,0\t0:100:2,1,97,0\t0:100:0,1,99,0
chrM\t13\t.\tTAA\tT,TA\t0\t.\tINDEL\tPL:DP:AD\t0:50:50,0,0\t0:50:40,0,10\t0:50:30,0,20
chrM\t14\t.\tA\tG,<*>\t0\t.\tDP=300\tPL:DP:AD\t0:100:98,2,0\t0:0:.\t0:100:97,3,0
"""


def _records(text: str) -> tuple[list[str], list[list[str]]]:
    lines = list(call_records(text.splitlines(keepends=True), PARAMS))
    header = [line for line in lines if line.startswith("#")]
    return header, [line.rstrip("\n").split("\t") for line in lines if not line.startswith("#")]


def test_calls_keep_carried_alleles_one_record_each():
    header, records = _records(PILEUP)
    assert [(r[1], r[3], r[4]) for r in records] == [
        ("11", "C", "T"), ("12", "G", "C"), ("13", "TA", "T")]  # trimmed: TAA>TA is TA>T
    by_pos = {r[1]: dict(zip(SAMPLES, r[9:], strict=True)) for r in records}
    assert [cell.split(":")[0] for cell in by_pos["11"].values()] == ["0", "0/1", "0/1"]
    assert by_pos["11"]["kid"].split(":")[2:] == ["60,40", "100", "0.4"]
    assert [cell.split(":")[0] for cell in by_pos["12"].values()] == ["1", "1", "1"]
    assert by_pos["13"]["kid"].split(":")[3:] == ["50", "0.4"]
    assert records[0][8] == "GT:GQ:AD:DP:HL"
    # the pileup's samples in its order (the nuclear calls'), its contigs and reference
    assert header[-1].rstrip("\n").split("\t")[9:] == SAMPLES
    assert "##contig=<ID=chrM,length=16569>\n" in header
    assert "##reference=file://ref.fa\n" in header
    assert any(h.startswith("##FORMAT=<ID=HL,Number=A,Type=Float") for h in header)


def test_a_sample_without_reads_is_a_no_call():
    text = PILEUP.replace("0:0:.\t0:100:97,3,0", "0:0:.\t0:100:90,10,0")
    _, records = _records(text)
    (row,) = [r for r in records if r[1] == "14"]
    assert row[10] == ".:.:0,0:0:."
    assert row[11].startswith("0/1:")


def test_a_pileup_without_allele_depths_is_refused():
    text = "\n".join(line for line in PILEUP.splitlines() if "ID=AD" not in line)
    with pytest.raises(InputError, match="FORMAT/AD"):
        _records(text)
    with pytest.raises(InputError, match="no '#CHROM' header"):
        _records("")
    broken = PILEUP.replace("0:100:60,40,0", "0:100:60,x,0")
    with pytest.raises(InputError) as error:
        _records(broken)
    problem = error.value.problems[0]
    assert (problem.line, problem.column, problem.value) == (11, "kid:AD", "60,x,0")


def test_written_calls_are_an_indexed_bcf(tmp_path):
    need_tools("bcftools")
    out = tmp_path / "calling" / "mito.bcf"
    counts = write_calls(PILEUP.splitlines(keepends=True), out, PARAMS)
    assert (counts.positions, counts.records) == (5, 3)
    assert (tmp_path / "calling" / "mito.bcf.csi").is_file()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]
    hl = subprocess.run(["bcftools", "query", "-f", "%POS[\t%GT:%HL]\n", str(out)],
                        capture_output=True, text=True, check=True).stdout.splitlines()
    assert hl[0] == "11\t0:0\t0/1:0.1\t0/1:0.4"


def test_mito_contig_setting():
    contigs = ["chr1", "chr2", "chrX", "chrM"]
    assert resolve_contig("auto", contigs) == "chrM"
    assert resolve_contig("auto", ["1", "2", "MT"]) == "MT"
    assert resolve_contig("auto", ["chr1"]) is None
    assert resolve_contig("", contigs) is None
    assert resolve_contig("chrM", contigs) == "chrM"
    with pytest.raises(InputError, match=r"calling\.mito\.contig"):
        resolve_contig("chrMT", contigs)


# ------------------------------------------------------------------------- helgenom rank


def _gts(gt: list[int], ref: list[float], alt: list[float], ploidy: int = 2) -> Genotypes:
    n = len(gt)
    return Genotypes({"s": np.array(gt, dtype=np.int8)}, {"s": np.full(n, ploidy, np.int8)},
                     {"s": np.full(n, np.nan)}, {"s": np.array(ref, dtype=float)},
                     {"s": np.array(alt, dtype=float)})


def test_chrm_gates_read_heteroplasmy_not_allele_balance():
    # 10% heteroplasmic, 40%, absent at 1 read in 150, absent with 5% ALT, 10% at 15 reads
    gts = _gts([1, 1, 0, 0, 1], [135, 90, 149, 95, 13], [15, 60, 1, 5, 2])
    mito = np.full(5, MITO, dtype=np.int8)
    assert list(gate_failures(["s"], gts, Gates(), mito)) == ["", "", "", "s:AB", "s:DP"]
    # the same calls on an autosome: the diploid allele balance fails the 10% and the 5%
    auto = np.full(5, AUTOSOMAL, dtype=np.int8)
    assert list(gate_failures(["s"], gts, Gates(), auto)) == [
        "s:AB", "", "", "s:AB", "s:AB"]
    # GQ is not gated on chrM (a low-depth homoplasmic call has a low GQ)
    low = Genotypes(gts.gt, gts.ploidy, {"s": np.full(5, 10.0)}, gts.ref_depth, gts.alt_depth)
    assert gate_failures(["s"], low, Gates(), mito)[0] == ""
    assert "GQ" in gate_failures(["s"], low, Gates(), auto)[0]


def mt(pos: int, dad: str, mum: str, kid: str, ad: dict | None = None, **extra) -> dict:
    depth = 200
    levels = {"0": 0.0, "0/1": 0.3, "1": 1.0, ".": 0.0}
    ad = ad or {s: f"{depth - round(depth * levels[g])},{round(depth * levels[g])}"
                for s, g in zip(SAMPLES, (dad, mum, kid), strict=True)}
    return {"chrom": "chrM", "pos": pos, "ref": "A", "alt": "G", "gene": "MT-ND4",
            "gts": {"dad": dad, "mum": mum, "kid": kid}, "ad": ad, **extra}


def run_rank(tmp_path, records) -> pd.DataFrame:
    need_tools("bcftools", "bgzip", "tabix")
    vcf = write_vcf(tmp_path / "in.vcf", SAMPLES, records, contigs=("chr1", "chrX", "chrM"))
    ped = write_ped(tmp_path / "fam.ped", TRIO)
    rank(vcf, ped, str(tmp_path / "out"), RankOptions())
    return pd.read_csv(tmp_path / "out.candidates.tsv", sep="\t", keep_default_na=False,
                       dtype=str)


def test_mt_model_is_maternal_or_de_novo_and_ignores_the_father(tmp_path):
    table = run_rank(tmp_path, [
        mt(100, "0", "0/1", "0/1"),  # maternal, heteroplasmic in both
        mt(200, "0", "0", "0/1"),  # de novo
        mt(300, "0/1", "0", "0/1"),  # "paternal": the father's mtDNA is not passed on
        mt(400, "0", "1", "1"),  # homoplasmic in the maternal line
        mt(500, "0", "0/1", "0"),  # the mother's only: the affected son lacks it
        mt(600, "0/1", "0/1", "0/1", af=0.2),  # common: no candidate
    ])
    models = dict(zip(table["pos"], table["models"], strict=True))
    assert models == {"100": "MT", "200": "MT", "300": "MT", "400": "MT"}
    assert set(table["gates"]) == {"PASS"}


def test_a_low_heteroplasmy_is_no_gate_failure_and_the_list_shows_the_levels(tmp_path):
    ad = {"dad": "180,0", "mum": "162,18", "kid": "108,72"}
    table = run_rank(tmp_path, [mt(11778, "0", "0/1", "0/1", ad=ad),
                                {"chrom": "chr1", "pos": 50, "ref": "A", "alt": "G",
                                 "gene": "G1", "gts": {"dad": "0/0", "mum": "0/0",
                                                       "kid": "0/1"}}])
    row = table[table["chrom"] == "chrM"].iloc[0]
    assert row["models"] == "MT" and row["gates"] == "PASS"
    assert row["heteroplasmy"] == "dad:0,mum:0.1,kid:0.4"
    assert (row["mum_GT"], row["mum_AB"]) == ("0/1", "0.1")
    assert table[table["chrom"] == "chr1"].iloc[0]["heteroplasmy"] == ""
    # the ranked VCF names the model, as GENMOD does the others (Scout reads it)
    with gzip.open(tmp_path / "out.vcf.gz", "rt") as handle:
        (record,) = [line for line in handle if line.startswith("chrM\t11778\t")]
    assert "GeneticModels=FAM:MT;" in record


# ------------------------------------------------------------------------- the demo


def test_demo_plants_a_heteroplasmic_mt_variant_in_the_reads(tmp_path):
    """The reads of each sample carry the planted MT-ND4 allele at its heteroplasmy level
    (counted as 31-mers around it, both strands) at ~14 times the haploid nuclear depth."""
    need_tools("samtools", "bgzip", "tabix")
    from helgenom.simulate.demo import simulate
    from helgenom.simulate.genome import revcomp
    from helgenom.simulate.variants import MT_COPIES, MT_HETEROPLASMY

    depth = 20.0
    paths = simulate(tmp_path, seed=3, size_mb=0.2, depth=depth)
    truth = pd.read_csv(paths["truth_tsv"], sep="\t", dtype=str)
    (planted,) = truth[truth["type"] == "MT"].to_dict("records")
    assert (planted["chrom"], planted["pos"], planted["ref"], planted["alt"]) == (
        "chrM", "11778", "G", "A")
    assert (planted["gene"], planted["inheritance"], planted["consequence"]) == (
        "MT-ND4", "MT", "missense")
    assert planted["heteroplasmy"] == "demo-father:0,demo-mother:0.1,demo-proband:0.4"
    fasta = paths["fasta"].read_text().split(">chrM\n", 1)[1].replace("\n", "")
    assert len(fasta) == 16569
    assert paths["fai"].read_text().splitlines()[-1].startswith("chrM\t16569\t")
    pos = 11778 - 1
    left, right = fasta[pos - 15:pos], fasta[pos + 1:pos + 16]
    kmers = {allele: (left + allele + right, revcomp(left + allele + right))
             for allele in ("G", "A")}
    for sample, level in MT_HETEROPLASMY.items():
        counts = dict.fromkeys(kmers, 0)
        for key, path in paths.items():
            if key.startswith(f"fastq:{sample}:"):
                with gzip.open(path, "rt") as handle:
                    for number, line in enumerate(handle):
                        if number % 4 == 1:
                            for allele, (fwd, rev) in kmers.items():
                                counts[allele] += line.count(fwd) + line.count(rev)
        reads = counts["G"] + counts["A"]
        # a read of 150 holds a given 31-mer in 120 of its 150 starts
        expected = MT_COPIES * depth / 2 * 120 / 150
        assert 0.7 * expected < reads < 1.3 * expected, (sample, reads, expected)
        assert counts["A"] / reads == pytest.approx(level, abs=0.08), (sample, counts)
