"""Variant scores: a small, documented default model with a per-category breakdown.

Categories and points (the total is their sum; `RankScoreNormalized` maps the total onto
0..1 between the model's minimum and maximum):

| category     | evidence                                              | points |
|--------------|-------------------------------------------------------|--------|
| consequence  | HIGH impact (stop_gained, frameshift, splice site...) | 10     |
|              | MODERATE (missense, in-frame indel)                   | 6      |
|              | LOW (synonymous, splice_region)                       | 2      |
|              | MODIFIER or none (intron, UTR, intergenic)            | 0      |
| frequency    | no population source configured                       | 0      |
|              | absent from the population source                     | 6      |
|              | AF < 0.001 / < 0.01 / < 0.05 / >= 0.05                | 5 / 3 / 0 / -10 |
| inheritance  | fits a model (AR_comp only with a partner of at least  | 6      |
|              | MODERATE impact), else                                | -10    |
| quality      | every called genotype passes the gates / not          | 2 / -6 |
| filter       | FILTER PASS or missing / any other value              | 0 / -3 |
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CONSEQUENCE_POINTS = {"HIGH": 10, "MODERATE": 6, "LOW": 2, "MODIFIER": 0}
AF_BINS = ((0.001, 5), (0.01, 3), (0.05, 0))
AF_COMMON_POINTS = -10
AF_ABSENT_POINTS = 6
MODEL_POINTS, NO_MODEL_POINTS = 6, -10
GATE_PASS_POINTS, GATE_FAIL_POINTS = 2, -6
FILTER_FAIL_POINTS = -3
CATEGORIES = ("consequence", "frequency", "inheritance", "quality", "filter")
MIN_SCORE = 0 + AF_COMMON_POINTS + NO_MODEL_POINTS + GATE_FAIL_POINTS + FILTER_FAIL_POINTS
MAX_SCORE = 10 + AF_ABSENT_POINTS + MODEL_POINTS + GATE_PASS_POINTS + 0


def frequency_points(af: pd.Series, have_source: bool) -> np.ndarray:
    values = pd.to_numeric(af, errors="coerce").to_numpy(dtype=float)
    if not have_source:
        return np.zeros(len(values), dtype=int)
    points = np.full(len(values), AF_COMMON_POINTS, dtype=int)
    for threshold, bin_points in reversed(AF_BINS):
        points[values < threshold] = bin_points
    points[np.isnan(values)] = AF_ABSENT_POINTS
    return points


def score(table: pd.DataFrame, have_population: bool) -> pd.DataFrame:
    """Per-category points for rows with columns impact, af, has_model, gates, FILTER."""
    parts = pd.DataFrame(index=table.index)
    parts["consequence"] = table["impact"].map(CONSEQUENCE_POINTS).fillna(0).astype(int)
    parts["frequency"] = frequency_points(table["af"], have_population)
    parts["inheritance"] = np.where(table["has_model"], MODEL_POINTS, NO_MODEL_POINTS)
    parts["quality"] = np.where(table["gates"] == "", GATE_PASS_POINTS, GATE_FAIL_POINTS)
    parts["filter"] = np.where(table["FILTER"].isin(["PASS", "."]), 0, FILTER_FAIL_POINTS)
    parts["score"] = parts[list(CATEGORIES)].sum(axis=1)
    parts["score_normalized"] = (parts["score"] - MIN_SCORE) / (MAX_SCORE - MIN_SCORE)
    return parts
