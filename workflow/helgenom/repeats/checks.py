"""The start check of the `repeats:` config section, run by `helgenom validate` and the
workflow's start (`helgenom.cli.validate.check_run`) before any job."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helgenom.errors import InputError, Problem
from helgenom.io.reference import read_contigs
from helgenom.repeats.catalog import bundled_catalog, catalog_problems, chr_named
from helgenom.sheets.files import KeyProblem

# SMNCopyNumberCaller's regions: GRCh38 (--genome 38) and hg19 (19) on chr5, GRCh37 (37) on 5.
SMN_CONTIG = {"38": ("chr5",), "37": ("chr5", "5")}


def smn_genome(build: str, contigs: Mapping[str, int] | list[str]) -> str:
    """SMNCopyNumberCaller's --genome: 38, or 19 / 37 for GRCh37 with / without chr names."""
    if build == "38":
        return "38"
    return "19" if chr_named(contigs) else "37"


def catalog_path(config: Mapping[str, Any], workdir: Path | str,
                 contigs: Mapping[str, int] | list[str]) -> Path:
    """The catalog the run genotypes with: repeats.catalog, else Stranger's bundled one of
    the build in the FASTA's contig naming (LookupError when Stranger is not installed)."""
    section = config.get("repeats") or {}
    if section.get("catalog"):
        return Path(workdir) / str(section["catalog"])
    return bundled_catalog(str(section.get("build", "38")), chr_named(contigs))


def repeat_problems(config: Mapping[str, Any], workdir: Path | str, problem: KeyProblem
                    ) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of the repeats section when ExpansionHunter or SMNCopyNumberCaller
    is on: the catalog exists, is a catalog, and its loci lie on the FASTA's contigs; the
    FASTA has the contig SMNCopyNumberCaller reads. The FASTA's own problems are reported by
    the reference checks (nothing is said here when it does not read)."""
    section = config.get("repeats") or {}
    if not (section.get("expansionhunter") or section.get("smn")):
        return [], []
    try:
        contigs = dict(read_contigs(Path(workdir) / str(config["reference"]["fasta"])))
    except (InputError, OSError, KeyError):
        return [], []
    errors: list[Problem] = []
    warnings: list[Problem] = []
    build = str(section.get("build", "38"))
    if section.get("expansionhunter"):
        value = str(section.get("catalog") or "")
        try:
            path = catalog_path(config, workdir, contigs)
        except LookupError as error:
            errors.append(problem(("repeats", "catalog"), value or None, str(error)))
        else:
            if not path.is_file():
                what = "a folder, not a file" if path.is_dir() else "not found"
                errors.append(problem(("repeats", "catalog"), value, f"variant catalog {what}: "
                                      f"{path}"))
            else:
                found, noted = catalog_problems(path, contigs)
                errors, warnings = errors + found, warnings + noted
    if section.get("smn"):
        wanted = SMN_CONTIG[build]
        if not any(name in contigs for name in wanted):
            errors.append(problem(("repeats", "smn"), "true", f"SMNCopyNumberCaller reads SMN1 "
                                  f"and SMN2 on {' or '.join(wanted)} of GRCh{build}: the "
                                  "reference FASTA has no such contig"))
    return errors, warnings
