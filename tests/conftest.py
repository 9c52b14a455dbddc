"""Session fixtures: simulated demo data (tests import plain helpers from helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory) -> Path:
    """A small, shallow demo (fast to make): for dry-runs, lint and error tests."""
    from helgenom.simulate.demo import simulate

    out = tmp_path_factory.mktemp("small-demo")
    simulate(out, seed=7, size_mb=0.3, depth=3.0)
    return out
