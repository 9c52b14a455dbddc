"""`helgenom cnv`: the read-depth model on hand-built bins with known answers, the reference GC
pass and its cache, the VCF, and the simulated demo trio aligned with the workflow's tools.

The demo run (`demo_run`, shared with test_upd.py) simulates 0.5 Mb at 20x (seed 1), aligns
with bwa mem | samtools fixmate | sort | markdup, makes mosdepth 1-kb bins and joint bcftools
calls with population AFs: the demo plants a ~5 kb de novo deletion over NRXN1 exons (chr2) in
the proband and a ~3 kb paternal deletion (chr1) in father and proband.
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helgenom.cli.cnv import register
from helgenom.io.reference import ploidy_lines
from helgenom.io.vcf import read_variants
from helgenom.simulate.demo import simulate
from helgenom.sv.cnv import bin_gc, read_fai, run_cnv
from helgenom.sv.cnv_model import (
    CnvParams,
    Layout,
    call_family,
    gc_correct,
    genotype_call,
    noise_sigma,
    segment,
)
from helpers import need_tools

TOOLS = ("bwa", "samtools", "bcftools", "tabix", "bgzip", "mosdepth")
SEED, SIZE_MB, DEPTH = 1, 0.5, 20.0
FATHER, MOTHER, PROBAND = "demo-father", "demo-mother", "demo-proband"
SAMPLES = (FATHER, MOTHER, PROBAND)
DEMO_PED = (f"DEMO\t{FATHER}\t0\t0\t1\t1\nDEMO\t{MOTHER}\t0\t0\t2\t1\n"
            f"DEMO\t{PROBAND}\t{FATHER}\t{MOTHER}\t1\t2\n")


# ---------------------------------------------------------------------------------------------
# Synthetic bins
# ---------------------------------------------------------------------------------------------


def layout(sizes: dict[str, int], seed: int = 0, chrx: str = "chrX") -> Layout:
    chrom = np.concatenate([np.full(n, c, dtype=object) for c, n in sizes.items()])
    start = np.concatenate([np.arange(n) * 1000 for n in sizes.values()])
    gc = np.random.default_rng(seed).uniform(0.35, 0.6, chrom.size)
    return Layout(chrom, start, start + 1000, gc, np.ones(chrom.size), chrom != chrx)


def noisy(rng: np.random.Generator, copies: np.ndarray, depth: float = 30.0, sd: float = 0.1,
          bias: np.ndarray | None = None) -> np.ndarray:
    """Depth with Poisson-like noise (variance proportional to the mean), times a bias."""
    mean = depth * copies / 2.0 * (1.0 if bias is None else bias)
    return np.clip(mean + np.sqrt(mean * depth) * sd * rng.standard_normal(copies.size), 0, None)


def test_gc_correction_removes_a_planted_gc_bias() -> None:
    rng = np.random.default_rng(1)
    lay = layout({"chr1": 4000}, seed=1)
    lay.gc = rng.uniform(0.3, 0.65, lay.gc.size)
    curve = 1.0 + 2.0 * (lay.gc - 0.45) - 12.0 * (lay.gc - 0.45) ** 2  # 0.35 .. 1.1
    depth = noisy(rng, np.full(lay.gc.size, 2), bias=curve)
    usable = np.ones(depth.size, dtype=bool)
    before = np.corrcoef(depth, curve)[0, 1]
    ratio = gc_correct(depth, lay, np.full(depth.size, 2), usable)
    after = np.corrcoef(ratio, curve)[0, 1]
    deciles = pd.Series(ratio).groupby(pd.qcut(lay.gc, 10)).median()
    assert before > 0.8 and abs(after) < 0.05
    assert np.allclose(deciles, 1.0, atol=0.04)
    assert np.median(ratio) == pytest.approx(1.0)


def _single(ratio: np.ndarray, lay: Layout, params: CnvParams | None = None) -> list:
    expected = np.full((1, ratio.size), 2)
    usable = np.ones(ratio.size, dtype=bool)
    sigma = noise_sigma(ratio, expected[0], usable)
    return segment(lay, ["s"], ratio[None, :], expected, [sigma], usable,
                   params or CnvParams())["s"]


def test_segmentation_finds_a_planted_loss_and_gain() -> None:
    rng = np.random.default_rng(2)
    lay = layout({"chr1": 3000})
    copies = np.full(3000, 2)
    copies[1000:1010], copies[2000:2010] = 1, 3
    ratio = noisy(rng, copies) / 30.0
    calls = _single(ratio, lay)
    got = [(c.svtype, c.cn, c.first, c.last) for c in calls]
    assert got == [("DEL", 1, 1000, 1010), ("DUP", 3, 2000, 2010)]
    loss, gain = calls
    assert loss.lr == pytest.approx(-1.0, abs=0.15) and gain.lr == pytest.approx(0.585, abs=0.15)
    assert loss.z < -10 and gain.z > 5 and min(loss.qual, gain.qual) > 50


def test_pure_noise_gives_no_call() -> None:
    """False-positive control: 60,000 bins of noise (Gaussian and heavy-tailed)."""
    lay = layout({"chr1": 30000})
    rng = np.random.default_rng(3)
    gaussian = noisy(rng, np.full(30000, 2), sd=0.12) / 30.0
    heavy = 1.0 + 0.1 * rng.standard_t(4, 30000)
    assert _single(gaussian, lay) == [] and _single(heavy, lay) == []


def _trio() -> tuple[Layout, dict[str, np.ndarray], dict[str, np.ndarray]]:
    lay = layout({"chr1": 1500, "chrX": 500})
    x = lay.chrom == "chrX"
    expected = {"dad": np.where(x, 1, 2), "mum": np.full(2000, 2), "kid": np.where(x, 1, 2)}
    copies = {s: e.copy() for s, e in expected.items()}
    copies["dad"][300:306] = copies["kid"][300:306] = 1  # inherited deletion
    copies["kid"][800:808] = 3  # de novo duplication
    copies["mum"][1200:1205] = 0  # homozygous deletion
    copies["kid"][1600:1606] = 0  # deletion of the son's only X
    rng = np.random.default_rng(4)
    return lay, {s: noisy(rng, c) for s, c in copies.items()}, expected


def test_trio_genotypes() -> None:
    lay, depths, expected = _trio()
    result = call_family(lay, depths, expected)
    got = [(r.call.svtype, r.call.chrom, r.call.first, r.call.last,
            {s: (g.gt, g.cn) for s, g in r.genotypes.items()}) for r in result.records]
    assert got == [
        ("DEL", "chr1", 300, 306, {"dad": ("0/1", 1), "mum": ("0/0", 2), "kid": ("0/1", 1)}),
        ("DUP", "chr1", 800, 808, {"dad": ("0/0", 2), "mum": ("0/0", 2), "kid": ("0/1", 3)}),
        ("DEL", "chr1", 1200, 1205, {"dad": ("0/0", 2), "mum": ("1/1", 0), "kid": ("0/0", 2)}),
        ("DEL", "chrX", 1600, 1606, {"dad": ("0", 1), "mum": ("0/0", 2), "kid": ("1", 0)}),
    ]
    assert sorted(result.records[0].callers) == ["dad", "kid"]
    assert all(g.gq >= 30 for r in result.records for g in r.genotypes.values())


def test_genotype_codes() -> None:
    assert [genotype_call("DEL", cn, 2) for cn in (0, 1, 2, 3)] == ["1/1", "0/1", "0/0", "./."]
    assert [genotype_call("DUP", cn, 2) for cn in (1, 2, 3, 4)] == ["./.", "0/0", "0/1", "1/1"]
    assert [genotype_call("DEL", cn, 1) for cn in (0, 1, 2)] == ["1", "0", "."]
    assert [genotype_call("DUP", cn, 1) for cn in (0, 1, 2)] == [".", "0", "1"]


def test_family_panel_cancels_a_shared_bias_but_keeps_an_inherited_deletion() -> None:
    lay = layout({"chr1": 2000})
    bias = np.ones(2000)
    bias[500:508] = 0.6  # a dip every member shares (mappability, say)
    bias[1500:1506] = 1.45
    copies = {s: np.full(2000, 2) for s in ("dad", "mum", "kid")}
    copies["dad"][1000:1006] = copies["kid"][1000:1006] = 1
    rng = np.random.default_rng(5)
    depths = {s: noisy(rng, c, bias=bias) for s, c in copies.items()}
    expected = {s: np.full(2000, 2) for s in copies}
    family = call_family(lay, depths, expected)
    assert [(r.call.first, r.call.last, sorted(r.callers)) for r in family.records] == [
        (1000, 1006, ["dad", "kid"])]
    alone = call_family(lay, {"kid": depths["kid"]}, {"kid": expected["kid"]})
    assert [(round(c.first, -1), c.svtype) for c in alone.calls["kid"]] == [
        (500, "DEL"), (1000, "DEL"), (1500, "DUP")]  # alone, the shared biases are calls


# ---------------------------------------------------------------------------------------------
# Reference GC, VCF and command line on small files
# ---------------------------------------------------------------------------------------------


def _fasta(path: Path) -> Path:
    rng = np.random.default_rng(6)
    seqs = {"chr1": "".join(rng.choice(list("ACGT"), 10_000)), "chrX": "GC" * 1500 + "N" * 1000
            + "AT" * 500 + "ACGT" * 250}
    seqs["chr1"] = "A" * 1000 + seqs["chr1"][1000:]
    path.write_text("".join(f">{c}\n" + "\n".join(s[i:i + 60] for i in range(0, len(s), 60))
                            + "\n" for c, s in seqs.items()))
    subprocess.run(["samtools", "faidx", str(path)], check=True)
    return path


def test_gc_per_bin_from_the_fasta_and_its_cache(tmp_path: Path) -> None:
    need_tools("samtools")
    fasta = _fasta(tmp_path / "ref.fa")
    cache = tmp_path / "ref.gc1000.npz"
    gc = bin_gc(fasta, 1000, ["chr1", "chrX"], cache)
    x_gc, x_acgt = gc["chrX"]
    assert np.allclose(x_gc[:3], 1.0) and np.isnan(x_gc[3]) and x_acgt[3] == 0
    assert x_gc[4] == 0.0 and x_gc[5] == 0.5 and x_acgt.size == 6
    assert gc["chr1"][0][0] == 0.0 and 0.4 < np.mean(gc["chr1"][0][1:]) < 0.6
    assert cache.is_file()
    again = bin_gc(fasta, 1000, ["chrX"], cache)  # served from the cache
    assert np.array_equal(again["chrX"][1], x_acgt, equal_nan=True)
    assert list(read_fai(fasta)) == ["chr1", "chrX"]


def _bins(path: Path, depths: np.ndarray, fasta: Path) -> Path:
    rows = []
    for chrom, (length, *_) in read_fai(fasta).items():
        for start in range(0, length, 1000):
            rows.append((chrom, start, min(start + 1000, length)))
    table = pd.DataFrame(rows, columns=["chrom", "start", "end"])
    table["depth"] = np.round(depths[: len(table)], 2)
    with gzip.open(path, "wt") as handle:
        table.to_csv(handle, sep="\t", header=False, index=False)
    return path


def test_cli_writes_a_sorted_indexed_vcf(tmp_path: Path) -> None:
    need_tools("samtools", "bgzip", "tabix", "bcftools")
    rng = np.random.default_rng(7)
    seq = "".join(rng.choice(list("ACGT"), 400_000))
    fasta = tmp_path / "ref.fa"
    fasta.write_text("".join(
        f">{name}\n" + "\n".join(part[i:i + 70] for i in range(0, len(part), 70)) + "\n"
        for name, part in (("chr1", seq[:300_000]), ("chr2", seq[300_000:]))))
    subprocess.run(["samtools", "faidx", str(fasta)], check=True)
    copies = {s: np.full(400, 2) for s in ("dad", "mum", "kid")}
    copies["kid"][350:356] = 1  # chr2:50001-56000 (chr1 has 300 bins)
    copies["dad"][100:110] = copies["kid"][100:110] = 3
    bins = [str(_bins(tmp_path / f"{s}.regions.bed.gz", noisy(rng, c), fasta))
            for s, c in copies.items()]
    ped = tmp_path / "fam.ped"
    ped.write_text("F\tdad\t0\t0\t1\t1\nF\tmum\t0\t0\t2\t1\nF\tkid\tdad\tmum\t2\t2\n")
    out = tmp_path / "F.cnv.vcf.gz"
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["cnv", "--family", "F", "--ped", str(ped), "--bins", *bins,
                              "--fasta", str(fasta), "--out", str(out), "--gc-cache", "none",
                              "--calls-out", str(tmp_path / "calls.tsv")])
    assert args.func(args) == 0
    assert Path(f"{out}.tbi").is_file() and not list(tmp_path.glob("*.npz"))
    with gzip.open(out, "rt") as handle:
        text = handle.read()
    assert "##contig=<ID=chr1,length=300000>" in text
    assert "##contig=<ID=chr2,length=100000>" in text
    table, gts = read_variants(out, ["dad", "mum", "kid"], ["SVTYPE", "END"])
    assert list(zip(table["CHROM"], table["POS"], table["ALT"], table["END"].astype(int),
                    strict=True)) == [("chr1", 100000, "<DUP>", 110000),
                                      ("chr2", 50000, "<DEL>", 56000)]
    assert [list(gts.gt[s]) for s in ("dad", "mum", "kid")] == [[1, 0], [0, 0], [1, 1]]
    header = subprocess.run(["bcftools", "view", "-h", str(out)], capture_output=True,
                            text=True, check=True).stdout
    assert "FORMAT=<ID=CN" in header and "##ALT=<ID=DEL" in header
    records = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    assert records[1][7].startswith("END=56000;SVTYPE=DEL;SVLEN=-6000;IMPRECISE;CN=1;BINS=6")
    assert records[1][9:] == [c for c in records[1][9:] if c.count(":") == 3]
    assert len(pd.read_csv(tmp_path / "calls.tsv", sep="\t")) == 3


# ---------------------------------------------------------------------------------------------
# The simulated demo trio
# ---------------------------------------------------------------------------------------------


def _sh(command: str, cwd: Path) -> None:
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{command}\n{proc.stderr[-2000:]}"


def make_demo(run: Path) -> Path:
    """Simulate, align, bin and call the demo trio once per session under `run`."""
    if (run / "done").is_file():
        return run
    simulate(run, seed=SEED, size_mb=SIZE_MB, depth=DEPTH)
    fasta = "reference/genome.fa"
    _sh(f"bwa index {fasta} 2> /dev/null && mkdir -p aln qc/mosdepth annotation", run)
    for sample in SAMPLES:
        r1 = " ".join(sorted(p.name for p in (run / "fastq").glob(f"{sample}_L*_R1.fastq.gz")))
        r2 = r1.replace("_R1.", "_R2.")
        rg = rf"@RG\tID:{sample}\tSM:{sample}\tLB:{sample}\tPL:ILLUMINA"
        _sh(f"bwa mem -t 2 -K 10000000 -Y -R '{rg}' {fasta} <(cd fastq && zcat {r1})"
            f" <(cd fastq && zcat {r2}) 2> /dev/null | samtools fixmate -m -u - -"
            f" | samtools sort -u -T aln/{sample}.sort - | samtools markdup -u - -"
            f" | samtools view -b -o aln/{sample}.bam - && samtools index aln/{sample}.bam"
            f" && mosdepth --no-per-base --fast-mode --by 1000 --fasta {fasta}"
            f" qc/mosdepth/{sample} aln/{sample}.bam", run)
    (run / "DEMO.ped").write_text(DEMO_PED)
    (run / "ploidy.txt").write_text("\n".join(ploidy_lines("chrX", "chrY", [])) + "\n")
    (run / "sexes.txt").write_text(f"{FATHER}\tM\n{MOTHER}\tF\n{PROBAND}\tM\n")
    bams = " ".join(f"aln/{s}.bam" for s in SAMPLES)
    _sh(f"bcftools mpileup -f {fasta} -q 20 -Q 13 -a FORMAT/AD,FORMAT/DP -Ou {bams} 2> /dev/null"
        " | bcftools call -m -v -a GQ --ploidy-file ploidy.txt -S sexes.txt -Ou"
        f" | bcftools norm -f {fasta} -m -any -Oz -o calls.vcf.gz 2> /dev/null"
        " && bcftools index -t calls.vcf.gz"
        " && bcftools annotate -a reference/population.vcf.gz -c INFO/GNOMADAF calls.vcf.gz"
        " -Oz -o annotation/DEMO.snv.vcf.gz && bcftools index -t annotation/DEMO.snv.vcf.gz", run)
    (run / "done").touch()
    return run


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_tools(*TOOLS)
    return make_demo(tmp_path_factory.getbasetemp() / "cnv-upd-demo")


def test_demo_deletions_are_found_with_their_carriers(demo_run: Path) -> None:
    bins = [str(demo_run / f"qc/mosdepth/{s}.regions.bed.gz") for s in SAMPLES]
    result, lay, members = run_cnv("DEMO", demo_run / "DEMO.ped", bins,
                                   demo_run / "reference/genome.fa")
    truth = pd.read_csv(demo_run / "truth.tsv", sep="\t")
    found = {}
    svs = truth[truth["type"].isin(["DEL", "DUP"])]
    # depth-callable: everything but the ~1 kb exon duplication (a 1-kb bin or less)
    for planted in svs[svs["end"] - svs["pos"] >= 3000].to_dict("records"):
        hits = [r for r in result.records if r.call.chrom == planted["chrom"]
                and r.call.start < planted["end"] and r.call.end > planted["pos"]]
        assert len(hits) == 1, planted["id"]
        hit = found[planted["id"]] = hits[0]
        assert hit.call.svtype == planted["type"]
        assert hit.call.cn == (1 if planted["type"] == "DEL" else 3), planted["id"]
        assert {s: hit.genotypes[s].gt for s in SAMPLES} == {s: planted[s] for s in SAMPLES}
        overlap = min(hit.call.end, planted["end"]) - max(hit.call.start, planted["pos"])
        assert overlap >= 0.8 * (planted["end"] - planted["pos"])
    false_calls = [r for r in result.records if r not in found.values()]
    per_sample = sum(len(c) for c in result.calls.values())
    print(f"demo: {len(result.records)} records ({per_sample} per-sample calls), "
          f"{len(false_calls)} false; noise {result.sigma}")
    assert false_calls == []
    # Only carriers' own segmentations call a deletion (the family genotyping, checked above,
    # gives every member's genotype even when a 3-bin call is missed in one carrier).
    assert found["DEL_chr1_pat"].callers and set(found["DEL_chr1_pat"].callers) <= {
        FATHER, PROBAND}
    assert found["NRXN1_del_dn"].callers == [PROBAND]
    assert members == list(SAMPLES) and lay.chrom.size == int(result.usable.size)
    assert not result.usable[(lay.chrom == "chr1") & (lay.start >= 188_406)
                             & (lay.end <= 193_405)].any()  # the N gap is masked
