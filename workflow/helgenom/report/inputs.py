"""What the clinicians' deliverables read, and how they are written: shared by the workbook
(`helgenom.report.workbook`) and the HTML report (`helgenom.report.html`).

  read_candidate_list  the candidate list of `helgenom rank`: its leading `## QC:` lines and
                       the table (text cells) in rank order
  read_qc              the family, verdict, rows and candidate-list lines of a `helgenom qc` JSON
  family_in_ped        one family of a PED file
  member_roles         each member's role (proband, father, mother, sibling, ...), column order
  check_candidates     the candidates and their genotype columns are of that family
  top_rows, shown_note the top-ranked candidates a deliverable shows, and the line saying so

Every problem is an InputError naming the file (and line, column and value when known). No
spreadsheet or HTML library is imported here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from helgenom.errors import InputError, Problem
from helgenom.sheets.pedigree import Family, Individual, read_ped

MISSING = frozenset({"", "."})  # an empty cell of the candidate list
REQUIRED_COLUMNS = ("rank", "gene")
QC_REQUIRED = ("level", "unit", "metric", "verdict")


@dataclass
class CandidateList:
    qc_lines: list[str]
    table: pd.DataFrame  # text cells, in rank order (the top `keep` rows when capped)
    first_line: int  # file line of the table's first row
    total: int = -1  # candidates in the file (all of them, also when `table` is capped)
    families: frozenset[str] = frozenset()  # the `family` values of every row

    def __post_init__(self) -> None:
        if self.total < 0:
            self.total = len(self.table)


@dataclass
class QcReport:
    family: str
    verdict: str
    rows: list[dict[str, Any]]
    header_lines: list[str]


def input_error(path: Path | str, message: str, line: int | None = None,
                column: str | None = None, value: str | None = None) -> InputError:
    """An InputError of one problem in `path`."""
    return InputError([Problem(str(path), line, column, value, message)])


ROWS_PER_CHUNK = 200_000


def read_candidate_list(path: Path | str, keep: int = 0) -> CandidateList:
    """The candidate list: its leading `## ...` lines and the table (text), in rank order;
    with `keep`, only its top `keep` rows are kept (the file is read in chunks of
    ROWS_PER_CHUNK rows, so a whole genome's list takes little memory), the count of all
    rows and their families still known."""
    kept: pd.DataFrame | None = None
    total, families = 0, set()
    try:
        with open(path, encoding="utf-8") as handle:
            qc_lines = []
            while (line := handle.readline()).startswith("##"):
                qc_lines.append(line.rstrip("\r\n"))
            handle.seek(0)
            first_line = len(qc_lines) + 2
            for chunk in pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False,
                                     skiprows=len(qc_lines), chunksize=ROWS_PER_CHUNK):
                if kept is None:
                    missing = [c for c in REQUIRED_COLUMNS if c not in chunk.columns]
                    if missing:
                        raise input_error(path, f"no column {', '.join(map(repr, missing))}: "
                                          "not a helgenom candidate list")
                bad = ~chunk["rank"].str.fullmatch(r"\d+")
                if bad.any():
                    row = int(bad.to_numpy().argmax())
                    raise input_error(path, "the rank must be a whole number",
                                      first_line + total + row, "rank", chunk["rank"].iloc[row])
                total += len(chunk)
                if "family" in chunk.columns:
                    families.update(chunk["family"].unique())
                both = chunk if kept is None else pd.concat([kept, chunk], ignore_index=True)
                order = both["rank"].astype(int).sort_values(kind="stable").index
                kept = both.loc[order[:keep] if keep > 0 else order].reset_index(drop=True)
            if kept is None:  # a header and no rows
                handle.seek(0)
                kept = pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False,
                                   skiprows=len(qc_lines), nrows=0)
                missing = [c for c in REQUIRED_COLUMNS if c not in kept.columns]
                if missing:
                    raise input_error(path, f"no column {', '.join(map(repr, missing))}: not "
                                      "a helgenom candidate list")
    except OSError as error:
        raise input_error(path, f"cannot read the candidate list ({error.strerror})") from None
    except UnicodeDecodeError:
        raise input_error(path, "not a text file: not a helgenom candidate list") from None
    except pd.errors.EmptyDataError:
        raise input_error(path, "no header line: not a helgenom candidate list") from None
    except pd.errors.ParserError as error:
        reason = str(error).strip().splitlines()[-1]
        raise input_error(path, f"not a tab-separated candidate list ({reason})") from None
    return CandidateList(qc_lines, kept, first_line, total, frozenset(families))


def read_qc(path: Path | str) -> QcReport:
    """The family, verdict, rows and candidate-list lines of a `helgenom qc` JSON."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise input_error(path, f"cannot read the QC JSON ({error.strerror})") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise input_error(path, f"not JSON ({error}): not a helgenom qc result") from None
    if not isinstance(document, dict) or not isinstance(document.get("rows"), list) or not all(
            isinstance(document.get(key), str) for key in ("family", "verdict")):
        raise input_error(path, "no family, verdict and rows: not a helgenom qc result")
    for number, row in enumerate(document["rows"], start=1):
        absent = [k for k in QC_REQUIRED if not isinstance(row, dict) or k not in row]
        if absent:
            raise input_error(path, f"QC row {number} has no {', '.join(absent)}")
    lines = document.get("header_lines") or []
    return QcReport(document["family"], document["verdict"], document["rows"],
                    [str(line) for line in lines])


def qc_text(lines: Iterable[str]) -> list[str]:
    """The text of `## QC: ...` lines: without the leading '#'s and spaces."""
    return [line.lstrip("#").strip() for line in lines]


# ----------------------------------------------------------------------------------- family
def family_in_ped(ped: Path | str, name: str) -> Family:
    """Family `name` of the PED file `ped`."""
    families = read_ped(ped)
    if name not in families:
        raise input_error(ped, f"no family {name} in the PED (it has {', '.join(families)})")
    return families[name]


def member_roles(family: Family) -> dict[str, str]:
    """Each member's role, members in column order: the proband (the affected member with
    the most parents in the family), father, mother, siblings, then the others."""
    by_id = family.by_id
    affected = family.affected
    proband = max(affected, key=lambda m: sum(p in by_id for p in (m.father, m.mother)),
                  default=None)
    roles: dict[str, str] = {}
    if proband is not None:
        roles[proband.sample] = "proband"
        for role in ("father", "mother"):
            parent = getattr(proband, role)
            if parent in by_id:
                roles[parent] = role
    parents = {p for p in (proband.father, proband.mother) if p} if proband else set()
    for member in family.members:
        if member.sample in roles:
            continue
        sibling = bool(parents & {member.father, member.mother})
        if member.phenotype == "affected":
            roles[member.sample] = "affected sibling" if sibling else "affected"
        else:
            roles[member.sample] = "sibling" if sibling else member.phenotype
    return roles


def ordered_members(family: Family, roles: Mapping[str, str]) -> list[Individual]:
    """The family's members in the order of `roles` (member_roles: the proband first)."""
    by_id = family.by_id
    return [by_id[sample] for sample in roles if sample in by_id]


def check_candidates(candidates: CandidateList, path: Path | str, family: Family,
                     roles: Mapping[str, str], ped: Path | str) -> None:
    """Raise an InputError naming `path` (the candidate list) when a candidate is of another
    family, or a genotype column of someone who is not a member of `family` (in `ped`)."""
    table = candidates.table
    for offset, value in enumerate(table.get("family", ())):
        if value != family.id:
            raise input_error(path, f"a candidate of another family (this is family "
                              f"{family.id})", candidates.first_line + offset, "family", value)
    others = sorted(candidates.families - {family.id})
    if others:  # beyond the rows kept
        raise input_error(path, f"a candidate of another family (this is family {family.id})",
                          None, "family", others[0])
    strangers = [c.removesuffix("_GT") for c in table.columns
                 if c.endswith("_GT") and c.removesuffix("_GT") not in roles]
    if strangers:
        raise input_error(path, f"genotypes of {', '.join(strangers)}, who are not members of "
                          f"family {family.id} in {ped}")


# ------------------------------------------------------------------------------ shown rows
def top_rows(table: pd.DataFrame, limit: int, room: int | None = None) -> pd.DataFrame:
    """The first `limit` rows of `table` (in rank order; 0: all of them), never more than
    `room` (what the deliverable can hold, when it has a limit)."""
    count = len(table) if limit <= 0 else limit
    if room is not None:
        count = min(count, room)
    return table if count >= len(table) else table.head(count)


def shown_note(shown: int, total: int, candidates: Path | str) -> str:
    """The line saying only the top `shown` of `total` candidates are shown."""
    return (f"top {shown} of {total} candidates; the full list is in "
            f"{Path(candidates).name}")

