"""Preparation of downloaded files into what the workflow reads, each output written under a
temporary name and renamed into place, then recorded (so an interrupted preparation resumes
with the step that did not finish):

- fasta: decompressed (the workflow, samtools faidx and bwa need it plain), `samtools faidx`,
  `bwa index` (about an hour and 5 GB for GRCh38).
- gff3: seqids renamed to the FASTA's contig names (Ensembl's 1, X, MT, KI270728.1 ->
  chr1, chrX, chrM, chr16_KI270728v1_random), lines of contigs the FASTA lacks dropped (said
  in the log), bgzipped.
- vcf: per part, with bcftools: only the FASTA's contigs (in either naming), only the kept
  INFO fields (`annotate -x ^INFO/...`), split to biallelic records (`norm -m -any`), contigs
  renamed to the FASTA's (optional: helgenom annotate-sources renames the calls' contigs to a
  source's `1` naming on the fly); the parts concatenated in manifest order; tabix-indexed.

Every prepared file is checked against the FASTA: its contigs are the FASTA's (in either
naming for a VCF) with the same lengths (GFF3 `##sequence-region`, VCF `##contig`).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from isal import igzip

from helgenom.bundle.fetch import BundleError, Log
from helgenom.bundle.manifest import Resource
from helgenom.bundle.state import State, fsync_dir
from helgenom.io.bgzf import BgzfWriter
from helgenom.io.reference import read_fai
from helgenom.io.tabix import index_vcf, read_index

DOWNLOADS = "downloads"
PARTS = "parts"
BWA_SUFFIXES = (".amb", ".ann", ".bwt", ".pac", ".sa")
_ACCESSION = re.compile(r"(?:^|_)([A-Z]{1,2}\d+)v(\d+)(?:_|$)")


def download_path(part_filename: str) -> str:
    return f"{DOWNLOADS}/{part_filename}"


def _key(*items: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, items)).encode()).hexdigest()[:32]


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def _commit(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)
    fsync_dir(final.parent)


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _run(cmd: Sequence[str], what: str, **kwargs: object) -> None:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False, **kwargs)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise BundleError(f"{what}: `{' '.join(cmd[:3])} ...` failed (exit {proc.returncode}):"
                          f"\n{tail}")


# --- contig names -------------------------------------------------------------------------------


def other_naming(name: str) -> str:
    """chr1 <-> 1, chrM <-> MT."""
    if name == "chrM":
        return "MT"
    if name == "MT":
        return "chrM"
    return name[3:] if name.startswith("chr") else f"chr{name}"


def contig_aliases(fasta: Mapping[str, int]) -> dict[str, str]:
    """Names other sources give the FASTA's contigs -> the FASTA's name: the other common
    naming (1 / chr1, MT / chrM) and, for UCSC-style scaffold names, the INSDC accession
    (chr1_KI270706v1_random, chrUn_GL000218v1 <- KI270706.1, GL000218.1)."""
    aliases: dict[str, str] = {}
    for name in fasta:
        aliases.setdefault(other_naming(name), name)
        if match := _ACCESSION.search(name):
            aliases.setdefault(f"{match.group(1)}.{match.group(2)}", name)
    for name in fasta:
        aliases.pop(name, None)  # a FASTA name stays itself
    return aliases


def to_fasta_name(name: str, fasta: Mapping[str, int], aliases: Mapping[str, str]) -> str | None:
    return name if name in fasta else aliases.get(name)


def _vcf_contig_lengths(path: Path) -> dict[str, int]:
    lengths = {}
    opener = igzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        for line in handle:
            if not line.startswith("##"):
                break
            if line.startswith("##contig=<"):
                ident = re.search(r"[<,]ID=([^,>]+)", line)
                length = re.search(r"[<,]length=(\d+)", line)
                if ident and length:
                    lengths[ident.group(1)] = int(length.group(1))
    return lengths


def vcf_contig_problems(path: Path, fasta: Mapping[str, int], label: str) -> list[str]:
    """A bgzipped, indexed VCF's contigs against the FASTA: every contig with records is one
    of the FASTA's (in either naming), and every declared length of those is the FASTA's."""
    aliases = contig_aliases(fasta)
    problems = []
    for name, length in _vcf_contig_lengths(path).items():
        ours = to_fasta_name(name, fasta, aliases)
        if ours is not None and fasta[ours] != length:
            problems.append(f"{label}: contig {name} has length {length} in its header, the "
                            f"FASTA's {ours} {fasta[ours]}: another build?")
    for name, _ in read_index(path).contigs:
        if to_fasta_name(name, fasta, aliases) is None:
            problems.append(f"{label}: records on contig {name}, which the FASTA lacks")
    return problems


# --- the FASTA ----------------------------------------------------------------------------------


def _decompress(source: Path, dest: Path) -> None:
    tmp = _tmp(dest)
    with open(source, "rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    with (igzip.open(source, "rb") if compressed else open(source, "rb")) as src, \
            open(tmp, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 22)
        out.flush()
        os.fsync(out.fileno())
    _commit(tmp, dest)


def _faidx(fasta: Path) -> None:
    tmp = fasta.with_name(f".{fasta.name}.fai.tmp")
    _run(["samtools", "faidx", "--fai-idx", str(tmp), str(fasta)], f"{fasta.name}: faidx")
    _fsync(tmp)
    _commit(tmp, Path(f"{fasta}.fai"))


def _bwa_index(fasta: Path) -> None:
    prefix = fasta.with_name(f".{fasta.name}.bwa-tmp")
    _run(["bwa", "index", "-p", str(prefix), str(fasta)], f"{fasta.name}: bwa index")
    for suffix in BWA_SUFFIXES:
        _fsync(Path(f"{prefix}{suffix}"))
    for suffix in BWA_SUFFIXES:
        os.replace(f"{prefix}{suffix}", f"{fasta}{suffix}")
    fsync_dir(fasta.parent)


# --- GFF3 ---------------------------------------------------------------------------------------


def _rename_gff3(source: Path, dest: Path, fasta: Mapping[str, int], rename: bool,
                 log: Log) -> None:
    """`source` (plain or gzip) as bgzipped GFF3 with the FASTA's seqids; lines of other
    contigs dropped; BundleError when a `##sequence-region` length differs from the FASTA's."""
    aliases = contig_aliases(fasta)
    dropped: dict[str, int] = {}
    wrong = []
    tmp = _tmp(dest)
    with open(source, "rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    with (igzip.open(source, "rt", encoding="utf-8") if compressed
          else open(source, encoding="utf-8")) as src, open(tmp, "wb") as raw:
        out = BgzfWriter(raw)
        batch: list[str] = []
        for line in src:
            if line.startswith("##sequence-region"):
                fields = line.split()
                name = to_fasta_name(fields[1], fasta, aliases) if rename else fields[1]
                if len(fields) == 4 and name in fasta:
                    if int(fields[3]) != fasta[name]:
                        wrong.append(f"{fields[1]}: {fields[3]} (the FASTA's {name}: "
                                     f"{fasta[name]})")
                    line = f"##sequence-region   {name} {fields[2]} {fields[3]}\n"
                elif len(fields) == 4:
                    dropped[fields[1]] = dropped.get(fields[1], 0)
                    continue
            elif not line.startswith("#") and line.strip():
                seqid, sep, rest = line.partition("\t")
                name = to_fasta_name(seqid, fasta, aliases) if rename else seqid
                if name is None or name not in fasta:
                    dropped[seqid] = dropped.get(seqid, 0) + 1
                    continue
                line = f"{name}{sep}{rest}"
            batch.append(line)
            if len(batch) >= 4096:
                out.write("".join(batch).encode())
                batch.clear()
        out.write("".join(batch).encode())
        out.close()
        raw.flush()
        os.fsync(raw.fileno())
    if wrong:
        tmp.unlink(missing_ok=True)
        raise BundleError(f"{source}: sequence-region lengths differ from the FASTA's (another "
                          f"build?): {'; '.join(wrong[:5])}")
    if dropped:
        shown = ", ".join(f"{k} ({v})" for k, v in list(dropped.items())[:8])
        log(f"{dest.name}: dropped the lines of {len(dropped)} contig(s) the FASTA lacks: "
            f"{shown}{' ...' if len(dropped) > 8 else ''}")
    _commit(tmp, dest)


# --- VCF ----------------------------------------------------------------------------------------


def _pipeline(commands: list[list[str]], what: str) -> None:
    """Run `commands` as a pipeline (each reading the one before: no shell)."""
    procs: list[subprocess.Popen] = []
    previous = None
    for cmd in commands:
        proc = subprocess.Popen(cmd, stdin=previous, stdout=subprocess.PIPE if cmd is not
                                commands[-1] else subprocess.DEVNULL, stderr=subprocess.PIPE)
        if previous is not None:
            previous.close()
        previous = proc.stdout
        procs.append(proc)
    failed = []
    for cmd, proc in zip(commands, procs, strict=True):
        _, err = proc.communicate()
        if proc.returncode != 0:
            failed.append(f"`{' '.join(cmd[:3])} ...` exit {proc.returncode}: "
                          f"{err.decode(errors='replace').strip()[-400:]}")
    if failed:
        raise BundleError(f"{what}: " + "; ".join(failed))


def _prepare_vcf_part(source: Path, dest: Path, res: Resource, fasta: Mapping[str, int],
                      workdir: Path) -> None:
    aliases = contig_aliases(fasta)
    names = sorted(set(fasta) | set(aliases))
    steps = res.steps()
    commands = [["bcftools", "view", "--no-version", "-t", ",".join(names), "-Ou", str(source)]]
    if "keep_info" in steps:
        keep = ",".join(f"INFO/{tag}" for tag in res.keep_info)
        commands.append(["bcftools", "annotate", "--no-version", "-x", f"^{keep}", "-Ou", "-"])
    if "split_multiallelic" in steps:
        commands.append(["bcftools", "norm", "--no-version", "-m", "-any", "-Ou", "-"])
    if "rename_contigs" in steps:
        mapping = workdir / f".{dest.name}.chr-names.txt"
        mapping.write_text("".join(f"{k}\t{v}\n" for k, v in sorted(aliases.items())))
        commands.append(["bcftools", "annotate", "--no-version", "--rename-chrs", str(mapping),
                         "-Ou", "-"])
    commands.append(["bcftools", "view", "--no-version", "-Oz", "-o", str(_tmp(dest)), "-"])
    try:
        _pipeline(commands, f"{source.name}: preparing the VCF")
    finally:
        if "rename_contigs" in steps:
            (workdir / f".{dest.name}.chr-names.txt").unlink(missing_ok=True)
    _fsync(_tmp(dest))
    _commit(_tmp(dest), dest)


def _index_and_commit(tmp: Path, dest: Path, fasta: Mapping[str, int], label: str) -> str:
    """Index the bgzipped VCF `tmp`, check its contigs against the FASTA, move both into place
    as `dest` (the index first); the index's name."""
    try:
        index = index_vcf(tmp)
    except subprocess.CalledProcessError as error:
        tmp.unlink(missing_ok=True)
        raise BundleError(f"{label}: tabix failed: {error.stderr.strip()[-400:]}") from None
    problems = vcf_contig_problems(tmp, fasta, label)
    if problems:
        tmp.unlink(missing_ok=True)
        index.unlink(missing_ok=True)
        raise BundleError("; ".join(problems[:5]))
    suffix = index.name[len(tmp.name):]
    for other in (".tbi", ".csi"):
        if other != suffix:
            Path(f"{dest}{other}").unlink(missing_ok=True)
    _fsync(index)
    os.replace(index, f"{dest}{suffix}")
    _commit(tmp, dest)
    return f"{dest.name}{suffix}"


# --- a resource ---------------------------------------------------------------------------------


def fasta_lengths(outdir: Path, res: Resource) -> dict[str, int]:
    """The prepared FASTA's contigs and lengths (from its .fai)."""
    fai = outdir / f"{res.output}.fai"
    if not fai.is_file():
        _faidx(outdir / res.output)
    return dict(read_fai(fai))


def prepared_files(res: Resource, outdir: Path) -> list[str]:
    """The files the preparation of `res` leaves (relative to the bundle folder)."""
    files = [res.output]
    if res.kind == "fasta":
        files += [f"{res.output}.fai"] if "faidx" in res.prepare else []
        files += [f"{res.output}{s}" for s in BWA_SUFFIXES] if "bwa_index" in res.prepare else []
    elif res.kind == "vcf" and "index" in res.prepare:
        csi = outdir / f"{res.output}.csi"
        files.append(f"{res.output}.csi" if csi.is_file() else f"{res.output}.tbi")
    return files


def prepare_resource(res: Resource, download_keys: Sequence[str], outdir: Path, state: State,
                     fasta: Mapping[str, int], fasta_key: str, log: Log,
                     done: Callable[[str], None] = lambda _: None) -> str:
    """Prepare `res` from its downloads (`download_keys`: their SHA-256, in part order),
    skipping the steps recorded as done from the same inputs; the key of its final output
    (which a step that depends on it includes in its own)."""
    downloads = [outdir / download_path(p.filename) for p in res.parts]
    steps = res.steps()
    if res.kind == "fasta":
        out = outdir / res.output
        key = _key("fasta", download_keys[0], "decompress" in steps)
        if not state.prepared_ok(f"{res.name}:fasta", key):
            log(f"{res.name}: writing {res.output}")
            if "decompress" in steps:
                _decompress(downloads[0], out)
            else:
                _decompress_or_copy_plain(downloads[0], out)
            state.record_prepared(f"{res.name}:fasta", key, [res.output])
        if "faidx" in steps and not state.prepared_ok(f"{res.name}:faidx", _key(key, "faidx")):
            log(f"{res.name}: samtools faidx {res.output}")
            _faidx(out)
            state.record_prepared(f"{res.name}:faidx", _key(key, "faidx"), [f"{res.output}.fai"])
        if "bwa_index" in steps and not state.prepared_ok(f"{res.name}:bwa", _key(key, "bwa")):
            log(f"{res.name}: bwa index {res.output} (about an hour for a human genome)")
            _bwa_index(out)
            state.record_prepared(f"{res.name}:bwa", _key(key, "bwa"),
                                  [f"{res.output}{s}" for s in BWA_SUFFIXES])
        done(res.name)
        return key
    if res.kind == "gff3":
        key = _key("gff3", download_keys[0], "rename_contigs" in steps, fasta_key)
        if not state.prepared_ok(f"{res.name}:gff3", key):
            log(f"{res.name}: writing {res.output}"
                + (" with the FASTA's contig names" if "rename_contigs" in steps else ""))
            _rename_gff3(downloads[0], outdir / res.output, fasta, "rename_contigs" in steps, log)
            state.record_prepared(f"{res.name}:gff3", key, [res.output])
        done(res.name)
        return key
    # vcf: each part, then the parts concatenated, then the index
    params = (steps, res.keep_info, fasta_key)
    key = _key("vcf", *download_keys, *params)
    if state.prepared_ok(f"{res.name}:vcf", key):
        done(res.name)
        return key
    final = outdir / res.output
    joined = outdir / f".{res.output}.joined.vcf.gz"
    if len(res.parts) == 1:
        log(f"{res.name}: writing {res.output} ({', '.join(steps) or 'recompressed'})")
        _prepare_vcf_part(downloads[0], joined, res, fasta, outdir)
    else:
        (outdir / PARTS).mkdir(exist_ok=True)
        part_files = []
        for i, (part, download) in enumerate(zip(res.parts, downloads, strict=True)):
            name = f"{PARTS}/{res.name}.{i + 1:03d}.{part.filename.split('.')[0]}.vcf.gz"
            part_key = _key("vcf-part", download_keys[i], *params)
            if not state.prepared_ok(f"{res.name}:part:{i + 1}", part_key):
                log(f"{res.name}: part {i + 1} of {len(res.parts)}: {part.filename}")
                _prepare_vcf_part(download, outdir / name, res, fasta, outdir)
                state.record_prepared(f"{res.name}:part:{i + 1}", part_key, [name])
            part_files.append(outdir / name)
        log(f"{res.name}: concatenating {len(part_files)} parts into {res.output}")
        _run(["bcftools", "concat", "--no-version", "-Oz", "-o", str(joined),
              *map(str, part_files)], f"{res.name}: bcftools concat")
        _fsync(joined)
    files = [res.output]
    if "index" in steps:
        files.append(_index_and_commit(joined, final, fasta, res.output))
    else:
        _commit(joined, final)
    state.record_prepared(f"{res.name}:vcf", key, files)
    for i in range(len(res.parts) if len(res.parts) > 1 else 0):  # parts are no longer needed
        record = state.prepared.get(f"{res.name}:part:{i + 1}")
        for rel in (record or {}).get("files", {}):
            (outdir / rel).unlink(missing_ok=True)
        state.forget_prepared(f"{res.name}:part:{i + 1}")
    if (outdir / PARTS).is_dir() and not any((outdir / PARTS).iterdir()):
        (outdir / PARTS).rmdir()
    done(res.name)
    return key


def _decompress_or_copy_plain(source: Path, dest: Path) -> None:
    """Without the decompress step the download must be plain FASTA already."""
    with open(source, "rb") as probe:
        if probe.read(2) == b"\x1f\x8b":
            raise BundleError(f"{source}: gzip-compressed FASTA: add the decompress step")
    _decompress(source, dest)


def gff3_contig_problems(path: Path, fasta: Mapping[str, int]) -> list[str]:
    """Seqids of a prepared GFF3 that are not the FASTA's (reads the whole file)."""
    unknown: set[str] = set()
    with igzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("#") and line.strip():
                seqid = line.split("\t", 1)[0]
                if seqid not in fasta:
                    unknown.add(seqid)
    return [f"{path.name}: seqid {name} is not a contig of the FASTA" for name in
            sorted(unknown)[:5]]


def all_outputs(resources: Iterable[Resource], outdir: Path) -> list[str]:
    return [f for res in resources for f in prepared_files(res, outdir)]
