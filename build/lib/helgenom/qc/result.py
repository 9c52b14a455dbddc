"""What `helgenom qc` finds: one row per unit and metric, and the family's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Row:
    level: str  # sample | pair | trio | duo | family
    unit: str  # sample ID, "A~B" pair, the child of a trio/duo, or the family ID
    metric: str
    value: float | str | None
    threshold: str = ""
    verdict: str = "INFO"
    detail: str = ""
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # extra numbers (JSON, MultiQC)


@dataclass
class QcResult:
    family: str
    family_verdict: str
    sample_verdicts: dict[str, str]
    reasons: list[str]
    rows: list[Row]
    tsv: Path
    json: Path
    depth_curves: dict[str, list[float]] = field(default_factory=dict)
