"""`helgenom upd`: runs of homozygosity (ROH) per sample and uniparental disomy (UPD) per
chromosome of each child with both parents in the joint VCF.

ROH: `bcftools roh` (its HMM of autozygosity, Narasimhan et al. 2016, Bioinformatics 32:1749)
in genotype-only mode (`-G30`: a genotype error rate of 1e-3 instead of PLs, which callers
calibrate differently), indels skipped, allele frequencies from the population tag
(`--AF-tag`; sites without it are skipped) or, if the VCF has no such tag, 0.4 for every site.
Its RG lines are the ROH segments (sample, chrom, start, end, length, markers, quality).

UPD: only sites where child and both parents are called (SNVs, FILTER PASS or '.', GQ >= 20
in all three when the VCF has GQ) count. With the alleles a parent can transmit (hom-ref: ref;
het: either; hom-alt: alt), each site's child genotype is checked against three hypotheses:
biparental (one allele from each parent), maternal-only (two copies of one maternal allele,
isodisomy, or both maternal alleles, heterodisomy) and paternal-only. A site consistent with
exactly one hypothesis is informative for it:

- biparental: parents opposite homozygotes, child het;
- maternal: child lacks any paternal allele, e.g. father AA, mother BB, child BB (iso- and
  heterodisomy) or father AA, mother AB, child BB (isodisomy);
- paternal: the mirror image.

Per chromosome (autosomes; chrX of daughters; never chrY or the mitochondrion): the call is
UPD-mat (UPD-pat) when maternal (paternal) sites number >= 10 and make up >= 60% of the
informative sites; under biparental inheritance they arise only from genotype errors and
small deletions (a few percent), under whole-chromosome UPD they are nearly all. The subtype
is `iso` when the child's ROH cover >= 50% of the chromosome's span of called sites, or the
child is het at < 10% of the sites where the disomic parent is het (isodisomy copies one
parental homologue: no heterozygosity), else `hetero`. Fewer than 10 informative sites give
`insufficient`. Segmental UPD shorter than most of a chromosome is not called; the fractions
and the ROH overlap show it.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helgenom.errors import InputError, Problem
from helgenom.io.vcf import read_header, read_variants
from helgenom.sheets.pedigree import read_ped

log = logging.getLogger(__name__)

UNINFORMATIVE, BIPARENTAL, MATERNAL, PATERNAL = 0, 1, 2, 3
ROH_COLUMNS = ("sample", "chrom", "start", "end", "length", "markers", "quality")
UPD_COLUMNS = ("family", "child", "father", "mother", "chrom", "sites", "informative",
               "biparental", "maternal", "paternal", "maternal_fraction", "paternal_fraction",
               "uniparent_het_fraction", "roh_bp", "roh_fraction", "call")
MITOCHONDRIA = {"chrM", "chrMT", "M", "MT"}
_TRANSMITTED = ({0}, {0, 1}, {1})  # alt alleles a parent with 0/1/2 alt copies can transmit


@dataclass
class UpdParams:
    min_gq: float = 20.0
    min_sites: int = 10  # supporting sites for a call, and informative sites for any verdict
    min_fraction: float = 0.6
    iso_roh_fraction: float = 0.5
    iso_het_fraction: float = 0.1


def _site_table() -> np.ndarray:
    """Class of every (father, mother, child) alt-allele count triple, 3 x 3 x 3."""
    table = np.zeros((3, 3, 3), dtype=np.int8)
    for f in range(3):
        for m in range(3):
            both = {a + b for a in _TRANSMITTED[f] for b in _TRANSMITTED[m]}
            mat = {2 * a for a in _TRANSMITTED[m]} | {m}
            pat = {2 * a for a in _TRANSMITTED[f]} | {f}
            for c in range(3):
                fits = [c in both, c in mat, c in pat]
                if sum(fits) == 1:
                    table[f, m, c] = (BIPARENTAL, MATERNAL, PATERNAL)[fits.index(True)]
    return table


SITE_CLASSES = _site_table()


def site_classes(father: np.ndarray, mother: np.ndarray, child: np.ndarray) -> np.ndarray:
    """Per site: UNINFORMATIVE, BIPARENTAL, MATERNAL or PATERNAL (genotype codes 0/1/2 alt
    alleles; any no-call (-1) is uninformative)."""
    called = (father >= 0) & (mother >= 0) & (child >= 0)
    f, m, c = (np.clip(g, 0, 2).astype(np.intp) for g in (father, mother, child))
    return np.where(called, SITE_CLASSES[f, m, c], UNINFORMATIVE).astype(np.int8)


def call_upd(maternal: int, paternal: int, biparental: int, roh_fraction: float,
             het_fraction: float, params: UpdParams | None = None) -> str:
    """The verdict of one chromosome (see the module doc)."""
    params = params or UpdParams()
    informative = maternal + paternal + biparental
    if informative < params.min_sites:
        return "insufficient"
    for side, count in (("mat", maternal), ("pat", paternal)):
        if count >= params.min_sites and count >= params.min_fraction * informative:
            iso = (roh_fraction >= params.iso_roh_fraction
                   or (np.isfinite(het_fraction) and het_fraction < params.iso_het_fraction))
            return f"UPD-{side} {'iso' if iso else 'hetero'}"
    return "none"


# ---------------------------------------------------------------------------------------------
# ROH
# ---------------------------------------------------------------------------------------------


def parse_roh(text: str) -> pd.DataFrame:
    """The RG lines of `bcftools roh -O r` as a table."""
    rows = [f[1:8] for f in (line.split("\t") for line in text.splitlines())
            if f and f[0] == "RG" and len(f) >= 8]
    table = pd.DataFrame(rows, columns=list(ROH_COLUMNS))
    for column in ("start", "end", "length", "markers"):
        table[column] = table[column].astype(np.int64)
    table["quality"] = table["quality"].astype(float)
    return table


def run_roh(vcf: Path | str, samples: Sequence[str], af_tag: str | None) -> pd.DataFrame:
    """`bcftools roh -G30 -I` on the samples; AF from `af_tag`, else 0.4 everywhere. The
    mitochondrion is left out: no ROH there, and bcftools 1.16 roh crashes on its calls
    (haploid and heteroplasmic, without PL; helgenom mito-call)."""
    cmd = ["bcftools", "roh", "-G30", "-I", "-O", "r", "-s", ",".join(samples),
           "-t", "^" + ",".join(sorted(MITOCHONDRIA))]
    cmd += ["--AF-tag", af_tag] if af_tag else ["--AF-dflt", "0.4"]
    proc = subprocess.run([*cmd, str(vcf)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise InputError([Problem(str(vcf), None, None, None,
                                  f"bcftools roh failed: {proc.stderr.strip()[-300:]}")])
    return parse_roh(proc.stdout)


def roh_overlap(roh: pd.DataFrame, sample: str, chrom: str, start: int, end: int) -> int:
    """Base pairs of [start, end] (1-based) inside the sample's ROH on chrom."""
    mine = roh[(roh["sample"] == sample) & (roh["chrom"] == chrom)]
    lo = np.maximum(mine["start"].to_numpy(), start)
    hi = np.minimum(mine["end"].to_numpy(), end)
    return int(np.clip(hi - lo + 1, 0, None).sum())


# ---------------------------------------------------------------------------------------------
# UPD per chromosome
# ---------------------------------------------------------------------------------------------


def upd_rows(family: str, child: str, father: str, mother: str, chrom: np.ndarray,
             pos: np.ndarray, gt: dict[str, np.ndarray], good: np.ndarray, roh: pd.DataFrame,
             chromosomes: Sequence[str], params: UpdParams | None = None) -> list[dict]:
    """One row per chromosome for one trio; `good` marks sites that pass the site filters."""
    params = params or UpdParams()
    f, m, c = gt[father], gt[mother], gt[child]
    called = good & (f >= 0) & (m >= 0) & (c >= 0)
    classes = site_classes(f, m, c)
    rows = []
    for name in chromosomes:
        on = called & (chrom == name)
        if not on.any():
            continue
        k = classes[on]
        bip, mat, pat = (int((k == x).sum()) for x in (BIPARENTAL, MATERNAL, PATERNAL))
        informative = bip + mat + pat
        parent = m if mat >= pat else f
        het_sites = on & (parent == 1)
        het = float((c[het_sites] == 1).mean()) if het_sites.any() else float("nan")
        first, last = int(pos[on].min()), int(pos[on].max())
        roh_bp = roh_overlap(roh, child, name, first, last)
        roh_fraction = roh_bp / (last - first + 1)
        rows.append({
            "family": family, "child": child, "father": father, "mother": mother,
            "chrom": name, "sites": int(on.sum()), "informative": informative,
            "biparental": bip, "maternal": mat, "paternal": pat,
            "maternal_fraction": round(mat / informative, 4) if informative else float("nan"),
            "paternal_fraction": round(pat / informative, 4) if informative else float("nan"),
            "uniparent_het_fraction": round(het, 4), "roh_bp": roh_bp,
            "roh_fraction": round(roh_fraction, 4),
            "call": call_upd(mat, pat, bip, roh_fraction, het, params),
        })
    return rows


def run_upd(vcf: Path | str, ped: Path | str, family: str | None = None,
            af_tag: str = "GNOMADAF", chrx: str = "chrX", chry: str = "chrY",
            params: UpdParams | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(UPD table, ROH table) of every trio (child with both parents in the VCF)."""
    params = params or UpdParams()
    families = read_ped(ped)
    if family is not None:
        if family not in families:
            raise InputError([Problem(str(ped), None, "family_id", family, "no such family")])
        families = {family: families[family]}
    header = read_header(vcf)
    in_vcf = set(header.samples)
    members = [m for fam in families.values() for m in fam.members if m.sample in in_vcf]
    if not members:
        raise InputError([Problem(str(vcf), None, None, None,
                                  "no sample of the PED's families is in the VCF")])
    tag = af_tag if af_tag in header.info else None
    if tag is None:
        log.warning("%s has no INFO/%s: bcftools roh assumes AF 0.4 at every site", vcf, af_tag)
    roh = run_roh(vcf, [m.sample for m in members], tag)
    trios = [(fam.id, m.sample, m.father, m.mother) for fam in families.values()
             for m in fam.members
             if m.sample in in_vcf and m.father in in_vcf and m.mother in in_vcf]
    rows: list[dict] = []
    if trios:
        samples = list(dict.fromkeys(s for t in trios for s in t[1:]))
        table, gts = read_variants(vcf, samples, [])
        chrom = table["CHROM"].astype(str).to_numpy()
        snv = (table["REF"].str.fullmatch("[ACGT]") & table["ALT"].str.fullmatch("[ACGT]")
               ).fillna(False).to_numpy(dtype=bool)
        good = snv & table["FILTER"].isin(["PASS", "."]).to_numpy()
        contigs = list(dict.fromkeys([*header.contigs, *chrom]))
        for fam_id, child, father, mother in trios:
            gq_ok = np.ones(len(table), dtype=bool)  # a missing GQ is no reason to drop a site
            for s in (child, father, mother):
                gq_ok &= np.isnan(gts.gq[s]) | (gts.gq[s] >= params.min_gq)
            male = families[fam_id].by_id[child].sex == "male"
            chromosomes = [c for c in contigs if c not in MITOCHONDRIA and c != chry
                           and not (c == chrx and male)]
            rows += upd_rows(fam_id, child, father, mother, chrom, table["POS"].to_numpy(),
                             gts.gt, good & gq_ok, roh, chromosomes, params)
    return pd.DataFrame(rows, columns=list(UPD_COLUMNS)), roh
