# The GMC's variant frequency database (helgenom freqdb, loqusdb-compatible; config freqdb):
# each family's calls annotated with the earlier cases' counts before ranking, and every family
# of the run loaded after all of them were ranked (so that the annotation of one family never
# depends on when another family of the same run was loaded).


rule freqdb_annotate:
    input:
        vcf="annotation/{family}.snv.vcf.gz",
        index="annotation/{family}.snv.vcf.gz.tbi",
    output:
        vcf=temp("annotation/{family}.snv.local.vcf.gz"),
        index=temp("annotation/{family}.snv.local.vcf.gz.tbi"),
    log:
        "logs/freqdb_annotate/{family}.log",
    benchmark:
        "benchmarks/freqdb_annotate/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 3000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        db=FREQDB,
    message:
        "helgenom freqdb annotate: {wildcards.family}'s calls with the counts of the GMC's"
        " earlier cases (Obs, Hom, Hem, Frq; the family itself left out)"
    shell:
        "helgenom freqdb annotate --db {params.db:q} --vcf {input.vcf:q} --out {output.vcf:q}"
        " --case-id {wildcards.family:q} > {log:q} 2>&1"


rule freqdb_load:
    input:
        vcf="annotation/{family}.snv.vcf.gz",
        index="annotation/{family}.snv.vcf.gz.tbi",
        sv="calling/{family}.sv.vcf.gz",
        ped="results/{family}/{family}.ped",
        qc="results/{family}/{family}.qc.json",
        # Every family of the run ranked first: no annotation reads a database this run
        # changed.
        ranked=expand("results/{family}/{family}.candidates.tsv", family=RUN.families),
        profile=[CFG["freqdb"]["profile_vcf"]] if CFG["freqdb"]["profile_vcf"] else [],
    output:
        receipt="freqdb/{family}.load.json",
    log:
        "logs/freqdb_load/{family}.log",
    benchmark:
        "benchmarks/freqdb_load/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 3000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        db=FREQDB,
        par=PAR_ARGS,
        gq=CFG["freqdb"]["gq_threshold"],
        sv_distance=CFG["freqdb"]["sv_distance"],
        profile=(
            f"--profile-vcf {shlex.quote(CFG['freqdb']['profile_vcf'])}"
            if CFG["freqdb"]["profile_vcf"]
            else ""
        ),
    message:
        "helgenom freqdb load: {wildcards.family} into the GMC's frequency database (not if"
        " its QC verdict is FAIL)"
    shell:
        "helgenom freqdb load --db {params.db:q} --vcf {input.vcf:q} --sv {input.sv:q}"
        " --ped {input.ped:q} --case-id {wildcards.family:q} --qc {input.qc:q}"
        " --gq-threshold {params.gq} --sv-distance {params.sv_distance} {params.par}"
        " {params.profile} --skip-failed-qc --receipt {output.receipt:q} > {log:q} 2>&1"
