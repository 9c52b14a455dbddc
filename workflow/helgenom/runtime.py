"""Process environment for the workflow's jobs (called once from workflow/rules/common.smk)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def prepare_job_environment(workflow_dir: str | Path) -> None:
    """Make `helgenom` callable from every job.

    Without --sdm conda, jobs find `helgenom` next to the Python that runs Snakemake; with
    --sdm conda, envs/helgenom.post-deploy.sh installs this checkout (HELGENOM_SRC) into the
    rule's env.
    """
    os.environ.setdefault("HELGENOM_SRC", str(Path(workflow_dir).resolve().parent))
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{path}" if path else bin_dir
