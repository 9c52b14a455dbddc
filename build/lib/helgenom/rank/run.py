"""Ranking a joint VCF and a PED: the entry points (`helgenom rank` calls `rank_to_files`).

The PED is read once, here. A single affected family on a large, indexed input is ranked in
groups of contigs on worker processes (`helgenom.rank.chunked`); anything else, or an input
the groups cannot take, in one pass (`helgenom.rank.candidates.rank_single_pass`). Both give
the same outputs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helgenom.rank.candidates import RankOptions, rank_single_pass
from helgenom.rank.chunked import rank_in_chunks
from helgenom.sheets.pedigree import read_ped


def rank(vcf: Path | str, ped: Path | str, prefix: str, opts: RankOptions) -> pd.DataFrame:
    """Rank every family of `ped` in `vcf` (and `opts.sv`); write PREFIX.vcf.gz
    (PREFIX.sv.vcf.gz) and PREFIX.candidates.tsv; return the candidate list."""
    candidates = rank_single_pass(vcf, ped, prefix, opts, read_ped(ped), keep=True)[1]
    assert candidates is not None
    return candidates


def rank_to_files(vcf: Path | str, ped: Path | str, prefix: str, opts: RankOptions) -> int:
    """`rank` without keeping the candidate list in memory (a single family's is written a
    slice at a time, or the genome is ranked in contig groups); the number of candidates."""
    families = read_ped(ped)
    count = rank_in_chunks(vcf, ped, prefix, opts, families)
    if count is not None:
        return count
    return rank_single_pass(vcf, ped, prefix, opts, families, keep=False)[0]
