"""Bad inputs are caught at start: `helgenom validate` (and the Snakefile, which runs the same
check) refuses or warns before any job, naming the file, the line or key, and the value.

Each case copies the small demo, breaks one thing and runs `helgenom validate` in process.
`breaks` returns the pieces one line of the output must hold (file:line, key or column,
value, what is wrong); three cases also run `snakemake --dry-run`, which must stop with the
same line and create no results/.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from helgenom.cli import main
from helpers import snakemake

ERROR, WARNING, ACCEPTED = "error", "warning", "accepted"


# --- editing the demo -------------------------------------------------------------------------


def key_line(config: Path, dotted: str) -> int:
    """1-based line of a dotted key (a.b.c, or a.b[2] for a list item) in a YAML file."""
    node = yaml.compose(config.read_text())
    line = 0
    for part in dotted.split("."):
        name, _, index = part.partition("[")
        key, node = next((k, v) for k, v in node.value if k.value == name)
        line = key.start_mark.line + 1
        if index:
            node = node.value[int(index.rstrip("]"))]
            line = node.start_mark.line + 1
    return line


def set_key(demo: Path, dotted: str, value: object, item: int | None = None) -> str:
    """Set a config key (creating sections); returns "config.yaml:LINE: key 'KEY'" of it (of
    its list item `item`)."""
    path = demo / "config.yaml"
    config = yaml.safe_load(path.read_text())
    *parents, last = dotted.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    key = dotted if item is None else f"{dotted}[{item}]"
    return f"config.yaml:{key_line(path, key)}: key '{key}'"


def edit_text(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, count))


def sheet_line(path: Path, start: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1)
                if line.startswith(start))


def rename_contigs(demo: Path, name: str) -> Path:
    """reference/<name> with its contigs renamed chr1 -> 1, chrM -> MT (Ensembl's naming;
    bcftools), bgzipped and indexed."""
    mapping = demo / "chr_names.txt"
    mapping.write_text("chr1 1\nchr2 2\nchrX X\nchrM MT\n")
    out = demo / "reference" / f"nochr_{name}"
    subprocess.run(["bcftools", "annotate", "--rename-chrs", str(mapping), "-Oz", "-o", str(out),
                    str(demo / "reference" / name)], check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(out)], check=True)
    return out


def fastq(demo: Path, n: int = 0) -> Path:
    return sorted((demo / "fastq").iterdir())[n]


def units_cell(demo: Path, old: str, new: str) -> str:
    """Replace a cell of units.tsv; returns 'units.tsv:LINE' of its row."""
    units = demo / "units.tsv"
    line = next(n for n, row in enumerate(units.read_text().split("\n"), 1) if old in row)
    edit_text(units, old, new)
    return f"units.tsv:{line}"


# --- the cases ----------------------------------------------------------------------------


def fasta_is_gff3(d: Path) -> list[str]:
    return [set_key(d, "reference.fasta", "reference/genes.gff3"),
            "value 'reference/genes.gff3'", "line 1 is '##gff-version 3'", "not a FASTA file",
            "GFF3"]


def fasta_protein(d: Path) -> list[str]:
    fasta = d / "reference" / "genome.fa"
    lines = fasta.read_text().split("\n")
    lines[2] = "QEFLIP" + lines[2][6:]  # protein letters (ACGT, N and RYKMSWBDHV are IUPAC)
    fasta.write_text("\n".join(lines))
    return [f"config.yaml:{key_line(d / 'config.yaml', 'reference.fasta')}: key "
            "'reference.fasta'", "value 'reference/genome.fa'", "line 3, column 1",
            "'Q' is not a nucleotide code"]


def fasta_gzip(d: Path) -> list[str]:
    fasta = d / "reference" / "genome.fa"
    (d / "reference" / "genome.fa.gz").write_bytes(gzip.compress(fasta.read_bytes()))
    return [set_key(d, "reference.fasta", "reference/genome.fa.gz"),
            "value 'reference/genome.fa.gz'", "compressed FASTA", "gzip -dc"]


def fasta_bgzip(d: Path) -> list[str]:
    """bgzip would do for samtools, bwa and bcftools, but helgenom cnv reads the FASTA by its
    .fai offsets: any compressed FASTA is refused."""
    subprocess.run(["bgzip", "-k", str(d / "reference" / "genome.fa")], check=True)
    return [set_key(d, "reference.fasta", "reference/genome.fa.gz"),
            "value 'reference/genome.fa.gz'", "compressed FASTA"]


def fasta_nameless_header(d: Path) -> list[str]:
    edit_text(d / "reference" / "genome.fa", ">chr2", "> ")
    (d / "reference" / "genome.fa.fai").unlink()
    line = sheet_line(d / "reference" / "genome.fa", "> ")
    return ["key 'reference.fasta'", "value 'reference/genome.fa'",
            f"line {line}: '>' header without a sequence name"]


def fasta_uneven_lines(d: Path) -> list[str]:
    fasta = d / "reference" / "genome.fa"
    lines = fasta.read_text().split("\n")
    lines[3] = lines[3][:-5]
    fasta.write_text("\n".join(lines))
    return ["key 'reference.fasta'", "value 'reference/genome.fa'", "line 5: sequence lines of "
            "uneven length", "(line 4 is shorter)", "samtools faidx"]


def fasta_without_fai(d: Path) -> list[str]:
    (d / "reference" / "genome.fa.fai").unlink()
    return []


def fai_stale(d: Path) -> list[str]:
    fai = d / "reference" / "genome.fa.fai"
    os.utime(fai, (fai.stat().st_atime, fai.stat().st_mtime - 60))
    return ["key 'reference.fasta'", "value 'reference/genome.fa'",
            "genome.fa.fai is older than the FASTA"]


def fai_malformed(d: Path) -> list[str]:
    (d / "reference" / "genome.fa.fai").write_text("chr1\t135000\t6\t60\t61\nchr2 90000\n")
    return ["genome.fa.fai:2", "value 'chr2 90000'", "not a FASTA index line"]


def fai_of_another_genome(d: Path) -> list[str]:
    fai = d / "reference" / "genome.fa.fai"
    fai.write_text(fai.read_text().replace("chr", ""))
    return ["key 'reference.fasta'", "value 'reference/genome.fa'",
            "its .fai does not belong to it", "'chr1' in the FASTA, '1' in the .fai"]


def contig_missing(d: Path) -> list[str]:
    return [set_key(d, "reference.contigs", ["chr1", "chr3"], item=1), "value 'chr3'",
            "not a contig of the reference FASTA", "chr1, chr2, chrX"]


def par_start_after_end(d: Path) -> list[str]:
    return [set_key(d, "reference.par", ["chrX:2000-1000"], item=0), "value 'chrX:2000-1000'",
            "START <= END"]


def par_unknown_contig(d: Path) -> list[str]:
    return [set_key(d, "reference.par", ["chrZ:1-100"], item=0), "value 'chrZ:1-100'",
            "contig 'chrZ' is not a contig of the reference FASTA"]


def par_past_contig_end(d: Path) -> list[str]:
    return [set_key(d, "reference.par", ["chrX:1-99999999"], item=0),
            "value 'chrX:1-99999999'", "ends after the end of chrX"]


def par_malformed(d: Path) -> list[str]:
    return [set_key(d, "reference.par", ["chrX:1000"], item=0), "value 'chrX:1000'",
            "must be a region CHROM:START-END"]


def par_on_autosome(d: Path) -> list[str]:
    return [set_key(d, "reference.par", ["chr1:1-100"], item=0), "value 'chr1:1-100'",
            "a PAR lies on reference.chrx or reference.chry"]


def chrx_other_naming(d: Path) -> list[str]:
    return [set_key(d, "reference.chrx", "X"), "value 'X'", "which names it 'chrX'"]


def chrx_shell_text(d: Path) -> list[str]:
    return [set_key(d, "reference.chrx", "chrX; rm -rf /"), "value 'chrX; rm -rf /'",
            "must be a contig name"]


def set_hpo(d: Path, terms: str) -> str:
    edit_text(d / "samples.tsv", "HP:0001250,HP:0001263", terms)
    line = sheet_line(d / "samples.tsv", "DEMO\tdemo-proband")
    return f"samples.tsv:{line}: column 'hpo'"


def hpo_unknown(d: Path) -> list[str]:
    return [set_hpo(d, "HP:0001250,HP:9999999"), "value 'HP:9999999'", "not a term of HPO"]


def hpo_obsolete(d: Path) -> list[str]:
    return [set_hpo(d, "HP:0001250,HP:0001006"), "value 'HP:0001006'", "is obsolete",
            "replaced by HP:0008070"]


def hpo_obsolete_without_replacement(d: Path) -> list[str]:
    return [set_hpo(d, "HP:0000489"), "value 'HP:0000489'", "has no replacement"]


def hpo_no_phenotype_term(d: Path) -> list[str]:
    return [set_hpo(d, "HP:0000006"), "value 'HP:0000006'", "family 'DEMO' has no "
            "phenotypic-abnormality term"]


def hpo_malformed(d: Path) -> list[str]:
    return [set_hpo(d, "HP:12345"), "value 'HP:12345'", "comma-separated HPO terms"]


def population_vcf_naming(d: Path) -> list[str]:
    rename_contigs(d, "population.vcf.gz")
    return [set_key(d, "annotation.population_vcf", "reference/nochr_population.vcf.gz"),
            "value 'reference/nochr_population.vcf.gz'", "named 1, 2, X",
            "FASTA's are chr1, chr2, chrX", "bcftools annotate --rename-chrs"]


def population_sv_vcf_naming(d: Path) -> list[str]:
    rename_contigs(d, "population_sv.vcf.gz")
    return [set_key(d, "annotation.population_sv_vcf", "reference/nochr_population_sv.vcf.gz"),
            "value 'reference/nochr_population_sv.vcf.gz'", "named 1, 2",
            "FASTA's are chr1, chr2, chrX", "bcftools annotate --rename-chrs"]


def gff3_naming(d: Path) -> list[str]:
    gff3 = d / "reference" / "genes.gff3"
    gff3.write_text("".join(line.removeprefix("chr") if not line.startswith("#") else
                            line.replace(" chr", " ") for line in gff3.open()))
    return [f"config.yaml:{key_line(d / 'config.yaml', 'reference.gff3')}: key "
            "'reference.gff3'", "value 'reference/genes.gff3'", "named 1,",
            "FASTA's are chr1, chr2, chrX", "rename column 1"]


def af_tag_missing(d: Path) -> list[str]:
    return [set_key(d, "annotation.population_af_tag", "AF_popmax"), "value 'AF_popmax'",
            "not an INFO tag of reference/population.vcf.gz", "its INFO tags are GNOMADAF"]


def sv_af_tag_missing(d: Path) -> list[str]:
    return [set_key(d, "annotation.population_sv_af_tag", "SV_AF"), "value 'SV_AF'",
            "not an INFO tag of reference/population_sv.vcf.gz", "SVTYPE, END, SVLEN, AF"]


def population_vcf_unindexed(d: Path) -> list[str]:
    (d / "reference" / "population.vcf.gz.tbi").unlink()
    return ["key 'annotation.population_vcf'", "value 'reference/population.vcf.gz'",
            "tabix -p vcf"]


def clinvar_field_missing(d: Path) -> list[str]:
    return [set_key(d, "annotation.clinvar.path", "reference/population.vcf.gz"),
            "value 'CLNSIG'", "not an INFO tag of reference/population.vcf.gz",
            "its INFO tags are GNOMADAF"]


def cadd_unindexed(d: Path) -> list[str]:
    cadd = d / "reference" / "cadd_unindexed.tsv.gz"
    with cadd.open("wb") as out:
        subprocess.run(["bgzip", "-c"], input=b"#Chrom\tPos\tRef\tAlt\tRawScore\tPHRED\n"
                       b"1\t100\tA\tG\t0.5\t7.1\n", stdout=out, check=True)
    set_key(d, "annotation.cadd.path", ["reference/cadd_unindexed.tsv.gz"])
    return [f"config.yaml:{key_line(d / 'config.yaml', 'annotation.cadd.path[0]')}: key "
            "'annotation.cadd.path[0]'", "value 'reference/cadd_unindexed.tsv.gz'",
            "no .tbi/.csi index", "tabix -s 1 -b 2 -e 2 -c '#'"]


def spliceai_other_build(d: Path) -> list[str]:
    spliceai = d / "reference" / "spliceai_grch38.vcf.gz"
    with spliceai.open("wb") as out:
        subprocess.run(["bgzip", "-c"], input=(
            b"##fileformat=VCFv4.0\n##contig=<ID=1,length=248956422>\n"
            b'##INFO=<ID=SpliceAI,Number=.,Type=String,Description="SpliceAIv1.3">\n'
            b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
            b"1\t100\t.\tA\tG\t.\t.\tSpliceAI=G|F5|0.00|0.00|0.01|0.00|1|2|3|4\n"),
            stdout=out, check=True)
    subprocess.run(["tabix", "-p", "vcf", str(spliceai)], check=True)
    return [set_key(d, "annotation.spliceai.path", "reference/spliceai_grch38.vcf.gz"),
            "value 'reference/spliceai_grch38.vcf.gz'", "from another genome build",
            "its contig 1 is 248,956,422 bp long"]


def swegen_other_naming(d: Path) -> list[str]:
    rename_contigs(d, "population.vcf.gz")  # named 1, 2, X: renamed while annotating
    set_key(d, "annotation.swegen", {"path": "reference/nochr_population.vcf.gz",
                                     "af": "GNOMADAF"})
    return []


def freqdb_path_is_a_file(d: Path) -> list[str]:
    return [set_key(d, "freqdb.path", "reference/genome.fa"), "value 'reference/genome.fa'",
            "not a folder"]


def freqdb_manifest_corrupt(d: Path) -> list[str]:
    db = d / "reference" / "freqdb"
    db.mkdir(parents=True, exist_ok=True)
    (db / "manifest.json").write_text('{"format": "helgenom-freqdb", "vers')
    return [f"{db / 'manifest.json'}", "cannot be read (corrupt?)"]


def freqdb_file_truncated(d: Path) -> list[str]:
    """A real database (the demo trio's truth loaded as one case), one file cut short."""
    db = d / "reference" / "freqdb"
    ped = d / "trio.ped"
    ped.write_text("DEMO\tdemo-father\t0\t0\t1\t1\nDEMO\tdemo-mother\t0\t0\t2\t1\n"
                   "DEMO\tdemo-proband\tdemo-father\tdemo-mother\t1\t2\n")
    subprocess.run([sys.executable, "-m", "helgenom.cli", "freqdb", "load", "--db", str(db),
                    "--vcf", str(d / "truth.vcf.gz"), "--ped", str(ped), "--case-id", "OLD"],
                   check=True, capture_output=True)
    victim = next(p for p in sorted(db.rglob("*.parquet")))
    victim.write_bytes(victim.read_bytes()[:100])
    return [str(victim), "value '100'", "truncated or overwritten"]


def freqdb_not_yet_made(d: Path) -> list[str]:
    set_key(d, "freqdb.path", "reference/new-freqdb")
    return ["no database there yet"]


def gff3_is_fasta(d: Path) -> list[str]:
    return [set_key(d, "reference.gff3", "reference/genome.fa"), "value 'reference/genome.fa'",
            "line 1 is '>chr1', not a GFF3 feature line", "a FASTA file"]


def gff3_gzip_misnamed(d: Path) -> list[str]:
    gff3 = d / "reference" / "genes.gff3"
    gff3.write_bytes(gzip.compress(gff3.read_bytes()))
    return ["key 'reference.gff3'", "value 'reference/genes.gff3'",
            "gzip-compressed but named 'genes.gff3'"]


def gff3_is_gtf(d: Path) -> list[str]:
    (d / "reference" / "genes.gtf").write_text(
        'chr1\tsim\tgene\t9207\t12531\t.\t+\t.\tgene_id "G1"; gene_name "F5";\n')
    return [set_key(d, "reference.gff3", "reference/genes.gtf"), "value 'reference/genes.gtf'",
            "GTF attributes", "bcftools csq needs GFF3"]


def gmc_leaves_overlay_folder(d: Path) -> list[str]:
    return [set_key(d, "gmc", "../x"), "value '../x'", "must be empty or a site name"]


def gmc_absolute_path(d: Path) -> list[str]:
    return [set_key(d, "gmc", "/etc/passwd"), "value '/etc/passwd'",
            "must be empty or a site name"]


def gmc_with_slash_in_sheet(d: Path) -> list[str]:
    edit_text(d / "samples.tsv", "\tdemo\t\n", "\tsites/demo\t\n")
    return ["samples.tsv:2: column 'gmc'", "value 'sites/demo'", "must be an ID"]


def unit_id_with_space(d: Path) -> list[str]:
    return [units_cell(d, "demo-father\tL001", "demo-father\tL 001") + ": column 'unit'",
            "value 'L 001'", "must be an ID"]


def yaml_python_tag(d: Path) -> list[str]:
    config = d / "config.yaml"
    config.write_text(config.read_text() + "manifest: !!python/object/apply:os.system [id]\n")
    return [f"config.yaml:{len(config.read_text().splitlines())}: invalid YAML",
            "python/object/apply"]


def config_path_with_newline(d: Path) -> list[str]:
    return [set_key(d, "reference.gff3", "reference/genes.gff3\n"),
            "value 'reference/genes.gff3\\n'", "without control characters"]


def fastq_missing(d: Path) -> list[str]:
    name = fastq(d).name
    fastq(d).unlink()
    return [units_cell(d, name, name) + ": column 'fq1'", f"value 'fastq/{name}'",
            "FASTQ file not found"]


def fastq_directory(d: Path) -> list[str]:
    name = fastq(d).name
    fastq(d).unlink()
    (d / "fastq" / name).mkdir()
    return [units_cell(d, name, name) + ": column 'fq1'", f"value 'fastq/{name}'",
            "a directory, not a FASTQ file"]


def fastq_empty(d: Path) -> list[str]:
    fastq(d).write_bytes(b"")
    name = fastq(d).name
    return [units_cell(d, name, name) + ": column 'fq1'", f"value 'fastq/{name}'",
            "empty FASTQ file (0 bytes)"]


def fastq_empty_gzip(d: Path) -> list[str]:
    fastq(d).write_bytes(gzip.compress(b""))
    name = fastq(d).name
    return [units_cell(d, name, name) + ": column 'fq1'", f"value 'fastq/{name}'",
            "no reads"]


def fastq_is_fasta(d: Path) -> list[str]:
    fastq(d).write_bytes(gzip.compress(b">read1\nACGT\n"))
    name = fastq(d).name
    return [units_cell(d, name, name) + ": column 'fq1'", f"value 'fastq/{name}'",
            "not a FASTQ file", "a FASTA file"]


def fastq_corrupt_gzip(d: Path) -> list[str]:
    fastq(d).write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 64)
    name = fastq(d).name
    return [units_cell(d, name, name) + ": column 'fq1'", f"value 'fastq/{name}'",
            "gzip-compressed but corrupt"]


def fastq_carriage_return(d: Path) -> list[str]:
    name = fastq(d).name
    return [units_cell(d, f"fastq/{name}", f"fastq/x\r{name}") + ": column 'fq1'",
            "control character '\\r'"]


def fastq_nul(d: Path) -> list[str]:
    name = fastq(d).name
    return [units_cell(d, f"fastq/{name}", f"fastq/\0{name}") + ": column 'fq1'",
            "control character '\\x00'"]


def fastq_path_with_space(d: Path) -> list[str]:
    name = fastq(d).name
    (d / "my reads").mkdir()
    fastq(d).rename(d / "my reads" / name)
    units_cell(d, f"fastq/{name}", f"my reads/{name}")
    return []


def r1_equals_r2(d: Path) -> list[str]:
    r1, r2 = fastq(d, 0).name, fastq(d, 1).name
    return [units_cell(d, r2, r1) + ": column 'fq2'", f"value 'fastq/{r1}'",
            "same file as fq1"]


def r2_links_to_r1(d: Path) -> list[str]:
    r1, r2 = fastq(d, 0), fastq(d, 1)
    r2.unlink()
    r2.symlink_to(r1.name)
    return [units_cell(d, r2.name, r2.name) + ": column 'fq2'", f"value 'fastq/{r2.name}'",
            "same file as fq1"]


def duplicate_unit_row(d: Path) -> list[str]:
    units = d / "units.tsv"
    rows = units.read_text().splitlines()
    units.write_text("\n".join([*rows, rows[1]]) + "\n")
    return [f"units.tsv:{len(rows) + 1}: column 'unit'", "value 'L001'",
            "duplicate unit of sample 'demo-father'"]


def sample_without_units(d: Path) -> list[str]:
    units = d / "units.tsv"
    units.write_text("".join(r for r in units.open() if not r.startswith("demo-mother")))
    return ["units.tsv: column 'sample'", "value 'demo-mother'", "no units for this sample"]


def max_af_above_one(d: Path) -> list[str]:
    return [set_key(d, "prioritisation.max_population_af", 1.5), "value '1.5'",
            "must be between 0 and 1"]


def negative_gate(d: Path) -> list[str]:
    return [set_key(d, "prioritisation.gates.min_dp", -1), "value '-1'", "at least 0"]


def het_ab_min_above_max(d: Path) -> list[str]:
    return [set_key(d, "prioritisation.gates.het_ab_min", 0.9), "value '0.9'",
            "must be at most prioritisation.gates.het_ab_max (0.8)"]


def qc_threshold_not_a_number(d: Path) -> list[str]:
    set_key(d, "qc.thresholds", {"mean_depth": {"pass": "thirty"}})
    return [f"config.yaml:{key_line(d / 'config.yaml', 'qc.thresholds')}: key 'qc.thresholds'",
            "'mean_depth': pass must be a number, not 'thirty'"]


def qc_fraction_above_one(d: Path) -> list[str]:
    set_key(d, "qc.thresholds", {"contamination": {"warn": 5}})
    return ["key 'qc.thresholds'", "'contamination': warn must be between 0 and 1, not 5"]


def unknown_config_key(d: Path) -> list[str]:
    return [set_key(d, "prioritisation.max_populaton_af", 0.01), "unknown key",
            "did you mean 'prioritisation.max_population_af'"]


def site_overlay(d: Path, text: str) -> Path:
    set_key(d, "gmc_dir", "sites")
    (d / "sites").mkdir()
    overlay = d / "sites" / "demo.yaml"
    overlay.write_text(text)
    return overlay


def overlay_unknown_key(d: Path) -> list[str]:
    site_overlay(d, "prioritisation:\n  panel_mod: restrict\n")
    return ["sites/demo.yaml:2: key 'prioritisation.panel_mod'", "unknown key",
            "did you mean 'prioritisation.panel_mode'"]


def overlay_sets_samples(d: Path) -> list[str]:
    site_overlay(d, "samples: other.tsv\n")
    return ["sites/demo.yaml: key 'samples'", "value 'other.tsv'",
            "belongs to the run's config"]


def overlay_reference_checked(d: Path) -> list[str]:
    site_overlay(d, "# site references\nreference:\n  fasta: reference/genes.gff3\n")
    return ["sites/demo.yaml:3: key 'reference.fasta'", "value 'reference/genes.gff3'",
            "not a FASTA file"]


def panel_is_a_folder(d: Path) -> list[str]:
    (d / "panels").mkdir()
    return [set_key(d, "prioritisation.panel", "panels"), "value 'panels'",
            "a folder, not a file"]


@dataclass(frozen=True)
class Case:
    breaks: Callable[[Path], list[str]]
    outcome: str = ERROR

    @property
    def name(self) -> str:
        return self.breaks.__name__


CASES = [
    # the reference FASTA and its index
    Case(fasta_is_gff3), Case(fasta_protein), Case(fasta_gzip), Case(fasta_bgzip),
    Case(fasta_nameless_header),
    Case(fasta_uneven_lines), Case(fasta_without_fai, ACCEPTED), Case(fai_stale, WARNING),
    Case(fai_malformed), Case(fai_of_another_genome), Case(contig_missing),
    # PARs and the sex chromosomes
    Case(par_start_after_end), Case(par_unknown_contig), Case(par_past_contig_end),
    Case(par_malformed), Case(par_on_autosome), Case(chrx_other_naming), Case(chrx_shell_text),
    # HPO terms
    Case(hpo_unknown), Case(hpo_obsolete, WARNING), Case(hpo_obsolete_without_replacement),
    Case(hpo_no_phenotype_term), Case(hpo_malformed),
    # contig naming and tags of the annotation sources
    Case(population_vcf_naming), Case(population_sv_vcf_naming), Case(gff3_naming),
    Case(af_tag_missing), Case(sv_af_tag_missing), Case(population_vcf_unindexed),
    Case(gff3_is_fasta), Case(gff3_gzip_misnamed), Case(gff3_is_gtf),
    Case(clinvar_field_missing), Case(cadd_unindexed), Case(spliceai_other_build),
    Case(swegen_other_naming, ACCEPTED),
    Case(freqdb_path_is_a_file), Case(freqdb_manifest_corrupt), Case(freqdb_file_truncated),
    Case(freqdb_not_yet_made, WARNING),
    # safety: site names, IDs, YAML, paths
    Case(gmc_leaves_overlay_folder), Case(gmc_absolute_path), Case(gmc_with_slash_in_sheet),
    Case(unit_id_with_space), Case(yaml_python_tag), Case(config_path_with_newline),
    # FASTQs and units
    Case(fastq_missing), Case(fastq_directory), Case(fastq_empty), Case(fastq_empty_gzip),
    Case(fastq_is_fasta), Case(fastq_corrupt_gzip), Case(fastq_carriage_return),
    Case(fastq_nul), Case(fastq_path_with_space, ACCEPTED), Case(r1_equals_r2),
    Case(r2_links_to_r1), Case(duplicate_unit_row), Case(sample_without_units),
    # config values and site overlays
    Case(max_af_above_one), Case(negative_gate), Case(het_ab_min_above_max),
    Case(qc_threshold_not_a_number), Case(qc_fraction_above_one), Case(unknown_config_key),
    Case(overlay_unknown_key), Case(overlay_sets_samples), Case(overlay_reference_checked),
    Case(panel_is_a_folder),
]
SNAKEMAKE_CASES = ("fasta_is_gff3", "par_start_after_end", "population_vcf_naming")
TOOL_CASES = ("fasta_bgzip", "population_vcf_naming", "population_sv_vcf_naming",
              "cadd_unindexed", "spliceai_other_build", "swegen_other_naming")


@pytest.fixture
def demo(small_demo: Path, tmp_path: Path) -> Path:
    """A copy of the small demo to break."""
    return Path(shutil.copytree(small_demo, tmp_path / "demo", symlinks=True))


def validate(demo: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["validate", "--config", str(demo / "config.yaml"), "--workdir", str(demo)])
    out, err = capsys.readouterr()
    return code, out, err


def assert_named(output: str, pieces: list[str], prefix: str = "") -> None:
    """One line of `output` (starting with `prefix`) holds every piece."""
    lines = [line for line in output.splitlines() if line.startswith(prefix)]
    assert any(all(piece in line for piece in pieces) for line in lines), (pieces, output)


def test_the_demo_is_valid(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = validate(demo, capsys)
    assert code == 0 and "0 warnings" in out, err


def test_the_matrix_has_every_kind_of_case() -> None:
    assert len(CASES) >= 30 and len({c.name for c in CASES}) == len(CASES)
    assert {c.outcome for c in CASES} == {ERROR, WARNING, ACCEPTED}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_bad_input_is_caught_at_start(case: Case, demo: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    tools = ("bcftools", "tabix", "bgzip")
    if case.name in TOOL_CASES and not all(shutil.which(tool) for tool in tools):
        pytest.skip("needs bcftools, tabix and bgzip")
    pieces = case.breaks(demo)
    code, out, err = validate(demo, capsys)
    assert "Traceback" not in out + err
    if case.outcome == ERROR:
        assert code == 2, out + err
        assert "problem" in err.splitlines()[0] and "fix them and run again" in err
        assert_named(err, pieces)
    elif case.outcome == WARNING:
        assert code == 0, err
        assert_named(err, pieces, prefix="warning: ")
    else:
        assert code == 0 and "0 warnings" in out and not pieces, err


@pytest.mark.parametrize("name", SNAKEMAKE_CASES)
def test_the_snakefile_refuses_the_same_input(name: str, demo: Path) -> None:
    pytest.importorskip("snakemake")
    case = next(c for c in CASES if c.name == name)
    if not (shutil.which("bcftools") and shutil.which("tabix")):
        pytest.skip("needs bcftools and tabix")
    pieces = case.breaks(demo)
    result = snakemake(demo, "--dry-run", "--cores", "1", timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output
    assert "helgenom cannot start: the input is not valid" in output
    assert_named(output, pieces)
    assert not (demo / "results").exists()
