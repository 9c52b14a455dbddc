"""`helgenom simulate`: a deterministic, self-contained WGS demo trio.

Writes a small synthetic reference (three contigs with GC blocks, microsatellites, an
interspersed repeat family, a segmental duplication and an N gap, and a mitochondrial chrM
last), an Ensembl-style GFF3 with ~20 real disease-gene symbols and MT-ND4 on chrM, a
population allele-frequency VCF, 2x150 paired-end reads for a father/mother/affected-son
trio with planted causal variants (a heteroplasmic chrM one among them), their truth set,
and the sample sheets and config to run the workflow on it. The same seed and arguments
always give byte-identical files. `--scenario` plants a QC failure (sample swap, sex
mismatch, contamination, low depth; see `helgenom.simulate.scenarios`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np

from helgenom import __version__
from helgenom.simulate.background import plant_artefact, write_background
from helgenom.simulate.genome import (
    CHRM,
    MIN_SIZE_MB,
    Interval,
    Reference,
    add_mitochondrion,
    build_reference,
    write_fasta,
    write_gff3,
)
from helgenom.simulate.reads import make_template, sample_fragments, write_unit
from helgenom.simulate.scenarios import SCENARIOS, Sequenced, check_scenario, sequencing_plan
from helgenom.simulate.sources import write_demo_sources
from helgenom.simulate.variants import (
    FATHER,
    MALE,
    MOTHER,
    PROBAND,
    SAMPLES,
    Trio,
    build_trio,
    haplotype_sequence,
    plant_mitochondrial,
    population_sv_vcf_text,
    population_vcf_text,
    truth_tsv_text,
    truth_vcf_text,
)

FAMILY = "DEMO"
GMC = "demo"
PROBAND_HPO = "HP:0001250,HP:0001263"  # seizure, global developmental delay
REQUIRED_TOOLS = ("samtools", "bgzip", "tabix")

# Lanes per sample, and the tile surface digit that keeps cluster names unique per lane.
UNITS: dict[str, tuple[int, ...]] = {FATHER: (1,), MOTHER: (1,), PROBAND: (1, 2)}
_TILE_SURFACE = {FATHER: 11, MOTHER: 12, PROBAND: 21}
_MITO_TILE_SURFACE = {FATHER: 13, MOTHER: 14, PROBAND: 23}  # chrM's reads

CONFIG_YAML = """\
samples: samples.tsv
units: units.tsv
gmc: ""
reference:
  fasta: reference/genome.fa
  gff3: reference/genes.gff3
  par: []
  chrx: chrX
  chry: chrY
  contigs: []
annotation:
  population_vcf: reference/population.vcf.gz
  population_af_tag: GNOMADAF
  population_sv_vcf: reference/population_sv.vcf.gz
  population_sv_af_tag: AF
  # Simulated clinical sources in their real formats (helgenom.simulate.sources); gnomAD's
  # AF is not taken (population_vcf above writes GNOMADAF).
  clinvar: {path: reference/clinvar.vcf.gz}
  gnomad: {path: reference/gnomad.sites.vcf.gz, af: ""}
  cadd: {path: reference/cadd.tsv.gz}
  revel: {path: reference/revel.tsv.gz}
  spliceai: {path: reference/spliceai.vcf.gz}
freqdb:
  # The demo GMC's frequency database: 24 simulated earlier families, loaded by
  # `helgenom simulate`; the run adds DEMO to it at the end.
  path: reference/freqdb
alignment:
  cram: false
calling:
  snv_caller: bcftools
  sv_callers: [delly, tiddit, cnv]
  min_mapq: 20
  min_baseq: 13
prioritisation:
  max_population_af: 0.01
  gates:
    min_gq: 20
    min_dp: 6
    het_ab_min: 0.2
    het_ab_max: 0.8
    homref_max_alt_fraction: 0.02
    homalt_min_alt_fraction: 0.98
qc:
  preset: demo
"""


def _run(cmd: list[str], stdin: bytes | None = None, stdout: BinaryIO | None = None) -> None:
    try:
        subprocess.run(cmd, check=True, input=stdin, stdout=stdout)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"command failed ({exc.returncode}): {' '.join(cmd)}") from exc


def _bgzip_and_index(text: str, path: Path) -> None:
    with path.open("wb") as out:
        _run(["bgzip", "-c"], stdin=text.encode("ascii"), stdout=out)
    _run(["tabix", "-f", "-p", "vcf", str(path)])


def _region(interval: Interval) -> str:
    return f"{interval.contig}:{interval.start + 1}-{interval.end}"


def _samples_tsv() -> str:
    rows = ["family\tsample\tsex\tphenotype\tfather\tmother\tgmc\thpo"]
    for sample in SAMPLES:
        sex = "male" if MALE[sample] else "female"
        affected = sample == PROBAND
        rows.append(
            "\t".join(
                [
                    FAMILY,
                    sample,
                    sex,
                    "affected" if affected else "unaffected",
                    FATHER if affected else "",
                    MOTHER if affected else "",
                    GMC,
                    PROBAND_HPO if affected else "",
                ]
            )
        )
    return "\n".join(rows) + "\n"


def _fastq_paths(sample: str, lane: int) -> tuple[str, str]:
    stem = f"fastq/{sample}_L{lane:03d}"
    return f"{stem}_R1.fastq.gz", f"{stem}_R2.fastq.gz"


def _units_tsv() -> str:
    rows = ["sample\tunit\tfq1\tfq2"]
    for sample in SAMPLES:
        for lane in UNITS[sample]:
            fq1, fq2 = _fastq_paths(sample, lane)
            rows.append(f"{sample}\tL{lane:03d}\t{fq1}\t{fq2}")
    return "\n".join(rows) + "\n"


def _write_reads(
    outdir: Path,
    reference: Reference,
    trio: Trio,
    plan: dict[str, Sequenced],
    seeds: list[np.random.SeedSequence],
    mito_seeds: list[np.random.SeedSequence],
) -> dict[str, int]:
    """Each sample's reads: the nuclear genome's from `seeds`, then (appended to the same
    FASTQ files, on tiles of their own) chrM's from `mito_seeds`, so that the nuclear reads
    are as without chrM."""
    pairs: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for sample, seed, mito_seed in zip(SAMPLES, seeds, mito_seeds, strict=True):
            sequenced = plan[sample]
            shares = sequenced.weights or [1.0] * len(sequenced.haplotypes)
            nuclear = [k for k, hap in enumerate(sequenced.haplotypes) if hap.contig != CHRM]
            mito = [k for k, hap in enumerate(sequenced.haplotypes) if hap.contig == CHRM]
            for haps, rng, weights, tile, append in (
                (nuclear, np.random.default_rng(seed),
                 None if sequenced.weights is None else [shares[k] for k in nuclear],
                 _TILE_SURFACE[sample], False),
                # chrM molecules weigh MT_COPIES nuclear haplotypes (Haplotype.weight)
                (mito, np.random.default_rng(mito_seed),
                 [shares[k] * sequenced.haplotypes[k].weight for k in mito],
                 _MITO_TILE_SURFACE[sample], True),
            ):
                if not haps:
                    continue
                template = make_template([haplotype_sequence(reference, trio,
                                                             sequenced.haplotypes[k])
                                          for k in haps])
                frags = sample_fragments(rng, template, sequenced.depth / 2.0, weights)
                lanes = UNITS[sample]
                bounds = np.linspace(0, len(frags), len(lanes) + 1).round().astype(int)
                for k, lane in enumerate(lanes):
                    fq1, fq2 = _fastq_paths(sample, lane)
                    part = frags.take(np.arange(bounds[k], bounds[k + 1]))
                    key = f"{sample}/L{lane:03d}"
                    pairs[key] = pairs.get(key, 0) + write_unit(
                        rng, template, part, lane, tile, outdir / fq1, outdir / fq2, pool,
                        append=append)
    return pairs


def simulate(
    outdir: Path,
    seed: int = 1,
    size_mb: float = 1.0,
    depth: float = 25.0,
    scenario: str | None = None,
) -> dict[str, Path]:
    """Write the demo trio under ``outdir``; returns the written files by role.

    Keys: fasta, fai, gff3, population_vcf, population_tbi, population_sv_vcf,
    population_sv_tbi, truth_tsv, truth_vcf, truth_tbi, <name>_source per annotation source
    (clinvar, gnomad, cadd, revel, spliceai), ``background:<case>:vcf|ped`` per background
    family of the frequency database,
    samples, units, config, summary, and ``fastq:<sample>:<unit>:R1|R2`` per FASTQ file.
    ``scenario`` (one of `SCENARIOS`) changes what one sample's reads come from; the sheets
    and the truth set still describe the intended family.
    """
    check_scenario(scenario)
    if size_mb < MIN_SIZE_MB:
        raise ValueError(f"size_mb must be at least {MIN_SIZE_MB}")
    if not depth > 0:
        raise ValueError("depth must be positive")
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"helgenom simulate needs {', '.join(missing)} on PATH")

    outdir = Path(outdir)
    (outdir / "reference").mkdir(parents=True, exist_ok=True)
    (outdir / "fastq").mkdir(parents=True, exist_ok=True)
    # A fourth stream, for scenarios only, leaves the first three (the default demo) unchanged;
    # a fifth draws the mitochondrial genome.
    genome_seed, variant_seed, read_seed, scenario_seed, mito_seed = (
        np.random.SeedSequence(seed).spawn(5))

    reference = build_reference(np.random.default_rng(genome_seed), size_mb)
    trio = build_trio(np.random.default_rng(variant_seed), reference)
    # The recurrent artefact of the GMC's frequency database: on the proband's reads, where it
    # looks like a rare de novo missense; the background families loaded into the demo's
    # database carry it too (helgenom.simulate.background). No random draw changes.
    plant_artefact(reference, trio)
    # chrM, last: its genome, the trio's chrM molecules (a heteroplasmic MT-ND4 missense of the
    # maternal line, a homoplasmic haplogroup variant) at MT_COPIES times the nuclear depth.
    mito_genome_seed, mito_read_seed = mito_seed.spawn(2)
    add_mitochondrion(reference, np.random.default_rng(mito_genome_seed))
    plant_mitochondrial(reference, trio)

    paths: dict[str, Path] = {
        "fasta": outdir / "reference/genome.fa",
        "fai": outdir / "reference/genome.fa.fai",
        "gff3": outdir / "reference/genes.gff3",
        "population_vcf": outdir / "reference/population.vcf.gz",
        "population_tbi": outdir / "reference/population.vcf.gz.tbi",
        "population_sv_vcf": outdir / "reference/population_sv.vcf.gz",
        "population_sv_tbi": outdir / "reference/population_sv.vcf.gz.tbi",
        "truth_tsv": outdir / "truth.tsv",
        "truth_vcf": outdir / "truth.vcf.gz",
        "truth_tbi": outdir / "truth.vcf.gz.tbi",
        "samples": outdir / "samples.tsv",
        "units": outdir / "units.tsv",
        "config": outdir / "config.yaml",
        "summary": outdir / "simulation.json",
    }
    write_fasta(reference, paths["fasta"])
    _run(["samtools", "faidx", str(paths["fasta"])])
    write_gff3(reference, paths["gff3"])
    _bgzip_and_index(population_vcf_text(reference, trio), paths["population_vcf"])
    _bgzip_and_index(population_sv_vcf_text(reference, trio), paths["population_sv_vcf"])
    _bgzip_and_index(truth_vcf_text(reference, trio.planted), paths["truth_vcf"])
    paths["truth_tsv"].write_text(truth_tsv_text(trio.planted), encoding="ascii")
    # The earlier cases of the demo's GMC, for its frequency database (`helgenom simulate`
    # loads them into reference/freqdb, made here empty): VCF + PED per family.
    (outdir / "reference" / "freqdb").mkdir(exist_ok=True)
    for family in write_background(outdir / "background", reference, trio.pool,
                                   trio.planted, seed=seed):
        paths[f"background:{family.case_id}:vcf"] = family.vcf
        paths[f"background:{family.case_id}:ped"] = family.ped
    # Its own random stream: every other file of the demo is as without it.
    for name, path in write_demo_sources(outdir / "reference", reference, trio,
                                         seed=seed).items():
        paths[f"{name}_source"] = path

    plan = sequencing_plan(reference, trio, depth, scenario, scenario_seed)
    pairs = _write_reads(outdir, reference, trio, plan, read_seed.spawn(len(SAMPLES)),
                         mito_read_seed.spawn(len(SAMPLES)))
    for sample in SAMPLES:
        for lane in UNITS[sample]:
            for mate, rel in zip(("R1", "R2"), _fastq_paths(sample, lane), strict=True):
                paths[f"fastq:{sample}:L{lane:03d}:{mate}"] = outdir / rel

    paths["samples"].write_text(_samples_tsv(), encoding="ascii")
    paths["units"].write_text(_units_tsv(), encoding="ascii")
    paths["config"].write_text(CONFIG_YAML, encoding="ascii")
    summary = {
        "generator": f"helgenom simulate {__version__}",
        "seed": seed,
        "args": {"size_mb": size_mb, "depth": depth},
        "family": FAMILY,
        "contigs": reference.lengths,
        "features": {
            "n_gap": _region(reference.n_gap),
            "segdup_source": _region(reference.segdup_source),
            "segdup_copy": _region(reference.segdup_copy),
            "genes": len(reference.genes),
        },
        "population_variants": {c: len(v) for c, v in trio.pool.items()},
        "background_variants_per_sample": trio.background_counts(),
        "planted_variants": [p.id for p in trio.planted],
        "read_pairs": pairs,
    }
    if scenario is not None:
        summary["scenario"] = {"name": scenario, "description": SCENARIOS[scenario]}
    paths["summary"].write_text(json.dumps(summary, indent=2) + "\n", encoding="ascii")
    return paths
