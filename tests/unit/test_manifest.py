"""Run manifest: content, checksums, tool probing (and absent tools), the `manifest` command."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from helgenom import __version__
from helgenom.cli.manifest import register
from helgenom.report.manifest import (
    CHUNK,
    env_tools,
    file_record,
    git_state,
    parse_probes,
    parse_size,
    probe_command,
    probe_tool,
    probe_tools,
    read_probes,
    sha256,
    workflow_tools,
    write_manifest,
)

ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def script(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["manifest", *argv])
    return args.func(args)


def test_manifest_content_and_checksums(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_bytes(b"abc")
    big = tmp_path / "in" / "big.bin"
    big.write_bytes(os.urandom(2 * CHUNK + 17))
    (tmp_path / "results" / "FAM").mkdir(parents=True)
    (tmp_path / "results" / "FAM" / "x.tsv").write_bytes(b"abc")
    (tmp_path / "results" / "empty").write_bytes(b"")
    out = tmp_path / "results" / "manifest.json"
    out.write_text("{}")  # an earlier manifest is never listed as an output
    config = {"samples": "samples.tsv", "calling": {"snv_caller": "bcftools"}}
    tools = {"bwa": "0.7.17-r1188", "samtools": "not found"}
    manifest = write_manifest(out, config, [tmp_path / "in" / "a.txt", big, tmp_path / "nope"],
                              [tmp_path / "results", tmp_path / "results" / "empty"], tools,
                              root=tmp_path, size_only_above=CHUNK)
    assert json.loads(out.read_text()) == manifest
    assert manifest["helgenom"]["version"] == __version__
    assert manifest["config"] == config and manifest["tools"] == tools
    assert manifest["tool_paths"] == {}  # given versions are recorded as given, not probed
    assert set(manifest["python"]["packages"]) == {"pandas", "numpy", "hpo3"}
    assert manifest["started_utc"].endswith("Z") and manifest["finished_utc"].endswith("Z")
    assert manifest["host"]["hostname"] and manifest["host"]["cpus"] >= 1
    assert "bwa.yaml" in manifest["conda_envs"]
    a, b, nope = manifest["inputs"]
    assert a["path"] == "in/a.txt" and a["size"] == 3 and a["sha256"] == ABC_SHA256
    assert a["method"] == "sha256" and a["mtime"].endswith("Z")
    assert b == {"path": "in/big.bin", "size": 2 * CHUNK + 17, "mtime": b["mtime"],
                 "sha256": None, "method": "size+mtime"}
    assert nope == {"path": "nope", "status": "not found"}
    assert [(r["path"], r["sha256"]) for r in manifest["outputs"]] == [
        ("results/FAM/x.tsv", ABC_SHA256), ("results/empty", hashlib.sha256().hexdigest())]
    assert manifest["summary"] == {"inputs": 3, "outputs": 2, "missing": ["nope"],
                                   "size_only": 1}


def test_sha256_streams_large_files(tmp_path: Path) -> None:
    path = tmp_path / "f"
    data = os.urandom(3 * CHUNK + 5)
    path.write_bytes(data)
    assert sha256(path) == hashlib.sha256(data).hexdigest()
    assert file_record(path)["path"] == str(path)  # outside any root: as given


def test_absent_tools_are_recorded_as_not_found(tmp_path: Path) -> None:
    assert probe_tools(["bwa", "samtools"], search_path=str(tmp_path)) == {
        "bwa": ("not found", None), "samtools": ("not found", None)}


def test_versions_are_parsed_from_each_tools_output(tmp_path: Path) -> None:
    bwa = script(tmp_path, "bwa", "printf '\\nProgram: bwa\\nVersion: 0.7.17-r1188\\n' >&2; exit 1")
    script(tmp_path, "delly", "echo 'Delly version: v1.1.6'")
    script(tmp_path, "multiqc", "echo 'multiqc, version 1.35'")
    script(tmp_path, "samtools", "echo 'something else'")
    found = probe_tools(["bwa", "delly", "multiqc", "samtools", "fastp"], str(tmp_path))
    assert found == {"bwa": ("0.7.17-r1188", str(bwa)),
                     "delly": ("1.1.6", str(tmp_path / "delly")),
                     "multiqc": ("1.35", str(tmp_path / "multiqc")),
                     "samtools": ("unknown (exit 0: something else)", str(tmp_path / "samtools")),
                     "fastp": ("not found", None)}


def test_probed_manifest_lists_the_configured_tools(tmp_path: Path, monkeypatch) -> None:
    script(tmp_path, "samtools", "echo 'samtools 1.16.1'")
    monkeypatch.setattr("helgenom.report.manifest.job_path", lambda: str(tmp_path))
    config = {"calling": {"snv_caller": "freebayes"}}
    manifest = write_manifest(tmp_path / "m.json", config, [], [])
    assert list(manifest["tools"]) == workflow_tools(config)
    assert "freebayes" in manifest["tools"] and "freebayes" not in workflow_tools({})
    assert manifest["tools"]["samtools"] == "1.16.1"
    assert manifest["tool_paths"]["samtools"] == str(tmp_path / "samtools")
    assert {v for k, v in manifest["tools"].items() if k != "samtools"} == {"not found"}
    assert probe_tool("python", str(tmp_path)) == ("not found", None)


def test_git_state(tmp_path: Path) -> None:
    state = git_state()
    assert state is None or len(state["commit"]) == 40
    assert git_state(tmp_path) is None  # not a helgenom checkout


def test_manifest_command_on_a_run(small_demo: Path, tmp_path: Path, capsys) -> None:
    small_demo = Path(shutil.copytree(small_demo, tmp_path / "demo"))  # the fixture is shared
    config = small_demo / "config.yaml"
    out = tmp_path / "manifest.json"
    (small_demo / "results").mkdir()
    (small_demo / "results" / "x.txt").write_bytes(b"abc")
    assert run_cli("--config", str(config), "--workdir", str(small_demo), "--out", str(out),
                   "--size-only-above", "1K") == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"{out}: ") and "by size+mtime only" in printed
    manifest = json.loads(out.read_text())
    inputs = {r["path"]: r for r in manifest["inputs"]}
    assert {"config.yaml", "samples.tsv", "units.tsv", "reference/genome.fa",
            "reference/genes.gff3", "reference/population.vcf.gz",
            "reference/population.vcf.gz.tbi", "fastq/demo-proband_L002_R2.fastq.gz"} <= set(inputs)
    assert inputs["fastq/demo-proband_L002_R2.fastq.gz"]["method"] == "size+mtime"
    assert manifest["config"]["gmc"] == "demo"  # the resolved config: site overlay applied
    assert manifest["config"]["qc"]["thresholds"] == {}  # schema defaults filled in
    assert [r["path"] for r in manifest["outputs"]] == ["results/x.txt"]
    assert run_cli("--config", str(config), "--workdir", str(small_demo), "--out", str(out),
                   "--outputs", "results/x.txt", "results/absent.vcf.gz") == 1
    assert "listed but missing: results/absent.vcf.gz" in capsys.readouterr().err


def test_manifest_command_rejects_an_invalid_run(small_demo: Path, tmp_path: Path, capsys
                                                 ) -> None:
    config = yaml.safe_load((small_demo / "config.yaml").read_text())
    config["calling"]["snv_caller"] = "gatk"
    bad = tmp_path / "config.yaml"
    bad.write_text(yaml.safe_dump(config))
    assert run_cli("--config", str(bad), "--workdir", str(small_demo),
                   "--out", str(tmp_path / "m.json")) == 2
    assert "calling.snv_caller" in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()


def test_env_tools_come_from_the_pinned_envs() -> None:
    tools = env_tools()
    assert tools["bwa"] == ["bwa", "samtools", "fastp"]  # fastp streams into bwa mem
    assert tools["helgenom"] == ["bcftools", "python"]
    assert tools["freebayes"] == ["bcftools", "freebayes"]
    assert tools["samtools"] == ["samtools", "mosdepth"]  # alignment_qc runs both
    assert tools["delly"] == ["bcftools", "delly"]  # delly_call sorts its BCF to VCF.gz
    assert {"samtools", "bcftools", "delly", "multiqc", "tiddit"} <= set(tools)


def run_probe(tools: list[str], path: Path) -> str:
    """Run the probe as Snakemake runs a shell command (bash strict mode), on PATH=`path`."""
    return subprocess.run([shutil.which("bash"), "-euo", "pipefail", "-c", probe_command(tools)],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PATH": str(path)}).stdout


def test_probe_command_and_its_parser(tmp_path: Path) -> None:
    bwa = script(tmp_path, "bwa", "printf '\\nProgram: bwa\\nVersion: 0.7.17-r1188\\n' >&2; exit 1")
    script(tmp_path, "samtools", "echo 'samtools 1.16.1'; echo 'Using htslib 1.16'")
    script(tmp_path, "mosdepth", "echo 'garbled'")
    text = run_probe(["bwa", "samtools", "mosdepth", "delly"], tmp_path)  # delly is absent
    assert parse_probes(text) == {
        "bwa": ("0.7.17-r1188", str(bwa)),
        "samtools": ("1.16.1", str(tmp_path / "samtools")),
        "mosdepth": ("unknown (garbled)", str(tmp_path / "mosdepth")),
        "delly": ("not found", None),
    }
    with pytest.raises(KeyError):
        probe_command(["rm -rf /"])  # only known tools reach the shell


def test_read_probes_merges_envs(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, version in ((one, "1.16"), (two, "1.17")):
        folder.mkdir()
        script(folder, "bcftools", f"echo 'bcftools {version}'")
        script(folder, "samtools", "echo 'samtools 1.16.1'")
    files = {}
    for env, folder in (("bcftools", one), ("helgenom", two)):
        files[env] = tmp_path / f"{env}.txt"
        files[env].write_text(run_probe(["bcftools", "samtools"], folder))
    tools, paths, by_env = read_probes(files)
    assert tools == {"samtools": "1.16.1", "bcftools": "1.16 (bcftools), 1.17 (helgenom)"}
    assert paths["bcftools"] == f"{one}/bcftools (bcftools), {two}/bcftools (helgenom)"
    assert by_env["helgenom"]["bcftools"] == {"version": "1.17",
                                              "executable": str(two / "bcftools")}


def test_parse_size() -> None:
    assert parse_size("4096") == 4096 and parse_size("1.5K") == 1536
    assert parse_size("20G") == parse_size("20gb") == 20 * 2**30
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


def test_tools_given_with_paths_and_extra_keys(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "m.json", {}, [], [], {"bwa": "0.7.17"},
                              tool_paths={"bwa": "/usr/bin/bwa"}, extra={"tools_by_env": {}})
    assert manifest["tool_paths"] == {"bwa": "/usr/bin/bwa"}
    assert manifest["tools_by_env"] == {}
