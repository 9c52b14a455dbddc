# FASTQ QC and adapter/quality trimming per sequencing unit.


rule fastp:
    input:
        unpack(unit_fastq),
    output:
        fq1=temp("qc/fastp/{sample}/{unit}_R1.fastq.gz"),
        fq2=temp("qc/fastp/{sample}/{unit}_R2.fastq.gz"),
        json="qc/fastp/{sample}/{unit}.fastp.json",
        html="qc/fastp/{sample}/{unit}.fastp.html",
    log:
        "logs/fastp/{sample}/{unit}.log",
    benchmark:
        "benchmarks/fastp/{sample}/{unit}.tsv"
    conda:
        "../envs/fastp.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    message:
        "fastp: trim adapters and low-quality tails of {wildcards.sample} unit {wildcards.unit}"
    shell:
        "fastp --in1 {input.fq1} --in2 {input.fq2} --out1 {output.fq1} --out2 {output.fq2}"
        " --detect_adapter_for_pe --thread {threads} --json {output.json} --html {output.html}"
        " --report_title '{wildcards.sample} {wildcards.unit}' > {log} 2>&1"


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
        "helgenom qc --family {wildcards.family} --ped {input.ped} --vcf {input.vcf}"
        " --qc-dir {params.qc_dir} --out {output.tsv} --mqc-dir {output.mqc}"
        " --preset {params.preset} --thresholds-json {params.thresholds}"
        " --chrx {params.chrx} --chry {params.chry} {params.par} --af-tag {params.af_tag}"
        " > {log} 2>&1"
