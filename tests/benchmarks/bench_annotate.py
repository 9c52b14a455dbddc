#!/usr/bin/env python3
"""Benchmark the clinical annotation of a family's small variants at whole-genome scale.

    python tests/benchmarks/bench_annotate.py [--records 5000000] [--workdir DIR] [--keep]
                                              [--only vcfanno,bcftools,helgenom]

What it does (see tests/benchmarks/README.md and the figures in the main README):

1. The query: the GIAB Ashkenazi trio tiled to N records (the same file `bench_rank.py`
   makes and caches in the workdir, `ashk-trio.tiled-N.vcf.gz`), split into biallelic
   records with `bcftools norm -m -any` as rule `annotate_snv` does (no FASTA: the trio is
   GRCh37 and none is at hand; the records are already left-aligned). Written twice, as
   `norm-N.vcf.gz` (+ .tbi) and `norm-N.bcf` (+ .csi), so each engine reads what it reads best.
2. Four generated sources in the real formats, on the query's contigs, overlapping it as real
   sources overlap a genome (each its own bgzipped, tabix-indexed file; cached by N):
   - ClinVar-like VCF (ID = the variation ID; CLNSIG, CLNREVSTAT, ALLELEID, CLNDN, GENEINFO,
     MC, ORIGIN, RS): 3% of the query's records, plus background records (0.2 per record).
   - gnomAD-like sites VCF (AC, AN, AF, AF_grpmax, grpmax, nhomalt, AC/AF_XX/XY, faf95):
     95% of the query's records, plus 2 background sites per record.
   - CADD TSV (`## CADD ...` line, `#Chrom Pos Ref Alt RawScore PHRED`): the 3 possible
     SNVs at every SNV position of the query, 80% of its indels, and the 3 SNVs of one
     background position per record.
   - SpliceAI VCF (`SpliceAI=ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL`,
     10% of them with a second gene's entry): the 3 SNVs at half of the query's SNV positions,
     half of its indels, and the 3 SNVs of a background position per 3 records.
   Real sources are denser still (gnomAD v4 ~150 sites per site of a genome, CADD every
   possible SNV): both engines then read more of them, which these figures leave out.
3. Runs, each under /usr/bin/time -v with the process tree's RSS sampled:
   - vcfanno alone: `vcfanno -p P conf.toml norm.vcf.gz > out.vcf` (its own output: text).
   - bcftools annotate alone, one `-a` per call: a call with a VCF source needs an indexed
     input (not a pipe), so the VCF sources each write a BGZF BCF (level 1) and index it,
     the last VCF source's output is piped (`-Ou`) into the TSV source's call.
   - helgenom's annotation step as rule `annotate_snv` runs it: `helgenom annotate-sources`
     on the rule's normalised file with the same four sources from a config, writing the
     BCF that the rule's `bcftools csq` reads (`--threads` as the rule's, nproc here).
   - the same with ClinVar's contigs named `chr1`, ... (a copy, cached): what harmonising
     the naming costs (the calls renamed for it and back, in the chain).
4. Checks that all three wrote the same values: the annotated INFO tags of every record,
   sorted, compared as text.

A benchmark, not a test: pytest does not collect it. It needs the trio of tests/data (see
bench_rank.py; HELGENOM_SHARED_DATA for another folder), bcftools, bgzip, tabix, vcfanno and
GNU /usr/bin/time; without the trio it prints 'skipped' and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rank import (
    REPO,
    TRIO_VCF,
    Run,
    machine_info,
    other_load,
    read_source,
    table,
    timed,
    write_tiled,
)

GOAL_RECORDS = 5_000_000
GOAL_RATIO = 2.0  # helgenom's step within 2x of the faster engine alone (wall time)
# Bump when the generated sources change: cached files of another version are rebuilt.
SOURCES_VERSION = 1
SEED = 20261207
BASES = "ACGT"
# INFO tags the runs write: compared across the three outputs.
TAGS = ("GNOMADAF", "GNOMADAF_grpmax", "gnomad_hom", "CLNSIG", "CLNREVSTAT", "CLNVID", "CADD",
        "SpliceAI")

CLINVAR_HEADER = """\
##fileformat=VCFv4.1
##fileDate=2026-12-07
##source=ClinVar
##reference={build}
##ID=<Description="ClinVar Variation ID">
##INFO=<ID=ALLELEID,Number=1,Type=Integer,Description="the ClinVar Allele ID">
##INFO=<ID=CLNDN,Number=.,Type=String,Description="ClinVar's preferred disease name for the concept specified by disease identifiers in CLNDISDB">
##INFO=<ID=CLNREVSTAT,Number=.,Type=String,Description="ClinVar review status for the Variation ID">
##INFO=<ID=CLNSIG,Number=.,Type=String,Description="Clinical significance for this single variant">
##INFO=<ID=CLNVC,Number=1,Type=String,Description="Variant type">
##INFO=<ID=GENEINFO,Number=1,Type=String,Description="Gene(s) for the variant reported as gene symbol:gene id. The gene symbol and id are delimited by a colon (:) and each pair is delimited by a vertical bar (|)">
##INFO=<ID=MC,Number=.,Type=String,Description="comma separated list of molecular consequence in the form of Sequence Ontology ID|molecular_consequence">
##INFO=<ID=ORIGIN,Number=.,Type=String,Description="Allele origin. One or more of the following values may be added: 0 - unknown; 1 - germline; 2 - somatic; 4 - inherited; 8 - paternal; 16 - maternal; 32 - de-novo; 64 - biparental; 128 - uniparental; 256 - not-tested; 512 - tested-inconclusive; 1073741824 - other">
##INFO=<ID=RS,Number=.,Type=String,Description="dbSNP ID (i.e. rs number)">
"""  # noqa: E501
GNOMAD_HEADER = """\
##fileformat=VCFv4.2
##reference={build}
##INFO=<ID=AC,Number=A,Type=Integer,Description="Alternate allele count">
##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles">
##INFO=<ID=AF,Number=A,Type=Float,Description="Alternate allele frequency">
##INFO=<ID=AF_grpmax,Number=A,Type=Float,Description="Maximum allele frequency across genetic ancestry groups">
##INFO=<ID=grpmax,Number=A,Type=String,Description="Genetic ancestry group with the maximum allele frequency">
##INFO=<ID=nhomalt,Number=A,Type=Integer,Description="Count of homozygous individuals">
##INFO=<ID=AC_XX,Number=A,Type=Integer,Description="Alternate allele count for XX samples">
##INFO=<ID=AF_XX,Number=A,Type=Float,Description="Alternate allele frequency in XX samples">
##INFO=<ID=AC_XY,Number=A,Type=Integer,Description="Alternate allele count for XY samples">
##INFO=<ID=AF_XY,Number=A,Type=Float,Description="Alternate allele frequency in XY samples">
##INFO=<ID=faf95,Number=A,Type=Float,Description="Filtering allele frequency (using Poisson 95% CI)">
"""  # noqa: E501
SPLICEAI_HEADER = """\
##fileformat=VCFv4.0
##INFO=<ID=SpliceAI,Number=.,Type=String,Description="SpliceAIv1.3 variant annotation. These include delta scores (DS) and delta positions (DP) for acceptor gain (AG), acceptor loss (AL), donor gain (DG), and donor loss (DL). Format: ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL">
"""  # noqa: E501
CADD_HEADER = (
    "## CADD GRCh37-v1.7 (c) University of Washington, Hudson-Alpha Institute for "
    "Biotechnology and Berlin Institute of Health at Charite - Universitatsmedizin Berlin "
    "2013-2023. All rights reserved.\n#Chrom\tPos\tRef\tAlt\tRawScore\tPHRED\n")
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
CLNSIG = ("Benign", "Likely_benign", "Uncertain_significance", "Pathogenic",
          "Likely_pathogenic", "Conflicting_interpretations_of_pathogenicity")
CLNREVSTAT = ("criteria_provided,_single_submitter", "no_assertion_criteria_provided",
              "criteria_provided,_multiple_submitters,_no_conflicts", "reviewed_by_expert_panel")
GROUPS = ("afr", "amr", "asj", "eas", "fin", "nfe", "sas")


# --------------------------------------------------------------------------- query


def run(cmd: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], check=True, text=True, **kwargs)  # type: ignore[call-overload]


def normalised(tiled: Path, records: int, workdir: Path) -> tuple[Path, Path]:
    """The tiled trio split into biallelic records (as the rule's `bcftools norm -m -any`),
    as bgzipped VCF and BCF, both indexed; cached by the tiled file's stamp."""
    vcf, bcf = workdir / f"norm-{records}.vcf.gz", workdir / f"norm-{records}.bcf"
    stamp = workdir / f"norm-{records}.json"
    want = {"tiled": (tiled.with_name(tiled.name + ".json")).read_text()}
    if (stamp.exists() and json.loads(stamp.read_text()) == want and Path(f"{vcf}.tbi").exists()
            and Path(f"{bcf}.csi").exists()):
        return vcf, bcf
    print(f"  normalising {tiled.name} -> {vcf.name}, {bcf.name}", flush=True)
    run(["bcftools", "norm", "--no-version", "-m", "-any", "--threads", "2", "-Oz", "-o", vcf,
         tiled])
    run(["bcftools", "index", "-t", "-f", vcf])
    run(["bcftools", "view", "--no-version", "--threads", "2", "-Ob", "-o", bcf, vcf])
    run(["bcftools", "index", "-f", bcf])
    stamp.write_text(json.dumps(want))
    return vcf, bcf


def count_records(path: Path) -> int:
    return int(run(["bcftools", "index", "-n", path], capture_output=True).stdout.strip())


def query_contigs(vcf: Path) -> Iterator[tuple[str, np.ndarray, list[str], list[str]]]:
    """(contig, positions, REFs, ALTs) of the query, contig by contig, in file order."""
    proc = subprocess.Popen(["bcftools", "query", "-f", "%CHROM\t%POS\t%REF\t%ALT\n", str(vcf)],
                            stdout=subprocess.PIPE, text=True, bufsize=1 << 20)
    assert proc.stdout is not None
    contig, pos, ref, alt = None, [], [], []
    for line in proc.stdout:
        c, p, r, a = line.rstrip("\n").split("\t")
        if c != contig:
            if contig is not None:
                yield contig, np.array(pos, dtype=np.int64), ref, alt
            contig, pos, ref, alt = c, [], [], []
        pos.append(int(p))
        ref.append(r)
        alt.append(a)
    if contig is not None:
        yield contig, np.array(pos, dtype=np.int64), ref, alt
    if proc.wait() != 0:
        raise SystemExit(f"bcftools query failed on {vcf}")


# --------------------------------------------------------------------------- sources


class Writer:
    """Text into `bgzip` into PATH, then `tabix` with `index` options."""

    def __init__(self, path: Path, header: str, index: list[str]) -> None:
        self.path, self.index = path, index
        self.tmp = path.with_name(path.name + ".tmp")
        self.sink = open(self.tmp, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(["bgzip", "-c"], stdin=subprocess.PIPE, stdout=self.sink)
        self.records = 0
        self.write(header, 0)

    def write(self, text: str, records: int) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        self.records += records

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            raise SystemExit(f"bgzip failed writing {self.tmp}")
        self.sink.close()
        self.tmp.replace(self.path)
        run(["tabix", "-f", *self.index, self.path])


def _between(pos: np.ndarray, per_record: float, rng: np.random.Generator) -> np.ndarray:
    """Background positions strictly between consecutive distinct query positions: about
    `per_record` per query record (where the gap allows), sorted."""
    starts, gaps = pos[:-1], np.diff(pos)
    whole, frac = int(per_record), per_record - int(per_record)
    out = []
    for k in range(whole + (1 if frac else 0)):
        keep = gaps > whole + 1
        if k == whole:
            keep &= rng.random(len(gaps)) < frac
        # the k-th of `slots` equal slices of each gap: sorted by construction
        slots = whole + 1
        low = starts + 1 + (gaps - 1) * k // slots
        high = starts + (gaps - 1) * (k + 1) // slots
        ok = keep & (high >= low)
        out.append(low[ok] + (rng.random(int(ok.sum())) * (high[ok] - low[ok] + 1)).astype(
            np.int64))
    return np.sort(np.concatenate(out)) if out else np.empty(0, dtype=np.int64)


def _other(ref: str, rng_value: float) -> str:
    others = [b for b in BASES if b != ref[:1]] or list(BASES[1:])
    return others[int(rng_value * len(others)) % len(others)]


def _merge(lines: list[tuple[int, str]]) -> str:
    lines.sort(key=lambda item: item[0])
    return "".join(text for _, text in lines)


def write_sources(norm: Path, records: int, workdir: Path) -> dict[str, Path]:
    """The four generated sources (bgzipped + indexed), cached by `records`."""
    folder = workdir / f"sources-{records}"
    paths = {"clinvar": folder / "clinvar.vcf.gz", "gnomad": folder / "gnomad.sites.vcf.gz",
             "cadd": folder / "cadd.tsv.gz", "spliceai": folder / "spliceai.snv_indel.vcf.gz"}
    stamp = folder / "stamp.json"
    want = {"version": SOURCES_VERSION, "records": records, "seed": SEED,
            "norm": norm.name, "norm_size": norm.stat().st_size}
    if stamp.exists() and json.loads(stamp.read_text()) == want and all(
            Path(f"{p}.tbi").exists() for p in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    header = run(["bcftools", "view", "-h", norm], capture_output=True).stdout
    contigs = "".join(line + "\n" for line in header.splitlines()
                      if line.startswith("##contig="))
    build = "GRCh37"
    vcf_index = ["-p", "vcf"]
    writers = {
        "clinvar": Writer(paths["clinvar"], CLINVAR_HEADER.format(build=build) + contigs
                          + COLUMNS, vcf_index),
        "gnomad": Writer(paths["gnomad"], GNOMAD_HEADER.format(build=build) + contigs
                         + COLUMNS, vcf_index),
        "cadd": Writer(paths["cadd"], CADD_HEADER, ["-s", "1", "-b", "2", "-e", "2", "-c", "#"]),
        "spliceai": Writer(paths["spliceai"], SPLICEAI_HEADER + contigs + COLUMNS, vcf_index),
    }
    rng = np.random.default_rng(SEED)
    variation_id = 100_000
    print(f"  generating the sources for {records:,} records into {folder}", flush=True)
    for contig, pos, refs, alts in query_contigs(norm):
        n = len(pos)
        u = rng.random((n, 8))
        snv = np.array([len(r) == 1 and len(a) == 1 for r, a in zip(refs, alts, strict=True)])
        # gnomAD: 95% of the records, 2 background sites per record
        lines: list[tuple[int, str]] = []
        for i in np.flatnonzero(u[:, 0] < 0.95):
            lines.append((int(pos[i]), _gnomad(contig, int(pos[i]), refs[i], alts[i], u[i])))
        back = _between(pos, 2.0, rng)
        bu = rng.random((len(back), 8))
        for j, p in enumerate(back):
            ref = BASES[int(bu[j, 7] * 4) % 4]
            lines.append((int(p), _gnomad(contig, int(p), ref, _other(ref, bu[j, 6]), bu[j])))
        writers["gnomad"].write(_merge(lines), len(lines))
        # ClinVar: 3% of the records, 0.2 background records per record
        lines = []
        for i in np.flatnonzero(u[:, 1] < 0.03):
            variation_id += 1 + int(u[i, 2] * 5)
            lines.append((int(pos[i]), _clinvar(contig, int(pos[i]), refs[i], alts[i],
                                                variation_id, u[i])))
        back = _between(pos, 0.2, rng)
        bu = rng.random((len(back), 8))
        for j, p in enumerate(back):
            variation_id += 1 + int(bu[j, 2] * 5)
            ref = BASES[int(bu[j, 7] * 4) % 4]
            lines.append((int(p), _clinvar(contig, int(p), ref, _other(ref, bu[j, 6]),
                                           variation_id, bu[j])))
        writers["clinvar"].write(_merge(lines), len(lines))
        # CADD: the 3 SNVs of each SNV position, 80% of the indels, 1 background position
        # per record (3 SNVs each)
        lines = []
        seen: set[int] = set()
        for i in range(n):
            p = int(pos[i])
            if snv[i]:
                if p not in seen:
                    seen.add(p)
                    lines.append((p, _cadd_position(contig, p, refs[i], u[i, 3])))
            elif u[i, 4] < 0.8:
                lines.append((p, _cadd_row(contig, p, refs[i], alts[i], u[i, 5])))
        back = _between(pos, 1.0, rng)
        bu = rng.random(len(back))
        for j, p in enumerate(back):
            lines.append((int(p), _cadd_position(contig, int(p), BASES[int(bu[j] * 4) % 4],
                                                 bu[j])))
        writers["cadd"].write(_merge(lines), sum(t.count("\n") for _, t in lines))
        # SpliceAI: the 3 SNVs at half of the SNV positions, half of the indels, the 3 SNVs
        # of one background position per 3 records
        lines = []
        seen = set()
        for i in range(n):
            p = int(pos[i])
            if u[i, 6] >= 0.5:
                continue
            if snv[i]:
                if p not in seen:
                    seen.add(p)
                    lines.append((p, _spliceai_position(contig, p, refs[i], u[i])))
            else:
                lines.append((p, _spliceai_row(contig, p, refs[i], alts[i], u[i])))
        back = _between(pos, 1 / 3, rng)
        bu = rng.random((len(back), 8))
        for j, p in enumerate(back):
            lines.append((int(p), _spliceai_position(contig, int(p), BASES[int(bu[j, 7] * 4) % 4],
                                                     bu[j])))
        writers["spliceai"].write(_merge(lines), sum(t.count("\n") for _, t in lines))
    for writer in writers.values():
        writer.close()
    stamp.write_text(json.dumps(want))
    counts = {key: writer.records for key, writer in writers.items()}
    (folder / "records.json").write_text(json.dumps(counts))
    print(f"  sources written in {time.perf_counter() - start:.0f} s: "
          + ", ".join(f"{key} {count:,}" for key, count in counts.items()), flush=True)
    return paths


def _gnomad(contig: str, pos: int, ref: str, alt: str, u: np.ndarray) -> str:
    an = 152_000 - int(u[1] * 2000)
    ac = max(1, int(an * u[2] ** 6))
    af = ac / an
    grp = GROUPS[int(u[3] * len(GROUPS)) % len(GROUPS)]
    grpmax = min(1.0, af * (1 + 2 * u[4]))
    hom = int(ac * af / 2)
    xx = int(ac * u[5])
    return (f"{contig}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\tAC={ac};AN={an};AF={af:.5e};"
            f"AF_grpmax={grpmax:.5e};grpmax={grp};nhomalt={hom};AC_XX={xx};"
            f"AF_XX={2 * xx / an:.5e};AC_XY={ac - xx};AF_XY={2 * (ac - xx) / an:.5e};"
            f"faf95={af * 0.8:.5e}\n")


def _clinvar(contig: str, pos: int, ref: str, alt: str, vid: int, u: np.ndarray) -> str:
    sig = CLNSIG[int(u[3] * len(CLNSIG)) % len(CLNSIG)]
    rev = CLNREVSTAT[int(u[4] * len(CLNREVSTAT)) % len(CLNREVSTAT)]
    kind = "single_nucleotide_variant" if len(ref) == len(alt) == 1 else (
        "Deletion" if len(ref) > len(alt) else "Insertion")
    return (f"{contig}\t{pos}\t{vid}\t{ref}\t{alt}\t.\t.\tALLELEID={vid + 17};"
            f"CLNDN=not_provided;CLNREVSTAT={rev};CLNSIG={sig};CLNVC={kind};"
            f"GENEINFO=GENE{vid % 20000}:{vid % 20000 + 1000};"
            f"MC=SO:0001583|missense_variant;ORIGIN=1;RS={vid * 7}\n")


def _cadd_position(contig: str, pos: int, ref: str, u: float) -> str:
    rows = []
    for k, alt in enumerate(b for b in BASES if b != ref):
        raw = (u * 7 + k) % 7 - 1
        rows.append(f"{contig}\t{pos}\t{ref}\t{alt}\t{raw:.6f}\t{max(0.0, raw * 6 + 8):.3f}\n")
    return "".join(rows)


def _cadd_row(contig: str, pos: int, ref: str, alt: str, u: float) -> str:
    raw = u * 7 - 1
    return f"{contig}\t{pos}\t{ref}\t{alt}\t{raw:.6f}\t{max(0.0, raw * 6 + 8):.3f}\n"


def _spliceai_entry(alt: str, gene: str, u: np.ndarray) -> str:
    ds = [f"{min(1.0, x ** 4):.2f}" for x in u[:4]]
    dp = [str(int((x - 0.5) * 100)) for x in u[4:8]]
    return f"{alt}|{gene}|{'|'.join(ds)}|{'|'.join(dp)}"


def _spliceai_row(contig: str, pos: int, ref: str, alt: str, u: np.ndarray) -> str:
    gene = f"GENE{int(u[0] * 20000)}"
    entries = [_spliceai_entry(alt, gene, u)]
    if u[1] < 0.1:
        entries.append(_spliceai_entry(alt, f"GENE{int(u[2] * 20000)}", u[::-1]))
    return f"{contig}\t{pos}\t.\t{ref}\t{alt}\t.\t.\tSpliceAI={','.join(entries)}\n"


def _spliceai_position(contig: str, pos: int, ref: str, u: np.ndarray) -> str:
    return "".join(_spliceai_row(contig, pos, ref, alt, np.roll(u, k))
                   for k, alt in enumerate(b for b in BASES if b != ref))


# --------------------------------------------------------------------------- engines


VCFANNO_TOML = """\
[[annotation]]
file = "{gnomad}"
fields = ["AF", "AF_grpmax", "nhomalt"]
names = ["GNOMADAF", "GNOMADAF_grpmax", "gnomad_hom"]
ops = ["self", "self", "self"]

[[annotation]]
file = "{clinvar}"
fields = ["CLNSIG", "CLNREVSTAT", "ID"]
names = ["CLNSIG", "CLNREVSTAT", "CLNVID"]
ops = ["self", "self", "self"]

[[annotation]]
file = "{cadd}"
columns = [6]
names = ["CADD_float"]
ops = ["max"]

[[annotation]]
file = "{spliceai}"
fields = ["SpliceAI"]
names = ["SpliceAI"]
ops = ["self"]
"""


def vcfanno_alone(paths: dict[str, Path], query: Path, records: int, out: Path,
                  workdir: Path, procs: int) -> Run:
    conf = out.with_suffix(".toml")
    conf.write_text(VCFANNO_TOML.format(**{k: str(v) for k, v in paths.items()}))
    return timed("vcfanno 0.3.5", f"alone, -p {procs}", query.name, records,
                 ["vcfanno", "-p", str(procs), conf, query], workdir / "logs"
                 / "annotate-vcfanno.log", stdout=out)


def bcftools_alone(paths: dict[str, Path], query: Path, records: int, out: Path,
                   workdir: Path) -> Run:
    """One `bcftools annotate -a` per source; a VCF source needs an indexed input."""
    tmp = out.parent
    header = tmp / "cadd.hdr"
    header.write_text('##INFO=<ID=CADD,Number=1,Type=Float,Description="CADD PHRED">\n')
    s1, s2 = tmp / "chain1.bcf", tmp / "chain2.bcf"
    script = " && ".join([
        "set -euo pipefail",
        f"bcftools annotate --no-version -a {paths['gnomad']} -c "
        "INFO/GNOMADAF:=INFO/AF,INFO/GNOMADAF_grpmax:=INFO/AF_grpmax,INFO/gnomad_hom:="
        f"INFO/nhomalt -Ob1 -o {s1} {query}",
        f"bcftools index -f {s1}",
        f"bcftools annotate --no-version -a {paths['clinvar']} -c "
        f"INFO/CLNSIG,INFO/CLNREVSTAT,INFO/CLNVID:=ID -Ob1 -o {s2} {s1}",
        f"bcftools index -f {s2}",
        f"bcftools annotate --no-version -a {paths['spliceai']} -c INFO/SpliceAI -Ou {s2}"
        f" | bcftools annotate --no-version -a {paths['cadd']} -h {header} "
        f"-c CHROM,POS,REF,ALT,-,CADD -Ou -o {out}",
    ])
    run_ = timed("bcftools 1.16 annotate", "alone, chained", query.name, records,
                 ["bash", "-c", script], workdir / "logs" / "annotate-bcftools.log")
    for path in (s1, s2):
        for p in (path, Path(f"{path}.csi")):
            p.unlink(missing_ok=True)
    return run_


def chr_named(source: Path) -> Path:
    """A copy of the VCF `source` with its contigs named chr1, chr2_tile1, ... (cached)."""
    out = source.with_name(source.name.replace(".vcf.gz", ".chr.vcf.gz"))
    if Path(f"{out}.tbi").exists() and out.stat().st_mtime >= source.stat().st_mtime:
        return out
    names = run(["bcftools", "index", "-s", source], capture_output=True).stdout.splitlines()
    mapping = out.with_suffix(".map")
    mapping.write_text("".join(f"{line.split()[0]}\tchr{line.split()[0]}\n" for line in names))
    run(["bcftools", "annotate", "--no-version", "--rename-chrs", mapping, "-Oz", "-o", out,
         source])
    run(["tabix", "-f", "-p", "vcf", out])
    return out


def helgenom_step(paths: dict[str, Path], query: Path, records: int, out: Path,
                  workdir: Path, threads: int, step: str = "annotate-sources") -> Run:
    """`helgenom annotate-sources` as rule annotate_snv runs it (its config's sources)."""
    exe = REPO / ".venv" / "bin" / "helgenom"
    sources = {"clinvar": {"path": str(paths["clinvar"])},
               "gnomad": {"path": str(paths["gnomad"])},
               "cadd": {"path": str(paths["cadd"])},
               "spliceai": {"path": str(paths["spliceai"])}}
    cmd: list[str | Path] = [exe, "annotate-sources", "--input", query, "--output", out,
                             "--annotation", json.dumps(sources), "--threads", str(threads)]
    return timed("helgenom", step, query.name, records, cmd,
                 workdir / "logs" / f"annotate-helgenom-{out.stem}.log")


def annotated_values(path: Path, out: Path) -> Path:
    """The annotated tags of every record, sorted (vcfanno reorders records of one position),
    written to `out`."""
    fmt = "%CHROM\t%POS\t%REF\t%ALT" + "".join(f"\t%INFO/{t}" for t in TAGS) + "\n"
    with open(out, "w", encoding="utf-8") as sink:
        query = subprocess.Popen(["bcftools", "query", "-f", fmt, str(path)],
                                 stdout=subprocess.PIPE)
        subprocess.run(["sort", "-S", "1G", "--parallel", "2"], stdin=query.stdout, stdout=sink,
                       check=True, env={**os.environ, "LC_ALL": "C"})
        if query.wait() != 0:
            raise SystemExit(f"bcftools query failed on {path}")
    return out


def _compare(reference: Path, other: Path) -> dict[str, object]:
    """Field by field: records, records the same, values differing as numbers (the largest
    relative difference), values differing otherwise (an example)."""
    out: dict[str, object] = {"records": 0, "same_records": 0, "numeric_differences": 0,
                              "max_relative_difference": 0.0, "other_differences": 0,
                              "example": ""}
    with open(reference, encoding="utf-8") as a, open(other, encoding="utf-8") as b:
        for left, right in zip(a, b, strict=False):
            out["records"] += 1  # type: ignore[operator]
            if left == right:
                out["same_records"] += 1  # type: ignore[operator]
                continue
            for x, y in zip(left.rstrip("\n").split("\t"), right.rstrip("\n").split("\t"),
                            strict=False):
                if x == y:
                    continue
                try:
                    fx, fy = float(x), float(y)
                except ValueError:
                    out["other_differences"] += 1  # type: ignore[operator]
                    out["example"] = out["example"] or f"{left.strip()} | {right.strip()}"
                    continue
                out["numeric_differences"] += 1  # type: ignore[operator]
                relative = abs(fx - fy) / max(abs(fx), abs(fy), 1e-300)
                out["max_relative_difference"] = max(out["max_relative_difference"],  # type: ignore[call-overload]
                                                     relative)
    return out


def same_values(outputs: dict[str, Path], tmp: Path) -> list[str]:
    """The runs' annotated values against bcftools' (or the first run's)."""
    values = {name: annotated_values(path, tmp / f"{name}.values.tsv")
              for name, path in outputs.items()}
    first = "bcftools" if "bcftools" in values else next(iter(values))
    notes = []
    for name, path in values.items():
        if name == first:
            continue
        found = _compare(values[first], path)
        if found["same_records"] == found["records"]:
            notes.append(f"{name} and {first}: the same values on all {found['records']:,} "
                         "records")
        else:
            notes.append(
                f"{name} and {first}: {found['same_records']:,} of {found['records']:,} records "
                f"the same; {found['numeric_differences']:,} values differ as numbers (largest "
                f"relative difference {found['max_relative_difference']:.2g}: rounding), "
                f"{found['other_differences']:,} otherwise"
                + (f", e.g. {found['example']}" if found["example"] else ""))
    annotated = {tag: 0 for tag in TAGS}
    with open(values[first], encoding="utf-8") as handle:
        for line in handle:
            for tag, value in zip(TAGS, line.rstrip("\n").split("\t")[4:], strict=True):
                annotated[tag] += value != "."
    notes.append("records with a value: " + ", ".join(f"{t} {n:,}" for t, n in annotated.items()))
    return notes


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=GOAL_RECORDS,
                        help="records of the tiled trio (default %(default)s)")
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "helgenom-bench",
                        help="caches (tiled trio, sources), logs, outputs, JSON "
                             "(default %(default)s; shared with bench_rank.py)")
    parser.add_argument("--keep", action="store_true", help="keep the runs' outputs")
    parser.add_argument("--only", default="vcfanno,bcftools,helgenom,renamed",
                        help="comma-separated runs (default %(default)s; renamed: helgenom "
                        "with ClinVar's contigs named chr*, renamed while annotating)")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="vcfanno -p and helgenom --threads (default: nproc)")
    parser.add_argument("--no-check", action="store_true",
                        help="do not compare the runs' values")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not TRIO_VCF.exists():
        print(f"skipped: the input data is absent ({TRIO_VCF})")
        return 0
    for tool in ("bcftools", "bgzip", "tabix", "/usr/bin/time"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found on PATH")
    wanted = set(args.only.split(","))
    if "vcfanno" in wanted and shutil.which("vcfanno") is None:
        print("vcfanno not found (Debian: apt-get install vcfanno; bioconda: vcfanno): its run "
              "is left out")
        wanted.discard("vcfanno")
    workdir: Path = args.workdir.resolve()
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    outdir = workdir / "out" / time.strftime(f"annotate-%Y%m%d-%H%M%S-{os.getpid()}")
    outdir.mkdir(parents=True)
    machine = machine_info()
    machine["vcfanno"] = next((word for word in subprocess.run(
        ["vcfanno"], capture_output=True, text=True).stderr.split() if word[:1].isdigit()),
        "unknown") if shutil.which("vcfanno") else "not installed"
    print(f"machine: {machine['nproc']} CPUs ({machine['cpu_model']}), "
          f"{machine['memory_gib']} GiB RAM, {machine['bcftools']}, vcfanno "
          f"{machine['vcfanno']}, helgenom at {machine['helgenom_commit']}")
    busy = other_load()
    machine["busy_cores_before"] = round(busy, 2)
    if busy > 0.2:
        print(f"WARNING: the machine is busy before the benchmark ({busy:.1f} cores used by "
              "other processes): wall times will be disturbed; compare CPU s, or rerun later")

    tiled = workdir / f"ashk-trio.tiled-{args.records}.vcf.gz"
    spent = write_tiled(read_source(TRIO_VCF), args.records, tiled, args.threads)
    print(f"query: {tiled.name} ({'cached' if not spent else f'written in {spent:.0f} s'})")
    norm_vcf, norm_bcf = normalised(tiled, args.records, workdir)
    records = count_records(norm_vcf)
    paths = write_sources(norm_vcf, args.records, workdir)
    counts = json.loads((paths["clinvar"].parent / "records.json").read_text())
    print("sources: " + ", ".join(f"{k} {v:,} records" for k, v in counts.items()))

    runs: list[Run] = []
    outputs: dict[str, Path] = {}
    if "vcfanno" in wanted:
        print("\nvcfanno alone", flush=True)
        outputs["vcfanno"] = outdir / "vcfanno.vcf"
        runs.append(vcfanno_alone(paths, norm_vcf, records, outputs["vcfanno"], workdir,
                                  args.threads))
    if "bcftools" in wanted:
        print("\nbcftools annotate alone (chained)", flush=True)
        outputs["bcftools"] = outdir / "bcftools.bcf"
        runs.append(bcftools_alone(paths, norm_bcf, records, outputs["bcftools"], workdir))
    if "helgenom" in wanted:
        print("\nhelgenom annotate-sources (the rule's step)", flush=True)
        outputs["helgenom"] = outdir / "helgenom.bcf"
        runs.append(helgenom_step(paths, norm_bcf, records, outputs["helgenom"], workdir,
                                  args.threads))
    if "renamed" in wanted:
        print("\nhelgenom annotate-sources, ClinVar's contigs named chr1 (renamed while "
              "annotating)", flush=True)
        renamed = {**paths, "clinvar": chr_named(paths["clinvar"])}
        outputs["renamed"] = outdir / "renamed.bcf"
        runs.append(helgenom_step(renamed, norm_bcf, records, outputs["renamed"], workdir,
                                  args.threads, step="annotate-sources, ClinVar named chr*"))
    print("\n" + table(runs))
    engines = [r for r in runs if r.tool != "helgenom" and r.exit_code == 0]
    ours = next((r for r in runs if r.tool == "helgenom" and r.exit_code == 0
                 and r.step == "annotate-sources"), None)
    verdict = "not measured"
    if engines and ours:
        fastest = min(engines, key=lambda r: r.wall_s)
        factor = ours.wall_s / fastest.wall_s
        verdict = (f"helgenom's step within {GOAL_RATIO:.0f}x of the faster engine alone "
                   f"({fastest.tool}, {fastest.wall_s:.1f} s): "
                   f"{'PASS' if factor <= GOAL_RATIO else 'FAIL'} ({factor:.2f}x by wall time, "
                   f"{(ours.user_s + ours.sys_s) / (fastest.user_s + fastest.sys_s):.2f}x "
                   "by CPU time)")
    print(verdict)
    notes: list[str] = []
    if not args.no_check and len([o for o in outputs.values() if o.exists()]) > 1:
        notes = same_values({k: v for k, v in outputs.items() if v.exists()}, outdir)
        print("\n".join(notes))
    report = {"machine": machine, "records": records, "sources": counts,
              "runs": [asdict(r) for r in runs], "goal": verdict, "checks": notes}
    out_json = workdir / f"bench_annotate-{args.records}.json"
    out_json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON: {out_json}")
    if args.keep:
        print(f"outputs kept in {outdir}")
    else:
        shutil.rmtree(outdir, ignore_errors=True)
    return 0 if all(r.exit_code == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
