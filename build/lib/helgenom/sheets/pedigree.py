"""Families and pedigree checks, shared by samples.tsv and PED files; PED reading and writing."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from helgenom import ID_PATTERN
from helgenom.errors import InputError, Problem

SEXES = ("male", "female", "unknown")
PHENOTYPES = ("affected", "unaffected", "unknown")
PED_COLUMNS = ("family_id", "individual_id", "paternal_id", "maternal_id", "sex", "phenotype")
PED_SEX = {"1": "male", "2": "female", "0": "unknown"}
PED_PHENOTYPE = {"2": "affected", "1": "unaffected", "0": "unknown", "-9": "unknown"}
_PARENT_SEX = {"father": "male", "mother": "female"}
_PED_NAMES = {"family": "family_id", "sample": "individual_id", "father": "paternal_id",
              "mother": "maternal_id"}  # samples.tsv column -> PED column

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Individual:
    family: str
    sample: str
    sex: str  # one of SEXES
    phenotype: str  # one of PHENOTYPES
    father: str | None
    mother: str | None


@dataclass
class Family:
    id: str
    members: list[Individual]

    @property
    def affected(self) -> list[Individual]:
        return [m for m in self.members if m.phenotype == "affected"]

    @property
    def unaffected(self) -> list[Individual]:
        return [m for m in self.members if m.phenotype == "unaffected"]

    @property
    def by_id(self) -> dict[str, Individual]:
        return {m.sample: m for m in self.members}

    def parents(self, sample: str) -> tuple[Individual | None, Individual | None]:
        """(father, mother) of `sample`; None for a parent that is not a member."""
        child, by_id = self.by_id[sample], self.by_id
        return by_id.get(child.father or ""), by_id.get(child.mother or "")

    def children(self, sample: str) -> list[Individual]:
        return [m for m in self.members if sample in (m.father, m.mother)]


def build_families(individuals: Sequence[Individual]) -> dict[str, Family]:
    """Group individuals by family, families and members in input order."""
    families: dict[str, Family] = {}
    for ind in individuals:
        families.setdefault(ind.family, Family(ind.family, [])).members.append(ind)
    return families


def check_families(
    individuals: Sequence[Individual],
    file: str,
    lines: Mapping[str, int],
    *,
    row_lines: Sequence[int] | None = None,
    require_affected: bool = True,
) -> tuple[list[Problem], list[Problem]]:
    """Pedigree semantics of already row-checked individuals: (errors, warnings).

    `lines` maps sample ID -> line of its definition; `row_lines` (one per individual, in order)
    locates repeated IDs too. Values that fail the row checks (bad IDs, sex, phenotype) are
    skipped here so that one mistake is reported once. A family without an affected member is
    a warning; no affected individual at all is an error unless `require_affected` is false.
    """
    at = list(row_lines) if row_lines is not None else [lines.get(i.sample) for i in individuals]
    errors: list[Problem] = []
    first: dict[str, int] = {}
    for idx, ind in enumerate(individuals):
        if ind.sample in first:
            prev = first[ind.sample]
            errors.append(Problem(file, at[idx], "sample", ind.sample, (
                f"duplicate sample ID, already defined on line {at[prev]} (family "
                f"'{individuals[prev].family}'); sample IDs must be unique across all families")))
        else:
            first[ind.sample] = idx
    by_id = {sample: individuals[idx] for sample, idx in first.items()}
    line_of = {sample: at[idx] for sample, idx in first.items()}
    families = build_families(individuals)
    for idx, ind in enumerate(individuals):
        for role in ("father", "mother"):
            message = _parent_problem(ind, role, by_id, families, line_of)
            if message:
                errors.append(Problem(file, at[idx], role, getattr(ind, role), message))
    for cycle in _cycles(by_id):
        role = "father" if by_id[cycle[0]].father == cycle[1] else "mother"
        chain = " -> ".join([*cycle, cycle[0]])
        errors.append(Problem(file, line_of[cycle[0]], role, cycle[1], (
            f"ancestry cycle {chain} (each sample followed by its parent); "
            "a sample cannot be its own ancestor")))
    # Invalid phenotype values were reported by the row checks: count them as possibly affected.
    candidates = {fid for fid, fam in families.items()
                  if any(m.phenotype not in ("unaffected", "unknown") for m in fam.members)}
    warnings: list[Problem] = []
    if require_affected and families and not candidates:
        errors.append(Problem(file, None, "phenotype", None, (
            "no family has an affected individual, so there is nothing to analyse; "
            "mark each proband as 'affected'")))
    else:
        family_line: dict[str, int | None] = {}
        for ind, line in zip(individuals, at, strict=True):
            family_line.setdefault(ind.family, line)
        warnings = [Problem(file, family_line[fid], "phenotype", None, (
            f"family '{fid}' has no affected member; it is processed but nothing can be "
            "prioritised for it")) for fid, fam in families.items() if fid not in candidates]
    return errors, warnings


def _parent_problem(
    ind: Individual,
    role: str,
    by_id: Mapping[str, Individual],
    families: Mapping[str, Family],
    line_of: Mapping[str, int | None],
) -> str | None:
    pid: str | None = getattr(ind, role)
    if pid is None or not re.fullmatch(ID_PATTERN, pid):
        return None  # empty, or a malformed ID already reported by the row checks
    if pid == ind.sample:
        return f"sample '{pid}' cannot be its own {role}"
    parent = by_id.get(pid)
    if parent is None:
        members = ", ".join(dict.fromkeys(m.sample for m in families[ind.family].members))
        hint = "; leave the cell empty for an unknown parent" if pid in ("0", "NA") else ""
        return f"unknown {role}: no such sample in family '{ind.family}' (samples: {members}){hint}"
    if parent.family != ind.family:
        return (f"{role} '{pid}' belongs to family '{parent.family}' (line {line_of[pid]}), "
                f"not '{ind.family}'; parents must be in the same family")
    if parent.sex != _PARENT_SEX[role] and parent.sex in SEXES:
        return (f"{role} '{pid}' has sex '{parent.sex}' (line {line_of[pid]}); "
                f"a {role} must be {_PARENT_SEX[role]}")
    return None


def _cycles(by_id: Mapping[str, Individual]) -> list[list[str]]:
    """Ancestry cycles, each as [sample, its parent, that one's parent, ...]."""
    state: dict[str, str] = {}  # "open" while on the current path, then "done"
    cycles: list[list[str]] = []

    def visit(sample: str, path: list[str]) -> None:
        state[sample] = "open"
        path.append(sample)
        ind = by_id[sample]
        for pid in (ind.father, ind.mother):
            parent = by_id.get(pid or "")
            if parent is None or pid == sample or parent.family != ind.family:
                continue  # reported as a parent problem
            if state.get(parent.sample) == "open":
                cycles.append(path[path.index(parent.sample):])
            elif parent.sample not in state:
                visit(parent.sample, path)
        path.pop()
        state[sample] = "done"

    for sample in by_id:
        if sample not in state:
            visit(sample, [])
    return cycles


def ped_text(family: Family) -> str:
    """The family as a 6-column PED (peddy/PLINK style) with a '#' header line."""
    sex_code = {v: k for k, v in PED_SEX.items()}
    pheno_code = {"affected": "2", "unaffected": "1", "unknown": "0"}
    rows = ["#" + "\t".join(PED_COLUMNS)] + [
        "\t".join((family.id, m.sample, m.father or "0", m.mother or "0",
                   sex_code[m.sex], pheno_code[m.phenotype]))
        for m in family.members
    ]
    return "\n".join(rows) + "\n"


def write_ped(family: Family, path: Path | str) -> None:
    """Write the family's PED file (`ped_text`)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(ped_text(family), encoding="utf-8")


def read_ped(path: Path | str) -> dict[str, Family]:
    """Read a PED file (6+ tab- or whitespace-separated columns, optional '#' lines; with
    tabs, an empty parent cell means no parent) into families.

    Raises InputError naming line, column and value of every bad row and pedigree error;
    warnings (a family without an affected member) are logged, not raised.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        message = f"cannot read the PED file: {exc}"
        raise InputError([Problem(file, None, None, None, message)]) from exc
    problems: list[Problem] = []
    individuals: list[Individual] = []
    row_lines: list[int] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        # Tab-separated files may leave a missing parent empty (slivar, peddy); otherwise split
        # on any whitespace. An empty parent cell means '0'.
        fields = ([f.strip() or "0" for f in line.rstrip("\r").split("\t")] if "\t" in line
                  else line.split())
        if not line.strip() or fields[0].startswith("#"):
            continue
        if len(fields) < len(PED_COLUMNS):
            problems.append(Problem(file, lineno, None, None, (
                f"{len(fields)} columns, expected at least 6 whitespace-separated columns: "
                + " ".join(PED_COLUMNS))))
            continue
        row = dict(zip(PED_COLUMNS, fields, strict=False))
        for column in PED_COLUMNS[:4]:
            if row[column] != "0" and not re.fullmatch(ID_PATTERN, row[column]):
                parent = " ('0' for a missing parent)" if column in PED_COLUMNS[2:] else ""
                problems.append(Problem(file, lineno, column, row[column], (
                    f"must be an ID of letters, digits, '_' and '-', starting with a letter or "
                    f"digit{parent}")))
        for column, codes in (("sex", PED_SEX), ("phenotype", PED_PHENOTYPE)):
            if row[column] not in codes:
                allowed = ", ".join(f"{code} ({meaning})" for code, meaning in codes.items())
                problems.append(Problem(file, lineno, column, row[column],
                                        f"must be one of {allowed}"))
        individuals.append(Individual(
            row["family_id"], row["individual_id"], PED_SEX.get(row["sex"], row["sex"]),
            PED_PHENOTYPE.get(row["phenotype"], row["phenotype"]),
            None if row["paternal_id"] == "0" else row["paternal_id"],
            None if row["maternal_id"] == "0" else row["maternal_id"]))
        row_lines.append(lineno)
    if not individuals and not problems:
        problems.append(Problem(file, None, None, None, "no individuals: the PED file has no rows"))
    lines = {ind.sample: n for ind, n in zip(individuals[::-1], row_lines[::-1], strict=True)}
    # A PED may hold one family without an affected member (a warning of the run): not an error.
    errors, warnings = check_families(individuals, file, lines, row_lines=row_lines,
                                      require_affected=False)
    errors = [replace(e, column=_PED_NAMES.get(e.column, e.column)) for e in errors]
    if problems or errors:
        raise InputError(problems + errors)
    for warning in warnings:
        log.warning("%s", warning)
    return build_families(individuals)
