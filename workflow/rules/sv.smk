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


rule cnv_call:
    input:
        bins=lambda wildcards: expand(
            "qc/mosdepth/{sample}.regions.bed.gz",
            sample=family_members(wildcards.family),
        ),
        ped="results/{family}/{family}.ped",
        fasta=FASTA,
        fai=f"{FASTA}.fai",
    output:
        vcf="results/{family}/{family}.cnv.vcf.gz",
        index="results/{family}/{family}.cnv.vcf.gz.tbi",
        calls="calling/cnv/{family}.calls.tsv",
    log:
        "logs/cnv_call/{family}.log",
    benchmark:
        "benchmarks/cnv_call/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        chrx=CFG["reference"]["chrx"],
        chry=CFG["reference"]["chry"],
        par=PAR_ARGS,
    message:
        "helgenom cnv: read-depth CNVs of family {wildcards.family} (mosdepth bins, HMM)"
    shell:
        "helgenom cnv --family {wildcards.family} --ped {input.ped} --bins {input.bins}"
        " --fasta {input.fasta} --chrx {params.chrx} --chry {params.chry} {params.par}"
        " --out {output.vcf} --calls-out {output.calls} > {log} 2>&1"


rule upd:
    input:
        vcf="annotation/{family}.snv.vcf.gz",
        index="annotation/{family}.snv.vcf.gz.tbi",
        ped="results/{family}/{family}.ped",
    output:
        upd="results/{family}/{family}.upd.tsv",
        roh="results/{family}/{family}.roh.tsv",
    log:
        "logs/upd/{family}.log",
    benchmark:
        "benchmarks/upd/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        af_tag=CFG["annotation"]["population_af_tag"],
        chrx=CFG["reference"]["chrx"],
        chry=CFG["reference"]["chry"],
    message:
        "helgenom upd: runs of homozygosity and uniparental disomy in family {wildcards.family}"
    shell:
        "helgenom upd --vcf {input.vcf} --ped {input.ped} --family {wildcards.family}"
        " --af-tag {params.af_tag} --chrx {params.chrx} --chry {params.chry}"
        " --out {output.upd} --roh-out {output.roh} > {log} 2>&1"
