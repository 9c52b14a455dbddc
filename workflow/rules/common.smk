# Shared set-up: validate the config and the sample sheets once, at workflow start, and expose
# small helpers to the rules. All logic lives in the `helgenom` package, where it is unit tested.

import json
import re
import shlex
import snakemake
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger

from helgenom import ID_PATTERN
from helgenom.annotate.headers import index_of
from helgenom.annotate.sources import source_files, sources_json
from helgenom.cli.validate import check_run
from helgenom.errors import InputError
from helgenom.io.reference import calling_contigs
from helgenom.report.manifest import (
    env_tools,
    parse_size,
    probe_command,
    read_probes,
    write_run_manifest,
)
from helgenom.runtime import prepare_job_environment, snakemake_command
from helgenom.sheets.pedigree import ped_text

prepare_job_environment(workflow.basedir)

try:
    RUN = check_run(
        config,
        Path.cwd(),
        config_source=(
            str(workflow.configfiles[-1]) if workflow.configfiles else "config"
        ),
        # In full where the run starts; a job (Snakemake reads the Snakefile again in each)
        # reads the config and sheets only.
        files=workflow.is_main_process,
    )
    CONTIGS = calling_contigs(
        RUN.config["reference"]["fasta"], RUN.config["reference"]["contigs"]
    )
except InputError as error:
    raise WorkflowError(
        f"helgenom cannot start: the input is not valid.\n{error}"
    ) from None

for _warning in RUN.warnings:
    logger.warning(f"helgenom: {_warning}")

CFG = RUN.config
FASTA = CFG["reference"]["fasta"]
GFF3 = CFG["reference"]["gff3"]
POPULATION_VCF = CFG["annotation"]["population_vcf"]
# The small variants' annotation sources (ClinVar, gnomAD, SweGen, CADD, REVEL, SpliceAI,
# annotation.extra and the legacy population_vcf; helgenom.annotate): their files and indexes
# are inputs of annotate_snv, and the config section that helgenom annotate-sources reads,
# as JSON.
ANNOTATION_SOURCES = source_files(CFG["annotation"])
ANNOTATION_SOURCE_INDEXES = [
    str(index_of(Path(path)) or f"{path}.tbi") for path in ANNOTATION_SOURCES
]
ANNOTATION_JSON = json.dumps(sources_json(CFG["annotation"]), sort_keys=True)
POPULATION_SV_VCF = CFG["annotation"]["population_sv_vcf"]
# The GMC's frequency database (helgenom freqdb): with a path, each family's calls get the
# earlier cases' counts before ranking (rule freqdb_annotate), and with load, every family
# of the run is loaded after the run's families are ranked (rule freqdb_load).
FREQDB = CFG["freqdb"]["path"]
FREQDB_LOAD = bool(FREQDB) and CFG["freqdb"]["load"]
RANK_SNV = (
    "annotation/{family}.snv.local.vcf.gz"
    if FREQDB
    else "annotation/{family}.snv.vcf.gz"
)
SV_CALLERS = CFG["calling"]["sv_callers"]
# SV callers that call the whole family jointly (the others run per sample).
JOINT_SV_OUTPUT = {
    "delly": "calling/delly/{family}.vcf.gz",
    "manta": "calling/manta/{family}.vcf.gz",
    "cnv": "results/{family}/{family}.cnv.vcf.gz",
}
SAMPLE_SV_OUTPUT = {
    "tiddit": "calling/tiddit/{sample}.vcf.gz",
    "cnvnator": "calling/cnvnator/{sample}.vcf.gz",
}
ALN = "cram" if CFG["alignment"]["cram"] else "bam"
ALN_INDEX = "crai" if ALN == "cram" else "bai"
# Optional files of helgenom rank (rank models, panel, reduced-penetrance genes) that are set.
RANK_FILES = {
    key: CFG["prioritisation"][key]
    for key in ("rank_model", "sv_rank_model", "panel", "reduced_penetrance")
    if CFG["prioritisation"][key]
}
# The rank models among them: helgenom workbook names the models the list was ranked with.
RANK_MODELS = {
    key: path
    for key, path in RANK_FILES.items()
    if key in ("rank_model", "sv_rank_model")
}
PAR_ARGS = " ".join(
    f"--par {shlex.quote(region)}" for region in CFG["reference"]["par"]
)
BWA_INDEX = multiext(FASTA, ".amb", ".ann", ".bwt", ".pac", ".sa")


# Conda env (workflow/envs/<env>.yaml) -> the tools it provides, for the run manifest: the
# `tool_versions` rule probes them in each env the run uses (freebayes only when it calls,
# the SV callers' envs only when they are configured).
_OPTIONAL_ENVS = {
    "freebayes": CFG["calling"]["snv_caller"] == "freebayes",
    **{caller: caller in SV_CALLERS for caller in ("tiddit", "manta", "cnvnator")},
}
TOOL_ENVS = {
    env: tools for env, tools in env_tools().items() if _OPTIONAL_ENVS.get(env, True)
}
MANIFEST_SIZE_ONLY_ABOVE = (
    parse_size(CFG["manifest"]["size_only_above"])
    if CFG["manifest"]["size_only_above"]
    else None
)


def path_options(files):
    """`--key-name PATH` per (key, path) of `files`: options of paths from the config, each
    path quoted for the shell."""
    return " ".join(
        f"--{key.replace('_', '-')} {shlex.quote(path)}" for key, path in files.items()
    )


def _alternation(names):
    return "|".join(re.escape(name) for name in names) or "^$"


# Family, sample and unit IDs were validated against ID_PATTERN at start (a wildcard can only
# take a sheet's value, since every target is expanded from the sheets), so the pattern
# itself constrains them: an alternation of every ID made each regex match cost O(IDs).
_ID = ID_PATTERN.removeprefix("^").removesuffix("$")


wildcard_constraints:
    family=_ID,
    sample=_ID,
    unit=_ID,
    contig=_alternation(CONTIGS),
    env=_alternation(TOOL_ENVS),


def units_of(wildcards):
    return RUN.units_of(wildcards.sample)


def unit_fastq(wildcards):
    unit = RUN.unit(wildcards.sample, wildcards.unit)
    return {"fq1": unit.fq1, "fq2": unit.fq2}


def pedigree_signature(family):
    """The family's PED content: its PED file is rebuilt when (only when) it changes."""
    return ped_text(RUN.families[family])


def family_members(family):
    if family not in RUN.families:
        raise WorkflowError(
            f"unknown family {family!r}: not in {CFG['samples']} "
            f"(families: {', '.join(RUN.families)})"
        )
    return [individual.sample for individual in RUN.families[family].members]


def family_alignments(wildcards):
    return expand(
        "results/alignment/{sample}.{ext}",
        sample=family_members(wildcards.family),
        ext=ALN,
    )


def family_alignment_indexes(wildcards):
    return [f"{path}.{ALN_INDEX}" for path in family_alignments(wildcards)]


# ---- Small-variant calling regions (issue #16) ------------------------------------------
# Joint calling runs per family and region: regions of about calling.scatter_mb (0: one per
# contig), cut at the reference's N runs where one is near (found once, cached in
# <fasta>.ngaps.bed; helgenom.io.regions), over CONTIGS but chrM/MT (mitochondrial calling is
# its own rule; the gather appends its calls), in the FASTA's order. chrY regions only for
# families with a male. gather_calls concatenates a family's parts in that order.
from helgenom.io.regions import (
    CALL_PAD,
    MITO_CONTIG,
    REGION_NAME,
    calling_layout,
    mito_contig,
)

SNV_CALLER = CFG["calling"]["snv_caller"]
try:
    CALL_REGIONS, FASTA_CONTIGS = calling_layout(
        FASTA,
        [contig for contig in CONTIGS if not MITO_CONTIG.match(contig)],
        CFG["calling"]["scatter_mb"],
        Path.cwd(),
    )
except InputError as error:
    raise WorkflowError(
        f"helgenom cannot start: the input is not valid.\n{error}"
    ) from None
REGIONS = {region.name: region for region in CALL_REGIONS}
MITO_CONTIG_NAME = mito_contig(FASTA_CONTIGS)
_CONTIG_RANK = {contig: rank for rank, contig in enumerate(FASTA_CONTIGS)}


wildcard_constraints:
    region=REGION_NAME,


def family_regions(family):
    """The family's calling regions: chrY's only when a member is male."""
    male = any(member.sex == "male" for member in RUN.families[family].members)
    chry = CFG["reference"]["chry"]
    return [region for region in CALL_REGIONS if male or region.contig != chry]


def mito_calls(wildcards):
    """The family's mitochondrial calls (calling/mito/{family}.bcf: the same samples, sorted
    the same), appended by the gather at chrM/MT's place in the FASTA; [] when mito calling
    (calling.mito) is off or the reference has no chrM/MT (see the mito block)."""
    return mito_call_files(wildcards.family)


def family_call_parts(wildcards):
    """The BCFs gather_calls concatenates, in the FASTA's contig order."""
    regions = family_regions(wildcards.family)
    parts = [
        f"calling/{SNV_CALLER}/{wildcards.family}/{region.name}.bcf"
        for region in regions
    ]
    mito = mito_calls(wildcards)
    if mito:
        rank = _CONTIG_RANK.get(MITO_CONTIG_NAME, len(_CONTIG_RANK))
        at = sum(1 for region in regions if _CONTIG_RANK[region.contig] < rank)
        parts[at:at] = mito
    return parts


def family_call_part_indexes(wildcards):
    """The regions' indexes (each written by its calling job: gather_calls checks the record
    count of the gathered calls against them)."""
    return [
        f"calling/{SNV_CALLER}/{wildcards.family}/{region.name}.bcf.csi"
        for region in family_regions(wildcards.family)
    ]


def region_of(wildcards):
    return REGIONS[wildcards.region]


def region_runtime(minutes_per_gb, least=30):
    """A region job's runtime (minutes): `minutes_per_gb` of reference per Gb of the region,
    at least `least`, times the attempt."""

    def runtime(wildcards, attempt):
        minutes = minutes_per_gb * REGIONS[wildcards.region].length / 1e9
        return attempt * max(least, round(minutes))

    return runtime


# ---- end of the calling regions block ----------------------------------------------------


def sv_call_files(family):
    """(CALLER or CALLER:SAMPLE, VCF) of every configured SV caller for the family."""
    out = []
    for caller in SV_CALLERS:
        if caller in JOINT_SV_OUTPUT:
            out.append((caller, JOINT_SV_OUTPUT[caller].format(family=family)))
        else:
            out += [
                (f"{caller}:{s}", SAMPLE_SV_OUTPUT[caller].format(sample=s))
                for s in family_members(family)
            ]
    return out


def sv_call_inputs(wildcards):
    files = [path for _, path in sv_call_files(wildcards.family)]
    return {"calls": files, "call_indexes": [f"{path}.tbi" for path in files]}


def sv_call_args(wildcards):
    return " ".join(
        f"--call {shlex.quote(f'{key}={path}')}"
        for key, path in sv_call_files(wildcards.family)
    )


def family_hpo(wildcards):
    """`--hpo FAMILY:HP:...` with the affected members' terms (IDs validated at start)."""
    terms = sorted({t for ts in RUN.hpo_of(wildcards.family).values() for t in ts})
    return f"--hpo {wildcards.family}:{','.join(terms)}" if terms else ""


def family_qc_inputs(wildcards):
    members = family_members(wildcards.family)
    return {
        "fastp": [
            f"qc/fastp/{s}/{u.unit}.fastp.json"
            for s in members
            for u in RUN.units_of(s)
        ],
        "stats": expand("qc/samtools/{sample}.stats.txt", sample=members),
        "flagstat": expand("qc/samtools/{sample}.flagstat.txt", sample=members),
        "markdup": expand("qc/markdup/{sample}.markdup.txt", sample=members),
        "summary": expand("qc/mosdepth/{sample}.mosdepth.summary.txt", sample=members),
        "dist": expand("qc/mosdepth/{sample}.mosdepth.global.dist.txt", sample=members),
        "regions": expand("qc/mosdepth/{sample}.regions.bed.gz", sample=members),
        "ped": f"results/{wildcards.family}/{wildcards.family}.ped",
        "vcf": f"annotation/{wildcards.family}.snv.vcf.gz",
    }


# Scout's clinical VCFs: with a gene panel, the ranked records in its genes (all of them are
# the research VCFs); without one, the ranked VCFs themselves.
PANEL = CFG["prioritisation"]["panel"]
RANKED = {"snv": "vcf.gz", "sv": "sv.vcf.gz"}


def clinical_vcf(kind):
    """Scout's clinical VCF of `kind` (snv, sv) for a family."""
    if PANEL:
        return f"results/{{family}}/{{family}}.clinical_{kind}.vcf.gz"
    return f"results/{{family}}/{{family}}.{RANKED[kind]}"


def family_targets(family):
    """What a family delivers under results/ (a failed family is rerun with these)."""
    return [
        f"results/{family}/{family}.qc.tsv",
        f"results/{family}/{family}.candidates.tsv",
        f"results/{family}/{family}.vcf.gz",
        f"results/{family}/{family}.sv.vcf.gz",
        f"results/{family}/{family}.cnv.vcf.gz",
        f"results/{family}/{family}.upd.tsv",
        f"results/{family}/{family}.candidates.xlsx",
        f"results/{family}/{family}.report.html",
        *([f"results/{family}/{family}.scout.yaml"] if CFG["scout"]["owner"] else []),
        *repeat_results(family),
    ]


def delivered_outputs():
    """Every file of results/ the run writes, except the manifest (which checksums them)."""
    outputs = ["results/multiqc/multiqc_report.html", "results/index.html"]
    for family in RUN.families:
        base = f"results/{family}/{family}"
        outputs += family_targets(family) + [
            f"{base}.qc.json",
            f"{base}.ped",
            f"{base}.roh.tsv",
            *(f"{base}.{kind}.tbi" for kind in ("vcf.gz", "sv.vcf.gz", "cnv.vcf.gz")),
            *([f"{base}.str.vcf.gz.tbi"] if EXPANSIONHUNTER else []),
            *(
                [
                    f"{base}.{kind}"
                    for kind in ("peddy.ped", "ped_check.csv", "sex_check.csv")
                ]
                if CFG["scout"]["owner"]
                else []
            ),
            *(
                [
                    f"{base}.clinical_{kind}.{ext}"
                    for kind in ("snv", "sv")
                    for ext in ("vcf.gz", "vcf.gz.tbi")
                ]
                if CFG["scout"]["owner"] and CFG["prioritisation"]["panel"]
                else []
            ),
        ]
    for sample in RUN.samples:
        outputs += [
            f"results/alignment/{sample}.{ALN}",
            f"results/alignment/{sample}.{ALN}.{ALN_INDEX}",
        ]
    return outputs


def final_targets():
    targets = ["results/multiqc/multiqc_report.html", "results/index.html"]
    for family in RUN.families:
        targets += family_targets(family)
        # The family loaded into the GMC's frequency database (not a result: a receipt).
        targets += [f"freqdb/{family}.load.json"] if FREQDB_LOAD else []
    return targets + ["results/manifest.json"]


def write_workflow_manifest(out, versions, outputs, log, threads):
    """results/manifest.json of this run (the `manifest` rule): the versions the
    `tool_versions` jobs found in each env, the Snakemake running the workflow, RUN's
    resolved config, and SHA-256 of the run's inputs and of `outputs`."""
    tools, paths, by_env = read_probes({Path(v).stem: v for v in versions})
    tools["snakemake"] = snakemake.__version__
    paths["snakemake"] = str(Path(snakemake.__file__).parent)
    write_run_manifest(
        out,
        RUN,
        workflow.configfiles,
        outputs,
        log=log,
        tools=tools,
        tool_paths=paths,
        extra={"tools_by_env": by_env},
        command=snakemake_command(),
        size_only_above=MANIFEST_SIZE_ONLY_ABOVE,
        threads=threads,
    )


# ---- Mitochondrial calling (issue #16) ----------------------------------------------------
# chrM/MT is called on its own (workflow/rules/mito.smk: bcftools mpileup of the family's
# reads, all sites, then helgenom mito-call: heteroplasmy levels, GT 0 / 0/1 / 1) into
# calling/mito/{family}.bcf, which the gather of the nuclear calls appends at chrM's place
# (mito_calls). calling.mito.contig: auto (the calling contigs' chrM/MT, if any), a contig
# name, or "" (off).
from helgenom.mito.call import resolve_contig

MITO = CFG["calling"]["mito"]
try:
    MITO_CALL_CONTIG = resolve_contig(MITO["contig"], CONTIGS)
except InputError as error:
    raise WorkflowError(
        f"helgenom cannot start: the input is not valid.\n{error}"
    ) from None


def mito_call_files(family):
    """calling/mito/{family}.bcf when chrM is called, else []."""
    return [f"calling/mito/{family}.bcf"] if MITO_CALL_CONTIG else []


# ---- Repeat expansions and SMN copy number (repeats:, workflow/rules/repeats.smk) ---------
# ExpansionHunter per sample on repeats.catalog (empty: Stranger's bundled catalog of
# repeats.build in the FASTA's contig naming), the family's calls merged and annotated by
# Stranger, then helgenom repeats; SMNCopyNumberCaller per family, then helgenom smn. Their
# family results go to the report, workbook and Scout config (repeat_report_inputs).
from helgenom.repeats.catalog import bundled_catalog, chr_named
from helgenom.repeats.checks import smn_genome

REPEATS = CFG["repeats"]
EXPANSIONHUNTER = REPEATS["expansionhunter"]
SMN = REPEATS["smn"]


def _repeat_catalog():
    if not EXPANSIONHUNTER:
        return ""
    if REPEATS["catalog"]:
        return REPEATS["catalog"]
    try:
        return str(bundled_catalog(REPEATS["build"], chr_named(CONTIGS)))
    except LookupError as error:
        raise WorkflowError(f"helgenom cannot start: {error}") from None


REPEAT_CATALOG = _repeat_catalog()
SMN_GENOME = smn_genome(REPEATS["build"], CONTIGS)
# The ranked candidate list, the `tsv` of the rank job. With ExpansionHunter on, rank writes
# it under prioritisation/ and the repeats job delivers results/{family}/{family}.candidates.tsv
# with the pathogenic repeats first (ranks 1..k; the others move down by k).
DELIVERED_CANDIDATES = "results/{family}/{family}.candidates.tsv"
RANK_CANDIDATES = (
    "prioritisation/{family}.candidates.tsv"
    if EXPANSIONHUNTER
    else DELIVERED_CANDIDATES
)
REPEAT_CANDIDATES_IN = {"candidates": RANK_CANDIDATES} if EXPANSIONHUNTER else {}
REPEAT_CANDIDATES_OUT = {"candidates": DELIVERED_CANDIDATES} if EXPANSIONHUNTER else {}


def expansionhunter_sex(wildcards):
    """ExpansionHunter's --sex of a sample (female for unknown: its default, two X)."""
    return "male" if RUN.samples[wildcards.sample].sex == "male" else "female"


def repeat_results(family):
    """The family's repeat and SMN results under results/ (none when both are off)."""
    base = f"results/{family}/{family}"
    return [
        *([f"{base}.repeats.tsv", f"{base}.str.vcf.gz"] if EXPANSIONHUNTER else []),
        *([f"{base}.smn.tsv"] if SMN else []),
    ]


def repeat_report_inputs(wildcards):
    """Inputs of the report, workbook and Scout config: the repeats table and Stranger VCF
    (with its index), the SMN table; empty lists when off."""
    base = f"results/{wildcards.family}/{wildcards.family}"
    return {
        "repeats": [f"{base}.repeats.tsv"] if EXPANSIONHUNTER else [],
        "str_vcf": [f"{base}.str.vcf.gz"] if EXPANSIONHUNTER else [],
        "str_index": [f"{base}.str.vcf.gz.tbi"] if EXPANSIONHUNTER else [],
        "smn": [f"{base}.smn.tsv"] if SMN else [],
    }


def repeat_options(input, scout=False):
    """--repeats/--smn (report, workbook) or --str-vcf/--smn-tsv (scout-config) options."""
    names = (
        {"str_vcf": "--str-vcf", "smn": "--smn-tsv"}
        if scout
        else {"repeats": "--repeats", "smn": "--smn"}
    )
    return " ".join(
        f"{option} {shlex.quote(path)}"
        for key, option in names.items()
        for path in input[key]
    )


# ---- end of the repeats block -------------------------------------------------------------


# ---- Job resources sized by their inputs (issue #16; docs/resources.md) -------------------
# Per rule threads, and mem_mb/runtime as functions of the job's input sizes and attempt
# (helgenom.runtime.JOB_RESOURCES): the demo asks little, a 30x genome enough.
from helgenom.runtime import JOB_RESOURCES

# ---- end of the job resources block --------------------------------------------------------
