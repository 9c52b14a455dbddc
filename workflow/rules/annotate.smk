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
        # The normalised calls (annotate -a needs an indexed input): removed first, so that
        # what a failed or killed attempt left cannot stop this one, and when done.
        norm="annotation/{family}.norm.bcf",
        norm_index="annotation/{family}.norm.bcf.csi",
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
        "(rm -f {params.norm:q} {params.norm_index:q}"
        " && bcftools concat --no-version -Ou {input.bcfs:q}"
        " | bcftools norm --no-version -f {input.fasta:q} -m -any -Ob -o {params.norm:q}"
        " && bcftools index -f -o {params.norm_index:q} {params.norm:q}"
        " && bcftools annotate --no-version {params.population} -Ou {params.norm:q}"
        " | bcftools csq --no-version -f {input.fasta:q} -g {input.gff3:q} -p a -Oz -o {output.vcf:q}"
        " && bcftools index -t {output.vcf:q}"
        " && rm -f {params.norm:q} {params.norm_index:q}) > {log:q} 2>&1"
