"""Process environment for the workflow's jobs (called once from workflow/rules/common.smk)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

COMMAND_VARIABLE = "HELGENOM_SNAKEMAKE_COMMAND"
SOURCE_VARIABLE = "HELGENOM_SRC"


def workflow_root() -> Path:
    """The workflow checkout (Snakefile, envs, site overlays): HELGENOM_SRC when set (the
    Snakefile sets it), else the checkout this package is imported from. For a package
    installed from a wheel outside a checkout, paths under it do not exist."""
    source = os.environ.get(SOURCE_VARIABLE)
    return Path(source) if source else Path(__file__).resolve().parents[2]


def prepare_job_environment(workflow_dir: str | Path) -> None:
    """Make `helgenom` callable from every job.

    Without --sdm conda, jobs find `helgenom` next to the Python that runs Snakemake; with
    --sdm conda, envs/helgenom.post-deploy.sh installs this checkout (HELGENOM_SRC) into the
    rule's env.
    """
    os.environ.setdefault(SOURCE_VARIABLE, str(Path(workflow_dir).resolve().parent))
    # The command line as typed, for the run manifest: `run:` jobs (the manifest's) run in a
    # Snakemake subprocess, which inherits this variable but has an argv of its own.
    os.environ.setdefault(COMMAND_VARIABLE, json.dumps(sys.argv))
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{path}" if path else bin_dir


def snakemake_command() -> list[str]:
    """The command line that started the run (recorded by `prepare_job_environment`)."""
    return json.loads(os.environ.get(COMMAND_VARIABLE) or json.dumps(sys.argv))
