"""helgenom freqdb: the GMC's loqusdb-compatible frequency database (load, export, merge,
annotate, stats), its storage (atomic, locked, corrupt files named) and the demo's background
families (helgenom.simulate.background)."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helgenom.cli import main
from helgenom.freqdb import annotate as annotate_module
from helgenom.freqdb import keys, store
from helgenom.freqdb.load import load_case

CONTIGS = {"chr1": 2_000_000, "chr2": 1_000_000, "chrX": 1_000_000}
REFERENCE = "file:///ref/GRCh38.fa"


# --------------------------------------------------------------------------- fixtures


def write_vcf(path: Path, samples: list[str], records: list[tuple], contigs: dict | None = None,
              reference: str = REFERENCE, info_lines: tuple[str, ...] = ()) -> Path:
    """Bgzipped, indexed VCF; a record is (chrom, pos, ref, alt, [GT:GQ per sample]) with an
    optional sixth INFO value."""
    contigs = contigs or CONTIGS
    order = {c: i for i, c in enumerate(contigs)}
    lines = ["##fileformat=VCFv4.2", f"##reference={reference}",
             *(f"##contig=<ID={c},length={n}>" for c, n in contigs.items()), *info_lines,
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples)]
    for rec in sorted(records, key=lambda r: (order[r[0]], r[1])):
        chrom, pos, ref, alt, gts = rec[:5]
        info = rec[5] if len(rec) > 5 else "."
        lines.append(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t50\tPASS\t{info}\tGT:GQ\t"
                     + "\t".join(gts))
    text = path.with_suffix("")
    text.write_text("\n".join(lines) + "\n")
    subprocess.run(["bgzip", "-f", str(text)], check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(path)], check=True)
    return path


def write_ped(path: Path, family: str, members: list[tuple[str, str, str, int]]) -> Path:
    """members: (sample, father, mother, sex 1/2); a member with parents is affected."""
    rows = [f"{family}\t{s}\t{f}\t{m}\t{sex}\t{2 if f != '0' else 1}" for s, f, m, sex in members]
    path.write_text("\n".join(rows) + "\n")
    return path


def trio_ped(path: Path, family: str, son: bool = True) -> tuple[Path, list[str]]:
    samples = [f"{family}-father", f"{family}-mother", f"{family}-child"]
    write_ped(path, family, [(samples[0], "0", "0", 1), (samples[1], "0", "0", 2),
                             (samples[2], samples[0], samples[1], 1 if son else 2)])
    return path, samples


# A population of SNV sites (chr1 and chr2) that every simulated family draws from.
SITES = [("chr1" if i % 3 else "chr2", 1_000 + 1_733 * i, "ACGT"[i % 4], "ACGT"[(i + 1) % 4],
          0.05 + 0.45 * ((i * 7919) % 97) / 97) for i in range(400)]


def random_family(tmp: Path, family: str, seed: int, mother: np.ndarray | None = None,
                  private: int = 5) -> tuple[Path, Path, dict[tuple, tuple[int, int]]]:
    """A trio with genotypes drawn at the SITES' frequencies (`mother`: her alt copies per
    site, for the same woman in another family) plus `private` variants of its own; GQ 50.
    Returns VCF, PED and per variant (chrom, pos, ref, alt) its (hom, hem) flags."""
    rng = np.random.default_rng(seed)
    af = np.array([s[4] for s in SITES])
    father = [rng.random(len(SITES)) < af for _ in range(2)]
    mother_haps = [rng.random(len(SITES)) < af for _ in range(2)]
    if mother is not None:
        mother_haps = [mother >= 1, mother >= 2]
    child = [father[int(rng.integers(2))], mother_haps[int(rng.integers(2))]]
    copies = [father[0].astype(int) + father[1], mother_haps[0].astype(int) + mother_haps[1],
              child[0].astype(int) + child[1]]
    gt = {0: "0/0:50", 1: "0/1:50", 2: "1/1:50"}
    records, expected = [], {}
    for i, (chrom, pos, ref, alt, _) in enumerate(SITES):
        member = [int(c[i]) for c in copies]
        if any(member):
            records.append((chrom, pos, ref, alt, [gt[m] for m in member]))
            expected[(chrom, pos, ref, alt)] = (int(max(member) == 2), 0)
    for k in range(private):
        pos = 1_500_000 + 1_000 * seed + k
        records.append(("chr1", pos, "G", "T", ["0/0:50", "0/0:50", "0/1:50"]))
        expected[("chr1", pos, "G", "T")] = (0, 0)
    ped, samples = trio_ped(tmp / f"{family}.ped", family)
    return write_vcf(tmp / f"{family}.vcf.gz", samples, records), ped, expected


def gunzip(path: Path) -> str:
    with gzip.open(path, "rt") as handle:
        return handle.read()


def query(vcf: Path, fmt: str, *options: str) -> list[str]:
    return subprocess.run(["bcftools", "query", *options, "-f", fmt, str(vcf)],
                          capture_output=True, text=True, check=True).stdout.splitlines()


def exported(db: Path, tmp: Path, name: str = "export.vcf.gz", sv: bool = False
             ) -> dict[tuple, tuple]:
    """(chrom, pos, ref, alt) -> (Obs, Hom, Hem, Frq) of the database's export."""
    out = tmp / name
    assert main(["freqdb", "export", "--db", str(db), "--out", str(out),
                 *(["--sv"] if sv else [])]) == 0
    rows = {}
    for line in query(out, "%CHROM\t%POS\t%REF\t%ALT\t%Obs\t%Hom\t%Hem\t%Frq\n"):
        chrom, pos, ref, alt, obs, hom, hem, frq = line.split("\t")
        rows[(chrom, int(pos), ref, alt)] = (int(obs), 0 if hom == "." else int(hom),
                                             0 if hem == "." else int(hem), float(frq))
    return rows


def load(db: Path, vcf: Path, ped: Path, case: str, *options: str) -> int:
    return main(["freqdb", "load", "--db", str(db), "--vcf", str(vcf), "--ped", str(ped),
                 "--case-id", case, *options])


def files_of(db: Path) -> dict[str, bytes]:
    return {p.relative_to(db).as_posix(): p.read_bytes() for p in sorted(db.rglob("*"))
            if p.is_file() and p.name != store.LOCK}


# --------------------------------------------------------------------------- load


def family_a(tmp: Path) -> tuple[Path, Path]:
    ped, s = trio_ped(tmp / "A.ped", "A")  # father, mother, son
    ref = ["0/0:60", "0/0:60", "0/0:60"]
    records = [
        ("chr1", 100, "A", "G", ["0/0:60", "0/0:60", "0/1:50"]),  # child het
        ("chr1", 100, "A", "G", ["0/0:60", "0/0:60", "0/1:50"]),  # the same record twice
        ("chr1", 200, "C", "T", ["0/1:60", "1/1:60", "0/1:60"]),  # mother hom
        ("chr1", 300, "G", "A", ["0/1:10", "0/0:60", "0/0:60"]),  # father het, GQ 10
        ("chr1", 400, "G", "A", ["0/1:10", "0/1:30", "0/0:60"]),  # mother passes GQ
        ("chr1", 500, "A", "C,T", ["0/1:60", "0/2:60", "1/2:60"]),  # two ALTs
        ("chr1", 600, "A", "*", ["0/1:60", "0/0:60", "0/0:60"]),  # spanning deletion
        ("chr1", 700, "AT", "A", ["0/0:60", "0/0:60", "1/1:60"]),  # hom deletion
        ("chr1", 800, "C", "G", ref),  # nobody carries it
        ("chrX", 100, "C", "T", ["0/0:60", "0/1:60", "1/1:60"]),  # son hom, in the PAR
        ("chrX", 5000, "G", "C", ["0:60", "0/1:60", "1:60"]),  # son haploid ALT
        ("chrX", 6000, "T", "C", ["0:60", "1/1:60", "0:60"]),  # mother hom (female)
        ("chrX", 7000, "A", "G", ["0:60", "0/0:60", "0/1:60"]),  # son het: not hemizygous
        ("chrX", 8000, "A", "G", ["1:60", "0/1:60", "0:60"]),  # father hemizygous
    ]
    return write_vcf(tmp / "A.vcf.gz", s, records), ped


@pytest.fixture
def many_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shard per contig of the test genome (in this process's loads)."""
    monkeypatch.setattr(store, "MIN_SHARD_BP", 1)


def test_keys_and_site_hashes_do_not_change() -> None:
    """A database outlives versions: its keys must stay what they were."""
    import pyarrow as pa

    codes = keys.allele_codes(pa.array(["A", "AT", "A", "ACGT"]),
                              pa.array(["G", "A", "ATTT", ""]))
    assert [hex(c) for c in codes] == ["0x80004147", "0x137677f2", "0x5a0f9b00", "0x2719a50f"]
    sites = keys.site_hashes(np.full(2, keys.contig_hash("chr1"), np.uint64),
                             keys.variant_keys(np.array([100, 100]), codes[:2]))
    assert [hex(h) for h in sites] == ["0xefb17e4c7f3f5a3d", "0x547bbefb1ea683b3"]


def test_load_counts_each_variant_once_per_case_with_hom_and_hem(tmp_path: Path,
                                                                 many_shards: None) -> None:
    vcf, ped = family_a(tmp_path)
    db = tmp_path / "db"
    assert load(db, vcf, ped, "A", "--par", "chrX:1-2699") == 0
    rows = exported(db, tmp_path)
    assert rows == {
        ("chr1", 100, "A", "G"): (1, 0, 0, 1.0),
        ("chr1", 200, "C", "T"): (1, 1, 0, 1.0),
        ("chr1", 400, "G", "A"): (1, 0, 0, 1.0),
        ("chr1", 500, "A", "C"): (1, 0, 0, 1.0),
        ("chr1", 500, "A", "T"): (1, 0, 0, 1.0),
        ("chr1", 700, "AT", "A"): (1, 1, 0, 1.0),
        ("chrX", 100, "C", "T"): (1, 1, 0, 1.0),
        ("chrX", 5000, "G", "C"): (1, 1, 1, 1.0),
        ("chrX", 6000, "T", "C"): (1, 1, 0, 1.0),
        ("chrX", 7000, "A", "G"): (1, 0, 0, 1.0),
        ("chrX", 8000, "A", "G"): (1, 1, 1, 1.0),
    }
    # a second case: the counts add up, Frq is Obs / NrCases
    ped_b, samples = trio_ped(tmp_path / "B.ped", "B", son=False)
    vcf_b = write_vcf(tmp_path / "B.vcf.gz", samples, [
        ("chr1", 200, "C", "T", ["1/1:60", "0/0:60", "0/1:60"]),
        ("chrX", 8000, "A", "G", ["1:60", "0/0:60", "0/1:60"]),
        ("chr2", 50, "T", "TA", ["0/1:60", "0/0:60", "0/0:60"])])
    assert load(db, vcf_b, ped_b, "B") == 0
    rows = exported(db, tmp_path, "export2.vcf.gz")
    assert rows[("chr1", 200, "C", "T")] == (2, 2, 0, 1.0)
    assert rows[("chrX", 8000, "A", "G")] == (2, 2, 2, 1.0)
    assert rows[("chr1", 100, "A", "G")] == (1, 0, 0, 0.5)
    assert rows[("chr2", 50, "T", "TA")] == (1, 0, 0, 0.5)


def test_the_gq_threshold_and_pars_change_what_counts(tmp_path: Path) -> None:
    vcf, ped = family_a(tmp_path)
    db = tmp_path / "db"
    assert load(db, vcf, ped, "A", "--gq-threshold", "5") == 0  # no PAR given
    rows = exported(db, tmp_path)
    assert rows[("chr1", 300, "G", "A")] == (1, 0, 0, 1.0)  # GQ 10 counts now
    assert rows[("chrX", 100, "C", "T")] == (1, 1, 1, 1.0)  # not in a PAR: hemizygous
    stats = store.stats(db)
    assert stats["cases"] == 1 and stats["variants"] == 12 and stats["samples"] == 3


def test_loading_a_case_again_replaces_it(tmp_path: Path, many_shards: None) -> None:
    vcf_a, ped_a, _ = random_family(tmp_path, "A", 1)
    vcf_b, ped_b, expected_b = random_family(tmp_path, "B", 2)
    db = tmp_path / "db"
    assert load(db, vcf_a, ped_a, "A") == 0
    assert load(db, vcf_b, ped_b, "B") == 0
    before = exported(db, tmp_path, "before.vcf.gz")
    assert load(db, vcf_a, ped_a, "A") == 0  # the same again: nothing changes
    assert exported(db, tmp_path, "again.vcf.gz") == before
    # A's new VCF holds one variant, which B lacks: A's old variants are gone
    _, samples = trio_ped(tmp_path / "A2.ped", "A")
    changed = write_vcf(tmp_path / "A2.vcf.gz", samples, [
        ("chr1", 200, "C", "T", ["0/1:60", "0/0:60", "0/0:60"])])
    assert load(db, changed, ped_a, "A") == 0
    after = exported(db, tmp_path, "after.vcf.gz")
    assert after == {("chr1", 200, "C", "T"): (1, 0, 0, 0.5),
                     **{key: (1, hom, hem, 0.5) for key, (hom, hem) in expected_b.items()}}
    stats = store.stats(db)
    assert stats["cases"] == 2 and stats["shards"] == 2  # chr1, chr2 (no chrX variant left)


def test_a_case_id_reused_for_other_samples_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Loading a case again replaces it only with the same samples (or more): another
    family under the same case ID is an error naming the case and its samples, and the
    database is unchanged."""
    vcf_a, ped_a, _ = random_family(tmp_path, "A", 1)
    vcf_b, ped_b, _ = random_family(tmp_path, "B", 2)
    db = tmp_path / "db"
    assert load(db, vcf_a, ped_a, "A") == 0
    before = exported(db, tmp_path, "before.vcf.gz")
    capsys.readouterr()
    code = load(db, vcf_b, ped_b, "A")
    err = capsys.readouterr().err
    assert code == 2 and "case A is in the database with the samples" in err
    assert "another family under the same case ID" in err
    assert exported(db, tmp_path, "after.vcf.gz") == before


def test_the_same_individual_under_another_case_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vcf_a, ped_a, _ = random_family(tmp_path, "A", 1)
    db = tmp_path / "db"
    assert load(db, vcf_a, ped_a, "A") == 0
    # family B's mother is A's mother (the same genotypes under another sample name)
    rng = np.random.default_rng(1)
    af = np.array([s[4] for s in SITES])
    [rng.random(len(SITES)) < af for _ in range(2)]  # A's father's draws
    mother = (rng.random(len(SITES)) < af).astype(int) + (rng.random(len(SITES)) < af)
    vcf_b, ped_b, _ = random_family(tmp_path, "B", 7, mother=mother)
    before = files_of(db)
    capsys.readouterr()
    assert load(db, vcf_b, ped_b, "B") == 2
    error = capsys.readouterr().err
    assert "B-mother" in error and "sample 'A-mother' of case 'A'" in error
    assert "B-father" not in error and "B-child" not in error
    assert files_of(db) == before  # nothing written
    # an unrelated family loads (no false match), and so does A again (its own case)
    vcf_c, ped_c, _ = random_family(tmp_path, "C", 3)
    assert load(db, vcf_c, ped_c, "C") == 0
    assert load(db, vcf_a, ped_a, "A") == 0


def test_a_family_that_failed_qc_is_refused(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    vcf, ped = family_a(tmp_path)
    db = tmp_path / "db"
    qc = tmp_path / "A.qc.json"
    qc.write_text(json.dumps({"family": "A", "verdict": "FAIL", "reasons": ["contamination"]}))
    assert load(db, vcf, ped, "A", "--qc", str(qc)) == 2
    error = capsys.readouterr().err
    assert "A.qc.json" in error and "'FAIL'" in error and "failed QC" in error
    assert not (db / store.MANIFEST).exists()
    qc.write_text(json.dumps({"family": "OTHER", "verdict": "PASS"}))
    assert load(db, vcf, ped, "A", "--qc", str(qc)) == 2
    assert "another family" in capsys.readouterr().err
    qc.write_text(json.dumps({"family": "A", "verdict": "WARN"}))
    receipt = tmp_path / "A.load.json"
    assert load(db, vcf, ped, "A", "--qc", str(qc), "--receipt", str(receipt)) == 0
    assert store.read_manifest(db)["cases"]["A"]["qc"] == "WARN"
    assert json.loads(receipt.read_text())["status"] == "loaded"
    # the workflow's way: a FAIL is skipped, the command succeeds, the receipt says so
    qc.write_text(json.dumps({"family": "A", "verdict": "FAIL"}))
    before = files_of(db)
    assert load(db, vcf, ped, "A", "--qc", str(qc), "--skip-failed-qc", "--receipt",
                str(receipt)) == 0
    assert json.loads(receipt.read_text())["status"] == "skipped"
    assert files_of(db) == before


def test_a_ped_sample_missing_from_the_vcf_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vcf, _ = family_a(tmp_path)
    ped = write_ped(tmp_path / "X.ped", "A", [("A-father", "0", "0", 1),
                                              ("A-uncle", "0", "0", 1)])
    assert load(tmp_path / "db", vcf, ped, "A") == 2
    assert "X.ped" in (err := capsys.readouterr().err) and "A-uncle" in err


# --------------------------------------------------------------------------- SVs


def sv_vcf(path: Path, samples: list[str], records: list[tuple[str, int, int, str, list[str]]]
           ) -> Path:
    """Bgzipped SV VCF; a record is (chrom, pos, end, SVTYPE, [GT per sample])."""
    lines = ["##fileformat=VCFv4.2",
             *(f"##contig=<ID={c},length={n}>" for c, n in CONTIGS.items()),
             '##ALT=<ID=DEL,Description="Deletion">', '##ALT=<ID=DUP,Description="Dup">',
             '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="type">',
             '##INFO=<ID=END,Number=1,Type=Integer,Description="end">',
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples)]
    for chrom, pos, end, svtype, gts in sorted(records, key=lambda r: (r[0], r[1])):
        lines.append(f"{chrom}\t{pos}\t.\tN\t<{svtype}>\t50\tPASS\tSVTYPE={svtype};END={end}"
                     f"\tGT\t" + "\t".join(gts))
    path.with_suffix("").write_text("\n".join(lines) + "\n")
    subprocess.run(["bgzip", "-f", str(path.with_suffix(""))], check=True)
    return path


def test_svs_are_clustered_by_type_and_breakpoints(tmp_path: Path) -> None:
    db = tmp_path / "db"
    het, hom, ref = "0/1", "1/1", "0/0"
    calls = {
        "A": [("chr1", 10_000, 20_000, "DEL", [het, ref, het]),
              ("chr1", 10_000, 20_000, "DUP", [ref, het, ref])],  # another type
        "B": [("chr1", 10_200, 20_300, "DEL", [hom, ref, het])],  # both ends within 500
        "C": [("chr1", 10_900, 20_000, "DEL", [het, ref, ref]),  # 900 bp from A's: its own
              ("chr1", 10_400, 19_600, "DEL", [ref, het, ref]),  # A's cluster
              ("chr1", 50_000, 60_000, "DEL", [ref, ref, ref])],  # nobody carries it
        "D": [("chrX", 30_000, 40_000, "DEL", ["0", ref, "1"])],  # the son's, hemizygous
    }
    for number, (case, records) in enumerate(calls.items()):
        vcf, ped, _ = random_family(tmp_path, case, 10 + number)
        samples = [f"{case}-father", f"{case}-mother", f"{case}-child"]
        sv = sv_vcf(tmp_path / f"{case}.sv.vcf.gz", samples, records)
        assert load(db, vcf, ped, case, "--sv", str(sv)) == 0
    out = tmp_path / "svs.vcf.gz"
    assert main(["freqdb", "export", "--db", str(db), "--out", str(out), "--sv"]) == 0
    assert "##NrCases=4" in subprocess.run(["bcftools", "view", "-h", str(out)],
                                           capture_output=True, text=True).stdout
    assert query(out, "%CHROM %POS %INFO/END %INFO/SVTYPE %Obs %Hom %Hem %Frq\n") == [
        "chr1 10000 20000 DUP 1 . . 0.25",
        # A, B and C's second: POS (10000+10200+10400)/3, END (20000+20300+19600)/3
        "chr1 10200 19967 DEL 3 1 . 0.75",
        "chr1 10900 20000 DEL 1 . . 0.25",
        "chrX 30000 40000 DEL 1 1 1 0.25",
    ]
    # B's SV VCF annotated without B: its deletion was seen in A and C (NrCases 3)
    annotated = tmp_path / "B.annotated.vcf.gz"
    assert main(["freqdb", "annotate", "--db", str(db), "--vcf", str(tmp_path / "B.sv.vcf.gz"),
                 "--out", str(annotated), "--case-id", "B", "--sv"]) == 0
    assert query(annotated, "%POS %Obs %Frq\n") == ["10200 2 0.66667"]


# --------------------------------------------------------------------------- export


def test_the_export_has_loqusdb_s_format(tmp_path: Path) -> None:
    db = tmp_path / "db"
    for number, case in enumerate("AB"):
        vcf, ped, _ = random_family(tmp_path, case, number + 1)
        assert load(db, vcf, ped, case) == 0
    out = tmp_path / "export.vcf.gz"
    assert main(["freqdb", "export", "--db", str(db), "--out", str(out)]) == 0
    header = subprocess.run(["bcftools", "view", "-h", str(out)], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    assert header[0] == "##fileformat=VCFv4.2"
    assert "##NrCases=2" in header
    for line in ('##INFO=<ID=Obs,Number=1,Type=Integer,Description="The number of '
                 'observations for the variant">',
                 '##INFO=<ID=Hom,Number=1,Type=Integer,Description="The number of observed '
                 'homozygotes">',
                 '##INFO=<ID=Hem,Number=1,Type=Integer,Description="The number of observed '
                 'hemizygotes">',
                 '##INFO=<ID=Frq,Number=1,Type=Float,Description="Observation frequency of '
                 'the variant (not allele frequency)">'):
        assert line in header
    assert [line for line in header if line.startswith("##contig")] == [
        f"##contig=<ID={c},length={n}>" for c, n in CONTIGS.items()]
    assert "##reference=GRCh38.fa" in header
    assert header[-1] == "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"  # no samples
    text = gunzip(out)
    assert not re.search(r"father|mother|child|A\.vcf|B\.vcf", text)  # no samples, no cases
    records = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    assert {len(r) for r in records} == {8}
    order = [(list(CONTIGS).index(r[0]), int(r[1])) for r in records]
    assert order == sorted(order)
    assert all(r[2] == "." and r[5] == "." and r[6] == "." for r in records)
    assert all(re.fullmatch(r"Obs=[12](;Hom=[12])?;Frq=(0\.50000|1\.00000)", r[7])
               for r in records)
    assert any(r[7].endswith(";Frq=0.50000") for r in records)
    values = query(out, "%Obs %Hom %Hem %Frq\n")
    assert len(values) == len(records) and all(len(v.split()) == 4 for v in values)
    # indexed: a region query gives the records of that region
    region = subprocess.run(["tabix", str(out), "chr2:1-20000"], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    assert region == ["\t".join(r) for r in records if r[0] == "chr2" and int(r[1]) <= 20000]


# --------------------------------------------------------------------------- merge


def make_export(tmp: Path, name: str, families: list[tuple[str, int]], contigs: dict | None = None,
                reference: str = REFERENCE) -> Path:
    db = tmp / f"db-{name}"
    for case, seed in families:
        vcf, ped, _ = random_family(tmp, case, seed)
        if contigs is not None or reference != REFERENCE:
            text = gunzip(vcf)
            for contig, length in (contigs or {}).items():
                text = text.replace(f"##contig=<ID={contig},length={CONTIGS[contig]}>",
                                    f"##contig=<ID={contig},length={length}>")
            text = text.replace(REFERENCE, reference)
            vcf = tmp / f"{case}-{name}.vcf.gz"
            vcf.with_suffix("").write_text(text)
            subprocess.run(["bgzip", "-f", str(vcf.with_suffix(""))], check=True)
        assert load(db, vcf, ped, case) == 0
    out = tmp / f"{name}.vcf.gz"
    assert main(["freqdb", "export", "--db", str(db), "--out", str(out)]) == 0
    return out


def test_merge_sums_exports_and_refuses_another_build(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = make_export(tmp_path, "one", [("A", 1), ("B", 2)])
    two = make_export(tmp_path, "two", [("C", 3)])
    merged = tmp_path / "national.vcf.gz"
    assert main(["freqdb", "merge", "--out", str(merged), str(one), str(two)]) == 0
    header = subprocess.run(["bcftools", "view", "-h", str(merged)], capture_output=True,
                            text=True, check=True).stdout
    assert "##NrCases=3" in header

    def counts(path: Path) -> dict[str, list[int]]:
        return {f"{c}:{p}:{r}>{a}": [int(o), 0 if h == "." else int(h)]
                for c, p, r, a, o, h in (line.split() for line in query(
                    path, "%CHROM %POS %REF %ALT %Obs %Hom\n"))}

    first, second, total = counts(one), counts(two), counts(merged)
    assert set(total) == set(first) | set(second)
    for key, (obs, hom) in total.items():
        assert obs == first.get(key, [0, 0])[0] + second.get(key, [0, 0])[0]
        assert hom == first.get(key, [0, 0])[1] + second.get(key, [0, 0])[1]
    frq = {f"{c}:{p}:{r}>{a}": f for c, p, r, a, f in (
        line.split() for line in query(merged, "%CHROM %POS %REF %ALT %Frq\n"))}
    assert all(abs(float(frq[k]) - total[k][0] / 3) < 1e-5 for k in total)
    assert gunzip(merged).count("Frq=0.33333") > 0
    # another build (a contig of another length) is refused, naming the file and contig
    other = make_export(tmp_path, "other", [("D", 4)], contigs={"chr2": 999})
    capsys.readouterr()
    assert main(["freqdb", "merge", "--out", str(tmp_path / "bad.vcf.gz"), str(one),
                 str(other)]) == 2
    error = capsys.readouterr().err
    assert "other.vcf.gz" in error and "chr2 length=999" in error and "another reference" in error
    assert not (tmp_path / "bad.vcf.gz").exists()
    # another ##reference too
    hg19 = make_export(tmp_path, "hg19", [("E", 5)], reference="file:///ref/hg19.fa")
    assert main(["freqdb", "merge", "--out", str(tmp_path / "bad.vcf.gz"), str(one),
                 str(hg19)]) == 2
    assert "hg19.fa" in capsys.readouterr().err
    # a family VCF is no export
    vcf, _, _ = random_family(tmp_path, "F", 6)
    assert main(["freqdb", "merge", "--out", str(tmp_path / "bad.vcf.gz"), str(one),
                 str(vcf)]) == 2
    error = capsys.readouterr().err
    assert "F.vcf.gz" in error and "##NrCases" in error
    assert not (tmp_path / "bad.vcf.gz").exists()


# --------------------------------------------------------------------------- annotate


def test_annotate_leaves_the_family_itself_out(tmp_path: Path) -> None:
    db = tmp_path / "db"
    vcf_a, ped_a, expected_a = random_family(tmp_path, "A", 1)
    vcf_b, ped_b, expected_b = random_family(tmp_path, "B", 2)
    assert load(db, vcf_a, ped_a, "A") == 0
    assert load(db, vcf_b, ped_b, "B") == 0
    out = tmp_path / "A.freq.vcf.gz"
    assert main(["freqdb", "annotate", "--db", str(db), "--vcf", str(vcf_a), "--out", str(out),
                 "--case-id", "A"]) == 0
    assert Path(f"{out}.tbi").is_file()
    header = subprocess.run(["bcftools", "view", "-h", str(out)], capture_output=True,
                            text=True, check=True).stdout
    assert "##helgenom_freqdb=<NrCases=1,Excluded=A>" in header
    rows = query(out, "%CHROM %POS %REF %ALT %Obs %Hom %Frq\n")
    assert len(rows) == len(query(vcf_a, "%POS\n"))  # every record, in order
    for line in rows:
        chrom, pos, ref, alt, obs, hom, frq = line.split()
        key = (chrom, int(pos), ref, alt)
        if key in expected_b:  # seen in B: B's counts only
            assert (obs, frq) == ("1", "1")
            assert hom == ("1" if expected_b[key][0] else ".")
        else:  # only A's own: no keys
            assert (obs, hom, frq) == (".", ".", ".")
    assert any(line.split()[4] == "." for line in rows)
    assert any(line.split()[4] == "1" for line in rows)
    # a case that is not loaded sees every case
    assert main(["freqdb", "annotate", "--db", str(db), "--vcf", str(vcf_a), "--out", str(out),
                 "--case-id", "NEW"]) == 0
    both = {(c, int(p), r, a): o for c, p, r, a, o in (
        line.split() for line in query(out, "%CHROM %POS %REF %ALT %Obs\n"))}
    assert all(both[k] == str(1 + (k in expected_b)) for k in expected_a)


def test_annotate_with_no_database_yet_annotates_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vcf, _, _ = random_family(tmp_path, "A", 1)
    out = tmp_path / "A.freq.vcf.gz"
    assert main(["freqdb", "annotate", "--db", str(tmp_path / "new"), "--vcf", str(vcf),
                 "--out", str(out), "--case-id", "A"]) == 0
    assert "no database at" in capsys.readouterr().err
    assert set(query(out, "%Obs\n")) == {"."}
    assert len(query(out, "%POS\n")) == len(query(vcf, "%POS\n"))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.parquet").write_text("something else")
    assert main(["freqdb", "annotate", "--db", str(tmp_path / "other"), "--vcf", str(vcf),
                 "--out", str(out), "--case-id", "A"]) == 2  # not a database: refused
    assert "no manifest.json" in capsys.readouterr().err


def test_annotate_splits_alleles_and_replaces_old_keys(tmp_path: Path) -> None:
    vcf, ped = family_a(tmp_path)
    db = tmp_path / "db"
    assert load(db, vcf, ped, "A") == 0
    _, samples = trio_ped(tmp_path / "Q.ped", "Q")
    obs_line = '##INFO=<ID=Obs,Number=1,Type=Integer,Description="old">'
    query_vcf = write_vcf(tmp_path / "Q.vcf.gz", samples, [
        ("chr1", 200, "C", "T", ["0/1:60"] * 3, "Obs=99"),
        ("chr1", 500, "A", "C,T,G", ["1/2:60"] * 3),
        ("chr1", 900, "A", "G", ["0/1:60"] * 3, "Obs=7")], info_lines=(obs_line,))
    out = tmp_path / "Q.freq.vcf.gz"
    assert main(["freqdb", "annotate", "--db", str(db), "--vcf", str(query_vcf), "--out",
                 str(out), "--case-id", "Q"]) == 0
    assert query(out, "%POS %ALT %Obs %Frq\n") == [
        "200 T 1 1", "500 C 1 1", "500 T 1 1", "500 G . .", "900 G . ."]


def test_annotate_in_two_processes_writes_what_one_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, many_shards: None) -> None:
    db = tmp_path / "db"
    vcf_a, ped_a, _ = random_family(tmp_path, "A", 1, private=200)
    vcf_b, _, _ = random_family(tmp_path, "B", 2, private=20)
    assert load(db, vcf_a, ped_a, "A") == 0
    out_one, out_two = tmp_path / "one.vcf.gz", tmp_path / "two.vcf.gz"
    assert main(["freqdb", "annotate", "--db", str(db), "--vcf", str(vcf_b), "--out",
                 str(out_one), "--case-id", "B"]) == 0
    monkeypatch.setattr(annotate_module, "PARALLEL_RECORDS", 0)
    monkeypatch.setattr(annotate_module, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(annotate_module, "BLOCK_BYTES", 4096)  # many blocks, lines cut
    done = annotate_module.annotate(db, vcf_b, out_two, "B")
    assert done.processes == 2 and done.records == len(query(vcf_b, "%POS\n"))
    assert gunzip(out_one) == gunzip(out_two)
    for region in ("chr1", "chr2", "chr1:1-100000", "chr2:50000-600000"):
        one = subprocess.run(["tabix", str(out_one), region], capture_output=True, text=True)
        two = subprocess.run(["tabix", str(out_two), region], capture_output=True, text=True)
        assert one.stdout == two.stdout and one.stdout


# --------------------------------------------------------------------------- storage


def test_concurrent_loads_lose_nothing_and_count_nothing_twice(tmp_path: Path) -> None:
    db = tmp_path / "db"
    families = [random_family(tmp_path, f"F{k}", 100 + k) for k in range(8)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    procs = [subprocess.Popen([sys.executable, "-m", "helgenom.cli", "freqdb", "load", "--db",
                               str(db), "--vcf", str(vcf), "--ped", str(ped), "--case-id",
                               f"F{k}"], stderr=subprocess.PIPE, text=True, env=env)
             for k, (vcf, ped, _) in enumerate(families)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    expected: dict[tuple, list[int]] = {}
    for _, _, variants in families:
        for key, (hom, hem) in variants.items():
            counts = expected.setdefault(key, [0, 0, 0])
            counts[0] += 1
            counts[1] += hom
            counts[2] += hem
    rows = exported(db, tmp_path)
    assert {k: list(v[:3]) for k, v in rows.items()} == expected
    assert store.stats(db)["cases"] == 8
    assert all(frq == obs / 8 for obs, _, _, frq in rows.values())


def test_a_corrupt_database_file_is_named(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    vcf, ped, _ = random_family(tmp_path, "A", 1)
    db = tmp_path / "db"
    assert load(db, vcf, ped, "A") == 0
    shard = db / next(iter(store.read_manifest(db)["shards"].values()))["file"]
    content = shard.read_bytes()
    out = tmp_path / "export.vcf.gz"
    capsys.readouterr()
    shard.write_bytes(content[: len(content) // 2])  # truncated
    assert main(["freqdb", "export", "--db", str(db), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert str(shard) in error and "truncated" in error
    shard.write_bytes(bytes(len(content)))  # garbage of the right size
    assert main(["freqdb", "annotate", "--db", str(db), "--vcf", str(vcf), "--out", str(out),
                 "--case-id", "X"]) == 2
    error = capsys.readouterr().err
    assert str(shard) in error and "cannot be read (corrupt)" in error
    assert not out.exists() and not list(tmp_path.glob(".export*"))
    (db / "manifest.json").write_text("{garbage")
    assert main(["freqdb", "stats", "--db", str(db)]) == 2
    assert "manifest.json" in capsys.readouterr().err
    assert main(["freqdb", "stats", "--db", str(tmp_path / "none")]) == 2


def test_a_failed_load_leaves_the_database_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vcf_a, ped_a, _ = random_family(tmp_path, "A", 1)
    vcf_b, ped_b, _ = random_family(tmp_path, "B", 2)
    db = tmp_path / "db"
    load_case(db, vcf_a, ped_a, "A")
    before = files_of(db)

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "write_manifest", full_disk)
    with pytest.raises(OSError):
        load_case(db, vcf_b, ped_b, "B")
    with pytest.raises(OSError):
        load_case(db, vcf_a, ped_a, "A")  # a replacement too
    assert files_of(db) == before  # the new case and shard files are gone again
    monkeypatch.undo()
    assert store.stats(db)["cases"] == 1
    load_case(db, vcf_b, ped_b, "B")
    assert store.stats(db)["cases"] == 2


def test_an_unreadable_input_leaves_no_output(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    vcf, ped, _ = random_family(tmp_path, "A", 1)
    db = tmp_path / "db"
    assert load(db, vcf, ped, "A") == 0
    broken = tmp_path / "broken.vcf.gz"
    broken.write_bytes(vcf.read_bytes()[:-200])  # cut inside the last block
    out = tmp_path / "out.vcf.gz"
    assert main(["freqdb", "annotate", "--db", str(db), "--vcf", str(broken), "--out", str(out),
                 "--case-id", "A"]) == 2
    assert "broken.vcf.gz" in capsys.readouterr().err
    assert not out.exists() and not Path(f"{out}.tbi").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_colliding_allele_hashes_stay_distinct_variants(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys, "indel_codes",  # every indel's code is the same
                        lambda ref, alt: np.full(len(ref), 7, dtype=np.uint32))
    monkeypatch.setattr(store, "MIN_SHARD_BP", 1)
    db = tmp_path / "db"
    ped_a, a = trio_ped(tmp_path / "A.ped", "A")
    ped_b, b = trio_ped(tmp_path / "B.ped", "B")
    het = ["0/1:60", "0/0:60", "0/0:60"]
    vcf_a = write_vcf(tmp_path / "A.vcf.gz", a, [
        ("chr1", 100, "A", "AT", het), ("chr1", 100, "A", "ATT", ["1/1:60", "0/0:60", "0/0:60"]),
        ("chr1", 100, "AC", "A", het)])
    vcf_b = write_vcf(tmp_path / "B.vcf.gz", b, [("chr1", 100, "A", "ATT", het),
                                                 ("chr1", 100, "A", "ATTT", het)])
    load_case(db, vcf_a, ped_a, "A")
    load_case(db, vcf_b, ped_b, "B")
    rows = exported(db, tmp_path)
    assert rows == {("chr1", 100, "A", "AT"): (1, 0, 0, 0.5),
                    ("chr1", 100, "A", "ATT"): (2, 1, 0, 1.0),
                    ("chr1", 100, "AC", "A"): (1, 0, 0, 0.5),
                    ("chr1", 100, "A", "ATTT"): (1, 0, 0, 0.5)}
    out = tmp_path / "B.freq.vcf.gz"
    annotate_module.annotate(db, vcf_b, out, "B")
    assert query(out, "%ALT %Obs\n") == ["ATT 1", "ATTT ."]
    load_case(db, vcf_a, ped_a, "A")  # replacing keeps them apart too
    assert exported(db, tmp_path, "again.vcf.gz") == rows


def test_another_build_is_refused_at_load(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    vcf_a, ped_a, _ = random_family(tmp_path, "A", 1)
    db = tmp_path / "db"
    assert load(db, vcf_a, ped_a, "A") == 0
    ped_b, samples = trio_ped(tmp_path / "B.ped", "B")
    vcf_b = write_vcf(tmp_path / "B.vcf.gz", samples,
                      [("chr1", 100, "A", "G", ["0/1:60"] * 3)],
                      contigs={"chr1": 249_250_621, "chr2": 1_000_000, "chrX": 1_000_000})
    assert load(db, vcf_b, ped_b, "B") == 2
    error = capsys.readouterr().err
    assert "B.vcf.gz" in error and "'chr1'" in error and "another reference build" in error
    assert store.stats(db)["cases"] == 1


def test_stats_print_cases_variants_and_size(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    vcf, ped, expected = random_family(tmp_path, "A", 1)
    db = tmp_path / "db"
    assert load(db, vcf, ped, "A") == 0
    capsys.readouterr()
    assert main(["freqdb", "stats", "--db", str(db)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["cases"] == 1 and stats["variants"] == len(expected)
    assert stats["size_bytes"] == sum(p.stat().st_size for p in db.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- background


def test_background_families_carry_the_recurrent_artefact(tmp_path: Path) -> None:
    from helgenom.simulate.background import artefact_variant, plant_artefact, write_background
    from helgenom.simulate.genome import build_reference
    from helgenom.simulate.variants import PROBAND, build_trio, genotype, haplotype_sequence

    genome_seed, variant_seed, _, _ = np.random.SeedSequence(3).spawn(4)
    reference = build_reference(np.random.default_rng(genome_seed), 0.4)
    trio = build_trio(np.random.default_rng(variant_seed), reference)
    families = write_background(tmp_path / "bg", reference, trio.pool, trio.planted,
                                families=10, seed=3)
    again = write_background(tmp_path / "bg2", reference, trio.pool, trio.planted,
                             families=10, seed=3)
    assert [gunzip(f.vcf) for f in families] == [gunzip(f.vcf) for f in again]
    artefact = artefact_variant(reference, trio.pool, trio.planted)
    assert all((v.pos, v.alt) != (artefact.pos, artefact.alt)
               for v in trio.pool[artefact.contig])  # not in the population VCF
    carriers = [f for f in families if f.carries_artefact]
    assert len(carriers) >= 6  # most
    db = tmp_path / "db"
    for family in families:
        assert Path(f"{family.vcf}.tbi").is_file()
        load_case(db, family.vcf, family.ped, family.case_id)
    rows = exported(db, tmp_path)
    site = (artefact.contig, artefact.pos + 1, artefact.ref, artefact.alt)
    assert rows[site][0] == len(carriers)
    # the demo's proband can carry it: his haplotype still spells out
    plant_artefact(reference, trio)
    assert genotype(trio, PROBAND, artefact) == "0/1"
    for hap in trio.haplotypes[PROBAND][artefact.contig]:
        haplotype_sequence(reference, trio, hap)


def test_the_merge_order_is_lexsort_s() -> None:
    rng = np.random.default_rng(5)
    runs = []
    for _ in range(3):  # three parts, each sorted by (contig, key)
        contig = rng.integers(0, 6, 500).astype(np.uint32)
        key = rng.integers(0, 50, 500).astype(np.uint64)
        order = np.lexsort((key, contig))
        runs.append((contig[order], key[order]))
    contig = np.concatenate([c for c, _ in runs])
    key = np.concatenate([k for _, k in runs])
    assert (store._order(contig, key) == np.lexsort((key, contig))).all()
    assert (store._order(contig[:0], key[:0]) == []).all()


def test_the_streamed_tbi_is_pack_tbi_s(tmp_path: Path) -> None:
    from helgenom.freqdb.export import TbiSections
    from helgenom.io.bgzf import inflate_blocks
    from helgenom.io.tabix import contig_sections, pack_tbi

    rng = np.random.default_rng(2)
    sections = []
    for number, name in enumerate(("chr1", "chr2", "chrX")):
        beg = np.sort(rng.integers(0, 3_000_000, 400))
        start = np.arange(400, dtype=np.int64) * 37 + 100_000 * (number + 1)
        sections += contig_sections([name], np.zeros(400, dtype=np.int64), beg, beg + 2,
                                    start << 16, (start + 37) << 16, int(start[0]) << 16)
    streamed = TbiSections(tmp_path / "scratch")
    for section in sections:
        streamed.add(section)
    streamed.write(tmp_path / "x.tbi")

    def inflated(data: bytes) -> bytes:
        return b"".join(block for _, block in inflate_blocks(data))

    assert inflated((tmp_path / "x.tbi").read_bytes()) == inflated(pack_tbi(sections))
    assert not (tmp_path / "scratch").exists()
