"""Data shipped in the package (and so in the wheel): JSON schemas of the config and sheets,
helgenom's default GENMOD rank models, and the phenotype resources.

The repository's top-level `schemas/`, `resources/rank_model/` and `resources/phenotype/` are
links to these folders.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def data_path(*parts: str) -> Path:
    """The installed file `helgenom/data/<parts>` (a real file: the package is not zipped)."""
    return Path(str(files(__name__).joinpath(*parts)))
