"""helgenom: whole-genome sequencing analysis for rare disease (GMS)."""

__version__ = "0.1.0"

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
