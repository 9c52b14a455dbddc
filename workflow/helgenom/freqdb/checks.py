"""The start check of the configured frequency database (`freqdb.path`), run by `helgenom
validate` and the workflow's start (`helgenom.cli.validate.check_run`) before any job."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helgenom.errors import InputError, Problem
from helgenom.freqdb.store import MANIFEST, read_manifest
from helgenom.sheets.files import KeyProblem


def database_problems(config: Mapping[str, Any], workdir: Path | str, problem: KeyProblem
                      ) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of `freqdb.path`: absent is fine (the first load makes it, the
    annotation then adds nothing: a warning); a file, a folder of something else, or a
    database whose manifest or files are damaged (missing, another size) is an error naming
    the file."""
    path_text = str((config.get("freqdb") or {}).get("path") or "")
    if not path_text:
        return [], []
    key = ("freqdb", "path")
    db = Path(workdir) / path_text
    if not db.exists():
        return [], [problem(key, path_text, "no database there yet: the run's families get "
                            "no local counts, and the first load makes it")]
    if not db.is_dir():
        return [problem(key, path_text, "not a folder: freqdb.path names the database's "
                        "folder")], []
    if not (db / MANIFEST).exists():
        if any(db.iterdir()):
            return [problem(key, path_text, f"a folder without {MANIFEST} that is not empty: "
                            "not a helgenom freqdb database")], []
        return [], []
    try:
        manifest = read_manifest(db)
    except InputError as error:
        return list(error.problems), []
    entries = [*(c[k] for c in manifest["cases"].values() for k in ("variants", "svs")
                 if c.get(k)), *manifest["shards"].values(),
               *([manifest["profiles"]] if manifest.get("profiles") else [])]
    errors = []
    for entry in sorted(entries, key=lambda e: e["file"]):
        path = db / entry["file"]
        if not path.is_file():
            errors.append(Problem(str(path), None, None, None, "a database file is missing: "
                                  "restore the database from a backup"))
        elif path.stat().st_size != entry["bytes"]:
            errors.append(Problem(str(path), None, "bytes", str(path.stat().st_size),
                                  f"the database wrote {entry['bytes']} bytes (truncated or "
                                  "overwritten): restore it from a backup"))
    return errors, []
