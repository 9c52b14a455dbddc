"""`helgenom svmerge`: one family SV VCF from several SV callers, with population frequency.

Inputs are VCFs from joint callers that genotype every family member at every site (delly,
Manta, helgenom's read-depth `cnv`) and from per-sample callers (TIDDIT, CNVnator), named on
the command line as ``--call CALLER=PATH`` (joint) or ``--call CALLER:SAMPLE=PATH``
(per sample).

Merging, per chromosome and SV type (DUP:TANDEM and other DUP subtypes count as DUP, TRA as
BND): two calls are the same event when their reciprocal overlap is at least ``overlap``
(DEL, DUP, INV, CNV) or when both breakpoints lie within ``distance`` bp (every type; the
only test for INS and BND, whose second breakpoint is the mate). A breakend whose mate is on
the same chromosome also joins an interval call of any type when its two ends match that
call's two ends (TIDDIT reports some tandem duplications as a pair of breakends). Clusters are
single-linkage.

Each merged record takes its position, END, ALT and FILTER from the call of the
highest-priority caller in the cluster (``priority``, then QUAL), and lists every supporting
caller in INFO/CALLERS (and their own record IDs in INFO/CALLER_IDS). Genotypes, per member:
the first caller in priority order that genotyped that member in this cluster; a per-sample
caller that ran on a member and called nothing there counts as 0/0 for it (it looked and saw
no event), one that did not run on the member leaves it missing. FORMAT/CN comes from the
read-depth callers where they made a call. INFO/ORIGIN says, for each child with both parents
in the family, where the child's SV came from (de_novo, paternal, maternal, biparental, ...).

Population frequency (``--population-sv``, gnomAD-SV style, AF in ``--population-af-tag``):
INFO/SVAF is the highest AF of the population SVs of the same type that match the call by the
same overlap/distance rules, 0 when none does (the database was asked and has no such SV),
and INFO/SVAF_ID names the matching population record. Without a database SVAF is absent.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helgenom.errors import InputError, Problem

INTERVAL_TYPES = ("DEL", "DUP", "INV", "CNV")
DEFAULT_PRIORITY = ("delly", "manta", "tiddit", "cnv", "cnvnator")
# Callers that estimate copy number from depth (their FORMAT/CN is kept).
DEPTH_CALLERS = ("cnv", "cnvnator")
_MATE = re.compile(r"[\[\]]([^:\[\]]+):(\d+)[\[\]]")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class CallSet:
    """One input VCF: which caller made it, and the member it is about (per-sample callers)."""

    caller: str
    path: Path
    sample: str | None = None

    @classmethod
    def parse(cls, text: str) -> CallSet:
        """``CALLER=PATH`` or ``CALLER:SAMPLE=PATH``."""
        key, sep, path = text.partition("=")
        caller, _, sample = key.partition(":")
        if not sep or not path or not _ID.match(caller) or (sample and not _ID.match(sample)):
            raise InputError([Problem("--call", 0, "value", text,
                                      "expected CALLER=PATH or CALLER:SAMPLE=PATH")])
        return cls(caller, Path(path), sample or None)


def normalise_type(svtype: str, alt: str) -> str:
    """DEL, DUP, INV, INS, BND or CNV from INFO/SVTYPE (or the symbolic ALT)."""
    text = (svtype or "").upper()
    if not text or text == ".":
        match = re.fullmatch(r"<([A-Z]+)(:[A-Z:]+)?>", alt or "")
        text = match.group(1) if match else ("BND" if _MATE.search(alt or "") else "")
    text = text.split(":")[0]
    return {"TRA": "BND", "TDUP": "DUP", "DUP": "DUP"}.get(text, text)


def normalise_gt(gt: str) -> str:
    """Unphased, sorted alleles; '.' for a missing call; '0/0'-style for diploid calls."""
    if gt in ("", ".", "./.", ".|."):
        return "."
    alleles = re.split(r"[/|]", gt)
    if any(a == "." for a in alleles):
        return "." if all(a == "." for a in alleles) else "/".join(
            sorted(alleles, key=lambda a: (a == ".", a)))
    alleles = ["1" if a not in ("0",) else "0" for a in alleles]
    return "/".join(sorted(alleles))


def _query(path: Path, fmt: str, samples: list[str] | None = None) -> list[list[str]]:
    cmd = ["bcftools", "query", "-f", fmt]
    if samples:
        cmd += ["-s", ",".join(samples)]
    proc = subprocess.run([*cmd, str(path)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise InputError([Problem(str(path), 0, "file", "", "bcftools query failed: "
                                  + proc.stderr.strip().splitlines()[-1]
                                  if proc.stderr.strip() else "bcftools query failed")])
    return [line.split("\t") for line in proc.stdout.splitlines()]


def _header(path: Path) -> tuple[list[str], set[str], set[str]]:
    """(samples, INFO keys, FORMAT keys) of a VCF."""
    proc = subprocess.run(["bcftools", "view", "-h", str(path)], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise InputError([Problem(str(path), 0, "file", "", "not a readable VCF/BCF")])
    info, fmt, samples = set(), set(), []
    for line in proc.stdout.splitlines():
        if line.startswith("##INFO=<ID="):
            info.add(line[11:].split(",", 1)[0])
        elif line.startswith("##FORMAT=<ID="):
            fmt.add(line[13:].split(",", 1)[0])
        elif line.startswith("#CHROM"):
            samples = line.split("\t")[9:]
    return samples, info, fmt


def read_calls(callset: CallSet, members: list[str]) -> pd.DataFrame:
    """One row per call: caller, CHROM, POS, END, SVTYPE, mate, QUAL, FILTER, ALT, ID, and per
    member GT (and CN) columns; members this file does not genotype are missing ('.')."""
    samples, info, fmt = _header(callset.path)
    if callset.sample is not None:
        if callset.sample not in members:
            raise InputError([Problem(str(callset.path), 0, "sample", callset.sample,
                                      "not a member of the family")])
        if len(samples) != 1 and callset.sample not in samples:
            raise InputError([Problem(str(callset.path), 0, "sample", callset.sample,
                                      f"per-sample VCF has samples {samples}")])
        # TIDDIT names its sample after the read group; the file stands for `callset.sample`.
        file_samples = [callset.sample if callset.sample in samples else samples[0]]
        as_members = [callset.sample]
    else:
        file_samples = [m for m in members if m in samples]
        missing = [m for m in members if m not in samples]
        if missing:
            raise InputError([Problem(str(callset.path), 0, "sample", m,
                                      f"family member missing from the {callset.caller} VCF")
                              for m in missing])
        as_members = file_samples
    has = {key: key in info for key in ("SVTYPE", "END", "CHR2", "POS2", "SVLEN")}
    fields = ["%CHROM", "%POS", "%ID", "%ALT", "%QUAL", "%FILTER"]
    fields += [f"%INFO/{k}" if has[k] else "." for k in ("SVTYPE", "END", "CHR2", "POS2")]
    per_sample = "%GT" + ("\\t%CN" if "CN" in fmt else "\\t.")
    rows = _query(callset.path, "\\t".join(fields) + "[\\t" + per_sample + "]\\n",
                  file_samples)
    columns = ["CHROM", "POS", "ID", "ALT", "QUAL", "FILTER", "SVTYPE", "END", "CHR2", "POS2"]
    for s in as_members:
        columns += [f"GT:{s}", f"CN:{s}"]
    table = pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
    table["caller"] = callset.caller
    table["POS"] = table["POS"].astype(np.int64)
    table["SVTYPE"] = [normalise_type(t, a) for t, a in zip(table["SVTYPE"], table["ALT"],
                                                             strict=True)]
    table = table[table["SVTYPE"].isin([*INTERVAL_TYPES, "INS", "BND"])].copy()
    end = pd.to_numeric(table["END"], errors="coerce")
    table["END"] = end.where(end >= table["POS"], table["POS"]).fillna(table["POS"]).astype(
        np.int64)
    mates = [(_MATE.search(a).groups() if _MATE.search(a) else (c2, p2))
             for a, c2, p2 in zip(table["ALT"], table["CHR2"], table["POS2"], strict=True)]
    table["mate_chrom"] = [m[0] for m in mates]
    table["mate_pos"] = pd.to_numeric(pd.Series([m[1] for m in mates], index=table.index,
                                                 dtype=object), errors="coerce").fillna(-1)
    table["QUAL"] = pd.to_numeric(table["QUAL"], errors="coerce").fillna(0.0)
    for s in members:
        gt, cn = f"GT:{s}", f"CN:{s}"
        if gt in table:
            table[gt] = table[gt].map(normalise_gt)
        else:
            table[gt] = "."
            table[cn] = "."
    table["per_sample"] = callset.sample or ""
    return table.drop(columns=["CHR2", "POS2"]).reset_index(drop=True)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return int(root)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def same_event(pos: np.ndarray, end: np.ndarray, i: int, js: np.ndarray, interval: bool,
               overlap: float, distance: int) -> np.ndarray:
    """Which of calls `js` are the same event as call `i` (see the module docstring)."""
    close = (np.abs(pos[js] - pos[i]) <= distance) & (np.abs(end[js] - end[i]) <= distance)
    if not interval:
        return close
    shared = np.minimum(end[js], end[i]) - np.maximum(pos[js], pos[i])
    length_i = max(end[i] - pos[i], 1)
    lengths = np.maximum(end[js] - pos[js], 1)
    reciprocal = (shared / length_i >= overlap) & (shared / lengths >= overlap)
    return close | reciprocal


def cluster(calls: pd.DataFrame, overlap: float, distance: int) -> np.ndarray:
    """Cluster id per call (row order of `calls`)."""
    labels = np.full(len(calls), -1, dtype=np.int64)
    uf = _UnionFind(len(calls))
    keys = calls["SVTYPE"].where(calls["SVTYPE"].isin(["INS", "BND"]),
                                 calls["SVTYPE"].replace({"CNV": "DEL|DUP"}))
    for (_chrom, svtype), group in calls.groupby([calls["CHROM"], keys], sort=False):
        interval = svtype not in ("INS", "BND")
        idx = group.sort_values("POS", kind="stable").index.to_numpy()
        pos = calls.loc[idx, "POS"].to_numpy()
        if svtype == "BND":
            end = calls.loc[idx, "mate_pos"].to_numpy(dtype=np.int64)
            mate = calls.loc[idx, "mate_chrom"].to_numpy(dtype=object)
        else:
            end = calls.loc[idx, "END"].to_numpy()
            mate = None
        # Later calls can match only while they start before this one ends (plus distance).
        reach = np.maximum(end, pos) + distance
        for k in range(len(idx)):
            stop = np.searchsorted(pos, reach[k], side="right")
            js = np.arange(k + 1, stop)
            if not len(js):
                continue
            hit = same_event(pos, end, k, js, interval, overlap, distance)
            if mate is not None:
                hit &= mate[js] == mate[k]
            for j in js[hit]:
                uf.union(int(idx[k]), int(idx[j]))
    # A breakend pair within one chromosome whose two ends match both ends of an interval call
    # is that event seen as breakends (TIDDIT reports some duplications so): same event.
    intra = calls[(calls["SVTYPE"] == "BND") & (calls["mate_chrom"] == calls["CHROM"])]
    intervals = calls[calls["SVTYPE"].isin(INTERVAL_TYPES)]
    for chrom, group in intra.groupby("CHROM", sort=False):
        others = intervals[intervals["CHROM"] == chrom]
        if others.empty:
            continue
        opos, oend = others["POS"].to_numpy(), others["END"].to_numpy()
        mates = group["mate_pos"].to_numpy(dtype=np.int64)
        lows = np.minimum(group["POS"].to_numpy(), mates)
        highs = np.maximum(group["POS"].to_numpy(), mates)
        for i, low, high in zip(group.index, lows, highs, strict=True):
            hit = (np.abs(opos - low) <= distance) & (np.abs(oend - high) <= distance)
            for j in others.index[hit]:
                uf.union(int(i), int(j))
    for i in range(len(calls)):
        labels[i] = uf.find(i)
    return labels


def population_frequency(merged: pd.DataFrame, population: pd.DataFrame, overlap: float,
                         distance: int) -> tuple[np.ndarray, np.ndarray]:
    """(SVAF, SVAF_ID) per merged call: the highest matching population AF (0 and '.' when
    no population SV matches)."""
    af = np.zeros(len(merged))
    ids = np.full(len(merged), ".", dtype=object)
    for (chrom, svtype), group in merged.groupby(["CHROM", "SVTYPE"], sort=False):
        pop = population[(population["CHROM"] == chrom) & (population["SVTYPE"] == svtype)]
        if pop.empty:
            continue
        ppos, pend = pop["POS"].to_numpy(), pop["END"].to_numpy()
        pafs, pids = pop["AF"].to_numpy(dtype=float), pop["ID"].to_numpy(dtype=object)
        interval = svtype not in ("INS", "BND")
        for row, (pos, end) in zip(group.index, zip(group["POS"], group["END"], strict=True),
                                   strict=True):
            all_pos = np.r_[pos, ppos]
            all_end = np.r_[end, pend]
            hit = same_event(all_pos, all_end, 0, np.arange(1, len(all_pos)), interval,
                             overlap, distance)
            if hit.any():
                best = int(np.flatnonzero(hit)[np.argmax(pafs[hit])])
                af[merged.index.get_loc(row)] = pafs[best]
                ids[merged.index.get_loc(row)] = pids[best]
    return af, ids


def read_population(path: Path, af_tag: str) -> pd.DataFrame:
    _, info, _ = _header(path)
    if af_tag not in info:
        raise InputError([Problem(str(path), 0, "INFO", af_tag,
                                  "population SV VCF has no such INFO field")])
    fmt = f"%CHROM\\t%POS\\t%ID\\t%ALT\\t%INFO/SVTYPE\\t%INFO/END\\t%INFO/{af_tag}\\n"
    rows = _query(path, fmt)
    table = pd.DataFrame(rows, columns=["CHROM", "POS", "ID", "ALT", "SVTYPE", "END", "AF"])
    table["POS"] = table["POS"].astype(np.int64)
    table["END"] = pd.to_numeric(table["END"], errors="coerce").fillna(table["POS"]).astype(
        np.int64)
    table["SVTYPE"] = [normalise_type(t, a) for t, a in zip(table["SVTYPE"], table["ALT"],
                                                             strict=True)]
    # Number=A: the first allele's AF; a missing AF is unknown, so it never matches.
    table["AF"] = pd.to_numeric(table["AF"].str.split(",").str[0], errors="coerce")
    return table.dropna(subset=["AF"]).reset_index(drop=True)


def merge_calls(calls: pd.DataFrame, members: list[str], ran: dict[str, set[str]],
                priority: list[str], overlap: float, distance: int) -> pd.DataFrame:
    """One row per event: representative call fields, CALLERS, CALLER_IDS, GT/CN per member.

    `ran` maps each per-sample caller to the members it ran on."""
    if calls.empty:
        return calls.assign(CALLERS=[], CALLER_IDS=[])
    calls = calls.reset_index(drop=True)
    calls["cluster"] = cluster(calls, overlap, distance)
    order = {c: i for i, c in enumerate(priority)}
    calls["_prio"] = calls["caller"].map(lambda c: order.get(c, len(order)))
    calls = calls.sort_values(["cluster", "_prio", "QUAL"], ascending=[True, True, False],
                              kind="stable")
    calls = calls.reset_index(drop=True)
    by_cluster = calls["cluster"]
    # Where each caller first appears in its cluster: callers are consulted in that order.
    row = pd.Series(np.arange(len(calls)), index=calls.index)
    caller_rank = row.groupby([by_cluster, calls["caller"]], sort=False).transform("min")
    merged = calls.drop_duplicates("cluster")[
        ["cluster", "CHROM", "POS", "END", "SVTYPE", "ALT", "QUAL", "mate_chrom", "mate_pos",
         "FILTER"]].set_index("cluster")
    any_pass = calls["FILTER"].eq("PASS").groupby(by_cluster, sort=False).any()
    merged["FILTER"] = merged["FILTER"].where(~any_pass.reindex(merged.index), "PASS")
    merged["CALLERS"] = calls.drop_duplicates(["cluster", "caller"]).groupby(
        "cluster", sort=False)["caller"].agg(",".join)
    labels = calls["caller"] + ":" + calls["per_sample"].where(
        calls["per_sample"] == "", calls["per_sample"] + ":") + calls["ID"]
    merged["CALLER_IDS"] = labels.groupby(by_cluster, sort=False).agg("|".join)
    depth_caller = calls["caller"].isin(DEPTH_CALLERS)
    for s in members:
        gt = calls[f"GT:{s}"]
        called = gt != "."
        # A per-sample caller that ran on `s` and has a call here but none in `s`: 0/0.
        looked = calls["caller"].isin([c for c, samples in ran.items() if s in samples])
        options = pd.DataFrame({"cluster": by_cluster, "rank": caller_rank, "missing": ~called,
                                "row": row, "gt": gt.where(called, "0/0")})[called | looked]
        chosen = options.sort_values(["cluster", "rank", "missing", "row"]).drop_duplicates(
            "cluster").set_index("cluster")["gt"]
        merged[f"GT:{s}"] = chosen.reindex(merged.index).fillna(".")
        cn = calls[f"CN:{s}"]
        depth = cn[depth_caller & (cn != ".")].groupby(by_cluster, sort=False).first()
        merged[f"CN:{s}"] = depth.reindex(merged.index).fillna(".")
    return merged.reset_index(drop=True)


def _carries(gt: str) -> bool | None:
    """True/False for a called genotype, None for a no-call."""
    if gt in (".", "./.", ""):
        return None
    return "1" in gt.split("/")


def origin(child: str, father: str, mother: str) -> str:
    """Where a child's SV came from, by the trio's genotypes: de_novo, paternal, maternal,
    biparental (homozygous, both parents carriers), ambiguous (a het child of two carriers)
    or unknown (a no-call); '' when the child does not carry it."""
    c, f, m = _carries(child), _carries(father), _carries(mother)
    if not c:
        return "" if c is False else "unknown"
    if f is None or m is None:
        return "unknown"
    if f and m:
        return "biparental" if child == "1/1" else "ambiguous"
    if f or m:
        return "paternal" if f else "maternal"
    return "de_novo"


def origins(merged: pd.DataFrame, trios: list[tuple[str, str, str]]) -> list[str]:
    """INFO/ORIGIN per merged call: 'child:origin' for every trio child carrying it."""
    out = []
    for _, row in merged.iterrows():
        parts = []
        for child, father, mother in trios:
            where = origin(row[f"GT:{child}"], row[f"GT:{father}"], row[f"GT:{mother}"])
            if where:
                parts.append(f"{child}:{where}")
        out.append(",".join(parts) or ".")
    return out


def _contigs(fasta: Path) -> list[tuple[str, int]]:
    fai = Path(f"{fasta}.fai")
    if not fai.is_file():
        raise InputError([Problem(str(fai), 0, "file", "", "FASTA index missing (samtools faidx)")])
    out = []
    for line in fai.read_text().splitlines():
        name, length = line.split("\t")[:2]
        out.append((name, int(length)))
    return out


def reference_bases(fasta: Path, chroms: list[str], positions: list[int]) -> list[str]:
    """The reference base at each 1-based position, read through the .fai index ('N' when the
    position is outside the contig or the FASTA is not laid out as its index says)."""
    index = {}
    for line in Path(f"{fasta}.fai").read_text().splitlines():
        name, length, offset, line_bases, line_width = line.split("\t")[:5]
        index[name] = (int(length), int(offset), int(line_bases), int(line_width))
    out = []
    with open(fasta, "rb") as handle:
        for chrom, pos in zip(chroms, positions, strict=True):
            length, offset, line_bases, line_width = index.get(chrom, (0, 0, 1, 1))
            if not 1 <= pos <= length:
                out.append("N")
                continue
            handle.seek(offset + (pos - 1) // line_bases * line_width + (pos - 1) % line_bases)
            base = handle.read(1).decode("ascii", "replace").upper()
            out.append(base if base in "ACGTN" and base else "N")
    return out


def caller_filters(merged: pd.DataFrame) -> list[str]:
    """The FILTER names of the merged records other than PASS, sorted."""
    names = {name for value in merged["FILTER"].dropna().astype(str)
             for name in value.split(";")}
    return sorted(names - {"PASS", ".", ""})


def vcf_text(merged: pd.DataFrame, members: list[str], contigs: list[tuple[str, int]],
             with_af: bool, source: str) -> str:
    lines = [
        "##fileformat=VCFv4.2",
        f"##source={source}",
        *(f"##contig=<ID={name},length={length}>" for name, length in contigs),
        # A record keeps the FILTER of the call it takes (e.g. TIDDIT's BelowExpectedLinks):
        # every such filter is declared, or htslib readers refuse the record.
        *(f'##FILTER=<ID={name},Description="Filter {name} of the SV caller whose call the '
          f'record takes">' for name in caller_filters(merged)),
        *(f'##ALT=<ID={t},Description="{d}">' for t, d in (
            ("DEL", "Deletion"), ("DUP", "Duplication"), ("INV", "Inversion"),
            ("INS", "Insertion"), ("CNV", "Copy number variant"))),
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of structural variant">',
        '##INFO=<ID=END,Number=1,Type=Integer,Description="End position of the variant">',
        '##INFO=<ID=SVLEN,Number=1,Type=Integer,Description="Length (negative: deletion)">',
        '##INFO=<ID=CALLERS,Number=.,Type=String,Description="SV callers supporting the call">',
        '##INFO=<ID=ORIGIN,Number=.,Type=String,Description="child:origin of the SV in each '
        'child with both parents (de_novo, paternal, maternal, biparental, ambiguous, '
        'unknown)">',
        '##INFO=<ID=CALLER_IDS,Number=1,Type=String,Description="caller:ID (caller:sample:ID '
        'for per-sample callers) of every merged call, |-separated">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=CN,Number=1,Type=Integer,Description="Copy number (read-depth callers)">',
    ]
    if with_af:
        lines += [
            '##INFO=<ID=SVAF,Number=1,Type=Float,Description="Highest allele frequency of '
            'matching population SVs (0: none matches)">',
            '##INFO=<ID=SVAF_ID,Number=1,Type=String,Description="ID of the population SV '
            'giving SVAF">',
        ]
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                            "FORMAT", *members]))
    for k, row in enumerate(merged.itertuples(index=False), 1):
        r = row._asdict()
        svtype = r["SVTYPE"]
        alt = r["ALT"] if svtype == "BND" else f"<{svtype}>"
        info = [f"SVTYPE={svtype}"]
        if svtype != "BND":
            length = int(r["END"]) - int(r["POS"])
            info += [f"END={int(r['END'])}",
                     f"SVLEN={-length if svtype == 'DEL' else length}"]
        info += [f"CALLERS={r['CALLERS']}", f"CALLER_IDS={r['CALLER_IDS']}"]
        if r.get("ORIGIN", ".") != ".":
            info.append(f"ORIGIN={r['ORIGIN']}")
        if with_af:
            info += [f"SVAF={r['SVAF']:g}", f"SVAF_ID={r['SVAF_ID']}"]
        qual = f"{float(r['QUAL']):g}" if float(r["QUAL"]) > 0 else "."
        samples = [f"{r[f'GT_{i}']}:{r[f'CN_{i}']}" for i in range(len(members))]
        # A breakend keeps its caller's ALT, whose base is written as in that ALT (N).
        ref = "N" if svtype == "BND" else r["REF"]
        lines.append("\t".join([r["CHROM"], str(int(r["POS"])), f"HGSV{k:06d}", ref, alt, qual,
                                r["FILTER"] or ".", ";".join(info), "GT:CN", *samples]))
    return "\n".join(lines) + "\n"


def svmerge(calls: list[CallSet], members: list[str], fasta: Path, out: Path, *,
            overlap: float = 0.5, distance: int = 500,
            priority: list[str] | None = None, population_sv: Path | None = None,
            population_af_tag: str = "AF", trios: list[tuple[str, str, str]] | None = None
            ) -> pd.DataFrame:
    """Merge `calls` for the family `members`, write `out` (bgzipped, indexed); returns the
    merged table. `trios` (child, father, mother) get INFO/ORIGIN."""
    if not 0 < overlap <= 1:
        raise InputError([Problem("--overlap", 0, "value", str(overlap), "must be in (0, 1]")])
    if distance < 0:
        raise InputError([Problem("--distance", 0, "value", str(distance), "must be >= 0")])
    priority = list(priority or DEFAULT_PRIORITY)
    tables = [read_calls(c, members) for c in calls]
    ran: dict[str, set[str]] = {}
    for c in calls:
        if c.sample is not None:
            ran.setdefault(c.caller, set()).add(c.sample)
    columns = [f"{k}:{s}" for s in members for k in ("GT", "CN")]
    table = pd.concat([t[[col for col in t.columns if not col.startswith(("GT:", "CN:"))]
                         + columns] for t in tables], ignore_index=True)
    merged = merge_calls(table, members, ran, priority, overlap, distance)
    contig_list = _contigs(fasta)
    rank = {name: i for i, (name, _) in enumerate(contig_list)}
    unknown = sorted(set(merged["CHROM"]) - set(rank)) if len(merged) else []
    if unknown:
        raise InputError([Problem(str(fasta), 0, "contig", c, "SV call on a contig not in the "
                                  "reference") for c in unknown[:10]])
    if len(merged):
        merged = merged.assign(_r=merged["CHROM"].map(rank)).sort_values(
            ["_r", "POS", "END"], kind="stable").drop(columns="_r").reset_index(drop=True)
    if trios and len(merged):
        merged["ORIGIN"] = origins(merged, trios)
    with_af = population_sv is not None
    if with_af and len(merged):
        af, ids = population_frequency(merged, read_population(population_sv,
                                                               population_af_tag),
                                       overlap, distance)
        merged["SVAF"], merged["SVAF_ID"] = af, ids
    merged["REF"] = (reference_bases(fasta, list(merged["CHROM"]), [int(p) for p in merged["POS"]])
                     if len(merged) else [])
    wide = merged.rename(columns={f"{k}:{s}": f"{k}_{i}" for i, s in enumerate(members)
                                  for k in ("GT", "CN")})
    text = vcf_text(wide, members, contig_list, with_af, "helgenom svmerge")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.vcf.gz")
    subprocess.run(["bcftools", "view", "--no-version", "-Oz", "-o", str(tmp),
                    "-"], input=text.encode(),
                   check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(tmp)], check=True)
    Path(f"{tmp}.tbi").replace(f"{out}.tbi")
    tmp.replace(out)
    return merged
