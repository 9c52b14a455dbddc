# A job that is "killed for memory" (exit 137, as after the OOM killer's SIGKILL) on its first
# attempt and succeeds when resubmitted with more memory: proves the retry path of the slurm
# profile (retries, mem_mb scaled by `attempt`) on a real cluster. Used by
# tests/workflow/test_slurm.py; every attempt appends its SLURM job id and mem_mb to
# attempts.tsv (the memory SLURM granted each job is read back with squeue).

FIRST_ATTEMPT_MEM_MB = 200


rule all:
    input:
        "retried.txt",


rule flaky:
    output:
        "retried.txt",
    resources:
        mem_mb=lambda wildcards, attempt: FIRST_ATTEMPT_MEM_MB * attempt,
        runtime=lambda wildcards, attempt: 5 * attempt,
    params:
        first_attempt_mem_mb=FIRST_ATTEMPT_MEM_MB,
    shell:
        "printf '%s\\t%s\\n' \"${{SLURM_JOB_ID:-none}}\" {resources.mem_mb} >> attempts.tsv"
        " && if [ {resources.mem_mb} -le {params.first_attempt_mem_mb} ]; then"
        " echo 'first attempt: exit 137, as if killed for memory' >&2; exit 137; fi"
        " && echo 'done with {resources.mem_mb} MB' > {output}"
