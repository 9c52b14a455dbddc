"""The site overlay a bundle writes: the config keys its prepared files fill (absolute paths
into the bundle folder) and the build's facts (PARs, ...), checked as the workflow checks a
site overlay at start (schema, reference FASTA/GFF3/PARs, and any checks of an engine passed
in, e.g. the annotation sources')."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from helgenom import ID_PATTERN
from helgenom.bundle.fetch import BundleError
from helgenom.bundle.manifest import Manifest
from helgenom.bundle.state import atomic_write_text
from helgenom.errors import InputError, Problem
from helgenom.runtime import workflow_root
from helgenom.sheets.files import KeyProblem, reference_problems
from helgenom.sheets.samplesheet import key_locator, load_yaml, validate_config

SITE_NAME = "site.yaml"
# (config, workdir, locator) -> (errors, warnings): the start checks an engine owns
ConfigCheck = Callable[[dict, "Path | str", KeyProblem], "tuple[list[Problem], list[Problem]]"]


def _set(tree: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        tree = tree.setdefault(key, {})
    tree[last] = value


def overlay_of(manifest: Manifest, outdir: Path) -> dict[str, Any]:
    """The overlay: each resource's config key -> its prepared file (absolute), and the
    manifest's values."""
    tree: dict[str, Any] = {}
    for key, value in manifest.values.items():
        _set(tree, key, value)
    for res in manifest.resources:
        _set(tree, res.config, str((outdir / res.output).resolve()))
    return tree


def overlay_text(overlay: Mapping[str, Any], manifest: Manifest, outdir: Path) -> str:
    return (f"# Site overlay written by `helgenom resources --build {manifest.build}` from "
            f"{manifest.path}:\n# the reference bundle in {outdir.resolve()}. Use it as "
            "config/gmc/<site>.yaml, or with\n# `gmc_dir:` set to this folder and `gmc: "
            f"{SITE_NAME.removesuffix('.yaml')}` in the run's config.\n"
            + yaml.safe_dump(dict(overlay), sort_keys=False, width=100))


def site_path(outdir: Path, site: str | None) -> Path:
    """Where the overlay goes: DIR/site.yaml, or config/gmc/<site>.yaml of the workflow."""
    if not site:
        return outdir / SITE_NAME
    if not re.fullmatch(ID_PATTERN, site):
        raise BundleError(f"--site {site!r}: not a site name (letters, digits, '_' and '-', "
                          "starting with a letter or digit)")
    return workflow_root() / "config" / "gmc" / f"{site}.yaml"


def _base_config() -> dict[str, Any]:
    path = workflow_root() / "config" / "config.yaml"
    base = load_yaml(str(path)) if path.is_file() else {}
    return base if isinstance(base, dict) else {}


def _merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overlay.items():
        out[key] = (_merge(base[key], value) if isinstance(value, dict)
                    and isinstance(base.get(key), dict) else value)
    return out


def overlay_problems(overlay: Mapping[str, Any], source: Path,
                     config_checks: Sequence[ConfigCheck] = ()) -> list[Problem]:
    """Problems of the overlay merged over the workflow's config/config.yaml (`source`
    names the overlay in them): the config schema, the reference FASTA, GFF3 and PARs
    (helgenom.sheets.files), and `config_checks` (e.g. helgenom.annotate's source checks)."""
    base = _base_config() or {"samples": "samples.tsv", "units": "units.tsv"}
    try:
        config = validate_config(_merge(base, overlay), str(source))
    except InputError as error:
        return error.problems
    locate = key_locator([str(source)])
    reference = config["reference"]
    paths = {key: Path(reference[key]) for key in ("fasta", "gff3")
             if reference.get(key) and Path(reference[key]).is_file()}
    problems = [locate(("reference", key), reference[key], "not found")
                for key in ("fasta", "gff3") if key not in paths and reference.get(key)]
    errors, _ = reference_problems(config, paths, locate)
    problems += errors
    for check in config_checks:
        errors, _ = check(config, "/", locate)
        problems += errors
    return problems


def write_overlay(text: str, path: Path, force: bool) -> bool:
    """Write the overlay atomically; an existing different file only with `force`. Whether
    the file changed."""
    if path.is_file():
        if path.read_text("utf-8") == text:
            return False
        if not force:
            raise BundleError(f"{path} exists with other content: pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return True
