# FASTQ QC and adapter/quality trimming per sequencing unit.


rule family_qc:
    input:
        unpack(family_qc_inputs),
    output:
        tsv="results/{family}/{family}.qc.tsv",
        json="results/{family}/{family}.qc.json",
        mqc=directory("qc/multiqc/{family}"),
    log:
        "logs/family_qc/{family}.log",
    benchmark:
        "benchmarks/family_qc/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        qc_dir=lambda wildcards, input: str(Path(input.stats[0]).parent.parent),
        preset=CFG["qc"]["preset"],
        thresholds=shlex.quote(json.dumps(CFG["qc"]["thresholds"])),
        chrx=CFG["reference"]["chrx"],
        chry=CFG["reference"]["chry"],
        par=PAR_ARGS,
        af_tag=CFG["annotation"]["population_af_tag"],
    message:
        "helgenom qc: sample and family QC gates (sex, kinship, contamination) for {wildcards.family}"
    shell:
        "helgenom qc --family {wildcards.family} --ped {input.ped:q} --vcf {input.vcf:q}"
        " --qc-dir {params.qc_dir} --out {output.tsv:q} --mqc-dir {output.mqc:q}"
        " --preset {params.preset:q} --thresholds-json {params.thresholds}"
        " --chrx {params.chrx:q} --chry {params.chry:q} {params.par} --af-tag {params.af_tag:q}"
        " > {log:q} 2>&1"
