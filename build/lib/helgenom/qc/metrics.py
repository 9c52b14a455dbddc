"""Read, alignment and coverage QC metrics from the workflow's tool outputs.

fastp JSON (one per sequencing unit), `samtools stats`, `samtools markdup -f` and mosdepth
(summary, global distribution, 1-kb bins) are parsed into plain numbers per sample.

Coverage is over the autosomes only (chr1-22 or 1-22; any other contig when none is named so,
except the sex chromosomes, the mitochondrion and '_'-named alt/random/decoy contigs). Bins
with no read in any member of the family are treated as reference gaps (N runs, unmappable
sequence) and left out of the genome size, so the mean depth and the fraction of the genome
at >= X are those of the sequenceable genome; mosdepth alone counts N runs as zero depth
(about 5% of GRCh38's autosomes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helgenom.io.reference import Region

AUTOSOME = re.compile(r"^(chr)?([1-9]|1[0-9]|2[0-2])$")
MITOCHONDRION = re.compile(r"^(chr)?(M|MT)$", re.IGNORECASE)


def autosomes(contigs: Iterable[str], chrx: str, chry: str) -> list[str]:
    contigs = list(contigs)
    named = [c for c in contigs if AUTOSOME.match(c)]
    return named or [c for c in contigs if c not in (chrx, chry) and "_" not in c
                     and not MITOCHONDRION.match(c)]


# ---------------------------------------------------------------------------------------------
# Reads and alignment
# ---------------------------------------------------------------------------------------------


def read_fastp(paths: Sequence[Path]) -> dict[str, float]:
    """Totals over a sample's units: reads, Q30 base fraction and adapter-trimmed read
    fraction before filtering, and fastp's duplication estimate (read-weighted)."""
    if not paths:
        raise FileNotFoundError("no fastp JSON")
    reads = bases = q30 = trimmed = dup = 0.0
    for path in paths:
        data = json.loads(Path(path).read_text())
        before = data["summary"]["before_filtering"]
        reads += before["total_reads"]
        bases += before["total_bases"]
        q30 += before["q30_bases"]
        trimmed += data.get("adapter_cutting", {}).get("adapter_trimmed_reads", 0)
        dup += data.get("duplication", {}).get("rate", 0.0) * before["total_reads"]
    return {"total_reads": reads, "q30_fraction": q30 / bases if bases else float("nan"),
            "adapter_trimmed_fraction": trimmed / reads if reads else float("nan"),
            "fastp_duplication": dup / reads if reads else float("nan")}


def _key_values(path: Path, prefix: str, sep: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for line in Path(path).read_text().splitlines():
        if not line.startswith(prefix):
            continue
        key, _, rest = line[len(prefix):].partition(sep)
        try:
            values[key.strip()] = float(rest.split()[0])
        except (ValueError, IndexError):
            continue
    return values


def read_samtools_stats(path: Path) -> dict[str, float]:
    """Mapped and properly paired fractions of primary reads, mean insert size, and the
    duplicate fraction (used when the markdup report is missing)."""
    sn = _key_values(path, "SN\t", ":")
    total = sn.get("raw total sequences", 0.0)
    if not total:
        raise ValueError(f"{path}: no 'raw total sequences' (not samtools stats output?)")
    return {"mapped_fraction": sn.get("reads mapped", 0.0) / total,
            "properly_paired_fraction": sn.get("reads properly paired", 0.0) / total,
            "mean_insert_size": sn.get("insert size average", float("nan")),
            "duplicate_rate": sn.get("reads duplicated", 0.0) / total}


def read_markdup(path: Path) -> float:
    """Duplicate fraction of the reads samtools markdup examined (`-f` report)."""
    kv = _key_values(path, "", ":")
    examined = kv.get("EXAMINED", 0.0)
    if not examined:
        raise ValueError(f"{path}: no EXAMINED count (not a samtools markdup -f report?)")
    dups = kv.get("DUPLICATE TOTAL",
                  kv.get("DUPLICATE PAIR", 0.0) + kv.get("DUPLICATE SINGLE", 0.0))
    return dups / examined


# ---------------------------------------------------------------------------------------------
# Coverage
# ---------------------------------------------------------------------------------------------


@dataclass
class Coverage:
    mean_depth: float  # autosomal, gaps excluded
    fraction_at: np.ndarray  # [d]: fraction of autosomal non-gap bases with depth >= d
    x_ratio: float  # chrX outside PARs (gaps excluded) / autosomal depth
    y_ratio: float | None  # chrY outside PARs / autosomal depth; None: no chrY
    gap_bp: int  # autosomal bases in gap bins

    def fraction(self, depth: int) -> float:
        return float(self.fraction_at[depth]) if depth < self.fraction_at.size else 0.0


def read_bins(path: Path) -> pd.DataFrame:
    """mosdepth --by regions (chrom, start, end, mean depth)."""
    return pd.read_csv(path, sep="\t", header=None, names=["chrom", "start", "end", "depth"],
                       dtype={"chrom": str, "start": np.int64, "end": np.int64,
                              "depth": np.float64})


def gap_mask(bins: Sequence[pd.DataFrame]) -> np.ndarray:
    """Bins with zero depth in every sample (same reference, so the same bins in each)."""
    first = bins[0]
    for other in bins[1:]:
        if len(other) != len(first) or not (other["start"].to_numpy()
                                            == first["start"].to_numpy()).all():
            raise ValueError("mosdepth bins differ between samples: not the same reference?")
    return np.logical_and.reduce([b["depth"].to_numpy() == 0 for b in bins])


def _summary(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, sep="\t", dtype={"chrom": str})
    keep = ~table["chrom"].str.endswith("_region") & (table["chrom"] != "total")
    return table[keep].set_index("chrom")


def _dist(path: Path, contigs: Sequence[str]) -> dict[str, np.ndarray]:
    """Per contig: fraction of bases at >= d, indexed by d."""
    table = pd.read_csv(path, sep="\t", header=None, names=["chrom", "depth", "fraction"],
                        dtype={"chrom": str})
    out = {}
    for contig in contigs:
        rows = table[table["chrom"] == contig]
        curve = np.zeros(int(rows["depth"].max()) + 1 if len(rows) else 1)
        curve[rows["depth"].to_numpy(dtype=int)] = rows["fraction"].to_numpy()
        out[contig] = curve
    return out


def _outside(bins: pd.DataFrame, par: Sequence[Region]) -> np.ndarray:
    """Bins not overlapping any PAR (1-based inclusive regions vs 0-based half-open bins)."""
    keep = np.ones(len(bins), dtype=bool)
    for region in par:
        keep &= ~((bins["chrom"] == region.chrom).to_numpy()
                  & (bins["start"].to_numpy() < region.end)
                  & (bins["end"].to_numpy() > region.start - 1))
    return keep


def read_coverage(summary: Path, dist: Path, bins: pd.DataFrame, gaps: np.ndarray,
                  chrx: str, chry: str, par: Sequence[Region] = ()) -> Coverage:
    lengths = _summary(summary)
    autos = autosomes(lengths.index, chrx, chry)
    if not autos:
        raise ValueError(f"{summary}: no autosomes among {', '.join(lengths.index)}")
    span = (bins["end"] - bins["start"]).to_numpy(dtype=float)
    depth = bins["depth"].to_numpy()
    in_autos = bins["chrom"].isin(autos).to_numpy()
    gap_bp = int(span[in_autos & gaps].sum())
    genome = float(lengths.loc[autos, "length"].sum()) - gap_bp
    curves = _dist(dist, autos)
    fraction_at = np.zeros(max(c.size for c in curves.values()))
    for contig, curve in curves.items():
        fraction_at[: curve.size] += curve * float(lengths.loc[contig, "length"])
    fraction_at = np.minimum(fraction_at / genome, 1.0)
    fraction_at[0] = 1.0

    def bin_mean(mask: np.ndarray) -> float:
        return float((depth[mask] * span[mask]).sum() / span[mask].sum()) if mask.any() else 0.0

    outside = _outside(bins, par)
    auto_mean = bin_mean(in_autos & ~gaps)
    x_mean = bin_mean((bins["chrom"] == chrx).to_numpy() & ~gaps & outside)
    y_ratio = None
    if chry in lengths.index:  # Y: no gap correction (an all-female family has no Y reads)
        y_ratio = bin_mean((bins["chrom"] == chry).to_numpy() & outside) / auto_mean
    return Coverage(
        mean_depth=float(lengths.loc[autos, "bases"].sum()) / genome,
        fraction_at=fraction_at,
        x_ratio=x_mean / auto_mean if auto_mean else float("nan"),
        y_ratio=y_ratio if auto_mean else None,
        gap_bp=gap_bp,
    )
