"""Input validation: config, samples.tsv and units.tsv, checked before a run starts.

Row-level rules live in the JSON schemas under schemas/; pedigree semantics in
helgenom.sheets.pedigree. Every problem of every file is collected and raised as one InputError.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError

from helgenom import ID_PATTERN
from helgenom.data import data_path
from helgenom.errors import InputError, Problem
from helgenom.runtime import workflow_root
from helgenom.sheets.files import KeyPath, KeyProblem, fastq_problem, reference_problems
from helgenom.sheets.pedigree import Family, Individual, build_families, check_families
from helgenom.sheets.thresholds import PRESETS, merge_thresholds

SCHEMA_DIR = data_path("schemas")

_TYPES = {"string": "a string", "integer": "an integer", "number": "a number",
          "boolean": "true or false", "array": "a list", "object": "a mapping (key: value)",
          "null": "empty"}
_PY_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
             dict: "object", type(None): "null"}

Rows = list[tuple[int, dict[str, str]]]
# Characters no path may hold: the rules pass paths to a shell, quoted (spaces and quotes are
# fine), and a newline, NUL or other control character cannot be passed safely (the config's
# paths are held to this by the schema, the sheets' by load_units).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Sample(Individual):
    gmc: str
    hpo: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Unit:
    sample: str
    unit: str
    fq1: str  # resolved absolute path
    fq2: str
    line: int


@dataclass
class Run:
    config: dict
    samples: dict[str, Sample]
    families: dict[str, Family]
    units: list[Unit]
    warnings: list[Problem]
    _by_sample: dict[str, list[Unit]] | None = field(default=None, init=False, repr=False,
                                                     compare=False)
    _indexed: int = field(default=-1, init=False, repr=False, compare=False)

    def units_of(self, sample: str) -> list[Unit]:
        """The units of `sample`, in sheet order (indexed once: the workflow asks per job)."""
        if self._by_sample is None or self._indexed != len(self.units):
            by_sample: dict[str, list[Unit]] = {}
            for unit in self.units:
                by_sample.setdefault(unit.sample, []).append(unit)
            self._by_sample, self._indexed = by_sample, len(self.units)
        return list(self._by_sample.get(sample, ()))

    def unit(self, sample: str, unit: str) -> Unit:
        """One unit of a sample; KeyError if the sample has no such unit."""
        found = next((u for u in self.units_of(sample) if u.unit == unit), None)
        if found is None:
            raise KeyError(f"sample {sample!r} has no unit {unit!r}")
        return found

    def family_of(self, sample: str) -> str:
        return self.samples[sample].family

    def hpo_of(self, family: str) -> dict[str, tuple[str, ...]]:
        """Affected sample -> its HPO terms."""
        return {m.sample: self.samples[m.sample].hpo for m in self.families[family].affected}


@cache
def _schema(name: str) -> dict:
    return yaml.safe_load((SCHEMA_DIR / f"{name}.schema.yaml").read_text(encoding="utf-8"))


def _inline_refs(node: Any, root: dict) -> Any:
    """`node` with every local `$ref` ("#/$defs/name") replaced by what it points to.

    The sheet schemas are validated once per row; jsonschema resolves a `$ref` on every use,
    which was most of the time taken to load a sheet of thousands of units. Validation and
    its errors are the same (an error's schema is the referenced definition either way).
    """
    if isinstance(node, list):
        return [_inline_refs(item, root) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _inline_refs(value, root) for key, value in node.items() if key != "$ref"}
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return out if ref is None else {**out, "$ref": ref}
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part]
    resolved = _inline_refs(target, root)
    return resolved if not out else {**out, "allOf": [resolved]}


@cache
def _row_validator(name: str) -> Draft202012Validator:
    schema = _schema(name)
    return Draft202012Validator(_inline_refs(schema, schema))


def _suggest(value: str, options: Iterable[str]) -> str | None:
    by_lower = {o.lower(): o for o in options}
    match = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[match[0]] if match else None


def printable(text: str) -> str:
    """`text` with control characters written as escapes (\\n, \\r, \\x00), for messages."""
    return CONTROL_CHARACTERS.sub(lambda match: repr(match.group())[1:-1], text)


def _show(value: Any) -> str:
    text = printable(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error: ValidationError) -> str:
    """What the schema expected, in words, for one validation error."""
    kind, want, schema = error.validator, error.validator_value, error.schema
    if kind == "enum":
        instance = error.instance
        guess = _suggest(instance, map(str, want)) if isinstance(instance, str) else None
        return f"must be one of {', '.join(map(str, want))}" + (
            f" (did you mean '{guess}'?)" if guess else "")
    if kind in ("pattern", "minLength") and "description" in schema:
        return ("must not be empty; expected " if kind == "minLength" else "must be ") + str(
            schema["description"])
    if kind == "pattern":
        return f"must match the regular expression {want}"
    if kind == "minLength":
        return "must not be empty"
    if kind in ("minimum", "maximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            return f"must be between {low} and {high}"
        return f"must be at least {low}" if kind == "minimum" else f"must be at most {high}"
    if kind == "type" and isinstance(want, str):
        got = _PY_TYPES.get(type(error.instance), type(error.instance).__name__)
        return f"must be {_TYPES.get(want, want)}, not {_TYPES.get(got, got)}"
    return error.message


def _resolve(workdir: Path | str, path: str) -> str:
    return os.path.abspath(os.path.join(workdir, os.path.expanduser(path)))


# --- sheets ---------------------------------------------------------------------------------


def _read_sheet(path: Path, label: str, schema_name: str) -> tuple[Rows, list[Problem]]:
    """(line, cells) of each data row, and the problems of the file, header and rows.

    Rows are returned even when they have problems so that later checks see every sample;
    cells are whitespace-stripped. A broken header returns no rows.
    """
    schema = _schema(schema_name)
    columns = list(schema["properties"])
    try:
        data = path.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = "file not found" if isinstance(exc, FileNotFoundError) else (
            getattr(exc, "strerror", None) or str(exc))
        return [], [Problem(label, None, None, None, f"cannot read the sheet: {reason} "
                            f"(looked for {os.path.abspath(path)})")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return [], [Problem(label, line, None, None, f"not UTF-8 text (byte 0x{data[exc.start]:02x}"
                            "); save the sheet as UTF-8 tab-separated text")]
    numbered = [(n, raw.rstrip("\r")) for n, raw in enumerate(text.split("\n"), start=1)]
    lines = [(n, raw) for n, raw in numbered if raw.strip() and not raw.startswith("#")]
    commented = [n for n, raw in numbered if raw.startswith("#")
                 and set(raw.lstrip("#").split("\t")) >= set(schema["required"])]
    header_line, header_text = lines[0] if lines else (1, "")
    header = header_text.split("\t")
    while header and not header[-1].strip():
        header.pop()  # trailing empty columns, as spreadsheet exports leave them
    index, problems = _check_header(header, label, header_line, schema)
    if problems and commented:
        return [], [Problem(label, commented[0], None, None, "the header line is commented out; "
                            "remove the leading '#' (lines starting with '#' are comments)")]
    if not lines:
        return [], [Problem(label, 1, None, None, "empty sheet: expected a tab-separated header "
                            f"line with the columns {', '.join(columns)}")]
    if problems:
        return [], problems
    validator = _row_validator(schema_name)
    order = {c: i for i, c in enumerate(columns)}
    rows: Rows = []
    for lineno, text_line in lines[1:]:
        fields = text_line.split("\t")
        while len(fields) > len(header) and not fields[-1].strip():
            fields.pop()
        if len(fields) > len(header) or (len(fields) == 1 and len(header) > 1):
            problems.append(Problem(label, lineno, None, None, (
                f"{len(fields)} tab-separated cell{'s' if len(fields) > 1 else ''}, but the header "
                f"has {len(header)} columns; separate cells with exactly one tab")))
            continue
        fields += [""] * (len(header) - len(fields))  # editors drop trailing empty cells
        cells = {column: fields[i].strip() for column, i in index.items()}
        problems += [Problem(label, lineno, column, fields[i], "leading/trailing whitespace; "
                             "remove it (it would silently change IDs and paths)")
                     for column, i in index.items() if fields[i] != cells[column]]
        errors = sorted(validator.iter_errors(cells),
                        key=lambda e: order.get(e.path[0] if e.path else "", -1))
        problems += [Problem(label, lineno, str(e.path[0]) if e.path else None,
                             _show(e.instance), _describe(e)) for e in errors]
        rows.append((lineno, cells))
    if not rows and not problems:
        problems.append(Problem(label, header_line, None, None, "no rows below the header"))
    return rows, problems


def _check_header(
    header: list[str], label: str, line: int, schema: dict
) -> tuple[dict[str, int], list[Problem]]:
    """Column name -> position, and the header's problems (missing, unknown, repeated, ...)."""
    columns = list(schema["properties"])
    expected = f"expected the tab-separated columns {', '.join(columns)}"
    index: dict[str, int] = {}
    covered: set[str] = set()  # expected columns an unknown cell already accounts for
    problems: list[Problem] = []
    for pos, cell in enumerate(header, start=1):
        name = cell.strip()
        if name != cell:
            problems.append(Problem(label, line, name, cell, "leading/trailing whitespace in the "
                                    "column name; remove it"))
        parts = [p for p in re.split(r"[ ,;]+", name) if p]
        if not name:
            problems.append(Problem(label, line, None, None, f"empty column name (column {pos})"))
        elif name in index:
            problems.append(Problem(label, line, name, None,
                                    f"duplicated column (columns {index[name] + 1} and {pos})"))
        elif name in columns:
            index[name] = pos - 1
        elif len(parts) > 1 and set(parts) <= set(columns):
            sep = "commas" if "," in name else "semicolons" if ";" in name else "spaces"
            covered.update(parts)
            problems.append(Problem(label, line, None, name, f"column names separated by {sep}; "
                                    "the sheet must be tab-separated (TSV)"))
        else:
            guess = _suggest(name, [c for c in columns if c not in header])
            covered.update([guess] if guess else [])
            hint = f"did you mean '{guess}'? " if guess else ""
            problems.append(Problem(label, line, name, None, f"unknown column; {hint}{expected}"))
    problems += [Problem(label, line, column, None, f"missing column; {expected}")
                 for column in schema.get("required", [])
                 if column not in index and column not in covered]
    return index, problems


def load_samples(
    path: Path | str, *, name: str | None = None
) -> tuple[list[Sample], list[Problem]]:
    """Read samples.tsv: samples in sheet order, and its file, header and row problems.

    Pedigree semantics are checked separately (`check_families`, as `load_run` does).
    `name` is how the file is named in problems (default: `path` as given).
    """
    label = name or str(path)
    rows, problems = _read_sheet(Path(path), label, "samples")
    samples = [Sample(family=c["family"], sample=c["sample"], sex=c["sex"],
                      phenotype=c["phenotype"], father=c["father"] or None,
                      mother=c["mother"] or None, gmc=c["gmc"],
                      hpo=tuple(c["hpo"].split(",")) if c["hpo"] else (), line=line)
               for line, c in rows]
    return samples, problems


def pedigree_problems(samples: list[Sample], label: str) -> tuple[list[Problem], list[Problem]]:
    lines = {s.sample: s.line for s in reversed(samples)}  # first definition wins
    return check_families(samples, label, lines, row_lines=[s.line for s in samples])


def load_units(
    path: Path | str,
    samples: Collection[str | Sample] | None,
    workdir: Path | str = ".",
    *,
    name: str | None = None,
    samples_name: str = "samples.tsv",
    probe: bool = True,
) -> tuple[list[Unit], list[Problem]]:
    """Read units.tsv: units with resolved FASTQ paths, and every problem of the file.

    `samples` (IDs or Samples; None: not known, skip those checks) must each have a unit, and
    every unit's sample must be one of them. FASTQ paths resolve against `workdir`; with
    `probe`, each FASTQ's first records are read too.
    """
    label = name or str(path)
    rows, problems = _read_sheet(Path(path), label, "units")
    ids = None if samples is None else list(
        dict.fromkeys(s if isinstance(s, str) else s.sample for s in samples))
    units: list[Unit] = []
    unit_lines: dict[tuple[str, str], int] = {}
    file_uses: dict[object, tuple[int, str]] = {}  # a file (device, inode) -> first use
    for line, cells in rows:
        sample, unit = cells["sample"], cells["unit"]
        if ids is not None and sample not in ids and re.fullmatch(ID_PATTERN, sample):
            problems.append(Problem(label, line, "sample", sample, (
                f"unknown sample: not in {samples_name} (samples: {', '.join(ids) or 'none'})")))
        if (sample, unit) in unit_lines:
            problems.append(Problem(label, line, "unit", unit, f"duplicate unit of sample "
                                    f"'{sample}', already on line {unit_lines[(sample, unit)]}"))
        unit_lines.setdefault((sample, unit), line)
        fastq = {column: _resolve(workdir, cells[column]) for column in ("fq1", "fq2")
                 if cells[column]}  # an empty path is reported by the row checks
        files = {column: _file_identity(path) for column, path in fastq.items()}
        for column, resolved in fastq.items():
            if bad := CONTROL_CHARACTERS.search(cells[column]):
                message = (f"control character {bad.group()!r} in the path: it cannot be passed "
                           "to the rules' shell commands (spaces and quotes can)")
            elif column == "fq2" and files[column] == files.get("fq1"):
                message = "same file as fq1; fq2 must be the mate file (read 2)"
            elif files[column] in file_uses:
                message = "file already used on line {} (column {})".format(
                    *file_uses[files[column]])
            else:
                message = (fastq_problem(resolved) or "") if probe else ""
            if message:
                problems.append(Problem(label, line, column, printable(cells[column]), message))
            file_uses.setdefault(files[column], (line, column))
        units.append(Unit(sample, unit, fastq.get("fq1", ""), fastq.get("fq2", ""), line))
    if rows and ids:
        sequenced = {u.sample for u in units}
        problems += [Problem(label, None, "sample", s, f"no units for this sample of {samples_name}"
                             "; every sample needs at least one FASTQ pair")
                     for s in ids if s not in sequenced]
    return units, problems


def _file_identity(path: str) -> object:
    """(device, inode) of an existing file, so that links to one file are one file; else the
    path itself."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return path
    return (stat.st_dev, stat.st_ino)


TermCheck = Callable[[str], "tuple[str | None, list[str]]"]


def hpo_problems(samples: list[Sample], label: str, check: TermCheck
                 ) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of the sheet's HPO terms, by `check` (the phenotype engine's term
    check: (current ID or None when ignored, notes); ValueError for a term it cannot use).
    A family whose affected members' terms are all ignored cannot be ranked by phenotype."""
    results: dict[str, tuple[str | None, list[str]] | ValueError] = {}
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for sample in samples:
        for term in (t for t in sample.hpo if re.fullmatch(r"HP:\d{7}", t)):
            if term not in results:
                try:
                    results[term] = check(term)
                except ValueError as error:
                    results[term] = error
            result = results[term]
            if isinstance(result, ValueError):
                errors.append(Problem(label, sample.line, "hpo", term, str(result)))
            else:
                warnings += [Problem(label, sample.line, "hpo", term, note) for note in result[1]]
    for family, members in build_families(samples).items():
        affected = [m for m in members.affected if isinstance(m, Sample) and m.hpo]
        terms = [results.get(t) for m in affected for t in m.hpo]
        if terms and all(isinstance(r, tuple) and r[0] is None for r in terms):
            first = affected[0]
            errors.append(Problem(label, first.line, "hpo", ",".join(first.hpo), (
                f"family '{family}' has no phenotypic-abnormality term (under HP:0000118) among "
                "its affected members' terms: phenotype ranking would fail; add one")))
    return errors, warnings


# --- config ---------------------------------------------------------------------------------


def _key(path: Iterable[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _yaml_root(source: str) -> yaml.Node | None:
    if Path(source).suffix not in (".yaml", ".yml"):
        return None
    try:
        return yaml.compose(Path(source).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def _yaml_line(node: yaml.Node | None, path: Iterable[str | int], exact: bool = False
               ) -> int | None:
    """1-based line of the key (or list item) at `path`, else of its closest ancestor (with
    `exact`: else None)."""
    line = None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                return None if exact else line
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return None if exact else line
    return line


def key_locator(sources: list[str]) -> KeyProblem:
    """Problems at a config key, in the first of `sources` (YAML files, the site overlay
    before the run's config) that sets it, with its line; else in the last source, at the
    line of the key's closest ancestor there."""
    roots = [(source, _yaml_root(source)) for source in sources]

    def problem(path: KeyPath, value: str | None, message: str) -> Problem:
        for source, root in roots:
            line = _yaml_line(root, path, exact=True)
            if line is not None:
                return Problem(source, line, _key(path), value, message, kind="key")
        source, root = roots[-1]
        return Problem(source, _yaml_line(root, path), _key(path), value, message, kind="key")

    return problem


def _config_problems(error: ValidationError, source: str, root: yaml.Node | None) -> list[Problem]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        problems = []
        for key in (k for k in error.instance if k not in allowed):
            guess = _suggest(str(key), allowed)
            hint = f" (did you mean '{_key([*path, guess])}'?)" if guess else ""
            problems.append(Problem(source, _yaml_line(root, [*path, key]), _key([*path, key]),
                                    None, f"unknown key{hint}; allowed here: {', '.join(allowed)}",
                                    kind="key"))
        return problems
    if error.validator == "required":
        return [Problem(source, _yaml_line(root, path), _key([*path, key]), None,
                        "missing required key", kind="key")
                for key in error.validator_value if key not in error.instance]
    return [Problem(source, _yaml_line(root, path), _key(path) or None, _show(error.instance),
                    _describe(error), kind="key")]


def _fill_defaults(value: Any, schema: dict) -> Any:
    if isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                _fill_defaults(value[key], sub)
    return value


def validate_config(config: dict, source: str = "config") -> dict:
    """A copy of `config` with the schema's defaults filled in; InputError naming key paths.

    `source` names the config in problems; a YAML file path adds line numbers.
    """
    schema = _schema("config")
    errors = list(Draft202012Validator(schema).iter_errors(config))
    if errors:
        root = _yaml_root(source)
        raise InputError([p for e in errors for p in _config_problems(e, source, root)])
    return _fill_defaults(copy.deepcopy(config), schema)


# --- a run ----------------------------------------------------------------------------------


FileCheck = Callable[[Path], "str | None"]
# A check of configured files an engine owns (e.g. the annotation sources): (config, workdir,
# the locator of problems at config keys) -> (errors, warnings).
ConfigCheck = Callable[[dict, "Path | str", KeyProblem], "tuple[list[Problem], list[Problem]]"]


def load_run(config: dict, workdir: Path | str = ".", config_source: str = "config",
             file_checks: Mapping[str, FileCheck] | None = None,
             term_check: TermCheck | None = None, files: bool = True,
             config_checks: Sequence[ConfigCheck] = ()) -> Run:
    """Validate config, samples.tsv (rows, pedigree, HPO terms), units.tsv (rows, FASTQs) and
    the configured files (FASTA, GFF3, population VCFs and the names and tags that refer to
    them); InputError with all problems of all files. Paths are relative to `workdir`.

    `file_checks` maps a key of CONFIG_FILES (e.g. "rank_model") to a function that reads
    the configured file and returns what is wrong with it (None: nothing); `term_check`
    checks one HPO term (see `hpo_problems`; None: terms are checked by their form only).
    The engines own those formats: `helgenom.cli.validate.check_run` passes them in, and
    `config_checks`, each reading the config's files of an engine (the annotation sources).
    `files=False` reads the config and sheets only (no FASTQ, reference, source or term
    checks): for a job, whose run was checked in full when it started."""
    problems: list[Problem] = []
    try:
        config = validate_config(config, config_source)
    except InputError as exc:
        problems += exc.problems
    config_ok = not problems  # the site and the configured files need a valid config
    sheets = {key: config.get(key) if isinstance(config, dict) else None
              for key in ("samples", "units")}
    samples: list[Sample] = []
    warnings: list[Problem] = []
    units: list[Unit] = []
    if isinstance(sheets["samples"], str) and sheets["samples"]:
        samples, found = load_samples(_resolve(workdir, sheets["samples"]), name=sheets["samples"])
        errors, warnings = pedigree_problems(samples, sheets["samples"])
        problems += found + errors
        if term_check is not None and files:
            errors, notes = hpo_problems(samples, sheets["samples"], term_check)
            problems, warnings = problems + errors, warnings + notes
    if isinstance(sheets["units"], str) and sheets["units"]:
        units, found = load_units(_resolve(workdir, sheets["units"]), samples or None, workdir,
                                  name=sheets["units"], samples_name=sheets["samples"] or "samples",
                                  probe=files)
        problems += found
    sources = [config_source]
    if config_ok:  # the site: from the config, else the sheet's gmc cells that are valid IDs
        site, found = choose_site(config, [s for s in samples if re.fullmatch(ID_PATTERN, s.gmc)],
                                  sheets["samples"] or "samples")
        if site and not found:
            config, found, note = apply_site_overlay(config, site, workdir)
            warnings += [note] if note else []
            sources.insert(0, str(_overlay_dir(config, workdir) / f"{site}.yaml"))
        problems += found
        config_ok = not found
    if config_ok and files:
        locate = key_locator(sources)
        errors, notes = _config_file_problems(config, workdir, locate, file_checks or {})
        problems, warnings = problems + errors, warnings + notes
        for check in config_checks:
            errors, notes = check(config, workdir, locate)
            problems, warnings = problems + errors, warnings + notes
    if problems:
        raise InputError(problems)
    return Run(config, {s.sample: s for s in samples}, build_families(samples), units, warnings)


GMC_DIR = workflow_root() / "config" / "gmc"


def choose_site(config: dict, samples: list[Sample], sheet: str) -> tuple[str, list[Problem]]:
    """The GMC of the run: `gmc` in the config (or --config gmc=SITE), else the one site of
    the sheet's `gmc` column; a sheet mixing sites without an explicit choice is an error."""
    if config.get("gmc"):
        return config["gmc"], []
    sites = sorted({s.gmc for s in samples if s.gmc})
    if len(sites) > 1:
        lines = {site: next(s.line for s in samples if s.gmc == site) for site in sites}
        return "", [Problem(sheet, lines[site], "gmc", site,
                            f"the sheet mixes sites ({', '.join(sites)}): run one GMC at a time "
                            "or choose one with `gmc:` in the config (--config gmc=SITE)")
                    for site in sites]
    return (sites[0] if sites else ""), []


def _merge(base: dict, overlay: dict) -> dict:
    out = dict(base)
    for key, value in overlay.items():
        out[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(
            base.get(key), dict) else value
    return out


def _overlay_dir(config: dict, workdir: Path | str) -> Path:
    return Path(_resolve(workdir, config["gmc_dir"])) if config.get("gmc_dir") else GMC_DIR


def apply_site_overlay(config: dict, site: str, workdir: Path | str
                       ) -> tuple[dict, list[Problem], Problem | None]:
    """`config` with `gmc_dir/<site>.yaml` (default config/gmc/) merged over it: the site's
    references, panels and rank models. A missing overlay is a warning (the base config
    applies); an invalid one, an error naming the overlay's file, line and key. A site name
    is an ID: it cannot name a file outside the overlays' folder."""
    directory = _overlay_dir(config, workdir)
    path = directory / f"{site}.yaml"
    if not re.fullmatch(ID_PATTERN, site):  # an ID holds no '/' and no '.': path stays inside
        return config, [Problem(str(directory), None, "gmc", site, "not a site name (letters, "
                                "digits, '_' and '-'): it names <site>.yaml in the overlays' "
                                "folder and cannot leave it", kind="key")], None
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in directory.glob("*.yaml"))) or "none"
        return config, [], Problem(str(path), None, "gmc", site, "no site overlay for this GMC: "
                                   f"the base config applies (overlays: {available})", kind="key")
    try:
        overlay = load_yaml(str(path))
    except InputError as exc:
        return config, exc.problems, None
    if not isinstance(overlay, dict):
        return config, [Problem(str(path), 1, None, None, "a site overlay is a YAML mapping")], None
    for key in ("samples", "units", "gmc", "gmc_dir"):
        if key in overlay:
            return config, [Problem(str(path), None, key, str(overlay[key]),
                                    "belongs to the run's config, not to a site overlay",
                                    kind="key")], None
    try:
        merged = validate_config(_merge(config, overlay), str(path))
    except InputError as exc:
        return config, exc.problems, None
    merged["gmc"] = site
    return merged, [], None


CONFIG_FILES = (  # (section, key, what): files a run needs, checked at start when set
    ("reference", "fasta", "reference FASTA"),
    ("reference", "gff3", "gene models (GFF3)"),
    ("annotation", "population_vcf", "population VCF"),
    ("annotation", "population_sv_vcf", "population SV VCF"),
    ("prioritisation", "rank_model", "rank model"),
    ("prioritisation", "sv_rank_model", "SV rank model"),
    ("prioritisation", "panel", "gene panel"),
    ("prioritisation", "reduced_penetrance", "reduced-penetrance gene list"),
    ("freqdb", "profile_vcf", "frequency database profile sites"),
)


def _config_file_problems(config: dict, workdir: Path | str, problem: KeyProblem,
                          file_checks: Mapping[str, FileCheck]
                          ) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of the configured files: missing, a folder, unindexed (population
    VCFs), unreadable by an engine (each `file_checks` reader, e.g. the rank models' parser,
    so that a bad .ini stops the run before any job), or not matching the reference
    (`files.reference_problems`); and of values that do not make sense together."""
    problems = []
    qc = config.get("qc", {})
    try:
        merge_thresholds(PRESETS[qc.get("preset", "default")], qc.get("thresholds"))
    except ValueError as error:
        problems.append(problem(("qc", "thresholds"), None, str(error)))
    gates = config.get("prioritisation", {}).get("gates", {})
    if gates.get("het_ab_min", 0) > gates.get("het_ab_max", 1):
        problems.append(problem(("prioritisation", "gates", "het_ab_min"),
                                str(gates["het_ab_min"]), "must be at most "
                                f"prioritisation.gates.het_ab_max ({gates['het_ab_max']})"))
    present: dict[str, Path] = {}
    for section, key, what in CONFIG_FILES:
        value = config.get(section, {}).get(key, "")
        if not value:
            continue
        path = Path(_resolve(workdir, value))
        if path.is_dir():
            message = f"{what} is a folder, not a file: {path}"
        elif not path.is_file():
            message = f"{what} not found: {path}"
        elif key in ("population_vcf", "population_sv_vcf") and not any(
                Path(f"{path}{ext}").is_file() for ext in (".tbi", ".csi")):
            message = f"{what} has no .tbi/.csi index: run `tabix -p vcf {path}`"
        else:
            message = (file_checks[key](path) or "") if key in file_checks else ""
        if message:
            problems.append(problem((section, key), value, message))
        else:
            present[key] = path
    errors, warnings = reference_problems(config, present, problem)
    return problems + errors, warnings


# --- command line ---------------------------------------------------------------------------


def load_yaml(path: str) -> Any:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError([Problem(path, None, None, None, f"cannot read: {exc.strerror}")]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        message = f"invalid YAML: {getattr(exc, 'problem', None) or exc}"
        raise InputError([Problem(path, mark.line + 1 if mark else None, None, None,
                                  message)]) from exc
    return {} if data is None else data
