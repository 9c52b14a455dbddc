"""Read-depth copy-number model: GC correction, normalisation, family panel, HMM segmentation,
calls and family genotypes. Pure numpy on per-bin arrays; file handling and the command line
are in `helgenom.sv.cnv`.

Per sample, with depth d, expected copy number e (2; 1 on a male's chrX/chrY outside the PARs;
0 = not analysed) and bin GC fraction g:

1. GC correction: the depth per expected copy, y = d / e, is divided by its running median
   over bins of similar GC (window +-0.02 GC, widened to at least 50 bins), a robust
   loess-like curve evaluated on a 0.01 grid and interpolated; the ratio r is then scaled to a
   median of 1 over autosomal bins, so that r = CN / e (log2 r = 0 at the expected CN).
2. Masks (whole family): bins with < 50% ACGT bases, zero depth in every member (N gaps), or
   an extreme ratio (|log2 r| > 1.5) in at least half of the members (collapsed repeats,
   unmappable regions: their depth varies erratically in everyone).
3. Family panel (>= 2 members): each member's log2 r is corrected by b, the median log2 r of
   the other members in that bin. A member serves as panel only where it looks normal: not
   inside its own first-pass call and |log2 r| <= 0.4, so that a deletion the child inherited
   from the father is not cancelled by the father, nor does it turn into a gain in the mother;
   where every member (the corrected one too) deviates in the same direction, the bias is
   shared and the others' median is used. b is shrunk, b * max(w, 1 - 4 v / b^2): v is the
   noise variance of that median (member-to-member variance within bins / number of others,
   times pi/2 for a median of 3+), w = 1 - median(v) / MAD(b)^2 the genome-wide share of b
   that is bias rather than noise. Biases shared by the family (GC, mappability) are removed,
   strong ones (> 2 noise SDs) bin by bin; without shared bias (w ~ 0) the panel adds little
   noise. The result is renormalised and segmented again (the final calls).
4. Segmentation: a hidden Markov model per sample, states CN 0..4 (4: four or more), emission
   r ~ (1 - eps) N(CN/e, sigma^2 max(CN/e, 0.15) 2/e) + eps U(0, 3) (Poisson-like variance
   growing with the read count; eps = 0.005 absorbs outlier bins), sigma (at CN 2) from the
   median absolute difference of neighbouring diploid bins; a change of state costs
   -log(switch / 4) (switch = 1e-3 per bin). Viterbi runs over blocks of usable bins (a gap
   of >= 10 masked bins starts a new block).
5. Calls: runs of a non-expected CN with >= min_bins usable bins, mean log2 ratio <= -0.4
   (DEL) or >= 0.3 (DUP) and quality >= 20, the quality being the phred-scaled log-odds of the
   called CN against the expected one over the run's bins (10 log10 LR); also reported: the
   z-score of the mean ratio (sigma / sqrt(bins) per bin).
6. Family genotypes: calls of the same type overlapping by >= 50% reciprocally are one
   record (coordinates of the best call); each member's CN there is the maximum-likelihood
   state over the record's bins, with GQ = phred(1 - posterior) under a flat prior; GQ < 13
   gives `./.`. DEL: CN = e -> 0/0, e - 1 -> 0/1, 0 -> 1/1; DUP: e -> 0/0, e + 1 -> 0/1,
   >= e + 2 -> 1/1; haploid regions give 0 / 1. A CN on the other side of e is `./.`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

MAX_CN = 4
STATES = np.arange(MAX_CN + 1)
MIN_MEAN = 0.15  # variance floor (as a fraction of the CN = e variance) for low states
OUTLIER_DENSITY = 1.0 / 3.0  # uniform outlier density on ratios 0..3
RATIO_FLOOR = 0.05  # ratios below this are this for logarithms
PHRED = 10.0 / math.log(10.0)
STRICT = 4.0  # per-bin panel correction only beyond 2 noise SDs of the panel median


@dataclass
class CnvParams:
    min_bins: int = 3
    switch: float = 1e-3
    outlier: float = 0.005
    del_lr: float = -0.4
    dup_lr: float = 0.3
    min_qual: float = 20.0
    max_gap: int = 10
    min_gq: float = 13.0
    extreme_lr: float = 1.5
    min_acgt: float = 0.5
    overlap: float = 0.5
    gc_half_width: float = 0.02
    gc_min_bins: int = 50


@dataclass
class Layout:
    """The bins every sample shares; `autosome` marks bins used for normalisation."""

    chrom: np.ndarray  # str per bin
    start: np.ndarray  # 0-based
    end: np.ndarray
    gc: np.ndarray  # GC fraction of the ACGT bases (NaN if none)
    acgt: np.ndarray  # fraction of ACGT bases
    autosome: np.ndarray  # bool


@dataclass
class Call:
    sample: str
    chrom: str
    start: int  # 0-based, first bin's start
    end: int  # last bin's end
    cn: int
    expected: int
    bins: int
    lr: float  # log2 of the mean ratio
    z: float
    qual: float
    first: int = 0  # bin index range [first, last)
    last: int = 0

    @property
    def svtype(self) -> str:
        return "DEL" if self.cn < self.expected else "DUP"


@dataclass
class Genotype:
    gt: str
    cn: int | None
    lr: float
    gq: float


@dataclass
class Record:
    """One family-level CNV: the best call and every member's genotype there."""

    call: Call
    callers: list[str]
    genotypes: dict[str, Genotype] = field(default_factory=dict)


@dataclass
class FamilyResult:
    ratios: dict[str, np.ndarray]  # final ratios, NaN where not analysed
    sigma: dict[str, float]
    usable: np.ndarray
    calls: dict[str, list[Call]]
    records: list[Record]
    panel_weight: dict[str, float]  # mean shrinkage weight of the panel correction


# ---------------------------------------------------------------------------------------------
# GC correction and normalisation
# ---------------------------------------------------------------------------------------------


def gc_curve(gc: np.ndarray, y: np.ndarray, half_width: float = 0.02, min_bins: int = 50
             ) -> np.ndarray:
    """Running median of y over GC on a 0.01 grid (window widened to >= min_bins bins)."""
    ok = np.isfinite(gc) & np.isfinite(y)
    order = np.argsort(gc[ok], kind="stable")
    xs, ys = gc[ok][order], y[ok][order]
    grid = np.linspace(0.0, 1.0, 101)
    if xs.size == 0:
        return np.full(grid.size, np.nan)
    lo = np.searchsorted(xs, grid - half_width, side="left")
    hi = np.searchsorted(xs, grid + half_width, side="right")
    need = min(min_bins, xs.size)
    centre = np.searchsorted(xs, grid)
    short = hi - lo < need
    lo = np.where(short, np.clip(centre - need // 2, 0, xs.size - need), lo)
    hi = np.where(short, lo + need, hi)
    return np.array([np.median(ys[a:b]) for a, b in zip(lo, hi, strict=True)])


def gc_correct(depth: np.ndarray, layout: Layout, expected: np.ndarray, usable: np.ndarray,
               params: CnvParams | None = None) -> np.ndarray:
    """Ratio to the expected depth: 1 at the expected CN (NaN where expected is 0)."""
    params = params or CnvParams()
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(expected > 0, depth / expected, np.nan)
    fit = usable & (expected > 0) & (depth > 0)
    curve = gc_curve(layout.gc[fit], y[fit], params.gc_half_width, params.gc_min_bins)
    grid = np.linspace(0.0, 1.0, 101)
    good = np.isfinite(curve) & (curve > 0)
    if not good.any():
        return np.full(depth.size, np.nan)
    expect = np.interp(np.nan_to_num(layout.gc, nan=0.5), grid[good], curve[good])
    return normalise(y / expect, layout.autosome & usable)


def normalise(ratio: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Scale to a median of 1 over the reference bins (with a positive, finite ratio)."""
    ref = ratio[reference & np.isfinite(ratio) & (ratio > 0)]
    return ratio / np.median(ref) if ref.size else ratio


def noise_sigma(ratio: np.ndarray, expected: np.ndarray, usable: np.ndarray) -> float:
    """Per-bin SD of the ratio at CN 2 (diploid bins), from differences of neighbouring bins."""
    ok = usable & np.isfinite(ratio) & (expected == 2)
    idx = np.flatnonzero(ok)
    diffs = np.diff(ratio[idx])[np.diff(idx) == 1]
    if diffs.size < 10:
        return 0.2
    return max(float(1.4826 * np.median(np.abs(diffs - np.median(diffs))) / math.sqrt(2)), 0.02)


def extreme_mask(ratios: np.ndarray, expected: np.ndarray, extreme_lr: float) -> np.ndarray:
    """Bins whose |log2 ratio| exceeds `extreme_lr` in at least half of the analysed members."""
    analysed = (expected > 0) & np.isfinite(ratios)
    with np.errstate(divide="ignore"):
        extreme = analysed & (np.abs(np.log2(np.where(analysed, ratios, 1.0))) > extreme_lr)
    n = analysed.sum(0)
    return (n >= 2) & (extreme.sum(0) * 2 >= n)


def panel_correct(ratios: np.ndarray, expected: np.ndarray, excluded: np.ndarray,
                  usable: np.ndarray, autosome: np.ndarray, deviant_lr: float = 0.4
                  ) -> tuple[np.ndarray, list[float]]:
    """Correct each member by the shrunk median log2 ratio of the others (see module doc).

    ratios, expected, excluded: (members, bins); excluded marks each member's own calls. A
    member does not serve as panel where it is excluded or deviant (|log2 r| > deviant_lr),
    unless every member, the corrected one too, is (a bias shared by all).
    Returns the corrected ratios (renormalised) and each member's mean shrinkage weight.
    """
    k = ratios.shape[0]
    valid = usable & (expected > 0) & np.isfinite(ratios)
    logs = np.where(valid, np.log2(np.clip(np.nan_to_num(ratios), RATIO_FLOOR, None)), np.nan)
    deviant = excluded | (np.abs(np.nan_to_num(logs)) > deviant_lr)
    panel = np.where(deviant, np.nan, logs)
    spread = panel[:, np.sum(np.isfinite(panel), 0) >= 2]
    noise = 0.0
    if spread.size:
        var = np.nanvar(spread, axis=0, ddof=1)
        noise = float(np.mean(var[var <= np.quantile(var, 0.99)]))
    out, weights = ratios.copy(), []
    for i in range(k):
        others = [j for j in range(k) if j != i]
        with warnings.catch_warnings():  # all-NaN bins: NaN, handled below
            warnings.simplefilter("ignore", RuntimeWarning)
            bias = np.nanmedian(panel[others], axis=0)
            shared = np.nanmedian(logs[others], axis=0)
        everyone = deviant[others].all(0) & deviant[i] & (np.sign(shared) == np.sign(logs[i]))
        bias = np.where(np.isfinite(bias), bias, np.where(everyone, shared, np.nan))
        m = np.maximum(np.isfinite(panel[others]).sum(0), 1)
        v = noise / m * np.where(m > 2, math.pi / 2, 1.0)
        ref = autosome & usable & np.isfinite(bias)
        if ref.any():
            bias = bias - np.median(bias[ref])
        spread_b = 1.4826 * np.median(np.abs(bias[ref])) if ref.any() else 0.0
        overall = max(0.0, 1.0 - float(np.median(v[ref])) / spread_b**2) if spread_b > 0 else 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            local = np.clip(1.0 - STRICT * v / bias**2, 0.0, 1.0)
        w = np.where(np.isfinite(bias), np.maximum(local, overall), 0.0)
        shift = np.nan_to_num(w * bias)
        out[i] = normalise(ratios[i] * np.exp2(-shift), autosome & valid[i])
        weights.append(float(w[valid[i]].mean()) if valid[i].any() else 0.0)
    return out, weights


# ---------------------------------------------------------------------------------------------
# Hidden Markov model
# ---------------------------------------------------------------------------------------------


def log_emissions(ratio: np.ndarray, expected: np.ndarray, sigma: float, outlier: float
                  ) -> np.ndarray:
    """log p(ratio | CN) per bin and state, (bins, states); 0 where not analysed."""
    exp = np.maximum(expected, 1)[:, None].astype(float)
    mean = STATES[None, :] / exp
    sd = sigma * np.sqrt(np.maximum(mean, MIN_MEAN) * 2.0 / exp)  # haploid: half the reads
    r = np.nan_to_num(ratio, nan=1.0)[:, None]
    r = np.where(STATES[None, :] == MAX_CN, np.minimum(r, mean), r)  # top state: CN >= MAX_CN
    normal = -0.5 * ((r - mean) / sd) ** 2 - np.log(sd * math.sqrt(2 * math.pi))
    mixed = np.logaddexp(math.log1p(-outlier) + normal, math.log(outlier * OUTLIER_DENSITY))
    skip = ~np.isfinite(ratio) | (expected <= 0)
    return np.where(skip[:, None], 0.0, mixed)


def viterbi(log_e: np.ndarray, start: int, switch: float) -> np.ndarray:
    """Most likely CN path of one member: log_e (bins, states) from `log_emissions`.

    Transitions: stay with 1 - switch, move to any other state with switch / (states - 1);
    the first bin starts from state `start` with the same odds. Because a move always comes
    from the best previous state, each step needs one max and a stay-or-move per state
    (scalar Python: for five states faster than numpy calls).
    """
    n, s = log_e.shape
    stay, jump = math.log1p(-switch), math.log(switch / (s - 1))
    rows = log_e.tolist()
    v = [(stay if j == start else jump) + x for j, x in enumerate(rows[0])]
    kept, moved_from = [0] * n, [0] * n
    states = range(s)
    for t in range(1, n):
        top = max(v)
        moved = top + jump
        moved_from[t] = v.index(top)
        bits = 0
        e = rows[t]
        for j in states:
            x = v[j] + stay
            if x >= moved:
                v[j] = x + e[j]
                bits |= 1 << j
            else:
                v[j] = moved + e[j]
        kept[t] = bits
    path = np.empty(n, dtype=np.int8)
    state = v.index(max(v))
    path[-1] = state
    for t in range(n - 1, 0, -1):
        if not kept[t] >> state & 1:
            state = moved_from[t]
        path[t - 1] = state
    return path


def blocks(layout: Layout, usable: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """Index ranges [a, b) of bins to segment together: per contig, split at >= max_gap
    consecutive unusable bins, trimmed to usable bins at both ends."""
    out: list[tuple[int, int]] = []
    idx = np.flatnonzero(usable)
    if idx.size == 0:
        return out
    chrom = layout.chrom[idx]
    cut = (np.diff(idx) > max_gap) | (chrom[1:] != chrom[:-1])
    starts = np.concatenate([[0], np.flatnonzero(cut) + 1])
    ends = np.concatenate([starts[1:], [idx.size]])
    return [(int(idx[a]), int(idx[b - 1]) + 1) for a, b in zip(starts, ends, strict=True)]


# ---------------------------------------------------------------------------------------------
# Calls
# ---------------------------------------------------------------------------------------------


def segment(layout: Layout, samples: list[str], ratios: np.ndarray, expected: np.ndarray,
            sigmas: list[float], usable: np.ndarray, params: CnvParams) -> dict[str, list[Call]]:
    """HMM segmentation of every member (rows of ratios/expected), then the filtered calls."""
    calls: dict[str, list[Call]] = {s: [] for s in samples}
    valid = usable[None, :] & (expected > 0) & np.isfinite(ratios)
    for a, b in blocks(layout, usable, params.max_gap):
        log_e = np.stack([log_emissions(np.where(valid[i, a:b], ratios[i, a:b], np.nan),
                                        expected[i, a:b], sigmas[i], params.outlier)
                          for i in range(len(samples))], axis=1)
        for i, sample in enumerate(samples):
            exp = np.minimum(expected[i, a:b], MAX_CN)
            state = viterbi(log_e[:, i], int(exp[0]), params.switch).astype(int)
            change = np.flatnonzero((np.diff(state) != 0) | (np.diff(exp) != 0)) + 1
            for lo, hi in zip(np.r_[0, change], np.r_[change, b - a], strict=True):
                cn, e = int(state[lo]), int(exp[lo])
                idx = np.flatnonzero(valid[i, a + lo:a + hi]) + a + lo
                if cn == e or e == 0 or idx.size == 0:
                    continue
                llr = float(np.sum(log_e[lo:hi, i, cn] - log_e[lo:hi, i, e]))
                call = make_call(layout, sample, ratios[i], idx, cn, e, sigmas[i], llr)
                if call.bins >= params.min_bins and call.qual >= params.min_qual and (
                        call.lr <= params.del_lr if call.svtype == "DEL"
                        else call.lr >= params.dup_lr):
                    calls[sample].append(call)
    return calls


def make_call(layout: Layout, sample: str, ratio: np.ndarray, idx: np.ndarray, cn: int,
              expected: int, sigma: float, llr: float) -> Call:
    """A call over the bins `idx` (sorted indices) with log-likelihood ratio `llr`."""
    mean = float(np.mean(ratio[idx]))
    return Call(sample, str(layout.chrom[idx[0]]), int(layout.start[idx[0]]),
                int(layout.end[idx[-1]]), cn, expected, int(idx.size),
                math.log2(max(mean, 0.01)),
                (mean - 1.0) / (sigma * math.sqrt(2.0 / expected / idx.size)),
                min(PHRED * llr, 999.0), int(idx[0]), int(idx[-1]) + 1)


def reciprocal_overlap(a: Call, b: Call) -> float:
    if a.chrom != b.chrom:
        return 0.0
    shared = min(a.end, b.end) - max(a.start, b.start)
    return max(shared, 0) / max(a.end - a.start, b.end - b.start)


def merge_calls(calls: dict[str, list[Call]], overlap: float) -> list[Record]:
    """One record per event: calls of one type with >= `overlap` reciprocal overlap, best
    quality first (its coordinates are the record's)."""
    records: list[Record] = []
    for call in sorted((c for cs in calls.values() for c in cs), key=lambda c: -c.qual):
        for record in records:
            if (record.call.svtype == call.svtype
                    and reciprocal_overlap(record.call, call) >= overlap):
                if call.sample not in record.callers:
                    record.callers.append(call.sample)
                break
        else:
            records.append(Record(call, [call.sample]))
    return sorted(records, key=lambda r: (r.call.first, r.call.last))


def genotype_call(svtype: str, cn: int, expected: int) -> str:
    """GT of a member with copy number `cn` at a DEL/DUP record (see module doc)."""
    if svtype == "DEL":
        alt = None if cn > expected else expected - cn
    else:
        alt = None if cn < expected else min(cn - expected, expected)
    if expected == 1:
        return "." if alt is None else str(alt)
    return {None: "./.", 0: "0/0", 1: "0/1", 2: "1/1"}[alt]


def genotype(record: Record, ratio: np.ndarray, expected: np.ndarray, valid: np.ndarray,
             sigma: float, params: CnvParams) -> Genotype:
    """A member's maximum-likelihood CN over the record's bins, with its GT and GQ."""
    lo, hi = record.call.first, record.call.last
    idx = np.flatnonzero(valid[lo:hi]) + lo
    if idx.size == 0:
        return Genotype("./.", None, float("nan"), 0.0)
    ll = log_emissions(ratio[idx], expected[idx], sigma, params.outlier).sum(0)
    best = int(np.argmax(ll))
    others = np.logaddexp.reduce(np.delete(ll, best))
    gq = min(99.0, PHRED * (np.logaddexp(ll[best], others) - others))
    exp = int(np.bincount(expected[idx]).argmax())
    gt = genotype_call(record.call.svtype, best, exp)
    if gq < params.min_gq:
        gt = "./." if exp > 1 else "."
    return Genotype(gt, best, math.log2(max(float(np.mean(ratio[idx])), 0.01)), gq)


def call_family(layout: Layout, depths: dict[str, np.ndarray], expected: dict[str, np.ndarray],
                params: CnvParams | None = None) -> FamilyResult:
    """The whole model on one family's bins (depth and expected CN per member)."""
    params = params or CnvParams()
    samples = list(depths)
    depth = np.stack([depths[s] for s in samples]).astype(float)
    exp = np.stack([expected[s] for s in samples]).astype(np.int64)
    usable = (layout.acgt >= params.min_acgt) & (depth > 0).any(0)
    ratios = np.stack([gc_correct(depth[i], layout, exp[i], usable, params)
                       for i in range(len(samples))])
    usable &= ~extreme_mask(ratios, exp, params.extreme_lr)
    ratios = np.stack([normalise(r, layout.autosome & usable) for r in ratios])
    sigmas = [noise_sigma(ratios[i], exp[i], usable) for i in range(len(samples))]
    calls = segment(layout, samples, ratios, exp, sigmas, usable, params)
    weights = dict.fromkeys(samples, 0.0)
    if len(samples) >= 2:
        excluded = np.zeros(ratios.shape, dtype=bool)
        for i, sample in enumerate(samples):
            for call in calls[sample]:
                excluded[i, call.first:call.last] = True
        ratios, w = panel_correct(ratios, exp, excluded, usable, layout.autosome)
        weights = dict(zip(samples, w, strict=True))
        sigmas = [noise_sigma(ratios[i], exp[i], usable) for i in range(len(samples))]
        calls = segment(layout, samples, ratios, exp, sigmas, usable, params)
    records = merge_calls(calls, params.overlap)
    valid = usable[None, :] & (exp > 0) & np.isfinite(ratios)
    for record in records:
        record.genotypes = {s: genotype(record, ratios[i], exp[i], valid[i], sigmas[i], params)
                            for i, s in enumerate(samples)}
    return FamilyResult({s: np.where(valid[i], ratios[i], np.nan) for i, s in enumerate(samples)},
                        dict(zip(samples, sigmas, strict=True)), usable, calls, records, weights)
