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
        "samtools faidx {input:q} > {log:q} 2>&1"


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
        "bwa index {input:q} > {log:q} 2>&1"


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
    threads: JOB_RESOURCES["bwa_mem"].threads
    resources:
        mem_mb=JOB_RESOURCES["bwa_mem"].mem_mb,
        runtime=JOB_RESOURCES["bwa_mem"].runtime,
    params:
        # IDs are validated against ^[A-Za-z0-9][A-Za-z0-9_-]*$, so quoting is safe.
        read_group=r"@RG\tID:{sample}.{unit}\tSM:{sample}\tLB:{sample}\tPL:ILLUMINA\tPU:{unit}",
        # One worker: with more, fastp 0.23.2 writes the same pairs in a varying order, and
        # the alignments (duplicate marking, depth, calls) then differ from run to run.
        fastp_threads=1,
    message:
        "fastp | bwa mem | samtools fixmate | samtools sort: trim and align {wildcards.sample}"
        " unit {wildcards.unit}"
    # fastp streams the trimmed pairs (interleaved) straight into bwa mem (-p): no trimmed
    # FASTQ on disk, one job per unit. -K: bwa reads a fixed number of bases per batch, so its
    # insert-size estimates, and so the alignments, do not depend on the thread count. 10 Mb
    # (bwa's own batch on one thread) rather than 100 Mb: bwa aligns a batch while fastp
    # trims the next, where a unit under 100 Mb (the demo's) was one batch that waited for
    # fastp to finish (88 Mb on 2 cores: 25.8-26.4 s -> 23.7-25.1 s).
    shell:
        "(fastp --in1 {input.fq1:q} --in2 {input.fq2:q} --stdout --detect_adapter_for_pe"
        " --thread {params.fastp_threads} --json {output.json:q} --html {output.html:q}"
        " --report_title '{wildcards.sample} {wildcards.unit}' 2> {log.fastp:q}"
        " | bwa mem -t {threads} -K 10000000 -p -Y -R '{params.read_group}' {input.fasta:q} -"
        " | samtools fixmate -m -u - -"
        " | samtools sort -@ {threads} -m 1G -u -T {output.bam:q}.sort -o {output.bam:q} -)"
        " 2> {log.bwa:q}"


rule fastq_check:
    input:
        unpack(unit_fastq),
        json="qc/fastp/{sample}/{unit}.fastp.json",
    output:
        "qc/fastq/{sample}/{unit}.check.json",
    log:
        "logs/fastq_check/{sample}/{unit}.log",
    benchmark:
        "benchmarks/fastq_check/{sample}/{unit}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=JOB_RESOURCES["fastq_check"].mem_mb,
        runtime=JOB_RESOURCES["fastq_check"].runtime,
    params:
        fastp_log="logs/fastp/{sample}/{unit}.log",
    message:
        "helgenom fastq-check: {wildcards.sample} unit {wildcards.unit} is whole and fastp"
        " read all of it"
    shell:
        "helgenom fastq-check --fq1 {input.fq1:q} --fq2 {input.fq2:q} --fastp-json {input.json:q}"
        " --fastp-log {params.fastp_log:q} --out {output:q} > {log:q} 2>&1"


rule markdup:
    input:
        bams=lambda wildcards: expand(
            "alignment/bwa/{{sample}}/{unit}.bam",
            unit=[u.unit for u in units_of(wildcards)],
        ),
        # A unit's reads count toward the sample once its FASTQs are checked.
        checks=lambda wildcards: expand(
            "qc/fastq/{{sample}}/{unit}.check.json",
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
    threads: JOB_RESOURCES["markdup"].threads
    resources:
        mem_mb=JOB_RESOURCES["markdup"].mem_mb,
        runtime=JOB_RESOURCES["markdup"].runtime,
    params:
        fmt="cram,version=3.0" if ALN == "cram" else "bam",
    message:
        "samtools merge | markdup: merge the units of {wildcards.sample}, mark duplicates"
    # -c -p: the units' @RG/@PG lines with the same ID are kept once (else samtools renames
    # colliding @PG IDs with random suffixes, and the BAM differs from run to run).
    shell:
        "(samtools merge -@ {threads} -c -p -u -o - {input.bams:q}"
        " | samtools markdup -@ {threads} -f {output.metrics:q} -T {output.aln:q}.markdup"
        " --reference {input.fasta:q} -O {params.fmt} - {output.aln:q}"
        " && samtools index -@ {threads} {output.aln:q} {output.index:q}) > {log:q} 2>&1"


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
    threads: JOB_RESOURCES["alignment_qc"].threads
    resources:
        mem_mb=JOB_RESOURCES["alignment_qc"].mem_mb,
        runtime=JOB_RESOURCES["alignment_qc"].runtime,
    params:
        prefix="qc/mosdepth/{sample}",
        bin_size=1000,
    message:
        "samtools stats + flagstat, mosdepth: alignment metrics and coverage of"
        " {wildcards.sample} in {params.bin_size}-bp bins"
    # One job per sample for the three (each reads the alignments once; none is on the way
    # to the calls, which start as soon as markdup is done).
    shell:
        "(samtools stats -@ {threads} --reference {input.fasta:q} {input.aln:q} > {output.stats:q}"
        " && samtools flagstat -@ {threads} {input.aln:q} > {output.flagstat:q}"
        " && mosdepth --threads {threads} --no-per-base --fast-mode --by {params.bin_size}"
        " --fasta {input.fasta:q} {params.prefix:q} {input.aln:q}) 2> {log:q}"
