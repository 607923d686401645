rule prepare_data:
    output:
        f"{RESULTS}/{PROFILE}/data/{{dataset}}-{{size}}px.pt",
    log:
        f"{RESULTS}/{PROFILE}/logs/prepare_{{dataset}}-{{size}}px.log",
    params:
        gonbench=GONBENCH,
        config=CONFIG_FILE,
    conda:
        ENV
    shell:
        "{params.gonbench} prepare --config {params.config} --dataset {wildcards.dataset} "
        "--image-size {wildcards.size} --out {output} > {log} 2>&1"
