"""The database directory: immutable Parquet files, one JSON manifest, one lock.

    DB/manifest.json                 what the database holds: the only file ever replaced
    DB/.lock                         fcntl.flock: exclusive to change, shared to read
    DB/cases/CASE.TOKEN.parquet      a case's variants (contig, key, REF, ALT, hom, hem)
    DB/cases/CASE.TOKEN.sv.parquet   a case's SVs (contig, end contig, type, POS, END, ...)
    DB/shards/SHARD.TOKEN.parquet    the counts per variant (obs, hom, hem) of a shard
    DB/profiles.TOKEN.parquet        every case's genotype profile (see profile.py)

Every file is written under a temporary name, flushed and renamed, and never changed after;
a change (a case loaded or replaced) writes new files and then a new manifest naming them
(the commit: a crash before it leaves the old database whole), and only then removes the
files the new manifest no longer names. The manifest records each file's size and rows: a
truncated or replaced file is refused by name before it is read. Changes hold the lock
exclusively from reading the manifest to writing the new one, so loads started together on
a cluster are applied one after the other and none is lost or counted twice; reads hold it
shared (a load waits for them, they wait for a load).

The counts are sharded by runs of contigs: the first load sets a shard's span to 1/SHARDS of
its genome (at least MIN_SHARD_BP), and contigs, in the order they are first seen, fill one
shard after another (GRCh38: chr1 alone, chr19-22 together, the ~3,000 small contigs in
one or two shards; a shard of a 100M-variant database holds ~3M rows). A contig keeps its
index and shard for the life of the database. Each shard holds rows
sorted by (contig, key) (keys: helgenom.freqdb.keys), one per distinct variant.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helgenom.errors import InputError, Problem
from helgenom.freqdb.keys import is_snv_key, strings

FORMAT = "helgenom-freqdb"
VERSION = 1
MANIFEST = "manifest.json"
LOCK = ".lock"
SHARDS = 32  # about this many per genome
MIN_SHARD_BP = 50_000_000
UNKNOWN_SHARE = 64  # a contig of unknown length counts as this share of a shard
TMP_PREFIX = ".tmp-"

COUNTS = pa.schema([("contig", pa.uint32()), ("key", pa.uint64()), ("ref", pa.large_string()),
                    ("alt", pa.large_string()), ("obs", pa.uint32()), ("hom", pa.uint32()),
                    ("hem", pa.uint32())])
CASE = pa.schema([("contig", pa.uint32()), ("key", pa.uint64()), ("ref", pa.large_string()),
                  ("alt", pa.large_string()), ("hom", pa.uint8()), ("hem", pa.uint8())])


class DbError(InputError):
    """The database directory cannot be used as it is (a missing, corrupt or foreign file)."""


def problem(path: Path | str, message: str, column: str | None = None,
            value: str | None = None) -> DbError:
    return DbError([Problem(str(path), None, column, value, message)])


# --------------------------------------------------------------------------- manifest, lock


def empty_manifest() -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "generation": 0, "build": None,
            "sv_distance": None, "contigs": [], "shard_bp": None,
            "open_shard": {"name": None, "bp": 0}, "cases": {}, "shards": {}, "profiles": None}


def read_manifest(db: Path, create: bool = False) -> dict[str, Any]:
    """The database's manifest; an empty one for a new database when `create`."""
    path = db / MANIFEST
    if not path.is_file():
        if create and (not db.exists() or db.is_dir()):
            return empty_manifest()
        raise problem(path if db.is_dir() else db, "not a helgenom freqdb database (no "
                      f"{MANIFEST}): load a case into it first")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise problem(path, f"the manifest cannot be read (corrupt?): {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise problem(path, "not a helgenom freqdb manifest", "format",
                      str(manifest.get("format") if isinstance(manifest, dict) else manifest))
    if manifest.get("version") != VERSION:
        raise problem(path, f"written by another freqdb version (this one reads {VERSION})",
                      "version", str(manifest.get("version")))
    return manifest


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_manifest(db: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest (the commit of a change)."""
    tmp = db / f"{TMP_PREFIX}{secrets.token_hex(6)}-{MANIFEST}"
    with open(tmp, "w") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(db / MANIFEST)
    _fsync_dir(db)


@contextlib.contextmanager
def locked(db: Path, exclusive: bool) -> Iterator[None]:
    """Hold the database's lock (an exclusive one creates the directory)."""
    if exclusive:
        for sub in ("", "cases", "shards"):
            (db / sub).mkdir(parents=True, exist_ok=True)
    elif not db.is_dir():
        raise problem(db, "not a helgenom freqdb database (no such directory)")
    path = db / LOCK
    try:
        handle = open(path, "a+")  # noqa: SIM115 (held across the yield)
    except OSError as error:
        raise problem(path, f"cannot open the lock file: {error}") from error
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def new_token(manifest: dict[str, Any]) -> str:
    """A file-name token for the next generation (unique even across crashed attempts)."""
    return f"{manifest['generation'] + 1}-{secrets.token_hex(4)}"


# --------------------------------------------------------------------------- files


def write_table(db: Path, relative: str, table: pa.Table) -> dict[str, Any]:
    """Write `table` as DB/`relative` (temporary name, fsync, rename); its manifest entry."""
    path = db / relative
    tmp = path.with_name(f"{TMP_PREFIX}{secrets.token_hex(6)}-{path.name}")
    try:
        pq.write_table(table, tmp, compression="zstd", compression_level=1,
                       row_group_size=1 << 20)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return {"file": relative, "bytes": path.stat().st_size, "rows": table.num_rows}


def read_table(db: Path, entry: dict[str, Any], columns: Sequence[str] | None = None
               ) -> pa.Table:
    """A file the manifest names, checked against its recorded size and rows; a missing,
    truncated or unreadable file is a DbError naming it."""
    path = db / entry["file"]
    try:
        size = path.stat().st_size
    except OSError as error:
        raise problem(path, f"a database file is missing ({error.strerror}): restore the "
                      "database from a backup") from error
    if size != entry["bytes"]:
        raise problem(path, f"a database file is {size} bytes where the database wrote "
                      f"{entry['bytes']} (truncated or overwritten): restore it from a backup")
    try:
        table = pq.read_table(path, columns=list(columns) if columns else None,
                              memory_map=False)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise problem(path, f"a database file cannot be read (corrupt): {error}") from error
    if table.num_rows != entry["rows"]:
        raise problem(path, f"a database file has {table.num_rows} rows where the database "
                      f"wrote {entry['rows']} (corrupt)")
    return table


def referenced(manifest: dict[str, Any]) -> set[str]:
    files = {MANIFEST}
    for case in manifest["cases"].values():
        files.add(case["variants"]["file"])
        if case.get("svs"):
            files.add(case["svs"]["file"])
    files |= {shard["file"] for shard in manifest["shards"].values()}
    if manifest.get("profiles"):
        files.add(manifest["profiles"]["file"])
    return files


def collect_garbage(db: Path, manifest: dict[str, Any]) -> int:
    """Remove the files the manifest does not name (older generations, temporary files of
    crashed writers); call with the lock held exclusively. The number removed."""
    keep = referenced(manifest)
    removed = 0
    for folder in (db, db / "cases", db / "shards"):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            relative = path.relative_to(db).as_posix()
            if path.is_file() and path.name != LOCK and relative not in keep and (
                    path.suffix == ".parquet" or path.name.startswith(TMP_PREFIX)):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def discard(db: Path, token: str) -> None:
    """Remove the files a failed change wrote (named with its `token`), unless the manifest
    on disk names them (the change was committed after all)."""
    try:
        keep = referenced(read_manifest(db))
    except InputError:
        keep = set()
    for folder in (db, db / "cases", db / "shards"):
        if folder.is_dir():
            for path in folder.glob(f"*.{token}.*"):
                if path.relative_to(db).as_posix() not in keep:
                    path.unlink(missing_ok=True)


def size_on_disk(db: Path) -> int:
    return sum(p.stat().st_size for p in db.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- contigs, shards


def _shard_for(manifest: dict[str, Any], length: int | None) -> str:
    """The shard of a contig being added: the open (last) shard while it covers less than
    `shard_bp`, else a new one."""
    open_shard = manifest.setdefault("open_shard", {"name": None, "bp": 0})
    size = length if length is not None else max(1, manifest["shard_bp"] // UNKNOWN_SHARE)
    if open_shard["name"] is None or open_shard["bp"] >= manifest["shard_bp"]:
        number = int(open_shard["name"][1:]) + 1 if open_shard["name"] else 0
        open_shard.update(name=f"s{number:05d}", bp=0)
    open_shard["bp"] += size
    return str(open_shard["name"])


def contig_indices(manifest: dict[str, Any], contigs: dict[str, int | None], source: str
                   ) -> dict[str, int]:
    """The database index of each contig (name -> length or None), adding new ones to the
    manifest (and to shards: see the module doc); a contig whose length differs from the
    database's is refused (another build)."""
    known = {c["name"]: i for i, c in enumerate(manifest["contigs"])}
    if not manifest.get("shard_bp"):
        genome = sum(length or 0 for length in contigs.values())
        manifest["shard_bp"] = max(MIN_SHARD_BP, genome // SHARDS)
    problems = []
    for name, length in contigs.items():
        if name in known:
            entry = manifest["contigs"][known[name]]
            if length is not None and entry["length"] is not None and entry["length"] != length:
                problems.append(Problem(source, None, "##contig", name,
                                        f"is {length} bp here but {entry['length']} bp in the "
                                        "database: another reference build?"))
            elif entry["length"] is None and length is not None:
                entry["length"] = length  # its shard stays
        else:
            index = len(manifest["contigs"])
            manifest["contigs"].append({"name": name, "length": length,
                                        "shard": _shard_for(manifest, length)})
            known[name] = index
    if problems:
        raise InputError(problems)
    return {name: known[name] for name in contigs}


def shard_of(manifest: dict[str, Any]) -> np.ndarray:
    """Per database contig index, its shard name (object array)."""
    return np.array([c["shard"] for c in manifest["contigs"]] or [""], dtype=object)


# --------------------------------------------------------------------------- counting


def _order(contig: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Stable order by (contig, key). Inputs are concatenated sorted runs, which a stable
    sort (timsort) merges in about linear time: by contig first, then by key within each
    contig (numpy has no fast two-column sort; lexsort is ~5x slower here)."""
    if not len(key):
        return np.zeros(0, dtype=np.int64)
    if contig.min() == contig.max():
        return np.argsort(key, kind="stable")
    order = np.argsort(contig, kind="stable")
    ordered = contig[order]
    bounds = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1], True])
    for a, b in itertools.pairwise(bounds):
        run = order[a:b]
        order[a:b] = run[np.argsort(key[run], kind="stable")]
    return order


def _sorted(contig: np.ndarray, key: np.ndarray) -> bool:
    """Whether rows are sorted by (contig, key) already (a case read from a sorted VCF is,
    but for the order of the alleles of one position)."""
    step = np.diff(contig.astype(np.int64))
    if (step < 0).any():
        return False
    same = step == 0
    return not bool((key[1:][same] < key[:-1][same]).any())


def _same_as_previous(contig: np.ndarray, key: np.ndarray, ref: pa.Array, alt: pa.Array
                      ) -> tuple[np.ndarray, np.ndarray | None]:
    """Per row after the first: is it the same variant as the row before it? Rows are
    sorted by (contig, key). Equal SNV keys are the same SNV; equal other keys are compared
    by REF and ALT. The returned permutation (or None) reorders rows within runs of one key
    holding different alleles (a hash collision) so that equal alleles sit together."""
    same = (contig[1:] == contig[:-1]) & (key[1:] == key[:-1])
    check = np.flatnonzero(same & ~is_snv_key(key[1:]))
    if not len(check):
        return same, None
    left, right = pa.array(check), pa.array(check + 1)
    equal = pc.and_(pc.equal(ref.take(left), ref.take(right)),
                    pc.equal(alt.take(left), alt.take(right))).to_numpy(zero_copy_only=False)
    if equal.all():
        return same, None
    # A collision: order each run of one (contig, key) by its alleles, compare again.
    n = len(key)
    run_start = np.flatnonzero(np.r_[True, ~same])
    run_end = np.r_[run_start[1:], n]
    permutation = np.arange(n)
    same = same.copy()
    for k in np.unique(np.searchsorted(run_start, check[~equal] + 1, side="right") - 1):
        a, b = int(run_start[k]), int(run_end[k])
        alleles = list(zip(ref.slice(a, b - a).to_pylist(), alt.slice(a, b - a).to_pylist(),
                           strict=True))
        members = sorted(range(b - a), key=lambda i: alleles[i])
        permutation[a:b] = [a + i for i in members]
        for i in range(1, b - a):
            same[a + i - 1] = alleles[members[i - 1]] == alleles[members[i]]
    return same, permutation


def combine(parts: list[tuple[pa.Table, int]], what: str = "counts") -> pa.Table:
    """Counts per distinct variant of signed parts: (table, +1 or -1). A table with `obs`
    (COUNTS) adds its counts; a case table (CASE) adds one observation per row and its
    hom/hem flags. Variants left without observations are dropped; a count that would fall
    below zero (removing what was never added) is a DbError naming `what`."""
    columns: dict[str, list] = {c: [] for c in COUNTS.names}
    for table, sign in parts:
        if table.num_rows == 0:
            continue
        n = table.num_rows
        columns["contig"].append(table["contig"].to_numpy().astype(np.uint32, copy=False))
        columns["key"].append(table["key"].to_numpy().astype(np.uint64, copy=False))
        columns["ref"].append(strings(table["ref"]))
        columns["alt"].append(strings(table["alt"]))
        obs = (table["obs"].to_numpy().astype(np.int32) if "obs" in table.column_names
               else np.ones(n, dtype=np.int32))
        columns["obs"].append(np.int32(sign) * obs)
        for name in ("hom", "hem"):
            columns[name].append(sign * table[name].to_numpy().astype(np.int32))
    if not columns["key"]:
        return COUNTS.empty_table()
    contig = np.concatenate(columns.pop("contig"))
    key = np.concatenate(columns.pop("key"))
    ref = pa.concat_arrays(columns.pop("ref"))
    alt = pa.concat_arrays(columns.pop("alt"))
    counts = {name: np.concatenate(columns.pop(name)) for name in ("obs", "hom", "hem")}
    if len(key) > 1 and not _sorted(contig, key):
        order = _order(contig, key)
        contig, key = contig[order], key[order]
        take = pa.array(order)
        ref, alt = ref.take(take), alt.take(take)
        counts = {name: values[order] for name, values in counts.items()}
        del order, take
    same, permutation = _same_as_previous(contig, key, ref, alt)
    if permutation is not None:
        ref, alt = ref.take(pa.array(permutation)), alt.take(pa.array(permutation))
        counts = {name: values[permutation] for name, values in counts.items()}
    starts = np.flatnonzero(np.r_[True, ~same])
    sums = {name: np.add.reduceat(values, starts) for name, values in counts.items()}
    if any((values < 0).any() for values in sums.values()) or (
            (sums["hom"] > sums["obs"]) | (sums["hem"] > sums["obs"])).any():
        raise DbError([Problem(what, None, None, None, "the counts do not add up (a case "
                               "removed that was never counted): the database is inconsistent")])
    keep = sums["obs"] > 0
    rows = starts[keep]
    take = pa.array(rows)
    return pa.table({"contig": pa.array(contig[rows], pa.uint32()),
                     "key": pa.array(key[rows], pa.uint64()),
                     "ref": ref.take(take), "alt": alt.take(take),
                     **{name: pa.array(values[keep], pa.uint32())
                        for name, values in sums.items()}}, schema=COUNTS)


def groups(values: np.ndarray) -> Iterator[tuple[Any, np.ndarray]]:
    """(value, the rows holding it) per distinct value, in sorted order of the values."""
    if not len(values):
        return
    if len(values) == 1 or not (values[1:] < values[:-1]).any():
        order = np.arange(len(values))
        ordered = values
    else:
        order = np.argsort(values, kind="stable")
        ordered = values[order]
    bounds = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1], True])
    for a, b in itertools.pairwise(bounds):
        yield ordered[a], order[a:b]


@dataclass
class Rows:
    """A table's columns as contiguous arrays, for lookups (made once per table)."""

    contig: np.ndarray
    key: np.ndarray
    ref: pa.Array
    alt: pa.Array
    values: dict[str, np.ndarray]

    @classmethod
    def of(cls, table: pa.Table) -> Rows:
        values = {name: table[name].to_numpy() for name in ("obs", "hom", "hem")
                  if name in table.column_names}
        return cls(table["contig"].to_numpy(), table["key"].to_numpy(), strings(table["ref"]),
                   strings(table["alt"]), values)


def lookup(table: pa.Table | Rows, contig: np.ndarray, key: np.ndarray, ref: pa.Array,
           alt: pa.Array) -> np.ndarray:
    """Row of `table` (sorted by contig, key; one row per variant) holding each queried
    variant, -1 where none does."""
    found = np.full(len(key), -1, dtype=np.int64)
    rows_of = table if isinstance(table, Rows) else Rows.of(table)
    if not len(rows_of.key) or not len(key):
        return found
    t_contig, t_key, t_ref, t_alt = rows_of.contig, rows_of.key, rows_of.ref, rows_of.alt
    for c, rows in groups(contig):
        lo, hi = np.searchsorted(t_contig, [c, c + 1])
        if lo == hi:
            continue
        keys = t_key[lo:hi]
        at = np.minimum(np.searchsorted(keys, key[rows]), len(keys) - 1)
        hit = keys[at] == key[rows]
        candidates = rows[hit]
        position = at[hit] + lo
        snv = is_snv_key(key[candidates])
        found[candidates[snv]] = position[snv]
        other, other_at = candidates[~snv], position[~snv]
        if len(other):
            q, t = pa.array(other), pa.array(other_at)
            equal = pc.and_(pc.equal(ref.take(q), t_ref.take(t)),
                            pc.equal(alt.take(q), t_alt.take(t))).to_numpy(zero_copy_only=False)
            found[other[equal]] = other_at[equal]
            for row, first in zip(other[~equal], other_at[~equal], strict=True):
                # a collision, or an allele the database lacks: look along the key's run
                wanted = (ref[int(row)].as_py(), alt[int(row)].as_py())
                at_row = int(first) + 1
                while at_row < hi and t_key[at_row] == key[row]:
                    if (t_ref[at_row].as_py(), t_alt[at_row].as_py()) == wanted:
                        found[row] = at_row
                        break
                    at_row += 1
    return found


def stats(db: Path | str) -> dict[str, Any]:
    """Cases, samples, variants (distinct, with observations), SVs and size on disk."""
    db = Path(db)
    with locked(db, exclusive=False):
        manifest = read_manifest(db)
        cases = manifest["cases"]
        return {
            "database": str(db),
            "cases": len(cases),
            "samples": sum(len(c["samples"]) for c in cases.values()),
            "variants": sum(s["rows"] for s in manifest["shards"].values()),
            "case_variants": sum(c["variants"]["rows"] for c in cases.values()),
            "svs": sum(c["svs"]["rows"] for c in cases.values() if c.get("svs")),
            "contigs": len(manifest["contigs"]),
            "shards": len(manifest["shards"]),
            "build": manifest["build"],
            "sv_distance": manifest["sv_distance"],
            "generation": manifest["generation"],
            "size_bytes": size_on_disk(db),
        }
