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
        "multiqc --force --no-ai --outdir {params.outdir:q} --filename multiqc_report.html"
        " {input:q} > {log:q} 2>&1"


# The clinicians' deliverables: per family an Excel workbook and a self-contained HTML report
# (helgenom.report.workbook, helgenom.report.html), and the run's index page of the reports.


rule workbook:
    input:
        candidates="results/{family}/{family}.candidates.tsv",
        qc="results/{family}/{family}.qc.json",
        ped="results/{family}/{family}.ped",
        vcf="results/{family}/{family}.vcf.gz",
        models=list(RANK_MODELS.values()),
        repeats=lambda wildcards: repeat_report_inputs(wildcards)["repeats"],
        smn=lambda wildcards: repeat_report_inputs(wildcards)["smn"],
    output:
        "results/{family}/{family}.candidates.xlsx",
    log:
        "logs/workbook/{family}.log",
    benchmark:
        "benchmarks/workbook/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        hpo=family_hpo,
        models=path_options(RANK_MODELS),
        repeats=lambda wildcards, input: repeat_options(input),
    message:
        "helgenom workbook: the clinicians' Excel workbook of family {wildcards.family}"
    shell:
        "helgenom workbook --candidates {input.candidates:q} --qc {input.qc:q}"
        " --ped {input.ped:q} --vcf {input.vcf:q} {params.hpo} {params.models}"
        " {params.repeats} --out {output:q} > {log:q} 2>&1"


rule report:
    input:
        candidates="results/{family}/{family}.candidates.tsv",
        qc="results/{family}/{family}.qc.json",
        ped="results/{family}/{family}.ped",
        upd="results/{family}/{family}.upd.tsv",
        roh="results/{family}/{family}.roh.tsv",
        cnv="results/{family}/{family}.cnv.vcf.gz",
        sv="results/{family}/{family}.sv.vcf.gz",
        alignments=family_alignments,
        alignment_indexes=family_alignment_indexes,
        fasta=FASTA,
        fai=f"{FASTA}.fai",
        repeats=lambda wildcards: repeat_report_inputs(wildcards)["repeats"],
        smn=lambda wildcards: repeat_report_inputs(wildcards)["smn"],
    output:
        "results/{family}/{family}.report.html",
    log:
        "logs/report/{family}.log",
    benchmark:
        "benchmarks/report/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        alignments=lambda wildcards, input: " ".join(
            f"--alignment {shlex.quote(f'{sample}={path}')}"
            for sample, path in zip(family_members(wildcards.family), input.alignments)
        ),
        repeats=lambda wildcards, input: repeat_options(input),
    message:
        "helgenom report: the clinicians' HTML report of family {wildcards.family}"
    shell:
        "helgenom report --family {wildcards.family} --candidates {input.candidates:q}"
        " --qc {input.qc:q} --ped {input.ped:q} --upd {input.upd:q} --roh {input.roh:q}"
        " --cnv {input.cnv:q} --sv {input.sv:q} {params.alignments} {params.repeats}"
        " --fasta {input.fasta:q} --out {output:q} > {log:q} 2>&1"


localrules:
    report_index,


rule report_index:
    input:
        expand("results/{family}/{family}.report.html", family=RUN.families),
    output:
        "results/index.html",
    log:
        "logs/report_index/report_index.log",
    benchmark:
        "benchmarks/report_index/report_index.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    message:
        "helgenom report-index: the run's index page of the family reports"
    shell:
        "helgenom report-index --reports {input:q} --out {output:q} > {log:q} 2>&1"


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


rule panel_vcf:
    input:
        vcf=lambda wildcards: f"results/{wildcards.family}/{wildcards.family}.{RANKED[wildcards.kind]}",
        panel=PANEL or [],
    output:
        vcf="results/{family}/{family}.clinical_{kind}.vcf.gz",
        index="results/{family}/{family}.clinical_{kind}.vcf.gz.tbi",
    log:
        "logs/panel_vcf/{family}.{kind}.log",
    benchmark:
        "benchmarks/panel_vcf/{family}.{kind}.tsv"
    wildcard_constraints:
        kind="snv|sv",
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    message:
        "helgenom panel-vcf: family {wildcards.family}'s clinical {wildcards.kind} VCF"
    shell:
        "helgenom panel-vcf --vcf {input.vcf:q} --panel {input.panel:q} --out {output.vcf:q}"
        " > {log:q} 2>&1"


rule scout_config:
    input:
        ped="results/{family}/{family}.ped",
        qc="results/{family}/{family}.qc.json",
        snv="results/{family}/{family}.vcf.gz",
        snv_index="results/{family}/{family}.vcf.gz.tbi",
        sv="results/{family}/{family}.sv.vcf.gz",
        sv_index="results/{family}/{family}.sv.vcf.gz.tbi",
        snv_clinical=clinical_vcf("snv"),
        sv_clinical=clinical_vcf("sv"),
        alignments=lambda wildcards: [
            f"results/alignment/{m.sample}.{ALN}"
            for m in RUN.families[wildcards.family].members
        ],
        multiqc="results/multiqc/multiqc_report.html",
        models=list(RANK_MODELS.values()),
        str_vcf=lambda wildcards: repeat_report_inputs(wildcards)["str_vcf"],
        str_index=lambda wildcards: repeat_report_inputs(wildcards)["str_index"],
        smn=lambda wildcards: repeat_report_inputs(wildcards)["smn"],
    output:
        config="results/{family}/{family}.scout.yaml",
        peddy=multiext(
            "results/{family}/{family}",
            ".peddy.ped",
            ".ped_check.csv",
            ".sex_check.csv",
        ),
    log:
        "logs/scout_config/{family}.log",
    benchmark:
        "benchmarks/scout_config/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        hpo=family_hpo,
        models=path_options(RANK_MODELS),
        alignments=lambda wildcards, input: " ".join(
            shlex.quote(f"{m.sample}={path}")
            for m, path in zip(
                RUN.families[wildcards.family].members, input.alignments
            )
        ),
        scout=" ".join(
            [
                f"--owner {shlex.quote(CFG['scout']['owner'])}",
                f"--genome-build {CFG['scout']['genome_build']}",
                f"--rank-score-threshold {CFG['scout']['rank_score_threshold']}",
                f"--paths {CFG['scout']['paths']}",
                *(f"--panel {shlex.quote(panel)}" for panel in CFG["scout"]["panels"]),
            ]
        ),
        repeats=lambda wildcards, input: repeat_options(input, scout=True),
    message:
        "helgenom scout-config: the Scout load config of family {wildcards.family}"
    shell:
        "helgenom scout-config --family {wildcards.family} --ped {input.ped:q}"
        " --qc {input.qc:q} --snv-clinical {input.snv_clinical:q} --snv-research {input.snv:q}"
        " --sv-clinical {input.sv_clinical:q} --sv-research {input.sv:q}"
        " --alignments {params.alignments} --multiqc {input.multiqc:q}"
        " {params.hpo} {params.models} {params.scout} {params.repeats}"
        " --out {output.config:q} > {log:q} 2>&1"
