"""Reading and writing the small text files of the repeats stage."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from helgenom.errors import InputError, Problem


def problem(path: Path | str, message: str, line: int | None = None,
            column: str | None = None, value: str | None = None) -> InputError:
    """An InputError of one problem in `path`."""
    return InputError([Problem(str(path), line, column, value, message)])


def read_text(path: Path | str, what: str) -> str:
    """A (gzip, BGZF or plain) text file whole; errors name the file and what it should be."""
    try:
        raw = Path(path).read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise problem(path, f"no such file (the {what})") from None
    except IsADirectoryError:
        raise problem(path, f"a folder, not the {what}") from None
    except OSError as error:
        raise problem(path, f"cannot read the {what} ({error.strerror or error})") from None
    except (EOFError, zlib.error, gzip.BadGzipFile):
        raise problem(path, f"truncated or damaged gzip: not a readable {what}") from None
    except UnicodeDecodeError:
        raise problem(path, f"not a text file: not a {what}") from None


def tsv_text(columns: list[str], rows: list[dict[str, object]]) -> str:
    """A TSV with a header line; a tab or newline inside a value becomes a space."""
    def clean(value: object) -> str:
        return " ".join(str(value).split()) if any(c in str(value) for c in "\t\r\n") \
            else str(value)
    lines = ["\t".join(columns)]
    lines += ["\t".join(clean(row.get(column, "")) for column in columns) for row in rows]
    return "\n".join(lines) + "\n"
