# One job per cell: every seed of one (experiment, method label, dataset), trained and evaluated in one
# process. `runs` carries each seed's config hash: a profile edit that changes a run reruns its cell.


rule train:
    input:
        lambda w: PLAN.cell_inputs(w.experiment, w.method, w.dataset),
    output:
        LAYOUT.cell_pattern(),
    log:
        str(LAYOUT.logs() / "train_{experiment}_{method}_{dataset}.log"),
    conda:
        ENV
    threads: lambda w: PLAN.cell(w.experiment, w.method, w.dataset).threads
    resources:
        gpu=1,
    params:
        gonbench=GONBENCH,
        profile=PROFILE_ARGS,
        device=DEVICE,
        runs=lambda w: PLAN.cell(w.experiment, w.method, w.dataset).hashes,
    shell:
        "{params.gonbench} train {params.profile} --experiment {wildcards.experiment} "
        "--method {wildcards.method} --dataset {wildcards.dataset} "
        "--device {params.device} --no-progress > {log} 2>&1"
