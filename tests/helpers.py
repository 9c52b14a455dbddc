"""Shared test helpers: tool detection, hand-built VCF/PED fixtures, running Snakemake."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"  # fixtures, see data/PROVENANCE.md
SNAKEFILE = REPO / "workflow" / "Snakefile"
WORKFLOW_TOOLS = ("bwa", "samtools", "bcftools", "tabix", "bgzip", "fastp", "mosdepth", "delly",
                  "tiddit")


def genmod() -> str:
    """The real `genmod` (3.12.0; `make test` installs it in .venv-genmod, HELGENOM_GENMOD)."""
    candidates = [os.environ.get("HELGENOM_GENMOD", ""),
                  str(Path(__file__).resolve().parents[1] / ".venv-genmod" / "bin" / "genmod"),
                  shutil.which("genmod") or ""]
    for path in candidates:
        if path and Path(path).is_file():
            return path
    pytest.skip("needs genmod 3.12.0 (make test installs it in .venv-genmod)")


def need_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} on PATH (make test installs them)")


# Depth/allele counts per genotype: clean calls that pass the default gates.
_AD = {"0/0": "20,0", "0/1": "10,10", "1/0": "10,10", "1/1": "0,20", "0": "15,0", "1": "0,15",
       "./.": ".", ".": ".", "0/2": "10,0,10", "1/2": "0,10,10"}


def write_vcf(path: Path, samples: list[str], records: list[dict], contigs=("chr1", "chrX")
              ) -> Path:
    """A small VCF: each record has chrom, pos, ref, alt, gts {sample: GT}, optional gene,
    csq (bcftools csq consequence), af (GNOMADAF), gq {sample: GQ}, ad {sample: AD}."""
    lines = [
        "##fileformat=VCFv4.2",
        *(f"##contig=<ID={c},length=1000000>" for c in contigs),
        '##INFO=<ID=BCSQ,Number=.,Type=String,Description="csq">',
        '##INFO=<ID=GNOMADAF,Number=A,Type=Float,Description="AF">',
        '##FILTER=<ID=LowQual,Description="Low quality">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="GQ">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="AD">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples),
    ]
    for rec in records:
        info = []
        if rec.get("gene"):
            csq = rec.get("csq", "missense")
            info.append(f"BCSQ={csq}|{rec['gene']}|ENST1|protein_coding|+|1A>1T|1A>T")
        if rec.get("af") is not None:
            info.append(f"GNOMADAF={rec['af']}")
        cells = []
        for s in samples:
            gt = rec["gts"].get(s, "./.")
            gq = rec.get("gq", {}).get(s, 60 if gt not in ("./.", ".") else ".")
            ad = rec.get("ad", {}).get(s, _AD[gt])
            cells.append(f"{gt}:{gq}:{ad}")
        lines.append("\t".join([rec["chrom"], str(rec["pos"]), ".", rec["ref"], rec["alt"], "50",
                                rec.get("filter", "PASS"), ";".join(info) or ".", "GT:GQ:AD",
                                *cells]))
    path.write_text("\n".join(lines) + "\n")
    return path


def bgzip_indexed(text: str, path: Path) -> Path:
    """`text` written as the bgzipped, tabix-indexed VCF `path` (ending in .gz)."""
    plain = path.with_suffix("")
    plain.write_text(text)
    subprocess.run(["bgzip", "-f", str(plain)], check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(path)], check=True)
    return path


def write_ped(path: Path, rows: list[tuple[str, str, str, str, int, int]]) -> Path:
    path.write_text("".join("\t".join(map(str, r)) + "\n" for r in rows))
    return path


TRIO = [("FAM", "dad", "0", "0", 1, 1), ("FAM", "mum", "0", "0", 2, 1),
        ("FAM", "kid", "dad", "mum", 1, 2)]


def snakemake(workdir: Path, *args: str, configfile: Path | None = None, timeout: int = 1800
              ) -> subprocess.CompletedProcess:
    """Run the workflow's Snakemake (from this venv) in `workdir` with its config.yaml."""
    configfile = configfile or workdir / "config.yaml"
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE),
           "--directory", str(workdir), "--configfile", str(configfile), *args]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def read_candidates(path: Path):
    """A candidate list: the leading `## QC: ...` lines are the QC verdict, then a TSV."""
    import pandas as pd

    with open(path) as handle:
        qc_lines = []
        while (line := handle.readline()).startswith("##"):
            qc_lines.append(line.rstrip("\n"))
        handle.seek(0)
        table = pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False,
                            skiprows=len(qc_lines))
    return qc_lines, table
