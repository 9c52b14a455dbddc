"""The files a run reads, checked at start by reading only as much of each as tells.

FASTQs: a regular, non-empty file whose first record starts with '@' (after gzip). Configured
files: the reference FASTA (the format of its first MiB; contigs from its .fai when fresh),
the names cut from it (reference.contigs, the PARs, chrX/chrY), and the contig naming and
INFO tags of the GFF3 and the population VCFs against it. Each finding is a Problem at the
config key that names the file (`KeyProblem` places it: file, line, key).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from helgenom.errors import InputError, Problem
from helgenom.io.reference import (
    Region,
    fasta_problem,
    fresh_fai,
    guess_format,
    peek,
    read_contigs,
    read_fai,
    sample_gff3,
)
from helgenom.io.tabix import read_index
from helgenom.io.vcf import read_header

# (key of the VCF, key of its allele-frequency tag): the population VCFs of annotation.
POPULATION_VCFS = (("population_vcf", "population_af_tag"),
                   ("population_sv_vcf", "population_sv_af_tag"))

KeyPath = tuple[str | int, ...]
KeyProblem = Callable[[KeyPath, "str | None", str], Problem]
"""(key path, value, message) -> a Problem located at the config file and line setting it."""


def fastq_problem(path: str) -> str | None:
    """What keeps `path` (absolute) from being read as FASTQ (None: nothing found)."""
    if os.path.isdir(path):
        return "a directory, not a FASTQ file"
    if not os.path.isfile(path):
        return f"FASTQ file not found: {path}"
    try:
        if os.path.getsize(path) == 0:
            return "empty FASTQ file (0 bytes)"
        head = peek(path)
    except zlib.error as error:
        return f"gzip-compressed but corrupt ({error})"
    except OSError as error:
        return f"cannot read the FASTQ file: {error.strerror}"
    if not head:
        return "no reads: the file is empty once decompressed"
    if not head.startswith(b"@"):
        kind = guess_format(head)
        return ("not a FASTQ file (its first record must start with '@')"
                + (f": it looks like {kind}" if kind else ""))
    return None


def _few(names: Collection[str], limit: int = 5) -> str:
    shown = list(names)[:limit]
    return ", ".join(shown) + (" ..." if len(names) > limit else "")


def _other_naming(name: str) -> str:
    """chrX <-> X: the same contig in the other common naming."""
    return name[3:] if name.startswith("chr") else f"chr{name}"


def _no_common_contig(names: Collection[str], fasta: Collection[str]) -> str:
    example = next(iter(names))
    hint = (f" ('{example}' here is '{_other_naming(example)}' there)"
            if _other_naming(example) in fasta else "")
    return (f"its contigs are named {_few(names)} but the reference FASTA's are {_few(fasta)}: "
            f"no contig in common, so nothing of it would be used{hint}")


def _rename_vcf(path: str) -> str:
    return (f"; rename them: bcftools annotate --rename-chrs chr_names.txt {path} -Oz -o "
            "renamed.vcf.gz && tabix -p vcf renamed.vcf.gz (chr_names.txt: one 'OLD NEW' line "
            "per contig, e.g. '1 chr1'), then configure renamed.vcf.gz")


def _vcf_problems(config: Mapping[str, Any], keys: tuple[str, str], path: Path,
                  fasta: Collection[str], problem: KeyProblem) -> list[Problem]:
    """A population VCF: readable header, its AF tag declared, contigs named as the FASTA's."""
    key, tag_key = keys
    value, tag = config["annotation"][key], config["annotation"][tag_key]
    try:
        header = read_header(path)
        indexed = [name for name, _ in read_index(path).contigs]
    except InputError as error:
        return [problem(("annotation", key), value, f"cannot read its header: "
                        f"{error.problems[0].message}")]
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as error:
        return [problem(("annotation", key), value, f"cannot read its header: {error}")]
    if not any(line.startswith("#CHROM") for line in header.lines):
        try:
            kind = guess_format(peek(path))
        except zlib.error:
            kind = ""
        return [problem(("annotation", key), value, "not a VCF: no '#CHROM' header line"
                        + (f" (it looks like {kind})" if kind else ""))]
    found = []
    if tag not in header.info:
        found.append(problem(("annotation", tag_key), tag, (
            f"not an INFO tag of {value}: its INFO tags are {', '.join(header.info) or 'none'}; "
            f"set annotation.{tag_key} to its allele-frequency tag")))
    names = indexed or header.contigs
    if names and fasta and not set(names) & set(fasta):
        found.append(problem(("annotation", key), value,
                             _no_common_contig(names, fasta) + _rename_vcf(value)))
    return found


def _name_problems(reference: Mapping[str, Any], lengths: Mapping[str, int],
                   problem: KeyProblem) -> tuple[list[Problem], list[Problem]]:
    """reference.contigs, reference.par and chrX/chrY against the FASTA's contigs."""
    errors, warnings = [], []
    fasta = f"not a contig of the reference FASTA (it has {_few(lengths, 10)})"
    errors += [problem(("reference", "contigs", i), name, fasta)
               for i, name in enumerate(reference["contigs"]) if name not in lengths]
    sex_contigs = (reference["chrx"], reference["chry"])
    for i, text in enumerate(reference["par"]):
        try:
            region = Region.parse(text)
        except ValueError:
            errors.append(problem(("reference", "par", i), text, "not a region CHROM:START-END "
                                  "with 1 <= START <= END (a PAR's start after its end?)"))
            continue
        length = lengths.get(region.chrom)
        if length is None:
            message = f"contig '{region.chrom}' is {fasta}"
        elif region.end > length > 0:
            message = f"ends after the end of {region.chrom} (length {length})"
        elif region.chrom not in sex_contigs:
            message = ("a PAR lies on reference.chrx or reference.chry "
                       f"({' or '.join(sex_contigs)})")
        else:
            continue
        errors.append(problem(("reference", "par", i), text, message))
    for key, name in zip(("chrx", "chry"), sex_contigs, strict=True):
        other = _other_naming(name)
        if name in lengths:
            continue
        if other in lengths:
            errors.append(problem(("reference", key), name, "not a contig of the reference "
                                  f"FASTA, which names it '{other}': set reference.{key}: {other}"))
        elif key == "chrx":
            warnings.append(problem(("reference", key), name, f"{fasta}: sex checks and the "
                                    "male chrX ploidy cannot apply"))
    return errors, warnings


def _fasta_contigs(value: str, path: Path, problem: KeyProblem
                   ) -> tuple[dict[str, int], list[Problem], list[Problem]]:
    """The FASTA's contigs and lengths (empty when it does not read), errors, warnings."""
    warnings = []
    fai = fresh_fai(path)
    try:
        contigs = read_fai(fai) if fai else None
    except InputError as error:
        return {}, error.problems, []
    if fai is None and Path(f"{path}.fai").is_file():
        warnings.append(problem(("reference", "fasta"), value, f"{path}.fai is older than the "
                                "FASTA: contigs are read from the FASTA, and the workflow "
                                "rebuilds the .fai"))
    try:
        if message := fasta_problem(path, contigs):
            return {}, [problem(("reference", "fasta"), value, message)], warnings
        contigs = contigs or read_contigs(path)
    except InputError as error:
        return {}, error.problems, warnings
    except OSError as error:
        return {}, [problem(("reference", "fasta"), value, f"cannot read it: {error.strerror}")
                    ], warnings
    return dict(contigs), [], warnings


def reference_problems(config: Mapping[str, Any], paths: Mapping[str, Path],
                       problem: KeyProblem) -> tuple[list[Problem], list[Problem]]:
    """Errors and warnings of the reference FASTA, the names cut from it, the GFF3 and the
    population VCFs (their contig naming only when the FASTA reads). `paths` maps the keys of
    CONFIG_FILES to files that exist."""
    lengths: dict[str, int] = {}
    errors: list[Problem] = []
    warnings: list[Problem] = []
    if "fasta" in paths:
        lengths, errors, warnings = _fasta_contigs(config["reference"]["fasta"], paths["fasta"],
                                                   problem)
    if lengths:
        found, noted = _name_problems(config["reference"], lengths, problem)
        errors, warnings = errors + found, warnings + noted
    if "gff3" in paths:
        value = config["reference"]["gff3"]
        gff3 = sample_gff3(paths["gff3"])
        if gff3.problem:
            errors.append(problem(("reference", "gff3"), value, gff3.problem))
        elif lengths and not set(gff3.seqids) & set(lengths):
            errors.append(problem(("reference", "gff3"), value, (
                _no_common_contig(gff3.seqids, lengths) + "; use gene models of this reference "
                "or rename column 1 (seqid) of the GFF3 to the FASTA's names")))
    for keys in POPULATION_VCFS:
        if keys[0] in paths:
            errors += _vcf_problems(config, keys, paths[keys[0]], lengths, problem)
    return errors, warnings
