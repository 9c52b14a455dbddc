"""The annotation sources of the config, typed: which file, which of its fields, which INFO
names they are written under.

`annotation` in the config (config/README.md documents every key) -> INFO names written:

- `clinvar.path`: ClinVar VCF -> `CLNSIG`, `CLNREVSTAT` (its INFO), `CLNVID` (its ID column).
- `gnomad.path`: gnomAD sites VCF -> `GNOMADAF` (tag `gnomad.af`), `GNOMADAF_grpmax`
  (`gnomad.af_grpmax`: AF_grpmax in v4, AF_popmax in v2/v3), `gnomad_hom` (`gnomad.nhomalt`).
- `swegen.path`: SweGen or another population VCF -> `SWEGENAF` (tag `swegen.af`).
- `cadd.path`: CADD TSV(s) `#Chrom Pos Ref Alt RawScore PHRED` -> `CADD` (`cadd.column`).
- `revel.path`: REVEL as TSV `chr hg19_pos grch38_pos ref alt aaref aaalt REVEL
  Ensembl_transcriptid` -> `REVEL_score` (`revel.column`; the highest of an allele's rows).
- `spliceai.path`: SpliceAI precomputed VCF(s) -> `SpliceAI`, as the source has it (String,
  `ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL`, one entry per gene).
- `extra[i]`: any VCF (`fields`) or TSV (`columns`) -> its `names`.
- `population_vcf`: the legacy shorthand for a population VCF -> `population_af_tag` (the
  VCF's tag of that name).

A `path` is one file or a list of files written under the same names (CADD's SNV and indel
files, SpliceAI's). Every file is bgzipped and tabix-indexed; a TSV has a header line naming
its columns (the last line starting with '#' before the data), and a variant is matched on
its position (the column the index was built on) and, where the TSV has them, its REF and ALT.
Empty paths are off: every source is optional.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

KeyPath = tuple[str | int, ...]

VCF, TSV = "vcf", "tsv"
# Operations on the values of the matching rows of a TSV (bcftools annotate --merge-logic):
# the config's name -> bcftools' name. A VCF field is taken from the record matching the
# variant as it is there ("self"; "first" is the same).
TSV_OPS = {"first": "first", "max": "max", "min": "min", "mean": "avg", "sum": "sum",
           "concat": "append", "uniq": "unique"}
VCF_OPS = ("self", "first")
TYPES = ("Float", "Integer", "String")
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.]*$"
# INFO tags of the calls (bcftools mpileup/call, freebayes) and of `bcftools csq`: a source
# written under one of these names would overwrite the caller's value.
RESERVED = frozenset({
    "AC", "AN", "AF", "DP", "DP4", "MQ", "MQ0F", "MQSBZ", "BQBZ", "MQBZ", "RPBZ", "SCBZ",
    "SGB", "VDB", "IDV", "IMF", "INDEL", "NS", "AO", "RO", "TYPE", "CIGAR", "BCSQ", "END",
    "SVTYPE", "SVLEN"})


@dataclass(frozen=True)
class Field:
    """One value a source writes: `source` (a VCF's INFO tag or ID; a TSV's column name, or
    its 1-based number as text) under the INFO tag `name`."""

    source: str
    name: str
    op: str = "self"
    type: str = "String"  # TSV columns: the Type of the INFO line written; a VCF's is copied
    number: str = "1"
    key: KeyPath = ()  # the config key naming `source`, for problems
    description: str = ""  # of the INFO line written for a TSV column


@dataclass(frozen=True)
class Source:
    """One annotation file and what is taken from it."""

    label: str  # for messages: "ClinVar VCF", "annotation.extra[0]"
    key: KeyPath  # the config key of its path (a list item: with its index)
    path: str  # as configured (relative to the working directory unless absolute)
    kind: str  # VCF or TSV
    fields: tuple[Field, ...]
    # TSV: the columns holding REF, ALT and the position, by name or 1-based number; None:
    # found by name (ref/reference/alt/alternate, any case; the position: the indexed column);
    # "" (REF/ALT): match on the position only.
    ref_column: str | None = None
    alt_column: str | None = None
    pos_column: str | None = None
    # The config keys of those settings, for problems.
    column_keys: Mapping[str, KeyPath] = field(default_factory=dict)
    # Sources already checked at start by the sheets (the legacy population VCF): only what
    # the sheets do not check (the genome build) is checked again.
    legacy: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def resolved(self, workdir: str | os.PathLike[str] = ".") -> str:
        """The path, absolute (relative paths resolve against `workdir`)."""
        return os.path.abspath(os.path.join(workdir, os.path.expanduser(self.path)))


@dataclass(frozen=True)
class Named:
    """A named source of the config: its kind, label, and (INFO name, config key of the
    source field or column, default, op, type) of each value it writes."""

    label: str
    kind: str
    values: tuple[tuple[str, str, str, str, str], ...]
    columns: tuple[tuple[str, str | None], ...] = ()  # (key, default) of ref/alt/pos columns


NAMED: dict[str, Named] = {
    "clinvar": Named("ClinVar VCF", VCF, (
        ("CLNSIG", "", "CLNSIG", "self", ""), ("CLNREVSTAT", "", "CLNREVSTAT", "self", ""),
        ("CLNVID", "", "ID", "self", ""))),
    "gnomad": Named("gnomAD VCF", VCF, (
        ("GNOMADAF", "af", "AF", "self", ""),
        ("GNOMADAF_grpmax", "af_grpmax", "AF_grpmax", "self", ""),
        ("gnomad_hom", "nhomalt", "nhomalt", "self", ""))),
    "swegen": Named("SweGen (population) VCF", VCF, (("SWEGENAF", "af", "AF", "self", ""),)),
    "cadd": Named("CADD TSV", TSV, (("CADD", "column", "PHRED", "max", "Float"),),
                  (("ref_column", None), ("alt_column", None), ("pos_column", None))),
    "revel": Named("REVEL TSV", TSV, (("REVEL_score", "column", "REVEL", "max", "Float"),),
                   (("ref_column", "ref"), ("alt_column", "alt"), ("pos_column", "grch38_pos"))),
    "spliceai": Named("SpliceAI VCF", VCF, (("SpliceAI", "field", "SpliceAI", "self", ""),)),
}
# Descriptions of the INFO lines written for the named TSV sources' columns.
DESCRIPTIONS = {
    "CADD": "CADD PHRED-scaled deleteriousness score",
    "REVEL_score": "REVEL missense pathogenicity score (the highest of the allele's rows)",
}
# The INFO names a run may write, in the order the sources are read.
INFO_NAMES = tuple(value[0] for named in NAMED.values() for value in named.values)


def dotted(key: KeyPath) -> str:
    """annotation.extra[0].names: a config key path as the docs write it."""
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _paths(value: Any) -> list[str]:
    """A configured `path`: one file or a list of files; empty entries are off."""
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str) and item]
    return []


def _path_key(base: KeyPath, value: Any, index: int) -> KeyPath:
    return (*base, "path", index) if isinstance(value, list) else (*base, "path")


def _number(op: str) -> str:
    return "." if op in ("concat", "uniq") else "1"


def _named_sources(annotation: Mapping[str, Any]) -> list[Source]:
    sources = []
    for name, spec in NAMED.items():
        entry = annotation.get(name) or {}
        if not isinstance(entry, Mapping):
            continue
        base: KeyPath = ("annotation", name)
        fields = []
        for info, setting, default, op, kind in spec.values:
            source = entry.get(setting, default) if setting else default
            if not source:  # a field set to "" is not taken (e.g. a gnomAD file without it)
                continue
            # a fixed field (ClinVar's) is placed at the path's key in problems
            key: KeyPath = (*base, setting) if setting else ()
            fields.append(Field(str(source), info, op, kind or "String", _number(op), key,
                                DESCRIPTIONS.get(info, "")))
        columns = {key: entry.get(key, default) for key, default in spec.columns}
        paths = entry.get("path", "")
        for index, path in enumerate(_paths(paths)):
            if fields:
                sources.append(Source(
                    spec.label, _path_key(base, paths, index), path, spec.kind, tuple(fields),
                    ref_column=columns.get("ref_column"), alt_column=columns.get("alt_column"),
                    pos_column=columns.get("pos_column"),
                    column_keys={k: (*base, k) for k in columns}))
    return sources


def _extra_sources(annotation: Mapping[str, Any]) -> list[Source]:
    sources = []
    for i, entry in enumerate(annotation.get("extra") or []):
        if not isinstance(entry, Mapping):
            continue
        base: KeyPath = ("annotation", "extra", i)
        kind = TSV if entry.get("columns") else VCF
        items = entry.get("columns") if kind == TSV else entry.get("fields")
        items = list(items or [])
        names = list(entry.get("names") or [str(item) for item in items])
        ops = list(entry.get("ops") or [])
        types = list(entry.get("types") or [])
        fields = []
        for j, item in enumerate(items):
            op = ops[j] if j < len(ops) else ("first" if kind == TSV else "self")
            default_type = "Float" if op in ("max", "min", "mean", "sum") else "String"
            fields.append(Field(
                str(item), names[j] if j < len(names) else str(item), op,
                types[j] if j < len(types) else default_type, _number(op),
                (*base, "columns" if kind == TSV else "fields", j)))
        paths = entry.get("path", "")
        for index, path in enumerate(_paths(paths)):
            sources.append(Source(
                f"annotation.extra[{i}] {'TSV' if kind == TSV else 'VCF'}",
                _path_key(base, paths, index), path, kind, tuple(fields),
                ref_column=entry.get("ref_column"), alt_column=entry.get("alt_column"),
                pos_column=entry.get("pos_column"),
                column_keys={k: (*base, k) for k in ("ref_column", "alt_column", "pos_column")}))
    return sources


def _legacy_source(annotation: Mapping[str, Any]) -> list[Source]:
    path, tag = annotation.get("population_vcf") or "", annotation.get("population_af_tag")
    if not path or not tag:
        return []
    return [Source("population VCF", ("annotation", "population_vcf"), path, VCF,
                   (Field(tag, tag, "self", key=("annotation", "population_af_tag")),),
                   legacy=True)]


def sources_from_config(annotation: Mapping[str, Any]) -> list[Source]:
    """The configured sources of the `annotation` section (schema-validated, defaults filled
    or not), in the order they are read: the legacy population VCF, the named sources, then
    `extra`. Sources whose path is empty are off and not listed."""
    return _legacy_source(annotation) + _named_sources(annotation) + _extra_sources(annotation)


def source_files(annotation: Mapping[str, Any]) -> list[str]:
    """The configured files of every source (as configured), each once, in order."""
    return list(dict.fromkeys(source.path for source in sources_from_config(annotation)))


def mapping_problems(annotation: Mapping[str, Any]) -> list[tuple[KeyPath, str, str]]:
    """(config key, value, message) of `extra` entries that do not map: `fields` (a VCF) or
    `columns` (a TSV), one of them; as many `names` (and at most as many `ops`, `types`) as
    fields or columns; ops that fit the kind of file."""
    found = []
    for i, entry in enumerate(annotation.get("extra") or []):
        if not isinstance(entry, Mapping):
            continue
        base: KeyPath = ("annotation", "extra", i)
        fields, columns = entry.get("fields"), entry.get("columns")
        if bool(fields) == bool(columns):
            found.append((base, "", "needs `fields` (INFO tags of a VCF) or `columns` (of a "
                          "TSV), one of the two" + (", not both" if fields else "")))
            continue
        kind, items = ("columns", columns) if columns else ("fields", fields)
        for key in ("names", "ops", "types"):
            given = entry.get(key)
            if given is None:
                continue
            if len(given) > len(items) or (key == "names" and len(given) != len(items)):
                found.append(((*base, key), str(len(given)), (
                    f"{len(given)} {key} for {len(items)} {kind}: give "
                    + ("one name per entry" if key == "names" else "at most one per entry"))))
        for j, op in enumerate(entry.get("ops") or []):
            if columns and op == "self":
                found.append(((*base, "ops", j), op, "self is for a VCF's fields; a TSV column "
                              f"takes one of {', '.join(TSV_OPS)}"))
            elif fields and op not in VCF_OPS:
                found.append(((*base, "ops", j), op, "a VCF field is taken from the record "
                              "matching the variant as it is there: self (or first)"))
        if fields and entry.get("types"):
            found.append(((*base, "types"), "", "types are for a TSV's columns; a VCF field "
                          "keeps the type its header declares"))
    return found


def name_problems(sources: Sequence[Source]) -> list[tuple[KeyPath, str, str]]:
    """(config key, value, message) of INFO names that cannot be written: written by two
    sources (the files of one source's `path` list share theirs), reserved for the calls'
    own tags, or not valid INFO names."""
    found = []
    owners: dict[str, KeyPath] = {}
    for source in sources:
        owner = source.key[:-1] if isinstance(source.key[-1], int) else source.key
        for fld in source.fields:
            where = fld.key or source.key
            if not re.fullmatch(NAME_PATTERN, fld.name):
                found.append((where, fld.name, "not a valid INFO name (letters, digits, '_' "
                              "and '.', not starting with a digit)"))
            elif fld.name in RESERVED:
                found.append((where, fld.name, f"INFO/{fld.name} is a tag of the calls "
                              "themselves: write this value under another name"))
            elif fld.name in owners and owners[fld.name] != owner:
                other = dotted(tuple(p for p in owners[fld.name] if p != "path"))
                found.append((where, fld.name, f"INFO/{fld.name} is already written by "
                              f"{other}: configure one of them, or name this one otherwise"))
            owners.setdefault(fld.name, owner)
    return found


def sources_json(annotation: Mapping[str, Any]) -> dict[str, Any]:
    """The part of the `annotation` section the small-variant sources read: what rule
    annotate_snv passes to `helgenom annotate-sources --annotation` (JSON)."""
    keys = ("population_vcf", "population_af_tag", *NAMED, "extra")
    return {key: annotation[key] for key in keys if key in annotation}
