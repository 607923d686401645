rule prepare_data:
    output:
        f"{RESULTS}/{PROFILE}/data/{{dataset}}-{{size}}px.pt",
    log:
        f"{RESULTS}/{PROFILE}/logs/prepare_{{dataset}}-{{size}}px.log",
    params:
        gonbench=GONBENCH,
        profile=PROFILE_ARGS,
    conda:
        ENV
    shell:
        "{params.gonbench} prepare {params.profile} --dataset {wildcards.dataset} "
        "--image-size {wildcards.size} --out {output} > {log} 2>&1"
