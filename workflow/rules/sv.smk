# Structural variants: joint delly call on the family (every member genotyped at every site).


rule delly_call:
    input:
        alns=family_alignments,
        indexes=family_alignment_indexes,
        fasta=FASTA,
        fai=f"{FASTA}.fai",
    output:
        bcf=temp("calling/delly/{family}.bcf"),
    log:
        "logs/delly_call/{family}.log",
    benchmark:
        "benchmarks/delly_call/{family}.tsv"
    conda:
        "../envs/delly.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 24 * 60 * attempt,
    message:
        "delly call: joint SV discovery and genotyping in family {wildcards.family}"
    shell:
        "delly call -g {input.fasta} -o {output.bcf} {input.alns} > {log} 2>&1"


rule sv_vcf:
    input:
        "calling/delly/{family}.bcf",
    output:
        vcf="calling/{family}.sv.vcf.gz",
        index="calling/{family}.sv.vcf.gz.tbi",
    log:
        "logs/sv_vcf/{family}.log",
    benchmark:
        "benchmarks/sv_vcf/{family}.tsv"
    conda:
        "../envs/bcftools.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    message:
        "bcftools sort: family {wildcards.family}'s SVs as an indexed VCF"
    shell:
        "(bcftools sort -T {output.vcf}.sort -Oz -o {output.vcf} {input}"
        " && bcftools index -t {output.vcf}) > {log} 2>&1"
