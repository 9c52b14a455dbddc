# The family's contigs gathered and normalised, with consequences (bcftools csq with the GFF3)
# and population allele frequencies: one job per family.


rule annotate_snv:
    input:
        bcfs=expand(
            "calling/{caller}/{{family}}/{contig}.bcf",
            caller=CFG["calling"]["snv_caller"],
            contig=CONTIGS,
        ),
        fasta=FASTA,
        fai=f"{FASTA}.fai",
        gff3=GFF3,
        population=[POPULATION_VCF] if POPULATION_VCF else [],
    output:
        vcf="annotation/{family}.snv.vcf.gz",
        index="annotation/{family}.snv.vcf.gz.tbi",
        # Declared, so that Snakemake removes them when the job fails (a retry or a rerun
        # starts clean) and as soon as it succeeds (temp, nothing reads them).
        norm=temp("annotation/{family}.norm.bcf"),
        norm_index=temp("annotation/{family}.norm.bcf.csi"),
    log:
        "logs/annotate_snv/{family}.log",
    benchmark:
        "benchmarks/annotate_snv/{family}.tsv"
    conda:
        "../envs/bcftools.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 3 * 60 * attempt,
    params:
        population=(
            f"-a {shlex.quote(POPULATION_VCF)}"
            f" -c INFO/{shlex.quote(CFG['annotation']['population_af_tag'])}"
            if POPULATION_VCF
            else ""
        ),
    message:
        "bcftools concat | norm, annotate | csq: gather {wildcards.family}'s contigs, split"
        " multi-allelics, population frequency and consequences"
    shell:
        # annotate -a VCF needs an indexed input, not a pipe: the normalised calls go to a
        # BCF next to the output first.
        # -p a: take genotypes as they are (csq's default phasing mode aborts on unphased hets).
        "(bcftools concat -Ou {input.bcfs:q}"
        " | bcftools norm -f {input.fasta:q} -m -any -Ob -o {output.norm:q}"
        " && bcftools index -f -o {output.norm_index:q} {output.norm:q}"
        " && bcftools annotate {params.population} -Ou {output.norm:q}"
        " | bcftools csq -f {input.fasta:q} -g {input.gff3:q} -p a -Oz -o {output.vcf:q}"
        " && bcftools index -t {output.vcf:q}) > {log:q} 2>&1"
