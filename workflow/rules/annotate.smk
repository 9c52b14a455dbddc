# Consequences (bcftools csq with the GFF3) and population allele frequencies.


rule annotate_snv:
    input:
        vcf="calling/{family}.snv.vcf.gz",
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
        runtime=lambda wildcards, attempt: 2 * 60 * attempt,
    params:
        population=(
            f"-a {POPULATION_VCF} -c INFO/{CFG['annotation']['population_af_tag']}"
            if POPULATION_VCF
            else ""
        ),
    message:
        "bcftools csq + annotate: consequences and population frequency for {wildcards.family}"
    shell:
        # -p a: take genotypes as they are (csq's default phasing mode aborts on unphased hets).
        # annotate first: with -a VCF it needs an indexed input, not a pipe.
        "(bcftools annotate {params.population} -Ou {input.vcf}"
        " | bcftools csq -f {input.fasta} -g {input.gff3} -p a -Oz -o {output.vcf}"
        " && bcftools index -t {output.vcf}) > {log} 2>&1"
