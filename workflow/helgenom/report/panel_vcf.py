"""The clinical VCF of a family: the ranked VCF's records in the genes of the gene panel.

Scout loads a case's clinical variants from `vcf_snv`/`vcf_sv` and all of them from the
research VCFs; with a panel configured, the clinical ones are the records whose VEP-style
`INFO/CSQ` (written by `helgenom rank`) names a panel gene in its SYMBOL field. Records
without a CSQ, or in no panel gene, stay in the research VCF only. The header is kept as it
is; the output is bgzipped and indexed like its input, under a temporary name first.
"""

from __future__ import annotations

import gzip
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

from helgenom.errors import InputError, Problem

CSQ_FORMAT = re.compile(r'^##INFO=<ID=CSQ,.*Format: ([^"]+)"')


def _symbol_index(header: Iterable[str], path: Path) -> int:
    for line in header:
        if match := CSQ_FORMAT.match(line):
            fields = match.group(1).strip().split("|")
            if "SYMBOL" in fields:
                return fields.index("SYMBOL")
    raise InputError([Problem(str(path), None, None, "CSQ", "no INFO/CSQ with a SYMBOL field "
                              "in the header: rank it with --gff3 (and --fasta) first")])


def _csq_symbols(info: str, index: int) -> set[str]:
    for item in info.split(";"):
        if item.startswith("CSQ="):
            return {fields[index] for entry in item[4:].split(",")
                    if len(fields := entry.split("|")) > index}
    return set()


def panel_vcf(vcf: Path | str, genes: frozenset[str], out: Path | str) -> tuple[int, int]:
    """Write `out` (bgzipped, with its .tbi) with the records of `vcf` in `genes`; the number
    of records kept and read."""
    vcf, out = Path(vcf), Path(out)
    tmp = out.with_name(f".{out.name}.part")
    kept = total = 0
    try:
        with gzip.open(vcf, "rt", encoding="utf-8") as source, tmp.open("wb") as sink, \
                subprocess.Popen(["bgzip", "-c"], stdin=subprocess.PIPE, stdout=sink) as bgzip:
            assert bgzip.stdin is not None
            header: list[str] = []
            index = -1
            for line in source:
                if line.startswith("#"):
                    header.append(line)
                    bgzip.stdin.write(line.encode())
                    continue
                if index < 0:
                    index = _symbol_index(header, vcf)
                total += 1
                fields = line.split("\t", 8)
                if len(fields) > 7 and _csq_symbols(fields[7], index) & genes:
                    bgzip.stdin.write(line.encode())
                    kept += 1
            bgzip.stdin.close()
        if bgzip.returncode:
            raise InputError([Problem(str(out), None, None, None,
                                      f"bgzip failed (exit {bgzip.returncode})")])
        subprocess.run(["tabix", "-f", "-p", "vcf", str(tmp)], check=True,
                       capture_output=True)
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as error:
        tmp.unlink(missing_ok=True)
        raise InputError([Problem(str(vcf), None, None, None,
                                  f"cannot read the ranked VCF ({error})")]) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.tbi").unlink(missing_ok=True)
        raise
    Path(f"{tmp}.tbi").replace(f"{out}.tbi")
    tmp.replace(out)
    return kept, total
