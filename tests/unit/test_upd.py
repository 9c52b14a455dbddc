"""`helgenom upd`: site classes, per-chromosome UPD calls on constructed trio genotypes, ROH
with bcftools roh, and the simulated demo trio with a chromosome edited into UPD."""

from __future__ import annotations

import argparse
import gzip
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import test_cnv
from helgenom.cli.upd import register
from helgenom.sv.upd import (
    BIPARENTAL,
    MATERNAL,
    PATERNAL,
    UNINFORMATIVE,
    call_upd,
    parse_roh,
    run_upd,
    site_classes,
    upd_rows,
)
from helpers import TEST_DATA, TRIO, need_tools, write_ped, write_vcf

U, B, M, P = UNINFORMATIVE, BIPARENTAL, MATERNAL, PATERNAL


def test_site_classes() -> None:
    # (father, mother, child) alt-allele counts -> class
    cases = {(0, 2, 1): B, (2, 0, 1): B, (0, 2, 2): M, (2, 0, 0): M, (0, 2, 0): P, (2, 0, 2): P,
             (0, 1, 2): M, (2, 1, 0): M, (1, 0, 2): P, (1, 2, 0): P, (0, 1, 1): U, (1, 1, 0): U,
             (1, 1, 2): U, (0, 0, 1): U, (0, 0, 0): U, (2, 2, 2): U, (-1, 2, 2): U}
    f, m, c = (np.array(v) for v in zip(*cases, strict=True))
    assert site_classes(f, m, c).tolist() == list(cases.values())


def trio_genotypes(rng: np.random.Generator, n: int, mode: str, error: float = 0.01
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Father, mother and child alt-allele counts at the variant sites of n population sites.

    mode: biparental, mat-iso (two copies of one maternal allele), mat-hetero (both maternal
    alleles), pat-iso; `error` of the child's genotypes are redrawn at random."""
    af = rng.uniform(0.05, 0.95, n)
    fh, mh = (rng.random((n, 2)) < af[:, None] for _ in range(2))
    rows = np.arange(n)
    from_f, from_m = fh[rows, rng.integers(0, 2, n)], mh[rows, rng.integers(0, 2, n)]
    child = {"biparental": from_f.astype(int) + from_m, "mat-iso": 2 * from_m.astype(int),
             "mat-hetero": mh.sum(1), "pat-iso": 2 * from_f.astype(int)}[mode]
    child = np.where(rng.random(n) < error, rng.integers(0, 3, n), child)
    f, m = fh.sum(1), mh.sum(1)
    keep = (f + m + child) > 0
    return f[keep], m[keep], child[keep]


def _rows(modes: dict[str, str], roh: dict[str, bool], seed: int = 0) -> dict[str, dict]:
    rng = np.random.default_rng(seed)
    chrom, pos, gts = [], [], {"dad": [], "mum": [], "kid": []}
    roh_rows = []
    for name, mode in modes.items():
        f, m, c = trio_genotypes(rng, 600, mode)
        chrom += [name] * f.size
        pos.append(np.arange(f.size) * 1000 + 1)
        for key, values in zip(gts, (f, m, c), strict=True):
            gts[key].append(values)
        if roh.get(name):
            roh_rows.append(("kid", name, 1, f.size * 1000 - 999, f.size * 1000, f.size, 90.0))
    table = pd.DataFrame(roh_rows, columns=["sample", "chrom", "start", "end", "length",
                                            "markers", "quality"])
    arrays = {k: np.concatenate(v).astype(np.int8) for k, v in gts.items()}
    chrom_arr = np.array(chrom)
    rows = upd_rows("F", "kid", "dad", "mum", chrom_arr, np.concatenate(pos), arrays,
                    np.ones(chrom_arr.size, dtype=bool), table, list(modes))
    return {r["chrom"]: r for r in rows}


def test_upd_calls_on_constructed_trio_genotypes() -> None:
    rows = _rows({"1": "mat-iso", "2": "mat-hetero", "3": "biparental", "4": "pat-iso"},
                 roh={"1": True, "4": True})
    assert {c: r["call"] for c, r in rows.items()} == {
        "1": "UPD-mat iso", "2": "UPD-mat hetero", "3": "none", "4": "UPD-pat iso"}
    iso, hetero, normal = rows["1"], rows["2"], rows["3"]
    assert iso["maternal_fraction"] > 0.9 and iso["roh_fraction"] > 0.99
    assert iso["uniparent_het_fraction"] < 0.05  # no heterozygosity where the mother has it
    assert hetero["maternal_fraction"] > 0.9 and hetero["uniparent_het_fraction"] > 0.9
    assert hetero["roh_fraction"] == 0 and hetero["paternal"] <= 2
    assert normal["biparental"] > 30 and normal["maternal_fraction"] < 0.1
    assert rows["4"]["paternal_fraction"] > 0.9


def test_isodisomy_without_roh_is_still_iso() -> None:
    rows = _rows({"1": "mat-iso"}, roh={}, seed=1)
    assert rows["1"]["call"] == "UPD-mat iso" and rows["1"]["roh_fraction"] == 0


def test_thresholds() -> None:
    assert call_upd(9, 0, 0, 0.0, 0.5) == "insufficient"
    assert call_upd(12, 0, 8, 0.0, 0.9) == "UPD-mat hetero"  # 60%
    assert call_upd(11, 0, 8, 0.0, 0.9) == "none"  # 58%
    assert call_upd(5, 1, 40, 0.1, 0.5) == "none"
    assert call_upd(0, 30, 1, 0.7, 0.6) == "UPD-pat iso"


def test_parse_roh() -> None:
    text = ("# RG\t[2]Sample\t[3]Chromosome\t[4]Start\t[5]End\t[6]Length (bp)\t...\n"
            "ST\tkid\tchr1\t100\t0\t99.0\n"
            "RG\tkid\tchr1\t765\t224464\t223700\t472\t94.7\n")
    roh = parse_roh(text)
    assert roh.to_dict("records") == [{"sample": "kid", "chrom": "chr1", "start": 765,
                                       "end": 224464, "length": 223700, "markers": 472,
                                       "quality": 94.7}]


def _hand_vcf(path: Path, seed: int = 2) -> Path:
    """Maternal isodisomy of chr1 and a normal chr2 in the helpers' TRIO (kid is a son)."""
    rng = np.random.default_rng(seed)
    records = []
    code = {0: "0/0", 1: "0/1", 2: "1/1"}
    for chrom, mode in (("chr1", "mat-iso"), ("chr2", "biparental")):
        f, m, c = trio_genotypes(rng, 800, mode, error=0.0)
        af = rng.uniform(0.05, 0.6, f.size)
        for i in range(f.size):
            records.append({"chrom": chrom, "pos": 1000 + 1200 * i, "ref": "A", "alt": "G",
                            "af": round(float(af[i]), 3),
                            "gts": {"dad": code[f[i]], "mum": code[m[i]], "kid": code[c[i]]}})
    return write_vcf(path, ["dad", "mum", "kid"], records, contigs=("chr1", "chr2", "chrX"))


def test_cli_on_a_hand_built_vcf(tmp_path: Path) -> None:
    need_tools("bcftools", "bgzip", "tabix")
    vcf = _hand_vcf(tmp_path / "trio.vcf")
    subprocess.run(["bgzip", "-f", str(vcf)], check=True)
    subprocess.run(["tabix", "-p", "vcf", f"{vcf}.gz"], check=True)
    ped = write_ped(tmp_path / "trio.ped", TRIO)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    out, roh_out = tmp_path / "F.upd.tsv", tmp_path / "F.roh.tsv"
    args = parser.parse_args(["upd", "--vcf", f"{vcf}.gz", "--ped", str(ped), "--out", str(out),
                              "--roh-out", str(roh_out)])
    assert args.func(args) == 0
    upd = pd.read_csv(out, sep="\t").set_index("chrom")
    assert upd["call"].to_dict() == {"chr1": "UPD-mat iso", "chr2": "none"}
    roh = pd.read_csv(roh_out, sep="\t")
    kid = roh[roh["sample"] == "kid"]
    assert kid["chrom"].tolist() == ["chr1"] and upd.loc["chr1", "roh_fraction"] > 0.95


# ---------------------------------------------------------------------------------------------
# The simulated demo trio, edited into UPD
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_tools(*test_cnv.TOOLS)
    return test_cnv.make_demo(tmp_path_factory.getbasetemp() / "cnv-upd-demo")


def edit_child(src: Path, dst: Path, child: str, mother: str, modes: dict[str, str],
               seed: int = 0) -> Path:
    """Rewrite the child's genotypes per chromosome: `iso` -> homozygous for one of the
    mother's alleles (picked at random per site; all reads to it), `hetero` -> the mother's
    genotype (her whole sample column)."""
    rng = np.random.default_rng(seed)
    lines = []
    with gzip.open(src, "rt") as handle:
        for line in handle:
            if line.startswith("#CHROM"):
                names = line.rstrip("\n").split("\t")
                kid, mum = names.index(child), names.index(mother)
            fields = line.rstrip("\n").split("\t")
            if line.startswith("#") or fields[0] not in modes:
                lines.append(line)
                continue
            if modes[fields[0]] == "hetero":
                fields[kid] = fields[mum]
            else:
                keys = fields[8].split(":")
                cell = dict(zip(keys, fields[kid].split(":"), strict=True))
                alleles = dict(zip(keys, fields[mum].split(":"), strict=True))["GT"]
                alleles = alleles.replace("|", "/").split("/")
                allele = alleles[int(rng.integers(len(alleles)))]
                depth = sum(int(x) for x in cell["AD"].split(",") if x != ".")
                cell["GT"] = f"{allele}/{allele}"
                cell["AD"] = ",".join(str(depth) if str(i) == allele else "0"
                                      for i in range(len(cell["AD"].split(","))))
                cell["PL"] = "."
                fields[kid] = ":".join(cell[k] for k in keys)
            lines.append("\t".join(fields) + "\n")
    with dst.open("wb") as out:
        subprocess.run(["bgzip", "-c"], input="".join(lines).encode(), stdout=out, check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(dst)], check=True)
    return dst


def test_demo_has_no_upd_and_edited_chromosomes_are_called(demo: Path, tmp_path: Path) -> None:
    vcf, ped = demo / "annotation/DEMO.snv.vcf.gz", demo / "DEMO.ped"
    plain, roh = run_upd(vcf, ped)
    assert plain["child"].unique().tolist() == [test_cnv.PROBAND]
    assert plain["chrom"].tolist() == ["chr1", "chr2"]  # a son: no chrX
    assert plain["call"].tolist() == ["none", "none"]
    # enough informative sites for a verdict (UpdParams.min_sites = 10) on the small demo
    assert (plain["biparental"] >= 12).all() and (plain["maternal"] + plain["paternal"] <= 1).all()
    assert roh.empty or roh["length"].max() < 50_000
    edited = edit_child(vcf, tmp_path / "upd.vcf.gz", test_cnv.PROBAND, test_cnv.MOTHER,
                        {"chr1": "iso", "chr2": "hetero"})
    upd, roh = run_upd(edited, ped)
    by_chrom = upd.set_index("chrom")
    assert by_chrom["call"].to_dict() == {"chr1": "UPD-mat iso", "chr2": "UPD-mat hetero"}
    assert by_chrom.loc["chr1", "roh_fraction"] > 0.9 and by_chrom.loc["chr2", "roh_fraction"] < 0.1
    assert by_chrom.loc["chr1", "biparental"] == 0
    print(upd.to_string())


def test_giab_trio_has_no_upd() -> None:
    """A real trio (GIAB Ashkenazi, chr1 and chr2 records): no UPD call."""
    folder = TEST_DATA / "giab-trio"
    need_tools("bcftools")
    upd, _ = run_upd(folder / "ashk-trio.vcf.gz", folder / "ashk-trio.ped", chrx="X", chry="Y")
    assert upd["call"].tolist() == ["none", "none"]
    assert upd.loc[upd["chrom"] == "1", "informative"].item() > 500
