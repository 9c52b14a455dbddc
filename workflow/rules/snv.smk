# Small variants: joint calling per family, scattered by contig, gathered and normalised.


rule pedigree:
    input:
        # The sheet's mtime alone does not rerun a family (editing one family's rows, or adding
        # a family, would otherwise redo every family from calling on): the family's own
        # pedigree, in params, does.
        ancient(CFG["samples"]),
    output:
        "results/{family}/{family}.ped",
    log:
        "logs/pedigree/{family}.log",
    benchmark:
        "benchmarks/pedigree/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 500 * attempt,
        runtime=lambda wildcards, attempt: 5 * attempt,
    params:
        members=lambda wildcards: pedigree_signature(wildcards.family),
    message:
        "helgenom ped: derive the PED file of family {wildcards.family} from the sample sheet"
    shell:
        "helgenom ped --samples {input} --family {wildcards.family} --out {output} > {log} 2>&1"


rule ploidy:
    input:
        ped="results/{family}/{family}.ped",
    output:
        ploidy="calling/{family}/ploidy.txt",
        sexes="calling/{family}/sexes.txt",
        cnv_map="calling/{family}/cnv_map.bed",
    log:
        "logs/ploidy/{family}.log",
    benchmark:
        "benchmarks/ploidy/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 500 * attempt,
        runtime=lambda wildcards, attempt: 5 * attempt,
    params:
        chrx=CFG["reference"]["chrx"],
        chry=CFG["reference"]["chry"],
        par=PAR_ARGS,
    message:
        "helgenom ploidy: chrX/chrY ploidy by sex (PARs diploid) for family {wildcards.family}"
    shell:
        "helgenom ploidy --chrx {params.chrx} --chry {params.chry} {params.par}"
        " --ped {input.ped} --out {output.ploidy} --sexes-out {output.sexes}"
        " --cnv-map-out {output.cnv_map} > {log} 2>&1"


rule bcftools_call:
    input:
        alns=family_alignments,
        indexes=family_alignment_indexes,
        fasta=FASTA,
        fai=f"{FASTA}.fai",
        ploidy="calling/{family}/ploidy.txt",
        sexes="calling/{family}/sexes.txt",
    output:
        temp("calling/bcftools/{family}/{contig}.bcf"),
    log:
        "logs/bcftools_call/{family}/{contig}.log",
    benchmark:
        "benchmarks/bcftools_call/{family}/{contig}.tsv"
    conda:
        "../envs/bcftools.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 12 * 60 * attempt,
    params:
        min_mapq=CFG["calling"]["min_mapq"],
        min_baseq=CFG["calling"]["min_baseq"],
    message:
        "bcftools mpileup | call: joint calling of family {wildcards.family} on {wildcards.contig}"
    shell:
        "(bcftools mpileup -f {input.fasta} -r {wildcards.contig} -q {params.min_mapq}"
        " -Q {params.min_baseq} -a FORMAT/AD,FORMAT/DP,FORMAT/SP,FORMAT/QS -Ou {input.alns}"
        " | bcftools call -m -v -a GQ,GP --ploidy-file {input.ploidy} -S {input.sexes}"
        " -Ob -o {output}) > {log} 2>&1"


rule freebayes_call:
    input:
        alns=family_alignments,
        indexes=family_alignment_indexes,
        fasta=FASTA,
        fai=f"{FASTA}.fai",
        cnv_map="calling/{family}/cnv_map.bed",
    output:
        bcf=temp("calling/freebayes/{family}/{contig}.bcf"),
    log:
        "logs/freebayes_call/{family}/{contig}.log",
    benchmark:
        "benchmarks/freebayes_call/{family}/{contig}.tsv"
    conda:
        "../envs/freebayes.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 24 * 60 * attempt,
    params:
        min_mapq=CFG["calling"]["min_mapq"],
        min_baseq=CFG["calling"]["min_baseq"],
    message:
        "freebayes: joint calling of family {wildcards.family} on {wildcards.contig}"
    shell:
        "(freebayes -f {input.fasta} -r {wildcards.contig} --min-mapping-quality"
        " {params.min_mapq} --min-base-quality {params.min_baseq} --cnv-map {input.cnv_map}"
        " {input.alns} | bcftools view -Ob -o {output.bcf}) > {log} 2>&1"


rule gather_snv:
    input:
        bcfs=expand(
            "calling/{caller}/{{family}}/{contig}.bcf",
            caller=CFG["calling"]["snv_caller"],
            contig=CONTIGS,
        ),
        fasta=FASTA,
    output:
        vcf="calling/{family}.snv.vcf.gz",
        index="calling/{family}.snv.vcf.gz.tbi",
    log:
        "logs/gather_snv/{family}.log",
    benchmark:
        "benchmarks/gather_snv/{family}.tsv"
    conda:
        "../envs/bcftools.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    message:
        "bcftools concat | norm: gather {wildcards.family}'s contigs, split multi-allelics"
    shell:
        "(bcftools concat -Ou {input.bcfs}"
        " | bcftools norm -f {input.fasta} -m -any -Oz -o {output.vcf}"
        " && bcftools index -t {output.vcf}) > {log} 2>&1"
