# Networks trained once per profile and reused, frozen, by many runs (PPGN's encoder, the sample judge).
# A run that names one in a `*_path` field gets it as an input (run_inputs in common.smk).
from gonbench.pretrain import PRETRAINED, pretrain_config


def pretrain_data(w):
    pc = pretrain_config(config, w.network)
    return f"{RESULTS}/{PROFILE}/data/{pc.dataset}-{pc.image_size}px.pt"


rule pretrain:
    wildcard_constraints:
        network=_alternatives(PRETRAINED.names()),
    input:
        pretrain_data,
    output:
        multiext(f"{RESULTS}/{PROFILE}/pretrained/{{network}}", ".pt", ".json"),
    log:
        f"{RESULTS}/{PROFILE}/logs/pretrain_{{network}}.log",
    params:
        gonbench=GONBENCH,
        config=CONFIG_FILE,
        device=config.get("device", "auto"),
    threads: config.get("threads", 1)
    resources:
        gpu=1,
    conda:
        ENV
    shell:
        "{params.gonbench} pretrain --config {params.config} --network {wildcards.network} --out {output[0]} "
        "--device {params.device} --threads {threads} > {log} 2>&1"
