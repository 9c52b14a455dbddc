"""helgenom.io.bgzf: BGZF written in process must be what htslib reads, block for block."""

from __future__ import annotations

import gzip
import os
import random
import subprocess
from pathlib import Path

import pytest
from helgenom.io import bgzf
from helgenom.io.bgzf import BgzfWriter, compress_blocks, copy_file, inflate_blocks
from helpers import need_tools

TEXT = b"".join(b"chr1\t%d\t.\tA\tC\t.\t.\tDP=%d\n" % (i, i % 97) for i in range(40000))


def test_writer_output_is_bgzf_that_htslib_reads(tmp_path: Path) -> None:
    need_tools("bgzip", "tabix")
    path = tmp_path / "calls.vcf.gz"
    with open(path, "wb") as handle:
        sink = BgzfWriter(handle)
        # Writes of every size: less than a block, across block ends, several blocks at once.
        sizes = [1, 100, bgzf.BLOCK - 101, bgzf.BLOCK + 7, 3 * bgzf.BLOCK, 12345]
        position = 0
        for size in sizes * 3:
            sink.write(memoryview(TEXT)[position:position + size])
            position += size
        sink.write(TEXT[position:])
        sink.close()
    raw = path.read_bytes()
    assert raw.endswith(bgzf.EOF)
    assert gzip.decompress(raw) == TEXT
    subprocess.run(["bgzip", "-t", str(path)], check=True)
    assert subprocess.run(["bgzip", "-dc", str(path)], capture_output=True,
                          check=True).stdout == TEXT
    blocks = list(inflate_blocks(raw[:-len(bgzf.EOF)]))
    # Every block is full but the last, and the writer knows where each one went.
    assert [len(data) for _, data in blocks[:-1]] == [bgzf.BLOCK] * (len(blocks) - 1)
    assert sink.addresses == [address for address, _ in blocks]
    assert sink.starts == [bgzf.BLOCK * k for k in range(len(blocks))]
    assert sink.address == len(raw) and sink.written == len(TEXT)
    assert sink.end == len(raw) - len(bgzf.EOF)  # where the end-of-file block starts
    addresses, starts = sink.layout()
    assert addresses.tolist() == [*sink.addresses, sink.end]
    assert starts.tolist() == [*sink.starts, len(TEXT)]
    # Sorted VCF text: tabix indexes the file (it reads the blocks' sizes and offsets).
    vcf = tmp_path / "index.vcf.gz"
    header = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    vcf.write_bytes(compress_blocks(header + TEXT) + bgzf.EOF)
    subprocess.run(["tabix", "-p", "vcf", str(vcf)], check=True)
    hits = subprocess.run(["tabix", str(vcf), "chr1:30000-30002"], capture_output=True,
                          check=True, text=True).stdout.splitlines()
    assert [line.split("\t")[1] for line in hits] == ["30000", "30001", "30002"]


def test_incompressible_text_still_fits_a_block() -> None:
    noise = random.Random(7).randbytes(3 * bgzf.BLOCK + 5)
    raw = compress_blocks(noise)
    blocks = list(inflate_blocks(raw))
    assert b"".join(data for _, data in blocks) == noise
    assert all(int.from_bytes(raw[a + 16:a + 18], "little") < 0xFFFF for a, _ in blocks)


def test_copy_file_appends_and_later_writes_follow(tmp_path: Path) -> None:
    part = tmp_path / "part.bin"
    part.write_bytes(os.urandom(5 << 20) + b"end of part")
    out = tmp_path / "out.bin"
    with open(out, "wb") as sink:
        sink.write(b"head")
        assert copy_file(part, sink) == part.stat().st_size
        assert sink.tell() == 4 + part.stat().st_size
        sink.write(b"tail")
    assert out.read_bytes() == b"head" + part.read_bytes() + b"tail"
def test_bgzf_blocks_inflate_and_name_a_corrupt_block() -> None:
    need_tools("bgzip")
    text = b"".join(b"chr1\t%d\t.\tA\tC\t.\t.\t.\n" % i for i in range(20000))
    raw = subprocess.run(["bgzip", "-c"], input=text, capture_output=True, check=True).stdout
    blocks = list(inflate_blocks(raw))
    assert len(blocks) > 2 and b"".join(data for _, data in blocks) == text
    second = blocks[1][0]
    assert [address for address, _ in inflate_blocks(raw, stop=second)] == [0, second]
    bad = bytearray(raw)
    bad[second + 30] ^= 0xFF  # inside the second block's deflate stream
    with pytest.raises(ValueError, match=f"calls.vcf.gz: BGZF block at byte {second}"):
        list(inflate_blocks(bytes(bad), name="calls.vcf.gz"))
    with pytest.raises(ValueError, match="not a BGZF block at byte 0"):
        list(inflate_blocks(b"plain text, not BGZF"))
