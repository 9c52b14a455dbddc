"""`helgenom qc`: PASS/WARN/FAIL per sample and per family, with a reason for each WARN/FAIL.

Per sample: reads (fastp), alignment (samtools stats, markdup), coverage (mosdepth: mean
autosomal depth, fraction of the genome at >= 10/20/30x, chrX and chrY depth relative to the
autosomes), sex (inferred vs declared) and contamination. Per family: pairwise kinship vs the
pedigree, and per trio (or duo) the Mendelian error rate and the de novo candidate count.
The estimators and their assumptions are documented in `helgenom.qc.genetics` (genotypes) and
`helgenom.qc.metrics` (tool outputs).

Thresholds (`DEFAULT_THRESHOLDS`, overridable per key from a JSON file). A gate is
`{"pass": P, "warn": W, "direction": "min"|"max"}`: with "min", value >= P is PASS, >= W is
WARN, below W is FAIL; with "max", value <= P is PASS, <= W is WARN, above W is FAIL
(`"warn": null`: anything that misses P fails). The kinship gate applies to
|observed - expected kinship|. A metric that cannot be measured (missing file, too few sites)
is a WARN. Sex is FAIL when the inferred sex contradicts the declared one, WARN when the
evidence is ambiguous or the declared sex unknown. Informational metrics have no gate.

Outputs: a TSV (one row per unit and metric: value, threshold, verdict, detail, reason; a
`verdict` row per sample and for the family, the worst of its members and family checks), the
same as JSON next to it, and MultiQC custom content (see `helgenom.qc.multiqc`).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helgenom.errors import InputError, Problem
from helgenom.io.reference import Region
from helgenom.io.vcf import Genotypes, VcfHeader, read_header, read_variants
from helgenom.qc.genetics import (
    SexEvidence,
    contamination,
    de_novo_candidates,
    expected_kinship,
    infer_sex,
    king_degree,
    king_kinship,
    mendelian_errors,
    relationship,
    x_heterozygosity,
)
from helgenom.qc.metrics import (
    Coverage,
    autosomes,
    gap_mask,
    read_bins,
    read_coverage,
    read_fastp,
    read_markdup,
    read_samtools_stats,
)
from helgenom.qc.result import QcResult, Row
from helgenom.sheets.pedigree import Family, read_ped
from helgenom.sheets.thresholds import merge_thresholds

VERDICTS = ("PASS", "WARN", "FAIL")  # ordered: the worst is the last; INFO rows are ungraded
DEPTHS = (10, 20, 30)

# metric -> (label, value format)
METRICS: dict[str, tuple[str, str]] = {
    "total_reads": ("reads", ".0f"),
    "q30_fraction": ("Q30 base fraction", ".3f"),
    "adapter_trimmed_fraction": ("adapter-trimmed reads", ".3f"),
    "fastp_duplication": ("fastp duplication estimate", ".3f"),
    "mapped_fraction": ("mapped reads", ".4f"),
    "properly_paired_fraction": ("properly paired reads", ".4f"),
    "mean_insert_size": ("mean insert size", ".1f"),
    "duplicate_rate": ("duplicate rate", ".3f"),
    "mean_depth": ("mean autosomal depth", ".1f"),
    **{f"fraction_{d}x": (f"fraction of genome >= {d}x", ".3f") for d in DEPTHS},
    "x_ratio": ("chrX/autosome depth", ".3f"),
    "y_ratio": ("chrY/autosome depth", ".3f"),
    "x_het_fraction": ("chrX het fraction", ".3f"),
    "sex": ("sex", ""),
    "contamination": ("contamination", ".3f"),
    "kinship": ("kinship", ".3f"),
    "mendelian_error_rate": ("Mendelian error rate", ".4f"),
    "de_novo_candidates": ("de novo candidates", ".0f"),
    "verdict": ("verdict", ""),
}
COLUMNS = ("family", "level", "unit", "metric", "value", "threshold", "verdict", "detail",
           "reason")


# ---------------------------------------------------------------------------------------------
# Thresholds and verdicts
# ---------------------------------------------------------------------------------------------

def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt(metric: str, value: Any) -> str:
    if _missing(value):
        return "NA"
    if isinstance(value, str):
        return value
    spec = METRICS.get(metric, ("", ".4g"))[1] or ".4g"
    return format(value, spec)


def threshold_text(gate: Mapping[str, Any], prefix: str = "") -> str:
    op = ">=" if gate["direction"] == "min" else "<="
    warn = f", WARN {op} {gate['warn']:g}" if gate["warn"] is not None else ", else FAIL"
    return f"{prefix}PASS {op} {gate['pass']:g}{warn}"


def grade(value: float | None, gate: Mapping[str, Any]) -> str:
    if _missing(value):
        return "WARN"
    assert value is not None
    sign = 1 if gate["direction"] == "min" else -1
    if sign * value >= sign * gate["pass"]:
        return "PASS"
    if gate["warn"] is not None and sign * value >= sign * gate["warn"]:
        return "WARN"
    return "FAIL"


def worst(verdicts: Sequence[str]) -> str:
    graded = [v for v in verdicts if v in VERDICTS]
    return max(graded, key=VERDICTS.index) if graded else "PASS"


def gated(level: str, unit: str, metric: str, value: float | None,
          gate: Mapping[str, Any], detail: str = "", shown: float | None = None,
          prefix: str = "", **data: Any) -> Row:
    """A graded row; `value` is graded, `shown` (default: value) is reported; `prefix` names
    what the gate applies to when that is not the value itself."""
    shown = value if shown is None else shown
    label = METRICS[metric][0]
    verdict = grade(value, gate)
    reason = ""
    if _missing(value):
        reason = f"{unit}: {label} not measured ({detail or 'no data'})"
    elif verdict != "PASS":
        bound = gate["pass"] if verdict == "WARN" else gate["warn"]
        op = "<" if gate["direction"] == "min" else ">"
        reason = f"{unit}: {label} {fmt(metric, value)} ({op} {bound:g})"
    return Row(level, unit, metric, shown, threshold_text(gate, prefix), verdict, detail, reason,
               data)


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


@dataclass
class Calls:
    """The family's joint calls with the site masks of the genotype-based checks."""

    gts: Genotypes
    auto: np.ndarray  # high-quality biallelic autosomal SNVs
    x: np.ndarray  # the same on chrX outside the PARs
    af: np.ndarray  # population AF (NaN: unknown)
    min_gq: float
    min_dp: float

    def confident(self, sample: str) -> np.ndarray:
        """Genotype codes at autosomal sites, -1 where not confidently called."""
        gq = self.gts.gq[sample]
        ok = (self.auto & (self.gts.gt[sample] >= 0) & (self.gts.depth(sample) >= self.min_dp)
              & (np.isnan(gq) | (gq >= self.min_gq)))
        return np.where(ok, self.gts.gt[sample], -1).astype(np.int8)


def read_calls(vcf: Path, header: VcfHeader, samples: list[str], af_tag: str, chrx: str,
               chry: str, par: Sequence[Region], sites: Mapping[str, Any]) -> Calls:
    table, gts = read_variants(vcf, samples, [af_tag], header)
    chrom = table["CHROM"].astype(str)
    pos = table["POS"].to_numpy()
    snv = (table["REF"].str.fullmatch("[ACGT]") & table["ALT"].str.fullmatch("[ACGT]")).fillna(
        False).to_numpy(dtype=bool)
    biallelic = ~(chrom + ":" + table["POS"].astype(str)).duplicated(keep=False).to_numpy()
    qual = pd.to_numeric(table["QUAL"], errors="coerce").to_numpy(dtype=float)
    good = (snv & biallelic & table["FILTER"].isin(["PASS", "."]).to_numpy()
            & (np.isnan(qual) | (qual >= sites["min_qual"])))
    in_par = np.zeros(len(table), dtype=bool)
    for region in par:
        in_par |= (chrom == region.chrom).to_numpy() & (pos >= region.start) & (pos <= region.end)
    contigs = list(dict.fromkeys([*header.contigs, *chrom.unique()]))
    return Calls(gts=gts,
                 auto=good & chrom.isin(autosomes(contigs, chrx, chry)).to_numpy(),
                 x=good & (chrom == chrx).to_numpy() & ~in_par,
                 af=pd.to_numeric(table[af_tag], errors="coerce").to_numpy(dtype=float),
                 min_gq=sites["min_gq"], min_dp=sites["min_dp"])


def _sample_files(qc_dir: Path, sample: str) -> dict[str, Path]:
    mosdepth = qc_dir / "mosdepth"
    return {"stats": qc_dir / "samtools" / f"{sample}.stats.txt",
            "markdup": qc_dir / "markdup" / f"{sample}.markdup.txt",
            "summary": mosdepth / f"{sample}.mosdepth.summary.txt",
            "dist": mosdepth / f"{sample}.mosdepth.global.dist.txt",
            "regions": mosdepth / f"{sample}.regions.bed.gz"}


def _try(function: Any, *args: Any) -> tuple[Any, str]:
    """(result, '') or (None, why it failed)."""
    try:
        return function(*args), ""
    except (OSError, ValueError, KeyError) as error:
        return None, str(error).split("\n")[0]


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


def _read_rows(sample: str, qc_dir: Path, th: Mapping[str, Any]) -> list[Row]:
    files = _sample_files(qc_dir, sample)
    fastp, why_fastp = _try(read_fastp, sorted((qc_dir / "fastp" / sample).glob("*.fastp.json")))
    stats, why_stats = _try(read_samtools_stats, files["stats"])
    dup, why_dup = _try(read_markdup, files["markdup"])
    if dup is None and stats is not None:
        dup, why_dup = stats["duplicate_rate"], ""
    fastp, stats = fastp or {}, stats or {}
    rows = [Row("sample", sample, "total_reads", fastp.get("total_reads"), detail=why_fastp),
            gated("sample", sample, "q30_fraction", fastp.get("q30_fraction"),
                  th["q30_fraction"], why_fastp or "raw bases, all units")]
    rows += [Row("sample", sample, m, fastp.get(m), detail=why_fastp)
             for m in ("adapter_trimmed_fraction", "fastp_duplication")]
    rows += [gated("sample", sample, m, stats.get(m), th[m], why_stats or "of primary reads")
             for m in ("mapped_fraction", "properly_paired_fraction")]
    rows += [Row("sample", sample, "mean_insert_size", stats.get("mean_insert_size"),
                 detail=why_stats),
             gated("sample", sample, "duplicate_rate", dup, th["duplicate_rate"],
                   why_dup or "samtools markdup")]
    return rows


def _coverage_rows(sample: str, coverage: Coverage | None, why: str,
                   th: Mapping[str, Any]) -> list[Row]:
    cov = coverage
    gap = f"{cov.gap_bp} bp of gaps excluded" if cov else why
    rows = [gated("sample", sample, "mean_depth", cov.mean_depth if cov else None,
                  th["mean_depth"], gap)]
    for depth in DEPTHS:
        value = cov.fraction(depth) if cov else None
        metric = f"fraction_{depth}x"
        rows.append(gated("sample", sample, metric, value, th[metric], gap) if metric in th
                    else Row("sample", sample, metric, value, detail=gap))
    rows += [Row("sample", sample, "x_ratio", cov.x_ratio if cov else None, detail=why),
             Row("sample", sample, "y_ratio", cov.y_ratio if cov else None,
                 detail=why or ("" if cov and cov.y_ratio is not None else "no chrY"))]
    return rows


def _sex_row(sample: str, declared: str, coverage: Coverage | None, calls: Calls | None,
             rules: Mapping[str, Any]) -> list[Row]:
    if coverage is None:
        return [Row("sample", sample, "sex", None, f"declared {declared}", "WARN",
                    "no coverage", f"{sample}: sex not checked (no coverage)")]
    x_het, x_sites = float("nan"), 0
    if calls is not None and sample in calls.gts.gt:
        x = calls.x
        x_het, x_sites = x_heterozygosity(calls.gts.ref_depth[sample][x],
                                          calls.gts.alt_depth[sample][x], rules["min_dp"])
    evidence = SexEvidence(coverage.x_ratio, x_het, x_sites, coverage.y_ratio)
    inferred = infer_sex(evidence, rules)
    verdict = ("PASS" if inferred == declared else
               "WARN" if inferred == "ambiguous" or declared == "unknown" else "FAIL")
    reason = "" if verdict == "PASS" else (
        f"{sample}: declared {declared}, inferred {inferred} ({evidence.describe()})")
    data = {"declared": declared, "x_ratio": evidence.x_ratio, "y_ratio": evidence.y_ratio}
    return [Row("sample", sample, "x_het_fraction", x_het, detail=f"{x_sites} sites"),
            Row("sample", sample, "sex", inferred, f"declared {declared}", verdict,
                evidence.describe(), reason, data)]


def _contamination_row(sample: str, calls: Calls | None, th: Mapping[str, Any]) -> Row:
    gate, sites = th["contamination"], th["sites"]
    if calls is None or sample not in calls.gts.gt:
        return gated("sample", sample, "contamination", None, gate, "not in the VCF")
    use = calls.auto & (calls.gts.depth(sample) >= sites["min_dp"])
    est = contamination(calls.gts.ref_depth[sample][use], calls.gts.alt_depth[sample][use],
                        calls.af[use], min_sites=sites["min_sites"])
    detail = (f"95% CI {est.low:.3f}-{est.high:.3f}, {est.sites} sites, read error "
              f"{est.error:g}" if not np.isnan(est.estimate)
              else f"{est.sites} sites with population AF")
    return gated("sample", sample, "contamination", est.estimate, gate, detail,
                 ci_low=est.low, ci_high=est.high, sites=est.sites, read_error=est.error)


def _kinship_cause(family: Family, a: str, b: str, observed: float, expected: float,
                   less_related: set[frozenset[str]]) -> str:
    if observed >= 0.354 > expected:
        return f"{a} and {b} look like the same person: duplicate sample or sample mix-up"
    if observed > expected:
        return ("more related than declared: an unrecorded relationship (e.g. consanguinity) "
                "or mislabelled samples")
    for child, parent in ((a, b), (b, a)):
        ind = family.by_id[child]
        if parent not in (ind.father, ind.mother):
            continue
        other = ind.mother if parent == ind.father else ind.father
        if other and frozenset((child, other)) in less_related:
            return f"{child} is unrelated to both declared parents: likely sample swap or mix-up"
        if parent == ind.father:
            return f"non-paternity, or a mix-up of {parent}'s or {child}'s sample"
        return f"a mix-up of {parent}'s or {child}'s sample (or a non-biological mother)"
    return "sample swap or mix-up, or a wrong pedigree"


def _kinship_rows(family: Family, calls: Calls | None, th: Mapping[str, Any]) -> list[Row]:
    gate, min_sites = th["kinship_deviation"], th["sites"]["min_sites"]
    rows: list[Row] = []
    for (a, b), expected in expected_kinship(family).items():
        rel = relationship(family, a, b, expected)
        unit = f"{a}~{b}"
        if calls is None or a not in calls.gts.gt or b not in calls.gts.gt:
            rows.append(gated("pair", unit, "kinship", None, gate, "not in the VCF"))
            continue
        observed, n = king_kinship(calls.confident(a), calls.confident(b))
        ok = n >= min_sites and not np.isnan(observed)
        detail = (f"expected {expected:.3f} ({rel}); observed {king_degree(observed)}, {n} sites"
                  if ok else f"{n} sites (< {min_sites})")
        rows.append(gated("pair", unit, "kinship", abs(observed - expected) if ok else None,
                          gate, detail, shown=observed if ok else None,
                          prefix=f"|kinship - {expected:g}|: ", expected=expected,
                          relationship=rel, sites=n))
    less = {frozenset(r.unit.split("~")) for r in rows
            if r.verdict != "PASS" and r.value is not None and r.value < r.data["expected"]}
    for row in rows:
        if row.verdict != "PASS" and row.value is not None:
            a, b = row.unit.split("~")
            cause = _kinship_cause(family, a, b, row.value, row.data["expected"], less)
            row.reason = (f"{a} vs {b}: kinship {row.value:.3f}, expected "
                          f"{row.data['expected']:.3f} ({row.data['relationship']}): {cause}")
    return rows


def _trio_rows(family: Family, calls: Calls | None, th: Mapping[str, Any]) -> list[Row]:
    sites = th["sites"]
    rows: list[Row] = []
    present = set(calls.gts.gt) if calls else set()
    for member in family.members:
        parents = [p for p in (member.father, member.mother) if p in family.by_id]
        if not parents:
            continue
        level = "trio" if len(parents) == 2 else "duo"
        if member.sample not in present or not set(parents) <= present:
            rows.append(gated(level, member.sample, "mendelian_error_rate", None,
                              th["mendelian_error_rate"], "not in the VCF"))
            continue
        assert calls is not None
        codes = {s: calls.confident(s) for s in (member.sample, *parents)}
        called = np.logical_and.reduce([c >= 0 for c in codes.values()])
        informative = called & np.logical_or.reduce([c > 0 for c in codes.values()])
        father = codes.get(member.father or "")
        mother = codes.get(member.mother or "")
        errors = mendelian_errors(codes[member.sample], father, mother) & informative
        n, n_err = int(informative.sum()), int(errors.sum())
        rate = n_err / n if n >= sites["min_sites"] else None
        rows.append(gated(level, member.sample, "mendelian_error_rate", rate,
                          th["mendelian_error_rate"],
                          f"{n_err} errors in {n} sites (parents: {', '.join(parents)})",
                          errors=n_err, sites=n))
        if father is not None and mother is not None:
            assert member.father and member.mother
            gts = calls.gts
            parent_alt = gts.alt_depth[member.father] + gts.alt_depth[member.mother]
            rare = np.isnan(calls.af) | (calls.af <= sites["max_de_novo_af"])
            dn = de_novo_candidates(codes[member.sample], father, mother,
                                    gts.allele_balance(member.sample), parent_alt) & rare
            rows.append(gated("trio", member.sample, "de_novo_candidates", float(dn.sum()),
                              th["de_novo_candidates"],
                              f"child het (AB 0.2-0.8), parents hom-ref without alt reads, "
                              f"AF <= {sites['max_de_novo_af']:g}"))
    return rows


def run_qc(family: str, ped: Path, vcf: Path, qc_dir: Path, out: Path, mqc_dir: Path | None,
           thresholds: Mapping[str, Any] | None = None, chrx: str = "chrX", chry: str = "chrY",
           par: Sequence[str] = (), af_tag: str = "GNOMADAF") -> QcResult:
    """Run every check of one family; write `out` (TSV), its JSON twin and MultiQC content."""
    th = merge_thresholds(thresholds)
    families = read_ped(ped)
    if family not in families:
        raise InputError([Problem(str(ped), None, "family_id", family,
                                  f"no such family (has: {', '.join(families)})")])
    fam = families[family]
    samples = [m.sample for m in fam.members]
    regions = [Region.parse(p) for p in par]
    qc_dir = Path(qc_dir)

    bins = {s: _try(read_bins, _sample_files(qc_dir, s)["regions"]) for s in samples}
    found = [b for b, _ in bins.values() if b is not None]
    gaps, why_gaps = _try(gap_mask, found) if found else (None, "no mosdepth bins")
    header = read_header(vcf)
    in_vcf = [s for s in samples if s in header.samples]
    calls = (read_calls(Path(vcf), header, in_vcf, af_tag, chrx, chry, regions, th["sites"])
             if in_vcf else None)
    sex_rules = {**th["sex"], "min_dp": th["sites"]["min_dp"]}

    rows: list[Row] = []
    curves: dict[str, list[float]] = {}
    for member in fam.members:
        s = member.sample
        files = _sample_files(qc_dir, s)
        coverage, why = None, bins[s][1] or why_gaps
        if bins[s][0] is not None and gaps is not None:
            coverage, why = _try(read_coverage, files["summary"], files["dist"], bins[s][0],
                                 gaps, chrx, chry, regions)
        if coverage is not None:
            curves[s] = [round(float(f), 4) for f in coverage.fraction_at]
        sample_rows = [*_read_rows(s, qc_dir, th), *_coverage_rows(s, coverage, why, th),
                       *_sex_row(s, member.sex, coverage, calls, sex_rules),
                       _contamination_row(s, calls, th)]
        rows += [*sample_rows, _verdict_row("sample", s, sample_rows)]
    rows += _kinship_rows(fam, calls, th) + _trio_rows(fam, calls, th)
    rows.append(_verdict_row("family", family, rows))

    result = QcResult(
        family=family,
        family_verdict=rows[-1].verdict,
        sample_verdicts={r.unit: r.verdict for r in rows
                         if r.metric == "verdict" and r.level == "sample"},
        reasons=_reasons((r.verdict, r.reason) for r in rows if r.metric != "verdict"),
        rows=rows,
        tsv=Path(out),
        json=Path(out).with_suffix(".json"),
        depth_curves=curves,
    )
    _write(result, th)
    if mqc_dir is not None:
        from helgenom.qc.multiqc import write_multiqc

        write_multiqc(result, Path(mqc_dir))
    return result


def _verdict_row(level: str, unit: str, rows: Sequence[Row]) -> Row:
    """The worst verdict of `rows`, with the checks that made it (members' verdicts left out:
    their own checks are listed)."""
    verdict = worst([r.verdict for r in rows])
    bad = [f"{'' if level == 'sample' else r.unit + ' '}{METRICS[r.metric][0]} ({r.verdict})"
           for r in rows if r.verdict in VERDICTS[1:] and r.metric != "verdict"]
    reason = (f"{unit}: {verdict}: {', '.join(bad[:4])}{', ...' if len(bad) > 4 else ''}"
              if bad else "")
    return Row(level, unit, "verdict", verdict, verdict=verdict, reason=reason)


def _reasons(graded: Iterable[tuple[str, str]]) -> list[str]:
    """Reasons of (verdict, reason) pairs: FAILs first, then WARNs, each once."""
    graded = list(graded)
    return list(dict.fromkeys(reason for level in ("FAIL", "WARN")
                              for verdict, reason in graded if verdict == level and reason))


# ---------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    return None if _missing(value) else value


def _write(result: QcResult, thresholds: Mapping[str, Any]) -> None:
    result.tsv.parent.mkdir(parents=True, exist_ok=True)
    with result.tsv.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in result.rows:
            writer.writerow([result.family, r.level, r.unit, r.metric, fmt(r.metric, r.value),
                             r.threshold, r.verdict, r.detail, r.reason])
    rows = [{"family": result.family, **{k: _json_value(v) for k, v in asdict(r).items()
                                         if k != "data"},
             "data": {k: _json_value(v) for k, v in r.data.items()}} for r in result.rows]
    document = {"family": result.family, "verdict": result.family_verdict,
                "sample_verdicts": result.sample_verdicts, "reasons": result.reasons,
                "tsv": str(result.tsv), "thresholds": thresholds, "rows": rows,
                "depth_curves": result.depth_curves,
                # What clinician-facing outputs print first (read by helgenom rank).
                "header_lines": verdict_lines(rows, str(result.tsv))}
    result.json.write_text(json.dumps(document, indent=1) + "\n")


def verdict_lines(rows: Sequence[Mapping[str, Any]], tsv: str) -> list[str]:
    """1-3 `## QC: ...` lines for the top of clinician-facing outputs, from QC rows (dicts
    with level, unit, metric, verdict, reason), e.g.
    `## QC: FAIL - demo-proband: contamination 0.090 (> 0.05); see X.tsv`."""
    family = next(r for r in rows if r["level"] == "family" and r["metric"] == "verdict")
    verdict = family["verdict"]
    reasons = _reasons((r["verdict"], r["reason"]) for r in rows if r["metric"] != "verdict")
    if not reasons:
        members = sum(r["level"] == "sample" and r["metric"] == "verdict" for r in rows)
        return [f"## QC: {verdict} - all checks of {members} samples and family "
                f"{family['unit']} passed; see {tsv}"]
    if len(reasons) == 1:
        return [f"## QC: {verdict} - {reasons[0]}; see {tsv}"]
    more = f" (+{len(reasons) - 2} more)" if len(reasons) > 2 else ""
    return [f"## QC: {verdict} - {reasons[0]}", f"## QC: also {reasons[1]}{more}",
            f"## QC: see {tsv}"]


def header_lines(qc_tsv_or_json: Path | str) -> list[str]:
    """`verdict_lines` of `helgenom qc`'s TSV or JSON."""
    path = Path(qc_tsv_or_json)
    if path.suffix == ".json":
        document = json.loads(path.read_text())
        return verdict_lines(document["rows"], document["tsv"])
    with path.open(newline="") as handle:
        return verdict_lines(list(csv.DictReader(handle, delimiter="\t")), str(path))
