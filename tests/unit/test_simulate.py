"""Tests for `helgenom simulate` (the deterministic demo-trio generator)."""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from helgenom.cli.simulate import register
from helgenom.simulate import reads as sim_reads
from helgenom.simulate.demo import CONFIG_YAML, simulate
from helgenom.simulate.genome import CODON_TABLE, encode, revcomp
from helgenom.simulate.variants import MT_COPIES

SEED, SIZE_MB, DEPTH = 7, 0.3, 4.0
SAMPLES = ("demo-father", "demo-mother", "demo-proband")
SIM_TOOLS = ("samtools", "bgzip", "tabix")
REPO = Path(__file__).resolve().parents[2]
STOPS = {"TAA", "TAG", "TGA"}


def _require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} on PATH")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require(*SIM_TOOLS)
    out = tmp_path_factory.mktemp("sim_a")
    simulate(out, seed=SEED, size_mb=SIZE_MB, depth=DEPTH)
    return out


@pytest.fixture(scope="module")
def sim_same(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require(*SIM_TOOLS)
    out = tmp_path_factory.mktemp("sim_b")
    simulate(out, seed=SEED, size_mb=SIZE_MB, depth=DEPTH)
    return out


@pytest.fixture(scope="module")
def sim_other(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require(*SIM_TOOLS)
    out = tmp_path_factory.mktemp("sim_c")
    simulate(out, seed=SEED + 1, size_mb=SIZE_MB, depth=DEPTH)
    return out


# ---------------------------------------------------------------------------------------------
# parsing helpers
# ---------------------------------------------------------------------------------------------


def read_fasta(path: Path) -> tuple[dict[str, str], dict[str, list[int]]]:
    seqs: dict[str, list[str]] = {}
    widths: dict[str, list[int]] = {}
    name = ""
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            seqs[name], widths[name] = [], []
        else:
            seqs[name].append(line)
            widths[name].append(len(line))
    return {k: "".join(v) for k, v in seqs.items()}, widths


def read_tsv(path: Path) -> list[dict[str, str]]:
    header, *rows = path.read_text().rstrip("\n").split("\n")
    cols = header.split("\t")
    return [dict(zip(cols, row.split("\t"), strict=True)) for row in rows]


def read_vcf(path: Path) -> list[list[str]]:
    with gzip.open(path, "rt") as fh:
        return [line.rstrip("\n").split("\t") for line in fh if not line.startswith("#")]


def parse_gff(path: Path) -> dict[str, dict]:
    """transcript id -> {gene, name, strand, contig, exons, cds[(start, end, phase)], ...}"""
    genes: dict[str, dict[str, str]] = {}
    tx: dict[str, dict] = {}
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            continue
        f = line.split("\t")
        attrs = dict(kv.split("=", 1) for kv in f[8].split(";"))
        start, end = int(f[3]), int(f[4])
        if f[2] == "gene":
            genes[attrs["ID"]] = attrs
        elif f[2] == "mRNA":
            tx[attrs["ID"]] = {
                "gene": genes[attrs["Parent"]],
                "attrs": attrs,
                "strand": f[6],
                "contig": f[0],
                "start": start,
                "end": end,
                "exons": [],
                "cds": [],
                "utr": [],
            }
        elif f[2] == "exon":
            tx[attrs["Parent"]]["exons"].append((start, end))
        elif f[2] == "CDS":
            tx[attrs["Parent"]]["cds"].append((start, end, int(f[7])))
        elif f[2] in ("five_prime_UTR", "three_prime_UTR"):
            tx[attrs["Parent"]]["utr"].append((f[2], start, end))
    return tx


def fastq_records(path: Path) -> list[list[str]]:
    with gzip.open(path, "rt") as fh:
        lines = fh.read().splitlines()
    assert len(lines) % 4 == 0
    return [lines[i : i + 4] for i in range(0, len(lines), 4)]


def all_files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


# ---------------------------------------------------------------------------------------------
# determinism and layout
# ---------------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_outputs(sim: Path, sim_same: Path) -> None:
    files = all_files(sim)
    assert files == all_files(sim_same)
    assert len(files) >= 20
    for rel in files:
        assert (sim / rel).read_bytes() == (sim_same / rel).read_bytes(), rel


def test_other_seed_differs(sim: Path, sim_other: Path) -> None:
    for rel in ("reference/genome.fa", "truth.tsv", "fastq/demo-proband_L001_R1.fastq.gz"):
        assert (sim / rel).read_bytes() != (sim_other / rel).read_bytes(), rel


def test_written_files_and_gzip_headers(sim: Path) -> None:
    expected = {
        "reference/genome.fa",
        "reference/genome.fa.fai",
        "reference/genes.gff3",
        "reference/population.vcf.gz",
        "reference/population.vcf.gz.tbi",
        "reference/population_sv.vcf.gz",
        "reference/population_sv.vcf.gz.tbi",
        # the clinical annotation sources, in their real formats and contig naming
        "reference/clinvar.vcf.gz",
        "reference/clinvar.vcf.gz.tbi",
        "reference/gnomad.sites.vcf.gz",
        "reference/gnomad.sites.vcf.gz.tbi",
        "reference/cadd.tsv.gz",
        "reference/cadd.tsv.gz.tbi",
        "reference/revel.tsv.gz",
        "reference/revel.tsv.gz.tbi",
        "reference/spliceai.vcf.gz",
        "reference/spliceai.vcf.gz.tbi",
        "truth.tsv",
        "truth.vcf.gz",
        "truth.vcf.gz.tbi",
        "samples.tsv",
        "units.tsv",
        "config.yaml",
        "simulation.json",
    }
    for sample in SAMPLES:
        for lane in (1, 2) if sample == "demo-proband" else (1,):
            for mate in ("R1", "R2"):
                expected.add(f"fastq/{sample}_L00{lane}_{mate}.fastq.gz")
    # the earlier cases of the demo GMC's frequency database (loaded by `helgenom simulate`)
    for case in range(1, 25):
        expected |= {f"background/BG{case:02d}.{ext}" for ext in ("vcf.gz", "vcf.gz.tbi", "ped")}
    assert {str(p) for p in all_files(sim)} == expected
    assert (sim / "reference" / "freqdb").is_dir()
    for fq in (sim / "fastq").iterdir():
        header = fq.read_bytes()[:10]
        assert header[:2] == b"\x1f\x8b"
        assert header[4:8] == b"\0\0\0\0", "gzip mtime must be 0"
        assert header[3] & 0x08 == 0, "no file name in the gzip header"


def test_api_returns_written_paths(tmp_path: Path) -> None:
    _require(*SIM_TOOLS)
    paths = simulate(tmp_path, seed=3, size_mb=0.2, depth=1.0)
    assert all(isinstance(p, Path) and p.is_file() for p in paths.values())
    for key in (
        "fasta",
        "fai",
        "gff3",
        "population_vcf",
        "population_sv_vcf",
        "truth_tsv",
        "truth_vcf",
        "samples",
        "units",
        "config",
        "summary",
    ):
        assert key in paths
    assert sum(k.startswith("fastq:") for k in paths) == 8


def test_too_small_genome_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="size_mb"):
        simulate(tmp_path, size_mb=0.05)
    with pytest.raises(ValueError, match="depth"):
        simulate(tmp_path, depth=0)


def test_cli_subcommand(tmp_path: Path) -> None:
    _require(*SIM_TOOLS)
    parser = argparse.ArgumentParser(prog="helgenom")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["simulate", "--outdir", str(tmp_path / "x")])
    assert (args.seed, args.size_mb, args.depth) == (1, 1.0, 25.0)
    args = parser.parse_args(
        [
            "simulate",
            "--outdir",
            str(tmp_path / "x"),
            "--seed",
            "5",
            "--size-mb",
            "0.2",
            "--depth",
            "1",
        ]
    )
    assert args.func(args) == 0
    summary = json.loads((tmp_path / "x" / "simulation.json").read_text())
    assert summary["seed"] == 5
    assert summary["args"] == {"size_mb": 0.2, "depth": 1.0}


# ---------------------------------------------------------------------------------------------
# reference
# ---------------------------------------------------------------------------------------------


def test_fasta_contigs_gap_and_segdup(sim: Path) -> None:
    seqs, widths = read_fasta(sim / "reference/genome.fa")
    assert list(seqs) == ["chr1", "chr2", "chrX", "chrM"]  # the mitochondrion last
    assert len(seqs["chrM"]) == 16569 and "N" not in seqs["chrM"]
    total = sum(len(s) for name, s in seqs.items() if name != "chrM")
    assert total == round(SIZE_MB * 1e6)
    assert abs(len(seqs["chr1"]) / total - 0.45) < 0.01
    assert abs(len(seqs["chr2"]) / total - 0.30) < 0.01
    for name, w in widths.items():
        assert set(w[:-1]) == {60}, name
        assert 0 < w[-1] <= 60
    fai = [line.split("\t") for line in (sim / "reference/genome.fa.fai").read_text().splitlines()]
    assert [(r[0], int(r[1])) for r in fai] == [(k, len(v)) for k, v in seqs.items()]

    summary = json.loads((sim / "simulation.json").read_text())
    feats = summary["features"]
    runs = [(m.start(), m.end()) for m in re.finditer("N+", seqs["chr1"])]
    assert len(runs) == 1 and runs[0][1] - runs[0][0] >= 5000
    assert feats["n_gap"] == f"chr1:{runs[0][0] + 1}-{runs[0][1]}"
    assert "N" not in seqs["chr2"] + seqs["chrX"]

    def region(text: str) -> str:
        contig, span = text.split(":")
        a, b = (int(x) for x in span.split("-"))
        return seqs[contig][a - 1 : b]

    src, dst = region(feats["segdup_source"]), region(feats["segdup_copy"])
    assert len(src) == len(dst) >= 7000
    identity = sum(a == b for a, b in zip(src, dst, strict=True)) / len(src)
    assert 0.97 < identity < 0.995
    # GC content varies between blocks
    gc = [
        (w.count("G") + w.count("C")) / len(w)
        for w in (seqs["chr1"][i : i + 5000] for i in range(0, 100_000, 5000))
        if "N" not in w
    ]
    assert max(gc) - min(gc) > 0.08


def test_fasta_has_repeats(sim: Path) -> None:
    seqs, _ = read_fasta(sim / "reference/genome.fa")
    genome = "".join(seqs.values())
    # microsatellites: long mono/di-nucleotide runs are common
    assert len(re.findall(r"(?:A{12,}|C{12,}|G{12,}|T{12,})", genome)) >= 20
    assert (
        len(
            re.findall(
                r"(?:(AC){7,}|(AG){7,}|(AT){7,}|(CT){7,}|(GT){7,}|(TG){7,}|(CA){7,})", genome
            )
        )
        >= 5
    )
    # interspersed family: many (diverged) copies share exact 12-mers at distant loci, which
    # random sequence of this size essentially never does
    k = 12
    kmers, bins = [], []
    for offset, contig in enumerate(seqs.values()):
        codes = encode(contig).astype(np.int64)
        windows = np.lib.stride_tricks.sliding_window_view(codes, k)
        ok = (windows < 4).all(axis=1)
        weights = 4 ** np.arange(k - 1, -1, -1)
        fwd = windows @ weights
        rev = (3 - windows[:, ::-1]) @ weights
        kmers.append(np.minimum(fwd, rev)[ok])
        bins.append((np.flatnonzero(ok) // 2_000) + offset * 10**6)
    pairs = np.unique(np.stack([np.concatenate(kmers), np.concatenate(bins)]), axis=1)
    _, loci = np.unique(pairs[0], return_counts=True)
    assert (loci >= 5).sum() > 100


def test_genetic_code() -> None:
    assert len(CODON_TABLE) == 64
    assert {c for c, a in CODON_TABLE.items() if a == "*"} == STOPS
    spot = {"ATG": "M", "TGG": "W", "TTT": "F", "GGC": "G", "AAA": "K", "CAG": "Q", "ATA": "I"}
    assert all(CODON_TABLE[c] == a for c, a in spot.items())
    assert sum(a == "L" for a in CODON_TABLE.values()) == 6
    assert sum(a == "R" for a in CODON_TABLE.values()) == 6


def test_gene_models_are_valid(sim: Path) -> None:
    seqs, _ = read_fasta(sim / "reference/genome.fa")
    tx = parse_gff(sim / "reference/genes.gff3")
    mito = {tid: t for tid, t in tx.items() if t["contig"] == "chrM"}
    tx = {tid: t for tid, t in tx.items() if tid not in mito}
    assert len(tx) == 20
    names = [t["gene"]["Name"] for t in tx.values()]
    assert len(set(names)) == 20
    contigs = {t["gene"]["Name"]: t["contig"] for t in tx.values()}
    assert contigs["SCN2A"] == contigs["ALMS1"] == contigs["NRXN1"] == "chr2"
    assert contigs["USH2A"] == "chr1" and contigs["OTC"] == "chrX"
    assert {t["strand"] for t in tx.values()} == {"+", "-"}
    hgnc = set()
    for tid, t in tx.items():
        # Ensembl-style: gene:ENSG..., transcript:ENST... (99: never a real Ensembl ID), one
        # transcript per gene, tagged Ensembl_canonical, versions, and the gene's HGNC ID in
        # its description as Ensembl writes it
        assert re.fullmatch(r"transcript:ENST99\d{9}", tid)
        assert re.fullmatch(r"gene:ENSG99\d{9}", t["gene"]["ID"])
        assert t["attrs"]["transcript_id"] == tid.removeprefix("transcript:")
        assert "Ensembl_canonical" in t["attrs"]["tag"].split(",")
        assert t["attrs"]["version"] == t["gene"]["version"] == "1"
        match = re.search(r"\[Source:HGNC Symbol%3BAcc:(HGNC:\d+)\]$", t["gene"]["description"])
        assert match, t["gene"]["description"]
        hgnc.add(match.group(1))
        assert t["gene"]["biotype"] == t["attrs"]["biotype"] == "protein_coding"
        assert t["attrs"]["Name"] == t["gene"]["Name"] + "-201"
        assert 3 <= len(t["exons"]) <= 8
        seq = seqs[t["contig"]]
        minus = t["strand"] == "-"
        cds_parts = sorted(t["cds"], key=lambda c: c[0], reverse=minus)
        cds = ""
        for start, end, phase in cds_parts:
            assert phase == (3 - len(cds) % 3) % 3, (tid, "phase")
            piece = seq[start - 1 : end]
            cds += revcomp(piece) if minus else piece
        assert len(cds) % 3 == 0
        codons = [cds[i : i + 3] for i in range(0, len(cds), 3)]
        assert codons[0] == "ATG" and codons[-1] in STOPS, tid
        assert not STOPS.intersection(codons[:-1]), (tid, "premature stop")
        exons = sorted(t["exons"])
        for (_, a_end), (b_start, _) in itertools.pairwise(exons):
            intron = seq[a_end : b_start - 1]
            motif = (
                (revcomp(intron[-2:]), revcomp(intron[:2])) if minus else (intron[:2], intron[-2:])
            )
            assert motif == ("GT", "AG"), (tid, motif)
        # exons = CDS + UTRs, exactly
        covered = sum(e - s + 1 for s, e, _ in t["cds"]) + sum(e - s + 1 for _, s, e in t["utr"])
        assert covered == sum(e - s + 1 for s, e in t["exons"])
        assert {u[0] for u in t["utr"]} == {"five_prime_UTR", "three_prime_UTR"}
    assert len(hgnc) == 20
    assert {"HGNC:12601", "HGNC:10588"} <= hgnc  # USH2A, SCN2A: the real genes' HGNC IDs
    # chrM: MT-ND4 at the rCRS's place, one exon that is all CDS, translated alike by the
    # standard and the vertebrate mitochondrial code (bcftools csq knows only the former)
    ((tid, nd4),) = mito.items()
    assert nd4["gene"]["Name"] == "MT-ND4" and nd4["strand"] == "+"
    assert nd4["gene"]["description"].endswith("[Source:HGNC Symbol%3BAcc:HGNC:7459]")
    assert nd4["exons"] == [(10760, 12136)] and [c[:2] for c in nd4["cds"]] == [(10760, 12136)]
    cds = seqs["chrM"][10759:12136]
    codons = [cds[i : i + 3] for i in range(0, len(cds), 3)]
    assert codons[0] == "ATG" and codons[-1] in {"TAA", "TAG"}
    assert not {"TGA", "AGA", "AGG", "ATA"}.intersection(codons), tid
    assert not STOPS.intersection(codons[:-1])
    assert codons[339] == "CGC"  # codon 340, whose G>A at m.11778 is p.Arg340His


def test_features_keep_apart(sim: Path) -> None:
    summary = json.loads((sim / "simulation.json").read_text())
    protected = []
    for key in ("n_gap", "segdup_source", "segdup_copy"):
        contig, span = summary["features"][key].split(":")
        a, b = (int(x) for x in span.split("-"))
        protected.append((contig, a, b))
    tx = parse_gff(sim / "reference/genes.gff3")
    planted = read_tsv(sim / "truth.tsv")
    spans = [(t["contig"], t["start"], t["end"]) for t in tx.values()]
    spans += [(r["chrom"], int(r["pos"]), int(r["end"])) for r in planted]
    for contig, a, b in spans:
        for pc, pa, pb in protected:
            assert contig != pc or b + 500 < pa or a > pb + 500


# ---------------------------------------------------------------------------------------------
# variants and truth
# ---------------------------------------------------------------------------------------------


def test_truth_table(sim: Path) -> None:
    rows = read_tsv(sim / "truth.tsv")
    header = (sim / "truth.tsv").read_text().split("\n")[0].split("\t")
    assert header == [
        "id",
        "type",
        "chrom",
        "pos",
        "end",
        "ref",
        "alt",
        "gene",
        "consequence",
        "inheritance",
        "partner",
        *SAMPLES,
        "heteroplasmy",
    ]
    by_gene = {(r["gene"], r["inheritance"]): r for r in rows}
    assert len(rows) == 12
    mt = by_gene[("MT-ND4", "MT")]
    assert (mt["type"], mt["chrom"], mt["pos"], mt["ref"], mt["alt"]) == (
        "MT", "chrM", "11778", "G", "A")
    assert mt["heteroplasmy"] == "demo-father:0,demo-mother:0.1,demo-proband:0.4"
    assert {r["heteroplasmy"] for r in rows if r is not mt} == {"."}
    assert by_gene[("SCN2A", "AD_dn")]["consequence"] == "missense"
    assert by_gene[("ALMS1", "AR_hom")]["consequence"] == "stop_gained"
    assert by_gene[("OTC", "XR")]["chrom"] == "chrX"
    comp = [r for r in rows if r["inheritance"] == "AR_comp"]
    assert {r["gene"] for r in comp} == {"USH2A", "MUTYH"}
    assert {(r["type"], r["consequence"]) for r in comp} == {
        ("SNV", "missense"), ("SNV", "stop_gained"), ("DEL", "transcript_ablation")}
    assert {r["partner"] for r in comp} == {r["id"] for r in comp}
    seqs, _ = read_fasta(sim / "reference/genome.fa")
    tx = parse_gff(sim / "reference/genes.gff3")

    def gene_span(symbol: str) -> tuple[int, int]:
        t = next(t for t in tx.values() if t["gene"]["Name"] == symbol)
        return min(s for s, _ in t["exons"]), max(e for _, e in t["exons"])

    dels = [r for r in rows if r["type"] == "DEL"]
    assert {r["inheritance"] for r in dels} == {"inherited_paternal", "de_novo", "AR_comp"}
    for r in dels:
        size = int(r["end"]) - int(r["pos"])
        assert r["alt"] == "<DEL>"
        assert r["ref"] == seqs[r["chrom"]][int(r["pos"]) - 1]
        if r["inheritance"] == "de_novo":
            assert 4500 <= size <= 5500 and r["gene"] == "NRXN1" and r["consequence"] == "."
            nrxn1 = next(t for t in tx.values() if t["gene"]["Name"] == "NRXN1")
            assert any(int(r["pos"]) < s and e <= int(r["end"]) for s, e in nrxn1["exons"])
        elif r["inheritance"] == "AR_comp":  # the whole gene and flanks
            start, end = gene_span(r["gene"])
            assert int(r["pos"]) < start and end < int(r["end"])
            snv = next(x for x in rows if x["id"] == r["partner"])
            assert int(r["pos"]) < int(snv["pos"]) <= int(r["end"])
        else:
            assert 2500 <= size <= 3500 and r["consequence"] == "."
            assert r["chrom"] == "chr1"
    dups = {r["id"]: r for r in rows if r["type"] == "DUP"}
    assert set(dups) == {"TTN_dup_dn", "BMPR2_dup_pat"}
    exon_dup, gain = dups["TTN_dup_dn"], dups["BMPR2_dup_pat"]
    ttn = next(t for t in tx.values() if t["gene"]["Name"] == "TTN")
    # the exon duplication: breakpoints in introns, at least one whole exon copied
    assert any(int(exon_dup["pos"]) < s and e <= int(exon_dup["end"]) for s, e in ttn["exons"])
    assert not any(s <= int(exon_dup["pos"]) <= e or s <= int(exon_dup["end"]) <= e
                   for s, e in ttn["exons"])
    start, end = gene_span("BMPR2")
    assert int(gain["pos"]) < start and end < int(gain["end"])
    assert int(gain["end"]) - int(gain["pos"]) >= 5000  # depth-callable at 1-kb bins
    assert (exon_dup["inheritance"], gain["inheritance"]) == ("de_novo", "inherited_paternal")
    for r in rows:
        if r["type"] == "SNV":
            assert r["pos"] == r["end"] and r["ref"] == seqs[r["chrom"]][int(r["pos"]) - 1]
            assert r["alt"] in "ACGT" and r["alt"] != r["ref"]


def _alleles(gt: str) -> list[str]:
    return gt.replace("|", "/").split("/")


def test_truth_genotypes_follow_inheritance(sim: Path) -> None:
    rows = {r["id"]: r for r in read_tsv(sim / "truth.tsv")}
    for r in rows.values():
        f, m, p = (r[s] for s in SAMPLES)
        model = r["inheritance"]
        if model == "MT":  # heteroplasmic (0/1) in the maternal line, absent (0) in the father
            assert (f, m, p) == ("0", "0/1", "0/1")
            continue
        if r["chrom"] == "chrX":
            assert len(_alleles(f)) == 1 and len(_alleles(p)) == 1  # hemizygous males
            assert len(_alleles(m)) == 2
            # a son's X comes from his mother
            assert p in _alleles(m)
        else:
            pa, pb = _alleles(p)
            transmitted = (pa in _alleles(f) and pb in _alleles(m)) or (
                pb in _alleles(f) and pa in _alleles(m)
            )
            # an SNV opposite a deletion: one copy, from one parent (checked below)
            over_deletion = r["partner"] in rows and rows[r["partner"]]["type"] == "DEL"
            assert transmitted or over_deletion or model in ("AD_dn", "de_novo"), r["id"]
        if model in ("AD_dn", "de_novo"):
            assert (f, m, p) == ("0/0", "0/0", "0/1")
        elif model == "AR_hom":
            assert (f, m, p) == ("0/1", "0/1", "1/1")
        elif model == "XR":
            assert (f, m, p) == ("0", "0/1", "1")
        elif model == "inherited_paternal":
            assert (f, m, p) == ("0/1", "0/0", "0/1")
        elif model == "AR_comp":
            other = rows[r["partner"]]
            assert other["partner"] == r["id"] and other["gene"] == r["gene"]
            if "DEL" in (r["type"], other["type"]):
                # the SNV is the proband's only copy of the gene: called 1/1
                snv = r if r["type"] == "SNV" else other
                assert snv["demo-proband"] == "1/1"
                assert (r if snv is other else other)["demo-proband"] == "0/1"
                continue
            assert p == other["demo-proband"] == "0/1"
            # one allele from each parent, in trans
            assert {(f, m), (other["demo-father"], other["demo-mother"])} == {
                ("0/1", "0/0"),
                ("0/0", "0/1"),
            }
        else:
            pytest.fail(f"unknown inheritance {model}")


def test_truth_vcf_matches_table(sim: Path) -> None:
    rows = {r["id"]: r for r in read_tsv(sim / "truth.tsv") if r["type"] in ("SNV", "MT")}
    records = read_vcf(sim / "truth.vcf.gz")
    assert len(records) == len(rows) == 7
    with gzip.open(sim / "truth.vcf.gz", "rt") as fh:
        header = next(line for line in fh if line.startswith("#CHROM")).split()
    assert header[9:] == list(SAMPLES)
    for rec in records:
        row = rows[rec[2]]
        assert (rec[0], rec[1], rec[3], rec[4]) == (
            row["chrom"],
            row["pos"],
            row["ref"],
            row["alt"],
        )
        assert rec[8] == "GT"
        assert rec[9:] == [row[s] for s in SAMPLES]


def test_csq_gives_stated_consequences(sim: Path) -> None:
    _require("bcftools")
    ref = sim / "reference/genome.fa"
    out = subprocess.run(
        [
            "bcftools",
            "csq",
            "-f",
            str(ref),
            "-g",
            str(sim / "reference/genes.gff3"),
            "-p",
            "a",
            str(sim / "truth.vcf.gz"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "Indexed 21 transcripts" in out.stderr
    rows = {r["id"]: r for r in read_tsv(sim / "truth.tsv") if r["type"] in ("SNV", "MT")}
    seen = set()
    for line in out.stdout.splitlines():
        if line.startswith("#"):
            continue
        f = line.split("\t")
        info = dict(kv.split("=", 1) for kv in f[7].split(";") if "=" in kv)
        csq = [c.split("|") for c in info["BCSQ"].split(",")]
        row = rows[f[2]]
        assert [(c[0], c[1]) for c in csq] == [(row["consequence"], row["gene"])], (f[2], csq)
        seen.add(f[2])
    assert seen == set(rows)


def test_population_vcf(sim: Path) -> None:
    seqs, _ = read_fasta(sim / "reference/genome.fa")
    with gzip.open(sim / "reference/population.vcf.gz", "rt") as fh:
        header = [line for line in fh if line.startswith("##")]
    assert header[0] == "##fileformat=VCFv4.2\n"
    assert any(h.startswith("##INFO=<ID=GNOMADAF,Number=A,Type=Float") for h in header)
    assert sum(h.startswith("##contig=<ID=") for h in header) == 4
    records = read_vcf(sim / "reference/population.vcf.gz")
    planted = read_tsv(sim / "truth.tsv")
    summary = json.loads((sim / "simulation.json").read_text())
    gap = summary["features"]["n_gap"].split(":")[1].split("-")
    order = {"chr1": 0, "chr2": 1, "chrX": 2, "chrM": 3}
    keys = [(order[r[0]], int(r[1])) for r in records]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    n_indel = 0
    indel_sizes = []  # alt length - ref length
    afs = []
    for chrom, pos_s, _, ref, alt, _, _, info in records:
        pos = int(pos_s)
        assert seqs[chrom][pos - 1 : pos - 1 + len(ref)] == ref
        assert ref != alt and set(ref + alt) <= set("ACGT")
        if len(ref) != len(alt):
            n_indel += 1
            assert ref[0] == alt[0] and min(len(ref), len(alt)) == 1  # anchored
            changed = ref if len(ref) > len(alt) else alt
            assert changed[0] != changed[-1], "indel is not left-aligned"
            indel_sizes.append(len(alt) - len(ref))
        af = float(info.removeprefix("GNOMADAF="))
        afs.append(af)
        assert 0.001 <= af <= 0.6
        for p in planted:
            if p["chrom"] == chrom:
                assert pos + len(ref) - 1 < int(p["pos"]) - 300 or pos > int(p["end"]) + 300
        if chrom == "chr1":
            assert pos + len(ref) <= int(gap[0]) or pos > int(gap[1])
    assert 0.05 < n_indel / len(records) < 0.15
    # insertions and deletions alike, 1-10 bp, short ones commonest (weights 1/length^1.5)
    sizes = np.abs(indel_sizes)
    assert min(indel_sizes) < 0 < max(indel_sizes) and sizes.max() <= 10
    assert np.mean(sizes == 1) > 0.3 and np.mean(sizes > 1) > 0.2
    assert 0.05 < np.mean(np.array(afs) < 0.01) < 0.3
    # every planted variant is absent from the population
    sites = {(r[0], r[1]) for r in records}
    assert not any((p["chrom"], p["pos"]) in sites for p in planted)
    # about one variant per 1.2 kb and haplotype: ~2 x 0.3 Mb / 1.2 kb per diploid sample
    counts = summary["background_variants_per_sample"]
    assert 200 < counts["demo-father"] < 600 and 200 < counts["demo-mother"] < 600


def test_population_vcf_bcftools_norm_check(sim: Path) -> None:
    _require("bcftools")
    out = subprocess.run(
        [
            "bcftools",
            "norm",
            "--check-ref",
            "e",
            "-f",
            str(sim / "reference/genome.fa"),
            "-Ou",
            "-o",
            "/dev/null",
            str(sim / "reference/population.vcf.gz"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    counts = re.search(r"(\d+)/(\d+)/(\d+)/(\d+)", out.stderr)
    assert counts is not None
    assert counts.group(3) == "0", "bcftools norm had to realign indels"


# ---------------------------------------------------------------------------------------------
# reads
# ---------------------------------------------------------------------------------------------

HEADER = re.compile(r"^@HGSIM:1:HGFC001:(\d):(\d{4}):(\d+):(\d+) ([12]):N:0:ACGTACGT$")


def test_fastq_pairs(sim: Path) -> None:
    summary = json.loads((sim / "simulation.json").read_text())
    units = read_tsv(sim / "units.tsv")
    names_seen: set[str] = set()
    for unit in units:
        r1 = fastq_records(sim / unit["fq1"])
        r2 = fastq_records(sim / unit["fq2"])
        assert len(r1) == len(r2) == summary["read_pairs"][f"{unit['sample']}/{unit['unit']}"]
        lane = unit["unit"][-1]
        for a, b in zip(r1, r2, strict=True):
            ma, mb = HEADER.match(a[0]), HEADER.match(b[0])
            assert ma and mb, (a[0], b[0])
            assert ma.group(1) == lane and ma.group(5) == "1" and mb.group(5) == "2"
            assert a[0].split()[0] == b[0].split()[0]
            for rec in (a, b):
                assert len(rec[1]) == len(rec[3]) == 150 and rec[2] == "+"
                assert set(rec[1]) <= set("ACGTN")
                assert set(rec[3]) <= {chr(q + 33) for q in sim_reads.QUALITY_BINS}
            names_seen.add(a[0].split()[0])
        # N calls carry the lowest score
        for rec in r1[:500]:
            for base, q in zip(rec[1], rec[3], strict=True):
                assert (base == "N") == (q == "#")
    total = sum(summary["read_pairs"].values())
    assert len(names_seen) == total, "read names must be unique across units"


def test_fastq_depth_adapters(sim: Path) -> None:
    summary = json.loads((sim / "simulation.json").read_text())
    pairs = summary["read_pairs"]
    size = sum(n for name, n in summary["contigs"].items() if name != "chrM")
    # chrM: MT_COPIES molecules per nuclear haplotype (with the same 4% duplicates)
    mito = summary["contigs"]["chrM"] * MT_COPIES * DEPTH / 2 / 300 / (1 - 0.04)
    female = (pairs["demo-mother/L001"] - mito) * 300 / size
    assert DEPTH * 0.9 < female < DEPTH * 1.2
    # a male has one X: fewer reads than a female
    male = pairs["demo-father/L001"] - mito
    x_share = summary["contigs"]["chrX"] / size
    assert male == pytest.approx((pairs["demo-mother/L001"] - mito) * (1 - x_share / 2),
                                 rel=0.03)
    proband = pairs["demo-proband/L001"] + pairs["demo-proband/L002"] - mito
    assert proband == pytest.approx(male, rel=0.03)
    r1 = fastq_records(sim / "fastq/demo-mother_L001_R1.fastq.gz")
    r2 = fastq_records(sim / "fastq/demo-mother_L001_R2.fastq.gz")
    with_adapter1 = sum(sim_reads.ADAPTER_R1[:20] in rec[1] for rec in r1) / len(r1)
    with_adapter2 = sum(sim_reads.ADAPTER_R2[:20] in rec[1] for rec in r2) / len(r2)
    assert 0.01 < with_adapter1 < 0.04
    assert 0.01 < with_adapter2 < 0.04


def _error_free(
    template: sim_reads.Template, frags: sim_reads.Fragments, forward: np.ndarray, adapter: str
) -> np.ndarray:
    zero = tuple(np.zeros(150, dtype=np.float32) for _ in range(3))
    bases, _ = sim_reads._read_codes(
        np.random.default_rng(0),
        template,
        frags,
        forward,
        encode(adapter),
        zero,
        np.zeros(len(frags), dtype=np.float32),
    )
    return bases


def test_read_geometry_and_adapters() -> None:
    rng = np.random.default_rng(11)
    hap = rng.integers(0, 4, size=5000).astype(np.uint8)
    template = sim_reads.make_template([hap])
    off = template.offsets[0]
    frags = sim_reads.Fragments(
        start=np.array([off + 100, off + 1000, off + 2000]),
        length=np.array([400, 100, 400]),
        flip=np.array([False, False, True]),
    )
    r1 = _error_free(template, frags, ~frags.flip, sim_reads.ADAPTER_R1)
    r2 = _error_free(template, frags, frags.flip, sim_reads.ADAPTER_R2)
    as_str = ["".join("ACGTN"[c] for c in row) for row in (*r1, *r2)]
    text = "".join("ACGTN"[c] for c in hap)
    # forward fragment: R1 = start of the fragment, R2 = reverse complement of its end
    assert as_str[0] == text[100:250]
    assert as_str[3] == revcomp(text[350:500])
    # short insert: the read runs into the adapter after 100 bases
    assert as_str[1][:100] == text[1000:1100]
    assert as_str[1][100:133] == sim_reads.ADAPTER_R1
    assert as_str[4][:100] == revcomp(text[1000:1100])
    assert as_str[4][100:133] == sim_reads.ADAPTER_R2
    # flipped fragment: R1 reads the reverse strand from the fragment's end
    assert as_str[2] == revcomp(text[2250:2400])
    assert as_str[5] == text[2000:2150]


def test_error_profile_matches_qualities() -> None:
    rng = np.random.default_rng(3)
    hap = rng.integers(0, 4, size=100_000).astype(np.uint8)
    template = sim_reads.make_template([hap])
    frags = sim_reads.sample_fragments(rng, template, 40.0)
    frags.length[:] = np.maximum(frags.length, 200)  # no adapters here
    quality = sim_reads.cluster_quality(rng, len(frags))
    profile = {}
    for mate, scale, forward, adapter in (
        ("R1", 1.0, ~frags.flip, sim_reads.ADAPTER_R1),
        ("R2", sim_reads.R2_ERROR_SCALE, frags.flip, sim_reads.ADAPTER_R2),
    ):
        truth = _error_free(template, frags, forward, adapter)
        bases, qual = sim_reads._read_codes(
            rng,
            template,
            frags,
            forward,
            encode(adapter),
            sim_reads.quality_thresholds(scale),
            quality,
        )
        called = bases != 4
        wrong = (bases != truth) & called
        first, last = wrong[:, :10].mean(), wrong[:, -10:].mean()
        assert 0.0005 < first < 0.002, (mate, first)
        assert 0.006 < last < 0.015, (mate, last)
        # the qualities predict the observed error rate
        predicted = (10 ** (-qual[called].astype(float) / 10)).mean()
        assert predicted == pytest.approx(wrong[called].mean(), rel=0.1)
        # lower scores towards the end of the read
        assert qual[:, -10:].mean() < qual[:, :10].mean()
        profile[mate] = last
    assert profile["R2"] > profile["R1"]


def test_fragments_duplicates_and_no_n() -> None:
    rng = np.random.default_rng(5)
    hap = rng.integers(0, 4, size=60_000).astype(np.uint8)
    hap[20_000:25_000] = 4
    template = sim_reads.make_template([hap, hap[:30_000].copy()])
    frags = sim_reads.sample_fragments(rng, template, 10.0)
    ends = frags.start + frags.length
    assert np.all(template.n_prefix[ends] == template.n_prefix[frags.start])
    # duplicates repeat a molecule (start, length) in the same orientation
    keys = np.stack([frags.start, frags.length, frags.flip.astype(np.int64)])
    _, counts = np.unique(keys, axis=1, return_counts=True)
    dup_fraction = (counts - 1).sum() / len(frags)
    assert 0.03 < dup_fraction < 0.05
    short = np.mean(frags.length < 150)
    assert 0.015 < short < 0.04
    assert abs(np.median(frags.length) - 350) < 15
    # depth: 10x per haplotype over 90 kb of haplotype sequence
    assert len(frags) * 300 / 90_000 == pytest.approx(10 / 0.96, rel=0.05)


# ---------------------------------------------------------------------------------------------
# sheets and config
# ---------------------------------------------------------------------------------------------


def test_samples_units_config(sim: Path) -> None:
    samples = read_tsv(sim / "samples.tsv")
    assert (sim / "samples.tsv").read_text().split("\n")[0] == (
        "family\tsample\tsex\tphenotype\tfather\tmother\tgmc\thpo"
    )
    assert [(s["sample"], s["sex"], s["phenotype"]) for s in samples] == [
        ("demo-father", "male", "unaffected"),
        ("demo-mother", "female", "unaffected"),
        ("demo-proband", "male", "affected"),
    ]
    proband = samples[2]
    assert (proband["father"], proband["mother"]) == ("demo-father", "demo-mother")
    assert proband["hpo"] == "HP:0001250,HP:0001263"
    assert all(s["family"] == "DEMO" and s["gmc"] == "demo" for s in samples)
    assert samples[0]["hpo"] == samples[0]["father"] == samples[0]["mother"] == ""

    units = read_tsv(sim / "units.tsv")
    assert [(u["sample"], u["unit"]) for u in units] == [
        ("demo-father", "L001"),
        ("demo-mother", "L001"),
        ("demo-proband", "L001"),
        ("demo-proband", "L002"),
    ]
    for u in units:
        assert u["fq1"] == f"fastq/{u['sample']}_{u['unit']}_R1.fastq.gz"
        assert u["fq2"] == f"fastq/{u['sample']}_{u['unit']}_R2.fastq.gz"

    text = (sim / "config.yaml").read_text()
    assert text == CONFIG_YAML
    config = yaml.safe_load(text)
    assert config["reference"]["fasta"] == "reference/genome.fa"
    assert config["annotation"]["population_vcf"] == "reference/population.vcf.gz"
    for key in ("samples", "units"):
        assert (sim / config[key]).is_file()
    assert (sim / config["reference"]["gff3"]).is_file()
    schema_path = REPO / "schemas" / "config.schema.yaml"
    if schema_path.is_file():
        import jsonschema

        jsonschema.validate(config, yaml.safe_load(schema_path.read_text()))
