# Small variants: joint calling per family, scattered over regions within chromosomes
# (calling.scatter_mb, see the calling regions block of common.smk), gathered in the
# FASTA's order; annotate_snv normalises the gathered calls.


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
        bcf=temp("calling/bcftools/{family}/{region}.bcf"),
        index=temp("calling/bcftools/{family}/{region}.bcf.csi"),
    log:
        "logs/bcftools_call/{family}/{region}.log",
    benchmark:
        "benchmarks/bcftools_call/{family}/{region}.tsv"
    conda:
        "../envs/bcftools.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        # By region length: 16 h per Gb (48 min for 50 Mb), ~10x the synthetic 30x trio's
        # measured 1.6 CPU-h per Gb (docs/resources.md), which real repeats make slower.
        runtime=region_runtime(16 * 60),
    params:
        region=lambda wildcards: region_of(wildcards).bcftools(),
        padded=lambda wildcards: region_of(wildcards).bcftools(CALL_PAD),
        min_mapq=CFG["calling"]["min_mapq"],
        min_baseq=CFG["calling"]["min_baseq"],
    message:
        "bcftools mpileup | call: joint calling of family {wildcards.family} in region"
        " {wildcards.region} ({params.region})"
    # Called on the padded region, kept: the records whose POS is in the region (view -t,
    # overlap 0), so that neither a cut nor the pileup's edge changes one. The index (its
    # record count) lets gather_calls check the gathered calls.
    shell:
        "(bcftools mpileup --no-version -f {input.fasta:q} -r {params.padded:q} -q {params.min_mapq}"
        " -Q {params.min_baseq} -a FORMAT/AD,FORMAT/DP,FORMAT/SP,FORMAT/QS -Ou {input.alns:q}"
        " | bcftools call --no-version -m -v -a GQ,GP --ploidy-file {input.ploidy:q} -S {input.sexes:q}"
        " -Ou | bcftools view --no-version -t {params.region:q} --targets-overlap 0 -Ob"
        " -o {output.bcf:q} && bcftools index -f -o {output.index:q} {output.bcf:q})"
        " > {log:q} 2>&1"


rule freebayes_call:
    input:
        alns=family_alignments,
        indexes=family_alignment_indexes,
        fasta=FASTA,
        fai=f"{FASTA}.fai",
        cnv_map="calling/{family}/cnv_map.bed",
    output:
        bcf=temp("calling/freebayes/{family}/{region}.bcf"),
        index=temp("calling/freebayes/{family}/{region}.bcf.csi"),
    log:
        "logs/freebayes_call/{family}/{region}.log",
    benchmark:
        "benchmarks/freebayes_call/{family}/{region}.tsv"
    conda:
        "../envs/freebayes.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=region_runtime(32 * 60),
    params:
        # freebayes -r is 0-based, end excluded (BED-like): the padded region; kept: the
        # records whose POS is in the region.
        padded=lambda wildcards: region_of(wildcards).freebayes(CALL_PAD),
        region=lambda wildcards: region_of(wildcards).bcftools(),
        min_mapq=CFG["calling"]["min_mapq"],
        min_baseq=CFG["calling"]["min_baseq"],
    message:
        "freebayes: joint calling of family {wildcards.family} in region {wildcards.region}"
        " ({params.region})"
    shell:
        "(freebayes -f {input.fasta:q} -r {params.padded:q} --min-mapping-quality"
        " {params.min_mapq} --min-base-quality {params.min_baseq} --cnv-map {input.cnv_map:q}"
        " {input.alns:q} | bcftools view --no-version -t {params.region:q} --targets-overlap 0"
        " -Ob -o {output.bcf:q}"
        " && bcftools index -f -o {output.index:q} {output.bcf:q}) > {log:q} 2>&1"


rule gather_calls:
    input:
        parts=family_call_parts,
        indexes=family_call_part_indexes,
    output:
        bcf=temp(f"calling/{SNV_CALLER}/{{family}}.bcf"),
        index=temp(f"calling/{SNV_CALLER}/{{family}}.bcf.csi"),
    log:
        "logs/gather_calls/{family}.log",
    benchmark:
        "benchmarks/gather_calls/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    message:
        "helgenom gather-calls: family {wildcards.family}'s calls of its regions, in the"
        " FASTA's order (bcftools concat), record counts checked"
    shell:
        "helgenom gather-calls --out {output.bcf:q} {input.parts:q} > {log:q} 2>&1"
