"""Mitochondrial calls from a pileup's allele depths: heteroplasmy level, genotype, quality.

Nuclear callers assume two copies: a 10% heteroplasmy looks like noise to them and a 40% one
like a poor heterozygote. Here the calls come from the read counts of every allele that a
pileup reports at every chrM position (`bcftools mpileup -a FORMAT/AD,FORMAT/DP`, all sites,
no model): per sample and ALT allele,

- HL (heteroplasmy level) = ALT reads / reads of all alleles at the position;
- GT = `0/1` (heteroplasmic) when HL >= min_af and the ALT has >= min_alt_reads reads, `1`
  (homoplasmic) when moreover HL >= 1 - min_af, else `0` (absent), `.` without reads;
- GQ = Phred of the probability that the reads arose from the nearest other call (binomial:
  an absent allele shows only sequencing errors, ERROR_RATE; a heteroplasmy at the
  threshold, min_af reads in every 1/min_af), capped at 99.

A site (one record per ALT allele) is written when some sample carries the allele; the
family's samples keep the pileup's order (that of the nuclear calls). Records are
bi-allelic with REF and ALT trimmed of their common suffix.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from helgenom.errors import InputError, Problem

ERROR_RATE = 0.005  # per base, of an allele that is not there (after base-quality filters)
MAX_GQ = 99
SYMBOLIC = ("<*>", "<X>", "<NON_REF>")
MITO_NAME = re.compile(r"^(chr)?(M|MT)$")

HEADER_LINES = (
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype: 0 absent, 0/1 heteroplasmic, '
    '1 homoplasmic (helgenom mito-call)">',
    '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality: Phred of the '
    'probability of the reads under the nearest other call (helgenom mito-call)">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt '
    'alleles in the order listed">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Reads of every allele at the position">',
    '##FORMAT=<ID=HL,Number=A,Type=Float,Description="Heteroplasmy level: the fraction of the '
    'reads with the ALT allele (helgenom mito-call)">',
)


@dataclass(frozen=True)
class MitoParams:
    """Thresholds of a call (see the module doc)."""

    min_af: float = 0.03
    min_alt_reads: int = 5

    def problems(self) -> list[Problem]:
        out = []
        if not 0 < self.min_af < 0.5:  # NaN too
            out.append(Problem("--min-af", 0, None, str(self.min_af),
                               "must be a heteroplasmy level above 0 and below 0.5"))
        if not self.min_alt_reads >= 1:
            out.append(Problem("--min-alt-reads", 0, None, str(self.min_alt_reads),
                               "must be 1 or more"))
        return out


def _log_binomial(k: int, n: int, p: float) -> float:
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p))


def binomial_tail(k: int, n: int, p: float, upper: bool) -> float:
    """P(X >= k) (upper) or P(X <= k) of X ~ Binomial(n, p)."""
    terms = range(k, n + 1) if upper else range(0, k + 1)
    logs = [_log_binomial(i, n, p) for i in terms]
    if not logs:
        return 0.0
    top = max(logs)
    return min(1.0, math.exp(top) * sum(math.exp(v - top) for v in logs))


def _phred(probability: float) -> int:
    if probability <= 0:
        return MAX_GQ
    return max(0, min(MAX_GQ, round(-10 * math.log10(probability))))


def call_sample(ref_reads: int, alt_reads: int, depth: int, params: MitoParams
                ) -> tuple[str, float | None, int | None]:
    """(GT, HL, GQ) of one sample and ALT allele; `depth` counts the reads of all alleles."""
    if depth <= 0:
        return ".", None, None
    level = alt_reads / depth
    carried = level >= params.min_af and alt_reads >= params.min_alt_reads
    if not carried:
        # the nearest other call: a heteroplasmy at the threshold, showing this few reads
        return "0", level, _phred(binomial_tail(alt_reads, depth, params.min_af, upper=False))
    absent = binomial_tail(alt_reads, depth, ERROR_RATE, upper=True)
    others = depth - alt_reads
    if level >= 1 - params.min_af:
        heteroplasmic = binomial_tail(others, depth, params.min_af, upper=False)
        return "1", level, _phred(max(absent, heteroplasmic))
    homoplasmic = binomial_tail(others, depth, ERROR_RATE, upper=True)
    return "0/1", level, _phred(max(absent, homoplasmic))


def _trim(ref: str, alt: str) -> tuple[str, str]:
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    return ref, alt


def _level(value: float | None) -> str:
    return "." if value is None else f"{value:.4g}"


@dataclass
class CallCounts:
    positions: int = 0
    records: int = 0


def call_records(lines: Iterable[str], params: MitoParams, source: str = "-",
                 counts: CallCounts | None = None) -> Iterator[str]:
    """The calls (VCF text, header first) of a pileup's VCF text `lines` (see the module doc).
    InputError naming `source` and the line of a record that does not read."""
    counts = counts if counts is not None else CallCounts()
    samples: list[str] | None = None
    has_ad = False
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\n")
        if line.startswith("##"):
            if line.startswith("##FORMAT=<ID=AD,"):
                has_ad = True
            if line.startswith(("##fileformat", "##contig", "##reference")):
                yield line + "\n"
            continue
        if line.startswith("#CHROM"):
            fields = line.split("\t")
            samples = fields[9:]
            if not has_ad or not samples:
                raise InputError([Problem(source, number, "header", line[:60], (
                    "not a pileup with per-sample allele depths: run bcftools mpileup with "
                    "-a FORMAT/AD,FORMAT/DP" if samples else "no samples in the pileup"))])
            yield from (f"{h}\n" for h in HEADER_LINES)
            yield "##source=helgenom mito-call\n"
            yield "\t".join([*fields[:9], *samples]) + "\n"
            continue
        if not line:
            continue
        if samples is None:
            raise InputError([Problem(source, number, "header", line[:40],
                                      "a record before the #CHROM header line: not a VCF")])
        yield from _call_line(line, number, samples, params, source, counts)
    if samples is None:
        raise InputError([Problem(source, 0, "header", "", "no '#CHROM' header line: not the "
                                  "VCF of a pileup (bcftools mpileup -Ov)")])


def _call_line(line: str, number: int, samples: list[str], params: MitoParams, source: str,
               counts: CallCounts) -> Iterator[str]:
    fields = line.split("\t")
    if len(fields) != 9 + len(samples):
        raise InputError([Problem(source, number, None, line[:60],
                                  f"{len(fields)} columns, not {9 + len(samples)}")])
    counts.positions += 1
    chrom, pos, _, ref, alts = fields[:5]
    keys = fields[8].split(":")
    if "AD" not in keys:
        raise InputError([Problem(source, number, "FORMAT", fields[8], "no AD")])
    at = keys.index("AD")
    alleles = [ref, *alts.split(",")]
    depths = []
    for sample, value in zip(samples, fields[9:], strict=True):
        parts = value.split(":")
        raw = parts[at] if at < len(parts) else "."
        try:
            reads = [0 if x == "." else int(x) for x in raw.split(",")]
        except ValueError:
            raise InputError([Problem(source, number, f"{sample}:AD", raw,
                                      "not a list of read counts")]) from None
        if raw != "." and len(reads) != len(alleles):
            raise InputError([Problem(source, number, f"{sample}:AD", raw,
                                      f"{len(reads)} counts for {len(alleles)} alleles")])
        depths.append(reads if raw != "." else [0] * len(alleles))
    for index, alt in enumerate(alleles[1:], start=1):
        if alt in SYMBOLIC or alt.startswith("<"):
            continue
        calls = [call_sample(d[0], d[index], sum(d), params) for d in depths]
        if not any(gt in ("0/1", "1") for gt, _, _ in calls):
            continue
        trimmed_ref, trimmed_alt = _trim(ref, alt)
        cells = [f"{gt}:{'.' if gq is None else gq}:{d[0]},{d[index]}:{sum(d)}:{_level(hl)}"
                 for (gt, hl, gq), d in zip(calls, depths, strict=True)]
        counts.records += 1
        yield "\t".join([chrom, pos, ".", trimmed_ref, trimmed_alt, ".", "PASS", ".",
                         "GT:GQ:AD:DP:HL", *cells]) + "\n"


def write_calls(lines: Iterable[str], out: Path | str, params: MitoParams,
                source: str = "-") -> CallCounts:
    """The calls of `lines` as an indexed BCF `out` (+ .csi): written beside it, checked
    (bcftools' count of the records written) and then renamed into place."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    counts = CallCounts()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".bcf", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        proc = subprocess.Popen(["bcftools", "view", "--no-version", "-Ob", "-o", str(tmp), "-"],
                                stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdin is not None and proc.stderr is not None
        try:
            for text in call_records(lines, params, source, counts):
                proc.stdin.write(text)
        finally:
            proc.stdin.close()
            errors = proc.stderr.read()
            status = proc.wait()
        if status != 0 or "[E::" in errors:
            raise RuntimeError(f"bcftools view could not write {out}: {errors.strip()}")
        subprocess.run(["bcftools", "index", "-f", str(tmp)], check=True, capture_output=True)
        written = subprocess.run(["bcftools", "index", "-n", str(tmp)], check=True,
                                 capture_output=True, text=True).stdout.strip()
        if int(written or 0) != counts.records:
            raise RuntimeError(f"{out}: {written} records written of {counts.records}")
        os.replace(f"{tmp}.csi", f"{out}.csi")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.csi").unlink(missing_ok=True)
    return counts


def resolve_contig(setting: str, contigs: Iterable[str]) -> str | None:
    """The contig that `calling.mito.contig` names among the calling `contigs`: `auto`, the
    mitochondrial one if any (chrM, MT, ...); "" none (mito calling off); else that contig,
    which must be one of them (InputError)."""
    contigs = list(contigs)
    if not setting:
        return None
    if setting == "auto":
        return next((c for c in contigs if MITO_NAME.match(c)), None)
    if setting not in contigs:
        raise InputError([Problem("config", 0, "calling.mito.contig", setting,
                                  f"not a contig to call on (they are {', '.join(contigs[:10])}"
                                  f"{' ...' if len(contigs) > 10 else ''})")])
    return setting
