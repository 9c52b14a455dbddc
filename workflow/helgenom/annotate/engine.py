"""Run the annotation sources on a family's normalised calls: `bcftools annotate`, one `-a`
per call, chained.

Why bcftools: measured on a 5M-record trio with generated ClinVar, gnomAD, CADD and SpliceAI
sources (tests/benchmarks/bench_annotate.py; figures in the README), chained `bcftools
annotate` took 100 s wall and 108 CPU s against vcfanno 0.3.5's 177 s and 307 CPU s (on 2
cores), a third of its memory (0.73 vs 2.2 GB), and it writes values as the sources have them
(vcfanno rounds floats and QUAL, and reorders the records of one position).

The chain: a call with a VCF source reads an indexed file (bcftools cannot read a VCF source
against a pipe), so the VCF sources come first, each reading the previous call's output
written as BGZF BCF (level 1) and indexed; the TSV sources follow in a pipe (`-Ou`) behind
the last VCF source. Sources whose contigs are named otherwise than the calls' (chr1 vs 1,
chrM vs MT: ClinVar, CADD, SpliceAI and REVEL use 1, the GRCh38 analysis set chr1) are run
together between two renaming calls (`--rename-chrs`), the calls' contigs renamed to the
sources' naming and back.

The result is checked before it takes its name: every call's exit status and its stderr
(an htslib error ([E::...]) or any line that is not a warning or a note fails the run,
whatever the exit status), the record count of the output (from its index) against the
input's, and the INFO names declared in the output's header. The output and its index are
written under temporary names in the output's folder and renamed at the end; intermediate
files are removed whatever happens.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from helgenom.annotate.checks import allele_columns, column_index
from helgenom.annotate.headers import SourceFile, SourceFileError, other_names, read_source_file
from helgenom.annotate.sources import TSV, TSV_OPS, Source
from helgenom.io.tabix import read_index


class AnnotateError(Exception):
    """The annotation could not be made, or its result failed a check (nothing was written)."""


@dataclass(frozen=True)
class Call:
    """One `bcftools annotate` call of the chain (its options, without input and output)."""

    args: tuple[str, ...]
    label: str
    indexed_input: bool = False  # a VCF source: reads a file with an index, not a pipe


@dataclass
class Plan:
    calls: list[Call]
    applied: list[Source]
    notes: list[str] = field(default_factory=list)


# Lines of a call's stderr that are not errors: htslib's and bcftools' warnings and notes
# (any other line fails the run, whatever the exit status).
BENIGN = re.compile(r"^(\[(W|I)::|Warning[: ]|\[warning\]|Note: )")
OUTPUT_TYPES = {".bcf": ("b", "csi"), ".gz": ("z", "tbi"), ".vcf": ("v", "")}


def _quote_description(text: str) -> str:
    return text.replace("\\", "/").replace('"', "'")


def _vcf_call(source: Source, found: SourceFile, declared: set[str]) -> Call:
    columns, headers = [], []
    for fld in source.fields:
        if fld.source == "ID":
            columns.append(f"INFO/{fld.name}:=ID")
            if fld.name not in declared:  # as a String: bcftools drops the values otherwise
                headers.append(f'##INFO=<ID={fld.name},Number=1,Type=String,Description="ID '
                               f'column of {_quote_description(Path(source.path).name)}">')
        elif fld.source == fld.name:
            columns.append(f"INFO/{fld.name}")
        else:
            columns.append(f"INFO/{fld.name}:=INFO/{fld.source}")
    args = ["-a", str(found.path), "-c", ",".join(columns)]
    for line in headers:
        args += ["-H", line]
    return Call(tuple(args), source.label, indexed_input=True)


def _tsv_call(source: Source, found: SourceFile, declared: set[str]) -> Call:
    ref, alt = allele_columns(source, found)
    names: dict[int, str] = {found.seq_column - 1: "CHROM", found.pos_column - 1: "POS"}
    if ref is not None and alt is not None:
        names[ref], names[alt] = "REF", "ALT"
    elif found.end_column != found.pos_column:  # intervals: every row overlapping a variant
        names[found.pos_column - 1], names[found.end_column - 1] = "BEG", "END"
    args: list[str] = []
    for fld in source.fields:
        index = column_index(fld.source, found.columns)
        if index is None:
            raise SourceFileError(f"{fld.source} is not a column of {source.path}")
        if index in names:
            raise SourceFileError(f"column {fld.source} of {source.path} is taken twice (or "
                                  "is its CHROM, POS, REF or ALT column)")
        names[index] = f"INFO/{fld.name}"
        if fld.name not in declared:
            origin = f"column {fld.source} of {Path(source.path).name}"
            description = _quote_description(
                f"{fld.description} ({origin})" if fld.description else origin)
            args += ["-H", f"##INFO=<ID={fld.name},Number={fld.number},Type={fld.type},"
                           f'Description="{description}">']
        if fld.op != "first":
            args += ["-l", f"{fld.name}:{TSV_OPS[fld.op]}"]
    columns = ",".join(names.get(i, "-") for i in range(max(names) + 1))
    return Call(("-a", str(found.path), "-c", columns, *args), source.label)


def _rename_call(mapping: dict[str, str], folder: Path, label: str) -> Call:
    path = folder / f"rename-{len(list(folder.glob('rename-*')))}.txt"
    path.write_text("".join(f"{old}\t{new}\n" for old, new in mapping.items()))
    return Call(("--rename-chrs", str(path)), label)


def plan(sources: Sequence[Source], input_contigs: Sequence[str], folder: Path,
         workdir: Path | str = ".") -> Plan:
    """The calls that apply `sources` to calls on `input_contigs` (rename maps are written to
    `folder`); sources sharing no contig with the calls in either naming are left out."""
    contigs = list(input_contigs)
    groups: dict[tuple[tuple[str, str], ...], list[tuple[Source, SourceFile]]] = {}
    result = Plan([], [])
    for source in sources:
        try:
            found = read_source_file(source.resolved(workdir), source.kind)
        except SourceFileError as error:
            raise AnnotateError(f"{source.label} {source.path}: {error}") from None
        names = set(found.contigs or found.lengths)
        rename = {}
        for contig in contigs:
            if contig not in names:
                other = next((o for o in other_names(contig) if o in names), None)
                if other is not None:
                    rename[contig] = other
        if names and not rename and not names & set(contigs):
            result.notes.append(f"{source.label} {source.path}: no contig of the calls in it "
                                "(in either naming): not used")
            continue
        groups.setdefault(tuple(sorted(rename.items())), []).append((source, found))
    declared: set[str] = set()
    for rename, members in sorted(groups.items(), key=lambda item: len(item[0])):
        members.sort(key=lambda item: item[0].kind == TSV)  # VCF sources first
        if rename:
            result.calls.append(_rename_call(dict(rename), folder, "rename contigs"))
            result.notes.append("contigs renamed " + ", ".join(
                f"{a}->{b}" for a, b in list(rename)[:3]) + (" ..." if len(rename) > 3 else "")
                + " for " + ", ".join(sorted({s.label for s, _ in members})))
        for source, found in members:
            try:
                call = (_tsv_call if source.kind == TSV else _vcf_call)(source, found, declared)
            except SourceFileError as error:
                raise AnnotateError(f"{source.label} {source.path}: {error}") from None
            note = (f"##helgenom_annotation_source={source.label}: {source.path} -> "
                    + ",".join(source.names))
            result.calls.append(Call((*call.args, "-H", note), call.label, call.indexed_input))
            declared.update(source.names)
            result.applied.append(source)
        if rename:
            result.calls.append(_rename_call({b: a for a, b in rename}, folder,
                                             "rename contigs back"))
    return result


def _segments(calls: list[Call]) -> list[list[Call]]:
    """The chain cut where a call needs an indexed file: each segment is one pipeline."""
    segments: list[list[Call]] = []
    for call in calls:
        if not segments or call.indexed_input:
            segments.append([call])
        else:
            segments[-1].append(call)
    return segments


def _stderr_problems(text: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) among a call's stderr lines."""
    errors, warnings = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        (warnings if BENIGN.match(line) else errors).append(line.strip())
    return errors, warnings


def _pipeline(commands: list[list[str]], folder: Path, labels: list[str]) -> list[str]:
    """Run `commands` as one pipeline; their warnings; AnnotateError naming the call that
    failed (exit status, or an error on its stderr)."""
    procs: list[tuple[subprocess.Popen[bytes], Path, str]] = []
    previous = None
    for number, (command, label) in enumerate(zip(commands, labels, strict=True)):
        err = folder / f"stderr-{len(list(folder.glob('stderr-*')))}.txt"
        last = number == len(commands) - 1
        with open(err, "wb") as sink:
            proc = subprocess.Popen(command, stdin=previous, stderr=sink,
                                    stdout=subprocess.DEVNULL if last else subprocess.PIPE)
        if previous is not None:
            previous.close()
        previous = proc.stdout
        procs.append((proc, err, label))
    warnings, failures = [], []
    for proc, err, label in procs:
        status = proc.wait()
        errors, noted = _stderr_problems(err.read_text(errors="replace"))
        warnings += [f"{label}: {line}" for line in noted]
        if status != 0 or errors:
            failures.append(f"{label} ({' '.join(proc.args[:2])}, exit status {status}): "
                            + ("; ".join(errors[:5]) or "no message"))
    if failures:
        raise AnnotateError("bcftools failed: " + " | ".join(failures))
    return warnings


def _run(command: list[str]) -> str:
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    errors, _ = _stderr_problems(proc.stderr)
    if proc.returncode != 0 or errors:
        raise AnnotateError(f"{' '.join(command[:3])} failed (exit status {proc.returncode}): "
                            + ("; ".join(errors[:5]) or "no message"))
    return proc.stdout


def count_records(path: Path) -> int:
    """Records of an indexed VCF/BCF, from its index."""
    return int(_run(["bcftools", "index", "-n", str(path)]).strip() or 0)


def output_type(path: Path) -> tuple[str, str]:
    """(bcftools -O type, index kind) of an output path: .bcf, .vcf.gz or .vcf."""
    for suffix, kind in OUTPUT_TYPES.items():
        if path.name.endswith(suffix) and (suffix != ".gz" or path.name.endswith(".vcf.gz")):
            return kind
    raise AnnotateError(f"{path}: the output must be named .bcf, .vcf.gz or .vcf")


@dataclass
class Result:
    records: int
    applied: list[Source]
    notes: list[str]
    warnings: list[str]


def annotate(input_path: Path | str, output: Path | str, sources: Sequence[Source], *,
             threads: int = 1, workdir: Path | str = ".") -> Result:
    """Write `output` (.bcf, .vcf.gz or .vcf, indexed unless .vcf): the records of the
    indexed `input_path` with the values of `sources`; AnnotateError when it cannot be made
    or fails a check, nothing written then."""
    source_path, out = Path(input_path), Path(output)
    kind, index_kind = output_type(out)
    if not source_path.is_file():
        raise AnnotateError(f"{source_path}: input not found")
    if not any(Path(f"{source_path}.{ext}").is_file() for ext in ("csi", "tbi")):
        raise AnnotateError(f"{source_path}: the input needs an index (bcftools index)")
    records = count_records(source_path)
    contigs = [name for name, _ in read_index(source_path).contigs]
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    part = folder / f"part{out.name[out.name.index('.'):] if '.' in out.name else ''}"
    try:
        chain = plan(sources, contigs, folder, workdir)
        warnings = _run_chain(chain.calls, source_path, part, kind, folder, threads)
        written = _check_output(part, index_kind, records, chain.applied)
        if index_kind:
            os.replace(f"{part}.{index_kind}", f"{out}.{index_kind}")
        os.replace(part, out)
        return Result(written, chain.applied, chain.notes, warnings)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run_chain(calls: list[Call], input_path: Path, part: Path, kind: str, folder: Path,
               threads: int) -> list[str]:
    threading = ["--threads", str(max(threads - 1, 0))] if threads > 1 else []
    if not calls:
        return _pipeline([["bcftools", "view", "--no-version", *threading, f"-O{kind}", "-o",
                           str(part), str(input_path)]], folder, ["copy"])
    warnings: list[str] = []
    current = input_path
    segments = _segments(calls)
    for number, segment in enumerate(segments):
        last = number == len(segments) - 1
        target = part if last else folder / f"stage-{number}.bcf"
        commands = []
        for position, call in enumerate(segment):
            end = position == len(segment) - 1
            output = ([f"-O{kind}" if last else "-Ob1", *threading, "-o", str(target)] if end
                      else ["-Ou"])
            commands.append(["bcftools", "annotate", "--no-version", *call.args, *output,
                             str(current) if position == 0 else "-"])
        warnings += _pipeline(commands, folder, [call.label for call in segment])
        if not last:
            _run(["bcftools", "index", "-f", *threading, str(target)])
            if current != input_path:
                current.unlink(missing_ok=True)
                Path(f"{current}.csi").unlink(missing_ok=True)
            current = target
    return warnings


def _check_output(part: Path, index_kind: str, records: int, applied: list[Source]) -> int:
    """Index the output; its record count must be the input's and its header must declare
    every INFO name of the sources applied."""
    if not part.is_file() or part.stat().st_size == 0:
        raise AnnotateError(f"bcftools wrote no output ({part.name})")
    header = _run(["bcftools", "view", "-h", str(part)])
    declared = set(re.findall(r"^##INFO=<ID=([^,>]+)", header, re.MULTILINE))
    missing = [name for source in applied for name in source.names if name not in declared]
    if missing:
        raise AnnotateError(f"the output does not declare INFO/{', INFO/'.join(missing)}")
    if index_kind:
        _run(["bcftools", "index", "-f", *(["-t"] if index_kind == "tbi" else []), str(part)])
        written = count_records(part)
    else:
        written = sum(1 for line in part.open("rb") if not line.startswith(b"#"))
    if written != records:
        raise AnnotateError(f"the output holds {written:,} records, the input {records:,}: "
                            "records were lost or added")
    return written
