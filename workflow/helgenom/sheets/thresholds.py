"""QC thresholds as the config sets them: the defaults, the presets and the overrides.

A gate is `{"pass": P, "warn": W, "direction": "min"|"max"}`: with "min", value >= P is PASS,
>= W is WARN, below W is FAIL; with "max", value <= P is PASS, <= W is WARN, above W is FAIL
(`"warn": null`: anything that misses P fails). `helgenom.qc.verdict` grades with them; the
sheets check them at start, so a bad override stops the run before any job.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

# GMS-like gates for clinical 30x WGS (see the module docstring for their meaning).
DEFAULT_THRESHOLDS: dict[str, dict[str, Any]] = {
    "mean_depth": {"pass": 30, "warn": 20, "direction": "min"},  # autosomal, gaps excluded
    "fraction_20x": {"pass": 0.90, "warn": 0.80, "direction": "min"},  # of the genome
    "mapped_fraction": {"pass": 0.95, "warn": 0.90, "direction": "min"},
    "properly_paired_fraction": {"pass": 0.90, "warn": 0.80, "direction": "min"},
    "duplicate_rate": {"pass": 0.15, "warn": 0.30, "direction": "max"},
    "q30_fraction": {"pass": 0.80, "warn": 0.70, "direction": "min"},  # raw bases
    "contamination": {"pass": 0.02, "warn": 0.05, "direction": "max"},
    "kinship_deviation": {"pass": 0.10, "warn": 0.15, "direction": "max"},  # |obs - expected|
    "mendelian_error_rate": {"pass": 0.02, "warn": 0.05, "direction": "max"},
    "de_novo_candidates": {"pass": 200, "warn": 500, "direction": "max"},  # per trio
    # Sex inference (helgenom.qc.genetics.infer_sex): depth ratios and chrX het fraction.
    # The chrY ratio is over the whole chrY (GRCh38: about half is N), so males reach ~0.2.
    "sex": {"male_max_x_ratio": 0.65, "female_min_x_ratio": 0.80, "male_max_x_het": 0.10,
            "female_min_x_het": 0.25, "min_x_sites": 20, "male_min_y_ratio": 0.10,
            "female_max_y_ratio": 0.03},
    # Sites for the genotype-based checks: biallelic SNVs, FILTER PASS, QUAL >= min_qual;
    # per sample GQ >= min_gq and depth (sum of AD) >= min_dp. A de novo candidate also needs
    # population AF <= max_de_novo_af (or unknown); an estimate needs >= min_sites sites.
    "sites": {"min_gq": 20, "min_dp": 10, "min_qual": 30, "max_de_novo_af": 0.001,
              "min_sites": 50},
}

# For the simulated demo (~25x on about 1 Mb): depth and de novo gates scaled down, and Q30
# given a margin (the simulator's error profile gives 0.805-0.81, just above 0.80).
DEMO_THRESHOLDS: dict[str, dict[str, Any]] = {
    "mean_depth": {"pass": 20, "warn": 12},
    "fraction_20x": {"pass": 0.50, "warn": 0.30},
    "q30_fraction": {"pass": 0.75, "warn": 0.70},
    "de_novo_candidates": {"pass": 5, "warn": 20},
}

PRESETS: dict[str, dict[str, dict[str, Any]]] = {"default": {}, "demo": DEMO_THRESHOLDS}

GATES = tuple(k for k, v in DEFAULT_THRESHOLDS.items() if "direction" in v)
# Values that are fractions (0..1); every other value is a count, depth or ratio (>= 0).
FRACTIONS = {"fraction_20x", "mapped_fraction", "properly_paired_fraction", "duplicate_rate",
             "q30_fraction", "contamination", "kinship_deviation", "mendelian_error_rate",
             "male_max_x_het", "female_min_x_het", "max_de_novo_af"}


def _value_problem(key: str, field: str, value: Any) -> str | None:
    """What is wrong with one threshold value (None: nothing)."""
    if field == "direction" or (field == "warn" and value is None):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, not {value!r}"
    high = 1 if key in FRACTIONS or field in FRACTIONS else None
    if value < 0 or (high is not None and value > high):
        return f"must be {'between 0 and 1' if high else 'at least 0'}, not {value!r}"
    return None


def merge_thresholds(*overrides: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """DEFAULT_THRESHOLDS updated key by key with each override in turn, then checked."""
    merged = copy.deepcopy(DEFAULT_THRESHOLDS)
    for override in overrides:
        for key, values in (override or {}).items():
            if key not in merged or not isinstance(values, Mapping):
                raise ValueError(f"QC threshold {key!r}: unknown, or not a mapping "
                                 f"(known: {', '.join(merged)})")
            unknown = sorted(set(values) - set(merged[key]))
            if unknown:
                raise ValueError(f"QC threshold {key!r}: unknown field(s) {', '.join(unknown)} "
                                 f"(known: {', '.join(merged[key])})")
            merged[key].update(values)
    for key, values in merged.items():
        for field, value in values.items():
            if (problem := _value_problem(key, field, value)) is not None:
                raise ValueError(f"QC threshold {key!r}: {field} {problem}")
    for key in GATES:
        gate = merged[key]
        if gate["direction"] not in ("min", "max"):
            raise ValueError(f"QC threshold {key!r}: direction must be 'min' or 'max'")
        if gate["warn"] is not None and (gate["warn"] > gate["pass"]) == (
                gate["direction"] == "min"):
            relation = "<=" if gate["direction"] == "min" else ">="
            raise ValueError(f"QC threshold {key!r}: with direction {gate['direction']}, "
                             f"warn must be {relation} pass")
    return merged
