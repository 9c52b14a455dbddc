"""HTTP(S) downloads that resume, check size and checksum, and never leave a file that looks
complete but is not.

A download goes to `<name>.part`, with a sidecar `<name>.part.json` (URL, the server's ETag or
Last-Modified, the total size). A cut connection is retried with backoff, each retry asking
for the missing bytes only (`Range: bytes=N-`, with `If-Range` so that a file changed on the
server is fetched again whole); a server that ignores Range answers with the whole file, and
the download restarts from zero (said in the log). The SHA-256 (and MD5 when one is expected)
is computed while the bytes are written (the bytes of a .part left by an earlier run are read
once from disk). Only when size and checksum match is the file fsynced and renamed into
place; a mismatch deletes the .part and raises BundleError naming the URL, expected and got.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from helgenom import __version__
from helgenom.bundle.state import atomic_write_text, fsync_dir

CHUNK = 1 << 20
Log = Callable[[str], None]


class BundleError(Exception):
    """A download or a preparation failed; the message names the URL or file, and what was
    expected and found."""


class _Retry(Exception):
    """A transient failure (cut connection, timeout, 5xx): try again from where it stopped."""


@dataclass(frozen=True)
class Fetched:
    path: Path
    size: int
    sha256: str
    md5: str
    requests: int
    resumed_at: int  # bytes already on disk when this run started (0: a fresh download)


def _user_agent() -> dict[str, str]:
    return {"User-Agent": f"helgenom/{__version__} (reference bundle)",
            "Accept-Encoding": "identity"}


class _Hashes:
    """SHA-256 and (optionally) MD5 of the bytes of a .part, in step with its length."""

    def __init__(self, md5: bool) -> None:
        self.want_md5 = md5
        self.reset()

    def reset(self) -> None:
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5(usedforsecurity=False) if self.want_md5 else None
        self.length = 0

    def update(self, data: bytes) -> None:
        self.sha256.update(data)
        if self.md5 is not None:
            self.md5.update(data)
        self.length += len(data)

    def catch_up(self, part: Path, offset: int) -> None:
        """Hash the first `offset` bytes of `part` (a .part left by an earlier attempt)."""
        if self.length == offset:
            return
        self.reset()
        with open(part, "rb") as handle:
            while self.length < offset:
                data = handle.read(min(CHUNK, offset - self.length))
                if not data:
                    break
                self.update(data)


def _sidecar(part: Path) -> Path:
    return part.with_name(f"{part.name}.json")


def _read_sidecar(part: Path) -> dict:
    try:
        return json.loads(_sidecar(part).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def discard(dest: Path) -> None:
    """Remove the .part of `dest` and its sidecar."""
    part = dest.with_name(f"{dest.name}.part")
    part.unlink(missing_ok=True)
    _sidecar(part).unlink(missing_ok=True)


def part_size(dest: Path) -> int:
    """Bytes of `dest` already downloaded in its .part (0: none)."""
    part = dest.with_name(f"{dest.name}.part")
    return part.stat().st_size if part.is_file() else 0


_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def _transfer(url: str, part: Path, hashes: _Hashes, size: int | None, timeout: float,
              log: Log) -> None:
    """One request: append what the server sends to `part` (from its current length when the
    server honours Range, else from zero). _Retry on a transient failure; returns when the
    body ended (complete or not: the caller compares lengths)."""
    offset = part.stat().st_size if part.is_file() else 0
    meta = _read_sidecar(part) if offset else {}
    if offset and meta.get("url") != url:
        log(f"{part.name}: an earlier partial download of another URL: starting from zero")
        offset = 0
    if offset:
        hashes.catch_up(part, offset)
    else:
        hashes.reset()
    headers = _user_agent()
    if offset:
        headers["Range"] = f"bytes={offset}-"
        if meta.get("etag") or meta.get("last_modified"):
            headers["If-Range"] = meta.get("etag") or meta["last_modified"]
    try:
        response = urlopen(Request(url, headers=headers), timeout=timeout)
    except HTTPError as error:
        if error.code == 416 and offset:
            log(f"{url}: the server refused the range from byte {offset} (HTTP 416): "
                "restarting from zero")
            part.unlink(missing_ok=True)
            raise _Retry("HTTP 416") from None
        if error.code in (408, 429) or error.code >= 500:
            raise _Retry(f"HTTP {error.code} {error.reason}") from None
        raise BundleError(f"{url}: HTTP {error.code} {error.reason}") from None
    except URLError as error:
        raise _Retry(f"cannot connect: {error.reason}") from None
    except (ConnectionError, TimeoutError, http.client.HTTPException) as error:
        raise _Retry(f"{type(error).__name__}: {error}") from None
    with response:
        total: int | None = None
        if offset and response.status == 206:
            match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != offset:
                log(f"{url}: the server answered another range "
                    f"({response.headers.get('Content-Range')!r}): restarting from zero")
                part.unlink(missing_ok=True)
                raise _Retry("unexpected Content-Range")
            total = int(match.group(3)) if match.group(3) != "*" else None
            mode = "ab"
            log(f"{part.name}: resuming at byte {offset}")
        else:
            if offset:
                log(f"{url}: the server ignored the Range request (HTTP {response.status}): "
                    "restarting from zero")
            offset, mode = 0, "wb"
            hashes.reset()
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        if size is not None and total is not None and total != size:
            discard(part.with_suffix(""))
            raise BundleError(f"{url}: size mismatch: the manifest says {size} bytes, the "
                              f"server {total}; nothing was kept")
        atomic_write_text(_sidecar(part), json.dumps(
            {"url": url, "etag": response.headers.get("ETag"),
             "last_modified": response.headers.get("Last-Modified"), "total": total}) + "\n")
        with open(part, mode) as out:
            try:
                while data := response.read(CHUNK):
                    out.write(data)
                    hashes.update(data)
                    if size is not None and hashes.length > size:
                        break
            except (ConnectionError, TimeoutError, http.client.HTTPException, OSError) as error:
                out.flush()
                os.fsync(out.fileno())
                raise _Retry(f"connection cut after byte {hashes.length} "
                             f"({type(error).__name__})") from None
            out.flush()
            os.fsync(out.fileno())
    if total is not None and hashes.length < total:
        raise _Retry(f"connection closed at byte {hashes.length} of {total}")


def fetch(url: str, dest: Path, *, size: int | None = None, sha256: str | None = None,
          md5: str | None = None, want_md5: bool = False, retries: int = 5,
          backoff: float = 2.0, timeout: float = 60.0, log: Log = print) -> Fetched:
    """Download `url` to `dest` (resuming a .part left by an earlier run), check its size and
    checksums while writing, and rename it into place only when they match (BundleError
    otherwise, the .part deleted). `want_md5` computes the MD5 without one expected."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f"{dest.name}.part")
    hashes = _Hashes(md5=bool(md5) or want_md5)
    resumed_at = part.stat().st_size if part.is_file() else 0
    failures = requests = 0
    while True:
        have = part.stat().st_size if part.is_file() else 0
        if size is not None and have > size:
            log(f"{part.name}: {have} bytes, more than the {size} expected: starting from zero")
            discard(dest)
            have = 0
        sidecar = _read_sidecar(part) if have else {}
        known = sidecar.get("total") if sidecar.get("url") == url else None
        if have and have == (size if size is not None else known):
            hashes.catch_up(part, have)
            break  # the .part is whole already
        try:
            requests += 1
            _transfer(url, part, hashes, size, timeout, log)
            break
        except _Retry as error:
            failures += 1
            done = part.stat().st_size if part.is_file() else 0
            if failures > retries:
                raise BundleError(f"{url}: download failed after {retries} retries ({error}); "
                                  f"{done} bytes are kept in {part}: run again to resume"
                                  ) from None
            delay = backoff * 2 ** (failures - 1)
            log(f"{url}: {error}; retry {failures} of {retries} in {delay:g} s, from byte "
                f"{done}")
            time.sleep(delay)
    got = hashes.length
    got_sha256 = hashes.sha256.hexdigest()
    got_md5 = hashes.md5.hexdigest() if hashes.md5 is not None else ""
    wrong = []
    if size is not None and got != size:
        wrong.append(f"size: expected {size} bytes, got {got}")
    if sha256 and got_sha256 != sha256:
        wrong.append(f"SHA-256: expected {sha256}, got {got_sha256}")
    if md5 and got_md5 != md5:
        wrong.append(f"MD5: expected {md5}, got {got_md5}")
    if wrong:
        discard(dest)
        raise BundleError(f"{url} ({dest.name}): checksum mismatch: {'; '.join(wrong)}; the "
                          "download was deleted (nothing kept)")
    os.replace(part, dest)
    fsync_dir(dest.parent)
    _sidecar(part).unlink(missing_ok=True)
    return Fetched(dest, got, got_sha256, got_md5, requests, resumed_at)


# --- published checksums (--pin) --------------------------------------------------------------


def read_url(url: str, timeout: float = 60.0, limit: int = 1 << 24) -> bytes:
    """A small file (a checksum list) in one request."""
    try:
        with urlopen(Request(url, headers=_user_agent()), timeout=timeout) as response:
            return response.read(limit)
    except HTTPError as error:
        raise BundleError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (URLError, ConnectionError, TimeoutError, http.client.HTTPException) as error:
        raise BundleError(f"{url}: cannot read it: {getattr(error, 'reason', error)}") from None


def published_checksum(text: str, filename: str, kind: str) -> str | None:
    """The checksum of `filename` in a published list: md5 (`<md5>  [*][./]name` lines as
    md5sum or NCBI's md5checksums.txt write, or `MD5 (name) = <md5>`), or sum (BSD `sum`
    lines `<checksum> <blocks> name`, as Ensembl's CHECKSUMS: returned as 'checksum blocks')."""
    for line in text.splitlines():
        fields = line.split()
        if kind == "md5":
            bsd = re.fullmatch(r"MD5 \((.+)\) = ([0-9a-fA-F]{32})", line.strip())
            if bsd and Path(bsd.group(1)).name == filename:
                return bsd.group(2).lower()
            if len(fields) == 1 and re.fullmatch(r"[0-9a-fA-F]{32}", fields[0]):
                return fields[0].lower()  # a .md5 file of one file: the checksum alone
            if len(fields) >= 2 and re.fullmatch(r"[0-9a-fA-F]{32}", fields[0]) \
                    and Path(fields[-1].lstrip("*")).name == filename:
                return fields[0].lower()
        elif len(fields) == 3 and fields[0].isdigit() and fields[1].isdigit() \
                and Path(fields[2]).name == filename:
            return f"{int(fields[0])} {int(fields[1])}"
    return None


def bsd_sum(path: Path) -> str:
    """`sum` (BSD algorithm, 1K blocks) of `path` as 'checksum blocks', by coreutils' `sum`."""
    proc = subprocess.run(["sum", "-r", str(path)], capture_output=True, text=True, check=False)
    fields = proc.stdout.split()
    if proc.returncode != 0 or len(fields) < 2:
        raise BundleError(f"{path}: `sum -r` failed: {proc.stderr.strip()}")
    return f"{int(fields[0])} {int(fields[1])}"


def head_size(url: str, timeout: float = 30.0) -> int | None:
    """The size the server gives for `url` (HEAD, Content-Length); None when it does not."""
    try:
        with urlopen(Request(url, headers=_user_agent(), method="HEAD"),
                     timeout=timeout) as response:
            length = response.headers.get("Content-Length")
    except (URLError, ConnectionError, TimeoutError, http.client.HTTPException):
        return None
    return int(length) if length and length.isdigit() else None
