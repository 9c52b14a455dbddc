#!/usr/bin/env python3
"""Benchmark `helgenom freqdb` at whole-genome scale, against databases of 1 to 1,000 cases,
and side by side with `bcftools annotate` adding the same four INFO keys.

    python tests/benchmarks/bench_freqdb.py [--records 5000000] [--cases 1,10,100,1000]
                                            [--peer-cases 100] [--workdir DIR] [--keep]

The family: bench_rank.py's tiled GIAB trio (5M records, 1,007 contigs; made and cached the
same way, in the same workdir). For each number of cases N:

1. A database of N simulated earlier families (cached per N in the workdir). Built in bulk
   through helgenom.freqdb.store (the same shards, manifest and files a load writes), not by
   N loads of 5M-record VCFs (~20 s each): each family carries each of the trio's 5M sites
   at that site's population frequency (70% common, AF 0.05-0.6; 30% rare, AF 0.0005-0.02;
   a family carries a site with P = 1-(1-AF)^4, two parents' four haplotypes, homozygous with
   P = 1-(1-AF^2)^3) plus PRIVATE_PER_FAMILY novel SNVs of its own (its parents' singletons),
   so the database grows like a real one: ~5M + N x 80k distinct variants (1000 Genomes:
   ~85M variants in 2,504 people). Each family has a genotype profile of 3 x 1,600 sites.
2. `helgenom freqdb load` of the trio into a copy of it (the profile check against N
   cases, every shard rewritten), `export`, then `annotate` of the trio's 5M records with
   the trio's own case left out, each under /usr/bin/time (wall, CPU, peak RSS of the
   largest process and of the process tree).
3. At N = --peer-cases: `bcftools annotate -a EXPORT -c INFO/Obs,INFO/Hom,INFO/Hem,INFO/Frq`
   on the same 5M records with the export of the N cases (before the trio was loaded, so
   that both leave the trio out) and `tabix`; the two outputs' Obs/Hom/Hem/Frq must agree
   record by record (`bcftools query`, compared by MD5).

Prints a table (and writes JSON to the workdir) against the goals: load <= 30 s, annotate
<= 20 s, peak RSS <= 2 GB, a 1,000-case database queried at the same speed. A benchmark,
not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from helgenom.freqdb import profile, store
from helgenom.freqdb.keys import allele_codes, strings, variant_keys
from helgenom.freqdb.load import header_contigs, query_sites
from helgenom.io.vcf import read_header

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_rank as br  # the tiling, timing and machine figures

MODEL_VERSION = 2
PRIVATE_PER_FAMILY = 80_000
PROFILE_SITES = 1_600
COMMON_SHARE = 0.7
GOAL_LOAD_S = 30.0
GOAL_ANNOTATE_S = 20.0
GOAL_RSS_MB = 2048.0
QUERY_CASE = "TRIO"


# --------------------------------------------------------------------------- databases


def site_table(vcf: Path) -> tuple[dict[str, int | None], pa.Table]:
    """The trio's contigs (name -> length) and sites (CHROM, POS, REF, ALT, key)."""
    contigs = header_contigs(read_header(vcf))
    sites = query_sites(vcf)
    keys = variant_keys(sites["POS"].to_numpy(), allele_codes(sites["REF"], sites["ALT"]))
    return contigs, sites.append_column("key", pa.array(keys, pa.uint64()))


def build_db(db: Path, cases: int, contigs: dict[str, int | None], sites: pa.Table,
             seed: int = 1) -> None:
    """A database of `cases` simulated families (see the module doc), written in bulk."""
    rng = np.random.default_rng([seed, cases])
    shutil.rmtree(db, ignore_errors=True)
    (db / "cases").mkdir(parents=True)
    (db / "shards").mkdir()
    manifest = store.empty_manifest()
    manifest.update(sv_distance=500, build="human_g1k_v37_decoy.fasta")
    index = store.contig_indices(manifest, contigs, "bench")
    token = store.new_token(manifest)
    n = sites.num_rows
    site_rng = np.random.default_rng(seed)  # the same frequencies for every N
    common = site_rng.random(n) < COMMON_SHARE
    af = np.where(common, site_rng.uniform(0.05, 0.6, n),
                  np.exp(site_rng.uniform(np.log(0.0005), np.log(0.02), n)))
    obs = rng.binomial(cases, 1 - (1 - af) ** 4)
    hom = np.minimum(rng.binomial(cases, 1 - (1 - af ** 2) ** 3), obs)
    contig = _contig_codes(strings(sites["CHROM"]), index)
    names = list(contigs)
    lengths = np.array([contigs[c] or 1_000_000 for c in names], dtype=np.float64)
    private = rng.multinomial(cases * PRIVATE_PER_FAMILY, lengths / lengths.sum())
    bases = np.array(list("ACGT"))
    order = np.argsort(contig, kind="stable")
    bounds = np.searchsorted(contig[order], np.arange(len(names) + 1))
    shard_parts: dict[str, list[pa.Table]] = {}
    for c, name in enumerate(names):
        rows = order[bounds[c]:bounds[c + 1]]
        rows = rows[obs[rows] > 0]
        take = pa.array(rows)
        pool = pa.table({"contig": pa.array(np.full(len(rows), c), pa.uint32()),
                         "key": sites["key"].take(take), "ref": strings(sites["REF"]).take(take),
                         "alt": strings(sites["ALT"]).take(take),
                         "obs": pa.array(obs[rows], pa.uint32()),
                         "hom": pa.array(hom[rows], pa.uint32()),
                         "hem": pa.array(np.zeros(len(rows)), pa.uint32())})
        k = int(private[c])
        pos = rng.integers(1, int(lengths[c]), k)
        ref_i = rng.integers(0, 4, k)
        alt_i = (ref_i + rng.integers(1, 4, k)) % 4
        ref, alt = pa.array(bases[ref_i], pa.large_string()), pa.array(bases[alt_i],
                                                                      pa.large_string())
        novel = pa.table({"contig": pa.array(np.full(k, c), pa.uint32()),
                          "key": pa.array(variant_keys(pos, allele_codes(ref, alt)), pa.uint64()),
                          "ref": ref, "alt": alt, "obs": pa.array(np.ones(k), pa.uint32()),
                          "hom": pa.array((rng.random(k) < 0.05).astype(np.uint32)),
                          "hem": pa.array(np.zeros(k), pa.uint32())})
        shard_parts.setdefault(manifest["contigs"][index[name]]["shard"], []).append(
            store.combine([(pool, 1), (novel, 1)]))
    for shard, parts in shard_parts.items():
        manifest["shards"][shard] = store.write_table(db, f"shards/{shard}.{token}.parquet",
                                                      pa.concat_tables(parts))
    empty = store.write_table(db, f"cases/empty.{token}.parquet", store.CASE.empty_table())
    samples = []
    for number in range(cases):
        case = f"SIM{number:04d}"
        path = db / f"cases/{case}.{token}.parquet"
        os.link(db / empty["file"], path)
        manifest["cases"][case] = {
            "variants": {**empty, "file": f"cases/{case}.{token}.parquet"},
            "samples": [{"id": f"{case}-{m}", "sex": s} for m, s in
                        (("father", "male"), ("mother", "female"), ("child", "male"))],
            "vcf": "simulated", "gq_threshold": 20, "records": 0, "hom": 0, "hem": 0,
            "qc": None, "pars": [], "svs": None}
        samples.append(case)
    (db / empty["file"]).unlink()
    per_case = 3 * PROFILE_SITES
    profiles = pa.table({
        "case": pa.array(np.repeat(np.array(samples, dtype=object), per_case),
                         pa.large_string()),
        "sample": pa.array(np.tile(np.repeat(np.array(["father", "mother", "child"],
                                                      dtype=object), PROFILE_SITES), cases),
                           pa.large_string()),
        "site": pa.array(rng.integers(0, np.iinfo(np.int64).max, cases * per_case,
                                      dtype=np.int64).astype(np.uint64)),
        "gt": pa.array(rng.integers(0, 3, cases * per_case).astype(np.int8))},
        schema=profile.SCHEMA)
    manifest["profiles"] = store.write_table(db, f"profiles.{token}.parquet", profiles)
    manifest["generation"] = 1
    store.write_manifest(db, manifest)


def _contig_codes(chrom: pa.Array, index: dict[str, int]) -> np.ndarray:
    encoded = pc.dictionary_encode(chrom)
    mapping = np.array([index[c] for c in encoded.dictionary.to_pylist()], dtype=np.int64)
    return mapping[encoded.indices.to_numpy(zero_copy_only=False)]


def cached_db(workdir: Path, cases: int, vcf: Path, state: dict) -> Path:
    db = workdir / f"freqdb-sim-{cases}"
    stamp = {"cases": cases, "model": MODEL_VERSION, "private": PRIVATE_PER_FAMILY,
             "vcf": vcf.name, "vcf_bytes": vcf.stat().st_size}
    sidecar = workdir / f"freqdb-sim-{cases}.json"
    if sidecar.exists() and (db / store.MANIFEST).exists() and json.loads(
            sidecar.read_text()) == stamp:
        return db
    if "sites" not in state:
        print("  reading the trio's sites", flush=True)
        state["contigs"], state["sites"] = site_table(vcf)
    start = time.perf_counter()
    build_db(db, cases, state["contigs"], state["sites"])
    sidecar.write_text(json.dumps(stamp) + "\n")
    print(f"  built {db.name} in {time.perf_counter() - start:.0f} s", flush=True)
    return db


# --------------------------------------------------------------------------- runs


def counts_md5(vcf: Path) -> str:
    """MD5 of every record's CHROM, POS, REF, ALT, Obs, Hom, Hem, Frq, sorted (bcftools
    annotate may reorder records at one position)."""
    fmt = "%CHROM\t%POS\t%REF\t%ALT\t%Obs\t%Hom\t%Hem\t%Frq\n"
    proc = subprocess.Popen(f"bcftools query -f '{fmt}' {vcf} | LC_ALL=C sort -S 1G",
                            shell=True, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    digest = hashlib.md5()
    while chunk := proc.stdout.read(1 << 22):
        digest.update(chunk)
    proc.wait()
    return digest.hexdigest()


def helgenom(*args: str | Path) -> list[str | Path]:
    return [br.helgenom_exe(), "freqdb", *args]


def measure(workdir: Path, outdir: Path, cases: int, vcf: Path, records: int, peer: bool,
            state: dict) -> list[br.Run]:
    print(f"\n{cases:,} cases", flush=True)
    source = cached_db(workdir, cases, vcf, state)
    db = outdir / f"db-{cases}"
    shutil.copytree(source, db)
    logs = workdir / "logs"
    runs = []
    before = outdir / f"export-{cases}.vcf.gz"
    if peer:  # the N cases' export, before the trio is loaded: both leave the trio out
        runs.append(br.timed("helgenom freqdb", "export (before load)", f"db {cases}", records,
                             helgenom("export", "--db", db, "--out", before),
                             logs / f"freqdb-export-before-{cases}.log"))
    runs.append(br.timed("helgenom freqdb", "load", f"db {cases}", records,
                         helgenom("load", "--db", db, "--vcf", vcf, "--ped", br.TRIO_PED,
                                  "--case-id", QUERY_CASE),
                         logs / f"freqdb-load-{cases}.log"))
    stats = store.stats(db)
    runs[-1].extra.update(variants=stats["variants"], db_mb=round(stats["size_bytes"] / 1e6),
                          cases=stats["cases"])
    print(f"    database: {stats['cases']:,} cases, {stats['variants']:,} variants, "
          f"{stats['size_bytes'] / 1e6:,.0f} MB, {stats['shards']} shards", flush=True)
    exported = outdir / f"export-after-{cases}.vcf.gz"
    runs.append(br.timed("helgenom freqdb", "export", f"db {cases}", stats["variants"],
                         helgenom("export", "--db", db, "--out", exported),
                         logs / f"freqdb-export-{cases}.log"))
    annotated = outdir / f"annotated-{cases}.vcf.gz"
    runs.append(br.timed("helgenom freqdb", "annotate", f"db {cases}", records,
                         helgenom("annotate", "--db", db, "--vcf", vcf, "--out", annotated,
                                  "--case-id", QUERY_CASE),
                         logs / f"freqdb-annotate-{cases}.log"))
    runs[-1].extra.update(variants=stats["variants"], db_mb=round(stats["size_bytes"] / 1e6))
    if peer:
        out = outdir / f"bcftools-{cases}.vcf.gz"
        tags = "INFO/Obs,INFO/Hom,INFO/Hem,INFO/Frq"
        peer_run = br.timed("bcftools annotate", "annotate", f"export {cases}", records,
                            ["bcftools", "annotate", "-a", before, "-c", tags, "-Oz", "-o",
                             out, vcf], logs / f"bcftools-annotate-{cases}.log")
        index_run = br.timed("bcftools annotate", "tabix", f"export {cases}", records,
                             ["tabix", "-f", "-p", "vcf", out],
                             logs / f"bcftools-tabix-{cases}.log")
        total = br.total_run([peer_run, index_run], "bcftools annotate", f"export {cases}",
                             records)
        total.step = "annotate + tabix"
        ours, theirs = counts_md5(annotated), counts_md5(out)
        same = ours == theirs
        print(f"    Obs/Hom/Hem/Frq of every record: helgenom {ours[:12]}, bcftools "
              f"{theirs[:12]}: {'the same' if same else 'DIFFERENT'}", flush=True)
        total.extra["same_counts"] = str(same)
        runs += [peer_run, index_run, total]
    return runs


def table(runs: list[br.Run]) -> str:
    head = ("| tool | step | input | records | wall s | CPU s | peak RSS MB | tree RSS MB | "
            "other CPU s | DB variants | DB MB |")
    lines = [head, "|" + "---|" * 11]
    for r in runs:
        lines.append(f"| {r.tool} | {r.step} | {r.input} | {r.records:,} | {r.wall_s:.1f} | "
                     f"{r.user_s + r.sys_s:.1f} | {r.max_rss_mb:,.0f} | {r.tree_rss_mb:,.0f} | "
                     f"{r.other_cpu_s:.0f} | {r.extra.get('variants', '')!s:>} | "
                     f"{r.extra.get('db_mb', '')} |")
    return "\n".join(lines)


def verdicts(runs: list[br.Run]) -> list[str]:
    def worst(step: str) -> br.Run | None:
        found = [r for r in runs if r.tool == "helgenom freqdb" and r.step == step]
        return max(found, key=lambda r: r.wall_s) if found else None

    out = []
    for step, goal in (("load", GOAL_LOAD_S), ("annotate", GOAL_ANNOTATE_S)):
        run = worst(step)
        if run is not None:
            ok = run.wall_s <= goal
            out.append(f"{step} <= {goal:.0f} s: {'PASS' if ok else 'FAIL'} (slowest "
                       f"{run.wall_s:.1f} s wall, {run.user_s + run.sys_s:.1f} CPU s, "
                       f"{run.input})")
    peak = max((max(r.max_rss_mb, r.tree_rss_mb) for r in runs
                if r.tool == "helgenom freqdb"), default=0.0)
    out.append(f"peak RSS <= {GOAL_RSS_MB:.0f} MB: {'PASS' if peak <= GOAL_RSS_MB else 'FAIL'}"
               f" ({peak:,.0f} MB, largest process or tree)")
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--cases", default="1,10,100,1000",
                        help="database sizes to measure (default %(default)s)")
    parser.add_argument("--peer-cases", type=int, default=100,
                        help="the size at which bcftools annotate runs too (0: never)")
    parser.add_argument("--workdir", type=Path,
                        default=Path(os.environ.get("TMPDIR", "/tmp")) / "helgenom-bench")
    parser.add_argument("--keep", action="store_true", help="keep this run's outputs")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not br.TRIO_VCF.exists():
        print(f"skipped: {br.TRIO_VCF} not found")
        return 0
    workdir: Path = args.workdir.resolve()
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    outdir = workdir / "out" / time.strftime(f"freqdb-%Y%m%d-%H%M%S-{os.getpid()}")
    outdir.mkdir(parents=True)
    machine = br.machine_info()
    print(f"machine: {machine}\nworkdir: {workdir}", flush=True)
    busy = br.other_load()
    if busy > 0.2:
        print(f"WARNING: other processes keep {busy:.1f} cores busy: figures will be "
              "disturbed", flush=True)
    source = br.read_source(br.TRIO_VCF)
    vcf = workdir / f"ashk-trio.tiled-{args.records}.vcf.gz"
    spent = br.write_tiled(source, args.records, vcf, args.threads)
    print(f"trio: {vcf.name} ({'cached' if not spent else f'{spent:.0f} s'})", flush=True)
    runs: list[br.Run] = []
    state: dict = {}
    try:
        for cases in (int(c) for c in args.cases.split(",") if c):
            runs += measure(workdir, outdir, cases, vcf, args.records,
                            cases == args.peer_cases, state)
    finally:
        if not args.keep:
            shutil.rmtree(outdir, ignore_errors=True)
    print("\n" + table(runs))
    print("\n" + "\n".join(verdicts(runs)))
    result = {"machine": machine, "records": args.records, "vcf": str(vcf),
              "private_per_family": PRIVATE_PER_FAMILY,
              "runs": [asdict(r) for r in runs], "verdicts": verdicts(runs)}
    out_json = workdir / f"bench_freqdb-{args.records}.json"
    out_json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\n{out_json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
