"""Code style is part of the contract: ruff and snakefmt are clean (snakemake --lint is in
test_dryrun.py, since it needs a valid configuration)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return str(path)


def test_ruff_is_clean():
    result = subprocess.run([tool("ruff"), "check", "workflow", "tests"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_snakefmt_is_clean():
    result = subprocess.run([tool("snakefmt"), "--check", "workflow"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
