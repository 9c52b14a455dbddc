"""Run manifest: what a run used and produced, as JSON, for traceability in an accredited lab.

helgenom version and git commit, the resolved (validated) config, the versions of the tools
the workflow runs (probed on PATH as jobs see it, or given), the pins of the per-rule conda
envs (used under --sdm conda), SHA-256, size and mtime of every input (sheets, FASTQs,
reference, GFF3, population VCF, rank files) and output, UTC timestamps and the host.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from helgenom import __version__
from helgenom.runtime import workflow_root

REPO = workflow_root()
ENV_DIR = REPO / "workflow" / "envs"
NOT_FOUND = "not found"
CHUNK = 1 << 20
# executable -> (arguments, regex of the version in its stdout+stderr)
TOOLS: dict[str, tuple[tuple[str, ...], str]] = {
    "bwa": ((), r"^Version:\s*(\S+)"),  # usage on stderr, exit 1
    "samtools": (("--version",), r"^samtools\s+(\S+)"),
    "bcftools": (("--version",), r"^bcftools\s+(\S+)"),
    "fastp": (("--version",), r"^fastp\s+(\S+)"),
    "mosdepth": (("--version",), r"^mosdepth\s+(\S+)"),
    "delly": (("--version",), r"version:?\s*v?(\S+)"),
    "freebayes": (("--version",), r"version:?\s*v?(\S+)"),
    "tiddit": (("--version",), r"tiddit-(\d\S*)"),  # usage with its version, exit 0
    "cnvnator": ((), r"CNVnator v?(\d\S*)"),  # usage with its version
    "multiqc": (("--version",), r"version\s+(\S+)"),
    "snakemake": (("--version",), r"^(\d\S*)"),
    "python": (("--version",), r"^Python\s+(\S+)"),
}
PACKAGES = ("pandas", "numpy", "hpo3")


def _utc(timestamp: float | None = None) -> str:
    moment = dt.datetime.now(dt.UTC) if timestamp is None else dt.datetime.fromtimestamp(
        timestamp, dt.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def job_path() -> str:
    """PATH as the workflow's jobs see it: this Python's bin directory first."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


# Tools only some configurations run: tool -> whether `calling` (the config section) uses it.
OPTIONAL_TOOLS = {
    "freebayes": lambda calling: calling.get("snv_caller", "bcftools") == "freebayes",
    "tiddit": lambda calling: "tiddit" in calling.get("sv_callers", ["delly", "tiddit", "cnv"]),
    "cnvnator": lambda calling: "cnvnator" in calling.get("sv_callers", []),
}


def workflow_tools(config: dict | None = None) -> list[str]:
    """Executables the workflow runs with `config` (freebayes only when it is the SNV
    caller, TIDDIT and CNVnator only when they are SV callers)."""
    calling = (config or {}).get("calling") or {}
    return [t for t in TOOLS if t not in OPTIONAL_TOOLS or OPTIONAL_TOOLS[t](calling)]


def parse_version(name: str, text: str) -> str | None:
    """The version of tool `name` (of `TOOLS`) in its version output; None if not there."""
    match = re.search(TOOLS[name][1], text, re.M)
    return match[1] if match else None


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "no output")[:60]


def probe_tool(name: str, search_path: str | None = None) -> tuple[str, str | None]:
    """(version, executable) of one tool of `TOOLS`; ('not found', None) when absent."""
    executable = shutil.which(name, path=search_path if search_path is not None else job_path())
    if executable is None:
        return NOT_FOUND, None
    args, _ = TOOLS[name]
    try:
        done = subprocess.run([executable, *args], capture_output=True, text=True, timeout=60,
                              errors="replace", stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({type(exc).__name__})", executable
    text = done.stdout + "\n" + done.stderr
    version = parse_version(name, text)
    return version or f"unknown (exit {done.returncode}: {_first_line(text)})", executable


# --- versions as the workflow's jobs executed them ---------------------------------------
#
# The workflow's `tool_versions` rule runs `probe_command(tools)` once per conda env file, in
# that env under --sdm conda (else on the jobs' PATH), on the nodes where jobs run; the
# `manifest` rule reads the files back with `read_probes`.

PROBE_MARK = "## helgenom tool:"


def env_tools(env_dir: Path = ENV_DIR) -> dict[str, list[str]]:
    """Conda env (file stem) -> the tools of `TOOLS` it pins (e.g. bwa: [bwa, samtools]);
    envs pinning none of them are left out."""
    found = {}
    for env, deps in conda_pins(env_dir).items():
        names = {re.split(r"[\s=<>!]", dep, maxsplit=1)[0] for dep in deps}
        if tools := [t for t in TOOLS if t in names]:
            found[env.removesuffix(".yaml")] = tools
    return found


def probe_command(tools: Iterable[str]) -> str:
    """Shell commands printing, per tool, a `PROBE_MARK` line, its executable (empty when
    absent) and its version output; never fails. Only names of `TOOLS` (KeyError otherwise),
    so nothing unchecked reaches the shell."""
    parts = []
    for name in tools:
        args, _ = TOOLS[name]
        parts.append(f"echo '{PROBE_MARK} {name}'; echo \"$(command -v {name} || true)\"; "
                     f"{' '.join([name, *args])} < /dev/null 2>&1 || true")
    return "; ".join(parts)


def parse_probes(text: str) -> dict[str, tuple[str, str | None]]:
    """Tool -> (version, executable) from the output of `probe_command`."""
    found: dict[str, tuple[str, str | None]] = {}
    for section in text.split(PROBE_MARK)[1:]:
        name, _, rest = section.partition("\n")
        executable, _, output = rest.partition("\n")
        name, executable = name.strip(), executable.strip() or None
        if name not in TOOLS:
            continue
        if executable is None:
            found[name] = (NOT_FOUND, None)
        else:
            found[name] = (parse_version(name, output) or f"unknown ({_first_line(output)})",
                           executable)
    return found


def read_probes(files: dict[str, Path | str]
                ) -> tuple[dict[str, str], dict[str, str], dict[str, dict[str, dict]]]:
    """(tool -> version, tool -> executable, env -> tool -> {version, executable}) from the
    probe files of each env. A tool probed in several envs with different versions (or
    paths) gets them all, each with its env: `1.16 (bcftools), 1.17 (helgenom)`."""
    by_env: dict[str, dict[str, dict]] = {}
    for env in sorted(files):
        text = Path(files[env]).read_text(encoding="utf-8", errors="replace")
        by_env[env] = {tool: {"version": version, "executable": executable}
                       for tool, (version, executable) in parse_probes(text).items()}
    tools: dict[str, str] = {}
    paths: dict[str, str] = {}
    for name in TOOLS:
        seen = [(env, probe) for env, probes in by_env.items() if (probe := probes.get(name))]
        for key, into in (("version", tools), ("executable", paths)):
            values = {str(probe[key]) for _, probe in seen}
            if len(values) == 1:
                into[name] = values.pop()
            elif values:
                into[name] = ", ".join(f"{probe[key]} ({env})" for env, probe in seen)
    return tools, paths, by_env


def probe_tools(names: Iterable[str] | None = None, search_path: str | None = None
                ) -> dict[str, tuple[str, str | None]]:
    """Tool -> (version, executable), probed in parallel."""
    names = list(TOOLS if names is None else names)
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = pool.map(lambda n: probe_tool(n, search_path), names)
    return dict(zip(names, found, strict=True))


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = NOT_FOUND
    return versions


def git_state(repo: Path = REPO) -> dict[str, Any] | None:
    """Commit of the helgenom checkout and whether it is dirty (changed or untracked,
    not ignored, files); None when helgenom is not run from a git checkout (or no git)."""
    if not (repo / "workflow" / "Snakefile").is_file() or not shutil.which("git"):
        return None
    try:
        commit, status = (subprocess.run(["git", "-C", str(repo), *args], capture_output=True,
                                         text=True, timeout=30, check=True).stdout.strip()
                          for args in (["rev-parse", "HEAD"],
                                       ["status", "--porcelain"]))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status)}


def conda_pins(env_dir: Path = ENV_DIR) -> dict[str, list[str]]:
    """Env file -> its pinned dependencies (what jobs run under --sdm conda)."""
    pins = {}
    for path in sorted(env_dir.glob("*.yaml")):
        deps = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("dependencies", [])
        pins[path.name] = [str(d) for d in deps if not isinstance(d, dict)]
    return pins


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: Path, root: Path | None = None, size_only_above: int | None = None
                ) -> dict[str, Any]:
    """path (relative to `root` when inside it), size, mtime (UTC) and SHA-256 of one file;
    files over `size_only_above` bytes get size and mtime only; a missing file says so."""
    shown = str(path)
    if root is not None and path.resolve().is_relative_to(root.resolve()):
        shown = str(path.resolve().relative_to(root.resolve()))
    try:
        stat = path.stat()
    except OSError as exc:
        return {"path": shown, "status": NOT_FOUND if isinstance(exc, FileNotFoundError)
                else f"unreadable: {exc.strerror}"}
    record: dict[str, Any] = {"path": shown, "size": stat.st_size, "mtime": _utc(stat.st_mtime)}
    if size_only_above is not None and stat.st_size > size_only_above:
        return {**record, "sha256": None, "method": "size+mtime"}
    return {**record, "sha256": sha256(path), "method": "sha256"}


def _files(paths: Iterable[Path], skip: Path) -> list[Path]:
    """Files of `paths` (folders expanded, sorted), without duplicates and without `skip`."""
    found: list[Path] = []
    for path in map(Path, paths):
        found += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return [p for p in dict.fromkeys(found) if p.resolve() != skip.resolve()]


def write_manifest(
    out: Path,
    config: dict,
    inputs: list[Path],
    outputs: list[Path],
    tools: dict[str, str] | None = None,
    *,
    tool_paths: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    command: list[str] | None = None,
    root: Path | None = None,
    size_only_above: int | None = None,
    threads: int = 4,
) -> dict:
    """Write the manifest JSON to `out` and return it.

    `config` is recorded as given (pass the validated config, `Run.config`). `tools`: tool ->
    version as executed (e.g. collected from the jobs' environments); None probes the
    executables `config` makes the workflow run on `job_path()`. Folders in `inputs` and
    `outputs` are expanded; `out` itself is never listed. Paths under `root` are recorded
    relative to it. Files over `size_only_above` bytes get size and mtime only. `tool_paths`
    (with `tools`): tool -> executable; `extra`: more top-level keys (e.g. `tools_by_env`);
    `command`: the command line of the run (default: this process's).
    """
    out = Path(out)
    started = _utc()
    if tools is None:
        probed = probe_tools(workflow_tools(config))
        tools = {name: version for name, (version, _) in probed.items()}
        paths = {name: exe for name, (_, exe) in probed.items()}
    else:
        paths = dict(tool_paths or {})
    in_files, out_files = _files(inputs, out), _files(outputs, out)
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        records = list(pool.map(lambda p: file_record(p, root, size_only_above),
                                in_files + out_files))
    missing = [r["path"] for r in records if "status" in r]
    manifest = {
        "manifest_version": 1,
        "started_utc": started,
        "finished_utc": _utc(),
        "helgenom": {"version": __version__, "source": str(REPO), "git": git_state()},
        "host": {"hostname": socket.gethostname(), "fqdn": socket.getfqdn(),
                 "user": getpass.getuser(), "platform": platform.platform(),
                 "cpus": os.cpu_count()},
        "working_directory": str((root or Path.cwd()).resolve()),
        "command": sys.argv if command is None else command,
        "config": config,
        "tools": tools,
        "tool_paths": paths,
        **(extra or {}),
        "python": {"executable": sys.executable, "version": platform.python_version(),
                   "packages": package_versions()},
        "conda_envs": conda_pins(),
        "inputs": records[: len(in_files)],
        "outputs": records[len(in_files):],
        "summary": {"inputs": len(in_files), "outputs": len(out_files), "missing": missing,
                    "size_only": sum(r.get("method") == "size+mtime" for r in records)},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, out)
    return manifest


def run_inputs(run: Any, workdir: Path, config_files: Iterable[str | Path] = ()) -> list[Path]:
    """Input files of a validated run (`samplesheet.Run`): config files, sheets, the site
    overlay, FASTQs, reference FASTA (+ .fai), GFF3, population VCF (+ index), rank files."""
    from helgenom.sheets.samplesheet import CONFIG_FILES, GMC_DIR

    config = run.config

    def at(path: str) -> Path:
        return Path(os.path.abspath(os.path.join(workdir, os.path.expanduser(path))))

    files = [Path(p).resolve() for p in config_files]
    files += [at(config["samples"]), at(config["units"])]
    if config.get("gmc"):
        files.append((at(config["gmc_dir"]) if config.get("gmc_dir") else GMC_DIR)
                     / f"{config['gmc']}.yaml")
    files += [Path(f) for u in run.units for f in (u.fq1, u.fq2)]
    for section, key, _ in CONFIG_FILES:
        if value := config.get(section, {}).get(key):
            files.append(at(value))
    fasta, vcf = at(config["reference"]["fasta"]), config["annotation"]["population_vcf"]
    extra = [Path(f"{fasta}.fai")] + [Path(f"{at(vcf)}{ext}") for ext in (".tbi", ".csi")
                                      if vcf]
    return list(dict.fromkeys(files + [p for p in extra if p.is_file()]))


def parse_size(text: str) -> int:
    """Bytes of a size like `500M`, `20G`, `1.5T` or `4096` (binary units); ValueError if not."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)B?", text.strip().upper())
    if not match:
        raise ValueError(f"not a size: {text!r} (e.g. 500M, 20G)")
    return int(float(match[1]) * 1024 ** " KMGT".index(match[2] or " "))


def write_run_manifest(out: Path | str, run: Any, config_files: Iterable[str | Path],
                       outputs: Iterable[Path | str], workdir: Path | str | None = None,
                       log: Path | str | None = None, **options: Any) -> dict:
    """The manifest of a validated run (`samplesheet.Run`, e.g. the workflow's RUN): its
    resolved config and `run_inputs`; paths relative to `workdir` (default: the current
    directory, Snakemake's --directory). `log` gets the summary; `options` go to
    `write_manifest`."""
    workdir = Path(workdir if workdir is not None else Path.cwd())
    manifest = write_manifest(Path(out), run.config, run_inputs(run, workdir, config_files),
                              [workdir / p for p in outputs], root=workdir, **options)
    if log:
        Path(log).write_text(json.dumps(manifest["summary"], indent=2) + "\n", encoding="utf-8")
    return manifest
