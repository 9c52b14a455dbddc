"""Genotype profiles: the same individual must not be counted under two cases.

loqusdb (`--check-profile`) genotypes every sample at a fixed set of common SNPs and refuses
a case whose sample matches a sample already in the database. Here:

- With `--profile-vcf SITES.vcf.gz` (biallelic SNVs, e.g. loqusdb's maf_50_sites), those
  are a sample's profile sites; a site absent from the family's VCF counts as hom-ref, as
  in loqusdb.
- Without it, the sites are taken from the family's own VCF, deterministically: among its
  biallelic autosomal SNVs, those whose site hash (helgenom.freqdb.keys.site_hashes: contig
  name, POS, REF, ALT) is below 2^64 / RATE, plus the SKETCH with the smallest hashes. Two
  VCFs holding the same individual share most of their variants, so they pick mostly the
  same sites (the hash, not the file, decides); a small VCF is covered by the SKETCH, a large
  one by the RATE (~600 sites per 5M records).

Two samples are compared at the sites both profiles hold (the only ones where both
genotypes are known) that are informative: both called (GQ at the load's threshold), at
least one of the two not hom-ref. At `MIN_SITES` or more such sites and a concordance
(same genotype) of `MAX_CONCORDANCE` or more, the new case is refused, naming the case and
sample it matches. Unrelated people agree at roughly half of such sites, a parent and child
at about two thirds; the same person (or an identical twin) at nearly all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helgenom.errors import InputError, Problem

RATE = 8192
SKETCH = 1000
MIN_SITES = 20
MAX_CONCORDANCE = 0.95
SCHEMA = pa.schema([("case", pa.large_string()), ("sample", pa.large_string()),
                    ("site", pa.uint64()), ("gt", pa.int8())])


def sketch_sites(sites: np.ndarray) -> np.ndarray:
    """Which of the candidate `sites` (hashes) a profile takes (bool per entry)."""
    chosen = sites < np.uint64((1 << 64) // RATE)
    if len(sites) > SKETCH:
        cut = np.partition(sites, SKETCH - 1)[SKETCH - 1]
        chosen |= sites <= cut
    else:
        chosen[:] = True
    return chosen


def profile_table(case: str, samples: list[str], sites: np.ndarray,
                  genotypes: dict[str, np.ndarray]) -> pa.Table:
    """Rows (case, sample, site, gt) of the chosen sites; gt -1 no call, 0/1/2 alt copies."""
    n = len(sites)
    return pa.table({
        "case": pa.array([case] * (n * len(samples)), pa.large_string()),
        "sample": pa.array(np.repeat(np.array(samples, dtype=object), n), pa.large_string()),
        "site": pa.array(np.tile(sites.astype(np.uint64), len(samples)), pa.uint64()),
        "gt": pa.array(np.concatenate([genotypes[s] for s in samples]) if samples
                       else np.zeros(0, np.int8), pa.int8()),
    }, schema=SCHEMA)


def matches(stored: pa.Table, new: pa.Table) -> pd.DataFrame:
    """Concordance of each new sample with each stored (case, sample) over their shared
    informative sites: columns sample, case, other, sites, agree, concordance."""
    columns = ["sample", "case", "other", "sites", "agree", "concordance"]
    if not stored.num_rows or not new.num_rows:
        return pd.DataFrame(columns=columns)
    new_sites = new["site"].to_numpy()
    unique_sites = np.unique(new_sites)
    old_site = stored["site"].to_numpy()
    shared = np.flatnonzero(np.isin(old_site, unique_sites))
    if not len(shared):
        return pd.DataFrame(columns=columns)
    old = stored.take(pa.array(shared))
    old_gt = old["gt"].to_numpy()
    old_at = np.searchsorted(unique_sites, old["site"].to_numpy())
    old_case = old["case"].to_numpy(zero_copy_only=False)
    old_sample = old["sample"].to_numpy(zero_copy_only=False)
    frames = []
    new_sample = new["sample"].to_numpy(zero_copy_only=False)
    new_gt_all = new["gt"].to_numpy()
    for sample in pd.unique(new_sample):
        mine = new_sample == sample
        by_site = np.full(len(unique_sites), -1, dtype=np.int8)
        by_site[np.searchsorted(unique_sites, new_sites[mine])] = new_gt_all[mine]
        gt = by_site[old_at]
        informative = (gt >= 0) & (old_gt >= 0) & ((gt > 0) | (old_gt > 0))
        frame = pd.DataFrame({"case": old_case[informative], "other": old_sample[informative],
                              "agree": (gt == old_gt)[informative]})
        grouped = frame.groupby(["case", "other"], sort=True)["agree"].agg(["size", "sum"])
        grouped = grouped.reset_index().rename(columns={"size": "sites", "sum": "agree"})
        grouped.insert(0, "sample", sample)
        frames.append(grouped)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    out["concordance"] = out["agree"] / out["sites"].where(out["sites"] > 0, 1)
    return out[columns]


def check(stored: pa.Table, new: pa.Table, case: str, source: str) -> None:
    """Refuse `new` (the profile of `case`) if a sample matches a sample of another case."""
    found = matches(stored.filter(pc.not_equal(stored["case"], case))
                    if stored.num_rows else stored, new)
    hits = found[(found["sites"] >= MIN_SITES) & (found["concordance"] >= MAX_CONCORDANCE)]
    if len(hits):
        raise InputError([
            Problem(source, None, "sample", row.sample,
                    f"has the genotype profile of sample '{row.other}' of case '{row.case}' "
                    f"already in the database ({row.concordance:.1%} of {row.sites} shared "
                    "sites agree): the same individual? Not loaded (remove or rename the "
                    "other case first if this is intended)")
            for row in hits.itertuples()])
