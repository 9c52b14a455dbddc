"""Failure scenarios for the demo trio: what is sequenced for each sample, and at what depth.

The default plan sequences every sample's own haplotypes at the demo depth. A scenario
changes what one sample's reads come from, never the sample sheet, the pedigree or the
truth set (they still describe the intended family), so that QC has something to catch:

- ``swap``: the proband's reads come from an unrelated male (a sample swap): kinship of the
  proband with both parents is ~0 instead of 0.25.
- ``sex``: the father's reads come from a 46,XX genome (his own autosomes and X plus a second
  X from the population): declared male, genetically female. (Declaring the father female in
  the sheet instead is rejected by the pedigree checks before any QC can run.)
- ``contamination``: the proband's reads are 90% his own and 10% an unrelated male's.
- ``lowdepth``: the mother is sequenced at a third of the demo depth.
- ``upd``: the proband's chr1 is a maternal uniparental isodisomy (two copies of the chr1 his
  mother passed on, none from his father).

Scenario randomness comes from its own seed stream, so every sample a scenario does not touch
gets byte-identical reads, and the default demo is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helgenom.simulate.genome import CHRM, CHRX, Reference
from helgenom.simulate.variants import (
    FATHER,
    MOTHER,
    MT_COPIES,
    PROBAND,
    SAMPLES,
    Haplotype,
    Trio,
)

SCENARIOS = {
    "swap": "the proband's reads come from an unrelated male (sample swap)",
    "sex": "the father's reads come from a 46,XX genome (declared male, genetically female)",
    "contamination": "the proband's reads are 90% his own and 10% an unrelated male's",
    "lowdepth": "the mother is sequenced at a third of the demo depth",
    "upd": "the proband's chr1 is a maternal uniparental isodisomy (UPD)",
}
UPD_CONTIG = "chr1"
CONTAMINATION_FRACTION = 0.10
LOW_DEPTH_FACTOR = 1 / 3


def check_scenario(scenario: str | None) -> str | None:
    if scenario is not None and scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r} (choose from {', '.join(SCENARIOS)})")
    return scenario


@dataclass
class Sequenced:
    """What one sample's reads are drawn from."""

    haplotypes: list[Haplotype]  # in template order
    depth: float  # diploid autosomal mean depth
    weights: list[float] | None = None  # per-haplotype share of the depth (None: all 1)


def own_haplotypes(reference: Reference, trio: Trio, sample: str) -> list[Haplotype]:
    return [hap for contig in reference.contigs for hap in trio.haplotypes[sample][contig]]


def population_haplotypes(
    rng: np.random.Generator, reference: Reference, trio: Trio, male: bool
) -> list[Haplotype]:
    """An individual unrelated to the family: pool alleles drawn at their population AF."""
    haps = []
    for contig in reference.contigs:
        afs = np.array([v.af for v in trio.pool[contig]])
        if contig == CHRM:  # one maternal line: homoplasmic
            haps.append(Haplotype(contig, rng.random(afs.size) < afs, weight=MT_COPIES))
            continue
        n_haps = 1 if contig == CHRX and male else 2
        haps += [Haplotype(contig, rng.random(afs.size) < afs) for _ in range(n_haps)]
    return haps


def sequencing_plan(
    reference: Reference,
    trio: Trio,
    depth: float,
    scenario: str | None,
    seed: np.random.SeedSequence,
) -> dict[str, Sequenced]:
    """Per sample, the haplotypes its reads come from; `seed` drives scenario draws only."""
    plan = {s: Sequenced(own_haplotypes(reference, trio, s), depth) for s in SAMPLES}
    if check_scenario(scenario) is None:
        return plan
    rng = np.random.default_rng(seed)
    if scenario == "swap":
        plan[PROBAND] = Sequenced(population_haplotypes(rng, reference, trio, male=True), depth)
    elif scenario == "sex":
        extra_x = [h for h in population_haplotypes(rng, reference, trio, male=True)
                   if h.contig == CHRX]
        haps = own_haplotypes(reference, trio, FATHER)
        last_x = max(i for i, h in enumerate(haps) if h.contig == CHRX)
        plan[FATHER] = Sequenced(haps[: last_x + 1] + extra_x + haps[last_x + 1 :], depth)
    elif scenario == "contamination":
        own = plan[PROBAND].haplotypes
        other = population_haplotypes(rng, reference, trio, male=True)
        weights = [1 - CONTAMINATION_FRACTION] * len(own) + [CONTAMINATION_FRACTION] * len(other)
        plan[PROBAND] = Sequenced(own + other, depth, weights)
    elif scenario == "upd":
        maternal = trio.haplotypes[PROBAND][UPD_CONTIG][-1]
        haps = [h for h in plan[PROBAND].haplotypes if h.contig != UPD_CONTIG]
        first = next(i for i, h in enumerate(plan[PROBAND].haplotypes) if h.contig == UPD_CONTIG)
        plan[PROBAND] = Sequenced([*haps[:first], maternal, maternal, *haps[first:]], depth)
    else:  # lowdepth
        plan[MOTHER] = Sequenced(plan[MOTHER].haplotypes, depth * LOW_DEPTH_FACTOR)
    return plan
