"""Reading VCF/BCF into columnar tables through `bcftools` (streamed, vectorised).

Records are split per ALT allele (`bcftools norm -m -any`) so every downstream step sees
bi-allelic rows. Genotypes are coded per sample as int8: -1 no-call, 0 hom-ref, 1 het,
2 hom-alt or hemizygous alt (haploid "1"); `ploidy` keeps 1 vs 2.
"""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helgenom.errors import InputError, Problem


@dataclass
class VcfHeader:
    samples: list[str]
    info: dict[str, str] = field(default_factory=dict)  # ID -> Type
    format: dict[str, str] = field(default_factory=dict)
    contigs: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def run_text(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise InputError([Problem(cmd[-1], 0, "", "", f"{' '.join(cmd[:2])} failed: "
                                  f"{proc.stderr.strip().splitlines()[-1:] or proc.returncode}")])
    return proc.stdout


def read_header(path: Path | str) -> VcfHeader:
    text = run_text(["bcftools", "view", "-h", str(path)])
    header = VcfHeader(samples=[])
    for line in text.splitlines():
        header.lines.append(line)
        if line.startswith("##INFO=<") or line.startswith("##FORMAT=<"):
            ident = re.search(r"ID=([^,>]+)", line)
            kind = re.search(r"Type=([^,>]+)", line)
            target = header.info if line.startswith("##INFO") else header.format
            if ident:
                target[ident.group(1)] = kind.group(1) if kind else "String"
        elif line.startswith("##contig=<"):
            ident = re.search(r"ID=([^,>]+)", line)
            if ident:
                header.contigs.append(ident.group(1))
        elif line.startswith("#CHROM"):
            header.samples = line.rstrip("\n").split("\t")[9:]
    return header


# Every distinct GT string is decoded once; columns are mapped through the table.
def _decode_gt(text: str) -> tuple[int, int]:
    alleles = re.split(r"[/|]", text)
    if any(a in (".", "") for a in alleles):
        return -1, len(alleles)
    alts = sum(a != "0" for a in alleles)
    if len(alleles) == 1:
        return (2 if alts else 0), 1
    return min(alts, 2), len(alleles)


def decode_genotypes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    cat = column.fillna(".").astype("category")
    table = [_decode_gt(str(value)) for value in cat.cat.categories]
    codes = cat.cat.codes.to_numpy()
    gts = np.array([t[0] for t in table] or [-1], dtype=np.int8)[codes]
    ploidy = np.array([t[1] for t in table] or [2], dtype=np.int8)[codes]
    return gts, ploidy


@dataclass
class Genotypes:
    """Per-sample arrays aligned with the variant table's rows."""

    gt: dict[str, np.ndarray]
    ploidy: dict[str, np.ndarray]
    gq: dict[str, np.ndarray]
    ref_depth: dict[str, np.ndarray]
    alt_depth: dict[str, np.ndarray]

    def depth(self, sample: str) -> np.ndarray:
        return self.ref_depth[sample] + self.alt_depth[sample]

    def allele_balance(self, sample: str) -> np.ndarray:
        depth = self.depth(sample)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(depth > 0, self.alt_depth[sample] / depth, np.nan)


def read_variants(
    path: Path | str,
    samples: list[str],
    info_fields: list[str],
    header: VcfHeader | None = None,
) -> tuple[pd.DataFrame, Genotypes]:
    """Variant table (CHROM POS REF ALT QUAL FILTER + requested INFO) and sample genotypes.

    INFO fields absent from the header become empty columns (no error); FORMAT GQ/AD absent
    become NaN (the caller warns and skips those gates).
    """
    header = header or read_header(path)
    info_present = [f for f in info_fields if f in header.info]
    per_sample = ["GT"]
    per_sample += ["GQ"] if "GQ" in header.format else []
    per_sample += ["AD{0}", "AD{1}"] if "AD" in header.format else []
    fmt = "%CHROM\t%POS\t%REF\t%ALT\t%QUAL\t%FILTER"
    fmt += "".join(f"\t%INFO/{name}" for name in info_present)
    fmt += "[\t" + "\t".join(f"%{tag}" for tag in per_sample) + "]\n"
    columns = ["CHROM", "POS", "REF", "ALT", "QUAL", "FILTER", *info_present]
    columns += [f"{s}\t{tag}" for s in samples for tag in per_sample]
    norm = subprocess.Popen(["bcftools", "norm", "-m", "-any", "-Ou", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    query = subprocess.Popen(
        ["bcftools", "query", "-s", ",".join(samples), "-f", fmt, "-"],
        stdin=norm.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert norm.stdout is not None
    norm.stdout.close()
    out, err = query.communicate()
    norm_err = norm.stderr.read() if norm.stderr else b""
    if norm.wait() != 0 or query.returncode != 0:
        message = (norm_err or err).decode(errors="replace").strip().splitlines()[-1:]
        raise InputError([Problem(str(path), 0, "", "", f"bcftools could not read it: {message}")])
    dtypes = {c: str for c in columns}
    dtypes["POS"] = "int64"
    table = pd.read_csv(io.BytesIO(out), sep="\t", header=None, names=columns, dtype=dtypes,
                        na_values=["."], keep_default_na=False, engine="c")
    for name in info_fields:
        if name not in table:
            table[name] = pd.NA
    gts = Genotypes({}, {}, {}, {}, {})
    for s in samples:
        gts.gt[s], gts.ploidy[s] = decode_genotypes(table.pop(f"{s}\tGT"))
        gts.gq[s] = _numeric(_pop(table, f"{s}\tGQ"), len(table))
        gts.ref_depth[s] = _numeric(_pop(table, f"{s}\tAD{{0}}"), len(table))
        gts.alt_depth[s] = _numeric(_pop(table, f"{s}\tAD{{1}}"), len(table))
    table["FILTER"] = table["FILTER"].fillna(".")
    return table, gts


def _pop(table: pd.DataFrame, column: str) -> pd.Series | None:
    return table.pop(column) if column in table else None


def _numeric(column: pd.Series | None, n: int) -> np.ndarray:
    if column is None:
        return np.full(n, np.nan)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
