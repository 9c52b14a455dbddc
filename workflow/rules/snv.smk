# Small variants: joint calling per family, scattered by contig, gathered and normalised.


rule pedigree:
    input:
        # The sheet's mtime alone does not rerun a family (editing one family's rows, or adding
        # a family, would otherwise redo every family from calling on): the family's own
        # pedigree, in params, does.
        ancient(CFG["samples"]),
    output:
        ped="results/{family}/{family}.ped",
        ploidy="calling/{family}/ploidy.txt",
        sexes="calling/{family}/sexes.txt",
        cnv_map="calling/{family}/cnv_map.bed",
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
        chrx=CFG["reference"]["chrx"],
        chry=CFG["reference"]["chry"],
        par=PAR_ARGS,
    message:
        "helgenom ped + ploidy: family {wildcards.family}'s PED file from the sample sheet,"
        " chrX/chrY ploidy by sex (PARs diploid)"
    # One job for both: each takes well under a second, and a cluster job costs more than that.
    shell:
        "(helgenom ped --samples {input:q} --family {wildcards.family} --out {output.ped:q}"
        " && helgenom ploidy --chrx {params.chrx:q} --chry {params.chry:q} {params.par}"
        " --ped {output.ped:q} --out {output.ploidy:q} --sexes-out {output.sexes:q}"
        " --cnv-map-out {output.cnv_map:q}) > {log:q} 2>&1"


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
        "(bcftools mpileup --no-version -f {input.fasta:q} -r {wildcards.contig} -q {params.min_mapq}"
        " -Q {params.min_baseq} -a FORMAT/AD,FORMAT/DP,FORMAT/SP,FORMAT/QS -Ou {input.alns:q}"
        " | bcftools call --no-version -m -v -a GQ,GP --ploidy-file {input.ploidy:q} -S {input.sexes:q}"
        " -Ob -o {output:q}) > {log:q} 2>&1"


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
        "(freebayes -f {input.fasta:q} -r {wildcards.contig} --min-mapping-quality"
        " {params.min_mapq} --min-base-quality {params.min_baseq} --cnv-map {input.cnv_map:q}"
        " {input.alns:q} | bcftools view --no-version -Ob -o {output.bcf:q}) > {log:q} 2>&1"
