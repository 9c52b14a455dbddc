"""Start checks of the annotation sources: run by `helgenom validate` and at workflow start
(through `helgenom.cli.validate.check_run`) before any job.

Each configured file must exist, be bgzipped and indexed (.tbi/.csi), and hold the fields
configured for it (a VCF's ##INFO tags; a TSV's header columns, its REF/ALT columns and the
position column it was indexed on). Its contigs must be the reference FASTA's, named alike
or in the other common naming (chr1 vs 1, chrM vs MT: the engine renames the calls' contigs
for such a source while it annotates, see `engine`); a file sharing no contig with the FASTA
in either naming is refused. A file of another genome build is refused: a ##contig length
differing from the FASTA's for the same contig, or a build named in its header (##reference,
##contig assembly=, a TSV's '##' comment lines: GRCh37/hg19/b37 vs GRCh38/hg38) other than
the FASTA's (known by the lengths of its chromosome 1, 2 or X). INFO names must be unique
across sources and not the calls' own tags.

Every problem is a Problem at the config key naming the file (or the field), with its value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from helgenom.annotate.headers import (
    SourceFile,
    SourceFileError,
    contig_map,
    fasta_build,
    index_of,
    is_bgzf,
    read_source_file,
)
from helgenom.annotate.sources import (
    TSV,
    Source,
    mapping_problems,
    name_problems,
    sources_from_config,
)
from helgenom.errors import InputError, Problem
from helgenom.io.reference import fresh_fai, read_contigs, read_fai

KeyPath = tuple[str | int, ...]
KeyProblem = Callable[[KeyPath, "str | None", str], Problem]
Finding = tuple[KeyPath, str, str]  # (config key, value, message)


def _few(names: list[str], limit: int = 5) -> str:
    return ", ".join(names[:limit]) + (" ..." if len(names) > limit else "")


def _index_hint(source: Source, path: Path) -> str:
    if source.kind == TSV:
        return f"tabix -s 1 -b 2 -e 2 -c '#' {path} (-b/-e: the position column)"
    return f"tabix -p vcf {path}"


def _file_problem(source: Source, path: Path) -> str | None:
    """What keeps the file from being read at all: missing, a folder, not bgzipped, no index."""
    if path.is_dir():
        return f"{source.label} is a folder, not a file: {path}"
    if not path.is_file():
        return f"{source.label} not found: {path}"
    try:
        compressed = is_bgzf(path)
    except OSError as error:
        return f"cannot read it: {error.strerror}"
    if compressed is None:
        return (f"not compressed: bgzip it and index it (bgzip {path} && "
                f"{_index_hint(source, Path(f'{path}.gz'))}), then configure {path}.gz")
    if compressed is False:
        return (f"gzip-compressed but not with bgzip (tabix cannot index it): zcat {path} | "
                f"bgzip > {path.stem}.bgz.gz && {_index_hint(source, Path(path.stem + '.bgz.gz'))}")
    if index_of(path) is None:
        return f"no .tbi/.csi index: run `{_index_hint(source, path)}`"
    return None


def column_index(spec: str, columns: list[str]) -> int | None:
    """0-based index of a column given by name (exact, else the one of any case) or 1-based
    number; None when there is none."""
    if spec.isdigit():
        number = int(spec)
        return number - 1 if 1 <= number <= len(columns) else None
    if spec in columns:
        return columns.index(spec)
    folded = [i for i, name in enumerate(columns) if name.lower() == spec.lower()]
    return folded[0] if len(folded) == 1 else None


def allele_columns(source: Source, found: SourceFile) -> tuple[int | None, int | None]:
    """0-based REF and ALT columns of a TSV (None, None: matched on position only); a
    SourceFileError when configured ones are missing or none are found by name."""
    out = []
    for which, spec, names in (("ref", source.ref_column, ("ref", "reference")),
                               ("alt", source.alt_column, ("alt", "alternate"))):
        if spec == "":
            out.append(None)
            continue
        if spec is None:
            index = next((i for i, c in enumerate(found.columns) if c.lower() in names), None)
            if index is None:
                raise SourceFileError(
                    f"no {which.upper()} column (named {' or '.join(names)}, any case) among "
                    f"its columns {_few(found.columns, 12)}: set {which}_column to the "
                    "column's name, or to '' to match on the position only")
        else:
            index = column_index(str(spec), found.columns)
            if index is None:
                raise SourceFileError(f"{which}_column '{spec}' is not one of its columns "
                                      f"({_few(found.columns, 12)})")
        out.append(index)
    if (out[0] is None) != (out[1] is None):
        raise SourceFileError("ref_column and alt_column go together: set both to '' to "
                              "match on the position only")
    return out[0], out[1]


def tsv_findings(source: Source, found: SourceFile) -> list[Finding]:
    """A TSV's columns against the configuration: the value columns, REF/ALT, and the
    position column it was indexed on (1-based, not BED-like)."""
    findings: list[Finding] = []
    columns = found.columns
    listed = f"its columns are {_few(columns, 12)} (header line {found.header_line})"
    for fld in source.fields:
        if column_index(fld.source, columns) is None:
            findings.append((fld.key or source.key, fld.source,
                             f"not a column of {source.path}: {listed}"))
    try:
        ref, _alt = allele_columns(source, found)
    except SourceFileError as error:
        key = source.column_keys.get("ref_column", source.key)
        findings.append((key, source.path, str(error)))
        ref = 0
    if ref is None and found.end_column == found.pos_column:
        merged = [fld for fld in source.fields if fld.op != "first"]
        if merged:
            findings.append((merged[0].key or source.key, merged[0].op, (
                "a TSV matched on the position only takes the first row there: ops other "
                "than first need its REF and ALT columns, or an interval (an end column, "
                "indexed with tabix -e)")))
    if found.zero_based:
        findings.append((source.key, source.path, "indexed with 0-based positions (tabix -0 "
                         "or -p bed): index it 1-based, e.g. tabix -s 1 -b 2 -e 2 -c '#'"))
    if source.pos_column:
        wanted = column_index(source.pos_column, columns)
        key = source.column_keys.get("pos_column", source.key)
        if wanted is None:
            findings.append((key, source.pos_column, f"not a column of {source.path}: "
                             f"{listed}"))
        elif wanted + 1 != found.pos_column:
            indexed = (columns[found.pos_column - 1] if found.pos_column <= len(columns)
                       else f"column {found.pos_column}")
            findings.append((key, source.pos_column, (
                f"{source.path} is indexed on column {found.pos_column} ({indexed}), not on "
                f"{source.pos_column}: index it with tabix -s {found.seq_column} -b "
                f"{wanted + 1} -e {wanted + 1} -c '#' {source.path}")))
    return findings


def vcf_findings(source: Source, found: SourceFile) -> list[Finding]:
    """A VCF's INFO tags against the fields configured (ID is always there), and its records
    biallelic (among its first ones)."""
    tags = list(found.info)
    findings: list[Finding] = [
        (fld.key or source.key, fld.source,
         f"not an INFO tag of {source.path}: its INFO tags are {_few(tags, 12) or 'none'}")
        for fld in source.fields if fld.source != "ID" and fld.source not in found.info]
    if found.multiallelic:
        findings.append((source.key, source.path, (
            f"multi-allelic records (e.g. {found.multiallelic}): a record of the calls is "
            "matched to one source record, so the other alleles would get no value; split it: "
            f"bcftools norm -m -any {source.path} -Oz -o split.vcf.gz && tabix -p vcf "
            "split.vcf.gz, then configure split.vcf.gz")))
    return findings


def reference_findings(source: Source, found: SourceFile, lengths: Mapping[str, int]
                       ) -> list[Finding]:
    """Contig naming and genome build against the reference FASTA's contigs `lengths`."""
    if not lengths:
        return []
    findings: list[Finding] = []
    names = found.contigs or list(found.lengths)
    mapping = contig_map(names, set(lengths))
    if names and not mapping:
        fasta = list(lengths)
        findings.append((source.key, source.path, (
            f"its contigs are named {_few(names)} but the reference FASTA's are {_few(fasta)}: "
            f"no contig in common, in either naming (e.g. '{names[0]}' is neither a contig of "
            "the FASTA nor, renamed, one of them): use a file of this reference")))
    if source.legacy:
        findings = []  # the sheets check the legacy population VCF's naming
    mismatched = [(name, length, mapping[name], lengths[mapping[name]])
                  for name, length in found.lengths.items()
                  if name in mapping and lengths.get(mapping[name]) not in (None, length)]
    if mismatched:
        name, length, ref_name, ref_length = mismatched[0]
        findings.append((source.key, source.path, (
            f"from another genome build: its contig {name} is {length:,} bp long, the "
            f"reference FASTA's {ref_name} {ref_length:,} bp ({len(mismatched)} contig"
            f"{'s' if len(mismatched) > 1 else ''} differ); use the file of the FASTA's build")))
    build = fasta_build(dict(lengths))
    if build and not mismatched:
        other = [(b, text) for b, text in found.builds if b != build[0]]
        if other:
            findings.append((source.key, source.path, (
                f"from another genome build: its header names {other[0][0]} ('{other[0][1]}') "
                f"but the reference FASTA is {build[0]} ({build[1]}); use the file of the "
                "FASTA's build")))
    return findings


def source_findings(source: Source, workdir: Path | str, lengths: Mapping[str, int]
                    ) -> list[Finding]:
    """Everything wrong with one source against the reference's contig `lengths` (empty:
    unknown, naming and build not checked)."""
    path = Path(source.resolved(workdir))
    if not source.legacy:
        message = _file_problem(source, path)
        if message:
            return [(source.key, source.path, message)]
    elif not path.is_file() or index_of(path) is None:
        return []  # the sheets report it
    try:
        found = read_source_file(path, source.kind)
    except SourceFileError as error:
        return [] if source.legacy else [(source.key, source.path, str(error))]
    findings = [] if source.legacy else (
        tsv_findings(source, found) if source.kind == TSV else vcf_findings(source, found))
    return findings + reference_findings(source, found, lengths)


def fasta_lengths(config: Mapping[str, Any], workdir: Path | str) -> dict[str, int]:
    """The reference FASTA's contig lengths (empty when it does not read: the sheets' checks
    report that)."""
    value = config.get("reference", {}).get("fasta")
    if not value:
        return {}
    path = Path(workdir, value) if not Path(value).is_absolute() else Path(value)
    try:
        fai = fresh_fai(path) if path.is_file() else None
        return dict(read_fai(fai) if fai else read_contigs(path))
    except (InputError, OSError, ValueError):
        return {}


def source_problems(config: Mapping[str, Any], workdir: Path | str, problem: KeyProblem
                    ) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of the configured annotation sources; `problem` places each at the
    config file and line of its key. The start check that `check_run` runs."""
    annotation = config.get("annotation") or {}
    sources = sources_from_config(annotation)
    errors = [problem(key, value or None, message) for key, value, message
              in mapping_problems(annotation) + name_problems(sources)]
    if not sources:
        return errors, []
    lengths = fasta_lengths(config, workdir)
    for source in sources:
        errors += [problem(key, value, message)
                   for key, value, message in source_findings(source, workdir, lengths)]
    return errors, []
