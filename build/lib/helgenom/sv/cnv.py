"""`helgenom cnv`: read-depth copy-number variants (DEL/DUP) of a family from mosdepth bins.

Inputs: each member's `mosdepth --by N` bins (chrom, start, end, mean depth), the reference
FASTA with its .fai (GC content per bin, computed once per reference and bin size and cached
as `<fasta>.gc<N>.npz`), and the PED (sexes: the expected copy number of chrX/chrY; an unknown
sex is inferred from the chrX depth). The family's members are each other's reference panel.
The model (GC correction, normalisation, masks, panel, HMM segmentation, calls, genotypes) is
described in `helgenom.sv.cnv_model`.

Output: a sorted, bgzipped and tabix-indexed VCF 4.2 with one `<DEL>`/`<DUP>` record per
event (INFO END, SVTYPE, SVLEN, CN, BINS, LR, Z, CALLERS; QUAL = phred-scaled log-odds of the
best call) and every member genotyped there (FORMAT GT:CN:LR:GQ); optionally a TSV of each
member's own calls. Contigs: the primary human chromosomes when the bins have any (else every
contig), never the mitochondrion.
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from helgenom import __version__
from helgenom.errors import InputError, Problem
from helgenom.io.reference import PRIMARY_CONTIG, Region
from helgenom.sheets.pedigree import read_ped
from helgenom.sv.cnv_model import CnvParams, FamilyResult, Layout, Record, call_family

log = logging.getLogger(__name__)

BINS_SUFFIX = ".regions.bed.gz"
MITOCHONDRIA = {"chrM", "chrMT", "M", "MT"}
_CODES = np.zeros(256, dtype=np.uint8)  # 1: G/C, 2: A/T, 0: N and other IUPAC codes
_CODES[np.frombuffer(b"GCSgcs", dtype=np.uint8)] = 1
_CODES[np.frombuffer(b"ATWatw", dtype=np.uint8)] = 2
_CHUNK_BINS = 8192


# ---------------------------------------------------------------------------------------------
# Reference: .fai, GC per bin, single bases
# ---------------------------------------------------------------------------------------------


def read_fai(fasta: Path | str) -> dict[str, tuple[int, int, int, int]]:
    """Contig -> (length, offset, bases per line, bytes per line) from `<fasta>.fai`."""
    fai = Path(f"{fasta}.fai")
    if not fai.is_file():
        raise InputError([Problem(str(fai), None, None, None,
                                  "FASTA index not found: run `samtools faidx` on the FASTA")])
    entries = {}
    for line in fai.read_text().splitlines():
        f = line.split("\t")
        if len(f) >= 5:
            entries[f[0]] = (int(f[1]), int(f[2]), int(f[3]), int(f[4]))
    return entries


def _read_bases(handle: BinaryIO, entry: tuple[int, int, int, int], a: int, b: int) -> bytes:
    _, offset, line_bases, line_bytes = entry
    first = offset + a // line_bases * line_bytes + a % line_bases
    last = offset + b // line_bases * line_bytes + b % line_bases
    handle.seek(first)
    return handle.read(last - first).translate(None, b"\r\n")[: b - a]


def contig_gc(handle: BinaryIO, entry: tuple[int, int, int, int], bin_size: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """GC fraction (of ACGT bases; NaN if none) and ACGT fraction of each grid bin."""
    length = entry[0]
    n = -(-length // bin_size)
    counts = np.zeros((2, n))
    for a in range(0, length, _CHUNK_BINS * bin_size):
        b = min(a + _CHUNK_BINS * bin_size, length)
        codes = _CODES[np.frombuffer(_read_bases(handle, entry, a, b), dtype=np.uint8)]
        starts = np.arange(0, b - a, bin_size)
        k = a // bin_size
        for row, code in enumerate((1, 2)):
            counts[row, k:k + starts.size] = np.add.reduceat((codes == code).astype(np.int32),
                                                             starts)
    acgt = counts.sum(0)
    sizes = np.minimum(bin_size, length - np.arange(n) * bin_size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(acgt > 0, counts[0] / acgt, np.nan), acgt / sizes


def bin_gc(fasta: Path | str, bin_size: int, contigs: Sequence[str],
           cache: Path | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """GC and ACGT fractions of the `bin_size` grid bins of `contigs`, cached in `cache`
    (an .npz stamped with the FASTA's size and modification time; rewritten when stale)."""
    fai = read_fai(fasta)
    missing = [c for c in contigs if c not in fai]
    if missing:
        raise InputError([Problem(str(fasta), None, None, ", ".join(missing[:5]),
                                  "contigs of the bins are not in the reference")])
    stat = Path(fasta).stat()
    stamp = np.array([stat.st_size, stat.st_mtime_ns, bin_size], dtype=np.int64)
    if cache is not None and cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as data:
                if np.array_equal(data["stamp"], stamp) and set(contigs) <= set(data["names"]):
                    bounds = np.r_[0, np.cumsum(data["bins"])]
                    return {str(name): (data["gc"][a:b], data["acgt"][a:b])
                            for name, a, b in zip(data["names"], bounds[:-1], bounds[1:],
                                                  strict=True) if name in contigs}
        except (OSError, ValueError, KeyError) as error:
            log.warning("ignoring the GC cache %s: %s", cache, error)
    with open(fasta, "rb") as handle:
        result = {c: contig_gc(handle, fai[c], bin_size) for c in contigs}
    if cache is not None:
        try:
            with tempfile.NamedTemporaryFile(dir=cache.parent, suffix=".npz",
                                             delete=False) as tmp:
                np.savez(tmp, stamp=stamp, names=np.array(list(result)),
                         bins=np.array([v[0].size for v in result.values()]),
                         gc=np.concatenate([v[0] for v in result.values()]),
                         acgt=np.concatenate([v[1] for v in result.values()]))
            os.replace(tmp.name, cache)
        except OSError as error:
            log.warning("cannot write the GC cache %s: %s", cache, error)
    return result


def reference_base(fasta: Path | str, entry: tuple[int, int, int, int], pos: int) -> str:
    """The base at 0-based `pos` (upper case; N if it is not A/C/G/T)."""
    with open(fasta, "rb") as handle:
        base = _read_bases(handle, entry, pos, pos + 1).decode().upper()
    return base if base in ("A", "C", "G", "T") else "N"


# ---------------------------------------------------------------------------------------------
# Bins and expected copy numbers
# ---------------------------------------------------------------------------------------------


def read_bins(path: Path | str) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, sep="\t", header=None, usecols=[0, 1, 2, 3],
                            names=["chrom", "start", "end", "depth"],
                            dtype={"chrom": str, "start": np.int64, "end": np.int64,
                                   "depth": float})
    except (OSError, ValueError) as error:
        raise InputError([Problem(str(path), None, None, None,
                                  f"not a mosdepth regions file: {error}")]) from error
    return table


def sample_of(spec: str) -> tuple[str, Path]:
    """`SAMPLE=PATH`, or PATH named `<SAMPLE>.regions.bed.gz` (mosdepth's name)."""
    if "=" in spec:
        sample, path = spec.split("=", 1)
        return sample, Path(path)
    name = Path(spec).name
    return name.removesuffix(BINS_SUFFIX).removesuffix(".bed.gz").removesuffix(".bed"), Path(spec)


def in_regions(chrom: np.ndarray, start: np.ndarray, end: np.ndarray,
               regions: Sequence[Region]) -> np.ndarray:
    hit = np.zeros(chrom.size, dtype=bool)
    for r in regions:
        hit |= (chrom == r.chrom) & (start < r.end) & (end > r.start - 1)
    return hit


def expected_copies(chrom: np.ndarray, start: np.ndarray, end: np.ndarray, male: bool,
                    chrx: str, chry: str, par: Sequence[Region]) -> np.ndarray:
    """2 per bin; a male's chrX 1 and chrY 1 outside the PARs; a female's chrY and every
    chrY PAR bin 0 (not analysed)."""
    cn = np.full(chrom.size, 2, dtype=np.int64)
    pars = in_regions(chrom, start, end, par)
    if male:
        cn[(chrom == chrx) & ~pars] = 1
        cn[chrom == chry] = 1
    else:
        cn[chrom == chry] = 0
    cn[(chrom == chry) & pars] = 0
    return cn


def looks_male(depth: np.ndarray, chrom: np.ndarray, autosome: np.ndarray, chrx: str,
               usable: np.ndarray) -> bool:
    """chrX depth under 3/4 of the autosomal depth (medians over usable bins)."""
    x = depth[(chrom == chrx) & usable]
    a = depth[autosome & usable]
    return bool(x.size and a.size and np.median(x) < 0.75 * np.median(a))


# ---------------------------------------------------------------------------------------------
# Run and write
# ---------------------------------------------------------------------------------------------


def run_cnv(family_id: str, ped: Path | str, bins: Sequence[str], fasta: Path | str,
            params: CnvParams | None = None, chrx: str = "chrX", chry: str = "chrY",
            par: Sequence[str] = (), gc_cache: Path | str | None = "auto"
            ) -> tuple[FamilyResult, Layout, list[str]]:
    """Call the family's CNVs; returns the result, the bin layout and the members used."""
    params = params or CnvParams()
    families = read_ped(ped)
    if family_id not in families:
        raise InputError([Problem(str(ped), None, "family_id", family_id,
                                  f"no such family (families: {', '.join(families)})")])
    family = families[family_id]
    given = dict(sample_of(spec) for spec in bins)
    unknown = [s for s in given if s not in family.by_id]
    if unknown:
        raise InputError([Problem(str(given[s]), None, None, s, (
            f"sample not in family '{family_id}' (members: {', '.join(family.by_id)}); "
            "name the bins SAMPLE=PATH or <SAMPLE>.regions.bed.gz")) for s in unknown])
    members = [m.sample for m in family.members if m.sample in given]
    if not members:
        raise InputError([Problem(str(ped), None, None, family_id, "no bins for any member")])
    for m in family.members:
        if m.sample not in given:
            log.warning("no bins for %s: not genotyped", m.sample)
    tables = {s: read_bins(given[s]) for s in members}
    first = tables[members[0]]
    for s in members[1:]:
        t = tables[s]
        if len(t) != len(first) or not (t[["chrom", "start", "end"]]
                                        .equals(first[["chrom", "start", "end"]])):
            raise InputError([Problem(str(given[s]), None, None, None, (
                f"bins differ from those of {members[0]}: make every member's bins with the "
                "same reference and `mosdepth --by`"))])
    contigs = list(dict.fromkeys(first["chrom"]))
    primary = [c for c in contigs if PRIMARY_CONTIG.match(c) or c in (chrx, chry)]
    keep = [c for c in (primary or contigs) if c not in MITOCHONDRIA]
    rows = first["chrom"].isin(keep).to_numpy()
    chrom = first["chrom"].to_numpy(dtype=object)[rows]
    start, end = first["start"].to_numpy()[rows], first["end"].to_numpy()[rows]
    bin_size = int(np.max(end - start)) if rows.any() else 0
    if not rows.any() or np.any(start % bin_size):
        raise InputError([Problem(str(given[members[0]]), None, None, None,
                                  "bins are not the fixed-size grid of `mosdepth --by N`")])
    if gc_cache == "auto":
        folder = Path(fasta).resolve().parent
        gc_cache = (folder / f"{Path(fasta).name}.gc{bin_size}.npz"
                    if os.access(folder, os.W_OK) else None)
    gc_table = bin_gc(fasta, bin_size, keep, Path(gc_cache) if gc_cache else None)
    gc, acgt = np.empty(chrom.size), np.empty(chrom.size)
    for c in keep:
        where = np.flatnonzero(chrom == c)
        gc[where], acgt[where] = (v[start[where] // bin_size] for v in gc_table[c])
    layout = Layout(chrom, start, end, gc, acgt, (chrom != chrx) & (chrom != chry))
    regions = [Region.parse(p) for p in par]
    depths = {s: tables[s]["depth"].to_numpy()[rows] for s in members}
    for s in members:
        if not np.median(depths[s][layout.autosome & (acgt >= params.min_acgt)]) > 0:
            raise InputError([Problem(str(given[s]), None, None, None,
                                      "median autosomal depth is 0: no reads in the bins")])
    expected = {}
    outside_par = (acgt >= params.min_acgt) & ~in_regions(chrom, start, end, regions)
    for s in members:
        sex = family.by_id[s].sex
        male = sex == "male"
        if sex == "unknown":
            male = looks_male(depths[s], chrom, layout.autosome, chrx, outside_par)
            log.warning("%s: sex unknown, chrX depth says %s", s, "male" if male else "female")
        expected[s] = expected_copies(chrom, start, end, male, chrx, chry, regions)
    return call_family(layout, depths, expected, params), layout, members


def _fmt(value: float) -> str:
    return "." if not math.isfinite(value) else f"{value:.3f}".rstrip("0").rstrip(".")


def vcf_lines(result: FamilyResult, members: list[str], fasta: Path | str) -> list[str]:
    fai = read_fai(fasta)
    order = {c: i for i, c in enumerate(fai)}
    lines = [
        "##fileformat=VCFv4.2",
        f"##source=helgenom cnv {__version__}",
        f"##reference=file://{Path(fasta).resolve()}",
        *(f"##contig=<ID={c},length={e[0]}>" for c, e in fai.items()),
        '##ALT=<ID=DEL,Description="Deletion (read depth)">',
        '##ALT=<ID=DUP,Description="Duplication (read depth)">',
        '##INFO=<ID=END,Number=1,Type=Integer,Description="End position of the variant">',
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of structural variant">',
        '##INFO=<ID=SVLEN,Number=1,Type=Integer,Description="Length (negative: deletion)">',
        '##INFO=<ID=IMPRECISE,Number=0,Type=Flag,Description="Breakpoints at bin resolution">',
        '##INFO=<ID=CN,Number=1,Type=Integer,Description="Copy number of the best call">',
        '##INFO=<ID=BINS,Number=1,Type=Integer,Description="Bins of the best call">',
        '##INFO=<ID=LR,Number=1,Type=Float,Description="Mean log2 ratio of the best call">',
        '##INFO=<ID=Z,Number=1,Type=Float,Description="z-score of the best call\'s mean ratio">',
        '##INFO=<ID=CALLERS,Number=.,Type=String,Description="Members whose own segmentation '
        'called it">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=CN,Number=1,Type=Integer,Description="Maximum-likelihood copy number">',
        '##FORMAT=<ID=LR,Number=1,Type=Float,Description="Log2 ratio of the mean depth ratio">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality (phred)">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(members),
    ]

    def row(record: Record) -> str:
        c = record.call
        pos = max(c.start, 1)  # 1-based position of the base before the event
        length = c.end - c.start
        info = (f"END={c.end};SVTYPE={c.svtype};SVLEN={-length if c.svtype == 'DEL' else length}"
                f";IMPRECISE;CN={c.cn};BINS={c.bins};LR={_fmt(c.lr)};Z={_fmt(c.z)}"
                f";CALLERS={','.join(record.callers)}")
        cells = []
        for s in members:
            g = record.genotypes[s]
            cells.append(f"{g.gt}:{'.' if g.cn is None else g.cn}:{_fmt(g.lr)}:{round(g.gq)}")
        return "\t".join([c.chrom, str(pos), f"HGCNV_{c.svtype}_{c.chrom}_{c.start + 1}_{c.end}",
                          reference_base(fasta, fai[c.chrom], pos - 1), f"<{c.svtype}>",
                          f"{c.qual:.1f}", "PASS", info, "GT:CN:LR:GQ", *cells])

    records = sorted(result.records, key=lambda r: (order[r.call.chrom], r.call.start))
    return lines + [row(r) for r in records]


def write_vcf(lines: list[str], out: Path) -> None:
    """bgzip + tabix."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        subprocess.run(["bgzip", "-c"], input=("\n".join(lines) + "\n").encode(),
                       stdout=handle, check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(out)], check=True)


CALL_COLUMNS = ("sample", "chrom", "start", "end", "svtype", "cn", "expected", "bins", "lr", "z",
                "qual")


def calls_table(result: FamilyResult) -> pd.DataFrame:
    rows = [(c.sample, c.chrom, c.start, c.end, c.svtype, c.cn, c.expected, c.bins,
             round(c.lr, 3), round(c.z, 2), round(c.qual, 1))
            for calls in result.calls.values() for c in calls]
    return pd.DataFrame(rows, columns=list(CALL_COLUMNS))
