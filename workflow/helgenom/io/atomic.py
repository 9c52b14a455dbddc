"""Writing a file so that it is never seen half-written."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(data: bytes | str, out: Path | str) -> None:
    """`data` (text is written as UTF-8) to a hidden file beside `out`, synced and renamed to
    `out` once complete; the partial file is removed on any error."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        with open(part, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
