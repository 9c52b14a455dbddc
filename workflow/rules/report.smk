# MultiQC over every sample's read, alignment and coverage QC.


rule multiqc:
    input:
        fastp=[f"qc/fastp/{u.sample}/{u.unit}.fastp.json" for u in RUN.units],
        stats=expand("qc/samtools/{sample}.stats.txt", sample=RUN.samples),
        flagstat=expand("qc/samtools/{sample}.flagstat.txt", sample=RUN.samples),
        mosdepth=expand("qc/mosdepth/{sample}.mosdepth.summary.txt", sample=RUN.samples),
        mosdepth_dist=expand(
            "qc/mosdepth/{sample}.mosdepth.global.dist.txt", sample=RUN.samples
        ),
        family_qc=expand("qc/multiqc/{family}", family=RUN.families),
    output:
        "results/multiqc/multiqc_report.html",
    log:
        "logs/multiqc/multiqc.log",
    benchmark:
        "benchmarks/multiqc/multiqc.tsv"
    conda:
        "../envs/multiqc.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        outdir=lambda wildcards, output: str(Path(output[0]).parent),
    message:
        "MultiQC: one report over fastp, samtools, mosdepth and the family QC gates"
    shell:
        "multiqc --force --no-ai --outdir {params.outdir} --filename multiqc_report.html"
        " {input} > {log} 2>&1"
