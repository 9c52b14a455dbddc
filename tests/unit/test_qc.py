"""`helgenom qc` estimators, thresholds, parsers and outputs on hand-built inputs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from helgenom.io.reference import Region
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
    autosomes,
    gap_mask,
    read_bins,
    read_coverage,
    read_fastp,
    read_markdup,
    read_samtools_stats,
)
from helgenom.qc.verdict import (
    grade,
    header_lines,
    run_qc,
    threshold_text,
    worst,
)
from helgenom.sheets.pedigree import Family, Individual
from helgenom.sheets.thresholds import DEFAULT_THRESHOLDS, merge_thresholds
from helpers import TRIO, need_tools, write_ped, write_vcf

DATA = Path(__file__).resolve().parents[1] / "data" / "qc"
SEX_RULES = {**DEFAULT_THRESHOLDS["sex"]}
N_SITES = 20_000


# ---------------------------------------------------------------------------------------------
# genotype simulation helpers: unlinked sites, Hardy-Weinberg founders
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(2024)


def founder(rng: np.random.Generator, af: np.ndarray) -> np.ndarray:
    """(2, n) haplotypes: alt allele with probability af."""
    return (rng.random((2, af.size)) < af).astype(np.int8)


def child_of(rng: np.random.Generator, father: np.ndarray, mother: np.ndarray) -> np.ndarray:
    """One allele from each parent, chosen independently per site."""
    cols = np.arange(father.shape[1])
    pick = rng.integers(0, 2, size=(2, cols.size))
    return np.stack([father[pick[0], cols], mother[pick[1], cols]])


def codes(haps: np.ndarray) -> np.ndarray:
    return haps.sum(axis=0).astype(np.int8)


# ---------------------------------------------------------------------------------------------
# kinship
# ---------------------------------------------------------------------------------------------


def test_king_kinship_known_relationships(rng: np.random.Generator) -> None:
    af = rng.uniform(0.05, 0.95, N_SITES)
    dad, mum, other = founder(rng, af), founder(rng, af), founder(rng, af)
    kid, sib = child_of(rng, dad, mum), child_of(rng, dad, mum)
    grandkid = child_of(rng, kid, founder(rng, af))

    twins, n = king_kinship(codes(kid), codes(kid))
    assert twins == 0.5 and n == N_SITES
    cases = {"parent-child": (dad, kid, 0.25), "full siblings": (kid, sib, 0.25),
             "grandparent": (dad, grandkid, 0.125), "unrelated": (dad, other, 0.0)}
    for name, (a, b, expected) in cases.items():
        observed, _ = king_kinship(codes(a), codes(b))
        assert observed == pytest.approx(expected, abs=0.02), name
    # parent-child never share no allele: no opposite homozygotes
    assert not ((codes(dad) == 0) & (codes(kid) == 2)).any()


def test_king_kinship_ignores_no_calls(rng: np.random.Generator) -> None:
    af = rng.uniform(0.05, 0.95, 2000)
    a, b = codes(founder(rng, af)), codes(founder(rng, af))
    missing = rng.random(af.size) < 0.3
    a_nc = np.where(missing, -1, a).astype(np.int8)
    observed, n = king_kinship(a_nc, b)
    assert n == (~missing).sum()
    assert observed == king_kinship(a[~missing], b[~missing])[0]
    assert np.isnan(king_kinship(np.zeros(5, np.int8), np.zeros(5, np.int8))[0])


def test_king_degree() -> None:
    assert [king_degree(k) for k in (0.5, 0.25, 0.12, 0.06, 0.01, -0.1)] == [
        "duplicate or MZ twin", "first-degree", "second-degree", "third-degree",
        "unrelated", "unrelated"]


def _family(*rows: tuple[str, str | None, str | None, str]) -> Family:
    return Family("F", [Individual("F", s, sex, "unknown", f, m) for s, f, m, sex in rows])


def test_expected_kinship_and_relationship_names() -> None:
    # grandparents -> dad; dad + mum -> kid, sib; dad + other -> half; kid's cousin via aunt
    fam = _family(("kid", "dad", "mum", "male"), ("sib", "dad", "mum", "female"),
                  ("half", "dad", "other", "male"), ("dad", "gp", "gm", "male"),
                  ("mum", None, None, "female"), ("other", None, None, "female"),
                  ("gp", None, None, "male"), ("gm", None, None, "female"),
                  ("aunt", "gp", "gm", "female"), ("cousin", None, "aunt", "male"))
    phi = expected_kinship(fam)

    def k(a: str, b: str) -> float:
        return phi.get((a, b), phi.get((b, a), -1.0))

    expected = {("dad", "kid"): (0.25, "parent-child"), ("kid", "sib"): (0.25, "full siblings"),
                ("kid", "half"): (0.125, "half-siblings"),
                ("gp", "kid"): (0.125, "grandparent-grandchild"),
                ("dad", "mum"): (0.0, "unrelated"), ("dad", "aunt"): (0.25, "full siblings"),
                ("kid", "aunt"): (0.125, "second-degree relatives"),
                ("kid", "cousin"): (0.0625, "third-degree relatives")}
    for (a, b), (value, name) in expected.items():
        assert k(a, b) == value, (a, b)
        assert relationship(fam, a, b, value) == name, (a, b)
    assert len(phi) == 10 * 9 // 2


def test_expected_kinship_inbred_child() -> None:
    """A child of half-siblings: the parents' kinship raises the child's self-kinship."""
    fam = _family(("p", None, None, "male"), ("a", "p", None, "male"),
                  ("b", "p", None, "female"), ("c", "a", "b", "male"))
    phi = expected_kinship(fam)
    assert phi[("a", "b")] == 0.125
    assert phi[("a", "c")] == pytest.approx(0.5 * (0.5 + 0.125))


# ---------------------------------------------------------------------------------------------
# Mendelian errors and de novo candidates
# ---------------------------------------------------------------------------------------------


def test_mendelian_errors_trios_and_duos() -> None:
    # (father, mother, child, error?)
    cases = [(0, 0, 0, False), (0, 0, 1, True), (0, 0, 2, True), (1, 0, 1, False),
             (1, 1, 2, False), (2, 2, 1, True), (2, 0, 1, False), (2, 0, 2, True),
             (0, 2, 0, True), (1, 2, 0, True), (1, 1, 0, False),
             # a no-call parent constrains nothing; the other one still can; a no-call child
             # is never an error
             (-1, 0, 1, False), (-1, 0, 2, True), (0, 0, -1, False)]
    f, m, c, want = (np.array(x) for x in zip(*cases, strict=True))
    f, m, c = f.astype(np.int8), m.astype(np.int8), c.astype(np.int8)
    assert mendelian_errors(c, f, m).tolist() == want.tolist()
    duo = mendelian_errors(np.array([2, 1, 0, 2], np.int8), np.array([0, 0, 2, 2], np.int8), None)
    assert duo.tolist() == [True, False, True, False]


def test_de_novo_candidates() -> None:
    child = np.array([1, 1, 1, 1, 2], np.int8)
    zeros = np.zeros(5, np.int8)
    ab = np.array([0.5, 0.1, 0.5, np.nan, 1.0])
    parent_alt = np.array([0, 0, 1, 0, 0])
    assert de_novo_candidates(child, zeros, zeros, ab, parent_alt).tolist() == [
        True, False, False, False, False]
    assert not de_novo_candidates(child, zeros + 1, zeros, ab, parent_alt).any()


# ---------------------------------------------------------------------------------------------
# contamination
# ---------------------------------------------------------------------------------------------


def allele_counts(rng: np.random.Generator, c: float, n: int, depth: float,
                  related: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reads of a sample mixed with fraction c of another genome (unrelated, or its child)."""
    af = rng.uniform(0.02, 0.98, n)
    own = founder(rng, af)
    other = child_of(rng, own, founder(rng, af)) if related else founder(rng, af)
    q = (1 - c) * codes(own) / 2 + c * codes(other) / 2
    q = 0.001 + 0.998 * q  # sequencing errors
    dp = rng.poisson(depth, n)
    alt = rng.binomial(dp, q)
    return (dp - alt).astype(float), alt.astype(float), af


@pytest.mark.parametrize("c", [0.0, 0.02, 0.05, 0.10, 0.20])
def test_contamination_recovers_the_fraction(rng: np.random.Generator, c: float) -> None:
    ref, alt, af = allele_counts(rng, c, 3000, 30)
    est = contamination(ref, alt, af)
    assert est.estimate == pytest.approx(c, abs=0.01)
    assert est.low <= c + 0.005 and est.high >= c - 0.005
    assert est.sites == 3000


def test_contamination_low_depth_and_limits(rng: np.random.Generator) -> None:
    ref, alt, af = allele_counts(rng, 0.10, 3000, 6)
    est = contamination(ref, alt, af)
    assert est.estimate == pytest.approx(0.10, abs=0.03)
    deep = contamination(*allele_counts(rng, 0.10, 3000, 30))
    assert est.high - est.low > deep.high - deep.low  # less information per site
    few = contamination(ref[:20], alt[:20], af[:20])
    assert np.isnan(few.estimate) and few.sites == 20
    # sites without depth or AF do not count
    af_missing = af.copy()
    af_missing[:100] = np.nan
    assert contamination(ref, alt, af_missing).sites == (ref + alt > 0)[100:].sum()


def test_contamination_ignores_collapsed_repeats(rng: np.random.Generator) -> None:
    """Very deep sites (mismapped paralogs: het-looking reads at hom sites) are left out, and
    deep sites do not underflow the likelihood."""
    ref, alt, af = allele_counts(rng, 0.0, 2000, 30)
    repeat_ref, repeat_alt = np.full(200, 400.0), np.full(200, 300.0)
    est = contamination(np.concatenate([ref, repeat_ref]), np.concatenate([alt, repeat_alt]),
                        np.concatenate([af, np.full(200, 0.05)]))
    assert est.sites == 2000 and est.estimate < 0.005


def test_contamination_by_a_relative_is_underestimated(rng: np.random.Generator) -> None:
    """The documented limit: a child's DNA shares half the sample's alleles."""
    est = contamination(*allele_counts(rng, 0.10, 3000, 30, related=True))
    assert 0.03 < est.estimate < 0.08


# ---------------------------------------------------------------------------------------------
# sex
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("evidence", "expected"), [
    (SexEvidence(0.50, 0.00, 40, None), "male"),
    (SexEvidence(1.00, 0.60, 40, None), "female"),
    (SexEvidence(0.50, 0.00, 40, 0.25), "male"),
    (SexEvidence(1.02, 0.55, 40, 0.001), "female"),
    (SexEvidence(0.52, float("nan"), 0, None), "male"),  # no chrX sites: depth decides
    (SexEvidence(0.98, 0.70, 5, None), "female"),  # too few sites to use the het fraction
    (SexEvidence(0.98, 0.60, 40, 0.25), "ambiguous"),  # XXY-like
    (SexEvidence(0.50, 0.01, 40, 0.00), "ambiguous"),  # X0-like
    (SexEvidence(0.50, 0.40, 40, None), "ambiguous"),  # one X by depth, hets: contamination?
    (SexEvidence(0.72, 0.30, 40, None), "ambiguous"),  # in between
])
def test_infer_sex(evidence: SexEvidence, expected: str) -> None:
    assert infer_sex(evidence, SEX_RULES) == expected


def test_x_heterozygosity() -> None:
    ref = np.array([10, 0, 1, 6, 20, 3, 30], float)
    alt = np.array([10, 15, 14, 6, 0, 2, 1], float)
    # depth >= 10 and alt fraction >= 0.2: sites 0, 1, 2, 3; balanced (<= 0.8): 0, 3
    assert x_heterozygosity(ref, alt, min_dp=10) == (0.5, 4)
    assert np.isnan(x_heterozygosity(ref[4:5], alt[4:5], min_dp=10)[0])


# ---------------------------------------------------------------------------------------------
# thresholds and verdicts
# ---------------------------------------------------------------------------------------------


def test_grade_and_threshold_text() -> None:
    low = {"pass": 30, "warn": 20, "direction": "min"}
    high = {"pass": 0.02, "warn": 0.05, "direction": "max"}
    assert [grade(v, low) for v in (30, 25, 20, 19.9, None, float("nan"))] == [
        "PASS", "WARN", "WARN", "FAIL", "WARN", "WARN"]
    assert [grade(v, high) for v in (0.0, 0.02, 0.03, 0.05, 0.09)] == [
        "PASS", "PASS", "WARN", "WARN", "FAIL"]
    assert grade(0.5, {"pass": 0.9, "warn": None, "direction": "min"}) == "FAIL"
    assert threshold_text(low) == "PASS >= 30, WARN >= 20"
    assert threshold_text(high) == "PASS <= 0.02, WARN <= 0.05"
    assert worst(["PASS", "INFO", "WARN"]) == "WARN"
    assert worst(["INFO"]) == "PASS"


def test_merge_thresholds() -> None:
    merged = merge_thresholds({"mean_depth": {"pass": 20}}, {"sex": {"min_x_sites": 5}})
    assert merged["mean_depth"] == {"pass": 20, "warn": 20, "direction": "min"}
    assert merged["sex"]["min_x_sites"] == 5
    assert DEFAULT_THRESHOLDS["mean_depth"]["pass"] == 30  # defaults untouched
    for bad, message in [({"depth": {"pass": 1}}, "unknown"),
                         ({"mean_depth": {"fail": 1}}, "unknown field"),
                         ({"mean_depth": {"warn": 40}}, "warn must be <= pass"),
                         ({"contamination": {"warn": 0.01}}, "warn must be >= pass"),
                         ({"duplicate_rate": {"direction": "up"}}, "direction")]:
        with pytest.raises(ValueError, match=message):
            merge_thresholds(bad)


# ---------------------------------------------------------------------------------------------
# tool outputs
# ---------------------------------------------------------------------------------------------


def test_parsers_on_real_tool_outputs() -> None:
    """Files from the demo run (fastp 0.23, samtools 1.16), trimmed to what is parsed."""
    fastp = read_fastp(sorted(DATA.glob("demo-proband.L00*.fastp.json")))
    assert fastp["total_reads"] == 2 * 75612
    assert fastp["q30_fraction"] == pytest.approx((9191013 + 9156366) / (2 * 11341800))
    assert fastp["adapter_trimmed_fraction"] == pytest.approx((1979 + 2024) / (2 * 75612))
    assert fastp["fastp_duplication"] == pytest.approx((0.00550177 + 0.00611014) / 2)
    stats = read_samtools_stats(DATA / "demo-proband.stats.txt")
    assert stats["mapped_fraction"] == 1.0
    assert stats["properly_paired_fraction"] == pytest.approx(146704 / 147280)
    assert stats["mean_insert_size"] == pytest.approx(341.9, abs=1)
    assert read_markdup(DATA / "demo-proband.markdup.txt") == pytest.approx(5766 / 147280)
    with pytest.raises(ValueError, match="samtools stats"):
        read_samtools_stats(DATA / "demo-proband.markdup.txt")
    with pytest.raises(FileNotFoundError):
        read_fastp([])


def test_autosomes() -> None:
    assert autosomes(["chr1", "chr22", "chrX", "chrY", "chrM", "chr1_KI270706v1_random"],
                     "chrX", "chrY") == ["chr1", "chr22"]
    assert autosomes(["ctgA", "ctgB", "X", "MT", "ctgA_alt"], "X", "Y") == ["ctgA", "ctgB"]


def write_mosdepth(directory: Path, sample: str, bins: dict[str, list[float]],
                   lengths: dict[str, int]) -> None:
    """mosdepth-like outputs from 1-kb bin depths (each bin uniformly covered)."""
    rows, summary, dist = [], ["chrom\tlength\tbases\tmean\tmin\tmax"], []
    for chrom, depths in bins.items():
        for i, d in enumerate(depths):
            rows.append(f"{chrom}\t{i * 1000}\t{min((i + 1) * 1000, lengths[chrom])}\t{d:.2f}")
        bases = sum(d * 1000 for d in depths)
        summary += [f"{chrom}\t{lengths[chrom]}\t{bases:.0f}\t{bases / lengths[chrom]:.2f}\t0\t0",
                    f"{chrom}_region\t{lengths[chrom]}\t{bases:.0f}\t0\t0\t0"]
        for x in range(int(max(depths)), -1, -1):
            dist.append(f"{chrom}\t{x}\t{sum(d >= x for d in depths) / len(depths):.2f}")
    summary.append("total\t1\t1\t1\t0\t0")
    with gzip.open(directory / f"{sample}.regions.bed.gz", "wt") as handle:
        handle.write("\n".join(rows) + "\n")
    (directory / f"{sample}.mosdepth.summary.txt").write_text("\n".join(summary) + "\n")
    (directory / f"{sample}.mosdepth.global.dist.txt").write_text("\n".join(dist) + "\n")


LENGTHS = {"chr1": 10_000, "chr2": 10_000, "chrX": 10_000, "chrY": 10_000}


def male_bins(gap: int = 2) -> dict[str, list[float]]:
    chr1 = [0.0] * gap + [30.0] * (10 - gap)  # a reference gap at the start of chr1
    return {"chr1": chr1, "chr2": [20.0] * 10, "chrX": [25.0] * 2 + [12.5] * 8,
            "chrY": [0.0] * 5 + [10.0] * 5}


def test_coverage_gaps_par_and_ratios(tmp_path: Path) -> None:
    write_mosdepth(tmp_path, "m", male_bins(), LENGTHS)
    female = {"chr1": [0.0] * 2 + [30.0] * 8, "chr2": [20.0] * 10, "chrX": [25.0] * 10,
              "chrY": [0.0] * 10}
    write_mosdepth(tmp_path, "f", female, LENGTHS)
    bins = [read_bins(tmp_path / f"{s}.regions.bed.gz") for s in ("m", "f")]
    gaps = gap_mask(bins)
    assert gaps.sum() == 2 + 5 + 5 - 5  # chr1's gap; chrY bins empty in both (first 5)
    par = [Region("chrX", 1, 2000), Region("chrY", 1, 1)]
    cov = read_coverage(tmp_path / "m.mosdepth.summary.txt",
                        tmp_path / "m.mosdepth.global.dist.txt", bins[0], gaps, "chrX", "chrY",
                        par)
    # autosomes: (8 kb x 30 + 10 kb x 20) / 18 kb sequenceable
    assert cov.mean_depth == pytest.approx((8 * 30 + 10 * 20) / 18)
    assert cov.gap_bp == 2000
    assert cov.x_ratio == pytest.approx(12.5 / cov.mean_depth)  # PAR bins left out
    assert cov.y_ratio == pytest.approx(50 / 9 / cov.mean_depth)  # Y's bin 0 in the PAR
    assert cov.fraction(0) == 1.0
    assert cov.fraction(20) == pytest.approx(1.0)
    assert cov.fraction(25) == pytest.approx(8 / 18, abs=0.01)
    assert cov.fraction(31) == 0.0
    no_par = read_coverage(tmp_path / "m.mosdepth.summary.txt",
                           tmp_path / "m.mosdepth.global.dist.txt", bins[0], gaps, "chrX",
                           "chrY")
    assert no_par.x_ratio > cov.x_ratio
    assert read_coverage(tmp_path / "f.mosdepth.summary.txt",
                         tmp_path / "f.mosdepth.global.dist.txt", bins[1], gaps, "chrX",
                         "chrY").y_ratio == 0.0
    with pytest.raises(ValueError, match="bins differ"):
        gap_mask([bins[0], bins[0].iloc[:-1]])


# ---------------------------------------------------------------------------------------------
# run_qc with partial inputs, and the header lines
# ---------------------------------------------------------------------------------------------


def test_run_qc_reports_what_it_cannot_measure(tmp_path: Path) -> None:
    need_tools("bcftools")
    ped = write_ped(tmp_path / "fam.ped", TRIO)
    records = [{"chrom": "chr1", "pos": 100 * (i + 1), "ref": "A", "alt": "G", "af": 0.3,
                "gts": {"dad": "0/1", "mum": "0/0", "kid": "0/1"}} for i in range(5)]
    vcf = write_vcf(tmp_path / "fam.vcf", ["dad", "mum", "kid"], records)
    qc = tmp_path / "qc"
    (qc / "mosdepth").mkdir(parents=True)
    for sample in ("dad", "kid"):
        write_mosdepth(qc / "mosdepth", sample, male_bins(), LENGTHS)
    female = {**male_bins(), "chrX": [25.0] * 10, "chrY": [0.0] * 10}
    write_mosdepth(qc / "mosdepth", "mum", female, LENGTHS)
    result = run_qc("FAM", ped, vcf, qc, tmp_path / "out" / "FAM.qc.tsv", tmp_path / "mqc",
                    thresholds={"mean_depth": {"pass": 20, "warn": 10}})
    assert result.family_verdict == "WARN"
    assert set(result.sample_verdicts.values()) == {"WARN"}  # no fastp/samtools files
    rows = {(r.unit, r.metric): r for r in result.rows}
    assert rows[("dad", "mean_depth")].verdict == "PASS"
    assert rows[("mum", "sex")].value == "female" and rows[("dad", "sex")].value == "male"
    assert rows[("dad", "mapped_fraction")].verdict == "WARN"
    assert "dad: mapped reads not measured" in rows[("dad", "mapped_fraction")].reason
    assert rows[("dad~kid", "kinship")].verdict == "WARN"  # 5 sites: too few
    assert rows[("kid", "contamination")].verdict == "WARN"
    assert "kid: contamination not measured" in " ".join(result.reasons)
    lines = header_lines(result.tsv)
    assert lines == header_lines(result.json)
    assert len(lines) == 3 and lines[0].startswith("## QC: WARN - ")
    assert lines[1].startswith("## QC: also ") and lines[2] == f"## QC: see {result.tsv}"
    document = json.loads(result.json.read_text())
    assert document["verdict"] == "WARN" and document["reasons"] == result.reasons
    assert sorted(p.name for p in (tmp_path / "mqc").iterdir()) == [
        f"helgenom_qc_{n}_mqc.json" for n in ("depth", "generalstats", "relatedness",
                                              "relatedness_table", "sex", "verdicts")]


def test_header_lines_pass_and_single_reason(tmp_path: Path) -> None:
    def write(rows: list[tuple[str, str, str, str, str]]) -> Path:
        path = tmp_path / "x.qc.tsv"
        lines = ["family\tlevel\tunit\tmetric\tvalue\tthreshold\tverdict\tdetail\treason"]
        lines += ["\t".join(("F", level, unit, metric, verdict, "", verdict, "", reason))
                  for level, unit, metric, verdict, reason in rows]
        path.write_text("\n".join(lines) + "\n")
        return path

    ok = [("sample", "a", "verdict", "PASS", ""), ("sample", "b", "verdict", "PASS", ""),
          ("family", "F", "verdict", "PASS", "")]
    path = write(ok)
    assert header_lines(path) == [
        f"## QC: PASS - all checks of 2 samples and family F passed; see {path}"]
    path = write([("sample", "a", "contamination", "FAIL", "a: contamination 0.090 (> 0.05)"),
                  *ok[:2], ("family", "F", "verdict", "FAIL", "")])
    assert header_lines(path) == [f"## QC: FAIL - a: contamination 0.090 (> 0.05); see {path}"]


def test_multiqc_content_is_html_escaped(tmp_path: Path) -> None:
    """Reasons, details and names reach MultiQC's HTML as text, never as markup."""
    from helgenom.qc.multiqc import write_multiqc
    from helgenom.qc.result import QcResult, Row

    payload = "<script>alert(1)</script>"
    rows = [Row("sample", "S1", "contamination", 0.2, verdict="FAIL", detail=payload,
                reason=f"S1: contamination {payload}"),
            Row("sample", "S1", "sex", "male", verdict="PASS",
                data={"declared": "male", "x_ratio": 0.5, "y_ratio": None}),
            Row("sample", "S1", "verdict", "FAIL", verdict="FAIL"),
            Row("family", "FAM", "verdict", "FAIL", verdict="FAIL")]
    result = QcResult("FAM", "FAIL", {"S1": "FAIL"}, [payload], rows,
                      tmp_path / f"{payload}.tsv", tmp_path / "qc.json")
    files = write_multiqc(result, tmp_path / "mqc")
    text = "".join(path.read_text() for path in files)
    assert payload not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<code>helgenom qc</code>" in text  # the module's own markup is kept
