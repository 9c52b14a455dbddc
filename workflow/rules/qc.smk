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
