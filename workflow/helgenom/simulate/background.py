"""Background families for the demo's variant frequency database (`helgenom freqdb`).

A GMC's frequency database holds its earlier cases. For the demo, `write_background` draws
N trios (father, mother, a child of random sex) from the simulated population: each
parental haplotype carries each population variant (the demo's population VCF) at its
allele frequency, a child gets one haplotype of each parent per contig (at most one
crossover; a son gets his mother's X only, called haploid), and every record any member
carries is written with GT:GQ:DP:AD (GQ mostly 30-99; ~5% of calls below 20 to exercise the
load's GQ gate). Each family is a bgzipped, indexed VCF plus its PED.

One recurrent artefact (`artefact_variant`), a missense SNV in an autosomal filler gene's
exon that is absent from the population VCF, is called het in one member of most
background families (ARTEFACT_SHARE): loaded into the database, it has a high Obs/Frq,
which is what the database is for. The demo proband is meant to carry it too, as a rare
(de novo looking) candidate that the database's counts then expose: that needs the demo's
reads to carry it, which `plant_artefact` does to the demo trio's haplotypes (the demo
itself is not changed here; see its docstring).

Deterministic: the same reference, pool, seed and N give byte-identical files. The artefact
site is chosen without drawing random numbers, so planting it in the demo leaves every
other draw of the demo unchanged.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helgenom.simulate.genome import (
    CHRM,
    CHRX,
    CODON_TABLE,
    FILLER_GENES,
    GeneModel,
    Reference,
    revcomp,
)
from helgenom.simulate.variants import PROBAND, PlantedVariant, Trio, Variant

ARTEFACT_ID = "ARTEFACT_recurrent"
ARTEFACT_SHARE = 0.8  # of the background families, about this share carry the artefact
ARTEFACT_CLEARANCE = 20  # bp from any population or planted variant
LOW_GQ_SHARE = 0.05
DEFAULT_FAMILIES = 24


@dataclass(frozen=True)
class BackgroundFamily:
    case_id: str
    vcf: Path
    ped: Path
    samples: tuple[str, str, str]  # father, mother, child
    child_male: bool
    carries_artefact: bool


# --------------------------------------------------------------------------- the artefact


def _missense_change(gene: GeneModel, index: int) -> str | None:
    """An ALT base (transcript orientation) making CDS base `index` a missense change."""
    cds = gene.cds_seq
    codon_index, k = divmod(index, 3)
    codon = cds[3 * codon_index:3 * codon_index + 3]
    if len(codon) != 3 or CODON_TABLE.get(codon, "*") == "*":
        return None
    for base in "ACGT":
        if base == codon[k]:
            continue
        new = CODON_TABLE[codon[:k] + base + codon[k + 1:]]
        if new not in ("*", CODON_TABLE[codon]):
            return base
    return None


def artefact_variant(reference: Reference, pool: dict[str, list[Variant]],
                     planted: list[PlantedVariant] | None = None) -> Variant:
    """The recurrent artefact: in the first autosomal filler gene that carries no planted
    variant, the CDS base nearest the CDS middle (at least 12 bp into its exon, at least
    ARTEFACT_CLEARANCE bp from every population and planted variant) with a missense
    change; chosen without random draws."""
    planted = planted or []
    busy_genes = {p.gene for p in planted}
    protected = reference.protected()
    for contig, symbols in FILLER_GENES.items():
        if contig == CHRX:
            continue
        for symbol in symbols:
            if symbol in busy_genes:
                continue
            try:
                gene = reference.gene(symbol)
            except KeyError:
                continue
            near: list[tuple[int, int]] = [(v.pos, v.end) for v in pool.get(gene.contig, [])]
            near += [p.span for p in planted if p.variant.contig == gene.contig]
            near += [(r.start, r.end) for r in protected if r.contig == gene.contig]
            starts = np.array([a for a, _ in near] or [-(10**9)], dtype=np.int64)
            ends = np.array([b for _, b in near] or [-(10**9)], dtype=np.int64)
            length = len(gene.cds_seq)
            middle = length // 2
            for step in range(length):
                index = middle + (step + 1) // 2 * (1 if step % 2 else -1)
                if not 3 <= index < length - 3:
                    continue
                pos = gene.cds_genomic(index)
                if gene.distance_to_exon_edge(pos) < 12:
                    continue
                clear = (ends + ARTEFACT_CLEARANCE <= pos) | (starts - ARTEFACT_CLEARANCE > pos)
                if not clear.all():
                    continue
                tx_alt = _missense_change(gene, index)
                if tx_alt is None:
                    continue
                ref = reference.string(gene.contig, pos, pos + 1)
                alt = tx_alt if gene.strand == "+" else revcomp(tx_alt)
                return Variant(gene.contig, pos, ref, alt, 0.0)
    raise RuntimeError("no site for the recurrent artefact in the filler genes")


def plant_artefact(reference: Reference, trio: Trio) -> Variant:
    """Put the artefact on the demo proband's first (paternal) haplotype: his reads then
    show it het, his parents' do not (a de novo looking call). Not in `trio.planted`: it is
    no truth-set variant. The artefact."""
    artefact = artefact_variant(reference, trio.pool, trio.planted)
    trio.haplotypes[PROBAND][artefact.contig][0].planted.append(artefact)
    return artefact


# --------------------------------------------------------------------------- families


def _haplotypes(rng: np.random.Generator, afs: np.ndarray, count: int) -> np.ndarray:
    return rng.random((count, afs.size)) < afs


def _gamete(rng: np.random.Generator, parent: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """One haplotype of a parent's two, with at most one crossover."""
    first = int(rng.integers(0, 2))
    if rng.random() < 0.5 or positions.size == 0:
        return parent[first].copy()
    cut = int(rng.integers(int(positions.min()), int(positions.max()) + 1))
    return np.where(positions < cut, parent[first], parent[1 - first])


def _call(rng: np.random.Generator, copies: np.ndarray, ploidy: int) -> list[str]:
    """GT:GQ:DP:AD per sample and record of one sample (`copies`: alt copies)."""
    n = copies.size
    gq = rng.integers(30, 100, n)
    low = rng.random(n) < LOW_GQ_SHARE
    gq[low] = rng.integers(3, 20, int(low.sum()))
    dp = rng.integers(18, 40, n)
    alt_reads = np.where(copies == 0, 0, np.where(copies == ploidy, dp, dp // 2))
    haploid, diploid = np.array(["0", "1"]), np.array(["0/0", "0/1", "1/1"])
    gts = haploid[np.minimum(copies, 1)] if ploidy == 1 else diploid[copies]
    return [f"{g}:{q}:{d}:{d - a},{a}" for g, q, d, a in zip(gts, gq, dp, alt_reads,
                                                            strict=True)]


def _header(reference: Reference, samples: tuple[str, str, str]) -> str:
    lines = [
        "##fileformat=VCFv4.2",
        "##source=helgenom-simulate-background",
        "##reference=file://reference/genome.fa",
        *(f"##contig=<ID={name},length={n}>" for name, n in reference.lengths.items()),
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples),
    ]
    return "\n".join(lines) + "\n"


def _bgzip_and_index(text: str, path: Path) -> None:
    with path.open("wb") as out:
        subprocess.run(["bgzip", "-c"], input=text.encode("ascii"), stdout=out, check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(path)], check=True)


def write_background(outdir: Path | str, reference: Reference, pool: dict[str, list[Variant]],
                     planted: list[PlantedVariant] | None = None,
                     families: int = DEFAULT_FAMILIES, seed: int = 1,
                     artefact_share: float = ARTEFACT_SHARE) -> list[BackgroundFamily]:
    """Write `families` background trios (VCF.gz + .tbi + PED) under `outdir`; see the
    module doc. Their paths, in order (case IDs BG01, BG02, ...)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    artefact = artefact_variant(reference, pool, planted)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xF4E9DB]))
    written: list[BackgroundFamily] = []
    for number in range(1, families + 1):
        case_id = f"BG{number:02d}"
        samples = (f"{case_id}-father", f"{case_id}-mother", f"{case_id}-child")
        child_male = bool(rng.random() < 0.5)
        carrier = int(rng.integers(0, 3)) if rng.random() < artefact_share else None
        lines = [_header(reference, samples)]
        for contig in reference.contigs:
            if contig == CHRM:  # the nuclear genome's calls only
                continue
            variants = pool.get(contig, [])
            afs = np.array([v.af for v in variants], dtype=float)
            positions = np.array([v.pos for v in variants], dtype=np.int64)
            x = contig == CHRX
            father = _haplotypes(rng, afs, 1 if x else 2)
            mother = _haplotypes(rng, afs, 2)
            from_mother = _gamete(rng, mother, positions)
            if x and child_male:
                child = from_mother[None, :]
            else:
                from_father = father[0] if x else _gamete(rng, father, positions)
                child = np.stack([from_father, from_mother])
            copies = [h.sum(axis=0) for h in (father, mother, child)]
            ploidy = [h.shape[0] for h in (father, mother, child)]
            calls = [_call(rng, c, p) for c, p in zip(copies, ploidy, strict=True)]
            carried = np.flatnonzero(np.logical_or.reduce([c > 0 for c in copies]))
            records = [(int(positions[i]), variants[i].ref, variants[i].alt,
                        "\t".join(calls[s][i] for s in range(3))) for i in carried]
            if carrier is not None and contig == artefact.contig:
                gq = int(rng.integers(25, 46))
                dp = int(rng.integers(20, 35))
                alt_reads = max(3, dp // 4)  # an artefact's typical skewed balance
                members = [f"0/0:{int(rng.integers(40, 99))}:{dp}:{dp},0" for _ in range(3)]
                members[carrier] = f"0/1:{gq}:{dp}:{dp - alt_reads},{alt_reads}"
                records.append((artefact.pos, artefact.ref, artefact.alt, "\t".join(members)))
                records.sort(key=lambda r: r[0])
            lines += [f"{contig}\t{pos + 1}\t.\t{ref}\t{alt}\t50\tPASS\t.\tGT:GQ:DP:AD\t{gts}\n"
                      for pos, ref, alt, gts in records]
        vcf = outdir / f"{case_id}.vcf.gz"
        _bgzip_and_index("".join(lines), vcf)
        ped = outdir / f"{case_id}.ped"
        ped.write_text(
            "#family_id\tindividual_id\tpaternal_id\tmaternal_id\tsex\tphenotype\n"
            f"{case_id}\t{samples[0]}\t0\t0\t1\t1\n"
            f"{case_id}\t{samples[1]}\t0\t0\t2\t1\n"
            f"{case_id}\t{samples[2]}\t{samples[0]}\t{samples[1]}\t{1 if child_male else 2}\t2\n")
        written.append(BackgroundFamily(case_id, vcf, ped, samples, child_male,
                                        carrier is not None))
    return written
