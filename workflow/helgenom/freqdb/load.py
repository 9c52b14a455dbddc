"""Loading a family into the database: its variants counted once per case.

A variant (CHROM, POS, REF, ALT after the allele split; ALT `*`, `.`, symbolic and breakend
alleles are left to `--sv`) is the case's if any PED member carries its ALT with GQ at or
above the threshold (a VCF that declares no FORMAT/GQ is not gated; a record's missing GQ
fails). It is homozygous (Hom) if such a call is hom-alt (a haploid ALT call counts, as in
loqusdb), and hemizygous (Hem) if a male (by the PED) has such a hom-alt or haploid call on
chrY or on chrX outside the given PARs. (loqusdb also counts a male's het call there as Hem;
here it is not: a het call on a male's single X is an artefact, not a hemizygote.) The
FILTER column is not read, as in loqusdb.

Loading a case ID again replaces that case: its old counts are taken off and the new ones
added in one change (helgenom.freqdb.store). Refused, with nothing written: a family whose
QC verdict (`--qc`, helgenom qc's JSON) is FAIL, a sample whose genotype profile matches a
sample of another case (helgenom.freqdb.profile), a VCF whose contig lengths differ from
the database's (another build).
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from helgenom import ID_PATTERN
from helgenom.errors import InputError, Problem
from helgenom.freqdb import profile, store
from helgenom.freqdb.keys import (
    CHROM_X,
    CHROM_Y,
    MITO,
    Par,
    allele_codes,
    contig_hash,
    haploid_in_males,
    site_hashes,
    strings,
    variant_keys,
)
from helgenom.freqdb.sv import SCHEMA as SV_SCHEMA
from helgenom.freqdb.sv import read_svs
from helgenom.io.vcf import VcfHeader, arrow_strings, read_header, read_variants
from helgenom.sheets.pedigree import Individual, read_ped

DEFAULT_GQ = 20
DEFAULT_SV_DISTANCE = 500
SHARD_THREADS = 2


@dataclass
class CaseVariants:
    """A family's variants as counted for one case, before it enters the database."""

    contigs: dict[str, int | None]  # name -> length (None: not declared)
    table: pa.Table  # store.CASE, with `contig` the index into `contigs` (in order)
    profile: pa.Table  # profile.SCHEMA
    reference: str | None = None
    records: int = 0


@dataclass
class LoadResult:
    case: str
    variants: int
    hom: int
    hem: int
    svs: int
    replaced: bool
    cases: int
    samples: list[str] = field(default_factory=list)
    qc: str | None = None


# --------------------------------------------------------------------------- inputs


class QcFailed(InputError):
    """The family's QC verdict is FAIL: it is not loaded."""



def check_qc(path: Path | str, family: str | None) -> str:
    """The family QC verdict of a helgenom QC JSON; FAIL (or another family's QC) refused."""
    source = str(path)
    try:
        document = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError([Problem(source, None, None, None,
                                  f"cannot read the QC JSON: {error}")]) from error
    verdict = document.get("verdict") if isinstance(document, dict) else None
    if verdict not in ("PASS", "WARN", "FAIL"):
        raise InputError([Problem(source, None, "verdict", str(verdict), "not a helgenom QC "
                                  "JSON: its family verdict must be PASS, WARN or FAIL")])
    qc_family = document.get("family")
    if family is not None and qc_family not in (None, family):
        raise InputError([Problem(source, None, "family", str(qc_family),
                                  f"QC of another family than the PED's ({family})")])
    if verdict == "FAIL":
        reasons = "; ".join(str(r) for r in document.get("reasons") or [])
        raise QcFailed([Problem(source, None, "verdict", verdict,
                                  f"family {qc_family or family} failed QC"
                                  f"{f' ({reasons})' if reasons else ''}: not loaded")])
    return str(verdict)


def family_members(ped: Path | str, vcf_samples: list[str], vcf: str) -> list[Individual]:
    """The PED's members (one family), each a sample of the VCF."""
    families = read_ped(ped)
    if len(families) != 1:
        raise InputError([Problem(str(ped), None, "family_id", ",".join(families),
                                  "one family per case: the PED holds several")])
    members = next(iter(families.values())).members
    missing = [m.sample for m in members if m.sample not in vcf_samples]
    if missing:
        raise InputError([Problem(str(ped), None, "individual_id", sample,
                                  f"not a sample of {vcf} (its samples: "
                                  f"{', '.join(vcf_samples) or 'none'})") for sample in missing])
    return members


def header_contigs(header: VcfHeader) -> dict[str, int | None]:
    """Contig name -> length (None when the header does not give one), in header order."""
    contigs: dict[str, int | None] = {}
    for line in header.lines:
        if line.startswith("##contig=<"):
            name = re.search(r"[<,]ID=([^,>]+)", line)
            length = re.search(r"[<,]length=(\d+)", line)
            if name:
                contigs[name.group(1)] = int(length.group(1)) if length else None
    for name in header.contigs:
        contigs.setdefault(name, None)
    return contigs


def header_reference(header: VcfHeader) -> str | None:
    for line in header.lines:
        if line.startswith("##reference="):
            value = line.split("=", 1)[1].strip()
            return value.removeprefix("file://").rsplit("/", 1)[-1] or None
    return None


def query_sites(path: Path | str) -> pa.Table:
    """CHROM, POS, REF, ALT of every record (`bcftools query`, ALT as written)."""
    proc = subprocess.Popen(["bcftools", "query", "-f", "%CHROM\t%POS\t%REF\t%ALT\n", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    table = read_query(proc.stdout, ["CHROM", "POS", "REF", "ALT"])
    errors = proc.stderr.read().decode(errors="replace")
    if proc.wait() != 0:
        raise InputError([Problem(str(path), None, None, None, "bcftools cannot read it: "
                                  + " ".join(errors.strip().splitlines()[-1:]))])
    return table


def read_query(stream: Any, columns: list[str], integers: tuple[str, ...] = ("POS",)
               ) -> pa.Table:
    """Tab-separated `bcftools query` output as an Arrow table ('.' is null)."""
    types = {c: pa.int64() if c in integers else pa.large_string() for c in columns}
    if not stream.peek(1)[:1]:
        return pa.table({c: pa.array([], types[c]) for c in columns})
    return pa_csv.read_csv(
        stream,
        read_options=pa_csv.ReadOptions(column_names=columns, block_size=1 << 24),
        parse_options=pa_csv.ParseOptions(delimiter="\t", quote_char=False, double_quote=False,
                                          escape_char=False),
        convert_options=pa_csv.ConvertOptions(column_types=types, null_values=["."],
                                              strings_can_be_null=True))


def profile_vcf_sites(path: Path | str) -> tuple[np.ndarray, np.ndarray]:
    """(site hashes, their contig names) of the biallelic SNVs of a profile-sites VCF."""
    sites = query_sites(path)
    ref, alt = pc.fill_null(sites["REF"], ""), pc.fill_null(sites["ALT"], "")
    snv = pc.and_(pc.equal(pc.binary_length(ref), 1), pc.equal(pc.binary_length(alt), 1))
    sites = sites.filter(snv)
    if not sites.num_rows:
        raise InputError([Problem(str(path), None, None, None,
                                  "a profile VCF lists biallelic SNV sites: it has none")])
    keys = variant_keys(sites["POS"].to_numpy(), allele_codes(sites["REF"], sites["ALT"]))
    return _site_hashes(strings(sites["CHROM"]), keys), sites["CHROM"].to_numpy(
        zero_copy_only=False)


def _site_hashes(chrom: pa.Array, keys: np.ndarray) -> np.ndarray:
    encoded = pc.dictionary_encode(chrom)
    per_contig = np.array([contig_hash(n) for n in encoded.dictionary.to_pylist()] or [0],
                          dtype=np.uint64)
    return site_hashes(per_contig[encoded.indices.to_numpy(zero_copy_only=False)], keys)


# --------------------------------------------------------------------------- counting


def count_case(vcf: Path | str, members: list[Individual], case: str,
               gq_threshold: int = DEFAULT_GQ, pars: list[Par] | None = None,
               profile_sites: np.ndarray | None = None) -> CaseVariants:
    """The family's variants as one case (see the module doc) and its samples' profile."""
    pars = pars or []
    header = read_header(vcf)
    samples = [m.sample for m in members]
    males = [m.sample for m in members if m.sex == "male"]
    gq_declared = any(line.startswith("##FORMAT=<ID=GQ,") for line in header.lines)
    header.format.pop("AD", None)  # not needed: the reader skips it
    table, gts = read_variants(vcf, samples, [], header=header)
    n = len(table)
    chrom = strings(arrow_strings(table["CHROM"]))  # type: ignore[arg-type]
    ref = strings(arrow_strings(table["REF"]))  # type: ignore[arg-type]
    alt = strings(arrow_strings(table["ALT"]))  # type: ignore[arg-type]
    pos = table["POS"].to_numpy(dtype=np.int64)
    del table  # QUAL, FILTER
    called: dict[str, np.ndarray] = {}
    for sample in samples:
        gt = gts.gt[sample]
        passing = (gts.gq[sample] >= gq_threshold) if gq_declared else np.ones(n, dtype=bool)
        called[sample] = np.where(passing, gt, -1).astype(np.int8)
    del gts
    alt_filled = pc.fill_null(alt, ".")
    valid = ~(pc.is_in(alt_filled, value_set=pa.array(["*", ".", "<*>", "<NON_REF>"],
                                                      pa.large_string())).to_numpy(
        zero_copy_only=False)
        | pc.starts_with(alt_filled, "<").to_numpy(zero_copy_only=False)
        | pc.match_substring_regex(alt_filled, r"[\[\]]").to_numpy(zero_copy_only=False)
        | pc.is_null(ref).to_numpy(zero_copy_only=False))
    del alt_filled
    carried = np.zeros(n, dtype=bool)
    hom = np.zeros(n, dtype=bool)
    hem = np.zeros(n, dtype=bool)
    for sample in samples:
        carried |= called[sample] >= 1
        hom |= called[sample] == 2
    if males:
        haploid = haploid_in_males(chrom, pos, pars)
        for sample in males:
            hem |= haploid & (called[sample] == 2)
        del haploid
    encoded = pc.dictionary_encode(chrom)
    contig_code = encoded.indices.to_numpy(zero_copy_only=False).astype(np.uint32)
    names = encoded.dictionary.to_pylist()
    del encoded
    declared = header_contigs(header)
    contigs = {name: declared.get(name) for name in declared}
    for name in names:
        contigs.setdefault(name, None)
    # the contig codes in header order (the order of `contigs`)
    place = {name: i for i, name in enumerate(contigs)}
    to_header = np.array([place[name] for name in names] or [0], dtype=np.uint32)
    contig_code = to_header[contig_code] if n else contig_code
    codes = allele_codes(ref, alt)
    keys = variant_keys(pos, codes)
    # the genotype profile
    autosomal = ~pc.is_in(chrom, value_set=pa.array(CHROM_X + CHROM_Y + MITO,
                                                    pa.large_string())).to_numpy(
        zero_copy_only=False)
    snv = (codes >> np.uint32(31)).astype(bool)
    del codes
    candidates = np.flatnonzero(valid & snv & autosomal)
    del snv, autosomal
    hashes = _site_hashes(chrom.take(pa.array(candidates)), keys[candidates])
    del chrom
    if profile_sites is None:
        # one ALT per position (multi-allelic sites left out)
        position = (contig_code[candidates].astype(np.uint64) << np.uint64(32)) | pos[
            candidates].astype(np.uint64)
        unique, counts = np.unique(position, return_counts=True)
        single = counts[np.searchsorted(unique, position)] == 1
        candidates, hashes = candidates[single], hashes[single]
        chosen = profile.sketch_sites(hashes)
        sites = hashes[chosen]
        genotypes = {s: called[s][candidates[chosen]] for s in samples}
    else:
        sites = np.unique(profile_sites)
        order = np.argsort(hashes)
        at = np.minimum(np.searchsorted(hashes[order], sites), max(len(order) - 1, 0))
        present = (hashes[order][at] == sites) if len(order) else np.zeros(len(sites), bool)
        genotypes = {}
        for s in samples:
            values = np.zeros(len(sites), dtype=np.int8)  # absent: hom-ref, as loqusdb
            if len(order):
                values[present] = called[s][candidates[order[at[present]]]]
            genotypes[s] = values
    del candidates, hashes, called
    # the case's variants, one row per variant (a VCF may hold one twice)
    rows = np.flatnonzero(valid & carried)
    del valid, carried
    take = pa.array(rows)
    raw = pa.table({"contig": pa.array(contig_code[rows], pa.uint32()),
                    "key": pa.array(keys[rows], pa.uint64()),
                    "ref": ref.take(take), "alt": alt.take(take),
                    "hom": pa.array(hom[rows].astype(np.uint8)),
                    "hem": pa.array(hem[rows].astype(np.uint8))})
    del ref, alt, keys, contig_code, pos, hom, hem, take, rows
    counted = store.combine([(raw, 1)], what=str(vcf))
    del raw
    case_table = pa.table({
        "contig": counted["contig"], "key": counted["key"], "ref": counted["ref"],
        "alt": counted["alt"],
        "hom": pa.array((counted["hom"].to_numpy() > 0).astype(np.uint8)),
        "hem": pa.array((counted["hem"].to_numpy() > 0).astype(np.uint8))}, schema=store.CASE)
    del counted
    return CaseVariants(contigs=contigs, table=case_table,
                        profile=profile.profile_table(case, samples, sites, genotypes),
                        reference=header_reference(header), records=n)


def _remap(table: pa.Table, mapping: np.ndarray) -> pa.Table:
    """`table` (sorted by contig, key) with contig codes mapped to database indices, sorted
    again by (index, key)."""
    contig = mapping[table["contig"].to_numpy()].astype(np.uint32) if table.num_rows else (
        np.zeros(0, np.uint32))
    table = table.set_column(0, "contig", pa.array(contig, pa.uint32()))
    if table.num_rows and np.any(np.diff(contig.astype(np.int64)) < 0):
        table = table.take(pa.array(np.argsort(contig, kind="stable")))
    return table


def _by_shard(table: pa.Table, shards: np.ndarray) -> dict[str, pa.Table]:
    """The rows of `table` (sorted by contig) per shard name."""
    if not table.num_rows:
        return {}
    contig = table["contig"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, contig[1:] != contig[:-1], True])
    parts: dict[str, list[pa.Table]] = {}
    for a, b in itertools.pairwise(bounds):
        parts.setdefault(shards[contig[a]], []).append(table.slice(a, b - a))
    return {name: pa.concat_tables(tables) for name, tables in parts.items()}


# --------------------------------------------------------------------------- the change


def load_case(db: Path | str, vcf: Path | str, ped: Path | str, case_id: str,
              sv_vcf: Path | str | None = None, gq_threshold: int = DEFAULT_GQ,
              qc: Path | str | None = None, pars: list[Par] | None = None,
              profile_vcf: Path | str | None = None, sv_distance: int | None = None,
              build: str | None = None) -> LoadResult:
    """Count the family of `vcf`/`ped` as case `case_id` (replacing a case of that ID)."""
    db = Path(db)
    pars = pars or []
    if not re.fullmatch(ID_PATTERN, case_id):
        raise InputError([Problem("--case-id", None, None, case_id, "must be an ID of letters, "
                                  "digits, '_' and '-', starting with a letter or digit")])
    if not Path(vcf).is_file():
        raise InputError([Problem(str(vcf), None, None, None, "file not found")])
    header = read_header(vcf)
    members = family_members(ped, header.samples, str(vcf))
    verdict = check_qc(qc, members[0].family) if qc is not None else None
    sites = profile_vcf_sites(profile_vcf)[0] if profile_vcf is not None else None
    counted = count_case(vcf, members, case_id, gq_threshold, pars, sites)
    males = {m.sample for m in members if m.sex == "male"}
    svs = None
    if sv_vcf is not None:
        svs, sv_header = read_svs(sv_vcf, [m.sample for m in members], males, pars)
        for name, length in header_contigs(sv_header).items():
            counted.contigs.setdefault(name, length)
        for name in pd.unique(pd.concat([svs["contig"], svs["end_contig"]])):
            counted.contigs.setdefault(str(name), None)
    entry = {"samples": [{"id": m.sample, "sex": m.sex} for m in members], "vcf": str(vcf),
             "gq_threshold": gq_threshold, "records": counted.records, "qc": verdict,
             "pars": [f"{p.contig}:{p.start}-{p.end}" for p in pars]}
    return store_case(db, case_id, counted, entry, svs, str(vcf), sv_distance, build)


def _check_same_family(old: dict[str, Any], new: dict[str, Any], case_id: str, source: str
                       ) -> None:
    """A case ID loaded again must be the same family: its earlier samples all present (a
    member may be added). Another family given the ID would silently replace the first."""
    before = [s["id"] for s in old.get("samples", [])]
    now = {s["id"] for s in new.get("samples", [])}
    missing = [s for s in before if s not in now]
    if missing:
        raise InputError([Problem(source, None, "case_id", case_id,
                                  f"case {case_id} is in the database with the samples "
                                  f"{', '.join(before)}; this VCF/PED lacks {', '.join(missing)}: "
                                  "another family under the same case ID? Give it its own "
                                  "case ID (loading a case again replaces it only with the "
                                  "same samples, or more)")])


def store_case(db: Path | str, case_id: str, counted: CaseVariants, entry: dict[str, Any],
               svs: pd.DataFrame | None = None, source: str = "input",
               sv_distance: int | None = None, build: str | None = None) -> LoadResult:
    """Put a counted case into the database (replacing a case of that ID): one change under
    the exclusive lock, committed by the new manifest; `entry` is what the manifest keeps of
    the case besides its files (samples, with `id` and `sex`, and provenance)."""
    db = Path(db)
    vcf = source
    with store.locked(db, exclusive=True):
        manifest = store.read_manifest(db, create=True)
        replaced = case_id in manifest["cases"]
        if replaced:
            _check_same_family(manifest["cases"][case_id], entry, case_id, str(vcf))
        wanted = sv_distance if sv_distance is not None else DEFAULT_SV_DISTANCE
        if manifest["sv_distance"] is None:
            manifest["sv_distance"] = wanted
        elif sv_distance is not None and sv_distance != manifest["sv_distance"]:
            raise InputError([Problem("--sv-distance", None, None, str(sv_distance),
                                      f"this database clusters SVs within "
                                      f"{manifest['sv_distance']} bp (set when it was made)")])
        if build is not None:
            if manifest["build"] not in (None, build):
                raise InputError([Problem("--build", None, None, build,
                                          f"the database holds build {manifest['build']}")])
            manifest["build"] = build
        elif manifest["build"] is None and counted.reference:
            manifest["build"] = counted.reference
        indices = store.contig_indices(manifest, counted.contigs, str(vcf))
        stored_profiles = (store.read_table(db, manifest["profiles"])
                           if manifest["profiles"] else profile.SCHEMA.empty_table())
        profile.check(stored_profiles, counted.profile, case_id, str(vcf))
        mapping = np.array([indices[name] for name in counted.contigs] or [0], dtype=np.uint32)
        table = _remap(counted.table, mapping)
        counted.table = store.CASE.empty_table()  # one copy of the rows is enough
        pa.default_memory_pool().release_unused()  # what reading the VCF took, before the shards
        token = store.new_token(manifest)
        try:
            old = manifest["cases"].get(case_id)
            entry = {**entry,
                     "variants": store.write_table(db, f"cases/{case_id}.{token}.parquet",
                                                   table),
                     "hom": int(pc.sum(table["hom"]).as_py() or 0),
                     "hem": int(pc.sum(table["hem"]).as_py() or 0), "svs": None}
            if svs is not None:
                sv_table = pa.table({
                    "contig": pa.array([indices[str(c)] for c in svs["contig"]], pa.uint32()),
                    "end_contig": pa.array([indices[str(c)] for c in svs["end_contig"]],
                                           pa.uint32()),
                    "svtype": pa.array(svs["svtype"].astype(str).tolist(), pa.large_string()),
                    "pos": pa.array(svs["pos"].to_numpy(np.int64)),
                    "end": pa.array(svs["end"].to_numpy(np.int64)),
                    "hom": pa.array(svs["hom"].to_numpy(np.uint8)),
                    "hem": pa.array(svs["hem"].to_numpy(np.uint8))}, schema=SV_SCHEMA)
                entry["svs"] = store.write_table(db, f"cases/{case_id}.{token}.sv.parquet",
                                                 sv_table)
            shards = store.shard_of(manifest)
            kept = (stored_profiles.filter(pc.not_equal(stored_profiles["case"], case_id))
                    if stored_profiles.num_rows else stored_profiles)
            manifest["profiles"] = store.write_table(db, f"profiles.{token}.parquet",
                                                     pa.concat_tables([kept, counted.profile]))
            del kept, stored_profiles
            new_parts = _by_shard(table, shards)
            old_parts = _by_shard(store.read_table(db, old["variants"]), shards) if old else {}
            def update(name: str) -> tuple[str, dict[str, Any] | None]:
                parts: list[tuple[pa.Table, int]] = []
                if name in manifest["shards"]:
                    parts.append((store.read_table(db, manifest["shards"][name]), 1))
                if name in old_parts:
                    parts.append((old_parts[name], -1))
                if name in new_parts:
                    parts.append((new_parts[name], 1))
                counts = store.combine(parts, what=str(db / "shards" / name))
                del parts
                if not counts.num_rows:
                    return name, None
                return name, store.write_table(db, f"shards/{name}.{token}.parquet", counts)

            # two shards at a time (Parquet and numpy work without the GIL)
            with ThreadPoolExecutor(max_workers=SHARD_THREADS) as pool:
                for name, written in pool.map(update, sorted(set(new_parts) | set(old_parts))):
                    if written is None:
                        manifest["shards"].pop(name, None)
                    else:
                        manifest["shards"][name] = written
            manifest["cases"][case_id] = entry
            manifest["generation"] += 1
            store.write_manifest(db, manifest)
        except BaseException:
            store.discard(db, token)  # what this attempt wrote, unless it was committed
            raise
        store.collect_garbage(db, manifest)
        cases = len(manifest["cases"])
    return LoadResult(case=case_id, variants=table.num_rows, hom=entry["hom"], hem=entry["hem"],
                      svs=0 if svs is None else len(svs), replaced=replaced, cases=cases,
                      samples=[s["id"] for s in entry["samples"]], qc=entry.get("qc"))
