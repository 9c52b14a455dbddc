"""BGZF (blocked gzip, what `bgzip` writes and htslib reads) in process, with ISA-L.

A BGZF file is a series of gzip members of at most 64 kB of text each, with the compressed
size in a `BC` extra field, and an empty member at the end (the end-of-file block). Writing it
here instead of piping into `bgzip` saves the pipe and compression time: ISA-L deflates VCF
text faster than libdeflate's level 1 (bgzip -l 1), and it releases the GIL, so a writer
thread compresses while Python makes the next text. The writer also knows where each block
went (for the .tbi, no reading back).

Byte for byte the same from run to run, at ISA-L's level 3. Its levels 1 and 2 are not: their
x86 bodies (`isal_deflate_icf_body_hash_hist_01/02/04`, at `.write_first_byte`) hash a
register that still holds the address of the stream state where they mean input bytes, so
one bucket of the match finder's table depends on where the state lives (the calling
thread's stack, which address-space randomisation moves from process to process), and now
and then (one 64 kB block of VCF text in ~40,000) a block came out as other, equally valid
deflate bytes. Level 3 takes another path: the same text gives the same bytes wherever the
state is (tests/unit/test_bgzf.py places it at chosen addresses to show both). Level 3 costs
about twice level 1's CPU (~360 vs ~715 MB/s of VCF text, still above libdeflate's level 1)
for ~4% smaller files.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np
from isal import isal_zlib

EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
# Uncompressed bytes per block (as bgzip: a block must stay under 64 kB compressed).
BLOCK = 0xFF00
# ISA-L levels run 0-3.
LEVEL = 3  # deterministic (see above); 1 and 2 are not
_HEAD = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"


def _member(text: bytes | memoryview, level: int) -> bytes:
    packed = isal_zlib.compress(text, level, -15)
    if len(packed) > 0xFFFF - 25:  # incompressible: stored (5 bytes more), which fits
        packed = zlib.compress(text, 0, -15)
    return b"".join((_HEAD, struct.pack("<H", len(packed) + 25), packed,
                     struct.pack("<II", isal_zlib.crc32(text), len(text))))


def compress_blocks(data: bytes | memoryview, level: int = LEVEL) -> bytes:
    """`data` as BGZF blocks, without the end-of-file block."""
    view = memoryview(data)
    return b"".join(_member(view[start:start + BLOCK], level)
                    for start in range(0, len(view), BLOCK))


class BgzfWriter:
    """A binary file-like sink writing BGZF to `handle` (an open binary file it does not
    close); `close()` flushes and adds the end-of-file block (unless `eof=False`).
    `addresses`/`starts`: each written block's file address and uncompressed start; `end`,
    once closed: the address past the last of them (where the end-of-file block starts)."""

    def __init__(self, handle: BinaryIO, level: int = LEVEL, eof: bool = True) -> None:
        self.handle, self.level, self.eof = handle, level, eof
        self.pending = bytearray()
        self.addresses: list[int] = []
        self.starts: list[int] = []
        self.address = 0
        self.written = 0  # uncompressed bytes in finished blocks
        self.end = 0
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        if self.closed:
            raise ValueError("write to a closed BgzfWriter")
        view = memoryview(data).cast("B")
        size = len(view)
        if self.pending:  # top up the partial block first
            take = min(BLOCK - len(self.pending), size)
            self.pending += view[:take]
            view = view[take:]
            if len(self.pending) == BLOCK:
                self._emit([self.pending])
                self.pending = bytearray()
        whole = len(view) - len(view) % BLOCK
        if whole:
            self._emit([view[start:start + BLOCK] for start in range(0, whole, BLOCK)])
        if len(view) > whole:
            self.pending += view[whole:]
        return size

    def _emit(self, texts: list[bytes | bytearray | memoryview]) -> None:
        members = [_member(text, self.level) for text in texts]
        for text, member in zip(texts, members, strict=True):
            self.addresses.append(self.address)
            self.starts.append(self.written)
            self.address += len(member)
            self.written += len(text)
        self.handle.write(b"".join(members))

    def flush(self) -> None:
        """Write the partial block (the next write starts a new block)."""
        if self.pending:
            self._emit([self.pending])
            self.pending = bytearray()

    def close(self) -> None:
        if self.closed:
            return
        self.flush()
        self.end = self.address
        if self.eof:
            self.handle.write(EOF)
            self.address += len(EOF)
        self.handle.flush()
        self.closed = True


    def layout(self) -> tuple[np.ndarray, np.ndarray]:
        """Once closed: the blocks' file addresses and uncompressed starts, and after them
        `end` and the uncompressed size (a block's end is the next block's start, as
        htslib's bgzf_tell reports a position there)."""
        return (np.array([*self.addresses, self.end], dtype=np.int64),
                np.array([*self.starts, self.written], dtype=np.int64))


def inflate_blocks(raw: bytes, address: int = 0, stop: int | None = None,
                   name: str = "input") -> Iterator[tuple[int, bytes]]:
    """(file address, content) of each BGZF block of `raw`, whose first byte is the block at
    `address` in the file, up to the block at `stop` (every block of `raw` when None); a
    ValueError names `name` and the address of a block that is not BGZF or does not inflate.
    ISA-L inflates ~3x faster than zlib (the same bytes out): ~6 CPU s of a whole-genome VCF."""
    position = 0
    while position < len(raw) and (stop is None or address <= stop):
        head = raw[position:position + 18]
        if len(head) < 18 or head[:4] != b"\x1f\x8b\x08\x04" or head[12:14] != b"BC":
            raise ValueError(f"{name}: not a BGZF block at byte {address}")
        block_size = int.from_bytes(head[16:18], "little") + 1
        length = int.from_bytes(raw[position + block_size - 4:position + block_size], "little")
        try:
            data = isal_zlib.decompress(raw[position + 18:position + block_size - 8], -15,
                                        max(length, 1))
        except isal_zlib.error as exc:
            raise ValueError(f"{name}: BGZF block at byte {address}: {exc}") from exc
        yield address, data
        position += block_size
        address += block_size


def copy_file(source: str | os.PathLike[str], sink: BinaryIO) -> int:
    """Append the file `source` to the open file `sink` in the kernel (copy_file_range); its
    bytes. Falls back to reading and writing where the kernel cannot."""
    sink.flush()
    with open(source, "rb") as handle:
        total = os.fstat(handle.fileno()).st_size
        done = 0
        try:
            while done < total:
                copied = os.copy_file_range(handle.fileno(), sink.fileno(), total - done)
                if copied == 0:
                    break
                done += copied
        except OSError:
            pass
        sink.seek(0, os.SEEK_END)  # the buffered file learns where the kernel wrote to
        if done < total:
            handle.seek(done)
            while block := handle.read(1 << 22):
                sink.write(block)
                done += len(block)
    return done


def text_between(path: str, begin: int, end: int, chunk_bytes: int = 1 << 22
                 ) -> Iterator[bytes]:
    """The text of BGZF file `path` between virtual offsets `begin` and `end` (from a .tbi),
    in chunks of about `chunk_bytes`, read and inflated a piece at a time."""
    first, skip = begin >> 16, begin & 0xFFFF
    last, keep = end >> 16, end & 0xFFFF
    if (first, skip) >= (last, keep):
        return
    with open(path, "rb") as handle:
        address, pending, out, size = first, b"", [], 0
        while address <= last:
            raw = pending + os.pread(handle.fileno(), chunk_bytes // 4, address + len(pending))
            complete = 0  # the bytes of the whole blocks in `raw`
            while complete + 18 <= len(raw):
                block = int.from_bytes(raw[complete + 16:complete + 18], "little") + 1
                if complete + block > len(raw):
                    break
                complete += block
            if not complete:
                if len(raw) == len(pending):
                    break  # the end of the file
                pending = raw
                continue
            for at, data in inflate_blocks(raw[:complete], address, last, path):
                if at == last:
                    data = data[:keep]
                if at == first:
                    data = data[skip:]
                out.append(data)
                size += len(data)
            if size >= chunk_bytes or address + complete > last:
                yield b"".join(out)
                out, size = [], 0
            pending = raw[complete:]
            address += complete
        if out:
            yield b"".join(out)
