# Networks trained once per profile and reused, frozen, by many runs (PPGN's encoder, the sample judge).
# A run that names one in a `*_path` field gets it as an input (run_inputs in common.smk).


rule pretrain:
    input:
        pretrain_data,
    output:
        network=f"{RESULTS}/{PROFILE}/pretrained/{{network}}.pt",
        summary=f"{RESULTS}/{PROFILE}/pretrained/{{network}}.json",
    log:
        f"{RESULTS}/{PROFILE}/logs/pretrain_{{network}}.log",
    wildcard_constraints:
        network=_alternatives(PRETRAINED_NAMES),
    conda:
        ENV
    threads: config.get("threads", 1)
    resources:
        gpu=1,
    params:
        gonbench=GONBENCH,
        profile=PROFILE_ARGS,
        device=config.get("device", "auto"),
    shell:
        "{params.gonbench} pretrain {params.profile} --network {wildcards.network} "
        "--out {output.network} --device {params.device} --threads {threads} > {log} 2>&1"
