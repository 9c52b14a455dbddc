"""The conda files cannot be solved here (no conda channels), so check them statically:
every executable a rule's shell command calls is pinned in that rule's env and in
environment.yml, at the same version."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = sorted((REPO / "workflow" / "rules").glob("*.smk"))
# Executables that come from a package of another name.
PACKAGE_OF = {"bgzip": "htslib", "tabix": "htslib", "configManta.py": "manta",
              "X/runWorkflow.py": "manta", "cnvnator2VCF.pl": "cnvnator",
              "ExpansionHunter": "expansionhunter", "smn_caller.py": "smncopynumbercaller"}
# Cluster-only choices: pinned in their rule env, deliberately not in environment.yml (they are
# not installed on laptops and cannot be tested on this machine).
CLUSTER_ONLY = {"manta", "cnvnator", "expansionhunter", "smncopynumbercaller"}
# What `helgenom` itself runs as subprocesses (rank writes its VCF with these).
HELGENOM_CALLS = ("bcftools", "bgzip", "tabix")
SHELL_WORDS = {"set", "cd", "export", "if", "then", "fi", "true", "test", "rm", "mv", "mkdir",
               "grep", "cat", "exit", "printf"}


def parse_rules() -> dict[str, dict]:
    """rule name -> {'conda': path, 'shell': joined command} from the .smk sources."""
    rules: dict[str, dict] = {}
    for path in RULES:
        name, section = None, None
        for line in path.read_text().splitlines():
            header = re.match(r"^rule (\w+):", line)
            if header:
                name, section = header.group(1), None
                rules[name] = {"conda": None, "shell": "", "file": path.name}
                continue
            key = re.match(r"^    (\w+):", line)
            if key:
                section = key.group(1)
                continue
            if name and section == "conda" and line.strip():
                rules[name]["conda"] = ast.literal_eval(line.strip())
            elif name and section == "shell":
                # String literals; a `+ "..."` continuation after a helper call (the
                # test-only prefix of fail_first_attempt, empty by default) counts too.
                text = line.strip().removeprefix("+ ")
                if text.startswith(('"', "'")):
                    rules[name]["shell"] += ast.literal_eval(text)
    return rules


def executables(command: str) -> set[str]:
    command = re.sub(r"\{[^{}]*\}", "X", command)
    words = set()
    for segment in re.split(r"\|\||&&|[|;(]", command):
        tokens = segment.split()
        if tokens and tokens[0] not in SHELL_WORDS and not tokens[0].startswith((">", "2>")):
            words.add(tokens[0])
    return words


def pins(env_file: Path) -> dict[str, str]:
    deps = yaml.safe_load(env_file.read_text())["dependencies"]
    out = {}
    for dep in deps:
        if isinstance(dep, str):
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*=+\s*([0-9][^\s=]*)", dep)
            assert match, f"{env_file.name}: '{dep}' is not pinned as 'name =version'"
            out[match.group(1)] = match.group(2)
    return out


SHELL_RULES = {name: rule for name, rule in parse_rules().items() if rule["shell"]}


def test_rules_were_found():
    assert {"bwa_mem", "bcftools_call", "delly_call", "tiddit_call", "rank", "multiqc"} <= set(
        SHELL_RULES
    )


@pytest.mark.parametrize("name", sorted(SHELL_RULES))
def test_every_executable_is_pinned_in_the_rule_env_and_environment_yml(name):
    rule = SHELL_RULES[name]
    assert rule["conda"], f"rule {name} ({rule['file']}) has no conda env"
    full = pins(REPO / "environment.yml")
    if rule["conda"] == "../envs/{env}.yaml":  # tool_versions: each env's own tools
        from helgenom.report.manifest import env_tools

        for env_name, tools in env_tools().items():
            env = pins(REPO / "workflow" / "envs" / f"{env_name}.yaml")
            assert all(full.get(tool) == env[tool] for tool in tools
                       if tool not in CLUSTER_ONLY), (env_name, tools)
        return
    # A tool from PyPI (stranger) is pinned in the pip sections, at the same version.
    full |= pip_pins(REPO / "environment.yml")
    env = pins(REPO / "workflow" / "rules" / rule["conda"]) | pip_pins(
        REPO / "workflow" / "rules" / rule["conda"])
    called = executables(rule["shell"])
    assert called, f"no executable found in rule {name}'s shell command"
    if "helgenom" in called:
        called = (called - {"helgenom"}) | set(HELGENOM_CALLS)
        assert (REPO / "workflow/envs/helgenom.post-deploy.sh").is_file()
    for exe in sorted(called):
        package = PACKAGE_OF.get(exe, exe)
        assert package in env, f"rule {name}: {exe} ({package}) not in {rule['conda']}"
        if package in CLUSTER_ONLY:
            assert package not in full, f"{package} is cluster-only: keep it out of environment.yml"
            continue
        assert full.get(package) == env[package], (
            f"rule {name}: {package} is {env[package]} in {rule['conda']} but "
            f"{full.get(package)} in environment.yml"
        )


def test_executable_parser_sees_pipes_and_subshells():
    assert executables("(bwa mem {x} | samtools sort -o {y} -) && samtools index {y}") == {
        "bwa", "samtools"}


def pip_pins(env_file: Path) -> dict[str, str]:
    """name -> version of the `pip:` section of a conda env file (name==version entries)."""
    deps = yaml.safe_load(env_file.read_text())["dependencies"]
    section = next((d["pip"] for d in deps if isinstance(d, dict) and "pip" in d), [])
    out = {}
    for entry in section:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", entry)
        if match:
            out[match.group(1).lower()] = match.group(2)
    return out


@pytest.mark.parametrize("env_file", ["workflow/envs/helgenom.yaml", "environment.yml"])
def test_conda_envs_carry_every_python_dependency_of_the_package(env_file):
    """`helgenom` jobs under --sdm conda import what pyproject.toml requires: each dependency
    is pinned in the env's pip section at a version pyproject allows."""
    from packaging.requirements import Requirement

    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python < 3.11
        pytest.skip("needs tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pinned = pip_pins(REPO / env_file)
    for text in project["dependencies"]:
        requirement = Requirement(text)
        name = requirement.name.lower()
        assert name in pinned, f"{env_file}: {name} missing from the pip section"
        assert requirement.specifier.contains(pinned[name]), (env_file, text, pinned[name])
