"""A killed run resumes to the same bytes; two runs from the same inputs give the same bytes.

The demo trio (seed 1) is run once without interruption (the reference), then three times in
the same folder from the same inputs, each killed with SIGKILL (Snakemake and all its jobs,
as a node failure or `kill -9` would) while a given stage runs: alignment, calling, ranking.
Each is then rerun to completion. The resumed run must redo no job that had finished before
the kill, and its results must be byte-identical to the reference's: the candidate list, the
ranked VCFs (compressed bytes and index), QC, CNV, UPD; the run manifest may differ only in
times, host and the command line.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import SNAKEFILE, WORKFLOW_TOOLS, need_tools

pytestmark = pytest.mark.e2e

# A stage is running when one of its jobs has started (its log exists) and not all are done.
STAGES = {
    "alignment": "logs/bwa_mem",
    "calling": "logs/bcftools_call",
    "ranking": "logs/rank",
}
# Results compared byte for byte but MultiQC's (its report and data folder embed their
# creation time and a random report ID) and the manifest (compared below without its times).
def compared(name: str) -> bool:
    return not name.startswith("multiqc/") and name != "manifest.json"

# What a manifest may differ in between runs: when, where and how it was run (and MultiQC's
# files' checksums, above).
VOLATILE = {"started_utc", "finished_utc", "mtime", "host", "command"}


def command(workdir: Path) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE),
            "--directory", str(workdir), "--configfile", str(workdir / "config.yaml"),
            "--cores", "2"]


def environment() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def run(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*command(workdir), *args], capture_output=True, text=True,
                          timeout=1800, env=environment())


def fresh(inputs: Path, workdir: Path) -> Path:
    """`workdir` holding only the inputs (the same path for every run: no path differs)."""
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(inputs, workdir)
    return workdir


def results_of(workdir: Path) -> dict[str, bytes]:
    root = workdir / "results"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and compared(str(p.relative_to(root)))}


def stable(value: object) -> object:
    """A manifest without what may differ between runs."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value
                if not (isinstance(v, dict) and "results/multiqc/" in str(v.get("path", "")))]
    return value


def incomplete(workdir: Path) -> set[str]:
    """Outputs Snakemake marked as being written (its `.snakemake/incomplete` markers)."""
    marked = set()
    for marker in (workdir / ".snakemake" / "incomplete").glob("*"):
        try:
            marked.add(base64.b64decode(marker.name, altchars=b"+_").decode())
        except ValueError:
            continue
    return marked


def finished_files(workdir: Path) -> dict[str, int]:
    """Files the run had written and finished (not marked incomplete): path -> mtime."""
    skip = incomplete(workdir)
    out = {}
    for folder in ("results", "alignment", "calling", "annotation", "qc"):
        for path in (workdir / folder).rglob("*"):
            rel = str(path.relative_to(workdir))
            if path.is_file() and rel not in skip and not rel.endswith(".tmp"):
                out[rel] = path.stat().st_mtime_ns
    return out


def kill_during(workdir: Path, stage: str) -> dict[str, int]:
    """Start the run, SIGKILL its whole process group once `stage` has a job running; the
    finished files at that moment."""
    logs = workdir / STAGES[stage]
    proc = subprocess.Popen(command(workdir), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=environment(),
                            start_new_session=True)
    deadline = time.monotonic() + 900
    try:
        while not (logs.is_dir() and any(logs.rglob("*.log"))):
            assert proc.poll() is None, f"the run ended before {stage} started"
            assert time.monotonic() < deadline, f"{stage} did not start"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    time.sleep(0.5)  # let the killed processes' files settle
    assert not (workdir / "results" / "DEMO" / "DEMO.candidates.tsv").exists() or \
        stage == "ranking"
    return finished_files(workdir)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, object]:
    need_tools(*WORKFLOW_TOOLS)
    from helgenom.simulate.demo import simulate

    inputs = tmp_path_factory.mktemp("inputs")
    simulate(inputs, seed=1)
    workdir = tmp_path_factory.mktemp("resume") / "demo"
    reference = run(fresh(inputs, workdir))
    assert reference.returncode == 0, reference.stderr[-5000:]
    out: dict[str, object] = {
        "reference": results_of(workdir),
        "manifest": json.loads((workdir / "results" / "manifest.json").read_text())}
    for stage in STAGES:
        before = kill_during(fresh(inputs, workdir), stage)
        # As the README says: a killed Snakemake leaves its lock; --unlock, then run again.
        unlocked = run(workdir, "--unlock")
        assert unlocked.returncode == 0, unlocked.stderr[-3000:]
        resumed = run(workdir)
        assert resumed.returncode == 0, (stage, resumed.stderr[-5000:])
        after = {p: (workdir / p).stat().st_mtime_ns for p in before if (workdir / p).exists()}
        out[stage] = {"before": before, "after": after, "results": results_of(workdir),
                      "manifest": json.loads((workdir / "results/manifest.json").read_text()),
                      "log": resumed.stdout + resumed.stderr}
    return out


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_killed_run_resumes_without_redoing_finished_jobs(runs, stage: str) -> None:
    before, after = runs[stage]["before"], runs[stage]["after"]
    redone = sorted(p for p, mtime in after.items() if mtime != before[p])
    assert redone == [], f"killed during {stage}: finished files rewritten: {redone}"
    if stage != "alignment":
        assert any(p.startswith("alignment/") or p.startswith("results/alignment/")
                   for p in before), "nothing had finished before the kill"


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_resumed_run_gives_the_bytes_of_an_uninterrupted_one(runs, stage: str) -> None:
    reference, resumed = runs["reference"], runs[stage]["results"]
    assert "DEMO/DEMO.candidates.tsv" in reference and "DEMO/DEMO.vcf.gz" in reference
    assert sorted(resumed) == sorted(reference)
    differing = sorted(name for name in reference if resumed[name] != reference[name])
    assert differing == [], f"killed during {stage}, resumed: {differing} differ"


def test_the_manifest_differs_only_in_times_and_host(runs) -> None:
    reference = stable(runs["manifest"])
    for stage in STAGES:
        assert stable(runs[stage]["manifest"]) == reference, stage
