"""Where `helgenom rank` writes its outputs: first under temporary names, in a hidden folder
next to them (the chunked path's parts go there too), then put in place together once all
are written, the candidate list last (its presence says a run finished). On an error the
folder goes, and nothing that looks finished is left behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The outputs, in the order they are put in place; each VCF's index (.tbi or .csi) follows it.
SUFFIXES = (".vcf.gz", ".sv.vcf.gz", ".candidates.tsv")
INDEXES = (".tbi", ".csi")


class Staging:
    """The outputs of PREFIX while they are written: `path(suffix)` is where PREFIX+suffix
    is written (a VCF's index next to it); `commit()` puts them in place."""

    def __init__(self, prefix: str, candidates: str | None = None) -> None:
        self.prefix = prefix
        # where the candidate list goes (default PREFIX.candidates.tsv)
        self.candidates = Path(candidates or f"{prefix}.candidates.tsv")
        parent = self.candidates.parent
        parent.mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix=".helgenom-rank-", dir=parent.resolve()))

    def path(self, suffix: str) -> Path:
        return self.folder / f"out{suffix}"

    def commit(self) -> list[str]:
        """Rename what was written to its place (an index of the other kind that an earlier
        run left next to a VCF is removed); notes on CSI indexes."""
        notes = []
        for suffix in SUFFIXES:
            staged = self.path(suffix)
            final = (self.candidates if suffix == ".candidates.tsv"
                     else Path(f"{self.prefix}{suffix}"))
            if not staged.exists():
                continue
            os.replace(staged, final)
            for kind in INDEXES:
                index = Path(f"{staged}{kind}")
                if index.exists():
                    os.replace(index, f"{final}{kind}")
                    if kind == ".csi":
                        notes.append(f"{final} has positions beyond what a .tbi can index "
                                     f"(2^29): indexed as CSI, {final}.csi")
                elif suffix != ".candidates.tsv":
                    Path(f"{final}{kind}").unlink(missing_ok=True)
        return notes


@contextmanager
def staged_outputs(prefix: str, candidates: str | None = None) -> Iterator[Staging]:
    """A `Staging` of PREFIX's outputs (the candidate list at `candidates` when given); its
    folder (and anything not committed) is removed on the way out."""
    stage = Staging(prefix, candidates)
    try:
        yield stage
    finally:
        shutil.rmtree(stage.folder, ignore_errors=True)
