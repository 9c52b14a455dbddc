"""Small-variant calling scattered within chromosomes (calling.scatter_mb): the jobs a
GRCh38-like reference plans (primaries only, no chrM, chrY only in a family with a male), and
real runs on the demo trio where regions cut at N runs, at plain positions and right at or
inside called variants give the records of calling per contig."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from helgenom.io import regions
from helgenom.io.reference import read_fai
from helpers import WORKFLOW_TOOLS, need_tools, snakemake

PRIMARY = [*(f"chr{n}" for n in range(1, 23)), "chrX", "chrY"]
EXTRA = ["chr1_KI270706v1_random", "chrUn_KI270302v1", "chr1_KI270762v1_alt",
         "HLA-A*01:01:01:01", "chrEBV"]


# --- planning on a GRCh38-like reference ----------------------------------------------------


def write_grch38_like(fasta: Path, keep: dict[str, int]) -> None:
    """chr1..22, X, Y, M and non-primary contigs; `keep`: lengths of the demo's contigs (its
    annotation sources name them), 40 kb for the other primaries; N runs at the start
    (a telomere) and a 3 kb gap at 2/5 of each primary."""
    lines = []
    for name in [*PRIMARY[:22], "chrX", "chrY", "chrM", *EXTRA]:
        length = keep.get(name, 40_000 if name in PRIMARY else 5_000)
        bases = ["ACGTTGCA"[(i * 7 + len(name)) % 8] for i in range(length)]
        if name in PRIMARY:
            bases[:2000] = "N" * 2000
            gap = length * 2 // 5
            bases[gap - 1500:gap + 1500] = "N" * 3000
        seq = "".join(bases)
        lines.append(f">{name}\n" + "\n".join(seq[i:i + 60] for i in range(0, length, 60)))
    fasta.write_text("\n".join(lines) + "\n")
    subprocess.run(["samtools", "faidx", str(fasta)], check=True)


JOB = re.compile(r"joint calling of family (\S+) in region (\S+) \(([^:]+):(\d+)-(\d+)\)")


def planned_regions(stdout: str) -> dict[str, set[str]]:
    """family -> regions of the calling jobs of a run's or dry-run's output."""
    found: dict[str, set[str]] = {}
    for match in JOB.finditer(stdout):
        found.setdefault(match.group(1), set()).add(match.group(2))
    return found


def called_regions(stdout: str) -> list[tuple[str, int, int]]:
    """(contig, start, end) of the calling jobs (1-based, inclusive)."""
    return sorted((m.group(3), int(m.group(4)), int(m.group(5))) for m in JOB.finditer(stdout))


def test_a_grch38_like_reference_plans_regions_on_primaries_and_chry_only_with_a_male(
        small_demo, tmp_path):
    need_tools("samtools")
    workdir = tmp_path / "run"
    shutil.copytree(small_demo, workdir, ignore=shutil.ignore_patterns(".snakemake"))
    fasta = workdir / "reference" / "genome.fa"
    keep = dict(read_fai(Path(f"{fasta}.fai")))
    for name in list(fasta.parent.glob("genome.fa.*")):
        name.unlink()
    write_grch38_like(fasta, keep)
    # A second family: one woman (her FASTQs are copies of the mother's).
    for mate in ("R1", "R2"):
        shutil.copy(workdir / f"fastq/demo-mother_L001_{mate}.fastq.gz",
                    workdir / f"fastq/solo-woman_L001_{mate}.fastq.gz")
    with (workdir / "samples.tsv").open("a") as sheet:
        sheet.write("SOLO\tsolo-woman\tfemale\taffected\t\t\tdemo\t\n")
    with (workdir / "units.tsv").open("a") as sheet:
        sheet.write("solo-woman\tL001\tfastq/solo-woman_L001_R1.fastq.gz\t"
                    "fastq/solo-woman_L001_R2.fastq.gz\n")
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["calling"]["scatter_mb"] = 0.02  # 40 kb contigs: 2 regions each
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    result = snakemake(workdir, "--dry-run", "--cores", "2", configfile=configfile)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    planned = planned_regions(result.stdout)
    assert set(planned) == {"DEMO", "SOLO"}
    contig_of = {name: name.rsplit(".", 1)[0] for names in planned.values() for name in names}
    assert set(contig_of.values()) == set(PRIMARY)  # no chrM, alt, HLA, EBV, Un, random
    assert {contig_of[r] for r in planned["DEMO"]} == set(PRIMARY)
    assert {contig_of[r] for r in planned["SOLO"]} == set(PRIMARY) - {"chrY"}
    assert planned["SOLO"] == {r for r in planned["DEMO"] if contig_of[r] != "chrY"}
    # The N runs were found once and cached next to the FASTA; a 40 kb contig is 2 regions,
    # cut in the middle of the gap 4 kb from the target (20 kb), not at the telomere.
    cache = Path(f"{fasta}.ngaps.bed")
    assert cache.is_file() and "chr5\t0\t2000\nchr5\t14500\t17500\n" in cache.read_text()
    chr5 = [r for r in called_regions(result.stdout) if r[0] == "chr5"]
    assert chr5 == sorted([("chr5", 1, 16_000), ("chr5", 16_001, 40_000)] * 2)  # both families
    # The gather takes the family's regions in the FASTA's order.
    gather = next(line for line in result.stdout.splitlines()
                  if "helgenom gather-calls --out calling/bcftools/SOLO.bcf" in line)
    parts = re.findall(r"calling/bcftools/SOLO/(\S+)\.bcf", gather)
    assert parts == sorted(parts, key=lambda r: (PRIMARY.index(contig_of[r]), r))


# --- real runs on the demo ------------------------------------------------------------------

SCATTER_MB = 0.05  # 50 kb regions: 9 on chr1 (450 kb), 6 on chr2, 5 on chrX
# N runs planted into the demo's FASTA near region targets: the cuts there fall in them.
PLANTED_N = [("chr1", 99_200, 1_500), ("chr2", 150_500, 2_000), ("chrX", 101_000, 1_200)]


def query(vcf: Path, fmt: str) -> list[str]:
    return subprocess.run(["bcftools", "query", "-f", fmt, str(vcf)], check=True,
                          capture_output=True, text=True).stdout.splitlines()


def records(vcf: Path) -> list[str]:
    """Every record line, whole (samples in their header order)."""
    return subprocess.run(["bcftools", "view", "-H", str(vcf)], check=True,
                          capture_output=True, text=True).stdout.splitlines()


@pytest.fixture(scope="module")
def aligned_demo(tmp_path_factory):
    """The demo trio with N runs planted in its reference, aligned once."""
    need_tools(*WORKFLOW_TOOLS)
    from helgenom.simulate.demo import simulate

    workdir = tmp_path_factory.mktemp("scatter")
    paths = simulate(workdir, seed=1)
    fasta = paths["fasta"]
    contigs = {}
    for chunk in fasta.read_text().split(">")[1:]:
        name, _, seq = chunk.partition("\n")
        contigs[name] = seq.replace("\n", "")
    for name, start, length in PLANTED_N:
        seq = contigs[name]
        contigs[name] = seq[:start] + "N" * length + seq[start + length:]
    fasta.write_text("".join(f">{name}\n" + "".join(seq[i:i + 60] + "\n"
                                                   for i in range(0, len(seq), 60))
                             for name, seq in contigs.items()))
    subprocess.run(["samtools", "faidx", str(fasta)], check=True)
    samples = ["demo-father", "demo-mother", "demo-proband"]
    targets = [f"results/alignment/{s}.bam{ext}" for s in samples for ext in ("", ".bai")]
    result = snakemake(workdir, "--cores", "2", *targets)
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


def call(workdir: Path, caller: str, scatter_mb: float, name: str) -> tuple[Path, str]:
    """The family's gathered calls with this caller and scatter size, copied to `name`; and
    the run's output (its jobs' messages)."""
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["calling"].update({"snv_caller": caller, "scatter_mb": scatter_mb})
    configfile = workdir / f"{name}.yaml"
    configfile.write_text(yaml.safe_dump(config))
    gathered = workdir / "calling" / caller / "DEMO.bcf"
    for stale in (gathered, Path(f"{gathered}.csi")):
        stale.unlink(missing_ok=True)
    result = snakemake(workdir, "--cores", "2", "--printshellcmds",
                       f"calling/{caller}/DEMO.bcf", configfile=configfile)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = workdir / f"{name}.bcf"
    shutil.copy(gathered, out)
    return out, result.stdout + result.stderr


def cut_at_variants(workdir: Path, calls: Path) -> list[tuple[str, int, str]]:
    """Cache N 'runs' (2 bp) so that the splitter cuts each region at a variant of `calls`
    near its target: right before one (it starts a region), right after (it ends one) and
    inside an indel's REF; returns (contig, cut, kind)."""
    fasta = workdir / "reference" / "genome.fa"
    lengths = dict(read_fai(Path(f"{fasta}.fai")))
    size = regions.scatter_size(SCATTER_MB)
    called = [line.split("\t") for line in query(calls, "%CHROM\t%POS\t%REF\t%ALT\n")]
    gaps: dict[str, list[tuple[int, int]]] = {name: [] for name in lengths}
    cuts = []
    kinds = ("before", "at", "inside")
    for contig, length in lengths.items():
        pieces = round(length / size) if length >= 1.5 * size else 1
        mine = [(int(pos), ref, alt) for chrom, pos, ref, alt in called if chrom == contig]
        for i in range(1, pieces):
            target = round(i * length / pieces)
            kind = kinds[len(cuts) % 3]
            near = [v for v in mine if abs(v[0] - target) < size * 0.2]
            indels = [v for v in near if len(v[1]) > 1]
            pos, ref, _ = min((indels if kind == "inside" and indels else near),
                              key=lambda v: abs(v[0] - target))
            cut = {"before": pos - 1, "at": pos,
                   "inside": pos + max(1, len(ref) // 2) if len(ref) > 1 else pos}[kind]
            gaps[contig].append((cut - 1, cut + 1))
            cuts.append((contig, cut, kind))
    stamp = regions._stamp(fasta, regions.MIN_GAP)
    regions._write_cache(Path(f"{fasta}{regions.CACHE_SUFFIX}"), stamp, gaps, lengths)
    return cuts


@pytest.mark.e2e
def test_bcftools_regions_give_the_records_of_calling_per_contig(aligned_demo):
    workdir = aligned_demo
    per_contig, stdout = call(workdir, "bcftools", 0, "per-contig")
    assert len(called_regions(stdout)) == 3  # chr1, chr2, chrX
    expected = records(per_contig)
    assert len(expected) > 1000

    # Cuts at the planted N runs (their middles) and, elsewhere, at plain positions.
    scattered, stdout = call(workdir, "bcftools", SCATTER_MB, "scattered")
    found = called_regions(stdout)
    assert len(found) == 20
    ends = {(contig, end) for contig, _, end in found}
    assert {(c, s + n // 2) for c, s, n in PLANTED_N} <= ends
    assert ("chr1", 50_000) in ends  # no gap near: the target itself
    assert records(scattered) == expected

    # Cuts right before, at and inside called variants (indels among them).
    cuts = cut_at_variants(workdir, per_contig)
    assert {kind for _, _, kind in cuts} == {"before", "at", "inside"}
    at_variants, stdout = call(workdir, "bcftools", SCATTER_MB, "at-variants")
    ends = {(contig, end) for contig, _, end in called_regions(stdout)}
    assert {(contig, cut) for contig, cut, _ in cuts} <= ends
    assert records(at_variants) == expected


@pytest.mark.e2e
def test_freebayes_regions_keep_every_site_once(aligned_demo):
    """freebayes' QUAL depends on where its run starts along a contig (a state carried from
    site to site, not an edge effect: it persists across N runs; freebayes issues #88, #507),
    so scattered freebayes calls are the per-contig sites, each once, with the same alleles
    and genotypes but at the rare multi-allelic repeat, and QUALs that may differ."""
    need_tools("freebayes")
    workdir = aligned_demo
    per_contig, _ = call(workdir, "freebayes", 0, "fb-per-contig")
    cuts = cut_at_variants(workdir, per_contig)
    at_variants, stdout = call(workdir, "freebayes", SCATTER_MB, "fb-at-variants")
    assert len(called_regions(stdout)) == 20
    fields = "%CHROM\t%POS\t%REF\t%ALT[\t%SAMPLE=%GT]\n"
    before = [line.split("\t") for line in query(per_contig, fields)]
    after = [line.split("\t") for line in query(at_variants, fields)]
    assert [r[:3] for r in after] == [r[:3] for r in before]  # same sites, in order, once
    assert len(before) > 1000 and len(cuts) == 17
    differing = [(b, a) for b, a in zip(before, after, strict=True)
                 if b[3] != a[3] or sorted(b[4:]) != sorted(a[4:])]
    assert len(differing) <= len(before) // 500, differing
