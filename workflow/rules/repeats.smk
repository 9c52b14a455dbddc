# Repeat expansions (repeats.expansionhunter): ExpansionHunter per sample on the variant
# catalog, the family's calls merged (bcftools) and annotated by Stranger against the
# catalog's normal and pathogenic sizes, then helgenom repeats (the family's repeats table).
# SMN1/SMN2 copy number (repeats.smn): SMNCopyNumberCaller on the family's alignments, then
# helgenom smn. ExpansionHunter and SMNCopyNumberCaller run in their conda envs (--sdm conda);
# not run on this machine (no conda): linted and dry-run tested. Stranger and the helgenom
# steps are tested for real (tests/unit/test_repeats.py).


rule expansionhunter:
    input:
        aln=f"results/alignment/{{sample}}.{ALN}",
        index=f"results/alignment/{{sample}}.{ALN}.{ALN_INDEX}",
        fasta=FASTA,
        fai=f"{FASTA}.fai",
        catalog=REPEAT_CATALOG or [],
    output:
        # ExpansionHunter writes PREFIX.vcf, PREFIX.json and PREFIX_realigned.bam.
        vcf=temp("calling/expansionhunter/{sample}.vcf"),
        json="calling/expansionhunter/{sample}.json",
    log:
        "logs/expansionhunter/{sample}.log",
    benchmark:
        "benchmarks/expansionhunter/{sample}.tsv"
    conda:
        "../envs/expansionhunter.yaml"
    threads: 4
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 2 * 60 * attempt,
    params:
        prefix="calling/expansionhunter/{sample}",
        sex=expansionhunter_sex,
    message:
        "ExpansionHunter: repeat sizes of {wildcards.sample} at the catalog's loci"
        " (conda env; not run here)"
    shell:
        "(ExpansionHunter --reads {input.aln:q} --reference {input.fasta:q}"
        " --variant-catalog {input.catalog:q} --output-prefix {params.prefix:q}"
        " --sex {params.sex} --threads {threads}"
        " && rm -f {params.prefix:q}_realigned.bam) > {log:q} 2>&1"


rule expansionhunter_vcf:
    input:
        vcf="calling/expansionhunter/{sample}.vcf",
        fai=f"{FASTA}.fai",
    output:
        vcf=temp("calling/expansionhunter/{sample}.vcf.gz"),
        index=temp("calling/expansionhunter/{sample}.vcf.gz.tbi"),
    log:
        "logs/expansionhunter_vcf/{sample}.log",
    benchmark:
        "benchmarks/expansionhunter_vcf/{sample}.tsv"
    conda:
        "../envs/bcftools.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    message:
        "bcftools reheader, sort: {wildcards.sample}'s ExpansionHunter VCF with the"
        " reference's contigs, indexed"
    # ExpansionHunter's VCF declares no contigs: bcftools merge and tabix need them.
    shell:
        "(bcftools reheader --fai {input.fai:q} {input.vcf:q}"
        " | bcftools sort -T {output.vcf:q}.sort -Oz -o {output.vcf:q}"
        " && tabix -f -p vcf {output.vcf:q}) > {log:q} 2>&1"


rule expansionhunter_merge:
    input:
        vcfs=lambda wildcards: expand(
            "calling/expansionhunter/{sample}.vcf.gz",
            sample=family_members(wildcards.family),
        ),
        indexes=lambda wildcards: expand(
            "calling/expansionhunter/{sample}.vcf.gz.tbi",
            sample=family_members(wildcards.family),
        ),
    output:
        vcf=temp("calling/expansionhunter/{family}.family.vcf.gz"),
    log:
        "logs/expansionhunter_merge/{family}.log",
    benchmark:
        "benchmarks/expansionhunter_merge/{family}.tsv"
    conda:
        "../envs/bcftools.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        # One record per repeat (its members' alleles as ALTs); a family of one is copied.
        command=lambda wildcards, input: (
            "merge -m all" if len(input.vcfs) > 1 else "view"
        ),
    message:
        "bcftools merge: the ExpansionHunter calls of family {wildcards.family}"
    shell:
        "bcftools {params.command} -Oz -o {output.vcf:q} {input.vcfs:q} > {log:q} 2>&1"


rule stranger:
    input:
        vcf="calling/expansionhunter/{family}.family.vcf.gz",
        catalog=REPEAT_CATALOG or [],
    output:
        vcf="results/{family}/{family}.str.vcf.gz",
        index="results/{family}/{family}.str.vcf.gz.tbi",
    log:
        "logs/stranger/{family}.log",
    benchmark:
        "benchmarks/stranger/{family}.tsv"
    conda:
        "../envs/stranger.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    message:
        "Stranger: family {wildcards.family}'s repeats against their normal and pathogenic"
        " sizes"
    # Written under a temporary name: a Stranger that stops half-way leaves no VCF behind.
    shell:
        "(stranger --repeats-file {input.catalog:q} --family_id {wildcards.family}"
        " {input.vcf:q} | bgzip -c > {output.vcf:q}.part"
        " && mv {output.vcf:q}.part {output.vcf:q}"
        " && tabix -f -p vcf {output.vcf:q}) 2> {log:q}"


rule repeats:
    input:
        **REPEAT_CANDIDATES_IN,
        vcf="results/{family}/{family}.str.vcf.gz",
        ped="results/{family}/{family}.ped",
    output:
        **REPEAT_CANDIDATES_OUT,
        table="results/{family}/{family}.repeats.tsv",
    log:
        "logs/repeats/{family}.log",
    benchmark:
        "benchmarks/repeats/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        candidates=lambda wildcards, input, output: (
            f"--candidates {shlex.quote(input.candidates)}"
            f" --candidates-out {shlex.quote(output.candidates)}"
            if EXPANSIONHUNTER
            else ""
        ),
    message:
        "helgenom repeats: the repeat expansions of family {wildcards.family}, the"
        " pathogenic ones first in its candidate list"
    shell:
        "helgenom repeats --vcf {input.vcf:q} --ped {input.ped:q} --family {wildcards.family}"
        " {params.candidates} --out {output.table:q} > {log:q} 2>&1"


rule smn_caller:
    input:
        alns=family_alignments,
        indexes=family_alignment_indexes,
        fasta=FASTA,
        fai=f"{FASTA}.fai",
    output:
        tsv="calling/smn/{family}.tsv",
        json="calling/smn/{family}.json",
        manifest="calling/smn/{family}.manifest.txt",
    log:
        "logs/smn_caller/{family}.log",
    benchmark:
        "benchmarks/smn_caller/{family}.tsv"
    conda:
        "../envs/smncopynumbercaller.yaml"
    threads: 4
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        outdir=lambda wildcards, output: str(Path(output.tsv).parent),
        genome=SMN_GENOME,
    message:
        "SMNCopyNumberCaller: SMN1/SMN2 copy numbers of family {wildcards.family}"
        " (conda env; not run here)"
    # Its sample names are the alignments' file names without extension: the sample IDs.
    shell:
        "(printf '%s\\n' {input.alns:q} > {output.manifest:q}"
        " && smn_caller.py --manifest {output.manifest:q} --genome {params.genome}"
        " --prefix {wildcards.family} --outDir {params.outdir:q} --threads {threads}"
        " --reference {input.fasta:q}) > {log:q} 2>&1"


rule smn:
    input:
        tsv="calling/smn/{family}.tsv",
        ped="results/{family}/{family}.ped",
    output:
        "results/{family}/{family}.smn.tsv",
    log:
        "logs/smn/{family}.log",
    benchmark:
        "benchmarks/smn/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    message:
        "helgenom smn: SMN1/SMN2 copy numbers of family {wildcards.family}, every member"
        " checked"
    shell:
        "helgenom smn --tsv {input.tsv:q} --ped {input.ped:q} --family {wildcards.family}"
        " --out {output:q} > {log:q} 2>&1"
