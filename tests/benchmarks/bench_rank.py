#!/usr/bin/env python3
"""Benchmark `helgenom rank` at whole-genome scale, and side by side with GENMOD 3.12.0.

    python tests/benchmarks/bench_rank.py [--records 5000000] [--genmod-records 200000]
                                          [--workdir DIR] [--keep] [--profile]

What it does (see tests/benchmarks/README.md for the figures measured so far):

1. Tiles the GIAB Ashkenazi trio (`tests/data/giab-trio/ashk-trio.vcf.gz`, 9,940 records,
   GRCh37 chromosomes 1 and 2) to N records. Copy 0 is the original file; copy k >= 1 puts the
   records of chromosome 1 on a new contig `1_tileK` and those of chromosome 2 on `2_tileK`
   (declared in the header with the lengths of 1 and 2, POS unchanged), and suffixes every
   gene symbol in `INFO/BCSQ` with `_tK`, so that each copy is a separate stretch of genome
   with its own genes, as in a real genome. The file is cached in the workdir by N.
2. Runs `helgenom rank` on it under `/usr/bin/time -v` (wall, peak RSS, CPU).
3. Installs GENMOD 3.12.0 into its own venv in the workdir (cached) and runs the GENMOD
   pipeline of GMS sites (`annotate --annotate_regions`, `models -p 2`, `score -c MODEL.ini`)
   on the first M records, next to `helgenom rank` on the same records, and both on the
   original 9,940 records (GENMOD with its bundled GRCh37 gene regions) as a control.
4. Prints a table (and writes it as JSON to the workdir) against the goals: 5M records in
   <= 60 s and <= 2 GB peak RSS, and >= 20x GENMOD's throughput on the same records.

A benchmark, not a test: pytest does not collect it. Its inputs (the trio VCF and PED, GENMOD's
cmms v1.9 rank model) are the copies in tests/data (see tests/data/PROVENANCE.md); set
HELGENOM_SHARED_DATA to a folder with the same layout (giab-trio/, rank-models/) to use
another. Without them it prints 'skipped' and exits 0.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The repository's copies by default; HELGENOM_SHARED_DATA points at another folder laid out
# alike (e.g. ../shared/data).
INPUT_DATA = Path(os.environ.get("HELGENOM_SHARED_DATA", REPO / "tests" / "data"))
TRIO_VCF = INPUT_DATA / "giab-trio" / "ashk-trio.vcf.gz"
TRIO_PED = INPUT_DATA / "giab-trio" / "ashk-trio.ped"
RANK_MODEL = INPUT_DATA / "rank-models" / "genmod_rank_model_cmms_v1.9.ini"

GENMOD_VERSION = "3.12.0"
GENMOD_PROCESSES = 2
# Bump when the tiled output changes: cached files of another version are rebuilt.
TILING_VERSION = 1

GOAL_WALL_S = 60.0
GOAL_RSS_MB = 2048.0
GOAL_RATIO = 20.0
GOAL_RECORDS = 5_000_000

# Placeholders in the record templates: the contig name and the gene-symbol suffix of a copy.
CONTIG_MARK = "\x01"
GENE_MARK = "\x02"


# --------------------------------------------------------------------------- machine


def machine_info() -> dict[str, str | int | float]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
                break
    bcftools = subprocess.run(["bcftools", "--version"], capture_output=True, text=True,
                              check=False).stdout.splitlines()
    git = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                         capture_output=True, text=True, check=False).stdout.strip()
    return {
        "helgenom_commit": git or "unknown",
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "bcftools": bcftools[0] if bcftools else "not found",
    }


# --------------------------------------------------------------------------- tiling


@dataclass
class Block:
    """The records of one source contig, as text templates (CONTIG_MARK, GENE_MARK)."""

    contig: str
    length: int
    lines: list[str]
    text: str = ""


@dataclass
class Source:
    meta: list[str]  # '##' lines
    column_line: str  # '#CHROM ...'
    blocks: list[Block]
    sha256: str


_CONTIG_RE = re.compile(r"^##contig=<ID=([^,>]+)(?:.*?[,<]length=(\d+))?")


def _mark_genes(bcsq: str) -> str:
    """Put GENE_MARK after every gene symbol of a BCSQ value (entries `csq|gene|...`)."""
    entries = []
    for entry in bcsq.split(","):
        fields = entry.split("|")
        if len(fields) > 1 and fields[1] and not entry.startswith("@"):
            fields[1] += GENE_MARK
        entries.append("|".join(fields))
    return ",".join(entries)


def _template(line: str) -> str:
    _chrom, pos, ident, ref, alt, qual, filt, info, rest = line.split("\t", 8)
    if "BCSQ=" in info:
        info = ";".join(_mark_genes(item) if item.startswith("BCSQ=") else item
                        for item in info.split(";"))
    return "\t".join((CONTIG_MARK, pos, ident, ref, alt, qual, filt, info, rest))


def read_source(path: Path) -> Source:
    """The source VCF as header lines plus one template block per contig (file order)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    text = subprocess.run(["bcftools", "view", str(path)], capture_output=True, text=True,
                          check=True).stdout
    meta: list[str] = []
    column_line = ""
    lengths: dict[str, int] = {}
    blocks: list[Block] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("##"):
            meta.append(line)
            match = _CONTIG_RE.match(line)
            if match and match.group(2):
                lengths[match.group(1)] = int(match.group(2))
            continue
        if line.startswith("#"):
            column_line = line
            continue
        chrom = line.split("\t", 1)[0]
        if not blocks or blocks[-1].contig != chrom:
            if any(b.contig == chrom for b in blocks):
                raise SystemExit(f"{path}: records of {chrom} are not contiguous")
            if chrom not in lengths:
                raise SystemExit(f"{path}: contig {chrom} has no length in the header")
            blocks.append(Block(chrom, lengths[chrom], []))
        blocks[-1].lines.append(_template(line))
    for block in blocks:
        block.text = "".join(block.lines)
    return Source(meta, column_line, blocks, digest)


def contig_name(contig: str, copy: int) -> str:
    return contig if copy == 0 else f"{contig}_tile{copy}"


def gene_suffix(copy: int) -> str:
    return "" if copy == 0 else f"_t{copy}"


def layout(source: Source, records: int) -> Iterator[tuple[int, Block, int]]:
    """(copy, block, number of its records to write) until `records` are placed."""
    left, copy = records, 0
    while left > 0:
        for block in source.blocks:
            take = min(left, len(block.lines))
            if take:
                yield copy, block, take
            left -= take
        copy += 1


def tiled_header(source: Source, records: int) -> str:
    """The source header with the new contigs declared after the source's own ones."""
    placed = list(layout(source, records))
    new_contigs = [
        f"##contig=<ID={contig_name(block.contig, copy)},length={block.length}>\n"
        for copy, block, _ in placed if copy > 0
    ]
    last_source_contig = max(
        i for i, line in enumerate(source.meta)
        if (m := _CONTIG_RE.match(line)) and m.group(1) in {b.contig for b in source.blocks}
    )
    copies = placed[-1][0] + 1 if placed else 0
    provenance = (f"##helgenom_bench_tiling=<version={TILING_VERSION},records={records},"
                  f"copies={copies},source={TRIO_VCF.name},source_sha256={source.sha256}>\n")
    meta = source.meta[: last_source_contig + 1] + new_contigs
    meta += [*source.meta[last_source_contig + 1:], provenance]
    return "".join(meta) + source.column_line


def _cache_ok(vcf: Path, stamp: dict[str, object]) -> bool:
    sidecar = vcf.with_name(vcf.name + ".json")
    if not (vcf.exists() and Path(f"{vcf}.tbi").exists() and sidecar.exists()):
        return False
    try:
        return bool(json.loads(sidecar.read_text()) == stamp)
    except json.JSONDecodeError:
        return False


def write_tiled(source: Source, records: int, out: Path, threads: int) -> float:
    """Write `out` (bgzip + .tbi) with `records` records; return seconds spent (0 if cached)."""
    stamp: dict[str, object] = {"records": records, "tiling_version": TILING_VERSION,
                                "source_sha256": source.sha256}
    if _cache_ok(out, stamp):
        return 0.0
    start = time.perf_counter()
    tmp = out.with_name(out.name.replace(".vcf.gz", ".tmp.vcf.gz"))
    with open(tmp, "wb") as sink:
        bgzip = subprocess.Popen(["bgzip", "-@", str(threads), "-c"], stdin=subprocess.PIPE,
                                 stdout=sink)
        assert bgzip.stdin is not None
        bgzip.stdin.write(tiled_header(source, records).encode())
        for copy, block, take in layout(source, records):
            text = block.text if take == len(block.lines) else "".join(block.lines[:take])
            text = text.replace(CONTIG_MARK, contig_name(block.contig, copy))
            bgzip.stdin.write(text.replace(GENE_MARK, gene_suffix(copy)).encode())
        bgzip.stdin.close()
        if bgzip.wait() != 0:
            raise SystemExit(f"bgzip failed writing {tmp}")
    subprocess.run(["bcftools", "index", "-t", "-f", "--threads", str(threads), str(tmp)],
                   check=True)
    written = int(subprocess.run(["bcftools", "index", "-n", str(tmp)], capture_output=True,
                                 text=True, check=True).stdout.strip())
    if written != records:
        raise SystemExit(f"{tmp}: index counts {written} records, expected {records}")
    Path(f"{tmp}.tbi").replace(f"{out}.tbi")
    tmp.replace(out)
    out.with_name(out.name + ".json").write_text(json.dumps(stamp) + "\n")
    return time.perf_counter() - start


def genmod_regions(source: Source, records: int, bundled: Path, out: Path) -> Path:
    """GENMOD's bundled GRCh37 gene regions, repeated on every copy's contigs.

    Copy k gets the regions of the source contig renamed to `CONTIG_tileK` with the gene
    symbols suffixed `_tK`, as the tiled VCF's BCSQ: GENMOD then forms, on every copy, the
    same gene batches as on the original records.
    """
    import gzip

    by_contig: dict[str, list[list[str]]] = {b.contig: [] for b in source.blocks}
    with gzip.open(bundled, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            chrom = parts[0].removeprefix("chr")
            if chrom in by_contig and len(parts) >= 4:
                by_contig[chrom].append(parts)
    lines = []
    for copy, block, _ in layout(source, records):
        for parts in by_contig[block.contig]:
            symbol = parts[3] or (parts[4] if len(parts) > 4 else "")
            lines.append(f"{contig_name(block.contig, copy)}\t{parts[1]}\t{parts[2]}\t"
                         f"{symbol}{gene_suffix(copy) if symbol else ''}\n")
    out.write_text("".join(lines))
    return out


# --------------------------------------------------------------------------- timing


@dataclass
class Run:
    tool: str
    step: str
    input: str
    records: int
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_mb: float  # /usr/bin/time -v: the largest single process of the tree
    tree_rss_mb: float  # sampled every 0.25 s: sum over the whole process tree
    exit_code: int
    log: str
    # CPU seconds other processes used on the machine meanwhile: > 10% of wall means the
    # figures are disturbed (a shared machine), and the run should be repeated.
    other_cpu_s: float = 0.0
    extra: dict[str, int | float | str] = field(default_factory=dict)

    @property
    def records_per_s(self) -> float:
        return self.records / self.wall_s if self.wall_s > 0 else 0.0


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_rss_bytes(root: int) -> int:
    tree, total, todo = _children(), 0, [root]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm", encoding="utf-8") as handle:
                total += int(handle.read().split()[1]) * page
        except OSError:
            pass
    return total


class TreeRssSampler(threading.Thread):
    """Peak of the summed RSS of a process and all its descendants, sampled."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.pid))
            self._stop_event.wait(self.interval)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def busy_cpu_seconds() -> float:
    """CPU time (all cores, all processes) the machine has been busy since boot."""
    with open("/proc/stat", encoding="utf-8") as handle:
        ticks = [int(v) for v in handle.readline().split()[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def other_load(seconds: float = 3.0) -> float:
    """Cores kept busy by other processes over the next `seconds`."""
    start = busy_cpu_seconds()
    time.sleep(seconds)
    return (busy_cpu_seconds() - start) / seconds


def _time_field(text: str, label: str) -> str:
    match = re.search(rf"^\s*{re.escape(label)}[^:]*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "0"


def timed(tool: str, step: str, input_name: str, records: int, cmd: Sequence[str | Path],
          log: Path, stdout: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run `cmd` under /usr/bin/time -v; its stderr (and time's report) go to `log`."""
    full = ["/usr/bin/time", "-v", *map(str, cmd)]
    print(f"  $ {' '.join(map(str, cmd))}", flush=True)
    with open(log, "w", encoding="utf-8") as err, \
            open(stdout or os.devnull, "wb") as out:
        busy = busy_cpu_seconds()
        start = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=err, env=env)
        sampler = TreeRssSampler(proc.pid)
        sampler.start()
        proc.wait()
        wall = time.perf_counter() - start
        peak_tree = sampler.stop()
        busy = busy_cpu_seconds() - busy
    report = log.read_text(encoding="utf-8", errors="replace")
    signal = re.search(r"Command terminated by signal (\d+)", report)
    exit_code = -int(signal.group(1)) if signal else int(_time_field(report, "Exit status"))
    run = Run(
        tool=tool, step=step, input=input_name, records=records, wall_s=round(wall, 2),
        user_s=float(_time_field(report, "User time")),
        sys_s=float(_time_field(report, "System time")),
        max_rss_mb=round(int(_time_field(report, "Maximum resident set size")) / 1024, 1),
        tree_rss_mb=round(peak_tree / 1024 / 1024, 1),
        exit_code=exit_code, log=str(log),
    )
    run.other_cpu_s = round(max(0.0, busy - run.user_s - run.sys_s), 1)
    status = ("ok" if exit_code == 0 else
              f"FAILED (killed by signal {-exit_code}, see {log})" if exit_code < 0 else
              f"FAILED (exit {exit_code}, see {log})")
    if run.other_cpu_s > 0.1 * run.wall_s:
        status += (f"; WARNING: other processes used {run.other_cpu_s:.0f} CPU s meanwhile, "
                   "the figures are disturbed")
    print(f"    {run.wall_s:.1f} s wall, {run.user_s + run.sys_s:.1f} s CPU, "
          f"peak RSS {run.max_rss_mb:.0f} MB (tree {run.tree_rss_mb:.0f} MB): {status}",
          flush=True)
    if run.exit_code != 0:
        tail = report.split("\tCommand being timed")[0].strip().splitlines()[-15:]
        print("    " + "\n    ".join(tail), flush=True)
    return run


# --------------------------------------------------------------------------- tools


def helgenom_exe() -> Path:
    local = REPO / ".venv" / "bin" / "helgenom"
    found = local if local.exists() else shutil.which("helgenom")
    if not found:
        raise SystemExit("helgenom not found: run `make venv` first")
    return Path(found)


def run_helgenom(vcf: Path, records: int, input_name: str, workdir: Path, outdir: Path,
                 tag: str) -> Run:
    prefix = outdir / f"helgenom-{tag}"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    cmd = [helgenom_exe(), "rank", "--vcf", vcf, "--ped", TRIO_PED, "--out", prefix]
    run = timed("helgenom rank", "rank", input_name, records, cmd,
                workdir / "logs" / f"helgenom-{tag}.log")
    tsv, out_vcf = Path(f"{prefix}.candidates.tsv"), Path(f"{prefix}.vcf.gz")
    if run.exit_code == 0:
        missing = [p.name for p in (tsv, out_vcf, Path(f"{out_vcf}.tbi")) if not p.exists()]
        if missing:
            print(f"    outputs missing: {', '.join(missing)}")
            run.exit_code = -1
        else:
            with open(tsv, "rb") as handle:
                run.extra["candidates"] = sum(1 for _ in handle) - 1
            counted = subprocess.run(["bcftools", "index", "-n", str(out_vcf)],
                                     capture_output=True, text=True, check=False).stdout
            run.extra["output_records"] = int(counted.strip() or 0)
            print(f"    {run.extra['candidates']:,} candidates, "
                  f"{run.extra['output_records']:,} records in {out_vcf.name}")
    return run


def ensure_genmod(workdir: Path) -> Path:
    """GENMOD in its own venv in the workdir (never the project's venv); cached."""
    venv = workdir / "genmod-venv"
    exe = venv / "bin" / "genmod"
    if exe.exists():
        version = subprocess.run([str(exe), "--version"], capture_output=True, text=True,
                                 check=False).stdout
        if GENMOD_VERSION in version:
            return exe
    print(f"installing genmod {GENMOD_VERSION} into {venv}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet",
                    f"genmod=={GENMOD_VERSION}"], check=True)
    return exe


def genmod_bundled_regions(exe: Path) -> Path:
    python = exe.parent / "python"
    code = ("import genmod, pathlib; print(pathlib.Path(genmod.__file__).parent / "
            "'annotations' / 'ensembl_genes_37.txt.gz')")
    return Path(subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                               check=True).stdout.strip())


def run_genmod(exe: Path, vcf: Path, records: int, input_name: str, workdir: Path,
               outdir: Path, tag: str, region_file: Path | None) -> list[Run]:
    """annotate (gene regions) -> models (-p 2) -> score (cmms v1.9), each step timed."""
    out = outdir
    out.mkdir(parents=True, exist_ok=True)
    annotated = out / f"genmod-{tag}.annotated.vcf"
    models = out / f"genmod-{tag}.models.vcf"
    scored = out / f"genmod-{tag}.scored.vcf"
    logs = workdir / "logs"
    regions = ["--region-file", region_file] if region_file else []
    steps: list[tuple[str, list[str | Path], Path]] = [
        ("annotate", [exe, "annotate", "--annotate_regions", *regions, vcf, "-o", annotated],
         annotated),
        ("models", [exe, "models", "--family_file", TRIO_PED, "--processes",
                    str(GENMOD_PROCESSES), annotated, "-o", models], models),
        # The cmms model scores INFO keys that this VCF lacks (1000GAF, CADD, ...): GENMOD
        # refuses such a model unless told to go on, and then scores what it has.
        ("score", [exe, "score", "--family_file", TRIO_PED, "--score_config", RANK_MODEL,
                   "--rank_results", "--skip_plugin_check", models, "-o", scored], scored),
    ]
    runs = []
    for step, cmd, result in steps:
        run = timed("GENMOD", step, input_name, records, cmd, logs / f"genmod-{tag}-{step}.log")
        runs.append(run)
        if run.exit_code != 0 or not result.exists():
            print(f"    GENMOD {step} failed; later steps skipped")
            break
        run.extra["output_records"] = _count_records(result)
    return runs


def _count_records(vcf: Path) -> int:
    with open(vcf, "rb") as handle:
        return sum(1 for line in handle if not line.startswith(b"#"))


def total_run(runs: list[Run], tool: str, input_name: str, records: int) -> Run:
    ok = len(runs) == 3 and all(r.exit_code == 0 for r in runs)
    return Run(
        tool=tool, step="total", input=input_name, records=records,
        wall_s=round(sum(r.wall_s for r in runs), 2),
        user_s=round(sum(r.user_s for r in runs), 2), sys_s=round(sum(r.sys_s for r in runs), 2),
        max_rss_mb=max((r.max_rss_mb for r in runs), default=0.0),
        tree_rss_mb=max((r.tree_rss_mb for r in runs), default=0.0),
        exit_code=0 if ok else 1, log="",
        other_cpu_s=round(sum(r.other_cpu_s for r in runs), 1),
        extra={"scored_records": runs[-1].extra.get("output_records", 0) if ok else 0},
    )


# --------------------------------------------------------------------------- profile


def profile_helgenom(vcf: Path, records: int, workdir: Path, outdir: Path, top: int = 25
                     ) -> Path:
    """cProfile of `helgenom rank` on `vcf`: print the top functions, keep the .pstats."""
    import pstats

    python = helgenom_exe().parent / "python"
    stats = workdir / f"helgenom-rank-{records}.pstats"
    prefix = outdir / f"helgenom-profile-{records}"
    print(f"\ncProfile of helgenom rank on {records:,} records", flush=True)
    subprocess.run([str(python), "-m", "cProfile", "-o", str(stats), "-m", "helgenom.cli",
                    "rank", "--vcf", str(vcf), "--ped", str(TRIO_PED), "--out", str(prefix)],
                   check=True)
    for key in ("cumulative", "tottime"):
        print(f"\n-- top {top} by {key} --")
        pstats.Stats(str(stats)).sort_stats(key).print_stats(top)
    return stats


# --------------------------------------------------------------------------- report


def table(runs: list[Run]) -> str:
    head = ("tool", "step", "input", "records", "wall s", "records/s", "peak RSS MB",
            "tree RSS MB", "CPU s", "other CPU s", "status")
    rows = [head]
    for r in runs:
        rows.append((r.tool, r.step, r.input, f"{r.records:,}", f"{r.wall_s:.1f}",
                     f"{r.records_per_s:,.0f}", f"{r.max_rss_mb:,.0f}", f"{r.tree_rss_mb:,.0f}",
                     f"{r.user_s + r.sys_s:.1f}", f"{r.other_cpu_s:.1f}",
                     ("FAILED" if r.exit_code else
                      "ok, disturbed" if r.other_cpu_s > 0.1 * r.wall_s else "ok")))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) if i >= 3 else c.ljust(w) for i, (c, w) in
                       enumerate(zip(row, widths, strict=True))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def ratio(fast: Run | None, slow: Run | None, cpu: bool = False) -> float | None:
    """Throughput of `fast` over `slow` (same records): by wall time, or by CPU time (which
    a busy shared machine disturbs less)."""
    if not fast or not slow or fast.exit_code or slow.exit_code or not fast.wall_s:
        return None
    if cpu:
        fast_cpu, slow_cpu = fast.user_s + fast.sys_s, slow.user_s + slow.sys_s
        return round(slow_cpu / fast_cpu, 1) if fast_cpu else None
    return round(fast.records_per_s / slow.records_per_s, 1)


def verdicts(main: Run | None, ratios: dict[str, float | None]) -> list[str]:
    out = []
    if main is not None:
        scale = ("" if main.records == GOAL_RECORDS else
                 f" (measured at {main.records:,} records, the goal is for {GOAL_RECORDS:,})")
        ok = main.exit_code == 0
        out.append(f"helgenom wall <= {GOAL_WALL_S:.0f} s: "
                   f"{'PASS' if ok and main.wall_s <= GOAL_WALL_S else 'FAIL'} "
                   f"({main.wall_s:.1f} s; CPU {main.user_s + main.sys_s:.1f} s, other processes "
                   f"{main.other_cpu_s:.0f} CPU s){scale}")
        peak = max(main.max_rss_mb, main.tree_rss_mb)
        out.append(f"helgenom peak RSS <= {GOAL_RSS_MB:.0f} MB: "
                   f"{'PASS' if ok and peak <= GOAL_RSS_MB else 'FAIL'} ({peak:,.0f} MB){scale}")
    value, by_cpu = ratios.get("slice"), ratios.get("slice_cpu")
    out.append(f"helgenom/GENMOD throughput >= {GOAL_RATIO:.0f}x: "
               + ("not measured" if value is None else
                  f"{'PASS' if value >= GOAL_RATIO else 'FAIL'} ({value}x by wall time, "
                  f"{by_cpu}x by CPU time)"))
    return out


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=GOAL_RECORDS,
                        help="records in the tiled background (default %(default)s)")
    parser.add_argument("--genmod-records", type=int, default=200_000,
                        help="records of the side-by-side run with GENMOD (default %(default)s);"
                             " 0 skips GENMOD")
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "helgenom-bench",
                        help="caches (tiled VCFs, GENMOD venv), logs, outputs, JSON "
                             "(default %(default)s)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the tools' outputs (workdir/out); caches are always kept")
    parser.add_argument("--profile", action="store_true",
                        help="also run helgenom rank on the tiled file under cProfile")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="bgzip/index threads when tiling (default: nproc)")
    args = parser.parse_args(argv)
    if args.records < 1 or args.genmod_records < 0:
        parser.error("--records must be >= 1 and --genmod-records >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = [p for p in (TRIO_VCF, TRIO_PED, RANK_MODEL) if not p.exists()]
    if missing:
        print(f"skipped: the input data is absent ({', '.join(map(str, missing))}); "
              "set HELGENOM_SHARED_DATA to a folder with giab-trio/ and rank-models/")
        return 0
    for tool in ("bcftools", "bgzip", "tabix", "/usr/bin/time"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found on PATH")
    workdir: Path = args.workdir.resolve()
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    # This run's outputs only (other runs may share the workdir); removed unless --keep.
    outdir = workdir / "out" / time.strftime(f"run-%Y%m%d-%H%M%S-{os.getpid()}")
    outdir.mkdir(parents=True)
    machine = machine_info()
    print(f"machine: {machine['nproc']} CPUs ({machine['cpu_model']}), "
          f"{machine['memory_gib']} GiB RAM, {machine['bcftools']}, "
          f"helgenom at {machine['helgenom_commit']}")
    print(f"workdir: {workdir}")
    busy = other_load()
    machine["busy_cores_before"] = round(busy, 2)
    if busy > 0.2:
        print(f"WARNING: the machine is busy before the benchmark ({busy:.1f} cores used by "
              "other processes): wall times will be disturbed; compare CPU s, or rerun later")

    source = read_source(TRIO_VCF)
    n_source = sum(len(b.lines) for b in source.blocks)
    runs: list[Run] = []
    tiled = workdir / f"ashk-trio.tiled-{args.records}.vcf.gz"
    print(f"\ntiling {n_source:,} records to {args.records:,} -> {tiled.name}", flush=True)
    spent = write_tiled(source, args.records, tiled, args.threads)
    print(f"  {'cached' if spent == 0 else f'written in {spent:.1f} s'} "
          f"({tiled.stat().st_size / 1e6:,.0f} MB)")

    print(f"\nhelgenom rank on {args.records:,} records", flush=True)
    main_run = run_helgenom(tiled, args.records, "tiled", workdir, outdir,
                            f"tiled-{args.records}")
    runs.append(main_run)

    ratios: dict[str, float | None] = {}
    slice_n = min(args.genmod_records, args.records)
    if slice_n:
        sliced = workdir / f"ashk-trio.tiled-{slice_n}.vcf.gz"
        if sliced != tiled:
            # The tiling is deterministic: tiling to M records gives the first M records of
            # any longer tiling (only the header declares fewer contigs).
            write_tiled(source, slice_n, sliced, args.threads)
        exe = ensure_genmod(workdir)
        bundled = genmod_bundled_regions(exe)
        regions = genmod_regions(source, slice_n, bundled,
                                 workdir / f"genmod-regions-{slice_n}.bed")
        print(f"\nGENMOD {GENMOD_VERSION} vs helgenom rank on the first {slice_n:,} records",
              flush=True)
        g_runs = run_genmod(exe, sliced, slice_n, "slice", workdir, outdir, f"slice-{slice_n}",
                            regions)
        g_total = total_run(g_runs, "GENMOD", "slice", slice_n)
        h_slice = run_helgenom(sliced, slice_n, "slice", workdir, outdir, f"slice-{slice_n}")
        runs += [*g_runs, g_total, h_slice]
        ratios["slice"] = ratio(h_slice, g_total)
        ratios["slice_cpu"] = ratio(h_slice, g_total, cpu=True)

        print(f"\ncontrol: the original {n_source:,} records (GENMOD with its bundled "
              "GRCh37 gene regions)", flush=True)
        c_runs = run_genmod(exe, TRIO_VCF, n_source, "original", workdir, outdir, "original",
                            None)
        c_total = total_run(c_runs, "GENMOD", "original", n_source)
        h_orig = run_helgenom(TRIO_VCF, n_source, "original", workdir, outdir, "original")
        runs += [*c_runs, c_total, h_orig]
        ratios["original"] = ratio(h_orig, c_total)
        ratios["original_cpu"] = ratio(h_orig, c_total, cpu=True)

    print("\n" + table(runs))
    print(f"\nthroughput helgenom/GENMOD (by wall time; by CPU time): first {slice_n:,} "
          f"records: {ratios.get('slice') or 'n/a'}x; {ratios.get('slice_cpu') or 'n/a'}x. "
          f"Original {n_source:,} records: {ratios.get('original') or 'n/a'}x; "
          f"{ratios.get('original_cpu') or 'n/a'}x")
    print(f"machine: nproc {machine['nproc']}, {machine['cpu_model']}, "
          f"{machine['memory_gib']} GiB")
    goals = verdicts(main_run, ratios)
    print("goals:\n  " + "\n  ".join(goals))

    report = {
        "machine": machine, "records": args.records, "genmod_records": slice_n,
        "tiled_vcf": str(tiled), "runs": [asdict(r) | {"records_per_s": round(r.records_per_s)}
                                          for r in runs],
        "throughput_ratio_helgenom_over_genmod": ratios, "goals": goals,
    }
    out_json = workdir / f"bench_rank-{args.records}.json"
    out_json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON: {out_json}")

    if args.profile:
        profile_helgenom(tiled, args.records, workdir, outdir)
    if args.keep:
        print(f"outputs kept in {outdir}")
    else:
        shutil.rmtree(outdir, ignore_errors=True)
    return 0 if all(r.exit_code == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
