"""helgenom validate: the checks a run makes before its first job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

from helgenom.annotate.checks import source_problems
from helgenom.errors import InputError
from helgenom.freqdb.checks import database_problems
from helgenom.io.regions import scatter_problems
from helgenom.rank.model import RankModelError, load_rank_model
from helgenom.rank.phenotype import check_term
from helgenom.repeats.checks import repeat_problems
from helgenom.sheets.samplesheet import Run, load_run, load_yaml


def _rank_model_error(path: Path) -> str | None:
    try:
        load_rank_model(path)
    except RankModelError as error:
        return str(error)
    return None


# Readers of configured files whose format an engine owns.
FILE_CHECKS = {"rank_model": _rank_model_error, "sv_rank_model": _rank_model_error}
# Checks of configured files of several keys an engine owns: the annotation sources (each
# bgzipped, indexed, its fields in its header, contigs and build of the reference) and the
# frequency database (its manifest and files); the calling regions' size; the repeat
# catalog (its loci on the FASTA's contigs).
CONFIG_CHECKS = (source_problems, database_problems, scatter_problems, repeat_problems)


def _hpo_term(term: str) -> tuple[str | None, list[str]]:
    """The ranking engine's check of one sheet HPO term (in the ontology hpo3 ships); a
    warning instead when hpo3 is not installed where the run starts."""
    try:
        return check_term(term)
    except ImportError as error:
        return term, [f"not checked against the ontology: {error}"]


def check_run(config: dict, workdir: Path | str = ".", config_source: str = "config", *,
              files: bool = True) -> Run:
    """Every check a run makes before its first job (the workflow's start and `helgenom
    validate` call this): config, sheets, pedigree, HPO terms, FASTQs, configured files and
    their formats (reference FASTA, GFF3, population VCFs, annotation sources, rank models);
    InputError with every problem found. `files=False`: the config and sheets only, for the
    jobs of a run that was checked in full when it started (Snakemake reads the Snakefile
    again in every job)."""
    return load_run(config, workdir, config_source, file_checks=FILE_CHECKS,
                    term_check=_hpo_term, files=files, config_checks=CONFIG_CHECKS)


def _n(items: Collection[Any], noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{len(items)} {noun if len(items) == 1 else plural}"


def run(args: argparse.Namespace) -> int:
    try:
        run = check_run(load_yaml(args.config), args.workdir, config_source=args.config)
    except InputError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"{args.config}: inputs are valid: {_n(run.families, 'family')}, "
          f"{_n(run.samples, 'sample')}, {_n(run.units, 'unit')}, {_n(run.warnings, 'warning')}")
    for fid, family in run.families.items():
        affected = ", ".join(m.sample for m in family.affected) or "none"
        units = [u for m in family.members for u in run.units_of(m.sample)]
        print(f"  {fid}: {_n(family.members, 'sample')}, {_n(units, 'unit')}, affected: {affected}")
    for warning in run.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `validate` subcommand."""
    p = sub.add_parser("validate", help="check config, samples.tsv and units.tsv before a run",
                       description="Check the config, both sheets, the pedigree and the FASTQ "
                       "files; print a summary (exit 0) or every problem (exit 2).")
    p.add_argument("--config", required=True, help="workflow config YAML")
    p.add_argument("--workdir", default=".", help="workflow working directory (Snakemake "
                   "--directory); relative paths resolve against it (default: .)")
    p.set_defaults(func=run)
