"""Small clinical annotation sources for the demo, in the real formats, so that the demo's
annotated VCF and reports show them.

`write_demo_sources` writes, next to the demo reference (each bgzipped and tabix-indexed):

- `clinvar.vcf.gz`: a ClinVar VCF (ID = variation ID; ALLELEID, CLNSIG, CLNREVSTAT, CLNDN,
  CLNVC, GENEINFO, MC, ORIGIN) listing every planted SNV as Pathogenic (multiple submitters,
  no conflicts), and a few common background variants as Benign.
- `gnomad.sites.vcf.gz`: a gnomAD v4-like sites VCF of the population pool (AC, AN, AF,
  AF_grpmax, grpmax, nhomalt), AF as the pool's.
- `cadd.tsv.gz`: CADD (`## CADD ...`, `#Chrom Pos Ref Alt RawScore PHRED`): the three SNVs at
  each planted SNV's position (the planted allele PHRED 25-35), and each pool variant (SNVs
  and indels, PHRED 0-15).
- `revel.tsv.gz`: REVEL as the TSV users make from the distributed CSV (`#chr hg19_pos
  grch38_pos ref alt aaref aaalt REVEL Ensembl_transcriptid`, indexed on grch38_pos): the
  three SNVs at each planted missense position (the planted allele 0.75-0.95, others lower).
- `spliceai.vcf.gz`: SpliceAI precomputed scores (`SpliceAI=ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|
  DS_DL|DP_AG|DP_AL|DP_DG|DP_DL`) of the planted SNVs and the pool SNVs within genes, all low
  (none of the planted variants is a splice variant).

As the real files, ClinVar, CADD, REVEL and SpliceAI name contigs `1`, `2`, `X` (the demo
reference names them `chr1`...: helgenom renames the calls' contigs for them while it
annotates) and gnomAD `chr1`. The same reference, trio and seed always give the same files.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from helgenom.simulate.genome import GeneModel, Reference
from helgenom.simulate.variants import Trio, Variant

BASES = "ACGT"
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
DATE = "2026-12-07"
CLINVAR_HEADER = f"""\
##fileformat=VCFv4.1
##fileDate={DATE}
##source=ClinVar (simulated by helgenom simulate)
##reference=GRCh38
##ID=<Description="ClinVar Variation ID">
##INFO=<ID=ALLELEID,Number=1,Type=Integer,Description="the ClinVar Allele ID">
##INFO=<ID=CLNDN,Number=.,Type=String,Description="ClinVar's preferred disease name for the concept specified by disease identifiers in CLNDISDB">
##INFO=<ID=CLNREVSTAT,Number=.,Type=String,Description="ClinVar review status for the Variation ID">
##INFO=<ID=CLNSIG,Number=.,Type=String,Description="Clinical significance for this single variant">
##INFO=<ID=CLNVC,Number=1,Type=String,Description="Variant type">
##INFO=<ID=GENEINFO,Number=1,Type=String,Description="Gene(s) for the variant reported as gene symbol:gene id. The gene symbol and id are delimited by a colon (:) and each pair is delimited by a vertical bar (|)">
##INFO=<ID=MC,Number=.,Type=String,Description="comma separated list of molecular consequence in the form of Sequence Ontology ID|molecular_consequence">
##INFO=<ID=ORIGIN,Number=.,Type=String,Description="Allele origin. One or more of the following values may be added: 0 - unknown; 1 - germline; 2 - somatic; 4 - inherited; 8 - paternal; 16 - maternal; 32 - de-novo; 64 - biparental; 128 - uniparental; 256 - not-tested; 512 - tested-inconclusive; 1073741824 - other">
"""  # noqa: E501
GNOMAD_HEADER = """\
##fileformat=VCFv4.2
##source=gnomAD v4-like sites (simulated by helgenom simulate)
##INFO=<ID=AC,Number=A,Type=Integer,Description="Alternate allele count">
##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles">
##INFO=<ID=AF,Number=A,Type=Float,Description="Alternate allele frequency">
##INFO=<ID=AF_grpmax,Number=A,Type=Float,Description="Maximum allele frequency across genetic ancestry groups">
##INFO=<ID=grpmax,Number=A,Type=String,Description="Genetic ancestry group with the maximum allele frequency">
##INFO=<ID=nhomalt,Number=A,Type=Integer,Description="Count of homozygous individuals">
"""  # noqa: E501
SPLICEAI_HEADER = """\
##fileformat=VCFv4.0
##INFO=<ID=SpliceAI,Number=.,Type=String,Description="SpliceAIv1.3 variant annotation. These include delta scores (DS) and delta positions (DP) for acceptor gain (AG), acceptor loss (AL), donor gain (DG), and donor loss (DL). Format: ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL">
"""  # noqa: E501
CADD_HEADER = (
    "## CADD GRCh38-v1.7 (simulated by helgenom simulate; the real file: (c) University of "
    "Washington, Hudson-Alpha Institute for Biotechnology and Berlin Institute of Health at "
    "Charite - Universitatsmedizin Berlin 2013-2023)\n#Chrom\tPos\tRef\tAlt\tRawScore\tPHRED\n")
REVEL_HEADER = "#chr\thg19_pos\tgrch38_pos\tref\talt\taaref\taaalt\tREVEL\tEnsembl_transcriptid\n"
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
MC = {"missense": "SO:0001583|missense_variant", "stop_gained": "SO:0001587|nonsense"}
GROUPS = ("afr", "amr", "asj", "eas", "fin", "mid", "nfe", "sas")
# Benign background records in ClinVar: the most common pool SNVs, this many.
BENIGN_RECORDS = 3
AN = 152_312  # gnomAD v4 genomes' allele number at a well-covered site


def ensembl_name(contig: str) -> str:
    """chr1 -> 1, chrX -> X, chrM -> MT: the naming of ClinVar, CADD, REVEL and SpliceAI."""
    return "MT" if contig == "chrM" else contig.removeprefix("chr")


def _bgzip(text: str, path: Path, index: list[str]) -> Path:
    with path.open("wb") as out:
        subprocess.run(["bgzip", "-c"], input=text.encode("ascii"), stdout=out, check=True)
    subprocess.run(["tabix", "-f", *index, str(path)], check=True)
    return path


def _contigs(reference: Reference, rename: bool) -> str:
    return "".join(f"##contig=<ID={ensembl_name(name) if rename else name},length={length}>\n"
                   for name, length in reference.lengths.items())


def _gene_at(reference: Reference, contig: str, pos: int) -> GeneModel | None:
    return next((g for g in reference.genes if g.contig == contig and g.start <= pos < g.end),
                None)


def _order(reference: Reference) -> dict[str, int]:
    return {name: i for i, name in enumerate(reference.contigs)}


def _planted_snvs(trio: Trio) -> list[tuple[Variant, str, str]]:
    """(variant, gene, consequence) of the planted SNVs (chrM's too)."""
    return [(p.variant, p.gene, p.consequence) for p in trio.planted
            if p.type in ("SNV", "MT")]


def _pool(reference: Reference, trio: Trio) -> list[Variant]:
    return [v for contig in reference.contigs for v in trio.pool.get(contig, [])]


def clinvar_text(reference: Reference, trio: Trio) -> str:
    """ClinVar: the planted SNVs Pathogenic, the commonest pool SNVs Benign."""
    records = []
    for variant, gene, consequence in _planted_snvs(trio):
        records.append((variant, "Pathogenic",
                        "criteria_provided,_multiple_submitters,_no_conflicts", gene,
                        MC.get(consequence, "SO:0001583|missense_variant")))
    common = sorted((v for v in _pool(reference, trio) if len(v.ref) == len(v.alt) == 1),
                    key=lambda v: (-v.af, v.contig, v.pos))[:BENIGN_RECORDS]
    for variant in common:
        gene = _gene_at(reference, variant.contig, variant.pos)
        records.append((variant, "Benign", "criteria_provided,_single_submitter",
                        gene.symbol if gene else "", "SO:0001627|intron_variant"))
    order = _order(reference)
    records.sort(key=lambda r: (order[r[0].contig], r[0].pos))
    lines = [CLINVAR_HEADER, COLUMNS]
    for number, (v, significance, status, gene, mc) in enumerate(records, start=1):
        vid = 900_000 + number
        gene_info = f"GENEINFO={gene}:{10_000 + number};" if gene else ""
        disease = "not_provided" if significance == "Benign" else f"{gene}-related_disorder"
        lines.append(
            f"{ensembl_name(v.contig)}\t{v.pos + 1}\t{vid}\t{v.ref}\t{v.alt}\t.\t.\t"
            f"ALLELEID={vid + 50_000};CLNDN={disease};CLNREVSTAT={status};CLNSIG={significance};"
            f"CLNVC=single_nucleotide_variant;{gene_info}MC={mc};ORIGIN=1\n")
    return "".join(lines)


def gnomad_text(reference: Reference, trio: Trio, rng: np.random.Generator) -> str:
    """gnomAD v4-like sites of the pool: AF as the pool's, a group maximum above it."""
    lines = [GNOMAD_HEADER, _contigs(reference, rename=False), COLUMNS]
    for v in _pool(reference, trio):
        ac = max(1, round(v.af * AN))
        af = ac / AN
        grpmax = min(1.0, af * (1.0 + float(rng.random())))
        group = GROUPS[int(rng.integers(len(GROUPS)))]
        hom = round(AN / 2 * af * af)
        lines.append(f"{v.contig}\t{v.pos + 1}\t.\t{v.ref}\t{v.alt}\t.\tPASS\tAC={ac};AN={AN};"
                     f"AF={af:.5e};AF_grpmax={grpmax:.5e};grpmax={group};nhomalt={hom}\n")
    return "".join(lines)


def _cadd_row(contig: str, pos: int, ref: str, alt: str, phred: float) -> tuple:
    raw = (phred - 8.0) / 6.0
    return (contig, pos, ref, alt, f"{contig}\t{pos}\t{ref}\t{alt}\t{raw:.6f}\t{phred:.3f}\n")


def cadd_text(reference: Reference, trio: Trio, rng: np.random.Generator) -> str:
    """CADD: the 3 SNVs of each planted SNV position (the planted one high), the pool's
    variants low."""
    rows = []
    for v, _gene, _consequence in _planted_snvs(trio):
        for alt in (b for b in BASES if b != v.ref):
            phred = 25.0 + 10.0 * float(rng.random()) if alt == v.alt else 5.0 + 15.0 * float(
                rng.random())
            rows.append(_cadd_row(v.contig, v.pos + 1, v.ref, alt, phred))
    for v in _pool(reference, trio):
        rows.append(_cadd_row(v.contig, v.pos + 1, v.ref, v.alt, 15.0 * float(rng.random())))
    order = _order(reference)
    rows.sort(key=lambda r: (order[r[0]], r[1], r[2], r[3]))
    return CADD_HEADER + "".join(ensembl_name(r[0]) + r[4][len(r[0]):] for r in rows)


def revel_text(reference: Reference, trio: Trio, rng: np.random.Generator) -> str:
    """REVEL: the 3 SNVs of each planted missense position (the planted one 0.75-0.95)."""
    rows = []
    for v, gene_symbol, consequence in _planted_snvs(trio):
        if consequence != "missense":
            continue
        gene = reference.gene(gene_symbol)
        aaref = AMINO_ACIDS[int(rng.integers(len(AMINO_ACIDS)))]
        for alt in (b for b in BASES if b != v.ref):
            score = (0.75 + 0.2 * float(rng.random()) if alt == v.alt
                     else 0.1 + 0.5 * float(rng.random()))
            aaalt = AMINO_ACIDS[int(rng.integers(len(AMINO_ACIDS)))]
            rows.append((v.contig, v.pos + 1, alt,
                         f"{ensembl_name(v.contig)}\t.\t{v.pos + 1}\t{v.ref}\t{alt}\t{aaref}\t"
                         f"{aaalt}\t{score:.3f}\t{gene.transcript_id}\n"))
    order = _order(reference)
    rows.sort(key=lambda r: (order[r[0]], r[1], r[2]))
    return REVEL_HEADER + "".join(r[3] for r in rows)


def spliceai_text(reference: Reference, trio: Trio, rng: np.random.Generator) -> str:
    """SpliceAI: low delta scores for the planted SNVs and the pool's SNVs within genes."""
    records = []
    snvs = [(v, reference.gene(gene)) for v, gene, _c in _planted_snvs(trio)]
    snvs += [(v, gene) for v in _pool(reference, trio) if len(v.ref) == len(v.alt) == 1
             and (gene := _gene_at(reference, v.contig, v.pos)) is not None]
    for v, gene in snvs:
        scores = "|".join(f"{0.05 * float(rng.random()) ** 2:.2f}" for _ in range(4))
        positions = "|".join(str(int(rng.integers(-50, 51))) for _ in range(4))
        records.append((v, f"SpliceAI={v.alt}|{gene.symbol}|{scores}|{positions}"))
    order = _order(reference)
    records.sort(key=lambda r: (order[r[0].contig], r[0].pos, r[0].alt))
    lines = [SPLICEAI_HEADER, _contigs(reference, rename=True), COLUMNS]
    lines += [f"{ensembl_name(v.contig)}\t{v.pos + 1}\t.\t{v.ref}\t{v.alt}\t.\t.\t{info}\n"
              for v, info in records]
    return "".join(lines)


def write_demo_sources(folder: Path, reference: Reference, trio: Trio, seed: int = 1
                       ) -> dict[str, Path]:
    """Write the demo's annotation sources into `folder` (bgzipped, tabix-indexed); the
    written files by source name (clinvar, gnomad, cadd, revel, spliceai)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    vcf = ["-p", "vcf"]
    return {
        "clinvar": _bgzip(clinvar_text(reference, trio), folder / "clinvar.vcf.gz", vcf),
        "gnomad": _bgzip(gnomad_text(reference, trio, rng), folder / "gnomad.sites.vcf.gz",
                         vcf),
        "cadd": _bgzip(cadd_text(reference, trio, rng), folder / "cadd.tsv.gz",
                       ["-s", "1", "-b", "2", "-e", "2", "-c", "#"]),
        "revel": _bgzip(revel_text(reference, trio, rng), folder / "revel.tsv.gz",
                        ["-s", "1", "-b", "3", "-e", "3", "-c", "#"]),
        "spliceai": _bgzip(spliceai_text(reference, trio, rng), folder / "spliceai.vcf.gz", vcf),
    }


# What the demo's config sets for these files (config.yaml, `annotation:`): the legacy
# population_vcf keeps writing GNOMADAF, so gnomAD gives the group maximum and hom count.
DEMO_CONFIG = """\
  clinvar: {path: reference/clinvar.vcf.gz}
  gnomad: {path: reference/gnomad.sites.vcf.gz, af: ""}
  cadd: {path: reference/cadd.tsv.gz}
  revel: {path: reference/revel.tsv.gz}
  spliceai: {path: reference/spliceai.vcf.gz}
"""
