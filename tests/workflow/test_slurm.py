"""SLURM: the workflow on a real single-node cluster (workflow/scripts/slurm-cluster.sh).

Root on Linux only: slurmd runs as root, and the script installs slurm-wlm and munge with
apt-get when they are missing. The cluster lives for this module and is stopped in a `finally`;
every Snakemake run is wrapped in `timeout -s KILL`, since the executor plugin can hang (and
ignores SIGTERM) when its status command fails.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO, SNAKEFILE, WORKFLOW_TOOLS, need_tools

CLUSTER_SCRIPT = REPO / "workflow" / "scripts" / "slurm-cluster.sh"
PROFILE = REPO / "workflow" / "profiles" / "slurm"
RETRY_SNAKEFILE = REPO / "tests" / "data" / "slurm" / "retry.smk"
# Rules Snakemake runs on the submit host: target rules without a command, the run manifest
# (a localrule: it reads the results and the versions the jobs probed on the nodes) and the
# run's index page of the family reports (a localrule: it reads the reports' meta tags).
LOCAL_ONLY_RULES = {"all", "manifest", "report_index"}
# Hard limits (s) per Snakemake run; the demo run took 5.5-6.5 min on 2 busy shared cores.
DEMO_LIMIT = 900
RETRY_LIMIT = 300
# Test-only settings on top of the profile: the first status check 2 s after a submission
# (the profile's 10 s suits a real cluster; this cuts minutes here), SLURM logs of successful
# jobs kept so that they can be counted, and one thread per job, so that the small node runs
# as many jobs at once as it has CPUs (the rules ask for up to 8, more than the node has).
TEST_ARGS = (
    "--slurm-init-seconds-before-status-checks", "2",
    "--slurm-keep-successful-logs",
    "--max-threads", "1",
)
# A real rule of the demo run fails its first attempt (exit 137, as if killed for memory) and
# must be resubmitted with more memory. The fault is the test's own: a `helgenom` first on the
# jobs' PATH whose first `helgenom rank` exits 137 (the workflow has no test switch).
FAILING_RULE = "rank"
KILLED = "test fault: the first helgenom rank exits 137, as if killed for memory"


def failing_first_rank(folder: Path) -> dict[str, str]:
    """A job environment whose first `helgenom rank` (of all jobs) exits 137; `folder`/bin
    holds the wrapper, `folder`/killed its one-time marker (mkdir is atomic)."""
    real = shutil.which("helgenom", path=job_env()["PATH"])
    assert real, "helgenom is not installed next to this Python"
    (folder / "bin").mkdir(parents=True)
    wrapper = folder / "bin" / "helgenom"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "{FAILING_RULE}" ] && mkdir {shlex.quote(str(folder / "killed"))} '
        "2>/dev/null; then\n"
        f"  echo '{KILLED}' >&2\n  exit 137\nfi\n"
        f'exec {shlex.quote(real)} "$@"\n')
    wrapper.chmod(0o755)
    env = job_env()
    return {**env, "PATH": f"{folder / 'bin'}:{env['PATH']}"}


def _why_no_cluster() -> str | None:
    if not sys.platform.startswith("linux"):
        return "needs Linux"
    if os.geteuid() != 0:
        return "needs root: slurmd runs as root (and slurm-wlm/munge may need installing)"
    if not (shutil.which("slurmctld") and shutil.which("munged")) and not shutil.which("apt-get"):
        return "needs slurm-wlm and munge installed, or apt-get to install them"
    if not shutil.which("timeout"):
        return "needs timeout (coreutils)"
    return None


pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(_why_no_cluster() is not None, reason=f"SLURM test: {_why_no_cluster()}"),
]


@dataclass
class Run:
    """One finished Snakemake run and what it submitted to SLURM."""

    workdir: Path
    returncode: int
    log: str
    seconds: float

    def tail(self, chars: int = 6000) -> str:
        return f"exit {self.returncode} after {self.seconds:.0f} s\n{self.log[-chars:]}"

    @property
    def run_id(self) -> str:
        match = re.search(r"^SLURM run ID: (\S+)$", self.log, re.MULTILINE)
        assert match, "no 'SLURM run ID' in the Snakemake log: was the slurm executor used?"
        return match.group(1)

    def planned_jobs(self) -> Counter:
        """The job count per rule from Snakemake's 'Job stats' table."""
        lines = self.log.splitlines()
        assert "Job stats:" in lines, "no 'Job stats' table in the Snakemake log"
        counts: Counter = Counter()
        for line in lines[lines.index("Job stats:") + 3:]:
            match = re.fullmatch(r"\s*(\S+)\s+(\d+)\s*", line)
            if not match or match.group(1) == "total":
                break
            counts[match.group(1)] = int(match.group(2))
        return counts

    def local_jobs(self) -> Counter:
        return Counter(re.findall(r"^localrule (\S+):$", self.log, re.MULTILINE))

    def submissions(self) -> dict[str, tuple[str, Path]]:
        """SLURM job id -> (rule, SLURM log file) for every sbatch the plugin made."""
        logdir = self.workdir / ".snakemake" / "slurm_logs"
        found = {}
        for match in re.finditer(r"^Job \d+ has been submitted with SLURM jobid (\d+) "
                                 r"\(log: (.+)\)\.$", self.log, re.MULTILINE):
            log = Path(match.group(2))
            group = log.relative_to(logdir).parts[0]
            assert group.startswith("rule_"), f"unexpected SLURM log path {log}"
            found[match.group(1)] = (group.removeprefix("rule_"), log)
        return found

    def slurm_records(self) -> dict[str, tuple[str, str]]:
        """SLURM job id -> (state, memory) from squeue (MinJobAge keeps finished jobs)."""
        out = subprocess.run(
            ["squeue", "--noheader", "--states=all", "--name", self.run_id,
             "--format=%i|%T|%m"], capture_output=True, text=True, check=True).stdout
        return {job: (state, mem) for job, state, mem in
                (line.split("|") for line in out.splitlines() if line.strip())}


def snakemake_cmd(snakefile: Path, workdir: Path, *args: str, limit: int) -> list[str]:
    return ["timeout", "-s", "KILL", str(limit), sys.executable, "-m", "snakemake",
            "--snakefile", str(snakefile), "--directory", str(workdir), *args]


def job_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def run_snakemake(cmd: list[str], workdir: Path, env: dict[str, str] | None = None) -> Run:
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=REPO, env=env or job_env(), capture_output=True,
                            text=True)
    return Run(workdir, result.returncode, result.stdout + result.stderr,
               time.monotonic() - started)


def cluster_script(command: str, workdir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(CLUSTER_SCRIPT), command, str(workdir)],
                          capture_output=True, text=True, timeout=900)


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not re.search(r"^State:\s*Z", status, re.MULTILINE)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A single-node SLURM cluster for this module; its daemons are stopped afterwards."""
    workdir = tmp_path_factory.mktemp("slurm-cluster")
    pids: dict[str, int] = {}
    try:
        started = time.monotonic()
        result = cluster_script("start", workdir)
        if result.returncode != 0:
            pytest.fail(f"the SLURM cluster did not start:\n{result.stdout}\n{result.stderr}")
        pids = {p.stem: int(p.read_text()) for p in workdir.glob("*.pid")}
        print(f"\nslurm-cluster.sh start: {time.monotonic() - started:.0f} s, daemons {pids}")
        yield workdir
    finally:
        pids |= {p.stem: int(p.read_text()) for p in workdir.glob("*.pid")}
        stopped = cluster_script("stop", workdir)
        left = {name: pid for name, pid in pids.items() if alive(pid)}
        assert stopped.returncode == 0 and not left, (
            f"slurm-cluster.sh stop left {left} running:\n{stopped.stdout}\n{stopped.stderr}")


@pytest.fixture(scope="module")
def demo_runs(cluster, tmp_path_factory) -> tuple[Run, Run]:
    """The demo trio through SLURM and, at the same time, locally (--cores 2) for reference."""
    need_tools(*WORKFLOW_TOOLS)
    from helgenom.simulate.demo import simulate

    slurm_dir = tmp_path_factory.mktemp("demo-slurm")
    simulate(slurm_dir, seed=1)
    local_dir = tmp_path_factory.mktemp("demo-local") / "demo"
    shutil.copytree(slurm_dir, local_dir)

    local_cmd = snakemake_cmd(SNAKEFILE, local_dir, "--configfile", str(local_dir / "config.yaml"),
                              "--cores", "2", limit=DEMO_LIMIT)
    slurm_cmd = snakemake_cmd(SNAKEFILE, slurm_dir, "--configfile", str(slurm_dir / "config.yaml"),
                              "--workflow-profile", str(PROFILE), *TEST_ARGS,
                              limit=DEMO_LIMIT)
    # The local run shares the CPUs with the cluster's jobs, at a lower priority: it has time to
    # spare, while the SLURM run's jobs form the critical path.
    with ThreadPoolExecutor(max_workers=1) as pool:
        local_run = pool.submit(run_snakemake, ["nice", "-n", "10", *local_cmd], local_dir)
        slurm = run_snakemake(slurm_cmd, slurm_dir,
                              failing_first_rank(tmp_path_factory.mktemp("fault")))
        local = local_run.result()
    print(f"\nslurm demo run: {slurm.seconds:.0f} s, {len(slurm.submissions())} sbatch jobs "
          f"(exit {slurm.returncode}); local run alongside: {local.seconds:.0f} s "
          f"(exit {local.returncode})\ncommand: {' '.join(slurm_cmd)}")
    return slurm, local


def test_every_workflow_job_is_submitted_with_sbatch(demo_runs):
    slurm, _ = demo_runs
    assert slurm.returncode == 0, slurm.tail()
    planned, local, submitted = slurm.planned_jobs(), slurm.local_jobs(), slurm.submissions()
    assert set(local) <= LOCAL_ONLY_RULES, f"jobs run on the submit host: {local}"
    per_rule = Counter(rule for rule, _ in submitted.values())
    # Every planned job but the local-only ones through sbatch once, and the failing rule's
    # job once more (its retry). (`local` misses local jobs with a message, like manifest's.)
    local_only = Counter({rule: planned[rule] for rule in LOCAL_ONLY_RULES if rule in planned})
    assert per_rule + local_only == planned + Counter([FAILING_RULE]), (per_rule, planned)
    assert len(submitted) >= 20, submitted
    records = slurm.slurm_records()
    assert set(records) == set(submitted), (records, submitted)
    for job, (rule, log) in submitted.items():
        assert log.is_file(), f"no SLURM log for job {job} ({rule})"
        if records[job][0] == "COMPLETED":
            assert f"Finished jobid: 0 (Rule: {rule})" in log.read_text(), log
    failed = {job: rule for job, (rule, _) in submitted.items() if records[job][0] != "COMPLETED"}
    assert list(failed.values()) == [FAILING_RULE], (failed, records)


def test_real_rule_failing_its_first_attempt_is_resubmitted_with_more_memory(demo_runs):
    slurm, _ = demo_runs
    assert slurm.returncode == 0, slurm.tail()
    records = slurm.slurm_records()
    jobs = [job for job, (rule, _) in slurm.submissions().items() if rule == FAILING_RULE]
    assert [records[job] for job in jobs] == [("FAILED", "4000M"), ("COMPLETED", "8000M")], (
        jobs, records)
    first_log = slurm.submissions()[jobs[0]][1].read_text()
    assert "exit status 137" in first_log
    rule_logs = slurm.workdir / "logs" / "rank"
    assert not any(KILLED in log.read_text() for log in rule_logs.glob("*.log")), \
        "the retry's log should replace the killed attempt's"


def test_candidate_list_through_slurm_equals_the_local_run(demo_runs):
    slurm, local = demo_runs
    assert slurm.returncode == 0, slurm.tail()
    assert local.returncode == 0, local.tail()
    tsv = Path("results/DEMO/DEMO.candidates.tsv")
    through_slurm = (slurm.workdir / tsv).read_text()
    assert through_slurm.count("\n") > 1, "the candidate list is empty"
    assert through_slurm == (local.workdir / tsv).read_text()


def test_job_killed_on_first_attempt_is_resubmitted_with_more_memory(cluster, tmp_path):
    cmd = snakemake_cmd(RETRY_SNAKEFILE, tmp_path, "--workflow-profile", str(PROFILE),
                        "--slurm-init-seconds-before-status-checks", "2", limit=RETRY_LIMIT)
    run = run_snakemake(cmd, tmp_path)
    print(f"\nslurm retry run: {run.seconds:.0f} s")
    assert run.returncode == 0, run.tail()
    assert (tmp_path / "retried.txt").read_text() == "done with 400 MB\n"
    attempts = [line.split("\t") for line in
                (tmp_path / "attempts.tsv").read_text().splitlines()]
    assert [mem for _, mem in attempts] == ["200", "400"], attempts
    (first, _), (second, _) = attempts
    submitted = run.submissions()
    assert list(submitted) == [first, second], submitted
    assert {rule for rule, _ in submitted.values()} == {"flaky"}
    # SLURM itself saw the first job fail and granted the second twice the memory.
    assert run.slurm_records() == {first: ("FAILED", "200M"), second: ("COMPLETED", "400M")}
