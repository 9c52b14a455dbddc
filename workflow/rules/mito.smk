# Mitochondrial small variants with heteroplasmy levels, per family (calling.mito): the reads
# of every allele at every chrM position (bcftools mpileup, all sites, a high depth cap), then
# helgenom mito-call (HL = ALT reads / reads; GT 0, 0/1 heteroplasmic, 1 homoplasmic). A
# diploid caller cannot report a 10% heteroplasmy. The gather of the nuclear calls appends
# the result (mito_calls in common.smk).


rule mito_call:
    input:
        alns=family_alignments,
        indexes=family_alignment_indexes,
        fasta=FASTA,
        fai=f"{FASTA}.fai",
    output:
        bcf="calling/mito/{family}.bcf",
        index="calling/mito/{family}.bcf.csi",
    log:
        "logs/mito_call/{family}.log",
    benchmark:
        "benchmarks/mito_call/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        contig=MITO_CALL_CONTIG,
        min_mapq=CFG["calling"]["min_mapq"],
        min_baseq=MITO["min_baseq"],
        max_depth=MITO["max_depth"],
        min_af=MITO["min_af"],
        min_alt_reads=MITO["min_alt_reads"],
    message:
        "bcftools mpileup | helgenom mito-call: heteroplasmy levels of family {wildcards.family}"
        " on {params.contig}"
    shell:
        "(bcftools mpileup --no-version -f {input.fasta:q} -r {params.contig:q}"
        " -d {params.max_depth} -q {params.min_mapq} -Q {params.min_baseq}"
        " -a FORMAT/AD,FORMAT/DP -Ov {input.alns:q}"
        " | helgenom mito-call --pileup - --min-af {params.min_af}"
        " --min-alt-reads {params.min_alt_reads} --out {output.bcf:q}) > {log:q} 2>&1"
