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
        " {input:q} > {log:q} 2>&1"


# The run manifest: versions of the tools as the jobs ran them, the resolved config, and
# SHA-256 of every input and delivered output (helgenom.report.manifest).


rule tool_versions:
    output:
        # Probed again whenever the manifest is rebuilt, so that it names the tools of that run.
        temp("versions/{env}.txt"),
    log:
        "logs/tool_versions/{env}.log",
    benchmark:
        "benchmarks/tool_versions/{env}.tsv"
    conda:
        "../envs/{env}.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 500 * attempt,
        runtime=lambda wildcards, attempt: 5 * attempt,
    params:
        # Built from helgenom.report.manifest.TOOLS only (env is constrained to TOOL_ENVS).
        probe=lambda wildcards: probe_command(TOOL_ENVS[wildcards.env]),
    message:
        "tool versions in the {wildcards.env} environment, as its jobs run them"
    shell:
        "({params.probe}) > {output:q} 2> {log:q}"


localrules:
    manifest,


rule manifest:
    input:
        outputs=delivered_outputs(),
        versions=expand("versions/{env}.txt", env=TOOL_ENVS),
    output:
        "results/manifest.json",
    log:
        "logs/manifest/manifest.log",
    benchmark:
        "benchmarks/manifest/manifest.tsv"
    threads: 2
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 4 * 60 * attempt,
    message:
        "run manifest: tool versions, resolved config, SHA-256 of inputs and results"
    run:
        write_workflow_manifest(
            output[0],
            versions=input.versions,
            outputs=[*input.outputs, "results/multiqc"],
            log=log[0],
            threads=threads,
        )
