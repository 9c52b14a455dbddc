"""SMN1/SMN2 copy numbers of a family, from SMNCopyNumberCaller (Illumina, v1.1).

`smn_caller.py --manifest --genome --prefix --outDir` writes PREFIX.tsv: one row per BAM of the
manifest, named after the BAM's file name without extension (our alignments are
{sample}.bam/.cram, so the sample), with the columns Sample, isSMA, isCarrier, SMN1_CN,
SMN2_CN, SMN2delta7-8_CN, Total_CN_raw, Full_length_CN_raw, g.27134T>G_CN, SMN1_CN_raw (newer
versions add variants_called). isSMA and isCarrier are True, False or None; a copy number is
a whole number or None (no call). A BAM it cannot read is left out with a warning and exit 0,
so every member must be checked to be there.

The family's table keeps the caller's columns (Scout's `smn_tsv` reads them) for its members,
proband first, and adds family, role and call: `SMA` (no SMN1: isSMA), `carrier` (one SMN1
copy: isCarrier), `SMN1 N copies`, `no call`; with a note when g.27134T>G is present (a
marker of two SMN1 copies on one chromosome: a carrier despite two copies).
"""

from __future__ import annotations

from pathlib import Path

from helgenom.io.atomic import write_atomic
from helgenom.repeats.expansions import roles
from helgenom.repeats.files import problem, read_text, tsv_text
from helgenom.sheets.pedigree import Family

REQUIRED = ("Sample", "isSMA", "isCarrier", "SMN1_CN", "SMN2_CN", "SMN2delta7-8_CN",
            "g.27134T>G_CN")
FLAGS = ("True", "False", "None")
NUMBERS = ("SMN1_CN", "SMN2_CN", "SMN2delta7-8_CN", "g.27134T>G_CN")
ADDED = ("family", "role", "call")


def _copies(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def smn_call(row: dict[str, str]) -> str:
    """The call of one member's row (see the module's description)."""
    smn1, marker = _copies(row["SMN1_CN"]), _copies(row["g.27134T>G_CN"])
    if row["isSMA"] == "True":
        call = "SMA: no SMN1 copy"
    elif row["isCarrier"] == "True":
        call = "carrier: one SMN1 copy"
    elif smn1 is None:
        call = "no call"
    else:
        call = f"SMN1 {smn1} copies"
    if marker:
        call += "; g.27134T>G present (two SMN1 copies on one chromosome: a silent carrier?)"
    return call


def read_smn(path: Path | str) -> tuple[list[str], list[dict[str, str]]]:
    """The columns and rows of an SMNCopyNumberCaller TSV; InputError naming file, line,
    column and value of what does not read."""
    lines = [line.rstrip("\r") for line in read_text(path, "SMNCopyNumberCaller TSV")
             .split("\n") if line.strip()]
    if not lines:
        raise problem(path, "empty: no header line (the SMNCopyNumberCaller TSV)")
    header = lines[0].split("\t")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise problem(path, f"no column {', '.join(map(repr, missing))}: not an "
                      "SMNCopyNumberCaller TSV", 1)
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        values = line.split("\t")
        if len(values) != len(header):
            raise problem(path, f"{len(values)} fields, the header has {len(header)}", number)
        row = dict(zip(header, values, strict=True))
        for column in ("isSMA", "isCarrier"):
            if row[column] not in FLAGS:
                raise problem(path, f"must be one of {', '.join(FLAGS)}", number, column,
                              row[column])
        for column in NUMBERS:
            if row[column] != "None" and not row[column].isdigit():
                raise problem(path, "must be a whole number of copies or None", number, column,
                              row[column])
        rows.append(row)
    return header, rows


def family_smn(path: Path | str, family: Family) -> tuple[list[str], list[dict[str, str]]]:
    """The columns and rows of the family's SMN table: the caller's rows of its members, in
    role order, with family, role and call."""
    header, rows = read_smn(path)
    by_sample = {row["Sample"]: row for row in rows}
    member_roles = roles(family)
    missing = [s for s in member_roles if s not in by_sample]
    if missing:
        raise problem(path, f"no copy numbers of {', '.join(missing)} (SMNCopyNumberCaller "
                      "leaves out an alignment it cannot read: see its log)")
    out = [{**by_sample[s], "family": family.id, "role": role, "call": smn_call(by_sample[s])}
           for s, role in member_roles.items()]
    return [*header, *ADDED], out


def write_smn(path: Path | str, family: Family, out: Path | str) -> list[dict[str, str]]:
    """The family's SMN table (`out`, TSV) from SMNCopyNumberCaller's TSV; its rows."""
    columns, rows = family_smn(path, family)
    write_atomic(tsv_text(columns, rows), out)  # type: ignore[arg-type]
    return rows
