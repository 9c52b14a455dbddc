"""What a bundle run would do (--dry-run): each download with its size and pin, each prepared
file with its estimated size, what exists already, and the disk still needed. Reads only:
nothing is written, and the network is asked only with `probe` (HEAD, for unknown sizes)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from helgenom.bundle.fetch import head_size, part_size
from helgenom.bundle.manifest import Manifest, Part, Resource
from helgenom.bundle.prepare import BWA_SUFFIXES, download_path, prepared_files
from helgenom.bundle.state import State

BWA_BYTES_PER_BASE = 1.75  # .bwt ~ 1, .sa ~ 0.5, .pac ~ 0.25 byte per base (bwa 0.7)


@dataclass
class Row:
    resource: str
    file: str
    size: int | None  # bytes (download) or estimated bytes (prepared)
    size_note: str  # where the size comes from
    status: str
    needed: int | None  # bytes still to write here (None: unknown)


def _size_text(size: int | None) -> str:
    if size is None:
        return "unknown"
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def _pin_text(part: Part) -> str:
    if part.sha256:
        return "sha256 (pinned copy)" if part.pinned_by else "sha256"
    return "md5" if part.md5 else "UNPINNED (--pin)"


def _download_rows(res: Resource, outdir: Path, state: State,
                   probe: Callable[[str], int | None] | None) -> list[Row]:
    rows = []
    for part in res.parts:
        rel = download_path(part.filename)
        size, note = part.size, "manifest" if part.size else ""
        if size is None and probe is not None:
            size = probe(part.url)
            note = "server (HEAD)" if size is not None else "server gave none"
        if state.download(rel, part.url):
            status, needed = "done", 0
        elif have := part_size(outdir / rel):
            status = f"partial: {_size_text(have)} (resumes)"
            needed = size - have if size is not None else None
        else:
            status, needed = "to fetch", size
        rows.append(Row(res.name, rel, size, f"{note}; {_pin_text(part)}".lstrip("; "), status,
                        needed))
    return rows


def _prepared_rows(res: Resource, outdir: Path, state: State,
                   download_total: int | None) -> list[Row]:
    estimate = res.estimate
    if "bytes" in estimate:
        size: int | None = int(estimate["bytes"])
    elif "ratio" in estimate and download_total is not None:
        size = int(estimate["ratio"] * download_total)
    else:
        size = None
    basis = str(estimate.get("basis", "no estimate in the manifest"))
    done = {rel for record in state.prepared.values() for rel in record["files"]
            if (outdir / rel).is_file()}
    rows = []
    for rel in prepared_files(res, outdir):
        if rel == res.output:
            row_size, note = size, basis
        elif rel.endswith(BWA_SUFFIXES):
            if rel != f"{res.output}.bwt":
                continue  # one row for the bwa index
            rel = f"{res.output}.{{amb,ann,bwt,pac,sa}}"
            row_size = int(size * BWA_BYTES_PER_BASE) if size is not None else None
            note = "estimate: bwa index, about 1.75 bytes per base; about an hour"
            exists = all((outdir / f"{res.output}{s}").is_file() for s in BWA_SUFFIXES) and \
                f"{res.output}.bwt" in done
            rows.append(Row(res.name, rel, row_size, note, "done" if exists else "to prepare",
                            0 if exists else row_size))
            continue
        else:
            row_size, note = 0, "index: small"
        exists = rel in done
        rows.append(Row(res.name, rel, row_size, note, "done" if exists else "to prepare",
                        0 if exists else row_size))
    return rows


@dataclass
class Plan:
    rows: list[Row]
    needed: int  # bytes known to be needed
    unknown: int  # rows whose size is not known
    free: int | None  # free bytes where the bundle goes


def make_plan(manifest: Manifest, outdir: Path, probe: bool = False) -> Plan:
    state = State(outdir)
    rows: list[Row] = []
    asker = head_size if probe else None
    for res in manifest.resources:
        downloads = _download_rows(res, outdir, state, asker)
        sizes = [row.size for row in downloads]
        total = None if None in sizes else sum(s for s in sizes if s is not None)
        rows += downloads + _prepared_rows(res, outdir, state, total)
    needed = sum(row.needed for row in rows if row.needed)
    unknown = sum(1 for row in rows if row.needed is None)
    existing = outdir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free if existing.exists() else None
    return Plan(rows, needed, unknown, free)


def plan_text(plan: Plan, manifest: Manifest, outdir: Path) -> str:
    notes: list[str] = []

    def short(note: str) -> str:
        if len(note) <= 40:
            return note
        if note not in notes:
            notes.append(note)
        return f"see note {notes.index(note) + 1}"

    header = ("resource", "file", "size", "size from", "status")
    table = [header] + [(r.resource, r.file, _size_text(r.size), short(r.size_note), r.status)
                        for r in plan.rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    lines = [f"{manifest.build} bundle from {manifest.path} into {outdir} (dry run: nothing "
             "written)", ""]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
              + "  " + row[-1] for row in table]
    lines += ["", *(f"note {i}: {note}" for i, note in enumerate(notes, start=1))]
    total = f"disk needed: {_size_text(plan.needed)}"
    if plan.unknown:
        total += (f" plus {plan.unknown} file(s) of unknown size (not in the manifest"
                  + ("; the server gave none" if any("server" in r.size_note for r in plan.rows)
                     else "; --probe asks the servers") + ")")
    lines.append(total + " (prepared sizes are estimates, as stated per file)")
    if plan.free is not None:
        lines.append(f"free where the bundle goes: {_size_text(plan.free)}")
    unpinned = manifest.unpinned()
    if unpinned:
        lines.append(f"{len(unpinned)} part(s) are unpinned: a run needs --pin to fetch them")
    values = ", ".join(manifest.values)
    if values:
        lines.append(f"written into the overlay as facts (not fetched): {values}")
    return "\n".join(lines) + "\n"
