"""The bundle's record of what is done (DIR/.helgenom-bundle.json).

A completed download is recorded with its URL, size, SHA-256 and mtime; a prepared output with
the files it wrote (size and mtime of each) and a key of what it was made from (the SHA-256 of
its downloads and the step's parameters). A file counts as done while it exists with the
recorded size and mtime: a re-run then fetches nothing and hashes nothing (unless --verify).
The record is written atomically after each step, so an interrupted run resumes where it
stopped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

STATE_NAME = ".helgenom-bundle.json"
FORMAT = 1


def stat_of(path: Path) -> dict[str, int]:
    info = path.stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


def fsync_dir(path: Path) -> None:
    """Make a rename in the folder `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file, fsync and rename: never half-written."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    fsync_dir(path.parent)


class State:
    """The record of one bundle folder."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self.path = outdir / STATE_NAME
        data: dict[str, Any] = {}
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text("utf-8"))
            except (OSError, ValueError):
                data = {}  # an unreadable record: everything is checked again
        if data.get("format") != FORMAT:
            data = {}
        self.downloads: dict[str, dict[str, Any]] = data.get("downloads", {})
        self.prepared: dict[str, dict[str, Any]] = data.get("prepared", {})

    def save(self) -> None:
        self.outdir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps(
            {"format": FORMAT, "downloads": self.downloads, "prepared": self.prepared},
            indent=1, sort_keys=True) + "\n")

    # --- downloads ------------------------------------------------------------------------

    def download(self, relpath: str, url: str) -> dict[str, Any] | None:
        """The record of a completed download of `url` at `relpath`, while the file is there
        as recorded (or was removed on purpose after its preparation: `removed`)."""
        record = self.downloads.get(relpath)
        if not record or record.get("url") != url:
            return None
        path = self.outdir / relpath
        if record.get("removed"):
            return record
        if not path.is_file() or stat_of(path) != {"size": record["size"],
                                                    "mtime_ns": record["mtime_ns"]}:
            return None
        return record

    def record_download(self, relpath: str, url: str, sha256: str, md5: str) -> None:
        self.downloads[relpath] = {"url": url, "sha256": sha256, "md5": md5,
                                   **stat_of(self.outdir / relpath)}
        self.save()

    def forget_download(self, relpath: str) -> None:
        if self.downloads.pop(relpath, None) is not None:
            self.save()

    def mark_removed(self, relpath: str) -> None:
        self.downloads[relpath]["removed"] = True
        self.save()

    # --- prepared outputs -------------------------------------------------------------------

    def prepared_ok(self, name: str, key: str) -> bool:
        """Whether the step `name` was done from `key` and its files are there as written."""
        record = self.prepared.get(name)
        if not record or record.get("key") != key:
            return False
        return all((self.outdir / rel).is_file() and stat_of(self.outdir / rel) == stat
                   for rel, stat in record["files"].items())

    def record_prepared(self, name: str, key: str, files: Iterable[str]) -> None:
        self.prepared[name] = {"key": key,
                               "files": {rel: stat_of(self.outdir / rel) for rel in files}}
        self.save()

    def forget_prepared(self, name: str) -> None:
        if self.prepared.pop(name, None) is not None:
            self.save()
