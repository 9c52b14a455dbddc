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
            f"-a {POPULATION_VCF} -c INFO/{CFG['annotation']['population_af_tag']}"
            if POPULATION_VCF
            else ""
        ),
    message:
        "bcftools concat | norm, annotate | csq: gather {wildcards.family}'s contigs, split"
        " multi-allelics, population frequency and consequences"
    shell:
        # annotate -a VCF needs an indexed input, not a pipe: the normalised calls go to a
        # BCF next to the output first (removed when the job ends).
        # -p a: take genotypes as they are (csq's default phasing mode aborts on unphased hets).
        "(bcftools concat -Ou {input.bcfs}"
        " | bcftools norm -f {input.fasta} -m -any -Ob -o {output.vcf}.norm.bcf"
        " && bcftools index {output.vcf}.norm.bcf"
        " && bcftools annotate {params.population} -Ou {output.vcf}.norm.bcf"
        " | bcftools csq -f {input.fasta} -g {input.gff3} -p a -Oz -o {output.vcf}"
        " && bcftools index -t {output.vcf}"
        " && rm -f {output.vcf}.norm.bcf {output.vcf}.norm.bcf.csi) > {log} 2>&1"
