"""ExpansionHunter variant catalogs: the JSON ExpansionHunter genotypes and Stranger reads.

A catalog is a JSON list of loci, each with `LocusId`, `LocusStructure`, `ReferenceRegion`
(CHROM:START-END, or a list of them for a locus of several repeats) and, for Stranger, the
repeat sizes `NormalMax` (the longest normal allele, in repeat units) and `PathologicMin` (the
shortest pathogenic one), `Disease` and `InheritanceMode` (AD, AR, XR, XD, ...). Stranger
(PyPI `stranger`, MIT licence) ships such catalogs curated from the literature: GRCh38 with
chr-named contigs (`variant_catalog_hg38.json`) or without (`variant_catalog_grch38.json`),
and the same for GRCh37 (hg19, grch37). With `repeats.catalog` empty the workflow takes the
one of the run's build whose contig naming matches the reference FASTA.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from helgenom.errors import InputError, Problem
from helgenom.repeats.files import problem, read_text

STRANGER_VERSION = "0.10.2"  # pinned in workflow/envs/stranger.yaml and pyproject.toml
BUNDLED = {("38", True): "variant_catalog_hg38.json", ("38", False): "variant_catalog_grch38.json",
           ("37", True): "variant_catalog_hg19.json", ("37", False): "variant_catalog_grch37.json"}
REGION = re.compile(r"^(?P<chrom>[^:\s]+):(?P<start>\d+)-(?P<end>\d+)$")


@dataclass(frozen=True)
class CatalogLocus:
    locus_id: str
    regions: tuple[str, ...]  # CHROM:START-END (0-based start, as ExpansionHunter reads it)
    line: int  # the line of its LocusId in the JSON
    normal_max: int | None = None
    pathologic_min: int | None = None
    disease: str = ""
    inheritance: str = ""


def chr_named(contigs: Mapping[str, int] | list[str]) -> bool:
    """Whether a reference names its chromosomes chr1.. (else 1..)."""
    names = list(contigs)
    return any(name.startswith("chr") for name in names) or not names


def stranger_resources() -> Path | None:
    """The folder of Stranger's bundled catalogs, found without importing Stranger; None
    when Stranger is not installed where this runs."""
    spec = importlib.util.find_spec("stranger")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "resources"


def bundled_catalog(build: str, chr_names: bool) -> Path:
    """Stranger's bundled catalog of `build` (37, 38) in the FASTA's contig naming;
    LookupError saying how to get one when Stranger is not installed."""
    folder = stranger_resources()
    path = folder / BUNDLED[(build, chr_names)] if folder else None
    if path is None or not path.is_file():
        raise LookupError(
            f"repeats.catalog is empty, so Stranger's bundled GRCh{build} catalog is used, but "
            f"Stranger is not installed where the workflow starts: `pip install "
            f"stranger=={STRANGER_VERSION}` (in environment.yml and the test extra), or set "
            "repeats.catalog to an ExpansionHunter variant catalog (JSON)")
    return path


def _line_of(text: str) -> dict[int, int]:
    """Locus index -> line of its "LocusId" key (1-based), in the order the keys appear."""
    lines = {}
    for index, match in enumerate(re.finditer(r'"LocusId"\s*:', text)):
        lines[index] = text.count("\n", 0, match.start()) + 1
    return lines


def _int_or_none(entry: Mapping, key: str, path: Path, line: int) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise problem(path, "must be a whole number of repeat units", line, key, str(value))
    return value


def read_catalog(path: Path | str) -> list[CatalogLocus]:
    """The loci of an ExpansionHunter variant catalog; InputError naming file, line, key and
    value of the first malformed entry."""
    path = Path(path)
    text = read_text(path, "variant catalog (JSON)")
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as error:
        raise problem(path, f"not JSON ({error.msg}): not an ExpansionHunter variant catalog",
                      error.lineno) from None
    if not isinstance(entries, list) or not entries:
        raise problem(path, "a variant catalog is a non-empty JSON list of loci")
    lines = _line_of(text)
    loci = []
    for index, entry in enumerate(entries):
        line = lines.get(index, 0)
        if not isinstance(entry, dict) or not isinstance(entry.get("LocusId"), str) \
                or not entry["LocusId"]:
            raise problem(path, f"locus {index + 1} has no LocusId", line or None)
        locus_id = entry["LocusId"]
        regions = entry.get("ReferenceRegion")
        regions = [regions] if isinstance(regions, str) else regions
        bad = [r for r in regions if not isinstance(r, str) or not REGION.match(r)] \
            if isinstance(regions, list) and regions else [entry.get("ReferenceRegion")]
        if bad:
            raise problem(path, f"locus {locus_id}: ReferenceRegion must be CHROM:START-END "
                          "(or a list of them)", line, "ReferenceRegion", str(bad[0]))
        for region in regions:
            match = REGION.match(region)
            assert match
            if int(match["start"]) > int(match["end"]):
                raise problem(path, f"locus {locus_id}: the region ends before it starts", line,
                              "ReferenceRegion", region)
        loci.append(CatalogLocus(
            locus_id, tuple(regions), line,
            _int_or_none(entry, "NormalMax", path, line),
            _int_or_none(entry, "PathologicMin", path, line),
            str(entry.get("Disease") or ""), str(entry.get("InheritanceMode") or "")))
    return loci


def catalog_problems(path: Path, contigs: Mapping[str, int]
                     ) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of a catalog against the reference's contigs and lengths: a locus
    on a contig the FASTA lacks, or past its end, is an error (ExpansionHunter stops on it);
    loci without NormalMax and PathologicMin are a warning (Stranger leaves them
    unannotated)."""
    try:
        loci = read_catalog(path)
    except InputError as error:
        return list(error.problems), []
    errors: list[Problem] = []
    for locus in loci:
        for region in locus.regions:
            match = REGION.match(region)
            assert match
            chrom, end = match["chrom"], int(match["end"])
            if chrom not in contigs:
                other = chrom.removeprefix("chr") if chrom.startswith("chr") else f"chr{chrom}"
                hint = (f": the FASTA names it {other} (take the catalog of that naming)"
                        if other in contigs else "")
                errors.append(Problem(str(path), locus.line, "ReferenceRegion", region,
                                      f"locus {locus.locus_id}: contig {chrom} is not in the "
                                      f"reference FASTA{hint}"))
            elif end > contigs[chrom]:
                errors.append(Problem(str(path), locus.line, "ReferenceRegion", region,
                                      f"locus {locus.locus_id}: past the end of {chrom} "
                                      f"({contigs[chrom]:,} bp): a catalog of another build?"))
    if len(errors) > 10:  # a catalog of the other naming or build: say so once, not 50 times
        errors = [*errors[:10], Problem(str(path), None, None, None,
                                        f"and {len(errors) - 10} more loci off the reference")]
    untyped = [locus.locus_id for locus in loci
               if locus.normal_max is None or locus.pathologic_min is None]
    warnings = [Problem(str(path), None, None, None,
                        f"{len(untyped)} loci without NormalMax/PathologicMin are genotyped but "
                        f"not classified by Stranger: {', '.join(untyped[:5])}"
                        f"{' ...' if len(untyped) > 5 else ''}")] if untyped else []
    return errors, warnings
