"""The bundle manifest: per resource its downloads (URL, size, checksum), its preparation, its
prepared file and the config key that file fills (format: schemas/bundle.schema.yaml).

A part is pinned by a SHA-256 or a published MD5 (checked while it downloads). A part with
neither is unpinned: it is fetched only when the user asks (`--pin`), which records its size
and SHA-256 in a pinned copy of the manifest in the bundle folder (<build>.pinned.yaml); later
runs take an unpinned part's pin from there, matched by URL.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from jsonschema import Draft202012Validator

from helgenom.data import data_path
from helgenom.errors import InputError, Problem
from helgenom.sheets.samplesheet import key_locator, load_yaml

MANIFEST_DIR = Path(__file__).resolve().parent / "manifests"
# The preparation steps each kind of resource may take, in the order they run.
STEPS = {"fasta": ("decompress", "faidx", "bwa_index"),
         "gff3": ("rename_contigs",),
         "vcf": ("keep_info", "split_multiallelic", "rename_contigs", "index")}
OUTPUT_SUFFIX = {"gff3": ".gz", "vcf": ".vcf.gz"}


@dataclass(frozen=True)
class Part:
    """One download."""

    url: str
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None
    published: tuple[str, str] | None = None  # (checksum file URL, format: md5 or sum)
    pinned_by: str = ""  # where an unpinned part's pin came from (the pinned copy)

    @property
    def filename(self) -> str:
        """The download's file name: the URL's last path segment."""
        return unquote(urlsplit(self.url).path.rsplit("/", 1)[-1])

    @property
    def pinned(self) -> bool:
        return bool(self.sha256 or self.md5)


@dataclass(frozen=True)
class Resource:
    name: str
    kind: str
    parts: tuple[Part, ...]
    output: str
    config: str
    prepare: tuple[str, ...] = ()
    keep_info: tuple[str, ...] = ()
    description: str = ""
    estimate: Mapping[str, Any] = field(default_factory=dict)

    def steps(self) -> tuple[str, ...]:
        """The preparation steps in the order they run."""
        return tuple(step for step in STEPS[self.kind] if step in self.prepare)


@dataclass(frozen=True)
class Manifest:
    path: str
    build: str
    resources: tuple[Resource, ...]
    values: Mapping[str, Any]
    description: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def reference(self) -> Resource | None:
        """The FASTA resource (whose contig names and lengths the others must match)."""
        return next((r for r in self.resources if r.kind == "fasta"), None)

    def unpinned(self) -> list[tuple[Resource, Part]]:
        return [(r, p) for r in self.resources for p in r.parts if not p.pinned]


def builtin_manifest(build: str) -> Path:
    """The repository's manifest of `build` (resources/bundle/<build>.yaml)."""
    return MANIFEST_DIR / f"{build}.yaml"


def builds() -> list[str]:
    return sorted(p.stem for p in MANIFEST_DIR.glob("*.yaml"))


@cache
def _schema(name: str) -> dict:
    return yaml.safe_load(data_path("schemas", f"{name}.schema.yaml").read_text("utf-8"))


def _config_key_known(key: str) -> bool:
    """Whether the dotted `key` names a key of the workflow's config schema."""
    node: Mapping[str, Any] = _schema("config")
    for part in key.split("."):
        properties = node.get("properties", {})
        if part not in properties:
            return False
        node = properties[part]
    return True


def _part(data: Mapping[str, Any]) -> Part:
    published = data.get("published_checksum")
    return Part(url=data["url"], size=data.get("size"), sha256=data.get("sha256"),
                md5=data.get("md5"),
                published=(published["url"], published["format"]) if published else None)


def _semantic_problems(data: Mapping[str, Any], problem: Any) -> list[Problem]:
    problems = []
    seen: dict[str, dict[str, int]] = {"name": {}, "output": {}, "config": {}, "download": {}}
    kinds = [r["kind"] for r in data["resources"]]
    for i, res in enumerate(data["resources"]):
        at = ("resources", i)
        for key in ("name", "output", "config"):
            if res[key] in seen[key]:
                problems.append(problem((*at, key), res[key], f"used twice (also by resource "
                                        f"{seen[key][res[key]] + 1})"))
            seen[key].setdefault(res[key], i)
        for j, part in enumerate(res["parts"]):
            name = _part(part).filename
            if name in seen["download"]:
                problems.append(problem((*at, "parts", j, "url"), part["url"], f"its file name "
                                        f"'{name}' is also a download of resource "
                                        f"{seen['download'][name] + 1}"))
            seen["download"].setdefault(name, i)
        wrong = [s for s in res.get("prepare", []) if s not in STEPS[res["kind"]]]
        if wrong:
            problems.append(problem((*at, "prepare"), ", ".join(wrong), f"not a step of a "
                                    f"{res['kind']} (its steps: {', '.join(STEPS[res['kind']])})"))
        if ("keep_info" in res.get("prepare", [])) != bool(res.get("keep_info")):
            problems.append(problem((*at, "keep_info"), None, "the keep_info step and the "
                                    "keep_info list of fields go together"))
        if len(res["parts"]) > 1 and res["kind"] != "vcf":
            problems.append(problem((*at, "parts"), None, "only a vcf may have several parts "
                                    "(they are concatenated)"))
        suffix = OUTPUT_SUFFIX.get(res["kind"])
        if suffix and not res["output"].endswith(suffix):
            problems.append(problem((*at, "output"), res["output"], f"a prepared {res['kind']} "
                                    f"is bgzipped: its name ends with {suffix}"))
        if res["kind"] == "fasta" and res["output"].endswith(".gz"):
            problems.append(problem((*at, "output"), res["output"], "the prepared FASTA is "
                                    "plain text (samtools faidx, bwa): its name does not end "
                                    "with .gz"))
        if not _config_key_known(res["config"]):
            problems.append(problem((*at, "config"), res["config"], "not a key of the workflow's "
                                    "config (schemas/config.schema.yaml)"))
        needs_fasta = res["kind"] == "gff3" or "rename_contigs" in res.get("prepare", [])
        if needs_fasta and "fasta" not in kinds:
            problems.append(problem((*at, "prepare"), None, "renaming contigs needs the FASTA: "
                                    "the manifest has no fasta resource"))
    if kinds.count("fasta") > 1:
        problems.append(problem(("resources",), None, "more than one fasta resource"))
    for key in data.get("values", {}):
        if not _config_key_known(key):
            problems.append(problem(("values", key), None, "not a key of the workflow's config "
                                    "(schemas/config.schema.yaml)"))
        elif key in seen["config"]:
            problems.append(problem(("values", key), None, "also filled by a resource"))
    return problems


def load_manifest(path: Path | str) -> Manifest:
    """The manifest at `path`, checked against schemas/bundle.schema.yaml and for sense
    (unique names and downloads, steps of each kind, known config keys); InputError naming
    the file, line and key of every problem."""
    path = str(path)
    data = load_yaml(path)
    problem = key_locator([path])
    errors = sorted(Draft202012Validator(_schema("bundle")).iter_errors(data),
                    key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise InputError([problem(tuple(e.absolute_path), None, e.message) for e in errors])
    if problems := _semantic_problems(data, problem):
        raise InputError(problems)
    resources = tuple(Resource(
        name=r["name"], kind=r["kind"], parts=tuple(_part(p) for p in r["parts"]),
        output=r["output"], config=r["config"], prepare=tuple(r.get("prepare", ())),
        keep_info=tuple(r.get("keep_info", ())), description=r.get("description", ""),
        estimate=r.get("prepared_estimate", {})) for r in data["resources"])
    return Manifest(path=path, build=data["build"], resources=resources,
                    values=data.get("values", {}), description=data.get("description", ""),
                    raw=data)


def pinned_path(outdir: Path | str, build: str) -> Path:
    return Path(outdir) / f"{build}.pinned.yaml"


def apply_pins(manifest: Manifest, pinned: Path) -> Manifest:
    """`manifest` with each unpinned part taking size and SHA-256 from the pinned copy at
    `pinned` (same URL), when that exists."""
    if not pinned.is_file():
        return manifest
    pins = {p.url: p for r in load_manifest(pinned).resources for p in r.parts if p.sha256}
    resources = []
    for res in manifest.resources:
        parts = tuple(
            Part(p.url, p.size or pins[p.url].size, pins[p.url].sha256, p.md5, p.published,
                 pinned_by=str(pinned))
            if not p.pinned and p.url in pins and (p.size in (None, pins[p.url].size)) else p
            for p in res.parts)
        resources.append(Resource(**{**res.__dict__, "parts": parts}))
    return Manifest(manifest.path, manifest.build, tuple(resources), manifest.values,
                    manifest.description, manifest.raw)


def write_pinned(manifest: Manifest, pins: Mapping[str, tuple[int, str]], path: Path) -> None:
    """The pinned copy: `manifest` with the size and SHA-256 of each part in `pins` (by URL)
    filled in, and those of an earlier pinned copy kept; written atomically."""
    earlier = {}
    if path.is_file():
        earlier = {p.url: (p.size, p.sha256) for r in load_manifest(path).resources
                   for p in r.parts if p.sha256}
    data = copy.deepcopy(dict(manifest.raw))
    for res in data["resources"]:
        for part in res["parts"]:
            pin = pins.get(part["url"]) or earlier.get(part["url"])
            if pin and not part.get("sha256"):
                part["size"], part["sha256"] = pin
    header = (f"# {manifest.build} bundle manifest pinned by `helgenom resources --pin` from "
              f"{manifest.path}:\n# the size and SHA-256 of each part downloaded here, as "
              "downloaded (compared with the\n# distributor's published checksum where there "
              "is one). Copy them into the repository's\n# manifest to pin the bundle for "
              "every site.\n")
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(header + yaml.safe_dump(data, sort_keys=False, width=100))
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
