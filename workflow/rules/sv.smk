# Structural variants: the callers of `calling.sv_callers` (delly joint per family, TIDDIT per
# sample, helgenom's read-depth CNV caller; Manta and CNVnator through their conda envs), merged
# into one family SV VCF with caller support and population SV frequency (helgenom svmerge).


rule delly_call:
    input:
        alns=family_alignments,
        indexes=family_alignment_indexes,
        fasta=FASTA,
        fai=f"{FASTA}.fai",
    output:
        vcf="calling/delly/{family}.vcf.gz",
        index="calling/delly/{family}.vcf.gz.tbi",
    log:
        "logs/delly_call/{family}.log",
    benchmark:
        "benchmarks/delly_call/{family}.tsv"
    conda:
        "../envs/delly.yaml"
    threads: JOB_RESOURCES["delly_call"].threads
    resources:
        mem_mb=JOB_RESOURCES["delly_call"].mem_mb,
        runtime=JOB_RESOURCES["delly_call"].runtime,
    message:
        "delly call, bcftools sort: joint SV discovery and genotyping in family"
        " {wildcards.family}, as an indexed VCF"
    # delly writes BCF only; the sort to VCF.gz is seconds, so it runs in the same job.
    shell:
        "(delly call -g {input.fasta:q} -o {output.vcf:q}.delly.bcf {input.alns:q}"
        " && bcftools sort -T {output.vcf:q}.sort -Oz -o {output.vcf:q} {output.vcf:q}.delly.bcf"
        " && bcftools index -t {output.vcf:q}"
        " && rm -f {output.vcf:q}.delly.bcf {output.vcf:q}.delly.bcf.csi) > {log:q} 2>&1"


rule tiddit_call:
    input:
        aln=f"results/alignment/{{sample}}.{ALN}",
        index=f"results/alignment/{{sample}}.{ALN}.{ALN_INDEX}",
        fasta=FASTA,
        fai=f"{FASTA}.fai",
    output:
        vcf="calling/tiddit/{sample}.vcf.gz",
        index="calling/tiddit/{sample}.vcf.gz.tbi",
    log:
        "logs/tiddit_call/{sample}.log",
    benchmark:
        "benchmarks/tiddit_call/{sample}.tsv"
    conda:
        "../envs/tiddit.yaml"
    threads: JOB_RESOURCES["tiddit_call"].threads
    resources:
        mem_mb=JOB_RESOURCES["tiddit_call"].mem_mb,
        runtime=JOB_RESOURCES["tiddit_call"].runtime,
    params:
        prefix="calling/tiddit/{sample}",
    message:
        "TIDDIT: SVs of {wildcards.sample} from discordant pairs and split reads"
    # TIDDIT leaves PREFIX_tiddit/ behind and trips over it on a rerun: cleared before and
    # after. With no SV candidate at all, TIDDIT 3.5 crashes after writing its VCF header
    # (numpy: "cannot do a non-empty take from an empty axes"): that case, and only that, is a
    # sample without SVs, and its header-only VCF is kept. (A BAM without reads fails earlier,
    # with no VCF, and stays an error.)
    shell:
        "(rm -rf {params.prefix:q}_tiddit {params.prefix:q}.vcf {params.prefix:q}.ploidies.tab"
        " && (tiddit --sv --skip_assembly --threads {threads} --bam {input.aln:q}"
        " --ref {input.fasta:q} -o {params.prefix:q} > {params.prefix:q}.tiddit.log 2>&1"
        " || (grep -q 'cannot do a non-empty take from an empty axes'"
        " {params.prefix:q}.tiddit.log && grep -q '^#CHROM' {params.prefix:q}.vcf))"
        " && cat {params.prefix:q}.tiddit.log"
        " && bcftools sort -T {params.prefix:q}.sort -Oz -o {output.vcf:q} {params.prefix:q}.vcf"
        " && tabix -f -p vcf {output.vcf:q}"
        " && rm -rf {params.prefix:q}_tiddit {params.prefix:q}.vcf {params.prefix:q}.ploidies.tab"
        " {params.prefix:q}.tiddit.log) > {log:q} 2>&1 || (cat {params.prefix:q}.tiddit.log >> {log:q};"
        " exit 1)"


rule manta_call:
    input:
        alns=family_alignments,
        indexes=family_alignment_indexes,
        fasta=FASTA,
        fai=f"{FASTA}.fai",
    output:
        vcf="calling/manta/{family}.vcf.gz",
        index="calling/manta/{family}.vcf.gz.tbi",
    log:
        "logs/manta_call/{family}.log",
    benchmark:
        "benchmarks/manta_call/{family}.tsv"
    conda:
        "../envs/manta.yaml"
    threads: JOB_RESOURCES["manta_call"].threads
    resources:
        mem_mb=JOB_RESOURCES["manta_call"].mem_mb,
        runtime=JOB_RESOURCES["manta_call"].runtime,
    params:
        rundir="calling/manta/{family}.run",
        bams=lambda wildcards, input: " ".join(f"--bam {path}" for path in input.alns),
    message:
        "Manta: joint SV calling in family {wildcards.family} (conda env; untested here)"
    shell:
        "(rm -rf {params.rundir:q}"
        " && configManta.py {params.bams} --referenceFasta {input.fasta:q}"
        " --runDir {params.rundir:q}"
        " && {params.rundir:q}/runWorkflow.py -j {threads}"
        " && mv {params.rundir:q}/results/variants/diploidSV.vcf.gz {output.vcf:q}"
        " && mv {params.rundir:q}/results/variants/diploidSV.vcf.gz.tbi {output.index:q})"
        " > {log:q} 2>&1"


rule cnvnator_call:
    input:
        aln=f"results/alignment/{{sample}}.{ALN}",
        index=f"results/alignment/{{sample}}.{ALN}.{ALN_INDEX}",
        fasta=FASTA,
        fai=f"{FASTA}.fai",
    output:
        vcf="calling/cnvnator/{sample}.vcf.gz",
        index="calling/cnvnator/{sample}.vcf.gz.tbi",
        root=temp("calling/cnvnator/{sample}.root"),
    log:
        "logs/cnvnator_call/{sample}.log",
    benchmark:
        "benchmarks/cnvnator_call/{sample}.tsv"
    conda:
        "../envs/cnvnator.yaml"
    threads: JOB_RESOURCES["cnvnator_call"].threads
    resources:
        mem_mb=JOB_RESOURCES["cnvnator_call"].mem_mb,
        runtime=JOB_RESOURCES["cnvnator_call"].runtime,
    params:
        bin=1000,
        prefix="calling/cnvnator/{sample}",
    message:
        "CNVnator: read-depth CNVs of {wildcards.sample} (conda env; untested here)"
    shell:
        "(cnvnator -root {output.root:q} -tree {input.aln:q}"
        " && cnvnator -root {output.root:q} -his {params.bin} -fasta {input.fasta:q}"
        " && cnvnator -root {output.root:q} -stat {params.bin}"
        " && cnvnator -root {output.root:q} -partition {params.bin}"
        " && cnvnator -root {output.root:q} -call {params.bin} > {params.prefix:q}.calls.txt"
        " && cnvnator2VCF.pl -prefix {wildcards.sample} {params.prefix:q}.calls.txt"
        " > {params.prefix:q}.vcf"
        " && bcftools sort -Oz -o {output.vcf:q} {params.prefix:q}.vcf"
        " && tabix -f -p vcf {output.vcf:q}) > {log:q} 2>&1"


rule sv_merge:
    input:
        unpack(sv_call_inputs),
        ped="results/{family}/{family}.ped",
        fasta=FASTA,
        fai=f"{FASTA}.fai",
        population=[POPULATION_SV_VCF] if POPULATION_SV_VCF else [],
    output:
        vcf="calling/{family}.sv.vcf.gz",
        index="calling/{family}.sv.vcf.gz.tbi",
    log:
        "logs/sv_merge/{family}.log",
    benchmark:
        "benchmarks/sv_merge/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        calls=sv_call_args,
        overlap=CFG["calling"]["sv_merge"]["overlap"],
        distance=CFG["calling"]["sv_merge"]["distance"],
        priority=",".join(CFG["calling"]["sv_merge"]["priority"]),
        population=(
            f"--population-sv {shlex.quote(POPULATION_SV_VCF)}"
            f" --population-af-tag {shlex.quote(CFG['annotation']['population_sv_af_tag'])}"
            if POPULATION_SV_VCF
            else ""
        ),
    message:
        "helgenom svmerge: one SV VCF for family {wildcards.family} ({params.priority})"
    shell:
        "helgenom svmerge --family {wildcards.family} --ped {input.ped:q} --fasta {input.fasta:q}"
        " {params.calls} --overlap {params.overlap} --distance {params.distance}"
        " --priority {params.priority} {params.population} --out {output.vcf:q} > {log:q} 2>&1"


rule cnv_call:
    input:
        bins=lambda wildcards: expand(
            "qc/mosdepth/{sample}.regions.bed.gz",
            sample=family_members(wildcards.family),
        ),
        ped="results/{family}/{family}.ped",
        fasta=FASTA,
        fai=f"{FASTA}.fai",
    output:
        vcf="results/{family}/{family}.cnv.vcf.gz",
        index="results/{family}/{family}.cnv.vcf.gz.tbi",
        calls="calling/cnv/{family}.calls.tsv",
    log:
        "logs/cnv_call/{family}.log",
    benchmark:
        "benchmarks/cnv_call/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    threads: JOB_RESOURCES["cnv_call"].threads
    resources:
        mem_mb=JOB_RESOURCES["cnv_call"].mem_mb,
        runtime=JOB_RESOURCES["cnv_call"].runtime,
    params:
        chrx=CFG["reference"]["chrx"],
        chry=CFG["reference"]["chry"],
        par=PAR_ARGS,
    message:
        "helgenom cnv: read-depth CNVs of family {wildcards.family} (mosdepth bins, HMM)"
    shell:
        "helgenom cnv --family {wildcards.family} --ped {input.ped:q} --bins {input.bins:q}"
        " --fasta {input.fasta:q} --chrx {params.chrx:q} --chry {params.chry:q} {params.par}"
        " --out {output.vcf:q} --calls-out {output.calls:q} > {log:q} 2>&1"


rule upd:
    input:
        vcf="annotation/{family}.snv.vcf.gz",
        index="annotation/{family}.snv.vcf.gz.tbi",
        ped="results/{family}/{family}.ped",
    output:
        upd="results/{family}/{family}.upd.tsv",
        roh="results/{family}/{family}.roh.tsv",
    log:
        "logs/upd/{family}.log",
    benchmark:
        "benchmarks/upd/{family}.tsv"
    conda:
        "../envs/helgenom.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        af_tag=CFG["annotation"]["population_af_tag"],
        chrx=CFG["reference"]["chrx"],
        chry=CFG["reference"]["chry"],
    message:
        "helgenom upd: runs of homozygosity and uniparental disomy in family {wildcards.family}"
    shell:
        "helgenom upd --vcf {input.vcf:q} --ped {input.ped:q} --family {wildcards.family}"
        " --af-tag {params.af_tag:q} --chrx {params.chrx:q} --chry {params.chry:q}"
        " --out {output.upd:q} --roh-out {output.roh:q} > {log:q} 2>&1"
