rule train:
    input:
        run_inputs,
    output:
        f"{RUN}/train.json",
    log:
        f"{RUN}/train.log",
    params:
        gonbench=GONBENCH,
        profile=PROFILE_ARGS,
        device=config.get("device", "auto"),
    threads: config.get("threads", 1)
    resources:
        gpu=1,
    conda:
        ENV
    shell:
        "{params.gonbench} train {params.profile} --experiment {wildcards.experiment} "
        "--method {wildcards.method} --dataset {wildcards.dataset} --seed {wildcards.seed} "
        "--out $(dirname {output}) --device {params.device} --threads {threads} --no-progress > {log} 2>&1"


rule evaluate:
    input:
        f"{RUN}/train.json",
    output:
        f"{RUN}/metrics.json",
    log:
        f"{RUN}/evaluate.log",
    params:
        gonbench=GONBENCH,
        device=config.get("device", "auto"),
    threads: config.get("threads", 1)
    conda:
        ENV
    shell:
        "{params.gonbench} evaluate $(dirname {output}) --device {params.device} --threads {threads} > {log} 2>&1"
