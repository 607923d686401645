rule prepare_data:
    output:
        cache=str(LAYOUT.data_cache("{dataset}", "{size}")),
        checksum=str(LAYOUT.data_cache("{dataset}", "{size}")) + ".sha256",
    log:
        str(LAYOUT.logs() / "prepare_{dataset}-{size}px.log"),
    wildcard_constraints:
        size=r"\d+",
    conda:
        ENV
    params:
        gonbench=GONBENCH,
        profile=PROFILE_ARGS,
    shell:
        "{params.gonbench} prepare {params.profile} --dataset {wildcards.dataset} "
        "--image-size {wildcards.size} --out {output.cache} > {log} 2>&1"
