"""A family's repeat expansions, from its Stranger-annotated ExpansionHunter VCF.

ExpansionHunter (v5) writes one record per repeat and sample: INFO END, REF (the reference's
repeat units), RL, RU (repeat unit), VARID and REPID (the catalog's ID), and FORMAT
GT:SO:REPCN:REPCI:ADSP:ADFL:ADIR:LC, where REPCN holds the repeat units of each allele
("19/45"; one value on a male's chrX). The family's per-sample VCFs are merged (bcftools
merge), and Stranger adds the catalog's thresholds and disease: STR_NORMAL_MAX (the longest
normal allele), STR_PATHOLOGIC_MIN (the shortest pathogenic one), STR_STATUS (the most severe
of the record's ALT alleles: normal, pre_mutation, full_mutation), Disease, InheritanceMode,
HGNCId, DisplayRU, SourceDisplay. A repeat may come as one record or split over several (one
per ALT, as MIP/svdb write them); each member's alleles are read from the record that holds
them.

Each member's alleles are classified as Stranger classifies ALTs: at most STR_NORMAL_MAX
normal, below STR_PATHOLOGIC_MIN pre_mutation, else full_mutation. The family call of a
repeat is `pathogenic` when an affected member's full-mutation alleles fit the disease's
inheritance (AD, XD or unknown: one allele; AR: both; XR: the one allele of a male, both of a
female), else the most severe status of any member (`full_mutation`: e.g. a carrier of a
recessive expansion; `pre_mutation`, `normal`), `no_call` when nobody was genotyped, and
`unclassified` when the catalog gives no thresholds. Pathogenic repeats become candidate rows
(type STR) at the top of the family's candidate list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from helgenom.io.atomic import write_atomic
from helgenom.repeats.files import problem, read_text, tsv_text
from helgenom.sheets.pedigree import Family, Individual

STATUSES = ("normal", "pre_mutation", "full_mutation")
CALL_ORDER = ("pathogenic", "full_mutation", "pre_mutation", "normal", "unclassified", "no_call")
# GENMOD's model names of a repeat fitting its disease's inheritance (candidate list `models`).
MODELS = {"AD": "AD", "AR": "AR_hom", "XR": "XR", "XD": "XD"}
COLUMNS = ["family", "repid", "gene", "chrom", "pos", "end", "repeat_unit", "reference_units",
           "disease", "inheritance", "normal_max", "pathologic_min", "call", "stranger_status",
           "filter", "note"]
MEMBER_FIELDS = ("REPCN", "status", "REPCI", "LC")


@dataclass
class Genotype:
    """One member at one repeat: repeat units per allele (empty: not genotyped)."""

    alleles: tuple[int, ...] = ()
    gt: str = "./."
    ci: str = "."
    coverage: str = "."

    @property
    def text(self) -> str:
        return "/".join(map(str, self.alleles)) or "."


@dataclass
class Repeat:
    repid: str
    chrom: str
    pos: int
    end: int
    ref: str  # the reference base at POS
    unit: str
    reference_units: str
    info: dict[str, str]
    filter: str
    line: int
    genotypes: dict[str, Genotype] = field(default_factory=dict)
    alts: set[str] = field(default_factory=set)

    def threshold(self, key: str) -> int | None:
        value = self.info.get(key, "")
        return int(value) if value.isdigit() else None

    @property
    def normal_max(self) -> int | None:
        return self.threshold("STR_NORMAL_MAX")

    @property
    def pathologic_min(self) -> int | None:
        return self.threshold("STR_PATHOLOGIC_MIN")

    @property
    def gene(self) -> str:
        """The repeat's gene: its ID up to the first '_' (ATXN8OS, ARX_EIEE -> ARX)."""
        return self.repid.split("_", 1)[0]

    @property
    def inheritance(self) -> str:
        return self.info.get("InheritanceMode", "")

    @property
    def stranger_status(self) -> str:
        found = [s for s in re.split(r"[,|]", self.info.get("STR_STATUS", "")) if s in STATUSES]
        return max(found, key=STATUSES.index) if found else ""


def allele_status(units: int, normal_max: int, pathologic_min: int) -> str:
    """Stranger's classes: at most normal_max normal, below pathologic_min pre_mutation,
    else full_mutation."""
    if units <= normal_max:
        return "normal"
    return "pre_mutation" if units < pathologic_min else "full_mutation"


def genotype_status(repeat: Repeat, genotype: Genotype) -> str:
    """The most severe status of a member's alleles; 'no_call', or 'unclassified' without
    thresholds."""
    if not genotype.alleles:
        return "no_call"
    normal_max, pathologic_min = repeat.normal_max, repeat.pathologic_min
    if normal_max is None or pathologic_min is None:
        return "unclassified"
    return max((allele_status(n, normal_max, pathologic_min) for n in genotype.alleles),
               key=STATUSES.index)


# ------------------------------------------------------------------------------ reading
def _info(text: str) -> dict[str, str]:
    if text in ("", "."):
        return {}
    pairs = (item.partition("=") for item in text.split(";") if item)
    return {key: value for key, _, value in pairs}


def _genotype(fields: dict[str, str], path: Path, line: int, sample: str) -> Genotype:
    units = fields.get("REPCN", ".")
    if units in (".", "./.", ""):
        return Genotype()
    parts = units.split("/")
    if not all(part.isdigit() for part in parts):
        raise problem(path, f"REPCN of {sample} is not repeat units per allele (e.g. 19/45)",
                      line, "REPCN", units)
    return Genotype(tuple(int(p) for p in parts), fields.get("GT", "./."),
                    fields.get("REPCI", "."), fields.get("LC", "."))


def read_repeats(path: Path | str) -> tuple[list[str], list[Repeat]]:
    """The samples and repeats (in file order) of a Stranger-annotated ExpansionHunter VCF;
    InputError naming file, line, field and value of what does not read."""
    path = Path(path)
    text = read_text(path, "Stranger-annotated ExpansionHunter VCF")
    samples: list[str] | None = None
    repeats: dict[str, Repeat] = {}
    annotated = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("##"):
            annotated = annotated or line.startswith("##INFO=<ID=STR_STATUS,")
            continue
        if line.startswith("#CHROM"):
            if not annotated:
                raise problem(path, "no STR_STATUS in the header: not annotated by Stranger "
                              "(run `stranger` on the ExpansionHunter VCF first)", number)
            samples = line.split("\t")[9:]
            continue
        if not line.strip():
            continue
        if samples is None:
            raise problem(path, "a record before the #CHROM line: not a VCF", number)
        cols = line.split("\t")
        if len(cols) != 9 + len(samples):
            raise problem(path, f"{len(cols)} columns, the header has {9 + len(samples)}",
                          number)
        info = _info(cols[7])
        repid = info.get("REPID") or info.get("VARID")
        if not repid:
            raise problem(path, "no REPID (or VARID) in INFO: not an ExpansionHunter record",
                          number, "INFO", cols[7][:60])
        keys = cols[8].split(":")
        if "REPCN" not in keys:
            raise problem(path, "no REPCN in FORMAT: not an ExpansionHunter record", number,
                          "FORMAT", cols[8])
        if not cols[1].isdigit():
            raise problem(path, "POS is not a whole number", number, "POS", cols[1])
        end = info.get("END", cols[1])
        repeat = repeats.get(repid)
        if repeat is None:
            repeat = repeats[repid] = Repeat(
                repid, cols[0], int(cols[1]), int(end) if end.isdigit() else int(cols[1]),
                cols[3], info.get("DisplayRU") or info.get("RU", ""), info.get("REF", ""), info,
                cols[6], number)
        else:  # a repeat split over several records: the most severe status and thresholds
            for key, value in info.items():
                repeat.info.setdefault(key, value)
            status = [repeat.stranger_status, *re.split(r"[,|]", info.get("STR_STATUS", ""))]
            known = [s for s in status if s in STATUSES]
            if known:
                repeat.info["STR_STATUS"] = max(known, key=STATUSES.index)
        repeat.alts.update(a for a in cols[4].split(",") if a != ".")
        for sample, value in zip(samples, cols[9:], strict=True):
            if repeat.genotypes.get(sample, Genotype()).alleles:
                continue
            fields = dict(zip(keys, value.split(":"), strict=False))
            repeat.genotypes[sample] = _genotype(fields, path, number, sample)
    if samples is None:
        raise problem(path, "no #CHROM header line: not a VCF")
    return samples, list(repeats.values())


# ------------------------------------------------------------------------------ the family
def roles(family: Family) -> dict[str, str]:
    """Each member's role, the proband first (the affected member with the most parents in
    the family), then its father and mother, then the others by phenotype."""
    by_id = family.by_id
    proband = max(family.affected, default=None,
                  key=lambda m: sum(p in by_id for p in (m.father, m.mother)))
    found: dict[str, str] = {}
    if proband is not None:
        found[proband.sample] = "proband"
        for role in ("father", "mother"):
            if getattr(proband, role) in by_id:
                found[getattr(proband, role)] = role
    for member in family.members:
        found.setdefault(member.sample, "affected" if member.phenotype == "affected"
                         else member.phenotype)
    return found


def on_x(chrom: str) -> bool:
    return chrom.removeprefix("chr").upper() == "X"


def fits_inheritance(repeat: Repeat, member: Individual, genotype: Genotype) -> bool:
    """Whether a member's full-mutation alleles are enough for the disease's inheritance:
    AD, XD or unknown one; AR both (or the only allele called); XR the one of a male on chrX
    (or the only one called), both of a female."""
    pathologic_min = repeat.pathologic_min
    if pathologic_min is None or not genotype.alleles:
        return False
    full = sum(n >= pathologic_min for n in genotype.alleles)
    mode = repeat.inheritance.upper()
    whole = full == len(genotype.alleles)  # every allele called is expanded
    if "AD" in mode or "XD" in mode or not re.search(r"AR|XR", mode):
        return full >= 1
    if "XR" in mode and member.sex == "male" and on_x(repeat.chrom):
        return full >= 1
    return full >= 2 or (whole and full >= 1)


def _member_text(repeat: Repeat, sample: str, role: str) -> str:
    genotype = repeat.genotypes.get(sample, Genotype())
    return f"{role} {sample} {genotype.text} ({genotype_status(repeat, genotype)})"


def family_call(repeat: Repeat, family: Family, member_roles: Mapping[str, str]
                ) -> tuple[str, str]:
    """(call, note) of a repeat in the family (see the module's description)."""
    by_id = family.by_id
    statuses = {s: genotype_status(repeat, repeat.genotypes.get(s, Genotype()))
                for s in member_roles}
    mode = repeat.inheritance or "inheritance unknown"
    fitting = [s for s in member_roles if by_id[s].phenotype == "affected"
               and fits_inheritance(repeat, by_id[s], repeat.genotypes.get(s, Genotype()))]
    others = "; ".join(_member_text(repeat, s, r) for s, r in member_roles.items()
                       if s not in fitting)
    if fitting:
        who = ", ".join(f"{member_roles[s]} {s} "
                        f"{repeat.genotypes[s].text}" for s in fitting)
        return "pathogenic", (f"{mode}: at or over the pathogenic size "
                              f"({repeat.pathologic_min}) in {who}"
                              + (f"; {others}" if others else ""))
    if set(statuses.values()) == {"no_call"}:
        return "no_call", "no member genotyped"
    if "unclassified" in statuses.values():
        return "unclassified", "no thresholds in the catalog for this repeat"
    worst = max((s for s in statuses.values() if s in STATUSES), key=STATUSES.index)
    note = ""
    if worst == "full_mutation":
        affected = [s for s in member_roles if by_id[s].phenotype == "affected"
                    and statuses[s] == "full_mutation"]
        note = (f"{mode}: an allele at or over the pathogenic size, too few for {mode} in "
                f"{', '.join(affected)} (a carrier?); " if affected else
                f"{mode}: an allele at or over the pathogenic size in unaffected members only; ")
    elif worst == "pre_mutation":
        note = "between the normal and pathogenic sizes; "
    if worst != "normal":
        note += "; ".join(_member_text(repeat, s, r) for s, r in member_roles.items())
    return worst, note


def _chrom_key(chrom: str) -> tuple[int, str]:
    name = chrom.removeprefix("chr")
    return (int(name), "") if name.isdigit() else (100, name)


def repeat_rows(family: Family, samples: Sequence[str], repeats: Sequence[Repeat],
                path: Path | str = "the VCF") -> list[dict[str, object]]:
    """One row per repeat: the family call first (pathogenic, full_mutation, ...), then by
    position; each member's alleles, status, confidence interval and locus coverage."""
    member_roles = roles(family)
    missing = [s for s in member_roles if s not in samples]
    if missing:
        raise problem(path, f"no genotypes of {', '.join(missing)}: not the VCF of family "
                      f"{family.id} (its samples: {', '.join(samples) or 'none'})")
    rows = []
    for repeat in repeats:
        call, note = family_call(repeat, family, member_roles)
        row: dict[str, object] = {
            "family": family.id, "repid": repeat.repid, "gene": repeat.gene,
            "chrom": repeat.chrom, "pos": repeat.pos, "end": repeat.end,
            "repeat_unit": repeat.unit or ".", "reference_units": repeat.reference_units or ".",
            "disease": repeat.info.get("Disease", "") or ".",
            "inheritance": repeat.inheritance or ".",
            "normal_max": repeat.normal_max if repeat.normal_max is not None else ".",
            "pathologic_min": repeat.pathologic_min if repeat.pathologic_min is not None
            else ".", "call": call, "stranger_status": repeat.stranger_status or ".",
            "filter": repeat.filter, "note": note or "."}
        for sample in member_roles:
            genotype = repeat.genotypes.get(sample, Genotype())
            row.update({f"{sample}_REPCN": genotype.text,
                        f"{sample}_status": genotype_status(repeat, genotype),
                        f"{sample}_REPCI": genotype.ci, f"{sample}_LC": genotype.coverage})
        row["_sort"] = (CALL_ORDER.index(call), _chrom_key(repeat.chrom), repeat.pos)
        rows.append(row)
    rows.sort(key=lambda r: r["_sort"])  # type: ignore[arg-type,return-value]
    for row in rows:
        del row["_sort"]
    return rows


def table_columns(family: Family) -> list[str]:
    return COLUMNS + [f"{s}_{f}" for s in roles(family) for f in MEMBER_FIELDS]


def write_repeats(vcf: Path | str, family: Family, out: Path | str) -> list[dict[str, object]]:
    """The family's repeats table (`out`, TSV) from its Stranger VCF; its rows."""
    samples, repeats = read_repeats(vcf)
    if not repeats:
        raise problem(vcf, "no repeat record: ExpansionHunter genotyped nothing (check its "
                      "log and the catalog)")
    rows = repeat_rows(family, samples, repeats, vcf)
    write_atomic(tsv_text(table_columns(family), rows), out)
    return rows


# ----------------------------------------------------------------------- candidate list
def candidate_rows(rows: Sequence[Mapping[str, object]], repeats: Mapping[str, Repeat],
                   columns: Sequence[str], family: Family) -> list[dict[str, str]]:
    """Candidate-list rows (type STR) of the pathogenic repeats, in the list's `columns`:
    the longest allele of an affected member as ALT (<STRn>), the disease and sizes under
    `diseases`, the fitting model under `models`, each member's GT and locus coverage (DP)."""
    out = []
    member_roles = roles(family)
    for row in rows:
        if row["call"] != "pathogenic":
            continue
        repeat = repeats[str(row["repid"])]
        affected = [repeat.genotypes.get(m.sample, Genotype()) for m in family.affected]
        longest = max((n for g in affected for n in g.alleles), default=0)
        mode = repeat.inheritance.upper()
        model = next((MODELS[k] for k in ("AD", "XD", "XR", "AR") if k in mode), "")
        values = {
            "family": family.id, "chrom": repeat.chrom, "pos": str(repeat.pos),
            "end": str(repeat.end), "ref": repeat.ref, "alt": f"<STR{longest}>", "type": "STR",
            "gene": repeat.gene, "consequence": "repeat_expansion", "impact": "HIGH",
            "models": model, "compound_partners": "", "filter": repeat.filter,
            "diseases": (f"{repeat.info.get('Disease', '') or 'repeat expansion'} "
                         f"({repeat.repid} {repeat.unit}: "
                         + ", ".join(f"{member_roles.get(m.sample, m.sample)} "
                                     f"{repeat.genotypes.get(m.sample, Genotype()).text}"
                                     for m in family.affected)
                         + f" units; pathogenic from {repeat.pathologic_min}, normal up to "
                         f"{repeat.normal_max}; {repeat.inheritance or 'inheritance unknown'})"),
            "sv_callers": "expansionhunter", "sv_origin": ""}
        for member in family.members:
            genotype = repeat.genotypes.get(member.sample, Genotype())
            values[f"{member.sample}_GT"] = genotype.gt if genotype.alleles else "./."
            values[f"{member.sample}_DP"] = genotype.coverage.split(".")[0] or "."
        out.append({c: values.get(c, ".") for c in columns})
    return out


def add_to_candidates(candidates: Path | str, rows: Sequence[Mapping[str, object]],
                      repeats: Mapping[str, Repeat], family: Family, out: Path | str) -> int:
    """The candidate list `candidates` (helgenom rank) with the pathogenic repeats first
    (ranks 1..k, the others moved down by k), written to `out`; the rows added."""
    text = read_text(candidates, "candidate list")
    lines = text.splitlines(keepends=True)
    head = [line for line in lines if line.startswith("##")]
    body = lines[len(head):]
    if not body or "rank" not in body[0].rstrip("\r\n").split("\t"):
        raise problem(candidates, "no header line with a 'rank' column: not a helgenom "
                      "candidate list", len(head) + 1)
    columns = body[0].rstrip("\r\n").split("\t")
    added = candidate_rows(rows, repeats, columns, family)
    rank = columns.index("rank")
    shifted = []
    for number, line in enumerate(body[1:], start=len(head) + 2):
        cells = line.rstrip("\r\n").split("\t")
        if not line.strip():
            continue
        if not cells[rank].isdigit():
            raise problem(candidates, "the rank must be a whole number", number, "rank",
                          cells[rank])
        cells[rank] = str(int(cells[rank]) + len(added))
        shifted.append("\t".join(cells) + "\n")
    new = ["\t".join(r[c] if c != "rank" else str(i) for c in columns) + "\n"
           for i, r in enumerate(added, start=1)]
    write_atomic("".join([*head, body[0], *new, *shifted]), out)
    return len(added)


def repeats_by_id(repeats: Sequence[Repeat]) -> dict[str, Repeat]:
    return {r.repid: r for r in repeats}

