"""Structural variants: each case's SVs, clustered across cases by type and breakpoints.

A case's SV VCF (`load --sv`: symbolic ALT such as <DEL> with INFO/SVTYPE and INFO/END, or
breakends) gives one row per distinct (contig, end contig, SVTYPE, POS, END); a record is
the case's if any member carries its ALT (any GT, whatever its GQ: SV callers' GQs do not
compare; a record without genotypes counts, as in loqusdb). Hom and Hem as for small
variants. END comes from INFO/END (else POS + len(REF) - 1), a breakend's from its ALT
(`N[chr2:123[`), each SV written with its lower end first.

The clusters are made when the database is read (export, annotate), from every case's SVs,
so they do not depend on the order the cases were loaded in: per (contig, end contig,
SVTYPE), SVs in order of (POS, END) join the first open cluster whose first SV (its anchor)
has both ends within `distance` bp, else start a cluster. A cluster counts each case once
(Obs), and the cases with a homozygous (Hom) or hemizygous (Hem) call in it; its position is
the mean of its SVs' (as loqusdb writes its clusters).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from helgenom.errors import InputError, Problem
from helgenom.freqdb.keys import CHROM_X, CHROM_Y, Par
from helgenom.io.vcf import VcfHeader, read_header

SCHEMA = pa.schema([("contig", pa.uint32()), ("end_contig", pa.uint32()),
                    ("svtype", pa.large_string()), ("pos", pa.int64()), ("end", pa.int64()),
                    ("hom", pa.uint8()), ("hem", pa.uint8())])
_MATE = re.compile(r"[\[\]]([^\[\]:]+):(\d+)[\[\]]")


def is_sv_allele(alt: str) -> bool:
    return alt.startswith("<") or "[" in alt or "]" in alt


def _alt_copies(gt: str) -> tuple[int, int]:
    """(alt alleles, called alleles) of a GT value."""
    alleles = re.split(r"[/|]", gt)
    called = [a for a in alleles if a not in (".", "")]
    return sum(a != "0" for a in called), len(called)


def read_svs(path: Path | str, samples: list[str], males: set[str], pars: list[Par]
             ) -> tuple[pd.DataFrame, VcfHeader]:
    """The case's SVs (contig and end contig as names): columns contig, end_contig, svtype,
    pos, end, hom, hem (one row per distinct SV)."""
    header = read_header(path)
    source = str(path)
    if "SVTYPE" not in header.info:
        raise InputError([Problem(source, None, "INFO", "SVTYPE", "an SV VCF declares "
                                  "INFO/SVTYPE (symbolic ALT alleles such as <DEL>)")])
    present = [s for s in samples if s in header.samples]
    with_gt = bool(present) and "GT" in header.format
    fields = ["%CHROM", "%POS", "%REF", "%ALT", "%INFO/SVTYPE",
              "%INFO/END" if "END" in header.info else "."]
    fmt = "\t".join(fields) + ("[\t%GT]" if with_gt else "") + "\n"
    command = ["bcftools", "query", "-f", fmt]
    if with_gt:
        command += ["-s", ",".join(present)]
    proc = subprocess.run([*command, source], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise InputError([Problem(source, None, None, None, "bcftools cannot read it: "
                                  + " ".join(proc.stderr.strip().splitlines()[-1:]))])
    par_x = [p for p in pars]
    rows = []
    for line in proc.stdout.splitlines():
        parts = line.split("\t")
        chrom, pos, ref, alts, svtype, end_text = parts[:6]
        gts = parts[6:]
        carried = hom = hem = False
        if with_gt:
            for sample, gt in zip(present, gts, strict=True):
                copies, called = _alt_copies(gt)
                if copies:
                    carried = True
                    if copies == called:
                        hom = True
                        if sample in males and _haploid(chrom, int(pos), par_x):
                            hem = True
        else:
            carried = True
        if not carried:
            continue
        for alt in alts.split(","):
            if not is_sv_allele(alt) or svtype == ".":
                continue
            start, end_contig = int(pos), chrom
            mate = _MATE.search(alt)
            if mate is not None:
                end_contig, end = mate.group(1), int(mate.group(2))
            elif end_text not in (".", ""):
                end = int(end_text)
            else:
                end = start + len(ref) - 1
            rows.append((chrom, end_contig, svtype, start, end, int(hom), int(hem)))
    frame = pd.DataFrame(rows, columns=["contig", "end_contig", "svtype", "pos", "end", "hom",
                                        "hem"])
    order = {name: i for i, name in enumerate(header.contigs)}
    flip = [(order.get(b, 1 << 30), e) < (order.get(a, 1 << 30), p)
            for a, b, p, e in zip(frame["contig"], frame["end_contig"], frame["pos"],
                                  frame["end"], strict=True)]
    if any(flip):
        flip_mask = np.array(flip)
        a, b = frame.loc[flip_mask, ["contig", "pos"]].to_numpy(), frame.loc[
            flip_mask, ["end_contig", "end"]].to_numpy()
        frame.loc[flip_mask, ["contig", "pos"]] = b
        frame.loc[flip_mask, ["end_contig", "end"]] = a
    frame = (frame.groupby(["contig", "end_contig", "svtype", "pos", "end"], sort=False)
             [["hom", "hem"]].max().reset_index())
    return frame, header


def _haploid(chrom: str, pos: int, pars: list[Par]) -> bool:
    if chrom in CHROM_Y:
        return True
    return chrom in CHROM_X and not any(p.contig == chrom and p.start <= pos <= p.end
                                        for p in pars)


def cluster(svs: pd.DataFrame, distance: int) -> pd.DataFrame:
    """`svs` (columns case, contig, end_contig, svtype, pos, end, hom, hem) with a column
    `cluster` and the cluster's anchor (`anchor_pos`, `anchor_end`), rows in cluster order."""
    frame = svs.sort_values(["contig", "end_contig", "svtype", "pos", "end", "case"],
                            kind="stable").reset_index(drop=True)
    ids = np.zeros(len(frame), dtype=np.int64)
    anchor_pos = np.zeros(len(frame), dtype=np.int64)
    anchor_end = np.zeros(len(frame), dtype=np.int64)
    next_id = 0
    group_cols = [frame[c].to_numpy() for c in ("contig", "end_contig", "svtype")]
    pos, end = frame["pos"].to_numpy(), frame["end"].to_numpy()
    start = 0
    while start < len(frame):
        stop = start + 1
        while stop < len(frame) and all(col[stop] == col[start] for col in group_cols):
            stop += 1
        active: list[tuple[int, int, int]] = []  # (anchor pos, anchor end, id)
        for row in range(start, stop):
            p, e = int(pos[row]), int(end[row])
            active = [a for a in active if a[0] >= p - distance]
            chosen = next((a for a in active if abs(a[1] - e) <= distance), None)
            if chosen is None:
                chosen = (p, e, next_id)
                next_id += 1
                active.append(chosen)
            anchor_pos[row], anchor_end[row], ids[row] = chosen
        start = stop
    frame["cluster"] = ids
    frame["anchor_pos"] = anchor_pos
    frame["anchor_end"] = anchor_end
    return frame


def cluster_counts(clustered: pd.DataFrame) -> pd.DataFrame:
    """Per cluster: contig, end_contig, svtype, pos and end (means), anchors, obs, hom, hem."""
    columns = ["cluster", "contig", "end_contig", "svtype", "pos", "end", "anchor_pos",
               "anchor_end", "obs", "hom", "hem"]
    if clustered.empty:
        return pd.DataFrame(columns=columns)
    frame = clustered.assign(hom_case=clustered["case"].where(clustered["hom"] > 0),
                             hem_case=clustered["case"].where(clustered["hem"] > 0))
    grouped = frame.groupby("cluster", sort=True)
    out = grouped.agg(contig=("contig", "first"), end_contig=("end_contig", "first"),
                      svtype=("svtype", "first"), pos=("pos", "mean"), end=("end", "mean"),
                      anchor_pos=("anchor_pos", "first"), anchor_end=("anchor_end", "first"),
                      obs=("case", "nunique"), hom=("hom_case", "nunique"),
                      hem=("hem_case", "nunique")).reset_index()
    out["pos"] = out["pos"].round().astype(np.int64)
    out["end"] = out["end"].round().astype(np.int64)
    return out[columns]


def match_clusters(counts: pd.DataFrame, query: pd.DataFrame, distance: int) -> np.ndarray:
    """Per query SV (contig, end_contig, svtype, pos, end), the row of `counts` whose anchor
    lies within `distance` at both ends (the nearest), -1 if none."""
    found = np.full(len(query), -1, dtype=np.int64)
    if counts.empty or query.empty:
        return found
    groups = counts.groupby(["contig", "end_contig", "svtype"], sort=False).indices
    for row, (contig, end_contig, svtype, pos, end) in enumerate(zip(
            query["contig"], query["end_contig"], query["svtype"], query["pos"], query["end"],
            strict=True)):
        rows = groups.get((contig, end_contig, svtype))
        if rows is None:
            continue
        d_pos = np.abs(counts["anchor_pos"].to_numpy()[rows] - pos)
        d_end = np.abs(counts["anchor_end"].to_numpy()[rows] - end)
        near = (d_pos <= distance) & (d_end <= distance)
        if near.any():
            best = np.argmin(np.where(near, d_pos + d_end, np.iinfo(np.int64).max))
            found[row] = rows[best]
    return found
