"""Reading VCF/BCF into columnar tables through `bcftools` (streamed, vectorised).

Records are split per ALT allele (`bcftools norm -m -any`) so every downstream step sees
bi-allelic rows. Genotypes are coded per sample as int8: -1 no-call, 0 hom-ref, 1 het,
2 hom-alt or hemizygous alt (haploid "1"); `ploidy` keeps 1 vs 2.
"""

from __future__ import annotations

import gzip
import re
import shlex
import subprocess
import tempfile
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
    # Header lines the file lacks but its records use (hand-made fixtures, some old tools):
    # added on the fly so that bcftools can stream it as BCF.
    fixes: list[str] = field(default_factory=list)


def run_text(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise InputError([Problem(cmd[-1], 0, "", "", f"{' '.join(cmd[:2])} failed: "
                                  f"{proc.stderr.strip().splitlines()[-1:] or proc.returncode}")])
    return proc.stdout


def _header_text(path: Path | str) -> str:
    """The header as written in the file (bcftools view -h adds contigs it has seen)."""
    with open(path, "rb") as probe:
        magic = probe.read(4)
    if magic[:2] == b"\x1f\x8b":  # gzip/BGZF: BCF is BGZF too, and starts with 'BCF'
        with gzip.open(path, "rb") as handle:
            if handle.read(3) == b"BCF":
                return run_text(["bcftools", "view", "-h", str(path)])
    elif magic[:3] == b"BCF":
        return run_text(["bcftools", "view", "-h", str(path)])
    opener = gzip.open if magic[:2] == b"\x1f\x8b" else open
    lines = []
    with opener(path, "rt") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            lines.append(line)
            if line.startswith("#CHROM"):
                break
    return "".join(lines)


def read_header(path: Path | str) -> VcfHeader:
    if not Path(path).is_file():
        raise InputError([Problem(str(path), 0, "", "", "file not found")])
    text = _header_text(path)
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
    for tag, definition in STANDARD_FORMAT.items():
        if tag not in header.format:
            header.fixes.append(f"##FORMAT=<ID={tag},{definition}>")
            header.format[tag] = definition.split("Type=")[1].split(",")[0]
    return header


STANDARD_FORMAT = {  # VCF 4.3 reserved FORMAT keys the reader uses
    "GT": 'Number=1,Type=String,Description="Genotype"',
    "GQ": 'Number=1,Type=Integer,Description="Conditional genotype quality"',
    "AD": 'Number=R,Type=Integer,Description="Read depth for each allele"',
}


def split_alleles_command(path: Path | str, header: VcfHeader, workdir: Path) -> str:
    """Shell pipeline printing `path` as uncompressed BCF with one ALT allele per record."""
    source = shlex.quote(str(path))
    if header.fixes:
        full = workdir / "header.txt"
        meta = [line for line in header.lines if line.startswith("##")]
        column_line = next(line for line in header.lines if line.startswith("#CHROM"))
        full.write_text("\n".join([*meta, *header.fixes, column_line]) + "\n")
        return (f"bcftools reheader -h {shlex.quote(str(full))} {source}"
                f" | bcftools norm -m -any -Ou -")
    return f"bcftools norm -m -any -Ou {source}"


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


# htslib's warnings about records that do not match their header. BCF (which the allele split
# streams) cannot hold such records: bcftools drops them *and exits 0*, so they are caught here.
UNDECLARED = {
    "contig": (re.compile(r"Contig '([^']+)' is not defined in the header"), "##contig=<ID={}>"),
    "INFO": (re.compile(r"INFO '([^']+)' is not defined in the header"),
             '##INFO=<ID={},Number=.,Type=String,Description="Not declared in the input">'),
    "FORMAT": (re.compile(r"FORMAT '([^']+)' at \S+ is not defined in the header"),
               '##FORMAT=<ID={},Number=.,Type=String,Description="Not declared in the input">'),
}


def _query_table(path: Path | str, header: VcfHeader, samples: list[str], fmt: str,
                 columns: list[str]) -> pd.DataFrame | None:
    """Split alleles and query; None when records use contigs or tags the header does not
    declare (they are then added to `header.fixes`, so that the caller can run it again)."""
    dtypes = {c: str for c in columns}
    dtypes["POS"] = "int64"
    with tempfile.TemporaryDirectory(prefix="helgenom-vcf-") as tmp:
        command = (f"{split_alleles_command(path, header, Path(tmp))} | bcftools query"
                   f" -s {shlex.quote(','.join(samples))} -f {shlex.quote(fmt)} -")
        errors = Path(tmp) / "stderr.txt"
        with errors.open("wb") as err:
            proc = subprocess.Popen(["bash", "-o", "pipefail", "-c", command],
                                    stdout=subprocess.PIPE, stderr=err)
            assert proc.stdout is not None
            try:
                table = pd.read_csv(proc.stdout, sep="\t", header=None, names=columns,
                                    dtype=dtypes, na_values=["."], keep_default_na=False,
                                    engine="c")
            except pd.errors.EmptyDataError:
                table = pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})
            finally:
                proc.stdout.close()
        status = proc.wait()
        messages = errors.read_text(errors="replace")
    fixes = [template.format(name) for kind, (pattern, template) in UNDECLARED.items()
             for name in dict.fromkeys(pattern.findall(messages))
             if template.format(name) not in header.fixes]
    if fixes:
        header.fixes += fixes
        header.contigs += [f[len("##contig=<ID="):-1] for f in fixes if f.startswith("##contig")]
        return None
    if "Bad BCF record" in messages:
        raise InputError([Problem(str(path), 0, "", "", "bcftools cannot read some records: "
                                  + messages.split("Bad BCF record", 1)[1].splitlines()[0])])
    if status != 0:
        last = messages.strip().splitlines()[-1:]
        raise InputError([Problem(str(path), 0, "", "",
                                  f"bcftools could not read it: {' '.join(last)}")])
    return table


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
    table = _query_table(path, header, samples, fmt, columns)
    if table is None:  # declared what was missing: once more
        table = _query_table(path, header, samples, fmt, columns)
    if table is None:
        raise InputError([Problem(str(path), 0, "header", "", "records use undeclared "
                                  f"contigs or tags even after declaring {header.fixes}")])
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


def concat_variants(parts: list[tuple[pd.DataFrame, Genotypes]]) -> tuple[pd.DataFrame, Genotypes]:
    """Stack variant tables (e.g. small variants and SVs) and their genotypes row-wise."""
    if len(parts) == 1:
        table, gts = parts[0]
        return table.reset_index(drop=True), gts
    table = pd.concat([p[0] for p in parts], ignore_index=True)
    first = parts[0][1]
    gts = Genotypes(
        *(
            {s: np.concatenate([getattr(p[1], name)[s] for p in parts]) for s in first.gt}
            for name in ("gt", "ploidy", "gq", "ref_depth", "alt_depth")
        )
    )
    return table, gts
