# Reference indexes, alignment per unit, merge + duplicate marking per sample, alignment QC.


rule reference_faidx:
    input:
        FASTA,
    output:
        f"{FASTA}.fai",
    log:
        "logs/reference/faidx.log",
    benchmark:
        "benchmarks/reference/faidx.tsv"
    conda:
        "../envs/samtools.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    message:
        "samtools faidx: index the reference FASTA"
    shell:
        "samtools faidx {input} > {log} 2>&1"


rule bwa_index:
    input:
        FASTA,
    output:
        BWA_INDEX,
    log:
        "logs/reference/bwa_index.log",
    benchmark:
        "benchmarks/reference/bwa_index.tsv"
    conda:
        "../envs/bwa.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 180 * attempt,
    message:
        "bwa index: build the BWT index of the reference (about an hour for a human genome)"
    shell:
        "bwa index {input} > {log} 2>&1"


rule bwa_mem:
    input:
        unpack(unit_fastq),
        fasta=FASTA,
        index=BWA_INDEX,
    output:
        bam=temp("alignment/bwa/{sample}/{unit}.bam"),
        json="qc/fastp/{sample}/{unit}.fastp.json",
        html="qc/fastp/{sample}/{unit}.fastp.html",
    log:
        bwa="logs/bwa_mem/{sample}/{unit}.log",
        fastp="logs/fastp/{sample}/{unit}.log",
    benchmark:
        "benchmarks/bwa_mem/{sample}/{unit}.tsv"
    conda:
        "../envs/bwa.yaml"
    threads: 8
    resources:
        mem_mb=lambda wildcards, attempt: 16000 * attempt,
        runtime=lambda wildcards, attempt: 24 * 60 * attempt,
    params:
        # IDs are validated against ^[A-Za-z0-9][A-Za-z0-9_-]*$, so quoting is safe.
        read_group=r"@RG\tID:{sample}.{unit}\tSM:{sample}\tLB:{sample}\tPL:ILLUMINA\tPU:{unit}",
        fastp_threads=2,
    message:
        "fastp | bwa mem | samtools fixmate | samtools sort: trim and align {wildcards.sample}"
        " unit {wildcards.unit}"
    # fastp streams the trimmed pairs (interleaved) straight into bwa mem (-p): no trimmed
    # FASTQ on disk, one job per unit.
    shell:
        "(fastp --in1 {input.fq1} --in2 {input.fq2} --stdout --detect_adapter_for_pe"
        " --thread {params.fastp_threads} --json {output.json} --html {output.html}"
        " --report_title '{wildcards.sample} {wildcards.unit}' 2> {log.fastp}"
        " | bwa mem -t {threads} -p -Y -R '{params.read_group}' {input.fasta} -"
        " | samtools fixmate -m -u - -"
        " | samtools sort -@ {threads} -m 1G -u -T {output.bam}.sort -o {output.bam} -)"
        " 2> {log.bwa}"


rule markdup:
    input:
        bams=lambda wildcards: expand(
            "alignment/bwa/{{sample}}/{unit}.bam",
            unit=[u.unit for u in units_of(wildcards)],
        ),
        fasta=FASTA,
        fai=f"{FASTA}.fai",
    output:
        aln=f"results/alignment/{{sample}}.{ALN}",
        index=f"results/alignment/{{sample}}.{ALN}.{ALN_INDEX}",
        metrics="qc/markdup/{sample}.markdup.txt",
    log:
        "logs/markdup/{sample}.log",
    benchmark:
        "benchmarks/markdup/{sample}.tsv"
    conda:
        "../envs/samtools.yaml"
    threads: 4
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 8 * 60 * attempt,
    params:
        fmt="cram,version=3.0" if ALN == "cram" else "bam",
    message:
        "samtools merge | markdup: merge the units of {wildcards.sample}, mark duplicates"
    shell:
        "(samtools merge -@ {threads} -u -o - {input.bams}"
        " | samtools markdup -@ {threads} -f {output.metrics} -T {output.aln}.markdup"
        " --reference {input.fasta} -O {params.fmt} - {output.aln}"
        " && samtools index -@ {threads} {output.aln} {output.index}) > {log} 2>&1"


rule alignment_qc:
    input:
        aln=f"results/alignment/{{sample}}.{ALN}",
        index=f"results/alignment/{{sample}}.{ALN}.{ALN_INDEX}",
        fasta=FASTA,
    output:
        stats="qc/samtools/{sample}.stats.txt",
        flagstat="qc/samtools/{sample}.flagstat.txt",
        summary="qc/mosdepth/{sample}.mosdepth.summary.txt",
        dist="qc/mosdepth/{sample}.mosdepth.global.dist.txt",
        regions="qc/mosdepth/{sample}.regions.bed.gz",
    log:
        "logs/alignment_qc/{sample}.log",
    benchmark:
        "benchmarks/alignment_qc/{sample}.tsv"
    conda:
        "../envs/samtools.yaml"
    threads: 4
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 6 * 60 * attempt,
    params:
        prefix="qc/mosdepth/{sample}",
        bin_size=1000,
    message:
        "samtools stats + flagstat, mosdepth: alignment metrics and coverage of"
        " {wildcards.sample} in {params.bin_size}-bp bins"
    # One job per sample for the three (each reads the alignments once; none is on the way
    # to the calls, which start as soon as markdup is done).
    shell:
        "(samtools stats -@ {threads} --reference {input.fasta} {input.aln} > {output.stats}"
        " && samtools flagstat -@ {threads} {input.aln} > {output.flagstat}"
        " && mosdepth --threads {threads} --no-per-base --fast-mode --by {params.bin_size}"
        " --fasta {input.fasta} {params.prefix} {input.aln}) 2> {log}"
