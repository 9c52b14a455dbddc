# Trio-aware prioritisation: inheritance models, scores, the ranked candidate list.


rule rank:
    input:
        vcf=RANK_SNV,
        index=f"{RANK_SNV}.tbi",
        ped="results/{family}/{family}.ped",
        sv="calling/{family}.sv.vcf.gz",
        gff3=GFF3,
        fasta=FASTA,
        fai=f"{FASTA}.fai",
        extra=list(RANK_FILES.values()),
        qc="results/{family}/{family}.qc.json",
    output:
        vcf="results/{family}/{family}.vcf.gz",
        index="results/{family}/{family}.vcf.gz.tbi",
        sv="results/{family}/{family}.sv.vcf.gz",
        sv_index="results/{family}/{family}.sv.vcf.gz.tbi",
        # results/{family}/{family}.candidates.tsv; with repeats.expansionhunter, under
        # prioritisation/: rule repeats delivers it with the pathogenic repeats first.
        tsv=RANK_CANDIDATES,
    log:
        "logs/rank/{family}.log",
    benchmark:
        "benchmarks/rank/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    threads: 2  # whole-genome inputs (>= 500,000 records): contig groups on 2 processes
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        prefix=lambda wildcards, output: output.vcf.removesuffix(".vcf.gz"),
        hpo=family_hpo,
        extra=path_options(RANK_FILES)
        + f" --panel-mode {CFG['prioritisation']['panel_mode']}",
        chrx=CFG["reference"]["chrx"],
        chry=CFG["reference"]["chry"],
        par=PAR_ARGS,
        af_tag=CFG["annotation"]["population_af_tag"],
        max_af=CFG["prioritisation"]["max_population_af"],
        gates=" ".join(
            f"--{key.replace('_', '-')} {value}"
            for key, value in CFG["prioritisation"]["gates"].items()
        )
        # chrM: a carrier's heteroplasmy reaches mito-call's min_af (no GQ gate there).
        + f" --mito-min-hl {MITO['min_af']}",
    message:
        "helgenom rank: inheritance models and ranked candidates for {wildcards.family}"
    shell:
        "helgenom rank --vcf {input.vcf:q} --ped {input.ped:q} --sv {input.sv:q} --gff3 {input.gff3:q}"
        " --fasta {input.fasta:q} {params.hpo} {params.extra} --qc {input.qc:q} --chrx {params.chrx:q}"
        " --chry {params.chry:q} {params.par} --af-tag {params.af_tag:q} --max-af {params.max_af}"
        " {params.gates}"
        " --out {params.prefix:q} --candidates-out {output.tsv:q} > {log:q} 2>&1"
