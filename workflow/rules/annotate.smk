# The family's contigs gathered and normalised, with the clinical annotation sources and
# population allele frequencies (helgenom annotate-sources: ClinVar, gnomAD, SweGen, CADD,
# REVEL, SpliceAI, annotation.extra) and consequences (bcftools csq with the GFF3): one job
# per family.


rule annotate_snv:
    input:
        bcfs=f"calling/{SNV_CALLER}/{{family}}.bcf",
        fasta=FASTA,
        fai=f"{FASTA}.fai",
        gff3=GFF3,
        sources=ANNOTATION_SOURCES,
        source_indexes=ANNOTATION_SOURCE_INDEXES,
    output:
        vcf="annotation/{family}.snv.vcf.gz",
        index="annotation/{family}.snv.vcf.gz.tbi",
    log:
        "logs/annotate_snv/{family}.log",
    benchmark:
        "benchmarks/annotate_snv/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 3 * 60 * attempt,
    params:
        # The normalised calls and the annotated ones before csq: removed first, so that what
        # a failed or killed attempt left cannot stop this one, and when done.
        norm="annotation/{family}.norm.bcf",
        norm_index="annotation/{family}.norm.bcf.csi",
        sources="annotation/{family}.sources.bcf",
        sources_index="annotation/{family}.sources.bcf.csi",
        annotation=ANNOTATION_JSON,
    message:
        "bcftools norm, helgenom annotate-sources, bcftools csq: gather {wildcards.family}'s"
        " contigs, split multi-allelics, clinical sources and population frequencies,"
        " consequences"
    shell:
        # annotate -a VCF needs an indexed input, not a pipe: the normalised calls go to an
        # indexed BCF first. helgenom annotate-sources chains one bcftools annotate per source
        # (helgenom.annotate.engine) and checks its output before writing it.
        # -p a: take genotypes as they are (csq's default phasing mode aborts on unphased hets).
        "(rm -f {params.norm:q} {params.norm_index:q} {params.sources:q} {params.sources_index:q}"
        " && bcftools concat --no-version -Ou {input.bcfs:q}"
        " | bcftools norm --no-version -f {input.fasta:q} -m -any -Ob -o {params.norm:q}"
        " && bcftools index -f -o {params.norm_index:q} {params.norm:q}"
        " && helgenom annotate-sources --input {params.norm:q} --output {params.sources:q}"
        " --annotation {params.annotation:q} --threads {threads}"
        " && bcftools csq --no-version -f {input.fasta:q} -g {input.gff3:q} -p a -Oz"
        " -o {output.vcf:q} {params.sources:q}"
        " && bcftools index -t {output.vcf:q}"
        " && rm -f {params.norm:q} {params.norm_index:q} {params.sources:q}"
        " {params.sources_index:q}) > {log:q} 2>&1"
