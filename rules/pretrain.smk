# Networks trained once per profile and reused, frozen, by many runs (PPGN's encoder, the sample judge).
# A run that names one gets its file as an input (Plan.cell_inputs); the settings hash is a param, so
# editing `pretrained:` in the profile retrains the network and every run that uses it.


rule pretrain:
    input:
        lambda w: PLAN.pretrain_data(w.network),
    output:
        network=str(LAYOUT.pretrained("{network}")),
        summary=str(LAYOUT.pretrained("{network}").with_suffix(".json")),
    log:
        str(LAYOUT.logs() / "pretrain_{network}.log"),
    wildcard_constraints:
        network=_alternatives(PLAN.pretrained_names()),
    conda:
        ENV
    threads: config.get("threads", 1)
    resources:
        gpu=1,
    params:
        gonbench=GONBENCH,
        profile=PROFILE_ARGS,
        device=DEVICE,
        settings=lambda w: PLAN.pretrain_hash(w.network),
    shell:
        "{params.gonbench} pretrain {params.profile} --network {wildcards.network} "
        "--out {output.network} --device {params.device} --threads {threads} > {log} 2>&1"
